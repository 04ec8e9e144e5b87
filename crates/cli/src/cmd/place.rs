//! `rightsizer place --cluster <file> --workloads <file>`: places single pods
//! and gangs (all-or-nothing, topology-aware) on a cluster and prints where
//! each went or why it did not.
//!
//! `--cluster` is a cluster document or a kubectl dump (nodes and pods). With
//! a dump, `--workloads` may be left out: the dump's pending pods are placed,
//! the members of one PodGroup as one gang.
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

use crate::cluster_input::read_cluster;
use crate::common::{read_file, CliError, InputError, Outcome};
use rightsizer::catalog::Catalog;
use rightsizer::gang::{
    GangConfig, GangError, GangOutcome, GangPlacer, GangSpec, QueueReport, RoleSpec,
};
use rightsizer::k8s::error::qualified;
use rightsizer::k8s::Import;
use rightsizer::model::ids::GangId;
use rightsizer::model::spec::{from_str_document, SpecError};
use rightsizer::model::workload::{PodRequest, Toleration};
use rightsizer::{Engine, EngineConfig};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Cluster document (JSON or YAML, the model's cluster spec: nodes, running
    /// pods), or a kubectl dump (`kubectl get nodes,pods -A -o json`).
    #[arg(long)]
    pub cluster: PathBuf,
    /// Workloads document (JSON or YAML): `gangs`, `pods`, optional `levels`,
    /// `max_steps`. Default with a kubectl dump: its pending pods.
    #[arg(long)]
    pub workloads: Option<PathBuf>,
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

/// The pending members of one gang.
struct PendingGang {
    priority: i32,
    min: Option<u32>,
    members: Vec<RoleSpec>,
}

/// The pending pods of a dump as a workloads document: the pending members
/// of one gang (PodGroup, Volcano, in-tree Workload) as one gang, every
/// other pod as a gang of one. A gang whose members all ask the same keeps
/// its minimum as an elastic role; otherwise every member is required.
fn pending_pods(import: &Import, pending: &[usize]) -> Doc {
    let mut err = std::io::stderr().lock();
    let mut gangs: BTreeMap<String, PendingGang> = BTreeMap::new();
    let mut pods = Vec::new();
    for &i in pending {
        let w = &import.workloads[i];
        let name = w.object.qualified_name();
        if !w.required_affinity.is_empty() {
            let _ = writeln!(err, "note: {name}: required node affinity is not applied by `place` (node selectors and tolerations are)");
        }
        let mut role = RoleSpec::new(w.object.name.clone(), 1, w.pod_request());
        role.tolerations = w.workload.tolerations.clone();
        role.node_selector = w.workload.node_selector.clone();
        let Some(gang) = &w.gang else {
            let Ok(id) = GangId::new(&name) else {
                let _ = writeln!(
                    err,
                    "note: pod {name:?} is not placed: its name is not a usable id"
                );
                continue;
            };
            pods.push(SinglePod {
                id,
                priority: w.workload.priority,
                request: role.request,
                tolerations: role.tolerations,
                node_selector: role.node_selector,
            });
            continue;
        };
        let key = qualified(w.object.namespace.as_deref(), &gang.name);
        let g = gangs.entry(key).or_insert(PendingGang {
            priority: w.workload.priority,
            min: gang.min_members,
            members: Vec::new(),
        });
        g.priority = g.priority.max(w.workload.priority);
        g.members.push(role);
    }
    let mut out = Vec::new();
    for (key, g) in gangs {
        let Ok(id) = GangId::new(&key) else {
            let _ = writeln!(
                err,
                "note: gang {key:?} is not placed: its name is not a usable id"
            );
            continue;
        };
        let first = &g.members[0];
        let same = g.members.iter().all(|r| {
            r.request == first.request
                && r.tolerations == first.tolerations
                && r.node_selector == first.node_selector
        });
        let n = g.members.len() as u32;
        let roles = if same {
            let mut role = RoleSpec::new("member", n, first.request.clone());
            role.tolerations = first.tolerations.clone();
            role.node_selector = first.node_selector.clone();
            vec![match g.min {
                Some(m) if m < n => role.with_min(m.max(1)),
                _ => role,
            }]
        } else {
            if g.min.is_some_and(|m| m < n) {
                let _ = writeln!(err, "note: gang {key}: members ask different resources, so all {n} pending members are required (its minimum is not applied)");
            }
            g.members
        };
        out.push(GangSpec::new(id, roles).with_priority(g.priority));
    }
    Doc {
        levels: None,
        max_steps: None,
        gangs: out,
        pods,
    }
}

fn spec_err(file: &Path, e: &SpecError) -> CliError {
    InputError::from_spec(file, e).into()
}

/// Runs the subcommand: exit 1 when some gang or pod is not admitted.
pub fn run(args: &Args) -> Result<Outcome, CliError> {
    let base: Vec<_> = Catalog::builtin().accelerators().cloned().collect();
    let input = read_cluster(&args.cluster, &base)?;
    let state = input
        .spec
        .to_state(&base)
        .map_err(|e| spec_err(&args.cluster, &e))?;
    let engine = Engine::new(state, EngineConfig::default())
        .map_err(|e| InputError::in_file(&args.cluster, "invalid", None, e.to_string()))?;
    let (doc, workloads_file) = match (&args.workloads, &input.dump) {
        (Some(path), _) => {
            let text = read_file(path)?;
            let doc: Doc = from_str_document(&text).map_err(|e| spec_err(path, &e))?;
            (doc, path.clone())
        }
        (None, Some((import, cluster))) => {
            (pending_pods(import, &cluster.pending), args.cluster.clone())
        }
        (None, None) => return Err(InputError::argument(
            "--workloads",
            "is required unless --cluster is a kubectl dump (whose pending pods are then placed)"
                .into(),
        )
        .into()),
    };
    let mut b = GangConfig::builder();
    if let Some(l) = &doc.levels {
        b.levels(l.iter().cloned());
    }
    if let Some(s) = doc.max_steps {
        b.max_steps(s);
    }
    let config = b.build().map_err(|e| {
        InputError::in_file(
            &workloads_file,
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
                &workloads_file,
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
