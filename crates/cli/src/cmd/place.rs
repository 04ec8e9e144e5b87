//! `rightsizer place --cluster <file> --workloads <file>`: places single pods
//! and gangs (all-or-nothing, topology-aware) on a cluster and prints where
//! each went or why it did not.
//!
//! The workloads document (JSON or YAML):
//!
//! ```yaml
//! levels: [kubernetes.io/hostname, topology.kubernetes.io/rack]   # optional, narrowest first
//! max_steps: 200000                                                # optional search budget per gang
//! gangs:
//!   - id: train
//!     priority: 10
//!     topology: { required: topology.kubernetes.io/rack }
//!     roles:
//!       - name: worker
//!         count: 4
//!         request: { resources: { cpu: "8", memory: 32Gi }, accelerator: { type: whole, count: 8 } }
//! pods:
//!   - id: web
//!     request: { resources: { cpu: "1", memory: 1Gi } }
//! ```

use crate::common::{read_file, CliError, InputError, Outcome};
use rightsizer::catalog::Catalog;
use rightsizer::gang::{
    GangConfig, GangError, GangOutcome, GangPlacer, GangSpec, QueueReport, RoleSpec,
};
use rightsizer::model::ids::GangId;
use rightsizer::model::spec::{from_str_document, ClusterSpec, SpecError};
use rightsizer::model::workload::{PodRequest, Toleration};
use rightsizer::{Engine, EngineConfig};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Cluster document (JSON or YAML, the model's cluster spec: nodes, running pods).
    #[arg(long)]
    pub cluster: PathBuf,
    /// Workloads document (JSON or YAML): `gangs`, `pods`, optional `levels`, `max_steps`.
    #[arg(long)]
    pub workloads: PathBuf,
    /// Print the full report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A single pod (a gang of one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SinglePod {
    id: GangId,
    #[serde(default)]
    priority: i32,
    request: PodRequest,
    #[serde(default)]
    tolerations: Vec<Toleration>,
    #[serde(default)]
    node_selector: BTreeMap<String, String>,
}

/// The workloads document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[serde(default)]
    levels: Option<Vec<String>>,
    #[serde(default)]
    max_steps: Option<u64>,
    #[serde(default)]
    gangs: Vec<GangSpec>,
    #[serde(default)]
    pods: Vec<SinglePod>,
}

/// The path in the workloads document of the gang a placer error names.
fn gang_path(doc: &Doc, e: &GangError) -> Option<String> {
    let text = e.to_string();
    let name = text.strip_prefix("gang ")?.split([',', ':']).next()?;
    if let Some(i) = doc.gangs.iter().position(|g| g.id.as_str() == name) {
        return Some(format!("gangs[{i}]"));
    }
    doc.pods
        .iter()
        .position(|p| p.id.as_str() == name)
        .map(|i| format!("pods[{i}]"))
}

fn spec_err(file: &Path, e: &SpecError) -> CliError {
    InputError::from_spec(file, e).into()
}

/// Runs the subcommand: exit 1 when some gang or pod is not admitted.
pub fn run(args: &Args) -> Result<Outcome, CliError> {
    let text = read_file(&args.cluster)?;
    let spec: ClusterSpec = from_str_document(&text).map_err(|e| spec_err(&args.cluster, &e))?;
    let base: Vec<_> = Catalog::builtin().accelerators().cloned().collect();
    let state = spec
        .to_state(&base)
        .map_err(|e| spec_err(&args.cluster, &e))?;
    let engine = Engine::new(state, EngineConfig::default())
        .map_err(|e| InputError::in_file(&args.cluster, "invalid", None, e.to_string()))?;
    let text = read_file(&args.workloads)?;
    let doc: Doc = from_str_document(&text).map_err(|e| spec_err(&args.workloads, &e))?;
    let mut b = GangConfig::builder();
    if let Some(l) = &doc.levels {
        b.levels(l.iter().cloned());
    }
    if let Some(s) = doc.max_steps {
        b.max_steps(s);
    }
    let config = b.build().map_err(|e| {
        InputError::in_file(
            &args.workloads,
            "invalid",
            Some("levels".into()),
            e.to_string(),
        )
    })?;
    let mut gangs = doc.gangs.clone();
    for p in &doc.pods {
        let mut role = RoleSpec::new("pod", 1, p.request.clone());
        role.tolerations = p.tolerations.clone();
        role.node_selector = p.node_selector.clone();
        gangs.push(GangSpec::new(p.id.clone(), vec![role]).with_priority(p.priority));
    }
    let report = GangPlacer::new(config)
        .queue(&engine, &gangs)
        .map_err(|e| {
            InputError::in_file(
                &args.workloads,
                "invalid",
                gang_path(&doc, &e),
                e.to_string(),
            )
        })?;
    print(&report, args.json)?;
    let waiting = report
        .results
        .iter()
        .filter(|r| r.admitted().is_none())
        .count();
    Ok(if waiting == 0 {
        Outcome::Complete
    } else {
        Outcome::Incomplete(format!("{waiting} gang(s) or pod(s) not admitted"))
    })
}

fn print(report: &QueueReport, json: bool) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(report)?)?;
        out.flush()?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<24} {:<10} {:<28} detail",
        "gang", "status", "domain"
    )?;
    for r in &report.results {
        match &r.outcome {
            GangOutcome::Admitted(a) => {
                let dom = a
                    .domain
                    .as_ref()
                    .map_or("-".to_string(), |d| d.name.clone());
                writeln!(
                    out,
                    "{:<24} {:<10} {:<28} {} member(s), {} step(s)",
                    r.gang,
                    "admitted",
                    dom,
                    a.members.len(),
                    r.steps
                )?;
                for m in &a.members {
                    writeln!(
                        out,
                        "  {:<30} -> {} {}",
                        m.pod,
                        m.node,
                        serde_json::to_string(&m.devices)?
                    )?;
                }
            }
            GangOutcome::Waiting { reason, proven } => {
                let dom = reason
                    .domain
                    .as_ref()
                    .map_or("-".to_string(), |d| d.name.clone());
                let status = if *proven { "waiting" } else { "unproven" };
                writeln!(
                    out,
                    "{:<24} {:<10} {:<28} {}: {}",
                    r.gang, status, dom, reason.dimension, reason.message
                )?;
            }
            GangOutcome::Infeasible { reason } => {
                let dom = reason
                    .domain
                    .as_ref()
                    .map_or("-".to_string(), |d| d.name.clone());
                writeln!(
                    out,
                    "{:<24} {:<10} {:<28} {}: {}",
                    r.gang, "infeasible", dom, reason.dimension, reason.message
                )?;
            }
            _ => writeln!(out, "{:<24} unknown", r.gang)?,
        }
    }
    out.flush()?;
    Ok(())
}
