//! Property tests of the placement engine: no overcommit of cpu, memory or
//! devices; release restores the state exactly.

use proptest::prelude::*;
use rightsizer_model::cluster::tests_support::fractional_gpu;
use rightsizer_model::cluster::{ClusterState, DeviceAssignment};
use rightsizer_model::ids::{AcceleratorModelId, NodeId, PodId};
use rightsizer_model::node::Node;
use rightsizer_model::resources::Resources;
use rightsizer_model::units::GpuMilli;
use rightsizer_model::workload::{AcceleratorDemand, PodRequest};
use rightsizer_place::engine::{Decision, Engine, EngineConfig, PodSpec, SharePlugin};
use rightsizer_place::share::SharePolicy;

fn cluster(shapes: &[(u64, usize, bool)]) -> ClusterState {
    let t4 = AcceleratorModelId::new("T4").unwrap();
    let a10 = AcceleratorModelId::new("A10").unwrap();
    let nodes = shapes
        .iter()
        .enumerate()
        .map(|(i, &(cpu, gpus, alt))| {
            Node::new(
                NodeId::new(format!("n{i}")).unwrap(),
                Resources {
                    pods: 50,
                    ..Resources::cpu_mem(cpu, 64 << 30)
                },
            )
            .with_devices(if alt { &a10 } else { &t4 }, gpus)
        })
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
        let cfg = EngineConfig::default().with_plugin(Box::new(SharePlugin::new(policy, None, 9)), 1);
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
            match engine.place(id.clone(), &PodSpec::new(&r)).unwrap() {
                Decision::Placed(_) => placed.push(id),
                Decision::Unschedulable(u) => prop_assert_eq!(u.reasons.len(), shapes.len()),
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
