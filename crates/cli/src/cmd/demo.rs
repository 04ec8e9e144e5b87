//! `rightsizer demo`: the end-to-end default scenario on built-in data.
//!
//! Builds a heterogeneous cluster from the built-in catalog's instance types,
//! places a mix of CPU, fractional-GPU, MIG, whole-GPU, gang and ASIC
//! workloads, and prints what went where, why the rest did not fit, and what
//! the cluster costs.

use crate::common::{read_file, CliResult};
use rightsizer::catalog::Catalog;
use rightsizer::model::cluster::{ClusterState, DeviceAssignment};
use rightsizer::model::prelude::*;
use rightsizer::model::spec::{from_yaml, validate_workload};
use rightsizer::place::engine::{Decision, Engine, EngineConfig, KubePlugin, PodSpec};
use rightsizer::place::kube::{FitScorer, Strategy};
use rightsizer::place::plugins::AcceleratorAffinity;
use rightsizer::place::share::SharePolicy;
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
}

/// Runs the demo.
pub fn run(args: &Args) -> CliResult {
    let text = match &args.scenario {
        Some(p) => read_file(p)?,
        None => SCENARIO.to_string(),
    };
    let scenario: Scenario = from_yaml(&text)?;
    let catalog = Catalog::builtin();
    let (state, prices) = build_cluster(&scenario, &catalog)?;
    for (i, w) in scenario.workloads.iter().enumerate() {
        validate_workload(w, catalog.accelerator_map(), &format!("workloads[{i}]"))?;
    }
    let mut engine = Engine::new(state, engine_config())?;
    let workloads = place_all(&mut engine, &scenario.workloads);
    let report = report(engine.state(), workloads, &prices);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
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

/// Places every workload with the placement engine, highest priority first
/// (ties: larger CPU request, then name). The engine packs: GpuPacking
/// (prefer partly used GPUs, then partly used nodes), kube-scheduler's
/// MostAllocated on cpu and memory, and AcceleratorAffinity (weight 2: CPU
/// pods on CPU nodes). Gangs are all-or-nothing: if fewer than
/// `min_members` fit, the members placed so far are released.
fn place_all(engine: &mut Engine, workloads: &[Workload]) -> BTreeMap<String, Vec<PodOutcome>> {
    let mut order: Vec<&Workload> = workloads.iter().collect();
    order.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(b.template.request().cpu.cmp(&a.template.request().cpu))
            .then(a.id.cmp(&b.id))
    });
    let mut out = BTreeMap::new();
    for w in order {
        let req = w.pod_request();
        let spec = PodSpec::of_workload(w, &req);
        let mut outcomes = Vec::new();
        let mut placed_now = Vec::new();
        for r in 0..w.replicas {
            let pod = PodId::new(format!("{}-{r}", w.id)).expect("valid name");
            match engine
                .place(pod.clone(), &spec)
                .expect("the engine's own choice fits")
            {
                Decision::Placed(p) => {
                    placed_now.push(pod.clone());
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
                    outcomes.push(PodOutcome {
                        pod: pod.to_string(),
                        node: Some(p.node_id.to_string()),
                        devices: Some(p.devices),
                        reasons: why,
                    });
                }
                Decision::Unschedulable(u) => outcomes.push(PodOutcome {
                    pod: pod.to_string(),
                    node: None,
                    devices: None,
                    reasons: u
                        .summary
                        .iter()
                        .map(|(r, n)| format!("{n} node(s): {r}"))
                        .collect(),
                }),
            }
        }
        if let Some(g) = &w.gang {
            if (placed_now.len() as u32) < g.min_members {
                for p in &placed_now {
                    engine.release(p).expect("placed above");
                }
                let msg = format!(
                    "gang {}: only {} of the {} required members fit; none placed",
                    g.group,
                    placed_now.len(),
                    g.min_members
                );
                for o in &mut outcomes {
                    o.node = None;
                    o.devices = None;
                    o.reasons.insert(0, msg.clone());
                }
            }
        }
        out.insert(w.id.to_string(), outcomes);
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
}
