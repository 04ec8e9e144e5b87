//! Resize planner: examples and property tests over random clusters.

use proptest::prelude::*;
use rightsizer_model::cluster::{ClusterState, DeviceAssignment};
use rightsizer_model::ids::{NodeId, NodeIndex, PodId, WorkloadId};
use rightsizer_model::node::Node;
use rightsizer_model::resources::{Dimension, Resources};
use rightsizer_model::units::{Bytes, MilliCpu};
use rightsizer_model::workload::{
    Container, ContainerResizePolicy, PodRequest, PodTemplate, QosClass, ResizableResource,
    ResizeRestartPolicy,
};
use rightsizer_size::resize::{
    plan, PodInfo, ResizeConfig, ResizeError, ResizePlan, ResizeProblem, ResizeTarget, StepAction,
    UnresolvedReason, UnsafeReason,
};
use std::collections::{BTreeMap, BTreeSet};

const GI: u64 = 1 << 30;

fn node(i: usize, cpu: u64, mem: u64) -> Node {
    Node::new(
        NodeId::new(format!("n{i}")).unwrap(),
        Resources {
            pods: 110,
            ..Resources::cpu_mem(cpu, mem)
        },
    )
}

fn container(name: &str, req: (u64, u64), lim: (u64, u64), restart: bool) -> Container {
    let mut c = Container::new(name, Resources::cpu_mem(req.0, req.1));
    c.limits = Resources::cpu_mem(lim.0, lim.1);
    if restart {
        c.resize_policy = vec![ContainerResizePolicy {
            resource_name: ResizableResource::Cpu,
            restart_policy: ResizeRestartPolicy::RestartContainer,
        }];
    }
    c
}

/// Builds a problem; pods are (node, workload, containers). Pods that do not
/// fit are skipped.
fn problem(nodes: Vec<Node>, pods: Vec<(usize, &str, Vec<Container>)>) -> ResizeProblem {
    let mut state = ClusterState::new(nodes, []).unwrap();
    let mut infos = BTreeMap::new();
    for (i, (n, w, cs)) in pods.into_iter().enumerate() {
        let template = PodTemplate {
            containers: cs,
            ..PodTemplate::default()
        };
        let req = PodRequest {
            resources: template.request(),
            ..PodRequest::default()
        };
        let id = PodId::new(format!("{w}-{i}")).unwrap();
        if state
            .allocate(
                id.clone(),
                &req,
                NodeIndex(n as u32),
                &DeviceAssignment::None,
            )
            .is_ok()
        {
            infos.insert(
                id,
                PodInfo {
                    workload: WorkloadId::new(w).unwrap(),
                    template,
                },
            );
        }
    }
    ResizeProblem {
        state,
        pods: infos,
        node_prices: BTreeMap::new(),
    }
}

fn target(pod: &str, c: &str, cpu: u64, mem: u64) -> ResizeTarget {
    ResizeTarget {
        pod: Some(PodId::new(pod).unwrap()),
        workload: None,
        container: c.into(),
        requests: Resources::cpu_mem(cpu, mem),
        limits: None,
    }
}

/// Replays the plan on the model state; panics on any infeasible step.
fn replay(p: &ResizeProblem, plan: &ResizePlan, reverse_waves: bool) -> ClusterState {
    let mut state = p.state.clone();
    let mut steps: Vec<_> = plan.steps.iter().collect();
    if reverse_waves {
        steps.sort_by(|a, b| a.wave.cmp(&b.wave).then(b.index.cmp(&a.index)));
    }
    for s in steps {
        match &s.action {
            StepAction::InPlace | StepAction::RestartContainer { .. } => {
                let n = state.placements()[&s.pod].node;
                assert!(
                    s.new_request.fits_in(&state.node(n).allocatable),
                    "in-place step the kubelet would mark Infeasible: {s:?}"
                );
                state
                    .resize(&s.pod, s.new_request.clone())
                    .unwrap_or_else(|e| panic!("step {} infeasible: {e}", s.index));
            }
            StepAction::Migrate { to, .. } => {
                let mut pl = state.release(&s.pod).unwrap();
                pl.request.resources = s.new_request.clone();
                let to = state.node_index(to).unwrap();
                state
                    .allocate(s.pod.clone(), &pl.request, to, &DeviceAssignment::None)
                    .unwrap_or_else(|e| panic!("migration {} infeasible: {e}", s.index));
            }
            other => panic!("unexpected action {other:?}"),
        }
    }
    state
}

#[test]
fn shrinks_come_before_grows() {
    let p = problem(
        vec![node(0, 4000, 8 * GI)],
        vec![
            (0, "a", vec![container("c", (3000, GI), (0, 0), false)]),
            (0, "b", vec![container("c", (1000, GI), (0, 0), false)]),
        ],
    );
    let t = [target("b-1", "c", 3000, 0), target("a-0", "c", 1000, 0)];
    let plan = plan(&p, &t, &ResizeConfig::default()).unwrap();
    assert!(plan.unresolved.is_empty(), "{:?}", plan.unresolved);
    assert_eq!(plan.steps.len(), 2);
    assert_eq!(plan.steps[0].pod.as_str(), "a-0");
    assert_eq!(plan.steps[1].pod.as_str(), "b-1");
    assert!(plan.steps[0].wave < plan.steps[1].wave);
    assert_eq!(plan.steps[0].action, StepAction::InPlace);
    assert_eq!(
        plan.steps[0].patch,
        serde_json::json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}})
    );
    replay(&p, &plan, false);
}

#[test]
fn infeasible_in_place_migrates() {
    let p = problem(
        vec![node(0, 2000, 8 * GI), node(1, 8000, 8 * GI)],
        vec![(0, "a", vec![container("c", (1000, GI), (0, 0), false)])],
    );
    let plan = plan(&p, &[target("a-0", "c", 4000, 0)], &ResizeConfig::default()).unwrap();
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(
        plan.steps[0].action,
        StepAction::Migrate {
            from: NodeId::new("n0").unwrap(),
            to: NodeId::new("n1").unwrap()
        }
    );
    assert_eq!(plan.steps[0].patch["kind"], "Eviction");
    let st = replay(&p, &plan, false);
    assert_eq!(
        st.placements()[&PodId::new("a-0").unwrap()].node,
        NodeIndex(1)
    );
    // Without migration it is reported, with the binding dimension.
    let cfg = ResizeConfig {
        allow_migration: false,
        ..ResizeConfig::default()
    };
    let plan = rightsizer_size::resize::plan(&p, &[target("a-0", "c", 4000, 0)], &cfg).unwrap();
    assert!(plan.steps.is_empty());
    assert_eq!(
        plan.unresolved[0].reason,
        UnresolvedReason::InsufficientCapacity {
            dimension: Dimension::Cpu
        }
    );
    // Too big for every node: NoNodeFits naming memory.
    let plan = rightsizer_size::resize::plan(
        &p,
        &[target("a-0", "c", 0, 64 * GI)],
        &ResizeConfig::default(),
    )
    .unwrap();
    assert_eq!(
        plan.unresolved[0].reason,
        UnresolvedReason::NoNodeFits {
            dimension: Dimension::Memory
        }
    );
}

#[test]
fn qos_is_preserved_or_refused() {
    let p = problem(
        vec![node(0, 8000, 16 * GI)],
        vec![
            (0, "g", vec![container("c", (1000, GI), (1000, GI), false)]),
            (0, "be", vec![container("c", (0, 0), (0, 0), false)]),
            (
                0,
                "bu",
                vec![container("c", (500, GI), (1000, 2 * GI), false)],
            ),
        ],
    );
    let t = [
        target("g-0", "c", 2000, 2 * GI),
        target("be-1", "c", 100, 0),
        target("bu-2", "c", 1000, 0),
    ];
    let plan = plan(&p, &t, &ResizeConfig::default()).unwrap();
    let g = plan.steps.iter().find(|s| s.pod.as_str() == "g-0").unwrap();
    assert_eq!(
        g.containers[0].new_limits,
        (MilliCpu::new(2000), Bytes::new(2 * GI))
    );
    let bu = plan
        .steps
        .iter()
        .find(|s| s.pod.as_str() == "bu-2")
        .unwrap();
    // Limit follows proportionally: 1000 × 1000/500 = 2000 m; memory unchanged.
    assert_eq!(
        bu.containers[0].new_limits,
        (MilliCpu::new(2000), Bytes::new(2 * GI))
    );
    assert_eq!(
        plan.unresolved[0].reason,
        UnresolvedReason::QosWouldChange {
            from: QosClass::BestEffort,
            to: QosClass::Burstable
        }
    );
}

#[test]
fn restart_policy_and_disruption_budget() {
    let pods = (0..3)
        .map(|_| (0, "w", vec![container("c", (1000, GI), (0, 0), true)]))
        .collect();
    let p = problem(vec![node(0, 16_000, 16 * GI)], pods);
    let t = ResizeTarget {
        pod: None,
        workload: Some(WorkloadId::new("w").unwrap()),
        container: "c".into(),
        requests: Resources::cpu_mem(500, 0),
        limits: None,
    };
    let plan = plan(&p, std::slice::from_ref(&t), &ResizeConfig::default()).unwrap();
    assert_eq!(plan.steps.len(), 3);
    assert!(plan
        .steps
        .iter()
        .all(|s| matches!(s.action, StepAction::RestartContainer { .. })));
    let waves: Vec<u32> = plan.steps.iter().map(|s| s.wave).collect();
    assert_eq!(waves, [0, 1, 2]);
    let cfg = ResizeConfig {
        max_disruptions_per_workload: 2,
        ..ResizeConfig::default()
    };
    let plan = rightsizer_size::resize::plan(&p, &[t], &cfg).unwrap();
    let waves: Vec<u32> = plan.steps.iter().map(|s| s.wave).collect();
    assert_eq!(waves, [0, 0, 1]);
}

#[test]
fn memory_limit_decreases() {
    let p = problem(
        vec![node(0, 8000, 16 * GI)],
        vec![(
            0,
            "a",
            vec![container("c", (1000, 2 * GI), (1000, 2 * GI), false)],
        )],
    );
    let t = [target("a-0", "c", 0, GI)];
    let plan = plan(&p, &t, &ResizeConfig::default()).unwrap();
    assert!(matches!(
        plan.steps[0].unsafe_reasons[0],
        UnsafeReason::MemoryLimitDecrease { .. }
    ));
    let mut cfg = ResizeConfig::default();
    cfg.memory_usage
        .insert((PodId::new("a-0").unwrap(), "c".into()), Bytes::new(GI + 1));
    let plan = rightsizer_size::resize::plan(&p, &t, &cfg).unwrap();
    assert!(plan.steps.is_empty());
    assert!(matches!(
        plan.unresolved[0].reason,
        UnresolvedReason::UsageAboveNewLimit { .. }
    ));
    let cfg = ResizeConfig {
        memory_limit_decrease_in_place: false,
        ..ResizeConfig::default()
    };
    let plan = rightsizer_size::resize::plan(&p, &t, &cfg).unwrap();
    assert!(matches!(
        plan.unresolved[0].reason,
        UnresolvedReason::MemoryLimitDecreaseNotAllowed { .. }
    ));
}

#[test]
fn unreachable_targets_are_reported_not_fatal() {
    let p = problem(
        vec![node(0, 8000, 16 * GI)],
        vec![(0, "a", vec![container("c", (1000, GI), (0, 0), false)])],
    );
    let mut gpu = target("a-0", "c", 1000, 0);
    gpu.requests.extended.insert("nvidia.com/gpu".into(), 1);
    let plan = plan(&p, &[gpu], &ResizeConfig::default()).unwrap();
    assert!(plan.steps.is_empty());
    assert!(matches!(
        plan.unresolved[0].reason,
        UnresolvedReason::NotResizable { .. }
    ));
}

/// Issue 15 item 5: targets naming an unknown pod, workload or container,
/// duplicates (the last silently won) and targets changing nothing were
/// accepted; they are typed errors naming the target's index.
#[test]
fn meaningless_targets_are_typed_errors() {
    let p = problem(
        vec![node(0, 8000, 16 * GI)],
        vec![
            (0, "a", vec![container("c", (1000, GI), (0, 0), false)]),
            (0, "a", vec![container("c", (1000, GI), (0, 0), false)]),
        ],
    );
    let cfg = ResizeConfig::default();
    let wl = |w: &str, c: &str| ResizeTarget {
        pod: None,
        workload: Some(WorkloadId::new(w).unwrap()),
        container: c.into(),
        requests: Resources::cpu_mem(500, 0),
        limits: None,
    };
    let ok = target("a-0", "c", 2000, 0);
    let err = |t: Vec<ResizeTarget>| plan(&p, &t, &cfg).unwrap_err();
    assert!(matches!(
        err(vec![ok.clone(), target("ghost", "c", 1000, 0)]),
        ResizeError::UnknownPod { index: 1, ref pod } if pod == "ghost"
    ));
    assert!(matches!(
        err(vec![wl("nowl", "c")]),
        ResizeError::UnknownWorkload { index: 0, ref workload } if workload == "nowl"
    ));
    assert!(matches!(
        err(vec![target("a-0", "nope", 1000, 0)]),
        ResizeError::UnknownContainer { index: 0, ref container, .. } if container == "nope"
    ));
    assert!(matches!(
        err(vec![wl("a", "nope")]),
        ResizeError::UnknownContainer { index: 0, .. }
    ));
    assert!(matches!(
        err(vec![
            ok.clone(),
            target("a-1", "c", 1000, 0),
            target("a-0", "c", 3000, 0)
        ]),
        ResizeError::DuplicateTarget {
            index: 2,
            first: 0,
            ..
        }
    ));
    assert!(matches!(
        err(vec![wl("a", "c"), wl("a", "c")]),
        ResizeError::DuplicateTarget {
            index: 1,
            first: 0,
            ..
        }
    ));
    assert!(matches!(
        err(vec![target("a-0", "c", 0, 0)]),
        ResizeError::EmptyTarget { index: 0 }
    ));
    let none = ResizeTarget {
        pod: None,
        workload: None,
        container: "c".into(),
        requests: Resources::zero(),
        limits: None,
    };
    assert!(matches!(
        err(vec![none]),
        ResizeError::TargetWithoutSubject { index: 0 }
    ));
    // A pod target next to its workload's target is not a duplicate: the pod
    // target takes precedence for that pod.
    let plan = plan(&p, &[wl("a", "c"), ok], &cfg).unwrap();
    let cpu: Vec<u64> = plan.steps.iter().map(|s| s.new_request.cpu.get()).collect();
    assert_eq!(cpu, [500, 2000]);
}

/// Issue 15 item 5: an explicit `cpu: "0"` silently meant "unchanged".
#[test]
fn explicit_zero_sizes_are_refused_when_read() {
    use rightsizer_model::spec::from_str_document;
    use rightsizer_size::resize::TargetsDoc;
    for (doc, key) in [
        (
            "targets:\n  - { pod: a-0, container: c, requests: { cpu: \"0\" } }\n",
            "cpu",
        ),
        (
            "targets:\n  - { pod: a-0, container: c, requests: { cpu: 1, memory: 0Gi } }\n",
            "memory",
        ),
        (
            "targets:\n  - { pod: a-0, container: c, requests: { cpu: 1 }, limits: { cpu: 0m } }\n",
            "cpu",
        ),
    ] {
        let e = from_str_document::<TargetsDoc>(doc)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("targets[0]."), "{e}");
        assert!(
            e.contains(&format!("{key}: an explicit 0 is not a size")),
            "{e}"
        );
    }
    let ok: TargetsDoc = from_str_document(
        "targets:\n  - { pod: a-0, container: c, requests: { cpu: 500m }, limits: { memory: 1Gi } }\n",
    )
    .unwrap();
    assert_eq!(ok.targets[0].requests.cpu.get(), 500);
    assert!(from_str_document::<TargetsDoc>("").is_err());
}

fn arb_case() -> impl Strategy<Value = (ResizeProblem, Vec<ResizeTarget>, u32)> {
    let nodes = prop::collection::vec((1u64..=8, 1u64..=16), 1..=4);
    let pods = prop::collection::vec(
        (
            0usize..4,
            0usize..3,
            prop::collection::vec((0u8..3, 1u64..=30, 1u64..=40, any::<bool>()), 1..=2),
        ),
        1..=8,
    );
    let targets = prop::collection::vec((0usize..8, 0usize..2, 0u64..=60, 0u64..=60), 1..=8);
    (nodes, pods, targets, 1u32..=2).prop_map(|(nodes, pods, targets, k)| {
        let nodes: Vec<Node> = nodes
            .iter()
            .enumerate()
            .map(|(i, (c, m))| node(i, c * 1000, m * GI))
            .collect();
        let n = nodes.len();
        let pods: Vec<(usize, &str, Vec<Container>)> = pods
            .into_iter()
            .map(|(nd, w, cs)| {
                let containers = cs
                    .into_iter()
                    .enumerate()
                    .map(|(j, (qos, cpu, mem, restart))| {
                        let (req, lim) = match qos {
                            0 => ((0, 0), (0, 0)),
                            1 => ((cpu * 100, mem * GI / 8), (cpu * 200, mem * GI / 4)),
                            _ => ((cpu * 100, mem * GI / 8), (cpu * 100, mem * GI / 8)),
                        };
                        container(&format!("c{j}"), req, lim, restart)
                    })
                    .collect();
                (nd % n, ["w0", "w1", "w2"][w], containers)
            })
            .collect();
        let p = problem(nodes, pods);
        let ids: Vec<PodId> = p.pods.keys().cloned().collect();
        let targets = if ids.is_empty() {
            Vec::new()
        } else {
            // One target per (pod, container), the first drawn; targets that
            // change nothing are errors, so they are dropped.
            let mut seen = std::collections::BTreeSet::new();
            targets
                .into_iter()
                .filter(|&(_, _, cpu, mem)| cpu + mem > 0)
                .map(|(i, c, cpu, mem)| {
                    let pod = &ids[i % ids.len()];
                    let nc = p.pods[pod].template.containers.len();
                    target(
                        pod.as_str(),
                        &format!("c{}", c % nc),
                        cpu * 100,
                        mem * GI / 8,
                    )
                })
                .filter(|t| seen.insert((t.pod.clone(), t.container.clone())))
                .collect()
        };
        (p, targets, k)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn plans_are_feasible_qos_preserving_complete_and_deterministic((p, targets, k) in arb_case()) {
        let cfg = ResizeConfig { max_disruptions_per_workload: k, ..ResizeConfig::default() };
        let plan = plan(&p, &targets, &cfg).unwrap();
        // Deterministic.
        prop_assert_eq!(&plan, &rightsizer_size::resize::plan(&p, &targets, &cfg).unwrap());
        // Every intermediate state fits (also with each wave run in reverse order).
        let end = replay(&p, &plan, false);
        replay(&p, &plan, true);
        // Waves are ordered and respect the disruption budget.
        let mut per_wave: BTreeMap<(u32, String), u32> = BTreeMap::new();
        for w in plan.steps.windows(2) {
            prop_assert!(w[0].wave <= w[1].wave);
        }
        for s in &plan.steps {
            if s.is_disruptive() {
                let c = per_wave.entry((s.wave, s.workload.to_string())).or_insert(0);
                *c += 1;
                prop_assert!(*c <= k);
            }
        }
        // QoS never changes.
        for s in &plan.steps {
            let mut t = p.pods[&s.pod].template.clone();
            for ch in &s.containers {
                let c = t.containers.iter_mut().find(|c| c.name == ch.name).unwrap();
                c.requests.cpu = ch.new_requests.0;
                c.requests.memory = ch.new_requests.1;
                c.limits.cpu = ch.new_limits.0;
                c.limits.memory = ch.new_limits.1;
            }
            prop_assert_eq!(t.qos_class(), p.pods[&s.pod].template.qos_class());
            prop_assert_eq!(&end.placements()[&s.pod].request.resources.cpu, &t.request().cpu);
        }
        // Every pod whose target changes something is stepped or reported.
        let stepped: BTreeSet<&str> = plan.steps.iter().map(|s| s.pod.as_str()).collect();
        let reported: BTreeSet<&str> = plan.unresolved.iter().map(|u| u.pod.as_str()).collect();
        // Net effect of all targets (later non-zero fields override earlier ones).
        let mut net: BTreeMap<(PodId, String), (MilliCpu, Bytes)> = BTreeMap::new();
        for t in &targets {
            let pod = t.pod.as_ref().unwrap();
            let c = p.pods[pod].template.containers.iter().find(|c| c.name == t.container).unwrap();
            let e = net
                .entry((pod.clone(), t.container.clone()))
                .or_insert((c.effective_requests().cpu, c.effective_requests().memory));
            if !t.requests.cpu.is_zero() {
                e.0 = t.requests.cpu;
            }
            if !t.requests.memory.is_zero() {
                e.1 = t.requests.memory;
            }
        }
        for ((pod, cname), want) in &net {
            let c = p.pods[pod].template.containers.iter().find(|c| &c.name == cname).unwrap();
            let r = c.effective_requests();
            if *want != (r.cpu, r.memory) {
                prop_assert!(
                    stepped.contains(pod.as_str()) || reported.contains(pod.as_str()),
                    "pod {} neither stepped nor reported", pod
                );
            }
            // A stepped pod reaches exactly the requested size.
            if let Some(s) = plan.steps.iter().find(|s| &s.pod == pod) {
                if let Some(ch) = s.containers.iter().find(|ch| &ch.name == cname) {
                    prop_assert_eq!(ch.new_requests, *want);
                }
            }
        }
    }
}

/// Issue 15 item 6: every migration got a wave of its own, whatever
/// `max_disruptions_per_workload` said (10,000 waves at scale). Migrations
/// now share a wave within the budget per workload, unless one lands where
/// another of the wave leaves.
#[test]
fn migrations_share_waves_within_the_disruption_budget() {
    let nodes = vec![
        node(0, 4000, 16 * GI),
        node(1, 4000, 16 * GI),
        node(2, 16_000, 64 * GI),
        node(3, 16_000, 64 * GI),
    ];
    let pods = vec![
        (0, "a", vec![container("c", (1000, GI), (0, 0), false)]),
        (1, "a", vec![container("c", (1000, GI), (0, 0), false)]),
        (0, "b", vec![container("c", (1000, GI), (0, 0), false)]),
    ];
    let p = problem(nodes, pods);
    let t = ["a-0", "a-1", "b-2"].map(|pod| target(pod, "c", 6000, 0));
    let waves = |k: u32| {
        let cfg = ResizeConfig {
            max_disruptions_per_workload: k,
            ..ResizeConfig::default()
        };
        let plan = plan(&p, &t, &cfg).unwrap();
        assert!(plan
            .steps
            .iter()
            .all(|s| matches!(s.action, StepAction::Migrate { .. })));
        replay(&p, &plan, true);
        (
            plan.steps.iter().map(|s| s.wave).collect::<Vec<_>>(),
            plan.waves,
        )
    };
    // One per workload per wave, in plan order: a-0; then a-1 with b-2.
    assert_eq!(waves(1), (vec![0, 1, 1], 2));
    // Two per workload: all three at once.
    assert_eq!(waves(2), (vec![0, 0, 0], 1));
}
