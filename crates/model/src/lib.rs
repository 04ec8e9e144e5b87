//! The shared vocabulary of rightsizer: units, identifiers, Kubernetes
//! quantities, resource vectors, accelerators, node types, nodes, workloads and
//! the cluster state that placement, packing, right-sizing and planning all
//! speak.
//!
//! This crate does no I/O beyond (de)serializing values it is handed, and uses
//! no threads.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod ids;
pub mod quantity;
pub mod units;
