//! `Import::cluster`: a dump as a running cluster whose spec always builds,
//! with every bound pod either placed or listed as left out.

use rightsizer_k8s::model::accelerator::AcceleratorModel;
use rightsizer_k8s::synth::cluster_dump;
use rightsizer_k8s::{Import, Importer};

fn models() -> Vec<AcceleratorModel> {
    rightsizer_catalog::Catalog::builtin()
        .accelerators()
        .cloned()
        .collect()
}

/// The checks every dump must pass; returns the number of placed pods.
fn check(import: &Import) -> usize {
    let models = models();
    let c = import.cluster(&models);
    let state = c
        .spec
        .to_state(&models)
        .unwrap_or_else(|e| panic!("the cluster spec builds: {e}"));
    // Accounting: each live bound pod is placed or left out, each live
    // unbound pod is pending.
    let live = |w: &&rightsizer_k8s::pod::ImportedWorkload| {
        w.object.kind == "Pod" && !matches!(w.phase.as_deref(), Some("Succeeded" | "Failed"))
    };
    let bound = import
        .workloads
        .iter()
        .filter(live)
        .filter(|w| w.node_name.is_some())
        .count();
    let left_pods = c.left_out.iter().filter(|u| u.object.kind == "Pod").count();
    assert_eq!(c.spec.pods.len() + left_pods, bound);
    let unbound = import
        .workloads
        .iter()
        .filter(live)
        .filter(|w| w.node_name.is_none())
        .count();
    assert_eq!(c.pending.len(), unbound);
    // Each placed pod is counted at its effective request, as the scheduler
    // counts it.
    for p in &c.spec.pods {
        let w = c
            .spec
            .workloads
            .iter()
            .find(|w| w.id == p.workload)
            .expect("workload");
        let counted = p.template.as_ref().unwrap_or(&w.template).request();
        let imported = import
            .workloads
            .iter()
            .find(|w| w.object.kind == "Pod" && w.object.qualified_name() == p.id.as_str())
            .expect("imported pod");
        assert_eq!(counted, imported.pod_request().resources, "pod {}", p.id);
        assert!(state.placements().contains_key(&p.id));
    }
    // Replicas count the pods of each workload.
    for w in &c.spec.workloads {
        let n = c.spec.pods.iter().filter(|p| p.workload == w.id).count();
        assert_eq!(w.replicas as usize, n, "workload {}", w.id);
    }
    c.spec.pods.len()
}

#[test]
fn synthetic_dump_builds_and_accounts_for_every_pod() {
    let dump = cluster_dump(40, 2_000, 11);
    let import = Importer::new()
        .import_str(&dump, "synthetic")
        .expect("imports");
    let placed = check(&import);
    let c = import.cluster(&models());
    // The generator binds pods to random nodes, so some overcommit them; those
    // are left out as not fitting, and nothing else is.
    for u in &c.left_out {
        assert!(
            u.why.contains("does not fit") || u.why.contains("no free device"),
            "{u:?}"
        );
    }
    assert!(
        placed > c.left_out.len(),
        "{placed} placed, {} left out",
        c.left_out.len()
    );
    // Deployments are grouped through their ReplicaSet, StatefulSets by name.
    assert!(c
        .spec
        .workloads
        .iter()
        .any(|w| w.id.as_str() == "ns-0/app-0"));
    assert!(c
        .spec
        .workloads
        .iter()
        .any(|w| w.id.as_str() == "ns-1/app-1"));
    assert!(c.spec.workloads.iter().any(|w| w.replicas > 1));
    // Same input, same output.
    assert_eq!(c, import.cluster(&models()));
}

#[test]
fn pod_level_resources_unknown_nodes_and_finished_pods() {
    let dump = r#"
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "4", memory: 16Gi, pods: "10"}}
---
apiVersion: v1
kind: Pod
metadata: {name: pl, namespace: a}
spec:
  nodeName: n1
  resources: {requests: {cpu: "3", memory: 1Gi}}
  containers:
  - {name: x, resources: {requests: {cpu: "1"}}}
  - {name: y, resources: {requests: {cpu: "1"}}}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere, namespace: a}
spec:
  nodeName: n9
  containers: [{name: x}]
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: done, namespace: a}
spec:
  nodeName: n1
  containers: [{name: x, resources: {requests: {cpu: "4"}}}]
status: {phase: Succeeded}
---
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: a}
spec:
  nodeName: n1
  containers: [{name: x, resources: {requests: {cpu: "2"}}}]
status: {phase: Running}
"#;
    let import = Importer::new()
        .import_str(dump, "dump.yaml")
        .expect("imports");
    check(&import);
    let c = import.cluster(&models());
    let ids: Vec<&str> = c.spec.pods.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        ["a/pl"],
        "the pod-level pod counts 3 CPUs, so `big` does not fit"
    );
    let why = |name: &str| {
        c.left_out
            .iter()
            .find(|u| u.object.name == name)
            .map(|u| u.why.clone())
            .unwrap_or_default()
    };
    assert!(why("elsewhere").contains("n9"), "{}", why("elsewhere"));
    assert!(why("big").contains("insufficient cpu"), "{}", why("big"));
    assert!(why("done").is_empty(), "a finished pod holds nothing");
}
