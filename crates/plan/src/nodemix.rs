//! Node-mix planning: accelerator replicas plus their co-located pods to
//! instance-type counts, with the batch packer.
//!
//! The fleet planner ([`crate::fleet`]) answers "how many L4 and H100
//! replicas"; this module answers "on which cloud instances, how many of
//! each, on-demand or spot, at what hourly and monthly cost and power".
//!
//! # Model
//!
//! * A [`ReplicaGroup`] is `count` identical replicas. Each replica needs
//!   `devices` accelerators of one model **on one node** (or none, for
//!   CPU-only pods) plus the CPU and memory of every pod that runs next to it
//!   (server, sidecars, tokenizer...). One replica is one packing item.
//! * An [`InstanceCandidate`] is an instance type ([`NodeType`], e.g. from
//!   the built-in catalog) with optional availability limits.
//! * Every candidate is offered at its on-demand price and, when it has a
//!   spot price, at its spot price: two heterogeneous bin types of the
//!   packer ([`rightsizer_pack::pack`]) with the same capacity.
//! * Bin dimensions: CPU (millicores), memory (MiB; replica needs rounded
//!   up, node capacities rounded down) and one dimension per accelerator
//!   model in use (device count). A replica may only use instance types that
//!   carry at least `devices` devices of its model; its device dimension
//!   enforces that several replicas never share more devices than the node
//!   has. A node's allocatable CPU and memory are its capacity minus the
//!   per-node [`NodeMixConfig::overhead_cpu`] / [`NodeMixConfig::overhead_memory`]
//!   (kubelet, system daemons).
//!
//! # Spot policy
//!
//! [`SpotPolicy`] is set globally ([`NodeMixConfigBuilder::spot`]) and may be
//! overridden per group ([`ReplicaShape::spot`]):
//!
//! * `never` (the default): the group's replicas run on on-demand nodes only
//!   (use it for latency-critical serving);
//! * `allowed`: any replica may run on a spot node;
//! * `max_fraction: f`: at most `⌊f · count⌋` of the group's replicas may run
//!   on spot nodes, the rest are pinned to on-demand nodes, so losing every
//!   spot node leaves at least `count − ⌊f · count⌋` replicas serving.
//!
//! Spot nodes may host any spot-eligible replicas, on-demand nodes any
//! replica. The result marks every node line with its [`PricingClass`] and
//! reports per group how many replicas landed on spot.
//!
//! # Limits
//!
//! [`InstanceCandidate::max_count`] caps the number of nodes of the type in
//! both pricing classes together (availability, quota);
//! [`InstanceCandidate::max_spot`] additionally caps its spot nodes. The
//! packer limits each bin type separately, so the planner first gives both
//! classes the full limit; when a solution exceeds a joint limit it fixes the
//! split of that type (spot keeps what it used and on-demand gets the rest,
//! or the other way round; the cheaper packing wins) and packs again, one
//! type at a time. A result obtained after such a split is only claimed
//! optimal if it meets the lower bound ([`NodeMix::limits_split`]).
//!
//! # Bounds
//!
//! [`NodeMix::lower_bound`] is the larger of the packer's bound on the first
//! run (per-class limits, a relaxation of the joint ones) and a per-replica
//! share bound: for a weight vector `w ≥ 0` over the dimensions, every
//! replica costs at least `min price_t · (size·w) / (capacity_t·w)` over the
//! offers it may use (each dimension alone, and all device dimensions
//! together). Neither bound sees count limits, so limits that force
//! expensive types show up as a gap.
//!
//! # Cost and energy
//!
//! Cost is `Σ nodes × (on-demand or spot) price`, exact in micro-dollars per
//! hour; the monthly figure uses [`HOURS_PER_MONTH`] = 730 hours. Power per
//! node (a provisioning estimate, stated in [`ENERGY_MODEL`]): each device
//! held by a replica draws its model's busy (maximum board) power, each
//! unassigned device its idle power, and the host draws
//! `idle + (max − idle) × CPU utilisation` from the instance type's host power
//! figures (0 when unknown, as for the built-in cloud types; such types are
//! listed in [`NodeMix::host_power_unknown`]). Energy per month is that power
//! over 730 hours.
//!
//! "Does not fit" is a result: replicas that no instance type can take (no
//! type offers the devices, too large, limits) are listed in
//! [`NodeMix::unplaced`] with an [`UnplacedReason`].

use crate::error::PlanError;
use crate::fleet::FleetPlan;
use rightsizer_catalog::Catalog;
use rightsizer_model::ids::AcceleratorModelId;
use rightsizer_model::node::NodeType;
use rightsizer_model::units::{Bytes, MilliCpu, Money, PricePerHour, Watts};
use rightsizer_pack::{
    pack, BinType, Budget, Cost, Instance, Item, PackOptions, PackResult, Termination,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Hours in the month used for monthly cost and energy (365 × 24 / 12).
pub const HOURS_PER_MONTH: u64 = 730;

/// How power and energy are estimated (also printed by the CLI).
pub const ENERGY_MODEL: &str =
    "per node: devices held by a replica at the model's busy (max board) \
power, unassigned devices at idle power, host at idle + (max - idle) x CPU utilisation \
(host power 0 when unknown); energy = power x 730 h per month";

/// Default iteration budget of each packer run. On a 130-replica fleet over
/// the 25 AWS types the constructive portfolio already gives the final
/// packing; 20 000 iterations take about 0.1 s there, 200 000 about 1.8 s.
pub const DEFAULT_ITERATIONS: u64 = 20_000;

/// Most replicas (packing items) one problem may hold.
pub const MAX_REPLICAS: u64 = 1_000_000;

const MIB: u64 = 1 << 20;

/// Whether replicas may run on spot (preemptible) nodes.
///
/// Written `never`, `allowed` or `{max_fraction: 0.5}` in YAML and JSON.
///
/// ```
/// use rightsizer_plan::nodemix::SpotPolicy;
/// let p: SpotPolicy = serde_json::from_str(r#"{"max_fraction": 0.5}"#)?;
/// assert_eq!(p, SpotPolicy::MaxFraction(0.5));
/// assert_eq!(p.spot_eligible(5), 2);
/// assert_eq!(serde_json::to_string(&SpotPolicy::Never)?, r#""never""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "SpotRepr", into = "SpotRepr")]
pub enum SpotPolicy {
    /// On-demand nodes only.
    #[default]
    Never,
    /// Spot nodes wherever they are cheaper.
    Allowed,
    /// At most `⌊f · count⌋` replicas of a group on spot nodes (`0 ≤ f ≤ 1`).
    MaxFraction(f64),
}

/// The written form of [`SpotPolicy`] (a word or a one-key map, which
/// serde_yaml's enum tags would not accept).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum SpotRepr {
    Word(String),
    Fraction { max_fraction: f64 },
}

impl TryFrom<SpotRepr> for SpotPolicy {
    type Error = String;
    fn try_from(r: SpotRepr) -> Result<Self, String> {
        match r {
            SpotRepr::Word(w) => match w.as_str() {
                "never" => Ok(SpotPolicy::Never),
                "allowed" => Ok(SpotPolicy::Allowed),
                _ => Err(format!(
                    "unknown spot policy `{w}`: expected never, allowed or {{max_fraction: f}}"
                )),
            },
            SpotRepr::Fraction { max_fraction } => Ok(SpotPolicy::MaxFraction(max_fraction)),
        }
    }
}

impl From<SpotPolicy> for SpotRepr {
    fn from(p: SpotPolicy) -> Self {
        match p {
            SpotPolicy::Never => SpotRepr::Word("never".into()),
            SpotPolicy::Allowed => SpotRepr::Word("allowed".into()),
            SpotPolicy::MaxFraction(f) => SpotRepr::Fraction { max_fraction: f },
        }
    }
}

impl SpotPolicy {
    /// How many of `count` replicas may run on spot.
    pub fn spot_eligible(self, count: u32) -> u32 {
        match self {
            SpotPolicy::Never => 0,
            SpotPolicy::Allowed => count,
            // The epsilon keeps 0.3 × 10 at 3 despite 0.3 not being exact.
            SpotPolicy::MaxFraction(f) => {
                ((f * f64::from(count) + 1e-9).floor().max(0.0) as u32).min(count)
            }
        }
    }

    fn validate(self, field: &str) -> Result<(), PlanError> {
        match self {
            SpotPolicy::MaxFraction(f) if !(f.is_finite() && (0.0..=1.0).contains(&f)) => {
                Err(PlanError::InvalidParameter {
                    field: field.to_string(),
                    message: format!("max_fraction must be within [0, 1], got {f}"),
                })
            }
            _ => Ok(()),
        }
    }
}

/// On-demand or spot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricingClass {
    /// On-demand price.
    OnDemand,
    /// Spot / preemptible price.
    Spot,
}

impl fmt::Display for PricingClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PricingClass::OnDemand => "on-demand",
            PricingClass::Spot => "spot",
        })
    }
}

/// What one replica needs on its node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicaShape {
    /// Accelerator model (catalog id, e.g. `L4`); `None` for CPU-only pods.
    pub accelerator: Option<AcceleratorModelId>,
    /// Devices of that model needed on one node (ignored without a model).
    pub devices: u16,
    /// CPU of all pods co-located with the replica.
    pub cpu: MilliCpu,
    /// Memory of all pods co-located with the replica.
    pub memory: Bytes,
    /// Spot policy of this group; `None` uses [`NodeMixConfig::spot`].
    pub spot: Option<SpotPolicy>,
}

impl ReplicaShape {
    /// A replica needing `devices` × `accelerator` plus `cpu` and `memory`.
    pub fn accelerated(
        accelerator: AcceleratorModelId,
        devices: u16,
        cpu: MilliCpu,
        memory: Bytes,
    ) -> Self {
        ReplicaShape {
            accelerator: Some(accelerator),
            devices,
            cpu,
            memory,
            spot: None,
        }
    }
    /// A CPU-only pod (group member) of the given size.
    pub fn cpu_only(cpu: MilliCpu, memory: Bytes) -> Self {
        ReplicaShape {
            accelerator: None,
            devices: 0,
            cpu,
            memory,
            spot: None,
        }
    }
    /// Sets the group's spot policy.
    pub fn with_spot(mut self, spot: SpotPolicy) -> Self {
        self.spot = Some(spot);
        self
    }
    /// Device count actually required (0 without an accelerator).
    fn need_devices(&self) -> u64 {
        if self.accelerator.is_some() {
            u64::from(self.devices)
        } else {
            0
        }
    }
    fn describe(&self) -> String {
        let mut s = String::new();
        if let Some(a) = &self.accelerator {
            s += &format!("{} × {a} + ", self.devices);
        }
        s += &format!(
            "{} CPU + {} GiB",
            self.cpu.as_cores(),
            (self.memory.as_gib() * 1000.0).round() / 1000.0
        );
        s
    }
}

/// `count` identical replicas (or pods) of one shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicaGroup {
    /// Unique name (e.g. the fleet option name, or a CPU workload name).
    pub name: String,
    /// Number of replicas.
    pub count: u32,
    /// What each replica needs.
    pub shape: ReplicaShape,
}

impl ReplicaGroup {
    /// A group of `count` replicas of `shape`.
    pub fn new(name: impl Into<String>, count: u32, shape: ReplicaShape) -> Self {
        ReplicaGroup {
            name: name.into(),
            count,
            shape,
        }
    }
}

/// One group per fleet option with a positive count, using `shapes[option]`.
/// Each unit the fleet planner counts is one replica.
///
/// Options without a shape are an error naming `field.<option>`.
pub fn groups_from_fleet(
    plan: &FleetPlan,
    shapes: &BTreeMap<String, ReplicaShape>,
    field: &str,
) -> Result<Vec<ReplicaGroup>, PlanError> {
    let mut out = Vec::new();
    for (name, &count) in &plan.counts {
        if count == 0 {
            continue;
        }
        let shape = shapes.get(name).ok_or_else(|| PlanError::MissingField {
            field: format!("{field}.{name}"),
        })?;
        out.push(ReplicaGroup::new(name.clone(), count, shape.clone()));
    }
    Ok(out)
}

/// An instance type the planner may open, with availability limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceCandidate {
    /// The instance type (capacity, devices, prices, host power).
    pub node_type: NodeType,
    /// At most this many nodes of the type, on-demand and spot together.
    pub max_count: Option<u32>,
    /// At most this many spot nodes of the type (`Some(0)` disables spot).
    pub max_spot: Option<u32>,
}

impl InstanceCandidate {
    /// An unlimited candidate.
    pub fn new(node_type: NodeType) -> Self {
        InstanceCandidate {
            node_type,
            max_count: None,
            max_spot: None,
        }
    }
    /// Caps the nodes of this type (both pricing classes together).
    pub fn with_max_count(mut self, n: u32) -> Self {
        self.max_count = Some(n);
        self
    }
    /// Caps the spot nodes of this type.
    pub fn with_max_spot(mut self, n: u32) -> Self {
        self.max_spot = Some(n);
        self
    }
    fn devices_of(&self, model: &str) -> u64 {
        self.node_type
            .devices
            .iter()
            .filter(|d| d.model.as_str() == model)
            .map(|d| u64::from(d.count))
            .sum()
    }
    fn spot_cap(&self) -> Option<u32> {
        match (self.max_count, self.max_spot) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Idle and busy power of one accelerator model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePower {
    /// Power of an unassigned device.
    pub idle: Watts,
    /// Power of a device held by a replica.
    pub busy: Watts,
}

/// Options of [`NodeMixProblem::solve`]; build with [`NodeMixConfig::builder`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeMixConfig {
    spot: SpotPolicy,
    overhead_cpu: MilliCpu,
    overhead_memory: Bytes,
    cpu_pods_on_accelerator_nodes: bool,
    budget: Budget,
    seed: u64,
}

impl Default for NodeMixConfig {
    fn default() -> Self {
        NodeMixConfigBuilder::new()
            .build()
            .expect("defaults are valid")
    }
}

impl NodeMixConfig {
    /// A builder with the documented defaults.
    pub fn builder() -> NodeMixConfigBuilder {
        NodeMixConfigBuilder::new()
    }
    /// Default spot policy of groups without their own (default `never`).
    pub fn spot(&self) -> SpotPolicy {
        self.spot
    }
    /// CPU reserved on every node (default 0).
    pub fn overhead_cpu(&self) -> MilliCpu {
        self.overhead_cpu
    }
    /// Memory reserved on every node (default 0).
    pub fn overhead_memory(&self) -> Bytes {
        self.overhead_memory
    }
    /// Whether CPU-only pods may use accelerator nodes (default `true`; set
    /// `false` when accelerator nodes are tainted).
    pub fn cpu_pods_on_accelerator_nodes(&self) -> bool {
        self.cpu_pods_on_accelerator_nodes
    }
    /// Budget of each packer run (default [`DEFAULT_ITERATIONS`] iterations,
    /// deterministic).
    pub fn budget(&self) -> Budget {
        self.budget
    }
    /// Seed of the packer's local search (default 0).
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// Non-consuming builder of [`NodeMixConfig`].
#[derive(Clone, Debug)]
pub struct NodeMixConfigBuilder {
    cfg: NodeMixConfig,
}

impl Default for NodeMixConfigBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl NodeMixConfigBuilder {
    /// The defaults: spot `never`, no overhead, CPU pods allowed on
    /// accelerator nodes, [`DEFAULT_ITERATIONS`] packer iterations, seed 0.
    pub fn new() -> Self {
        NodeMixConfigBuilder {
            cfg: NodeMixConfig {
                spot: SpotPolicy::Never,
                overhead_cpu: MilliCpu::ZERO,
                overhead_memory: Bytes::ZERO,
                cpu_pods_on_accelerator_nodes: true,
                budget: Budget::iterations(DEFAULT_ITERATIONS),
                seed: 0,
            },
        }
    }
    /// Default spot policy.
    pub fn spot(&mut self, p: SpotPolicy) -> &mut Self {
        self.cfg.spot = p;
        self
    }
    /// CPU and memory reserved on every node.
    pub fn overhead(&mut self, cpu: MilliCpu, memory: Bytes) -> &mut Self {
        self.cfg.overhead_cpu = cpu;
        self.cfg.overhead_memory = memory;
        self
    }
    /// Whether CPU-only pods may use accelerator nodes.
    pub fn cpu_pods_on_accelerator_nodes(&mut self, yes: bool) -> &mut Self {
        self.cfg.cpu_pods_on_accelerator_nodes = yes;
        self
    }
    /// Budget passed to every packer run.
    pub fn budget(&mut self, b: Budget) -> &mut Self {
        self.cfg.budget = b;
        self
    }
    /// Seed of the packer.
    pub fn seed(&mut self, s: u64) -> &mut Self {
        self.cfg.seed = s;
        self
    }
    /// Validates and returns the configuration.
    pub fn build(&self) -> Result<NodeMixConfig, PlanError> {
        self.cfg.spot.validate("spot")?;
        Ok(self.cfg.clone())
    }
}

/// Instance types, replica groups and device power: the node-mix problem.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeMixProblem {
    candidates: Vec<InstanceCandidate>,
    groups: Vec<ReplicaGroup>,
    power: BTreeMap<String, DevicePower>,
}

/// Why replicas could not be placed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnplacedReason {
    /// No candidate carries that many devices of the model on one node.
    NoInstanceType {
        /// Accelerator model.
        accelerator: String,
        /// Devices needed on one node.
        devices: u16,
    },
    /// Types with the devices exist, but none has the CPU/memory allocatable.
    TooLarge {
        /// What one replica needs, in words.
        need: String,
    },
    /// Every type that fits has a limit of 0 for the pricing classes the
    /// replica may use.
    NotWithinLimits {
        /// What one replica needs, in words.
        need: String,
        /// The replica is pinned to on-demand by its spot policy.
        on_demand_only: bool,
    },
    /// Every type that fits is used up to its limit.
    LimitsReached {
        /// `type (limit)` of the fitting types.
        types: Vec<String>,
    },
    /// The packer found no room within its budget though some fitting type
    /// is below its limit.
    NotPacked,
}

impl fmt::Display for UnplacedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnplacedReason::NoInstanceType {
                accelerator,
                devices,
            } => write!(f, "no instance type offers {devices} × {accelerator}"),
            UnplacedReason::TooLarge { need } => {
                write!(f, "no instance type has room for {need} on one node")
            }
            UnplacedReason::NotWithinLimits {
                need,
                on_demand_only,
            } => {
                write!(f, "no instance type offers {need} within the limits")?;
                if *on_demand_only {
                    f.write_str(" (on-demand only by its spot policy)")?;
                }
                Ok(())
            }
            UnplacedReason::LimitsReached { types } => {
                write!(
                    f,
                    "every fitting type is at its limit: {}",
                    types.join(", ")
                )
            }
            UnplacedReason::NotPacked => f.write_str("the packer found no room within its budget"),
        }
    }
}

/// Replicas of one group that were not placed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unplaced {
    /// Group name.
    pub group: String,
    /// How many replicas.
    pub replicas: u32,
    /// Why.
    pub reason: UnplacedReason,
}

/// Nodes of one instance type and pricing class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeLine {
    /// Instance type id.
    pub instance_type: String,
    /// On-demand or spot.
    pub pricing: PricingClass,
    /// Number of nodes.
    pub count: u32,
    /// Price of one node.
    pub unit_price: PricePerHour,
    /// `count × unit_price`.
    pub cost: PricePerHour,
    /// Replicas per group on these nodes.
    pub replicas: BTreeMap<String, u32>,
    /// Requested CPU / allocatable CPU of these nodes.
    pub cpu_utilisation: f64,
    /// Requested memory / allocatable memory.
    pub memory_utilisation: f64,
    /// Devices held by replicas / devices on these nodes (None without devices).
    pub device_utilisation: Option<f64>,
    /// Estimated power of these nodes (see [`ENERGY_MODEL`]).
    pub power: Watts,
}

/// Per-group outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOutcome {
    /// Replicas asked for.
    pub replicas: u32,
    /// Replicas on on-demand nodes.
    pub on_demand: u32,
    /// Replicas on spot nodes.
    pub spot: u32,
    /// Replicas not placed.
    pub unplaced: u32,
    /// At most this many could go to spot under the group's policy.
    pub spot_allowed: u32,
}

/// One opened node: its type, class and the replicas on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAssignment {
    /// Instance type id.
    pub instance_type: String,
    /// Pricing class.
    pub pricing: PricingClass,
    /// Replicas per group on the node.
    pub replicas: BTreeMap<String, u32>,
}

/// The result of [`NodeMixProblem::solve`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeMix {
    /// Node counts per instance type and pricing class (sorted by type, then class).
    pub lines: Vec<NodeLine>,
    /// Every opened node, in the order of `lines`.
    pub nodes: Vec<NodeAssignment>,
    /// Total hourly price.
    pub cost_per_hour: PricePerHour,
    /// Price of 730 hours ([`HOURS_PER_MONTH`]).
    pub cost_per_month: Money,
    /// Hours per month used for monthly figures (730).
    pub hours_per_month: u64,
    /// Nodes on spot.
    pub spot_nodes: u32,
    /// Nodes on demand.
    pub on_demand_nodes: u32,
    /// Estimated power ([`ENERGY_MODEL`]).
    pub power: Watts,
    /// `power × 730 h` in kWh.
    pub energy_kwh_per_month: f64,
    /// Instance types opened whose host power is unknown (counted as 0 W).
    pub host_power_unknown: Vec<String>,
    /// Accelerator models whose power is unknown (counted as 0 W).
    pub device_power_unknown: Vec<String>,
    /// Per group: placed on-demand / spot, unplaced.
    pub groups: BTreeMap<String, GroupOutcome>,
    /// Replicas that could not be placed, with the reason.
    pub unplaced: Vec<Unplaced>,
    /// Lower bound on the hourly cost of any node mix for the placed replicas.
    pub lower_bound: PricePerHour,
    /// `(cost − lower_bound) / cost` (0 when proven optimal).
    pub gap: f64,
    /// `true` when the cost is proven minimal for the placed replicas.
    pub proven_optimal: bool,
    /// Why the (last) packer run stopped.
    pub termination: Termination,
    /// Joint `max_count` limits had to be split between on-demand and spot
    /// (the result is then not claimed optimal).
    pub limits_split: bool,
    /// Packer runs (1, or more after a limit split).
    pub pack_runs: u32,
}

impl NodeMix {
    /// Total replicas placed.
    pub fn placed(&self) -> u32 {
        self.groups.values().map(|g| g.on_demand + g.spot).sum()
    }
}

/// One packer bin type: candidate index and class.
#[derive(Clone, Copy, Debug)]
struct Offer {
    cand: usize,
    class: PricingClass,
    price: PricePerHour,
}

/// One packer item.
#[derive(Clone, Copy, Debug)]
struct Replica {
    group: usize,
    spot_ok: bool,
}

/// A lower bound on the cost of the bins holding `placed`: for a weight
/// vector `w ≥ 0`, a bin of type `t` holds at most `c_t·w` of weighted size,
/// so each item costs at least `min_t price_t · (s·w)/(c_t·w)` over its
/// allowed types. Weights: each dimension alone and all device dimensions
/// together (`dev_from` is the first device dimension). Floors keep it valid.
fn share_bound(
    placed: &[&Item],
    caps: &[Vec<u64>],
    offers: &[Offer],
    dev_from: usize,
    models: usize,
) -> u64 {
    let d = dev_from + models;
    let mut ws: Vec<Vec<u64>> = (0..d)
        .map(|k| (0..d).map(|j| u64::from(j == k)).collect())
        .collect();
    if models > 1 {
        ws.push((0..d).map(|j| u64::from(j >= dev_from)).collect());
    }
    let best = ws
        .iter()
        .map(|w| {
            let dot = |v: &[u64]| -> u128 {
                v.iter()
                    .zip(w)
                    .map(|(a, b)| u128::from(*a) * u128::from(*b))
                    .sum()
            };
            placed
                .iter()
                .map(|it| {
                    let sw = dot(&it.size);
                    if sw == 0 {
                        return 0;
                    }
                    it.allowed_types
                        .iter()
                        .flatten()
                        .filter_map(|&t| {
                            let cw = dot(&caps[t]);
                            (cw > 0).then(|| u128::from(offers[t].price.micros()) * sw / cw)
                        })
                        .min()
                        .unwrap_or(0)
                })
                .sum::<u128>()
        })
        .max()
        .unwrap_or(0);
    u64::try_from(best).unwrap_or(u64::MAX)
}

impl NodeMixProblem {
    /// Validates candidates and groups.
    ///
    /// Errors: no candidate or every limit 0 ([`PlanError::NoInstanceAvailable`]),
    /// repeated type ids or group names ([`PlanError::DuplicateEntry`]), an
    /// accelerator group needing 0 devices or a CPU-only group requesting
    /// nothing ([`PlanError::InvalidSize`]), a spot fraction outside [0, 1]
    /// or more than [`MAX_REPLICAS`] replicas ([`PlanError::InvalidParameter`]).
    pub fn new(
        candidates: Vec<InstanceCandidate>,
        groups: Vec<ReplicaGroup>,
    ) -> Result<Self, PlanError> {
        if candidates.is_empty() {
            return Err(PlanError::NoInstanceAvailable {
                field: "instance_types".into(),
                message: "the candidate list is empty".into(),
            });
        }
        if candidates.iter().all(|c| c.max_count == Some(0)) {
            return Err(PlanError::NoInstanceAvailable {
                field: "instance_types".into(),
                message: "every candidate has max_count 0".into(),
            });
        }
        let mut seen = BTreeSet::new();
        for c in &candidates {
            if !seen.insert(c.node_type.id.as_str().to_string()) {
                return Err(PlanError::DuplicateEntry {
                    field: "instance_types".into(),
                    name: c.node_type.id.to_string(),
                });
            }
        }
        let mut seen = BTreeSet::new();
        for g in &groups {
            if !seen.insert(g.name.clone()) {
                return Err(PlanError::DuplicateEntry {
                    field: "groups".into(),
                    name: g.name.clone(),
                });
            }
            if g.shape.accelerator.is_some() && g.shape.devices == 0 {
                return Err(PlanError::InvalidSize {
                    field: format!("groups.{}.devices", g.name),
                    value: "0".into(),
                    message: "a replica with an accelerator needs at least one device".into(),
                });
            }
            if g.shape.accelerator.is_none() && g.shape.cpu.is_zero() && g.shape.memory.is_zero() {
                return Err(PlanError::InvalidSize {
                    field: format!("groups.{}", g.name),
                    value: "0 CPU, 0 memory".into(),
                    message: "a CPU-only pod must request CPU or memory".into(),
                });
            }
            if let Some(p) = g.shape.spot {
                p.validate(&format!("groups.{}.spot", g.name))?;
            }
        }
        let total: u64 = groups.iter().map(|g| u64::from(g.count)).sum();
        if total > MAX_REPLICAS {
            return Err(PlanError::InvalidParameter {
                field: "groups".into(),
                message: format!("{total} replicas in all; at most {MAX_REPLICAS} are supported"),
            });
        }
        Ok(NodeMixProblem {
            candidates,
            groups,
            power: BTreeMap::new(),
        })
    }

    /// Sets the power of an accelerator model.
    pub fn with_device_power(mut self, model: impl Into<String>, power: DevicePower) -> Self {
        self.power.insert(model.into(), power);
        self
    }

    /// Takes the idle and busy (max board) power of every device model on
    /// the candidates from `catalog` (models it does not know stay unknown).
    pub fn with_catalog_power(mut self, catalog: &Catalog) -> Self {
        for c in &self.candidates {
            for d in &c.node_type.devices {
                if let Some(a) = catalog.accelerator(d.model.as_str()) {
                    self.power.insert(
                        d.model.to_string(),
                        DevicePower {
                            idle: a.idle_power,
                            busy: a.max_power,
                        },
                    );
                }
            }
        }
        self
    }

    /// The candidates.
    pub fn candidates(&self) -> &[InstanceCandidate] {
        &self.candidates
    }

    /// The groups.
    pub fn groups(&self) -> &[ReplicaGroup] {
        &self.groups
    }

    /// Allocatable (cpu millis, memory MiB) of a candidate.
    fn allocatable(&self, c: usize, cfg: &NodeMixConfig) -> (u64, u64) {
        let t = &self.candidates[c].node_type;
        (
            t.cpu.get().saturating_sub(cfg.overhead_cpu.get()),
            t.memory.get().saturating_sub(cfg.overhead_memory.get()) / MIB,
        )
    }

    /// Can one replica of group `g` ever go on candidate `c` (capacity and
    /// device model only, no limits, no pricing)?
    fn fits(&self, g: usize, c: usize, cfg: &NodeMixConfig) -> bool {
        let shape = &self.groups[g].shape;
        let cand = &self.candidates[c];
        if !self.has_devices(g, c) {
            return false;
        }
        if shape.accelerator.is_none()
            && !cfg.cpu_pods_on_accelerator_nodes
            && !cand.node_type.devices.is_empty()
        {
            return false;
        }
        let (cpu, mem) = self.allocatable(c, cfg);
        shape.cpu.get() <= cpu && shape.memory.get().div_ceil(MIB) <= mem
    }

    fn has_devices(&self, g: usize, c: usize) -> bool {
        let shape = &self.groups[g].shape;
        match &shape.accelerator {
            Some(a) => self.candidates[c].devices_of(a.as_str()) >= u64::from(shape.devices),
            None => true,
        }
    }

    /// Packs the replicas onto instance types.
    ///
    /// ```
    /// use rightsizer_catalog::Catalog;
    /// use rightsizer_model::ids::AcceleratorModelId;
    /// use rightsizer_model::units::{Bytes, MilliCpu};
    /// use rightsizer_plan::nodemix::*;
    /// let cat = Catalog::builtin();
    /// let cand = |id: &str| InstanceCandidate::new(cat.node_type(id).unwrap().clone());
    /// let l4 = AcceleratorModelId::new("L4")?;
    /// let groups = vec![
    ///     // 3 L4 replicas, each with 6 CPU and 24 GiB of co-located pods.
    ///     ReplicaGroup::new("chat", 3, ReplicaShape::accelerated(l4, 1, MilliCpu::from_cores(6), Bytes::from_gib(24))),
    ///     ReplicaGroup::new("gateway", 2, ReplicaShape::cpu_only(MilliCpu::from_cores(1), Bytes::from_gib(2))
    ///         .with_spot(SpotPolicy::Allowed)),
    /// ];
    /// let problem = NodeMixProblem::new(
    ///     vec![cand("g6.xlarge"), cand("g6.4xlarge"), cand("m7i.large")], groups)?
    ///     .with_catalog_power(&cat);
    /// let mix = problem.solve(&NodeMixConfig::default())?;
    /// // 6 CPU does not fit a 4-vCPU g6.xlarge: three g6.4xlarge on demand;
    /// // the gateway pods share them.
    /// assert_eq!(mix.lines.len(), 1);
    /// assert_eq!((mix.lines[0].instance_type.as_str(), mix.lines[0].count), ("g6.4xlarge", 3));
    /// assert_eq!(mix.cost_per_hour.micros(), 3 * 1_323_200);
    /// assert_eq!(mix.cost_per_month.micros(), 730 * 3 * 1_323_200);
    /// assert!(mix.proven_optimal && mix.unplaced.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn solve(&self, cfg: &NodeMixConfig) -> Result<NodeMix, PlanError> {
        // Device dimensions: every model some group needs.
        let models: Vec<String> = self
            .groups
            .iter()
            .filter_map(|g| g.shape.accelerator.as_ref().map(|a| a.to_string()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let spot_wanted = self
            .groups
            .iter()
            .any(|g| g.shape.spot.unwrap_or(cfg.spot) != SpotPolicy::Never);

        // Offers (packer bin types): on-demand, then spot where priced.
        let mut offers = Vec::new();
        for (c, cand) in self.candidates.iter().enumerate() {
            if cand.max_count != Some(0) {
                offers.push(Offer {
                    cand: c,
                    class: PricingClass::OnDemand,
                    price: cand.node_type.price,
                });
            }
            if let (true, Some(sp)) = (spot_wanted, cand.node_type.spot_price) {
                if cand.spot_cap() != Some(0) {
                    offers.push(Offer {
                        cand: c,
                        class: PricingClass::Spot,
                        price: sp,
                    });
                }
            }
        }

        // Items: one per replica; the first ⌊f·n⌋ of a group are spot-eligible.
        let mut replicas = Vec::new();
        let mut spot_allowed = vec![0u32; self.groups.len()];
        for (g, grp) in self.groups.iter().enumerate() {
            let k = grp.shape.spot.unwrap_or(cfg.spot).spot_eligible(grp.count);
            spot_allowed[g] = k;
            for r in 0..grp.count {
                replicas.push(Replica {
                    group: g,
                    spot_ok: r < k,
                });
            }
        }
        let allowed_for = |rep: &Replica| -> Vec<usize> {
            offers
                .iter()
                .enumerate()
                .filter(|(_, o)| {
                    (o.class == PricingClass::OnDemand || rep.spot_ok)
                        && self.fits(rep.group, o.cand, cfg)
                })
                .map(|(i, _)| i)
                .collect()
        };
        let allowed: Vec<Vec<usize>> = replicas.iter().map(allowed_for).collect();
        // Items with no possible offer never reach the packer.
        let packed_idx: Vec<usize> = (0..replicas.len())
            .filter(|&i| !allowed[i].is_empty())
            .collect();

        let size_of = |g: usize| -> Vec<u64> {
            let s = &self.groups[g].shape;
            let mut v = vec![s.cpu.get(), s.memory.get().div_ceil(MIB)];
            for m in &models {
                v.push(
                    if s.accelerator.as_ref().map(|a| a.as_str()) == Some(m.as_str()) {
                        u64::from(s.devices)
                    } else {
                        0
                    },
                );
            }
            v
        };
        let items: Vec<Item> = packed_idx
            .iter()
            .map(|&i| Item {
                size: size_of(replicas[i].group),
                allowed_types: Some(allowed[i].clone()),
            })
            .collect();
        let capacity_of = |c: usize| -> Vec<u64> {
            let (cpu, mem) = self.allocatable(c, cfg);
            let mut v = vec![cpu, mem];
            for m in &models {
                v.push(self.candidates[c].devices_of(m));
            }
            v
        };

        // Limits per offer; joint limits may be split in later rounds.
        let mut limit: Vec<Option<u32>> = offers
            .iter()
            .map(|o| {
                let c = &self.candidates[o.cand];
                match o.class {
                    PricingClass::OnDemand => c.max_count,
                    PricingClass::Spot => c.spot_cap(),
                }
            })
            .collect();
        let opts = PackOptions {
            budget: cfg.budget,
            seed: cfg.seed,
            ..PackOptions::default()
        };
        let mut runs = 0u32;
        let mut run = |limit: &[Option<u32>]| -> Result<Option<PackResult>, PlanError> {
            if items.is_empty() || offers.is_empty() {
                return Ok(None);
            }
            runs += 1;
            let inst = Instance {
                items: items.clone(),
                bin_types: offers
                    .iter()
                    .zip(limit)
                    .map(|(o, l)| BinType {
                        name: Some(format!(
                            "{}/{}",
                            self.candidates[o.cand].node_type.id, o.class
                        )),
                        capacity: capacity_of(o.cand),
                        cost: Cost::from_price(o.price),
                        max_count: l.map(u64::from),
                    })
                    .collect(),
                open_bins: Vec::new(),
            };
            pack(&inst, &opts)
                .map(Some)
                .map_err(|source| PlanError::Packer { source })
        };
        // Nodes per candidate and class.
        let usage = |r: &Option<PackResult>| -> Vec<[u32; 2]> {
            let mut used = vec![[0u32; 2]; self.candidates.len()];
            if let Some(r) = r {
                for b in &r.bins {
                    let o = offers[b.bin_type];
                    used[o.cand][o.class as usize] += 1;
                }
            }
            used
        };
        let key = |r: &Option<PackResult>| {
            r.as_ref()
                .map_or((0, 0), |r| (r.unplaced.len(), r.objective.0))
        };
        let mut split = false;
        let mut result = run(&limit)?;
        // The first run relaxes every joint limit to per-class limits: its
        // bound is valid for the joint problem too.
        let first = result.as_ref().map(|r| (r.lower_bound.0, r.unplaced.len()));
        // Joint limits: while some type has more nodes than `max_count` over
        // both classes, fix its split (spot keeps what it used, or on-demand
        // does; the cheaper packing wins) and pack again. A fixed type cannot
        // be violated again, so this ends within one round per type.
        loop {
            let used = usage(&result);
            let violated = self.candidates.iter().enumerate().find_map(|(c, cand)| {
                let m = cand.max_count?;
                (used[c][0] + used[c][1] > m).then_some((c, m))
            });
            let Some((c, m)) = violated else { break };
            split = true;
            let [od, sp] = used[c];
            let mut best: Option<(Vec<Option<u32>>, Option<PackResult>)> = None;
            for (keep_od, keep_sp) in [(m - sp.min(m), sp.min(m)), (od.min(m), m - od.min(m))] {
                let mut l = limit.clone();
                for (i, o) in offers.iter().enumerate() {
                    if o.cand == c {
                        l[i] = Some(match o.class {
                            PricingClass::OnDemand => keep_od,
                            PricingClass::Spot => keep_sp,
                        });
                    }
                }
                if best.as_ref().is_some_and(|(bl, _)| *bl == l) {
                    continue;
                }
                let r = run(&l)?;
                if best.as_ref().is_none_or(|(_, br)| key(&r) < key(br)) {
                    best = Some((l, r));
                }
            }
            let (l, r) = best.expect("two splits tried");
            limit = l;
            result = r;
        }
        // Assemble.
        let mut per_node: Vec<(usize, NodeAssignment, [u64; 2], u64)> = Vec::new();
        let mut placed = vec![false; replicas.len()];
        let mut groups: BTreeMap<String, GroupOutcome> = BTreeMap::new();
        for (g, grp) in self.groups.iter().enumerate() {
            groups.insert(
                grp.name.clone(),
                GroupOutcome {
                    replicas: grp.count,
                    spot_allowed: spot_allowed[g],
                    ..GroupOutcome::default()
                },
            );
        }
        let mut used = vec![[0u32; 2]; self.candidates.len()];
        if let Some(r) = &result {
            for b in &r.bins {
                let o = offers[b.bin_type];
                used[o.cand][o.class as usize] += 1;
                let mut reps = BTreeMap::new();
                let mut devs_used = 0u64;
                for &it in &b.items {
                    let ri = packed_idx[it];
                    placed[ri] = true;
                    let g = replicas[ri].group;
                    let name = &self.groups[g].name;
                    *reps.entry(name.clone()).or_insert(0u32) += 1;
                    let go = groups.get_mut(name).expect("group exists");
                    match o.class {
                        PricingClass::OnDemand => go.on_demand += 1,
                        PricingClass::Spot => go.spot += 1,
                    }
                    devs_used += self.groups[g].shape.need_devices();
                }
                per_node.push((
                    b.bin_type,
                    NodeAssignment {
                        instance_type: self.candidates[o.cand].node_type.id.to_string(),
                        pricing: o.class,
                        replicas: reps,
                    },
                    [b.load[0], b.load[1]],
                    devs_used,
                ));
            }
        }
        // Power per node and aggregation per (type, class).
        let mut device_power_unknown = BTreeSet::new();
        let mut host_power_unknown = BTreeSet::new();
        #[derive(Default)]
        struct Acc {
            count: u32,
            replicas: BTreeMap<String, u32>,
            cpu_used: u64,
            mem_used: u64,
            cpu_cap: u64,
            mem_cap: u64,
            dev_used: u64,
            dev_cap: u64,
            power: f64,
            price: PricePerHour,
        }
        let mut acc: BTreeMap<(String, PricingClass), Acc> = BTreeMap::new();
        for (bt, na, load, devs_used) in &per_node {
            let o = offers[*bt];
            let t = &self.candidates[o.cand].node_type;
            let (cpu_cap, mem_cap) = self.allocatable(o.cand, cfg);
            let dev_cap = u64::from(t.device_count());
            // Busy devices per model on this node.
            let mut busy: BTreeMap<&str, u64> = BTreeMap::new();
            for (g, n) in &na.replicas {
                let grp = self.groups.iter().find(|x| &x.name == g).expect("group");
                if let Some(a) = &grp.shape.accelerator {
                    *busy.entry(a.as_str()).or_insert(0) +=
                        u64::from(*n) * u64::from(grp.shape.devices);
                }
            }
            let mut w = 0.0f64;
            for d in &t.devices {
                let total = u64::from(d.count);
                let b = busy.get(d.model.as_str()).copied().unwrap_or(0).min(total);
                match self.power.get(d.model.as_str()) {
                    Some(p) => {
                        w += b as f64 * f64::from(p.busy.get())
                            + (total - b) as f64 * f64::from(p.idle.get());
                    }
                    None => {
                        device_power_unknown.insert(d.model.to_string());
                    }
                }
            }
            if t.max_power.is_zero() && t.idle_power.is_zero() {
                host_power_unknown.insert(t.id.to_string());
            }
            let cpu_util = if cpu_cap > 0 {
                load[0] as f64 / cpu_cap as f64
            } else {
                0.0
            };
            let idle = f64::from(t.idle_power.get());
            let max = f64::from(t.max_power.get()).max(idle);
            w += idle + (max - idle) * cpu_util;

            let a = acc.entry((na.instance_type.clone(), o.class)).or_default();
            a.count += 1;
            for (g, n) in &na.replicas {
                *a.replicas.entry(g.clone()).or_insert(0) += n;
            }
            a.cpu_used += load[0];
            a.mem_used += load[1];
            a.cpu_cap += cpu_cap;
            a.mem_cap += mem_cap;
            a.dev_used += devs_used;
            a.dev_cap += dev_cap;
            a.power += w;
            a.price = o.price;
        }
        let ratio = |u: u64, c: u64| if c > 0 { u as f64 / c as f64 } else { 0.0 };
        let mut lines = Vec::new();
        let mut cost = 0u64;
        let mut power = 0.0f64;
        let (mut spot_nodes, mut od_nodes) = (0u32, 0u32);
        for ((ty, class), a) in &acc {
            let line_cost = a.price.micros() * u64::from(a.count);
            cost += line_cost;
            power += a.power;
            match class {
                PricingClass::OnDemand => od_nodes += a.count,
                PricingClass::Spot => spot_nodes += a.count,
            }
            lines.push(NodeLine {
                instance_type: ty.clone(),
                pricing: *class,
                count: a.count,
                unit_price: a.price,
                cost: PricePerHour::from_micros(line_cost),
                replicas: a.replicas.clone(),
                cpu_utilisation: ratio(a.cpu_used, a.cpu_cap),
                memory_utilisation: ratio(a.mem_used, a.mem_cap),
                device_utilisation: (a.dev_cap > 0).then(|| ratio(a.dev_used, a.dev_cap)),
                power: Watts::new(a.power.round() as u32),
            });
        }
        let mut nodes: Vec<NodeAssignment> = per_node.into_iter().map(|x| x.1).collect();
        nodes.sort_by(|a, b| {
            (&a.instance_type, a.pricing, &a.replicas).cmp(&(
                &b.instance_type,
                b.pricing,
                &b.replicas,
            ))
        });

        // Unplaced replicas and why.
        let mut unplaced_by: BTreeMap<(usize, UnplacedReason), u32> = BTreeMap::new();
        for (i, rep) in replicas.iter().enumerate() {
            if placed[i] {
                continue;
            }
            let reason = self.classify(rep, &offers, &limit, &used, cfg);
            *unplaced_by.entry((rep.group, reason)).or_insert(0) += 1;
            let name = &self.groups[rep.group].name;
            groups.get_mut(name).expect("group").unplaced += 1;
        }
        let unplaced = unplaced_by
            .into_iter()
            .map(|((g, reason), n)| Unplaced {
                group: self.groups[g].name.clone(),
                replicas: n,
                reason,
            })
            .collect();

        let (termination, proven) = match &result {
            Some(r) => (r.termination, r.proven_optimal),
            None => (Termination::Optimal, true),
        };
        // Valid bounds: the first run's (a relaxation of the joint limits)
        // when the same replicas are placed, and the per-replica share bound.
        let relaxed = match (first, &result) {
            (Some((lb, n)), Some(r)) if n == r.unplaced.len() => lb,
            _ => 0,
        };
        let share = result.as_ref().map_or(0, |r| {
            let caps: Vec<Vec<u64>> = offers.iter().map(|o| capacity_of(o.cand)).collect();
            let placed: Vec<&Item> = r
                .bins
                .iter()
                .flat_map(|b| b.items.iter().map(|&i| &items[i]))
                .collect();
            share_bound(&placed, &caps, &offers, 2, models.len())
        });
        let lb = relaxed.max(share).min(cost);
        let proven = (proven && !split) || lb == cost;
        let lb = if proven { cost } else { lb };
        Ok(NodeMix {
            lines,
            nodes,
            cost_per_hour: PricePerHour::from_micros(cost),
            cost_per_month: PricePerHour::from_micros(cost).cost_for_hours(HOURS_PER_MONTH),
            hours_per_month: HOURS_PER_MONTH,
            spot_nodes,
            on_demand_nodes: od_nodes,
            power: Watts::new(power.round() as u32),
            energy_kwh_per_month: power * HOURS_PER_MONTH as f64 / 1000.0,
            host_power_unknown: host_power_unknown.into_iter().collect(),
            device_power_unknown: device_power_unknown.into_iter().collect(),
            groups,
            unplaced,
            lower_bound: PricePerHour::from_micros(lb),
            gap: if cost > 0 {
                (cost - lb) as f64 / cost as f64
            } else {
                0.0
            },
            proven_optimal: proven,
            termination: if proven {
                Termination::Optimal
            } else {
                termination
            },
            limits_split: split,
            pack_runs: runs,
        })
    }

    fn classify(
        &self,
        rep: &Replica,
        offers: &[Offer],
        limit: &[Option<u32>],
        used: &[[u32; 2]],
        cfg: &NodeMixConfig,
    ) -> UnplacedReason {
        let g = rep.group;
        let shape = &self.groups[g].shape;
        let n = self.candidates.len();
        if !(0..n).any(|c| self.has_devices(g, c)) {
            if let Some(a) = &shape.accelerator {
                return UnplacedReason::NoInstanceType {
                    accelerator: a.to_string(),
                    devices: shape.devices,
                };
            }
        }
        if !(0..n).any(|c| self.fits(g, c, cfg)) {
            return UnplacedReason::TooLarge {
                need: shape.describe(),
            };
        }
        // Offers this replica may use with a positive limit.
        let usable: Vec<usize> = offers
            .iter()
            .enumerate()
            .filter(|(i, o)| {
                (o.class == PricingClass::OnDemand || rep.spot_ok)
                    && self.fits(g, o.cand, cfg)
                    && limit[*i] != Some(0)
            })
            .map(|(i, _)| i)
            .collect();
        if usable.is_empty() {
            return UnplacedReason::NotWithinLimits {
                need: shape.describe(),
                on_demand_only: !rep.spot_ok,
            };
        }
        let mut at_limit = Vec::new();
        for &i in &usable {
            let o = offers[i];
            let cand = &self.candidates[o.cand];
            let [od, sp] = used[o.cand];
            let joint_full = cand.max_count.is_some_and(|m| od + sp >= m);
            let own = used[o.cand][o.class as usize];
            let own_full = limit[i].is_some_and(|l| own >= l);
            if !(joint_full || own_full) {
                return UnplacedReason::NotPacked;
            }
            let lim = if joint_full { cand.max_count } else { limit[i] };
            at_limit.push(format!(
                "{}/{} ({})",
                cand.node_type.id,
                o.class,
                lim.unwrap_or(0)
            ));
        }
        UnplacedReason::LimitsReached { types: at_limit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rightsizer_model::ids::NodeTypeId;
    use rightsizer_model::node::{DeviceCount, Provider};

    fn node(
        id: &str,
        cores: u64,
        gib: u64,
        dev: Option<(&str, u16)>,
        price: u64,
        spot: Option<u64>,
    ) -> NodeType {
        NodeType {
            id: NodeTypeId::new(id).unwrap(),
            provider: Provider::Other,
            region: "test".into(),
            cpu: MilliCpu::from_cores(cores),
            memory: Bytes::from_gib(gib),
            devices: dev
                .map(|(m, n)| {
                    vec![DeviceCount {
                        model: AcceleratorModelId::new(m).unwrap(),
                        count: n,
                    }]
                })
                .unwrap_or_default(),
            price: PricePerHour::from_micros(price),
            spot_price: spot.map(PricePerHour::from_micros),
            idle_power: Watts::ZERO,
            max_power: Watts::ZERO,
            source: String::new(),
        }
    }

    fn gpu(
        name: &str,
        count: u32,
        model: &str,
        devices: u16,
        cores: u64,
        gib: u64,
    ) -> ReplicaGroup {
        ReplicaGroup::new(
            name,
            count,
            ReplicaShape::accelerated(
                AcceleratorModelId::new(model).unwrap(),
                devices,
                MilliCpu::from_cores(cores),
                Bytes::from_gib(gib),
            ),
        )
    }

    fn cpu(name: &str, count: u32, cores: u64, gib: u64) -> ReplicaGroup {
        ReplicaGroup::new(
            name,
            count,
            ReplicaShape::cpu_only(MilliCpu::from_cores(cores), Bytes::from_gib(gib)),
        )
    }

    fn cfg(spot: SpotPolicy) -> NodeMixConfig {
        NodeMixConfig::builder()
            .spot(spot)
            .budget(Budget::iterations(200_000))
            .build()
            .unwrap()
    }

    fn l4_types() -> Vec<InstanceCandidate> {
        vec![
            InstanceCandidate::new(node("l4-small", 4, 16, Some(("L4", 1)), 800, Some(350))),
            InstanceCandidate::new(node("l4-quad", 48, 192, Some(("L4", 4)), 4000, None)),
            InstanceCandidate::new(node("cpu-2", 2, 8, None, 100, Some(40))),
        ]
    }

    #[test]
    fn spot_policy_never_allowed_and_fraction() {
        let groups = vec![gpu("chat", 4, "L4", 1, 3, 12)];
        let p = NodeMixProblem::new(l4_types(), groups).unwrap();
        let never = p.solve(&cfg(SpotPolicy::Never)).unwrap();
        assert_eq!(never.spot_nodes, 0);
        assert_eq!(never.cost_per_hour.micros(), 3200);
        assert_eq!(never.groups["chat"].on_demand, 4);
        let all = p.solve(&cfg(SpotPolicy::Allowed)).unwrap();
        assert_eq!(all.spot_nodes, 4);
        assert_eq!(all.cost_per_hour.micros(), 4 * 350);
        assert!(all.lines.iter().all(|l| l.pricing == PricingClass::Spot));
        let half = p.solve(&cfg(SpotPolicy::MaxFraction(0.5))).unwrap();
        assert_eq!(half.groups["chat"].spot, 2);
        assert_eq!(half.groups["chat"].spot_allowed, 2);
        assert_eq!(half.cost_per_hour.micros(), 2 * 350 + 2 * 800);
        // A group override beats the global default: latency-critical stays on demand.
        let groups = vec![
            gpu("chat", 2, "L4", 1, 3, 12).clone(),
            ReplicaGroup {
                shape: gpu("x", 1, "L4", 1, 3, 12)
                    .shape
                    .with_spot(SpotPolicy::Never),
                ..gpu("critical", 2, "L4", 1, 3, 12)
            },
        ];
        let p = NodeMixProblem::new(l4_types(), groups).unwrap();
        let m = p.solve(&cfg(SpotPolicy::Allowed)).unwrap();
        assert_eq!(m.groups["critical"].spot, 0);
        assert_eq!(m.groups["chat"].spot, 2);
        assert!(m.proven_optimal);
    }

    #[test]
    fn device_models_and_multi_gpu_replicas() {
        // 2 × L4 per replica: only the quad node has two on one node.
        let p = NodeMixProblem::new(l4_types(), vec![gpu("big", 3, "L4", 2, 8, 32)]).unwrap();
        let m = p.solve(&cfg(SpotPolicy::Never)).unwrap();
        assert_eq!(m.lines.len(), 1);
        assert_eq!(m.lines[0].instance_type, "l4-quad");
        // 3 replicas × 2 devices = 6 devices: two quad nodes (4 + 2).
        assert_eq!(m.lines[0].count, 2);
        assert_eq!(m.lines[0].device_utilisation, Some(6.0 / 8.0));
        // No H200 anywhere: a reason naming the need.
        let p = NodeMixProblem::new(l4_types(), vec![gpu("h", 2, "H200", 2, 8, 32)]).unwrap();
        let m = p.solve(&cfg(SpotPolicy::Never)).unwrap();
        assert!(m.lines.is_empty());
        assert_eq!(m.unplaced.len(), 1);
        assert_eq!(m.unplaced[0].replicas, 2);
        assert_eq!(
            m.unplaced[0].reason.to_string(),
            "no instance type offers 2 × H200"
        );
        // Five L4s on one node: too many devices, also no type.
        let p = NodeMixProblem::new(l4_types(), vec![gpu("h", 1, "L4", 5, 8, 32)]).unwrap();
        let m = p.solve(&cfg(SpotPolicy::Never)).unwrap();
        assert!(matches!(
            m.unplaced[0].reason,
            UnplacedReason::NoInstanceType { devices: 5, .. }
        ));
        // Too much memory next to the device.
        let p = NodeMixProblem::new(l4_types(), vec![gpu("h", 1, "L4", 1, 8, 500)]).unwrap();
        let m = p.solve(&cfg(SpotPolicy::Never)).unwrap();
        assert!(
            matches!(m.unplaced[0].reason, UnplacedReason::TooLarge { .. }),
            "{:?}",
            m.unplaced
        );
    }

    #[test]
    fn joint_limits_and_limit_reasons() {
        let types = vec![
            InstanceCandidate::new(node("l4-small", 4, 16, Some(("L4", 1)), 800, Some(350)))
                .with_max_count(3),
            InstanceCandidate::new(node("l4-quad", 48, 192, Some(("L4", 4)), 4000, None)),
        ];
        let p = NodeMixProblem::new(types.clone(), vec![gpu("chat", 5, "L4", 1, 3, 12)]).unwrap();
        let m = p.solve(&cfg(SpotPolicy::Allowed)).unwrap();
        let small: u32 = m
            .lines
            .iter()
            .filter(|l| l.instance_type == "l4-small")
            .map(|l| l.count)
            .sum();
        assert!(small <= 3, "{:?}", m.lines);
        assert!(m.unplaced.is_empty());
        // One quad (4 replicas) plus one spot small: 4000 + 350.
        assert_eq!(m.cost_per_hour.micros(), 4000 + 350);
        // Without the quad, two replicas cannot be placed: limits reached.
        let p =
            NodeMixProblem::new(types[..1].to_vec(), vec![gpu("chat", 5, "L4", 1, 3, 12)]).unwrap();
        let m = p.solve(&cfg(SpotPolicy::Allowed)).unwrap();
        assert_eq!(m.placed(), 3);
        assert_eq!(m.groups["chat"].unplaced, 2);
        assert!(
            matches!(m.unplaced[0].reason, UnplacedReason::LimitsReached { .. }),
            "{:?}",
            m.unplaced
        );
        assert!(m.unplaced[0].reason.to_string().contains("l4-small"));
        // Spot capacity 0 and on-demand only replicas: not within the limits.
        let types = vec![
            InstanceCandidate::new(node("l4-small", 4, 16, Some(("L4", 1)), 800, Some(350)))
                .with_max_count(0),
            InstanceCandidate::new(node("cpu-2", 2, 8, None, 100, None)),
        ];
        let p = NodeMixProblem::new(types, vec![gpu("chat", 1, "L4", 1, 3, 12)]).unwrap();
        let m = p.solve(&cfg(SpotPolicy::Never)).unwrap();
        assert_eq!(
            m.unplaced[0].reason.to_string(),
            "no instance type offers 1 × L4 + 3 CPU + 12 GiB within the limits (on-demand only by its spot policy)"
        );
    }

    #[test]
    fn energy_utilisation_and_cpu_pod_taints() {
        let mut types = l4_types();
        types[0].node_type.idle_power = Watts::new(50);
        types[0].node_type.max_power = Watts::new(150);
        let groups = vec![gpu("chat", 1, "L4", 1, 2, 8), cpu("web", 1, 1, 2)];
        let p = NodeMixProblem::new(types.clone(), groups.clone())
            .unwrap()
            .with_device_power(
                "L4",
                DevicePower {
                    idle: Watts::new(16),
                    busy: Watts::new(72),
                },
            );
        let m = p.solve(&cfg(SpotPolicy::Never)).unwrap();
        // Both on one l4-small (the web pod shares it): 3 of 4 cores.
        assert_eq!(m.lines.len(), 1);
        assert_eq!(m.lines[0].cpu_utilisation, 0.75);
        assert_eq!(m.lines[0].memory_utilisation, 10.0 / 16.0);
        // 72 W device + 50 + 100 × 0.75 host.
        assert_eq!(m.power, Watts::new(72 + 50 + 75));
        assert!((m.energy_kwh_per_month - 197.0 * 730.0 / 1000.0).abs() < 1e-9);
        assert!(m.host_power_unknown.is_empty());
        // Tainted accelerator nodes: the web pod needs its own CPU node.
        let c = NodeMixConfig::builder()
            .cpu_pods_on_accelerator_nodes(false)
            .build()
            .unwrap();
        let m = NodeMixProblem::new(types, groups)
            .unwrap()
            .solve(&c)
            .unwrap();
        assert_eq!(m.on_demand_nodes, 2);
        assert_eq!(m.cost_per_hour.micros(), 900);
        assert_eq!(m.device_power_unknown, vec!["L4".to_string()]);
        // Overhead shrinks allocatable: 3 cores + 1 reserved fills 4.
        let c = NodeMixConfig::builder()
            .overhead(MilliCpu::from_cores(2), Bytes::ZERO)
            .build()
            .unwrap();
        let p = NodeMixProblem::new(l4_types(), vec![gpu("chat", 1, "L4", 1, 3, 12)]).unwrap();
        let m = p.solve(&c).unwrap();
        assert_eq!(m.lines[0].instance_type, "l4-quad");
    }

    #[test]
    fn bad_input_is_typed() {
        let all_zero =
            vec![InstanceCandidate::new(node("a", 4, 16, None, 1, None)).with_max_count(0)];
        assert!(matches!(
            NodeMixProblem::new(all_zero, vec![]),
            Err(PlanError::NoInstanceAvailable { .. })
        ));
        assert!(matches!(
            NodeMixProblem::new(vec![], vec![]),
            Err(PlanError::NoInstanceAvailable { .. })
        ));
        let dup = vec![
            InstanceCandidate::new(node("a", 4, 16, None, 1, None)),
            InstanceCandidate::new(node("a", 4, 16, None, 1, None)),
        ];
        assert!(matches!(
            NodeMixProblem::new(dup, vec![]),
            Err(PlanError::DuplicateEntry { .. })
        ));
        assert!(matches!(
            NodeMixProblem::new(l4_types(), vec![gpu("g", 1, "L4", 0, 1, 1)]),
            Err(PlanError::InvalidSize { .. })
        ));
        assert!(matches!(
            NodeMixConfig::builder()
                .spot(SpotPolicy::MaxFraction(1.5))
                .build(),
            Err(PlanError::InvalidParameter { .. })
        ));
        assert_eq!(SpotPolicy::MaxFraction(0.3).spot_eligible(10), 3);
        assert_eq!(SpotPolicy::MaxFraction(0.5).spot_eligible(3), 1);
    }

    /// Small random problems: up to 3 types (one accelerator model `X`),
    /// up to 3 groups, at most 8 replicas so the packer can prove optimality.
    fn small_problem() -> impl Strategy<Value = (Vec<InstanceCandidate>, Vec<ReplicaGroup>)> {
        let ty = (
            1u64..=16,
            1u64..=64,
            0u16..=4,
            1u64..=50,
            proptest::option::of(1u64..=100),
            proptest::option::of(0u32..=3),
            proptest::option::of(0u32..=3),
        );
        let grp = (1u32..=3, 0u16..=2, 0u64..=8, 0u64..=32, 0u8..=3);
        (
            proptest::collection::vec(ty, 1..=3),
            proptest::collection::vec(grp, 1..=3),
        )
            .prop_map(|(ts, gs)| {
                let types = ts
                    .into_iter()
                    .enumerate()
                    .map(|(i, (c, m, d, p, sp, mc, ms))| {
                        let price = p * 1000;
                        // Spot strictly cheaper than on demand.
                        let spot = sp.map(|s| 1 + (s * price / 100).min(price - 1));
                        let dev = (d > 0).then_some(("X", d));
                        InstanceCandidate {
                            node_type: node(&format!("t{i}"), c, m, dev, price, spot),
                            max_count: mc,
                            max_spot: ms,
                        }
                    })
                    .collect();
                let groups = gs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, d, c, m, sp))| {
                        let shape = ReplicaShape {
                            accelerator: (d > 0).then(|| AcceleratorModelId::new("X").unwrap()),
                            devices: d,
                            // CPU-only pods request something.
                            cpu: MilliCpu::new(if d == 0 { c.max(1) } else { c } * 500),
                            memory: Bytes::from_gib(m),
                            spot: match sp {
                                0 => None,
                                1 => Some(SpotPolicy::Never),
                                2 => Some(SpotPolicy::Allowed),
                                _ => Some(SpotPolicy::MaxFraction(0.5)),
                            },
                        };
                        ReplicaGroup::new(format!("g{i}"), n, shape)
                    })
                    .collect();
                (types, groups)
            })
            .prop_filter(
                "some type can be opened",
                |(t, _): &(Vec<InstanceCandidate>, _)| t.iter().any(|c| c.max_count != Some(0)),
            )
    }

    fn check_valid(p: &NodeMixProblem, m: &NodeMix, c: &NodeMixConfig) {
        let by_id: BTreeMap<&str, &InstanceCandidate> = p
            .candidates()
            .iter()
            .map(|c| (c.node_type.id.as_str(), c))
            .collect();
        let group: BTreeMap<&str, &ReplicaGroup> =
            p.groups().iter().map(|g| (g.name.as_str(), g)).collect();
        // Capacity per node.
        for n in &m.nodes {
            let t = &by_id[n.instance_type.as_str()].node_type;
            let (mut cpu, mut mem, mut dev) = (0u64, 0u64, 0u64);
            for (g, &k) in &n.replicas {
                let s = &group[g.as_str()].shape;
                cpu += s.cpu.get() * u64::from(k);
                mem += s.memory.get() * u64::from(k);
                dev += s.need_devices() * u64::from(k);
            }
            assert!(cpu + c.overhead_cpu().get() <= t.cpu.get());
            assert!(mem + c.overhead_memory().get() <= t.memory.get());
            assert!(dev <= u64::from(t.device_count()));
        }
        // Limits.
        for cand in p.candidates() {
            let id = cand.node_type.id.as_str();
            let count = |cl: Option<PricingClass>| -> u32 {
                m.lines
                    .iter()
                    .filter(|l| l.instance_type == id && cl.is_none_or(|c| c == l.pricing))
                    .map(|l| l.count)
                    .sum()
            };
            if let Some(mc) = cand.max_count {
                assert!(count(None) <= mc, "{id}: {} > {mc}", count(None));
            }
            if let Some(ms) = cand.max_spot {
                assert!(count(Some(PricingClass::Spot)) <= ms);
            }
            if cand.node_type.spot_price.is_none() {
                assert_eq!(count(Some(PricingClass::Spot)), 0);
            }
        }
        // Spot fraction and replica conservation.
        for g in p.groups() {
            let o = &m.groups[&g.name];
            let pol = g.shape.spot.unwrap_or(c.spot());
            assert!(o.spot <= pol.spot_eligible(g.count));
            assert_eq!(o.spot + o.on_demand + o.unplaced, g.count);
        }
        // Cost = Σ counts × price, per line and in total.
        let mut total = 0;
        for l in &m.lines {
            let t = &by_id[l.instance_type.as_str()].node_type;
            let price = match l.pricing {
                PricingClass::OnDemand => t.price,
                PricingClass::Spot => t.spot_price.unwrap(),
            };
            assert_eq!(l.unit_price, price);
            assert_eq!(l.cost.micros(), price.micros() * u64::from(l.count));
            total += l.cost.micros();
        }
        assert_eq!(m.cost_per_hour.micros(), total);
        assert_eq!(m.cost_per_month.micros(), total * 730);
        assert_eq!(m.nodes.len() as u32, m.spot_nodes + m.on_demand_nodes);
        assert!(m.lower_bound <= m.cost_per_hour);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn packings_respect_capacity_limits_spot_and_price((types, groups) in small_problem(), spot in 0u8..3) {
            let c = cfg([SpotPolicy::Never, SpotPolicy::Allowed, SpotPolicy::MaxFraction(0.5)][spot as usize]);
            let p = NodeMixProblem::new(types, groups).unwrap();
            let m = p.solve(&c).unwrap();
            check_valid(&p, &m, &c);
            // Deterministic.
            prop_assert_eq!(&p.solve(&c).unwrap().nodes, &m.nodes);
        }

        #[test]
        fn allowing_spot_never_raises_cost((mut types, mut groups) in small_problem()) {
            // Unlimited types (no joint-limit split) and the global policy decides.
            for t in &mut types { t.max_count = None; t.max_spot = None; }
            for g in &mut groups { g.shape.spot = None; }
            let p = NodeMixProblem::new(types, groups).unwrap();
            let never = p.solve(&cfg(SpotPolicy::Never)).unwrap();
            let half = p.solve(&cfg(SpotPolicy::MaxFraction(0.5))).unwrap();
            let all = p.solve(&cfg(SpotPolicy::Allowed)).unwrap();
            for (a, b) in [(&never, &half), (&half, &all), (&never, &all)] {
                if a.proven_optimal && b.proven_optimal && a.unplaced.is_empty() && b.unplaced.is_empty() {
                    prop_assert!(b.cost_per_hour <= a.cost_per_hour, "{} > {}", b.cost_per_hour, a.cost_per_hour);
                }
            }
        }

        #[test]
        fn raising_a_limit_never_raises_cost((types, groups) in small_problem(), which in 0usize..3) {
            // On-demand only, so every limit is a plain packer limit.
            let c = cfg(SpotPolicy::Never);
            let mut groups = groups;
            for g in &mut groups { g.shape.spot = None; }
            let i = which % types.len();
            let p = NodeMixProblem::new(types.clone(), groups.clone()).unwrap();
            let mut raised = types.clone();
            raised[i].max_count = raised[i].max_count.map(|m| m + 1);
            let q = NodeMixProblem::new(raised, groups).unwrap();
            let (a, b) = (p.solve(&c).unwrap(), q.solve(&c).unwrap());
            check_valid(&q, &b, &c);
            if a.proven_optimal && b.proven_optimal && a.unplaced.is_empty() && b.unplaced.is_empty() {
                prop_assert!(b.cost_per_hour <= a.cost_per_hour);
            }
        }
    }
}
