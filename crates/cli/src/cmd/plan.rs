//! `rightsizer plan <file>`: the cheapest (or greenest) accelerator mix for a
//! demand, from a YAML/JSON planning document (see `rightsizer::plan::spec`),
//! printed as a table or JSON, with what-if sweeps. With a `nodes:` section
//! the plan is then packed onto instance types (node mix: counts per type
//! and pricing class, cost per hour and month, energy, utilisation). With
//! `--cluster` (a kubectl dump or a cluster document) the node mix is also
//! compared with the cluster's nodes: node-group changes as a plain list.

use crate::common::{is_yaml, read_file, CliResult};
use rightsizer::k8s::export::{node_group_changes, NodeGroupChange};
use rightsizer::plan::fleet::{FleetOutcome, SolveConfig};
use rightsizer::plan::nodemix::{NodeMix, ENERGY_MODEL};
use rightsizer::plan::spec::{PlanReport, PlanSpec};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Planning document (YAML or JSON): objective, options, demand, what_if,
    /// optional nodes (instance types for the plan); or a Mélange solver input
    /// under `melange:`.
    pub file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Wall-clock budget of each solve (fleet and node packing), in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub time_limit_ms: u64,
    /// The cluster today (a kubectl dump or a cluster document): print the
    /// node-group changes from its nodes to the planned node mix (needs a
    /// `nodes:` section in the planning document).
    #[arg(long)]
    pub cluster: Option<PathBuf>,
    /// The node label whose value names a node's group (matched against the
    /// plan's instance types).
    #[arg(long, default_value = rightsizer::k8s::export::INSTANCE_TYPE_LABEL)]
    pub group_label: String,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> CliResult {
    let text = read_file(&args.file)?;
    let mut spec: PlanSpec = if is_yaml(&args.file) {
        // Deeply nested flow collections parse in quadratic time: refuse
        // them before serde_yaml sees the text (issue 15 item 8).
        rightsizer::model::spec::check_yaml_depth(&text)
            .map_err(|e| format!("{}: {e}", args.file.display()))?;
        serde_yaml::from_str(&text).map_err(|e| {
            let loc = e
                .location()
                .map(|l| format!("{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            format!("{}:{loc}: {e}", args.file.display())
        })?
    } else {
        serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", args.file.display(), e.line(), e.column()))?
    };
    // A profile table named in the document is read relative to the document.
    let base = args
        .file
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    spec.resolve_profiles(&base)
        .map_err(|e| format!("{}: {e}", args.file.display()))?;
    if let (Some(path), None) = (&args.cluster, &spec.nodes) {
        // Refused before the solve, which can take its whole budget.
        return Err(no_nodes_section(path));
    }
    let cfg = SolveConfig::default().with_time_limit(Duration::from_millis(args.time_limit_ms));
    let report = spec
        .run(&cfg)
        .map_err(|e| format!("{}: {e}", args.file.display()))?;
    let changes = match &args.cluster {
        Some(path) => Some(group_changes(&report, path, &args.group_label)?),
        None => None,
    };
    if args.json {
        match &changes {
            // The report's own shape stays as it is without --cluster.
            Some(c) => println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"plan": report, "node_group_changes": c})
                )?
            ),
            None => println!("{}", serde_json::to_string_pretty(&report)?),
        }
    } else {
        print!("{}", render(&report));
        if let Some(c) = &changes {
            print!("{}", render_changes(c, &args.group_label));
        }
    }
    Ok(())
}

/// The node mix's counts per instance type (on-demand and spot together)
/// against the nodes of the cluster at `path`.
fn group_changes(
    report: &PlanReport,
    path: &std::path::Path,
    label: &str,
) -> Result<Vec<NodeGroupChange>, crate::common::CliError> {
    let Some(mix) = &report.nodes else {
        return Err(no_nodes_section(path));
    };
    let mut target: BTreeMap<String, u32> = BTreeMap::new();
    for l in &mix.lines {
        *target.entry(l.instance_type.clone()).or_default() += l.count;
    }
    let models: Vec<_> = rightsizer::catalog::Catalog::builtin()
        .accelerators()
        .cloned()
        .collect();
    let spec = crate::cluster_input::read_cluster(path, &models)?.spec;
    Ok(node_group_changes(&spec.nodes, label, &target))
}

fn no_nodes_section(cluster: &std::path::Path) -> crate::common::CliError {
    format!(
        "--cluster {}: the planning document has no `nodes:` section, so the plan names no instance types to compare with the cluster's nodes",
        cluster.display()
    )
    .into()
}

fn render_changes(changes: &[NodeGroupChange], label: &str) -> String {
    let mut s = format!("node-group changes (nodes grouped by {label}):\n");
    s += &format!(
        "  {:<26} {:>7} {:>7} {:>7}\n",
        "group", "current", "target", "delta"
    );
    for c in changes {
        let delta = if c.delta > 0 {
            format!("+{}", c.delta)
        } else {
            c.delta.to_string()
        };
        s += &format!(
            "  {:<26} {:>7} {:>7} {:>7}\n",
            c.group.as_deref().unwrap_or("(no label: kept)"),
            c.current,
            c.target,
            delta
        );
    }
    s
}

fn render(r: &PlanReport) -> String {
    let mut s = String::new();
    match &r.outcome {
        FleetOutcome::Infeasible(i) => {
            s += &format!("INFEASIBLE: {i}\n");
        }
        FleetOutcome::Plan(p) => {
            s += &format!("objective: {:?}\n", r.objective);
            s += &format!(
                "{:<24} {:>6} {:>10} {:>8}\n",
                "option", "count", "load", "util"
            );
            for (name, &c) in &p.counts {
                let load = p.loads.get(name).copied().unwrap_or(0.0);
                let util = if c > 0 {
                    format!("{:.1}%", 100.0 * load / f64::from(c))
                } else {
                    "-".into()
                };
                s += &format!("{name:<24} {c:>6} {load:>10.4} {util:>8}\n");
            }
            s += &format!(
                "cost: {} ({} per month at 730 h); provisioned power: {}\n",
                p.cost,
                p.monthly_cost(),
                p.power
            );
            s += &format!(
                "search: {:?} after {} nodes; objective {} >= lower bound {} (gap {:.3}%); LP bound {:.6}\n",
                p.stop,
                p.nodes,
                p.objective,
                p.lower_bound,
                100.0 * p.gap,
                p.lp_bound
            );
            if !p.single_type.is_empty() {
                s += "single-type fleets:";
                for (name, st) in &p.single_type {
                    s += &format!(" {name} {}x = {};", st.count, st.cost);
                }
                s += "\n";
            }
        }
    }
    if let Some(n) = &r.nodes {
        s += &render_nodes(n);
    }
    if !r.what_if.is_empty() {
        s += "what-if:\n";
        for w in &r.what_if {
            match (&w.cost, &w.infeasible) {
                (Some(c), _) => {
                    let mix: Vec<String> = w
                        .counts
                        .iter()
                        .filter(|(_, &n)| n > 0)
                        .map(|(k, n)| format!("{n}x{k}"))
                        .collect();
                    s += &format!(
                        "  {:<24} {:>16}  {}\n",
                        w.change,
                        c.to_string(),
                        mix.join(" + ")
                    );
                }
                (None, Some(i)) => s += &format!("  {:<24} infeasible: {i}\n", w.change),
                (None, None) => {}
            }
        }
    }
    s
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn render_nodes(n: &NodeMix) -> String {
    let mut s = String::from("node mix:\n");
    s += &format!(
        "  {:<26} {:<9} {:>5} {:>14} {:>14} {:>7} {:>7} {:>7} {:>8}  replicas\n",
        "instance type", "pricing", "count", "price/h", "cost/h", "cpu", "mem", "gpu", "power"
    );
    for l in &n.lines {
        let reps: Vec<String> = l.replicas.iter().map(|(g, k)| format!("{k}x{g}")).collect();
        s += &format!(
            "  {:<26} {:<9} {:>5} {:>14} {:>14} {:>7} {:>7} {:>7} {:>8}  {}\n",
            l.instance_type,
            l.pricing.to_string(),
            l.count,
            l.unit_price.to_string(),
            l.cost.to_string(),
            pct(l.cpu_utilisation),
            pct(l.memory_utilisation),
            l.device_utilisation.map_or("-".into(), pct),
            l.power.to_string(),
            reps.join(" ")
        );
    }
    s += &format!(
        "  nodes: {} on-demand + {} spot; cost: {} ({} per month at {} h)\n",
        n.on_demand_nodes, n.spot_nodes, n.cost_per_hour, n.cost_per_month, n.hours_per_month
    );
    s += &format!(
        "  power: {} (estimate), {:.1} kWh per month\n  energy model: {ENERGY_MODEL}\n",
        n.power, n.energy_kwh_per_month
    );
    if !n.host_power_unknown.is_empty() {
        s += &format!(
            "  host power unknown (counted as 0 W): {}\n",
            n.host_power_unknown.join(", ")
        );
    }
    if !n.device_power_unknown.is_empty() {
        s += &format!(
            "  device power unknown (counted as 0 W): {}\n",
            n.device_power_unknown.join(", ")
        );
    }
    s += &format!(
        "  packer: {:?}, cost {} >= lower bound {} (gap {:.3}%), proven optimal: {}{}\n",
        n.termination,
        n.cost_per_hour,
        n.lower_bound,
        100.0 * n.gap,
        n.proven_optimal,
        if n.limits_split {
            " (max_count split between on-demand and spot)"
        } else {
            ""
        }
    );
    let spot: Vec<String> = n
        .groups
        .iter()
        .filter(|(_, g)| g.spot > 0)
        .map(|(name, g)| format!("{name} {}/{}", g.spot, g.replicas))
        .collect();
    if !spot.is_empty() {
        s += &format!("  replicas on spot: {}\n", spot.join(", "));
    }
    for u in &n.unplaced {
        s += &format!("  UNPLACED {} x {}: {}\n", u.replicas, u.group, u.reason);
    }
    s
}
