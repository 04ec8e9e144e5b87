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

fn demo_json_with(extra: &[&str]) -> Result<serde_json::Value, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_rightsizer"))
        .args(["demo", "--json"])
        .args(extra)
        .output()
        .expect("runs");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).expect("JSON report"))
}

fn example_profiles() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/profiles/llama-8b.csv"
    )
    .to_string()
}

#[test]
fn demo_selects_accelerators_with_reasons_and_estimate_labels() {
    let r = demo_json();
    let s = &r["selection"];
    assert_eq!(s["workload"], "llama-3-8b");
    assert_eq!(s["bucket"], "1536x512");
    // FP16/BF16 8B weights are 16 GB: the L4's decode floor is above 40 ms, a T4 is too small.
    assert_eq!(s["infeasible"]["L4x1"]["reason"], "cannot_meet_slo");
    assert!(s["infeasible"]["L4x1"]["floor_ms"].as_f64().unwrap() > 40.0);
    assert_eq!(s["infeasible"]["T4x1"]["reason"], "does_not_fit");
    let feasible = s["feasible"].as_array().unwrap();
    let names: Vec<&str> = feasible
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for want in [
        "H100-SXMx1",
        "A100-80GBx1",
        "L40Sx1",
        "A10Gx1",
        "Inferentia2x1",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    // Cheapest per token first; every figure is an estimate here; headroom within [0, 1).
    let cost: Vec<f64> = feasible
        .iter()
        .map(|e| e["usd_per_million_tokens"].as_f64().unwrap())
        .collect();
    assert!(cost.windows(2).all(|w| w[0] <= w[1]), "{cost:?}");
    for e in feasible {
        assert_eq!(e["source"], "spec_estimate", "{e}");
        let h = e["headroom"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&h), "{e}");
        assert!(e["joules_per_token"].as_f64().unwrap() > 0.0);
    }
    // The cheapest option is on the Pareto front, and the front improves energy as cost rises.
    assert_eq!(feasible[0]["pareto"], true);
    let front: Vec<f64> = feasible
        .iter()
        .filter(|e| e["pareto"] == true)
        .map(|e| e["joules_per_token"].as_f64().unwrap())
        .collect();
    assert!(front.windows(2).all(|w| w[1] < w[0]), "{front:?}");
}

#[test]
fn demo_plans_a_mixed_fleet_cheaper_than_any_single_type() {
    let r = demo_json();
    let p = &r["planning"];
    assert!(p["infeasible"].is_null(), "{p}");
    assert_eq!(p["optimal"], true);
    assert_eq!(p["gap"].as_f64(), Some(0.0));
    assert_eq!(p["buckets"].as_array().unwrap().len(), 3);
    let counts = p["counts"].as_object().unwrap();
    // The quota is honoured, and the plan uses more than one type.
    for (o, limit) in p["limits"].as_object().unwrap() {
        assert!(counts[o].as_u64().unwrap() <= limit.as_u64().unwrap());
    }
    assert!(
        counts.values().filter(|n| n.as_u64().unwrap() > 0).count() >= 2,
        "{p}"
    );
    // Capacity: every bucket's demand is covered by what was bought, in the plan's own numbers.
    let mut capacity_needed = 0.0;
    for b in p["buckets"].as_array().unwrap() {
        let best = b["throughput_req_s"]
            .as_object()
            .unwrap()
            .values()
            .map(|t| t.as_f64().unwrap())
            .fold(0.0, f64::max);
        capacity_needed += b["rate_req_s"].as_f64().unwrap() / best;
    }
    let bought: u64 = counts.values().map(|n| n.as_u64().unwrap()).sum();
    assert!(bought as f64 >= capacity_needed.floor());
    let single = &p["cheapest_single_type"];
    let saving = single["saving_pct"].as_f64().unwrap();
    assert!(saving > 0.0, "{single}");
    let dollars = |s: &str| {
        s.trim_start_matches('$')
            .trim_end_matches("/h")
            .parse::<f64>()
            .unwrap()
    };
    let mix = dollars(p["cost_per_hour"].as_str().unwrap());
    let one = dollars(single["cost_per_hour"].as_str().unwrap());
    assert!((100.0 * (one - mix) / one - saving).abs() < 1e-9);
}

#[test]
fn demo_uses_measured_profiles_and_labels_them() {
    let r = demo_json_with(&["--profiles", &example_profiles()]).unwrap();
    let s = &r["selection"];
    let by_name = |n: &str| {
        s["feasible"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == n)
            .unwrap_or_else(|| panic!("{n} not feasible: {s}"))
            .clone()
    };
    // Measured rows replace estimates (1.1 req/s x 512 output tokens) and say so.
    let a10 = by_name("A10Gx1");
    assert_eq!(a10["source"], "measured");
    assert!((a10["tokens_per_s"].as_f64().unwrap() - 563.2).abs() < 1e-9);
    assert_eq!(a10["tpot_ms"].as_f64(), Some(38.2));
    // Measured power: 275 W / 563.2 tok/s.
    assert!((a10["joules_per_token"].as_f64().unwrap() - 275.0 / 563.2).abs() < 1e-12);
    assert_eq!(by_name("L40Sx1")["source"], "measured");
    assert_eq!(by_name("H100-SXMx1")["source"], "spec_estimate");
    // A zero row: measured, no rate meets the SLO.
    assert_eq!(
        s["infeasible"]["L4x1"]["reason"],
        "measured_cannot_meet_slo"
    );
    // Planning uses the measured req/s per bucket.
    let b = &r["planning"]["buckets"][0];
    assert_eq!(b["bucket"], "512x128");
    assert_eq!(b["throughput_req_s"]["A10Gx1"].as_f64(), Some(9.5));
    assert_eq!(b["source"]["A10Gx1"], "measured");
    assert_eq!(b["source"]["H100-SXMx1"], "spec_estimate");
    assert_eq!(r["planning"]["optimal"], true);
    // The placement part is unchanged.
    assert_eq!(r["placed"].as_u64(), Some(44));
}

#[test]
fn demo_rejects_a_bad_profile_table_with_its_location() {
    let err = demo_json_with(&["--profiles", "/nonexistent/profiles.csv"]).unwrap_err();
    assert!(err.contains("/nonexistent/profiles.csv"), "{err}");
    let err = demo_json_with(&["--profiles", "profiles.yaml"]).unwrap_err();
    assert!(err.contains("profiles.yaml"), "{err}");
}
