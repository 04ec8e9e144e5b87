//! Pods and pod templates → workloads: effective requests exactly as the
//! scheduler computes them, QoS, scheduling constraints, gang membership and
//! the GPU-sharing dialects.

use crate::error::{ImportError, ObjectRef, Unsupported};
use crate::node::is_accelerator_resource;
use crate::quantity::{amount, amount_at, ResourceAmount};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rightsizer_model::accelerator::AcceleratorKind;
use rightsizer_model::ids::{AcceleratorModelId, WorkloadId};
use rightsizer_model::node::TaintEffect;
use rightsizer_model::resources::Resources;
use rightsizer_model::units::{Bytes, GpuMilli, MilliCpu};
use rightsizer_model::workload::{
    AcceleratorDemand, Container, ContainerResizePolicy, InitContainer, PodTemplate, QosClass,
    ResizableResource, ResizeRestartPolicy, Toleration, Workload,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// A resource list in base units: `cpu` in milli-cores, everything else in
/// whole units (bytes for memory and storage), ordered by name.
pub type ResourceMap = BTreeMap<String, u64>;

/// Resources the pod-level `spec.resources` may set (upstream
/// `IsSupportedPodLevelResource`: cpu, memory and hugepages).
pub fn is_pod_level_resource(name: &str) -> bool {
    name == "cpu" || name == "memory" || name.starts_with("hugepages-")
}

fn base_units(name: &str, a: &ResourceAmount) -> u64 {
    if name == "cpu" {
        a.cpu.get()
    } else {
        a.whole
    }
}

/// Converts a resource list; `path` builds the list's field path, only on error.
fn to_map(
    list: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
    obj: &ObjectRef,
    path: impl Fn() -> String,
) -> Result<ResourceMap, ImportError> {
    let mut m = ResourceMap::new();
    for (k, q) in list.into_iter().flatten() {
        let a = amount_at(&q.0, obj, || format!("{}.{k}", path()))?;
        m.insert(k.clone(), base_units(k, &a));
    }
    Ok(m)
}

fn add_into(acc: &mut ResourceMap, other: &ResourceMap) {
    for (k, v) in other {
        let e = acc.entry(k.clone()).or_insert(0);
        *e = e.saturating_add(*v);
    }
}

fn max_into(acc: &mut ResourceMap, other: &ResourceMap) {
    for (k, v) in other {
        let e = acc.entry(k.clone()).or_insert(0);
        *e = (*e).max(*v);
    }
}

/// A container's requests and limits after API defaulting (a resource with a
/// limit and no request gets the limit as its request).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContainerResources {
    /// Container name.
    pub name: String,
    /// Requests (defaulted).
    pub requests: ResourceMap,
    /// Limits.
    pub limits: ResourceMap,
    /// `restartPolicy: Always` on an init container (a sidecar).
    pub sidecar: bool,
}

/// `path` builds the container's field path, only on error.
fn container_resources(
    c: &core::Container,
    obj: &ObjectRef,
    path: impl Fn() -> String,
) -> Result<ContainerResources, ImportError> {
    let res = c.resources.as_ref();
    let limits = to_map(res.and_then(|r| r.limits.as_ref()), obj, || {
        format!("{}.resources.limits", path())
    })?;
    let mut requests = to_map(res.and_then(|r| r.requests.as_ref()), obj, || {
        format!("{}.resources.requests", path())
    })?;
    for (k, v) in &limits {
        requests.entry(k.clone()).or_insert(*v);
    }
    Ok(ContainerResources {
        name: c.name.clone(),
        requests,
        limits,
        sidecar: c.restart_policy.as_deref() == Some("Always"),
    })
}

/// The scheduler's view of a pod's resources.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EffectiveRequest {
    /// The effective request (upstream `PodRequests`).
    pub requests: ResourceMap,
    /// Which rule decided each resource: `containers`, `init`, `pod-level`
    /// (before overhead, which is added to all).
    pub decided_by: BTreeMap<String, &'static str>,
    /// Regular containers, defaulted.
    pub containers: Vec<ContainerResources>,
    /// Init containers (sidecars flagged), defaulted.
    pub init_containers: Vec<ContainerResources>,
    /// Pod-level requests, when `spec.resources` sets any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_level: Option<ResourceMap>,
    /// Pod-level limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_level_limits: Option<ResourceMap>,
    /// `spec.overhead`.
    pub overhead: ResourceMap,
}

/// Computes a pod's effective request as `k8s.io/component-helpers/resource`
/// `PodRequests` does:
///
/// 1. each container's requests are defaulted from its limits;
/// 2. `reqs` = Σ regular containers + Σ restartable init containers (sidecars);
/// 3. for each init container in order: a sidecar adds itself to the running
///    sidecar sum and the candidate is that sum; a plain init container's
///    candidate is itself + the sidecars started before it; `reqs = max(reqs,
///    max candidate)` per resource;
/// 4. pod-level `spec.resources.requests` (defaulted from pod-level limits)
///    replace the aggregate for the resources it may set (cpu, memory,
///    hugepages-*);
/// 5. `spec.overhead` is added.
///
/// Units: cpu in milli-cores (each quantity rounded up to 1m), the rest in
/// whole units.
///
/// ```
/// use rightsizer_k8s::pod::effective_request;
/// let spec: k8s_openapi::api::core::v1::PodSpec = serde_json::from_value(serde_json::json!({
///   "initContainers": [
///     {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "200m"}}},
///     {"name": "migrate", "resources": {"requests": {"cpu": "2"}}}],
///   "containers": [{"name": "app", "resources": {"requests": {"cpu": "1"}}}],
///   "overhead": {"cpu": "250m"}
/// }))?;
/// let r = effective_request(&spec, &Default::default())?;
/// // max(1 + 0.2, 2 + 0.2) + 0.25
/// assert_eq!(r.requests["cpu"], 2_450);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ImportError::Object`] naming the field when a quantity is malformed.
pub fn effective_request(
    spec: &core::PodSpec,
    obj: &ObjectRef,
) -> Result<EffectiveRequest, ImportError> {
    effective_request_at(spec, obj, "spec")
}

pub(crate) fn effective_request_at(
    spec: &core::PodSpec,
    obj: &ObjectRef,
    at: &str,
) -> Result<EffectiveRequest, ImportError> {
    let containers = spec
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| container_resources(c, obj, || format!("{at}.containers[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let init_containers = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| container_resources(c, obj, || format!("{at}.initContainers[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut reqs = ResourceMap::new();
    let mut decided_by = BTreeMap::new();
    for c in &containers {
        add_into(&mut reqs, &c.requests);
    }
    let mut sidecars = ResourceMap::new();
    let mut init_peak = ResourceMap::new();
    for c in &init_containers {
        if c.sidecar {
            add_into(&mut reqs, &c.requests);
            add_into(&mut sidecars, &c.requests);
            max_into(&mut init_peak, &sidecars);
        } else {
            let mut cand = c.requests.clone();
            add_into(&mut cand, &sidecars);
            max_into(&mut init_peak, &cand);
        }
    }
    for k in reqs.keys() {
        decided_by.insert(k.clone(), "containers");
    }
    for (k, v) in &init_peak {
        let e = reqs.entry(k.clone()).or_insert(0);
        if *v > *e {
            *e = *v;
            decided_by.insert(k.clone(), "init");
        }
    }
    let (pod_level, pod_level_limits) = match &spec.resources {
        Some(r) => {
            let limits = to_map(r.limits.as_ref(), obj, || format!("{at}.resources.limits"))?;
            let mut requests = to_map(r.requests.as_ref(), obj, || {
                format!("{at}.resources.requests")
            })?;
            for (k, v) in &limits {
                if is_pod_level_resource(k) {
                    requests.entry(k.clone()).or_insert(*v);
                }
            }
            (
                Some(requests).filter(|m| !m.is_empty()),
                Some(limits).filter(|m| !m.is_empty()),
            )
        }
        None => (None, None),
    };
    if let Some(pl) = &pod_level {
        for (k, v) in pl {
            if is_pod_level_resource(k) {
                reqs.insert(k.clone(), *v);
                decided_by.insert(k.clone(), "pod-level");
            }
        }
    }
    let overhead = to_map(spec.overhead.as_ref(), obj, || format!("{at}.overhead"))?;
    add_into(&mut reqs, &overhead);
    Ok(EffectiveRequest {
        requests: reqs,
        decided_by,
        containers,
        init_containers,
        pod_level,
        pod_level_limits,
        overhead,
    })
}

/// Converts a resource map to model [`Resources`], leaving accelerator
/// resources out.
pub fn map_to_resources(m: &ResourceMap) -> Resources {
    let mut r = Resources::zero();
    for (k, v) in m {
        match k.as_str() {
            "cpu" => r.cpu = MilliCpu::new(*v),
            "memory" => r.memory = Bytes::new(*v),
            "ephemeral-storage" => r.ephemeral_storage = Bytes::new(*v),
            "pods" => r.pods = u32::try_from(*v).unwrap_or(u32::MAX),
            n if is_accelerator_resource(n) => {}
            _ => {
                if *v > 0 {
                    r.extended.insert(k.clone(), *v);
                }
            }
        }
    }
    r
}

/// The QoS class from the defaulted containers, as `GetPodQOS` computes it
/// (pod-level resources, when set, decide instead).
pub fn qos_class(e: &EffectiveRequest) -> QosClass {
    if let Some(pl) = &e.pod_level {
        let lim = e.pod_level_limits.clone().unwrap_or_default();
        let has = |m: &ResourceMap| {
            m.iter()
                .any(|(k, v)| (k == "cpu" || k == "memory") && *v > 0)
        };
        if !has(pl) && !has(&lim) {
            // Fall through to the container rule (upstream does the same when
            // pod-level resources set neither cpu nor memory).
        } else {
            let guaranteed = ["cpu", "memory"].iter().all(|k| {
                lim.get(*k)
                    .is_some_and(|l| *l > 0 && pl.get(*k).is_none_or(|r| r == l))
            });
            return if guaranteed {
                QosClass::Guaranteed
            } else {
                QosClass::Burstable
            };
        }
    }
    model_template(e).qos_class()
}

fn model_container(c: &ContainerResources) -> Container {
    Container {
        name: c.name.clone(),
        requests: map_to_resources(&c.requests),
        limits: map_to_resources(&c.limits),
        resize_policy: Vec::new(),
    }
}

/// The model pod template (containers with defaulted requests, sidecars,
/// overhead).
pub(crate) fn model_template(e: &EffectiveRequest) -> PodTemplate {
    PodTemplate {
        containers: e.containers.iter().map(model_container).collect(),
        init_containers: e
            .init_containers
            .iter()
            .map(|c| InitContainer {
                container: model_container(c),
                restartable: c.sidecar,
            })
            .collect(),
        overhead: map_to_resources(&e.overhead),
    }
}

/// A required node-affinity expression (`requiredDuringScheduling…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "operator", rename_all = "PascalCase")]
#[non_exhaustive]
pub enum NodeRequirement {
    /// Label value in the set.
    In {
        /// Label key.
        key: String,
        /// Values.
        values: Vec<String>,
    },
    /// Label absent or value not in the set.
    NotIn {
        /// Label key.
        key: String,
        /// Values.
        values: Vec<String>,
    },
    /// Label present.
    Exists {
        /// Label key.
        key: String,
    },
    /// Label absent.
    DoesNotExist {
        /// Label key.
        key: String,
    },
    /// Label value, as an integer, greater than `value`.
    Gt {
        /// Label key.
        key: String,
        /// Bound.
        value: i64,
    },
    /// Label value, as an integer, less than `value`.
    Lt {
        /// Label key.
        key: String,
        /// Bound.
        value: i64,
    },
}

impl NodeRequirement {
    /// Kubernetes' label-selector semantics for one requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            NodeRequirement::In { key, values } => {
                labels.get(key).is_some_and(|v| values.contains(v))
            }
            NodeRequirement::NotIn { key, values } => {
                labels.get(key).is_none_or(|v| !values.contains(v))
            }
            NodeRequirement::Exists { key } => labels.contains_key(key),
            NodeRequirement::DoesNotExist { key } => !labels.contains_key(key),
            NodeRequirement::Gt { key, value } => labels
                .get(key)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *value),
            NodeRequirement::Lt { key, value } => labels
                .get(key)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *value),
        }
    }
}

/// The GPU-sharing dialect a demand was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Dialect {
    /// A whole-device extended resource (`nvidia.com/gpu`, `amd.com/gpu`, …).
    DevicePlugin,
    /// HAMi vGPU (`nvidia.com/gpumem`, `gpumem-percentage`, `gpucores`).
    Hami,
    /// KAI / Run:ai annotations (`gpu-fraction`, `gpu-memory`).
    Kai,
    /// Koordinator (`koordinator.sh/gpu-core`, `gpu-memory`, `gpu-memory-ratio`).
    Koordinator,
    /// Aliyun gpushare (`aliyun.com/gpu-mem`).
    AliyunGpushare,
    /// Alibaba open-simulator (`alibabacloud.com/gpu-milli`, `gpu-count`).
    AlibabaSimulator,
    /// NVIDIA MIG resources (`nvidia.com/mig-<profile>`).
    Mig,
    /// Huawei Ascend (device or HAMi-style memory).
    Ascend,
    /// AWS NeuronCores (`aws.amazon.com/neuroncore`).
    NeuronCore,
}

/// A per-device share as the dialect stated it, before it is mapped onto a
/// device model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GpuShare {
    /// Devices the share spans (HAMi `nvidia.com/gpu`, KAI fraction devices).
    pub devices: u32,
    /// Compute per device in milli-devices, when stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milli: Option<u32>,
    /// Device memory per device, when stated in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Bytes>,
    /// Device memory per device as a percentage of the card, when stated so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_percent: Option<u32>,
}

/// Accelerator demand as read, with its dialect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AcceleratorRequest {
    /// The dialect.
    pub dialect: Dialect,
    /// The resource or annotation it came from.
    pub source: String,
    /// The model demand it maps onto.
    pub demand: AcceleratorDemand,
    /// The share as stated (for fractional dialects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<GpuShare>,
}

impl AcceleratorRequest {
    /// The vendor (as the catalog spells it) and, where the resource says,
    /// the kind of device the request can use: `amd.com/gpu` only runs on
    /// AMD GPUs, `habana.ai/gaudi` on Gaudi, the NVIDIA device plugin, MIG
    /// and the GPU-sharing dialects (HAMi, KAI, Koordinator, gpushare) on
    /// NVIDIA GPUs. `None` when the source names no vendor.
    pub fn vendor(&self) -> Option<(&'static str, Option<AcceleratorKind>)> {
        use AcceleratorKind::{Asic, Gpu, Tpu};
        Some(match self.dialect {
            Dialect::Hami
            | Dialect::Kai
            | Dialect::Koordinator
            | Dialect::AliyunGpushare
            | Dialect::AlibabaSimulator
            | Dialect::Mig => ("NVIDIA", Some(Gpu)),
            Dialect::Ascend => ("Huawei", Some(Asic)),
            Dialect::NeuronCore => ("AWS", Some(Asic)),
            Dialect::DevicePlugin => {
                let r = self.source.as_str();
                if r.starts_with("nvidia.com/") {
                    ("NVIDIA", Some(Gpu))
                } else if r.starts_with("amd.com/") {
                    ("AMD", Some(Gpu))
                } else if r.starts_with("aws.amazon.com/") {
                    ("AWS", Some(Asic))
                } else if r.starts_with("habana.ai/") {
                    ("Intel", Some(Asic))
                } else if r.starts_with("gpu.intel.com/") {
                    ("Intel", Some(Gpu))
                } else if r.starts_with("google.com/tpu") {
                    ("Google", Some(Tpu))
                } else if r.starts_with("huawei.com/") {
                    ("Huawei", Some(Asic))
                } else {
                    return None;
                }
            }
        })
    }
}

/// A reference to a DRA claim from the pod spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimRef {
    /// `spec.resourceClaims[].name`.
    pub name: String,
    /// `resourceClaimName`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// `resourceClaimTemplateName`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// A gang reference of a pod (the group is resolved against PodGroups in the dump).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GangRef {
    /// Who defines the group.
    pub dialect: GangDialect,
    /// Group name (namespace-local).
    pub name: String,
    /// Minimum members, when the pod or the dump states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_members: Option<u32>,
}

/// Gang-scheduling systems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum GangDialect {
    /// scheduler-plugins Coscheduling (`scheduling.x-k8s.io`).
    SchedulerPlugins,
    /// Volcano (`scheduling.volcano.sh`).
    Volcano,
    /// In-tree Workload / PodGroup (`scheduling.k8s.io`).
    InTree,
    /// Kueue plain-pod groups.
    Kueue,
    /// Run:ai / KAI pod groups.
    Kai,
}

/// Kueue topology-aware scheduling annotations of a pod set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KueueTopology {
    /// `podset-required-topology`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    /// `podset-preferred-topology`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred: Option<String>,
    /// `podset-unconstrained-topology`.
    pub unconstrained: bool,
    /// `podset-slice-required-topology`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice_required: Option<String>,
    /// `podset-slice-size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice_size: Option<u32>,
}

/// A workload as imported: the model workload plus what Kubernetes says
/// beyond it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportedWorkload {
    /// The object it came from (for controllers, with the role appended to the name).
    pub object: ObjectRef,
    /// The model workload.
    pub workload: Workload,
    /// Effective request per pod, with the rules that decided it.
    pub effective: EffectiveRequest,
    /// QoS class.
    pub qos: QosClass,
    /// `spec.restartPolicy` (default `Always`).
    pub restart_policy: String,
    /// `spec.nodeName`, when bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// `spec.schedulerName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    /// `spec.priorityClassName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    /// Required node affinity: a node must match every requirement of at
    /// least one term (empty = no constraint).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required_affinity: Vec<Vec<NodeRequirement>>,
    /// Accelerator demand with its dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<AcceleratorRequest>,
    /// DRA claims.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimRef>,
    /// Gang membership.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gang: Option<GangRef>,
    /// Kueue TAS annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kueue_topology: Option<KueueTopology>,
    /// `status.phase` of a dumped pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// `spec.runtimeClassName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_class: Option<String>,
    /// The controller of a dumped pod (the `ownerReferences` entry with
    /// `controller: true`). A ReplicaSet named `<name>-<pod-template-hash>`
    /// is reported as the Deployment `<name>` that owns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<ObjectRef>,
}

impl ImportedWorkload {
    /// `true` when `labels` satisfy the node selector and the required node
    /// affinity.
    pub fn admits_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.workload
            .node_selector
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && (self.required_affinity.is_empty()
                || self
                    .required_affinity
                    .iter()
                    .any(|term| term.iter().all(|r| r.matches(labels))))
    }
}

/// Where a pod template came from.
#[derive(Clone, Debug)]
pub(crate) struct TemplateSource<'a> {
    pub object: ObjectRef,
    /// JSON path of the pod spec inside the object (`spec`, `spec.template.spec`, …).
    pub spec_path: String,
    pub replicas: u32,
    pub labels: &'a BTreeMap<String, String>,
    pub annotations: &'a BTreeMap<String, String>,
    /// `status.phase` for pods.
    pub phase: Option<String>,
    /// The controller of a pod.
    pub owner: Option<ObjectRef>,
}

fn parse_milli_fraction(s: &str) -> Option<u32> {
    let f: f64 = s.trim().parse().ok()?;
    (f.is_finite() && f > 0.0 && f <= 1.0).then(|| ((f * 1000.0).round() as u32).max(1))
}

const MIB: u64 = 1 << 20;

/// Reads the accelerator demand from the effective request and the
/// annotations. Conflicts and non-representable shapes go to `unsupported`.
fn accelerator_of(
    req: &ResourceMap,
    annotations: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
    obj: &ObjectRef,
    at: &str,
    unsupported: &mut Vec<Unsupported>,
) -> Option<AcceleratorRequest> {
    let g = |k: &str| req.get(k).copied().filter(|v| *v > 0);
    let ann = |k: &str| annotations.get(k).map(String::as_str);
    let mut found: Vec<AcceleratorRequest> = Vec::new();
    let mut note = |field: String, why: String| {
        unsupported.push(Unsupported {
            object: obj.clone(),
            field,
            why,
        })
    };
    let field = |k: &str| format!("{at}.containers[*].resources.{k}");

    // HAMi.
    let gpumem = g("nvidia.com/gpumem");
    let pct = g("nvidia.com/gpumem-percentage");
    let cores = g("nvidia.com/gpucores");
    if gpumem.is_some() || pct.is_some() || cores.is_some() {
        let devices = g("nvidia.com/gpu").unwrap_or(1) as u32;
        let share = GpuShare {
            devices,
            milli: cores.map(|c| (c.min(100) * 10) as u32),
            memory: gpumem.map(|m| Bytes::new(m.saturating_mul(MIB))),
            memory_percent: pct.map(|p| p.min(100) as u32),
        };
        let milli = GpuMilli::new(share.milli.unwrap_or(0));
        let demand = if share.milli == Some(1000)
            && share.memory.is_none()
            && share.memory_percent.is_none_or(|p| p == 100)
        {
            AcceleratorDemand::Whole {
                count: devices as u16,
            }
        } else {
            AcceleratorDemand::Fraction {
                milli,
                memory: share.memory,
            }
        };
        if devices > 1 && !matches!(demand, AcceleratorDemand::Whole { .. }) {
            note(field("nvidia.com/gpu"), format!("a HAMi share on each of {devices} GPUs; the model holds one share per pod, so the demand is the share of one GPU"));
        }
        if share.memory_percent.is_some() {
            note(field("nvidia.com/gpumem-percentage"), "memory as a percentage of the card becomes bytes only once the device model is chosen; kept in the share".into());
        }
        found.push(AcceleratorRequest {
            dialect: Dialect::Hami,
            source: "nvidia.com/gpumem|gpucores|gpumem-percentage".into(),
            demand,
            share: Some(share),
        });
    } else if let Some(n) = g("nvidia.com/gpu").or(g("nvidia.com/gpu.shared")) {
        found.push(AcceleratorRequest {
            dialect: Dialect::DevicePlugin,
            source: "nvidia.com/gpu".into(),
            demand: AcceleratorDemand::Whole {
                count: n.min(u64::from(u16::MAX)) as u16,
            },
            share: None,
        });
    }
    // MIG resources.
    let migs: Vec<(&String, &u64)> = req
        .iter()
        .filter(|(k, v)| k.starts_with("nvidia.com/mig-") && **v > 0)
        .collect();
    if let Some((k, v)) = migs.first() {
        let profile = k.trim_start_matches("nvidia.com/mig-").to_owned();
        if migs.len() > 1 || **v > 1 {
            note(field(k), format!("{} MIG instance(s) of {} profile(s); the model places one MIG instance per pod", migs.iter().map(|(_, v)| **v).sum::<u64>(), migs.len()));
        }
        found.push(AcceleratorRequest {
            dialect: Dialect::Mig,
            source: (*k).clone(),
            demand: AcceleratorDemand::Mig { profile },
            share: None,
        });
    }
    // Run:ai MIG: the profile is an annotation (`nvidia.com/mig-1g.5gb: "1"`).
    if migs.is_empty() {
        if let Some((k, v)) = annotations
            .iter()
            .find(|(k, _)| k.starts_with("nvidia.com/mig-"))
        {
            let n: u64 = v.trim().parse().unwrap_or(0);
            if n >= 1 {
                if n > 1 {
                    note(
                        format!("metadata.annotations.{k}"),
                        format!("{n} MIG instances; the model places one MIG instance per pod"),
                    );
                }
                found.push(AcceleratorRequest {
                    dialect: Dialect::Mig,
                    source: format!("metadata.annotations.{k}"),
                    demand: AcceleratorDemand::Mig {
                        profile: k.trim_start_matches("nvidia.com/mig-").to_owned(),
                    },
                    share: None,
                });
            }
        }
    }
    // KAI / Run:ai.
    if let Some(f) = ann("gpu-fraction") {
        match parse_milli_fraction(f) {
            Some(m) => {
                let devices = ann("gpu-fraction-num-devices")
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(1);
                found.push(AcceleratorRequest {
                    dialect: Dialect::Kai,
                    source: "metadata.annotations.gpu-fraction".into(),
                    demand: AcceleratorDemand::Fraction {
                        milli: GpuMilli::new(m),
                        memory: None,
                    },
                    share: Some(GpuShare {
                        devices,
                        milli: Some(m),
                        ..GpuShare::default()
                    }),
                });
            }
            None => note(
                "metadata.annotations.gpu-fraction".into(),
                format!("{f:?} is not a fraction in (0, 1]"),
            ),
        }
    } else if let Some(mem) = ann("gpu-memory") {
        match mem.trim().parse::<u64>() {
            Ok(mib) if mib > 0 => {
                let memory = Some(Bytes::new(mib.saturating_mul(MIB)));
                found.push(AcceleratorRequest {
                    dialect: Dialect::Kai,
                    source: "metadata.annotations.gpu-memory".into(),
                    demand: AcceleratorDemand::Fraction {
                        milli: GpuMilli::ZERO,
                        memory,
                    },
                    share: Some(GpuShare {
                        devices: 1,
                        memory,
                        ..GpuShare::default()
                    }),
                });
            }
            _ => note(
                "metadata.annotations.gpu-memory".into(),
                format!("{mem:?} is not a positive MiB count"),
            ),
        }
    }
    // Koordinator.
    let kcore = g("koordinator.sh/gpu-core");
    let kmem = g("koordinator.sh/gpu-memory");
    let kratio = g("koordinator.sh/gpu-memory-ratio");
    if kcore.is_some() || kmem.is_some() || kratio.is_some() {
        let c = kcore.unwrap_or(0);
        let ratio = kratio.unwrap_or(0);
        if c > 100 || ratio > 100 {
            let devices = (c.max(ratio).div_ceil(100)) as u32;
            if c % 100 == 0 && (ratio == 0 || ratio % 100 == 0) {
                found.push(AcceleratorRequest {
                    dialect: Dialect::Koordinator,
                    source: "koordinator.sh/gpu-core".into(),
                    demand: AcceleratorDemand::Whole {
                        count: devices as u16,
                    },
                    share: Some(GpuShare {
                        devices,
                        milli: Some(1000),
                        ..GpuShare::default()
                    }),
                });
            } else {
                note(
                    field("koordinator.sh/gpu-core"),
                    format!("{c} gpu-core / {ratio} memory ratio spans several GPUs unevenly"),
                );
            }
        } else {
            let share = GpuShare {
                devices: 1,
                milli: kcore.map(|c| (c * 10) as u32),
                memory: kmem.map(Bytes::new),
                memory_percent: kratio.map(|r| r as u32),
            };
            found.push(AcceleratorRequest {
                dialect: Dialect::Koordinator,
                source: "koordinator.sh/gpu-core|gpu-memory|gpu-memory-ratio".into(),
                demand: AcceleratorDemand::Fraction {
                    milli: GpuMilli::new(share.milli.unwrap_or(0)),
                    memory: share.memory,
                },
                share: Some(share),
            });
            if kratio.is_some() && kmem.is_none() {
                note(field("koordinator.sh/gpu-memory-ratio"), "memory as a ratio of the card becomes bytes once the device model is chosen; kept in the share".into());
            }
        }
    }
    // Aliyun gpushare: gpu-mem in GiB (the extender's default unit).
    if let Some(gib) = g("aliyun.com/gpu-mem") {
        let memory = Some(Bytes::new(gib.saturating_mul(1 << 30)));
        found.push(AcceleratorRequest {
            dialect: Dialect::AliyunGpushare,
            source: "aliyun.com/gpu-mem".into(),
            demand: AcceleratorDemand::Fraction {
                milli: GpuMilli::ZERO,
                memory,
            },
            share: Some(GpuShare {
                devices: 1,
                memory,
                ..GpuShare::default()
            }),
        });
    }
    // Alibaba open-simulator: resources or annotations.
    let ali =
        |k: &str| g(k).or_else(|| ann(k).and_then(|v| v.parse().ok()).filter(|v: &u64| *v > 0));
    if let Some(m) = ali("alibabacloud.com/gpu-milli") {
        let count = ali("alibabacloud.com/gpu-count").unwrap_or(1).max(1);
        let memory = ali("alibabacloud.com/gpu-mem").map(|b| Bytes::new(b.saturating_mul(MIB)));
        let demand = if m >= 1000 {
            AcceleratorDemand::Whole {
                count: count as u16,
            }
        } else {
            AcceleratorDemand::Fraction {
                milli: GpuMilli::new(m as u32),
                memory,
            }
        };
        found.push(AcceleratorRequest {
            dialect: Dialect::AlibabaSimulator,
            source: "alibabacloud.com/gpu-milli".into(),
            demand,
            share: Some(GpuShare {
                devices: count as u32,
                milli: Some(m.min(1000) as u32),
                memory,
                memory_percent: None,
            }),
        });
    }
    // Other vendors' whole devices.
    for r in [
        "amd.com/gpu",
        "habana.ai/gaudi",
        "google.com/tpu",
        "aws.amazon.com/neuron",
        "aws.amazon.com/neurondevice",
        "gpu.intel.com/i915",
        "gpu.intel.com/xe",
    ] {
        if let Some(n) = g(r) {
            found.push(AcceleratorRequest {
                dialect: Dialect::DevicePlugin,
                source: r.into(),
                demand: AcceleratorDemand::Whole {
                    count: n.min(u64::from(u16::MAX)) as u16,
                },
                share: None,
            });
        }
    }
    // Ascend: device count, or HAMi-style memory.
    for (k, v) in req.iter().filter(|(k, v)| {
        k.starts_with("huawei.com/Ascend")
            && !k.ends_with("-memory")
            && !k.ends_with("-core")
            && **v > 0
    }) {
        let mem = req.get(&format!("{k}-memory")).copied().filter(|m| *m > 0);
        let (demand, share) = match mem {
            Some(mib) => {
                let memory = Some(Bytes::new(mib.saturating_mul(MIB)));
                (
                    AcceleratorDemand::Fraction {
                        milli: GpuMilli::ZERO,
                        memory,
                    },
                    Some(GpuShare {
                        devices: *v as u32,
                        memory,
                        ..GpuShare::default()
                    }),
                )
            }
            None => (
                AcceleratorDemand::Whole {
                    count: (*v).min(u64::from(u16::MAX)) as u16,
                },
                None,
            ),
        };
        found.push(AcceleratorRequest {
            dialect: Dialect::Ascend,
            source: k.clone(),
            demand,
            share,
        });
    }
    if let Some(n) = g("aws.amazon.com/neuroncore") {
        note(field("aws.amazon.com/neuroncore"), format!("{n} NeuronCore(s): cores are a part of a Neuron device whose size depends on the chip; kept as extended resource aws.amazon.com/neuroncore"));
        found.push(AcceleratorRequest {
            dialect: Dialect::NeuronCore,
            source: "aws.amazon.com/neuroncore".into(),
            demand: AcceleratorDemand::None,
            share: None,
        });
    }
    let _ = labels;
    if found.len() > 1 {
        let kept = found.remove(0);
        for f in &found {
            note(f.source.clone(), format!("a second accelerator demand ({:?}) next to {:?}; the model holds one demand per pod, the first is kept", f.dialect, kept.dialect));
        }
        return Some(kept);
    }
    found.pop()
}

fn toleration(
    t: &core::Toleration,
    obj: &ObjectRef,
    path: &str,
    unsupported: &mut Vec<Unsupported>,
) -> Option<Toleration> {
    let effect = match t.effect.as_deref() {
        None | Some("") => None,
        Some("NoSchedule") => Some(TaintEffect::NoSchedule),
        Some("PreferNoSchedule") => Some(TaintEffect::PreferNoSchedule),
        Some("NoExecute") => Some(TaintEffect::NoExecute),
        Some(other) => {
            unsupported.push(Unsupported {
                object: obj.clone(),
                field: format!("{path}.effect"),
                why: format!("unknown effect {other:?}"),
            });
            return None;
        }
    };
    let exists = t.operator.as_deref() == Some("Exists");
    Some(Toleration {
        key: t.key.clone().unwrap_or_default(),
        value: if exists {
            None
        } else {
            Some(t.value.clone().unwrap_or_default())
        },
        effect,
    })
}

fn requirement(
    r: &core::NodeSelectorRequirement,
    obj: &ObjectRef,
    path: &str,
) -> Result<NodeRequirement, ImportError> {
    let values = r.values.clone().unwrap_or_default();
    let key = r.key.clone();
    let int = |values: &[String]| -> Result<i64, ImportError> {
        match values {
            [v] => v.parse().map_err(|_| ImportError::Object {
                object: obj.clone(),
                path: format!("{path}.values"),
                message: format!("{v:?} is not an integer"),
            }),
            _ => Err(ImportError::Object {
                object: obj.clone(),
                path: format!("{path}.values"),
                message: format!("{} needs exactly one value", r.operator),
            }),
        }
    };
    Ok(match r.operator.as_str() {
        "In" => NodeRequirement::In { key, values },
        "NotIn" => NodeRequirement::NotIn { key, values },
        "Exists" => NodeRequirement::Exists { key },
        "DoesNotExist" => NodeRequirement::DoesNotExist { key },
        "Gt" => NodeRequirement::Gt {
            key,
            value: int(&values)?,
        },
        "Lt" => NodeRequirement::Lt {
            key,
            value: int(&values)?,
        },
        other => {
            return Err(ImportError::Object {
                object: obj.clone(),
                path: format!("{path}.operator"),
                message: format!("unknown operator {other:?}"),
            })
        }
    })
}

fn gang_of(
    spec: &core::PodSpec,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Option<GangRef> {
    let num = |k: &str| annotations.get(k).and_then(|v| v.parse().ok());
    if let Some(g) = &spec.scheduling_group {
        if let Some(n) = &g.pod_group_name {
            return Some(GangRef {
                dialect: GangDialect::InTree,
                name: n.clone(),
                min_members: None,
            });
        }
    }
    if let Some(n) = labels
        .get("scheduling.x-k8s.io/pod-group")
        .or(labels.get("pod-group.scheduling.sigs.k8s.io"))
    {
        return Some(GangRef {
            dialect: GangDialect::SchedulerPlugins,
            name: n.clone(),
            min_members: None,
        });
    }
    if let Some(n) = annotations
        .get("scheduling.k8s.io/group-name")
        .or(annotations.get("scheduling.volcano.sh/group-name"))
    {
        return Some(GangRef {
            dialect: GangDialect::Volcano,
            name: n.clone(),
            min_members: None,
        });
    }
    if let Some(n) = labels.get("kueue.x-k8s.io/pod-group-name") {
        return Some(GangRef {
            dialect: GangDialect::Kueue,
            name: n.clone(),
            min_members: num("kueue.x-k8s.io/pod-group-total-count"),
        });
    }
    if let Some(n) = annotations
        .get("pod-group-name")
        .or(labels.get("pod-group-name"))
    {
        return Some(GangRef {
            dialect: GangDialect::Kai,
            name: n.clone(),
            min_members: None,
        });
    }
    None
}

fn kueue_topology(annotations: &BTreeMap<String, String>) -> Option<KueueTopology> {
    let a = |k: &str| annotations.get(&format!("kueue.x-k8s.io/{k}")).cloned();
    let t = KueueTopology {
        required: a("podset-required-topology"),
        preferred: a("podset-preferred-topology"),
        unconstrained: a("podset-unconstrained-topology").is_some_and(|v| v == "true"),
        slice_required: a("podset-slice-required-topology"),
        slice_size: a("podset-slice-size").and_then(|v| v.parse().ok()),
    };
    (t != KueueTopology::default()).then_some(t)
}

/// Converts one pod spec (of a Pod or a controller's template).
pub(crate) fn import_template(
    spec: &core::PodSpec,
    src: &TemplateSource<'_>,
    config: &crate::ImportConfig,
    unsupported: &mut Vec<Unsupported>,
) -> Result<ImportedWorkload, ImportError> {
    let obj = &src.object;
    let at = src.spec_path.as_str();
    let effective = effective_request_at(spec, obj, at)?;
    let qos = qos_class(&effective);
    let mut template = model_template(&effective);
    // Resize policies.
    for (i, (c, mc)) in spec
        .containers
        .iter()
        .zip(template.containers.iter_mut())
        .enumerate()
    {
        for (j, p) in c.resize_policy.iter().flatten().enumerate() {
            let path = format!("{at}.containers[{i}].resizePolicy[{j}]");
            let resource_name = match p.resource_name.as_str() {
                "cpu" => ResizableResource::Cpu,
                "memory" => ResizableResource::Memory,
                other => {
                    unsupported.push(Unsupported {
                        object: obj.clone(),
                        field: path,
                        why: format!(
                            "resize policy for {other:?}: only cpu and memory resize in place"
                        ),
                    });
                    continue;
                }
            };
            let restart_policy = match p.restart_policy.as_str() {
                "NotRequired" | "" => ResizeRestartPolicy::NotRequired,
                "RestartContainer" => ResizeRestartPolicy::RestartContainer,
                other => {
                    return Err(ImportError::Object {
                        object: obj.clone(),
                        path: format!("{path}.restartPolicy"),
                        message: format!("unknown resize restart policy {other:?}"),
                    })
                }
            };
            mc.resize_policy.push(ContainerResizePolicy {
                resource_name,
                restart_policy,
            });
        }
    }
    // Pod-level resources replace the container aggregate: the model template
    // cannot say so, so the effective request is kept next to it.
    if effective.pod_level.is_some() {
        unsupported.push(Unsupported { object: obj.clone(), field: format!("{at}.resources"), why: "pod-level resources decide the pod's request; the model template sums containers, so use ImportedWorkload::effective (the importer's pod_request does)".into() });
    }
    for (i, c) in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .enumerate()
    {
        for (k, v) in c
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .into_iter()
            .flatten()
            .chain(
                c.resources
                    .as_ref()
                    .and_then(|r| r.limits.as_ref())
                    .into_iter()
                    .flatten(),
            )
        {
            if !matches!(k.as_str(), "cpu" | "memory" | "ephemeral-storage")
                && !k.starts_with("hugepages-")
            {
                if let Ok(a) = amount(&v.0, obj, k) {
                    if !a.integral {
                        unsupported.push(Unsupported { object: obj.clone(), field: format!("{at}.containers[{i}].resources.{k}"), why: format!("extended resource {k} must be an integer, got {:?} (the API server rejects it); rounded up", v.0) });
                    }
                }
            }
        }
    }
    let accelerator = accelerator_of(
        &effective.requests,
        src.annotations,
        src.labels,
        obj,
        at,
        unsupported,
    );
    let mut required_affinity = Vec::new();
    if let Some(terms) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
    {
        for (i, t) in terms.node_selector_terms.iter().enumerate() {
            let mut reqs = Vec::new();
            for (j, r) in t.match_expressions.iter().flatten().enumerate() {
                reqs.push(requirement(r, obj, &format!("{at}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}].matchExpressions[{j}]"))?);
            }
            if t.match_fields.as_ref().is_some_and(|f| !f.is_empty()) {
                unsupported.push(Unsupported { object: obj.clone(), field: format!("{at}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}].matchFields"), why: "matchFields (metadata.name) is not modelled".into() });
            }
            required_affinity.push(reqs);
        }
    }
    let mut tolerations = Vec::new();
    for (i, t) in spec.tolerations.iter().flatten().enumerate() {
        if let Some(t) = toleration(t, obj, &format!("{at}.tolerations[{i}]"), unsupported) {
            tolerations.push(t);
        }
    }
    let claims: Vec<ClaimRef> = spec
        .resource_claims
        .iter()
        .flatten()
        .map(|c| ClaimRef {
            name: c.name.clone(),
            claim: c.resource_claim_name.clone(),
            template: c.resource_claim_template_name.clone(),
        })
        .collect();
    let id_text = obj.qualified_name();
    let id = WorkloadId::new(if id_text.is_empty() {
        "unnamed"
    } else {
        &id_text
    })
    .map_err(|e| ImportError::Object {
        object: obj.clone(),
        path: "metadata.name".into(),
        message: e.to_string(),
    })?;
    let kueue = kueue_topology(src.annotations);
    let mut workload = Workload::new(id, template);
    workload.replicas = src.replicas;
    workload.priority = spec.priority.unwrap_or(0);
    workload.node_selector = spec.node_selector.clone().unwrap_or_default();
    workload.tolerations = tolerations;
    if let Some(a) = &accelerator {
        workload.accelerator = a.demand.clone();
    }
    // Allowed models from the GFD product selector, when it names a catalog model.
    if let Some(p) = workload
        .node_selector
        .get("nvidia.com/gpu.product")
        .or(workload
            .node_selector
            .get("cloud.google.com/gke-accelerator"))
    {
        if let Some(m) =
            crate::node::product_to_model(p).and_then(|m| AcceleratorModelId::new(m).ok())
        {
            workload.allowed_models.push(m);
        }
    }
    if let Some(k) = &kueue {
        if let Some(level) = k.required.as_deref().and_then(|l| config.level_of(l)) {
            workload
                .topology
                .push(rightsizer_model::workload::TopologyConstraint::SameDomain { level });
        } else if let Some(l) = &k.required {
            unsupported.push(Unsupported {
                object: obj.clone(),
                field: "metadata.annotations.kueue.x-k8s.io/podset-required-topology".into(),
                why: format!(
                    "topology label {l:?} is not one of the configured zone/rack/NVLink labels"
                ),
            });
        }
    }
    if !claims.is_empty() && accelerator.is_none() {
        // Resolved against claims in the dump by the importer.
    }
    Ok(ImportedWorkload {
        object: obj.clone(),
        workload,
        effective,
        qos,
        restart_policy: spec
            .restart_policy
            .clone()
            .unwrap_or_else(|| "Always".into()),
        node_name: spec.node_name.clone(),
        scheduler_name: spec.scheduler_name.clone(),
        priority_class_name: spec.priority_class_name.clone(),
        required_affinity,
        accelerator,
        claims,
        gang: gang_of(spec, src.labels, src.annotations),
        kueue_topology: kueue,
        phase: src.phase.clone(),
        runtime_class: spec.runtime_class_name.clone(),
        owner: src.owner.clone(),
    })
}

/// The controller of a pod from its `ownerReferences` (the entry with
/// `controller: true`), in the pod's namespace. A ReplicaSet whose name is
/// `<deployment>-<pod-template-hash>` (how the Deployment controller names
/// them) stands for that Deployment.
pub(crate) fn controller_of(meta: &ObjectMeta) -> Option<ObjectRef> {
    let r = meta
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))?;
    let mut owner = ObjectRef {
        kind: r.kind.clone(),
        namespace: meta.namespace.clone(),
        name: r.name.clone(),
    };
    if owner.kind == "ReplicaSet" && r.api_version.starts_with("apps/") {
        let hash = meta
            .labels
            .as_ref()
            .and_then(|l| l.get("pod-template-hash"));
        if let Some(deploy) = hash.and_then(|h| {
            owner
                .name
                .strip_suffix(h.as_str())
                .and_then(|n| n.strip_suffix('-'))
        }) {
            if !deploy.is_empty() {
                owner.name = deploy.to_owned();
                owner.kind = "Deployment".into();
            }
        }
    }
    Some(owner)
}

impl ImportedWorkload {
    /// Adds a RuntimeClass's `overhead.podFixed` to a template that sets no
    /// overhead of its own, as the RuntimeClass admission controller does
    /// when the pod is created.
    pub(crate) fn admit_overhead(&mut self, overhead: &ResourceMap) {
        add_into(&mut self.effective.requests, overhead);
        add_into(&mut self.effective.overhead, overhead);
        self.workload.template.overhead = map_to_resources(&self.effective.overhead);
    }

    /// What one pod needs on a node, from the effective request (so
    /// pod-level resources and overhead count exactly as the scheduler
    /// counts them), with `pods = 1`.
    pub fn pod_request(&self) -> rightsizer_model::workload::PodRequest {
        let mut resources = map_to_resources(&self.effective.requests);
        resources.pods = 1;
        rightsizer_model::workload::PodRequest {
            resources,
            accelerator: self.workload.accelerator.clone(),
            allowed_models: self.workload.allowed_models.clone(),
        }
    }
}
