//! Issue 15 item 6: resize-plan at 10k nodes × 100k pods. Release only:
//! `cargo test -p rightsizer-size --release --test resize_scale -- --ignored --nocapture`.
//! Prints the planning time and its ratio to a baseline measured in the
//! same run (building the cluster state: one allocation per pod).

use rightsizer_model::cluster::{ClusterState, DeviceAssignment};
use rightsizer_model::ids::{NodeId, NodeIndex, PodId, WorkloadId};
use rightsizer_model::node::Node;
use rightsizer_model::resources::Resources;
use rightsizer_model::workload::{Container, PodRequest, PodTemplate};
use rightsizer_size::resize::{
    plan, PodInfo, ResizeConfig, ResizeProblem, ResizeTarget, StepAction,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const GI: u64 = 1 << 30;

/// `nodes` nodes of 16 cpu / 64 GiB (the last tenth empty), `pods` pods of
/// 1 cpu / 2 GiB in workloads of 100, spread round-robin.
fn cluster(nodes: usize, pods: usize) -> ResizeProblem {
    let ns: Vec<Node> = (0..nodes)
        .map(|i| {
            Node::new(
                NodeId::new(format!("n{i}")).unwrap(),
                Resources {
                    pods: 110,
                    ..Resources::cpu_mem(16_000, 64 * GI)
                },
            )
        })
        .collect();
    let mut state = ClusterState::new(ns, []).unwrap();
    let used = nodes - nodes / 10;
    let mut infos = BTreeMap::new();
    for j in 0..pods {
        let template = PodTemplate {
            containers: vec![Container::new("c", Resources::cpu_mem(1000, 2 * GI))],
            ..PodTemplate::default()
        };
        let req = PodRequest {
            resources: template.request(),
            ..PodRequest::default()
        };
        let id = PodId::new(format!("p{j:06}")).unwrap();
        state
            .allocate(
                id.clone(),
                &req,
                NodeIndex((j % used) as u32),
                &DeviceAssignment::None,
            )
            .unwrap();
        let workload = WorkloadId::new(format!("w{:04}", j / 100)).unwrap();
        infos.insert(id, PodInfo { workload, template });
    }
    ResizeProblem {
        state,
        pods: infos,
        node_prices: BTreeMap::new(),
    }
}

/// Workload targets: most shrink or grow a little in place; every tenth
/// grows to 8 cpu, which its node cannot hold next to nine others, so
/// those pods migrate to the empty nodes.
fn targets(pods: usize) -> Vec<ResizeTarget> {
    (0..pods / 100)
        .map(|w| {
            let cpu = match w % 10 {
                0 => 8000,
                1..=5 => 500,
                _ => 1200,
            };
            ResizeTarget {
                pod: None,
                workload: Some(WorkloadId::new(format!("w{w:04}")).unwrap()),
                container: "c".into(),
                requests: Resources::cpu_mem(cpu, 0),
                limits: None,
            }
        })
        .collect()
}

#[test]
#[ignore = "scale: run in release"]
fn resize_plan_10k_nodes_100k_pods() {
    for (nodes, pods) in [(1_000, 10_000), (10_000, 100_000)] {
        let t = Instant::now();
        let p = cluster(nodes, pods);
        let baseline = t.elapsed();
        let ts = targets(pods);
        let cfg = ResizeConfig {
            max_disruptions_per_workload: 10,
            ..ResizeConfig::default()
        };
        let t = Instant::now();
        let r = plan(&p, &ts, &cfg).unwrap();
        let took = t.elapsed();
        let migrations = r
            .steps
            .iter()
            .filter(|s| matches!(s.action, StepAction::Migrate { .. }))
            .count();
        println!(
            "resize-plan {nodes} nodes x {pods} pods: {took:?} ({:.2}x building the state, {baseline:?}); {} steps, {migrations} migrations, {} waves, {} not planned",
            took.as_secs_f64() / baseline.as_secs_f64(),
            r.steps.len(),
            r.waves,
            r.unresolved.len()
        );
        assert_eq!(r.steps.len() + r.unresolved.len(), pods);
        assert!(migrations > 0);
        if pods == 100_000 {
            assert!(took < Duration::from_secs(5), "{took:?}");
        }
    }
}
