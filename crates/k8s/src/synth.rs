//! A seeded generator of large kubectl dumps (for benchmarks and load
//! tests): GPU and CPU nodes with GFD labels, conditions and taints; pods
//! with init containers, sidecars, HAMi shares, MIG and whole-GPU limits,
//! node selectors, tolerations and a status.

use rightsizer_model::rng::SplitMix64;
use serde_json::{json, Value};

const PRODUCTS: &[&str] = &[
    "NVIDIA-H100-80GB-HBM3",
    "NVIDIA-A100-SXM4-80GB",
    "NVIDIA-L4",
    "Tesla-T4",
];

fn node(i: usize, rng: &mut SplitMix64) -> Value {
    let gpus = [0u64, 0, 4, 8][rng.below(4) as usize];
    let product = PRODUCTS[rng.below(PRODUCTS.len() as u64) as usize];
    let mut labels = json!({
        "kubernetes.io/hostname": format!("node-{i:05}"),
        "topology.kubernetes.io/zone": format!("zone-{}", i % 3),
        "topology.kubernetes.io/region": "region-1",
        "topology.kubernetes.io/rack": format!("rack-{}", i / 32),
        "node.kubernetes.io/instance-type": "synthetic.large",
    });
    let mut alloc = json!({"cpu": format!("{}", [32, 64, 96][rng.below(3) as usize]), "memory": format!("{}Gi", [128, 256, 512][rng.below(3) as usize]), "pods": "110", "ephemeral-storage": "500Gi"});
    if gpus > 0 {
        labels["nvidia.com/gpu.product"] = json!(product);
        labels["nvidia.com/gpu.count"] = json!(gpus.to_string());
        labels["nvidia.com/gpu.memory"] = json!("81559");
        alloc["nvidia.com/gpu"] = json!(gpus.to_string());
    }
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": format!("node-{i:05}"), "labels": labels},
        "spec": if gpus > 0 { json!({"taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]}) } else { json!({}) },
        "status": {"allocatable": alloc.clone(), "capacity": alloc,
                   "conditions": [{"type": "Ready", "status": if rng.below(100) == 0 { "False" } else { "True" }}]}
    })
}

fn pod(i: usize, nodes: usize, rng: &mut SplitMix64) -> Value {
    let cpu = format!("{}m", 100 * rng.range(1, 40));
    let mem = format!("{}Mi", 256 * rng.range(1, 64));
    let mut limits = json!({"cpu": cpu, "memory": mem});
    let mut annotations = json!({"example.com/owner": "team-a"});
    match rng.below(10) {
        0 => limits["nvidia.com/gpu"] = json!(rng.range(1, 8).to_string()),
        1 => {
            limits["nvidia.com/gpu"] = json!("1");
            limits["nvidia.com/gpumem"] = json!((1024 * rng.range(1, 20)).to_string());
            limits["nvidia.com/gpucores"] = json!((10 * rng.range(1, 10)).to_string());
        }
        2 => limits["nvidia.com/mig-1g.10gb"] = json!("1"),
        3 => annotations["gpu-fraction"] = json!("0.5"),
        _ => {}
    }
    let mut spec = json!({
        "containers": [
            {"name": "app", "image": "registry.example/app:1", "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": limits}},
            {"name": "metrics", "image": "registry.example/metrics:1", "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}}],
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "priority": rng.below(1000),
        "restartPolicy": "Always",
    });
    if rng.below(4) == 0 {
        spec["initContainers"] = json!([
            {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
            {"name": "fetch", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]);
    }
    let bound = rng.below(10) < 8;
    if bound {
        spec["nodeName"] = json!(format!("node-{:05}", rng.below(nodes.max(1) as u64)));
    }
    // A third of the apps are Deployments (pods owned by a ReplicaSet), a
    // third StatefulSets, a third bare pods.
    let app = i % 500;
    let mut metadata = json!({"name": format!("pod-{i:06}"), "namespace": format!("ns-{}", i % 50),
                              "labels": {"app": format!("app-{app}")}, "annotations": annotations});
    match app % 3 {
        0 => {
            metadata["labels"]["pod-template-hash"] = json!("5f7b9c");
            metadata["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": format!("app-{app}-5f7b9c"), "uid": format!("rs-{app}"), "controller": true}]);
        }
        1 => {
            metadata["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "StatefulSet",
                "name": format!("app-{app}"), "uid": format!("sts-{app}"), "controller": true}]);
        }
        _ => {}
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": {"phase": if bound { "Running" } else { "Pending" }}
    })
}

/// A `kind: List` JSON dump of `nodes` nodes and `pods` pods, the same for
/// the same seed.
///
/// ```
/// let dump = rightsizer_k8s::synth::cluster_dump(10, 100, 7);
/// let out = rightsizer_k8s::Importer::new().import_str(&dump, "synthetic")?;
/// assert_eq!((out.nodes.len(), out.workloads.len()), (10, 100));
/// # Ok::<(), rightsizer_k8s::ImportError>(())
/// ```
pub fn cluster_dump(nodes: usize, pods: usize, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed);
    let mut items = Vec::with_capacity(nodes + pods);
    for i in 0..nodes {
        items.push(node(i, &mut rng));
    }
    for i in 0..pods {
        items.push(pod(i, nodes, &mut rng));
    }
    json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}
