//! rightsizer-place: online placement of one pod at a time.
//!
//! - [`engine`]: Filter → Score → Select → device assignment over a
//!   `ClusterState`, with typed per-node filter reasons, pluggable weighted
//!   scores in `0..=100`, a deterministic tie-break and explanations.
//! - [`frag`]: GPU fragmentation with respect to a target workload (FGD).
//! - [`share`]: the GPU-sharing policies of the FGD paper (Random, DotProd,
//!   GpuClustering, GpuPacking, BestFit, FGD quantised and exact) over a
//!   compact node view, shared by the engine and the trace simulator.
//! - [`strand`]: FGD-strand, FGD with a CPU-stranding and best-fit
//!   tie-break (the policy that beats FGD on the openb traces).
//! - [`kube`]: kube-scheduler's resource scoring strategies
//!   (LeastAllocated, MostAllocated, RequestedToCapacityRatio,
//!   BalancedAllocation) with the upstream integer arithmetic.
//! - [`plugins`]: small general-purpose score plugins ([`plugins::AcceleratorAffinity`]).
//! - [`rng`]: the seeded generator every random choice uses.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod engine;
pub mod filters;
pub mod frag;
pub mod framework;
pub mod kube;
pub mod plugins;
pub mod queue;
pub mod rng;
pub mod share;
pub mod strand;
