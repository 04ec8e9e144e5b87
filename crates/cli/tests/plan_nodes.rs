//! `rightsizer plan` with a `nodes:` section: fleet plan, then node mix.

mod common;

use common::plan;
use std::path::PathBuf;

fn example() -> PathBuf {
    common::examples().join("plan-nodes.yaml")
}

fn write_doc(name: &str, text: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const FLEET: &str = "options:
  - {name: L4, price_per_hour: 0.8048}
demand:
  - {label: chat, rate: 12, throughput: {L4: 6}}
";

#[test]
fn example_document_gives_a_consistent_node_mix() {
    let out = plan(&[example().to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = &r["nodes"];
    let lines = n["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    // Cost is exactly Σ count × unit price; the month is 730 hours.
    let total: u64 = lines
        .iter()
        .map(|l| l["count"].as_u64().unwrap() * l["unit_price"].as_u64().unwrap())
        .sum();
    assert_eq!(n["cost_per_hour"].as_u64().unwrap(), total);
    assert_eq!(n["cost_per_month"].as_u64().unwrap(), total * 730);
    assert_eq!(n["hours_per_month"], 730);
    // Every replica the fleet counts is placed; A10G keeps half on demand.
    let counts = r["outcome"]["counts"].as_object().unwrap();
    let groups = n["groups"].as_object().unwrap();
    for (name, c) in counts {
        if c.as_u64().unwrap() > 0 {
            assert_eq!(groups[name]["replicas"], *c);
            assert_eq!(groups[name]["unplaced"], 0);
        }
    }
    let a10g = &groups["A10G"];
    assert!(a10g["spot"].as_u64().unwrap() <= a10g["replicas"].as_u64().unwrap() / 2);
    // Per-type limit: at most 4 g5.xlarge over both pricing classes.
    let g5: u64 = lines
        .iter()
        .filter(|l| l["instance_type"] == "g5.xlarge")
        .map(|l| l["count"].as_u64().unwrap())
        .sum();
    assert!(g5 <= 4, "{g5}");
    assert!(n["lower_bound"].as_u64().unwrap() <= total);
    assert!(n["unplaced"].as_array().unwrap().is_empty());

    // The table says the same, with units and the energy model.
    let out = plan(&[example().to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("node mix:"), "{text}");
    assert!(text.contains("per month at 730 h"), "{text}");
    assert!(text.contains("kWh per month"), "{text}");
    assert!(text.contains("g6.xlarge"), "{text}");
}

#[test]
fn unplaceable_replicas_are_reported_not_errors() {
    let doc = format!(
        "{FLEET}nodes:
  instance_types: [g6.xlarge, p5en.48xlarge]
  replicas:
    L4: {{accelerator: H200, devices: 9, cpu: 4, memory: 16Gi}}
"
    );
    let p = write_doc("plan_nodes_h200.yaml", &doc);
    let out = plan(&[p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("UNPLACED 2 x L4: no instance type offers 9 × H200"),
        "{text}"
    );
}

#[test]
fn bad_nodes_section_is_an_error_naming_the_field() {
    let doc = format!("{FLEET}nodes:\n  instance_types: [g6.xlarge, g99.mega]\n");
    let p = write_doc("plan_nodes_bad_type.yaml", &doc);
    let out = plan(&[p.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown instance type `g99.mega` at nodes.instance_types[1]"),
        "{err}"
    );
    let doc = format!(
        "{FLEET}nodes:\n  instance_types: [g6.xlarge]\n  replicas: {{L4: {{memory: -4Gi}}}}\n"
    );
    let p = write_doc("plan_nodes_negative.yaml", &doc);
    let out = plan(&[p.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nodes.replicas.L4.memory"), "{err}");
}
