//! `rightsizer bench-pack`: runs the packer on the shared bin-packing
//! benchmark sets and prints quality and timing per set.

use crate::common::{data_dir, CliResult};
use rightsizer::pack::bench::{load_set, run_instance, summarize, ONE_DIM_SETS};
use rightsizer::pack::Budget;
use std::time::Duration;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Set names, comma separated (e.g. `Hard28,Falkenauer_T,New`); `classic`
    /// expands to the nine classic 1-D sets.
    #[arg(long, value_delimiter = ',', required = true)]
    pub set: Vec<String>,
    /// Time budget per instance in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub budget_ms: u64,
    /// Run a seeded sample of K instances per set.
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seed for sampling and for the packer.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// JSON output (per set and per instance).
    #[arg(long)]
    pub json: bool,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> CliResult {
    let data = data_dir();
    let mut sets: Vec<String> = Vec::new();
    for s in &args.set {
        if s == "classic" {
            sets.extend(
                rightsizer::pack::bench::CLASSIC_SETS
                    .iter()
                    .map(|x| x.to_string()),
            );
        } else {
            sets.push(s.clone());
        }
    }
    let budget = Budget::time(Duration::from_millis(args.budget_ms));
    let mut summaries = Vec::new();
    let mut all = Vec::new();
    if !args.json {
        println!(
            "{:<14} {:>5} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10}",
            "set", "inst", "opt%", "proven%", "excess", "ratio", "mean_ms", "max_ms"
        );
    }
    for set in &sets {
        let insts = load_set(&data, set, args.sample.map(|k| (k, args.seed)))?;
        let outs: Vec<_> = insts
            .iter()
            .map(|b| run_instance(b, budget, args.seed))
            .collect();
        let s = summarize(set, &outs);
        if !args.json {
            let one = ONE_DIM_SETS.contains(&set.as_str());
            println!(
                "{:<14} {:>5} {:>8.1} {:>8.1} {:>9} {:>9} {:>10.1} {:>10.1}",
                s.set,
                s.instances,
                100.0 * s.optimum_found,
                100.0 * s.proven_optimal,
                if one {
                    format!("{:.3}", s.mean_excess)
                } else {
                    "-".into()
                },
                format!("{:.4}", s.mean_ratio),
                s.mean_ms,
                s.max_ms
            );
        }
        summaries.push(s);
        all.extend(outs);
    }
    if args.json {
        let v = serde_json::json!({ "sets": summaries, "instances": all });
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    Ok(())
}
