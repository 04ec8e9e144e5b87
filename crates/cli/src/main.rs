//! The `rightsizer` command-line tool: placement, packing, right-sizing and
//! capacity planning on JSON/YAML files and the built-in catalog.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod cmd;
mod common;

/// Right-sizing and placement decisions for AI workloads on heterogeneous clusters.
#[derive(Debug, Parser)]
#[command(name = "rightsizer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

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

fn main() -> ExitCode {
    quiet_broken_pipe();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Catalog(a) => cmd::catalog::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Pack(a) => cmd::pack::run(a),
        Command::BenchPack(a) => cmd::bench_pack::run(a),
        Command::Recommend(a) => cmd::recommend::run(a),
        Command::ResizePlan(a) => cmd::resize_plan::run(a),
        Command::Plan(a) => cmd::plan::run(a),
        Command::Import(a) => cmd::import::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut src = e.source();
            while let Some(s) = src {
                eprintln!("  caused by: {s}");
                src = s.source();
            }
            ExitCode::from(2)
        }
    }
}
