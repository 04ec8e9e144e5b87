//! `rightsizer catalog`: lists the built-in catalog of accelerators and
//! instance types, optionally merged with extra JSON/YAML files.

use crate::common::{read_file, CliResult};
use rightsizer::catalog::{price_per_device, Catalog, CatalogDocument, NodeTypeFilter};
use rightsizer::model::accelerator::AcceleratorModel;
use rightsizer::model::node::{NodeType, Provider};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// A cloud provider on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderArg {
    /// Amazon Web Services.
    Aws,
    /// Google Cloud.
    Gcp,
    /// Microsoft Azure.
    Azure,
    /// Anything else (on-premises entries from --extra files).
    Other,
}

impl ProviderArg {
    fn provider(self) -> Provider {
        match self {
            ProviderArg::Aws => Provider::Aws,
            ProviderArg::Gcp => Provider::Gcp,
            ProviderArg::Azure => Provider::Azure,
            ProviderArg::Other => Provider::Other,
        }
    }
}

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only the accelerator models (with --provider: those the provider offers).
    #[arg(long, conflicts_with = "node_types")]
    pub accelerators: bool,
    /// Only the node (instance) types.
    #[arg(long)]
    pub node_types: bool,
    /// Only entries of this provider.
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// Print the full data as JSON (the catalog file format) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Extra JSON/YAML catalog files merged over the built-in catalog, in
    /// order (same id replaces, new id adds). May be repeated.
    #[arg(long, value_name = "FILE")]
    pub extra: Vec<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> CliResult {
    let mut catalog = Catalog::builtin();
    for f in &args.extra {
        // An extra file that adds nothing (empty, `[]`, `{}`) is a mistake,
        // not a no-op: say so rather than print the built-in catalog.
        let name = f.display().to_string();
        let doc = rightsizer::catalog::parse_document(&read_file(f)?, &name)?;
        if doc.accelerators.is_empty() && doc.node_types.is_empty() {
            return Err(format!(
                "{name}: the --extra file has no `accelerators` and no `node_types` entries"
            )
            .into());
        }
        catalog.merge_document(doc, &name)?;
    }
    let filter = match args.provider {
        Some(p) => NodeTypeFilter::new().provider(p.provider()),
        None => NodeTypeFilter::new(),
    };
    let node_types: Vec<&NodeType> = catalog.node_types_matching(&filter).collect();
    let accelerators: Vec<&AcceleratorModel> = match args.provider {
        None => catalog.accelerators().collect(),
        Some(_) => {
            let offered: BTreeSet<&str> = node_types
                .iter()
                .flat_map(|t| t.devices.iter().map(|d| d.model.as_str()))
                .collect();
            catalog
                .accelerators()
                .filter(|a| offered.contains(a.id.as_str()))
                .collect()
        }
    };
    let show_acc = !args.node_types;
    let show_nt = !args.accelerators;

    if args.json {
        let doc = CatalogDocument {
            accelerators: if show_acc {
                accelerators.into_iter().cloned().collect()
            } else {
                Vec::new()
            },
            node_types: if show_nt {
                node_types.into_iter().cloned().collect()
            } else {
                Vec::new()
            },
        };
        let mut json = serde_json::to_string_pretty(&doc)?;
        json.push('\n');
        return emit(&json);
    }

    let mut out = String::new();
    if show_acc {
        writeln!(out, "Accelerators ({})", accelerators.len())?;
        writeln!(out, "{}", accelerator_table(&accelerators))?;
    }
    if show_acc && show_nt {
        writeln!(out)?;
    }
    if show_nt {
        // Tables read best grouped by provider, cheapest first.
        let mut node_types = node_types;
        node_types
            .sort_by(|a, b| (&a.provider, a.price, &a.id).cmp(&(&b.provider, b.price, &b.id)));
        writeln!(out, "Node types ({})", node_types.len())?;
        writeln!(out, "{}", node_type_table(&node_types))?;
    }
    writeln!(
        out,
        "Throughput is dense (TFLOPS/TOPS); prices are USD per hour, on demand; every row's source is in --json."
    )?;
    emit(&out)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> CliResult {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

fn num(v: f64) -> String {
    if v == 0.0 {
        "-".into()
    } else {
        format!("{v:.0}")
    }
}

fn gib(bytes: u64) -> String {
    let g = bytes as f64 / (1u64 << 30) as f64;
    if (g - g.round()).abs() < 0.05 {
        format!("{g:.0} GiB")
    } else {
        format!("{g:.1} GiB")
    }
}

fn sharing(a: &AcceleratorModel) -> String {
    let mut parts = Vec::new();
    if a.sharing.whole {
        parts.push("whole".to_string());
    }
    if let Some(f) = &a.sharing.fractional {
        parts.push(format!("frac/{}", f.max_shares));
    }
    if let Some(g) = &a.sharing.mig {
        parts.push(format!("mig:{}", g.profiles.len()));
    }
    if let Some(r) = a.sharing.time_slicing_replicas {
        parts.push(format!("ts:{r}"));
    }
    parts.join(",")
}

fn accelerator_table(acc: &[&AcceleratorModel]) -> String {
    let header = [
        "ID", "KIND", "VENDOR", "MEMORY", "BF16", "FP16", "INT8", "BW GB/s", "IDLE W", "MAX W",
        "SHARING",
    ];
    let rows = acc
        .iter()
        .map(|a| {
            vec![
                a.id.to_string(),
                a.kind.to_string(),
                a.vendor.clone(),
                gib(a.memory.get()),
                num(a.bf16.0),
                num(a.fp16.0),
                num(a.int8.0),
                num(a.memory_bandwidth.0),
                a.idle_power.get().to_string(),
                a.max_power.get().to_string(),
                sharing(a),
            ]
        })
        .collect::<Vec<_>>();
    table(&header, &rows, &[3, 4, 5, 6, 7, 8, 9])
}

fn dollars(micros: u64) -> String {
    format!("{:.4}", micros as f64 / 1e6)
}

fn node_type_table(types: &[&NodeType]) -> String {
    let header = [
        "ID",
        "PROVIDER",
        "REGION",
        "VCPU",
        "MEMORY",
        "ACCELERATORS",
        "$/H",
        "SPOT $/H",
        "$/DEVICE-H",
    ];
    let rows = types
        .iter()
        .map(|t| {
            let devices = t
                .devices
                .iter()
                .map(|d| format!("{}x {}", d.count, d.model))
                .collect::<Vec<_>>()
                .join(" + ");
            vec![
                t.id.to_string(),
                t.provider.to_string(),
                t.region.clone(),
                format!("{}", t.cpu.as_cores()),
                gib(t.memory.get()),
                if devices.is_empty() {
                    "-".into()
                } else {
                    devices
                },
                dollars(t.price.micros()),
                t.spot_price
                    .map(|p| dollars(p.micros()))
                    .unwrap_or_else(|| "-".into()),
                price_per_device(t)
                    .map(|p| dollars(p.micros()))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect::<Vec<_>>();
    table(&header, &rows, &[3, 4, 6, 7, 8])
}

/// An aligned text table; columns listed in `right` are right-aligned.
fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let s = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = width[i] - c.chars().count();
                if right.contains(&i) {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect::<Vec<_>>()
            .join("  ");
        s.trim_end().to_string()
    };
    let mut out = vec![line(header.to_vec())];
    for r in rows {
        out.push(line(r.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let t = table(
            &["A", "NUM"],
            &[
                vec!["long-name".into(), "1".into()],
                vec!["x".into(), "100".into()],
            ],
            &[1],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "A          NUM");
        assert_eq!(lines[1], "long-name    1");
        assert_eq!(lines[2], "x          100");
    }

    #[test]
    fn formats() {
        assert_eq!(gib(80 << 30), "80 GiB");
        assert_eq!(gib(183359 << 20), "179.1 GiB");
        assert_eq!(num(0.0), "-");
        assert_eq!(dollars(6_880_000), "6.8800");
    }
}
