//! The engine's built-in Filter plugins, in the order it runs them:
//! [`TaintToleration`], [`NodeAffinity`] (node selector), [`TopologyDomain`],
//! [`NodeResourcesFit`] and [`Devices`]. User filters run after these.
//!
//! Rejection kinds follow upstream: taints, selectors, topology, a request
//! above the node's allocatable, and missing or unacceptable devices are
//! [`UnschedulableAndUnresolvable`](crate::framework::RejectionKind::UnschedulableAndUnresolvable);
//! a short resource or device that pods leaving would free is
//! [`Unschedulable`](crate::framework::RejectionKind::Unschedulable).
//!
//! The engine's decisions do not build a [`Rejection`] per node: a fast path
//! ([`builtin_fast`]) answers the same five checks from the engine's compact
//! per-node row and returns a `Copy` [`FailKind`] (what the decision's
//! summary counts); the plugins above run only where the row cannot answer
//! (a taint, a selector, a domain, an extended resource, mixed device models,
//! MIG) and, when a decision is unschedulable, to explain each node. Debug
//! builds check every fast answer against the plugins.

use crate::engine::{FilterReason, NodeRow};
use crate::framework::{CycleState, FilterContext, FilterPlugin, Rejection};
use rightsizer_model::cluster::DeviceMode;
use rightsizer_model::ids::NodeIndex;
use rightsizer_model::node::{TaintEffect, TopologyLevel};
use rightsizer_model::resources::Dimension;
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

/// How many built-in filters [`builtin`] returns (they come first).
pub(crate) const BUILTIN: usize = 5;

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

/// The kind of a rejection as cheap `Copy` data: one per
/// [`FilterReason::kind`] name, counted by decisions without building the
/// reason itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum FailKind {
    Taint,
    NodeSelector,
    Topology,
    InsufficientCpu,
    InsufficientMemory,
    InsufficientPods,
    InsufficientEphemeralStorage,
    InsufficientExtended,
    NoDevices,
    DeviceModelNotAllowed,
    NoDeviceFits,
    NoDeviceSetFits,
    Plugin,
}

impl FailKind {
    /// Number of kinds (for count arrays indexed by `kind as usize`).
    pub(crate) const COUNT: usize = 13;

    /// Every kind, in `as usize` order.
    pub(crate) const ALL: [FailKind; FailKind::COUNT] = [
        FailKind::Taint,
        FailKind::NodeSelector,
        FailKind::Topology,
        FailKind::InsufficientCpu,
        FailKind::InsufficientMemory,
        FailKind::InsufficientPods,
        FailKind::InsufficientEphemeralStorage,
        FailKind::InsufficientExtended,
        FailKind::NoDevices,
        FailKind::DeviceModelNotAllowed,
        FailKind::NoDeviceFits,
        FailKind::NoDeviceSetFits,
        FailKind::Plugin,
    ];

    /// The kind of a full reason.
    pub(crate) fn of(reason: &FilterReason) -> Self {
        match reason {
            FilterReason::Taint { .. } => FailKind::Taint,
            FilterReason::NodeSelector { .. } => FailKind::NodeSelector,
            FilterReason::Topology { .. } => FailKind::Topology,
            FilterReason::Insufficient { dimension, .. } => Self::short(dimension),
            FilterReason::NoDevices => FailKind::NoDevices,
            FilterReason::DeviceModelNotAllowed => FailKind::DeviceModelNotAllowed,
            FilterReason::NoDeviceFits => FailKind::NoDeviceFits,
            FilterReason::NoDeviceSetFits { .. } => FailKind::NoDeviceSetFits,
            FilterReason::Plugin { .. } => FailKind::Plugin,
        }
    }

    fn short(dimension: &Dimension) -> Self {
        match dimension {
            Dimension::Cpu => FailKind::InsufficientCpu,
            Dimension::Memory => FailKind::InsufficientMemory,
            Dimension::Pods => FailKind::InsufficientPods,
            Dimension::EphemeralStorage => FailKind::InsufficientEphemeralStorage,
            _ => FailKind::InsufficientExtended,
        }
    }

    /// The same name as [`FilterReason::kind`].
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailKind::Taint => "taint",
            FailKind::NodeSelector => "node-selector",
            FailKind::Topology => "topology",
            FailKind::InsufficientCpu => "insufficient-cpu",
            FailKind::InsufficientMemory => "insufficient-memory",
            FailKind::InsufficientPods => "insufficient-pods",
            FailKind::InsufficientEphemeralStorage => "insufficient-ephemeral-storage",
            FailKind::InsufficientExtended => "insufficient-extended",
            FailKind::NoDevices => "no-devices",
            FailKind::DeviceModelNotAllowed => "device-model-not-allowed",
            FailKind::NoDeviceFits => "no-device-fits",
            FailKind::NoDeviceSetFits => "no-device-set-fits",
            FailKind::Plugin => "plugin",
        }
    }
}

/// The accelerator demand as the fast path sees it.
#[derive(Clone, Copy, Debug)]
enum Demand {
    None,
    Whole(u16),
    /// A fraction with no memory request, `1..=1000` milli.
    Fraction(u32),
    /// MIG, a fraction with memory, or anything the row cannot answer.
    Other,
}

/// One pod's request, prepared once per decision for [`builtin_fast`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Probe {
    cpu: u64,
    memory: u64,
    storage: u64,
    pods: u32,
    /// The pod requests an extended resource (the row does not hold them).
    extended: bool,
    selector: bool,
    domain: bool,
    demand: Demand,
    /// Accepted device models as bits of the engine's model numbering.
    models: u64,
}

impl Probe {
    /// The probe of a pod; `models` maps its allowed models to bits.
    pub(crate) fn new(pod: &crate::engine::PodSpec<'_>, models: u64) -> Self {
        let r = &pod.request.resources;
        let demand = match &pod.request.accelerator {
            AcceleratorDemand::None => Demand::None,
            AcceleratorDemand::Whole { count } => Demand::Whole(*count),
            AcceleratorDemand::Fraction {
                milli,
                memory: None,
            } if !milli.is_zero() && *milli <= GpuMilli::ONE => Demand::Fraction(milli.get()),
            _ => Demand::Other,
        };
        Self {
            cpu: r.cpu.get(),
            memory: r.memory.get(),
            storage: r.ephemeral_storage.get(),
            pods: r.pods,
            extended: !r.extended.is_empty(),
            selector: pod.node_selector.is_some_and(|s| !s.is_empty()),
            domain: pod.domain.is_some(),
            demand,
            models,
        }
    }
}

/// The built-in filters' verdict on node `n` (the first failing one's
/// kind), answered from the engine's row where it can and by the plugins
/// where it cannot. Same verdict as running [`builtin`] in order.
pub(crate) fn builtin_fast(
    ctx: &FilterContext<'_>,
    cycle: &CycleState,
    probe: &Probe,
    row: &NodeRow,
    n: NodeIndex,
) -> Result<(), FailKind> {
    let slow = |r: Result<(), Rejection>| r.map_err(|r| FailKind::of(&r.reason));
    if row.hard_taints {
        slow(TaintToleration.filter(ctx, cycle, n))?;
    }
    if probe.selector {
        slow(NodeAffinity.filter(ctx, cycle, n))?;
    }
    if probe.domain {
        slow(TopologyDomain.filter(ctx, cycle, n))?;
    }
    if probe.cpu > row.cpu.get() {
        return Err(FailKind::InsufficientCpu);
    }
    if probe.memory > row.mem.get() {
        return Err(FailKind::InsufficientMemory);
    }
    if probe.storage > row.storage {
        return Err(FailKind::InsufficientEphemeralStorage);
    }
    if probe.pods > row.pods {
        return Err(FailKind::InsufficientPods);
    }
    if probe.extended {
        slow(NodeResourcesFit.filter(ctx, cycle, n))?;
    }
    if matches!(probe.demand, Demand::None) {
        return Ok(());
    }
    if row.devices == 0 {
        return Err(FailKind::NoDevices);
    }
    if probe.models & row.device_models == 0 {
        return Err(FailKind::DeviceModelNotAllowed);
    }
    if !row.single_model {
        return slow(Devices.filter(ctx, cycle, n));
    }
    // One model on the node, and the pod accepts it.
    match probe.demand {
        Demand::Whole(count) if row.idle >= count => Ok(()),
        Demand::Whole(_) => Err(FailKind::NoDeviceSetFits),
        Demand::Fraction(milli) if row.fraction_room.is_some_and(|m| m >= milli) => Ok(()),
        Demand::Fraction(_) => Err(FailKind::NoDeviceFits),
        _ => slow(Devices.filter(ctx, cycle, n)),
    }
}
