//! Multi-dimensional bin packing with heterogeneous bin types, lower
//! bounds and proven gaps.
//!
//! [`pack`] takes an [`Instance`] (items with a size per dimension, bin
//! types with a capacity vector and a [`Cost`], optional already-open bins)
//! and returns a [`PackResult`]: the packing, its cost, a lower bound, the
//! gap, whether it is proven optimal, why the search stopped and the work
//! done.
//!
//! The pipeline: a portfolio of constructive heuristics ([`Heuristic`]:
//! FFD/BFD with L1/L2/L∞ sizes and uniform, average-load or dynamic
//! weights, and bin-centric dot product), run in parallel and reduced in a
//! fixed order; then an anytime tabu search that eliminates bins; an exact
//! branch-and-bound on small instances. Bounds: continuous, Martello–Toth
//! L2, Fekete–Schepers, a conflict clique for vectors and a continuous cost
//! bound for heterogeneous bins.
//!
//! ```
//! use rightsizer_pack::{pack, BinType, Cost, Instance, Item, PackOptions};
//! let inst = Instance {
//!     items: vec![Item::new(vec![3, 4]), Item::new(vec![5, 2]), Item::new(vec![2, 2])],
//!     bin_types: vec![
//!         BinType::new(vec![10, 8], Cost(10)),
//!         BinType::new(vec![5, 4], Cost(4)),
//!     ],
//!     open_bins: vec![],
//! };
//! let r = pack(&inst, &PackOptions::default())?;
//! assert!(r.unplaced.is_empty());
//! assert!(r.lower_bound <= r.objective);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Index loops over dimensions and bin types read more clearly in this numeric code.
#![allow(clippy::needless_range_loop)]

pub mod bench;
pub mod bounds;
mod cns;
mod colgen;
mod core;
mod dive;
mod exact;
pub mod generate;
mod greedy;
pub mod instance;
pub mod io;
pub mod oned;
pub mod resources;
pub mod result;
/// The seeded generator (re-exported from the model so every crate shares one).
pub use rightsizer_model::rng;
mod search;
mod solver;
mod vsearch;

pub use greedy::{Fit, Heuristic, SizeNorm, TypeRule, Weights};
pub use instance::{BinType, Cost, Instance, Item, OpenBin, PackError};
pub use result::{BinSource, Budget, PackResult, PackedBin, Termination, WorkCounters};
pub use solver::{pack, PackOptions};

/// Runs one constructive heuristic alone (no improvement, no bounds);
/// useful as a baseline.
///
/// ```
/// use rightsizer_pack::{construct, Heuristic, Instance, SizeNorm, Weights};
/// let inst = Instance::one_dim(10, &[6, 4, 5, 5]);
/// let bins = construct(&inst, Heuristic::ffd(SizeNorm::L2, Weights::AverageLoad))?;
/// assert_eq!(bins.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn construct(inst: &Instance, h: Heuristic) -> Result<Vec<PackedBin>, PackError> {
    inst.validate()?;
    let p = core::Prob::new(inst);
    Ok(greedy::run(&p, h).to_packed())
}
