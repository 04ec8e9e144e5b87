//! kube-scheduler's own scoring test cases (shared data set
//! `kube-scheduler-scores/cases.json`) through the placement engine: each
//! case's nodes and existing pods become an engine snapshot, the engine
//! scores the incoming pod on every node ([`Engine::score_nodes`]).

use rightsizer_model::cluster::{ClusterState, DeviceAssignment};
use rightsizer_model::ids::{NodeId, NodeIndex, PodId};
use rightsizer_model::node::Node;
use rightsizer_model::resources::Resources;
use rightsizer_model::units::{Bytes, MilliCpu};
use rightsizer_model::workload::{AcceleratorDemand, PodRequest};
use rightsizer_place::engine::{Engine, EngineConfig, KubePlugin, PodSpec};
use rightsizer_place::kube::{
    broken_linear, FitScorer, KubeScoreError, NonZeroRequest, ResourceWeight, ShapePoint, Strategy,
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

/// A pod of a case as the engine sees it: its request (container and
/// sidecar requests summed, one pod slot) and its non-zero scoring request
/// from the containers, where a request key that is absent is unset.
fn pod(v: &Value) -> (PodRequest, NonZeroRequest) {
    let mut total = Resources::zero();
    let mut containers = Vec::new();
    for group in ["containers", "sidecars"] {
        for c in v[group].as_array().into_iter().flatten() {
            let req = c["requests"].as_object().cloned().unwrap_or_default();
            for (k, q) in &req {
                let q = int(q) as u64;
                match k.as_str() {
                    "cpu" => total.cpu = MilliCpu::new(total.cpu.get() + q),
                    "memory" => total.memory = Bytes::new(total.memory.get() + q),
                    other => *total.extended.entry(other.to_string()).or_default() += q,
                }
            }
            containers.push((
                req.get("cpu").map(|q| int(q) as u64),
                req.get("memory").map(|q| int(q) as u64),
            ));
        }
    }
    (
        PodRequest::new(total, AcceleratorDemand::None),
        NonZeroRequest::from_containers(containers),
    )
}

/// The case's nodes and existing pods as an engine with `plugin`.
fn engine(case: &Value, plugin: KubePlugin) -> Engine {
    let nodes = case["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let mut r = Resources::zero();
            for (k, q) in n["allocatable"].as_object().into_iter().flatten() {
                let q = int(q) as u64;
                match k.as_str() {
                    "cpu" => r.cpu = MilliCpu::new(q),
                    "memory" => r.memory = Bytes::new(q),
                    other => {
                        r.extended.insert(other.to_string(), q);
                    }
                }
            }
            Node::new(NodeId::new(n["name"].as_str().unwrap()).unwrap(), r)
        })
        .collect();
    let state = ClusterState::new(nodes, vec![]).unwrap();
    let mut e = Engine::new(
        state,
        EngineConfig::default().with_plugin(Box::new(plugin), 1),
    )
    .unwrap();
    for (k, p) in case["existing_pods"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        // A pod bound to no node (upstream lists some) holds nothing.
        let Some(node) = p["node"].as_str() else {
            continue;
        };
        let (req, nz) = pod(p);
        let node = NodeId::new(node).unwrap();
        e.observe_bound(
            PodId::new(format!("existing-{k}")).unwrap(),
            &PodSpec::new(&req).with_nonzero(nz),
            &node,
            &DeviceAssignment::None,
        )
        .unwrap_or_else(|err| panic!("{}: existing pod {k}: {err}", case["id"]));
    }
    e
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
    let mut res = resources(case);
    let plugin = if case["plugin"] == "NodeResourcesBalancedAllocation" {
        if res.is_empty() {
            res = FitScorer::default_resources();
        }
        KubePlugin::balanced(res.iter().map(|r| r.name.clone()).collect())
    } else {
        let strategy = match case["strategy"].as_str().unwrap() {
            "LeastAllocated" => Strategy::LeastAllocated,
            "MostAllocated" => Strategy::MostAllocated,
            "RequestedToCapacityRatio" => Strategy::RequestedToCapacityRatio {
                shape: shape(&case["shape"]),
            },
            s => return Err(format!("{id}: unknown strategy {s}")),
        };
        match KubePlugin::fit(strategy, res.clone()) {
            Ok(p) if outcome == "invalid_args" => {
                let _ = p;
                return Err(format!("{id}: expected invalid arguments"));
            }
            Ok(p) => p,
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
        }
    };
    let e = engine(case, plugin);
    let (req, nz) = pod(&case["incoming_pod"]);
    let all: Vec<NodeIndex> = (0..e.state().len() as u32).map(NodeIndex).collect();
    let scored = e
        .score_nodes(&PodSpec::new(&req).with_nonzero(nz), &all)
        .map_err(|err| format!("{id}: {err}"))?;
    if outcome == "prescore_skip" {
        return if scored.skipped.len() == 1 {
            Ok(())
        } else {
            Err(format!(
                "{id}: expected PreScore skip, got {:?}",
                scored.skipped
            ))
        };
    }
    if !scored.skipped.is_empty() {
        return Err(format!("{id}: unexpected PreScore skip"));
    }
    // Node order in the engine is the case's node order.
    let scores: Vec<i64> = scored.nodes.iter().map(|c| c.scores[0].score).collect();
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
    // Iterate over whatever the file holds; it must hold a real suite.
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
