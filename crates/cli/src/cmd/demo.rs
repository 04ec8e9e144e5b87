//! `rightsizer demo`: the end-to-end default scenario on built-in data.
//!
//! Builds a heterogeneous cluster from the built-in catalog's instance types,
//! places a mix of CPU, fractional-GPU, MIG, whole-GPU, gang and ASIC
//! workloads, and prints what went where, why the rest did not fit, and what
//! the cluster costs.
//!
//! Then, from the scenario's `capacity_plan` section:
//!
//! * **selection**: one LLM serving workload across catalog accelerators,
//!   with $ per 1M output tokens, J per token, TPOT headroom and the Pareto
//!   set; infeasible options with the reason;
//! * **planning**: the cheapest fleet for a demand of a few input×output
//!   buckets over the feasible options (exact branch and bound), against the
//!   cheapest single-type fleet.
//!
//! Throughputs are first-order estimates from the spec sheets (memory-bound
//! decode; prefill is not modelled) unless `--profiles <table>` gives measured
//! ones; every figure says which.

use crate::common::{read_file, CliResult};
use rightsizer::catalog::Catalog;
use rightsizer::model::cluster::{ClusterState, DeviceAssignment};
use rightsizer::model::prelude::*;
use rightsizer::model::spec::{from_yaml, validate_workload};
use rightsizer::place::engine::{Engine, EngineConfig, KubePlugin, PodSpec};
use rightsizer::place::kube::{FitScorer, Strategy};
use rightsizer::place::plugins::AcceleratorAffinity;
use rightsizer::place::queue::QueuedPod;
use rightsizer::place::share::SharePolicy;
use rightsizer::plan::fleet::{
    AcceleratorOption, DemandBucket, FleetOutcome, FleetProblem, Objective, SolveConfig, StopReason,
};
use rightsizer::plan::profiles::{Bucket, ProfileTable, Slo};
use rightsizer::plan::select::{
    candidates_from_catalog, select, Candidate, Evaluated, Infeasible, LlmWorkload, MeasuredPoint,
    ProfileSource,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The built-in scenario.
const SCENARIO: &str = include_str!("../../data/demo.yaml");

/// Arguments of `rightsizer demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A scenario file (YAML/JSON) to run instead of the built-in one.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// A measured profile table (CSV or JSON, see `rightsizer_plan::profiles`)
    /// whose rows for the capacity-plan workload replace the estimates.
    #[arg(long)]
    profiles: Option<PathBuf>,
}

/// Nodes of one instance type.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NodePool {
    #[serde(rename = "type")]
    node_type: String,
    count: u32,
    #[serde(default)]
    zone: Option<String>,
}

/// A demo scenario: node pools from the catalog and workloads.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    node_pools: Vec<NodePool>,
    workloads: Vec<Workload>,
    /// Accelerator selection and fleet planning for one LLM workload.
    #[serde(default)]
    capacity_plan: Option<CapacityPlan>,
}

/// The LLM workload of the capacity plan (its context comes from the bucket).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct LlmModel {
    name: String,
    params_billion: f64,
    bytes_per_param: f64,
    #[serde(default)]
    kv_bytes_per_token: f64,
    max_batch: u32,
    tpot_slo_ms: f64,
    #[serde(default = "default_reserve")]
    memory_reserve: f64,
}

fn default_reserve() -> f64 {
    0.1
}

/// One candidate: an accelerator model of the catalog and devices per replica.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct CandidateSpec {
    model: String,
    #[serde(default = "one")]
    count: u32,
    /// At most this many replicas may be bought (quota, availability).
    #[serde(default)]
    max_count: Option<u32>,
}

fn one() -> u32 {
    1
}

/// One demand bucket: `<input>x<output>` tokens and its request rate.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct DemandSpec {
    bucket: String,
    rate: f64,
}

/// The `capacity_plan` section of a scenario.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct CapacityPlan {
    model: LlmModel,
    /// The bucket the selection table is computed for.
    select_for: String,
    candidates: Vec<CandidateSpec>,
    demand: Vec<DemandSpec>,
    #[serde(default = "default_slices")]
    slice_factor: u32,
}

fn default_slices() -> u32 {
    4
}

/// Where one pod went.
#[derive(Debug, Serialize)]
struct PodOutcome {
    pod: String,
    node: Option<String>,
    devices: Option<DeviceAssignment>,
    /// Why it went there (the winner's scores), or why it was not placed
    /// (nodes per filter reason).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
struct NodeReport {
    node: String,
    node_type: String,
    cpu_used_pct: f64,
    memory_used_pct: f64,
    devices: usize,
    device_used_milli: u32,
    pods: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    nodes: Vec<NodeReport>,
    workloads: BTreeMap<String, Vec<PodOutcome>>,
    placed: usize,
    unplaced: usize,
    cost_per_hour: String,
    cost_per_month: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    selection: Option<SelectionReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    planning: Option<PlanningReport>,
}

/// Accelerator selection for the capacity-plan workload.
#[derive(Debug, Serialize)]
struct SelectionReport {
    workload: String,
    bucket: String,
    tpot_slo_ms: f64,
    /// Where throughputs come from when not measured.
    estimate_model: &'static str,
    /// Cheapest per token first.
    feasible: Vec<Evaluated>,
    infeasible: BTreeMap<String, Infeasible>,
}

/// One demand bucket of the plan, with the throughput per option.
#[derive(Debug, Serialize)]
struct BucketReport {
    bucket: String,
    rate_req_s: f64,
    /// Requests/s one replica sustains under the SLO; options absent cannot serve it.
    throughput_req_s: BTreeMap<String, f64>,
    source: BTreeMap<String, ProfileSource>,
}

/// The cheapest single-type fleet (within its limit) and what the mix saves against it.
#[derive(Debug, Serialize)]
struct SingleTypeReport {
    option: String,
    count: u32,
    cost_per_hour: String,
    saving_pct: f64,
}

/// The fleet plan.
#[derive(Debug, Serialize)]
struct PlanningReport {
    slice_factor: u32,
    buckets: Vec<BucketReport>,
    /// Options priced per replica-hour.
    prices: BTreeMap<String, String>,
    /// Replica limits (quota) per option.
    limits: BTreeMap<String, u32>,
    counts: BTreeMap<String, u32>,
    cost_per_hour: Option<String>,
    cost_per_month: Option<String>,
    optimal: bool,
    gap: f64,
    stop: Option<StopReason>,
    cheapest_single_type: Option<SingleTypeReport>,
    /// Set when no fleet can serve the demand (the binding constraint).
    infeasible: Option<String>,
}

/// Runs the demo.
pub fn run(args: &Args) -> CliResult {
    let text = match &args.scenario {
        Some(p) => read_file(p)?,
        None => SCENARIO.to_string(),
    };
    // Errors about the scenario name its file (the built-in one has none).
    let source = args
        .scenario
        .as_ref()
        .map_or("built-in scenario".to_string(), |p| p.display().to_string());
    let at = |e: &dyn std::fmt::Display| format!("{source}: {e}");
    let scenario: Scenario = from_yaml(&text).map_err(|e| at(&e))?;
    let catalog = Catalog::builtin();
    let (state, prices) = build_cluster(&scenario, &catalog).map_err(|e| at(&e))?;
    for (i, w) in scenario.workloads.iter().enumerate() {
        validate_workload(w, catalog.accelerator_map(), &format!("workloads[{i}]"))
            .map_err(|e| at(&e))?;
    }
    let mut engine = Engine::new(state, engine_config())?;
    let workloads = place_all(&mut engine, &scenario.workloads);
    let mut report = report(engine.state(), workloads, &prices);
    let table = match &args.profiles {
        Some(p) => Some(ProfileTable::from_path(p)?),
        None => None,
    };
    if let Some(cp) = &scenario.capacity_plan {
        let (sel, plan) = capacity_plan(cp, &catalog, table.as_ref()).map_err(|e| at(&e))?;
        report.selection = Some(sel);
        report.planning = Some(plan);
    } else if table.is_some() {
        return Err("--profiles needs a scenario with a `capacity_plan` section".into());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

const ESTIMATE_MODEL: &str = "spec-sheet estimate: memory-bound decode at the largest batch that fits and meets the TPOT SLO; prefill not modelled; J/token at board TDP (an upper bound)";

fn token_bucket(text: &str, field: &str) -> Result<(Bucket, u32, u32), crate::common::CliError> {
    match text.parse::<Bucket>() {
        Ok(b @ Bucket::Tokens { input, output }) => Ok((b, input, output)),
        _ => Err(format!(
            "capacity_plan.{field}: {text:?} is not an <input>x<output> token bucket, e.g. 512x128"
        )
        .into()),
    }
}

fn llm_workload(m: &LlmModel, input: u32, output: u32) -> LlmWorkload {
    LlmWorkload {
        name: m.name.clone(),
        params_billion: m.params_billion,
        bytes_per_param: m.bytes_per_param,
        kv_bytes_per_token: m.kv_bytes_per_token,
        context_tokens: input.saturating_add(output),
        max_batch: m.max_batch,
        tpot_slo_ms: m.tpot_slo_ms,
        memory_reserve: m.memory_reserve,
    }
}

/// Measured points of `bucket` for the candidates (others in the table are ignored).
fn measured_for(
    table: Option<&ProfileTable>,
    workload: &str,
    bucket: &Bucket,
    candidates: &[Candidate],
) -> Result<BTreeMap<String, MeasuredPoint>, crate::common::CliError> {
    let Some(t) = table else {
        return Ok(BTreeMap::new());
    };
    let mut points = t.measured_points_in(workload, bucket)?;
    points.retain(|name, _| candidates.iter().any(|c| &c.name == name));
    Ok(points)
}

/// Selection for `select_for`, then the fleet plan for the demand buckets.
fn capacity_plan(
    cp: &CapacityPlan,
    catalog: &Catalog,
    table: Option<&ProfileTable>,
) -> Result<(SelectionReport, PlanningReport), crate::common::CliError> {
    let m = &cp.model;
    if let Some(t) = table {
        // Measurements only replace estimates when taken under the same SLO.
        for r in t.rows().iter().filter(|r| r.workload == m.name) {
            if r.slo != Slo::TpotMs(m.tpot_slo_ms) {
                return Err(format!(
                    "{}: workload `{}` was measured under {} but the demo's SLO is tpot <= {} ms",
                    t.origin().display(),
                    m.name,
                    r.slo,
                    m.tpot_slo_ms
                )
                .into());
            }
        }
    }
    let models: Vec<(&str, u32)> = cp
        .candidates
        .iter()
        .map(|c| (c.model.as_str(), c.count))
        .collect();
    let candidates = candidates_from_catalog(catalog, &models)?;

    // (a) Selection.
    let (sb, si, so) = token_bucket(&cp.select_for, "select_for")?;
    let measured = measured_for(table, &m.name, &sb, &candidates)?;
    let sel = select(&llm_workload(m, si, so), &candidates, &measured)?;
    let selection = SelectionReport {
        workload: m.name.clone(),
        bucket: sb.label(),
        tpot_slo_ms: m.tpot_slo_ms,
        estimate_model: ESTIMATE_MODEL,
        feasible: sel.feasible,
        infeasible: sel.infeasible,
    };

    // (b) Planning: per bucket, each candidate's tokens/s under the SLO as req/s.
    let mut buckets = Vec::new();
    for (i, d) in cp.demand.iter().enumerate() {
        let (b, input, output) = token_bucket(&d.bucket, &format!("demand[{i}].bucket"))?;
        let measured = measured_for(table, &m.name, &b, &candidates)?;
        let s = select(&llm_workload(m, input, output), &candidates, &measured)?;
        buckets.push(BucketReport {
            bucket: b.label(),
            rate_req_s: d.rate,
            throughput_req_s: s
                .feasible
                .iter()
                .map(|e| (e.name.clone(), e.tokens_per_s / f64::from(output)))
                .collect(),
            source: s
                .feasible
                .iter()
                .map(|e| (e.name.clone(), e.source))
                .collect(),
        });
    }
    // Options: priced candidates that serve at least one bucket, in candidate order.
    let options: Vec<AcceleratorOption> = candidates
        .iter()
        .zip(&cp.candidates)
        .filter(|(c, _)| {
            buckets
                .iter()
                .any(|b| b.throughput_req_s.contains_key(&c.name))
        })
        .filter_map(|(c, spec)| {
            let n = c.count;
            c.price.map(|p| {
                let mut o = AcceleratorOption::new(c.name.clone(), p).with_power(
                    Watts::new(c.model.max_power.get().saturating_mul(n)),
                    Watts::new(c.model.idle_power.get().saturating_mul(n)),
                );
                o.max_count = spec.max_count;
                o
            })
        })
        .collect();
    let limits: BTreeMap<String, u32> = options
        .iter()
        .filter_map(|o| o.max_count.map(|m| (o.name.clone(), m)))
        .collect();
    let demand: Vec<DemandBucket> = buckets
        .iter()
        .map(|b| {
            DemandBucket::new(
                b.bucket.clone(),
                b.rate_req_s,
                options
                    .iter()
                    .map(|o| b.throughput_req_s.get(&o.name).copied())
                    .collect(),
            )
        })
        .collect();
    let prices = options
        .iter()
        .map(|o| (o.name.clone(), o.price.to_string()))
        .collect();
    let problem = FleetProblem::new(options, demand, cp.slice_factor)?;
    let planning = match problem.solve(Objective::Cost, &SolveConfig::default()) {
        FleetOutcome::Plan(p) => {
            // Single-type fleets within the option's limit.
            let cheapest = p
                .single_type
                .iter()
                .filter(|(name, st)| limits.get(*name).is_none_or(|&m| st.count <= m))
                .min_by(|a, b| a.1.cost.cmp(&b.1.cost).then(a.0.cmp(b.0)))
                .map(|(name, st)| SingleTypeReport {
                    option: name.clone(),
                    count: st.count,
                    cost_per_hour: st.cost.to_string(),
                    saving_pct: if st.cost.micros() == 0 {
                        0.0
                    } else {
                        100.0 * (st.cost.micros() as f64 - p.cost.micros() as f64)
                            / st.cost.micros() as f64
                    },
                });
            PlanningReport {
                slice_factor: cp.slice_factor,
                buckets,
                prices,
                limits,
                counts: p.counts.clone(),
                cost_per_hour: Some(p.cost.to_string()),
                cost_per_month: Some(p.monthly_cost().to_string()),
                optimal: p.is_optimal(),
                gap: p.gap,
                stop: Some(p.stop),
                cheapest_single_type: cheapest,
                infeasible: None,
            }
        }
        FleetOutcome::Infeasible(i) => PlanningReport {
            slice_factor: cp.slice_factor,
            buckets,
            prices,
            limits,
            counts: BTreeMap::new(),
            cost_per_hour: None,
            cost_per_month: None,
            optimal: false,
            gap: f64::NAN,
            stop: None,
            cheapest_single_type: None,
            infeasible: Some(i.to_string()),
        },
    };
    Ok((selection, planning))
}

fn build_cluster(
    s: &Scenario,
    catalog: &Catalog,
) -> Result<(ClusterState, Vec<PricePerHour>), crate::common::CliError> {
    let mut nodes = Vec::new();
    let mut prices = Vec::new();
    for (i, pool) in s.node_pools.iter().enumerate() {
        let t = catalog.node_type(&pool.node_type).ok_or_else(|| {
            format!(
                "node_pools[{i}].type: unknown instance type {:?} (see `rightsizer catalog --node-types`)",
                pool.node_type
            )
        })?;
        for k in 0..pool.count {
            let id = NodeId::new(format!("{}-{k}", pool.node_type))?;
            let mut node = catalog.node_from_type(&pool.node_type, id)?;
            node.topology.zone = pool.zone.clone();
            nodes.push(node);
            prices.push(t.price);
        }
    }
    let state = ClusterState::new(nodes, catalog.cluster_spec_models())?;
    Ok((state, prices))
}

/// Places every workload with the library's queue ([`Engine::schedule`]):
/// highest priority first, ties by larger CPU request then name (the queue
/// keeps this order for equal priorities). The engine packs: GpuPacking
/// (prefer partly used GPUs, then partly used nodes), kube-scheduler's
/// MostAllocated on cpu and memory, and AcceleratorAffinity (weight 2: CPU
/// pods on CPU nodes). Gangs are all-or-nothing: if fewer than
/// `min_members` fit, none is placed.
fn place_all(engine: &mut Engine, workloads: &[Workload]) -> BTreeMap<String, Vec<PodOutcome>> {
    let mut order: Vec<&Workload> = workloads.iter().collect();
    order.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(b.template.request().cpu.cmp(&a.template.request().cpu))
            .then(a.id.cmp(&b.id))
    });
    let requests: Vec<_> = order.iter().map(|w| w.pod_request()).collect();
    let mut queue = Vec::new();
    let mut owner = BTreeMap::new();
    for (w, req) in order.iter().zip(&requests) {
        for r in 0..w.replicas {
            let pod = PodId::new(format!("{}-{r}", w.id)).expect("valid name");
            owner.insert(pod.clone(), w.id.to_string());
            let mut q = QueuedPod::new(pod, PodSpec::of_workload(w, req)).with_priority(w.priority);
            if let Some(g) = &w.gang {
                q = q.in_gang(g);
            }
            queue.push(q);
        }
    }
    let mut out: BTreeMap<String, Vec<PodOutcome>> = order
        .iter()
        .map(|w| (w.id.to_string(), Vec::new()))
        .collect();
    let scheduled = engine
        .schedule(queue)
        .expect("the workloads' requests are valid");
    for s in scheduled {
        let mut o = match (&s.decision.placed(), &s.decision.unschedulable()) {
            (Some(p), _) => {
                let why = p
                    .explanation
                    .top
                    .first()
                    .map(|c| {
                        let parts: Vec<String> = c
                            .scores
                            .iter()
                            .map(|s| format!("{} {}", s.plugin, s.score))
                            .collect();
                        format!(
                            "best of {} feasible node(s): {}",
                            p.explanation.feasible,
                            parts.join(", ")
                        )
                    })
                    .into_iter()
                    .collect();
                PodOutcome {
                    pod: s.pod.to_string(),
                    node: Some(p.node_id.to_string()),
                    devices: Some(p.devices.clone()),
                    reasons: why,
                }
            }
            (None, u) => PodOutcome {
                pod: s.pod.to_string(),
                node: None,
                devices: None,
                reasons: u
                    .map(|u| {
                        u.summary
                            .iter()
                            .map(|(r, n)| format!("{n} node(s): {r}"))
                            .collect()
                    })
                    .unwrap_or_default(),
            },
        };
        if let Some(f) = &s.gang_failure {
            o.node = None;
            o.devices = None;
            o.reasons.insert(0, f.to_string());
        }
        out.get_mut(&owner[&s.pod]).expect("owner listed").push(o);
    }
    out
}

fn engine_config() -> EngineConfig {
    let most_allocated = KubePlugin::fit(Strategy::MostAllocated, FitScorer::default_resources())
        .expect("the default resources are valid");
    EngineConfig::share(SharePolicy::GpuPacking)
        .with_plugin(Box::new(most_allocated), 1)
        .with_plugin(Box::new(AcceleratorAffinity), 2)
}

fn report(
    state: &ClusterState,
    workloads: BTreeMap<String, Vec<PodOutcome>>,
    prices: &[PricePerHour],
) -> Report {
    let nodes = state
        .nodes()
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let idx = NodeIndex(i as u32);
            let free = state.node_free(idx);
            let used = |f: u64, c: u64| {
                if c == 0 {
                    0.0
                } else {
                    100.0 * (c - f) as f64 / c as f64
                }
            };
            NodeReport {
                node: n.id.to_string(),
                node_type: n
                    .node_type
                    .as_ref()
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                cpu_used_pct: used(free.resources.cpu.get(), n.allocatable.cpu.get()),
                memory_used_pct: used(free.resources.memory.get(), n.allocatable.memory.get()),
                devices: n.devices.len(),
                device_used_milli: 1000 * n.devices.len() as u32 - free.gpu_milli().get(),
                pods: state.pods_on(idx).count(),
            }
        })
        .collect();
    let placed = workloads
        .values()
        .flatten()
        .filter(|o| o.node.is_some())
        .count();
    let unplaced = workloads
        .values()
        .flatten()
        .filter(|o| o.node.is_none())
        .count();
    let hourly: PricePerHour = prices.iter().copied().sum();
    Report {
        nodes,
        workloads,
        placed,
        unplaced,
        cost_per_hour: hourly.to_string(),
        cost_per_month: hourly.cost_for_hours(730).to_string(),
        selection: None,
        planning: None,
    }
}

fn print_report(r: &Report) {
    println!("rightsizer demo: a heterogeneous cluster from the built-in catalog\n");
    println!(
        "{:<24} {:<18} {:>6} {:>6} {:>12} {:>5}",
        "node", "type", "cpu%", "mem%", "devices used", "pods"
    );
    for n in &r.nodes {
        let dev = if n.devices == 0 {
            "-".to_string()
        } else {
            format!(
                "{:.2}/{}",
                f64::from(n.device_used_milli) / 1000.0,
                n.devices
            )
        };
        println!(
            "{:<24} {:<18} {:>6.1} {:>6.1} {:>12} {:>5}",
            n.node, n.node_type, n.cpu_used_pct, n.memory_used_pct, dev, n.pods
        );
    }
    println!("\nworkloads (placed in priority order, listed by name):");
    for (w, pods) in &r.workloads {
        let placed = pods.iter().filter(|p| p.node.is_some()).count();
        println!("  {w}: {placed}/{} placed", pods.len());
        let mut by_node: BTreeMap<&str, usize> = BTreeMap::new();
        for p in pods.iter().filter_map(|p| p.node.as_deref()) {
            *by_node.entry(p).or_default() += 1;
        }
        for (n, c) in by_node {
            println!("    {c} on {n}");
        }
        if let Some(why) = pods
            .iter()
            .find(|p| p.node.is_some())
            .and_then(|p| p.reasons.first())
        {
            println!("    first pod: {why}");
        }
        if let Some(p) = pods.iter().find(|p| p.node.is_none()) {
            println!("    not placed ({}), e.g. {}:", pods.len() - placed, p.pod);
            for reason in &p.reasons {
                println!("      - {reason}");
            }
        }
    }
    println!(
        "\n{} pods placed, {} not placed; cluster cost {} ({} per month of 730 h, on-demand)",
        r.placed, r.unplaced, r.cost_per_hour, r.cost_per_month
    );
    if let Some(s) = &r.selection {
        print_selection(s);
    }
    if let Some(p) = &r.planning {
        print_planning(p);
    }
}

fn source_tag(s: ProfileSource) -> &'static str {
    match s {
        ProfileSource::Measured => "measured",
        ProfileSource::SpecEstimate => "estimate",
    }
}

fn print_selection(s: &SelectionReport) {
    println!(
        "\naccelerator selection: {} on {} tokens (input x output), TPOT <= {} ms",
        s.workload, s.bucket, s.tpot_slo_ms
    );
    println!("  (estimate = {})", s.estimate_model);
    println!(
        "  {:<16} {:>10} {:>8} {:>9} {:>8} {:>9} {:>6}  source",
        "option", "$/1M tok", "J/tok", "tok/s", "TPOT ms", "headroom", "pareto"
    );
    for e in &s.feasible {
        println!(
            "  {:<16} {:>10.4} {:>8.4} {:>9.0} {:>8.2} {:>8.0}% {:>6}  {}",
            e.name,
            e.usd_per_million_tokens,
            e.joules_per_token,
            e.tokens_per_s,
            e.tpot_ms,
            100.0 * e.headroom,
            if e.pareto { "yes" } else { "" },
            source_tag(e.source)
        );
    }
    for (name, why) in &s.infeasible {
        let why = match why {
            Infeasible::DoesNotFit {
                need_bytes,
                usable_bytes,
            } => format!(
                "does not fit: needs {:.2} GB, {:.2} GB usable",
                need_bytes / 1e9,
                usable_bytes / 1e9
            ),
            Infeasible::CannotMeetSlo { floor_ms, slo_ms } => format!(
                "cannot meet the SLO: decode takes at least {floor_ms:.2} ms per token > {slo_ms} ms"
            ),
            Infeasible::NoPrice => "no price in the catalog".to_string(),
            Infeasible::MeasuredCannotMeetSlo { slo_ms } => {
                format!("measured: no rate meets TPOT <= {slo_ms} ms")
            }
        };
        println!("  {name:<16} infeasible: {why}");
    }
}

fn print_planning(p: &PlanningReport) {
    println!(
        "\ncapacity plan: cheapest fleet for the demand (slice factor {})",
        p.slice_factor
    );
    for b in &p.buckets {
        let per: Vec<String> = b
            .throughput_req_s
            .iter()
            .map(|(o, t)| format!("{o} {t:.2} ({})", source_tag(b.source[o])))
            .collect();
        println!(
            "  bucket {:<10} {:>6.2} req/s; req/s per replica: {}",
            b.bucket,
            b.rate_req_s,
            if per.is_empty() {
                "no option meets the SLO".to_string()
            } else {
                per.join(", ")
            }
        );
    }
    if let Some(why) = &p.infeasible {
        println!("  no fleet: {why}");
        return;
    }
    if !p.limits.is_empty() {
        let l: Vec<String> = p
            .limits
            .iter()
            .map(|(o, n)| format!("{o} <= {n}"))
            .collect();
        println!("  limits: {}", l.join(", "));
    }
    let mix: Vec<String> = p
        .counts
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(o, n)| format!("{n} x {o} ({})", p.prices[o]))
        .collect();
    println!(
        "  plan: {} = {} ({} per month); {}",
        mix.join(" + "),
        p.cost_per_hour.as_deref().unwrap_or("-"),
        p.cost_per_month.as_deref().unwrap_or("-"),
        if p.optimal {
            "proven optimal (gap 0)".to_string()
        } else {
            format!("best found, gap {:.2}% ({:?})", 100.0 * p.gap, p.stop)
        }
    );
    if let Some(s) = &p.cheapest_single_type {
        println!(
            "  cheapest single type: {} x {} = {}; the mix saves {:.1}%",
            s.count, s.option, s.cost_per_hour, s.saving_pct
        );
    }
}
