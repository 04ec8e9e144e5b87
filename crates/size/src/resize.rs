//! Cluster-wide in-place resize plans (KEP-1287, GA in Kubernetes 1.35).
//!
//! Given the cluster (nodes, running pods with their containers' requests,
//! limits and `resizePolicy`) and target sizes, [`plan`] produces an ordered
//! list of [`ResizeStep`]s:
//!
//! - **in place** (`NotRequired`) or **with container restart**
//!   (`RestartContainer`, if any changed resource of a container asks for it),
//!   each carrying the strategic-merge patch for the pod's `resize`
//!   subresource;
//! - **migrate** (evict, then re-create at the new size on another node) when
//!   the node could never hold the new size (the kubelet would mark the resize
//!   `Infeasible`), or cannot hold it even after every shrink and migration
//!   (it would stay `Deferred`). The step carries the `policy/v1` Eviction.
//!
//! Rules enforced:
//! 1. Only `cpu` and `memory` change; other resources are kept.
//! 2. The QoS class never changes. Limits follow requests proportionally
//!    (VPA's `RequestsAndLimits`); a limit equal to its request stays equal,
//!    so Guaranteed pods stay Guaranteed; a target that would change the class
//!    (e.g. giving a BestEffort pod a request) is refused.
//! 3. Memory-limit decreases: refused when the cluster predates 1.34
//!    (API validation rejected them); since 1.34 they are best-effort (the
//!    kubelet skips a container whose usage exceeds the new limit), so such
//!    steps are marked unsafe, and refused when the known usage already
//!    exceeds the new limit.
//! 4. Never an in-place step the kubelet would mark `Infeasible` (new pod
//!    request above the node's allocatable cpu or memory).
//! 5. Every intermediate state fits every node: shrinks first (they only free
//!    space), then in-place grows that fit, then migrations of infeasible
//!    pods, then the remaining grows, then migrations of the still-blocked
//!    ones. Each step is applied to a [`ClusterState`] (the model's
//!    `resize`/`release`/`allocate`), so accounting is the model's.
//! 6. PodDisruptionBudget-style limit: steps are grouped in waves; within a
//!    wave at most `max_disruptions_per_workload` steps per workload restart
//!    or evict a pod. Within a wave all steps are shrinks, or all grows, so
//!    they may run concurrently in any order. Migrations share a wave within
//!    the same budget as long as none lands on a node another migration of
//!    the wave vacates.
//!
//! Planning is deterministic: pods are visited in ID order and every choice
//! has an explicit tie-break.

use rightsizer_model::accelerator::AcceleratorModel;
use rightsizer_model::cluster::{AllocError, ClusterState};
use rightsizer_model::ids::{NodeId, NodeIndex, PodId, WorkloadId};
use rightsizer_model::quantity::Quantity;
use rightsizer_model::resources::{Dimension, Resources};
use rightsizer_model::spec::{ClusterSpec, SpecError};
use rightsizer_model::units::{Bytes, MilliCpu, PricePerHour};
use rightsizer_model::workload::{
    Container, PodTemplate, QosClass, ResizableResource, ResizeRestartPolicy,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One running pod: its workload and current containers.
#[derive(Clone, Debug, PartialEq)]
pub struct PodInfo {
    /// Its workload.
    pub workload: WorkloadId,
    /// Current containers (requests, limits, resize policies).
    pub template: PodTemplate,
}

/// The cluster as the planner sees it.
#[derive(Clone, Debug)]
pub struct ResizeProblem {
    /// Nodes and placements (the model's accounting).
    pub state: ClusterState,
    /// Per pod, its containers.
    pub pods: BTreeMap<PodId, PodInfo>,
    /// Hourly price per node (from its node type), for cost reports.
    pub node_prices: BTreeMap<NodeIndex, PricePerHour>,
}

impl ResizeProblem {
    /// Builds the problem from a cluster document (validated by the model).
    /// A cluster without nodes is an error (there is nothing to resize on).
    pub fn from_spec(spec: &ClusterSpec, base: &[AcceleratorModel]) -> Result<Self, SpecError> {
        if spec.nodes.is_empty() {
            return Err(SpecError::Invalid {
                path: "nodes".into(),
                reason: "a cluster needs at least one node".into(),
            });
        }
        let state = spec.to_state(base)?;
        let by_id: BTreeMap<_, _> = spec.workloads.iter().map(|w| (&w.id, w)).collect();
        let pods = spec
            .pods
            .iter()
            .map(|p| {
                let template = p
                    .template
                    .clone()
                    .unwrap_or_else(|| by_id[&p.workload].template.clone());
                (
                    p.id.clone(),
                    PodInfo {
                        workload: p.workload.clone(),
                        template,
                    },
                )
            })
            .collect();
        let prices: BTreeMap<_, _> = spec.node_types.iter().map(|t| (&t.id, t.price)).collect();
        let node_prices = state
            .nodes()
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let p = prices.get(n.node_type.as_ref()?)?;
                Some((NodeIndex(i as u32), *p))
            })
            .collect();
        Ok(Self {
            state,
            pods,
            node_prices,
        })
    }
}

/// A target size for one container, of one pod or of every pod of a workload.
///
/// A missing cpu/memory keeps the current amount (in the Rust API a zero
/// field means "missing"). In a document an explicit `0` is refused when it
/// is read (`cpu: "0"` is not a size; omit the field to keep the current
/// one), and [`plan`] refuses a target that changes neither cpu nor memory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResizeTarget {
    /// The pod (takes precedence over a workload target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<PodId>,
    /// The workload (all its pods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadId>,
    /// Container name.
    pub container: String,
    /// New requests (cpu and memory only).
    #[serde(default, deserialize_with = "explicit_sizes")]
    pub requests: Resources,
    /// New limits; when absent limits follow requests proportionally.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "explicit_sizes_opt"
    )]
    pub limits: Option<Resources>,
}

/// Reads `Resources`, refusing an explicit zero cpu or memory: in a target a
/// zero would silently mean "unchanged".
fn explicit_sizes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Resources, D::Error> {
    use serde::de::Error as _;
    let v = Value::deserialize(d)?;
    let r = Resources::deserialize(&v).map_err(D::Error::custom)?;
    if let Value::Object(m) = &v {
        for (key, zero) in [("cpu", r.cpu.is_zero()), ("memory", r.memory.is_zero())] {
            if zero && m.contains_key(key) {
                return Err(D::Error::custom(format!(
                    "{key}: an explicit 0 is not a size; omit `{key}` to keep the current value"
                )));
            }
        }
    }
    Ok(r)
}

fn explicit_sizes_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Resources>, D::Error> {
    explicit_sizes(d).map(Some)
}

/// A targets document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsDoc {
    /// Namespace used in the emitted Eviction objects.
    #[serde(default = "default_ns")]
    pub namespace: String,
    /// The targets.
    pub targets: Vec<ResizeTarget>,
}

fn default_ns() -> String {
    "default".into()
}

/// Planner settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ResizeConfig {
    /// PDB-style limit on concurrent disruptions (restarts, evictions) per workload.
    pub max_disruptions_per_workload: u32,
    /// The cluster allows memory-limit decreases with `NotRequired` (1.34+).
    pub memory_limit_decrease_in_place: bool,
    /// Migrate pods the node cannot hold (evict + re-place).
    pub allow_migration: bool,
    /// Known current memory usage per (pod, container), for limit decreases.
    pub memory_usage: BTreeMap<(PodId, String), Bytes>,
    /// Namespace for Eviction objects.
    pub namespace: String,
}

impl Default for ResizeConfig {
    fn default() -> Self {
        Self {
            max_disruptions_per_workload: 1,
            memory_limit_decrease_in_place: true,
            allow_migration: true,
            memory_usage: BTreeMap::new(),
            namespace: default_ns(),
        }
    }
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum StepAction {
    /// In-place resize, no restart (`NotRequired`).
    InPlace,
    /// In-place resize restarting these containers (`RestartContainer`).
    RestartContainer {
        /// Containers restarted.
        containers: Vec<String>,
    },
    /// Evict and re-create at the new size on another node.
    Migrate {
        /// Source node.
        from: NodeId,
        /// Destination node.
        to: NodeId,
    },
}

/// Old and new resources of one container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContainerChange {
    /// Container name.
    pub name: String,
    /// Old requests (cpu, memory).
    pub old_requests: (MilliCpu, Bytes),
    /// New requests.
    pub new_requests: (MilliCpu, Bytes),
    /// Old limits (0 = none).
    pub old_limits: (MilliCpu, Bytes),
    /// New limits.
    pub new_limits: (MilliCpu, Bytes),
}

/// Why a step is not fully safe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum UnsafeReason {
    /// A memory limit decreases: the kubelet applies it only if usage is below
    /// the new limit when it checks (a race remains).
    MemoryLimitDecrease {
        /// Container.
        container: String,
        /// The new limit.
        new_limit: Bytes,
        /// Known usage, if any.
        usage: Option<Bytes>,
    },
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResizeStep {
    /// Position in the plan (0-based).
    pub index: usize,
    /// Wave: steps of one wave may run concurrently.
    pub wave: u32,
    /// The pod.
    pub pod: PodId,
    /// Its workload.
    pub workload: WorkloadId,
    /// Its node before the step.
    pub node: NodeId,
    /// What happens.
    pub action: StepAction,
    /// Containers that change.
    pub containers: Vec<ContainerChange>,
    /// The pod's request after the step.
    pub new_request: Resources,
    /// The `resize` subresource patch, or the Eviction for a migration.
    pub patch: Value,
    /// Risks of this step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsafe_reasons: Vec<UnsafeReason>,
}

impl ResizeStep {
    /// `true` when the step restarts or evicts the pod.
    pub fn is_disruptive(&self) -> bool {
        !matches!(self.action, StepAction::InPlace)
    }
}

/// Why a target could not be planned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum UnresolvedReason {
    /// The target sets a resource other than cpu and memory.
    NotResizable {
        /// Resource.
        resource: String,
    },
    /// The new sizes would change the pod's QoS class.
    QosWouldChange {
        /// Current class.
        from: QosClass,
        /// Class after the change.
        to: QosClass,
    },
    /// A request above its limit.
    RequestAboveLimit {
        /// Container.
        container: String,
    },
    /// Memory-limit decreases are not allowed in place on this cluster (< 1.34).
    MemoryLimitDecreaseNotAllowed {
        /// Container.
        container: String,
    },
    /// Known usage is above the new memory limit; the kubelet would not apply it.
    UsageAboveNewLimit {
        /// Container.
        container: String,
        /// Usage.
        usage: Bytes,
        /// New limit.
        new_limit: Bytes,
    },
    /// No node's allocatable can hold the new size (binding dimension).
    NoNodeFits {
        /// The dimension short on the closest node.
        dimension: Dimension,
    },
    /// Fits some node's allocatable, but no node has room now (not even after
    /// every other step): it would stay `Deferred`.
    InsufficientCapacity {
        /// The dimension short on the pod's node.
        dimension: Dimension,
    },
}

/// A target the plan does not reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unresolved {
    /// The pod (or the target's pod/workload name when unknown).
    pub pod: String,
    /// Why.
    pub reason: UnresolvedReason,
}

/// The plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResizePlan {
    /// Steps in execution order.
    pub steps: Vec<ResizeStep>,
    /// Targets not reached, with reasons.
    pub unresolved: Vec<Unresolved>,
    /// Hourly cost of nodes holding pods, before.
    pub cost_before: PricePerHour,
    /// Hourly cost of nodes holding pods, after.
    pub cost_after: PricePerHour,
    /// Sum of pod requests before.
    pub requested_before: Resources,
    /// Sum of pod requests after.
    pub requested_after: Resources,
    /// Steps that restart or evict.
    pub disruptions: usize,
    /// Number of waves.
    pub waves: u32,
}

/// Errors that prevent planning at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResizeError {
    /// A step failed to apply to the model state (a planner bug).
    #[error("internal: step for pod {pod} failed to apply: {source}")]
    Apply {
        /// The pod.
        pod: PodId,
        /// The model's error.
        source: AllocError,
    },
    /// A target names neither a pod nor a workload.
    #[error("targets[{index}]: give `pod` or `workload`")]
    TargetWithoutSubject {
        /// Index in the targets list.
        index: usize,
    },
    /// A target names a pod that is not running in the cluster.
    #[error("targets[{index}].pod: unknown pod {pod:?}")]
    UnknownPod {
        /// Index in the targets list.
        index: usize,
        /// The pod named.
        pod: String,
    },
    /// A target names a workload with no running pod in the cluster.
    #[error("targets[{index}].workload: no running pod of workload {workload:?}")]
    UnknownWorkload {
        /// Index in the targets list.
        index: usize,
        /// The workload named.
        workload: String,
    },
    /// A target names a container the pod does not have (or a
    /// non-restartable init container, which cannot be resized).
    #[error("targets[{index}].container: pod {pod} has no resizable container {container:?}")]
    UnknownContainer {
        /// Index in the targets list.
        index: usize,
        /// The pod (the first one lacking it, for a workload target).
        pod: String,
        /// The container named.
        container: String,
    },
    /// Two targets for the same pod (or workload) and container.
    #[error("targets[{index}]: duplicate of targets[{first}] (same {subject} and container {container:?})")]
    DuplicateTarget {
        /// Index of the second occurrence.
        index: usize,
        /// Index of the first.
        first: usize,
        /// `pod <name>` or `workload <name>`.
        subject: String,
        /// The container.
        container: String,
    },
    /// A target that changes neither cpu nor memory.
    #[error("targets[{index}]: sets neither a cpu nor a memory request or limit")]
    EmptyTarget {
        /// Index in the targets list.
        index: usize,
    },
}

impl ResizeError {
    /// The index of the offending target, for errors about one target.
    pub fn target_index(&self) -> Option<usize> {
        match self {
            ResizeError::TargetWithoutSubject { index }
            | ResizeError::UnknownPod { index, .. }
            | ResizeError::UnknownWorkload { index, .. }
            | ResizeError::UnknownContainer { index, .. }
            | ResizeError::DuplicateTarget { index, .. }
            | ResizeError::EmptyTarget { index } => Some(*index),
            ResizeError::Apply { .. } => None,
        }
    }
}

fn cpu_mem(r: &Resources) -> (MilliCpu, Bytes) {
    (r.cpu, r.memory)
}

/// New limit for one resource: explicit target limit, else proportional.
fn follow_limit(old_req: u64, old_lim: u64, new_req: u64) -> u64 {
    if old_lim == 0 {
        0
    } else if old_lim == old_req {
        new_req
    } else if old_req == 0 {
        old_lim.max(new_req)
    } else {
        let l = (u128::from(old_lim) * u128::from(new_req)).div_ceil(u128::from(old_req));
        (l.min(u128::from(u64::MAX)) as u64).max(new_req)
    }
}

fn container_mut<'a>(t: &'a mut PodTemplate, name: &str) -> Option<&'a mut Container> {
    if let Some(i) = t.containers.iter().position(|c| c.name == name) {
        return Some(&mut t.containers[i]);
    }
    t.init_containers
        .iter_mut()
        .find(|c| c.restartable && c.container.name == name)
        .map(|c| &mut c.container)
}

fn qty_cpu(m: MilliCpu) -> String {
    Quantity::from_millicpu(m).to_string()
}

fn qty_mem(b: Bytes) -> String {
    Quantity::from_bytes(b).to_string()
}

fn resources_json(r: (MilliCpu, Bytes)) -> Value {
    let mut m = serde_json::Map::new();
    if !r.0.is_zero() {
        m.insert("cpu".into(), json!(qty_cpu(r.0)));
    }
    if !r.1.is_zero() {
        m.insert("memory".into(), json!(qty_mem(r.1)));
    }
    Value::Object(m)
}

fn resize_patch(t: &PodTemplate, changes: &[ContainerChange]) -> Value {
    let mut containers = Vec::new();
    let mut inits = Vec::new();
    for ch in changes {
        let mut res = serde_json::Map::new();
        res.insert("requests".into(), resources_json(ch.new_requests));
        if ch.new_limits != (MilliCpu::ZERO, Bytes::ZERO) {
            res.insert("limits".into(), resources_json(ch.new_limits));
        }
        let entry = json!({"name": ch.name, "resources": res});
        if t.containers.iter().any(|c| c.name == ch.name) {
            containers.push(entry);
        } else {
            inits.push(entry);
        }
    }
    let mut spec = serde_json::Map::new();
    if !containers.is_empty() {
        spec.insert("containers".into(), Value::Array(containers));
    }
    if !inits.is_empty() {
        spec.insert("initContainers".into(), Value::Array(inits));
    }
    json!({ "spec": spec })
}

fn eviction(ns: &str, pod: &PodId) -> Value {
    json!({
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": pod.as_str(), "namespace": ns}
    })
}

/// Per container, the explicit limit target (if any).
type LimitTargets = Vec<(String, Option<Resources>)>;

/// A pod change the planner still has to schedule.
struct Pending {
    pod: PodId,
    new_template: PodTemplate,
    new_request: Resources,
    changes: Vec<ContainerChange>,
    restart: Vec<String>,
    unsafe_reasons: Vec<UnsafeReason>,
}

fn active_cost(p: &ResizeProblem, state: &ClusterState) -> PricePerHour {
    let used: BTreeSet<NodeIndex> = state.placements().values().map(|pl| pl.node).collect();
    used.iter()
        .filter_map(|n| p.node_prices.get(n))
        .copied()
        .sum()
}

fn total_requests(state: &ClusterState) -> Resources {
    state
        .placements()
        .values()
        .fold(Resources::zero(), |acc, pl| {
            acc.checked_add(&pl.request.resources).unwrap_or(acc)
        })
}

/// The first dimension (cpu, memory, in that order) where `req` exceeds `cap`.
fn short_dim(req: &Resources, cap: &Resources) -> Option<Dimension> {
    req.first_short(cap)
}

/// Checks what makes a targets list meaningless before anything is
/// planned: no subject, an unknown pod, workload or container, a duplicate
/// (same pod or workload and container), a target that changes nothing.
fn check_targets(problem: &ResizeProblem, targets: &[ResizeTarget]) -> Result<(), ResizeError> {
    let mut workload_pods: BTreeMap<&WorkloadId, Vec<&PodId>> = BTreeMap::new();
    for (p, i) in &problem.pods {
        workload_pods.entry(&i.workload).or_default().push(p);
    }
    let mut seen: BTreeMap<(bool, &str, &str), usize> = BTreeMap::new();
    for (index, t) in targets.iter().enumerate() {
        let (key, pods): ((bool, &str, &str), Vec<&PodId>) = match (&t.pod, &t.workload) {
            (Some(p), _) => {
                let Some((id, _)) = problem.pods.get_key_value(p) else {
                    return Err(ResizeError::UnknownPod {
                        index,
                        pod: p.to_string(),
                    });
                };
                ((true, p.as_str(), t.container.as_str()), vec![id])
            }
            (None, Some(w)) => {
                let Some(v) = workload_pods.get(w) else {
                    return Err(ResizeError::UnknownWorkload {
                        index,
                        workload: w.to_string(),
                    });
                };
                ((false, w.as_str(), t.container.as_str()), v.clone())
            }
            (None, None) => return Err(ResizeError::TargetWithoutSubject { index }),
        };
        if let Some(&first) = seen.get(&key) {
            return Err(ResizeError::DuplicateTarget {
                index,
                first,
                subject: format!("{} {}", if key.0 { "pod" } else { "workload" }, key.1),
                container: t.container.clone(),
            });
        }
        seen.insert(key, index);
        for pod in pods {
            let mut tmpl = problem.pods[pod].template.clone();
            if container_mut(&mut tmpl, &t.container).is_none() {
                return Err(ResizeError::UnknownContainer {
                    index,
                    pod: pod.to_string(),
                    container: t.container.clone(),
                });
            }
        }
        let limits_zero = t
            .limits
            .as_ref()
            .is_none_or(|l| l.cpu.is_zero() && l.memory.is_zero());
        if t.requests.cpu.is_zero() && t.requests.memory.is_zero() && limits_zero {
            return Err(ResizeError::EmptyTarget { index });
        }
    }
    Ok(())
}

/// Plans the resizes. A meaningless targets list is an error (see
/// [`ResizeError`]: unknown pod, workload or container, duplicate, empty
/// target); targets that cannot be reached become [`Unresolved`] entries
/// with the reason.
pub fn plan(
    problem: &ResizeProblem,
    targets: &[ResizeTarget],
    config: &ResizeConfig,
) -> Result<ResizePlan, ResizeError> {
    check_targets(problem, targets)?;
    let mut unresolved = Vec::new();
    // 1. Desired templates per pod: workload targets first, then pod targets.
    let mut desired: BTreeMap<PodId, (PodTemplate, LimitTargets)> = BTreeMap::new();
    let mut ordered: Vec<(usize, &ResizeTarget)> = targets.iter().enumerate().collect();
    ordered.sort_by_key(|(i, t)| (t.pod.is_some(), *i));
    let mut bad_pods: BTreeSet<PodId> = BTreeSet::new();
    let mut workload_pods: BTreeMap<&WorkloadId, Vec<PodId>> = BTreeMap::new();
    for (p, i) in &problem.pods {
        workload_pods
            .entry(&i.workload)
            .or_default()
            .push(p.clone());
    }
    for (index, t) in ordered {
        // `check_targets` guarantees the subject and its pods exist.
        let pods: Vec<PodId> = match (&t.pod, &t.workload) {
            (Some(p), _) => vec![p.clone()],
            (None, Some(w)) => workload_pods[w].clone(),
            (None, None) => return Err(ResizeError::TargetWithoutSubject { index }),
        };
        let extra = t.requests.ephemeral_storage != Bytes::ZERO
            || t.requests.pods != 0
            || !t.requests.extended.is_empty()
            || t.limits.as_ref().is_some_and(|l| {
                l.ephemeral_storage != Bytes::ZERO || l.pods != 0 || !l.extended.is_empty()
            });
        for pod in pods {
            if extra {
                unresolved.push(Unresolved {
                    pod: pod.to_string(),
                    reason: UnresolvedReason::NotResizable {
                        resource: "only cpu and memory can be resized in place".into(),
                    },
                });
                bad_pods.insert(pod);
                continue;
            }
            let entry = desired
                .entry(pod.clone())
                .or_insert_with(|| (problem.pods[&pod].template.clone(), Vec::new()));
            // `check_targets` guarantees the container exists.
            if let Some(c) = container_mut(&mut entry.0, &t.container) {
                if !t.requests.cpu.is_zero() {
                    c.requests.cpu = t.requests.cpu;
                }
                if !t.requests.memory.is_zero() {
                    c.requests.memory = t.requests.memory;
                }
                entry.1.retain(|(n, _)| n != &t.container);
                entry.1.push((t.container.clone(), t.limits.clone()));
            }
        }
    }
    // 2. Limits, QoS, memory-limit rules; build pending changes.
    let mut pending: Vec<Pending> = Vec::new();
    'pods: for (pod, (mut tmpl, limit_targets)) in desired {
        if bad_pods.contains(&pod) {
            continue;
        }
        let info = &problem.pods[&pod];
        let old = &info.template;
        let old_all: Vec<&Container> = old
            .containers
            .iter()
            .chain(old.init_containers.iter().map(|i| &i.container))
            .collect();
        for (name, explicit) in &limit_targets {
            let oldc = old_all.iter().find(|c| &c.name == name).expect("exists");
            let c = container_mut(&mut tmpl, name).expect("exists");
            let old_req = oldc.effective_requests();
            match explicit {
                Some(l) => {
                    if !l.cpu.is_zero() {
                        c.limits.cpu = l.cpu;
                    } else {
                        c.limits.cpu = MilliCpu::new(follow_limit(
                            old_req.cpu.get(),
                            oldc.limits.cpu.get(),
                            c.requests.cpu.get(),
                        ));
                    }
                    if !l.memory.is_zero() {
                        c.limits.memory = l.memory;
                    } else {
                        c.limits.memory = Bytes::new(follow_limit(
                            old_req.memory.get(),
                            oldc.limits.memory.get(),
                            c.requests.memory.get(),
                        ));
                    }
                }
                None => {
                    c.limits.cpu = MilliCpu::new(follow_limit(
                        old_req.cpu.get(),
                        oldc.limits.cpu.get(),
                        c.requests.cpu.get(),
                    ));
                    c.limits.memory = Bytes::new(follow_limit(
                        old_req.memory.get(),
                        oldc.limits.memory.get(),
                        c.requests.memory.get(),
                    ));
                }
            }
            let r = c.effective_requests();
            if (!c.limits.cpu.is_zero() && r.cpu > c.limits.cpu)
                || (!c.limits.memory.is_zero() && r.memory > c.limits.memory)
            {
                unresolved.push(Unresolved {
                    pod: pod.to_string(),
                    reason: UnresolvedReason::RequestAboveLimit {
                        container: name.clone(),
                    },
                });
                continue 'pods;
            }
        }
        let (from, to) = (old.qos_class(), tmpl.qos_class());
        if from != to {
            unresolved.push(Unresolved {
                pod: pod.to_string(),
                reason: UnresolvedReason::QosWouldChange { from, to },
            });
            continue;
        }
        let mut changes = Vec::new();
        let mut restart = Vec::new();
        let mut unsafe_reasons = Vec::new();
        let new_all: Vec<&Container> = tmpl
            .containers
            .iter()
            .chain(tmpl.init_containers.iter().map(|i| &i.container))
            .collect();
        for (oc, nc) in old_all.iter().zip(new_all.iter()) {
            let (or, nr) = (oc.effective_requests(), nc.effective_requests());
            let cpu_changed = or.cpu != nr.cpu || oc.limits.cpu != nc.limits.cpu;
            let mem_changed = or.memory != nr.memory || oc.limits.memory != nc.limits.memory;
            if !cpu_changed && !mem_changed {
                continue;
            }
            if nc.limits.memory < oc.limits.memory {
                let usage = config
                    .memory_usage
                    .get(&(pod.clone(), nc.name.clone()))
                    .copied();
                if nc.resize_policy_for(ResizableResource::Memory)
                    == ResizeRestartPolicy::NotRequired
                {
                    if !config.memory_limit_decrease_in_place {
                        unresolved.push(Unresolved {
                            pod: pod.to_string(),
                            reason: UnresolvedReason::MemoryLimitDecreaseNotAllowed {
                                container: nc.name.clone(),
                            },
                        });
                        continue 'pods;
                    }
                    if let Some(u) = usage.filter(|u| *u > nc.limits.memory) {
                        unresolved.push(Unresolved {
                            pod: pod.to_string(),
                            reason: UnresolvedReason::UsageAboveNewLimit {
                                container: nc.name.clone(),
                                usage: u,
                                new_limit: nc.limits.memory,
                            },
                        });
                        continue 'pods;
                    }
                    unsafe_reasons.push(UnsafeReason::MemoryLimitDecrease {
                        container: nc.name.clone(),
                        new_limit: nc.limits.memory,
                        usage,
                    });
                }
            }
            let needs_restart = (cpu_changed
                && nc.resize_policy_for(ResizableResource::Cpu)
                    == ResizeRestartPolicy::RestartContainer)
                || (mem_changed
                    && nc.resize_policy_for(ResizableResource::Memory)
                        == ResizeRestartPolicy::RestartContainer);
            if needs_restart {
                restart.push(nc.name.clone());
            }
            changes.push(ContainerChange {
                name: nc.name.clone(),
                old_requests: cpu_mem(&or),
                new_requests: cpu_mem(&nr),
                old_limits: cpu_mem(&oc.limits),
                new_limits: cpu_mem(&nc.limits),
            });
        }
        if changes.is_empty() {
            continue;
        }
        let placement = &problem.state.placements()[&pod];
        let mut new_request = placement.request.resources.clone();
        let tr = tmpl.request();
        new_request.cpu = tr.cpu;
        new_request.memory = tr.memory;
        pending.push(Pending {
            pod,
            new_template: tmpl,
            new_request,
            changes,
            restart,
            unsafe_reasons,
        });
    }

    // 3. Schedule.
    let mut state = problem.state.clone();
    let cost_before = active_cost(problem, &state);
    let requested_before = total_requests(&state);
    let is_shrink = |p: &Pending, st: &ClusterState| {
        let old = &st.placements()[&p.pod].request.resources;
        p.new_request.cpu <= old.cpu && p.new_request.memory <= old.memory
    };
    let infeasible_here = |p: &Pending, st: &ClusterState| {
        let node = st.placements()[&p.pod].node;
        short_dim(&p.new_request, &st.node(node).allocatable).is_some()
    };
    // phases: (steps with their "mixed" flag, sequential)
    let mut phases: Vec<(Vec<(ResizeStep, bool)>, bool)> = Vec::new();
    let in_place = |state: &mut ClusterState,
                    p: &Pending|
     -> Result<Option<(ResizeStep, bool)>, ResizeError> {
        let node = state.placements()[&p.pod].node;
        let o = &state.placements()[&p.pod].request.resources;
        let n = &p.new_request;
        let mixed =
            !((n.cpu <= o.cpu && n.memory <= o.memory) || (n.cpu >= o.cpu && n.memory >= o.memory));
        match state.resize(&p.pod, p.new_request.clone()) {
            Ok(()) => Ok(Some((
                ResizeStep {
                    index: 0,
                    wave: 0,
                    pod: p.pod.clone(),
                    workload: problem.pods[&p.pod].workload.clone(),
                    node: state.node(node).id.clone(),
                    action: if p.restart.is_empty() {
                        StepAction::InPlace
                    } else {
                        StepAction::RestartContainer {
                            containers: p.restart.clone(),
                        }
                    },
                    containers: p.changes.clone(),
                    new_request: p.new_request.clone(),
                    patch: resize_patch(&p.new_template, &p.changes),
                    unsafe_reasons: p.unsafe_reasons.clone(),
                },
                mixed,
            ))),
            Err(AllocError::Insufficient { .. }) => Ok(None),
            Err(source) => Err(ResizeError::Apply {
                pod: p.pod.clone(),
                source,
            }),
        }
    };
    // Phase 1: shrinks.
    let (shrinks, mut grows): (Vec<Pending>, Vec<Pending>) =
        pending.into_iter().partition(|p| is_shrink(p, &state));
    let mut steps1 = Vec::new();
    for p in &shrinks {
        if let Some(s) = in_place(&mut state, p)? {
            steps1.push(s);
        }
    }
    phases.push((steps1, false));
    // Phase 2: feasible grows that fit now.
    let mut steps2 = Vec::new();
    let mut rest = Vec::new();
    for p in grows.drain(..) {
        if !infeasible_here(&p, &state) {
            if let Some(s) = in_place(&mut state, &p)? {
                steps2.push(s);
                continue;
            }
        }
        rest.push(p);
    }
    phases.push((steps2, false));
    // Phase 3: migrate pods whose node could never hold them.
    // Destinations come from an index of the nodes by free (cpu, memory):
    // the best fit is the first node from the request upwards that passes
    // the full check, so a migration no longer scans every node.
    let mut free_index = FreeIndex::new(&state);
    let migrate =
        |state: &mut ClusterState, index: &mut FreeIndex, p: &Pending| -> Option<ResizeStep> {
            let placement = state.placements()[&p.pod].clone();
            let mut req = placement.request.clone();
            req.resources = p.new_request.clone();
            let (to, dev) = index.best_fit(state, &req, placement.node)?;
            let from_id = state.node(placement.node).id.clone();
            state.release(&p.pod).ok()?;
            if state.allocate(p.pod.clone(), &req, to, &dev).is_err() {
                // Cannot happen (checked); restore.
                let _ = state.allocate(
                    p.pod.clone(),
                    &placement.request,
                    placement.node,
                    &placement.devices,
                );
                return None;
            }
            index.update(state, placement.node);
            index.update(state, to);
            Some(ResizeStep {
                index: 0,
                wave: 0,
                pod: p.pod.clone(),
                workload: problem.pods[&p.pod].workload.clone(),
                node: from_id.clone(),
                action: StepAction::Migrate {
                    from: from_id,
                    to: state.node(to).id.clone(),
                },
                containers: p.changes.clone(),
                new_request: p.new_request.clone(),
                patch: eviction(&config.namespace, &p.pod),
                unsafe_reasons: Vec::new(),
            })
        };
    let mut steps3 = Vec::new();
    let mut deferred = Vec::new();
    let mut no_fit_memo = NoFitMemo::new();
    for p in rest {
        if infeasible_here(&p, &state) {
            if config.allow_migration {
                if let Some(s) = migrate(&mut state, &mut free_index, &p) {
                    steps3.push((s, false));
                    continue;
                }
            }
            unresolved.push(no_fit(&p, &state, &mut no_fit_memo));
        } else {
            deferred.push(p);
        }
    }
    phases.push((steps3, true));
    // Phase 4: grows that fit after migrations freed space.
    let mut steps4 = Vec::new();
    let mut still = Vec::new();
    for p in deferred {
        if let Some(s) = in_place(&mut state, &p)? {
            free_index.update(&state, state.placements()[&p.pod].node);
            steps4.push(s);
        } else {
            still.push(p);
        }
    }
    phases.push((steps4, false));
    // Phase 5: migrate what is still blocked.
    let mut steps5 = Vec::new();
    for p in still {
        if config.allow_migration {
            if let Some(s) = migrate(&mut state, &mut free_index, &p) {
                steps5.push((s, false));
                continue;
            }
        }
        let node = state.placements()[&p.pod].node;
        let own = &state.placements()[&p.pod].request.resources;
        let avail = state
            .node_free(node)
            .resources
            .checked_add(own)
            .unwrap_or_default();
        unresolved.push(Unresolved {
            pod: p.pod.to_string(),
            reason: UnresolvedReason::InsufficientCapacity {
                dimension: short_dim(&p.new_request, &avail).unwrap_or(Dimension::Cpu),
            },
        });
    }
    phases.push((steps5, true));

    // 4. Waves and numbering.
    let k = config.max_disruptions_per_workload.max(1) as usize;
    let mut steps = Vec::new();
    let mut wave_base = 0u32;
    for (ph, sequential) in phases {
        if ph.is_empty() {
            continue;
        }
        if sequential {
            // Migrations, in planned order, share a wave while no workload
            // exceeds its disruption budget and no migration lands on a node
            // an earlier one of the wave vacates (it may need that space).
            // Then the wave's migrations fit in any order: each destination
            // held its pod next to the earlier arrivals, and a departure
            // only frees space.
            let mut count: BTreeMap<WorkloadId, usize> = BTreeMap::new();
            let mut vacated: BTreeSet<NodeId> = BTreeSet::new();
            for (mut s, _) in ph {
                let (from, to) = match &s.action {
                    StepAction::Migrate { from, to } => (from.clone(), to.clone()),
                    _ => (s.node.clone(), s.node.clone()),
                };
                let c = count.get(&s.workload).copied().unwrap_or(0);
                if c >= k || vacated.contains(&to) {
                    wave_base += 1;
                    count.clear();
                    vacated.clear();
                }
                s.wave = wave_base;
                *count.entry(s.workload.clone()).or_insert(0) += 1;
                vacated.insert(from);
                steps.push(s);
            }
            wave_base += 1;
            continue;
        }
        // Split the phase into segments at each mixed step (one dimension up,
        // another down): it may free what later steps use, so it runs alone
        // and in its planned position. Within a segment every step only
        // shrinks (or only grows), so any order and any concurrency is safe.
        let mut segments: Vec<Vec<ResizeStep>> = vec![Vec::new()];
        for (s, mixed) in ph {
            if mixed {
                segments.push(vec![s]);
                segments.push(Vec::new());
            } else {
                segments.last_mut().expect("non-empty").push(s);
            }
        }
        for mut seg in segments.into_iter().filter(|g| !g.is_empty()) {
            let mut count: BTreeMap<WorkloadId, usize> = BTreeMap::new();
            for s in &mut seg {
                let sub = if s.is_disruptive() {
                    let c = count.entry(s.workload.clone()).or_insert(0);
                    let w = *c / k;
                    *c += 1;
                    w
                } else {
                    0
                };
                s.wave = wave_base + sub as u32;
            }
            let max_wave = seg.iter().map(|s| s.wave).max().unwrap_or(wave_base);
            seg.sort_by(|a, b| a.wave.cmp(&b.wave).then_with(|| a.pod.cmp(&b.pod)));
            steps.extend(seg);
            wave_base = max_wave + 1;
        }
    }
    for (i, s) in steps.iter_mut().enumerate() {
        s.index = i;
    }
    let disruptions = steps.iter().filter(|s| s.is_disruptive()).count();
    Ok(ResizePlan {
        cost_before,
        cost_after: active_cost(problem, &state),
        requested_before,
        requested_after: total_requests(&state),
        disruptions,
        waves: wave_base,
        steps,
        unresolved,
    })
}

/// Per new request, what [`no_fit`] learns from scanning every node (the
/// allocatable never changes): the binding dimension and whether some node
/// could hold it. Pods of one workload share a request, so each distinct
/// request is scanned once.
type NoFitMemo = std::collections::HashMap<Resources, (Dimension, bool)>;

fn no_fit(p: &Pending, state: &ClusterState, memo: &mut NoFitMemo) -> Unresolved {
    let (dimension, fits_somewhere) = memo
        .entry(p.new_request.clone())
        .or_insert_with(|| scan_no_fit(p, state))
        .clone();
    let node = state.placements()[&p.pod].node;
    Unresolved {
        pod: p.pod.to_string(),
        reason: if fits_somewhere {
            UnresolvedReason::InsufficientCapacity {
                dimension: short_dim(&p.new_request, &state.node(node).allocatable)
                    .unwrap_or(dimension),
            }
        } else {
            UnresolvedReason::NoNodeFits { dimension }
        },
    }
}

fn scan_no_fit(p: &Pending, state: &ClusterState) -> (Dimension, bool) {
    // Binding dimension: on the node that comes closest (fewest short
    // dimensions, then smallest worst ratio), the most overshot dimension.
    let mut best: Option<(usize, f64, Dimension)> = None;
    for n in state.nodes() {
        let a = &n.allocatable;
        let ratios = [
            (
                Dimension::Cpu,
                p.new_request.cpu.ratio_of(a.cpu),
                p.new_request.cpu > a.cpu,
            ),
            (
                Dimension::Memory,
                p.new_request.memory.ratio_of(a.memory),
                p.new_request.memory > a.memory,
            ),
        ];
        let short = ratios.iter().filter(|r| r.2).count();
        let worst = ratios
            .iter()
            .filter(|r| r.2)
            .max_by(|x, y| x.1.total_cmp(&y.1))
            .map(|r| (r.1, r.0.clone()));
        let (ratio, dim) = match worst {
            Some(w) => w,
            None => match p.new_request.first_short(a) {
                Some(d) => (f64::INFINITY, d),
                None => (0.0, Dimension::Cpu),
            },
        };
        if best.as_ref().is_none_or(|b| (short, ratio) < (b.0, b.1)) {
            best = Some((short, ratio, dim));
        }
    }
    let dimension = best.map_or(Dimension::Cpu, |b| b.2);
    let fits_somewhere = state
        .nodes()
        .iter()
        .any(|n| p.new_request.first_short(&n.allocatable).is_none());
    (dimension, fits_somewhere)
}

/// Nodes ordered by free (cpu, memory, index), kept current as pods move.
struct FreeIndex {
    keys: Vec<(u64, u64)>,
    set: BTreeSet<(u64, u64, u32)>,
}

impl FreeIndex {
    fn key(state: &ClusterState, n: NodeIndex) -> (u64, u64) {
        let f = &state.node_free(n).resources;
        (f.cpu.get(), f.memory.get())
    }

    fn new(state: &ClusterState) -> Self {
        let keys: Vec<(u64, u64)> = (0..state.len())
            .map(|i| Self::key(state, NodeIndex(i as u32)))
            .collect();
        let set = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.0, k.1, i as u32))
            .collect();
        FreeIndex { keys, set }
    }

    fn update(&mut self, state: &ClusterState, n: NodeIndex) {
        let i = n.0 as usize;
        let old = self.keys[i];
        self.set.remove(&(old.0, old.1, n.0));
        let k = Self::key(state, n);
        self.keys[i] = k;
        self.set.insert((k.0, k.1, n.0));
    }

    /// The node other than `except` with the least free (cpu, then memory)
    /// left after `req` that holds it now, with its devices; ties: the
    /// lowest index.
    fn best_fit(
        &self,
        state: &ClusterState,
        req: &rightsizer_model::workload::PodRequest,
        except: NodeIndex,
    ) -> Option<(NodeIndex, rightsizer_model::cluster::DeviceAssignment)> {
        let (cpu, mem) = (req.resources.cpu.get(), req.resources.memory.get());
        for &(_, fm, i) in self.set.range((cpu, 0, 0)..) {
            let n = NodeIndex(i);
            if fm < mem || n == except {
                continue;
            }
            let Some(dev) = state.first_fit_devices(req, n) else {
                continue;
            };
            if state.check(req, n, &dev).is_ok() {
                return Some((n, dev));
            }
        }
        None
    }
}
