//! `rightsizer pack <file>`: packs items from a JSON/YAML instance onto bins.

use crate::common::{is_yaml, read_file, CliResult};
use rightsizer::model::spec::{from_json, from_yaml};
use rightsizer::pack::{pack, BinSource, Budget, Instance, PackOptions};
use std::path::PathBuf;
use std::time::Duration;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The full result as JSON.
    Json,
    /// A human-readable table.
    Table,
}

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Instance file (JSON or YAML): `items`, `bin_types`, optional `open_bins`.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Time budget in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub budget_ms: u64,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> CliResult {
    let text = read_file(&args.file)?;
    let inst: Instance = if is_yaml(&args.file) {
        from_yaml(&text).map_err(|e| format!("{}: invalid instance: {e}", args.file.display()))?
    } else {
        from_json(&text).map_err(|e| format!("{}: invalid instance: {e}", args.file.display()))?
    };
    let opts = PackOptions {
        budget: Budget::time(Duration::from_millis(args.budget_ms)),
        seed: args.seed,
        ..PackOptions::default()
    };
    let r = pack(&inst, &opts).map_err(|e| format!("{}: {e}", args.file.display()))?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&r)?),
        Format::Table => {
            println!(
                "objective {}  lower bound {}  gap {:.2}%  proven optimal: {}  stopped: {:?}  ({} ms, start: {})",
                r.objective.0,
                r.lower_bound.0,
                100.0 * r.gap,
                r.proven_optimal,
                r.termination,
                r.elapsed.as_millis(),
                r.best_heuristic
            );
            println!(
                "{:<6} {:<16} {:<10} {:<24} items",
                "bin", "type", "source", "load"
            );
            for (k, b) in r.bins.iter().enumerate() {
                let ty = inst.bin_types[b.bin_type]
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("#{}", b.bin_type));
                let src = match b.source {
                    BinSource::New { .. } => "new".to_string(),
                    BinSource::Open { index } => format!("open#{index}"),
                };
                let load: Vec<String> = b.load.iter().map(|x| x.to_string()).collect();
                let items: Vec<String> = b.items.iter().map(|x| x.to_string()).collect();
                println!(
                    "{:<6} {:<16} {:<10} {:<24} {}",
                    k,
                    ty,
                    src,
                    load.join("/"),
                    items.join(",")
                );
            }
            if !r.unplaced.is_empty() {
                println!("unplaced items: {:?}", r.unplaced);
            }
        }
    }
    Ok(())
}
