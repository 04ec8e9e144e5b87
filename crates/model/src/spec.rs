//! JSON and YAML documents, with errors that name the offending field.
//!
//! [`from_json`] and [`from_yaml`] deserialize any model type and report
//! where a problem is (`nodes[2].allocatable.memory`) with line and column;
//! [`ClusterSpec::validate`] then checks what serde cannot: duplicate IDs,
//! devices of unknown models, fractions above one device, placed pods that do
//! not fit. Nothing panics on bad input.
//!
//! The schema of a cluster document (YAML shown; JSON is the same shape):
//!
//! ```yaml
//! accelerators: []          # extra accelerator models (the catalog has the common ones)
//! nodes:
//!   - id: gpu-1
//!     node_type: g2-standard-24      # optional
//!     allocatable: { cpu: "24", memory: 96Gi, pods: 110 }
//!     devices: [ { model: L4 }, { model: L4 } ]
//!     labels: { pool: inference }
//!     taints: [ { key: nvidia.com/gpu, effect: NoSchedule } ]
//!     topology: { zone: us-central1-a }
//! workloads:
//!   - id: llm
//!     replicas: 2
//!     template:
//!       containers:
//!         - name: server
//!           requests: { cpu: "4", memory: 16Gi }
//!           limits: { memory: 16Gi }
//!     accelerator: { type: fraction, milli: 500, memory: 10Gi }
//!     allowed_models: [L4]
//!     tolerations: [ { key: nvidia.com/gpu } ]
//! pods:                     # pods already running (optional)
//!   - { id: llm-0, workload: llm, node: gpu-1 }
//! ```
//!
//! ```
//! use rightsizer_model::spec::{from_yaml, ClusterSpec};
//! let err = from_yaml::<ClusterSpec>("nodes:\n  - id: a\n    allocatable: { cpu: lots }\n").unwrap_err();
//! assert!(err.to_string().starts_with("nodes[0].allocatable.cpu"), "{err}");
//! ```

use crate::accelerator::AcceleratorModel;
use crate::cluster::{ClusterState, DeviceAssignment};
use crate::ids::{AcceleratorModelId, NodeId, PodId, WorkloadId};
use crate::node::{Node, NodeType};
use crate::resources::Dimension;
use crate::units::GpuMilli;
use crate::workload::{AcceleratorDemand, PodTemplate, Workload};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A problem in a document. `path` is the field path (`nodes[1].devices[0].model`);
/// the document-level variants carry line and column when the parser knows them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The text is not valid JSON/YAML for the schema (wrong type, unknown
    /// field, bad quantity, negative or overflowing size, ...).
    #[error("{path}: {message}{}", loc(*line, *column))]
    Syntax {
        /// Field path (`.` when the error is at the root).
        path: String,
        /// What the parser said.
        message: String,
        /// 1-based line, if known.
        line: Option<usize>,
        /// 1-based column, if known.
        column: Option<usize>,
    },
    /// Two entries share an identifier.
    #[error("{path}: duplicate id {id:?}")]
    DuplicateId {
        /// Path of the second occurrence.
        path: String,
        /// The identifier.
        id: String,
    },
    /// A reference to something that does not exist.
    #[error("{path}: unknown {what} {id:?}")]
    Unknown {
        /// Field path.
        path: String,
        /// What kind of thing (`accelerator model`, `node`, `workload`).
        what: &'static str,
        /// The identifier.
        id: String,
    },
    /// A value that parses but is out of its domain.
    #[error("{path}: {reason}")]
    Invalid {
        /// Field path.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

fn loc(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

fn path_string(p: &serde_path_to_error::Path) -> String {
    let s = p.to_string();
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

/// Deserializes a JSON document into `T`, naming the offending field on error.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, SpecError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = path_string(e.path());
        let inner = e.into_inner();
        SpecError::Syntax {
            path,
            line: Some(inner.line()),
            column: Some(inner.column()),
            message: strip_location(&inner.to_string()),
        }
    })?;
    de.end().map_err(|e| SpecError::Syntax {
        path: ".".into(),
        line: Some(e.line()),
        column: Some(e.column()),
        message: strip_location(&e.to_string()),
    })?;
    Ok(v)
}

/// The deepest flow nesting (`[`/`{`) a YAML document may have, as
/// serde_json's recursion limit for JSON.
pub const MAX_YAML_DEPTH: usize = 128;

/// Refuses YAML nested deeper than [`MAX_YAML_DEPTH`] flow collections
/// before the parser sees it: the YAML parser takes time quadratic in the
/// flow depth (a 200 KB file of nested `[` took 33 s), while block nesting
/// is bounded by the file size (each level indents further) and by the
/// deserializer's recursion limit.
///
/// One linear pass that knows quoted scalars, comments and block scalars
/// (`|`, `>`), so brackets inside them are not counted. Every YAML reader
/// of the workspace goes through it ([`from_yaml`], [`from_str_auto`]).
///
/// ```
/// use rightsizer_model::spec::check_yaml_depth;
/// assert!(check_yaml_depth("a: [1, {b: [2]}]\nc: \"[[[[\"\n").is_ok());
/// let deep = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
/// assert!(check_yaml_depth(&deep).unwrap_err().to_string().contains("deeper than 128"));
/// ```
pub fn check_yaml_depth(text: &str) -> Result<(), SpecError> {
    let b = text.as_bytes();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut depth = 0usize;
    // At the start of a node: a quote opens a quoted scalar, `|`/`>` a block
    // scalar, `[`/`{` a flow collection.
    let mut at_start = true;
    let mut line_indent = 0usize;
    let mut in_indent = true;
    // Indentation of the line that opened a block scalar, while inside one.
    let mut block_scalar: Option<usize> = None;
    let ws = |c: u8| c == b' ' || c == b'\t' || c == b'\r' || c == b'\n';
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            i += 1;
            line += 1;
            col = 1;
            line_indent = 0;
            in_indent = true;
            if depth == 0 {
                at_start = true;
            }
            // Skip the lines of a block scalar (more indented, or blank).
            if let Some(parent) = block_scalar {
                let mut j = i;
                while j < b.len() && b[j] == b' ' {
                    j += 1;
                }
                let blank = j >= b.len() || b[j] == b'\n' || b[j] == b'\r';
                if blank || j - i > parent {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                block_scalar = None;
            }
            continue;
        }
        if in_indent && c == b' ' {
            line_indent += 1;
            i += 1;
            col += 1;
            continue;
        }
        in_indent = false;
        let next_ws = b.get(i + 1).is_none_or(|&n| ws(n));
        match c {
            b' ' | b'\t' | b'\r' => {}
            b'#' if i == 0 || ws(b[i - 1]) => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'[' | b'{' if at_start || depth > 0 => {
                depth += 1;
                if depth > MAX_YAML_DEPTH {
                    return Err(SpecError::Syntax {
                        path: ".".into(),
                        message: format!(
                            "the document is nested deeper than {MAX_YAML_DEPTH} levels"
                        ),
                        line: Some(line),
                        column: Some(col),
                    });
                }
                at_start = true;
            }
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                at_start = false;
            }
            b',' if depth > 0 => at_start = true,
            b'-' | b'?' | b':' if next_ws => at_start = true,
            b':' if depth > 0 && b.get(i + 1).is_some_and(|n| b",[]{}".contains(n)) => {
                at_start = true
            }
            b'&' | b'!' if at_start => {
                // An anchor or tag: the node proper follows it.
                while i < b.len() && !ws(b[i]) {
                    i += 1;
                    col += 1;
                }
                continue;
            }
            b'\'' | b'"' if at_start => {
                let q = c;
                i += 1;
                col += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' if q == b'"' => {
                            i += 1;
                            col += 1;
                        }
                        b'\'' if q == b'\'' && b.get(i + 1) == Some(&b'\'') => {
                            i += 1;
                            col += 1;
                        }
                        x if x == q => break,
                        b'\n' => {
                            line += 1;
                            col = 0;
                        }
                        _ => {}
                    }
                    i += 1;
                    col += 1;
                }
                at_start = false;
            }
            b'|' | b'>' if at_start && depth == 0 => {
                block_scalar = Some(line_indent);
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => at_start = false,
        }
        i += 1;
        col += 1;
    }
    Ok(())
}

/// Deserializes a YAML document into `T`, naming the offending field on
/// error. The nesting depth is checked first ([`check_yaml_depth`]).
pub fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<T, SpecError> {
    check_yaml_depth(text)?;
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = path_string(e.path());
        let inner = e.into_inner();
        let l = inner.location();
        // serde_yaml prefixes some messages with its own (shorter) path.
        let msg = strip_location(&inner.to_string());
        let message = match msg.split_once(": ") {
            Some((pre, rest)) if !pre.contains(' ') && path.starts_with(pre) => rest.to_string(),
            _ => msg,
        };
        SpecError::Syntax {
            path,
            line: l.as_ref().map(|l| l.line()),
            column: l.as_ref().map(|l| l.column()),
            message,
        }
    })
}

/// Deserializes JSON or YAML (YAML is a superset of JSON, but JSON gets the
/// more precise JSON error messages when the text starts with `{` or `[`).
pub fn from_str_auto<T: DeserializeOwned>(text: &str) -> Result<T, SpecError> {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        from_json(text)
    } else {
        from_yaml(text)
    }
}

/// Deserializes a JSON or YAML document whose top level must be a mapping
/// (a cluster, a targets list, a pack instance): an empty document (nothing
/// but blank lines, comments and `---`) or a top-level list is an error,
/// where [`from_str_auto`] would accept them as a value with every field
/// defaulted.
///
/// ```
/// use rightsizer_model::spec::{from_str_document, ClusterSpec};
/// assert!(from_str_document::<ClusterSpec>("nodes: []").is_ok());
/// let e = from_str_document::<ClusterSpec>("# nothing\n---\n").unwrap_err();
/// assert!(e.to_string().contains("the document is empty"), "{e}");
/// let e = from_str_document::<ClusterSpec>("[]").unwrap_err();
/// assert!(e.to_string().contains("expected a mapping"), "{e}");
/// ```
pub fn from_str_document<T: DeserializeOwned>(text: &str) -> Result<T, SpecError> {
    let empty = text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    });
    if empty {
        return Err(SpecError::Invalid {
            path: ".".into(),
            reason: "the document is empty".into(),
        });
    }
    from_str_auto::<MapOnly<T>>(text).map(|m| m.0)
}

/// Deserializes `T` only from a mapping.
struct MapOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MapOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, a: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(a))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData)).map(MapOnly)
    }
}

fn strip_location(msg: &str) -> String {
    // serde_json appends " at line X column Y"; we report those separately.
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// A pod already running on a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacedPod {
    /// Pod name.
    pub id: PodId,
    /// Its workload.
    pub workload: WorkloadId,
    /// The node it runs on.
    pub node: NodeId,
    /// Devices it holds; chosen first-fit when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<DeviceAssignment>,
    /// Its current resources, when they differ from the workload template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<PodTemplate>,
}

/// A cluster document: accelerator models, node types, nodes, workloads and
/// running pods.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// Accelerator models beyond the ones the caller supplies (e.g. the catalog).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accelerators: Vec<AcceleratorModel>,
    /// Node types referenced by nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_types: Vec<NodeType>,
    /// Nodes.
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// Workloads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<Workload>,
    /// Running pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<PlacedPod>,
}

fn dup<'a, I: IntoIterator<Item = (usize, &'a str)>>(
    items: I,
    prefix: &str,
) -> Result<(), SpecError> {
    let mut seen = BTreeSet::new();
    for (i, id) in items {
        if !seen.insert(id) {
            return Err(SpecError::DuplicateId {
                path: format!("{prefix}[{i}].id"),
                id: id.to_string(),
            });
        }
    }
    Ok(())
}

impl ClusterSpec {
    /// The accelerator models: `base` (e.g. the built-in catalog) overridden
    /// and extended by this document's `accelerators`.
    pub fn models(
        &self,
        base: &[AcceleratorModel],
    ) -> BTreeMap<AcceleratorModelId, AcceleratorModel> {
        let mut m: BTreeMap<_, _> = base.iter().map(|a| (a.id.clone(), a.clone())).collect();
        for a in &self.accelerators {
            m.insert(a.id.clone(), a.clone());
        }
        m
    }

    /// Checks references and domains that serde cannot, given the models of
    /// `base` plus the document's own.
    pub fn validate(&self, base: &[AcceleratorModel]) -> Result<(), SpecError> {
        dup(
            self.accelerators
                .iter()
                .enumerate()
                .map(|(i, a)| (i, a.id.as_str())),
            "accelerators",
        )?;
        for (i, a) in self.accelerators.iter().enumerate() {
            if let Err((field, e)) = a.validate() {
                return Err(SpecError::Invalid {
                    path: format!("accelerators[{i}].{field}"),
                    reason: e.to_string(),
                });
            }
        }
        dup(
            self.node_types
                .iter()
                .enumerate()
                .map(|(i, a)| (i, a.id.as_str())),
            "node_types",
        )?;
        dup(
            self.nodes
                .iter()
                .enumerate()
                .map(|(i, a)| (i, a.id.as_str())),
            "nodes",
        )?;
        dup(
            self.workloads
                .iter()
                .enumerate()
                .map(|(i, a)| (i, a.id.as_str())),
            "workloads",
        )?;
        dup(
            self.pods
                .iter()
                .enumerate()
                .map(|(i, a)| (i, a.id.as_str())),
            "pods",
        )?;
        let models = self.models(base);
        let types: BTreeSet<&str> = self.node_types.iter().map(|t| t.id.as_str()).collect();
        for (i, t) in self.node_types.iter().enumerate() {
            for (j, d) in t.devices.iter().enumerate() {
                if !models.contains_key(&d.model) {
                    return Err(SpecError::Unknown {
                        path: format!("node_types[{i}].devices[{j}].model"),
                        what: "accelerator model",
                        id: d.model.to_string(),
                    });
                }
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            for (j, d) in n.devices.iter().enumerate() {
                if !models.contains_key(&d.model) {
                    return Err(SpecError::Unknown {
                        path: format!("nodes[{i}].devices[{j}].model"),
                        what: "accelerator model",
                        id: d.model.to_string(),
                    });
                }
            }
            if let Some(t) = &n.node_type {
                if !types.is_empty() && !types.contains(t.as_str()) {
                    return Err(SpecError::Unknown {
                        path: format!("nodes[{i}].node_type"),
                        what: "node type",
                        id: t.to_string(),
                    });
                }
            }
        }
        for (i, w) in self.workloads.iter().enumerate() {
            validate_workload(w, &models, &format!("workloads[{i}]"))?;
        }
        let workloads: BTreeSet<&str> = self.workloads.iter().map(|w| w.id.as_str()).collect();
        let nodes: BTreeSet<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
        for (i, p) in self.pods.iter().enumerate() {
            if !workloads.contains(p.workload.as_str()) {
                return Err(SpecError::Unknown {
                    path: format!("pods[{i}].workload"),
                    what: "workload",
                    id: p.workload.to_string(),
                });
            }
            if !nodes.contains(p.node.as_str()) {
                return Err(SpecError::Unknown {
                    path: format!("pods[{i}].node"),
                    what: "node",
                    id: p.node.to_string(),
                });
            }
        }
        // A node document without `pods:` deserialises to zero pod slots:
        // say so here, with the field, rather than failing on every pod.
        if let Some(i) = self.nodes.iter().position(|n| n.allocatable.pods == 0) {
            return Err(SpecError::Invalid {
                path: format!("nodes[{i}].allocatable.pods"),
                reason: format!(
                    "node {} has no pod slots (`pods:` is 0 or missing), so it could never take a pod; \
                     Kubernetes reports it in allocatable (the kubelet's default maxPods is 110)",
                    self.nodes[i].id
                ),
            });
        }
        Ok(())
    }

    /// Validates, then builds the cluster state with the running pods
    /// allocated. A running pod that does not fit its node is an error (the
    /// document is inconsistent), naming the pod's path.
    pub fn to_state(&self, base: &[AcceleratorModel]) -> Result<ClusterState, SpecError> {
        self.validate(base)?;
        let models = self.models(base);
        let mut state =
            ClusterState::new(self.nodes.clone(), models.into_values()).map_err(|e| {
                SpecError::Invalid {
                    path: "nodes".into(),
                    reason: e.to_string(),
                }
            })?;
        let by_id: BTreeMap<&WorkloadId, &Workload> =
            self.workloads.iter().map(|w| (&w.id, w)).collect();
        for (i, p) in self.pods.iter().enumerate() {
            let w = by_id[&p.workload];
            let mut req = w.pod_request();
            if let Some(t) = &p.template {
                req.resources = t.request();
            }
            let node = state.node_index(&p.node).expect("validated");
            // Name the binding dimension before looking at devices: a plain
            // cpu, memory or pod-slot shortfall is not a device problem.
            let free = &state.node_free(node).resources;
            if let Some(dim) = req.resources.first_short(free) {
                let allocatable = &state.node(node).allocatable;
                let unit = match dim {
                    Dimension::Cpu => "m",
                    Dimension::Memory | Dimension::EphemeralStorage => " bytes",
                    _ => "",
                };
                return Err(SpecError::Invalid {
                    path: format!("pods[{i}]"),
                    reason: format!(
                        "does not fit node {}: insufficient {dim}: requested {}{unit}, free {}{unit} of {}{unit} allocatable",
                        p.node,
                        req.resources.get(&dim),
                        free.get(&dim),
                        allocatable.get(&dim),
                    ),
                });
            }
            let devices = match &p.devices {
                Some(d) => d.clone(),
                None => state
                    .first_fit_devices(&req, node)
                    .ok_or_else(|| SpecError::Invalid {
                        path: format!("pods[{i}]"),
                        reason: format!(
                            "does not fit node {}: no free device there meets the accelerator demand {:?}",
                            p.node, req.accelerator
                        ),
                    })?,
            };
            state
                .allocate(p.id.clone(), &req, node, &devices)
                .map_err(|e| SpecError::Invalid {
                    path: format!("pods[{i}]"),
                    reason: format!("does not fit node {}: {e}", p.node),
                })?;
        }
        Ok(state)
    }
}

/// Checks a workload's accelerator demand against known models.
pub fn validate_workload(
    w: &Workload,
    models: &BTreeMap<AcceleratorModelId, AcceleratorModel>,
    path: &str,
) -> Result<(), SpecError> {
    for (j, m) in w.allowed_models.iter().enumerate() {
        if !models.contains_key(m) {
            return Err(SpecError::Unknown {
                path: format!("{path}.allowed_models[{j}]"),
                what: "accelerator model",
                id: m.to_string(),
            });
        }
    }
    if w.template.containers.is_empty() {
        return Err(SpecError::Invalid {
            path: format!("{path}.template.containers"),
            reason: "a pod needs at least one container".into(),
        });
    }
    match &w.accelerator {
        AcceleratorDemand::Fraction { milli, memory } => {
            if *milli > GpuMilli::ONE {
                return Err(SpecError::Invalid {
                    path: format!("{path}.accelerator.milli"),
                    reason: format!(
                        "a fraction of one device must be at most 1000 milli, got {}",
                        milli.get()
                    ),
                });
            }
            if milli.is_zero() && memory.is_none_or(|m| m.is_zero()) {
                return Err(SpecError::Invalid {
                    path: format!("{path}.accelerator"),
                    reason: "a fraction needs milli > 0 or memory > 0".into(),
                });
            }
        }
        AcceleratorDemand::Whole { count } if *count == 0 => {
            return Err(SpecError::Invalid {
                path: format!("{path}.accelerator.count"),
                reason: "whole-device demand needs count >= 1".into(),
            });
        }
        AcceleratorDemand::Mig { profile } => {
            let ok = models.values().any(|m| {
                m.sharing
                    .mig
                    .as_ref()
                    .is_some_and(|g| g.profile(profile).is_some())
                    && (w.allowed_models.is_empty() || w.allowed_models.contains(&m.id))
            });
            if !ok {
                return Err(SpecError::Unknown {
                    path: format!("{path}.accelerator.profile"),
                    what: "MIG profile",
                    id: profile.clone(),
                });
            }
        }
        _ => {}
    }
    if let Some(g) = &w.gang {
        if g.min_members == 0 || g.min_members > w.replicas {
            return Err(SpecError::Invalid {
                path: format!("{path}.gang.min_members"),
                reason: format!("must be in 1..={} (the replicas)", w.replicas),
            });
        }
    }
    Ok(())
}
