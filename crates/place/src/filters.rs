//! The engine's built-in Filter plugins, in the order it runs them:
//! [`TaintToleration`], [`NodeAffinity`] (node selector), [`TopologyDomain`],
//! [`NodeResourcesFit`] and [`Devices`]. User filters run after these.
//!
//! Rejection kinds follow upstream: taints, selectors, topology, a request
//! above the node's allocatable, and missing or unacceptable devices are
//! [`UnschedulableAndUnresolvable`](crate::framework::RejectionKind::UnschedulableAndUnresolvable);
//! a short resource or device that pods leaving would free is
//! [`Unschedulable`](crate::framework::RejectionKind::Unschedulable).

use crate::engine::FilterReason;
use crate::framework::{CycleState, FilterContext, FilterPlugin, Rejection};
use rightsizer_model::cluster::DeviceMode;
use rightsizer_model::ids::NodeIndex;
use rightsizer_model::node::{TaintEffect, TopologyLevel};
use rightsizer_model::units::{Bytes, GpuMilli};
use rightsizer_model::workload::AcceleratorDemand;

/// Untolerated `NoSchedule` / `NoExecute` taints.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaintToleration;

impl FilterPlugin for TaintToleration {
    fn name(&self) -> &str {
        "TaintToleration"
    }

    fn filter(
        &self,
        ctx: &FilterContext<'_>,
        _: &CycleState,
        n: NodeIndex,
    ) -> Result<(), Rejection> {
        for t in &ctx.state.node(n).taints {
            if t.effect != TaintEffect::PreferNoSchedule
                && !ctx.pod.tolerations.iter().any(|tol| tol.tolerates(t))
            {
                return Err(Rejection::unresolvable(
                    self.name(),
                    FilterReason::Taint {
                        key: t.key.clone(),
                        effect: t.effect,
                    },
                ));
            }
        }
        Ok(())
    }
}

/// The pod's node selector (every label must match).
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeAffinity;

impl FilterPlugin for NodeAffinity {
    fn name(&self) -> &str {
        "NodeAffinity"
    }

    fn filter(
        &self,
        ctx: &FilterContext<'_>,
        _: &CycleState,
        n: NodeIndex,
    ) -> Result<(), Rejection> {
        if let Some(sel) = ctx.pod.node_selector {
            let labels = &ctx.state.node(n).labels;
            for (k, v) in sel {
                if labels.get(k) != Some(v) {
                    return Err(Rejection::unresolvable(
                        self.name(),
                        FilterReason::NodeSelector { key: k.clone() },
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A required topology domain.
#[derive(Debug, Clone, Copy, Default)]
pub struct TopologyDomain;

impl FilterPlugin for TopologyDomain {
    fn name(&self) -> &str {
        "TopologyDomain"
    }

    fn filter(
        &self,
        ctx: &FilterContext<'_>,
        _: &CycleState,
        n: NodeIndex,
    ) -> Result<(), Rejection> {
        let Some((level, required)) = ctx.pod.domain else {
            return Ok(());
        };
        let node = ctx.state.node(n);
        let actual = if level == TopologyLevel::Node {
            Some(node.id.as_str())
        } else {
            node.topology.domain(level)
        };
        if actual == Some(required) {
            return Ok(());
        }
        Err(Rejection::unresolvable(
            self.name(),
            FilterReason::Topology {
                level,
                required: required.to_string(),
                actual: actual.map(str::to_string),
            },
        ))
    }
}

/// Enough free cpu, memory, storage, pod slots and extended resources.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeResourcesFit;

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &str {
        "NodeResourcesFit"
    }

    fn filter(
        &self,
        ctx: &FilterContext<'_>,
        _: &CycleState,
        n: NodeIndex,
    ) -> Result<(), Rejection> {
        let req = &ctx.pod.request.resources;
        let free = &ctx.state.node_free(n).resources;
        let Some(dimension) = req.first_short(free) else {
            return Ok(());
        };
        let reason = FilterReason::Insufficient {
            requested: req.get(&dimension),
            free: free.get(&dimension),
            dimension: dimension.clone(),
        };
        let alloc = &ctx.state.node(n).allocatable;
        Err(if req.get(&dimension) > alloc.get(&dimension) {
            Rejection::unresolvable(self.name(), reason)
        } else {
            Rejection::unschedulable(self.name(), reason)
        })
    }
}

/// Accelerator devices: present, of an accepted model, with room for the
/// demand (the same checks as the cluster state's assignment).
#[derive(Debug, Clone, Copy, Default)]
pub struct Devices;

impl FilterPlugin for Devices {
    fn name(&self) -> &str {
        "Devices"
    }

    fn filter(
        &self,
        ctx: &FilterContext<'_>,
        _: &CycleState,
        n: NodeIndex,
    ) -> Result<(), Rejection> {
        let req = ctx.pod.request;
        if req.accelerator.is_none() {
            return Ok(());
        }
        let free = ctx.state.node_free(n);
        let unresolvable = |r| Err(Rejection::unresolvable(self.name(), r));
        let unschedulable = |r| Err(Rejection::unschedulable(self.name(), r));
        if free.devices.is_empty() {
            return unresolvable(FilterReason::NoDevices);
        }
        if !free.devices.iter().any(|d| req.accepts_model(&d.model)) {
            return unresolvable(FilterReason::DeviceModelNotAllowed);
        }
        match &req.accelerator {
            AcceleratorDemand::Whole { count } => {
                let accepted = free.devices.iter().filter(|d| req.accepts_model(&d.model));
                let available = accepted
                    .clone()
                    .filter(|d| d.mode == DeviceMode::Idle)
                    .count();
                if available >= usize::from(*count) {
                    return Ok(());
                }
                let reason = FilterReason::NoDeviceSetFits {
                    needed: *count,
                    available: u16::try_from(available).unwrap_or(u16::MAX),
                };
                if accepted.count() >= usize::from(*count) {
                    unschedulable(reason)
                } else {
                    unresolvable(reason)
                }
            }
            AcceleratorDemand::Fraction { milli, memory } => {
                let mem = memory.unwrap_or(Bytes::ZERO);
                let valid = !(milli.is_zero() && mem.is_zero()) && *milli <= GpuMilli::ONE;
                let fits = valid
                    && free.devices.iter().any(|d| {
                        matches!(d.mode, DeviceMode::Idle | DeviceMode::Shared)
                            && d.milli >= *milli
                            && d.memory >= mem
                            && req.accepts_model(&d.model)
                            && ctx
                                .state
                                .model(&d.model)
                                .and_then(|m| m.sharing.fractional)
                                .is_some_and(|f| d.shares < f.max_shares)
                    });
                if fits {
                    Ok(())
                } else {
                    unschedulable(FilterReason::NoDeviceFits)
                }
            }
            _ => {
                if ctx.state.first_fit_devices(req, n).is_some() {
                    Ok(())
                } else {
                    unschedulable(FilterReason::NoDeviceFits)
                }
            }
        }
    }
}

/// The built-in filters in their run order.
pub(crate) fn builtin() -> Vec<Box<dyn FilterPlugin>> {
    vec![
        Box::new(TaintToleration),
        Box::new(NodeAffinity),
        Box::new(TopologyDomain),
        Box::new(NodeResourcesFit),
        Box::new(Devices),
    ]
}
