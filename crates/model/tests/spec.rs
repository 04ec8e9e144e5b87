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

/// Issue 15 item 4: a running pod short of cpu, memory or pod slots was
/// reported as "no devices on node … fit the pod's demand" (a node without
/// `pods:` triggered it for every pod). The error names the binding
/// dimension with the amounts.
#[test]
fn running_pod_shortfall_names_the_binding_dimension() {
    let doc = |alloc: &str, req: &str| {
        format!(
            "nodes:\n  - {{ id: n1, allocatable: {alloc} }}\nworkloads:\n  - id: w\n    template:\n      containers: [ {{ name: c, requests: {req} }} ]\npods:\n  - {{ id: w-0, workload: w, node: n1 }}\n"
        )
    };
    // A node without `pods:` is refused at the node itself, naming the field.
    let e = err_of(&doc(r#"{ cpu: "4", memory: 8Gi }"#, r#"{ cpu: "1" }"#));
    assert_eq!(syntax_path(&e), "nodes[0].allocatable.pods");
    assert!(e.to_string().contains("no pod slots"), "{e}");
    for (alloc, req, want) in [
        (
            r#"{ cpu: "4", memory: 8Gi, pods: 10 }"#,
            r#"{ cpu: "5" }"#,
            "insufficient cpu: requested 5000m, free 4000m of 4000m allocatable",
        ),
        (
            r#"{ cpu: "4", memory: 1Gi, pods: 10 }"#,
            r#"{ cpu: "1", memory: 2Gi }"#,
            "insufficient memory: requested 2147483648 bytes, free 1073741824 bytes",
        ),
    ] {
        let e = err_of(&doc(alloc, req));
        assert_eq!(syntax_path(&e), "pods[0]");
        let msg = e.to_string();
        assert!(msg.contains("does not fit node n1"), "{msg}");
        assert!(msg.contains(want), "{msg}");
        assert!(!msg.contains("devices"), "{msg}");
    }
}

/// Issue 15 item 5: an empty file or `[]` was read as an empty cluster.
#[test]
fn empty_or_list_documents_are_refused() {
    use rightsizer_model::spec::from_str_document;
    for doc in ["", "   \n", "# only a comment\n---\n", "{}\n"] {
        let r = from_str_document::<ClusterSpec>(doc);
        if doc.trim() == "{}" {
            assert!(r.is_ok());
        } else {
            let e = r.unwrap_err().to_string();
            assert!(e.contains("the document is empty"), "{doc:?}: {e}");
        }
    }
    for doc in ["[]", "[1, 2]", "- a\n- b\n", "42", "\"text\""] {
        let e = from_str_document::<ClusterSpec>(doc)
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a mapping"), "{doc:?}: {e}");
    }
    // Paths still name the field inside the mapping.
    let e = from_str_document::<ClusterSpec>("nodes:\n  - id: a\n    allocatable: { cpu: lots }\n")
        .unwrap_err();
    assert!(e.to_string().starts_with("nodes[0].allocatable.cpu"), "{e}");
    let e = from_str_document::<ClusterSpec>(r#"{"nodes": [{"id": 1}]}"#).unwrap_err();
    assert!(e.to_string().starts_with("nodes[0].id"), "{e}");
}

/// Issue 15 item 8: YAML flow nesting parsed in quadratic time (200 KB of
/// nested `[` took 33 s). The depth is capped before the parser runs; the
/// check is linear, so 1 MB of nesting is refused at once.
#[test]
fn deep_yaml_is_refused_before_parsing() {
    use rightsizer_model::spec::{check_yaml_depth, MAX_YAML_DEPTH};
    let n = 500_000;
    for doc in [
        format!("items: {}{}", "[".repeat(n), "]".repeat(n)),
        format!("{}1{}", "{a: ".repeat(n), "}".repeat(n)),
        format!("a: &x !t [{}", "[ ".repeat(n)),
    ] {
        let e = from_yaml::<ClusterSpec>(&doc).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("deeper than {MAX_YAML_DEPTH}")),
            "{msg}"
        );
        assert!(msg.contains("line 1"), "{msg}");
        assert!(from_str_auto::<ClusterSpec>(&doc).is_err());
    }
    // At the cap it parses (then fails on the schema, not on depth).
    let at = format!(
        "a: {}{}",
        "[".repeat(MAX_YAML_DEPTH),
        "]".repeat(MAX_YAML_DEPTH)
    );
    assert!(check_yaml_depth(&at).is_ok());
    // Brackets in quoted scalars, comments, block scalars and plain scalars
    // are not nesting.
    let deep = "[".repeat(300);
    let ok = format!(
        "a: \"{deep}\"\nb: '{deep}'\n# {deep}\nc: |\n  {deep}\n   {deep}\n\nd: x{deep}\ne: [\"]]]\", '{deep}']\n"
    );
    assert!(check_yaml_depth(&ok).is_ok(), "{ok}");
    // Closing brackets inside quotes do not hide real nesting.
    let sneaky = format!("a: {}", "[ \"]\", ".repeat(300));
    assert!(check_yaml_depth(&sneaky).is_err());
}

mod yaml_depth_properties {
    use proptest::prelude::*;
    use rightsizer_model::spec::{check_yaml_depth, from_yaml, MAX_YAML_DEPTH};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any text: the depth check never panics, and whatever it lets
        /// through the YAML reader handles without panicking.
        #[test]
        fn depth_check_never_panics(text in "[\\[\\]{}\"'#|>:,\\- \\n a-z0-9&!\\\\]{0,200}") {
            if check_yaml_depth(&text).is_ok() {
                let _ = from_yaml::<serde_json::Value>(&text);
            }
        }

        /// Flow nesting of depth d, in any mix of `[` and `{k: `, behind
        /// quoted scalars holding closing brackets: refused exactly when
        /// d exceeds the cap.
        #[test]
        fn nesting_is_refused_exactly_above_the_cap(
            kinds in prop::collection::vec(any::<bool>(), 1..300),
            noise in any::<bool>(),
        ) {
            let mut doc = String::from("a: ");
            let mut close = String::new();
            for &seq in &kinds {
                if noise {
                    doc.push_str(if seq { "[ \"]]\", " } else { "{ q: ']}', k: " });
                } else {
                    doc.push_str(if seq { "[" } else { "{k: " });
                }
                close.insert(0, if seq { ']' } else { '}' });
            }
            doc.push('1');
            doc.push_str(&close);
            let r = check_yaml_depth(&doc);
            prop_assert_eq!(r.is_err(), kinds.len() > MAX_YAML_DEPTH, "{}", doc);
            if r.is_ok() {
                // Accepted documents parse (up to 100 levels; nearer the cap
                // the deserializer's own recursion limit of 128 may refuse).
                prop_assert!(from_yaml::<serde_json::Value>(&doc).is_ok() || kinds.len() > 100);
            }
        }
    }
}
