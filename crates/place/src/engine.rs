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

use crate::frag::{ModelMask, NodeGpuState, TargetWorkload};
use crate::kube::{
    balanced_allocation, nonzero_request, FitScorer, KubeScoreError, ResourceUse, Strategy,
};
use crate::rng::SeededRng;
use crate::share::{random_gpu, GpuPick, NodeView, PodKind, PodShape, Scorer, SharePolicy, MILLI};
use rightsizer_model::cluster::{
    AllocError, ClusterState, DeviceAssignment, DeviceMode, Placement,
};
use rightsizer_model::ids::{AcceleratorModelId, DeviceIndex, NodeId, NodeIndex, PodId};
use rightsizer_model::node::{TaintEffect, TopologyLevel};
use rightsizer_model::resources::{Dimension, Resources};
use rightsizer_model::units::{GpuMilli, MilliCpu};
use rightsizer_model::workload::{AcceleratorDemand, PodRequest, Toleration, Workload};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The highest score a plugin returns.
pub const MAX_SCORE: i64 = 100;

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
}

impl<'a> PodSpec<'a> {
    /// A pod with no tolerations, selector or topology constraint.
    pub fn new(request: &'a PodRequest) -> Self {
        Self {
            request,
            tolerations: &[],
            node_selector: None,
            domain: None,
        }
    }

    /// A pod of `workload` (its tolerations and node selector).
    pub fn of_workload(workload: &'a Workload, request: &'a PodRequest) -> Self {
        Self {
            request,
            tolerations: &workload.tolerations,
            node_selector: Some(&workload.node_selector),
            domain: None,
        }
    }
}

/// What the score phase sees of one node.
#[derive(Debug)]
pub struct ScoreContext<'a> {
    /// The cluster.
    pub state: &'a ClusterState,
    /// The pod.
    pub request: &'a PodRequest,
    /// The pod as the GPU-sharing policies see it.
    pub shape: PodShape,
    views: &'a ViewTable,
    versions: &'a [u64],
}

impl ScoreContext<'_> {
    /// The compact view of node `n` (free cpu/memory, GPU model, free milli
    /// per device, GPU tags).
    pub fn view(&self, n: NodeIndex) -> NodeView<'_> {
        self.views.view(n.get())
    }

    /// A counter that changes whenever node `n`'s state changes (for caches).
    pub fn version(&self, n: NodeIndex) -> u64 {
        self.versions[n.get()]
    }
}

/// A plugin's verdict on one node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeScore {
    /// Score in `0..=100` (before normalisation for plugins that normalise).
    pub score: i64,
    /// The selection contribution before weighting: normally `score`; the
    /// exact FGD plugin uses its fragmentation decrease in milli-GPU.
    pub key: f64,
    /// Devices the plugin wants the pod to get on this node, if it cares.
    pub devices: Option<DeviceAssignment>,
}

impl NodeScore {
    /// A plain score with no device preference.
    pub fn plain(score: i64) -> Self {
        Self {
            score,
            key: score as f64,
            devices: None,
        }
    }
}

/// A scoring plugin. Scores are in `0..=100`, higher is better.
pub trait ScorePlugin: fmt::Debug + Send {
    /// The plugin's name (used in explanations).
    fn name(&self) -> &str;
    /// Called once per decision with the feasible nodes, before scoring.
    fn pre_score(&mut self, _ctx: &ScoreContext<'_>, _feasible: &[NodeIndex]) {}
    /// Scores one feasible node.
    fn score(&mut self, ctx: &ScoreContext<'_>, node: NodeIndex) -> NodeScore;
    /// Rescales the scores of all feasible nodes (default: none).
    fn normalize(&self, _scores: &mut [NodeScore]) {}
}

/// Min–max normalisation to `0..=100` with integer arithmetic (all equal →
/// all 0), as the FGD simulator's `NormalizeScore`.
pub fn min_max_normalize(scores: &mut [NodeScore]) {
    let hi = scores.iter().map(|s| s.score).max().unwrap_or(0);
    let lo = scores.iter().map(|s| s.score).min().unwrap_or(0);
    for s in scores {
        s.score = if hi == lo {
            0
        } else {
            (s.score - lo) * MAX_SCORE / (hi - lo)
        };
        s.key = s.score as f64;
    }
}

/// A GPU-sharing policy as a plugin (see [`crate::share`]).
#[derive(Debug)]
pub struct SharePlugin {
    policy: SharePolicy,
    target: Option<TargetWorkload>,
    memo: crate::frag::FragMemo,
    node_frag: Vec<(u64, f64)>,
    rng: SeededRng,
    chosen: Option<NodeIndex>,
}

impl SharePlugin {
    /// A plugin for `policy`. FGD needs the target workload (its task
    /// classes must use the engine's model indices, see
    /// [`Engine::model_index`]); Random draws from `seed`.
    pub fn new(policy: SharePolicy, target: Option<TargetWorkload>, seed: u64) -> Self {
        Self::with_rng(policy, target, SeededRng::new(seed))
    }

    /// As [`SharePlugin::new`] with an explicit generator state.
    pub fn with_rng(policy: SharePolicy, target: Option<TargetWorkload>, rng: SeededRng) -> Self {
        Self {
            policy,
            target,
            memo: crate::frag::FragMemo::new(),
            node_frag: Vec::new(),
            rng,
            chosen: None,
        }
    }

    fn current_frag(&mut self, ctx: &ScoreContext<'_>, n: NodeIndex) -> Option<f64> {
        let target = self.target.as_ref()?;
        let i = n.get();
        if self.node_frag.len() <= i {
            self.node_frag
                .resize(ctx.versions.len().max(i + 1), (u64::MAX, 0.0));
        }
        let v = ctx.version(n);
        if self.node_frag[i].0 != v {
            let view = ctx.view(n);
            let st = NodeGpuState {
                cpu_free: view.cpu_free,
                model: view.model,
                gpus: view.gpus,
            };
            self.node_frag[i] = (v, self.memo.node_fragmentation(target, &st));
        }
        Some(self.node_frag[i].1)
    }
}

impl ScorePlugin for SharePlugin {
    fn name(&self) -> &str {
        self.policy.name()
    }

    fn pre_score(&mut self, ctx: &ScoreContext<'_>, feasible: &[NodeIndex]) {
        self.chosen = None;
        let _ = ctx;
        if self.policy == SharePolicy::Random && !feasible.is_empty() {
            self.chosen = Some(feasible[self.rng.below(feasible.len() as u64) as usize]);
        }
    }

    fn score(&mut self, ctx: &ScoreContext<'_>, node: NodeIndex) -> NodeScore {
        let shape = ctx.shape;
        if self.policy == SharePolicy::Random {
            if self.chosen != Some(node) {
                return NodeScore::plain(0);
            }
            let view = ctx.view(node);
            let pick = match shape.kind() {
                PodKind::Share { milli } => random_gpu(view.gpus, milli, &mut self.rng)
                    .map_or(GpuPick::None, GpuPick::Share),
                PodKind::Whole { count } => crate::share::lowest_free_gpus(view.gpus, count)
                    .map_or(GpuPick::None, GpuPick::Whole),
                PodKind::CpuOnly => GpuPick::None,
            };
            return NodeScore {
                score: MAX_SCORE,
                key: MAX_SCORE as f64,
                devices: device_assignment(ctx.request, pick),
            };
        }
        let frag = self.current_frag(ctx, node);
        let view = ctx.view(node);
        let mut scorer = Scorer::new(self.policy, self.target.as_ref());
        std::mem::swap(scorer_memo(&mut scorer), &mut self.memo);
        let e = scorer.evaluate(&view, &shape, frag);
        std::mem::swap(scorer_memo(&mut scorer), &mut self.memo);
        NodeScore {
            score: e.score.clamp(0, MAX_SCORE),
            key: e.key,
            devices: device_assignment(ctx.request, e.pick),
        }
    }

    fn normalize(&self, scores: &mut [NodeScore]) {
        if self.policy == SharePolicy::BestFit {
            min_max_normalize(scores);
        }
    }
}

fn scorer_memo<'s>(s: &'s mut Scorer<'_>) -> &'s mut crate::frag::FragMemo {
    s.memo_mut()
}

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
/// plugin over the node's allocatable and free resources.
///
/// `requested` is what the node's pods hold (allocatable − free) plus the
/// incoming pod; like kube-scheduler, an incoming CPU or memory request of 0
/// counts as 100m / 200 MiB for NodeResourcesFit (pod-level: the model keeps
/// pod totals, not containers).
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

    fn uses(
        names: impl Iterator<Item = String>,
        alloc: &Resources,
        free: &Resources,
        req: &Resources,
        nonzero: bool,
    ) -> Vec<ResourceUse> {
        let (cpu_req, mem_req) = if nonzero {
            nonzero_request(
                (!req.cpu.is_zero()).then_some(req.cpu.get()),
                (!req.memory.is_zero()).then_some(req.memory.get()),
            )
        } else {
            (req.cpu.get(), req.memory.get())
        };
        names
            .map(|name| {
                let (a, f, q) = match name.as_str() {
                    "cpu" => (alloc.cpu.get(), free.cpu.get(), cpu_req),
                    "memory" => (alloc.memory.get(), free.memory.get(), mem_req),
                    "ephemeral-storage" => (
                        alloc.ephemeral_storage.get(),
                        free.ephemeral_storage.get(),
                        req.ephemeral_storage.get(),
                    ),
                    other => {
                        let q = req.extended.get(other).copied().unwrap_or(0);
                        if q == 0 {
                            (0, 0, 0)
                        } else {
                            (
                                alloc.extended.get(other).copied().unwrap_or(0),
                                free.extended.get(other).copied().unwrap_or(0),
                                q,
                            )
                        }
                    }
                };
                let used = a.saturating_sub(f);
                ResourceUse::new(
                    i64::try_from(a).unwrap_or(i64::MAX),
                    i64::try_from(used.saturating_add(q)).unwrap_or(i64::MAX),
                )
            })
            .collect()
    }
}

impl ScorePlugin for KubePlugin {
    fn name(&self) -> &str {
        match &self.kind {
            KubeKind::Fit(_) => "NodeResourcesFit",
            KubeKind::Balanced(_) => "NodeResourcesBalancedAllocation",
        }
    }

    fn score(&mut self, ctx: &ScoreContext<'_>, node: NodeIndex) -> NodeScore {
        let alloc = &ctx.state.node(node).allocatable;
        let free = &ctx.state.node_free(node).resources;
        let req = &ctx.request.resources;
        match &self.kind {
            KubeKind::Fit(f) => {
                let names = f.resources().iter().map(|r| r.name.clone());
                let uses = Self::uses(names, alloc, free, req, true);
                NodeScore::plain(f.score(&uses).unwrap_or(0))
            }
            KubeKind::Balanced(names) => {
                let uses = Self::uses(names.iter().cloned(), alloc, free, req, false);
                NodeScore::plain(balanced_allocation(&uses))
            }
        }
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
pub struct EngineConfig {
    /// Score plugins and weights.
    pub plugins: Vec<Weighted>,
    /// Tie-break rank per node (lower wins); `None`: the node index.
    pub priority: Option<Vec<u32>>,
    /// Candidates listed in an explanation.
    pub explain_top: usize,
}

impl EngineConfig {
    /// One GPU-sharing policy (no target workload; use
    /// [`EngineConfig::with_plugin`] and [`SharePlugin::new`] for FGD).
    pub fn share(policy: SharePolicy) -> Self {
        Self::default().with_plugin(Box::new(SharePlugin::new(policy, None, 0)), 1)
    }

    /// Adds a plugin with a weight (builder style).
    pub fn with_plugin(mut self, plugin: Box<dyn ScorePlugin>, weight: i64) -> Self {
        self.plugins.push(Weighted { plugin, weight });
        self
    }
}

impl Default for EngineConfig {
    /// No plugins (every feasible node scores 0: the lowest priority wins),
    /// index priority, 5 candidates explained.
    fn default() -> Self {
        Self {
            plugins: Vec::new(),
            priority: None,
            explain_top: 5,
        }
    }
}

/// Why the engine cannot be built or an operation failed.
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
pub struct Explanation {
    /// Feasible nodes.
    pub feasible: usize,
    /// Nodes filtered out, by reason kind.
    pub filtered: BTreeMap<String, usize>,
    /// The best candidates, best first (the winner is the first).
    pub top: Vec<Candidate>,
}

/// A successful placement decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placed {
    /// The node.
    pub node: NodeIndex,
    /// Its name.
    pub node_id: NodeId,
    /// The devices the pod gets.
    pub devices: DeviceAssignment,
    /// Why.
    pub explanation: Explanation,
}

/// No node can take the pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unschedulable {
    /// The reason for every node.
    pub reasons: BTreeMap<NodeId, FilterReason>,
    /// Nodes per reason kind.
    pub summary: BTreeMap<String, usize>,
}

/// The outcome of placing one pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub enum Decision {
    /// The pod goes here.
    Placed(Placed),
    /// It fits nowhere.
    Unschedulable(Unschedulable),
}

/// Compact per-node GPU views, rebuilt for changed nodes only.
#[derive(Debug, Default)]
struct ViewTable {
    cpu: Vec<MilliCpu>,
    mem: Vec<rightsizer_model::units::Bytes>,
    model: Vec<Option<u8>>,
    off: Vec<usize>,
    gpus: Vec<u32>,
    tags: Vec<u32>,
}

impl ViewTable {
    fn view(&self, n: usize) -> NodeView<'_> {
        NodeView {
            cpu_free: self.cpu[n],
            memory_free: self.mem[n],
            model: self.model[n],
            gpus: &self.gpus[self.off[n]..self.off[n + 1]],
            tags: self.tags[n],
        }
    }
}

/// The placement engine over a cluster state.
#[derive(Debug)]
pub struct Engine {
    state: ClusterState,
    plugins: Vec<Weighted>,
    priority: Vec<u32>,
    explain_top: usize,
    models: BTreeMap<AcceleratorModelId, u8>,
    views: ViewTable,
    versions: Vec<u64>,
    /// Per node, how many pods hold each GPU tag bit.
    tag_counts: Vec<[u32; 32]>,
}

impl Engine {
    /// An engine over `state` with `config`.
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
        for w in &config.plugins {
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
        let models = state
            .models()
            .keys()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u8))
            .collect();
        let mut e = Self {
            state,
            plugins: config.plugins,
            priority,
            explain_top: config.explain_top,
            models,
            views: ViewTable::default(),
            versions: vec![0; n],
            tag_counts: vec![[0; 32]; n],
        };
        let placed: Vec<(NodeIndex, u32)> = e
            .state
            .placements()
            .values()
            .map(|p| (p.node, shape_of(&p.request, &e.models).tag()))
            .collect();
        for (node, tag) in placed {
            add_tag(&mut e.tag_counts[node.get()], tag, true);
        }
        e.rebuild_views();
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

    /// The interned index of an accelerator model (models in name order),
    /// used by [`ModelMask`] and [`crate::frag::TaskClass`].
    pub fn model_index(&self, model: &AcceleratorModelId) -> Option<u8> {
        self.models.get(model).copied()
    }

    fn rebuild_views(&mut self) {
        let n = self.state.len();
        let mut v = ViewTable::default();
        v.off.push(0);
        for i in 0..n {
            self.fill_view(&mut v, i);
        }
        self.views = v;
    }

    fn fill_view(&self, v: &mut ViewTable, i: usize) {
        let free = self.state.node_free(NodeIndex(i as u32));
        v.cpu.push(free.resources.cpu);
        v.mem.push(free.resources.memory);
        v.model.push(
            free.devices
                .first()
                .and_then(|d| self.models.get(&d.model).copied()),
        );
        for d in &free.devices {
            v.gpus.push(match d.mode {
                DeviceMode::Mig | DeviceMode::Whole => 0,
                _ => d.milli.get().min(MILLI),
            });
        }
        v.off.push(v.gpus.len());
        v.tags.push(tag_bits(&self.tag_counts[i]));
    }

    fn refresh_node(&mut self, i: usize) {
        // Rebuild only node i in place; device counts never change.
        let free = self.state.node_free(NodeIndex(i as u32));
        self.views.cpu[i] = free.resources.cpu;
        self.views.mem[i] = free.resources.memory;
        let (a, _) = (self.views.off[i], self.views.off[i + 1]);
        for (k, d) in free.devices.iter().enumerate() {
            self.views.gpus[a + k] = match d.mode {
                DeviceMode::Mig | DeviceMode::Whole => 0,
                _ => d.milli.get().min(MILLI),
            };
        }
        self.views.tags[i] = tag_bits(&self.tag_counts[i]);
        self.versions[i] += 1;
    }

    /// Filters node `n` for the pod.
    pub fn filter(&self, pod: &PodSpec<'_>, n: NodeIndex) -> Result<(), FilterReason> {
        let node = self.state.node(n);
        for t in &node.taints {
            if t.effect != TaintEffect::PreferNoSchedule
                && !pod.tolerations.iter().any(|tol| tol.tolerates(t))
            {
                return Err(FilterReason::Taint {
                    key: t.key.clone(),
                    effect: t.effect,
                });
            }
        }
        if let Some(sel) = pod.node_selector {
            for (k, v) in sel {
                if node.labels.get(k) != Some(v) {
                    return Err(FilterReason::NodeSelector { key: k.clone() });
                }
            }
        }
        if let Some((level, required)) = pod.domain {
            let actual = if level == TopologyLevel::Node {
                Some(node.id.as_str())
            } else {
                node.topology.domain(level)
            };
            if actual != Some(required) {
                return Err(FilterReason::Topology {
                    level,
                    required: required.to_string(),
                    actual: actual.map(str::to_string),
                });
            }
        }
        let req = pod.request;
        let free = self.state.node_free(n);
        if let Some(dimension) = req.resources.first_short(&free.resources) {
            return Err(FilterReason::Insufficient {
                requested: req.resources.get(&dimension),
                free: free.resources.get(&dimension),
                dimension,
            });
        }
        if req.accelerator.is_none() {
            return Ok(());
        }
        if free.devices.is_empty() {
            return Err(FilterReason::NoDevices);
        }
        if !free.devices.iter().any(|d| req.accepts_model(&d.model)) {
            return Err(FilterReason::DeviceModelNotAllowed);
        }
        match &req.accelerator {
            AcceleratorDemand::Whole { count } => {
                // Same answer as `first_fit_devices`: enough idle accepted devices.
                let available = free
                    .devices
                    .iter()
                    .filter(|d| d.mode == DeviceMode::Idle && req.accepts_model(&d.model))
                    .count();
                if available >= usize::from(*count) {
                    Ok(())
                } else {
                    Err(FilterReason::NoDeviceSetFits {
                        needed: *count,
                        available: u16::try_from(available).unwrap_or(u16::MAX),
                    })
                }
            }
            AcceleratorDemand::Fraction { milli, memory } => {
                // Same checks as the cluster state's fractional assignment.
                let mem = memory.unwrap_or(rightsizer_model::units::Bytes::ZERO);
                let valid = !(milli.is_zero() && mem.is_zero()) && *milli <= GpuMilli::ONE;
                let fits = valid
                    && free.devices.iter().any(|d| {
                        matches!(d.mode, DeviceMode::Idle | DeviceMode::Shared)
                            && d.milli >= *milli
                            && d.memory >= mem
                            && req.accepts_model(&d.model)
                            && self
                                .state
                                .model(&d.model)
                                .and_then(|m| m.sharing.fractional)
                                .is_some_and(|f| d.shares < f.max_shares)
                    });
                if fits {
                    Ok(())
                } else {
                    Err(FilterReason::NoDeviceFits)
                }
            }
            _ => {
                if self.state.first_fit_devices(req, n).is_some() {
                    Ok(())
                } else {
                    Err(FilterReason::NoDeviceFits)
                }
            }
        }
    }

    /// Decides where the pod would go, without placing it.
    pub fn decide(&mut self, pod: &PodSpec<'_>) -> Decision {
        let n = self.state.len();
        let mut feasible = Vec::new();
        let mut rejected: Vec<(NodeIndex, FilterReason)> = Vec::new();
        let mut summary: BTreeMap<String, usize> = BTreeMap::new();
        for i in 0..n {
            let ni = NodeIndex(i as u32);
            match self.filter(pod, ni) {
                Ok(()) => feasible.push(ni),
                Err(r) => rejected.push((ni, r)),
            }
        }
        for (_, r) in &rejected {
            *summary.entry(r.kind().to_string()).or_default() += 1;
        }
        if feasible.is_empty() {
            let reasons = rejected
                .into_iter()
                .map(|(ni, r)| (self.state.node(ni).id.clone(), r))
                .collect();
            return Decision::Unschedulable(Unschedulable { reasons, summary });
        }
        let shape = shape_of(pod.request, &self.models);
        let ctx = ScoreContext {
            state: &self.state,
            request: pod.request,
            shape,
            views: &self.views,
            versions: &self.versions,
        };
        // scores[plugin][k] for feasible[k]
        let mut all: Vec<Vec<NodeScore>> = Vec::with_capacity(self.plugins.len());
        for w in &mut self.plugins {
            w.plugin.pre_score(&ctx, &feasible);
            let mut s: Vec<NodeScore> = feasible
                .iter()
                .map(|&ni| w.plugin.score(&ctx, ni))
                .collect();
            w.plugin.normalize(&mut s);
            all.push(s);
        }
        let total = |k: usize| -> f64 {
            all.iter()
                .zip(&self.plugins)
                .map(|(s, w)| s[k].key * w.weight as f64)
                .sum()
        };
        let mut order: Vec<usize> = (0..feasible.len()).collect();
        let totals: Vec<f64> = (0..feasible.len()).map(total).collect();
        order.sort_by(|&a, &b| {
            totals[b]
                .total_cmp(&totals[a])
                .then_with(|| {
                    self.priority[feasible[a].get()].cmp(&self.priority[feasible[b].get()])
                })
                .then_with(|| feasible[a].cmp(&feasible[b]))
        });
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
            .take(self.explain_top.max(1))
            .map(|&k| Candidate {
                node: feasible[k],
                node_id: self.state.node(feasible[k]).id.clone(),
                total: totals[k],
                scores: all
                    .iter()
                    .zip(&self.plugins)
                    .map(|(s, w)| PluginScore {
                        plugin: w.plugin.name().to_string(),
                        score: s[k].score,
                        weight: w.weight,
                    })
                    .collect(),
            })
            .collect();
        Decision::Placed(Placed {
            node,
            node_id: self.state.node(node).id.clone(),
            devices,
            explanation: Explanation {
                feasible: feasible.len(),
                filtered: summary,
                top,
            },
        })
    }

    /// Decides and, when the pod fits, allocates it in the state.
    pub fn place(&mut self, pod_id: PodId, pod: &PodSpec<'_>) -> Result<Decision, EngineError> {
        let d = self.decide(pod);
        if let Decision::Placed(p) = &d {
            self.state
                .allocate(pod_id, pod.request, p.node, &p.devices)?;
            let tag = shape_of(pod.request, &self.models).tag();
            add_tag(&mut self.tag_counts[p.node.get()], tag, true);
            self.refresh_node(p.node.get());
        }
        Ok(d)
    }

    /// Removes a placed pod, restoring its capacity.
    pub fn release(&mut self, pod: &PodId) -> Result<Placement, EngineError> {
        let p = self.state.release(pod)?;
        let tag = shape_of(&p.request, &self.models).tag();
        add_tag(&mut self.tag_counts[p.node.get()], tag, false);
        self.refresh_node(p.node.get());
        Ok(p)
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
        let mut e = Engine::new(cluster(), EngineConfig::share(SharePolicy::BestFit)).unwrap();
        let r = req(2000, AcceleratorDemand::Whole { count: 2 }, &["T4"]);
        let Decision::Unschedulable(u) = e.decide(&PodSpec::new(&r)) else {
            panic!("should not fit")
        };
        assert_eq!(u.reasons[&id("cpu-only")], FilterReason::NoDevices);
        assert!(matches!(
            u.reasons[&id("small")],
            FilterReason::Insufficient {
                dimension: Dimension::Cpu,
                ..
            }
        ));
        assert_eq!(u.reasons[&id("a10")], FilterReason::DeviceModelNotAllowed);
        assert!(matches!(
            u.reasons[&id("tainted")],
            FilterReason::Taint { .. }
        ));
        assert_eq!(
            u.reasons[&id("t4")],
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
            e.filter(&spec, tainted),
            Err(FilterReason::NodeSelector { key: "zone".into() })
        );
        spec.node_selector = None;
        spec.domain = Some((TopologyLevel::Zone, "z1"));
        assert!(matches!(
            e.filter(&spec, tainted),
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
