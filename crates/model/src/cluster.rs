//! Cluster state: nodes, their free capacity per dimension and per device,
//! and the pods placed on them.
//!
//! [`ClusterState::allocate`] and [`ClusterState::release`] are the only ways
//! to change free capacity. They uphold three invariants, which the property
//! tests check on random sequences:
//!
//! 1. **No overcommit**: no node dimension and no single device ever goes
//!    below zero free (whole devices are exclusive, fractions never sum above
//!    1000 milli or the device memory, MIG instances never overlap).
//! 2. **A failed allocation changes nothing**: every check runs before the
//!    first write.
//! 3. **Release restores the exact prior state**.
//!
//! ```
//! use rightsizer_model::prelude::*;
//!
//! let gpu = AcceleratorModelId::new("T4")?;
//! let models = vec![rightsizer_model::cluster::tests_support::fractional_gpu("T4", 16)];
//! let node = Node::new(NodeId::new("n1")?, Resources { pods: 110, ..Resources::cpu_mem(8000, 32 << 30) })
//!     .with_devices(&gpu, 2);
//! let mut state = ClusterState::new(vec![node], models)?;
//! let req = PodRequest {
//!     resources: Resources { pods: 1, ..Resources::cpu_mem(1000, 4 << 30) },
//!     accelerator: AcceleratorDemand::Fraction { milli: GpuMilli::new(500), memory: None },
//!     allowed_models: vec![],
//! };
//! let before = state.clone();
//! state.allocate(PodId::new("p1")?, &req, NodeIndex(0), &DeviceAssignment::Shared { device: DeviceIndex(1) })?;
//! assert_eq!(state.node_free(NodeIndex(0)).devices[1].milli, GpuMilli::new(500));
//! state.release(&PodId::new("p1")?)?;
//! assert_eq!(state, before);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::accelerator::{AcceleratorModel, MigGeometry};
use crate::ids::{AcceleratorModelId, DeviceIndex, NodeId, NodeIndex, PodId};
use crate::node::Node;
use crate::resources::{Dimension, Resources};
use crate::units::{Bytes, GpuMilli};
use crate::workload::{AcceleratorDemand, PodRequest};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which devices of a node a pod gets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum DeviceAssignment {
    /// No device.
    #[default]
    None,
    /// These whole devices (distinct, as many as the demand asks).
    Whole {
        /// The devices.
        devices: Vec<DeviceIndex>,
    },
    /// A fraction of this device.
    Shared {
        /// The device.
        device: DeviceIndex,
    },
    /// A MIG instance on `device`, of the profile named by the demand,
    /// starting at memory slice `start`.
    Mig {
        /// The device.
        device: DeviceIndex,
        /// First memory slice.
        start: u8,
    },
}

/// How a device is in use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceMode {
    /// Nothing allocated.
    #[default]
    Idle,
    /// Taken whole by one pod.
    Whole,
    /// Shared fractionally by one or more pods.
    Shared,
    /// Partitioned into MIG instances.
    Mig,
}

/// Free capacity of one device.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceFree {
    /// The device model.
    pub model: AcceleratorModelId,
    /// Current mode.
    pub mode: DeviceMode,
    /// Free compute in milli-devices.
    pub milli: GpuMilli,
    /// Free device memory.
    pub memory: Bytes,
    /// Pods sharing the device fractionally.
    pub shares: u16,
    /// MIG: bit `i` set when memory slice `i` is used.
    pub mig_memory_used: u16,
    /// MIG: compute slices used.
    pub mig_compute_used: u8,
    /// MIG: instances per profile index.
    pub mig_instances: Vec<u8>,
}

/// Free capacity of one node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeFree {
    /// Free cpu, memory, storage, pod slots, extended resources.
    pub resources: Resources,
    /// Per-device free state, in device-index order.
    pub devices: Vec<DeviceFree>,
}

impl NodeFree {
    /// Free compute summed over devices.
    pub fn gpu_milli(&self) -> GpuMilli {
        self.devices.iter().map(|d| d.milli).sum()
    }
}

/// Where a pod is and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The node.
    pub node: NodeIndex,
    /// What it requested.
    pub request: PodRequest,
    /// The devices it holds.
    pub devices: DeviceAssignment,
}

/// Why an allocation (or a state construction) was refused. The state is
/// unchanged whenever this is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AllocError {
    /// No node with this index.
    #[error("no node with index {0:?}")]
    UnknownNode(NodeIndex),
    /// The pod is already placed.
    #[error("pod {0} is already placed")]
    AlreadyPlaced(PodId),
    /// The pod is not placed.
    #[error("pod {0} is not placed")]
    NotPlaced(PodId),
    /// A node dimension is short.
    #[error("insufficient {dimension}: requested {requested}, free {free}")]
    Insufficient {
        /// The short dimension.
        dimension: Dimension,
        /// Requested amount.
        requested: u64,
        /// Free amount.
        free: u64,
    },
    /// The device assignment does not match the accelerator demand.
    #[error("device assignment {assignment:?} does not match demand {demand:?}")]
    AssignmentMismatch {
        /// The demand.
        demand: AcceleratorDemand,
        /// The assignment.
        assignment: DeviceAssignment,
    },
    /// A device index is out of range or repeated.
    #[error("device {0:?} does not exist on the node or is listed twice")]
    BadDevice(DeviceIndex),
    /// The device model is not accepted by the pod.
    #[error("device {device:?} is a {model}, which the pod does not accept")]
    ModelNotAllowed {
        /// The device.
        device: DeviceIndex,
        /// Its model.
        model: AcceleratorModelId,
    },
    /// The device is in a mode that excludes this use.
    #[error("device {device:?} is in use as {mode:?}")]
    DeviceBusy {
        /// The device.
        device: DeviceIndex,
        /// Its current mode.
        mode: DeviceMode,
    },
    /// The device does not have enough free compute or memory for a fraction.
    #[error("device {device:?} has {free_milli} and {free_memory} free")]
    DeviceShort {
        /// The device.
        device: DeviceIndex,
        /// Free compute.
        free_milli: GpuMilli,
        /// Free memory.
        free_memory: Bytes,
    },
    /// The device model does not support the requested sharing mode.
    #[error("device model {model} does not support {mode}")]
    SharingUnsupported {
        /// Device model.
        model: AcceleratorModelId,
        /// The mode asked for.
        mode: &'static str,
    },
    /// A fractional demand outside `1..=1000` milli.
    #[error("a fraction must be 1..=1000 milli-devices, got {0}")]
    InvalidFraction(GpuMilli),
    /// The MIG profile or start slot is not valid for the device.
    #[error(
        "MIG profile {profile:?} cannot start at slice {start} on device {device:?}: {reason}"
    )]
    MigInvalid {
        /// The device.
        device: DeviceIndex,
        /// Profile name.
        profile: String,
        /// Start slice.
        start: u8,
        /// Why.
        reason: &'static str,
    },
    /// Two nodes share an identifier.
    #[error("duplicate node id {0}")]
    DuplicateNode(NodeId),
    /// A device references an unknown accelerator model.
    #[error("node {node}: device {device} references unknown accelerator model {model}")]
    UnknownModel {
        /// The node.
        node: NodeId,
        /// Device index.
        device: usize,
        /// The model.
        model: AcceleratorModelId,
    },
    /// An accelerator model failed validation.
    #[error("accelerator model {model}: {source}")]
    InvalidModel {
        /// The model.
        model: AcceleratorModelId,
        /// What is wrong.
        source: crate::accelerator::AcceleratorError,
    },
    /// More devices or MIG slices than supported.
    #[error("node {0}: too many devices or MIG memory slices (limits: 65535 devices, 16 slices)")]
    TooLarge(NodeId),
    /// No node with this name.
    #[error("no node named {0}")]
    NoSuchNode(NodeId),
    /// A node admits no pods (`allocatable.pods` is 0), so it could never
    /// take one; set the kubelet's `maxPods` (110 by default).
    #[error("node {0}: allocatable.pods is 0, the node could never take a pod")]
    NoPodSlots(NodeId),
    /// A pod request is malformed.
    #[error("invalid pod request: {field}: {reason}")]
    InvalidRequest {
        /// The offending field, e.g. `resources.pods`.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// Nodes, their free capacity, and placed pods.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterState {
    nodes: Vec<Node>,
    index: BTreeMap<NodeId, NodeIndex>,
    models: BTreeMap<AcceleratorModelId, AcceleratorModel>,
    free: Vec<NodeFree>,
    placements: BTreeMap<PodId, Placement>,
    /// The pods on each node (kept in step with `placements`).
    by_node: Vec<std::collections::BTreeSet<PodId>>,
}

/// What [`ClusterState::remove_node`] took out.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RemovedNode {
    /// The node as it was.
    pub node: Node,
    /// Its pods, in pod-ID order (no longer placed).
    pub pods: Vec<(PodId, Placement)>,
    /// When another node took the removed node's index (the last node moves
    /// into the hole): `(old index, new index)`.
    pub moved: Option<(NodeIndex, NodeIndex)>,
}

/// What [`ClusterState::update_node`] changed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct UpdatedNode {
    /// The node's index (unchanged).
    pub index: NodeIndex,
    /// Pods that no longer fit the updated node, in pod-ID order. They are
    /// no longer placed; the caller decides where they go.
    pub displaced: Vec<(PodId, Placement)>,
}

impl ClusterState {
    /// An empty cluster over these nodes and accelerator models.
    ///
    /// Errors on duplicate node IDs, devices of unknown models, and invalid
    /// models.
    pub fn new(
        nodes: Vec<Node>,
        models: impl IntoIterator<Item = AcceleratorModel>,
    ) -> Result<Self, AllocError> {
        let mut model_map = BTreeMap::new();
        for m in models {
            if let Err((_, source)) = m.validate() {
                return Err(AllocError::InvalidModel {
                    model: m.id.clone(),
                    source,
                });
            }
            if let Some(g) = &m.sharing.mig {
                if g.memory_slices > 16 {
                    return Err(AllocError::InvalidModel {
                        model: m.id.clone(),
                        source: crate::accelerator::AcceleratorError::BadMigProfile {
                            profile: String::new(),
                            reason: "more than 16 memory slices".into(),
                        },
                    });
                }
            }
            model_map.insert(m.id.clone(), m);
        }
        let mut index = BTreeMap::new();
        let mut free = Vec::with_capacity(nodes.len());
        for (i, n) in nodes.iter().enumerate() {
            if index.insert(n.id.clone(), NodeIndex(i as u32)).is_some() {
                return Err(AllocError::DuplicateNode(n.id.clone()));
            }
            free.push(fresh_free(n, &model_map)?);
        }
        let by_node = vec![Default::default(); nodes.len()];
        Ok(Self {
            nodes,
            index,
            models: model_map,
            free,
            placements: BTreeMap::new(),
            by_node,
        })
    }

    /// Adds a node (with no pods) at the next index. O(log n). Errors, with
    /// nothing changed, on a duplicate name, an unknown device model, zero
    /// pod slots or too many devices.
    pub fn add_node(&mut self, node: Node) -> Result<NodeIndex, AllocError> {
        if self.index.contains_key(&node.id) {
            return Err(AllocError::DuplicateNode(node.id));
        }
        let free = fresh_free(&node, &self.models)?;
        let i = NodeIndex(self.nodes.len() as u32);
        self.index.insert(node.id.clone(), i);
        self.nodes.push(node);
        self.free.push(free);
        self.by_node.push(Default::default());
        Ok(i)
    }

    /// Removes a node and its pods (returned, no longer placed). The last
    /// node takes the removed node's index (reported in
    /// [`RemovedNode::moved`]). O(log n + pods on the two nodes · log pods).
    pub fn remove_node(&mut self, id: &NodeId) -> Result<RemovedNode, AllocError> {
        let i = self
            .index
            .get(id)
            .copied()
            .ok_or_else(|| AllocError::NoSuchNode(id.clone()))?;
        let pods: Vec<(PodId, Placement)> = std::mem::take(&mut self.by_node[i.get()])
            .into_iter()
            .map(|p| {
                let pl = self
                    .placements
                    .remove(&p)
                    .expect("by_node mirrors placements");
                (p, pl)
            })
            .collect();
        let last = NodeIndex((self.nodes.len() - 1) as u32);
        let node = self.nodes.swap_remove(i.get());
        self.free.swap_remove(i.get());
        self.by_node.swap_remove(i.get());
        self.index.remove(id);
        let moved = (last != i).then(|| {
            self.index.insert(self.nodes[i.get()].id.clone(), i);
            for p in &self.by_node[i.get()] {
                self.placements.get_mut(p).expect("mirrored").node = i;
            }
            (last, i)
        });
        Ok(RemovedNode { node, pods, moved })
    }

    /// Replaces a node's description (allocatable, labels, taints, devices)
    /// keeping its name and index. Its pods are re-applied in pod-ID order;
    /// those that no longer fit are returned in [`UpdatedNode::displaced`]
    /// (and are no longer placed), so nothing overcommits. Errors, with
    /// nothing changed, when the node is unknown or the new description is
    /// invalid. O(log n + pods on the node · log pods).
    pub fn update_node(&mut self, node: Node) -> Result<UpdatedNode, AllocError> {
        let i = self
            .index
            .get(&node.id)
            .copied()
            .ok_or_else(|| AllocError::NoSuchNode(node.id.clone()))?;
        let mut free = fresh_free(&node, &self.models)?;
        let mut kept = std::collections::BTreeSet::new();
        let mut displaced = Vec::new();
        for pod in &self.by_node[i.get()] {
            let p = &self.placements[pod];
            let fits = check_resources(&p.request.resources, &free.resources).is_ok()
                && self.check_devices(&p.request, &free, &p.devices).is_ok();
            if fits {
                let mig = mig_profile_of(&self.models, &free, &p.request, &p.devices);
                free.resources = free
                    .resources
                    .checked_sub(&p.request.resources)
                    .expect("checked");
                apply_devices(
                    &mut free,
                    &p.request,
                    &p.devices,
                    mig,
                    &self.models,
                    Direction::Take,
                );
                kept.insert(pod.clone());
            } else {
                displaced.push(pod.clone());
            }
        }
        let displaced = displaced
            .into_iter()
            .map(|p| {
                let pl = self.placements.remove(&p).expect("mirrored");
                (p, pl)
            })
            .collect();
        self.nodes[i.get()] = node;
        self.free[i.get()] = free;
        self.by_node[i.get()] = kept;
        Ok(UpdatedNode {
            index: i,
            displaced,
        })
    }

    /// The nodes, in index order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// `true` when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// One node.
    pub fn node(&self, i: NodeIndex) -> &Node {
        &self.nodes[i.get()]
    }

    /// The index of a node by name.
    pub fn node_index(&self, id: &NodeId) -> Option<NodeIndex> {
        self.index.get(id).copied()
    }

    /// Free capacity of one node.
    pub fn node_free(&self, i: NodeIndex) -> &NodeFree {
        &self.free[i.get()]
    }

    /// The accelerator models known to this state.
    pub fn models(&self) -> &BTreeMap<AcceleratorModelId, AcceleratorModel> {
        &self.models
    }

    /// One accelerator model.
    pub fn model(&self, id: &AcceleratorModelId) -> Option<&AcceleratorModel> {
        self.models.get(id)
    }

    /// Placed pods, ordered by pod ID.
    pub fn placements(&self) -> &BTreeMap<PodId, Placement> {
        &self.placements
    }

    /// Pods on one node, ordered by pod ID.
    pub fn pods_on(&self, i: NodeIndex) -> impl Iterator<Item = (&PodId, &Placement)> {
        self.by_node
            .get(i.get())
            .into_iter()
            .flatten()
            .map(|p| (p, &self.placements[p]))
    }

    /// Checks whether `req` with `devices` fits on node `node` now, without
    /// changing anything.
    pub fn check(
        &self,
        req: &PodRequest,
        node: NodeIndex,
        devices: &DeviceAssignment,
    ) -> Result<(), AllocError> {
        let free = self
            .free
            .get(node.get())
            .ok_or(AllocError::UnknownNode(node))?;
        validate_request(req)?;
        check_resources(&req.resources, &free.resources)?;
        self.check_devices(req, free, devices).map(|_| ())
    }

    /// Places pod `pod` on `node` holding `devices`. On error nothing changes.
    pub fn allocate(
        &mut self,
        pod: PodId,
        req: &PodRequest,
        node: NodeIndex,
        devices: &DeviceAssignment,
    ) -> Result<(), AllocError> {
        if self.placements.contains_key(&pod) {
            return Err(AllocError::AlreadyPlaced(pod));
        }
        self.check(req, node, devices)?;
        let mig_profile = self.mig_profile_index(req, node, devices);
        let free = &mut self.free[node.get()];
        free.resources = free
            .resources
            .checked_sub(&req.resources)
            .expect("checked above");
        apply_devices(
            free,
            req,
            devices,
            mig_profile,
            &self.models,
            Direction::Take,
        );
        self.by_node[node.get()].insert(pod.clone());
        self.placements.insert(
            pod,
            Placement {
                node,
                request: req.clone(),
                devices: devices.clone(),
            },
        );
        Ok(())
    }

    /// Removes a placed pod and returns its capacity. Restores the exact prior state.
    pub fn release(&mut self, pod: &PodId) -> Result<Placement, AllocError> {
        let p = self
            .placements
            .remove(pod)
            .ok_or_else(|| AllocError::NotPlaced(pod.clone()))?;
        self.by_node[p.node.get()].remove(pod);
        let mig_profile = self.mig_profile_index(&p.request, p.node, &p.devices);
        let free = &mut self.free[p.node.get()];
        free.resources = free
            .resources
            .checked_add(&p.request.resources)
            .expect("release restores what allocate took");
        apply_devices(
            free,
            &p.request,
            &p.devices,
            mig_profile,
            &self.models,
            Direction::Give,
        );
        Ok(p)
    }

    /// Changes the node resources (cpu, memory, ...) a placed pod holds, in
    /// place, keeping its devices. Fails with nothing changed when the node
    /// cannot hold the new size.
    pub fn resize(&mut self, pod: &PodId, resources: Resources) -> Result<(), AllocError> {
        let p = self
            .placements
            .get(pod)
            .ok_or_else(|| AllocError::NotPlaced(pod.clone()))?;
        let free = &self.free[p.node.get()];
        let available =
            free.resources
                .checked_add(&p.request.resources)
                .ok_or(AllocError::Insufficient {
                    dimension: Dimension::Cpu,
                    requested: u64::MAX,
                    free: u64::MAX,
                })?;
        check_resources(&resources, &available)?;
        let node = p.node;
        let new_free = available.checked_sub(&resources).expect("checked above");
        self.free[node.get()].resources = new_free;
        self.placements
            .get_mut(pod)
            .expect("present")
            .request
            .resources = resources;
        Ok(())
    }

    /// A first-fit device choice for `req` on `node`, if any fits now:
    /// whole devices in index order; for a fraction, the accepted device with
    /// the least free compute that still fits (best fit); for MIG, the first
    /// device and lowest start slot that fit.
    pub fn first_fit_devices(&self, req: &PodRequest, node: NodeIndex) -> Option<DeviceAssignment> {
        let free = self.free.get(node.get())?;
        let cand = match &req.accelerator {
            AcceleratorDemand::None => DeviceAssignment::None,
            AcceleratorDemand::Whole { count } => {
                let ids: Vec<DeviceIndex> = free
                    .devices
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.mode == DeviceMode::Idle && req.accepts_model(&d.model))
                    .map(|(i, _)| DeviceIndex(i as u16))
                    .take(usize::from(*count))
                    .collect();
                if ids.len() < usize::from(*count) {
                    return None;
                }
                DeviceAssignment::Whole { devices: ids }
            }
            AcceleratorDemand::Fraction { .. } => {
                let mut best: Option<(GpuMilli, usize)> = None;
                for i in 0..free.devices.len() {
                    let a = DeviceAssignment::Shared {
                        device: DeviceIndex(i as u16),
                    };
                    if self.check_devices(req, free, &a).is_ok() {
                        let m = free.devices[i].milli;
                        if best.is_none_or(|(bm, _)| m < bm) {
                            best = Some((m, i));
                        }
                    }
                }
                DeviceAssignment::Shared {
                    device: DeviceIndex(best?.1 as u16),
                }
            }
            AcceleratorDemand::Mig { .. } => {
                for i in 0..free.devices.len() {
                    for start in 0..16u8 {
                        let a = DeviceAssignment::Mig {
                            device: DeviceIndex(i as u16),
                            start,
                        };
                        if self.check(req, node, &a).is_ok() {
                            return Some(a);
                        }
                    }
                }
                return None;
            }
        };
        self.check(req, node, &cand).ok().map(|_| cand)
    }

    fn mig_profile_index(
        &self,
        req: &PodRequest,
        node: NodeIndex,
        devices: &DeviceAssignment,
    ) -> Option<usize> {
        mig_profile_of(&self.models, &self.free[node.get()], req, devices)
    }

    fn device<'a>(
        &self,
        free: &'a NodeFree,
        req: &PodRequest,
        d: DeviceIndex,
    ) -> Result<&'a DeviceFree, AllocError> {
        let dev = free.devices.get(d.get()).ok_or(AllocError::BadDevice(d))?;
        if !req.accepts_model(&dev.model) {
            return Err(AllocError::ModelNotAllowed {
                device: d,
                model: dev.model.clone(),
            });
        }
        Ok(dev)
    }

    fn check_devices(
        &self,
        req: &PodRequest,
        free: &NodeFree,
        devices: &DeviceAssignment,
    ) -> Result<(), AllocError> {
        let mismatch = || AllocError::AssignmentMismatch {
            demand: req.accelerator.clone(),
            assignment: devices.clone(),
        };
        match (&req.accelerator, devices) {
            (AcceleratorDemand::None, DeviceAssignment::None) => Ok(()),
            (AcceleratorDemand::Whole { count }, DeviceAssignment::Whole { devices: ids }) => {
                if ids.len() != usize::from(*count) {
                    return Err(mismatch());
                }
                for (k, id) in ids.iter().enumerate() {
                    if ids[..k].contains(id) {
                        return Err(AllocError::BadDevice(*id));
                    }
                    let dev = self.device(free, req, *id)?;
                    if dev.mode != DeviceMode::Idle {
                        return Err(AllocError::DeviceBusy {
                            device: *id,
                            mode: dev.mode,
                        });
                    }
                }
                Ok(())
            }
            (
                AcceleratorDemand::Fraction { milli, memory },
                DeviceAssignment::Shared { device: id },
            ) => {
                if milli.is_zero() && memory.is_none_or(|m| m.is_zero()) || *milli > GpuMilli::ONE {
                    return Err(AllocError::InvalidFraction(*milli));
                }
                let dev = self.device(free, req, *id)?;
                let model = &self.models[&dev.model];
                let Some(fr) = model.sharing.fractional else {
                    return Err(AllocError::SharingUnsupported {
                        model: dev.model.clone(),
                        mode: "fractional sharing",
                    });
                };
                if !matches!(dev.mode, DeviceMode::Idle | DeviceMode::Shared)
                    || dev.shares >= fr.max_shares
                {
                    return Err(AllocError::DeviceBusy {
                        device: *id,
                        mode: dev.mode,
                    });
                }
                let mem = memory.unwrap_or(Bytes::ZERO);
                if dev.milli < *milli || dev.memory < mem {
                    return Err(AllocError::DeviceShort {
                        device: *id,
                        free_milli: dev.milli,
                        free_memory: dev.memory,
                    });
                }
                Ok(())
            }
            (AcceleratorDemand::Mig { profile }, DeviceAssignment::Mig { device, start }) => {
                let dev = self.device(free, req, *device)?;
                let model = &self.models[&dev.model];
                let Some(g) = model.sharing.mig.as_ref() else {
                    return Err(AllocError::SharingUnsupported {
                        model: dev.model.clone(),
                        mode: "MIG",
                    });
                };
                let invalid = |reason| AllocError::MigInvalid {
                    device: *device,
                    profile: profile.clone(),
                    start: *start,
                    reason,
                };
                let (pi, p) = g
                    .profile(profile)
                    .ok_or_else(|| invalid("unknown profile"))?;
                if !matches!(dev.mode, DeviceMode::Idle | DeviceMode::Mig) {
                    return Err(AllocError::DeviceBusy {
                        device: *device,
                        mode: dev.mode,
                    });
                }
                if !p.start_slots.contains(start) {
                    return Err(invalid("not a valid start slice for the profile"));
                }
                if dev.mig_memory_used & mig_mask(*start, p.memory_slices) != 0 {
                    return Err(invalid("memory slices already used"));
                }
                if dev.mig_compute_used + p.compute_slices > g.compute_slices {
                    return Err(invalid("not enough compute slices left"));
                }
                if dev.mig_instances[pi] >= p.max_instances {
                    return Err(invalid("profile at its maximum instance count"));
                }
                Ok(())
            }
            _ => Err(mismatch()),
        }
    }
}

fn mig_profile_of(
    models: &BTreeMap<AcceleratorModelId, AcceleratorModel>,
    free: &NodeFree,
    req: &PodRequest,
    devices: &DeviceAssignment,
) -> Option<usize> {
    match (&req.accelerator, devices) {
        (AcceleratorDemand::Mig { profile }, DeviceAssignment::Mig { device, .. }) => {
            let model = &free.devices.get(device.get())?.model;
            let g = models.get(model)?.sharing.mig.as_ref()?;
            g.profile(profile).map(|(i, _)| i)
        }
        _ => None,
    }
}

/// Checks a request's own shape: it takes exactly one pod slot.
pub fn validate_request(req: &PodRequest) -> Result<(), AllocError> {
    if req.resources.pods != 1 {
        return Err(AllocError::InvalidRequest {
            field: "resources.pods",
            reason: format!(
                "a pod takes exactly 1 pod slot, got {} (use PodRequest::new)",
                req.resources.pods
            ),
        });
    }
    Ok(())
}

/// The free capacity of an empty node, validating the node.
fn fresh_free(
    n: &Node,
    models: &BTreeMap<AcceleratorModelId, AcceleratorModel>,
) -> Result<NodeFree, AllocError> {
    if n.devices.len() > usize::from(u16::MAX) {
        return Err(AllocError::TooLarge(n.id.clone()));
    }
    if n.allocatable.pods == 0 {
        return Err(AllocError::NoPodSlots(n.id.clone()));
    }
    let mut devices = Vec::with_capacity(n.devices.len());
    for (d, dev) in n.devices.iter().enumerate() {
        let m = models
            .get(&dev.model)
            .ok_or_else(|| AllocError::UnknownModel {
                node: n.id.clone(),
                device: d,
                model: dev.model.clone(),
            })?;
        devices.push(DeviceFree {
            model: dev.model.clone(),
            mode: DeviceMode::Idle,
            milli: GpuMilli::ONE,
            memory: m.memory,
            shares: 0,
            mig_memory_used: 0,
            mig_compute_used: 0,
            mig_instances: vec![0; m.sharing.mig.as_ref().map_or(0, |g| g.profiles.len())],
        });
    }
    Ok(NodeFree {
        resources: n.allocatable.clone(),
        devices,
    })
}

fn check_resources(req: &Resources, free: &Resources) -> Result<(), AllocError> {
    match req.first_short(free) {
        None => Ok(()),
        Some(dimension) => Err(AllocError::Insufficient {
            requested: req.get(&dimension),
            free: free.get(&dimension),
            dimension,
        }),
    }
}

fn mig_mask(start: u8, slices: u8) -> u16 {
    let ones = (1u32 << slices) - 1;
    ((ones << start) & 0xFFFF) as u16
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Take,
    Give,
}

fn apply_devices(
    free: &mut NodeFree,
    req: &PodRequest,
    devices: &DeviceAssignment,
    mig_profile: Option<usize>,
    models: &BTreeMap<AcceleratorModelId, AcceleratorModel>,
    dir: Direction,
) {
    let full = |d: &DeviceFree| models[&d.model].memory;
    match (&req.accelerator, devices) {
        (AcceleratorDemand::Whole { .. }, DeviceAssignment::Whole { devices: ids }) => {
            for id in ids {
                let d = &mut free.devices[id.get()];
                if dir == Direction::Take {
                    d.mode = DeviceMode::Whole;
                    d.milli = GpuMilli::ZERO;
                    d.memory = Bytes::ZERO;
                } else {
                    d.mode = DeviceMode::Idle;
                    d.milli = GpuMilli::ONE;
                    d.memory = full(d);
                }
            }
        }
        (
            AcceleratorDemand::Fraction { milli, memory },
            DeviceAssignment::Shared { device: id },
        ) => {
            let d = &mut free.devices[id.get()];
            let mem = memory.unwrap_or(Bytes::ZERO);
            if dir == Direction::Take {
                d.milli = d.milli.checked_sub(*milli).expect("checked");
                d.memory = d.memory.checked_sub(mem).expect("checked");
                d.shares += 1;
                d.mode = DeviceMode::Shared;
            } else {
                d.milli = d.milli.checked_add(*milli).expect("restores");
                d.memory = d.memory.checked_add(mem).expect("restores");
                d.shares -= 1;
                if d.shares == 0 {
                    d.mode = DeviceMode::Idle;
                }
            }
        }
        (AcceleratorDemand::Mig { .. }, DeviceAssignment::Mig { device, start }) => {
            let d = &mut free.devices[device.get()];
            let g: &MigGeometry = models[&d.model].sharing.mig.as_ref().expect("checked");
            let pi = mig_profile.expect("checked");
            let p = &g.profiles[pi];
            let mask = mig_mask(*start, p.memory_slices);
            // Free compute/memory are reported in proportion to the slices used.
            if dir == Direction::Take {
                d.mig_memory_used |= mask;
                d.mig_compute_used += p.compute_slices;
                d.mig_instances[pi] += 1;
                d.mode = DeviceMode::Mig;
                d.memory = d.memory.checked_sub(p.memory.min(d.memory)).expect("min");
            } else {
                d.mig_memory_used &= !mask;
                d.mig_compute_used -= p.compute_slices;
                d.mig_instances[pi] -= 1;
                if d.mig_memory_used == 0 {
                    d.mode = DeviceMode::Idle;
                    d.memory = full(d);
                } else {
                    d.memory = d.memory.checked_add(p.memory).expect("restores");
                }
            }
            let used = u32::from(d.mig_compute_used);
            d.milli = GpuMilli::new(1000 - used * 1000 / u32::from(g.compute_slices));
            if d.mode == DeviceMode::Idle {
                d.milli = GpuMilli::ONE;
            }
        }
        _ => {}
    }
}

/// Small constructors used by doctests and tests across the workspace.
#[doc(hidden)]
pub mod tests_support {
    use crate::accelerator::*;
    use crate::ids::AcceleratorModelId;
    use crate::units::{Bytes, Watts};

    /// A GPU model with `mem_gib` GiB that supports fractional sharing.
    pub fn fractional_gpu(id: &str, mem_gib: u64) -> AcceleratorModel {
        AcceleratorModel {
            id: AcceleratorModelId::new(id).expect("valid id"),
            kind: AcceleratorKind::Gpu,
            vendor: "NVIDIA".into(),
            name: id.into(),
            memory: Bytes::from_gib(mem_gib),
            bf16: TeraOps(0.0),
            fp16: TeraOps(65.0),
            int8: TeraOps(130.0),
            memory_bandwidth: GigabytesPerSecond(320.0),
            idle_power: Watts::new(10),
            max_power: Watts::new(70),
            sharing: SharingModes {
                whole: true,
                fractional: Some(FractionalSharing { max_shares: 10 }),
                mig: None,
                time_slicing_replicas: None,
            },
            source: String::new(),
        }
    }

    /// An A100-40GB-like model with its seven MIG profiles.
    pub fn mig_gpu(id: &str) -> AcceleratorModel {
        let p = |name: &str, c: u8, m: u8, mib: u64, max: u8, starts: &[u8]| MigProfile {
            name: name.into(),
            compute_slices: c,
            memory_slices: m,
            memory: Bytes::from_mib(mib),
            max_instances: max,
            start_slots: starts.to_vec(),
        };
        let mut m = fractional_gpu(id, 40);
        m.sharing.mig = Some(MigGeometry {
            compute_slices: 7,
            memory_slices: 8,
            profiles: vec![
                p("1g.5gb", 1, 1, 4864, 7, &[0, 1, 2, 3, 4, 5, 6]),
                p("1g.10gb", 1, 2, 9856, 4, &[0, 2, 4, 6]),
                p("2g.10gb", 2, 2, 9856, 3, &[0, 2, 4]),
                p("3g.20gb", 3, 4, 19968, 2, &[0, 4]),
                p("4g.20gb", 4, 4, 19968, 1, &[0]),
                p("7g.40gb", 7, 8, 40192, 1, &[0]),
            ],
        });
        m
    }
}
