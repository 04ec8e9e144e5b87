//! rightsizer-sim: trace-driven simulation of online placement.
//!
//! Reproduces the Monte Carlo experiment of "Beware of Fragmentation" (FGD,
//! USENIX ATC '23) on Alibaba's `openb` trace:
//!
//! - [`openb`]: CSV loaders with file/line/column errors;
//! - [`workload`]: the compact cluster, the pods and the typical-pod target
//!   workload;
//! - [`run`]: the seeded experiment (shuffle, inflate to 130%, submit one at
//!   a time, drop failures, record allocation and fragmentation by arrival);
//! - [`limit`]: the upper bound any policy could reach and an achievable
//!   offline packing, per seed and arrival level;
//! - [`report`]: mean, sd, min and max over seeds at arrival levels.
//!
//! ```no_run
//! use rightsizer_sim::{load_experiment, run::{run_seed, RunConfig}};
//! use rightsizer_place::share::SharePolicy;
//! let dir = std::path::Path::new("../shared/data/openb");
//! let exp = load_experiment(&dir.join("openb_node_list_gpu_node.csv"),
//!                           &dir.join("openb_pod_list_default.csv"))?;
//! let r = run_seed(&exp, SharePolicy::Fgd, 42, &RunConfig::default())?;
//! println!("allocation at 100% arrival: {:?}", r.alloc_at(100));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod bridge;
pub mod limit;
pub mod openb;
pub mod report;
pub mod run;
pub mod workload;

use std::path::Path;

/// Coverage of the typical-pod set used by the paper (percent of pods).
pub const TYPICAL_COVERAGE_PCT: f64 = 95.0;

/// Why an experiment could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A CSV file is malformed.
    #[error(transparent)]
    Csv(#[from] openb::CsvError),
    /// The trace cannot be simulated.
    #[error("{nodes} with {pods}: {source}")]
    Workload {
        /// The node list file.
        nodes: String,
        /// The pod list file.
        pods: String,
        /// What is wrong.
        source: workload::WorkloadError,
    },
    /// The run settings are invalid for the experiment.
    #[error(transparent)]
    Run(#[from] run::RunError),
}

/// Loads a node list and a pod list and builds the experiment with the
/// paper's 95% typical-pod coverage.
pub fn load_experiment(nodes: &Path, pods: &Path) -> Result<workload::Experiment, SimError> {
    let n = openb::load_nodes(nodes)?;
    let p = openb::load_pods(pods)?;
    workload::Experiment::new(&n, &p, TYPICAL_COVERAGE_PCT).map_err(|source| SimError::Workload {
        nodes: nodes.display().to_string(),
        pods: pods.display().to_string(),
        source,
    })
}
