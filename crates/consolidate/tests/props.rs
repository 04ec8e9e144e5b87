//! Property tests: every plan replays (every intermediate state fits, no
//! budget exceeded, gangs whole, pinned pods still), and on small
//! instances the planner reaches the goal whenever a brute-force oracle
//! does, with the oracle's minimal number of pod moves.

use proptest::prelude::*;
use rightsizer_consolidate::{verify, ConfigBuilder, Goal, MovePolicy, Planner, Problem};
use rightsizer_model::accelerator::{
    AcceleratorKind, AcceleratorModel, FractionalSharing, GigabytesPerSecond, SharingModes, TeraOps,
};
use rightsizer_model::cluster::{ClusterState, DeviceAssignment, DeviceMode};
use rightsizer_model::ids::{
    AcceleratorModelId, DeviceIndex, GangId, NodeId, NodeIndex, NodeTypeId, PodId, WorkloadId,
};
use rightsizer_model::node::{DeviceCount, Node, NodeType, Provider};
use rightsizer_model::resources::Resources;
use rightsizer_model::units::{Bytes, GpuMilli, MilliCpu, PricePerHour, Watts};
use rightsizer_model::workload::{AcceleratorDemand, Gang, PodRequest, PodTemplate, Workload};
use std::collections::BTreeMap;
use std::time::Duration;

fn gpu() -> AcceleratorModel {
    AcceleratorModel {
        id: AcceleratorModelId::new("G").unwrap(),
        kind: AcceleratorKind::Gpu,
        vendor: "x".into(),
        name: "G".into(),
        memory: Bytes::from_gib(16),
        bf16: TeraOps(0.0),
        fp16: TeraOps(0.0),
        int8: TeraOps(0.0),
        memory_bandwidth: GigabytesPerSecond(1.0),
        idle_power: Watts::new(1),
        max_power: Watts::new(2),
        sharing: SharingModes {
            fractional: Some(FractionalSharing { max_shares: 4 }),
            ..SharingModes::default()
        },
        source: String::new(),
    }
}

#[derive(Clone, Debug)]
struct Inst {
    nodes: usize,
    /// (kind 0 cpu / 1 fraction / 2 whole, milli, cpu cores, node, pinned, budget0, gang)
    pods: Vec<(u8, u32, u64, usize, bool, bool, bool)>,
}

fn inst() -> impl Strategy<Value = Inst> {
    (
        2usize..=3,
        prop::collection::vec(
            (
                0u8..3,
                prop::sample::select(vec![300u32, 500, 700]),
                1u64..=3,
                0usize..3,
                prop::bool::weighted(0.15),
                prop::bool::weighted(0.1),
                prop::bool::weighted(0.25),
            ),
            1..=4,
        ),
    )
        .prop_map(|(nodes, pods)| Inst { nodes, pods })
}

fn build(i: &Inst) -> Option<Problem> {
    let g = gpu();
    let ty = NodeType {
        id: NodeTypeId::new("t").unwrap(),
        provider: Provider::Other,
        region: "r".into(),
        cpu: MilliCpu::from_cores(4),
        memory: Bytes::from_gib(16),
        devices: vec![DeviceCount {
            model: g.id.clone(),
            count: 2,
        }],
        price: PricePerHour::from_dollars(2.0).unwrap(),
        spot_price: None,
        idle_power: Watts::new(0),
        max_power: Watts::new(0),
        source: String::new(),
    };
    let small = NodeType {
        id: NodeTypeId::new("s").unwrap(),
        cpu: MilliCpu::from_cores(2),
        devices: vec![DeviceCount {
            model: g.id.clone(),
            count: 1,
        }],
        price: PricePerHour::from_dollars(1.0).unwrap(),
        ..ty.clone()
    };
    let nodes: Vec<Node> = (0..i.nodes)
        .map(|k| {
            let mut n = Node::new(
                NodeId::new(format!("n{k}")).unwrap(),
                Resources {
                    pods: 10,
                    ..Resources::cpu_mem(4000, 16 << 30)
                },
            )
            .with_devices(&g.id, 2);
            n.node_type = Some(ty.id.clone());
            n
        })
        .collect();
    let mut st = ClusterState::new(nodes, [g]).ok()?;
    let mut workloads = BTreeMap::new();
    let mut pw = BTreeMap::new();
    let mut policy = MovePolicy::new();
    let mut gang_members = 0;
    for (k, &(kind, milli, cores, node, pinned, budget0, gang)) in i.pods.iter().enumerate() {
        let accel = match kind {
            0 => AcceleratorDemand::None,
            1 => AcceleratorDemand::Fraction {
                milli: GpuMilli::new(milli),
                memory: None,
            },
            _ => AcceleratorDemand::Whole { count: 1 },
        };
        // Gang members share workload "gang" (budget 2); others their own.
        let in_gang = gang && gang_members < 2;
        let wid = if in_gang {
            gang_members += 1;
            WorkloadId::new("gang").unwrap()
        } else {
            WorkloadId::new(format!("w{k}")).unwrap()
        };
        let mut w = Workload::new(
            wid.clone(),
            PodTemplate::single(Resources::cpu_mem(cores * 1000, 1 << 30)),
        );
        w.accelerator = accel.clone();
        if in_gang {
            w.accelerator = AcceleratorDemand::Fraction {
                milli: GpuMilli::new(300),
                memory: None,
            };
            w.gang = Some(Gang {
                group: GangId::new("g").unwrap(),
                min_members: 2,
            });
            policy.max_unavailable.insert(wid.clone(), 2);
        }
        let req: PodRequest = w.pod_request();
        let pod = PodId::new(format!("p{k}")).unwrap();
        let n = NodeIndex((node % i.nodes) as u32);
        let d = st.first_fit_devices(&req, n)?;
        st.allocate(pod.clone(), &req, n, &d).ok()?;
        if pinned {
            policy.do_not_move.insert(pod.clone());
        }
        if budget0 && !in_gang {
            policy.max_unavailable.insert(wid.clone(), 0);
        }
        workloads.insert(wid.clone(), w);
        pw.insert(pod, wid);
    }
    let types = [(ty.id.clone(), ty), (small.id.clone(), small)]
        .into_iter()
        .collect();
    Problem::new(st, workloads, pw, policy, types).ok()
}

// ----- brute-force oracle over the model's ClusterState ---------------------

fn idle(st: &ClusterState) -> u64 {
    (0..st.len())
        .map(|i| {
            st.node_free(NodeIndex(i as u32))
                .devices
                .iter()
                .filter(|d| d.mode == DeviceMode::Idle)
                .count() as u64
        })
        .sum()
}

fn options(
    st: &ClusterState,
    req: &PodRequest,
    excluded: &[usize],
) -> Vec<(NodeIndex, DeviceAssignment)> {
    let mut v = Vec::new();
    for i in 0..st.len() {
        if excluded.contains(&i) {
            continue;
        }
        let n = NodeIndex(i as u32);
        let cands: Vec<DeviceAssignment> = match &req.accelerator {
            AcceleratorDemand::None => vec![DeviceAssignment::None],
            AcceleratorDemand::Whole { .. } => (0..2)
                .map(|d| DeviceAssignment::Whole {
                    devices: vec![DeviceIndex(d)],
                })
                .collect(),
            _ => (0..2)
                .map(|d| DeviceAssignment::Shared {
                    device: DeviceIndex(d),
                })
                .collect(),
        };
        for a in cands {
            if st.check(req, n, &a).is_ok() {
                v.push((n, a));
            }
        }
    }
    v
}

/// Units (gangs whole) of movable pods.
fn units(p: &Problem) -> Vec<Vec<PodId>> {
    let mut out: Vec<Vec<PodId>> = Vec::new();
    for pod in p.state().placements().keys() {
        if p.pinned(pod).is_some() {
            continue;
        }
        let u = p.moves_with(pod).to_vec();
        if !out.contains(&u) {
            out.push(u);
        }
    }
    out
}

fn place_all(
    st: &mut ClusterState,
    pods: &[(PodId, PodRequest)],
    excluded: &[usize],
    k: usize,
    left: u32,
    us: &[Vec<PodId>],
    goal: &dyn Fn(&ClusterState) -> bool,
) -> bool {
    if k == pods.len() {
        return search(st, us, excluded, left, goal);
    }
    let (pod, req) = &pods[k];
    for (n, a) in options(st, req, excluded) {
        st.allocate(pod.clone(), req, n, &a).unwrap();
        if place_all(st, pods, excluded, k + 1, left, us, goal) {
            return true;
        }
        st.release(pod).unwrap();
    }
    false
}

fn search(
    st: &mut ClusterState,
    us: &[Vec<PodId>],
    excluded: &[usize],
    left: u32,
    goal: &dyn Fn(&ClusterState) -> bool,
) -> bool {
    if goal(st) {
        return true;
    }
    for u in us {
        if u.len() as u32 > left {
            continue;
        }
        let olds: Vec<_> = u
            .iter()
            .map(|p| (p.clone(), st.release(p).unwrap()))
            .collect();
        let reqs: Vec<(PodId, PodRequest)> = olds
            .iter()
            .map(|(p, o)| (p.clone(), o.request.clone()))
            .collect();
        let snapshot = st.clone();
        if place_all(st, &reqs, excluded, 0, left - u.len() as u32, us, goal) {
            return true;
        }
        *st = snapshot;
        for (p, o) in &olds {
            st.allocate(p.clone(), &o.request, o.node, &o.devices)
                .unwrap();
        }
    }
    false
}

/// The fewest pod moves reaching the goal, up to `max`.
fn oracle(
    p: &Problem,
    excluded: &[usize],
    max: u32,
    goal: &dyn Fn(&ClusterState) -> bool,
) -> Option<u32> {
    let us = units(p);
    (0..=max).find(|&d| search(&mut p.state().clone(), &us, excluded, d, goal))
}

fn planner() -> Planner {
    Planner::new(
        ConfigBuilder::new()
            .time_limit(Duration::from_secs(10))
            .exact_max_moves(3)
            .build()
            .unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn free_gpus_matches_the_oracle(i in inst(), k in 1u32..=6) {
        let Some(p) = build(&i) else { return Ok(()) };
        let total = i.nodes as u32 * 2;
        let k = k.min(total);
        let goal = Goal::FreeGpus { model: AcceleratorModelId::new("G").unwrap(), count: k };
        let plan = planner().plan(&p, &goal).unwrap();
        let (end, _) = verify(&p, &plan).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(plan.reached(), idle(&end) >= u64::from(k));
        let best = oracle(&p, &[], 3, &|st| idle(st) >= u64::from(k));
        if let Some(d) = best {
            prop_assert!(plan.reached(), "oracle reaches in {} moves, planner {:?}", d, plan.status);
            prop_assert_eq!(plan.objective.moves, d, "{:#?}", plan.steps);
        }
        if !plan.reached() {
            prop_assert!(best.is_none());
        }
    }

    #[test]
    fn free_named_node_matches_the_oracle(i in inst()) {
        let Some(p) = build(&i) else { return Ok(()) };
        let goal = Goal::FreeNodes { nodes: vec![NodeId::new("n0").unwrap()] };
        let plan = planner().plan(&p, &goal).unwrap();
        let (end, removed) = verify(&p, &plan).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let n0 = NodeIndex(0);
        let empty = |st: &ClusterState| st.pods_on(n0).count() == 0;
        prop_assert_eq!(plan.reached(), empty(&end));
        prop_assert_eq!(plan.reached(), removed.len() == 1);
        let best = oracle(&p, &[0], 3, &empty);
        if let Some(d) = best {
            prop_assert!(plan.reached(), "oracle empties n0 in {} moves: {:?}", d, plan.blockers);
            prop_assert_eq!(plan.objective.moves, d);
        } else {
            prop_assert!(!plan.reached() || plan.objective.moves > 3);
        }
        if !plan.reached() {
            prop_assert!(!plan.blockers.is_empty());
        }
    }

    #[test]
    fn cheapest_and_free_nodes_replay(i in inst()) {
        let Some(p) = build(&i) else { return Ok(()) };
        for goal in [Goal::Cheapest, Goal::FreeNodes { nodes: vec![] }] {
            let plan = planner().plan(&p, &goal).unwrap();
            verify(&p, &plan).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(plan.objective.cost <= plan.cost_before);
            if let Some(b) = plan.lower_bound {
                if goal == Goal::Cheapest {
                    prop_assert!(b.value <= plan.objective.cost.micros());
                } else {
                    prop_assert!(b.value >= plan.removed_nodes.len() as u64);
                }
            }
        }
    }

    #[test]
    fn plans_are_deterministic(i in inst()) {
        let Some(p) = build(&i) else { return Ok(()) };
        for goal in [Goal::Cheapest, Goal::FreeGpus { model: AcceleratorModelId::new("G").unwrap(), count: 2 }] {
            let a = planner().plan(&p, &goal).unwrap();
            let b = planner().plan(&p, &goal).unwrap();
            prop_assert_eq!(a.steps, b.steps);
        }
    }
}

#[test]
fn unknown_model_and_node_are_typed_errors() {
    let p = build(&Inst {
        nodes: 2,
        pods: vec![(1, 300, 1, 0, false, false, false)],
    })
    .unwrap();
    let e = planner()
        .plan(&p, &"free-gpus:H100=8".parse().unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("H100"), "{e}");
    assert!(e.to_string().contains('G'), "{e}");
    let e = planner()
        .plan(&p, &"free-nodes:nope".parse().unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn a_pinned_pod_on_a_node_to_remove_is_named() {
    let p = build(&Inst {
        nodes: 2,
        pods: vec![
            (1, 300, 1, 0, true, false, false),
            (0, 300, 1, 0, false, false, false),
        ],
    })
    .unwrap();
    let plan = planner()
        .plan(&p, &"free-nodes:n0".parse().unwrap())
        .unwrap();
    assert!(!plan.reached());
    assert_eq!(plan.stop, rightsizer_consolidate::StopReason::Blocked);
    assert_eq!(plan.blockers.len(), 1);
    assert_eq!(plan.blockers[0].pod.as_str(), "p0");
    assert!(plan.steps.is_empty());
}

#[test]
fn unreachable_gpu_goal_reports_the_gap() {
    let p = build(&Inst {
        nodes: 2,
        pods: vec![(2, 300, 1, 0, true, false, false)],
    })
    .unwrap();
    let plan = planner()
        .plan(&p, &"free-gpus:G=4".parse().unwrap())
        .unwrap();
    assert_eq!(
        plan.status,
        rightsizer_consolidate::GoalStatus::Partial { gap: 1 }
    );
    assert_eq!(plan.blockers.len(), 1);
    assert_eq!(plan.blockers[0].pod.as_str(), "p0");
}
