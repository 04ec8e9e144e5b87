//! The planning input document (what `rightsizer plan <file>` reads) and
//! what-if sweeps.
//!
//! ```yaml
//! objective: cost              # or: energy, or {cost_plus_energy: {per_kwh: 0.12}}
//! slice_factor: 4
//! options:
//!   - {name: L4,   price_per_hour: 0.8048, power_watts: 72}
//!   - {name: A10G, price_per_hour: 1.006,  power_watts: 150, max_count: 8}
//! demand:
//!   - {label: short, rate: 12.0, throughput: {L4: 6, A10G: 7}}
//!   - {label: long,  rate: 2.0,  throughput: {A10G: 0.8}}   # L4 cannot meet the SLO
//! what_if:
//!   demand_scale: [0.5, 2.0]
//!   price_scale: {A10G: [0.5, 1.5]}
//! nodes:                       # optional: turn the fleet into instance types
//!   instance_types:            # built-in catalog ids, or inline entries/overrides
//!     - g6.xlarge
//!     - {id: g6.4xlarge, max_count: 4}
//!     - {id: g5.xlarge, spot_price_per_hour: 0.40}
//!     - {id: m7i.large}
//!   replicas:                  # per fleet option: what one replica needs on its node
//!     L4:   {accelerator: L4, devices: 1, cpu: "6", memory: 24Gi}
//!     A10G: {cpu: 2, memory: 8Gi, spot: never}   # accelerator defaults to the option name
//!   cpu_pods:
//!     - {name: gateway, count: 3, cpu: "1", memory: 2Gi}
//!   spot: {max_fraction: 0.5}  # or: never (default), allowed
//!   overhead: {cpu: 100m, memory: 1Gi}
//! ```
//! The document may instead carry a Mélange solver input under `melange:`.
//!
//! With `nodes:`, [`PlanSpec::run`] packs the fleet plan's replicas (one per
//! counted unit) plus `cpu_pods` onto instance types with
//! [`crate::nodemix`] and returns the node mix in [`PlanReport::nodes`]:
//! counts per type and pricing class, cost per hour and per 730-hour month,
//! estimated power and energy, utilisation, bound and gap, and the replicas
//! that could not be placed with the reason. See [`NodesSpec`] for every
//! field. What-if points are planned at the fleet level only.
//!
//! ```
//! use rightsizer_plan::spec::PlanSpec;
//! let spec: PlanSpec = serde_json::from_str(r#"{
//!   "options": [{"name": "L4", "price_per_hour": 0.8048}, {"name": "A10G", "price_per_hour": 1.006}],
//!   "demand": [{"label": "chat", "rate": 12, "throughput": {"L4": 6, "A10G": 7}}]}"#)?;
//! let report = spec.run(&Default::default())?;
//! let plan = report.outcome.plan().unwrap();
//! assert_eq!(plan.counts["L4"], 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::PlanError;
use crate::fleet::{
    AcceleratorOption, DemandBucket, FleetOutcome, FleetPlan, FleetProblem, Objective, SolveConfig,
    StopReason,
};
use crate::melange::MelangeInput;
use crate::nodemix::groups_from_fleet;
use crate::nodemix::{
    InstanceCandidate, NodeMix, NodeMixConfig, NodeMixProblem, ReplicaGroup, ReplicaShape,
    SpotPolicy,
};
use crate::profiles::{ProfileTable, ThroughputUnit};
use rightsizer_catalog::Catalog;
use rightsizer_model::ids::{AcceleratorModelId, NodeTypeId};
use rightsizer_model::node::{DeviceCount, NodeType, Provider};
use rightsizer_model::quantity::Quantity;
use rightsizer_model::units::{Bytes, MilliCpu, Money, PricePerHour, Watts};
use rightsizer_pack::Budget;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One option in the document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    /// Unique name.
    pub name: String,
    /// Dollars per hour.
    pub price_per_hour: f64,
    /// Busy power in watts.
    #[serde(default)]
    pub power_watts: u32,
    /// Availability limit.
    #[serde(default)]
    pub max_count: Option<u32>,
}

/// One demand bucket in the document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketSpec {
    /// Label.
    pub label: String,
    /// Requests (or work units) per second.
    pub rate: f64,
    /// Throughput per option name under the SLO; options not listed cannot
    /// serve it. May be left out when `profiles` supplies it.
    #[serde(default)]
    pub throughput: BTreeMap<String, f64>,
}

/// Objective as written in the document: `cost`, `energy` or
/// `{cost_plus_energy: {per_kwh: 0.12}}` (in YAML and JSON alike).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(try_from = "ObjectiveRepr", into = "ObjectiveRepr")]
pub enum ObjectiveSpec {
    /// Hourly price.
    #[default]
    Cost,
    /// Provisioned power.
    Energy,
    /// Price plus energy at `per_kwh` dollars.
    CostPlusEnergy {
        /// Dollars per kWh.
        per_kwh: f64,
    },
}

/// The written form of [`ObjectiveSpec`]: a word or a one-key map (serde_yaml
/// would otherwise demand a `!cost_plus_energy` tag).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum ObjectiveRepr {
    Word(String),
    Weighted { cost_plus_energy: PerKwh },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PerKwh {
    per_kwh: f64,
}

impl TryFrom<ObjectiveRepr> for ObjectiveSpec {
    type Error = String;
    fn try_from(r: ObjectiveRepr) -> Result<Self, String> {
        match r {
            ObjectiveRepr::Word(w) => match w.as_str() {
                "cost" => Ok(ObjectiveSpec::Cost),
                "energy" => Ok(ObjectiveSpec::Energy),
                _ => Err(format!(
                    "unknown objective `{w}`: expected cost, energy or {{cost_plus_energy: {{per_kwh: x}}}}"
                )),
            },
            ObjectiveRepr::Weighted { cost_plus_energy } => Ok(ObjectiveSpec::CostPlusEnergy {
                per_kwh: cost_plus_energy.per_kwh,
            }),
        }
    }
}

impl From<ObjectiveSpec> for ObjectiveRepr {
    fn from(o: ObjectiveSpec) -> Self {
        match o {
            ObjectiveSpec::Cost => ObjectiveRepr::Word("cost".into()),
            ObjectiveSpec::Energy => ObjectiveRepr::Word("energy".into()),
            ObjectiveSpec::CostPlusEnergy { per_kwh } => ObjectiveRepr::Weighted {
                cost_plus_energy: PerKwh { per_kwh },
            },
        }
    }
}

/// What-if sweeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WhatIfSpec {
    /// Demand multipliers.
    #[serde(default)]
    pub demand_scale: Vec<f64>,
    /// Price multipliers per option.
    #[serde(default)]
    pub price_scale: BTreeMap<String, Vec<f64>>,
}

/// The whole document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// What to minimise.
    #[serde(default)]
    pub objective: ObjectiveSpec,
    /// Slices per bucket (default 4, as Mélange recommends).
    #[serde(default)]
    pub slice_factor: Option<u32>,
    /// Capacity options.
    #[serde(default)]
    pub options: Vec<OptionSpec>,
    /// Demand buckets.
    #[serde(default)]
    pub demand: Vec<BucketSpec>,
    /// Alternatively, a Mélange solver input.
    #[serde(default)]
    pub melange: Option<MelangeInput>,
    /// Sweeps to run after the base plan.
    #[serde(default)]
    pub what_if: WhatIfSpec,
    /// Optional node-mix section: instance types for the fleet plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<NodesSpec>,
    /// Optional measured profile table that fills the demand buckets'
    /// throughput maps (see [`PlanSpec::resolve_profiles`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles: Option<ProfilesSpec>,
}

/// A measured profile table to read the demand buckets' throughputs from
/// ([`crate::profiles`]). A bucket takes the table's rows whose bucket
/// label equals its own; throughputs written inline in the bucket win over
/// the table's, so a document can correct one measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesSpec {
    /// The table (`.csv` or `.json`); a relative path is resolved against
    /// the directory given to [`PlanSpec::resolve_profiles`] (the CLI passes
    /// the planning document's directory).
    pub table: PathBuf,
    /// The workload whose rows to use.
    pub workload: String,
    /// The unit the demand rates are written in (default `req/s`).
    #[serde(default = "default_unit")]
    pub unit: ThroughputUnit,
}

fn default_unit() -> ThroughputUnit {
    ThroughputUnit::RequestsPerSecond
}

/// A CPU or memory size: a Kubernetes quantity string (`"500m"`, `"16Gi"`)
/// or a plain number (cores for CPU, bytes for memory).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SizeSpec {
    /// A quantity string.
    Text(String),
    /// A number.
    Number(f64),
}

impl SizeSpec {
    fn quantity(&self, field: &str) -> Result<Quantity, PlanError> {
        let text = match self {
            SizeSpec::Text(t) => t.trim().to_string(),
            SizeSpec::Number(n) if n.is_finite() => format!("{n}"),
            SizeSpec::Number(n) => {
                return Err(PlanError::InvalidSize {
                    field: field.into(),
                    value: n.to_string(),
                    message: "not a finite number".into(),
                })
            }
        };
        let bad = |message: String| PlanError::InvalidSize {
            field: field.into(),
            value: text.clone(),
            message,
        };
        let q = Quantity::parse(&text).map_err(|e| bad(e.to_string()))?;
        if q.signum() < 0 {
            return Err(bad("sizes must not be negative".into()));
        }
        Ok(q)
    }
    fn cpu(&self, field: &str) -> Result<MilliCpu, PlanError> {
        let q = self.quantity(field)?;
        q.to_millicpu().map_err(|e| PlanError::InvalidSize {
            field: field.into(),
            value: q.to_string(),
            message: e.to_string(),
        })
    }
    fn bytes(&self, field: &str) -> Result<Bytes, PlanError> {
        let q = self.quantity(field)?;
        q.to_bytes().map_err(|e| PlanError::InvalidSize {
            field: field.into(),
            value: q.to_string(),
            message: e.to_string(),
        })
    }
}

/// One device entry of an inline instance type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    /// Accelerator model id, e.g. `L4`.
    pub model: String,
    /// Devices of the model on one node.
    pub count: u16,
}

/// An instance type entry with optional overrides. For an id in the
/// built-in catalog every field is optional and replaces the catalog value;
/// for a new id `cpu`, `memory` and `price_per_hour` are required.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct InstanceTypeEntry {
    /// Instance type id.
    pub id: String,
    /// vCPUs (quantity or cores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<SizeSpec>,
    /// Memory (quantity or bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SizeSpec>,
    /// Accelerators on one node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<DeviceSpec>>,
    /// On-demand dollars per hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_hour: Option<f64>,
    /// Spot dollars per hour (types without one are never spot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_price_per_hour: Option<f64>,
    /// At most this many nodes, on-demand and spot together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u32>,
    /// At most this many spot nodes (0 disables spot for the type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_spot: Option<u32>,
    /// Host power at idle, watts (without accelerators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_idle_watts: Option<u32>,
    /// Host power at full load, watts (without accelerators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_max_watts: Option<u32>,
}

/// An instance type in `nodes.instance_types`: a catalog id, or an entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum InstanceTypeSpec {
    /// A built-in catalog id, as is.
    Id(String),
    /// An inline type or overrides of a catalog type.
    Entry(InstanceTypeEntry),
}

impl<'de> Deserialize<'de> for InstanceTypeSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through a value so an entry's own error (e.g. an unknown field)
        // is reported instead of "no variant matched".
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(InstanceTypeSpec::Id(s)),
            v => serde_json::from_value(v)
                .map(InstanceTypeSpec::Entry)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// What one replica of a fleet option needs on its node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReplicaSpec {
    /// Accelerator model id; defaults to the option name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<String>,
    /// Devices per replica on one node (default 1; 0 = CPU-only option).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<u16>,
    /// CPU of the pods co-located with one replica (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<SizeSpec>,
    /// Memory of the pods co-located with one replica (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SizeSpec>,
    /// Spot policy of this option's replicas (default: `nodes.spot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<SpotPolicy>,
}

/// CPU-only pods to place alongside the fleet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuPodSpec {
    /// Unique name.
    pub name: String,
    /// Number of pods.
    pub count: u32,
    /// CPU per pod.
    pub cpu: SizeSpec,
    /// Memory per pod.
    pub memory: SizeSpec,
    /// Spot policy (default: `nodes.spot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<SpotPolicy>,
}

/// CPU and memory reserved on every node (kubelet, system daemons).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverheadSpec {
    /// CPU per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<SizeSpec>,
    /// Memory per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SizeSpec>,
}

fn yes() -> bool {
    true
}

/// The `nodes:` section: from fleet counts to instance types.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodesSpec {
    /// Candidate instance types; empty = every built-in type (of `provider`).
    #[serde(default)]
    pub instance_types: Vec<InstanceTypeSpec>,
    /// Only with an empty `instance_types`: restrict the built-in types to a provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// Per fleet option: what a replica needs (options not listed: one
    /// device of the model named like the option, nothing else).
    #[serde(default)]
    pub replicas: BTreeMap<String, ReplicaSpec>,
    /// CPU-only pods placed too.
    #[serde(default)]
    pub cpu_pods: Vec<CpuPodSpec>,
    /// Default spot policy: `never` (default), `allowed` or `{max_fraction: f}`.
    #[serde(default)]
    pub spot: SpotPolicy,
    /// Reserved per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead: Option<OverheadSpec>,
    /// May CPU-only pods use accelerator nodes (default true)?
    #[serde(default = "yes")]
    pub cpu_pods_on_accelerator_nodes: bool,
    /// Packer iteration budget (default [`crate::nodemix::DEFAULT_ITERATIONS`]; the wall-clock limit is the
    /// solve's time limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
    /// Packer seed.
    #[serde(default)]
    pub seed: u64,
}

/// Candidates, shapes and configuration checked against a catalog.
#[derive(Clone, Debug)]
struct PreparedNodes {
    candidates: Vec<InstanceCandidate>,
    shapes: BTreeMap<String, ReplicaShape>,
    cpu_groups: Vec<ReplicaGroup>,
    config: NodeMixConfig,
}

fn dollars(v: f64, field: String) -> Result<PricePerHour, PlanError> {
    PricePerHour::from_dollars(v).ok_or(PlanError::InvalidPrice { field, value: v })
}

impl NodesSpec {
    fn candidates(&self, catalog: &Catalog) -> Result<Vec<InstanceCandidate>, PlanError> {
        if self.instance_types.is_empty() {
            return Ok(catalog
                .node_types()
                .filter(|t| self.provider.as_ref().is_none_or(|p| &t.provider == p))
                .map(|t| InstanceCandidate::new(t.clone()))
                .collect());
        }
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, spec) in self.instance_types.iter().enumerate() {
            let field = format!("nodes.instance_types[{i}]");
            let (id, entry) = match spec {
                InstanceTypeSpec::Id(id) => (id.as_str(), None),
                InstanceTypeSpec::Entry(e) => (e.id.as_str(), Some(e)),
            };
            if !seen.insert(id.to_string()) {
                return Err(PlanError::DuplicateEntry {
                    field: "nodes.instance_types".into(),
                    name: id.to_string(),
                });
            }
            let base = catalog.node_type(id).cloned();
            let Some(e) = entry else {
                let t = base.ok_or_else(|| PlanError::UnknownInstanceType {
                    id: id.to_string(),
                    field: field.clone(),
                })?;
                out.push(InstanceCandidate::new(t));
                continue;
            };
            let mut t = match base {
                Some(t) => t,
                None => {
                    let need = |present: bool, name: &str| {
                        if present {
                            Ok(())
                        } else {
                            Err(PlanError::MissingField {
                                field: format!("{field}.{name} (`{id}` is not a built-in type)"),
                            })
                        }
                    };
                    need(e.cpu.is_some(), "cpu")?;
                    need(e.memory.is_some(), "memory")?;
                    need(e.price_per_hour.is_some(), "price_per_hour")?;
                    NodeType {
                        id: NodeTypeId::new(id).map_err(|err| PlanError::InvalidParameter {
                            field: format!("{field}.id"),
                            message: err.to_string(),
                        })?,
                        provider: Provider::Other,
                        region: String::new(),
                        cpu: MilliCpu::ZERO,
                        memory: Bytes::ZERO,
                        devices: Vec::new(),
                        price: PricePerHour::ZERO,
                        spot_price: None,
                        idle_power: Watts::ZERO,
                        max_power: Watts::ZERO,
                        source: "inline in the planning document".into(),
                    }
                }
            };
            if let Some(c) = &e.cpu {
                t.cpu = c.cpu(&format!("{field}.cpu"))?;
            }
            if let Some(m) = &e.memory {
                t.memory = m.bytes(&format!("{field}.memory"))?;
            }
            if let Some(ds) = &e.devices {
                t.devices = Vec::new();
                for (k, d) in ds.iter().enumerate() {
                    let f = format!("{field}.devices[{k}]");
                    if d.count == 0 {
                        return Err(PlanError::InvalidSize {
                            field: format!("{f}.count"),
                            value: "0".into(),
                            message: "list devices with a positive count".into(),
                        });
                    }
                    if catalog.accelerator(&d.model).is_none() {
                        return Err(PlanError::UnknownAccelerator {
                            name: d.model.clone(),
                            field: format!("{f}.model (not in the accelerator catalog)"),
                        });
                    }
                    t.devices.push(DeviceCount {
                        model: AcceleratorModelId::new(&d.model).map_err(|err| {
                            PlanError::InvalidParameter {
                                field: format!("{f}.model"),
                                message: err.to_string(),
                            }
                        })?,
                        count: d.count,
                    });
                }
            }
            if let Some(p) = e.price_per_hour {
                t.price = dollars(p, format!("{field}.price_per_hour"))?;
            }
            if let Some(p) = e.spot_price_per_hour {
                t.spot_price = Some(dollars(p, format!("{field}.spot_price_per_hour"))?);
            }
            if let Some(spot) = t.spot_price {
                if spot > t.price {
                    return Err(PlanError::InvalidParameter {
                        field: format!("{field}.spot_price_per_hour"),
                        message: format!(
                            "spot price {spot} is above the on-demand price {}",
                            t.price
                        ),
                    });
                }
            }
            if let Some(w) = e.host_idle_watts {
                t.idle_power = Watts::new(w);
            }
            if let Some(w) = e.host_max_watts {
                t.max_power = Watts::new(w);
            }
            out.push(InstanceCandidate {
                node_type: t,
                max_count: e.max_count,
                max_spot: e.max_spot,
            });
        }
        Ok(out)
    }

    /// Checks the section against the fleet's option names and the catalog.
    fn prepare(
        &self,
        options: &[String],
        catalog: &Catalog,
        budget: Budget,
    ) -> Result<PreparedNodes, PlanError> {
        let candidates = self.candidates(catalog)?;
        if candidates.is_empty() {
            return Err(PlanError::NoInstanceAvailable {
                field: "nodes.instance_types".into(),
                message: format!(
                    "no built-in instance type of provider {}",
                    self.provider
                        .as_ref()
                        .map_or("(any)".to_string(), |p| p.to_string())
                ),
            });
        }
        if candidates.iter().all(|c| c.max_count == Some(0)) {
            return Err(PlanError::NoInstanceAvailable {
                field: "nodes.instance_types".into(),
                message: "every candidate has max_count 0".into(),
            });
        }
        // Device models known to the catalog or carried by a candidate.
        let known = |m: &str| {
            catalog.accelerator(m).is_some()
                || candidates
                    .iter()
                    .any(|c| c.node_type.devices.iter().any(|d| d.model.as_str() == m))
        };
        for name in self.replicas.keys() {
            if !options.iter().any(|o| o == name) {
                return Err(PlanError::UnknownAccelerator {
                    name: name.clone(),
                    field: "nodes.replicas".into(),
                });
            }
        }
        let spot_field = |f: &str, p: Option<SpotPolicy>| -> Result<(), PlanError> {
            match p {
                Some(SpotPolicy::MaxFraction(x))
                    if !(x.is_finite() && (0.0..=1.0).contains(&x)) =>
                {
                    Err(PlanError::InvalidParameter {
                        field: f.to_string(),
                        message: format!("max_fraction must be within [0, 1], got {x}"),
                    })
                }
                _ => Ok(()),
            }
        };
        spot_field("nodes.spot", Some(self.spot))?;
        let mut shapes = BTreeMap::new();
        for o in options {
            let default = ReplicaSpec::default();
            let r = self.replicas.get(o).unwrap_or(&default);
            let field = format!("nodes.replicas.{o}");
            let devices = r.devices.unwrap_or(1);
            let cpu = match &r.cpu {
                Some(c) => c.cpu(&format!("{field}.cpu"))?,
                None => MilliCpu::ZERO,
            };
            let memory = match &r.memory {
                Some(m) => m.bytes(&format!("{field}.memory"))?,
                None => Bytes::ZERO,
            };
            spot_field(&format!("{field}.spot"), r.spot)?;
            let mut shape = if devices == 0 {
                if cpu.is_zero() && memory.is_zero() {
                    return Err(PlanError::InvalidSize {
                        field: field.clone(),
                        value: "devices: 0, no cpu, no memory".into(),
                        message: "a CPU-only replica must request CPU or memory".into(),
                    });
                }
                ReplicaShape::cpu_only(cpu, memory)
            } else {
                let model = r.accelerator.clone().unwrap_or_else(|| o.clone());
                let afield = if r.accelerator.is_some() {
                    format!("{field}.accelerator")
                } else {
                    format!("{field}.accelerator (defaults to the option name)")
                };
                if !known(&model) {
                    return Err(PlanError::UnknownAccelerator {
                        name: model,
                        field: afield,
                    });
                }
                let id =
                    AcceleratorModelId::new(&model).map_err(|e| PlanError::InvalidParameter {
                        field: afield,
                        message: e.to_string(),
                    })?;
                ReplicaShape::accelerated(id, devices, cpu, memory)
            };
            shape.spot = r.spot;
            shapes.insert(o.clone(), shape);
        }
        let mut cpu_groups = Vec::new();
        let mut names: BTreeSet<&str> = options.iter().map(String::as_str).collect();
        for (i, p) in self.cpu_pods.iter().enumerate() {
            let field = format!("nodes.cpu_pods[{i}]");
            if !names.insert(p.name.as_str()) {
                return Err(PlanError::DuplicateEntry {
                    field: "nodes.cpu_pods".into(),
                    name: p.name.clone(),
                });
            }
            spot_field(&format!("{field}.spot"), p.spot)?;
            let mut shape = ReplicaShape::cpu_only(
                p.cpu.cpu(&format!("{field}.cpu"))?,
                p.memory.bytes(&format!("{field}.memory"))?,
            );
            if shape.cpu.is_zero() && shape.memory.is_zero() {
                return Err(PlanError::InvalidSize {
                    field: field.clone(),
                    value: "cpu 0, memory 0".into(),
                    message: "a CPU-only pod must request CPU or memory".into(),
                });
            }
            shape.spot = p.spot;
            cpu_groups.push(ReplicaGroup::new(p.name.clone(), p.count, shape));
        }
        let mut b = NodeMixConfig::builder();
        b.spot(self.spot)
            .cpu_pods_on_accelerator_nodes(self.cpu_pods_on_accelerator_nodes)
            .seed(self.seed)
            .budget(Budget {
                time: budget.time,
                iterations: Some(
                    self.iterations
                        .unwrap_or(crate::nodemix::DEFAULT_ITERATIONS),
                ),
            });
        if let Some(o) = &self.overhead {
            let cpu = match &o.cpu {
                Some(c) => c.cpu("nodes.overhead.cpu")?,
                None => MilliCpu::ZERO,
            };
            let mem = match &o.memory {
                Some(m) => m.bytes("nodes.overhead.memory")?,
                None => Bytes::ZERO,
            };
            b.overhead(cpu, mem);
        }
        Ok(PreparedNodes {
            candidates,
            shapes,
            cpu_groups,
            config: b.build()?,
        })
    }

    /// Plans instance types for `plan` (the fleet of `options`, by name)
    /// with the `catalog` for type ids and device power; the packer gets
    /// `budget.time` and this section's iteration limit.
    pub fn plan_nodes(
        &self,
        plan: &FleetPlan,
        options: &[String],
        catalog: &Catalog,
        budget: Budget,
    ) -> Result<NodeMix, PlanError> {
        self.prepare(options, catalog, budget)?.solve(plan, catalog)
    }
}

impl PreparedNodes {
    fn solve(self, plan: &FleetPlan, catalog: &Catalog) -> Result<NodeMix, PlanError> {
        let mut groups = groups_from_fleet(plan, &self.shapes, "nodes.replicas")?;
        groups.extend(self.cpu_groups);
        NodeMixProblem::new(self.candidates, groups)?
            .with_catalog_power(catalog)
            .solve(&self.config)
    }
}

/// One point of a what-if sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// What was changed, e.g. `demand ×2` or `price[A10G] ×0.5`.
    pub change: String,
    /// Counts per option (empty when infeasible).
    pub counts: BTreeMap<String, u32>,
    /// Hourly cost (None when infeasible).
    pub cost: Option<PricePerHour>,
    /// Why the solver stopped (None when infeasible).
    pub stop: Option<StopReason>,
    /// The infeasibility, if any.
    pub infeasible: Option<String>,
}

/// Result of [`PlanSpec::run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    /// The objective used.
    pub objective: Objective,
    /// The base plan.
    pub outcome: FleetOutcome,
    /// What-if points in document order.
    pub what_if: Vec<SweepPoint>,
    /// The node mix of the base plan (with a `nodes:` section and a feasible plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<NodeMix>,
}

impl PlanSpec {
    fn objective(&self) -> Result<Objective, PlanError> {
        Ok(match self.objective {
            ObjectiveSpec::Cost => Objective::Cost,
            ObjectiveSpec::Energy => Objective::Energy,
            ObjectiveSpec::CostPlusEnergy { per_kwh } => Objective::CostPlusEnergy {
                per_kwh: PricePerHour::from_dollars(per_kwh)
                    .map(|p| Money::from_micros(p.micros()))
                    .ok_or(PlanError::InvalidPrice {
                        field: "objective.cost_plus_energy.per_kwh".into(),
                        value: per_kwh,
                    })?,
            },
        })
    }

    /// Builds the fleet problem, validating names, prices and rates.
    pub fn problem(&self) -> Result<FleetProblem, PlanError> {
        if let Some(m) = &self.melange {
            if !self.options.is_empty() || !self.demand.is_empty() {
                return Err(PlanError::InvalidParameter {
                    field: "melange".into(),
                    message: "give either `melange` or `options`/`demand`, not both".into(),
                });
            }
            return m.to_problem();
        }
        if self.options.is_empty() && self.demand.is_empty() {
            return Err(PlanError::InvalidParameter {
                field: "(document)".into(),
                message: "the planning document is empty: expected `options` and `demand` \
                          (or `melange`)"
                    .into(),
            });
        }
        if self.options.is_empty() {
            return Err(PlanError::EmptyCatalog);
        }
        let mut opts = Vec::new();
        for (i, o) in self.options.iter().enumerate() {
            if o.name.trim().is_empty() {
                return Err(PlanError::InvalidParameter {
                    field: format!("options[{i}].name"),
                    message: "an option needs a non-empty name".into(),
                });
            }
            let price =
                PricePerHour::from_dollars(o.price_per_hour).ok_or(PlanError::InvalidPrice {
                    field: format!("options[{i}].price_per_hour"),
                    value: o.price_per_hour,
                })?;
            let mut a = AcceleratorOption::new(o.name.clone(), price)
                .with_power(Watts::new(o.power_watts), Watts::ZERO);
            a.max_count = o.max_count;
            opts.push(a);
        }
        let mut buckets = Vec::new();
        let mut labels: BTreeMap<&str, usize> = BTreeMap::new();
        for (b, d) in self.demand.iter().enumerate() {
            if let Some(first) = labels.insert(d.label.as_str(), b) {
                return Err(PlanError::InvalidParameter {
                    field: format!("demand[{b}].label"),
                    message: format!(
                        "bucket {:?} is listed twice (first at demand[{first}])",
                        d.label
                    ),
                });
            }
            if !(d.rate.is_finite() && d.rate >= 0.0) {
                return Err(PlanError::InvalidRate {
                    field: format!("demand[{b}].rate"),
                    value: d.rate,
                });
            }
            for name in d.throughput.keys() {
                if !opts.iter().any(|o| &o.name == name) {
                    return Err(PlanError::UnknownAccelerator {
                        name: name.clone(),
                        field: format!("demand[{b}].throughput"),
                    });
                }
            }
            let tp = opts
                .iter()
                .map(|o| d.throughput.get(&o.name).copied())
                .collect();
            buckets.push(DemandBucket::new(d.label.clone(), d.rate, tp));
        }
        FleetProblem::new(opts, buckets, self.slice_factor.unwrap_or(4))
    }

    /// Reads the `profiles` table (relative paths against `base_dir`) and
    /// merges its throughputs into the demand buckets: for each bucket, the
    /// table's positive measurements for its label and for the document's
    /// `options` (the table may cover more), except where the bucket already
    /// names the option. Afterwards `profiles` is `None`, so the
    /// document is self-contained. A bucket label the table does not know is
    /// an error (a typo would otherwise silently leave the bucket unserved).
    ///
    /// ```
    /// use rightsizer_plan::spec::PlanSpec;
    /// let dir = std::env::temp_dir().join("rightsizer-doc-profiles");
    /// std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("chat.csv"), "\
    /// workload,option,device,count,bucket,throughput,unit,slo,slo_ms
    /// chat,L4,L4,1,256x64,4,req/s,tpot,120
    /// chat,A10G,A10G,1,256x64,6,req/s,tpot,120
    /// ")?;
    /// let mut spec: PlanSpec = serde_json::from_str(r#"{
    ///   "options": [{"name": "L4", "price_per_hour": 0.8048}, {"name": "A10G", "price_per_hour": 1.006}],
    ///   "demand": [{"label": "256x64", "rate": 8, "throughput": {"L4": 5}}],
    ///   "profiles": {"table": "chat.csv", "workload": "chat"}
    /// }"#)?;
    /// spec.resolve_profiles(&dir)?;
    /// assert_eq!(spec.demand[0].throughput["A10G"], 6.0); // from the table
    /// assert_eq!(spec.demand[0].throughput["L4"], 5.0); // inline wins
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolve_profiles(&mut self, base_dir: &Path) -> Result<(), PlanError> {
        let Some(p) = self.profiles.take() else {
            return Ok(());
        };
        let path = if p.table.is_absolute() {
            p.table.clone()
        } else {
            base_dir.join(&p.table)
        };
        let restore = |spec: &mut PlanSpec, e: PlanError| {
            spec.profiles = Some(p.clone());
            Err(e)
        };
        let maps = match ProfileTable::from_path(&path)
            .and_then(|t| t.throughput_by_bucket(&p.workload, p.unit))
        {
            Ok(m) => m,
            Err(e) => return restore(self, PlanError::Profile(Box::new(e))),
        };
        // Check every bucket before changing any (no partial state).
        for (b, d) in self.demand.iter().enumerate() {
            if !maps.contains_key(&d.label) {
                let known: Vec<&str> = maps.keys().map(String::as_str).collect();
                return restore(
                    self,
                    PlanError::InvalidParameter {
                        field: format!("demand[{b}].label"),
                        message: format!(
                            "bucket `{}` is not in profile table {} for workload `{}` (it has: {})",
                            d.label,
                            path.display(),
                            p.workload,
                            known.join(", ")
                        ),
                    },
                );
            }
        }
        let planned: BTreeSet<&str> = self.options.iter().map(|o| o.name.as_str()).collect();
        for d in &mut self.demand {
            for (option, v) in &maps[&d.label] {
                if planned.contains(option.as_str()) {
                    d.throughput.entry(option.clone()).or_insert(*v);
                }
            }
        }
        Ok(())
    }

    /// Solves the base plan and every what-if point. A `profiles` table still
    /// present is read relative to the current directory first.
    pub fn run(&self, cfg: &SolveConfig) -> Result<PlanReport, PlanError> {
        if self.profiles.is_some() {
            let mut resolved = self.clone();
            resolved.resolve_profiles(Path::new("."))?;
            return resolved.run(cfg);
        }
        let objective = self.objective()?;
        let p = self.problem()?;
        // Check the nodes section before solving anything.
        let catalog = Catalog::builtin();
        let option_names: Vec<String> = p.options().iter().map(|o| o.name.clone()).collect();
        let budget = Budget {
            time: Some(cfg.time_limit),
            iterations: None,
        };
        let prepared = self
            .nodes
            .as_ref()
            .map(|n| n.prepare(&option_names, &catalog, budget))
            .transpose()?;
        let outcome = p.solve(objective, cfg);
        let nodes = match (prepared, outcome.plan()) {
            (Some(prep), Some(plan)) => Some(prep.solve(plan, &catalog)?),
            _ => None,
        };
        let mut what_if = Vec::new();
        let point = |change: String, q: &FleetProblem| {
            let o = q.solve(objective, cfg);
            match o {
                FleetOutcome::Plan(pl) => SweepPoint {
                    change,
                    counts: pl.counts,
                    cost: Some(pl.cost),
                    stop: Some(pl.stop),
                    infeasible: None,
                },
                FleetOutcome::Infeasible(i) => SweepPoint {
                    change,
                    counts: BTreeMap::new(),
                    cost: None,
                    stop: None,
                    infeasible: Some(i.to_string()),
                },
            }
        };
        for (i, &f) in self.what_if.demand_scale.iter().enumerate() {
            if !(f.is_finite() && f >= 0.0) {
                return Err(PlanError::InvalidRate {
                    field: format!("what_if.demand_scale[{i}]"),
                    value: f,
                });
            }
            what_if.push(point(format!("demand x{f}"), &p.with_demand_scaled(f)?));
        }
        for (name, fs) in &self.what_if.price_scale {
            if !p.options().iter().any(|o| &o.name == name) {
                return Err(PlanError::UnknownAccelerator {
                    name: name.clone(),
                    field: "what_if.price_scale".into(),
                });
            }
            for (i, &f) in fs.iter().enumerate() {
                if !(f.is_finite() && f >= 0.0) {
                    return Err(PlanError::InvalidRate {
                        field: format!("what_if.price_scale.{name}[{i}]"),
                        value: f,
                    });
                }
                let q = p.with_prices(|o| {
                    if &o.name == name {
                        PricePerHour::from_micros((o.price.micros() as f64 * f).round() as u64)
                    } else {
                        o.price
                    }
                })?;
                what_if.push(point(format!("price[{name}] x{f}"), &q));
            }
        }
        Ok(PlanReport {
            objective,
            outcome,
            what_if,
            nodes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> PlanSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn bad_inputs_are_typed_errors_or_reports() {
        let base = r#"{"options": [{"name": "L4", "price_per_hour": 0.8}],
                       "demand": [{"label": "a", "rate": RATE, "throughput": {NAME: 5}}]}"#;
        let s = spec(&base.replace("RATE", "-1").replace("NAME", "\"L4\""));
        assert!(matches!(s.problem(), Err(PlanError::InvalidRate { .. })));
        let s = spec(&base.replace("RATE", "1").replace("NAME", "\"H900\""));
        match s.problem() {
            Err(PlanError::UnknownAccelerator { name, field }) => {
                assert_eq!(name, "H900");
                assert_eq!(field, "demand[0].throughput");
            }
            other => panic!("{other:?}"),
        }
        let s = spec(r#"{"demand": [{"label": "a", "rate": 1}]}"#);
        assert!(matches!(s.problem(), Err(PlanError::EmptyCatalog)));
        // No option meets the SLO for a bucket: an infeasibility report naming it.
        let s = spec(
            r#"{"options": [{"name": "L4", "price_per_hour": 0.8}],
                "demand": [{"label": "long", "rate": 1, "throughput": {}}]}"#,
        );
        let r = s.run(&SolveConfig::default()).unwrap();
        match r.outcome {
            FleetOutcome::Infeasible(i) => assert!(i.to_string().contains("`long`")),
            other => panic!("{other:?}"),
        }
        // Count limits too low: named in the report.
        let s = spec(
            r#"{"options": [{"name": "L4", "price_per_hour": 0.8, "max_count": 1}],
                "demand": [{"label": "a", "rate": 10, "throughput": {"L4": 2}}]}"#,
        );
        let r = s.run(&SolveConfig::default()).unwrap();
        match r.outcome {
            FleetOutcome::Infeasible(i) => assert!(i.to_string().contains("L4 <= 1"), "{i}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_if_moves_the_plan() {
        let s = spec(
            r#"{"options": [{"name": "L4", "price_per_hour": 0.8048}, {"name": "A10G", "price_per_hour": 1.006}],
                "demand": [{"label": "chat", "rate": 12, "throughput": {"L4": 6, "A10G": 7}}],
                "what_if": {"demand_scale": [0.5, 3], "price_scale": {"L4": [2]}}}"#,
        );
        let r = s.run(&SolveConfig::default()).unwrap();
        assert_eq!(r.what_if.len(), 3);
        assert_eq!(r.what_if[0].counts["L4"], 1);
        assert!(r.what_if[1].cost.unwrap() > r.outcome.plan().unwrap().cost);
        // L4 at twice the price: A10G takes over.
        assert_eq!(r.what_if[2].counts["L4"], 0);
    }

    const FLEET: &str = r#""options": [{"name": "L4", "price_per_hour": 0.8048}, {"name": "A10G", "price_per_hour": 1.006}],
        "demand": [{"label": "chat", "rate": 12, "throughput": {"L4": 6, "A10G": 7}}]"#;

    fn with_nodes(nodes: &str) -> PlanSpec {
        spec(&format!("{{{FLEET}, \"nodes\": {nodes}}}"))
    }

    #[test]
    fn nodes_section_turns_the_fleet_into_instances() {
        let s = with_nodes(
            r#"{"instance_types": ["g6.xlarge", {"id": "g6.4xlarge", "max_count": 1}, "m7i.large"],
                "replicas": {"L4": {"cpu": "3", "memory": "12Gi", "spot": "never"}},
                "cpu_pods": [{"name": "gateway", "count": 2, "cpu": 1, "memory": "6Gi", "spot": "allowed"}]}"#,
        );
        let r = s.run(&SolveConfig::default()).unwrap();
        assert_eq!(r.outcome.plan().unwrap().counts["L4"], 2);
        let n = r.nodes.expect("node mix");
        // Two L4 replicas on g6.xlarge (3 of 4 CPU); the gateway pods do not
        // fit beside them (6 GiB each, 4 left) and go to spot m7i.large.
        let counts: Vec<(String, String, u32)> = n
            .lines
            .iter()
            .map(|l| (l.instance_type.clone(), l.pricing.to_string(), l.count))
            .collect();
        assert_eq!(
            counts,
            vec![
                ("g6.xlarge".to_string(), "on-demand".to_string(), 2),
                ("m7i.large".to_string(), "spot".to_string(), 2),
            ]
        );
        assert_eq!(n.cost_per_hour.micros(), 2 * 804_800 + 2 * 44_300);
        assert_eq!(n.cost_per_month, n.cost_per_hour.cost_for_hours(730));
        // L4 busy power from the catalog: 72 W each; host power unknown.
        assert_eq!(n.power, Watts::new(144));
        assert_eq!(n.host_power_unknown.len(), 2);
        assert!(n.unplaced.is_empty());
        // Round trip of the document with the section.
        let back: PlanSpec = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn nodes_section_errors_name_the_field() {
        let err = |nodes: &str| with_nodes(nodes).run(&SolveConfig::default()).unwrap_err();
        match err(r#"{"instance_types": ["g6.xlarge", "g9.huge"]}"#) {
            PlanError::UnknownInstanceType { id, field } => {
                assert_eq!(id, "g9.huge");
                assert_eq!(field, "nodes.instance_types[1]");
            }
            e => panic!("{e:?}"),
        }
        match err(r#"{"instance_types": ["g6.xlarge"], "replicas": {"L4": {"cpu": "-2"}}}"#) {
            PlanError::InvalidSize { field, .. } => assert_eq!(field, "nodes.replicas.L4.cpu"),
            e => panic!("{e:?}"),
        }
        match err(r#"{"instance_types": [{"id": "g6.xlarge", "max_count": 0}]}"#) {
            PlanError::NoInstanceAvailable { field, .. } => {
                assert_eq!(field, "nodes.instance_types")
            }
            e => panic!("{e:?}"),
        }
        match err(r#"{"instance_types": ["g6.xlarge"], "replicas": {"T4": {}}}"#) {
            PlanError::UnknownAccelerator { name, field } => {
                assert_eq!((name.as_str(), field.as_str()), ("T4", "nodes.replicas"))
            }
            e => panic!("{e:?}"),
        }
        match err(r#"{"instance_types": [{"id": "my-box", "cpu": 8}]}"#) {
            PlanError::MissingField { field } => {
                assert!(field.starts_with("nodes.instance_types[0].memory"))
            }
            e => panic!("{e:?}"),
        }
        match err(r#"{"instance_types": ["g6.xlarge"], "spot": {"max_fraction": 2}}"#) {
            PlanError::InvalidParameter { field, .. } => assert_eq!(field, "nodes.spot"),
            e => panic!("{e:?}"),
        }
        match err(r#"{"instance_types": ["g6.xlarge"], "replicas": {"L4": {"accelerator": "Q9"}}}"#)
        {
            PlanError::UnknownAccelerator { name, field } => {
                assert_eq!(
                    (name.as_str(), field.as_str()),
                    ("Q9", "nodes.replicas.L4.accelerator")
                )
            }
            e => panic!("{e:?}"),
        }
        // An unknown field in an entry is reported as such.
        let e = serde_json::from_str::<PlanSpec>(&format!(
            "{{{FLEET}, \"nodes\": {{\"instance_types\": [{{\"id\": \"x\", \"max_cont\": 1}}]}}}}"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("max_cont"), "{e}");
    }

    /// Regression (issue 15): an empty document was "the accelerator
    /// catalog is empty"; empty option names, duplicate buckets, inline
    /// types with unknown device models and spot above on-demand were
    /// accepted.
    #[test]
    fn nonsense_documents_are_rejected_with_the_field() {
        let field_of = |json: &str| match spec(json).run(&SolveConfig::default()) {
            Err(PlanError::InvalidParameter { field, message }) => (field, message),
            Err(PlanError::UnknownAccelerator { field, name }) => (field, name),
            other => panic!("{json}: {other:?}"),
        };
        for empty in ["{}", r#"{"demand": []}"#] {
            let (f, m) = field_of(empty);
            assert_eq!(f, "(document)");
            assert!(m.contains("empty"), "{m}");
        }
        let (f, _) = field_of(
            r#"{"options": [{"name": " ", "price_per_hour": 1}], "demand": [{"label": "a", "rate": 1}]}"#,
        );
        assert_eq!(f, "options[0].name");
        let (f, m) = field_of(
            r#"{"options": [{"name": "L4", "price_per_hour": 1}],
                "demand": [{"label": "a", "rate": 1, "throughput": {"L4": 1}},
                           {"label": "a", "rate": 2, "throughput": {"L4": 1}}]}"#,
        );
        assert_eq!(f, "demand[1].label");
        assert!(m.contains("demand[0]"), "{m}");
        let fleet = r#""options": [{"name": "A10G", "price_per_hour": 1.006}],
                "demand": [{"label": "chat", "rate": 12, "throughput": {"A10G": 7}}]"#;
        let (f, name) = field_of(&format!(
            r#"{{{fleet}, "nodes": {{"instance_types": [
                {{"id": "box", "cpu": 16, "memory": "64Gi", "devices": [{{"model": "NOPE", "count": 2}}],
                  "price_per_hour": 1.5}}]}}}}"#
        ));
        assert_eq!(name, "NOPE");
        assert!(
            f.starts_with("nodes.instance_types[0].devices[0].model"),
            "{f}"
        );
        let (f, m) = field_of(&format!(
            r#"{{{fleet}, "nodes": {{"instance_types": [
                {{"id": "box", "cpu": 16, "memory": "64Gi", "devices": [{{"model": "A10G", "count": 2}}],
                  "price_per_hour": 1.5, "spot_price_per_hour": 2}}]}}}}"#
        ));
        assert_eq!(f, "nodes.instance_types[0].spot_price_per_hour");
        assert!(m.contains("above the on-demand"), "{m}");
    }

    #[test]
    fn nodes_infeasible_is_a_report_and_inline_types_work() {
        // An A10G-only fleet, but only L4 machines and an inline 2×A10G box capped at 0.
        let s = spec(
            r#"{"options": [{"name": "A10G", "price_per_hour": 1.006}],
                "demand": [{"label": "chat", "rate": 12, "throughput": {"A10G": 7}}],
                "nodes": {"instance_types": ["g6.xlarge",
                    {"id": "box", "cpu": 16, "memory": "64Gi", "devices": [{"model": "A10G", "count": 2}],
                     "price_per_hour": 1.5, "max_count": 0}],
                  "replicas": {"A10G": {"cpu": 2, "memory": "8Gi"}}}}"#,
        );
        let r = s.run(&SolveConfig::default()).unwrap();
        let n = r.nodes.unwrap();
        assert_eq!(n.unplaced.len(), 1);
        assert_eq!(n.unplaced[0].replicas, 2);
        assert!(n.unplaced[0]
            .reason
            .to_string()
            .contains("within the limits"));
        // Lift the cap: both replicas share the inline box.
        let s = PlanSpec {
            nodes: s.nodes.map(|mut n| {
                if let InstanceTypeSpec::Entry(e) = &mut n.instance_types[1] {
                    e.max_count = None;
                }
                n
            }),
            ..s
        };
        let n = s.run(&SolveConfig::default()).unwrap().nodes.unwrap();
        assert!(n.unplaced.is_empty());
        assert_eq!(n.lines.len(), 1);
        assert_eq!(
            (n.lines[0].instance_type.as_str(), n.lines[0].count),
            ("box", 1)
        );
        assert_eq!(n.cost_per_hour.micros(), 1_500_000);
    }

    /// The YAML example in the module docs parses and runs as documented.
    #[test]
    fn module_doc_yaml_runs() {
        let src = include_str!("spec.rs");
        let start = src.find("//! ```yaml\n").unwrap() + "//! ```yaml\n".len();
        let end = start + src[start..].find("//! ```\n").unwrap();
        let yaml: String = src[start..end]
            .lines()
            .map(|l| {
                l.strip_prefix("//! ")
                    .unwrap_or(l.trim_start_matches("//!"))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let s: PlanSpec = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(s.objective, ObjectiveSpec::Cost);
        assert_eq!(s.nodes.as_ref().unwrap().spot, SpotPolicy::MaxFraction(0.5));
        let r = s.run(&SolveConfig::default()).unwrap();
        let n = r.nodes.unwrap();
        assert!(n.unplaced.is_empty(), "{:?}", n.unplaced);
        assert_eq!(n.groups["gateway"].replicas, 3);
        // The weighted objective in YAML form, and its JSON round trip.
        let o: ObjectiveSpec = serde_yaml::from_str("{cost_plus_energy: {per_kwh: 0.12}}").unwrap();
        assert_eq!(o, ObjectiveSpec::CostPlusEnergy { per_kwh: 0.12 });
        let j = serde_json::to_string(&o).unwrap();
        assert_eq!(j, r#"{"cost_plus_energy":{"per_kwh":0.12}}"#);
        assert_eq!(serde_json::from_str::<ObjectiveSpec>(&j).unwrap(), o);
        assert!(serde_yaml::from_str::<ObjectiveSpec>("cheapest").is_err());
    }
}
