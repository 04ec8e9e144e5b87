//! The types most callers need, for a glob import.

pub use crate::accelerator::{AcceleratorKind, AcceleratorModel, MigProfile, SharingModes};
pub use crate::cluster::{AllocError, ClusterState, DeviceAssignment, NodeFree, Placement};
pub use crate::ids::{
    AcceleratorModelId, DeviceIndex, GangId, NodeId, NodeIndex, NodeTypeId, PodId, WorkloadId,
};
pub use crate::node::{Device, Node, NodeType, Provider, Taint, TaintEffect, Topology};
pub use crate::quantity::Quantity;
pub use crate::resources::{Dimension, Resources};
pub use crate::units::{Bytes, GpuMilli, Joules, MilliCpu, Money, PricePerHour, Watts};
pub use crate::workload::{
    AcceleratorDemand, Container, PodRequest, PodTemplate, QosClass, Workload,
};
