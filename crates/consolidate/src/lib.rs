//! rightsizer-consolidate: consolidation and defragmentation plans.
//!
//! A cluster that has run for a while is fragmented: fractions and MIG
//! slices scattered so that no node has whole idle GPUs, half-empty
//! expensive nodes a cheaper mix could replace. This crate answers "which
//! pods do I move, in which order, so that these GPUs or nodes become free,
//! or the fleet becomes cheaper, with the least disruption?".
//!
//! - [`Problem`]: the running cluster (a
//!   [`ClusterState`](rightsizer_model::cluster::ClusterState) with its
//!   workloads), a [`MovePolicy`] (PodDisruptionBudget-style
//!   `max_unavailable` per workload, do-not-move pods, local storage; gangs
//!   move whole or not at all), node prices and the node types that may be
//!   added.
//! - [`Goal`]: free `k` whole GPUs of a model, free whole nodes (named, or
//!   as many as possible), or the cheapest fleet.
//! - [`Planner`] with [`Config`]/[`ConfigBuilder`]: returns a [`Plan`], an
//!   ordered list of [`Step`]s (node adds, evictions and re-placements,
//!   in-node repartitions, node removals) in which every intermediate
//!   state fits, the [`Objective`] (goal gap, then pod moves, then cost,
//!   weighted by [`Weights`]), a [`Bound`], the [`StopReason`] and the
//!   [`Blocker`]s naming the pods that stand in the way.
//! - [`defragment`]: re-assign fractions and MIG slices between the devices
//!   of one node to free whole devices, naming the pods that restart.
//! - [`verify`]: an independent replay of a plan.
//!
//! # API themes
//!
//! Every fit is decided by the placement engine
//! ([`rightsizer_place::engine::Engine`]: taints, node selector, topology,
//! resources, devices); this crate never re-implements a fit check. Output
//! is deterministic: candidates are ordered with explicit tie-breaks ending
//! on a name or index, maps are ordered. Bad input is a
//! [`ConsolidateError`]; a goal that cannot be reached is a plan with its
//! gap and blockers. The planner works under a time and iteration budget.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod defrag;
mod error;
mod goal;
mod plan;
mod planner;
mod problem;
mod verify;
mod work;

pub use defrag::{defragment, Repack};
pub use error::ConsolidateError;
pub use goal::Goal;
pub use plan::{
    BlockReason, Blocker, Bound, BoundKind, GoalStatus, Objective, Plan, PodMove, Step, StopReason,
    Weights,
};
pub use planner::{Config, ConfigBuilder, Planner};
pub use problem::{MovePolicy, Pinned, Problem};
pub use verify::{verify, VerifyError};
