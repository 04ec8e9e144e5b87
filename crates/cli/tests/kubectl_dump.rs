//! Commands that take `--cluster` read a kubectl dump in its place.

use std::process::{Command, Output};

const DUMP: &str = r#"{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-1", "labels": {"nvidia.com/gpu.product": "NVIDIA-L4"}},
  "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110", "nvidia.com/gpu": "2"}}},
 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-2", "labels": {"nvidia.com/gpu.product": "NVIDIA-L4"}},
  "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110", "nvidia.com/gpu": "2"}}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-5f7b9c-aaaaa", "namespace": "prod",
   "labels": {"pod-template-hash": "5f7b9c"},
   "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5f7b9c", "uid": "u", "controller": true}]},
  "spec": {"nodeName": "gpu-1", "containers": [{"name": "app", "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"nvidia.com/gpu": "2"}}}]},
  "status": {"phase": "Running"}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo", "namespace": "ml"},
  "spec": {"priority": 1, "containers": [{"name": "c", "resources": {"limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"}}}]},
  "status": {"phase": "Pending"}},
 {"apiVersion": "scheduling.x-k8s.io/v1alpha1", "kind": "PodGroup", "metadata": {"name": "train", "namespace": "ml"}, "spec": {"minMember": 2}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "train-0", "namespace": "ml", "labels": {"scheduling.x-k8s.io/pod-group": "train"}},
  "spec": {"priority": 10, "containers": [{"name": "c", "resources": {"limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"}}}]},
  "status": {"phase": "Pending"}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "train-1", "namespace": "ml", "labels": {"scheduling.x-k8s.io/pod-group": "train"}},
  "spec": {"priority": 10, "containers": [{"name": "c", "resources": {"limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"}}}]},
  "status": {"phase": "Pending"}}
]}"#;

fn dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rightsizer-kubectl-dump-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Output {
    let d = dir();
    let dump = d.join("dump.json");
    std::fs::write(&dump, DUMP).unwrap();
    std::fs::write(
        d.join("targets.yaml"),
        "targets:\n  - { workload: prod/web, container: app, requests: { cpu: \"3\", memory: 6Gi } }\n",
    )
    .unwrap();
    std::fs::write(d.join("cluster.yaml"), "nodes: []\n").unwrap();
    Command::new(env!("CARGO_BIN_EXE_rightsizer"))
        .current_dir(&d)
        .args(args)
        .output()
        .expect("runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn place_schedules_the_pending_pods_of_a_dump() {
    let out = run(&["place", "--cluster", "dump.json"]);
    let stdout = text(&out.stdout);
    // gpu-1 is full (the running web pod holds both GPUs); the PodGroup
    // (priority 10) takes gpu-2's two GPUs as one gang, so `solo` waits.
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}: {stdout}"))
            .to_owned()
    };
    assert!(line("ml/train ").contains("admitted"), "{stdout}");
    assert_eq!(stdout.matches("-> gpu-2").count(), 2, "{stdout}");
    assert!(line("ml/solo ").contains("waiting"), "{stdout}");
    assert!(text(&out.stderr).contains("1 running pod(s), 3 pending pod(s)"));
}

#[test]
fn resize_plan_reads_workloads_from_the_owners_of_pods() {
    let out = run(&[
        "resize-plan",
        "--cluster",
        "dump.json",
        "--targets",
        "targets.yaml",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("prod/web-5f7b9c-aaaaa"), "{stdout}");
    assert!(stdout.contains("in-place"), "{stdout}");
}

#[test]
fn place_needs_workloads_without_a_dump() {
    let out = run(&["place", "--cluster", "cluster.yaml"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--workloads"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plan_lists_node_group_changes_against_a_dump() {
    let d = dir();
    let node = |name: &str, ty: &str| {
        format!(
            r#"{{"apiVersion": "v1", "kind": "Node", "metadata": {{"name": "{name}", "labels": {{"node.kubernetes.io/instance-type": "{ty}"}}}},
                "status": {{"allocatable": {{"cpu": "4", "memory": "16Gi", "pods": "110"}}}}}}"#
        )
    };
    let dump = format!(
        r#"{{"apiVersion": "v1", "kind": "List", "items": [{}, {}, {}]}}"#,
        node("a", "g5.xlarge"),
        node("b", "g5.xlarge"),
        node("c", "m5.large")
    );
    std::fs::write(d.join("fleet.json"), dump).unwrap();
    let plan = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/plan-nodes.yaml"
    );
    let out = run(&[
        "plan",
        plan,
        "--cluster",
        "fleet.json",
        "--json",
        "--time-limit-ms",
        "2000",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Targets are the node mix's counts per instance type, on-demand and
    // spot together; current counts are the dump's labelled nodes.
    let mut planned = std::collections::BTreeMap::<String, u64>::new();
    for l in v["plan"]["nodes"]["lines"].as_array().unwrap() {
        *planned
            .entry(l["instance_type"].as_str().unwrap().to_owned())
            .or_default() += l["count"].as_u64().unwrap();
    }
    assert!(!planned.is_empty());
    let changes = v["node_group_changes"].as_array().unwrap();
    for c in changes {
        let g = c["group"].as_str().unwrap();
        let current = match g {
            "g5.xlarge" => 2,
            "m5.large" => 1,
            _ => 0,
        };
        assert_eq!(c["current"], current, "{c}");
        assert_eq!(
            c["target"].as_u64(),
            Some(planned.get(g).copied().unwrap_or(0))
        );
        assert_eq!(
            c["delta"].as_i64(),
            Some(c["target"].as_i64().unwrap() - current)
        );
    }
    let groups: std::collections::BTreeSet<&str> = changes
        .iter()
        .map(|c| c["group"].as_str().unwrap())
        .collect();
    assert!(groups.contains("m5.large") && groups.contains("g5.xlarge"));
    assert!(planned.keys().all(|k| groups.contains(k.as_str())));

    // Without a nodes: section there is nothing to compare: refused.
    let bare = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/plan-profiles.yaml"
    );
    let out = run(&["plan", bare, "--cluster", "fleet.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no `nodes:` section"));
}
