//! rightsizer-gang: gang and topology-aware placement.
//!
//! Distributed training and multi-node inference need all their pods placed
//! together or none, and placed close. This crate places **gangs** (groups
//! of roles with per-role counts and minimums) atomically against one
//! [`Engine`](rightsizer_place::engine::Engine) snapshot:
//!
//! - [`spec`]: what a gang asks for ([`GangSpec`], [`RoleSpec`]: counts,
//!   elastic minimums, request alternatives, required / preferred levels,
//!   slices, one interconnect domain per member) and the typed
//!   [`GangError`]s of bad specs.
//! - [`topology`]: domains from node labels over a configurable level list
//!   (hostname, NVLink clique, rack, block, zone) and the interconnect
//!   domains of the devices inside a node.
//! - [`GangPlacer`]: a queue pass ([`GangPlacer::queue`]) in priority order
//!   over a working copy of the snapshot, reporting per gang admitted
//!   (where), waiting (binding dimension and domain; proven or not) or
//!   infeasible (proven, with the reason); [`GangPlacer::commit`] assumes
//!   the admitted members in the engine, all or nothing.
//!
//! # How a gang is placed
//!
//! The gang's candidate domains (every domain of its required level, or of
//! its preferred level and then each wider level, or the whole cluster) are
//! bounded (aggregate free capacity per dimension, pods of each role that
//! fit) and ranked best fit first, with a fragmentation term so untouched
//! domains stay whole. In each domain a depth-first search places the
//! members (see the `search` module docs): its first descent is the fast
//! constructive placement, backtracking makes it complete, symmetry and
//! bounds keep it small. A search that runs out of its [`Budget`] says so
//! ([`StopReason::Budget`]: "not proven infeasible"); a gang is
//! [`GangOutcome::Infeasible`] only when a complete search on the empty
//! cluster fails.
//!
//! Per-node feasibility is the engine's: every node passes the engine's
//! Filter plugins (taints, selector, resources, devices, user filters) on the
//! snapshot, and every tentative member is allocated through
//! [`ClusterState::allocate`](rightsizer_model::cluster::ClusterState::allocate),
//! so whole GPUs, fractions, MIG profiles and CPU-only members all follow the
//! model's exact accounting.
//!
//! # API themes
//!
//! - Config + builder: [`GangConfig::builder`].
//! - Deterministic: domains, nodes and devices are tried in fixed orders
//!   with explicit tie-breaks (node index); the queue order is priority then
//!   input order; no randomness; step budgets (not time) by default.
//! - Explanations are data ([`Reason`], [`Admission`]), serializable.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod placer;
mod search;
pub mod spec;
pub mod topology;

pub use placer::{
    Admission, Budget, DomainRef, GangConfig, GangConfigBuilder, GangOutcome, GangPlacer,
    GangResult, Member, QueueReport, Reason, StopReason,
};
pub use spec::{GangError, GangSpec, GangTopology, RoleSpec, RoleTopology, Slice};
