//! Property tests of the placement engine: no overcommit of cpu, memory or
//! devices under random cluster events; failed events change nothing;
//! forget and release restore the state exactly; an engine that followed
//! events decides like one rebuilt from the final cluster; decisions are
//! repeatable for every policy.

use proptest::prelude::*;
use rightsizer_model::cluster::tests_support::fractional_gpu;
use rightsizer_model::cluster::{ClusterState, DeviceAssignment};
use rightsizer_model::ids::{AcceleratorModelId, NodeId, PodId};
use rightsizer_model::node::Node;
use rightsizer_model::node::{Taint, TaintEffect};
use rightsizer_model::resources::Resources;
use rightsizer_model::units::GpuMilli;
use rightsizer_model::workload::{AcceleratorDemand, PodRequest};
use rightsizer_place::engine::{Decision, Engine, EngineConfig, EngineError, PodSpec, SharePlugin};
use rightsizer_place::frag::{NamedTargetWorkload, NamedTaskClass};
use rightsizer_place::share::SharePolicy;

/// A small target workload naming both models (FGD needs one).
fn target() -> NamedTargetWorkload {
    let class = |cpu: u64, milli: u32, num: u32, models: &[&str], p: f64| NamedTaskClass {
        cpu: rightsizer_model::units::MilliCpu::new(cpu),
        gpu_milli: GpuMilli::new(milli),
        num_gpu: num,
        models: models
            .iter()
            .map(|m| AcceleratorModelId::new(m).unwrap())
            .collect(),
        probability: p,
    };
    NamedTargetWorkload {
        classes: vec![
            class(2000, 500, 1, &[], 0.4),
            class(4000, 1000, 1, &["T4"], 0.3),
            class(8000, 1000, 2, &["A10"], 0.2),
            class(1000, 0, 0, &[], 0.1),
        ],
    }
}

fn config(policy: SharePolicy, seed: u64) -> EngineConfig {
    EngineConfig::default().with_plugin(
        Box::new(SharePlugin::with_named_target(policy, target(), seed)),
        1,
    )
}

fn node(i: usize, (cpu, gpus, alt): (u64, usize, bool)) -> Node {
    let t4 = AcceleratorModelId::new("T4").unwrap();
    let a10 = AcceleratorModelId::new("A10").unwrap();
    Node::new(
        NodeId::new(format!("n{i}")).unwrap(),
        Resources {
            pods: 50,
            ..Resources::cpu_mem(cpu, 64 << 30)
        },
    )
    .with_devices(if alt { &a10 } else { &t4 }, gpus)
}

fn cluster(shapes: &[(u64, usize, bool)]) -> ClusterState {
    let nodes = shapes
        .iter()
        .enumerate()
        .map(|(i, &s)| node(i, s))
        .collect();
    ClusterState::new(
        nodes,
        vec![fractional_gpu("T4", 16), fractional_gpu("A10", 24)],
    )
    .unwrap()
}

fn request((cpu, mem_gib, kind, milli, only_t4): (u64, u64, u8, u32, bool)) -> PodRequest {
    PodRequest {
        resources: Resources {
            pods: 1,
            ..Resources::cpu_mem(cpu, mem_gib << 30)
        },
        accelerator: match kind {
            0 => AcceleratorDemand::None,
            1 => AcceleratorDemand::Fraction {
                milli: GpuMilli::new(milli),
                memory: None,
            },
            _ => AcceleratorDemand::Whole {
                count: u16::from(kind) - 1,
            },
        },
        allowed_models: if only_t4 {
            vec![AcceleratorModelId::new("T4").unwrap()]
        } else {
            vec![]
        },
    }
}

/// Recomputes usage from the placements and checks it against capacity.
fn assert_no_overcommit(state: &ClusterState) {
    for (i, node) in state.nodes().iter().enumerate() {
        let mut cpu = 0;
        let mut mem = 0;
        let mut dev_milli = vec![0u32; node.devices.len()];
        let mut whole = vec![0u32; node.devices.len()];
        for p in state.placements().values().filter(|p| p.node.get() == i) {
            cpu += p.request.resources.cpu.get();
            mem += p.request.resources.memory.get();
            match (&p.devices, &p.request.accelerator) {
                (
                    DeviceAssignment::Shared { device },
                    AcceleratorDemand::Fraction { milli, .. },
                ) => {
                    dev_milli[device.get()] += milli.get();
                }
                (DeviceAssignment::Whole { devices }, _) => {
                    for d in devices {
                        whole[d.get()] += 1;
                    }
                }
                (DeviceAssignment::None, AcceleratorDemand::None) => {}
                other => panic!("assignment does not match demand: {other:?}"),
            }
        }
        assert!(
            cpu <= node.allocatable.cpu.get(),
            "cpu overcommitted on node {i}"
        );
        assert!(
            mem <= node.allocatable.memory.get(),
            "memory overcommitted on node {i}"
        );
        for d in 0..node.devices.len() {
            assert!(whole[d] <= 1, "device {d} of node {i} taken whole twice");
            assert!(
                whole[d] == 0 || dev_milli[d] == 0,
                "device {d} both whole and shared"
            );
            assert!(
                dev_milli[d] <= 1000,
                "device {d} of node {i} shared above 1000 milli"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn engine_never_overcommits_and_release_restores(
        shapes in prop::collection::vec((1000u64..16000, 0usize..4, any::<bool>()), 1..6),
        pods in prop::collection::vec((0u64..6000, 0u64..20, 0u8..4, 1u32..1000, any::<bool>()), 1..30),
        policy in 0usize..7,
        order_seed in any::<u64>(),
    ) {
        let initial = cluster(&shapes);
        let policy = SharePolicy::ALL[policy];
        let cfg = config(policy, 9);
        let mut engine = Engine::new(initial.clone(), cfg).unwrap();
        let mut placed = Vec::new();
        for (k, p) in pods.iter().enumerate() {
            let r = request(*p);
            // The engine's filter agrees with the state's own first-fit check.
            for n in 0..engine.state().len() {
                let ni = rightsizer_model::ids::NodeIndex(n as u32);
                let st = engine.state();
                let oracle = r.resources.fits_in(&st.node_free(ni).resources)
                    && (r.accelerator.is_none() || st.first_fit_devices(&r, ni).is_some());
                prop_assert_eq!(engine.filter(&PodSpec::new(&r), ni).is_ok(), oracle);
            }
            let id = PodId::new(format!("p{k}")).unwrap();
            let d = engine.place(id.clone(), &PodSpec::new(&r)).unwrap();
            match d.unschedulable() {
                None => placed.push(id),
                Some(u) => prop_assert_eq!(u.reasons.len(), shapes.len()),
            }
            assert_no_overcommit(engine.state());
        }
        // Release in a seeded random order; the state returns exactly.
        let mut rng = rightsizer_place::rng::SeededRng::new(order_seed);
        rng.shuffle(&mut placed);
        for id in &placed {
            engine.release(id).unwrap();
        }
        prop_assert_eq!(engine.state(), &initial);
    }
}

/// One cluster event.
#[derive(Clone, Debug)]
enum Event {
    AddNode(u64, usize, bool),
    /// Node (by position), new cpu, taint it.
    UpdateNode(usize, u64, bool),
    RemoveNode(usize),
    /// Pod shape, node position: someone else binds it there (first fit).
    Observe((u64, u64, u8, u32, bool), usize),
    /// Place (decide + assume), then confirm or keep assumed.
    Place((u64, u64, u8, u32, bool), bool),
    /// Forget the k-th assumed pod.
    Forget(usize),
    /// Release the k-th placed pod.
    Release(usize),
    /// An event that must fail: unknown node, pod assumed twice.
    Bad(u8),
}

fn event() -> impl Strategy<Value = Event> {
    let pod = (0u64..6000, 0u64..20, 0u8..4, 1u32..1000, any::<bool>());
    prop_oneof![
        (1000u64..16000, 0usize..4, any::<bool>()).prop_map(|(c, g, a)| Event::AddNode(c, g, a)),
        (0usize..8, 500u64..16000, any::<bool>()).prop_map(|(n, c, t)| Event::UpdateNode(n, c, t)),
        (0usize..8).prop_map(Event::RemoveNode),
        (pod.clone(), 0usize..8).prop_map(|(p, n)| Event::Observe(p, n)),
        (pod.clone(), any::<bool>()).prop_map(|(p, c)| Event::Place(p, c)),
        (pod, any::<bool>()).prop_map(|(p, c)| Event::Place(p, c)),
        (0usize..8).prop_map(Event::Forget),
        (0usize..8).prop_map(Event::Release),
        (0u8..4).prop_map(Event::Bad),
    ]
}

fn probes() -> Vec<PodRequest> {
    [
        (500, 1, 0, 0, false),
        (2000, 4, 1, 300, false),
        (4000, 8, 1, 700, true),
        (1000, 2, 2, 0, false),
        (3000, 2, 3, 0, false),
    ]
    .into_iter()
    .map(request)
    .collect()
}

/// A decision with the generation it was made on cleared (for comparing
/// engines that reached the same state by different routes).
fn without_generation(mut d: Decision) -> Decision {
    match &mut d {
        Decision::Placed(p) => p.generation = 0,
        Decision::Unschedulable(u) => u.generation = 0,
        _ => {}
    }
    d
}

/// The engine's state rebuilt from its nodes, re-allocating every placement.
fn rebuilt(engine: &Engine) -> ClusterState {
    let st = engine.state();
    let mut fresh = ClusterState::new(st.nodes().to_vec(), st.models().values().cloned()).unwrap();
    for (id, p) in st.placements() {
        fresh
            .allocate(id.clone(), &p.request, p.node, &p.devices)
            .unwrap();
    }
    fresh
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_events_keep_the_invariants(
        shapes in prop::collection::vec((1000u64..16000, 0usize..4, any::<bool>()), 1..5),
        events in prop::collection::vec(event(), 1..40),
        policy in 0usize..7,
    ) {
        let policy = SharePolicy::ALL[policy];
        let mut engine = Engine::new(cluster(&shapes), config(policy, 5)).unwrap();
        let mut next_node = shapes.len();
        let mut assumed: Vec<PodId> = Vec::new();
        let mut pods = 0usize;
        for ev in events {
            let before = engine.state().clone();
            let generation = engine.generation();
            let ids: Vec<NodeId> = engine.state().nodes().iter().map(|n| n.id.clone()).collect();
            let pick = |k: usize| (!ids.is_empty()).then(|| ids[k % ids.len()].clone());
            let result: Result<(), EngineError> = match ev {
                Event::AddNode(c, g, a) => {
                    next_node += 1;
                    engine.add_node(node(next_node, (c, g, a))).map(|_| ())
                }
                Event::UpdateNode(k, cpu, taint) => match pick(k) {
                    None => Ok(()),
                    Some(id) => {
                        let i = engine.state().node_index(&id).unwrap();
                        let mut n = engine.state().node(i).clone();
                        n.allocatable.cpu = rightsizer_model::units::MilliCpu::new(cpu);
                        if taint {
                            n.taints.push(Taint { key: "drain".into(), value: String::new(), effect: TaintEffect::NoSchedule });
                        } else {
                            n.taints.clear();
                        }
                        let u = engine.update_node(n).unwrap();
                        // Displaced pods are reported and no longer placed.
                        for (p, _) in &u.displaced {
                            prop_assert!(!engine.state().placements().contains_key(p));
                        }
                        assumed.retain(|p| engine.is_assumed(p));
                        Ok(())
                    }
                },
                Event::RemoveNode(k) => match pick(k) {
                    None => Ok(()),
                    Some(id) => {
                        let r = engine.remove_node(&id).unwrap();
                        prop_assert_eq!(r.node.id, id);
                        assumed.retain(|p| engine.is_assumed(p));
                        Ok(())
                    }
                },
                Event::Observe(shape, k) => match pick(k) {
                    None => Ok(()),
                    Some(id) => {
                        let r = request(shape);
                        let i = engine.state().node_index(&id).unwrap();
                        pods += 1;
                        let pod = PodId::new(format!("o{pods}")).unwrap();
                        match engine.state().first_fit_devices(&r, i) {
                            Some(d) if r.resources.fits_in(&engine.state().node_free(i).resources) => {
                                engine.observe_bound(pod, &PodSpec::new(&r), &id, &d)
                            }
                            // Does not fit: the engine refuses it with nothing changed.
                            _ => {
                                let d = engine.state().first_fit_devices(&r, i).unwrap_or_default();
                                prop_assert!(engine.observe_bound(pod, &PodSpec::new(&r), &id, &d).is_err());
                                Ok(())
                            }
                        }
                    }
                },
                Event::Place(shape, confirm) => {
                    let r = request(shape);
                    pods += 1;
                    let pod = PodId::new(format!("p{pods}")).unwrap();
                    let spec = PodSpec::new(&r);
                    let what_if = engine.decide(&spec.with_id(&pod)).unwrap();
                    // A what-if changes nothing and repeats exactly.
                    prop_assert_eq!(engine.state(), &before);
                    prop_assert_eq!(engine.decide(&spec.with_id(&pod)).unwrap(), what_if.clone());
                    let d = engine.place(pod.clone(), &spec).unwrap();
                    prop_assert_eq!(&d, &what_if);
                    if d.placed().is_some() {
                        if confirm {
                            engine.confirm(&pod).unwrap();
                        } else {
                            assumed.push(pod);
                        }
                    }
                    Ok(())
                }
                Event::Forget(k) => {
                    if !assumed.is_empty() {
                        let pod = assumed.remove(k % assumed.len());
                        let p = engine.forget(&pod).unwrap();
                        // Assume again then forget: the exact state returns.
                        let mid = engine.state().clone();
                        let node_id = engine.state().node(p.node).id.clone();
                        engine.assume(pod.clone(), &PodSpec::new(&p.request), &node_id, &p.devices).unwrap();
                        engine.forget(&pod).unwrap();
                        prop_assert_eq!(engine.state(), &mid);
                    }
                    Ok(())
                }
                Event::Release(k) => {
                    let placed: Vec<PodId> = engine.state().placements().keys().cloned().collect();
                    if !placed.is_empty() {
                        let pod = &placed[k % placed.len()];
                        engine.release(pod).unwrap();
                        assumed.retain(|p| p != pod);
                    }
                    Ok(())
                }
                Event::Bad(kind) => {
                    let r = match kind {
                        0 => engine.remove_node(&NodeId::new("nope").unwrap()).map(|_| ()),
                        1 => engine.update_node(node(999, (1000, 0, false))).map(|_| ()),
                        2 => match assumed.first() {
                            Some(p) => {
                                let pl = engine.state().placements()[p].clone();
                                let id = engine.state().node(pl.node).id.clone();
                                engine.assume(p.clone(), &PodSpec::new(&pl.request), &id, &pl.devices)
                            }
                            None => engine.forget(&PodId::new("never").unwrap()).map(|_| ()),
                        },
                        _ => {
                            let mut r = request((100, 1, 0, 0, false));
                            r.resources.pods = 0;
                            engine.decide(&PodSpec::new(&r)).map(|_| ())
                        }
                    };
                    prop_assert!(r.is_err());
                    Ok(())
                }
            };
            if result.is_err() {
                prop_assert_eq!(engine.state(), &before);
                prop_assert_eq!(engine.generation(), generation);
            }
            assert_no_overcommit(engine.state());
        }
        // The engine that followed the events decides like one rebuilt from scratch.
        let fresh = Engine::new(
            rebuilt(&engine),
            config(policy, 5).with_priority(engine.priorities()),
        ).unwrap();
        prop_assert_eq!(fresh.state(), engine.state());
        for (k, r) in probes().iter().enumerate() {
            let spec = PodSpec::new(r).with_identity(k as u64);
            prop_assert_eq!(
                without_generation(engine.decide(&spec).unwrap()),
                without_generation(fresh.decide(&spec).unwrap())
            );
        }
    }

    #[test]
    fn decide_twice_is_byte_identical(
        shapes in prop::collection::vec((1000u64..16000, 0usize..4, any::<bool>()), 1..6),
        pod in (0u64..6000, 0u64..20, 0u8..4, 1u32..1000, any::<bool>()),
        policy in 0usize..7,
        seed in any::<u64>(),
    ) {
        let engine = Engine::new(cluster(&shapes), config(SharePolicy::ALL[policy], seed)).unwrap();
        let r = request(pod);
        let spec = PodSpec::new(&r).with_id(&PodId::new("what-if").unwrap());
        let a = serde_json::to_string(&engine.decide(&spec).unwrap()).unwrap();
        for _ in 0..5 {
            prop_assert_eq!(&serde_json::to_string(&engine.decide(&spec).unwrap()).unwrap(), &a);
        }
    }
}
