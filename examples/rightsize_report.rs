//! A right-sizing report from a kubectl dump plus usage history: VPA-exact
//! recommendations per container, checked against the cluster's nodes, the
//! in-place resize plan that applies them (with the `resize` subresource
//! patch of every step), and the `VerticalPodAutoscaler` status block that
//! lets the VPA updater apply the same numbers.
//!
//! ```sh
//! kubectl get nodes,pods -A -o json > dump.json
//! # usage.csv: timestamp,namespace,pod,container,resource,value (cpu in
//! # cores, memory in bytes), e.g. exported from Prometheus
//! cargo run -p rightsizer --example rightsize_report -- dump.json usage.csv
//! ```
//!
//! Without arguments it runs on a small built-in dump and eight days of
//! generated usage.

use rightsizer::catalog::Catalog;
use rightsizer::k8s::export::{self, ContainerRecommendation as VpaContainer};
use rightsizer::k8s::Importer;
use rightsizer::model::prelude::*;
use rightsizer::size::capacity::CapacityShape;
use rightsizer::size::input::read_csv_into;
use rightsizer::size::recommend::{recommend_all, RecommendContext, Strategy};
use rightsizer::size::resize::{plan, ResizeConfig, ResizeProblem, ResizeTarget};
use rightsizer::size::usage::UsageBuilder;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One node, two Deployments: `web` asks for far more than it uses, `api`
/// for less memory than it needs.
const DEMO: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: node-1}
  status:
    allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5f7b9c-x2x7q
    namespace: prod
    labels: {pod-template-hash: 5f7b9c}
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5f7b9c, uid: u1, controller: true}]
  spec:
    nodeName: node-1
    containers:
    - name: app
      resources: {requests: {cpu: "2", memory: 4Gi}, limits: {cpu: "2", memory: 4Gi}}
      resizePolicy: [{resourceName: cpu, restartPolicy: NotRequired}, {resourceName: memory, restartPolicy: NotRequired}]
  status: {phase: Running}
- apiVersion: v1
  kind: Pod
  metadata:
    name: api-7d9c4b-k8m2v
    namespace: prod
    labels: {pod-template-hash: 7d9c4b}
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-7d9c4b, uid: u2, controller: true}]
  spec:
    nodeName: node-1
    containers:
    - name: app
      resources: {requests: {cpu: "1", memory: 2Gi}, limits: {memory: 2Gi}}
  status: {phase: Running}
"#;

/// Eight days of five-minute samples with a daily cycle, as the CSV a
/// Prometheus export gives.
fn demo_usage() -> String {
    let mut csv = String::from("timestamp,namespace,pod,container,resource,value\n");
    let start = 1_764_547_200_i64; // 2025-12-01T00:00:00Z
    for i in 0..(8 * 24 * 12) {
        let t = start + i * 300;
        let day = (i % (24 * 12)) as f64 / (24.0 * 12.0);
        let cycle = (day * std::f64::consts::TAU).sin();
        // web: ~0.4 cores, ~1.2 GiB; api: ~0.8 cores, ~2.4 GiB.
        for (pod, cpu, mem) in [
            ("web-5f7b9c-x2x7q", 0.4 + 0.15 * cycle, 1.2 + 0.1 * cycle),
            ("api-7d9c4b-k8m2v", 0.8 + 0.3 * cycle, 2.4 + 0.2 * cycle),
        ] {
            let _ = writeln!(csv, "{t},prod,{pod},app,cpu,{cpu:.4}");
            let _ = writeln!(
                csv,
                "{t},prod,{pod},app,memory,{:.0}",
                mem * 1_073_741_824.0
            );
        }
    }
    csv
}

/// Memory in MiB, rounded up, for the table.
fn mib(b: Bytes) -> String {
    format!("{}Mi", b.get().div_ceil(1 << 20))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let importer = Importer::new();
    let (import, usage_text, usage_name) = match args.as_slice() {
        [dump, usage] => (
            importer.import_files(std::slice::from_ref(dump))?,
            std::fs::read_to_string(usage)?,
            usage.clone(),
        ),
        [] => (
            importer.import_str(DEMO, "demo")?,
            demo_usage(),
            "demo".into(),
        ),
        _ => return Err("usage: rightsize_report [<dump.json> <usage.csv>]".into()),
    };

    // The dump as a running cluster: nodes, and the bound pods grouped by
    // their controller (`<namespace>/<deployment>`).
    let models: Vec<AcceleratorModel> = Catalog::builtin().accelerators().cloned().collect();
    let cluster = import.cluster(&models);
    for l in &cluster.left_out {
        eprintln!("# left out: {l}");
    }
    let spec = cluster.spec;

    // VPA-exact recommendations, flagged when a pod would fit no node.
    let mut usage = UsageBuilder::new();
    read_csv_into(&mut usage, &usage_name, &usage_text)?;
    let usage = usage.finish();
    let now = usage
        .last_time()
        .ok_or("the usage history holds no samples")?;
    let mut ctx = RecommendContext::at(now);
    ctx.capacity = spec
        .nodes
        .iter()
        .map(|n| CapacityShape {
            name: n.id.to_string(),
            allocatable: n.allocatable.clone(),
        })
        .collect();
    let report = recommend_all(&usage, Strategy::Vpa.build()?.as_ref(), &ctx);

    let current: BTreeMap<&str, &Workload> =
        spec.workloads.iter().map(|w| (w.id.as_str(), w)).collect();
    let mut targets = Vec::new();
    println!(
        "{:<24} {:<10} {:>16} {:>20}",
        "workload", "container", "cpu now -> vpa", "memory now -> vpa"
    );
    for (key, rec) in &report.workloads {
        let id = key.to_string();
        let Some(workload) = current.get(id.as_str()) else {
            println!("{id:<24} (usage only: no running pod in the dump)");
            continue;
        };
        let mut vpa = Vec::new();
        for (name, c) in &rec.containers {
            let (Some(cpu), Some(memory)) = (&c.cpu, &c.memory) else {
                continue;
            };
            let now = workload
                .template
                .containers
                .iter()
                .find(|k| &k.name == name)
                .map(|k| k.requests.clone())
                .unwrap_or_default();
            println!(
                "{id:<24} {name:<10} {:>16} {:>20}",
                format!("{} -> {}", now.cpu, cpu.target),
                format!("{} -> {}", mib(now.memory), mib(memory.target)),
            );
            let sizes =
                |pick: fn(&rightsizer::size::recommend::Estimate<MilliCpu>) -> MilliCpu,
                 mem: fn(&rightsizer::size::recommend::Estimate<Bytes>) -> Bytes| {
                    Resources {
                        cpu: pick(cpu),
                        memory: mem(memory),
                        ..Resources::default()
                    }
                };
            vpa.push(VpaContainer {
                name: name.clone(),
                target: sizes(|e| e.target, |e| e.target),
                lower_bound: sizes(|e| e.lower_bound, |e| e.lower_bound),
                upper_bound: sizes(|e| e.upper_bound, |e| e.upper_bound),
                uncapped_target: sizes(|e| e.uncapped_target, |e| e.uncapped_target),
            });
            if now.cpu != cpu.target || now.memory != memory.target {
                targets.push(ResizeTarget {
                    pod: None,
                    workload: Some(workload.id.clone()),
                    container: name.clone(),
                    requests: sizes(|e| e.target, |e| e.target),
                    limits: None,
                });
            }
        }
        println!(
            "  VerticalPodAutoscaler {id} status.recommendation: {}",
            export::vpa_recommendation(&vpa)
        );
    }

    for w in &spec.workloads {
        let covered = report
            .workloads
            .keys()
            .any(|k| k.to_string() == w.id.as_str());
        if !covered {
            println!("{:<24} (no usage history: left as it is)", w.id);
        }
    }

    // The resize plan: in-place where the node has room and the policy
    // allows it, restarts and migrations named, a patch per step.
    if targets.is_empty() {
        println!("nothing to resize");
        return Ok(());
    }
    let problem = ResizeProblem::from_spec(&spec, &models)?;
    let p = plan(&problem, &targets, &ResizeConfig::default())?;
    println!(
        "resize plan: {} step(s) in {} wave(s), {} disruptive; requested cpu {} -> {}, memory {} -> {}",
        p.steps.len(),
        p.waves,
        p.disruptions,
        p.requested_before.cpu,
        p.requested_after.cpu,
        p.requested_before.memory,
        p.requested_after.memory
    );
    for s in &p.steps {
        println!("  wave {} {} on {}: {:?}", s.wave, s.pod, s.node, s.action);
        println!(
            "    kubectl patch pod --subresource resize --patch '{}'",
            s.patch
        );
    }
    for u in &p.unresolved {
        println!("  not planned: {}: {:?}", u.pod, u.reason);
    }
    Ok(())
}
