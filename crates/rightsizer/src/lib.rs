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
//! use rightsizer::model::cluster::tests_support::fractional_gpu;
//!
//! let l4 = AcceleratorModelId::new("T4")?;
//! let node = Node::new(
//!     NodeId::new("gpu-1")?,
//!     Resources { pods: 110, ..Resources::cpu_mem(8_000, 32 << 30) },
//! )
//! .with_devices(&l4, 2);
//! let mut state = ClusterState::new(vec![node], vec![fractional_gpu("T4", 16)])?;
//!
//! // One pod asking for half a GPU, 2 cores and 8 GiB.
//! let req = PodRequest {
//!     resources: Resources { pods: 1, ..Resources::cpu_mem(2_000, 8 << 30) },
//!     accelerator: AcceleratorDemand::Fraction { milli: GpuMilli::new(500), memory: None },
//!     allowed_models: vec![],
//! };
//! let devices = state.first_fit_devices(&req, NodeIndex(0)).expect("fits");
//! state.allocate(PodId::new("p-0")?, &req, NodeIndex(0), &devices)?;
//! assert_eq!(state.node_free(NodeIndex(0)).gpu_milli(), GpuMilli::new(1_500));
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
#[cfg(feature = "k8s")]
pub use rightsizer_k8s as k8s;
pub use rightsizer_model as model;
pub use rightsizer_pack as pack;
pub use rightsizer_place as place;
pub use rightsizer_plan as plan;
pub use rightsizer_sim as sim;
pub use rightsizer_size as size;

/// The README's examples, compiled as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
