//! kube-scheduler's own scoring test cases (shared data set
//! `kube-scheduler-scores/cases.json`) against [`rightsizer_place::kube`].

use rightsizer_place::kube::{
    balanced_allocation, broken_linear, nonzero_request, FitScorer, KubeScoreError, ResourceUse,
    ResourceWeight, ShapePoint, Strategy,
};
use serde_json::Value;
use std::path::PathBuf;

fn cases() -> Vec<Value> {
    let dir = std::env::var_os("RIGHTSIZER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let path = dir.join("kube-scheduler-scores/cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; set RIGHTSIZER_DATA to the shared data directory",
            path.display()
        )
    });
    let v: Value = serde_json::from_str(&text).expect("cases.json parses");
    v["cases"].as_array().expect("cases array").clone()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// A pod's request for `res`: sum over containers and sidecars; for
/// cpu/memory with `nonzero`, a missing key counts as the default.
fn pod_request(pod: &Value, res: &str, nonzero: bool) -> i64 {
    let mut total = 0;
    for group in ["containers", "sidecars"] {
        for c in pod[group].as_array().into_iter().flatten() {
            let req = &c["requests"];
            let v = req.get(res).map(int);
            total += match (res, nonzero) {
                ("cpu", true) => nonzero_request(v.map(|x| x as u64), None).0 as i64,
                ("memory", true) => nonzero_request(None, v.map(|x| x as u64)).1 as i64,
                _ => v.unwrap_or(0),
            };
        }
    }
    total
}

fn uses(
    case: &Value,
    node: &Value,
    resources: &[ResourceWeight],
    nonzero: bool,
) -> Vec<ResourceUse> {
    let name = node["name"].as_str().unwrap();
    resources
        .iter()
        .map(|r| {
            let res = r.name.as_str();
            let incoming = pod_request(&case["incoming_pod"], res, nonzero);
            let scalar = res != "cpu" && res != "memory";
            if scalar && incoming == 0 {
                return ResourceUse::new(0, 0);
            }
            let alloc = node["allocatable"].get(res).map_or(0, int);
            let existing: i64 = case["existing_pods"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["node"].as_str() == Some(name))
                .map(|p| pod_request(p, res, nonzero))
                .sum();
            ResourceUse::new(alloc, existing + incoming)
        })
        .collect()
}

fn resources(case: &Value) -> Vec<ResourceWeight> {
    case["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| ResourceWeight {
            name: r["name"].as_str().unwrap().to_string(),
            weight: int(&r["weight"]),
        })
        .collect()
}

fn shape(v: &Value) -> Vec<ShapePoint> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|p| ShapePoint {
            utilization: int(&p["utilization"]),
            score: int(&p["score"]),
        })
        .collect()
}

fn check(case: &Value) -> Result<(), String> {
    let id = case["id"].as_str().unwrap_or("?");
    if case["kind"] == "broken_linear_function" {
        let pts = shape(&case["points"]);
        for a in case["assertions"].as_array().unwrap() {
            let (p, want) = (int(&a["p"]), int(&a["expected"]));
            let got = broken_linear(&pts, p);
            if got != want {
                return Err(format!("{id}: f({p}) = {got}, expected {want}"));
            }
        }
        return Ok(());
    }
    let expected = &case["expected"];
    let outcome = expected["outcome"].as_str().unwrap();
    let nodes = case["nodes"].as_array().unwrap();
    let mut res = resources(case);
    let scores: Vec<i64> = if case["plugin"] == "NodeResourcesBalancedAllocation" {
        if res.is_empty() {
            res = FitScorer::default_resources();
        }
        if outcome == "prescore_skip" {
            let all_zero = res
                .iter()
                .all(|r| pod_request(&case["incoming_pod"], &r.name, false) == 0);
            return if all_zero {
                Ok(())
            } else {
                Err(format!("{id}: expected PreScore skip"))
            };
        }
        nodes
            .iter()
            .map(|n| balanced_allocation(&uses(case, n, &res, false)))
            .collect()
    } else {
        let strategy = match case["strategy"].as_str().unwrap() {
            "LeastAllocated" => Strategy::LeastAllocated,
            "MostAllocated" => Strategy::MostAllocated,
            "RequestedToCapacityRatio" => Strategy::RequestedToCapacityRatio {
                shape: shape(&case["shape"]),
            },
            s => return Err(format!("{id}: unknown strategy {s}")),
        };
        let scorer = match FitScorer::new(strategy, res.clone()) {
            Ok(s) => s,
            Err(KubeScoreError::Invalid { field, .. }) if outcome == "invalid_args" => {
                return if field == expected["field"].as_str().unwrap() {
                    Ok(())
                } else {
                    Err(format!(
                        "{id}: invalid field {field}, expected {}",
                        expected["field"]
                    ))
                };
            }
            Err(e) => return Err(format!("{id}: unexpected error {e}")),
        };
        if outcome == "invalid_args" {
            return Err(format!("{id}: expected invalid arguments"));
        }
        let mut out = Vec::new();
        for n in nodes {
            match scorer.score(&uses(case, n, &res, true)) {
                Ok(s) => out.push(s),
                Err(KubeScoreError::NoResources) if outcome == "score_error" => out.push(0),
                Err(e) => return Err(format!("{id}: {e}")),
            }
        }
        out
    };
    let want: Vec<i64> = expected["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| int(&s["score"]))
        .collect();
    if scores == want {
        Ok(())
    } else {
        Err(format!("{id}: scores {scores:?}, expected {want:?}"))
    }
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn upstream_scoring_cases_pass() {
    let cases = cases();
    assert_eq!(cases.len(), 44);
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
