//! Bad input yields a typed error naming the path of the offending field;
//! good documents round-trip through JSON and YAML.

use rightsizer_model::cluster::tests_support::{fractional_gpu, mig_gpu};
use rightsizer_model::prelude::*;
use rightsizer_model::spec::{from_json, from_str_auto, from_yaml, ClusterSpec, SpecError};

const GOOD: &str = r#"
nodes:
  - id: gpu-1
    allocatable: { cpu: "8", memory: 32Gi, pods: 110 }
    devices: [ { model: T4 }, { model: T4 } ]
    labels: { pool: inference }
    taints: [ { key: nvidia.com/gpu, effect: NoSchedule } ]
    topology: { zone: z1 }
  - id: cpu-1
    allocatable: { cpu: 4000m, memory: "17179869184", pods: 110 }
workloads:
  - id: llm
    replicas: 2
    template:
      containers:
        - name: server
          requests: { cpu: "2", memory: 8Gi }
          limits: { memory: 8Gi }
          resizePolicy: [ { resourceName: cpu, restartPolicy: NotRequired } ]
    accelerator: { type: fraction, milli: 500, memory: 4Gi }
    allowed_models: [T4]
    tolerations: [ { key: nvidia.com/gpu } ]
  - id: web
    template:
      containers: [ { name: web, requests: { cpu: 100m, memory: 128Mi } } ]
pods:
  - { id: llm-0, workload: llm, node: gpu-1 }
  - { id: web-0, workload: web, node: cpu-1 }
"#;

fn base() -> Vec<AcceleratorModel> {
    vec![fractional_gpu("T4", 16), mig_gpu("A100")]
}

fn syntax_path(e: &SpecError) -> &str {
    match e {
        SpecError::Syntax { path, .. }
        | SpecError::Invalid { path, .. }
        | SpecError::DuplicateId { path, .. }
        | SpecError::Unknown { path, .. } => path,
        _ => panic!("unexpected variant {e:?}"),
    }
}

fn err_of(doc: &str) -> SpecError {
    match from_str_auto::<ClusterSpec>(doc) {
        Err(e) => e,
        Ok(spec) => spec
            .to_state(&base())
            .expect_err("document must be rejected"),
    }
}

#[test]
fn good_document_builds_state_and_round_trips() {
    let spec: ClusterSpec = from_yaml(GOOD).unwrap();
    let state = spec.to_state(&base()).unwrap();
    assert_eq!(state.len(), 2);
    assert_eq!(state.placements().len(), 2);
    let free = state.node_free(NodeIndex(0));
    assert_eq!(free.resources.cpu, MilliCpu::new(6000));
    assert_eq!(
        free.devices.iter().map(|d| d.milli.get()).sum::<u32>(),
        1500
    );
    let json = serde_json::to_string(&spec).unwrap();
    let back: ClusterSpec = from_json(&json).unwrap();
    assert_eq!(back, spec);
    let yaml = serde_yaml::to_string(&spec).unwrap();
    let back: ClusterSpec = from_yaml(&yaml).unwrap();
    assert_eq!(back, spec);
    assert_eq!(spec.workloads[0].template.qos_class(), QosClass::Burstable);
}

#[test]
fn errors_name_the_offending_field() {
    let cases: &[(&str, &str)] = &[
        // unknown field
        ("nodes:\n  - id: a\n    allocatable: { cpu: 1 }\n    colour: red\n", "nodes[0]"),
        // negative size
        ("nodes:\n  - id: a\n    allocatable: { cpu: \"-1\" }\n", "nodes[0].allocatable.cpu"),
        // overflowing size
        ("nodes:\n  - id: a\n    allocatable: { pods: 99999999999 }\n", "nodes[0].allocatable.pods"),
        // garbage quantity
        ("nodes:\n  - id: a\n    allocatable: { memory: 12XB }\n", "nodes[0].allocatable.memory"),
        // empty id
        ("nodes:\n  - id: \"\"\n    allocatable: {}\n", "nodes[0].id"),
        // duplicate ids
        ("nodes:\n  - id: a\n    allocatable: {}\n  - id: a\n    allocatable: {}\n", "nodes[1].id"),
        // unknown device model
        ("nodes:\n  - id: a\n    allocatable: {}\n    devices: [ { model: H999 } ]\n", "nodes[0].devices[0].model"),
        // fraction above one device
        ("workloads:\n  - id: w\n    template: { containers: [ { name: c } ] }\n    accelerator: { type: fraction, milli: 1500 }\n", "workloads[0].accelerator.milli"),
        // unknown MIG profile
        ("workloads:\n  - id: w\n    template: { containers: [ { name: c } ] }\n    accelerator: { type: mig, profile: 9g.99gb }\n", "workloads[0].accelerator.profile"),
        // unknown accelerator in allowed models
        ("workloads:\n  - id: w\n    template: { containers: [ { name: c } ] }\n    allowed_models: [Z9]\n", "workloads[0].allowed_models[0]"),
        // wrong type
        ("nodes:\n  - id: a\n    allocatable: { pods: many }\n", "nodes[0].allocatable.pods"),
        // pod on a missing node
        ("nodes: []\nworkloads:\n  - id: w\n    template: { containers: [ { name: c } ] }\npods: [ { id: p, workload: w, node: nowhere } ]\n", "pods[0].node"),
        // pod that does not fit its node
        ("nodes:\n  - id: a\n    allocatable: { cpu: 1, pods: 1 }\nworkloads:\n  - id: w\n    template: { containers: [ { name: c, requests: { cpu: 2 } } ] }\npods: [ { id: p, workload: w, node: a } ]\n", "pods[0]"),
        // JSON: unknown field deep inside
        (r#"{"nodes":[{"id":"a","allocatable":{"cpu":"1","gpus":2}}]}"#, "nodes[0].allocatable"),
        // JSON: trailing garbage
        (r#"{"nodes":[]} x"#, "."),
    ];
    for (doc, path) in cases {
        let e = err_of(doc);
        assert!(
            syntax_path(&e).starts_with(path),
            "for {doc:?}: expected path {path}, got {e}"
        );
        assert!(
            e.to_string().starts_with(path),
            "message must start with the path: {e}"
        );
    }
}

#[test]
fn json_errors_have_line_and_column() {
    let e = from_json::<ClusterSpec>(
        "{\n  \"nodes\": [\n    {\"id\": \"a\", \"allocatable\": {\"cpu\": true}}\n  ]\n}",
    )
    .unwrap_err();
    match e {
        SpecError::Syntax { line, column, .. } => {
            assert_eq!(line, Some(3));
            assert!(column.is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn arbitrary_garbage_never_panics() {
    for doc in [
        "",
        "[",
        "{",
        "nodes: [",
        "nodes: 3",
        "\u{0}",
        "nodes:\n - id: [1,2]",
        "---\n- a\n- b",
    ] {
        let _ = from_str_auto::<ClusterSpec>(doc).map(|s| s.to_state(&base()));
    }
}
