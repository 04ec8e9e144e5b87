//! The placement engine: Filter → Score → Select → assign devices, for one
//! pod at a time, over a [`ClusterState`].
//!
//! - **Filter** checks every node and records a typed [`FilterReason`] when
//!   the pod cannot go there (taint, node selector, topology, a short
//!   resource, no device, device model, no device or device set fits).
//! - **Score** runs the configured [`ScorePlugin`]s on the feasible nodes.
//!   Each returns a score in `0..=100` ([`MAX_SCORE`]), optionally normalised
//!   across nodes, and weighted; a plugin may also say which devices it wants.
//! - **Select** takes the highest weighted sum; ties go to the lowest node
//!   priority (by default the node index), then the lowest index.
//! - **Devices**: the first plugin that proposes devices decides; otherwise
//!   [`ClusterState::first_fit_devices`].
//!
//! The result is data: [`Decision::Placed`] with the node, the devices and
//! an [`Explanation`] listing the top candidates with each plugin's score, or
//! [`Decision::Unschedulable`] with the reason for every node.
//!
//! The engine keeps per-node caches (GPU tags, FGD fragmentation by node
//! version) and updates them incrementally on [`Engine::place`] and
//! [`Engine::release`].
//!
//! ```
//! use rightsizer_model::prelude::*;
//! use rightsizer_place::engine::{Decision, Engine, EngineConfig, PodSpec};
//! use rightsizer_place::share::SharePolicy;
//!
//! let t4 = AcceleratorModelId::new("T4")?;
//! let model = rightsizer_model::cluster::tests_support::fractional_gpu("T4", 16);
//! let nodes = (0..3).map(|i| {
//!     Node::new(NodeId::new(format!("n{i}")).unwrap(),
//!               Resources { pods: 110, ..Resources::cpu_mem(32000, 128 << 30) })
//!         .with_devices(&t4, 2)
//! }).collect();
//! let state = ClusterState::new(nodes, vec![model])?;
//! let mut engine = Engine::new(state, EngineConfig::share(SharePolicy::BestFit))?;
//! let req = PodRequest {
//!     resources: Resources { pods: 1, ..Resources::cpu_mem(4000, 8 << 30) },
//!     accelerator: AcceleratorDemand::Fraction { milli: GpuMilli::new(500), memory: None },
//!     allowed_models: vec![],
//! };
//! let d = engine.place(PodId::new("p0")?, &PodSpec::new(&req))?;
//! let Decision::Placed(p) = d else { panic!("fits") };
//! assert_eq!(p.node_id.as_str(), "n0");
//! // The next half-GPU pod packs onto the same device.
//! let Decision::Placed(q) = engine.place(PodId::new("p1")?, &PodSpec::new(&req))? else { panic!() };
//! assert_eq!((q.node, q.devices), (p.node, p.devices));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::filters::{FailKind, Probe};
use crate::frag::{ModelMask, NamedTargetWorkload, NodeGpuState, TargetWorkload};
use crate::framework::{
    FilterContext, FilterPlugin, Nomination, Permit, PermitPlugin, PostFilterPlugin,
    PreFilterPlugin, ReservePlugin,
};
use crate::kube::{
    balanced_allocation, FitScorer, KubeScoreError, NonZeroRequest, ResourceUse, Strategy,
};
use crate::rng::SeededRng;
use crate::share::{random_gpu, GpuPick, NodeView, PodKind, PodShape, Scorer, SharePolicy, MILLI};
use rightsizer_model::cluster::{
    AllocError, ClusterState, DeviceAssignment, DeviceMode, Placement,
};
use rightsizer_model::ids::{AcceleratorModelId, DeviceIndex, NodeId, NodeIndex, PodId};
use rightsizer_model::node::{Node, TaintEffect, TopologyLevel};
use rightsizer_model::resources::{Dimension, Resources};
use rightsizer_model::units::{Bytes, GpuMilli, MilliCpu};
use rightsizer_model::workload::{AcceleratorDemand, PodRequest, Toleration, Workload};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Mutex;

pub use crate::framework::{
    min_max_normalize, CycleState, NodeScore, PreScoreStatus, Rejection, RejectionKind,
    ScoreContext, ScorePlugin, MAX_SCORE,
};

/// Why a node cannot take the pod.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
#[non_exhaustive]
pub enum FilterReason {
    /// A `NoSchedule`/`NoExecute` taint the pod does not tolerate.
    Taint {
        /// Taint key.
        key: String,
        /// Taint effect.
        effect: TaintEffect,
    },
    /// A node-selector label is missing or different.
    NodeSelector {
        /// The label key.
        key: String,
    },
    /// The node is outside the required topology domain.
    Topology {
        /// Domain level.
        level: TopologyLevel,
        /// The required domain.
        required: String,
        /// The node's domain at that level.
        actual: Option<String>,
    },
    /// Not enough of a resource (cpu, memory, pods, storage, extended).
    Insufficient {
        /// The short dimension.
        dimension: Dimension,
        /// Requested.
        requested: u64,
        /// Free.
        free: u64,
    },
    /// The pod needs an accelerator and the node has none.
    NoDevices,
    /// The node's devices are all of models the pod does not accept.
    DeviceModelNotAllowed,
    /// No single device can take the fraction or MIG instance.
    NoDeviceFits,
    /// Not enough idle accepted devices for a whole-device request.
    NoDeviceSetFits {
        /// Devices needed.
        needed: u16,
        /// Idle accepted devices on the node.
        available: u16,
    },
    /// A plugin's own reason.
    Plugin {
        /// The plugin.
        plugin: String,
        /// Its message.
        message: String,
    },
}

impl FilterReason {
    /// A short stable name of the reason's kind (for summaries).
    pub fn kind(&self) -> &'static str {
        match self {
            FilterReason::Taint { .. } => "taint",
            FilterReason::NodeSelector { .. } => "node-selector",
            FilterReason::Topology { .. } => "topology",
            FilterReason::Insufficient { dimension, .. } => match dimension {
                Dimension::Cpu => "insufficient-cpu",
                Dimension::Memory => "insufficient-memory",
                Dimension::Pods => "insufficient-pods",
                Dimension::EphemeralStorage => "insufficient-ephemeral-storage",
                _ => "insufficient-extended",
            },
            FilterReason::NoDevices => "no-devices",
            FilterReason::DeviceModelNotAllowed => "device-model-not-allowed",
            FilterReason::NoDeviceFits => "no-device-fits",
            FilterReason::NoDeviceSetFits { .. } => "no-device-set-fits",
            FilterReason::Plugin { .. } => "plugin",
        }
    }
}

impl fmt::Display for FilterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterReason::Taint { key, effect } => {
                write!(f, "untolerated taint {key} ({effect:?})")
            }
            FilterReason::NodeSelector { key } => write!(f, "node selector {key} does not match"),
            FilterReason::Topology {
                level,
                required,
                actual,
            } => {
                write!(
                    f,
                    "{level:?} domain {actual:?} is not the required {required}"
                )
            }
            FilterReason::Insufficient {
                dimension,
                requested,
                free,
            } => write!(
                f,
                "insufficient {dimension}: requested {requested}, free {free}"
            ),
            FilterReason::NoDevices => f.write_str("no accelerator devices"),
            FilterReason::DeviceModelNotAllowed => f.write_str("device model not allowed"),
            FilterReason::NoDeviceFits => f.write_str("no device has room"),
            FilterReason::NoDeviceSetFits { needed, available } => {
                write!(f, "needs {needed} idle devices, {available} available")
            }
            FilterReason::Plugin { plugin, message } => write!(f, "{plugin}: {message}"),
        }
    }
}

/// The pod to place: its request and the placement constraints.
#[derive(Clone, Copy, Debug)]
pub struct PodSpec<'a> {
    /// What the pod needs on a node.
    pub request: &'a PodRequest,
    /// Tolerations.
    pub tolerations: &'a [Toleration],
    /// Required node labels.
    pub node_selector: Option<&'a BTreeMap<String, String>>,
    /// A required topology domain `(level, name)`.
    pub domain: Option<(TopologyLevel, &'a str)>,
    /// The pod's identity key, which seeds any random choice (the Random
    /// policy). `None`: [`Engine::place`] uses [`identity_of`] the pod ID,
    /// [`Engine::decide`] uses 0. The same key on the same snapshot always
    /// gets the same decision.
    pub identity: Option<u64>,
    /// The cpu/memory NodeResourcesFit scoring counts for the pod, from its
    /// containers ([`NonZeroRequest::from_containers`]); `None`: its totals
    /// with a 0 taken as unset ([`NonZeroRequest::of_totals`]).
    pub nonzero: Option<NonZeroRequest>,
}

impl<'a> PodSpec<'a> {
    /// A pod with no tolerations, selector or topology constraint.
    pub fn new(request: &'a PodRequest) -> Self {
        Self {
            request,
            tolerations: &[],
            node_selector: None,
            domain: None,
            identity: None,
            nonzero: None,
        }
    }

    /// A pod of `workload` (its tolerations and node selector).
    pub fn of_workload(workload: &'a Workload, request: &'a PodRequest) -> Self {
        Self {
            request,
            tolerations: &workload.tolerations,
            node_selector: Some(&workload.node_selector),
            domain: None,
            identity: None,
            nonzero: None,
        }
    }

    /// The same pod with its identity key taken from `pod` (builder style).
    pub fn with_id(self, pod: &PodId) -> Self {
        self.with_identity(identity_of(pod))
    }

    /// The same pod with its non-zero scoring request given (builder style).
    pub fn with_nonzero(mut self, nonzero: NonZeroRequest) -> Self {
        self.nonzero = Some(nonzero);
        self
    }

    /// The scoring request: given, or from the totals.
    pub fn nonzero_request(&self) -> NonZeroRequest {
        self.nonzero.unwrap_or_else(|| {
            NonZeroRequest::of_totals(
                self.request.resources.cpu.get(),
                self.request.resources.memory.get(),
            )
        })
    }

    /// The same pod with an explicit identity key (builder style).
    pub fn with_identity(mut self, key: u64) -> Self {
        self.identity = Some(key);
        self
    }
}

/// The stable identity key of a pod ID (64-bit FNV-1a of its bytes, the same
/// on every platform and run).
pub fn identity_of(pod: &PodId) -> u64 {
    pod.as_str().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The generator for one pod's random choices: a pure function of the
/// plugin seed and the pod's identity key.
pub fn pod_rng(seed: u64, identity: u64) -> SeededRng {
    let mut x = rightsizer_model::rng::SplitMix64::new(seed ^ identity.rotate_left(32));
    SeededRng::new(x.next_u64() ^ identity)
}

/// The target workload of an FGD plugin.
#[derive(Debug, Clone)]
enum Target {
    None,
    Named(NamedTargetWorkload),
    Resolved(TargetWorkload),
}

#[derive(Debug, Default)]
struct FragCache {
    memo: crate::frag::FragMemo,
    /// Per node index: (node version, F_n(M)).
    node_frag: Vec<(u64, f64)>,
}

/// A GPU-sharing policy as a plugin (see [`crate::share`]).
///
/// Its FGD fragmentation cache is behind a lock and keyed by node version:
/// it speeds decisions up and never changes one.
#[derive(Debug)]
pub struct SharePlugin {
    policy: SharePolicy,
    target: Target,
    cache: Mutex<FragCache>,
    seed: u64,
}

/// Per-cycle choice of the Random policy.
#[derive(Debug, Clone, Copy)]
struct RandomChoice {
    node: NodeIndex,
    pick: GpuPick,
}

impl SharePlugin {
    /// A plugin for `policy` with a target workload in the engine's model
    /// numbering (see [`Engine::model_index`]; prefer
    /// [`SharePlugin::with_named_target`]). Random derives its choices from
    /// `seed` and each pod's identity. FGD without a target is refused when
    /// the engine is built ([`EngineError::FgdWithoutTarget`]).
    pub fn new(policy: SharePolicy, target: Option<TargetWorkload>, seed: u64) -> Self {
        Self {
            policy,
            target: target.map_or(Target::None, Target::Resolved),
            cache: Mutex::new(FragCache::default()),
            seed,
        }
    }

    /// A plugin whose target workload names its device models; the engine
    /// resolves them when it is built (an unknown model is
    /// [`EngineError::UnknownModel`]).
    pub fn with_named_target(policy: SharePolicy, target: NamedTargetWorkload, seed: u64) -> Self {
        Self {
            target: Target::Named(target),
            ..Self::new(policy, None, seed)
        }
    }

    fn resolved(&self) -> Option<&TargetWorkload> {
        match &self.target {
            Target::Resolved(t) => Some(t),
            _ => None,
        }
    }

    /// Scores `nodes` with one [`Scorer`] holding the plugin's memo.
    fn score_many(
        &self,
        cache: &mut FragCache,
        ctx: &ScoreContext<'_>,
        nodes: &[NodeIndex],
        out: &mut Vec<NodeScore>,
    ) {
        let shape = ctx.shape;
        let target = self.resolved();
        let mut scorer = Scorer::new(self.policy, target);
        std::mem::swap(scorer.memo_mut(), &mut cache.memo);
        if target.is_some() && cache.node_frag.len() < ctx.nodes() {
            cache.node_frag.resize(ctx.nodes(), (u64::MAX, 0.0));
        }
        out.extend(nodes.iter().map(|&node| {
            let view = ctx.view(node);
            let frag = target.map(|_| {
                let i = node.get();
                let v = ctx.version(node);
                if cache.node_frag[i].0 != v {
                    let st = NodeGpuState {
                        cpu_free: view.cpu_free,
                        model: view.model,
                        gpus: view.gpus,
                    };
                    cache.node_frag[i] = (v, scorer.node_fragmentation(&st));
                }
                cache.node_frag[i].1
            });
            let e = scorer.evaluate(&view, &shape, frag);
            NodeScore {
                score: e.score.clamp(0, MAX_SCORE),
                key: e.key,
                devices: device_assignment(ctx.request, e.pick),
            }
        }));
        std::mem::swap(scorer.memo_mut(), &mut cache.memo);
    }
}

impl ScorePlugin for SharePlugin {
    fn name(&self) -> &str {
        self.policy.name()
    }

    fn bind(&mut self, models: &crate::framework::Models<'_>) -> Result<(), EngineError> {
        if let Target::Named(t) = &self.target {
            let resolved = t
                .resolve(|m| models.index(m))
                .map_err(|e| EngineError::UnknownModel {
                    plugin: self.policy.name().to_string(),
                    field: format!("target.classes[{}].models", e.class),
                    model: e.model,
                })?
                .map_err(EngineError::Target)?;
            self.target = Target::Resolved(resolved);
        }
        if self.policy.needs_target() && self.resolved().is_none() {
            return Err(EngineError::FgdWithoutTarget {
                plugin: self.policy.name().to_string(),
            });
        }
        Ok(())
    }

    fn pre_score(
        &self,
        ctx: &ScoreContext<'_>,
        cycle: &mut CycleState,
        feasible: &[NodeIndex],
    ) -> PreScoreStatus {
        if self.policy != SharePolicy::Random || feasible.is_empty() {
            return PreScoreStatus::Run;
        }
        let mut rng = pod_rng(self.seed, ctx.identity);
        let node = feasible[rng.below(feasible.len() as u64) as usize];
        let view = ctx.view(node);
        let pick = match ctx.shape.kind() {
            PodKind::Share { milli } => {
                random_gpu(view.gpus, milli, &mut rng).map_or(GpuPick::None, GpuPick::Share)
            }
            PodKind::Whole { count } => crate::share::lowest_free_gpus(view.gpus, count)
                .map_or(GpuPick::None, GpuPick::Whole),
            PodKind::CpuOnly => GpuPick::None,
        };
        cycle.write(RANDOM_KEY, RandomChoice { node, pick });
        PreScoreStatus::Run
    }

    fn score(&self, ctx: &ScoreContext<'_>, cycle: &CycleState, node: NodeIndex) -> NodeScore {
        if self.policy == SharePolicy::Random {
            return match cycle.read::<RandomChoice>(RANDOM_KEY) {
                Some(c) if c.node == node => NodeScore {
                    score: MAX_SCORE,
                    key: MAX_SCORE as f64,
                    devices: device_assignment(ctx.request, c.pick),
                },
                _ => NodeScore::plain(0),
            };
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(1);
        self.score_many(&mut cache, ctx, &[node], &mut out);
        out.pop().unwrap_or_else(|| NodeScore::plain(0))
    }

    fn score_all(
        &self,
        ctx: &ScoreContext<'_>,
        cycle: &CycleState,
        feasible: &[NodeIndex],
        out: &mut Vec<NodeScore>,
    ) {
        if self.policy == SharePolicy::Random {
            out.extend(feasible.iter().map(|&n| self.score(ctx, cycle, n)));
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        self.score_many(&mut cache, ctx, feasible, out);
    }

    fn normalize(&self, scores: &mut [NodeScore]) {
        if self.policy == SharePolicy::BestFit {
            min_max_normalize(scores);
        }
    }
}

const RANDOM_KEY: &str = "share.random";

/// The device assignment matching a GPU pick for this request's demand.
fn device_assignment(req: &PodRequest, pick: GpuPick) -> Option<DeviceAssignment> {
    match (&req.accelerator, pick) {
        (AcceleratorDemand::Fraction { .. }, GpuPick::Whole(mask)) => {
            // A 1000-milli fraction: one fully free device, shared mode.
            GpuPick::Whole(mask)
                .indices()
                .first()
                .map(|&i| DeviceAssignment::Shared {
                    device: DeviceIndex(i),
                })
        }
        (AcceleratorDemand::Fraction { .. }, GpuPick::Share(i)) => Some(DeviceAssignment::Shared {
            device: DeviceIndex(i),
        }),
        (AcceleratorDemand::Whole { .. }, GpuPick::Whole(_)) => Some(DeviceAssignment::Whole {
            devices: pick.indices().into_iter().map(DeviceIndex).collect(),
        }),
        _ => None,
    }
}

/// A kube-scheduler NodeResourcesFit strategy (or BalancedAllocation) as a
/// plugin, computed as upstream does:
///
/// - NodeResourcesFit counts cpu and memory as *non-zero* requests: the
///   node's pods' [`NonZeroRequest`]s plus the incoming pod's (100m / 200 MiB
///   per container whose request is unset, an explicit 0 stays 0; see
///   [`PodSpec::nonzero`]); other resources as requested.
/// - BalancedAllocation counts what the pods request, and is skipped at
///   PreScore when the pod requests none of its resources.
/// - A scalar (extended) resource the pod does not request is left out.
#[derive(Debug, Clone)]
pub struct KubePlugin {
    kind: KubeKind,
}

#[derive(Debug, Clone)]
enum KubeKind {
    Fit(FitScorer),
    Balanced(Vec<String>),
}

impl KubePlugin {
    /// NodeResourcesFit with a validated strategy and resources.
    pub fn fit(
        strategy: Strategy,
        resources: Vec<crate::kube::ResourceWeight>,
    ) -> Result<Self, KubeScoreError> {
        Ok(Self {
            kind: KubeKind::Fit(FitScorer::new(strategy, resources)?),
        })
    }

    /// NodeResourcesBalancedAllocation over `resources` (empty: cpu, memory).
    pub fn balanced(resources: Vec<String>) -> Self {
        let resources = if resources.is_empty() {
            vec!["cpu".to_string(), "memory".to_string()]
        } else {
            resources
        };
        Self {
            kind: KubeKind::Balanced(resources),
        }
    }

    /// The resource uses of `names` on node `node`, into `out` (cleared).
    fn uses_into<'n>(
        names: impl Iterator<Item = &'n str>,
        ctx: &ScoreContext<'_>,
        node: NodeIndex,
        nonzero: bool,
        out: &mut Vec<ResourceUse>,
    ) {
        out.clear();
        let row = &ctx.rows[node.get()];
        let req = &ctx.request.resources;
        let held = row.nonzero;
        let used = |a: u64, f: u64| a.saturating_sub(f);
        out.extend(names.map(|name| {
            let (a, requested) = match name {
                "cpu" if nonzero => (row.alloc_cpu, held.cpu.saturating_add(ctx.nonzero.cpu)),
                "memory" if nonzero => (
                    row.alloc_mem,
                    held.memory.saturating_add(ctx.nonzero.memory),
                ),
                "cpu" => (
                    row.alloc_cpu,
                    used(row.alloc_cpu, row.cpu.get()).saturating_add(req.cpu.get()),
                ),
                "memory" => (
                    row.alloc_mem,
                    used(row.alloc_mem, row.mem.get()).saturating_add(req.memory.get()),
                ),
                "ephemeral-storage" => {
                    let a = ctx.state.node(node).allocatable.ephemeral_storage.get();
                    (
                        a,
                        used(a, row.storage).saturating_add(req.ephemeral_storage.get()),
                    )
                }
                other => {
                    let q = req.extended.get(other).copied().unwrap_or(0);
                    if q == 0 {
                        (0, 0)
                    } else {
                        let alloc = &ctx.state.node(node).allocatable;
                        let free = &ctx.state.node_free(node).resources;
                        let a = alloc.extended.get(other).copied().unwrap_or(0);
                        let f = free.extended.get(other).copied().unwrap_or(0);
                        (a, used(a, f).saturating_add(q))
                    }
                }
            };
            ResourceUse::new(
                i64::try_from(a).unwrap_or(i64::MAX),
                i64::try_from(requested).unwrap_or(i64::MAX),
            )
        }));
    }

    fn score_with(
        &self,
        ctx: &ScoreContext<'_>,
        node: NodeIndex,
        buf: &mut Vec<ResourceUse>,
    ) -> NodeScore {
        match &self.kind {
            KubeKind::Fit(f) => {
                let names = f.resources().iter().map(|r| r.name.as_str());
                Self::uses_into(names, ctx, node, true, buf);
                NodeScore::plain(f.score(buf).unwrap_or(0))
            }
            KubeKind::Balanced(names) => {
                Self::uses_into(names.iter().map(String::as_str), ctx, node, false, buf);
                NodeScore::plain(balanced_allocation(buf))
            }
        }
    }
}

impl ScorePlugin for KubePlugin {
    fn name(&self) -> &str {
        match &self.kind {
            KubeKind::Fit(_) => "NodeResourcesFit",
            KubeKind::Balanced(_) => "NodeResourcesBalancedAllocation",
        }
    }

    fn pre_score(
        &self,
        ctx: &ScoreContext<'_>,
        _: &mut CycleState,
        _: &[NodeIndex],
    ) -> PreScoreStatus {
        match &self.kind {
            KubeKind::Balanced(names) => {
                let r = &ctx.request.resources;
                let requests_any = names.iter().any(|n| named(r, n) > 0);
                if requests_any {
                    PreScoreStatus::Run
                } else {
                    PreScoreStatus::Skip
                }
            }
            KubeKind::Fit(_) => PreScoreStatus::Run,
        }
    }

    fn score(&self, ctx: &ScoreContext<'_>, _: &CycleState, node: NodeIndex) -> NodeScore {
        self.score_with(ctx, node, &mut Vec::new())
    }

    fn score_all(
        &self,
        ctx: &ScoreContext<'_>,
        _: &CycleState,
        feasible: &[NodeIndex],
        out: &mut Vec<NodeScore>,
    ) {
        // One buffer for the whole cycle: no allocation per node.
        let mut buf = Vec::new();
        out.extend(feasible.iter().map(|&n| self.score_with(ctx, n, &mut buf)));
    }
}

/// A resource amount by its Kubernetes name.
fn named(r: &Resources, name: &str) -> u64 {
    match name {
        "cpu" => r.cpu.get(),
        "memory" => r.memory.get(),
        "ephemeral-storage" => r.ephemeral_storage.get(),
        "pods" => u64::from(r.pods),
        other => r.extended.get(other).copied().unwrap_or(0),
    }
}

/// A plugin with its weight.
#[derive(Debug)]
pub struct Weighted {
    /// The plugin.
    pub plugin: Box<dyn ScorePlugin>,
    /// Its weight (≥ 1).
    pub weight: i64,
}

/// Engine configuration.
#[derive(Debug)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Score plugins and weights.
    pub plugins: Vec<Weighted>,
    /// PreFilter plugins.
    pub pre_filters: Vec<Box<dyn PreFilterPlugin>>,
    /// User Filter plugins, run after the built-in ones ([`crate::filters`]).
    pub filters: Vec<Box<dyn FilterPlugin>>,
    /// PostFilter plugins (asked in order; the first proposal is reported).
    pub post_filters: Vec<Box<dyn PostFilterPlugin>>,
    /// Reserve plugins.
    pub reserve: Vec<Box<dyn ReservePlugin>>,
    /// Permit plugins (used by [`Engine::schedule`]).
    pub permit: Vec<Box<dyn PermitPlugin>>,
    /// Tie-break rank per initial node (lower wins); `None`: the node index.
    /// Nodes added later rank after every earlier node.
    pub priority: Option<Vec<u32>>,
    /// Candidates listed in an explanation.
    pub explain_top: usize,
}

impl EngineConfig {
    /// One GPU-sharing policy with no target workload and seed 0 (FGD needs
    /// a target: use [`EngineConfig::fgd`]).
    pub fn share(policy: SharePolicy) -> Self {
        Self::default().with_plugin(Box::new(SharePlugin::new(policy, None, 0)), 1)
    }

    /// The FGD policy against a target workload naming its models.
    pub fn fgd(target: NamedTargetWorkload) -> Self {
        Self::default().with_plugin(
            Box::new(SharePlugin::with_named_target(SharePolicy::Fgd, target, 0)),
            1,
        )
    }

    /// Adds a score plugin with a weight (builder style).
    pub fn with_plugin(mut self, plugin: Box<dyn ScorePlugin>, weight: i64) -> Self {
        self.plugins.push(Weighted { plugin, weight });
        self
    }

    /// Adds a Filter plugin (builder style).
    pub fn with_filter(mut self, plugin: Box<dyn FilterPlugin>) -> Self {
        self.filters.push(plugin);
        self
    }

    /// Adds a PreFilter plugin (builder style).
    pub fn with_pre_filter(mut self, plugin: Box<dyn PreFilterPlugin>) -> Self {
        self.pre_filters.push(plugin);
        self
    }

    /// Adds a PostFilter plugin (builder style).
    pub fn with_post_filter(mut self, plugin: Box<dyn PostFilterPlugin>) -> Self {
        self.post_filters.push(plugin);
        self
    }

    /// Adds a Reserve plugin (builder style).
    pub fn with_reserve(mut self, plugin: Box<dyn ReservePlugin>) -> Self {
        self.reserve.push(plugin);
        self
    }

    /// Adds a Permit plugin (builder style).
    pub fn with_permit(mut self, plugin: Box<dyn PermitPlugin>) -> Self {
        self.permit.push(plugin);
        self
    }

    /// Sets the tie-break ranks of the initial nodes (builder style).
    pub fn with_priority(mut self, priority: Vec<u32>) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Sets how many candidates an explanation lists (builder style).
    pub fn with_explain_top(mut self, n: usize) -> Self {
        self.explain_top = n;
        self
    }
}

impl Default for EngineConfig {
    /// No plugins (every feasible node scores 0: the lowest priority wins),
    /// index priority, 5 candidates explained.
    fn default() -> Self {
        Self {
            plugins: Vec::new(),
            pre_filters: Vec::new(),
            filters: Vec::new(),
            post_filters: Vec::new(),
            reserve: Vec::new(),
            permit: Vec::new(),
            priority: None,
            explain_top: 5,
        }
    }
}

/// Why the engine cannot be built or an operation failed. Whenever an
/// operation returns this, the engine is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The priority list does not have one entry per node.
    #[error("priority has {got} entries for {nodes} nodes")]
    PriorityLength {
        /// Entries given.
        got: usize,
        /// Nodes.
        nodes: usize,
    },
    /// A plugin weight is below 1.
    #[error("plugin {plugin} has weight {weight}; weights must be at least 1")]
    BadWeight {
        /// The plugin.
        plugin: String,
        /// The weight.
        weight: i64,
    },
    /// More than 64 accelerator models.
    #[error("{count} accelerator models; the GPU-sharing policies support at most 64")]
    TooManyModels {
        /// How many.
        count: usize,
    },
    /// An FGD plugin has no target workload.
    #[error("plugin {plugin}: FGD needs a target workload (SharePlugin::with_named_target)")]
    FgdWithoutTarget {
        /// The plugin.
        plugin: String,
    },
    /// A plugin's configuration names an accelerator model the cluster does not know.
    #[error("plugin {plugin}: {field} names unknown accelerator model {model}")]
    UnknownModel {
        /// The plugin.
        plugin: String,
        /// The configuration field.
        field: String,
        /// The model.
        model: AcceleratorModelId,
    },
    /// A target workload is invalid.
    #[error(transparent)]
    Target(#[from] crate::frag::FragError),
    /// No node with this name.
    #[error("no node named {0}")]
    UnknownNode(NodeId),
    /// The pod is already assumed (Reserve called twice).
    #[error("pod {0} is already assumed")]
    AlreadyAssumed(PodId),
    /// The pod is not assumed (forget or confirm of a pod not in flight).
    #[error("pod {0} is not assumed")]
    NotAssumed(PodId),
    /// A pod request is invalid.
    #[error("invalid pod request: {field}: {reason}")]
    InvalidRequest {
        /// The offending field, e.g. `accelerator.profile`.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A Reserve plugin refused the pod.
    #[error("reserve refused: {0}")]
    Reserve(Rejection),
    /// The cluster state refused an operation.
    #[error(transparent)]
    Alloc(#[from] AllocError),
}

/// One plugin's contribution to a candidate's total.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PluginScore {
    /// Plugin name.
    pub plugin: String,
    /// Score after normalisation (`0..=100`).
    pub score: i64,
    /// Weight.
    pub weight: i64,
}

/// A scored candidate node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Candidate {
    /// Node index.
    pub node: NodeIndex,
    /// Node name.
    pub node_id: NodeId,
    /// Weighted total (the selection key).
    pub total: f64,
    /// Per-plugin scores.
    pub scores: Vec<PluginScore>,
}

/// Why the chosen node won.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Explanation {
    /// Feasible nodes.
    pub feasible: usize,
    /// Nodes filtered out, by reason kind.
    pub filtered: BTreeMap<String, usize>,
    /// The best candidates, best first (the winner is the first).
    pub top: Vec<Candidate>,
}

/// What [`Engine::score_nodes`] found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NodeScores {
    /// One candidate per node asked about, in the order asked.
    pub nodes: Vec<Candidate>,
    /// Plugins whose PreScore skipped this pod.
    pub skipped: Vec<String>,
}

/// A successful placement decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Placed {
    /// The node.
    pub node: NodeIndex,
    /// Its name.
    pub node_id: NodeId,
    /// The devices the pod gets.
    pub devices: DeviceAssignment,
    /// The engine generation the decision was made on.
    pub generation: u64,
    /// Why.
    pub explanation: Explanation,
}

/// No node can take the pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Unschedulable {
    /// The rejection of every node (empty when a PreFilter refused the pod).
    pub reasons: BTreeMap<NodeId, Rejection>,
    /// Nodes per reason kind.
    pub summary: BTreeMap<String, usize>,
    /// A PreFilter's refusal of the pod, if that is why.
    pub pre_filter: Option<Rejection>,
    /// What a PostFilter proposes would have to move.
    pub nomination: Option<Nomination>,
    /// The engine generation the decision was made on.
    pub generation: u64,
}

impl Unschedulable {
    /// `true` when some node may fit once its pods change (at least one
    /// rejection is [`RejectionKind::Unschedulable`]).
    pub fn resolvable(&self) -> bool {
        self.reasons
            .values()
            .any(|r| r.kind == RejectionKind::Unschedulable)
    }
}

/// The outcome of placing one pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
#[non_exhaustive]
pub enum Decision {
    /// The pod goes here.
    Placed(Placed),
    /// It fits nowhere.
    Unschedulable(Unschedulable),
}

impl Decision {
    /// The placement, if the pod fits.
    pub fn placed(&self) -> Option<&Placed> {
        match self {
            Decision::Placed(p) => Some(p),
            Decision::Unschedulable(_) => None,
        }
    }

    /// Why it fits nowhere, if it does not.
    pub fn unschedulable(&self) -> Option<&Unschedulable> {
        match self {
            Decision::Placed(_) => None,
            Decision::Unschedulable(u) => Some(u),
        }
    }
}

/// The engine's derived per-node data: the GPU-sharing view, GPU tag
/// counts, a version for caches, the tie-break rank, and what the built-in
/// filters' fast path ([`crate::filters`]) and the resource scores read, so
/// a decision touches one compact record per node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeRow {
    pub(crate) cpu: MilliCpu,
    pub(crate) mem: Bytes,
    /// Free ephemeral storage.
    pub(crate) storage: u64,
    /// Free pod slots.
    pub(crate) pods: u32,
    /// Allocatable cpu and memory (for the resource scores).
    pub(crate) alloc_cpu: u64,
    pub(crate) alloc_mem: u64,
    /// The node has a `NoSchedule` / `NoExecute` taint.
    pub(crate) hard_taints: bool,
    /// Number of devices.
    pub(crate) devices: u16,
    /// The models of its devices as bits of the engine's model numbering.
    pub(crate) device_models: u64,
    /// Every device is of one model.
    pub(crate) single_model: bool,
    /// Idle devices.
    pub(crate) idle: u16,
    /// The most free milli on a device that can take one more fractional
    /// pod (idle or shared, a fractional model, below its share limit).
    pub(crate) fraction_room: Option<u32>,
    model: Option<u8>,
    gpus: Vec<u32>,
    tags: u32,
    tag_counts: Box<[u32; 32]>,
    pub(crate) version: u64,
    priority: u32,
    /// Sum of the non-zero scoring requests of the node's pods.
    pub(crate) nonzero: NonZeroRequest,
}

impl NodeRow {
    fn empty(priority: u32) -> Self {
        Self {
            cpu: MilliCpu::ZERO,
            mem: Bytes::ZERO,
            storage: 0,
            pods: 0,
            alloc_cpu: 0,
            alloc_mem: 0,
            hard_taints: false,
            devices: 0,
            device_models: 0,
            single_model: true,
            idle: 0,
            fraction_room: None,
            model: None,
            gpus: Vec::new(),
            tags: 0,
            tag_counts: Box::new([0; 32]),
            version: 0,
            priority,
            nonzero: NonZeroRequest::default(),
        }
    }
}

impl NodeRow {
    pub(crate) fn view(&self) -> NodeView<'_> {
        NodeView {
            cpu_free: self.cpu,
            memory_free: self.mem,
            model: self.model,
            gpus: &self.gpus,
            tags: self.tags,
        }
    }
}

/// What [`Engine::remove_node`] took out.
pub use rightsizer_model::cluster::RemovedNode;
/// What [`Engine::update_node`] changed.
pub use rightsizer_model::cluster::UpdatedNode;

/// The placement engine: a long-lived cluster snapshot plus the plugins.
#[derive(Debug)]
pub struct Engine {
    state: ClusterState,
    pre_filters: Vec<Box<dyn PreFilterPlugin>>,
    filters: Vec<Box<dyn FilterPlugin>>,
    post_filters: Vec<Box<dyn PostFilterPlugin>>,
    plugins: Vec<Weighted>,
    reserve: Vec<Box<dyn ReservePlugin>>,
    permit: Vec<Box<dyn PermitPlugin>>,
    explain_top: usize,
    models: BTreeMap<AcceleratorModelId, u8>,
    rows: Vec<NodeRow>,
    next_version: u64,
    next_priority: u32,
    generation: u64,
    assumed: BTreeSet<PodId>,
    /// Non-zero scoring requests given for placed pods (others use their totals).
    nonzero: BTreeMap<PodId, NonZeroRequest>,
}

impl Engine {
    /// An engine over `state` with `config`. Plugins are bound to the
    /// state's models here (an FGD plugin without a target, or one naming an
    /// unknown model, is an error).
    pub fn new(state: ClusterState, config: EngineConfig) -> Result<Self, EngineError> {
        let n = state.len();
        let priority = match config.priority {
            Some(p) if p.len() != n => {
                return Err(EngineError::PriorityLength {
                    got: p.len(),
                    nodes: n,
                });
            }
            Some(p) => p,
            None => (0..n as u32).collect(),
        };
        let mut plugins = config.plugins;
        for w in &plugins {
            if w.weight < 1 {
                return Err(EngineError::BadWeight {
                    plugin: w.plugin.name().to_string(),
                    weight: w.weight,
                });
            }
        }
        if state.models().len() > 64 {
            return Err(EngineError::TooManyModels {
                count: state.models().len(),
            });
        }
        let models: BTreeMap<AcceleratorModelId, u8> = state
            .models()
            .keys()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u8))
            .collect();
        for w in &mut plugins {
            w.plugin
                .bind(&crate::framework::Models { index: &models })?;
        }
        let mut filters = crate::filters::builtin();
        filters.extend(config.filters);
        let next_priority = priority.iter().max().map_or(0, |m| m.saturating_add(1));
        let mut e = Self {
            state,
            pre_filters: config.pre_filters,
            filters,
            post_filters: config.post_filters,
            plugins,
            reserve: config.reserve,
            permit: config.permit,
            explain_top: config.explain_top,
            models,
            rows: Vec::with_capacity(n),
            next_version: 0,
            next_priority,
            generation: 0,
            assumed: BTreeSet::new(),
            nonzero: BTreeMap::new(),
        };
        for (i, p) in priority.into_iter().enumerate() {
            let row = e.fresh_row(NodeIndex(i as u32), p);
            e.rows.push(row);
        }
        Ok(e)
    }

    /// The cluster state.
    pub fn state(&self) -> &ClusterState {
        &self.state
    }

    /// Consumes the engine, returning the state.
    pub fn into_state(self) -> ClusterState {
        self.state
    }

    /// A counter that grows by one with every successful event (node added,
    /// updated or removed, pod observed, assumed, confirmed, forgotten or
    /// released). Decisions report the generation they were made on.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The tie-break rank of every node, in index order (lower wins).
    pub fn priorities(&self) -> Vec<u32> {
        self.rows.iter().map(|r| r.priority).collect()
    }

    /// `true` when `pod` is assumed (reserved, binding in flight).
    pub fn is_assumed(&self, pod: &PodId) -> bool {
        self.assumed.contains(pod)
    }

    /// The interned index of an accelerator model (models in name order),
    /// used by [`crate::frag::TaskClass`] masks.
    pub fn model_index(&self, model: &AcceleratorModelId) -> Option<u8> {
        self.models.get(model).copied()
    }

    fn fresh_row(&mut self, n: NodeIndex, priority: u32) -> NodeRow {
        let mut row = NodeRow::empty(priority);
        for (id, p) in self.state.pods_on(n) {
            add_tag(
                &mut row.tag_counts,
                shape_of(&p.request, &self.models).tag(),
                true,
            );
            row.nonzero = add_nonzero(row.nonzero, self.pod_nonzero(id, &p.request), true);
        }
        let v = self.bump_version();
        Self::fill_row(&self.state, &self.models, &mut row, n, v);
        row
    }

    fn bump_version(&mut self) -> u64 {
        self.next_version += 1;
        self.next_version - 1
    }

    fn fill_row(
        state: &ClusterState,
        models: &BTreeMap<AcceleratorModelId, u8>,
        row: &mut NodeRow,
        n: NodeIndex,
        version: u64,
    ) {
        let free = state.node_free(n);
        let node = state.node(n);
        row.cpu = free.resources.cpu;
        row.mem = free.resources.memory;
        row.storage = free.resources.ephemeral_storage.get();
        row.pods = free.resources.pods;
        row.alloc_cpu = node.allocatable.cpu.get();
        row.alloc_mem = node.allocatable.memory.get();
        row.hard_taints = node
            .taints
            .iter()
            .any(|t| t.effect != TaintEffect::PreferNoSchedule);
        row.model = free
            .devices
            .first()
            .and_then(|d| models.get(&d.model).copied());
        row.devices = u16::try_from(free.devices.len()).unwrap_or(u16::MAX);
        row.device_models = 0;
        row.idle = 0;
        row.fraction_room = None;
        for d in &free.devices {
            let model = state.model(&d.model);
            if let Some(&i) = models.get(&d.model) {
                row.device_models |= 1u64 << i;
            }
            if d.mode == DeviceMode::Idle {
                row.idle += 1;
            }
            let takes_share = matches!(d.mode, DeviceMode::Idle | DeviceMode::Shared)
                && model
                    .and_then(|m| m.sharing.fractional)
                    .is_some_and(|f| d.shares < f.max_shares);
            if takes_share {
                let m = d.milli.get();
                row.fraction_room = Some(row.fraction_room.map_or(m, |r| r.max(m)));
            }
        }
        row.single_model = row.device_models.count_ones() <= 1;
        row.gpus.clear();
        row.gpus.extend(free.devices.iter().map(|d| match d.mode {
            DeviceMode::Mig | DeviceMode::Whole => 0,
            _ => d.milli.get().min(MILLI),
        }));
        row.tags = tag_bits(&row.tag_counts);
        row.version = version;
    }

    fn refresh(&mut self, n: NodeIndex) {
        let v = self.bump_version();
        Self::fill_row(&self.state, &self.models, &mut self.rows[n.get()], n, v);
    }

    fn pod_nonzero(&self, pod: &PodId, req: &PodRequest) -> NonZeroRequest {
        self.nonzero.get(pod).copied().unwrap_or_else(|| {
            NonZeroRequest::of_totals(req.resources.cpu.get(), req.resources.memory.get())
        })
    }

    fn index_of(&self, id: &NodeId) -> Result<NodeIndex, EngineError> {
        self.state
            .node_index(id)
            .ok_or_else(|| EngineError::UnknownNode(id.clone()))
    }

    // ----- events -------------------------------------------------------

    /// Adds a node (ranked after every existing node for tie-breaks).
    /// O(log n).
    pub fn add_node(&mut self, node: Node) -> Result<NodeIndex, EngineError> {
        let i = self.state.add_node(node)?;
        let p = self.next_priority;
        self.next_priority = self.next_priority.saturating_add(1);
        let row = self.fresh_row(i, p);
        self.rows.push(row);
        self.generation += 1;
        Ok(i)
    }

    /// Replaces a node's description (allocatable, labels, taints, devices).
    /// Pods that no longer fit are returned in [`UpdatedNode::displaced`],
    /// no longer placed (nor assumed). O(log n + pods on the node).
    pub fn update_node(&mut self, node: Node) -> Result<UpdatedNode, EngineError> {
        let u = self.state.update_node(node)?;
        for (p, _) in &u.displaced {
            self.assumed.remove(p);
            self.nonzero.remove(p);
        }
        let prio = self.rows[u.index.get()].priority;
        self.rows[u.index.get()] = self.fresh_row(u.index, prio);
        self.generation += 1;
        Ok(u)
    }

    /// Removes a node; its pods are returned, no longer placed (nor
    /// assumed). The last node takes its index ([`RemovedNode::moved`]).
    /// O(log n + pods on the node).
    pub fn remove_node(&mut self, id: &NodeId) -> Result<RemovedNode, EngineError> {
        let r = self.state.remove_node(id).map_err(|e| match e {
            AllocError::NoSuchNode(n) => EngineError::UnknownNode(n),
            e => e.into(),
        })?;
        for (p, _) in &r.pods {
            self.assumed.remove(p);
            self.nonzero.remove(p);
        }
        let i = self.rows.len() - 1;
        match r.moved {
            Some((_, to)) => {
                self.rows.swap_remove(to.get());
                // The moved row's version must change: caches keyed by index.
                self.refresh(to);
            }
            None => {
                self.rows.truncate(i);
            }
        }
        self.generation += 1;
        Ok(r)
    }

    fn allocate(
        &mut self,
        pod: PodId,
        spec: &PodSpec<'_>,
        node: &NodeId,
        devices: &DeviceAssignment,
    ) -> Result<NodeIndex, EngineError> {
        let request = spec.request;
        let n = self.index_of(node)?;
        self.validate(request)?;
        self.state.allocate(pod.clone(), request, n, devices)?;
        let tag = shape_of(request, &self.models).tag();
        let row = &mut self.rows[n.get()];
        add_tag(&mut row.tag_counts, tag, true);
        row.nonzero = add_nonzero(row.nonzero, spec.nonzero_request(), true);
        if let Some(nz) = spec.nonzero {
            self.nonzero.insert(pod, nz);
        }
        self.refresh(n);
        self.generation += 1;
        Ok(n)
    }

    /// Records a pod bound by someone else (another scheduler, a restart).
    /// It must fit: a pod that would overcommit the node is refused with
    /// nothing changed.
    pub fn observe_bound(
        &mut self,
        pod: PodId,
        spec: &PodSpec<'_>,
        node: &NodeId,
        devices: &DeviceAssignment,
    ) -> Result<(), EngineError> {
        if self.assumed.contains(&pod) {
            return Err(EngineError::AlreadyAssumed(pod));
        }
        self.allocate(pod, spec, node, devices).map(|_| ())
    }

    /// Reserves a pod on a node while its binding is in flight (upstream's
    /// Reserve/assume). [`Engine::confirm`] when the binding succeeds,
    /// [`Engine::forget`] when it fails.
    pub fn assume(
        &mut self,
        pod: PodId,
        spec: &PodSpec<'_>,
        node: &NodeId,
        devices: &DeviceAssignment,
    ) -> Result<(), EngineError> {
        if self.assumed.contains(&pod) {
            return Err(EngineError::AlreadyAssumed(pod));
        }
        self.allocate(pod.clone(), spec, node, devices)?;
        self.assumed.insert(pod);
        Ok(())
    }

    /// Marks an assumed pod as bound.
    pub fn confirm(&mut self, pod: &PodId) -> Result<(), EngineError> {
        if !self.assumed.remove(pod) {
            return Err(EngineError::NotAssumed(pod.clone()));
        }
        self.generation += 1;
        Ok(())
    }

    /// Drops an assumed pod (its binding failed; Unreserve): the state is
    /// exactly as before [`Engine::assume`], apart from the generation.
    pub fn forget(&mut self, pod: &PodId) -> Result<Placement, EngineError> {
        if !self.assumed.contains(pod) {
            return Err(EngineError::NotAssumed(pod.clone()));
        }
        let p = self.release(pod)?;
        for r in &self.reserve {
            r.unreserve(pod);
        }
        Ok(p)
    }

    /// Removes a placed pod (bound or assumed), restoring its capacity.
    pub fn release(&mut self, pod: &PodId) -> Result<Placement, EngineError> {
        let p = self.state.release(pod)?;
        self.assumed.remove(pod);
        let nz = self.pod_nonzero(pod, &p.request);
        self.nonzero.remove(pod);
        let tag = shape_of(&p.request, &self.models).tag();
        let row = &mut self.rows[p.node.get()];
        add_tag(&mut row.tag_counts, tag, false);
        row.nonzero = add_nonzero(row.nonzero, nz, false);
        self.refresh(p.node);
        self.generation += 1;
        Ok(p)
    }

    // ----- decisions ----------------------------------------------------

    /// Checks a request at the door: one pod slot, a valid fraction or
    /// device count, a MIG profile some known model has.
    pub fn validate(&self, req: &PodRequest) -> Result<(), EngineError> {
        rightsizer_model::cluster::validate_request(req).map_err(|e| match e {
            AllocError::InvalidRequest { field, reason } => {
                EngineError::InvalidRequest { field, reason }
            }
            e => e.into(),
        })?;
        let bad = |field, reason: String| Err(EngineError::InvalidRequest { field, reason });
        match &req.accelerator {
            AcceleratorDemand::Whole { count: 0 } => bad(
                "accelerator.count",
                "a whole-device demand needs at least 1 device".into(),
            ),
            AcceleratorDemand::Fraction { milli, memory } => {
                if *milli > GpuMilli::ONE {
                    bad("accelerator.milli", format!("{milli} is above one device"))
                } else if milli.is_zero() && memory.is_none_or(|m| m.is_zero()) {
                    bad(
                        "accelerator.milli",
                        "a fraction of 0 with no memory asks for nothing".into(),
                    )
                } else {
                    Ok(())
                }
            }
            AcceleratorDemand::Mig { profile } => {
                let known = self.state.models().values().any(|m| {
                    req.accepts_model(&m.id)
                        && m.sharing
                            .mig
                            .as_ref()
                            .is_some_and(|g| g.profile(profile).is_some())
                });
                if known {
                    Ok(())
                } else {
                    bad(
                        "accelerator.profile",
                        format!(
                            "no accepted accelerator model has a MIG profile named {profile:?}"
                        ),
                    )
                }
            }
            _ => Ok(()),
        }
    }

    /// Runs node `n` through every Filter (built-in first).
    pub fn filter(&self, pod: &PodSpec<'_>, n: NodeIndex) -> Result<(), Rejection> {
        let cycle = CycleState::default();
        self.filter_in(pod, &cycle, n)
    }

    fn filter_in(
        &self,
        pod: &PodSpec<'_>,
        cycle: &CycleState,
        n: NodeIndex,
    ) -> Result<(), Rejection> {
        let ctx = FilterContext {
            state: &self.state,
            pod,
        };
        for f in &self.filters {
            f.filter(&ctx, cycle, n)?;
        }
        Ok(())
    }

    /// Decides where the pod would go on the current snapshot, changing
    /// nothing: the same pod (and identity key) on the same snapshot gets
    /// the same decision, for every policy. An invalid request is an error.
    pub fn decide(&self, pod: &PodSpec<'_>) -> Result<Decision, EngineError> {
        self.validate(pod.request)?;
        let mut cycle = CycleState::default();
        let fctx = FilterContext {
            state: &self.state,
            pod,
        };
        for p in &self.pre_filters {
            if let Err(r) = p.pre_filter(&fctx, &mut cycle) {
                return Ok(Decision::Unschedulable(Unschedulable {
                    reasons: BTreeMap::new(),
                    summary: BTreeMap::new(),
                    pre_filter: Some(r),
                    nomination: None,
                    generation: self.generation,
                }));
            }
        }
        let shape = shape_of(pod.request, &self.models);
        let probe = Probe::new(pod, shape.models.0);
        let user_filters = &self.filters[crate::filters::BUILTIN..];
        let mut feasible = Vec::with_capacity(self.state.len());
        let mut rejected: Vec<NodeIndex> = Vec::new();
        let mut counts = [0usize; FailKind::COUNT];
        for (i, row) in self.rows.iter().enumerate() {
            let ni = NodeIndex(i as u32);
            let verdict =
                crate::filters::builtin_fast(&fctx, &cycle, &probe, row, ni).and_then(|()| {
                    user_filters
                        .iter()
                        .try_for_each(|f| f.filter(&fctx, &cycle, ni))
                        .map_err(|r| FailKind::of(&r.reason))
                });
            #[cfg(debug_assertions)]
            {
                let full = self.filter_in(pod, &cycle, ni);
                debug_assert_eq!(
                    verdict,
                    full.as_ref()
                        .map(|_| ())
                        .map_err(|r| FailKind::of(&r.reason)),
                    "fast filter path disagrees with the plugins on node {i}"
                );
            }
            match verdict {
                Ok(()) => feasible.push(ni),
                Err(k) => {
                    counts[k as usize] += 1;
                    rejected.push(ni);
                }
            }
        }
        let summary: BTreeMap<String, usize> = FailKind::ALL
            .iter()
            .zip(counts)
            .filter(|(_, c)| *c > 0)
            .map(|(k, c)| (k.as_str().to_string(), c))
            .collect();
        if feasible.is_empty() {
            // Explain: the full rejection of every node (the plugins again).
            let reasons: BTreeMap<NodeId, Rejection> = rejected
                .into_iter()
                .filter_map(|ni| {
                    let r = self.filter_in(pod, &cycle, ni).err()?;
                    Some((self.state.node(ni).id.clone(), r))
                })
                .collect();
            let nomination = self
                .post_filters
                .iter()
                .find_map(|p| p.post_filter(&fctx, &cycle, &reasons));
            return Ok(Decision::Unschedulable(Unschedulable {
                reasons,
                summary,
                pre_filter: None,
                nomination,
                generation: self.generation,
            }));
        }
        let ctx = ScoreContext {
            state: &self.state,
            request: pod.request,
            shape,
            identity: pod.identity.unwrap_or(0),
            nonzero: pod.nonzero_request(),
            rows: &self.rows,
        };
        // scores[plugin][k] for feasible[k]
        let mut all: Vec<Vec<NodeScore>> = Vec::with_capacity(self.plugins.len());
        for w in &self.plugins {
            all.push(Self::run_score(&ctx, &mut cycle, w, &feasible));
        }
        let totals: Vec<f64> = (0..feasible.len())
            .map(|k| {
                all.iter()
                    .zip(&self.plugins)
                    .map(|(s, w)| s[k].key * w.weight as f64)
                    .sum()
            })
            .collect();
        let better = |a: usize, b: usize| {
            totals[b]
                .total_cmp(&totals[a])
                .then_with(|| {
                    self.rows[feasible[a].get()]
                        .priority
                        .cmp(&self.rows[feasible[b].get()].priority)
                })
                .then_with(|| feasible[a].cmp(&feasible[b]))
        };
        // Only the explained prefix needs sorting.
        let top_n = self.explain_top.max(1).min(feasible.len());
        let mut order: Vec<usize> = (0..feasible.len()).collect();
        if top_n < order.len() {
            order.select_nth_unstable_by(top_n - 1, |&a, &b| better(a, b));
            order.truncate(top_n);
        }
        order.sort_by(|&a, &b| better(a, b));
        let best = order[0];
        let node = feasible[best];
        let devices = all
            .iter()
            .find_map(|s| s[best].devices.clone())
            .filter(|d| self.state.check(pod.request, node, d).is_ok())
            .or_else(|| self.state.first_fit_devices(pod.request, node))
            .unwrap_or_default();
        let top = order
            .iter()
            .map(|&k| self.candidate(&all, k, feasible[k]))
            .collect();
        Ok(Decision::Placed(Placed {
            node,
            node_id: self.state.node(node).id.clone(),
            devices,
            generation: self.generation,
            explanation: Explanation {
                feasible: feasible.len(),
                filtered: summary,
                top,
            },
        }))
    }

    fn run_score(
        ctx: &ScoreContext<'_>,
        cycle: &mut CycleState,
        w: &Weighted,
        nodes: &[NodeIndex],
    ) -> Vec<NodeScore> {
        let skip = w.plugin.pre_score(ctx, cycle, nodes) == PreScoreStatus::Skip;
        Self::scores_after_pre_score(ctx, cycle, w, nodes, skip)
    }

    /// Score and NormalizeScore of one plugin once its PreScore has run
    /// (`skip`: it said Skip, so every node scores 0).
    fn scores_after_pre_score(
        ctx: &ScoreContext<'_>,
        cycle: &CycleState,
        w: &Weighted,
        nodes: &[NodeIndex],
        skip: bool,
    ) -> Vec<NodeScore> {
        if skip {
            return vec![NodeScore::plain(0); nodes.len()];
        }
        let mut s = Vec::with_capacity(nodes.len());
        w.plugin.score_all(ctx, cycle, nodes, &mut s);
        w.plugin.normalize(&mut s);
        s
    }

    /// Every score plugin's score for the pod on each of `nodes`, without
    /// filtering (what upstream's plugin tests call directly): to explain
    /// why a node lost, or score a node the filters reject. Skipped
    /// plugins (PreScore `Skip`) are listed in
    /// [`NodeScores::skipped`] and score 0.
    pub fn score_nodes(
        &self,
        pod: &PodSpec<'_>,
        nodes: &[NodeIndex],
    ) -> Result<NodeScores, EngineError> {
        self.validate(pod.request)?;
        if let Some(&bad) = nodes.iter().find(|n| n.get() >= self.state.len()) {
            return Err(AllocError::UnknownNode(bad).into());
        }
        let ctx = ScoreContext {
            state: &self.state,
            request: pod.request,
            shape: shape_of(pod.request, &self.models),
            identity: pod.identity.unwrap_or(0),
            nonzero: pod.nonzero_request(),
            rows: &self.rows,
        };
        let mut skipped = Vec::new();
        let mut all = Vec::with_capacity(self.plugins.len());
        for w in &self.plugins {
            // One PreScore per plugin: its status is both reported and obeyed.
            let mut cycle = CycleState::default();
            let skip = w.plugin.pre_score(&ctx, &mut cycle, nodes) == PreScoreStatus::Skip;
            if skip {
                skipped.push(w.plugin.name().to_string());
            }
            all.push(Self::scores_after_pre_score(&ctx, &cycle, w, nodes, skip));
        }
        let nodes = nodes
            .iter()
            .enumerate()
            .map(|(k, &n)| self.candidate(&all, k, n))
            .collect();
        Ok(NodeScores { nodes, skipped })
    }

    /// Candidate `k` (node `n`) of a score table `all[plugin][k]`.
    fn candidate(&self, all: &[Vec<NodeScore>], k: usize, n: NodeIndex) -> Candidate {
        Candidate {
            node: n,
            node_id: self.state.node(n).id.clone(),
            total: all
                .iter()
                .zip(&self.plugins)
                .map(|(s, w)| s[k].key * w.weight as f64)
                .sum(),
            scores: all
                .iter()
                .zip(&self.plugins)
                .map(|(s, w)| PluginScore {
                    plugin: w.plugin.name().to_string(),
                    score: s[k].score,
                    weight: w.weight,
                })
                .collect(),
        }
    }

    /// Decides every pod against the same snapshot (independent what-ifs,
    /// nothing changes), in input order.
    pub fn decide_batch(&self, pods: &[PodSpec<'_>]) -> Vec<Result<Decision, EngineError>> {
        pods.iter().map(|p| self.decide(p)).collect()
    }

    /// Decides and, when the pod fits, runs the Reserve plugins and assumes
    /// it there ([`Engine::decide`] then [`Engine::assume`]). The pod's
    /// identity key defaults to [`identity_of`] its ID. Call
    /// [`Engine::confirm`] once it is bound, or [`Engine::forget`].
    pub fn place(&mut self, pod_id: PodId, pod: &PodSpec<'_>) -> Result<Decision, EngineError> {
        let spec = PodSpec {
            identity: Some(pod.identity.unwrap_or_else(|| identity_of(&pod_id))),
            ..*pod
        };
        let d = self.decide(&spec)?;
        if let Decision::Placed(p) = &d {
            if self.assumed.contains(&pod_id) {
                return Err(EngineError::AlreadyAssumed(pod_id));
            }
            if self.state.placements().contains_key(&pod_id) {
                return Err(AllocError::AlreadyPlaced(pod_id).into());
            }
            for (k, r) in self.reserve.iter().enumerate() {
                if let Err(rej) = r.reserve(&self.state, &pod_id, p) {
                    for done in &self.reserve[..k] {
                        done.unreserve(&pod_id);
                    }
                    return Err(EngineError::Reserve(rej));
                }
            }
            let node_id = p.node_id.clone();
            if let Err(e) = self.assume(pod_id.clone(), &spec, &node_id, &p.devices) {
                for r in &self.reserve {
                    r.unreserve(&pod_id);
                }
                return Err(e);
            }
        }
        Ok(d)
    }

    /// Places and confirms at once (for replays and simulations where the
    /// binding cannot fail).
    pub fn place_bound(
        &mut self,
        pod_id: PodId,
        pod: &PodSpec<'_>,
    ) -> Result<Decision, EngineError> {
        let d = self.place(pod_id.clone(), pod)?;
        if d.placed().is_some() {
            self.confirm(&pod_id)?;
        }
        Ok(d)
    }

    /// The Permit verdict of every Permit plugin for an assumed pod: the
    /// first `Reject`, else `Wait` if any waits, else `Allow`.
    pub fn permit(&self, pod: &PodId, placed: &Placed) -> Permit {
        let mut verdict = Permit::Allow;
        for p in &self.permit {
            match p.permit(&self.state, pod, placed) {
                Permit::Reject(m) => return Permit::Reject(m),
                Permit::Wait => verdict = Permit::Wait,
                _ => {}
            }
        }
        verdict
    }
}

fn add_nonzero(a: NonZeroRequest, b: NonZeroRequest, add: bool) -> NonZeroRequest {
    if add {
        NonZeroRequest {
            cpu: a.cpu.saturating_add(b.cpu),
            memory: a.memory.saturating_add(b.memory),
        }
    } else {
        NonZeroRequest {
            cpu: a.cpu.saturating_sub(b.cpu),
            memory: a.memory.saturating_sub(b.memory),
        }
    }
}

fn add_tag(counts: &mut [u32; 32], tag: u32, add: bool) {
    for (b, c) in counts.iter_mut().enumerate() {
        if tag & (1 << b) != 0 {
            if add {
                *c += 1;
            } else {
                *c = c.saturating_sub(1);
            }
        }
    }
}

fn tag_bits(counts: &[u32; 32]) -> u32 {
    counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .fold(0, |acc, (b, _)| acc | (1 << b))
}

/// The sharing-policy view of a request.
pub fn shape_of(req: &PodRequest, models: &BTreeMap<AcceleratorModelId, u8>) -> PodShape {
    let (num, milli) = match &req.accelerator {
        AcceleratorDemand::Whole { count } => (u32::from(*count), MILLI),
        AcceleratorDemand::Fraction { milli, .. } => (1, milli.get().min(MILLI)),
        _ => (0, 0),
    };
    let mask = if req.allowed_models.is_empty() {
        ModelMask::ANY
    } else {
        req.allowed_models
            .iter()
            .filter_map(|m| models.get(m))
            .fold(ModelMask::NONE, |m, &i| m.with(i))
    };
    PodShape::new(
        req.resources.cpu,
        req.resources.memory,
        num,
        GpuMilli::new(milli),
        mask,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rightsizer_model::cluster::tests_support::fractional_gpu;
    use rightsizer_model::node::{Node, Taint};

    fn id(s: &str) -> NodeId {
        NodeId::new(s).unwrap()
    }

    fn cluster() -> ClusterState {
        let t4 = AcceleratorModelId::new("T4").unwrap();
        let a10 = AcceleratorModelId::new("A10").unwrap();
        let r = |c| Resources {
            pods: 110,
            ..Resources::cpu_mem(c, 64 << 30)
        };
        let mut tainted = Node::new(id("tainted"), r(64000)).with_devices(&t4, 2);
        tainted.taints.push(Taint {
            key: "gpu".into(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
        });
        let nodes = vec![
            Node::new(id("cpu-only"), r(64000)),
            Node::new(id("small"), r(1000)).with_devices(&t4, 2),
            Node::new(id("a10"), r(64000)).with_devices(&a10, 1),
            tainted,
            Node::new(id("t4"), r(64000)).with_devices(&t4, 1),
        ];
        ClusterState::new(
            nodes,
            vec![fractional_gpu("T4", 16), fractional_gpu("A10", 24)],
        )
        .unwrap()
    }

    fn req(cpu: u64, acc: AcceleratorDemand, models: &[&str]) -> PodRequest {
        PodRequest {
            resources: Resources {
                pods: 1,
                ..Resources::cpu_mem(cpu, 1 << 30)
            },
            accelerator: acc,
            allowed_models: models
                .iter()
                .map(|m| AcceleratorModelId::new(m).unwrap())
                .collect(),
        }
    }

    #[test]
    fn typed_reasons_when_unschedulable() {
        let e = Engine::new(cluster(), EngineConfig::share(SharePolicy::BestFit)).unwrap();
        let r = req(2000, AcceleratorDemand::Whole { count: 2 }, &["T4"]);
        let Decision::Unschedulable(u) = e.decide(&PodSpec::new(&r)).unwrap() else {
            panic!("should not fit")
        };
        assert_eq!(u.reasons[&id("cpu-only")].reason, FilterReason::NoDevices);
        assert!(matches!(
            u.reasons[&id("small")].reason,
            FilterReason::Insufficient {
                dimension: Dimension::Cpu,
                ..
            }
        ));
        assert_eq!(
            u.reasons[&id("a10")].reason,
            FilterReason::DeviceModelNotAllowed
        );
        assert!(matches!(
            u.reasons[&id("tainted")].reason,
            FilterReason::Taint { .. }
        ));
        assert_eq!(
            u.reasons[&id("t4")].reason,
            FilterReason::NoDeviceSetFits {
                needed: 2,
                available: 1
            }
        );
        assert_eq!(u.summary.values().sum::<usize>(), 5);
    }

    #[test]
    fn places_and_explains_and_releases() {
        let before = cluster();
        let cfg = EngineConfig::share(SharePolicy::GpuPacking).with_plugin(
            Box::new(
                KubePlugin::fit(Strategy::MostAllocated, FitScorer::default_resources()).unwrap(),
            ),
            1,
        );
        let mut e = Engine::new(before.clone(), cfg).unwrap();
        let r = req(
            1000,
            AcceleratorDemand::Fraction {
                milli: GpuMilli::new(300),
                memory: None,
            },
            &[],
        );
        let Decision::Placed(p) = e
            .place(PodId::new("p").unwrap(), &PodSpec::new(&r))
            .unwrap()
        else {
            panic!("fits")
        };
        assert_eq!(p.explanation.feasible, 3); // small, a10 and t4
        assert_eq!(p.explanation.top[0].node, p.node);
        assert_eq!(p.explanation.top[0].scores.len(), 2);
        assert!(matches!(p.devices, DeviceAssignment::Shared { .. }));
        assert_eq!(p.explanation.filtered.values().sum::<usize>(), 2);
        e.release(&PodId::new("p").unwrap()).unwrap();
        assert_eq!(e.state(), &before);
    }

    #[test]
    fn tolerations_and_selectors() {
        let e = Engine::new(cluster(), EngineConfig::default()).unwrap();
        let r = req(1000, AcceleratorDemand::None, &[]);
        let tol = [Toleration {
            key: "gpu".into(),
            value: None,
            effect: None,
        }];
        let mut spec = PodSpec::new(&r);
        let tainted = e.state().node_index(&id("tainted")).unwrap();
        assert!(e.filter(&spec, tainted).is_err());
        spec.tolerations = &tol;
        assert!(e.filter(&spec, tainted).is_ok());
        let sel: BTreeMap<String, String> = [("zone".to_string(), "a".to_string())].into();
        spec.node_selector = Some(&sel);
        assert_eq!(
            e.filter(&spec, tainted).map_err(|r| r.reason),
            Err(FilterReason::NodeSelector { key: "zone".into() })
        );
        spec.node_selector = None;
        spec.domain = Some((TopologyLevel::Zone, "z1"));
        assert!(matches!(
            e.filter(&spec, tainted).map_err(|r| r.reason),
            Err(FilterReason::Topology { .. })
        ));
    }

    #[test]
    fn config_validation() {
        let cfg = EngineConfig {
            priority: Some(vec![0]),
            ..EngineConfig::default()
        };
        assert!(matches!(
            Engine::new(cluster(), cfg),
            Err(EngineError::PriorityLength { got: 1, nodes: 5 })
        ));
        let cfg = EngineConfig::default().with_plugin(Box::new(KubePlugin::balanced(vec![])), 0);
        assert!(matches!(
            Engine::new(cluster(), cfg),
            Err(EngineError::BadWeight { .. })
        ));
    }
}
