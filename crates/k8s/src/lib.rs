//! Kubernetes in and out for rightsizer.
//!
//! - **In**: `kubectl get … -o json|yaml` dumps (single objects, `List`s,
//!   multi-document YAML, comment banners, duplicate keys) or typed
//!   [`k8s_openapi`] values (as held by kube-rs) become model nodes and
//!   workloads ([`Importer`]). Objects of kinds we do not model are listed as
//!   [`Skipped`] with their kind; what cannot be represented is returned as
//!   [`Unsupported`] `{ object, field, why }` next to the result. Malformed
//!   objects give an [`ImportError`] naming kind/namespace/name and the field
//!   path — never a panic, never a partial result.
//! - **Out** ([`export`]): `Binding`s, JSON patch / merge patch for the pod
//!   `resize` subresource, HAMi / KAI annotations for fractional
//!   placements, a VPA status recommendation block, and DRA
//!   `AllocationResult`s, each of which deserialises into its k8s-openapi
//!   type.
//!
//! Kubernetes types come from `k8s-openapi` 0.29 with the `v1_37` feature
//! (the newest Kubernetes version it offers). No API server, no network:
//! values in, values out.
//!
//! ## What the importer understands
//!
//! | object | becomes |
//! |---|---|
//! | `Node` | [`node::ImportedNode`]: allocatable/capacity, devices per vendor (`nvidia.com/gpu`, `amd.com/gpu`, `aws.amazon.com/neuron`, `habana.ai/gaudi`, `google.com/tpu`, `huawei.com/Ascend*`, `gpu.intel.com/i915`/`xe`, Alibaba `gpu-count`), GFD product → catalog model, MIG strategy and instances, time-slicing replicas, zone/region/hostname/rack/NVLink labels, taints, cordon and Ready |
//! | `Pod`, `Deployment`, `StatefulSet`, `ReplicaSet`, `DaemonSet`, `Job`, `CronJob`, `LeaderWorkerSet`, `JobSet`, Kubeflow `*Job`, Volcano `Job`, KServe `InferenceService` | [`pod::ImportedWorkload`] per pod template: effective request ([`pod::effective_request`]), QoS, limits, resize policy, priority, selectors, required affinity, tolerations, gang, Kueue TAS, GPU dialect |
//! | scheduler-plugins / Volcano / in-tree `PodGroup`, in-tree `Workload` | [`import::PodGroupInfo`], joined to pods |
//! | `RuntimeClass` | overhead by name |
//! | `ResourceSlice`, `DeviceClass`, `ResourceClaim(Template)` | [`import::DraObject`] |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod allocate;
pub mod cel;
pub mod cluster;
pub mod dra;
pub mod dump;
pub mod error;
pub mod export;
pub mod import;
pub mod node;
pub mod pod;
pub mod quantity;
pub mod synth;

pub use cluster::ClusterImport;
pub use error::{ImportError, ObjectRef, Skipped, Unsupported};
pub use import::{Import, ImportConfig, Importer};
pub use k8s_openapi;
pub use rightsizer_model as model;
