//! The fleet planner: Mélange's cost-minimal accelerator mix, generalised.
//!
//! Demand is a list of [`DemandBucket`]s (for LLM serving: an input-length ×
//! output-length range with its request rate); every bucket is cut into
//! `slice_factor` equal slices, each slice is served by exactly one
//! accelerator type, and the planner chooses integer counts `B_j` so that the
//! load assigned to type `j` (a fraction of one device per slice:
//! `rate / slice_factor / throughput_j`) fits in `B_j` devices. It minimises
//! `Σ_j w_j·B_j` where `w_j` is the hourly price, the power draw, or price plus
//! priced energy ([`Objective`]).
//!
//! # Exactness
//!
//! * Slice loads are quantised once to integer units of 10⁻¹² device and summed
//!   as integers, so a sum never depends on the order of addition. A type needs
//!   `⌈load − 10⁻⁹⌉` devices: the 10⁻⁹ tolerance is the load comparison of the
//!   reference cases, and it is what keeps `0.8 + 8 + 0.4 + 0.8` devices at 10
//!   rather than the 11 that `ceil` of a naive float sum buys.
//! * Objective values are integers (micro-dollars per hour, watts), so bounds
//!   prune with an integrality argument and a small float safety margin.
//!
//! # Algorithm
//!
//! Branch and bound over boxes of the count vector `B`. The bound of a box is
//! the LP relaxation (fractional assignment of buckets, continuous counts in
//! the box), computed through its Lagrangian dual — a concave piecewise-linear
//! function of one price per type — maximised by Kelley's cutting-plane method
//! on the crate's own dense simplex ([`crate::lp`]). Any dual point gives a
//! valid bound, so an early stop only weakens pruning, never correctness.
//! Incumbents come from the single-type fleets and from rounding the LP
//! assignment followed by a "drop one device" local search. When the LP count
//! vector of a box is integral, that point is checked exactly (greedy, then a
//! bounded depth-first search) and removed from the box.
//!
//! ```
//! use rightsizer_plan::fleet::{AcceleratorOption, DemandBucket, FleetProblem, Objective, SolveConfig, FleetOutcome};
//! use rightsizer_model::units::PricePerHour;
//! let opts = vec![
//!     AcceleratorOption::new("A10G", PricePerHour::from_micros(1_010_000)),
//!     AcceleratorOption::new("A100-80GB", PricePerHour::from_micros(3_670_000)),
//! ];
//! // Mélange's README example: 30 req/s over four buckets.
//! let b = |label: &str, share: f64, t: [f64; 2]| DemandBucket::new(label, 30.0 * share, vec![Some(t[0]), Some(t[1])]);
//! let buckets = vec![
//!     b("s-s", 0.2, [2.0, 20.0]), b("s-l", 0.1, [1.0, 20.0]),
//!     b("l-s", 0.5, [5.0, 40.0]), b("l-l", 0.2, [2.0, 20.0]),
//! ];
//! let problem = FleetProblem::new(opts, buckets, 1)?;
//! let FleetOutcome::Plan(plan) = problem.solve(Objective::Cost, &SolveConfig::default()) else { panic!() };
//! assert_eq!(plan.counts["A10G"], 3);
//! assert_eq!(plan.counts["A100-80GB"], 1);
//! assert_eq!(plan.cost, PricePerHour::from_micros(6_700_000));
//! assert!(plan.is_optimal());
//! // 730 hours per month (check F3): 6.70 × 730 = 4891 $/month.
//! assert_eq!(plan.monthly_cost().micros(), 4_891_000_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Index loops over small dense matrices read better than iterator chains here.
#![allow(clippy::needless_range_loop)]

use crate::error::PlanError;
use crate::lp::{Lp, LpStatus, Sense};
use rightsizer_model::units::{Money, PricePerHour, Watts};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::{Duration, Instant};

/// Units of load per device (loads are integers of 10⁻¹² device).
pub const LOAD_SCALE: u64 = 1_000_000_000_000;
/// Load tolerance: a type with load `x` needs `⌈x − 10⁻⁹⌉` devices.
pub const LOAD_TOLERANCE: u64 = 1_000;
const MAX_BUCKET_LOAD: f64 = 1e6;

/// One accelerator type (or any capacity unit: a MIG slice, a CPU node, an
/// Inferentia chip) the planner may buy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceleratorOption {
    /// Unique name, e.g. `"A10G"` or `"aws:g5.xlarge"`.
    pub name: String,
    /// Hourly price of one unit.
    pub price: PricePerHour,
    /// Average board power of one busy unit (used by the energy objective and
    /// reports). Zero when unknown.
    #[serde(default)]
    pub power: Watts,
    /// Power of an idle unit (reports only). Zero when unknown.
    #[serde(default)]
    pub idle_power: Watts,
    /// At most this many units may be bought (availability, quota).
    #[serde(default)]
    pub max_count: Option<u32>,
}

impl AcceleratorOption {
    /// An option with a price, unknown power and no count limit.
    pub fn new(name: impl Into<String>, price: PricePerHour) -> Self {
        AcceleratorOption {
            name: name.into(),
            price,
            power: Watts::ZERO,
            idle_power: Watts::ZERO,
            max_count: None,
        }
    }

    /// Sets the busy and idle power.
    pub fn with_power(mut self, busy: Watts, idle: Watts) -> Self {
        self.power = busy;
        self.idle_power = idle;
        self
    }

    /// Limits how many units may be bought.
    pub fn with_max_count(mut self, n: u32) -> Self {
        self.max_count = Some(n);
        self
    }
}

/// One slice of demand: a request class and its arrival rate, with the
/// throughput one unit of each option sustains on it under the SLO.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DemandBucket {
    /// Label for reports, e.g. `"in 100-250 / out 25-100"`.
    pub label: String,
    /// Arrival rate (requests/s, or any unit of work per second).
    pub rate: f64,
    /// Per option (same order as the options): the highest rate one unit
    /// sustains while meeting the SLO, or `None` when it cannot meet it.
    pub throughput: Vec<Option<f64>>,
}

impl DemandBucket {
    /// A bucket with a rate and one throughput per option.
    pub fn new(label: impl Into<String>, rate: f64, throughput: Vec<Option<f64>>) -> Self {
        DemandBucket {
            label: label.into(),
            rate,
            throughput,
        }
    }
}

/// What to minimise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Hourly price of the fleet.
    #[default]
    Cost,
    /// Provisioned power of the fleet (Σ count × busy power).
    Energy,
    /// Hourly price plus the fleet's energy priced at `per_kwh` (micro-dollars
    /// per kWh, rounded to whole micro-dollars per device-hour).
    CostPlusEnergy {
        /// Price of one kWh.
        per_kwh: Money,
    },
}

impl Objective {
    fn weight(&self, o: &AcceleratorOption) -> u64 {
        match self {
            Objective::Cost => o.price.micros(),
            Objective::Energy => u64::from(o.power.get()),
            Objective::CostPlusEnergy { per_kwh } => {
                let e = (u128::from(per_kwh.micros()) * u128::from(o.power.get()) + 500) / 1000;
                o.price
                    .micros()
                    .saturating_add(e.min(u128::from(u64::MAX)) as u64)
            }
        }
    }
}

/// Budget of one solve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SolveConfig {
    /// Wall-clock limit.
    pub time_limit: Duration,
    /// Limit on branch-and-bound nodes.
    pub node_limit: u64,
    /// Limit on depth-first search nodes when checking one count vector exactly.
    pub check_limit: u64,
}

impl Default for SolveConfig {
    fn default() -> Self {
        SolveConfig {
            time_limit: Duration::from_secs(10),
            node_limit: 1_000_000,
            check_limit: 200_000,
        }
    }
}

impl SolveConfig {
    /// Sets the wall-clock limit.
    pub fn with_time_limit(mut self, d: Duration) -> Self {
        self.time_limit = d;
        self
    }
    /// Sets the node limit.
    pub fn with_node_limit(mut self, n: u64) -> Self {
        self.node_limit = n;
        self
    }
}

/// Why the solver stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The search tree was exhausted: the plan is optimal.
    Optimal,
    /// The time limit was reached; the plan is the best found.
    TimeLimit,
    /// The node limit was reached; the plan is the best found.
    NodeLimit,
    /// The tree was exhausted but some count vector could not be decided
    /// within the check limit, so optimality is not proven.
    Unresolved,
}

/// A single-type fleet: every bucket served by one option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SingleTypeFleet {
    /// Units needed.
    pub count: u32,
    /// Its hourly price.
    pub cost: PricePerHour,
}

/// A fleet plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FleetPlan {
    /// Units of every option (zero included), by name.
    pub counts: BTreeMap<String, u32>,
    /// Hourly price of the fleet.
    pub cost: PricePerHour,
    /// Provisioned power (Σ count × busy power).
    pub power: Watts,
    /// Objective value (micro-dollars/h for cost, watts for energy).
    pub objective: u64,
    /// Proven lower bound on the objective.
    pub lower_bound: u64,
    /// `(objective − lower_bound) / objective` (0 when optimal).
    pub gap: f64,
    /// The LP relaxation bound at the root, `Σ_slices min_j w_j·load_ij`.
    pub lp_bound: f64,
    /// Why the solver stopped.
    pub stop: StopReason,
    /// Branch-and-bound nodes evaluated.
    pub nodes: u64,
    /// Per bucket (input order), how many of its slices each option serves
    /// (option order).
    pub assignment: Vec<Vec<u32>>,
    /// Load per option in devices (assigned work / one unit's capacity).
    pub loads: BTreeMap<String, f64>,
    /// The cheapest fleet of each single option that can serve every bucket.
    pub single_type: BTreeMap<String, SingleTypeFleet>,
}

impl FleetPlan {
    /// `true` when the search proved the plan optimal.
    pub fn is_optimal(&self) -> bool {
        self.stop == StopReason::Optimal
    }
    /// Monthly price at 730 hours per month.
    pub fn monthly_cost(&self) -> Money {
        self.cost.cost_for_hours(730)
    }
}

/// Why no fleet can serve the demand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Infeasibility {
    /// No option meets the SLO for this bucket.
    NoOptionMeetsSlo {
        /// The bucket's label.
        bucket: String,
        /// Its rate.
        rate: f64,
    },
    /// The per-option count limits are too low for the demand.
    CountLimits {
        /// The binding limits, by option name.
        limits: BTreeMap<String, u32>,
        /// How the search ended: `Optimal` means the whole tree was explored
        /// and no fleet within the limits exists; otherwise none was found
        /// within the budget.
        stop: StopReason,
    },
}

impl std::fmt::Display for Infeasibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Infeasibility::NoOptionMeetsSlo { bucket, rate } => write!(
                f,
                "no accelerator option meets the SLO for bucket `{bucket}` ({rate} req/s)"
            ),
            Infeasibility::CountLimits { limits, .. } => {
                write!(f, "the count limits are too low for the demand:")?;
                for (k, v) in limits {
                    write!(f, " {k} <= {v}")?;
                }
                Ok(())
            }
        }
    }
}

/// Result of [`FleetProblem::solve`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)]
pub enum FleetOutcome {
    /// A plan (optimal or best found within the budget).
    Plan(FleetPlan),
    /// No plan exists; the binding constraint is named.
    Infeasible(Infeasibility),
}

impl FleetOutcome {
    /// The plan, if any.
    pub fn plan(&self) -> Option<&FleetPlan> {
        match self {
            FleetOutcome::Plan(p) => Some(p),
            FleetOutcome::Infeasible(_) => None,
        }
    }
}

/// A validated fleet-planning problem.
#[derive(Clone, Debug)]
pub struct FleetProblem {
    options: Vec<AcceleratorOption>,
    buckets: Vec<DemandBucket>,
    slice_factor: u32,
    /// Per bucket, per option: load of one slice in units (None = cannot serve).
    slice_load: Vec<Vec<Option<u64>>>,
}

/// Devices needed for a load in units of 10⁻¹² device: `⌈load − 10⁻⁹⌉`.
pub fn devices_for(load_units: u128) -> u64 {
    ceil_units(load_units)
}

fn ceil_units(load: u128) -> u64 {
    let l = load.saturating_sub(u128::from(LOAD_TOLERANCE));
    l.div_ceil(u128::from(LOAD_SCALE)) as u64
}

fn cap_units(count: u64) -> u128 {
    u128::from(count) * u128::from(LOAD_SCALE) + u128::from(LOAD_TOLERANCE)
}

impl FleetProblem {
    /// Validates and prepares a problem. Every bucket's throughput list has one
    /// entry per option.
    pub fn new(
        options: Vec<AcceleratorOption>,
        buckets: Vec<DemandBucket>,
        slice_factor: u32,
    ) -> Result<Self, PlanError> {
        if options.is_empty() {
            return Err(PlanError::EmptyCatalog);
        }
        let mut seen = std::collections::BTreeSet::new();
        for o in &options {
            if !seen.insert(o.name.as_str()) {
                return Err(PlanError::DuplicateOption {
                    name: o.name.clone(),
                });
            }
        }
        if slice_factor == 0 || slice_factor > 1024 {
            return Err(PlanError::InvalidParameter {
                field: "slice_factor".into(),
                message: format!("must be in 1..=1024, got {slice_factor}"),
            });
        }
        let mut slice_load = Vec::with_capacity(buckets.len());
        for (bi, b) in buckets.iter().enumerate() {
            if !b.rate.is_finite() || b.rate < 0.0 {
                return Err(PlanError::InvalidRate {
                    field: format!("buckets[{bi}].rate"),
                    value: b.rate,
                });
            }
            if b.throughput.len() != options.len() {
                return Err(PlanError::Shape {
                    field: format!("buckets[{bi}].throughput"),
                    expected: options.len(),
                    found: b.throughput.len(),
                });
            }
            let mut row = Vec::with_capacity(options.len());
            for (j, t) in b.throughput.iter().enumerate() {
                match t {
                    None => row.push(None),
                    Some(t) if !t.is_finite() || *t <= 0.0 => {
                        return Err(PlanError::InvalidThroughput {
                            field: format!("buckets[{bi}].throughput[{}]", options[j].name),
                            value: *t,
                        })
                    }
                    Some(t) => {
                        let bucket_load = b.rate / t;
                        if bucket_load > MAX_BUCKET_LOAD {
                            return Err(PlanError::LoadTooLarge {
                                field: format!("buckets[{bi}] on {}", options[j].name),
                                load: bucket_load,
                            });
                        }
                        let slice = b.rate / f64::from(slice_factor) / t;
                        row.push(Some((slice * LOAD_SCALE as f64).round() as u64));
                    }
                }
            }
            slice_load.push(row);
        }
        Ok(FleetProblem {
            options,
            buckets,
            slice_factor,
            slice_load,
        })
    }

    /// The options, in order.
    pub fn options(&self) -> &[AcceleratorOption] {
        &self.options
    }

    /// The buckets, in order.
    pub fn buckets(&self) -> &[DemandBucket] {
        &self.buckets
    }

    /// The slice factor.
    pub fn slice_factor(&self) -> u32 {
        self.slice_factor
    }

    /// A copy with every bucket's rate multiplied by `factor` (what-if sweeps).
    pub fn with_demand_scaled(&self, factor: f64) -> Result<Self, PlanError> {
        let buckets = self
            .buckets
            .iter()
            .map(|b| DemandBucket {
                rate: b.rate * factor,
                ..b.clone()
            })
            .collect();
        FleetProblem::new(self.options.clone(), buckets, self.slice_factor)
    }

    /// A copy with a different slice factor.
    pub fn with_slice_factor(&self, k: u32) -> Result<Self, PlanError> {
        FleetProblem::new(self.options.clone(), self.buckets.clone(), k)
    }

    /// A copy with the options' prices replaced by `f(option)`.
    pub fn with_prices(
        &self,
        f: impl Fn(&AcceleratorOption) -> PricePerHour,
    ) -> Result<Self, PlanError> {
        let options = self
            .options
            .iter()
            .map(|o| AcceleratorOption {
                price: f(o),
                ..o.clone()
            })
            .collect();
        FleetProblem::new(options, self.buckets.clone(), self.slice_factor)
    }

    /// Exact per-option load (units of 10⁻¹² device) if every bucket went to
    /// that option; `None` if the option cannot serve some bucket with demand.
    pub fn total_load_units(&self, option: usize) -> Option<u128> {
        let k = u128::from(self.slice_factor);
        let mut s = 0u128;
        for (b, row) in self.slice_load.iter().enumerate() {
            if self.buckets[b].rate == 0.0 {
                continue;
            }
            s += k * u128::from(row[option]?);
        }
        Some(s)
    }

    /// Exact load of one slice of `bucket` on `option`, in units of
    /// 10⁻¹² device (`None`: the option cannot serve the bucket).
    pub fn slice_load_units(&self, bucket: usize, option: usize) -> Option<u64> {
        self.slice_load.get(bucket)?.get(option).copied().flatten()
    }

    /// Solves with the given objective and budget.
    pub fn solve(&self, objective: Objective, config: &SolveConfig) -> FleetOutcome {
        for (b, row) in self.slice_load.iter().enumerate() {
            if self.buckets[b].rate > 0.0 && row.iter().all(|x| x.is_none()) {
                return FleetOutcome::Infeasible(Infeasibility::NoOptionMeetsSlo {
                    bucket: self.buckets[b].label.clone(),
                    rate: self.buckets[b].rate,
                });
            }
        }
        let weights: Vec<u64> = self.options.iter().map(|o| objective.weight(o)).collect();
        let mut s = Solver::new(self, weights, config);
        s.run();
        s.into_outcome()
    }
}

// ---------------------------------------------------------------------------
// Solver internals
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Node {
    lo: Vec<u64>,
    hi: Vec<u64>,
    bound: f64,
    seq: u64,
    /// The parent's best dual prices (a warm start for Kelley).
    mu: Vec<f64>,
}

impl PartialEq for Node {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Node {}
impl PartialOrd for Node {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Node {
    // BinaryHeap is a max-heap: smallest bound first, then oldest.
    fn cmp(&self, o: &Self) -> Ordering {
        o.bound
            .total_cmp(&self.bound)
            .then_with(|| o.seq.cmp(&self.seq))
    }
}

struct Solver<'a> {
    p: &'a FleetProblem,
    cfg: &'a SolveConfig,
    w: Vec<u64>,
    wf: Vec<f64>,
    m: usize,
    /// Buckets with demand (indices into p.buckets).
    act: Vec<usize>,
    /// Bucket loads (k slices) as f64 devices, per active bucket, per option; INF if cannot serve.
    bl: Vec<Vec<f64>>,
    k: u32,
    limit: Vec<u64>,
    best: Option<(u64, Vec<Vec<u32>>)>,
    cuts: Vec<Vec<f64>>,
    nodes: u64,
    unresolved: bool,
    unresolved_bound: f64,
    tried: std::collections::BTreeSet<Vec<u32>>,
    stop: StopReason,
    lower_bound: u64,
    lp_bound: f64,
    start: Instant,
}

impl<'a> Solver<'a> {
    fn new(p: &'a FleetProblem, w: Vec<u64>, cfg: &'a SolveConfig) -> Self {
        let m = p.options.len();
        let act: Vec<usize> = (0..p.buckets.len())
            .filter(|&b| p.buckets[b].rate > 0.0)
            .collect();
        let k = p.slice_factor;
        let bl = act
            .iter()
            .map(|&b| {
                p.slice_load[b]
                    .iter()
                    .map(|x| match x {
                        Some(u) => *u as f64 * f64::from(k) / LOAD_SCALE as f64,
                        None => f64::INFINITY,
                    })
                    .collect()
            })
            .collect();
        let limit = p
            .options
            .iter()
            .enumerate()
            .map(|(j, o)| {
                let servable: u128 = act
                    .iter()
                    .filter_map(|&b| p.slice_load[b][j])
                    .map(|u| u128::from(u) * u128::from(k))
                    .sum();
                let need = ceil_units(servable);
                o.max_count.map_or(need, |c| need.min(u64::from(c)))
            })
            .collect();
        Solver {
            p,
            cfg,
            wf: w.iter().map(|&x| x as f64).collect(),
            w,
            m,
            act,
            bl,
            k,
            limit,
            best: None,
            cuts: Vec::new(),
            nodes: 0,
            unresolved: false,
            unresolved_bound: f64::INFINITY,
            tried: std::collections::BTreeSet::new(),
            stop: StopReason::Optimal,
            lower_bound: 0,
            lp_bound: 0.0,
            start: Instant::now(),
        }
    }

    fn slice(&self, a: usize, j: usize) -> Option<u64> {
        self.p.slice_load[self.act[a]][j]
    }

    /// Loads (units) and objective of an assignment over active buckets.
    fn evaluate(&self, asg: &[Vec<u32>]) -> (Vec<u128>, Vec<u64>, u64) {
        let mut loads = vec![0u128; self.m];
        for (a, row) in asg.iter().enumerate() {
            for (j, &n) in row.iter().enumerate() {
                if n > 0 {
                    loads[j] += u128::from(n) * u128::from(self.slice(a, j).unwrap_or(0));
                }
            }
        }
        let counts: Vec<u64> = loads.iter().map(|&l| ceil_units(l)).collect();
        let obj = counts
            .iter()
            .zip(&self.w)
            .map(|(&c, &w)| u128::from(c) * u128::from(w))
            .sum::<u128>()
            .min(u128::from(u64::MAX)) as u64;
        (loads, counts, obj)
    }

    fn within_limits(&self, counts: &[u64]) -> bool {
        counts
            .iter()
            .zip(&self.p.options)
            .all(|(&c, o)| o.max_count.is_none_or(|l| c <= u64::from(l)))
    }

    fn offer(&mut self, asg: Vec<Vec<u32>>) {
        let (_, counts, obj) = self.evaluate(&asg);
        if !self.within_limits(&counts) {
            return;
        }
        if self.best.as_ref().is_none_or(|(b, _)| obj < *b) {
            self.best = Some((obj, asg));
        }
    }

    /// Whole buckets to `argmin_j mu_j·load` (ties: lower index).
    fn argmin_assignment(&self, mu: &[f64]) -> Vec<Vec<u32>> {
        self.bl
            .iter()
            .map(|row| {
                let mut bj = usize::MAX;
                let mut bv = f64::INFINITY;
                for j in 0..self.m {
                    if row[j].is_finite() {
                        let v = mu[j] * row[j];
                        if bj == usize::MAX || v < bv {
                            bv = v;
                            bj = j;
                        }
                    }
                }
                let mut r = vec![0u32; self.m];
                r[bj] = self.k;
                r
            })
            .collect()
    }

    /// Local search: repeatedly try to drop one device of an option by moving
    /// slices into other options' spare capacity (optionally adding one device
    /// of a cheaper option).
    fn improve(&self, mut asg: Vec<Vec<u32>>) -> Vec<Vec<u32>> {
        let mut order: Vec<usize> = (0..self.m).collect();
        order.sort_by(|&a, &b| self.w[b].cmp(&self.w[a]).then(a.cmp(&b)));
        let mut guard = 0;
        'outer: loop {
            guard += 1;
            if guard > 10_000 {
                break;
            }
            let (loads, counts, _) = self.evaluate(&asg);
            for &j in &order {
                if counts[j] == 0 || self.w[j] == 0 {
                    continue;
                }
                let mut extras: Vec<Option<usize>> = vec![None];
                let mut cheaper: Vec<usize> = (0..self.m)
                    .filter(|&i| i != j && self.w[i] < self.w[j])
                    .collect();
                cheaper.sort_by(|&a, &b| self.w[a].cmp(&self.w[b]).then(a.cmp(&b)));
                extras.extend(cheaper.into_iter().map(Some));
                for extra in extras {
                    let mut cnt = counts.clone();
                    if let Some(i) = extra {
                        cnt[i] += 1;
                        if cnt[i] > self.limit_of(i) {
                            continue;
                        }
                    }
                    cnt[j] -= 1;
                    if let Some(new) = self.try_shed(&asg, &loads, &cnt, j) {
                        asg = new;
                        continue 'outer;
                    }
                }
            }
            break;
        }
        asg
    }

    fn limit_of(&self, j: usize) -> u64 {
        self.p.options[j].max_count.map_or(u64::MAX, u64::from)
    }

    /// Moves slices off `j` until every option fits in `cnt`.
    fn try_shed(
        &self,
        asg: &[Vec<u32>],
        loads: &[u128],
        cnt: &[u64],
        j: usize,
    ) -> Option<Vec<Vec<u32>>> {
        let mut loads = loads.to_vec();
        let mut asg = asg.to_vec();
        let cap: Vec<u128> = cnt.iter().map(|&c| cap_units(c)).collect();
        // Slices on j, biggest first.
        let mut cand: Vec<usize> = (0..asg.len()).filter(|&a| asg[a][j] > 0).collect();
        cand.sort_by(|&a, &b| self.slice(b, j).cmp(&self.slice(a, j)).then(a.cmp(&b)));
        for a in cand {
            while asg[a][j] > 0 && loads[j] > cap[j] {
                let sj = u128::from(self.slice(a, j)?);
                // Destination with room, smallest relative expansion.
                let mut dest = None;
                let mut dv = f64::INFINITY;
                for i in 0..self.m {
                    if i == j {
                        continue;
                    }
                    if let Some(si) = self.slice(a, i) {
                        if loads[i] + u128::from(si) <= cap[i] {
                            let v = self.wf[i] * si as f64;
                            if v < dv {
                                dv = v;
                                dest = Some((i, si));
                            }
                        }
                    }
                }
                let (i, si) = dest?;
                asg[a][j] -= 1;
                asg[a][i] += 1;
                loads[j] -= sj;
                loads[i] += u128::from(si);
            }
            if loads[j] <= cap[j] {
                break;
            }
        }
        if loads.iter().zip(&cap).all(|(l, c)| l <= c) {
            Some(asg)
        } else {
            None
        }
    }

    /// Lagrangian function value and minimising assignment's load vector.
    fn lagrangian(&self, mu: &[f64], lo: &[u64], hi: &[u64]) -> (f64, Vec<f64>) {
        let (mut val, load) = self.lagrangian_plain(mu);
        for j in 0..self.m {
            let c = self.wf[j];
            val += if mu[j] <= c {
                (c - mu[j]) * lo[j] as f64
            } else {
                (c - mu[j]) * hi[j] as f64
            };
        }
        (val, load)
    }

    /// LP bound of a box by Kelley's method. Returns (bound, primal loads).
    fn bound(
        &mut self,
        lo: &[u64],
        hi: &[u64],
        prune_at: f64,
        warm: &[f64],
    ) -> (f64, Vec<f64>, Vec<f64>) {
        let m = self.m;
        let wsum: f64 = self.wf.iter().sum::<f64>().max(1.0);
        let qcap = 10.0 * wsum;
        let base: f64 = (0..m).map(|j| self.wf[j] * lo[j] as f64).sum();
        let (g0, l0) = self.lagrangian(&self.wf.clone(), lo, hi);
        let mut best = g0;
        let mut best_mu = self.wf.clone();
        let mut best_load = l0.clone();
        self.push_cut(l0);
        if warm.len() == m {
            let (gw, lw) = self.lagrangian(warm, lo, hi);
            if gw > best {
                best = gw;
                best_mu = warm.to_vec();
                best_load = lw.clone();
            }
            self.push_cut(lw);
        }
        for _ in 0..80 {
            if best >= prune_at {
                break;
            }
            // Variables: z, p_0..p_{m-1}, q_0..q_{m-1}.
            let nv = 1 + 2 * m;
            let mut c = vec![0.0; nv];
            c[0] = 1.0;
            for j in 0..m {
                c[1 + j] = -(lo[j] as f64);
                c[1 + m + j] = -(hi[j] as f64);
            }
            let mut lp = Lp::new(c);
            for cut in &self.cuts {
                let mut a = vec![0.0; nv];
                a[0] = 1.0;
                for j in 0..m {
                    a[1 + j] = -cut[j];
                    a[1 + m + j] = -cut[j];
                }
                lp.add(a, Sense::Le, 0.0);
            }
            for j in 0..m {
                let mut a = vec![0.0; nv];
                a[1 + j] = 1.0;
                lp.add(a, Sense::Le, self.wf[j]);
                let mut a = vec![0.0; nv];
                a[1 + m + j] = 1.0;
                lp.add(
                    a,
                    Sense::Le,
                    if hi[j] < self.limit[j] || self.p.options[j].max_count.is_some() {
                        qcap
                    } else {
                        0.0
                    },
                );
            }
            let sol = lp.solve(10_000);
            if sol.status != LpStatus::Optimal {
                break;
            }
            let upper = sol.objective + base;
            let mu: Vec<f64> = (0..m).map(|j| sol.x[1 + j] + sol.x[1 + m + j]).collect();
            let (g, load) = self.lagrangian(&mu, lo, hi);
            // Primal loads from the master's duals on the cut rows.
            let ncut = self.cuts.len();
            let lsum: f64 = sol.duals[..ncut].iter().sum();
            let primal: Vec<f64> = if lsum > 1e-12 {
                (0..m)
                    .map(|j| {
                        (0..ncut)
                            .map(|k| sol.duals[k] * self.cuts[k][j])
                            .sum::<f64>()
                            / lsum
                    })
                    .collect()
            } else {
                load.clone()
            };
            if g > best {
                best = g;
                best_mu = mu;
            }
            best_load = primal;
            if g >= upper - 1e-7 * (upper.abs() + 1.0) {
                break;
            }
            if !self.push_cut(load) {
                break;
            }
        }
        (best, best_load, best_mu)
    }

    fn push_cut(&mut self, load: Vec<f64>) -> bool {
        if self.cuts.iter().any(|c| {
            c.iter()
                .zip(&load)
                .all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + a.abs()))
        }) {
            return false;
        }
        if self.cuts.len() >= 24 {
            self.cuts.remove(0);
        }
        self.cuts.push(load);
        true
    }

    /// Safety margin for float bounds: their relative error is ~1e-14, far
    /// below this, and far below the integrality step of one objective unit
    /// for objectives under 1e8 units.
    fn margin(v: f64) -> f64 {
        1e-10 * (v.abs() + 1.0)
    }

    /// Nodes whose bound reaches this value cannot contain a better solution.
    fn prune_level(&self) -> f64 {
        match &self.best {
            Some((b, _)) => *b as f64 - 1.0 + 1e-6,
            None => f64::INFINITY,
        }
    }

    fn out_of_budget(&mut self) -> bool {
        if self.nodes >= self.cfg.node_limit {
            self.stop = StopReason::NodeLimit;
            return true;
        }
        if self.start.elapsed() >= self.cfg.time_limit {
            self.stop = StopReason::TimeLimit;
            return true;
        }
        false
    }

    fn run(&mut self) {
        let m = self.m;
        if self.act.is_empty() {
            self.best = Some((0, Vec::new()));
            return;
        }
        // Root LP bound Σ_b min_j w_j·L_bj (exact, in objective units).
        let root_assign = self.argmin_assignment(&self.wf.clone());
        self.lp_bound = self
            .bl
            .iter()
            .map(|row| {
                (0..m)
                    .filter(|&j| row[j].is_finite())
                    .map(|j| self.wf[j] * row[j])
                    .fold(f64::INFINITY, f64::min)
            })
            .sum();
        // Incumbents: single-type fleets, then the rounded LP assignment.
        for j in 0..m {
            if self.act.iter().all(|&b| self.p.slice_load[b][j].is_some()) {
                let asg: Vec<Vec<u32>> = (0..self.act.len())
                    .map(|_| {
                        let mut r = vec![0; m];
                        r[j] = self.k;
                        r
                    })
                    .collect();
                self.offer(asg);
            }
        }
        let improved = self.improve(root_assign);
        self.offer(improved);

        let mut heap = BinaryHeap::new();
        let mut seq = 0u64;
        heap.push(Node {
            lo: vec![0; m],
            hi: self.limit.clone(),
            bound: self.lp_bound,
            seq,
            mu: Vec::new(),
        });
        while let Some(node) = heap.pop() {
            if node.bound >= self.prune_level() {
                continue;
            }
            if self.out_of_budget() {
                heap.push(node);
                break;
            }
            self.nodes += 1;
            let prune_at = self.prune_level();
            let (bnd, load, mu) = self.bound(&node.lo, &node.hi, prune_at, &node.mu);
            let bnd = bnd.max(node.bound) - Self::margin(bnd);
            if bnd >= self.prune_level() {
                continue;
            }
            // Heuristic from this node's LP assignment.
            let mu_asg = self.argmin_assignment(&mu);
            // The local search is the costly part of a node: run it once per
            // distinct LP-rounded assignment.
            let key: Vec<u32> = mu_asg
                .iter()
                .map(|r| r.iter().position(|&n| n > 0).unwrap_or(0) as u32)
                .collect();
            if self.tried.insert(key) {
                let improved = self.improve(mu_asg);
                self.offer(improved);
            }
            if bnd >= self.prune_level() {
                continue;
            }
            // Branch on the most valuable fractional count.
            let mut pick = None;
            let mut pv = 0.0;
            let mut point = vec![0u64; m];
            for j in 0..m {
                let b = load[j].max(node.lo[j] as f64).min(node.hi[j] as f64);
                let f = b - b.floor();
                let v = f.min(1.0 - f);
                point[j] = (b.round() as u64).clamp(node.lo[j], node.hi[j]);
                if v > 1e-6 {
                    let score = v * (self.wf[j] + 1.0);
                    if pick.is_none() || score > pv {
                        pv = score;
                        pick = Some((j, b.floor() as u64));
                    }
                }
            }
            let mut children: Vec<(Vec<u64>, Vec<u64>)> = Vec::new();
            match pick {
                Some((j, f)) => {
                    if f >= node.lo[j] {
                        let mut hi = node.hi.clone();
                        hi[j] = f.min(hi[j]);
                        children.push((node.lo.clone(), hi));
                    }
                    if f < node.hi[j] {
                        let mut lo = node.lo.clone();
                        lo[j] = (f + 1).max(lo[j]);
                        children.push((lo, node.hi.clone()));
                    }
                }
                None => {
                    // Integral LP point: decide it exactly, then remove it from the box.
                    match self.check_point(&point, &mu) {
                        Check::Feasible(asg) => {
                            let improved = self.improve(asg);
                            self.offer(improved);
                        }
                        Check::Infeasible => {}
                        Check::Unknown => {
                            self.unresolved = true;
                            self.unresolved_bound = self.unresolved_bound.min(bnd);
                        }
                    }
                    let mut lo = node.lo.clone();
                    let mut hi = node.hi.clone();
                    for j in 0..m {
                        if point[j] > node.lo[j] {
                            let mut h = hi.clone();
                            h[j] = point[j] - 1;
                            children.push((lo.clone(), h));
                        }
                        if point[j] < node.hi[j] {
                            let mut l = lo.clone();
                            l[j] = point[j] + 1;
                            children.push((l, hi.clone()));
                        }
                        lo[j] = point[j];
                        hi[j] = point[j];
                    }
                }
            }
            for (lo, hi) in children {
                seq += 1;
                heap.push(Node {
                    lo,
                    hi,
                    bound: bnd,
                    seq,
                    mu: mu.clone(),
                });
            }
        }
        // Lower bound: the smallest open bound, or the incumbent when exhausted.
        let open_min = heap
            .iter()
            .map(|n| n.bound)
            .fold(self.unresolved_bound, f64::min);
        let best = self.best.as_ref().map(|b| b.0);
        self.lower_bound = match best {
            Some(b) if open_min.is_infinite() => b,
            Some(b) => {
                let lb = (open_min - Self::margin(open_min)).ceil().max(0.0) as u64;
                lb.min(b)
            }
            None => 0,
        };
        if heap.is_empty() && self.unresolved && self.stop == StopReason::Optimal {
            self.stop = StopReason::Unresolved;
        }
        if !heap.is_empty() && self.stop == StopReason::Optimal {
            self.stop = StopReason::NodeLimit;
        }
    }

    /// The most constraining dual prices for capacity `point`: maximises
    /// `φ(μ) = Σ_b min_j μ_j·L_bj − 1` over `μ >= 0, μ·(point + tol) = 1`
    /// (Kelley). `φ > 0` proves the point LP-infeasible; otherwise `−φ` is the
    /// reduced-cost budget any feasible integer assignment must respect. The
    /// normalisation makes an option with no devices very expensive to use.
    fn feasibility_dual(&mut self, point: &[u64]) -> (f64, Vec<f64>) {
        let m = self.m;
        let capf: Vec<f64> = point
            .iter()
            .map(|&p| p as f64 + LOAD_TOLERANCE as f64 / LOAD_SCALE as f64)
            .collect();
        let total: f64 = capf.iter().sum();
        let uniform = vec![1.0 / total; m];
        let (v0, load) = self.lagrangian_plain(&uniform);
        let mut best = v0 - 1.0;
        let mut best_mu = uniform;
        self.push_cut(load);
        for _ in 0..80 {
            let nv = 1 + m;
            let mut c = vec![0.0; nv];
            c[0] = 1.0;
            let mut lp = Lp::new(c);
            for cut in &self.cuts {
                let mut a = vec![0.0; nv];
                a[0] = 1.0;
                for j in 0..m {
                    a[1 + j] = -cut[j];
                }
                lp.add(a, Sense::Le, 0.0);
            }
            let mut a = vec![0.0; nv];
            a[1..].copy_from_slice(&capf);
            lp.add(a, Sense::Eq, 1.0);
            let sol = lp.solve(10_000);
            if sol.status != LpStatus::Optimal {
                break;
            }
            let mu: Vec<f64> = sol.x[1..].to_vec();
            let (v, load) = self.lagrangian_plain(&mu);
            let g = v - 1.0;
            if g > best {
                best = g;
                best_mu = mu;
            }
            if best > 1e-9 || v >= sol.objective - 1e-12 * (1.0 + sol.objective.abs()) {
                break;
            }
            if !self.push_cut(load) {
                break;
            }
        }
        (best, best_mu)
    }

    /// Local repair towards capacities `cap`: moves and pairwise swaps of
    /// single slices that shrink the largest overflow without overflowing the
    /// receiving option. Returns a fitting assignment, or `None`.
    fn repair(&self, cap: &[u128], mut asg: Vec<Vec<u32>>) -> Option<Vec<Vec<u32>>> {
        let m = self.m;
        let na = asg.len();
        let mut loads = vec![0u128; m];
        for (a, row) in asg.iter().enumerate() {
            for j in 0..m {
                if row[j] > 0 {
                    loads[j] += u128::from(row[j]) * u128::from(self.slice(a, j)?);
                }
            }
        }
        for _ in 0..4 * na * self.k as usize + 64 {
            let over = (0..m).filter(|&j| loads[j] > cap[j]).max_by(|&x, &y| {
                (loads[x] - cap[x])
                    .cmp(&(loads[y] - cap[y]))
                    .then(y.cmp(&x))
            });
            let Some(j) = over else { return Some(asg) };
            let excess = loads[j] - cap[j];
            // Best single move off j: resolves the most excess per unit of
            // receiving capacity used.
            let mut best: Option<(f64, usize, usize)> = None;
            for a in 0..na {
                if asg[a][j] == 0 {
                    continue;
                }
                let sj = u128::from(self.slice(a, j)?);
                for i in 0..m {
                    if i == j {
                        continue;
                    }
                    if let Some(si) = self.slice(a, i) {
                        let si = u128::from(si);
                        if loads[i] + si <= cap[i] {
                            let gain = sj.min(excess) as f64;
                            let score = gain / (si as f64 / cap[i].max(1) as f64 + 1e-18);
                            if best.is_none_or(|b| score > b.0) {
                                best = Some((score, a, i));
                            }
                        }
                    }
                }
            }
            if let Some((_, a, i)) = best {
                let sj = u128::from(self.slice(a, j)?);
                let si = u128::from(self.slice(a, i)?);
                asg[a][j] -= 1;
                asg[a][i] += 1;
                loads[j] -= sj;
                loads[i] += si;
                continue;
            }
            // Swap: x moves j→i, y moves i→j, net shrinking j, i still fits.
            let mut best: Option<(u128, usize, usize, usize)> = None;
            for x in 0..na {
                if asg[x][j] == 0 {
                    continue;
                }
                let xj = u128::from(self.slice(x, j)?);
                for i in 0..m {
                    if i == j {
                        continue;
                    }
                    let Some(xi) = self.slice(x, i) else { continue };
                    let xi = u128::from(xi);
                    for y in 0..na {
                        if y == x || asg[y][i] == 0 {
                            continue;
                        }
                        let (Some(yj), Some(yi)) = (self.slice(y, j), self.slice(y, i)) else {
                            continue;
                        };
                        let (yj, yi) = (u128::from(yj), u128::from(yi));
                        if yj >= xj || loads[i] + xi > cap[i] + yi {
                            continue;
                        }
                        let gain = (xj - yj).min(excess);
                        if best.is_none_or(|b| gain > b.0) {
                            best = Some((gain, x, y, i));
                        }
                    }
                }
            }
            let (_, x, y, i) = best?;
            let (xj, xi) = (u128::from(self.slice(x, j)?), u128::from(self.slice(x, i)?));
            let (yj, yi) = (u128::from(self.slice(y, j)?), u128::from(self.slice(y, i)?));
            asg[x][j] -= 1;
            asg[x][i] += 1;
            asg[y][i] -= 1;
            asg[y][j] += 1;
            loads[j] = loads[j] - xj + yj;
            loads[i] = loads[i] + xi - yi;
        }
        None
    }

    /// `Σ_b min_j μ_j·L_bj` and the minimising assignment's loads.
    fn lagrangian_plain(&self, mu: &[f64]) -> (f64, Vec<f64>) {
        let mut val = 0.0;
        let mut load = vec![0.0; self.m];
        for row in &self.bl {
            let mut bj = usize::MAX;
            let mut bv = f64::INFINITY;
            for j in 0..self.m {
                if row[j].is_finite() {
                    let v = mu[j] * row[j];
                    if bj == usize::MAX || v < bv {
                        bv = v;
                        bj = j;
                    }
                }
            }
            val += bv;
            load[bj] += row[bj];
        }
        (val, load)
    }

    /// Exact decision: can the slices be packed into `point` devices?
    fn check_point(&mut self, point: &[u64], node_mu: &[f64]) -> Check {
        let cap: Vec<u128> = point.iter().map(|&c| cap_units(c)).collect();
        let na = self.act.len();
        let m = self.m;
        // Greedy: biggest relative slices first, each to the option where it
        // uses the smallest share of that option's capacity.
        let rel = |s: &Self, a: usize| -> f64 {
            (0..m)
                .filter_map(|j| s.slice(a, j).map(|x| x as f64 / cap[j].max(1) as f64))
                .fold(f64::INFINITY, f64::min)
        };
        let mut order: Vec<usize> = (0..na).collect();
        order.sort_by(|&a, &b| rel(self, b).total_cmp(&rel(self, a)).then(a.cmp(&b)));
        let mut loads = vec![0u128; m];
        let mut asg = vec![vec![0u32; m]; na];
        let mut ok = true;
        'g: for &a in &order {
            for _ in 0..self.k {
                let mut dest = None;
                let mut dv = f64::INFINITY;
                for j in 0..m {
                    if let Some(s) = self.slice(a, j) {
                        let s = u128::from(s);
                        if loads[j] + s <= cap[j] {
                            let v = s as f64 / cap[j] as f64;
                            if v < dv {
                                dv = v;
                                dest = Some((j, s));
                            }
                        }
                    }
                }
                match dest {
                    Some((j, s)) => {
                        loads[j] += s;
                        asg[a][j] += 1;
                    }
                    None => {
                        ok = false;
                        break 'g;
                    }
                }
            }
        }
        if ok {
            return Check::Feasible(asg);
        }
        // Lagrangian certificate: LP-infeasible points are rejected outright;
        // otherwise every slice placed off its cheapest option (at prices μ)
        // spends reduced cost from the budget −φ.
        let (phi, mu) = self.feasibility_dual(point);
        if phi > 1e-9 {
            return Check::Infeasible;
        }
        let phi = phi.min(0.0);
        if let Some(asg) = self.repair(&cap, self.argmin_assignment(&mu)) {
            return Check::Feasible(asg);
        }
        let kf = f64::from(self.k);
        // Two certificates: the feasibility prices μ (budget −φ) and the
        // node's cost duals (budget μ·(P + tol) − Σ_b min_j μ_j·L_bj).
        let capf: Vec<f64> = point
            .iter()
            .map(|&p| p as f64 + LOAD_TOLERANCE as f64 / LOAD_SCALE as f64)
            .collect();
        let (node_val, _) = self.lagrangian_plain(node_mu);
        let node_budget = node_mu.iter().zip(&capf).map(|(a, b)| a * b).sum::<f64>() - node_val;
        if node_budget < -1e-9 * (1.0 + node_val.abs()) {
            return Check::Infeasible;
        }
        let certs = [(mu, -phi), (node_mu.to_vec(), node_budget.max(0.0))];
        let reduced = |mu: &[f64]| -> Vec<Vec<f64>> {
            self.bl
                .iter()
                .map(|row| {
                    let best = (0..m)
                        .filter(|&j| row[j].is_finite())
                        .map(|j| mu[j] * row[j])
                        .fold(f64::INFINITY, f64::min);
                    (0..m)
                        .map(|j| {
                            if row[j].is_finite() {
                                (mu[j] * row[j] - best) / kf
                            } else {
                                f64::INFINITY
                            }
                        })
                        .collect()
                })
                .collect()
        };
        let reds: Vec<Vec<Vec<f64>>> = certs.iter().map(|(mu, _)| reduced(mu)).collect();
        let budgets: Vec<f64> = certs
            .iter()
            .map(|(mu, b)| {
                let scale: f64 = mu.iter().zip(&capf).map(|(a, c)| a * c).sum::<f64>();
                b + 1e-9 * (1.0 + scale.abs())
            })
            .collect();
        // Per bucket, the options a slice may use under both budgets, the
        // first certificate's cheapest first.
        let allowed: Vec<Vec<usize>> = (0..na)
            .map(|a| {
                let mut v: Vec<usize> = (0..m)
                    .filter(|&j| (0..reds.len()).all(|c| reds[c][a][j] <= budgets[c]))
                    .collect();
                v.sort_by(|&x, &y| reds[0][a][x].total_cmp(&reds[0][a][y]).then(x.cmp(&y)));
                v
            })
            .collect();
        if allowed.iter().any(|v| v.is_empty()) {
            return Check::Infeasible;
        }
        // Buckets with one allowed option first (they are forced), then the
        // flexible ones by decreasing relative size.
        let mut order: Vec<usize> = (0..na).collect();
        order.sort_by(|&a, &b| {
            (allowed[a].len() > 1)
                .cmp(&(allowed[b].len() > 1))
                .then(rel(self, b).total_cmp(&rel(self, a)))
                .then(a.cmp(&b))
        });
        let mut suffix = vec![0.0; na + 1];
        for t in (0..na).rev() {
            suffix[t] = suffix[t + 1] + kf * rel(self, order[t]);
        }
        let mut dfs = Dfs {
            s: self,
            order: &order,
            cap: &cap,
            allowed: &allowed,
            reds: &reds,
            budgets: &budgets,
            loads: vec![0; m],
            asg: vec![vec![0u32; m]; na],
            nodes: 0,
            limit: self.cfg.check_limit,
            suffix_min: suffix,
        };
        let res = dfs.go(0, 0, 0, [0.0, 0.0]);
        match res {
            Some(true) => Check::Feasible(dfs.asg),
            Some(false) => Check::Infeasible,
            None => Check::Unknown,
        }
    }

    fn into_outcome(self) -> FleetOutcome {
        let Some((obj, asg_act)) = self.best.clone() else {
            let limits = self
                .p
                .options
                .iter()
                .filter_map(|o| o.max_count.map(|c| (o.name.clone(), c)))
                .collect();
            return FleetOutcome::Infeasible(Infeasibility::CountLimits {
                limits,
                stop: self.stop,
            });
        };
        let m = self.m;
        let mut assignment = vec![vec![0u32; m]; self.p.buckets.len()];
        for (a, row) in asg_act.iter().enumerate() {
            assignment[self.act[a]] = row.clone();
        }
        let (loads, counts, _) = if asg_act.is_empty() {
            (vec![0u128; m], vec![0u64; m], 0)
        } else {
            self.evaluate(&asg_act)
        };
        let mut cost = 0u64;
        let mut power = 0u64;
        let mut cmap = BTreeMap::new();
        let mut lmap = BTreeMap::new();
        for j in 0..m {
            let o = &self.p.options[j];
            cost = cost.saturating_add(o.price.micros().saturating_mul(counts[j]));
            power = power.saturating_add(u64::from(o.power.get()) * counts[j]);
            cmap.insert(o.name.clone(), counts[j] as u32);
            lmap.insert(o.name.clone(), loads[j] as f64 / LOAD_SCALE as f64);
        }
        let mut single = BTreeMap::new();
        for j in 0..m {
            if let Some(t) = self.p.total_load_units(j) {
                let c = ceil_units(t);
                single.insert(
                    self.p.options[j].name.clone(),
                    SingleTypeFleet {
                        count: c as u32,
                        cost: PricePerHour::from_micros(
                            self.p.options[j].price.micros().saturating_mul(c),
                        ),
                    },
                );
            }
        }
        let gap = if obj == 0 {
            0.0
        } else {
            (obj - self.lower_bound.min(obj)) as f64 / obj as f64
        };
        FleetOutcome::Plan(FleetPlan {
            counts: cmap,
            cost: PricePerHour::from_micros(cost),
            power: Watts::new(power.min(u64::from(u32::MAX)) as u32),
            objective: obj,
            lower_bound: self.lower_bound.min(obj),
            gap,
            lp_bound: self.lp_bound,
            stop: self.stop,
            nodes: self.nodes,
            assignment,
            loads: lmap,
            single_type: single,
        })
    }
}

enum Check {
    Feasible(Vec<Vec<u32>>),
    Infeasible,
    Unknown,
}

struct Dfs<'s, 'a> {
    s: &'s Solver<'a>,
    order: &'s [usize],
    cap: &'s [u128],
    allowed: &'s [Vec<usize>],
    reds: &'s [Vec<Vec<f64>>],
    budgets: &'s [f64],
    loads: Vec<u128>,
    asg: Vec<Vec<u32>>,
    nodes: u64,
    limit: u64,
    suffix_min: Vec<f64>,
}

impl Dfs<'_, '_> {
    /// Places slice number `done` of bucket `order[t]` on an allowed option at
    /// position `>= from` (slices of one bucket are interchangeable), having
    /// spent `spent` reduced cost.
    fn go(&mut self, t: usize, done: u32, from: usize, spent: [f64; 2]) -> Option<bool> {
        let k = self.s.k;
        let (t, done, from) = if done == k {
            (t + 1, 0, 0)
        } else {
            (t, done, from)
        };
        if t == self.order.len() {
            return Some(true);
        }
        self.nodes += 1;
        if self.nodes > self.limit {
            return None;
        }
        let m = self.s.m;
        // Capacity bound: remaining normalised demand must fit in normalised room.
        let room: f64 = (0..m)
            .map(|j| {
                (self.cap[j] - self.loads[j].min(self.cap[j])) as f64 / self.cap[j].max(1) as f64
            })
            .sum();
        let a = self.order[t];
        let rel_a: f64 = (0..m)
            .filter_map(|j| {
                self.s
                    .slice(a, j)
                    .map(|s| s as f64 / self.cap[j].max(1) as f64)
            })
            .fold(f64::INFINITY, f64::min);
        let need = self.suffix_min[t + 1] + f64::from(k - done) * rel_a;
        if need > room * (1.0 + 1e-12) + 1e-12 {
            return Some(false);
        }
        let opts = &self.allowed[a];
        for (pos, &j) in opts.iter().enumerate().skip(from) {
            let sp = [spent[0] + self.reds[0][a][j], spent[1] + self.reds[1][a][j]];
            if sp[0] > self.budgets[0] || sp[1] > self.budgets[1] {
                continue;
            }
            let Some(s) = self.s.slice(a, j) else {
                continue;
            };
            let s = u128::from(s);
            if self.loads[j] + s <= self.cap[j] {
                self.loads[j] += s;
                self.asg[a][j] += 1;
                let res = self.go(t, done + 1, pos, sp);
                if res != Some(false) {
                    return res;
                }
                self.loads[j] -= s;
                self.asg[a][j] -= 1;
            }
        }
        Some(false)
    }
}
