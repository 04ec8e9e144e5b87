//! The [`Catalog`]: accelerator models and node types keyed by id, with
//! validated merging of JSON/YAML documents.

use crate::error::{CatalogError, EntryError, Section};
use rightsizer_model::accelerator::AcceleratorModel;
use rightsizer_model::ids::{AcceleratorModelId, NodeId, NodeTypeId};
use rightsizer_model::node::{Node, NodeType, Provider};
use rightsizer_model::spec::{self, SpecError};
use rightsizer_model::units::PricePerHour;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The file format of catalog documents: two optional lists.
///
/// ```yaml
/// accelerators:            # AcceleratorModel entries (same schema as in cluster documents)
///   - { id: MyNPU, kind: asic, vendor: Acme, name: Acme NPU, memory: 32Gi,
///       bf16: 200, memory_bandwidth: 1000, idle_power: 20, max_power: 150,
///       source: "https://acme.example/npu" }
/// node_types:              # NodeType entries; prices in micro-dollars per hour
///   - { id: acme.4x, provider: other, region: lab, cpu: "32", memory: 256Gi,
///       devices: [ { model: MyNPU, count: 4 } ], price: 4000000 }
/// ```
///
/// An entry whose id already exists in the catalog replaces it; a new id is
/// added. Nothing can be removed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogDocument {
    /// Accelerator models.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accelerators: Vec<AcceleratorModel>,
    /// Node (instance) types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_types: Vec<NodeType>,
}

/// What a merge changed, ids in document order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Accelerator models that were new.
    pub added_accelerators: Vec<AcceleratorModelId>,
    /// Accelerator models that replaced an existing entry.
    pub replaced_accelerators: Vec<AcceleratorModelId>,
    /// Node types that were new.
    pub added_node_types: Vec<NodeTypeId>,
    /// Node types that replaced an existing entry.
    pub replaced_node_types: Vec<NodeTypeId>,
}

/// Accelerator models and node types, ordered by id.
///
/// Invariant: every device of every node type references an accelerator
/// model of the same catalog, every accelerator passes
/// [`AcceleratorModel::validate`] and every node type has a positive price.
/// Merges either apply completely or leave the catalog unchanged.
///
/// ```
/// use rightsizer_catalog::{Catalog, NodeTypeFilter};
/// use rightsizer_model::node::Provider;
///
/// let catalog = Catalog::builtin();
/// let h100 = catalog.accelerator("H100-SXM").expect("built in");
/// assert_eq!(h100.max_power.get(), 700);
/// let gcp_gpu = catalog
///     .node_types_matching(&NodeTypeFilter::new().provider(Provider::Gcp).accelerated())
///     .count();
/// assert!(gcp_gpu > 5);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    accelerators: BTreeMap<AcceleratorModelId, AcceleratorModel>,
    node_types: BTreeMap<NodeTypeId, NodeType>,
}

/// The file name used in errors for entries inserted through the API.
pub const API_FILE: &str = "<api>";

enum Format {
    Json,
    Yaml,
    Auto,
}

fn format_of(file_name: &str) -> Format {
    let lower = file_name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Format::Json
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Format::Yaml
    } else {
        Format::Auto
    }
}

/// Splits `node_types[3].devices[0].model` into (section, 3, `devices[0].model`).
fn split_entry_path(path: &str) -> Option<(Section, usize, String)> {
    for section in [Section::Accelerators, Section::NodeTypes] {
        let Some(rest) = path
            .strip_prefix(section.key())
            .and_then(|r| r.strip_prefix('['))
        else {
            continue;
        };
        let close = rest.find(']')?;
        let index = rest[..close].parse().ok()?;
        let field = rest[close + 1..].trim_start_matches('.');
        let field = if field.is_empty() { "." } else { field };
        return Some((section, index, field.to_string()));
    }
    None
}

/// Best-effort: the `id` string of entry `index` of `section`, read from the
/// raw document (used to name entries whose typed parse failed).
fn raw_entry_id(text: &str, format: &Format, section: Section, index: usize) -> Option<String> {
    // The raw re-read is YAML too: keep the depth cap in front of it.
    if !matches!(format, Format::Json) {
        spec::check_yaml_depth(text).ok()?;
    }
    let value: serde_json::Value = match format {
        Format::Json => serde_json::from_str(text).ok()?,
        Format::Yaml => serde_yaml::from_str(text).ok()?,
        Format::Auto => serde_json::from_str(text)
            .ok()
            .or_else(|| serde_yaml::from_str(text).ok())?,
    };
    value
        .get(section.key())?
        .get(index)?
        .get("id")?
        .as_str()
        .map(str::to_string)
}

fn entry_err(
    file: &str,
    section: Section,
    index: usize,
    id: &str,
    field: impl Into<String>,
    message: impl Into<String>,
) -> CatalogError {
    CatalogError::Entry(Box::new(EntryError {
        file: file.to_string(),
        section,
        index,
        id: Some(id.to_string()),
        field: field.into(),
        line: None,
        column: None,
        message: message.into(),
    }))
}

/// serde_yaml repeats the field path at the start of its messages; the
/// error carries the path separately.
fn strip_path_prefix(message: String) -> String {
    let starts = [Section::Accelerators, Section::NodeTypes]
        .iter()
        .any(|s| message.starts_with(s.key()));
    match message.find(": ") {
        Some(i) if starts && !message[..i].contains(' ') => message[i + 2..].to_string(),
        _ => message,
    }
}

/// Parses a catalog document, naming the file, entry and field on error.
///
/// The format follows the file name: `.json` is JSON, `.yaml`/`.yml` is
/// YAML, anything else is sniffed (JSON when the text starts with `{`).
/// This only parses; [`Catalog::merge_from_str`] also validates.
///
/// ```
/// use rightsizer_catalog::parse_document;
/// let doc = parse_document(r#"{"node_types": []}"#, "x.json")?;
/// assert!(doc.node_types.is_empty());
/// let err = parse_document("accelerators: 5\n", "x.yaml").unwrap_err();
/// assert!(err.to_string().starts_with("x.yaml: accelerators"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_document(text: &str, file_name: &str) -> Result<CatalogDocument, CatalogError> {
    let format = format_of(file_name);
    let parsed = match format {
        Format::Json => spec::from_json::<CatalogDocument>(text),
        Format::Yaml => spec::from_yaml::<CatalogDocument>(text),
        Format::Auto => spec::from_str_auto::<CatalogDocument>(text),
    };
    parsed.map_err(|e| match e {
        SpecError::Syntax {
            path,
            line,
            column,
            message,
        } => match (split_entry_path(&path), strip_path_prefix(message)) {
            (Some((section, index, field)), message) => CatalogError::Entry(Box::new(EntryError {
                file: file_name.to_string(),
                section,
                index,
                id: raw_entry_id(text, &format, section, index),
                field,
                line,
                column,
                message,
            })),
            (None, message) => CatalogError::Document {
                file: file_name.to_string(),
                path,
                line,
                column,
                message,
            },
        },
        other => CatalogError::Document {
            file: file_name.to_string(),
            path: ".".into(),
            line: None,
            column: None,
            message: other.to_string(),
        },
    })
}

/// Checks one accelerator beyond [`AcceleratorModel::validate`]: MIG profile
/// capacity (max instances × slices within the device, enough start slots,
/// increasing start slots) and non-zero sharing counts.
fn check_accelerator(a: &AcceleratorModel) -> Result<(), (String, String)> {
    if let Err((field, e)) = a.validate() {
        return Err((field.to_string(), e.to_string()));
    }
    if a.name.trim().is_empty() {
        return Err(("name".into(), "must not be empty".into()));
    }
    if a.vendor.trim().is_empty() {
        return Err(("vendor".into(), "must not be empty".into()));
    }
    let m = &a.sharing;
    if !m.whole && m.fractional.is_none() && m.mig.is_none() && m.time_slicing_replicas.is_none() {
        return Err((
            "sharing".into(),
            "no way to allocate the device: enable whole, fractional, mig or \
             time_slicing_replicas"
                .into(),
        ));
    }
    if let Some(f) = &a.sharing.fractional {
        if f.max_shares == 0 {
            return Err((
                "sharing.fractional.max_shares".into(),
                "must be at least 1".into(),
            ));
        }
    }
    if a.sharing.time_slicing_replicas == Some(0) {
        return Err((
            "sharing.time_slicing_replicas".into(),
            "must be at least 1".into(),
        ));
    }
    if let Some(g) = &a.sharing.mig {
        if g.compute_slices == 0 || g.memory_slices == 0 {
            return Err((
                "sharing.mig".into(),
                "compute_slices and memory_slices must be at least 1".into(),
            ));
        }
        let mut names = BTreeSet::new();
        for (i, p) in g.profiles.iter().enumerate() {
            let at = |f: &str| format!("sharing.mig.profiles[{i}].{f}");
            if !names.insert(p.name.as_str()) {
                return Err((at("name"), format!("duplicate profile {:?}", p.name)));
            }
            if p.max_instances == 0 {
                return Err((at("max_instances"), "must be at least 1".into()));
            }
            let n = u32::from(p.max_instances);
            if n * u32::from(p.memory_slices) > u32::from(g.memory_slices) {
                return Err((
                    at("max_instances"),
                    format!(
                        "{n} instances of {} memory slices exceed the device's {}",
                        p.memory_slices, g.memory_slices
                    ),
                ));
            }
            if n * u32::from(p.compute_slices) > u32::from(g.compute_slices) {
                return Err((
                    at("max_instances"),
                    format!(
                        "{n} instances of {} compute slices exceed the device's {}",
                        p.compute_slices, g.compute_slices
                    ),
                ));
            }
            if p.start_slots.len() < usize::from(p.max_instances) {
                return Err((
                    at("start_slots"),
                    format!(
                        "{} start slots cannot hold {} instances",
                        p.start_slots.len(),
                        p.max_instances
                    ),
                ));
            }
            if p.start_slots.windows(2).any(|w| w[0] >= w[1]) {
                return Err((at("start_slots"), "must be strictly increasing".into()));
            }
            if p.memory.is_zero() {
                return Err((at("memory"), "must be positive".into()));
            }
        }
    }
    Ok(())
}

/// The most accelerator devices one node type may carry (placement tracks a
/// node's devices in a 64-bit set).
pub const MAX_DEVICES_PER_NODE: u32 = 64;

/// Checks one node type; `known` tells whether an accelerator model exists.
fn check_node_type(
    t: &NodeType,
    known: &dyn Fn(&AcceleratorModelId) -> bool,
) -> Result<(), (String, String)> {
    if t.price == PricePerHour::ZERO {
        return Err(("price".into(), "must be positive".into()));
    }
    if t.spot_price == Some(PricePerHour::ZERO) {
        return Err(("spot_price".into(), "must be positive when given".into()));
    }
    if t.cpu.is_zero() {
        return Err(("cpu".into(), "must be positive".into()));
    }
    if t.memory.is_zero() {
        return Err(("memory".into(), "must be positive".into()));
    }
    if t.region.trim().is_empty() {
        return Err(("region".into(), "must not be empty".into()));
    }
    if t.idle_power > t.max_power {
        return Err((
            "idle_power".into(),
            format!(
                "idle power {} exceeds max power {}",
                t.idle_power, t.max_power
            ),
        ));
    }
    let mut total = 0u32;
    for (j, d) in t.devices.iter().enumerate() {
        if d.count == 0 {
            return Err((format!("devices[{j}].count"), "must be at least 1".into()));
        }
        total += u32::from(d.count);
        if total > MAX_DEVICES_PER_NODE {
            return Err((
                format!("devices[{j}].count"),
                format!(
                    "{total} devices on one node; at most {MAX_DEVICES_PER_NODE} are supported"
                ),
            ));
        }
        if !known(&d.model) {
            return Err((
                format!("devices[{j}].model"),
                format!("unknown accelerator model {:?}", d.model.as_str()),
            ));
        }
    }
    Ok(())
}

/// On-demand price per accelerator device (`None` for CPU-only types),
/// rounded to the nearest micro-dollar.
///
/// ```
/// use rightsizer_catalog::{price_per_device, Catalog};
/// let c = Catalog::builtin();
/// let p5 = c.node_type("p5.48xlarge").unwrap();
/// assert_eq!(price_per_device(p5).unwrap().micros(), 6_880_000);
/// ```
pub fn price_per_device(t: &NodeType) -> Option<PricePerHour> {
    let n = u64::from(t.device_count());
    (n > 0).then(|| PricePerHour::from_micros((t.price.micros() + n / 2) / n))
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// A catalog made only of the entries of one file (node types may only
    /// reference accelerators of the same file).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, CatalogError> {
        let mut c = Self::new();
        c.merge_from_path(path)?;
        Ok(c)
    }

    /// Reads a JSON/YAML file and merges it (see [`Catalog::merge_from_str`]).
    pub fn merge_from_path(&mut self, path: impl AsRef<Path>) -> Result<MergeReport, CatalogError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            file: file.clone(),
            source,
        })?;
        self.merge_from_str(&text, &file)
    }

    /// Parses a document and merges it: an entry whose id exists replaces
    /// it, a new id is added. The whole document is validated first
    /// (duplicate ids within the file, accelerator consistency, positive
    /// prices, node-type devices referencing known models); on any error the
    /// catalog is left unchanged and the error names `file_name`, the entry
    /// (list, index, id) and the field.
    ///
    /// ```
    /// use rightsizer_catalog::Catalog;
    /// let mut c = Catalog::builtin();
    /// let before = c.node_type("g6.xlarge").unwrap().price;
    /// let report = c.merge_from_str(
    ///     "node_types:\n  - { id: g6.xlarge, provider: aws, region: us-east-1, cpu: 4, memory: 16Gi,\n      devices: [ { model: L4, count: 1 } ], price: 600000, source: negotiated }\n",
    ///     "discounts.yaml",
    /// )?;
    /// assert_eq!(report.replaced_node_types.len(), 1);
    /// assert!(c.node_type("g6.xlarge").unwrap().price < before);
    ///
    /// // A bad file changes nothing.
    /// let snapshot = c.clone();
    /// let err = c.merge_from_str(r#"{"node_types": [{"id": "x", "provider": "aws", "region": "r",
    ///     "cpu": 1, "memory": "1Gi", "price": 1, "devices": [{"model": "Nope", "count": 1}]}]}"#, "bad.json")
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("devices[0].model"), "{err}");
    /// assert_eq!(c, snapshot);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn merge_from_str(
        &mut self,
        text: &str,
        file_name: &str,
    ) -> Result<MergeReport, CatalogError> {
        let doc = parse_document(text, file_name)?;
        self.merge_document(doc, file_name)
    }

    /// Validates and merges an already parsed document (all or nothing).
    pub fn merge_document(
        &mut self,
        doc: CatalogDocument,
        file_name: &str,
    ) -> Result<MergeReport, CatalogError> {
        self.check_document(&doc, file_name)?;
        let mut next = self.clone();
        let mut report = MergeReport::default();
        for a in doc.accelerators {
            let id = a.id.clone();
            match next.accelerators.insert(id.clone(), a) {
                Some(_) => report.replaced_accelerators.push(id),
                None => report.added_accelerators.push(id),
            }
        }
        for t in doc.node_types {
            let id = t.id.clone();
            match next.node_types.insert(id.clone(), t) {
                Some(_) => report.replaced_node_types.push(id),
                None => report.added_node_types.push(id),
            }
        }
        *self = next;
        Ok(report)
    }

    fn check_document(&self, doc: &CatalogDocument, file: &str) -> Result<(), CatalogError> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, a) in doc.accelerators.iter().enumerate() {
            if let Some(first) = seen.insert(a.id.as_str(), i) {
                return Err(entry_err(
                    file,
                    Section::Accelerators,
                    i,
                    a.id.as_str(),
                    "id",
                    format!("duplicate id, first defined at accelerators[{first}]"),
                ));
            }
            check_accelerator(a).map_err(|(field, msg)| {
                entry_err(file, Section::Accelerators, i, a.id.as_str(), field, msg)
            })?;
        }
        let new_models: BTreeSet<&str> = doc.accelerators.iter().map(|a| a.id.as_str()).collect();
        let known = |m: &AcceleratorModelId| {
            new_models.contains(m.as_str()) || self.accelerators.contains_key(m)
        };
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, t) in doc.node_types.iter().enumerate() {
            if let Some(first) = seen.insert(t.id.as_str(), i) {
                return Err(entry_err(
                    file,
                    Section::NodeTypes,
                    i,
                    t.id.as_str(),
                    "id",
                    format!("duplicate id, first defined at node_types[{first}]"),
                ));
            }
            check_node_type(t, &known).map_err(|(field, msg)| {
                entry_err(file, Section::NodeTypes, i, t.id.as_str(), field, msg)
            })?;
        }
        Ok(())
    }

    /// Validates and inserts (or replaces) one accelerator model; returns the
    /// entry it replaced.
    pub fn insert_accelerator(
        &mut self,
        model: AcceleratorModel,
    ) -> Result<Option<AcceleratorModel>, CatalogError> {
        check_accelerator(&model).map_err(|(field, msg)| {
            entry_err(
                API_FILE,
                Section::Accelerators,
                0,
                model.id.as_str(),
                field,
                msg,
            )
        })?;
        Ok(self.accelerators.insert(model.id.clone(), model))
    }

    /// Validates and inserts (or replaces) one node type, whose devices must
    /// reference models already in the catalog; returns the entry it replaced.
    ///
    /// ```
    /// use rightsizer_catalog::Catalog;
    /// use rightsizer_model::units::PricePerHour;
    /// let mut c = Catalog::builtin();
    /// let mut t = c.node_type("g6.xlarge").unwrap().clone();
    /// t.price = PricePerHour::from_dollars(0.55).unwrap();
    /// assert!(c.insert_node_type(t.clone())?.is_some());
    /// t.price = PricePerHour::ZERO;
    /// assert!(c.insert_node_type(t).unwrap_err().to_string().contains("price"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn insert_node_type(&mut self, t: NodeType) -> Result<Option<NodeType>, CatalogError> {
        let known = |m: &AcceleratorModelId| self.accelerators.contains_key(m);
        check_node_type(&t, &known).map_err(|(field, msg)| {
            entry_err(API_FILE, Section::NodeTypes, 0, t.id.as_str(), field, msg)
        })?;
        Ok(self.node_types.insert(t.id.clone(), t))
    }

    /// The accelerator model with this id.
    ///
    /// ```
    /// use rightsizer_catalog::Catalog;
    /// let c = Catalog::builtin();
    /// let mig = c.accelerator("H200").unwrap().sharing.mig.as_ref().unwrap();
    /// assert!(mig.profile("1g.18gb").is_some());
    /// assert!(c.accelerator("H900").is_none());
    /// ```
    pub fn accelerator(&self, id: &str) -> Option<&AcceleratorModel> {
        self.accelerators.get(id)
    }

    /// The node type with this id.
    pub fn node_type(&self, id: &str) -> Option<&NodeType> {
        self.node_types.get(id)
    }

    /// All accelerator models, ordered by id.
    pub fn accelerators(&self) -> impl ExactSizeIterator<Item = &AcceleratorModel> + '_ {
        self.accelerators.values()
    }

    /// All node types, ordered by id.
    pub fn node_types(&self) -> impl ExactSizeIterator<Item = &NodeType> + '_ {
        self.node_types.values()
    }

    /// The accelerator map, keyed by id.
    pub fn accelerator_map(&self) -> &BTreeMap<AcceleratorModelId, AcceleratorModel> {
        &self.accelerators
    }

    /// The node-type map, keyed by id.
    pub fn node_type_map(&self) -> &BTreeMap<NodeTypeId, NodeType> {
        &self.node_types
    }

    /// The providers that have at least one node type, ordered.
    ///
    /// ```
    /// use rightsizer_catalog::Catalog;
    /// use rightsizer_model::node::Provider;
    /// let p = Catalog::builtin().providers();
    /// assert!(p.contains(&Provider::Aws) && p.contains(&Provider::Gcp) && p.contains(&Provider::Azure));
    /// ```
    pub fn providers(&self) -> BTreeSet<Provider> {
        self.node_types
            .values()
            .map(|t| t.provider.clone())
            .collect()
    }

    /// The node type with the lowest on-demand price per device of `model`
    /// (ties broken by id), or `None` when no node type carries it.
    ///
    /// ```
    /// use rightsizer_catalog::Catalog;
    /// let c = Catalog::builtin();
    /// let t = c.cheapest_per_device("L4").unwrap();
    /// assert_eq!(t.id.as_str(), "g2-standard-4");
    /// ```
    pub fn cheapest_per_device(&self, model: &str) -> Option<&NodeType> {
        self.node_types
            .values()
            .filter(|t| t.devices.iter().any(|d| d.model.as_str() == model))
            .filter_map(|t| price_per_device(t).map(|p| (p, t)))
            .min_by(|(pa, a), (pb, b)| pa.cmp(pb).then_with(|| a.id.cmp(&b.id)))
            .map(|(_, t)| t)
    }

    /// The accelerator models as a list, for
    /// [`rightsizer_model::spec::ClusterSpec::to_state`] and
    /// [`rightsizer_model::spec::ClusterSpec::validate`] (`base` models).
    ///
    /// ```
    /// use rightsizer_catalog::Catalog;
    /// use rightsizer_model::spec::{from_yaml, ClusterSpec};
    /// let spec: ClusterSpec = from_yaml(
    ///     "nodes:\n  - id: n1\n    allocatable: { cpu: \"8\", memory: 32Gi, pods: 110 }\n    devices: [ { model: L4 } ]\n",
    /// )?;
    /// let state = spec.to_state(&Catalog::builtin().cluster_spec_models())?;
    /// # let _ = state;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cluster_spec_models(&self) -> Vec<AcceleratorModel> {
        self.accelerators.values().cloned().collect()
    }

    /// The catalog as a document (the file format), entries ordered by id.
    ///
    /// ```
    /// use rightsizer_catalog::Catalog;
    /// let c = Catalog::builtin();
    /// let json = serde_json::to_string(&c.to_document())?;
    /// let mut back = Catalog::new();
    /// back.merge_from_str(&json, "roundtrip.json")?;
    /// assert_eq!(back, c);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_document(&self) -> CatalogDocument {
        CatalogDocument {
            accelerators: self.accelerators.values().cloned().collect(),
            node_types: self.node_types.values().cloned().collect(),
        }
    }

    /// A node (machine) of a node type: allocatable cpu and memory of the
    /// type, 110 pod slots, its devices in order, the instance type and
    /// region as well-known labels.
    ///
    /// ```
    /// use rightsizer_catalog::Catalog;
    /// use rightsizer_model::ids::NodeId;
    /// let c = Catalog::builtin();
    /// let n = c.node_from_type("g6e.12xlarge", NodeId::new("gpu-1")?)?;
    /// assert_eq!(n.devices.len(), 4);
    /// assert_eq!(n.labels["node.kubernetes.io/instance-type"], "g6e.12xlarge");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn node_from_type(&self, type_id: &str, node_id: NodeId) -> Result<Node, CatalogError> {
        let t = self
            .node_types
            .get(type_id)
            .ok_or_else(|| CatalogError::UnknownNodeType {
                id: type_id.to_string(),
            })?;
        let mut node = Node::of_type(t, node_id);
        node.labels
            .insert("topology.kubernetes.io/region".into(), t.region.clone());
        Ok(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue 15): an accelerator with every sharing mode off and
    /// a node type with 65,535 devices were accepted.
    #[test]
    fn no_sharing_mode_and_too_many_devices_are_rejected() {
        let mut c = Catalog::builtin();
        let mut a = c.accelerator("T4").unwrap().clone();
        a.sharing = rightsizer_model::accelerator::SharingModes {
            whole: false,
            fractional: None,
            mig: None,
            time_slicing_replicas: None,
        };
        let e = c.insert_accelerator(a).unwrap_err();
        assert!(e.to_string().contains("sharing"), "{e}");
        let snapshot = c.clone();
        let text = "node_types:\n  - { id: big, provider: aws, region: r, cpu: 4, memory: 16Gi,\n      devices: [ { model: T4, count: 60 }, { model: L4, count: 5 } ], price: 1000000, source: s }\n";
        let e = c.merge_from_str(text, "big.yaml").unwrap_err();
        assert!(e.to_string().contains("devices[1].count"), "{e}");
        assert!(e.to_string().contains("65 devices"), "{e}");
        assert_eq!(c, snapshot);
        let ok = text.replace("count: 60", "count: 59");
        c.merge_from_str(&ok, "big.yaml").unwrap();
    }
}
