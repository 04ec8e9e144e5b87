//! `rightsizer plan <file>`: the cheapest (or greenest) accelerator mix for a
//! demand, from a YAML/JSON planning document (see `rightsizer::plan::spec`),
//! printed as a table or JSON, with what-if sweeps.

use crate::common::{is_yaml, read_file, CliResult};
use rightsizer::plan::fleet::{FleetOutcome, SolveConfig};
use rightsizer::plan::spec::{PlanReport, PlanSpec};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Planning document (YAML or JSON): objective, options, demand, what_if;
    /// or a Mélange solver input under `melange:`.
    pub file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Wall-clock budget of each solve, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub time_limit_ms: u64,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> CliResult {
    let text = read_file(&args.file)?;
    let spec: PlanSpec = if is_yaml(&args.file) {
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
    let cfg = SolveConfig::default().with_time_limit(Duration::from_millis(args.time_limit_ms));
    let report = spec
        .run(&cfg)
        .map_err(|e| format!("{}: {e}", args.file.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
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
