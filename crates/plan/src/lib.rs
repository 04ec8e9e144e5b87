//! Capacity planning for heterogeneous accelerators: which mix of GPU, CPU and
//! ASIC capacity serves a demand at the least cost or energy.
//!
//! * [`fleet`]: the fleet planner (Mélange's ILP, generalised), exact branch
//!   and bound with a proven lower bound and gap.
//! * [`melange`]: reader for Mélange's solver-input JSON.
//! * [`nodemix`]: turns accelerator counts and co-located pods into instance-type counts.
//! * [`profiles`]: readers for measured performance-profile tables (JSON/CSV).
//! * [`gavel`]: Gavel's training allocation policies over a throughput matrix.
//! * [`select`]: accelerator selection for one workload (first-order estimates
//!   or measured profiles), Pareto set and SVG plot.
//! * [`skypilot`]: SkyPilot `vms.csv` catalog readers.
//! * [`spec`]: the planning document (`rightsizer plan <file>`) and what-if sweeps.
//! * [`synth`]: seeded synthetic instances (invented throughputs) for benches and tests.
//! * [`lp`]: the small dense simplex the planners are built on.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod fleet;
pub mod gavel;
pub mod lp;
pub mod melange;
pub mod nodemix;
pub mod profiles;
pub mod select;
pub mod skypilot;
pub mod spec;
pub mod synth;

pub use error::PlanError;
