//! Scored, bounded allocation of DRA claims onto the devices of
//! ResourceSlices.
//!
//! The in-tree allocator takes the first solution of a depth-first search
//! and does no device scoring. This one searches the same space —
//! `firstAvailable` alternatives in order, devices of each (sub-)request,
//! `matchAttribute` / `distinctAttribute` constraints, shared counters of
//! partitionable devices, consumable capacity — best first, keeps the best
//! [`AllocationScore`], and stops at a proven optimum, at the end of the
//! space, or at the step budget, saying which.
//!
//! **Bounds.** Before any search, infeasibility is proved in
//! O(R·A·D·(S + C)) (R requests, A ≤ 8 alternatives each, D devices, S
//! selectors, C constraints) when some request has no alternative with
//! enough candidate devices, or when a `matchAttribute` constraint has no
//! value that enough devices of every constrained request share (counts per
//! attribute value). The search itself visits at most
//! [`AllocatorConfig::max_steps`] device choices, each costing O(D + K)
//! (K counters of the device), so the worst case is O(max_steps · (D + K))
//! whether or not a solution exists — never exponential; a search cut by
//! the budget is reported as [`StopReason::Budget`] (without an allocation
//! it means "not found within the budget", not "does not fit"). Within one
//! sub-request devices are chosen as combinations (increasing candidate
//! order), not permutations.
//!
//! ```
//! use rightsizer_k8s::allocate::{DraAllocator, AllocatorConfig, InUse};
//! let dump = r#"
//! apiVersion: resource.k8s.io/v1
//! kind: ResourceSlice
//! metadata: {name: node-a-gpu}
//! spec:
//!   driver: gpu.example.com
//!   pool: {name: node-a, generation: 1, resourceSliceCount: 1}
//!   nodeName: node-a
//!   devices:
//!   - {name: gpu-0, attributes: {model: {string: A100}}, capacity: {memory: {value: 40Gi}}}
//!   - {name: gpu-1, attributes: {model: {string: H100}}, capacity: {memory: {value: 80Gi}}}
//! ---
//! apiVersion: resource.k8s.io/v1
//! kind: DeviceClass
//! metadata: {name: gpu}
//! spec:
//!   selectors: [{cel: {expression: 'device.driver == "gpu.example.com"'}}]
//! ---
//! apiVersion: resource.k8s.io/v1
//! kind: ResourceClaim
//! metadata: {name: big, namespace: ml}
//! spec:
//!   devices:
//!     requests:
//!     - name: gpu
//!       exactly:
//!         deviceClassName: gpu
//!         selectors:
//!         - cel: {expression: 'device.capacity["gpu.example.com"].memory.compareTo(quantity("64Gi")) >= 0'}
//! "#;
//! let import = rightsizer_k8s::Importer::new().import_str(dump, "dra.yaml")?;
//! let alloc = DraAllocator::from_import(&import, AllocatorConfig::default());
//! let claim = import.dra_claim(Some("ml"), "big").expect("claim read");
//! let report = alloc.allocate(&claim, "node-a", &InUse::default());
//! let a = report.allocation.expect("fits");
//! assert_eq!(a.devices[0].device, "gpu-1");
//! let status = a.allocation_result(); // a k8s-openapi AllocationResult
//! assert_eq!(status.devices.unwrap().results.unwrap()[0].request, "gpu");
//! # Ok::<(), rightsizer_k8s::ImportError>(())
//! ```

use crate::cel::{evaluate, AttrValue, DeviceView, Selector};
use crate::error::ObjectRef;
use crate::import::Import;
use k8s_openapi::api::resource::v1 as resource;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// An amount of a capacity or counter, in milli-units of its quantity
/// (`Quantity::milli_value`, rounded up).
pub type Amount = i64;

/// How a consumable capacity rounds a request (`requestPolicy`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CapacityPolicy {
    /// `default`: consumed when the request does not name this capacity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Amount>,
    /// `validValues` (ascending): a request rounds up to the next one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub valid_values: Vec<Amount>,
    /// `validRange` `(min, max, step)`: a request rounds up to `min + n·step`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_range: Option<(Amount, Option<Amount>, Option<Amount>)>,
}

impl CapacityPolicy {
    /// What a request of `asked` (or none) consumes of a capacity of
    /// `total`; `None` when the policy refuses it.
    pub fn consumed(&self, asked: Option<Amount>, total: Amount) -> Option<Amount> {
        let Some(a) = asked else {
            return Some(self.default.unwrap_or(total));
        };
        if !self.valid_values.is_empty() {
            return self.valid_values.iter().copied().find(|v| *v >= a);
        }
        if let Some((min, max, step)) = self.valid_range {
            let v = if a <= min {
                min
            } else {
                match step.filter(|s| *s > 0) {
                    Some(s) => min.saturating_add(((a - min) + s - 1) / s * s),
                    None => a,
                }
            };
            return max.is_none_or(|m| v <= m).then_some(v);
        }
        Some(a)
    }
}

/// What a partitionable device draws from one counter set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CounterConsumption {
    /// `counterSet`.
    pub counter_set: String,
    /// Counter name → amount.
    pub counters: BTreeMap<String, Amount>,
}

/// A device of a slice as the allocator sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SliceDevice {
    /// Device name.
    pub name: String,
    /// What selectors see (driver, attributes, capacity).
    #[serde(skip)]
    pub view: DeviceView,
    /// Capacities in milli-units, by qualified name.
    pub capacity: BTreeMap<String, Amount>,
    /// Capacity request policies, by qualified name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, CapacityPolicy>,
    /// `consumesCounters` (partitionable devices).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumes: Vec<CounterConsumption>,
    /// `allowMultipleAllocations` (consumable capacity).
    pub multiple_allocations: bool,
}

/// Where a slice's devices are usable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum SliceNodes {
    /// `nodeName`.
    Node(String),
    /// `allNodes: true`.
    AllNodes,
    /// `nodeSelector` or per-device node selection: not evaluated by the
    /// allocator (its devices are not offered; the report says so).
    Selector,
}

/// A ResourceSlice, normalised over API versions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DraSlice {
    /// Slice name.
    pub name: String,
    /// `spec.driver`.
    pub driver: String,
    /// `spec.pool.name`.
    pub pool: String,
    /// `spec.pool.generation` (only the highest of a pool counts).
    pub generation: i64,
    /// Where its devices are usable.
    pub nodes: SliceNodes,
    /// Devices.
    pub devices: Vec<SliceDevice>,
    /// `sharedCounters`: counter set → counter → amount.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub shared_counters: BTreeMap<String, BTreeMap<String, Amount>>,
}

/// How many devices a (sub-)request wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum DeviceCount {
    /// `allocationMode: ExactCount` with `count`.
    Exact(u32),
    /// `allocationMode: All`: every matching device, none of them in use.
    All,
}

/// One way to satisfy a request (the request itself for `exactly`, or one
/// `firstAvailable` sub-request).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubRequest {
    /// Name in allocation results: `request` or `request/sub-request`.
    pub name: String,
    /// `deviceClassName`.
    pub device_class: String,
    /// CEL selectors of the request (the class's are added).
    pub selectors: Vec<String>,
    /// Devices wanted.
    pub count: DeviceCount,
    /// `capacity.requests` in milli-units.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub capacity: BTreeMap<String, Amount>,
}

/// A claim request with its alternatives in preference order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClaimRequest {
    /// Request name.
    pub name: String,
    /// Alternatives (one for `exactly`).
    pub alternatives: Vec<SubRequest>,
}

/// A `constraints[]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum ClaimConstraint {
    /// All devices of `requests` (all requests when empty) share the value.
    MatchAttribute {
        /// Qualified attribute name.
        attribute: String,
        /// Requests it applies to.
        requests: Vec<String>,
    },
    /// All devices of `requests` have pairwise different values.
    DistinctAttribute {
        /// Qualified attribute name.
        attribute: String,
        /// Requests it applies to.
        requests: Vec<String>,
    },
}

/// A ResourceClaim (or template) as the allocator sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DraClaim {
    /// The object.
    pub object: ObjectRef,
    /// Requests in order.
    pub requests: Vec<ClaimRequest>,
    /// Constraints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<ClaimConstraint>,
}

/// Allocator settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocatorConfig {
    /// Device choices the search may make before it stops (default 100,000).
    pub max_steps: u64,
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        Self { max_steps: 100_000 }
    }
}

impl AllocatorConfig {
    /// Sets the step budget (builder style).
    pub fn max_steps(mut self, steps: u64) -> Self {
        self.max_steps = steps;
        self
    }
}

/// Why the search stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StopReason {
    /// The best allocation reaches the lower bound.
    Optimal,
    /// The whole (pruned) space was searched.
    Exhausted,
    /// Counting proved there is no allocation, before any search.
    Infeasible,
    /// The step budget ran out.
    Budget,
}

/// The score of an allocation, compared lexicographically (lower is
/// better): `firstAvailable` preference first, then fragmentation.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AllocationScore {
    /// Chosen alternative per request (0 = the first; `exactly` is 0).
    pub alternatives: Vec<usize>,
    /// Counter sets left partly consumed (neither untouched nor exhausted)
    /// on this node: fewer means partitions packed onto fewer physical
    /// devices.
    pub partial_counter_sets: u32,
    /// Remaining consumable capacity of the shared devices in use, in
    /// permille of each capacity, summed: lower means best fit.
    pub stranded_permille: u64,
}

/// One allocated device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceAllocation {
    /// Request name (`request` or `request/sub-request`).
    pub request: String,
    /// Driver.
    pub driver: String,
    /// Pool.
    pub pool: String,
    /// Device name.
    pub device: String,
    /// Consumed capacity (devices with `allowMultipleAllocations`), milli-units.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub consumed_capacity: BTreeMap<String, Amount>,
}

/// An allocation of one claim on one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimAllocation {
    /// The node.
    pub node: String,
    /// Devices in request order.
    pub devices: Vec<DeviceAllocation>,
    /// Its score.
    pub score: AllocationScore,
}

fn quantity_of_milli(m: Amount) -> K8sQuantity {
    let q = rightsizer_model::quantity::Quantity::new_milli(
        m,
        rightsizer_model::quantity::Format::DecimalSI,
    );
    K8sQuantity(q.to_string())
}

impl ClaimAllocation {
    /// The claim's `status.allocation`: results with `consumedCapacity` and a
    /// `shareID` for shared devices, and the node selector.
    pub fn allocation_result(&self) -> resource::AllocationResult {
        let devices: Vec<crate::export::AllocatedDevice> = self
            .devices
            .iter()
            .map(|d| crate::export::AllocatedDevice {
                request: d.request.clone(),
                driver: d.driver.clone(),
                pool: d.pool.clone(),
                device: d.device.clone(),
            })
            .collect();
        let mut r = crate::export::allocation_result(&devices, &self.node);
        if let Some(results) = r.devices.as_mut().and_then(|d| d.results.as_mut()) {
            for (i, (res, d)) in results.iter_mut().zip(&self.devices).enumerate() {
                if !d.consumed_capacity.is_empty() {
                    res.consumed_capacity = Some(
                        d.consumed_capacity
                            .iter()
                            .map(|(k, v)| (k.clone(), quantity_of_milli(*v)))
                            .collect(),
                    );
                    // A share ID is a DNS label unique per device among allocations.
                    res.share_id = Some(format!("share-{i}"));
                }
            }
        }
        r
    }
}

/// The outcome of [`DraAllocator::allocate`]: the best allocation found (if
/// any), why the search stopped, what it cost, the lower bound of the score,
/// and the reasons devices or alternatives were ruled out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllocationReport {
    /// The best allocation found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation: Option<ClaimAllocation>,
    /// Why the search stopped.
    pub stop: StopReason,
    /// Device choices made.
    pub steps: u64,
    /// A lower bound of the score (the allocation is optimal when equal).
    pub lower_bound: AllocationScore,
    /// Why devices, slices or alternatives were ruled out (sorted, unique).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// Devices already allocated to other claims.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InUse {
    /// (driver, pool, device) → capacity consumed (empty for exclusive use).
    pub devices: BTreeMap<(String, String, String), Vec<BTreeMap<String, Amount>>>,
}

impl InUse {
    /// Records an allocation's devices as in use.
    pub fn add(&mut self, a: &ClaimAllocation) {
        for d in &a.devices {
            self.devices
                .entry((d.driver.clone(), d.pool.clone(), d.device.clone()))
                .or_default()
                .push(d.consumed_capacity.clone());
        }
    }
}

/// Allocates claims against a fixed set of slices and device classes.
#[derive(Clone, Debug)]
pub struct DraAllocator {
    slices: Vec<DraSlice>,
    classes: BTreeMap<String, Vec<String>>,
    config: AllocatorConfig,
}

/// A device of the candidate node, flattened.
struct Dev<'a> {
    driver: &'a str,
    pool: &'a str,
    d: &'a SliceDevice,
    /// (counter slot, amount) per consumed counter.
    draws: Vec<(usize, Amount)>,
    /// Counter sets it draws from (slot ranges are per set).
    sets: Vec<usize>,
}

/// A chosen device: (request index, device index, capacity consumed).
type Choice = (usize, usize, BTreeMap<String, Amount>);

struct Search<'a> {
    devs: Vec<Dev<'a>>,
    /// Per request, per alternative: candidate device indices.
    cands: Vec<Vec<Vec<usize>>>,
    claim: &'a DraClaim,
    /// Counter slots: remaining amount and the set each belongs to.
    left: Vec<Amount>,
    total: Vec<Amount>,
    set_of: Vec<usize>,
    set_count: usize,
    /// Remaining capacity per device (multi-allocatable devices).
    cap_left: Vec<BTreeMap<String, Amount>>,
    /// Exclusive use within this claim or by others.
    busy: Vec<bool>,
    /// Shared device already used (by others or this claim).
    touched: Vec<bool>,
    /// Per constraint: fixed value (match) or used values (distinct).
    fixed: Vec<Option<AttrValue>>,
    used_values: Vec<Vec<AttrValue>>,
    /// Constraint indices per request.
    constraints_of: Vec<Vec<usize>>,
    /// Per match constraint: values with enough devices for every request.
    viable: Vec<Option<Vec<AttrValue>>>,
    steps: u64,
    max_steps: u64,
    chosen: Vec<Choice>,
    alts: Vec<usize>,
    best: Option<(AllocationScore, Vec<Choice>)>,
    lower: AllocationScore,
    out_of_budget: bool,
    optimal: bool,
}

fn attr<'v>(d: &'v SliceDevice, name: &str) -> Option<&'v AttrValue> {
    d.view.attributes.get(name)
}

impl DraAllocator {
    /// From slices and classes (class name → CEL selectors).
    pub fn new(
        slices: Vec<DraSlice>,
        classes: BTreeMap<String, Vec<String>>,
        config: AllocatorConfig,
    ) -> Self {
        Self {
            slices,
            classes,
            config,
        }
    }

    /// The slices and device classes of an import.
    pub fn from_import(import: &Import, config: AllocatorConfig) -> Self {
        let slices = import.dra.iter().filter_map(|d| d.slice.clone()).collect();
        let classes = import
            .dra
            .iter()
            .filter(|d| d.object.kind == "DeviceClass")
            .map(|d| (d.object.name.clone(), d.selectors.clone()))
            .collect();
        Self::new(slices, classes, config)
    }

    /// The slices offered.
    pub fn slices(&self) -> &[DraSlice] {
        &self.slices
    }

    /// Allocates `claim` on `node`, with `in_use` devices taken. Deterministic:
    /// candidates are ordered by score, then driver, pool and device name.
    pub fn allocate(&self, claim: &DraClaim, node: &str, in_use: &InUse) -> AllocationReport {
        let mut reasons = BTreeSet::new();
        // Newest generation per pool.
        let mut newest: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        for s in &self.slices {
            let g = newest.entry((&s.driver, &s.pool)).or_insert(s.generation);
            *g = (*g).max(s.generation);
        }
        let current =
            |s: &DraSlice| newest.get(&(s.driver.as_str(), s.pool.as_str())) == Some(&s.generation);
        // Counter sets of the pools, by (driver, pool, set).
        let mut slot_of: BTreeMap<(&str, &str, &str, &str), usize> = BTreeMap::new();
        let mut set_id: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
        let (mut total, mut set_of) = (Vec::new(), Vec::new());
        for s in self.slices.iter().filter(|s| current(s)) {
            for (set, counters) in &s.shared_counters {
                let n = set_id.len();
                let id = *set_id.entry((&s.driver, &s.pool, set)).or_insert(n);
                for (c, v) in counters {
                    slot_of
                        .entry((&s.driver, &s.pool, set, c))
                        .or_insert_with(|| {
                            total.push(*v);
                            set_of.push(id);
                            total.len() - 1
                        });
                }
            }
        }
        let mut devs = Vec::new();
        for s in self.slices.iter().filter(|s| current(s)) {
            match &s.nodes {
                SliceNodes::Node(n) if n == node => {}
                SliceNodes::AllNodes => {}
                SliceNodes::Node(_) => continue,
                SliceNodes::Selector => {
                    reasons.insert(format!(
                        "slice {}: node selectors are not evaluated; its devices are not offered",
                        s.name
                    ));
                    continue;
                }
            }
            'dev: for d in &s.devices {
                let mut draws = Vec::new();
                let mut sets = Vec::new();
                for cc in &d.consumes {
                    let Some(&set) =
                        set_id.get(&(s.driver.as_str(), s.pool.as_str(), cc.counter_set.as_str()))
                    else {
                        reasons.insert(format!(
                            "device {}/{}: counter set {:?} is not declared in its pool",
                            s.pool, d.name, cc.counter_set
                        ));
                        continue 'dev;
                    };
                    sets.push(set);
                    for (c, v) in &cc.counters {
                        match slot_of.get(&(
                            s.driver.as_str(),
                            s.pool.as_str(),
                            cc.counter_set.as_str(),
                            c.as_str(),
                        )) {
                            Some(&slot) => draws.push((slot, *v)),
                            None => {
                                reasons.insert(format!(
                                    "device {}/{}: counter {:?} is not in set {:?}",
                                    s.pool, d.name, c, cc.counter_set
                                ));
                                continue 'dev;
                            }
                        }
                    }
                }
                devs.push(Dev {
                    driver: &s.driver,
                    pool: &s.pool,
                    d,
                    draws,
                    sets,
                });
            }
        }
        devs.sort_by(|a, b| (a.driver, a.pool, &a.d.name).cmp(&(b.driver, b.pool, &b.d.name)));
        devs.dedup_by(|a, b| (a.driver, a.pool, &a.d.name) == (b.driver, b.pool, &b.d.name));
        let mut left = total.clone();
        let mut busy = vec![false; devs.len()];
        let mut touched = vec![false; devs.len()];
        let mut cap_left: Vec<BTreeMap<String, Amount>> =
            devs.iter().map(|d| d.d.capacity.clone()).collect();
        for (i, d) in devs.iter().enumerate() {
            let key = (d.driver.to_owned(), d.pool.to_owned(), d.d.name.clone());
            let Some(uses) = in_use.devices.get(&key) else {
                continue;
            };
            touched[i] = true;
            if !d.d.multiple_allocations {
                busy[i] = true;
            }
            for u in uses {
                for (k, v) in u {
                    if let Some(c) = cap_left[i].get_mut(k) {
                        *c -= v;
                    }
                }
                for (slot, v) in &d.draws {
                    left[*slot] -= v;
                }
            }
        }
        // Candidates per request and alternative.
        let mut cands = Vec::new();
        let mut lower = AllocationScore::default();
        let mut infeasible = false;
        for r in &claim.requests {
            let mut per_alt = Vec::new();
            let mut first_ok = None;
            for (ai, a) in r.alternatives.iter().enumerate() {
                let mut sels: Vec<&str> = Vec::new();
                match self.classes.get(&a.device_class) {
                    Some(c) => sels.extend(c.iter().map(String::as_str)),
                    None => {
                        reasons.insert(format!(
                            "{}: device class {:?} is not in the dump",
                            a.name, a.device_class
                        ));
                        per_alt.push(Vec::new());
                        continue;
                    }
                }
                sels.extend(a.selectors.iter().map(String::as_str));
                let mut c = Vec::new();
                let mut any_busy = false;
                for (i, d) in devs.iter().enumerate() {
                    if !self.matches(&sels, d.d, &a.name, &mut reasons) {
                        continue;
                    }
                    if a.capacity
                        .keys()
                        .any(|k| !d.d.capacity.contains_key(&qualified(k, d.driver)))
                    {
                        continue;
                    }
                    if !d.d.multiple_allocations
                        && a.capacity.iter().any(|(k, v)| {
                            d.d.capacity
                                .get(&qualified(k, d.driver))
                                .is_some_and(|c| c < v)
                        })
                    {
                        continue;
                    }
                    if busy[i] {
                        any_busy = true;
                        continue;
                    }
                    c.push(i);
                }
                let enough = match a.count {
                    DeviceCount::Exact(n) => c.len() >= n as usize,
                    DeviceCount::All => !c.is_empty() && !any_busy,
                };
                if !enough {
                    reasons.insert(format!(
                        "{}: {} free matching device(s) for {}",
                        a.name,
                        c.len(),
                        match a.count {
                            DeviceCount::Exact(n) => format!("{n} wanted"),
                            DeviceCount::All =>
                                "allocationMode All (every match, none in use)".into(),
                        }
                    ));
                    c.clear();
                } else if first_ok.is_none() {
                    first_ok = Some(ai);
                }
                per_alt.push(c);
            }
            match first_ok {
                Some(ai) => lower.alternatives.push(ai),
                None => {
                    infeasible = true;
                    reasons.insert(format!(
                        "request {}: no alternative has enough devices",
                        r.name
                    ));
                    lower.alternatives.push(0);
                }
            }
            cands.push(per_alt);
        }
        let names: Vec<&str> = claim.requests.iter().map(|r| r.name.as_str()).collect();
        let applies = |reqs: &[String], r: &str| reqs.is_empty() || reqs.iter().any(|x| x == r);
        let mut constraints_of = vec![Vec::new(); claim.requests.len()];
        let mut viable = Vec::new();
        for (ci, c) in claim.constraints.iter().enumerate() {
            let (attribute, reqs, is_match) = match c {
                ClaimConstraint::MatchAttribute {
                    attribute,
                    requests,
                } => (attribute, requests, true),
                ClaimConstraint::DistinctAttribute {
                    attribute,
                    requests,
                } => (attribute, requests, false),
            };
            for (ri, n) in names.iter().enumerate() {
                if applies(reqs, n) {
                    constraints_of[ri].push(ci);
                }
            }
            if !is_match {
                viable.push(None);
                continue;
            }
            // Counts per attribute value: a value is viable when every
            // constrained request has an alternative with enough devices
            // carrying it.
            let mut values: Vec<AttrValue> = Vec::new();
            for (ri, _) in names.iter().enumerate().filter(|(_, n)| applies(reqs, n)) {
                for alt in &cands[ri] {
                    for &i in alt {
                        if let Some(v) = attr(devs[i].d, attribute) {
                            if !values.contains(v) {
                                values.push(v.clone());
                            }
                        }
                    }
                }
            }
            values.retain(|v| {
                names
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| applies(reqs, n))
                    .all(|(ri, _)| {
                        claim.requests[ri]
                            .alternatives
                            .iter()
                            .zip(&cands[ri])
                            .any(|(a, alt)| {
                                let with = alt
                                    .iter()
                                    .filter(|&&i| attr(devs[i].d, attribute) == Some(v))
                                    .count();
                                match a.count {
                                    DeviceCount::Exact(n) => {
                                        with >= n as usize && with > 0 || n == 0
                                    }
                                    DeviceCount::All => with == alt.len() && with > 0,
                                }
                            })
                    })
            });
            if values.is_empty() {
                infeasible = true;
                reasons.insert(format!("constraint matchAttribute {attribute}: no value is shared by enough devices of every request"));
            }
            viable.push(Some(values));
        }
        let mut s = Search {
            cands,
            claim,
            left,
            total,
            set_of,
            set_count: set_id.len(),
            cap_left,
            busy,
            touched,
            fixed: vec![None; claim.constraints.len()],
            used_values: vec![Vec::new(); claim.constraints.len()],
            constraints_of,
            viable,
            steps: 0,
            max_steps: self.config.max_steps,
            chosen: Vec::new(),
            alts: Vec::new(),
            best: None,
            lower: lower.clone(),
            out_of_budget: false,
            optimal: false,
            devs,
        };
        s.lower.partial_counter_sets = 0;
        let stop = if infeasible {
            StopReason::Infeasible
        } else {
            s.request(0);
            if s.optimal {
                StopReason::Optimal
            } else if s.out_of_budget {
                StopReason::Budget
            } else {
                StopReason::Exhausted
            }
        };
        let allocation = s.best.take().map(|(score, chosen)| ClaimAllocation {
            node: node.to_owned(),
            devices: chosen
                .into_iter()
                .map(|(ri, di, consumed)| {
                    let d = &s.devs[di];
                    let alt = &claim.requests[ri].alternatives[s_alt(&score, ri)];
                    DeviceAllocation {
                        request: alt.name.clone(),
                        driver: d.driver.to_owned(),
                        pool: d.pool.to_owned(),
                        device: d.d.name.clone(),
                        consumed_capacity: consumed,
                    }
                })
                .collect(),
            score,
        });
        if allocation.is_none() && stop == StopReason::Exhausted {
            reasons.insert(
                "no combination of devices satisfies every request, counter and constraint".into(),
            );
        }
        AllocationReport {
            allocation,
            stop,
            steps: s.steps,
            lower_bound: s.lower,
            reasons: reasons.into_iter().collect(),
        }
    }

    fn matches(
        &self,
        sels: &[&str],
        d: &SliceDevice,
        what: &str,
        reasons: &mut BTreeSet<String>,
    ) -> bool {
        for e in sels {
            match evaluate(e, &d.view) {
                Selector::Match => {}
                Selector::NoMatch => return false,
                Selector::Unsupported(why) => {
                    reasons.insert(format!("{what}: device {}: {why}", d.name));
                    return false;
                }
            }
        }
        true
    }
}

/// A capacity name as devices key it: unqualified names are the driver's.
fn qualified(name: &str, driver: &str) -> String {
    if name.contains('/') {
        name.to_owned()
    } else {
        format!("{driver}/{name}")
    }
}

/// What a sub-request asks of the device capacity `key` (qualified).
fn asked(a: &SubRequest, key: &str, driver: &str) -> Option<Amount> {
    a.capacity.get(key).copied().or_else(|| {
        let short = key.strip_prefix(driver)?.strip_prefix('/')?;
        a.capacity.get(short).copied()
    })
}

fn s_alt(score: &AllocationScore, ri: usize) -> usize {
    score.alternatives[ri]
}

impl Search<'_> {
    fn score(&self) -> AllocationScore {
        let mut left = vec![0 as Amount; self.set_count];
        let mut total = vec![0 as Amount; self.set_count];
        for (slot, set) in self.set_of.iter().enumerate() {
            left[*set] += self.left[slot].max(0);
            total[*set] += self.total[slot];
        }
        let partial = (0..self.set_count)
            .filter(|&s| left[s] > 0 && left[s] < total[s])
            .count();
        let mut stranded = 0u64;
        for (i, d) in self.devs.iter().enumerate() {
            if d.d.multiple_allocations && self.touched[i] {
                for (k, t) in &d.d.capacity {
                    if *t > 0 {
                        let l = self.cap_left[i].get(k).copied().unwrap_or(0).max(0);
                        stranded += (l as i128 * 1000 / *t as i128) as u64;
                    }
                }
            }
        }
        AllocationScore {
            alternatives: self.alts.clone(),
            partial_counter_sets: partial as u32,
            stranded_permille: stranded,
        }
    }

    /// What device `i` would consume for sub-request `a`, if it can serve it.
    fn consumption(&self, i: usize, a: &SubRequest) -> Option<BTreeMap<String, Amount>> {
        let d = self.devs[i].d;
        if self.busy[i] {
            return None;
        }
        for (slot, v) in &self.devs[i].draws {
            if self.left[*slot] < *v {
                return None;
            }
        }
        if !d.multiple_allocations {
            return Some(BTreeMap::new());
        }
        let mut out = BTreeMap::new();
        for (k, total) in &d.capacity {
            let policy = d.policies.get(k).cloned().unwrap_or_default();
            let c = policy.consumed(asked(a, k, self.devs[i].driver), *total)?;
            if self.cap_left[i].get(k).copied().unwrap_or(0) < c {
                return None;
            }
            out.insert(k.clone(), c);
        }
        Some(out)
    }

    fn constraints_ok(&self, ri: usize, i: usize) -> bool {
        for &ci in &self.constraints_of[ri] {
            match &self.claim.constraints[ci] {
                ClaimConstraint::MatchAttribute { attribute, .. } => {
                    let Some(v) = attr(self.devs[i].d, attribute) else {
                        return false;
                    };
                    match &self.fixed[ci] {
                        Some(f) if f != v => return false,
                        None if self.viable[ci].as_ref().is_some_and(|vs| !vs.contains(v)) => {
                            return false
                        }
                        _ => {}
                    }
                }
                ClaimConstraint::DistinctAttribute { attribute, .. } => {
                    let Some(v) = attr(self.devs[i].d, attribute) else {
                        return false;
                    };
                    if self.used_values[ci].contains(v) {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn take(
        &mut self,
        ri: usize,
        i: usize,
        consumed: &BTreeMap<String, Amount>,
    ) -> (Vec<usize>, bool, bool) {
        let mut fixed_now = Vec::new();
        for &ci in &self.constraints_of[ri] {
            let v = attr(
                self.devs[i].d,
                match &self.claim.constraints[ci] {
                    ClaimConstraint::MatchAttribute { attribute, .. }
                    | ClaimConstraint::DistinctAttribute { attribute, .. } => attribute,
                },
            )
            .cloned();
            match &self.claim.constraints[ci] {
                ClaimConstraint::MatchAttribute { .. } => {
                    if self.fixed[ci].is_none() {
                        self.fixed[ci] = v;
                        fixed_now.push(ci);
                    }
                }
                ClaimConstraint::DistinctAttribute { .. } => {
                    if let Some(v) = v {
                        self.used_values[ci].push(v);
                    }
                }
            }
        }
        for (slot, v) in &self.devs[i].draws {
            self.left[*slot] -= v;
        }
        for (k, v) in consumed {
            if let Some(c) = self.cap_left[i].get_mut(k) {
                *c -= v;
            }
        }
        let was_busy = self.busy[i];
        let was_touched = self.touched[i];
        self.busy[i] = !self.devs[i].d.multiple_allocations;
        self.touched[i] = true;
        (fixed_now, was_busy, was_touched)
    }

    fn untake(
        &mut self,
        ri: usize,
        i: usize,
        consumed: &BTreeMap<String, Amount>,
        undo: (Vec<usize>, bool, bool),
    ) {
        let (fixed_now, was_busy, was_touched) = undo;
        for ci in fixed_now {
            self.fixed[ci] = None;
        }
        for &ci in &self.constraints_of[ri] {
            if matches!(
                self.claim.constraints[ci],
                ClaimConstraint::DistinctAttribute { .. }
            ) && attr(
                self.devs[i].d,
                match &self.claim.constraints[ci] {
                    ClaimConstraint::DistinctAttribute { attribute, .. }
                    | ClaimConstraint::MatchAttribute { attribute, .. } => attribute,
                },
            )
            .is_some()
            {
                self.used_values[ci].pop();
            }
        }
        for (slot, v) in &self.devs[i].draws {
            self.left[*slot] += v;
        }
        for (k, v) in consumed {
            if let Some(c) = self.cap_left[i].get_mut(k) {
                *c += v;
            }
        }
        self.busy[i] = was_busy;
        self.touched[i] = was_touched;
    }

    fn stop(&self) -> bool {
        self.out_of_budget || self.optimal
    }

    fn request(&mut self, ri: usize) {
        if self.stop() {
            return;
        }
        if ri == self.claim.requests.len() {
            let sc = self.score();
            if self.best.as_ref().is_none_or(|(b, _)| sc < *b) {
                if sc == self.lower {
                    self.optimal = true;
                }
                self.best = Some((sc, self.chosen.clone()));
            }
            return;
        }
        for ai in 0..self.claim.requests[ri].alternatives.len() {
            if self.cands[ri][ai].is_empty() {
                continue;
            }
            self.alts.push(ai);
            // Alternatives dominate the score: a prefix worse than the best's is pruned.
            let worse = self
                .best
                .as_ref()
                .is_some_and(|(b, _)| self.alts.as_slice() > &b.alternatives[..self.alts.len()]);
            if !worse {
                let order = self.order(ri, ai);
                let want = match self.claim.requests[ri].alternatives[ai].count {
                    DeviceCount::Exact(n) => n as usize,
                    DeviceCount::All => order.len(),
                };
                if order.len() >= want {
                    self.slot(ri, ai, &order, 0, want);
                }
            }
            self.alts.pop();
            if self.stop() {
                return;
            }
        }
    }

    /// Candidates of a sub-request, best first: devices that leave no new
    /// partly-used counter set, then tighter fits on shared devices, then name.
    fn order(&self, ri: usize, ai: usize) -> Vec<usize> {
        let a = &self.claim.requests[ri].alternatives[ai];
        let all = matches!(a.count, DeviceCount::All);
        let mut keyed: Vec<((u8, u64, u8), usize)> = Vec::new();
        for &i in &self.cands[ri][ai] {
            let Some(consumed) = self.consumption(i, a) else {
                if all {
                    return Vec::new();
                }
                continue;
            };
            let d = &self.devs[i];
            // Would this open a fresh counter set without exhausting it?
            let mut opens = 0u8;
            for &set in &d.sets {
                let slots: Vec<usize> = (0..self.set_of.len())
                    .filter(|s| self.set_of[*s] == set)
                    .collect();
                let fresh = slots.iter().all(|s| self.left[*s] == self.total[*s]);
                let drawn: Amount = d
                    .draws
                    .iter()
                    .filter(|(s, _)| self.set_of[*s] == set)
                    .map(|(_, v)| v)
                    .sum();
                let set_total: Amount = slots.iter().map(|s| self.total[*s]).sum();
                if fresh && drawn < set_total {
                    opens = 1;
                }
            }
            let mut remain = 0u64;
            for (k, c) in &consumed {
                let t = d.d.capacity.get(k).copied().unwrap_or(1).max(1);
                let l = self.cap_left[i].get(k).copied().unwrap_or(0) - c;
                remain += (l.max(0) as i128 * 1000 / t as i128) as u64;
            }
            let fresh_shared = u8::from(d.d.multiple_allocations && !self.touched[i]);
            keyed.push(((opens, remain, fresh_shared), i));
        }
        keyed.sort();
        keyed.into_iter().map(|(_, i)| i).collect()
    }

    fn slot(&mut self, ri: usize, ai: usize, order: &[usize], from: usize, want: usize) {
        if want == 0 {
            self.request(ri + 1);
            return;
        }
        for k in from..order.len() {
            if order.len() - k < want || self.stop() {
                return;
            }
            self.steps += 1;
            if self.steps > self.max_steps {
                self.out_of_budget = true;
                return;
            }
            let i = order[k];
            if !self.constraints_ok(ri, i) {
                continue;
            }
            let a = &self.claim.requests[ri].alternatives[ai];
            let Some(consumed) = self.consumption(i, a) else {
                continue;
            };
            let undo = self.take(ri, i, &consumed);
            self.chosen.push((ri, i, consumed.clone()));
            self.slot(ri, ai, order, k + 1, want - 1);
            self.chosen.pop();
            self.untake(ri, i, &consumed, undo);
        }
    }
}

impl Import {
    /// The DRA claim (or claim template) `name` in `namespace`, as the
    /// allocator sees it.
    pub fn dra_claim(&self, namespace: Option<&str>, name: &str) -> Option<DraClaim> {
        self.dra
            .iter()
            .filter(|d| d.object.name == name && d.object.namespace.as_deref() == namespace)
            .find_map(|d| d.claim.clone())
    }
}
