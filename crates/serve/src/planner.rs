//! The serving planner: prefill and decode pools (disaggregated) and the best
//! co-located (aggregated) pool, at least cost, energy or a weighted mix,
//! with every plan checked to fit the cluster when one is given.
//!
//! # Model
//!
//! Demand is a list of [`Bucket`]s (input length × output length with a
//! request rate), the SLO a TTFT and a TPOT target at a percentile. For each
//! replica shape (device, `tp × pp`) and bucket the planner derives the
//! request rate one replica sustains within the SLO:
//!
//! * **prefill** (disaggregated): one prefill takes `L = TTFT(isl) ·
//!   correction` and occupies the replica for `D = isl · min(1, correction) /
//!   (thpt_per_gpu · G)` seconds; shipping the KV cache to the decode pool
//!   takes `isl · kv_bytes / link` and counts against the TTFT budget `S`.
//!   Under [`QueueModel::Md1`] the replica runs at utilisation `ρ` where the
//!   M/D/1 mean wait `ρD / (2(1 − ρ))`, scaled to the percentile by
//!   `ln(1 / (1 − p))` (an exponential tail), fits in `S − L`; under
//!   [`QueueModel::None`] (Dynamo's assumption) at `ρ = 1`. The replica's KV
//!   link also caps it at `link / (isl · kv_bytes)` requests/s.
//! * **decode**: Dynamo's `thpt_per_gpu(ITL = TPOT / correction, context =
//!   isl + osl/2) · G / osl` requests/s, and the KV link ingest cap.
//! * **aggregated**: one replica does both; prefill takes a fraction `u =
//!   λ·D` of its time, decode must meet `TPOT · (1 − u)` (prefills stall
//!   decode steps) while producing `λ·osl` tokens/s; the largest such `λ` is
//!   found by bisection.
//!
//! Each pool is then a fleet problem over the shapes, solved exactly by
//! `rightsizer_plan::fleet` (integer counts, a proven lower bound and gap).
//! Prefill and decode pools are independent without a cluster; with one,
//! every split of each device type's devices between the two pools is
//! enumerated, each split's pools are solved, and plans are placed with the
//! `rightsizer_place` engine, cheapest first, until one fits: the answer is
//! the cheapest plan that fits, and the reported lower bound covers every
//! split.
//!
//! ```
//! use rightsizer_serve::planner::{Bucket, DeviceSpec, ServePlanner, Slo};
//! use rightsizer_serve::profile::LlmModel;
//! let model = LlmModel::from_architecture("OPT-13B", 13.0, 2.0, 40, 5120);
//! let planner = ServePlanner::builder(model)
//!     .device(DeviceSpec::new("A100-80GB").with_price(3.431).with_tp(&[1, 2, 4]))
//!     .build()?;
//! let demand = vec![Bucket::new(512.0, 128.0, 4.0)];
//! let report = planner.plan(&demand, &Slo::new(200.0, 100.0))?;
//! let best = report.chosen.as_ref().expect("a plan");
//! assert!(best.estimated, "first-order profiles are estimates");
//! assert!(best.cost.micros() >= best.lower_bound_cost.micros());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::dynamo::Corrections;
use crate::error::{non_negative, positive, ServeError};
use crate::profile::{EstimateParams, LlmModel, PhaseProfile, ProfileSource, ReplicaShape};
use rightsizer_catalog::{price_per_device, Catalog};
use rightsizer_model::accelerator::AcceleratorModel;
use rightsizer_model::cluster::ClusterState;
use rightsizer_model::ids::{AcceleratorModelId, PodId};
use rightsizer_model::resources::Resources;
use rightsizer_model::units::{PricePerHour, Watts};
use rightsizer_model::workload::{AcceleratorDemand, PodRequest, Toleration};
use rightsizer_place::engine::{Decision, Engine, EngineConfig, PodSpec};
use rightsizer_place::share::SharePolicy;
use rightsizer_plan::fleet::{
    AcceleratorOption, DemandBucket, FleetOutcome, FleetPlan, FleetProblem, Infeasibility,
    Objective, SolveConfig, StopReason,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One request class: input and output lengths (tokens) and its rate (req/s).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Label for reports (default `in <isl> / out <osl>`).
    #[serde(default)]
    pub label: Option<String>,
    /// Input tokens.
    pub isl: f64,
    /// Output tokens.
    pub osl: f64,
    /// Requests per second.
    #[serde(default)]
    pub rate: f64,
}

impl Bucket {
    /// A bucket without a label.
    pub fn new(isl: f64, osl: f64, rate: f64) -> Self {
        Bucket {
            label: None,
            isl,
            osl,
            rate,
        }
    }
    /// The label, or `in <isl> / out <osl>`.
    pub fn name(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| format!("in {} / out {}", self.isl, self.osl))
    }
    pub(crate) fn validate(&self, field: &str) -> Result<(), ServeError> {
        positive(format!("{field}.isl"), self.isl)?;
        positive(format!("{field}.osl"), self.osl)?;
        non_negative(format!("{field}.rate"), self.rate)?;
        Ok(())
    }
}

/// Latency targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Time to first token, ms.
    pub ttft_ms: f64,
    /// Time per output token (inter-token latency), ms.
    pub tpot_ms: f64,
    /// The percentile both hold at (0.9 = P90).
    #[serde(default = "default_percentile")]
    pub percentile: f64,
}

fn default_percentile() -> f64 {
    0.9
}

impl Slo {
    /// P90 targets.
    pub fn new(ttft_ms: f64, tpot_ms: f64) -> Self {
        Slo {
            ttft_ms,
            tpot_ms,
            percentile: 0.9,
        }
    }
    fn validate(&self) -> Result<(), ServeError> {
        positive("slo.ttft_ms", self.ttft_ms)?;
        positive("slo.tpot_ms", self.tpot_ms)?;
        if !(self.percentile > 0.0 && self.percentile < 1.0) {
            return Err(ServeError::InvalidParameter {
                field: "slo.percentile".into(),
                message: format!("must be in (0, 1), got {}", self.percentile),
            });
        }
        Ok(())
    }
}

/// How waiting for a prefill replica counts against TTFT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueModel {
    /// M/D/1 waiting at the SLO percentile (the default).
    #[default]
    Md1,
    /// No queueing: replicas run at full prefill throughput (Dynamo's planner).
    None,
}

/// A device type the planner may buy, and the replica shapes it may form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    /// Catalog id of the device model (`A100-80GB`).
    pub device: String,
    /// $/GPU-hour; default: the catalog's cheapest instance type carrying it.
    #[serde(default)]
    pub price_per_gpu_hour: Option<f64>,
    /// Busy power per GPU, W; default: the spec sheet's maximum board power.
    #[serde(default)]
    pub power_w: Option<u32>,
    /// Tensor-parallel degrees to consider.
    #[serde(default = "default_tp")]
    pub tp: Vec<u32>,
    /// Pipeline-parallel degrees to consider.
    #[serde(default = "default_pp")]
    pub pp: Vec<u32>,
    /// KV-transfer link bandwidth per GPU, GB/s (NIC or NVLink share).
    #[serde(default = "default_link")]
    pub link_gb_s: f64,
    /// At most this many GPUs of the type (quota).
    #[serde(default)]
    pub max_gpus: Option<u32>,
}

fn default_tp() -> Vec<u32> {
    vec![1, 2, 4, 8]
}
fn default_pp() -> Vec<u32> {
    vec![1]
}
fn default_link() -> f64 {
    25.0
}

impl DeviceSpec {
    /// The catalog device with default shapes (TP 1, 2, 4, 8), 25 GB/s of
    /// KV link per GPU and the catalog price.
    pub fn new(device: impl Into<String>) -> Self {
        DeviceSpec {
            device: device.into(),
            price_per_gpu_hour: None,
            power_w: None,
            tp: default_tp(),
            pp: default_pp(),
            link_gb_s: default_link(),
            max_gpus: None,
        }
    }
    /// Sets the $/GPU-hour.
    pub fn with_price(mut self, dollars: f64) -> Self {
        self.price_per_gpu_hour = Some(dollars);
        self
    }
    /// Sets the tensor-parallel degrees.
    pub fn with_tp(mut self, tp: &[u32]) -> Self {
        self.tp = tp.to_vec();
        self
    }
    /// Sets the KV link bandwidth per GPU.
    pub fn with_link(mut self, gb_s: f64) -> Self {
        self.link_gb_s = gb_s;
        self
    }
    /// Limits the GPUs of this type.
    pub fn with_max_gpus(mut self, n: u32) -> Self {
        self.max_gpus = Some(n);
        self
    }
}

/// Resources and tolerations of one replica's pod, for placement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplicaPod {
    /// CPU per replica, millicores.
    pub cpu_milli: u64,
    /// Memory per replica, bytes.
    pub memory_bytes: u64,
    /// Tolerations of the replica pods.
    pub tolerations: Vec<Toleration>,
}

impl Default for ReplicaPod {
    fn default() -> Self {
        ReplicaPod {
            cpu_milli: 1000,
            memory_bytes: 4 << 30,
            tolerations: Vec::new(),
        }
    }
}

/// Planner settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ServeConfig {
    /// What to minimise.
    pub objective: Objective,
    /// Slices per bucket (1: each bucket is served by one shape per pool).
    pub slice_factor: u32,
    /// Consider disaggregated prefill/decode pools.
    pub disaggregated: bool,
    /// Consider a co-located pool.
    pub aggregated: bool,
    /// Queueing model of prefill.
    pub queue: QueueModel,
    /// Dynamo's correction factors.
    pub corrections: Corrections,
    /// Budget of each fleet solve.
    pub solve: SolveConfig,
    /// At most this many device splits are tried on a cluster.
    pub max_splits: usize,
    /// The replica pods.
    pub pod: ReplicaPod,
    /// First-order model parameters for shapes without a measured profile.
    pub estimate: EstimateParams,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            objective: Objective::Cost,
            slice_factor: 1,
            disaggregated: true,
            aggregated: true,
            queue: QueueModel::Md1,
            corrections: Corrections::default(),
            solve: SolveConfig::default(),
            max_splits: 4096,
            pod: ReplicaPod::default(),
            estimate: EstimateParams::default(),
        }
    }
}

/// A pool's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Prefill replicas of a disaggregated plan.
    Prefill,
    /// Decode replicas of a disaggregated plan.
    Decode,
    /// Co-located replicas doing both phases.
    Aggregated,
}

impl Role {
    /// `prefill`, `decode`, `aggregated`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Prefill => "prefill",
            Role::Decode => "decode",
            Role::Aggregated => "aggregated",
        }
    }
}

/// Why a shape cannot serve a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    /// The TTFT SLO (prefill, plus KV transfer, plus waiting).
    Ttft,
    /// The TPOT SLO (decode at the target ITL).
    Tpot,
    /// The weights and this bucket's KV cache do not fit in the replica.
    Memory,
    /// A measured profile does not cover the bucket's lengths.
    NotProfiled,
}

impl Binding {
    /// `ttft`, `tpot`, `memory`, `not_profiled`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Binding::Ttft => "ttft",
            Binding::Tpot => "tpot",
            Binding::Memory => "memory",
            Binding::NotProfiled => "not_profiled",
        }
    }
}

/// Replicas of one shape in a pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolEntry {
    /// The shape.
    pub shape: ReplicaShape,
    /// Replicas.
    pub replicas: u32,
    /// Busy fraction (assigned load ÷ replicas).
    pub utilisation: f64,
    /// Measured or estimated profile.
    pub source: ProfileSource,
}

/// One pool of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    /// Its role.
    pub role: Role,
    /// Replicas by shape (non-zero only, shape order).
    pub entries: Vec<PoolEntry>,
    /// Per bucket (input order), the shape serving each of its slices.
    pub assignment: Vec<Vec<String>>,
    /// Hourly price.
    pub cost: PricePerHour,
    /// Provisioned busy power.
    pub power: Watts,
    /// Objective value (µ$/h or W).
    pub objective: u64,
    /// Proven lower bound of the pool's objective.
    pub lower_bound: u64,
    /// Why its solver stopped.
    pub stop: StopReason,
}

impl Pool {
    /// GPUs of the pool.
    pub fn gpus(&self) -> u32 {
        self.entries
            .iter()
            .map(|e| e.replicas * e.shape.gpus())
            .sum()
    }
}

/// Layout of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Separate prefill and decode pools.
    Disaggregated,
    /// One co-located pool.
    Aggregated,
}

/// A replica the cluster could not take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unplaced {
    /// Its pool.
    pub role: Role,
    /// Its shape.
    pub shape: ReplicaShape,
    /// Which replica of the shape (0-based).
    pub index: u32,
    /// Nodes per rejection kind (`no-device-set-fits`: 3, ...).
    pub reasons: BTreeMap<String, usize>,
}

/// Where the replicas went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// Replica pod id → node id, for every placed replica.
    pub nodes: BTreeMap<String, String>,
    /// The replicas that did not fit (empty: the plan fits).
    pub unplaced: Vec<Unplaced>,
}

impl Placement {
    /// `true` when every replica was placed.
    pub fn fits(&self) -> bool {
        self.unplaced.is_empty()
    }
}

/// A serving plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServePlan {
    /// Disaggregated or aggregated.
    pub mode: Mode,
    /// Its pools.
    pub pools: Vec<Pool>,
    /// Hourly price.
    pub cost: PricePerHour,
    /// Provisioned busy power.
    pub power: Watts,
    /// Objective value.
    pub objective: u64,
    /// Proven lower bound on the objective of any plan of this mode (that
    /// fits, with a cluster).
    pub lower_bound: u64,
    /// Lower bound on the price of any plan of this mode (the objective's
    /// bound when minimising cost; the plan's price otherwise).
    pub lower_bound_cost: PricePerHour,
    /// `(objective − lower_bound) / objective`.
    pub gap: f64,
    /// `true` when proven optimal.
    pub optimal: bool,
    /// GPUs in total.
    pub gpus: u32,
    /// Prefill GPUs ÷ decode GPUs (disaggregated only).
    pub pd_ratio: Option<f64>,
    /// Requests/s per GPU.
    pub goodput_per_gpu: f64,
    /// `true` when some used profile is a first-order estimate.
    pub estimated: bool,
    /// The placement on the cluster, when one was given.
    pub placement: Option<Placement>,
}

/// Why no plan of a mode exists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoPlan {
    /// No shape can serve a bucket in a pool; `binding` is the reason most
    /// shapes gave (the binding SLO), `by_shape` every shape's reason.
    NoShapeMeetsSlo {
        /// The pool.
        role: Role,
        /// The bucket's label.
        bucket: String,
        /// The binding reason.
        binding: Binding,
        /// Each shape's reason.
        by_shape: BTreeMap<String, Binding>,
    },
    /// Count limits (quotas, cluster capacity) are too low for the demand.
    CountLimits {
        /// The pool.
        role: Role,
        /// The limits by shape.
        limits: BTreeMap<String, u32>,
    },
    /// Plans exist but none the engine could place on the cluster; the
    /// cheapest candidate's unplaced replicas.
    DoesNotFit {
        /// The cheapest candidate's placement.
        placement: Placement,
        /// Candidates tried.
        tried: usize,
    },
    /// The mode is switched off.
    Disabled,
}

impl std::fmt::Display for NoPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoPlan::NoShapeMeetsSlo {
                role,
                bucket,
                binding,
                ..
            } => write!(
                f,
                "no {} replica shape meets the {} constraint for bucket `{bucket}`",
                role.as_str(),
                binding.as_str()
            ),
            NoPlan::CountLimits { role, limits } => {
                write!(f, "{} pool: count limits too low:", role.as_str())?;
                for (k, v) in limits {
                    write!(f, " {k} <= {v}")?;
                }
                Ok(())
            }
            NoPlan::DoesNotFit { placement, tried } => write!(
                f,
                "none of {tried} candidate plans fits the cluster; the cheapest leaves {} replicas unplaced",
                placement.unplaced.len()
            ),
            NoPlan::Disabled => write!(f, "disabled"),
        }
    }
}

/// Both answers and the chosen one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServeReport {
    /// The model.
    pub model: String,
    /// The cheaper of the two (by objective; disaggregated on a tie).
    pub chosen: Option<ServePlan>,
    /// The best disaggregated plan, or why there is none.
    pub disaggregated: Result<ServePlan, NoPlan>,
    /// The best aggregated plan, or why there is none.
    pub aggregated: Result<ServePlan, NoPlan>,
}

/// Per-GPU goodput of the best shape pair ([`ServePlanner::goodput`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goodput {
    /// Requests/s per GPU.
    pub per_gpu: f64,
    /// The prefill shape.
    pub prefill: ReplicaShape,
    /// The decode shape.
    pub decode: ReplicaShape,
    /// One prefill replica's rate.
    pub prefill_rate: f64,
    /// One decode replica's rate.
    pub decode_rate: f64,
    /// The best aggregated shape's requests/s per GPU, and the shape.
    pub aggregated: Option<(f64, ReplicaShape)>,
}

/// One buyable replica shape with its profile and unit figures.
#[derive(Clone, Debug)]
struct ShapeOption {
    profile: PhaseProfile,
    price: PricePerHour,
    power: Watts,
    link_bytes_s: f64,
    max_replicas: Option<u32>,
}

/// Builds a [`ServePlanner`].
#[derive(Debug)]
pub struct ServePlannerBuilder {
    model: LlmModel,
    catalog: Option<Catalog>,
    devices: Vec<DeviceSpec>,
    profiles: Vec<PhaseProfile>,
    config: ServeConfig,
    extra_models: Vec<AcceleratorModel>,
}

impl ServePlannerBuilder {
    /// Adds a device type.
    pub fn device(mut self, d: DeviceSpec) -> Self {
        self.devices.push(d);
        self
    }
    /// Adds a measured profile; it replaces the estimate of its shape, and
    /// its shape is offered even if the device's `tp` list omits it.
    pub fn profile(mut self, p: PhaseProfile) -> Self {
        self.profiles.push(p);
        self
    }
    /// Uses this catalog (default: the built-in one).
    pub fn catalog(mut self, c: Catalog) -> Self {
        self.catalog = Some(c);
        self
    }
    /// Adds a device model not in the catalog.
    pub fn accelerator(mut self, m: AcceleratorModel) -> Self {
        self.extra_models.push(m);
        self
    }
    /// Sets the configuration.
    pub fn config(mut self, c: ServeConfig) -> Self {
        self.config = c;
        self
    }

    /// Validates everything and derives each shape's profile.
    pub fn build(self) -> Result<ServePlanner, ServeError> {
        self.model.validate()?;
        self.config.estimate.validate("estimate")?;
        if self.devices.is_empty() {
            return Err(ServeError::InvalidParameter {
                field: "devices".into(),
                message: "at least one device type is needed".into(),
            });
        }
        let catalog = self.catalog.unwrap_or_else(Catalog::builtin);
        let mut measured: BTreeMap<ReplicaShape, PhaseProfile> = BTreeMap::new();
        for p in self.profiles {
            let key = p.shape().clone();
            if measured.insert(key.clone(), p).is_some() {
                return Err(ServeError::InvalidParameter {
                    field: format!("profiles[{}]", key.label()),
                    message: "two profiles for one shape".into(),
                });
            }
        }
        let mut options = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (i, d) in self.devices.iter().enumerate() {
            let field = format!("devices[{i}]");
            if !seen.insert(d.device.clone()) {
                return Err(ServeError::InvalidParameter {
                    field,
                    message: format!("device `{}` listed twice", d.device),
                });
            }
            let spec = self
                .extra_models
                .iter()
                .find(|m| m.id.as_str() == d.device)
                .or_else(|| catalog.accelerator(&d.device));
            let has_measured = measured.keys().any(|s| s.device == d.device);
            let Some(spec) = spec
                .cloned()
                .or_else(|| has_measured.then(|| placeholder(&d.device)))
            else {
                return Err(ServeError::UnknownDevice {
                    field: format!("{field}.device"),
                    device: d.device.clone(),
                });
            };
            let price = match d.price_per_gpu_hour {
                Some(p) => {
                    positive(format!("{field}.price_per_gpu_hour"), p)?;
                    PricePerHour::from_dollars(p).ok_or_else(|| ServeError::InvalidValue {
                        field: format!("{field}.price_per_gpu_hour"),
                        expected: "representable",
                        value: p,
                    })?
                }
                None => catalog
                    .cheapest_per_device(&d.device)
                    .and_then(price_per_device)
                    .ok_or_else(|| ServeError::NoPrice {
                        field: format!("{field}.price_per_gpu_hour"),
                        device: d.device.clone(),
                    })?,
            };
            positive(format!("{field}.link_gb_s"), d.link_gb_s)?;
            let power = Watts::new(d.power_w.unwrap_or(spec.max_power.get()));
            let mut shapes: Vec<ReplicaShape> = Vec::new();
            for &tp in &d.tp {
                for &pp in &d.pp {
                    shapes.push(ReplicaShape::new(d.device.clone(), tp, pp));
                }
            }
            for s in measured.keys().filter(|s| s.device == d.device) {
                shapes.push(s.clone());
            }
            shapes.sort();
            shapes.dedup();
            for shape in shapes {
                let g = shape.gpus();
                let profile = match measured.get(&shape) {
                    Some(p) => p.clone(),
                    None => PhaseProfile::estimated(
                        &self.model,
                        &spec,
                        shape.clone(),
                        &self.config.estimate,
                    )?,
                };
                let max_replicas = d.max_gpus.map(|m| m / g.max(1));
                options.push(ShapeOption {
                    profile,
                    price: price.checked_mul(u64::from(g)).ok_or_else(|| {
                        ServeError::InvalidParameter {
                            field: format!("{field}.price_per_gpu_hour"),
                            message: "replica price overflows".into(),
                        }
                    })?,
                    power: Watts::new(power.get().saturating_mul(g)),
                    link_bytes_s: d.link_gb_s * 1e9 * f64::from(g),
                    max_replicas,
                });
            }
        }
        if self.config.slice_factor == 0 || self.config.slice_factor > 64 {
            return Err(ServeError::InvalidParameter {
                field: "options.slice_factor".into(),
                message: format!("must be in 1..=64, got {}", self.config.slice_factor),
            });
        }
        let c = &self.config.corrections;
        positive("options.corrections.prefill", c.prefill)?;
        positive("options.corrections.decode", c.decode)?;
        Ok(ServePlanner {
            model: self.model,
            options,
            config: self.config,
        })
    }
}

/// A spec sheet for a device known only through measured profiles.
fn placeholder(id: &str) -> AcceleratorModel {
    let mut m = rightsizer_model::cluster::tests_support::fractional_gpu(id, 1);
    m.max_power = Watts::ZERO;
    m
}

/// The serving planner (see the module documentation).
#[derive(Clone, Debug)]
pub struct ServePlanner {
    model: LlmModel,
    options: Vec<ShapeOption>,
    config: ServeConfig,
}

/// A pool solve's memo key: role and per-shape count caps.
type PoolKey = (Role, Vec<Option<u32>>);

/// Capacities of every shape on every bucket for one role.
struct RoleTable {
    role: Role,
    /// `cap[bucket][option]`: requests/s of one replica, or why not.
    cap: Vec<Vec<Result<f64, Binding>>>,
}

impl ServePlanner {
    /// A builder for `model`.
    pub fn builder(model: LlmModel) -> ServePlannerBuilder {
        ServePlannerBuilder {
            model,
            catalog: None,
            devices: Vec::new(),
            profiles: Vec::new(),
            config: ServeConfig::default(),
            extra_models: Vec::new(),
        }
    }

    /// The model.
    pub fn model(&self) -> &LlmModel {
        &self.model
    }

    /// The configuration.
    pub fn config(&self) -> &ServeConfig {
        &self.config
    }

    /// The replica shapes on offer, in order.
    pub fn shapes(&self) -> Vec<ReplicaShape> {
        self.options
            .iter()
            .map(|o| o.profile.shape().clone())
            .collect()
    }

    /// The profile of a shape.
    pub fn profile(&self, shape: &ReplicaShape) -> Option<&PhaseProfile> {
        self.options
            .iter()
            .find(|o| o.profile.shape() == shape)
            .map(|o| &o.profile)
    }

    /// Requests/s one replica of `shape` in `role` sustains on `bucket`
    /// within `slo`, or why it cannot serve it; `None` for an unknown shape.
    pub fn capacity(
        &self,
        role: Role,
        shape: &ReplicaShape,
        bucket: &Bucket,
        slo: &Slo,
    ) -> Option<Result<f64, Binding>> {
        let o = self.options.iter().find(|o| o.profile.shape() == shape)?;
        Some(self.cap(role, o, bucket, slo))
    }

    fn cap(&self, role: Role, o: &ShapeOption, b: &Bucket, slo: &Slo) -> Result<f64, Binding> {
        match role {
            Role::Prefill => self.prefill_cap(o, b, slo),
            Role::Decode => self.decode_cap(o, b, slo),
            Role::Aggregated => self.aggregated_cap(o, b, slo),
        }
    }

    fn tail_factor(&self, slo: &Slo) -> f64 {
        (1.0 / (1.0 - slo.percentile)).ln()
    }

    fn missing(&self, o: &ShapeOption, isl: f64) -> Binding {
        match o.profile.source() {
            ProfileSource::Estimated => Binding::Memory,
            ProfileSource::Measured if o.profile.max_kv_tokens() < isl => Binding::Memory,
            ProfileSource::Measured => Binding::NotProfiled,
        }
    }

    /// `(latency ms, service s)` of one prefill.
    fn prefill_times(&self, o: &ShapeOption, b: &Bucket) -> Result<(f64, f64), Binding> {
        let p = &o.profile;
        let ttft = p
            .prefill_ttft_ms(b.isl)
            .ok_or_else(|| self.missing(o, b.isl))?;
        let thpt = p
            .prefill_thpt_per_gpu(b.isl)
            .ok_or_else(|| self.missing(o, b.isl))?;
        let corr = &self.config.corrections;
        let g = f64::from(p.shape().gpus());
        Ok((
            ttft * corr.prefill,
            b.isl * corr.prefill_load_factor() / (thpt * g),
        ))
    }

    fn queue_rho(&self, slack_s: f64, service_s: f64, slo: &Slo) -> f64 {
        match self.config.queue {
            QueueModel::None => 1.0,
            QueueModel::Md1 => {
                let k = self.tail_factor(slo);
                2.0 * slack_s / (2.0 * slack_s + k * service_s)
            }
        }
    }

    fn kv_bytes(&self, b: &Bucket) -> f64 {
        b.isl * self.model.kv_bytes_per_token
    }

    fn prefill_cap(&self, o: &ShapeOption, b: &Bucket, slo: &Slo) -> Result<f64, Binding> {
        let (latency, service) = self.prefill_times(o, b)?;
        let transfer_ms = self.kv_bytes(b) / o.link_bytes_s * 1e3;
        let slack_ms = slo.ttft_ms - transfer_ms - latency;
        if slack_ms < 0.0 {
            return Err(Binding::Ttft);
        }
        let rho = self.queue_rho(slack_ms / 1e3, service, slo);
        let compute = rho / service;
        let link = o.link_bytes_s / self.kv_bytes(b);
        Ok(compute.min(link))
    }

    fn decode_tokens_per_s(&self, o: &ShapeOption, b: &Bucket, itl: f64) -> Result<f64, Binding> {
        let p = &o.profile;
        let ctx = crate::dynamo::decode_context(b.isl, b.osl);
        match p.decode_thpt_per_gpu(itl, ctx) {
            Some(t) => Ok(t * f64::from(p.shape().gpus())),
            None => match p.decode_floor_ms(ctx) {
                Some(floor) if floor > itl => Err(Binding::Tpot),
                Some(_) => Err(Binding::Memory),
                None => Err(self.missing(o, ctx)),
            },
        }
    }

    fn decode_cap(&self, o: &ShapeOption, b: &Bucket, slo: &Slo) -> Result<f64, Binding> {
        let itl = self.config.corrections.corrected_itl(slo.tpot_ms);
        let tokens = self.decode_tokens_per_s(o, b, itl)?;
        let link = o.link_bytes_s / self.kv_bytes(b);
        Ok((tokens / b.osl).min(link))
    }

    fn aggregated_cap(&self, o: &ShapeOption, b: &Bucket, slo: &Slo) -> Result<f64, Binding> {
        let (latency, service) = self.prefill_times(o, b)?;
        let slack_ms = slo.ttft_ms - latency;
        if slack_ms < 0.0 {
            return Err(Binding::Ttft);
        }
        let itl = self.config.corrections.corrected_itl(slo.tpot_ms);
        self.decode_tokens_per_s(o, b, itl)?;
        let k = self.tail_factor(slo);
        let ok = |lambda: f64| -> bool {
            let u = lambda * service;
            if u >= 1.0 {
                return false;
            }
            if self.config.queue == QueueModel::Md1 {
                let wait_ms = k * u * service / (2.0 * (1.0 - u)) * 1e3;
                if latency + wait_ms > slo.ttft_ms {
                    return false;
                }
            }
            match self.decode_tokens_per_s(o, b, itl * (1.0 - u)) {
                Ok(t) => t >= lambda * b.osl,
                Err(_) => false,
            }
        };
        let (mut lo, mut hi) = (0.0f64, 1.0 / service);
        for _ in 0..64 {
            let mid = 0.5 * (lo + hi);
            if ok(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if lo > 0.0 {
            Ok(lo)
        } else {
            Err(Binding::Tpot)
        }
    }

    fn table(&self, role: Role, demand: &[Bucket], slo: &Slo) -> RoleTable {
        let cap = demand
            .iter()
            .map(|b| {
                self.options
                    .iter()
                    .map(|o| self.cap(role, o, b, slo))
                    .collect()
            })
            .collect();
        RoleTable { role, cap }
    }

    fn no_shape(&self, t: &RoleTable, demand: &[Bucket]) -> Option<NoPlan> {
        for (bi, b) in demand.iter().enumerate() {
            if b.rate > 0.0 && t.cap[bi].iter().all(|c| c.is_err()) {
                let mut by_shape = BTreeMap::new();
                let mut count: BTreeMap<Binding, usize> = BTreeMap::new();
                for (o, c) in self.options.iter().zip(&t.cap[bi]) {
                    let r = *c.as_ref().unwrap_err();
                    by_shape.insert(o.profile.shape().label(), r);
                    *count.entry(r).or_default() += 1;
                }
                // The most common reason; SLO reasons before memory on a tie.
                let binding = count
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(k, _)| *k)
                    .expect("at least one option");
                return Some(NoPlan::NoShapeMeetsSlo {
                    role: t.role,
                    bucket: b.name(),
                    binding,
                    by_shape,
                });
            }
        }
        None
    }

    fn solve_pool(
        &self,
        t: &RoleTable,
        demand: &[Bucket],
        caps: &[Option<u32>],
    ) -> Result<Result<Pool, NoPlan>, ServeError> {
        if let Some(e) = self.no_shape(t, demand) {
            return Ok(Err(e));
        }
        let fleet_options: Vec<AcceleratorOption> = self
            .options
            .iter()
            .zip(caps)
            .map(|(o, cap)| {
                let mut a = AcceleratorOption::new(o.profile.shape().label(), o.price)
                    .with_power(o.power, Watts::ZERO);
                a.max_count = *cap;
                a
            })
            .collect();
        let buckets: Vec<DemandBucket> = demand
            .iter()
            .enumerate()
            .map(|(bi, b)| {
                DemandBucket::new(
                    b.name(),
                    b.rate,
                    t.cap[bi]
                        .iter()
                        .map(|c| c.as_ref().ok().copied().filter(|v| *v > 0.0))
                        .collect(),
                )
            })
            .collect();
        let problem = FleetProblem::new(fleet_options, buckets, self.config.slice_factor)?;
        match problem.solve(self.config.objective, &self.config.solve) {
            FleetOutcome::Plan(p) => Ok(Ok(self.pool_from(t.role, &p))),
            FleetOutcome::Infeasible(Infeasibility::CountLimits { limits, .. }) => {
                Ok(Err(NoPlan::CountLimits {
                    role: t.role,
                    limits,
                }))
            }
            FleetOutcome::Infeasible(Infeasibility::NoOptionMeetsSlo { bucket, .. }) => {
                Ok(Err(NoPlan::NoShapeMeetsSlo {
                    role: t.role,
                    bucket,
                    binding: Binding::Ttft,
                    by_shape: BTreeMap::new(),
                }))
            }
        }
    }

    fn pool_from(&self, role: Role, p: &FleetPlan) -> Pool {
        let mut entries = Vec::new();
        for o in &self.options {
            let name = o.profile.shape().label();
            let n = p.counts.get(&name).copied().unwrap_or(0);
            if n > 0 {
                entries.push(PoolEntry {
                    shape: o.profile.shape().clone(),
                    replicas: n,
                    utilisation: p.loads.get(&name).copied().unwrap_or(0.0) / f64::from(n),
                    source: o.profile.source(),
                });
            }
        }
        let assignment = p
            .assignment
            .iter()
            .map(|row| {
                let mut v = Vec::new();
                for (j, &k) in row.iter().enumerate() {
                    for _ in 0..k {
                        v.push(self.options[j].profile.shape().label());
                    }
                }
                v
            })
            .collect();
        Pool {
            role,
            entries,
            assignment,
            cost: p.cost,
            power: p.power,
            objective: p.objective,
            lower_bound: p.lower_bound,
            stop: p.stop,
        }
    }

    fn combine(
        &self,
        mode: Mode,
        pools: Vec<Pool>,
        lower_bound: u64,
        demand: &[Bucket],
    ) -> ServePlan {
        let cost = PricePerHour::from_micros(pools.iter().map(|p| p.cost.micros()).sum());
        let power = Watts::new(pools.iter().map(|p| p.power.get()).sum());
        let objective: u64 = pools.iter().map(|p| p.objective).sum();
        let gpus: u32 = pools.iter().map(|p| p.gpus()).sum();
        let pd_ratio = (mode == Mode::Disaggregated).then(|| {
            let p = pools
                .iter()
                .find(|p| p.role == Role::Prefill)
                .map_or(0, |p| p.gpus());
            let d = pools
                .iter()
                .find(|p| p.role == Role::Decode)
                .map_or(0, |p| p.gpus());
            if d == 0 {
                0.0
            } else {
                f64::from(p) / f64::from(d)
            }
        });
        let rate: f64 = demand.iter().map(|b| b.rate).sum();
        let optimal =
            pools.iter().all(|p| p.stop == StopReason::Optimal) && lower_bound >= objective;
        let lower_bound = lower_bound.min(objective);
        let lower_bound_cost = if self.config.objective == Objective::Cost {
            PricePerHour::from_micros(lower_bound)
        } else {
            cost
        };
        ServePlan {
            mode,
            estimated: pools
                .iter()
                .flat_map(|p| &p.entries)
                .any(|e| e.source == ProfileSource::Estimated),
            pools,
            cost,
            power,
            objective,
            lower_bound,
            lower_bound_cost,
            gap: if objective == 0 {
                0.0
            } else {
                (objective - lower_bound) as f64 / objective as f64
            },
            optimal,
            gpus,
            pd_ratio,
            goodput_per_gpu: if gpus == 0 {
                0.0
            } else {
                rate / f64::from(gpus)
            },
            placement: None,
        }
    }

    fn validate_demand(&self, demand: &[Bucket], slo: &Slo) -> Result<(), ServeError> {
        slo.validate()?;
        if demand.is_empty() {
            return Err(ServeError::InvalidParameter {
                field: "demand.buckets".into(),
                message: "at least one bucket is needed".into(),
            });
        }
        for (i, b) in demand.iter().enumerate() {
            b.validate(&format!("demand.buckets[{i}]"))?;
        }
        Ok(())
    }

    fn quota_caps(&self) -> Vec<Option<u32>> {
        self.options.iter().map(|o| o.max_replicas).collect()
    }

    /// Plans `demand` under `slo` without a cluster.
    pub fn plan(&self, demand: &[Bucket], slo: &Slo) -> Result<ServeReport, ServeError> {
        self.validate_demand(demand, slo)?;
        let caps = self.quota_caps();
        let disaggregated = if self.config.disaggregated {
            let pt = self.table(Role::Prefill, demand, slo);
            let dt = self.table(Role::Decode, demand, slo);
            match (
                self.solve_pool(&pt, demand, &caps)?,
                self.solve_pool(&dt, demand, &caps)?,
            ) {
                (Ok(p), Ok(d)) => {
                    let lb = p.lower_bound + d.lower_bound;
                    Ok(self.combine(Mode::Disaggregated, vec![p, d], lb, demand))
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        } else {
            Err(NoPlan::Disabled)
        };
        let aggregated = if self.config.aggregated {
            let at = self.table(Role::Aggregated, demand, slo);
            self.solve_pool(&at, demand, &caps)?.map(|p| {
                let lb = p.lower_bound;
                self.combine(Mode::Aggregated, vec![p], lb, demand)
            })
        } else {
            Err(NoPlan::Disabled)
        };
        Ok(self.report(disaggregated, aggregated))
    }

    fn report(
        &self,
        disaggregated: Result<ServePlan, NoPlan>,
        aggregated: Result<ServePlan, NoPlan>,
    ) -> ServeReport {
        let chosen = match (&disaggregated, &aggregated) {
            (Ok(d), Ok(a)) => Some(if a.objective < d.objective { a } else { d }.clone()),
            (Ok(d), Err(_)) => Some(d.clone()),
            (Err(_), Ok(a)) => Some(a.clone()),
            (Err(_), Err(_)) => None,
        };
        ServeReport {
            model: self.model.name.clone(),
            chosen,
            disaggregated,
            aggregated,
        }
    }

    /// Plans `demand` under `slo` so that the plan fits `cluster` (see the
    /// module documentation): every returned plan carries a placement that
    /// places every replica.
    pub fn plan_on(
        &self,
        demand: &[Bucket],
        slo: &Slo,
        cluster: &ClusterState,
    ) -> Result<ServeReport, ServeError> {
        self.validate_demand(demand, slo)?;
        // Per-shape caps: quota, and replicas of that shape alone the nodes hold.
        let mut device_total: BTreeMap<String, u32> = BTreeMap::new();
        let mut caps = Vec::with_capacity(self.options.len());
        for o in &self.options {
            let s = o.profile.shape();
            let mut n = 0u32;
            let mut total = 0u32;
            for node in cluster.nodes() {
                let c = node
                    .devices
                    .iter()
                    .filter(|d| d.model.as_str() == s.device)
                    .count() as u32;
                total += c;
                n += c / s.gpus();
            }
            device_total.insert(s.device.clone(), total);
            caps.push(Some(o.max_replicas.map_or(n, |m| m.min(n))));
        }
        let disaggregated = if self.config.disaggregated {
            let pt = self.table(Role::Prefill, demand, slo);
            let dt = self.table(Role::Decode, demand, slo);
            self.disaggregated_on(&pt, &dt, demand, &caps, &device_total, cluster)?
        } else {
            Err(NoPlan::Disabled)
        };
        let aggregated = if self.config.aggregated {
            let at = self.table(Role::Aggregated, demand, slo);
            match self.solve_pool(&at, demand, &caps)? {
                Err(e) => Err(e),
                Ok(p) => {
                    let lb = p.lower_bound;
                    let mut plan = self.combine(Mode::Aggregated, vec![p], lb, demand);
                    let placement = self.place(&plan, cluster)?;
                    if placement.fits() {
                        plan.placement = Some(placement);
                        Ok(plan)
                    } else {
                        Err(NoPlan::DoesNotFit {
                            placement,
                            tried: 1,
                        })
                    }
                }
            }
        } else {
            Err(NoPlan::Disabled)
        };
        Ok(self.report(disaggregated, aggregated))
    }

    fn disaggregated_on(
        &self,
        pt: &RoleTable,
        dt: &RoleTable,
        demand: &[Bucket],
        caps: &[Option<u32>],
        device_total: &BTreeMap<String, u32>,
        cluster: &ClusterState,
    ) -> Result<Result<ServePlan, NoPlan>, ServeError> {
        if let Some(e) = self
            .no_shape(pt, demand)
            .or_else(|| self.no_shape(dt, demand))
        {
            return Ok(Err(e));
        }
        // Enumerate prefill device budgets per type (decode gets the rest).
        let types: Vec<(&String, u32)> = device_total.iter().map(|(k, v)| (k, *v)).collect();
        let combos: u128 = types.iter().map(|(_, v)| u128::from(*v) + 1).product();
        let step: Vec<u32> = if combos as usize <= self.config.max_splits || types.is_empty() {
            vec![1; types.len()]
        } else {
            // Coarser steps keep the count within budget; the bound then no
            // longer covers every split and optimality is not claimed.
            let per = (self.config.max_splits as f64)
                .powf(1.0 / types.len() as f64)
                .max(2.0);
            types
                .iter()
                .map(|(_, v)| ((f64::from(*v) / (per - 1.0)).ceil() as u32).max(1))
                .collect()
        };
        let exhaustive = step.iter().all(|s| *s == 1);
        let mut budgets: Vec<Vec<u32>> = vec![vec![]];
        for (i, (_, total)) in types.iter().enumerate() {
            let mut next = Vec::new();
            for b in &budgets {
                let mut g = 0u32;
                loop {
                    let mut v = b.clone();
                    v.push(g.min(*total));
                    next.push(v);
                    if g >= *total {
                        break;
                    }
                    g += step[i];
                }
            }
            budgets = next;
        }
        let cap_with = |budget: &BTreeMap<&String, u32>| -> Vec<Option<u32>> {
            self.options
                .iter()
                .zip(caps)
                .map(|(o, c)| {
                    let s = o.profile.shape();
                    let b = budget.get(&s.device).copied().unwrap_or(0) / s.gpus();
                    Some(c.map_or(b, |c| c.min(b)))
                })
                .collect()
        };
        let mut memo: BTreeMap<PoolKey, Result<Pool, NoPlan>> = BTreeMap::new();
        let mut candidates: Vec<(u64, Pool, Pool)> = Vec::new();
        let mut bound = u64::MAX;
        let mut all_optimal = true;
        let mut last_err = None;
        for b in &budgets {
            let pb: BTreeMap<&String, u32> =
                types.iter().zip(b).map(|((k, _), v)| (*k, *v)).collect();
            let db: BTreeMap<&String, u32> =
                types.iter().zip(b).map(|((k, t), v)| (*k, t - v)).collect();
            let pc = cap_with(&pb);
            let dc = cap_with(&db);
            let mut get = |role: Role,
                           c: Vec<Option<u32>>,
                           t: &RoleTable|
             -> Result<Result<Pool, NoPlan>, ServeError> {
                let key = (role, c);
                if let Some(r) = memo.get(&key) {
                    return Ok(r.clone());
                }
                let r = self.solve_pool(t, demand, &key.1)?;
                memo.insert(key, r.clone());
                Ok(r)
            };
            let p = get(Role::Prefill, pc, pt)?;
            let d = get(Role::Decode, dc, dt)?;
            match (p, d) {
                (Ok(p), Ok(d)) => {
                    all_optimal &= p.stop == StopReason::Optimal && d.stop == StopReason::Optimal;
                    bound = bound.min(p.lower_bound + d.lower_bound);
                    candidates.push((p.objective + d.objective, p, d));
                }
                (Err(e), _) | (_, Err(e)) => {
                    // A split with no feasible pool bounds nothing below
                    // (when its search was complete).
                    last_err = Some(e);
                }
            }
        }
        if candidates.is_empty() {
            return Ok(Err(last_err.unwrap_or(NoPlan::CountLimits {
                role: Role::Prefill,
                limits: BTreeMap::new(),
            })));
        }
        candidates.sort_by_key(|a| a.0);
        candidates.dedup_by(|a, b| {
            a.0 == b.0 && a.1.entries == b.1.entries && a.2.entries == b.2.entries
        });
        let mut first_failure = None;
        let tried = candidates.len();
        for (_, p, d) in candidates {
            let mut plan = self.combine(Mode::Disaggregated, vec![p, d], bound, demand);
            if !(exhaustive && all_optimal) {
                plan.optimal = false;
            }
            let placement = self.place(&plan, cluster)?;
            if placement.fits() {
                plan.placement = Some(placement);
                return Ok(Ok(plan));
            }
            // A cheaper plan failed to place: the bound still holds, but the
            // answer is only optimal among plans the engine places.
            first_failure.get_or_insert(placement);
        }
        Ok(Err(NoPlan::DoesNotFit {
            placement: first_failure.expect("candidates were non-empty"),
            tried,
        }))
    }

    /// DistServe's per-GPU goodput on one bucket: the best requests/s per
    /// GPU over prefill × decode shape pairs, `1 / (G_p/λ_p + G_d/λ_d)` where
    /// `λ` is one replica's rate within the SLO (replicas in the P:D ratio
    /// `λ_d·G_p : λ_p·G_d`, fractional, as DistServe replicates its unit),
    /// restricted to pairs of at most `max_gpus` GPUs together; and the best
    /// aggregated shape's `λ / G`.
    pub fn goodput(
        &self,
        bucket: &Bucket,
        slo: &Slo,
        max_gpus: u32,
    ) -> Result<Goodput, ServeError> {
        self.validate_demand(std::slice::from_ref(bucket), slo)?;
        let mut best: Option<Goodput> = None;
        for p in &self.options {
            let Ok(lp) = self.prefill_cap(p, bucket, slo) else {
                continue;
            };
            for d in &self.options {
                let Ok(ld) = self.decode_cap(d, bucket, slo) else {
                    continue;
                };
                let (gp, gd) = (p.profile.shape().gpus(), d.profile.shape().gpus());
                if gp + gd > max_gpus {
                    continue;
                }
                let g = 1.0 / (f64::from(gp) / lp + f64::from(gd) / ld);
                if best.as_ref().is_none_or(|b| g > b.per_gpu) {
                    best = Some(Goodput {
                        per_gpu: g,
                        prefill: p.profile.shape().clone(),
                        decode: d.profile.shape().clone(),
                        prefill_rate: lp,
                        decode_rate: ld,
                        aggregated: None,
                    });
                }
            }
        }
        let mut agg: Option<(f64, ReplicaShape)> = None;
        for a in &self.options {
            if a.profile.shape().gpus() > max_gpus {
                continue;
            }
            if let Ok(l) = self.aggregated_cap(a, bucket, slo) {
                let g = l / f64::from(a.profile.shape().gpus());
                if agg.as_ref().is_none_or(|b| g > b.0) {
                    agg = Some((g, a.profile.shape().clone()));
                }
            }
        }
        let mut out = best.ok_or_else(|| ServeError::InvalidParameter {
            field: "demand".into(),
            message: "no prefill and decode shape pair meets the SLO".into(),
        })?;
        out.aggregated = agg;
        Ok(out)
    }

    /// Places every replica of `plan` on a copy of `cluster` with the
    /// placement engine (bin-packing score), largest replicas first. Every
    /// replica's devices are on one node.
    pub fn place(&self, plan: &ServePlan, cluster: &ClusterState) -> Result<Placement, ServeError> {
        let mut engine = Engine::new(cluster.clone(), EngineConfig::share(SharePolicy::BestFit))
            .map_err(|e| ServeError::Engine(e.to_string()))?;
        let mut replicas: Vec<(Role, &ReplicaShape, u32)> = Vec::new();
        for pool in &plan.pools {
            for e in &pool.entries {
                for i in 0..e.replicas {
                    replicas.push((pool.role, &e.shape, i));
                }
            }
        }
        replicas.sort_by(|a, b| b.1.gpus().cmp(&a.1.gpus()).then(a.cmp(b)));
        let mut out = Placement {
            nodes: BTreeMap::new(),
            unplaced: Vec::new(),
        };
        let pod = &self.config.pod;
        for (role, shape, i) in replicas {
            let id = format!(
                "{}-{}-tp{}pp{}-{i}",
                role.as_str(),
                shape.device.to_ascii_lowercase(),
                shape.tp,
                shape.pp
            );
            let pod_id = PodId::new(id.clone()).map_err(|e| ServeError::Engine(e.to_string()))?;
            let model = AcceleratorModelId::new(shape.device.clone())
                .map_err(|e| ServeError::Engine(e.to_string()))?;
            let req = PodRequest {
                resources: Resources {
                    pods: 1,
                    ..Resources::cpu_mem(pod.cpu_milli, pod.memory_bytes)
                },
                accelerator: AcceleratorDemand::Whole {
                    count: u16::try_from(shape.gpus()).unwrap_or(u16::MAX),
                },
                allowed_models: vec![model],
            };
            let mut spec = PodSpec::new(&req);
            spec.tolerations = &pod.tolerations;
            match engine
                .place(pod_id, &spec)
                .map_err(|e| ServeError::Engine(e.to_string()))?
            {
                Decision::Placed(p) => {
                    out.nodes.insert(id, p.node_id.as_str().to_string());
                }
                Decision::Unschedulable(u) => out.unplaced.push(Unplaced {
                    role,
                    shape: shape.clone(),
                    index: i,
                    reasons: u.summary.clone(),
                }),
                _ => out.unplaced.push(Unplaced {
                    role,
                    shape: shape.clone(),
                    index: i,
                    reasons: BTreeMap::new(),
                }),
            }
        }
        Ok(out)
    }
}
