//! What the packer returns.

use crate::instance::Cost;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Time and/or iteration limit for the improvement phases. With only an
/// iteration limit the result is fully reproducible; a time limit may stop
/// earlier on a slower or busier machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Wall-clock limit.
    pub time: Option<Duration>,
    /// Limit on search iterations (local-search moves plus exact-search nodes).
    pub iterations: Option<u64>,
}

impl Budget {
    /// A time limit only.
    pub fn time(d: Duration) -> Self {
        Budget {
            time: Some(d),
            iterations: None,
        }
    }
    /// An iteration limit only (deterministic).
    pub fn iterations(n: u64) -> Self {
        Budget {
            time: None,
            iterations: Some(n),
        }
    }
}

/// Why the packer stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Termination {
    /// The objective equals the lower bound (or the exact search finished).
    Optimal,
    /// The time limit was reached.
    TimeLimit,
    /// The iteration limit was reached.
    IterationLimit,
    /// The improvement phases ran out of ideas before the budget.
    Exhausted,
}

/// Where a bin of the packing comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinSource {
    /// A newly opened bin of this type.
    New {
        /// Index into `Instance::bin_types`.
        bin_type: usize,
    },
    /// An already open bin.
    Open {
        /// Index into `Instance::open_bins`.
        index: usize,
    },
}

/// One used bin and the items in it (ascending item indices).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedBin {
    /// Where the bin comes from.
    pub source: BinSource,
    /// Bin type (for open bins, the type of that bin).
    pub bin_type: usize,
    /// Items packed into the bin.
    pub items: Vec<usize>,
    /// Load per dimension (pre-existing use plus items).
    pub load: Vec<u64>,
}

/// Counters of the work done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkCounters {
    /// Constructive heuristics run.
    pub heuristics: u64,
    /// Local-search iterations.
    pub local_search_iterations: u64,
    /// Branch-and-bound nodes.
    pub exact_nodes: u64,
    /// Column-generation iterations for the LP bound.
    pub lp_iterations: u64,
}

/// The result of [`crate::pack`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackResult {
    /// Used bins, sorted by source.
    pub bins: Vec<PackedBin>,
    /// Items that fit in no allowed bin (count limits or too big).
    pub unplaced: Vec<usize>,
    /// Total cost of the used bins.
    pub objective: Cost,
    /// A lower bound on the cost of any packing of the placed items.
    pub lower_bound: Cost,
    /// `(objective - lower_bound) / objective`, 0 when optimal.
    pub gap: f64,
    /// `true` when the objective is proven minimal.
    pub proven_optimal: bool,
    /// Why the search stopped.
    pub termination: Termination,
    /// Name of the constructive heuristic that gave the starting packing.
    pub best_heuristic: String,
    /// Work done.
    pub work: WorkCounters,
    /// Wall-clock time spent.
    pub elapsed: Duration,
}

impl PackResult {
    /// Number of bins used.
    pub fn bin_count(&self) -> usize {
        self.bins.len()
    }
}
