//! The README's first command: `rightsizer demo` on built-in data.

use std::process::Command;

fn demo_json() -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rightsizer"))
        .args(["demo", "--json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

#[test]
fn demo_places_the_mix_and_keeps_gangs_all_or_nothing() {
    let r = demo_json();
    let w = r["workloads"].as_object().unwrap();
    let placed = |name: &str| {
        w[name]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| !p["node"].is_null())
            .count()
    };
    // Every kind of demand is served: CPU, fraction, MIG, whole GPUs, ASIC, gang.
    assert_eq!(placed("api-gateway"), 12);
    assert_eq!(placed("embeddings"), 8);
    assert_eq!(placed("notebooks"), 6);
    assert_eq!(placed("llm-70b-serving"), 2);
    assert_eq!(placed("bert-inferentia"), 2);
    assert_eq!(placed("finetune-gang"), 2);
    // A gang that cannot be placed whole is not placed at all, with a reason.
    assert_eq!(placed("big-batch-gang"), 0);
    let reasons = w["big-batch-gang"][0]["reasons"].as_array().unwrap();
    assert!(reasons[0].as_str().unwrap().starts_with("gang big-batch"));
    // CPU-only pods stay off accelerator nodes.
    for p in w["api-gateway"].as_array().unwrap() {
        assert!(p["node"].as_str().unwrap().starts_with("m7i."), "{p}");
    }
    assert_eq!(r["placed"].as_u64(), Some(44));
}

#[test]
fn demo_is_deterministic() {
    assert_eq!(demo_json(), demo_json());
}
