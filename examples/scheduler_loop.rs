//! A custom-scheduler loop driven by a kubectl dump: pending pods in,
//! `Binding` objects out, with a reason for every pod left pending.
//!
//! ```sh
//! kubectl get nodes,pods -A -o json > dump.json
//! cargo run -p rightsizer --example scheduler_loop -- dump.json
//! ```
//!
//! Without an argument it runs on a small built-in dump.

use rightsizer::k8s::{export, Importer};
use rightsizer::model::prelude::*;

const DEMO: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: gpu-1
    labels: {nvidia.com/gpu.product: NVIDIA-L4, nvidia.com/gpu.count: "2"}
  status:
    allocatable: {cpu: "16", memory: 64Gi, pods: "110", nvidia.com/gpu: "2"}
- apiVersion: v1
  kind: Pod
  metadata: {name: infer-0, namespace: ml}
  spec:
    containers:
    - name: main
      resources: {limits: {cpu: "4", memory: 16Gi, nvidia.com/gpu: 1}}
- apiVersion: v1
  kind: Pod
  metadata: {name: train-0, namespace: ml}
  spec:
    containers:
    - name: main
      resources: {limits: {cpu: "8", memory: 32Gi, nvidia.com/gpu: 4}}
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let importer = Importer::new();
    let import = match std::env::args().nth(1) {
        Some(path) => importer.import_files(&[path])?,
        None => importer.import_str(DEMO, "demo")?,
    };
    let nodes: Vec<Node> = import.nodes.iter().map(|n| n.node.clone()).collect();
    let mut state = ClusterState::new(nodes, importer.catalog().cluster_spec_models())?;
    // Pods already bound hold their resources first.
    for w in import.workloads.iter().filter(|w| w.object.kind == "Pod") {
        let Some(node) = w
            .node_name
            .as_deref()
            .and_then(|n| state.node_index(&NodeId::new(n).ok()?))
        else {
            continue;
        };
        let req = w.pod_request();
        if let Some(devices) = state.first_fit_devices(&req, node) {
            state.allocate(PodId::new(w.workload.id.as_str())?, &req, node, &devices)?;
        }
    }
    // Pending pods, in priority order (ties by name), first fit.
    let mut pending: Vec<_> = import
        .workloads
        .iter()
        .filter(|w| w.object.kind == "Pod" && w.node_name.is_none())
        .collect();
    pending.sort_by(|a, b| {
        b.workload
            .priority
            .cmp(&a.workload.priority)
            .then(a.workload.id.cmp(&b.workload.id))
    });
    for w in pending {
        let req = w.pod_request();
        let pod = PodId::new(w.workload.id.as_str())?;
        let mut reasons = Vec::new();
        let mut bound = false;
        for i in 0..state.len() {
            let node = NodeIndex(i as u32);
            let n = state.node(node).clone();
            if !w.workload.admits_node(&n) || !w.admits_labels(&n.labels) {
                reasons.push(format!("{}: taints, selector or affinity", n.id));
                continue;
            }
            match state.first_fit_devices(&req, node) {
                Some(devices) => {
                    state.allocate(pod.clone(), &req, node, &devices)?;
                    let b = export::binding(
                        w.object.namespace.as_deref().unwrap_or("default"),
                        &w.object.name,
                        n.id.as_str(),
                    );
                    println!("{}", serde_json::to_string(&b)?);
                    bound = true;
                    break;
                }
                None => reasons.push(format!("{}: does not fit ({})", n.id, req.resources)),
            }
        }
        if !bound {
            println!("# {} stays pending: {}", w.object, reasons.join("; "));
        }
    }
    for u in &import.unsupported {
        println!("# unsupported: {u}");
    }
    Ok(())
}
