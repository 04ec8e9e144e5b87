//! `rightsizer pack <file>`: packs items from a JSON/YAML instance onto bins.

use crate::common::{is_yaml, read_file, CliError, InputError, Outcome};
use rightsizer::model::spec::{from_json, from_yaml};
use rightsizer::pack::{pack, BinSource, Budget, Instance, PackError, PackOptions};
use std::io::Write as _;
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
    /// Time budget in milliseconds (the default when no budget is given is
    /// 1000). A time budget may change the answer on a busier machine.
    #[arg(long)]
    pub budget_ms: Option<u64>,
    /// Iteration budget (search moves, nodes and LP iterations). Alone it
    /// makes the answer reproducible: the same on a loaded or idle machine.
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Leave wall-clock times out of the output, so that the output is
    /// byte-identical across runs (with an iteration budget).
    #[arg(long)]
    pub no_timings: bool,
}

/// Maps a packer error to an input error naming the file and field.
fn pack_error(file: &std::path::Path, e: &PackError) -> InputError {
    let path = match e {
        PackError::DimensionMismatch { what, .. } | PackError::BadBinType { what, .. } => {
            Some(what.clone())
        }
        PackError::Overfull { index, .. } => Some(format!("open_bins[{index}].used")),
        PackError::NoBinTypes | PackError::ZeroDimensions => Some("bin_types".into()),
        PackError::CostOverflow { .. } => Some("bin_types[].cost".into()),
        _ => None,
    };
    InputError::in_file(file, "invalid", path, e.to_string())
}

/// Runs the subcommand: exit 1 when some item could not be placed.
pub fn run(args: &Args) -> Result<Outcome, CliError> {
    let text = read_file(&args.file)?;
    let parsed = if is_yaml(&args.file) {
        from_yaml::<Instance>(&text)
    } else {
        from_json::<Instance>(&text)
    };
    let inst = parsed.map_err(|e| InputError::from_spec(&args.file, &e))?;
    let budget = match (args.budget_ms, args.iterations) {
        (None, None) => Budget::time(Duration::from_millis(1000)),
        (t, i) => Budget {
            time: t.map(Duration::from_millis),
            iterations: i,
        },
    };
    let opts = PackOptions {
        budget,
        seed: args.seed,
        ..PackOptions::default()
    };
    let mut r = pack(&inst, &opts).map_err(|e| pack_error(&args.file, &e))?;
    if args.no_timings {
        r.elapsed = Duration::ZERO;
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?,
        Format::Table => {
            let ms = if args.no_timings {
                String::new()
            } else {
                format!("{} ms, ", r.elapsed.as_millis())
            };
            writeln!(
                out,
                "objective {}  lower bound {}  gap {:.2}%  proven optimal: {}  stopped: {:?}  ({ms}start: {})",
                r.objective.0,
                r.lower_bound.0,
                100.0 * r.gap,
                r.proven_optimal,
                r.termination,
                r.best_heuristic
            )?;
            writeln!(
                out,
                "{:<6} {:<16} {:<10} {:<24} items",
                "bin", "type", "source", "load"
            )?;
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
                writeln!(
                    out,
                    "{:<6} {:<16} {:<10} {:<24} {}",
                    k,
                    ty,
                    src,
                    load.join("/"),
                    items.join(",")
                )?;
            }
            if !r.unplaced.is_empty() {
                writeln!(out, "unplaced items: {:?}", r.unplaced)?;
            }
        }
    }
    out.flush()?;
    Ok(if r.unplaced.is_empty() {
        Outcome::Complete
    } else {
        Outcome::Incomplete(format!("{} item(s) unplaced", r.unplaced.len()))
    })
}
