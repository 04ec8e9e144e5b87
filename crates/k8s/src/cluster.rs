//! A dump as a running cluster: its nodes, the pods bound to them, and the
//! pods still waiting, in the model's [`ClusterSpec`] vocabulary.
//!
//! [`Import::cluster`] is what the CLI's `--cluster` flags read when they are
//! given a kubectl dump. Every pod that reaches the spec has been allocated
//! once on a scratch [`ClusterState`], so [`ClusterSpec::to_state`] on the
//! result with the same models succeeds; what could not be kept is listed in
//! [`ClusterImport::left_out`] with the reason, never dropped silently.

use crate::error::Unsupported;
use crate::pod::{map_to_resources, ImportedWorkload, ResourceMap};
use crate::Import;
use rightsizer_model::accelerator::AcceleratorModel;
use rightsizer_model::cluster::ClusterState;
use rightsizer_model::ids::{AcceleratorModelId, NodeId, PodId, WorkloadId};
use rightsizer_model::spec::{validate_workload, ClusterSpec, PlacedPod};
use rightsizer_model::workload::{Container, PodTemplate, Workload};
use std::collections::{BTreeMap, BTreeSet};

/// A dump read as a running cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterImport {
    /// Nodes, the controllers of bound pods as workloads (one per controller,
    /// `replicas` = its bound pods; a bare pod is its own workload), and the
    /// bound pods (`<namespace>/<name>`). Finished pods (`Succeeded`,
    /// `Failed`) hold nothing and are not listed.
    pub spec: ClusterSpec,
    /// Indices into [`Import::workloads`] of pods that wait for a node (no
    /// `spec.nodeName`, not finished), in dump order.
    pub pending: Vec<usize>,
    /// Nodes and pods that could not be kept, with why (an unknown device
    /// model, a duplicate name, a pod on a node not in the dump or that does
    /// not fit it as the model counts).
    pub left_out: Vec<Unsupported>,
}

/// The model template whose request is the pod's effective request. A pod
/// with pod-level `spec.resources` is folded into one container holding the
/// pod-level figures (the model template sums containers, which the
/// scheduler does not do for such pods).
pub fn folded_template(w: &ImportedWorkload) -> PodTemplate {
    if w.effective.pod_level.is_none() {
        return w.workload.template.clone();
    }
    let mut requests: ResourceMap = w.effective.requests.clone();
    for (k, v) in &w.effective.overhead {
        if let Some(r) = requests.get_mut(k) {
            *r = r.saturating_sub(*v);
        }
    }
    let mut container = Container::new("pod", map_to_resources(&requests));
    if let Some(l) = &w.effective.pod_level_limits {
        container.limits = map_to_resources(l);
    }
    PodTemplate {
        containers: vec![container],
        init_containers: Vec::new(),
        overhead: map_to_resources(&w.effective.overhead),
    }
}

fn leave(out: &mut Vec<Unsupported>, object: &crate::ObjectRef, field: &str, why: String) {
    out.push(Unsupported {
        object: object.clone(),
        field: field.to_owned(),
        why,
    });
}

fn finished(w: &ImportedWorkload) -> bool {
    matches!(w.phase.as_deref(), Some("Succeeded" | "Failed"))
}

impl Import {
    /// The dump as a running cluster over `models` (accelerator models the
    /// nodes' devices refer to, usually the catalog's).
    ///
    /// Pods of one controller (`ownerReferences`, a Deployment through its
    /// ReplicaSet) become replicas of one workload `<namespace>/<controller>`;
    /// a pod whose resources differ from the first pod of its controller keeps
    /// its own template in [`PlacedPod::template`] (an in-place resize in
    /// progress, a VPA-admitted size). Devices are assigned first-fit, as
    /// [`ClusterSpec::to_state`] does when a pod names none.
    ///
    /// ```
    /// use rightsizer_k8s::Importer;
    /// let dump = r#"{"apiVersion": "v1", "kind": "List", "items": [
    ///  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
    ///   "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"}}},
    ///  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "prod"},
    ///   "spec": {"nodeName": "n1", "containers": [{"name": "app",
    ///            "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}]},
    ///   "status": {"phase": "Running"}},
    ///  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-2", "namespace": "prod"},
    ///   "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "2"}}}]},
    ///   "status": {"phase": "Pending"}}]}"#;
    /// let import = Importer::new().import_str(dump, "dump.json")?;
    /// let models: Vec<_> = rightsizer_catalog::Catalog::builtin().accelerators().cloned().collect();
    /// let c = import.cluster(&models);
    /// assert_eq!(c.spec.pods.len(), 1);
    /// assert_eq!(import.workloads[c.pending[0]].object.name, "web-2");
    /// let state = c.spec.to_state(&models).expect("the spec is consistent");
    /// assert_eq!(state.node_free(state.node_index(&rightsizer_k8s::model::ids::NodeId::new("n1")?).unwrap()).resources.cpu.get(), 6_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cluster(&self, models: &[AcceleratorModel]) -> ClusterImport {
        let known: BTreeMap<AcceleratorModelId, AcceleratorModel> =
            models.iter().map(|m| (m.id.clone(), m.clone())).collect();
        let mut left_out = Vec::new();
        let mut nodes = Vec::new();
        let mut seen = BTreeSet::new();
        for n in &self.nodes {
            let obj = crate::ObjectRef {
                kind: "Node".into(),
                namespace: None,
                name: n.node.id.to_string(),
            };
            if !seen.insert(n.node.id.clone()) {
                leave(
                    &mut left_out,
                    &obj,
                    "metadata.name",
                    "a second node of this name; the first is kept".into(),
                );
            } else if let Some(d) = n
                .node
                .devices
                .iter()
                .find(|d| !known.contains_key(&d.model))
            {
                leave(
                    &mut left_out,
                    &obj,
                    "status.allocatable",
                    format!("device model {} is not among the models given", d.model),
                );
            } else if n.node.allocatable.pods == 0 {
                leave(
                    &mut left_out,
                    &obj,
                    "status.allocatable.pods",
                    "no pod slots: the node could never take a pod".into(),
                );
            } else {
                nodes.push(n.node.clone());
            }
        }
        let mut state = match ClusterState::new(nodes.clone(), known.values().cloned()) {
            Ok(s) => s,
            Err(e) => {
                // Only an invalid model gets here; nothing can be placed.
                leave(
                    &mut left_out,
                    &crate::ObjectRef::default(),
                    "models",
                    e.to_string(),
                );
                return ClusterImport {
                    left_out,
                    ..ClusterImport::default()
                };
            }
        };
        let mut workloads: Vec<Workload> = Vec::new();
        let mut by_id: BTreeMap<WorkloadId, usize> = BTreeMap::new();
        let mut pods = Vec::new();
        let mut pending = Vec::new();
        for (i, w) in self.workloads.iter().enumerate() {
            if w.object.kind != "Pod" || finished(w) {
                continue;
            }
            let Some(node) = &w.node_name else {
                pending.push(i);
                continue;
            };
            let Ok(pod_id) = PodId::new(w.object.qualified_name()) else {
                leave(
                    &mut left_out,
                    &w.object,
                    "metadata.name",
                    "not a usable pod name".into(),
                );
                continue;
            };
            let template = folded_template(w);
            let mut wl = w.workload.clone();
            wl.template = template.clone();
            wl.replicas = 1;
            if let Err(e) = validate_workload(&wl, &known, "workload") {
                leave(&mut left_out, &w.object, "spec", e.to_string());
                continue;
            }
            let node_index = NodeId::new(node.as_str())
                .ok()
                .and_then(|id| state.node_index(&id));
            let Some(node_index) = node_index else {
                leave(
                    &mut left_out,
                    &w.object,
                    "spec.nodeName",
                    format!("node {node:?} is not in the dump (or was left out)"),
                );
                continue;
            };
            // One workload per controller; a pod whose accelerator demand
            // differs from its controller's is a workload of its own.
            let conflicts = |g: &WorkloadId| {
                by_id.get(g).is_some_and(|&k| {
                    workloads[k].accelerator != wl.accelerator
                        || workloads[k].allowed_models != wl.allowed_models
                })
            };
            let mut group = w
                .owner
                .as_ref()
                .and_then(|o| WorkloadId::new(o.qualified_name()).ok())
                .unwrap_or_else(|| w.workload.id.clone());
            if conflicts(&group) {
                group = WorkloadId::new(pod_id.as_str()).unwrap_or(group);
            }
            if conflicts(&group) {
                leave(
                    &mut left_out,
                    &w.object,
                    "metadata.ownerReferences",
                    format!(
                        "workload {group} already stands for pods with another accelerator demand"
                    ),
                );
                continue;
            }
            let req = wl.pod_request();
            let placed = match state.first_fit_devices(&req, node_index) {
                Some(d) => state
                    .allocate(pod_id.clone(), &req, node_index, &d)
                    .map_err(|e| e.to_string()),
                None => Err(
                    match req
                        .resources
                        .first_short(&state.node_free(node_index).resources)
                    {
                        Some(dim) => format!(
                            "does not fit node {node} as the model counts: insufficient {dim}"
                        ),
                        None => {
                            format!("no free device on node {node} meets {:?}", req.accelerator)
                        }
                    },
                ),
            };
            if let Err(why) = placed {
                leave(&mut left_out, &w.object, "spec.nodeName", why);
                continue;
            }
            let own = match by_id.get(&group) {
                Some(&k) => {
                    workloads[k].replicas += 1;
                    (workloads[k].template != template).then_some(template)
                }
                None => {
                    wl.id = group.clone();
                    by_id.insert(group.clone(), workloads.len());
                    workloads.push(wl);
                    None
                }
            };
            pods.push(PlacedPod {
                id: pod_id,
                workload: group,
                node: state.node(node_index).id.clone(),
                devices: None,
                template: own,
            });
        }
        // Pod names are unique per namespace; a dump concatenating two
        // snapshots may repeat one, which `allocate` refused above.
        ClusterImport {
            spec: ClusterSpec {
                nodes,
                workloads,
                pods,
                ..ClusterSpec::default()
            },
            pending,
            left_out,
        }
    }
}
