//! The shared vocabulary of rightsizer: units, identifiers, Kubernetes
//! quantities, resource vectors, accelerators, node types, nodes, workloads and
//! the cluster state that placement, packing, right-sizing and planning all
//! speak.
//!
//! - [`units`]: [`units::MilliCpu`], [`units::Bytes`], [`units::GpuMilli`],
//!   [`units::Watts`], [`units::Joules`], [`units::PricePerHour`], [`units::Money`].
//! - [`ids`]: typed names ([`ids::NodeId`], [`ids::WorkloadId`], ...) and indices.
//! - [`quantity`]: Kubernetes `resource.Quantity`, exactly as apimachinery.
//! - [`resources`]: resource vectors.
//! - [`accelerator`], [`node`], [`workload`]: the objects.
//! - [`cluster`]: [`cluster::ClusterState`], allocate/release without overcommit.
//! - [`rng`]: the seeded generator every randomised algorithm uses.
//! - [`spec`]: JSON/YAML documents with validation that names the offending field.
//!
//! This crate does no I/O beyond (de)serializing values it is handed, and uses
//! no threads.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod accelerator;
pub mod cluster;
pub mod ids;
pub mod node;
pub mod prelude;
pub mod quantity;
pub mod resources;
pub mod rng;
pub mod spec;
pub mod units;
pub mod workload;
