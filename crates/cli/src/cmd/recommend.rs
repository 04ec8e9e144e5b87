//! `rightsizer recommend`: sizes from usage history.
//!
//! Input files ending in `.json` are read as Prometheus `query_range`
//! responses, anything else as the long-format CSV. JSON output gives, per
//! workload (a list of `{namespace, workload, containers}`) and container,
//! per resource, `target`, `lower_bound`,
//! `upper_bound` (cores for cpu, bytes for memory), the raw uncapped target
//! and the limit where the strategy gives one.

use crate::common::{read_file, CliResult};
use rightsizer::catalog::Catalog;
use rightsizer::model::resources::Resources;
use rightsizer::model::spec::{from_str_auto, ClusterSpec};
use rightsizer::size::capacity::CapacityShape;
use rightsizer::size::input::{read_csv_into, read_prometheus_into, PromMetric};
use rightsizer::size::recommend::{
    recommend_all, ContainerRecommendation, RecommendContext, RecommendationReport, Strategy,
};
use rightsizer::size::time::Timestamp;
use rightsizer::size::usage::UsageBuilder;
use serde_json::{json, Map, Value};
use std::io::Write as _;
use std::path::PathBuf;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Usage file(s): CSV (`timestamp,namespace,pod,container,resource,value[,workload]`)
    /// or Prometheus query_range JSON (`*.json`). Repeat to merge several files.
    #[arg(long, required = true)]
    pub usage: Vec<PathBuf>,
    /// Strategy: vpa, krr-simple, krr-simple-limit or risk.
    #[arg(long, default_value = "vpa")]
    pub strategy: String,
    /// Evaluation time (unix seconds or RFC 3339); default: the latest sample.
    #[arg(long)]
    pub now: Option<String>,
    /// Metric of Prometheus series without a `__name__` label:
    /// container_cpu_usage_seconds_total (already a rate),
    /// container_memory_working_set_bytes, DCGM_FI_DEV_FB_USED, DCGM_FI_DEV_GPU_UTIL.
    #[arg(long)]
    pub metric: Option<String>,
    /// Cluster document (JSON/YAML) or kubectl dump: flag workloads whose recommended pod fits
    /// none of its nodes or node types, naming the binding dimension.
    #[arg(long)]
    pub cluster: Option<PathBuf>,
    /// With --cluster: scale such recommendations down to the closest shape
    /// (the raw value stays in `uncapped_target`).
    #[arg(long, requires = "cluster")]
    pub clamp: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> CliResult {
    let strategy = Strategy::parse(&args.strategy).ok_or_else(|| {
        format!(
            "unknown strategy {:?} (expected vpa, krr-simple, krr-simple-limit or risk)",
            args.strategy
        )
    })?;
    let metric = match &args.metric {
        None => None,
        Some(m) => {
            Some(PromMetric::from_name(m).ok_or_else(|| format!("unsupported metric {m:?}"))?)
        }
    };
    let mut b = UsageBuilder::new();
    for path in &args.usage {
        let text = read_file(path)?;
        let name = path.display().to_string();
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            read_prometheus_into(&mut b, &name, &text, metric)?;
        } else {
            read_csv_into(&mut b, &name, &text)?;
        }
    }
    let usage = b.finish();
    let now = match &args.now {
        Some(s) => Timestamp::parse(s)?,
        None => usage
            .last_time()
            .ok_or("the usage input holds no samples")?,
    };
    let rec = strategy.build()?;
    let mut ctx = RecommendContext::at(now);
    if let Some(path) = &args.cluster {
        let spec = read_cluster(path)?;
        ctx.capacity = spec
            .nodes
            .iter()
            .map(|n| CapacityShape {
                name: n.id.to_string(),
                allocatable: n.allocatable.clone(),
            })
            .chain(spec.node_types.iter().map(|t| CapacityShape {
                name: t.id.to_string(),
                allocatable: Resources {
                    cpu: t.cpu,
                    memory: t.memory,
                    ..Resources::default()
                },
            }))
            .collect();
        ctx.clamp_to_capacity = args.clamp;
    }
    let report = recommend_all(&usage, rec.as_ref(), &ctx);
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&to_json(&report))?)?;
    } else {
        write!(out, "{}", render_table(&report))?;
    }
    Ok(())
}

/// Reads and validates the `--cluster` document: it must parse, pass
/// [`ClusterSpec::validate`] against the built-in catalog and hold at least
/// one node or node type with CPU and memory.
fn read_cluster(path: &std::path::Path) -> Result<ClusterSpec, crate::common::CliError> {
    let text = read_file(path)?;
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    if text.trim().is_empty() {
        return Err(
            at(&"the cluster document is empty (expected `nodes:` or `node_types:`)").into(),
        );
    }
    let base: Vec<_> = Catalog::builtin().accelerators().cloned().collect();
    let spec: ClusterSpec = if crate::cluster_input::is_kubectl_dump(&text) {
        crate::cluster_input::cluster_from_text(path, text, &base)?.spec
    } else {
        from_str_auto(&text).map_err(|e| at(&e))?
    };
    spec.validate(&base).map_err(|e| at(&e))?;
    if spec.nodes.is_empty() && spec.node_types.is_empty() {
        return Err(at(&"the cluster document has no nodes and no node_types: nothing to check recommendations against").into());
    }
    for (i, n) in spec.nodes.iter().enumerate() {
        if n.allocatable.cpu.get() == 0 || n.allocatable.memory.get() == 0 {
            return Err(at(&format_args!(
                "nodes[{i}].allocatable: node {} has no cpu or no memory",
                n.id
            ))
            .into());
        }
    }
    for (i, t) in spec.node_types.iter().enumerate() {
        if t.cpu.get() == 0 || t.memory.get() == 0 {
            return Err(at(&format_args!(
                "node_types[{i}]: node type {} has no cpu or no memory",
                t.id
            ))
            .into());
        }
    }
    Ok(spec)
}

fn container_json(c: &ContainerRecommendation) -> Value {
    let mut m = Map::new();
    if let Some(e) = &c.cpu {
        let cores = |v: rightsizer::model::units::MilliCpu| json!(v.as_cores());
        let mut r = json!({
            "target": cores(e.target),
            "lower_bound": cores(e.lower_bound),
            "upper_bound": cores(e.upper_bound),
            "uncapped_target": cores(e.uncapped_target),
        });
        if let Some(l) = e.limit {
            r["limit"] = cores(l);
        }
        m.insert("cpu".into(), r);
    }
    if let Some(e) = &c.memory {
        let mut r = json!({
            "target": e.target.get(),
            "lower_bound": e.lower_bound.get(),
            "upper_bound": e.upper_bound.get(),
            "uncapped_target": e.uncapped_target.get(),
        });
        if let Some(l) = e.limit {
            r["limit"] = json!(l.get());
        }
        m.insert("memory".into(), r);
    }
    if let Some(g) = &c.gpu {
        m.insert("gpu".into(), json!(g));
    }
    if let Some(r) = &c.risk {
        m.insert("risk".into(), json!(r));
    }
    if let Some(conf) = c.confidence {
        m.insert("confidence".into(), json!(conf));
    }
    if !c.notes.is_empty() {
        m.insert(
            "notes".into(),
            json!(c.notes.iter().map(|n| n.to_string()).collect::<Vec<_>>()),
        );
    }
    Value::Object(m)
}

fn to_json(r: &RecommendationReport) -> Value {
    // A list with the key's parts as fields: joining them into one string
    // made `a/b` + `c` and `a` + `b/c` collide.
    let workloads: Vec<Value> = r
        .workloads
        .iter()
        .map(|(k, w)| {
            let containers: Map<String, Value> = w
                .containers
                .iter()
                .map(|(n, c)| (n.clone(), container_json(c)))
                .collect();
            json!({
                "namespace": k.namespace,
                "workload": k.workload.as_str(),
                "containers": containers,
            })
        })
        .collect();
    json!({
        "strategy": r.strategy,
        "now": r.now.to_rfc3339(),
        "units": { "cpu": "cores", "memory": "bytes" },
        "workloads": workloads,
        "warnings": r.warnings,
    })
}

fn render_table(r: &RecommendationReport) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "strategy {}  now {}  (cpu in millicores, memory in MiB)",
        r.strategy, r.now
    );
    let _ = writeln!(
        s,
        "{:<20} {:<28} {:<16} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10}  gpu",
        "namespace", "workload", "container", "cpu", "cpu-lo", "cpu-hi", "mem", "mem-lo", "mem-hi"
    );
    let mib = |b: rightsizer::model::units::Bytes| format!("{:.1}", b.get() as f64 / 1048576.0);
    for (k, w) in &r.workloads {
        for (name, c) in &w.containers {
            let (ct, cl, cu) = c
                .cpu
                .as_ref()
                .map_or(("-".into(), "-".into(), "-".into()), |e| {
                    (
                        e.target.get().to_string(),
                        e.lower_bound.get().to_string(),
                        e.upper_bound.get().to_string(),
                    )
                });
            let (mt, ml, mu) = c
                .memory
                .as_ref()
                .map_or(("-".into(), "-".into(), "-".into()), |e| {
                    (mib(e.target), mib(e.lower_bound), mib(e.upper_bound))
                });
            let gpu = c
                .gpu
                .as_ref()
                .map_or(String::from("-"), |g| format!("{:?}", g.share));
            let _ = writeln!(
                s,
                "{:<20} {:<28} {:<16} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10}  {}",
                if k.namespace.is_empty() {
                    "-"
                } else {
                    &k.namespace
                },
                k.workload.as_str(),
                name,
                ct,
                cl,
                cu,
                mt,
                ml,
                mu,
                gpu
            );
            for n in &c.notes {
                let _ = writeln!(s, "    note: {n}");
            }
        }
    }
    for w in &r.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}
