//! The importer: a dump (or typed objects) in, model values plus the
//! skipped and unsupported lists out.

use crate::dump::{flatten_lists, parse_documents};
use crate::error::{ImportError, ObjectRef, Skipped, Unsupported};
use crate::node::{import_node, ImportedNode};
use crate::pod::{import_template, GangDialect, ImportedWorkload, TemplateSource};
use k8s_openapi::api::core::v1 as core;
use rayon::prelude::*;
use rightsizer_catalog::Catalog;
use rightsizer_model::node::TopologyLevel;
use rightsizer_model::workload::Gang;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Importer settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportConfig {
    /// Node labels naming a rack or block, first present wins. Default:
    /// `topology.kubernetes.io/rack`, `topology.kubernetes.io/block`,
    /// `cloud.google.com/gce-topology-block`, `topology.k8s.aws/network-node-layer-3`.
    pub rack_labels: Vec<String>,
    /// Node labels naming an NVLink / NVSwitch domain. Default:
    /// `nvidia.com/gpu.clique`.
    pub nvlink_labels: Vec<String>,
}

impl Default for ImportConfig {
    fn default() -> Self {
        Self {
            rack_labels: [
                "topology.kubernetes.io/rack",
                "topology.kubernetes.io/block",
                "cloud.google.com/gce-topology-block",
                "topology.k8s.aws/network-node-layer-3",
            ]
            .map(String::from)
            .to_vec(),
            nvlink_labels: vec!["nvidia.com/gpu.clique".into()],
        }
    }
}

impl ImportConfig {
    /// Sets the rack/block labels (builder style).
    pub fn rack_labels(
        &mut self,
        labels: impl IntoIterator<Item = impl Into<String>>,
    ) -> &mut Self {
        self.rack_labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the NVLink-domain labels (builder style).
    pub fn nvlink_labels(
        &mut self,
        labels: impl IntoIterator<Item = impl Into<String>>,
    ) -> &mut Self {
        self.nvlink_labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// The model topology level a node label stands for.
    pub fn level_of(&self, label: &str) -> Option<TopologyLevel> {
        match label {
            "kubernetes.io/hostname" => Some(TopologyLevel::Node),
            "topology.kubernetes.io/zone" | "failure-domain.beta.kubernetes.io/zone" => {
                Some(TopologyLevel::Zone)
            }
            l if self.rack_labels.iter().any(|r| r == l) => Some(TopologyLevel::Rack),
            l if self.nvlink_labels.iter().any(|r| r == l) => Some(TopologyLevel::NvlinkDomain),
            _ => None,
        }
    }
}

/// A gang definition read from a PodGroup-like object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PodGroupInfo {
    /// The object.
    pub object: ObjectRef,
    /// Who defines it.
    pub dialect: GangDialect,
    /// Minimum members (`minMember`, `gang.minCount`; 1 for `basic` policy).
    pub min_members: u32,
    /// Required topology label (`schedulingConstraints.topology[0].key`, Volcano `networkTopology`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_key: Option<String>,
    /// Queue (Volcano).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
}

/// A DRA object read from the dump, kept as JSON with what was understood.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DraObject {
    /// The object.
    pub object: ObjectRef,
    /// `apiVersion`.
    pub api_version: String,
    /// Device requests of a claim or template: (request name, device class, count).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<DraRequest>,
    /// Devices of a ResourceSlice (names).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// What CEL selectors see of each slice device, in `devices` order.
    #[serde(skip)]
    pub device_views: Vec<crate::cel::DeviceView>,
    /// `spec.driver` of a slice, or the class selectors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub selectors: Vec<String>,
    /// A slice as the DRA allocator sees it ([`crate::allocate`]).
    #[serde(skip)]
    pub slice: Option<crate::allocate::DraSlice>,
    /// A claim or claim template as the DRA allocator sees it.
    #[serde(skip)]
    pub claim: Option<crate::allocate::DraClaim>,
}

/// One DRA device request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DraRequest {
    /// Request name.
    pub name: String,
    /// Device class (of the first alternative for `firstAvailable`).
    pub device_class: String,
    /// Devices asked for (`All` counts as 0).
    pub count: u64,
    /// `allocationMode`.
    pub allocation_mode: String,
    /// Alternatives in `firstAvailable` order (empty for `exactly`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_available: Vec<String>,
    /// CEL selector expressions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub selectors: Vec<String>,
    /// `capacity.requests` (consumable capacity), as quantity strings.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub capacity: BTreeMap<String, String>,
}

/// What a dump holds, in model terms.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Import {
    /// Nodes.
    pub nodes: Vec<ImportedNode>,
    /// Workloads (pods and controllers' pod templates).
    pub workloads: Vec<ImportedWorkload>,
    /// Gang definitions.
    pub pod_groups: Vec<PodGroupInfo>,
    /// RuntimeClass overheads by name.
    pub runtime_classes: BTreeMap<String, rightsizer_model::resources::Resources>,
    /// DRA slices, classes, claims and claim templates.
    pub dra: Vec<DraObject>,
    /// Objects of kinds the importer does not model.
    pub skipped: Vec<Skipped>,
    /// What could not be represented.
    pub unsupported: Vec<Unsupported>,
}

/// Reads Kubernetes objects into the model.
///
/// ```
/// use rightsizer_k8s::Importer;
/// let dump = r#"
/// apiVersion: v1
/// kind: Node
/// metadata:
///   name: gpu-1
///   labels: {nvidia.com/gpu.product: NVIDIA-L4, nvidia.com/gpu.count: "2"}
/// status:
///   allocatable: {cpu: "16", memory: 64Gi, pods: "110", nvidia.com/gpu: "2"}
/// ---
/// apiVersion: v1
/// kind: Pod
/// metadata: {name: infer, namespace: ml}
/// spec:
///   containers:
///   - name: main
///     resources: {limits: {nvidia.com/gpu: 1, cpu: "2", memory: 8Gi}}
/// ---
/// apiVersion: v1
/// kind: ConfigMap
/// metadata: {name: c}
/// "#;
/// let out = Importer::new().import_str(dump, "dump.yaml")?;
/// assert_eq!(out.nodes[0].node.devices.len(), 2);
/// assert_eq!(out.workloads[0].workload.accelerator,
///            rightsizer_k8s::model::workload::AcceleratorDemand::Whole { count: 1 });
/// assert_eq!(out.skipped[0].object.kind, "ConfigMap");
/// # Ok::<(), rightsizer_k8s::ImportError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Importer {
    catalog: Catalog,
    config: ImportConfig,
}

impl Default for Importer {
    fn default() -> Self {
        Self::new()
    }
}

fn typed<T: DeserializeOwned>(v: &Value, obj: &ObjectRef, prefix: &str) -> Result<T, ImportError> {
    // Fast path without path tracking; on failure, deserialise again with
    // it to name the field.
    if let Ok(t) = T::deserialize(v) {
        return Ok(t);
    }
    serde_path_to_error::deserialize(v).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix.is_empty(), inner.as_str()) {
            (true, _) => inner.clone(),
            (false, ".") => prefix.to_owned(),
            (false, _) => format!("{prefix}.{inner}"),
        };
        ImportError::Object {
            object: obj.clone(),
            path,
            message: e.into_inner().to_string(),
        }
    })
}

fn meta_maps(v: &Value) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let m = |k: &str| -> BTreeMap<String, String> {
        v.get(k)
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    };
    (m("labels"), m("annotations"))
}

fn array<'a>(v: &'a Value, pointer: &str) -> impl Iterator<Item = &'a Value> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn u32_at(v: &Value, p: &str) -> Option<u32> {
    v.pointer(p)
        .and_then(Value::as_u64)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

impl Import {
    fn append(&mut self, mut o: Import) {
        self.nodes.append(&mut o.nodes);
        self.workloads.append(&mut o.workloads);
        self.pod_groups.append(&mut o.pod_groups);
        self.runtime_classes.append(&mut o.runtime_classes);
        self.dra.append(&mut o.dra);
        self.skipped.append(&mut o.skipped);
        self.unsupported.append(&mut o.unsupported);
    }
}

impl Importer {
    /// The built-in catalog and default labels.
    pub fn new() -> Self {
        Self {
            catalog: Catalog::builtin(),
            config: ImportConfig::default(),
        }
    }

    /// With a catalog and configuration of your own.
    pub fn with(catalog: Catalog, config: ImportConfig) -> Self {
        Self { catalog, config }
    }

    /// The catalog used to map products onto models.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Imports a dump: JSON or YAML, single objects, `List`s, multi-document
    /// YAML. `source` names the input in errors.
    ///
    /// # Errors
    ///
    /// [`ImportError::Syntax`] for unreadable text; [`ImportError::Object`]
    /// naming kind/namespace/name and the field path for a malformed object.
    /// Nothing is returned on error (no partial result).
    pub fn import_str(&self, text: &str, source: &str) -> Result<Import, ImportError> {
        if let Some(r) = self.import_json_streaming(text) {
            return r;
        }
        let docs = parse_documents(text, source)?;
        let mut out = Import::default();
        for (_, v) in flatten_lists(docs) {
            self.import_value(&v, &mut out)?;
        }
        self.resolve(&mut out);
        Ok(out)
    }

    /// Imports several dumps as one.
    ///
    /// # Errors
    ///
    /// As [`Importer::import_str`], plus [`ImportError::Io`].
    pub fn import_files<P: AsRef<std::path::Path>>(
        &self,
        paths: &[P],
    ) -> Result<Import, ImportError> {
        let mut out = Import::default();
        for p in paths {
            let p = p.as_ref();
            let text = std::fs::read_to_string(p).map_err(|e| ImportError::Io {
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            let one = match self.import_json_streaming_raw(&text) {
                Some(r) => r?,
                None => {
                    let mut one = Import::default();
                    for (_, v) in flatten_lists(parse_documents(&text, &p.display().to_string())?) {
                        self.import_value(&v, &mut one)?;
                    }
                    one
                }
            };
            out.append(one);
        }
        self.resolve(&mut out);
        Ok(out)
    }

    /// Imports one typed `Node`.
    ///
    /// # Errors
    ///
    /// [`ImportError::Object`] for malformed quantities or names.
    pub fn node(&self, n: &core::Node) -> Result<(ImportedNode, Vec<Unsupported>), ImportError> {
        let mut u = Vec::new();
        let node = import_node(n, &self.catalog, &self.config, &mut u)?;
        Ok((node, u))
    }

    /// Imports one typed `Pod`.
    ///
    /// # Errors
    ///
    /// [`ImportError::Object`] for malformed quantities, names or affinity.
    pub fn pod(&self, p: &core::Pod) -> Result<(ImportedWorkload, Vec<Unsupported>), ImportError> {
        let mut u = Vec::new();
        let obj = ObjectRef {
            kind: "Pod".into(),
            namespace: p.metadata.namespace.clone(),
            name: p.metadata.name.clone().unwrap_or_default(),
        };
        let default_spec;
        let spec = match &p.spec {
            Some(s) => s,
            None => {
                default_spec = core::PodSpec::default();
                &default_spec
            }
        };
        let empty = BTreeMap::new();
        let labels = p.metadata.labels.as_ref().unwrap_or(&empty);
        let annotations = p.metadata.annotations.as_ref().unwrap_or(&empty);
        let src = TemplateSource {
            object: obj,
            spec_path: "spec".into(),
            replicas: 1,
            labels,
            annotations,
            phase: p.status.as_ref().and_then(|s| s.phase.clone()),
            owner: crate::pod::controller_of(&p.metadata),
        };
        let w = import_template(spec, &src, &self.config, &mut u)?;
        Ok((w, u))
    }

    // Internal helper: the arguments are the object, where its template is, and
    // how it is replicated; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    fn template(
        &self,
        v: &Value,
        obj: &ObjectRef,
        pointer: &str,
        role: Option<&str>,
        replicas: u32,
        outer: Option<&Value>,
        out: &mut Import,
    ) -> Result<(), ImportError> {
        let Some(t) = v.pointer(pointer) else {
            out.unsupported.push(Unsupported {
                object: obj.clone(),
                field: pointer.trim_start_matches('/').replace('/', "."),
                why: "no pod template here".into(),
            });
            return Ok(());
        };
        let path = pointer.trim_start_matches('/').replace('/', ".");
        let spec: core::PodSpec = match t.get("spec") {
            Some(s) => typed(s, obj, &format!("{path}.spec"))?,
            None => {
                out.unsupported.push(Unsupported {
                    object: obj.clone(),
                    field: path,
                    why: "pod template without spec".into(),
                });
                return Ok(());
            }
        };
        let (mut labels, mut annotations) = t.get("metadata").map(meta_maps).unwrap_or_default();
        if let Some(o) = outer.and_then(|o| o.get("metadata")) {
            // Controller-level annotations (Kueue TAS, Volcano group) apply to the pods too.
            let (ol, oa) = meta_maps(o);
            for (k, v) in ol {
                labels.entry(k).or_insert(v);
            }
            for (k, v) in oa {
                annotations.entry(k).or_insert(v);
            }
        }
        let mut object = obj.clone();
        if let Some(r) = role {
            object.name = format!("{}/{r}", obj.name);
        }
        let src = TemplateSource {
            object,
            spec_path: format!("{path}.spec"),
            replicas,
            labels: &labels,
            annotations: &annotations,
            phase: None,
            owner: None,
        };
        let w = import_template(&spec, &src, &self.config, &mut out.unsupported)?;
        out.workloads.push(w);
        Ok(())
    }

    fn import_value(&self, v: &Value, out: &mut Import) -> Result<(), ImportError> {
        let obj = ObjectRef::of(v);
        let Some(api) = v.get("apiVersion").and_then(Value::as_str) else {
            // Not a Kubernetes object (e.g. a KWOK stage record): import the
            // objects embedded in it and list the wrapper as skipped.
            let mut found = Vec::new();
            embedded_objects(v, &mut found, 0);
            for e in found {
                self.import_value(e, out)?;
            }
            if v.is_object() {
                out.skipped.push(Skipped {
                    object: obj,
                    api_version: String::new(),
                });
            }
            return Ok(());
        };
        let group = api.split_once('/').map(|(g, _)| g).unwrap_or("");
        let replicas = |p: &str, default: u32| u32_at(v, p).unwrap_or(default);
        match (group, obj.kind.as_str()) {
            ("", "Node") => {
                let n: core::Node = typed(v, &obj, "")?;
                out.nodes.push(import_node(
                    &n,
                    &self.catalog,
                    &self.config,
                    &mut out.unsupported,
                )?);
            }
            ("", "Pod") => {
                let p: core::Pod = typed(v, &obj, "")?;
                let (w, mut u) = self.pod(&p)?;
                out.workloads.push(w);
                out.unsupported.append(&mut u);
            }
            ("", "PodTemplate") => self.template(v, &obj, "/template", None, 1, None, out)?,
            ("apps", "Deployment" | "StatefulSet" | "ReplicaSet")
            | ("", "ReplicationController") => self.template(
                v,
                &obj,
                "/spec/template",
                None,
                replicas("/spec/replicas", 1),
                None,
                out,
            )?,
            ("apps", "DaemonSet") => {
                out.unsupported.push(Unsupported {
                    object: obj.clone(),
                    field: "spec".into(),
                    why: "a DaemonSet runs one pod per matching node; imported as one replica"
                        .into(),
                });
                self.template(v, &obj, "/spec/template", None, 1, None, out)?
            }
            ("batch", "Job") => self.template(
                v,
                &obj,
                "/spec/template",
                None,
                replicas("/spec/parallelism", 1),
                Some(v),
                out,
            )?,
            ("batch", "CronJob") => self.template(
                v,
                &obj,
                "/spec/jobTemplate/spec/template",
                None,
                replicas("/spec/jobTemplate/spec/parallelism", 1),
                None,
                out,
            )?,
            ("leaderworkerset.x-k8s.io", "LeaderWorkerSet") => {
                let groups = replicas("/spec/replicas", 1);
                let size = replicas("/spec/leaderWorkerTemplate/size", 1).max(1);
                if v.pointer("/spec/leaderWorkerTemplate/leaderTemplate")
                    .is_some()
                {
                    self.template(
                        v,
                        &obj,
                        "/spec/leaderWorkerTemplate/leaderTemplate",
                        Some("leader"),
                        groups,
                        Some(v),
                        out,
                    )?;
                    if size > 1 {
                        self.template(
                            v,
                            &obj,
                            "/spec/leaderWorkerTemplate/workerTemplate",
                            Some("worker"),
                            groups * (size - 1),
                            Some(v),
                            out,
                        )?;
                    }
                } else {
                    self.template(
                        v,
                        &obj,
                        "/spec/leaderWorkerTemplate/workerTemplate",
                        Some("worker"),
                        groups * size,
                        Some(v),
                        out,
                    )?;
                }
            }
            ("jobset.x-k8s.io", "JobSet") => {
                for (i, rj) in array(v, "/spec/replicatedJobs").enumerate() {
                    let name = rj
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("job")
                        .to_owned();
                    let n = u32_at(rj, "/replicas").unwrap_or(1)
                        * u32_at(rj, "/template/spec/parallelism").unwrap_or(1);
                    self.template(
                        v,
                        &obj,
                        &format!("/spec/replicatedJobs/{i}/template/spec/template"),
                        Some(&name),
                        n,
                        Some(rj.pointer("/template").unwrap_or(v)),
                        out,
                    )?;
                }
            }
            ("batch.volcano.sh", "Job") => {
                let min = u32_at(v, "/spec/minAvailable");
                for (i, t) in array(v, "/spec/tasks").enumerate() {
                    let name = t
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("task")
                        .to_owned();
                    self.template(
                        v,
                        &obj,
                        &format!("/spec/tasks/{i}/template"),
                        Some(&name),
                        u32_at(t, "/replicas").unwrap_or(1),
                        None,
                        out,
                    )?;
                }
                let total: u32 = array(v, "/spec/tasks")
                    .map(|t| u32_at(t, "/replicas").unwrap_or(1))
                    .sum();
                out.pod_groups.push(PodGroupInfo {
                    object: obj.clone(),
                    dialect: GangDialect::Volcano,
                    min_members: min.unwrap_or(total),
                    topology_key: None,
                    queue: v
                        .pointer("/spec/queue")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                });
                let start = out.workloads.len()
                    - v.pointer("/spec/tasks")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                for w in &mut out.workloads[start..] {
                    w.gang.get_or_insert(crate::pod::GangRef {
                        dialect: GangDialect::Volcano,
                        name: obj.name.clone(),
                        min_members: None,
                    });
                }
            }
            ("kubeflow.org", k) if k.ends_with("Job") => {
                let specs = v.get("spec").and_then(Value::as_object).and_then(|s| {
                    s.iter()
                        .find(|(k, _)| k.ends_with("ReplicaSpecs"))
                        .map(|(k, v)| (k.clone(), v.clone()))
                });
                match specs {
                    Some((key, Value::Object(roles))) => {
                        for (role, r) in &roles {
                            self.template(
                                v,
                                &obj,
                                &format!("/spec/{key}/{role}/template"),
                                Some(role),
                                u32_at(r, "/replicas").unwrap_or(1),
                                None,
                                out,
                            )?;
                        }
                    }
                    _ => out.unsupported.push(Unsupported {
                        object: obj.clone(),
                        field: "spec".into(),
                        why: "no *ReplicaSpecs found".into(),
                    }),
                }
            }
            ("serving.kserve.io", "InferenceService") => self.kserve(v, &obj, out)?,
            ("scheduling.x-k8s.io", "PodGroup") => out.pod_groups.push(PodGroupInfo {
                object: obj.clone(),
                dialect: GangDialect::SchedulerPlugins,
                min_members: replicas("/spec/minMember", 1),
                topology_key: None,
                queue: None,
            }),
            ("scheduling.volcano.sh", "PodGroup") => out.pod_groups.push(PodGroupInfo {
                object: obj.clone(),
                dialect: GangDialect::Volcano,
                min_members: replicas("/spec/minMember", 1),
                topology_key: v
                    .pointer("/spec/networkTopology/highestTierAllowed")
                    .map(|t| format!("hypernode-tier-{t}")),
                queue: v
                    .pointer("/spec/queue")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
            ("scheduling.k8s.io", "PodGroup") => out.pod_groups.push(PodGroupInfo {
                object: obj.clone(),
                dialect: GangDialect::InTree,
                min_members: u32_at(v, "/spec/schedulingPolicy/gang/minCount").unwrap_or(1),
                topology_key: v
                    .pointer("/spec/schedulingConstraints/topology/0/key")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                queue: None,
            }),
            ("scheduling.k8s.io", "Workload") => {
                for t in array(v, "/spec/podGroupTemplates") {
                    let mut o = obj.clone();
                    o.name = format!(
                        "{}/{}",
                        obj.name,
                        t.get("name").and_then(Value::as_str).unwrap_or("")
                    );
                    out.pod_groups.push(PodGroupInfo {
                        object: o,
                        dialect: GangDialect::InTree,
                        min_members: u32_at(t, "/schedulingPolicy/gang/minCount").unwrap_or(1),
                        topology_key: t
                            .pointer("/schedulingConstraints/topology/0/key")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        queue: None,
                    });
                }
            }
            ("node.k8s.io", "RuntimeClass") => {
                let rc: k8s_openapi::api::node::v1::RuntimeClass = typed(v, &obj, "")?;
                let pf = rc.overhead.and_then(|o| o.pod_fixed).unwrap_or_default();
                let m = crate::quantity::resource_list(&pf, &obj, "overhead.podFixed")?;
                let mut r = rightsizer_model::resources::Resources::zero();
                for (k, a) in m {
                    match k.as_str() {
                        "cpu" => r.cpu = a.cpu,
                        "memory" => r.memory = a.bytes,
                        _ => {
                            r.extended.insert(k, a.whole);
                        }
                    }
                }
                out.runtime_classes.insert(obj.name.clone(), r);
            }
            (
                "resource.k8s.io",
                kind
                @ ("ResourceSlice" | "DeviceClass" | "ResourceClaim" | "ResourceClaimTemplate"),
            ) => {
                out.dra
                    .push(crate::dra::read(v, kind, api, &obj, &mut out.unsupported));
            }
            _ => out.skipped.push(Skipped {
                object: obj,
                api_version: api.to_owned(),
            }),
        }
        Ok(())
    }

    fn kserve(&self, v: &Value, obj: &ObjectRef, out: &mut Import) -> Result<(), ImportError> {
        for comp in ["predictor", "transformer", "explainer"] {
            let Some(c) = v
                .pointer(&format!("/spec/{comp}"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            let replicas = c
                .get("minReplicas")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1) as u32;
            // Either a pod spec (`containers`) or one framework entry that is a container.
            let mut spec = serde_json::Map::new();
            for (k, x) in c {
                if [
                    "containers",
                    "initContainers",
                    "nodeSelector",
                    "tolerations",
                    "affinity",
                    "schedulerName",
                    "priorityClassName",
                    "runtimeClassName",
                    "volumes",
                ]
                .contains(&k.as_str())
                {
                    spec.insert(k.clone(), x.clone());
                }
            }
            if !spec.contains_key("containers") {
                let fw = c.iter().find(|(_, x)| {
                    x.get("resources").is_some()
                        || x.get("storageUri").is_some()
                        || x.get("image").is_some()
                });
                let Some((fw_name, x)) = fw else { continue };
                let mut cont = serde_json::Map::new();
                cont.insert("name".into(), Value::String("kserve-container".into()));
                if let Some(r) = x.get("resources") {
                    cont.insert("resources".into(), r.clone());
                }
                spec.insert("containers".into(), Value::Array(vec![Value::Object(cont)]));
                out.unsupported.push(Unsupported { object: obj.clone(), field: format!("spec.{comp}.{fw_name}"), why: "the KServe runtime adds its own containers; only the model container's resources are imported".into() });
            }
            let wrapped = serde_json::json!({"spec": Value::Object(spec)});
            let mut holder = Import::default();
            self.template(
                &wrapped,
                obj,
                "",
                Some(comp),
                replicas,
                Some(v),
                &mut holder,
            )?;
            for w in holder.workloads.iter_mut() {
                w.object.name = format!("{}/{comp}", obj.name);
            }
            out.workloads.append(&mut holder.workloads);
            out.unsupported.append(&mut holder.unsupported);
        }
        Ok(())
    }

    fn resolve(&self, out: &mut Import) {
        // A device resource only runs on its vendor's devices: without a
        // narrower product selector, allow the catalog models of the
        // request's vendor and kind (an `amd.com/gpu` pod never lands on an
        // NVIDIA GPU).
        for w in &mut out.workloads {
            if !w.workload.allowed_models.is_empty() {
                continue;
            }
            let Some((vendor, kind)) = w.accelerator.as_ref().and_then(|a| a.vendor()) else {
                continue;
            };
            w.workload.allowed_models = self
                .catalog()
                .accelerators()
                .filter(|m| m.vendor == vendor && kind.is_none_or(|k| m.kind == k))
                .map(|m| m.id.clone())
                .collect();
        }
        // Gangs: attach PodGroups' minimums; model gang when it fits the workload.
        let groups: BTreeMap<(Option<String>, String), &PodGroupInfo> = out
            .pod_groups
            .iter()
            .map(|g| ((g.object.namespace.clone(), g.object.name.clone()), g))
            .collect();
        for w in &mut out.workloads {
            let Some(g) = &mut w.gang else { continue };
            if g.min_members.is_none() {
                g.min_members = groups
                    .get(&(w.object.namespace.clone(), g.name.clone()))
                    .map(|p| p.min_members);
            }
            if let Some(min) = g.min_members {
                if min >= 1 && min <= w.workload.replicas {
                    if let Ok(id) = rightsizer_model::ids::GangId::new(&g.name) {
                        w.workload.gang = Some(Gang {
                            group: id,
                            min_members: min,
                        });
                    }
                }
            }
        }
        // RuntimeClass overheads: admission sets `spec.overhead` from the
        // class when a pod is created without one. A dumped pod (bound or with
        // a status) already went through admission, so its spec is what the
        // scheduler counts; templates and bare manifests get the class's
        // overhead here.
        for w in &mut out.workloads {
            let Some(class) = w.runtime_class.clone() else {
                continue;
            };
            let admitted = w.object.kind == "Pod" && (w.node_name.is_some() || w.phase.is_some());
            if admitted || !w.effective.overhead.is_empty() {
                continue;
            }
            match out.runtime_classes.get(&class) {
                Some(r) => {
                    let overhead = resources_to_map(r);
                    if !overhead.is_empty() {
                        w.admit_overhead(&overhead);
                    }
                }
                None => out.unsupported.push(Unsupported {
                    object: w.object.clone(),
                    field: "spec.runtimeClassName".into(),
                    why: format!("RuntimeClass {class:?} is not in the dump; its pod overhead, if it has one, is not counted"),
                }),
            }
        }
        // DRA claims: not placed by the model.
        for w in &out.workloads {
            for c in &w.claims {
                let target = c
                    .template
                    .as_ref()
                    .or(c.claim.as_ref())
                    .cloned()
                    .unwrap_or_default();
                let found = out
                    .dra
                    .iter()
                    .any(|d| d.object.name == target && d.object.namespace == w.object.namespace);
                out.unsupported.push(Unsupported {
                    object: w.object.clone(),
                    field: format!("spec.resourceClaims[{}]", c.name),
                    why: if found { format!("DRA devices come from claim {target:?}, read into the DRA list; the model workload carries no device demand for it") } else { format!("DRA claim {target:?} is not in the dump") },
                });
            }
        }
        out.unsupported.sort();
        out.unsupported.dedup();
    }
}

/// A RuntimeClass overhead as the resource map pods carry.
fn resources_to_map(r: &rightsizer_model::resources::Resources) -> crate::pod::ResourceMap {
    let mut m = crate::pod::ResourceMap::new();
    let mut put = |k: &str, v: u64| {
        if v > 0 {
            m.insert(k.to_owned(), v);
        }
    };
    put("cpu", r.cpu.get());
    put("memory", r.memory.get());
    put("ephemeral-storage", r.ephemeral_storage.get());
    for (k, v) in &r.extended {
        put(k, *v);
    }
    m
}

fn embedded_objects<'a>(v: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
    if depth > 32 {
        return;
    }
    match v {
        Value::Object(m) => {
            for x in m.values() {
                if x.get("apiVersion").is_some_and(Value::is_string)
                    && x.get("kind").is_some_and(Value::is_string)
                {
                    out.push(x);
                } else {
                    embedded_objects(x, out, depth + 1);
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                if x.get("apiVersion").is_some_and(Value::is_string)
                    && x.get("kind").is_some_and(Value::is_string)
                {
                    out.push(x);
                } else {
                    embedded_objects(x, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// The head of a JSON object: `kind`, `apiVersion` and its `items` as `I`
/// (the top of a dump keeps a `List`'s items as unparsed text borrowed from
/// the input; an item only notes whether it has any).
#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "'de: 'a, I: serde::Deserialize<'de>"))]
struct Head<'a, I> {
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "apiVersion")]
    api_version: Option<Cow<'a, str>>,
    #[serde(default = "none")]
    items: Option<I>,
}

fn none<I>() -> Option<I> {
    None
}

type RawHead<'a> = Head<'a, Vec<&'a RawValue>>;
type ItemHead<'a> = Head<'a, serde::de::IgnoredAny>;

impl Importer {
    /// `None` when the text is not one JSON object (the caller then takes
    /// the general path, which also reports syntax errors).
    fn import_json_streaming(&self, text: &str) -> Option<Result<Import, ImportError>> {
        let mut out = match self.import_json_streaming_raw(text)? {
            Ok(o) => o,
            Err(e) => return Some(Err(e)),
        };
        self.resolve(&mut out);
        Some(Ok(out))
    }

    /// As `import_json_streaming`, without the final resolution.
    ///
    /// A `List`'s items are kept as borrowed text and imported in parallel
    /// (rayon), each straight from its text into its `k8s-openapi` type for
    /// nodes and pods (no intermediate `serde_json::Value`); the results are
    /// joined in input order, and the first error in input order is the one
    /// returned, so the outcome does not depend on the thread count.
    fn import_json_streaming_raw(&self, text: &str) -> Option<Result<Import, ImportError>> {
        let t = text.trim_start_matches('\u{feff}').trim_start();
        if !t.starts_with('{') {
            return None;
        }
        // Anything unusual (duplicate top-level keys, a non-string kind,
        // trailing text) takes the general path, which reports it.
        let head: RawHead<'_> = serde_json::from_str(t).ok()?;
        let kind = head.kind.as_deref().unwrap_or("");
        let Some(items) = head.items.filter(|_| kind.ends_with("List")) else {
            let mut out = Import::default();
            let v: Value = serde_json::from_str(t).ok()?;
            for (_, v) in flatten_lists(vec![crate::dump::Document { index: 0, value: v }]) {
                if let Err(e) = self.import_value(&v, &mut out) {
                    return Some(Err(e));
                }
            }
            return Some(Ok(out));
        };
        let item_kind = kind.strip_suffix("List").unwrap_or("");
        let list_api = head.api_version.as_deref();
        let parts: Vec<Option<Result<Import, ImportError>>> = items
            .par_iter()
            .map(|raw| self.import_raw_item(raw, item_kind, list_api))
            .collect();
        let mut out = Import::default();
        for p in parts {
            match p? {
                Ok(one) => out.append(one),
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(out))
    }

    /// One item of a `List`, from its text. Nodes and pods deserialise
    /// directly into their `k8s-openapi` types; everything else (and any
    /// node or pod that fails to, so the error names the field) goes through
    /// `serde_json::Value` and [`Importer::import_value`]. `None` when the
    /// item is not readable as a `Value` (nesting too deep): the general
    /// path then reports it with the input's name.
    fn import_raw_item(
        &self,
        raw: &RawValue,
        item_kind: &str,
        list_api: Option<&str>,
    ) -> Option<Result<Import, ImportError>> {
        let mut out = Import::default();
        match self.import_raw_typed(raw, item_kind, list_api, &mut out) {
            Ok(true) => return Some(Ok(out)),
            Ok(false) => {}
            Err(e) => return Some(Err(e)),
        }
        let mut v: Value = serde_json::from_str(raw.get()).ok()?;
        if let Value::Object(o) = &mut v {
            if !o.contains_key("kind") && !item_kind.is_empty() {
                o.insert("kind".into(), Value::String(item_kind.to_owned()));
            }
            if !o.contains_key("apiVersion") {
                if let Some(a) = list_api {
                    o.insert("apiVersion".into(), Value::String(a.to_owned()));
                }
            }
        }
        for (_, v) in flatten_lists(vec![crate::dump::Document { index: 0, value: v }]) {
            if let Err(e) = self.import_value(&v, &mut out) {
                return Some(Err(e));
            }
        }
        Some(Ok(out))
    }

    /// The direct path of [`Importer::import_raw_item`]: `Ok(true)` when the
    /// item was a node or pod read straight into its type.
    fn import_raw_typed(
        &self,
        raw: &RawValue,
        item_kind: &str,
        list_api: Option<&str>,
        out: &mut Import,
    ) -> Result<bool, ImportError> {
        let text = raw.get();
        if let Ok(h) = serde_json::from_str::<ItemHead<'_>>(text) {
            let kind = h.kind.as_deref().unwrap_or(item_kind);
            let api = h.api_version.as_deref().or(list_api);
            // The same dispatch as `import_value`: core group (no `/`).
            let core_group = api.is_some_and(|a| !a.contains('/'));
            if h.items.is_none() && core_group {
                match kind {
                    "Node" => {
                        if let Ok(n) = serde_json::from_str::<core::Node>(text) {
                            out.nodes.push(import_node(
                                &n,
                                &self.catalog,
                                &self.config,
                                &mut out.unsupported,
                            )?);
                            return Ok(true);
                        }
                    }
                    "Pod" => {
                        if let Ok(p) = serde_json::from_str::<core::Pod>(text) {
                            let (w, mut u) = self.pod(&p)?;
                            out.workloads.push(w);
                            out.unsupported.append(&mut u);
                            return Ok(true);
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(false)
    }
}
