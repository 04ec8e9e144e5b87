//! `rightsizer import <dump>…`: reads kubectl dumps (JSON or YAML, `List`s,
//! multi-document files) and prints the model they become, with the objects
//! skipped and what could not be represented.

use crate::common::CliResult;
use rightsizer::k8s::model::workload::AcceleratorDemand;
use rightsizer::k8s::Importer;
use rightsizer::model::quantity::Quantity;
use rightsizer::model::units::{Bytes, MilliCpu};

fn cpu(c: MilliCpu) -> String {
    Quantity::from_millicpu(c).to_string()
}

fn mem(b: Bytes) -> String {
    Quantity::from_bytes(b).to_string()
}
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// kubectl dumps (`kubectl get nodes,pods -A -o yaml > dump.yaml`).
    #[arg(required = true, value_name = "DUMP")]
    pub dumps: Vec<PathBuf>,
    /// Print the whole import as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

fn demand(d: &AcceleratorDemand) -> String {
    match d {
        AcceleratorDemand::None => "-".into(),
        AcceleratorDemand::Whole { count } => format!("{count} whole"),
        AcceleratorDemand::Fraction { milli, memory } => match memory {
            Some(m) => format!("{}m + {}", milli.get(), mem(*m)),
            None => format!("{}m", milli.get()),
        },
        AcceleratorDemand::Mig { profile } => format!("MIG {profile}"),
        _ => format!("{d:?}"),
    }
}

/// Runs the subcommand.
pub fn run(args: &Args) -> CliResult {
    let import = Importer::new().import_files(&args.dumps)?;
    if args.json {
        // Streamed: a 150,000-pod import is hundreds of MB of JSON.
        let mut w = std::io::BufWriter::new(std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut w, &import)?;
        writeln!(w)?;
        w.flush()?;
        return Ok(());
    }
    let mut out = String::new();
    {
        writeln!(out, "nodes: {}", import.nodes.len())?;
        writeln!(
            out,
            "{:<32} {:>8} {:>10} {:<24} TAINTS",
            "NODE", "CPU", "MEMORY", "DEVICES"
        )?;
        for n in &import.nodes {
            let mut devices = std::collections::BTreeMap::<&str, usize>::new();
            for d in &n.node.devices {
                *devices.entry(d.model.as_str()).or_default() += 1;
            }
            let devs: Vec<String> = devices.iter().map(|(m, c)| format!("{c}x{m}")).collect();
            writeln!(
                out,
                "{:<32} {:>8} {:>10} {:<24} {}",
                n.node.id.as_str(),
                cpu(n.node.allocatable.cpu),
                mem(n.node.allocatable.memory),
                if devs.is_empty() {
                    "-".into()
                } else {
                    devs.join(",")
                },
                n.node.taints.len()
            )?;
        }
        writeln!(out, "\nworkloads: {}", import.workloads.len())?;
        writeln!(
            out,
            "{:<48} {:>8} {:>8} {:>10} {:<18} {:<10} GANG",
            "WORKLOAD", "REPLICAS", "CPU", "MEMORY", "ACCELERATOR", "QOS"
        )?;
        for w in &import.workloads {
            let r = w.pod_request();
            writeln!(
                out,
                "{:<48} {:>8} {:>8} {:>10} {:<18} {:<10} {}",
                format!("{} {}", w.object.kind, w.workload.id),
                w.workload.replicas,
                cpu(r.resources.cpu),
                mem(r.resources.memory),
                demand(&w.workload.accelerator),
                format!("{:?}", w.qos),
                w.gang.as_ref().map(|g| g.name.as_str()).unwrap_or("-")
            )?;
        }
        if !import.pod_groups.is_empty() {
            writeln!(out, "\npod groups: {}", import.pod_groups.len())?;
            for g in &import.pod_groups {
                writeln!(
                    out,
                    "  {} ({:?}) min {}",
                    g.object, g.dialect, g.min_members
                )?;
            }
        }
        if !import.dra.is_empty() {
            writeln!(out, "\nDRA objects: {}", import.dra.len())?;
            for d in &import.dra {
                writeln!(
                    out,
                    "  {} ({} request(s), {} device(s))",
                    d.object,
                    d.requests.len(),
                    d.devices.len()
                )?;
            }
        }
        writeln!(out, "\nskipped: {}", import.skipped.len())?;
        for s in &import.skipped {
            writeln!(out, "  {} ({})", s.object, s.api_version)?;
        }
        writeln!(out, "\nunsupported: {}", import.unsupported.len())?;
        for u in &import.unsupported {
            writeln!(out, "  {u}")?;
        }
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}
