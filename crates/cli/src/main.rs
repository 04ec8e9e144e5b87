//! The `rightsizer` command-line tool: placement, packing, right-sizing and
//! capacity planning on JSON/YAML files and the built-in catalog.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cluster_input;
mod cmd;
mod common;

/// Right-sizing and placement decisions for AI workloads on heterogeneous clusters.
///
/// Exit codes: 0 success; 1 ran, but something is infeasible, unplaced or
/// not planned (0 with --exit-zero); 2 bad input or failure; 64 usage.
#[derive(Debug, Parser)]
#[command(name = "rightsizer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Exit 0 (not 1) when the command ran but its answer is incomplete
    /// (something infeasible, unplaced or not planned).
    #[arg(long, global = true)]
    exit_zero: bool,
}

/// Exit code: the command ran, but the answer is incomplete.
const EXIT_INCOMPLETE: u8 = 1;
/// Exit code: bad input or a failure while running.
const EXIT_ERROR: u8 = 2;
/// Exit code: the command line is wrong (`EX_USAGE` of sysexits.h).
const EXIT_USAGE: u8 = 64;

#[derive(Debug, Subcommand)]
enum Command {
    /// List the built-in catalog of accelerators and instance types.
    Catalog(cmd::catalog::Args),
    /// Run the end-to-end default scenario on built-in data.
    Demo(cmd::demo::Args),
    /// Replay the Alibaba openb trace with GPU-sharing placement policies.
    Simulate(cmd::simulate::Args),
    /// Pack items from a JSON/YAML file onto bins (nodes).
    Pack(cmd::pack::Args),
    /// Benchmark the packer on the shared bin-packing instance sets.
    BenchPack(cmd::bench_pack::Args),
    /// Recommend CPU/memory/GPU sizes from usage history.
    Recommend(cmd::recommend::Args),
    /// Plan in-place resizes for a cluster.
    ResizePlan(cmd::resize_plan::Args),
    /// Plan the cheapest or greenest accelerator and node mix for a demand.
    Plan(cmd::plan::Args),
    /// Read kubectl dumps into the model (nodes, workloads, unsupported fields).
    Import(cmd::import::Args),
    /// Place single pods and gangs (all-or-nothing, topology-aware) on a cluster.
    Place(cmd::place::Args),
}

/// `rightsizer … | head` closes stdout early; `println!` then panics with
/// "Broken pipe". Treat that as the normal end of output, as Unix tools do.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// `true` when the command line asks for JSON output (`--json`, or
/// `--format json` / `--format=json`): errors are then printed as JSON.
fn wants_json(args: &[std::ffi::OsString]) -> bool {
    args.iter().enumerate().any(|(i, a)| {
        a == "--json"
            || a == "--format=json"
            || (a == "--format" && args.get(i + 1).is_some_and(|n| n == "json"))
    })
}

fn main() -> ExitCode {
    quiet_broken_pipe();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = wants_json(&argv);
    let cli = match Cli::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if json {
                let v = serde_json::json!({
                    "kind": "usage",
                    "message": e.kind().to_string(),
                    "detail": e.to_string().trim_end(),
                    "file": null, "path": null, "line": null, "column": null,
                });
                eprintln!("{v}");
            } else {
                let _ = e.print();
            }
            return ExitCode::from(EXIT_USAGE);
        }
    };
    use common::IntoOutcome as _;
    let result = match &cli.command {
        Command::Catalog(a) => cmd::catalog::run(a).map(|o| o.into_outcome()),
        Command::Demo(a) => cmd::demo::run(a).map(|o| o.into_outcome()),
        Command::Simulate(a) => cmd::simulate::run(a).map(|o| o.into_outcome()),
        Command::Pack(a) => cmd::pack::run(a).map(|o| o.into_outcome()),
        Command::BenchPack(a) => cmd::bench_pack::run(a).map(|o| o.into_outcome()),
        Command::Recommend(a) => cmd::recommend::run(a).map(|o| o.into_outcome()),
        Command::ResizePlan(a) => cmd::resize_plan::run(a).map(|o| o.into_outcome()),
        Command::Plan(a) => cmd::plan::run(a).map(|o| o.into_outcome()),
        Command::Import(a) => cmd::import::run(a).map(|o| o.into_outcome()),
        Command::Place(a) => cmd::place::run(a).map(|o| o.into_outcome()),
    };
    match result {
        Ok(common::Outcome::Complete) => ExitCode::SUCCESS,
        Ok(common::Outcome::Incomplete(what)) => {
            if cli.exit_zero {
                ExitCode::SUCCESS
            } else {
                if !json {
                    eprintln!("note: {what} (exit code 1; --exit-zero for 0)");
                }
                ExitCode::from(EXIT_INCOMPLETE)
            }
        }
        Err(e) if common::is_broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                eprintln!("{}", common::error_json(e.as_ref()));
            } else {
                eprintln!("error: {e}");
                let mut src = e.source();
                while let Some(s) = src {
                    eprintln!("  caused by: {s}");
                    src = s.source();
                }
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}
