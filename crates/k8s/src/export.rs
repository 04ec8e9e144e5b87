//! Output that Kubernetes accepts. Every function returns a value of (or
//! JSON that deserialises into) the k8s-openapi type it claims to be.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::resource::v1 as resource;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rightsizer_model::quantity::Quantity;
use rightsizer_model::resources::Resources;
use rightsizer_model::units::{Bytes, GpuMilli};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A `Binding` of pod `namespace/name` to `node` (POST to
/// `/api/v1/namespaces/{ns}/pods/{name}/binding`).
///
/// ```
/// let b = rightsizer_k8s::export::binding("ml", "infer-0", "gpu-1");
/// assert_eq!(b.target.name.as_deref(), Some("gpu-1"));
/// let back: k8s_openapi::api::core::v1::Binding =
///     serde_json::from_value(serde_json::to_value(&b)?)?;
/// assert_eq!(back, b);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn binding(namespace: &str, pod: &str, node: &str) -> core::Binding {
    core::Binding {
        metadata: ObjectMeta {
            name: Some(pod.to_owned()),
            namespace: Some(namespace.to_owned()),
            ..ObjectMeta::default()
        },
        target: core::ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: Some(node.to_owned()),
            ..core::ObjectReference::default()
        },
    }
}

fn quantities(r: &Resources) -> BTreeMap<String, K8sQuantity> {
    let mut m = BTreeMap::new();
    if !r.cpu.is_zero() {
        m.insert(
            "cpu".into(),
            K8sQuantity(Quantity::from_millicpu(r.cpu).to_string()),
        );
    }
    if !r.memory.is_zero() {
        m.insert(
            "memory".into(),
            K8sQuantity(Quantity::from_bytes(r.memory).to_string()),
        );
    }
    m
}

/// New cpu/memory requests and limits of one container for a resize.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerResize {
    /// Container name.
    pub name: String,
    /// New requests (cpu, memory; zero = leave out).
    pub requests: Resources,
    /// New limits (cpu, memory; zero = leave out).
    pub limits: Resources,
}

fn requirements(c: &ContainerResize) -> core::ResourceRequirements {
    let req = quantities(&c.requests);
    let lim = quantities(&c.limits);
    core::ResourceRequirements {
        requests: (!req.is_empty()).then_some(req),
        limits: (!lim.is_empty()).then_some(lim),
        ..core::ResourceRequirements::default()
    }
}

/// A strategic-merge / merge patch body for the pod `resize` subresource
/// (`kubectl patch pod … --subresource resize --patch …`): containers are
/// matched by name. Only cpu and memory can be resized in place.
///
/// The patch deserialises into a `Pod` (whose `spec.containers` carry only
/// names and resources).
pub fn resize_merge_patch(containers: &[ContainerResize]) -> Value {
    let cs: Vec<Value> = containers
        .iter()
        .map(|c| json!({"name": c.name, "resources": requirements(c)}))
        .collect();
    json!({"spec": {"containers": cs}})
}

/// An RFC 6902 JSON patch for the `resize` subresource; `index_of` gives
/// each container's index in the live pod's `spec.containers`.
pub fn resize_json_patch(containers: &[(usize, ContainerResize)]) -> Value {
    let mut ops = Vec::new();
    for (i, c) in containers {
        ops.push(json!({"op": "replace", "path": format!("/spec/containers/{i}/resources"), "value": requirements(c)}));
    }
    Value::Array(ops)
}

/// HAMi annotations/resources for a fractional placement: the container
/// limits `nvidia.com/gpu`, `nvidia.com/gpumem` (MiB) and
/// `nvidia.com/gpucores` (percent) and the pod annotation pinning the card
/// (`nvidia.com/use-gpuuuid`) when a UUID is known.
pub fn hami_resources(
    milli: GpuMilli,
    memory: Option<Bytes>,
    uuid: Option<&str>,
) -> (BTreeMap<String, K8sQuantity>, BTreeMap<String, String>) {
    let mut limits = BTreeMap::new();
    limits.insert("nvidia.com/gpu".into(), K8sQuantity("1".into()));
    if let Some(m) = memory {
        limits.insert(
            "nvidia.com/gpumem".into(),
            K8sQuantity(m.get().div_ceil(1 << 20).to_string()),
        );
    }
    if !milli.is_zero() {
        limits.insert(
            "nvidia.com/gpucores".into(),
            K8sQuantity(milli.get().div_ceil(10).min(100).to_string()),
        );
    }
    let mut ann = BTreeMap::new();
    if let Some(u) = uuid {
        ann.insert("nvidia.com/use-gpuuuid".into(), u.to_owned());
    }
    (limits, ann)
}

/// KAI annotations for a fractional placement: `gpu-fraction` when compute
/// is given, else `gpu-memory` in MiB.
pub fn kai_annotations(milli: GpuMilli, memory: Option<Bytes>) -> BTreeMap<String, String> {
    let mut ann = BTreeMap::new();
    if !milli.is_zero() {
        let m = milli.get().min(1000);
        let s = format!("{}.{:03}", m / 1000, m % 1000);
        ann.insert(
            "gpu-fraction".into(),
            s.trim_end_matches('0').trim_end_matches('.').to_owned(),
        );
    } else if let Some(b) = memory {
        ann.insert("gpu-memory".into(), b.get().div_ceil(1 << 20).to_string());
    }
    ann
}

/// One container's recommendation (cpu and memory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerRecommendation {
    /// Container name.
    pub name: String,
    /// Target.
    pub target: Resources,
    /// Lower bound.
    pub lower_bound: Resources,
    /// Upper bound.
    pub upper_bound: Resources,
    /// Target before capping.
    pub uncapped_target: Resources,
}

fn qmap(r: &Resources) -> Value {
    serde_json::to_value(quantities(r)).unwrap_or(Value::Null)
}

/// A `VerticalPodAutoscaler` `status.recommendation` block
/// (`autoscaling.k8s.io/v1` `RecommendedPodResources`), as JSON: k8s-openapi
/// has no VPA type, so the shape is the CRD's: `containerRecommendations[]
/// {containerName, target, lowerBound, upperBound, uncappedTarget}` with
/// quantity strings. Its entries deserialise as `ResourceList`s.
pub fn vpa_recommendation(containers: &[ContainerRecommendation]) -> Value {
    let cs: Vec<Value> = containers
        .iter()
        .map(|c| {
            json!({
                "containerName": c.name,
                "target": qmap(&c.target),
                "lowerBound": qmap(&c.lower_bound),
                "upperBound": qmap(&c.upper_bound),
                "uncappedTarget": qmap(&c.uncapped_target),
            })
        })
        .collect();
    json!({"containerRecommendations": cs})
}

/// One allocated device of a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocatedDevice {
    /// Request name in the claim.
    pub request: String,
    /// Driver.
    pub driver: String,
    /// Pool.
    pub pool: String,
    /// Device name.
    pub device: String,
}

/// A DRA `AllocationResult` for a claim's `status.allocation`, usable on
/// `node`.
pub fn allocation_result(devices: &[AllocatedDevice], node: &str) -> resource::AllocationResult {
    resource::AllocationResult {
        devices: Some(resource::DeviceAllocationResult {
            results: Some(
                devices
                    .iter()
                    .map(|d| resource::DeviceRequestAllocationResult {
                        request: d.request.clone(),
                        driver: d.driver.clone(),
                        pool: d.pool.clone(),
                        device: d.device.clone(),
                        ..resource::DeviceRequestAllocationResult::default()
                    })
                    .collect(),
            ),
            config: None,
        }),
        node_selector: Some(core::NodeSelector {
            node_selector_terms: vec![core::NodeSelectorTerm {
                match_fields: Some(vec![core::NodeSelectorRequirement {
                    key: "metadata.name".into(),
                    operator: "In".into(),
                    values: Some(vec![node.to_owned()]),
                }]),
                match_expressions: None,
            }],
        }),
        ..resource::AllocationResult::default()
    }
}

/// The well-known label that names a node's instance type
/// (`node.kubernetes.io/instance-type`), the usual node-group key of cluster
/// autoscalers and Karpenter.
pub const INSTANCE_TYPE_LABEL: &str = "node.kubernetes.io/instance-type";

/// How one node group must change to reach a target fleet.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeGroupChange {
    /// The group: the node label's value; `None` for nodes without the label
    /// (they are reported, never scaled: `target == current`).
    pub group: Option<String>,
    /// Nodes of the group today.
    pub current: u32,
    /// Nodes of the group in the target fleet.
    pub target: u32,
    /// `target - current`: positive adds nodes, negative removes them.
    pub delta: i64,
    /// Names of the group's nodes today, sorted.
    pub nodes: Vec<String>,
}

/// Node-group changes from the nodes of a cluster to a target fleet, as a
/// plain list: one entry per group found on either side, sorted by group
/// (`None` last). Nodes are grouped by the value of `label` (for example
/// [`INSTANCE_TYPE_LABEL`]); `target` maps a group to its node count in the
/// planned fleet, which is the whole fleet, so a labelled group it does not
/// name goes to zero. Entries with `delta == 0` are kept (a plan that
/// confirms a group is a result too).
///
/// ```
/// use rightsizer_k8s::export::{node_group_changes, INSTANCE_TYPE_LABEL};
/// use rightsizer_k8s::model::ids::NodeId;
/// use rightsizer_k8s::model::node::Node;
/// use rightsizer_k8s::model::resources::Resources;
/// use std::collections::BTreeMap;
/// let node = |name: &str, ty: &str| {
///     let mut n = Node::new(NodeId::new(name).unwrap(), Resources::default());
///     n.labels.insert(INSTANCE_TYPE_LABEL.into(), ty.into());
///     n
/// };
/// let nodes = [node("a", "g5.xlarge"), node("b", "g5.xlarge"), node("c", "p5.48xlarge")];
/// let target = BTreeMap::from([("g5.xlarge".to_string(), 5), ("inf2.xlarge".to_string(), 2)]);
/// let changes = node_group_changes(&nodes, INSTANCE_TYPE_LABEL, &target);
/// let deltas: Vec<(&str, i64)> = changes
///     .iter()
///     .map(|c| (c.group.as_deref().unwrap(), c.delta))
///     .collect();
/// assert_eq!(deltas, [("g5.xlarge", 3), ("inf2.xlarge", 2), ("p5.48xlarge", -1)]);
/// assert_eq!(changes[2].nodes, ["c"]);
/// ```
pub fn node_group_changes<'a>(
    nodes: impl IntoIterator<Item = &'a rightsizer_model::node::Node>,
    label: &str,
    target: &BTreeMap<String, u32>,
) -> Vec<NodeGroupChange> {
    let mut current: BTreeMap<Option<&str>, Vec<String>> = BTreeMap::new();
    for n in nodes {
        current
            .entry(n.labels.get(label).map(String::as_str))
            .or_default()
            .push(n.id.to_string());
    }
    let mut groups: Vec<Option<&str>> = current.keys().copied().collect();
    groups.extend(target.keys().map(|k| Some(k.as_str())));
    groups.sort_unstable_by(|a, b| match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) => x.cmp(y),
    });
    groups.dedup();
    groups
        .into_iter()
        .map(|g| {
            let mut names = current.remove(&g).unwrap_or_default();
            names.sort_unstable();
            let now = u32::try_from(names.len()).unwrap_or(u32::MAX);
            let want = match g {
                Some(k) => target.get(k).copied().unwrap_or(0),
                None => now,
            };
            NodeGroupChange {
                group: g.map(str::to_owned),
                current: now,
                target: want,
                delta: i64::from(want) - i64::from(now),
                nodes: names,
            }
        })
        .collect()
}
