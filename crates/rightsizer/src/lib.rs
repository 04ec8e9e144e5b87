//! # rightsizer
//!
//! Right-sizing and placement decisions for AI workloads on heterogeneous
//! Kubernetes clusters, as a library: CPUs, GPU models, GPU fractions, MIG
//! slices and ASICs side by side.
//!
//! ## Contents
//!
//! - [Should I use this crate?](#should-i-use-this-crate)
//! - [A first example](#a-first-example)
//! - [Tasks](#tasks): place one pod, follow a cluster, write a Filter plugin,
//!   explain a rejection, gang of 8
//! - [Which part for which job](#which-part-for-which-job)
//! - [API themes](#api-themes)
//! - [Crate features](#crate-features)
//!
//! ## Should I use this crate?
//!
//! Use it when a program of yours has to decide **where** a workload runs,
//! **how big** it should be, or **what capacity** to buy, and you want the
//! decision in-process, deterministic and explained:
//!
//! - a custom scheduler, scheduler extender or controller that places pods
//!   on GPU-sharing nodes (fractions, MIG, whole devices) and must never
//!   overcommit;
//! - a right-sizing controller that turns usage history into requests and
//!   plans in-place resizes that fit the nodes the pods live on;
//! - a capacity-planning script that asks "which mix of H100, L4, CPU and
//!   Inferentia capacity serves this demand at least cost or energy?".
//!
//! Do not use it as a scheduler by itself: it makes decisions, it does not
//! talk to an API server. Bring your own client (for example `kube-rs`) and
//! turn our results into bindings, patches or node-group changes.
//!
//! ## A first example
//!
//! ```
//! use rightsizer::model::prelude::*;
//! use rightsizer::catalog::Catalog;
//!
//! let t4 = AcceleratorModelId::new("T4")?;
//! let node = Node::new(NodeId::new("gpu-1")?, Resources::cpu_mem(8_000, 32 << 30))
//!     .with_devices(&t4, 2);
//! let mut state = ClusterState::new(vec![node], Catalog::builtin().cluster_spec_models())?;
//!
//! // One pod asking for half a GPU, 2 cores and 8 GiB.
//! let req = PodRequest::new(
//!     Resources::cpu_mem(2_000, 8 << 30),
//!     AcceleratorDemand::Fraction { milli: GpuMilli::new(500), memory: None },
//! );
//! let devices = state.first_fit_devices(&req, NodeIndex(0)).expect("fits");
//! state.allocate(PodId::new("p-0")?, &req, NodeIndex(0), &devices)?;
//! assert_eq!(state.node_free(NodeIndex(0)).gpu_milli(), GpuMilli::new(1_500));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Tasks
//!
//! ### Place one pod
//!
//! ```
//! use rightsizer::model::prelude::*;
//! use rightsizer::{Catalog, Decision, Engine, EngineConfig, PodSpec, SharePolicy};
//!
//! let t4 = AcceleratorModelId::new("T4")?;
//! let nodes = (0..3)
//!     .map(|i| Node::new(NodeId::new(format!("n{i}")).unwrap(), Resources::cpu_mem(32_000, 128 << 30))
//!         .with_devices(&t4, 2))
//!     .collect();
//! let state = ClusterState::new(nodes, Catalog::builtin().cluster_spec_models())?;
//! let mut engine = Engine::new(state, EngineConfig::share(SharePolicy::BestFit))?;
//! let req = PodRequest::new(
//!     Resources::cpu_mem(4_000, 8 << 30),
//!     AcceleratorDemand::Fraction { milli: GpuMilli::new(500), memory: None },
//! );
//! // A what-if first (changes nothing), then place = decide + assume.
//! let what_if = engine.decide(&PodSpec::new(&req))?;
//! let Decision::Placed(p) = engine.place(PodId::new("p0")?, &PodSpec::new(&req))? else { panic!() };
//! assert_eq!(Some(&p.node_id), what_if.placed().map(|w| &w.node_id));
//! engine.confirm(&PodId::new("p0")?)?; // the binding succeeded
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### Follow a cluster
//!
//! ```
//! use rightsizer::model::prelude::*;
//! use rightsizer::model::cluster::DeviceAssignment;
//! use rightsizer::{Engine, EngineConfig, EngineError, PodSpec};
//!
//! let mut engine = Engine::new(ClusterState::new(vec![], vec![])?, EngineConfig::default())?;
//! let a = NodeId::new("a")?;
//! engine.add_node(Node::new(a.clone(), Resources::cpu_mem(4_000, 16 << 30)))?;
//! // Another scheduler bound a pod there.
//! let req = PodRequest::new(Resources::cpu_mem(3_000, 1 << 30), AcceleratorDemand::None);
//! engine.observe_bound(PodId::new("other")?, &PodSpec::new(&req), &a, &DeviceAssignment::None)?;
//! // The node shrinks: the pod no longer fits and is reported, not dropped silently.
//! let mut smaller = engine.state().node(NodeIndex(0)).clone();
//! smaller.allocatable.cpu = MilliCpu::new(2_000);
//! let update = engine.update_node(smaller)?;
//! assert_eq!(update.displaced[0].0.as_str(), "other");
//! // Events about unknown nodes are typed errors and change nothing.
//! let g = engine.generation();
//! assert!(matches!(engine.remove_node(&NodeId::new("zz")?), Err(EngineError::UnknownNode(_))));
//! assert_eq!(engine.generation(), g);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### Write a Filter plugin
//!
//! ```
//! use rightsizer::model::prelude::*;
//! use rightsizer::place::framework::{CycleState, FilterContext, FilterPlugin, Rejection, RejectionKind};
//! use rightsizer::{Engine, EngineConfig, PodSpec};
//!
//! /// Keeps pods off nodes labelled `maintenance=true`.
//! #[derive(Debug)]
//! struct NoMaintenance;
//! impl FilterPlugin for NoMaintenance {
//!     fn name(&self) -> &str { "NoMaintenance" }
//!     fn filter(&self, ctx: &FilterContext<'_>, _: &CycleState, n: NodeIndex) -> Result<(), Rejection> {
//!         if ctx.state.node(n).labels.get("maintenance").map(String::as_str) == Some("true") {
//!             return Err(Rejection::custom(self.name(), RejectionKind::Unschedulable, "in maintenance"));
//!         }
//!         Ok(())
//!     }
//! }
//! let mut busy = Node::new(NodeId::new("busy")?, Resources::cpu_mem(4_000, 8 << 30));
//! busy.labels.insert("maintenance".into(), "true".into());
//! let free = Node::new(NodeId::new("free")?, Resources::cpu_mem(4_000, 8 << 30));
//! let engine = Engine::new(
//!     ClusterState::new(vec![busy, free], vec![])?,
//!     EngineConfig::default().with_filter(Box::new(NoMaintenance)),
//! )?;
//! let req = PodRequest::new(Resources::cpu_mem(500, 1 << 30), AcceleratorDemand::None);
//! assert_eq!(engine.decide(&PodSpec::new(&req))?.placed().unwrap().node_id.as_str(), "free");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### Explain a rejection
//!
//! ```
//! use rightsizer::model::prelude::*;
//! use rightsizer::{Engine, EngineConfig, PodSpec, RejectionKind};
//!
//! let node = Node::new(NodeId::new("small")?, Resources::cpu_mem(2_000, 8 << 30));
//! let engine = Engine::new(ClusterState::new(vec![node], vec![])?, EngineConfig::default())?;
//! let req = PodRequest::new(Resources::cpu_mem(4_000, 1 << 30), AcceleratorDemand::None);
//! let d = engine.decide(&PodSpec::new(&req))?;
//! let u = d.unschedulable().expect("too big");
//! let r = &u.reasons[&NodeId::new("small")?];
//! assert_eq!(r.plugin, "NodeResourcesFit");
//! // More than the node's allocatable: no eviction could help.
//! assert_eq!(r.kind, RejectionKind::UnschedulableAndUnresolvable);
//! assert_eq!(r.reason.to_string(), "insufficient cpu: requested 4000, free 2000");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### Gang of 8
//!
//! ```
//! use rightsizer::model::prelude::*;
//! use rightsizer::model::{ids::GangId, workload::Gang};
//! use rightsizer::place::queue::QueuedPod;
//! use rightsizer::{Catalog, Engine, EngineConfig, PodSpec};
//!
//! let h100 = AcceleratorModelId::new("H100-SXM")?;
//! let nodes = (0..2)
//!     .map(|i| Node::new(NodeId::new(format!("h{i}")).unwrap(), Resources::cpu_mem(96_000, 1 << 40))
//!         .with_devices(&h100, 4))
//!     .collect();
//! let mut engine = Engine::new(
//!     ClusterState::new(nodes, Catalog::builtin().cluster_spec_models())?,
//!     EngineConfig::default(),
//! )?;
//! let worker = PodRequest::new(Resources::cpu_mem(8_000, 64 << 30), AcceleratorDemand::Whole { count: 1 });
//! let gang = Gang { group: GangId::new("train")?, min_members: 8 };
//! let queue = (0..8)
//!     .map(|i| QueuedPod::new(PodId::new(format!("w{i}")).unwrap(), PodSpec::new(&worker)).in_gang(&gang))
//!     .collect();
//! let out = engine.schedule(queue)?;
//! assert!(out.iter().all(|o| o.holds)); // all 8 GPUs, all or nothing
//! assert_eq!(engine.state().placements().len(), 8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Which part for which job
//!
//! | module | job |
//! |---|---|
//! | [`model`] | the vocabulary: units, IDs, Kubernetes quantities, resources, accelerators, nodes, workloads, [`model::cluster::ClusterState`] |
//! | [`catalog`] | built-in accelerators and cloud instance types, with sources; user overrides |
//! | [`place`] | online placement: Filter → Score → Select → device assignment; kube-scheduler and GPU-sharing policies including FGD |
//! | [`sim`] | trace replay (Alibaba openb) and Monte Carlo experiments |
//! | [`pack`] | batch vector bin packing with heterogeneous priced bins, lower bounds and gaps |
//! | [`size`] | right-sizing from usage (VPA-exact, krr, risk profiles, GPU shares) and in-place resize plans |
//! | `k8s` (feature `k8s`) | Kubernetes objects in and out: kubectl dumps and k8s-openapi values to the model, Bindings/patches/recommendations back |
//! | [`plan`] | accelerator choice and capacity planning (Mélange, Gavel, node mix, what-if) |
//! | [`consolidate`] | consolidation and defragmentation plans: the fewest moves that free whole GPUs or nodes, or reach a cheaper fleet |
//!
//! ## API themes
//!
//! - **Units are types.** CPU is [`model::units::MilliCpu`], memory
//!   [`model::units::Bytes`], accelerator compute [`model::units::GpuMilli`]
//!   (1000 = one device), power [`model::units::Watts`], prices
//!   [`model::units::PricePerHour`] in integer micro-dollars. Sums of prices
//!   are exact.
//! - **Names are types.** [`model::ids::NodeId`], [`model::ids::WorkloadId`], …
//!   are validated, cheap to clone and ordered.
//! - **Kubernetes semantics are exact**: quantities parse and print as
//!   apimachinery does; QoS classes, pod requests (init containers, sidecars,
//!   overhead), scheduler scores and resize admission follow upstream code.
//! - **"Does not fit" is a result, not an error.** `Err` means bad input;
//!   infeasibility comes back as data with the binding constraint.
//! - **Explanations are data.** Decisions carry per-node reasons and
//!   per-policy scores that you can log, serialize or render.
//! - **Deterministic.** Explicit tie-breaks, ordered maps, seeded randomness,
//!   parallel reductions in index order: the same input gives the same output
//!   on any thread count.
//! - **Budgets.** Every optimizer takes a time/iteration budget and reports
//!   why it stopped, its objective, and where one exists the lower bound and gap.
//! - **Config + Builder** for every engine, with documented defaults.
//!
//! ## Crate features
//!
//! - `k8s` (default): [`k8s`], Kubernetes objects in (kubectl dumps,
//!   k8s-openapi values) and out (Binding, resize patches, VPA
//!   recommendations, HAMi/KAI annotations, DRA allocation results).
//!   Turn it off (`default-features = false`) to drop k8s-openapi.
//!
//! Everything is pure Rust.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use rightsizer_catalog as catalog;
pub use rightsizer_catalog::Catalog;
/// Consolidation and defragmentation plans: ordered moves that free GPUs or nodes.
pub use rightsizer_consolidate as consolidate;
/// Gang and topology-aware placement: all-or-nothing groups of roles.
pub use rightsizer_gang as gang;
#[cfg(feature = "k8s")]
pub use rightsizer_k8s as k8s;
pub use rightsizer_model as model;
pub use rightsizer_model::cluster::ClusterState;
pub use rightsizer_pack as pack;
pub use rightsizer_place as place;
pub use rightsizer_place::engine::{
    Decision, Engine, EngineConfig, EngineError, KubePlugin, Placed, PodSpec, SharePlugin,
    Unschedulable,
};
pub use rightsizer_place::framework::{
    CycleState, FilterPlugin, Rejection, RejectionKind, ScorePlugin,
};
pub use rightsizer_place::queue::QueuedPod;
pub use rightsizer_place::share::SharePolicy;
pub use rightsizer_plan as plan;
pub use rightsizer_sim as sim;
pub use rightsizer_size as size;

/// The README's examples, compiled as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
