//! Property tests of the cluster state: random allocate/release sequences
//! never overcommit, a failed allocation changes nothing, and release restores
//! the exact prior state.

use proptest::prelude::*;
use rightsizer_model::cluster::tests_support::{fractional_gpu, mig_gpu};
use rightsizer_model::cluster::DeviceMode;
use rightsizer_model::prelude::*;

fn cluster() -> ClusterState {
    let t4 = AcceleratorModelId::new("T4").unwrap();
    let a100 = AcceleratorModelId::new("A100").unwrap();
    let mk = |name: &str, cpu: u64, gib: u64| {
        Node::new(
            NodeId::new(name).unwrap(),
            Resources {
                pods: 8,
                ..Resources::cpu_mem(cpu, gib << 30)
            },
        )
    };
    let nodes = vec![
        mk("cpu-only", 4000, 16),
        mk("t4x2", 8000, 32).with_devices(&t4, 2),
        mk("a100x2", 16000, 64).with_devices(&a100, 2),
        mk("mixed", 8000, 32)
            .with_devices(&t4, 1)
            .with_devices(&a100, 1),
    ];
    ClusterState::new(nodes, vec![fractional_gpu("T4", 16), mig_gpu("A100")]).unwrap()
}

const MIG: [&str; 6] = [
    "1g.5gb", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb",
];

#[derive(Clone, Debug)]
enum Op {
    Alloc {
        cpu: u64,
        mem_mib: u64,
        demand: u8,
        size: u16,
        node: u32,
        dev: Vec<u16>,
        start: u8,
    },
    Release(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..5000, 0u64..20_000, 0u8..4, 0u16..1200, 0u32..5, prop::collection::vec(0u16..3, 0..3), 0u8..9)
            .prop_map(|(cpu, mem_mib, demand, size, node, dev, start)| Op::Alloc { cpu, mem_mib, demand, size, node, dev, start }),
        1 => (0usize..50).prop_map(Op::Release),
    ]
}

fn request(cpu: u64, mem_mib: u64, demand: u8, size: u16) -> PodRequest {
    let accelerator = match demand {
        0 => AcceleratorDemand::None,
        1 => AcceleratorDemand::Whole {
            count: size % 3 + 1,
        },
        2 => AcceleratorDemand::Fraction {
            milli: GpuMilli::new(u32::from(size)),
            memory: (size % 2 == 0).then(|| Bytes::from_mib(u64::from(size) * 8)),
        },
        _ => AcceleratorDemand::Mig {
            profile: MIG[usize::from(size) % MIG.len()].to_string(),
        },
    };
    PodRequest {
        resources: Resources {
            pods: 1,
            ..Resources::cpu_mem(cpu, mem_mib << 20)
        },
        accelerator,
        allowed_models: vec![],
    }
}

fn assignment(demand: u8, dev: &[u16], start: u8) -> DeviceAssignment {
    match demand {
        0 => DeviceAssignment::None,
        1 => DeviceAssignment::Whole {
            devices: dev.iter().map(|d| DeviceIndex(*d)).collect(),
        },
        2 => DeviceAssignment::Shared {
            device: DeviceIndex(dev.first().copied().unwrap_or(0)),
        },
        _ => DeviceAssignment::Mig {
            device: DeviceIndex(dev.first().copied().unwrap_or(0)),
            start,
        },
    }
}

/// Recomputes every node's usage from the placements and checks it against
/// capacity and the free state: nothing is overcommitted and free = capacity − used.
fn check_invariants(s: &ClusterState) {
    for (i, node) in s.nodes().iter().enumerate() {
        let idx = NodeIndex(i as u32);
        let mut used = Resources::zero();
        let mut dev_milli = vec![0u32; node.devices.len()];
        let mut dev_whole = vec![0u32; node.devices.len()];
        let mut dev_mig_slices = vec![0u32; node.devices.len()];
        for (_, p) in s.pods_on(idx) {
            used = used.checked_add(&p.request.resources).unwrap();
            match (&p.request.accelerator, &p.devices) {
                (
                    AcceleratorDemand::Fraction { milli, .. },
                    DeviceAssignment::Shared { device },
                ) => {
                    dev_milli[device.get()] += milli.get();
                }
                (_, DeviceAssignment::Whole { devices }) => {
                    for d in devices {
                        dev_whole[d.get()] += 1;
                    }
                }
                (AcceleratorDemand::Mig { profile }, DeviceAssignment::Mig { device, .. }) => {
                    let g = s
                        .model(&node.devices[device.get()].model)
                        .unwrap()
                        .sharing
                        .mig
                        .as_ref()
                        .unwrap();
                    dev_mig_slices[device.get()] +=
                        u32::from(g.profile(profile).unwrap().1.compute_slices);
                }
                _ => {}
            }
        }
        assert!(
            used.fits_in(&node.allocatable),
            "node {i} overcommitted: {used} > {}",
            node.allocatable
        );
        let free = s.node_free(idx);
        assert_eq!(free.resources, node.allocatable.checked_sub(&used).unwrap());
        for d in 0..node.devices.len() {
            assert!(
                dev_whole[d] <= 1,
                "device {d} on node {i} given whole twice"
            );
            assert!(
                dev_milli[d] <= 1000,
                "device {d} on node {i} fractions sum to {}",
                dev_milli[d]
            );
            assert!(dev_mig_slices[d] <= 7);
            let kinds = [dev_whole[d] > 0, dev_milli[d] > 0, dev_mig_slices[d] > 0];
            assert!(
                kinds.iter().filter(|k| **k).count() <= 1,
                "device {d} on node {i} in two modes"
            );
            let f = &free.devices[d];
            if dev_whole[d] > 0 {
                assert_eq!(f.mode, DeviceMode::Whole);
                assert_eq!(f.milli, GpuMilli::ZERO);
            }
            if dev_milli[d] > 0 {
                assert_eq!(f.milli.get(), 1000 - dev_milli[d]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_never_overcommit(ops in prop::collection::vec(op(), 1..60)) {
        let mut s = cluster();
        // Each placed pod with the state just before it, while that snapshot is exact.
        let mut placed: Vec<(PodId, Option<ClusterState>)> = Vec::new();
        for (k, op) in ops.into_iter().enumerate() {
            match op {
                Op::Alloc { cpu, mem_mib, demand, size, node, dev, start } => {
                    let req = request(cpu, mem_mib, demand, size);
                    let a = assignment(demand, &dev, start);
                    let before = s.clone();
                    let pod = PodId::new(format!("p{k}")).unwrap();
                    match s.allocate(pod.clone(), &req, NodeIndex(node), &a) {
                        Ok(()) => placed.push((pod, Some(before))),
                        Err(_) => prop_assert_eq!(&s, &before, "failed allocation changed the state"),
                    }
                }
                Op::Release(i) => {
                    if placed.is_empty() { continue; }
                    let i = i % placed.len();
                    let (pod, before) = placed.remove(i);
                    s.release(&pod).unwrap();
                    if i == placed.len() {
                        if let Some(before) = before {
                            prop_assert_eq!(&s, &before, "release did not restore the prior state");
                        }
                    } else {
                        // Out-of-order release: later snapshots no longer describe a reachable state.
                        for p in placed.iter_mut().skip(i) { p.1 = None; }
                    }
                }
            }
            check_invariants(&s);
        }
        // Releasing everything returns to the empty cluster.
        let ids: Vec<PodId> = s.placements().keys().cloned().collect();
        for id in ids { s.release(&id).unwrap(); }
        prop_assert_eq!(s, cluster());
    }

    #[test]
    fn first_fit_choice_always_allocates(reqs in prop::collection::vec((0u64..3000, 0u64..8000, 0u8..4, 1u16..1000), 1..40)) {
        let mut s = cluster();
        for (k, (cpu, mem, demand, size)) in reqs.into_iter().enumerate() {
            let req = request(cpu, mem, demand, size);
            for n in 0..s.len() as u32 {
                if let Some(a) = s.first_fit_devices(&req, NodeIndex(n)) {
                    s.allocate(PodId::new(format!("p{k}")).unwrap(), &req, NodeIndex(n), &a).unwrap();
                    break;
                }
            }
            check_invariants(&s);
        }
    }
}

#[test]
fn mig_overlap_and_limits_are_enforced() {
    let mut s = cluster();
    let node = NodeIndex(2);
    let req = |p: &str| PodRequest {
        resources: Resources {
            pods: 1,
            ..Resources::zero()
        },
        accelerator: AcceleratorDemand::Mig { profile: p.into() },
        allowed_models: vec![],
    };
    let mig = |start| DeviceAssignment::Mig {
        device: DeviceIndex(0),
        start,
    };
    s.allocate(PodId::new("a").unwrap(), &req("4g.20gb"), node, &mig(0))
        .unwrap();
    // 4g at 0 uses memory slices 0..4 and 4 of 7 compute slices: a 3g fits at 4, a second 4g does not.
    assert!(s.check(&req("4g.20gb"), node, &mig(4)).is_err());
    assert!(s.check(&req("3g.20gb"), node, &mig(0)).is_err());
    s.allocate(PodId::new("b").unwrap(), &req("3g.20gb"), node, &mig(4))
        .unwrap();
    // All compute slices are used now.
    assert!(
        s.first_fit_devices(&req("1g.5gb"), node).is_some(),
        "device 1 is still idle"
    );
    let whole = PodRequest {
        resources: Resources {
            pods: 1,
            ..Resources::zero()
        },
        accelerator: AcceleratorDemand::Whole { count: 1 },
        allowed_models: vec![],
    };
    let err = s
        .check(
            &whole,
            node,
            &DeviceAssignment::Whole {
                devices: vec![DeviceIndex(0)],
            },
        )
        .unwrap_err();
    assert!(matches!(err, AllocError::DeviceBusy { .. }), "{err}");
}

#[test]
fn whole_devices_respect_allowed_models() {
    let s = cluster();
    let req = PodRequest {
        resources: Resources {
            pods: 1,
            ..Resources::zero()
        },
        accelerator: AcceleratorDemand::Whole { count: 1 },
        allowed_models: vec![AcceleratorModelId::new("A100").unwrap()],
    };
    let err = s
        .check(
            &req,
            NodeIndex(3),
            &DeviceAssignment::Whole {
                devices: vec![DeviceIndex(0)],
            },
        )
        .unwrap_err();
    assert!(matches!(err, AllocError::ModelNotAllowed { .. }));
    assert_eq!(
        s.first_fit_devices(&req, NodeIndex(3)),
        Some(DeviceAssignment::Whole {
            devices: vec![DeviceIndex(1)]
        })
    );
}
