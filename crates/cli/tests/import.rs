//! `rightsizer import` on dumps written here (temporary files).

use std::process::Command;

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rightsizer"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rightsizer-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const DUMP: &str = r#"{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-1", "labels": {"nvidia.com/gpu.product": "NVIDIA-L4"}},
  "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110", "nvidia.com/gpu": "2"}}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ml"},
  "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpumem": "4000"}}}]}},
 {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}]}"#;

#[test]
fn json_output_holds_nodes_workloads_and_skipped() {
    let p = write("dump.json", DUMP);
    let (ok, out, err) = run(&["import", "--json", p.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["nodes"][0]["node"]["devices"].as_array().unwrap().len(),
        2
    );
    assert_eq!(v["workloads"][0]["accelerator"]["dialect"], "hami");
    assert_eq!(v["skipped"][0]["object"]["kind"], "Secret");
}

#[test]
fn table_output_and_errors() {
    let p = write("dump2.json", DUMP);
    let (ok, out, _) = run(&["import", p.to_str().unwrap()]);
    assert!(ok);
    assert!(out.contains("1xL4") || out.contains("2xL4"), "{out}");
    assert!(out.contains("skipped: 1"), "{out}");
    let bad = write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c, resources: {requests: {cpu: nope}}}]}\n");
    let (ok, _, err) = run(&["import", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("Pod x") && err.contains("spec.containers[0].resources.requests.cpu"),
        "{err}"
    );
}
