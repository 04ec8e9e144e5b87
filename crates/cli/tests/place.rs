//! `rightsizer place`: gangs and single pods, table and JSON, exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

const CLUSTER: &str = r#"
nodes:
  - id: a
    allocatable: { cpu: "16", memory: 64Gi, pods: 110 }
    devices: [ { model: L4 }, { model: L4 } ]
    labels: { topology.kubernetes.io/rack: r1 }
  - id: b
    allocatable: { cpu: "16", memory: 64Gi, pods: 110 }
    devices: [ { model: L4 }, { model: L4 } ]
    labels: { topology.kubernetes.io/rack: r1 }
  - id: c
    allocatable: { cpu: "16", memory: 64Gi, pods: 110 }
    labels: { topology.kubernetes.io/rack: r2 }
"#;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rightsizer-place-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(name: &str, workloads: &str, extra: &[&str]) -> Output {
    let d = dir(name);
    let c = d.join("cluster.yaml");
    let w = d.join("workloads.yaml");
    std::fs::write(&c, CLUSTER).unwrap();
    std::fs::write(&w, workloads).unwrap();
    Command::new(env!("CARGO_BIN_EXE_rightsizer"))
        .arg("place")
        .arg("--cluster")
        .arg(&c)
        .arg("--workloads")
        .arg(&w)
        .args(extra)
        .output()
        .expect("runs")
}

const GANG: &str = r#"
gangs:
  - id: train
    topology: { required: topology.kubernetes.io/rack }
    roles:
      - name: worker
        count: 2
        request: { resources: { cpu: "4", memory: 8Gi }, accelerator: { type: whole, count: 2 } }
      - name: front
        count: 1
        request: { resources: { cpu: "2", memory: 1Gi } }
pods:
  - id: web
    request: { resources: { cpu: "1", memory: 1Gi } }
"#;

#[test]
fn places_a_gang_and_a_pod() {
    let o = run("ok", GANG, &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("train") && out.contains("admitted") && out.contains("r1"),
        "{out}"
    );
    assert!(
        out.contains("train-worker-0") && out.contains("web-pod-0"),
        "{out}"
    );
}

#[test]
fn json_report() {
    let o = run("json", GANG, &["--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["outcome"]["status"], "admitted");
    let members = results[0]["outcome"]["members"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    for m in members.iter().filter(|m| m["role"] == "worker") {
        assert!(["a", "b"].contains(&m["node"].as_str().unwrap()));
    }
}

#[test]
fn a_gang_that_does_not_fit_exits_1_with_a_reason() {
    let w = r#"
gangs:
  - id: big
    roles:
      - name: w
        count: 3
        request: { resources: { cpu: "1", memory: 1Gi }, accelerator: { type: whole, count: 2 } }
"#;
    let o = run("nofit", w, &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("infeasible"), "{out}");
}

#[test]
fn unknown_level_is_a_typed_input_error() {
    let w = r#"
gangs:
  - id: g
    topology: { required: example.com/row }
    roles:
      - { name: w, count: 1, request: { resources: { cpu: "1" } } }
"#;
    let o = run("level", w, &["--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(v["path"], "gangs[0]");
    assert!(
        v["message"].as_str().unwrap().contains("example.com/row"),
        "{v}"
    );
}

#[test]
fn min_above_count_and_bad_slices_are_input_errors() {
    let w = r#"
gangs:
  - id: g
    roles:
      - { name: w, count: 2, min: 3, request: { resources: { cpu: "1" } } }
"#;
    let o = run("min", w, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("min 3"));
    let w = r#"
gangs:
  - id: g
    roles:
      - name: w
        count: 3
        request: { resources: { cpu: "1" } }
        topology: { slice: { level: topology.kubernetes.io/rack, size: 2 } }
"#;
    let o = run("slice", w, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not divide"));
}

#[test]
fn syntax_errors_name_the_field() {
    let w = "gangs:\n  - id: g\n    roles: 7\n";
    let o = run("syntax", w, &["--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(v["kind"], "syntax");
    assert!(
        v["path"].as_str().unwrap().starts_with("gangs[0].roles"),
        "{v}"
    );
}
