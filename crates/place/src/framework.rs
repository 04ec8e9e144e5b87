//! The extension points, modelled on the Kubernetes scheduler framework.
//!
//! One scheduling cycle (one [`crate::engine::Engine::decide`]) runs, in order:
//!
//! | point | trait | may |
//! |---|---|---|
//! | PreFilter | [`PreFilterPlugin`] | compute per-cycle data into the [`CycleState`], or reject the pod outright |
//! | Filter | [`FilterPlugin`] | reject one node, as [`RejectionKind::Unschedulable`] or [`RejectionKind::UnschedulableAndUnresolvable`] |
//! | PostFilter | [`PostFilterPlugin`] | when no node fits: say what would have to move ([`Nomination`]) |
//! | PreScore / Score / NormalizeScore | [`ScorePlugin`] | score the feasible nodes in `0..=100` |
//! | Reserve / Unreserve | [`ReservePlugin`] | hold plugin-side resources for an assumed pod, or refuse |
//! | Permit | [`PermitPlugin`] | allow, hold back (wait) or reject a reserved pod (gangs) |
//!
//! Every method takes `&self`: a decision never changes the engine or its
//! plugins (a plugin's caches must not change its answers). Per-cycle data
//! lives in the [`CycleState`], which exists for one decision only.
//!
//! The engine's own filters are plugins of this kind (see
//! [`crate::filters`]); user filters run after them, in configuration order.

use crate::engine::{FilterReason, Placed, PodSpec};
use crate::share::{NodeView, PodShape};
use rightsizer_model::cluster::{ClusterState, DeviceAssignment};
use rightsizer_model::ids::{AcceleratorModelId, NodeId, NodeIndex, PodId};
use rightsizer_model::workload::PodRequest;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;

/// The highest score a plugin returns.
pub const MAX_SCORE: i64 = 100;

/// Data plugins share within one scheduling cycle (one decision), keyed by
/// name, as upstream's `CycleState`. Created empty for every decision and
/// dropped at its end.
///
/// ```
/// use rightsizer_place::framework::CycleState;
/// let mut s = CycleState::default();
/// s.write("licences", 3u32);
/// assert_eq!(s.read::<u32>("licences"), Some(&3));
/// assert_eq!(s.read::<u64>("licences"), None); // wrong type
/// ```
#[derive(Default)]
pub struct CycleState {
    values: BTreeMap<String, Box<dyn Any + Send + Sync>>,
}

impl CycleState {
    /// Stores `value` under `key` (replacing any earlier value).
    pub fn write<T: Any + Send + Sync>(&mut self, key: impl Into<String>, value: T) {
        self.values.insert(key.into(), Box::new(value));
    }

    /// The value under `key`, if present and of type `T`.
    pub fn read<T: Any>(&self, key: &str) -> Option<&T> {
        self.values.get(key)?.downcast_ref()
    }
}

impl fmt::Debug for CycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

/// The two kinds of rejection upstream distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RejectionKind {
    /// The node may fit after something changes on it (pods leave): a
    /// PostFilter may propose what would have to move.
    Unschedulable,
    /// No change of the node's pods can make it fit (taint, selector,
    /// missing device model, request above allocatable).
    UnschedulableAndUnresolvable,
}

/// A plugin's refusal of a node (or, from PreFilter, of the pod).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rejection {
    /// The plugin that refused.
    pub plugin: String,
    /// Whether something could change it.
    pub kind: RejectionKind,
    /// Why.
    pub reason: FilterReason,
}

impl Rejection {
    /// A rejection that may resolve when pods leave the node.
    pub fn unschedulable(plugin: impl Into<String>, reason: FilterReason) -> Self {
        Self {
            plugin: plugin.into(),
            kind: RejectionKind::Unschedulable,
            reason,
        }
    }

    /// A rejection no eviction can resolve.
    pub fn unresolvable(plugin: impl Into<String>, reason: FilterReason) -> Self {
        Self {
            plugin: plugin.into(),
            kind: RejectionKind::UnschedulableAndUnresolvable,
            reason,
        }
    }

    /// A plugin's own reason as free text.
    pub fn custom(
        plugin: impl Into<String>,
        kind: RejectionKind,
        message: impl Into<String>,
    ) -> Self {
        let plugin = plugin.into();
        Self {
            reason: FilterReason::Plugin {
                plugin: plugin.clone(),
                message: message.into(),
            },
            plugin,
            kind,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            // A plugin's own reason already names the plugin.
            FilterReason::Plugin { .. } => write!(f, "{}", self.reason),
            r => write!(f, "{}: {r}", self.plugin),
        }
    }
}

/// What PreFilter and Filter plugins see.
#[derive(Clone, Copy, Debug)]
pub struct FilterContext<'a> {
    /// The cluster snapshot.
    pub state: &'a ClusterState,
    /// The pod.
    pub pod: &'a PodSpec<'a>,
}

/// Runs once per decision before any Filter.
pub trait PreFilterPlugin: fmt::Debug + Send + Sync {
    /// Name (in rejections and explanations).
    fn name(&self) -> &str;
    /// Prepares per-cycle data; an `Err` rejects the pod on every node.
    fn pre_filter(&self, ctx: &FilterContext<'_>, cycle: &mut CycleState) -> Result<(), Rejection>;
}

/// Decides whether one node can take the pod.
///
/// ```
/// use rightsizer_place::framework::{CycleState, FilterContext, FilterPlugin, Rejection, RejectionKind};
/// use rightsizer_model::ids::NodeIndex;
///
/// /// Only nodes labelled `licence-pool=a`.
/// #[derive(Debug)]
/// struct LicencePool;
/// impl FilterPlugin for LicencePool {
///     fn name(&self) -> &str { "LicencePool" }
///     fn filter(&self, ctx: &FilterContext<'_>, _: &CycleState, n: NodeIndex) -> Result<(), Rejection> {
///         match ctx.state.node(n).labels.get("licence-pool").map(String::as_str) {
///             Some("a") => Ok(()),
///             _ => Err(Rejection::custom(self.name(), RejectionKind::UnschedulableAndUnresolvable, "not in pool a")),
///         }
///     }
/// }
/// ```
pub trait FilterPlugin: fmt::Debug + Send + Sync {
    /// Name (in rejections and explanations).
    fn name(&self) -> &str;
    /// `Ok` when node `node` can take the pod.
    fn filter(
        &self,
        ctx: &FilterContext<'_>,
        cycle: &CycleState,
        node: NodeIndex,
    ) -> Result<(), Rejection>;
}

/// What would have to move for the pod to fit on a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Nomination {
    /// The plugin that proposes it.
    pub plugin: String,
    /// The node.
    pub node: NodeId,
    /// Pods to evict from it, in pod-ID order.
    pub evict: Vec<PodId>,
}

impl Nomination {
    /// A nomination of `node` after evicting `evict`.
    pub fn new(plugin: impl Into<String>, node: NodeId, evict: Vec<PodId>) -> Self {
        Self {
            plugin: plugin.into(),
            node,
            evict,
        }
    }
}

/// Runs when no node passes the filters: proposes what would have to move
/// (upstream's preemption point). It only proposes; nothing is evicted.
pub trait PostFilterPlugin: fmt::Debug + Send + Sync {
    /// Name.
    fn name(&self) -> &str;
    /// A proposal, if the plugin has one. `rejections` holds every node's
    /// rejection.
    fn post_filter(
        &self,
        ctx: &FilterContext<'_>,
        cycle: &CycleState,
        rejections: &BTreeMap<NodeId, Rejection>,
    ) -> Option<Nomination>;
}

/// The engine's accelerator models, for plugins configured by name.
#[derive(Clone, Copy, Debug)]
pub struct Models<'a> {
    pub(crate) index: &'a BTreeMap<AcceleratorModelId, u8>,
}

impl Models<'_> {
    /// `true` when the engine knows `model`.
    pub fn contains(&self, model: &AcceleratorModelId) -> bool {
        self.index.contains_key(model)
    }

    /// The engine's internal number of a model (for
    /// [`crate::frag::TargetWorkload`] masks).
    pub fn index(&self, model: &AcceleratorModelId) -> Option<u8> {
        self.index.get(model).copied()
    }
}

/// What the score phase sees.
#[derive(Debug)]
pub struct ScoreContext<'a> {
    /// The cluster.
    pub state: &'a ClusterState,
    /// The pod.
    pub request: &'a PodRequest,
    /// The pod as the GPU-sharing policies see it.
    pub shape: PodShape,
    /// The pod's identity key (seeds any random choice).
    pub identity: u64,
    /// The pod's non-zero scoring request (see [`crate::kube::NonZeroRequest`]).
    pub nonzero: crate::kube::NonZeroRequest,
    pub(crate) rows: &'a [crate::engine::NodeRow],
}

impl ScoreContext<'_> {
    /// The compact view of node `n` (free cpu/memory, GPU model, free milli
    /// per device, GPU tags).
    pub fn view(&self, n: NodeIndex) -> NodeView<'_> {
        self.rows[n.get()].view()
    }

    /// A number that changes whenever node `n`'s state changes and is never
    /// reused (for caches keyed by node).
    pub fn version(&self, n: NodeIndex) -> u64 {
        self.rows[n.get()].version
    }

    /// The summed non-zero scoring requests of node `n`'s pods.
    pub fn nonzero_requested(&self, n: NodeIndex) -> crate::kube::NonZeroRequest {
        self.rows[n.get()].nonzero
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.rows.len()
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

/// What a PreScore asks for this decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PreScoreStatus {
    /// Score the nodes.
    Run,
    /// Do not score (the pod gives the plugin nothing to score).
    Skip,
}

/// A scoring plugin (PreScore, Score and NormalizeScore). Scores are in
/// `0..=100`, higher is better.
///
/// ```
/// use rightsizer_place::framework::{CycleState, NodeScore, ScoreContext, ScorePlugin};
/// use rightsizer_model::ids::NodeIndex;
///
/// /// Prefers nodes with more free CPU (0..=100 of allocatable).
/// #[derive(Debug)]
/// struct MostFreeCpu;
/// impl ScorePlugin for MostFreeCpu {
///     fn name(&self) -> &str { "MostFreeCpu" }
///     fn score(&self, ctx: &ScoreContext<'_>, _: &CycleState, n: NodeIndex) -> NodeScore {
///         let alloc = ctx.state.node(n).allocatable.cpu.get().max(1);
///         let free = ctx.state.node_free(n).resources.cpu.get();
///         NodeScore::plain((free * 100 / alloc) as i64)
///     }
/// }
/// ```
pub trait ScorePlugin: fmt::Debug + Send + Sync {
    /// The plugin's name (used in explanations).
    fn name(&self) -> &str;
    /// Resolves configuration against the engine's models (called once when
    /// the engine is built); an error refuses the configuration.
    fn bind(&mut self, _models: &Models<'_>) -> Result<(), crate::engine::EngineError> {
        Ok(())
    }
    /// Called once per decision with the feasible nodes, before scoring;
    /// [`PreScoreStatus::Skip`] leaves the plugin out of this decision (it
    /// scores 0 everywhere), as upstream's PreScore `Skip`.
    fn pre_score(
        &self,
        _ctx: &ScoreContext<'_>,
        _cycle: &mut CycleState,
        _feasible: &[NodeIndex],
    ) -> PreScoreStatus {
        PreScoreStatus::Run
    }
    /// Scores one feasible node.
    fn score(&self, ctx: &ScoreContext<'_>, cycle: &CycleState, node: NodeIndex) -> NodeScore;
    /// Scores every feasible node into `out` (in `feasible` order); the
    /// default calls [`ScorePlugin::score`] per node.
    fn score_all(
        &self,
        ctx: &ScoreContext<'_>,
        cycle: &CycleState,
        feasible: &[NodeIndex],
        out: &mut Vec<NodeScore>,
    ) {
        out.extend(feasible.iter().map(|&n| self.score(ctx, cycle, n)));
    }
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

/// Holds plugin-side resources for a pod the engine assumes (Reserve), and
/// releases them when the pod is forgotten (Unreserve).
pub trait ReservePlugin: fmt::Debug + Send + Sync {
    /// Name.
    fn name(&self) -> &str;
    /// Called before the pod is assumed on `placed.node`; an `Err` refuses
    /// the placement (the engine is left unchanged).
    fn reserve(&self, state: &ClusterState, pod: &PodId, placed: &Placed) -> Result<(), Rejection>;
    /// Called when a reserved pod is forgotten or refused later.
    fn unreserve(&self, _pod: &PodId) {}
}

/// A Permit plugin's verdict on a reserved pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Permit {
    /// Bind it.
    Allow,
    /// Hold it (assumed) until the plugin allows it, e.g. until its gang is
    /// complete.
    Wait,
    /// Give up on it (the pod is forgotten).
    Reject(String),
}

/// Decides whether a reserved pod may bind now (gangs wait here).
pub trait PermitPlugin: fmt::Debug + Send + Sync {
    /// Name.
    fn name(&self) -> &str;
    /// The verdict for `pod`, now assumed at `placed`.
    fn permit(&self, state: &ClusterState, pod: &PodId, placed: &Placed) -> Permit;
}
