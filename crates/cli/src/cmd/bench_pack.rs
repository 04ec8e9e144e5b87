//! `rightsizer bench-pack`: runs the packer on the shared bin-packing
//! benchmark sets and prints quality and timing per set.

use crate::common::{data_dir, CliResult, InputError};
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

/// Runs the subcommand. Every argument is checked and every set loaded
/// before anything is printed, so a bad set name or file leaves no partial
/// table on stdout.
pub fn run(args: &Args) -> CliResult {
    use rightsizer::pack::bench::{CLASSIC_SETS, VECTOR_SETS};
    let data = data_dir();
    if args.budget_ms == 0 {
        return Err(InputError::argument("--budget-ms", "must be at least 1".into()).into());
    }
    if args.sample == Some(0) {
        return Err(InputError::argument("--sample", "must be at least 1".into()).into());
    }
    let mut sets: Vec<String> = Vec::new();
    for s in &args.set {
        if s == "classic" {
            sets.extend(CLASSIC_SETS.iter().map(|x| x.to_string()));
        } else if ONE_DIM_SETS.contains(&s.as_str()) || VECTOR_SETS.contains(&s.as_str()) {
            sets.push(s.clone());
        } else {
            let known: Vec<&str> = ONE_DIM_SETS.iter().chain(VECTOR_SETS).copied().collect();
            return Err(InputError::argument(
                "--set",
                format!("unknown set {s:?}; known: classic, {}", known.join(", ")),
            )
            .into());
        }
    }
    let budget = Budget::time(Duration::from_millis(args.budget_ms));
    let loaded = sets
        .iter()
        .map(|set| {
            load_set(&data, set, args.sample.map(|k| (k, args.seed)))
                .map(|insts| (set, insts))
                .map_err(|e| format!("set {set} in {}: {e}", data.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut summaries = Vec::new();
    let mut all = Vec::new();
    if !args.json {
        println!(
            "{:<14} {:>5} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10}",
            "set", "inst", "opt%", "proven%", "excess", "ratio", "mean_ms", "max_ms"
        );
    }
    for (set, insts) in loaded {
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
