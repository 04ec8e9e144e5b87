//! Integration tests of rightsizer-gang: one binary.
//!
//! - `regression`: the shapes of the issue (Volcano #1297, the 6 + 2 split,
//!   the saturated clique, the partitionable halves) and other cases where
//!   greedy per-pod placement fails.
//! - `behaviour`: elastic roles, slices, preferred levels, queues, commit.
//! - `bad_input`: typed errors.
//! - `props`: property tests against a brute-force oracle.

use rightsizer_gang::topology::{BLOCK, DEVICE_DOMAINS_LABEL, HOSTNAME, RACK, ZONE};
use rightsizer_gang::*;
use rightsizer_model::cluster::tests_support::{fractional_gpu, mig_gpu};
use rightsizer_model::prelude::*;
use rightsizer_place::engine::{Decision, Engine, EngineConfig, PodSpec};
use std::collections::{BTreeMap, BTreeSet};

const GPU: &str = "T4";

fn gpu() -> AcceleratorModelId {
    AcceleratorModelId::new(GPU).unwrap()
}

/// A node with `cpu` millicores, 64 GiB, `gpus` devices and labels.
fn node(name: &str, cpu: u64, gpus: usize, labels: &[(&str, &str)]) -> Node {
    let mut n = Node::new(
        NodeId::new(name).unwrap(),
        Resources::cpu_mem(cpu, 64 << 30),
    )
    .with_devices(&gpu(), gpus);
    for (k, v) in labels {
        n.labels.insert(k.to_string(), v.to_string());
    }
    n
}

fn engine(nodes: Vec<Node>) -> Engine {
    let state = ClusterState::new(nodes, vec![fractional_gpu(GPU, 16)]).unwrap();
    Engine::new(state, EngineConfig::default()).unwrap()
}

fn req(cpu: u64, gpus: u16) -> PodRequest {
    let acc = if gpus == 0 {
        AcceleratorDemand::None
    } else {
        AcceleratorDemand::Whole { count: gpus }
    };
    PodRequest::new(Resources::cpu_mem(cpu, 1 << 30), acc)
}

fn gang(id: &str, roles: Vec<RoleSpec>) -> GangSpec {
    GangSpec::new(GangId::new(id).unwrap(), roles)
}

fn placer() -> GangPlacer {
    GangPlacer::new(GangConfig::builder().build().unwrap())
}

fn admitted(r: &GangResult) -> &Admission {
    r.admitted()
        .unwrap_or_else(|| panic!("{} not admitted: {:?}", r.gang, r.outcome))
}

fn nodes_of<'a>(a: &'a Admission, role: &str) -> Vec<&'a str> {
    a.members
        .iter()
        .filter(|m| m.role == role)
        .map(|m| m.node.as_str())
        .collect()
}

/// Applies every admitted member to a copy of the snapshot: fails on any
/// overcommit or shared whole device.
fn apply_all(e: &Engine, report: &QueueReport) -> ClusterState {
    let mut s = e.state().clone();
    for (_, a) in report.admitted() {
        for m in &a.members {
            s.allocate(m.pod.clone(), &m.request, m.node_index, &m.devices)
                .unwrap_or_else(|err| panic!("{}: {err}", m.pod));
        }
    }
    s
}

mod regression {
    use super::*;

    /// Volcano #1297: X→A blocks Y, while X→B, Y→A fits. Here the
    /// best-fit first choice of the first role is the trap; the search
    /// backtracks.
    #[test]
    fn volcano_1297_backtracks_out_of_the_greedy_trap() {
        let mut a = node("a", 3000, 0, &[]);
        a.allocatable.memory = Bytes::from_gib(8);
        let mut b = node("b", 3500, 0, &[]);
        b.allocatable.memory = Bytes::from_gib(1);
        let e = engine(vec![a, b]);
        let x = PodRequest::new(Resources::cpu_mem(3000, 1 << 30), AcceleratorDemand::None);
        let y = PodRequest::new(Resources::cpu_mem(2000, 6 << 30), AcceleratorDemand::None);
        // Greedy per pod, the engine's default scoring: X first.
        let mut greedy = engine(e.state().nodes().to_vec());
        let dx = greedy
            .place(PodId::new("x").unwrap(), &PodSpec::new(&x))
            .unwrap();
        let dy = greedy
            .place(PodId::new("y").unwrap(), &PodSpec::new(&y))
            .unwrap();
        let greedy_ok = dx.placed().is_some() && dy.placed().is_some();
        let g = gang(
            "g",
            vec![RoleSpec::new("x", 1, x), RoleSpec::new("y", 1, y)],
        );
        let r = placer().place(&e, &g).unwrap();
        let ad = admitted(&r);
        assert_eq!(nodes_of(ad, "x"), ["b"]);
        assert_eq!(nodes_of(ad, "y"), ["a"]);
        assert!(r.steps > 2, "the search backtracked ({} steps)", r.steps);
        // Record what the per-pod baseline does on this shape.
        if let Decision::Placed(p) = &dx {
            if p.node_id.as_str() == "a" {
                assert!(!greedy_ok, "X on a leaves no room for Y");
            }
        }
    }

    /// volcano #5751: 8 free devices split 6 + 2 across two interconnect
    /// domains cannot serve an 8-device member; it goes to the node with one
    /// 8-device domain and the 6- and 2-device members fill the split node.
    #[test]
    fn six_plus_two_split() {
        let split = node("split", 64000, 8, &[(DEVICE_DOMAINS_LABEL, "6.2")]);
        let whole = node("whole", 64000, 8, &[]);
        let e = engine(vec![split, whole]);
        let g = gang(
            "g",
            vec![
                RoleSpec::new("big", 1, req(1000, 8)).in_one_device_domain(),
                RoleSpec::new("mid", 1, req(1000, 6)).in_one_device_domain(),
                RoleSpec::new("small", 1, req(1000, 2)).in_one_device_domain(),
            ],
        );
        let r = placer().place(&e, &g).unwrap();
        let a = admitted(&r);
        assert_eq!(nodes_of(a, "big"), ["whole"]);
        assert_eq!(nodes_of(a, "mid"), ["split"]);
        assert_eq!(nodes_of(a, "small"), ["split"]);
        for m in &a.members {
            if m.node.as_str() == "split" {
                let DeviceAssignment::Whole { devices } = &m.devices else {
                    panic!()
                };
                let dom: BTreeSet<bool> = devices.iter().map(|d| d.0 < 6).collect();
                assert_eq!(dom.len(), 1, "{} spans both domains", m.pod);
            }
        }
        // Only the split node: the 8-device member is proven infeasible.
        let e = engine(vec![node(
            "split",
            64000,
            8,
            &[(DEVICE_DOMAINS_LABEL, "6.2")],
        )]);
        let g = gang(
            "solo",
            vec![RoleSpec::new("big", 1, req(1000, 8)).in_one_device_domain()],
        );
        let r = placer().place(&e, &g).unwrap();
        let GangOutcome::Infeasible { reason } = &r.outcome else {
            panic!("{:?}", r.outcome)
        };
        assert_eq!(reason.role.as_deref(), Some("big"));
        assert_eq!(r.stop, StopReason::Exhausted);
    }

    /// nvcf #598: the leader must not go to the most saturated clique when
    /// its follower cannot join it: the gang is placed per clique as a whole.
    #[test]
    fn saturated_clique_is_skipped() {
        let c = |n: &str, cl: &str| node(n, 64000, 8, &[("nvidia.com/gpu.clique", cl)]);
        let mut state = ClusterState::new(
            vec![c("n0", "c1"), c("n1", "c1"), c("n2", "c2"), c("n3", "c2")],
            vec![fractional_gpu(GPU, 16)],
        )
        .unwrap();
        // c1 is saturated: n1 is full.
        state
            .allocate(
                PodId::new("busy").unwrap(),
                &req(1000, 8),
                NodeIndex(1),
                &DeviceAssignment::Whole {
                    devices: (0..8).map(DeviceIndex).collect(),
                },
            )
            .unwrap();
        let e = Engine::new(state, EngineConfig::default()).unwrap();
        let g = gang(
            "lws",
            vec![
                RoleSpec::new("leader", 1, req(2000, 8)),
                RoleSpec::new("worker", 1, req(1000, 8)),
            ],
        )
        .required("nvidia.com/gpu.clique");
        let r = placer().place(&e, &g).unwrap();
        let a = admitted(&r);
        assert_eq!(a.domain.as_ref().unwrap().name, "c2");
        let mut n: Vec<&str> = a.members.iter().map(|m| m.node.as_str()).collect();
        n.sort();
        assert_eq!(n, ["n2", "n3"]);
    }

    /// kubernetes #138765: a gang that fits on two halves of a partitionable
    /// device is not rejected because the first alternative (whole) was
    /// taken by the first member.
    #[test]
    fn partitionable_halves() {
        let a100 = AcceleratorModelId::new("A100").unwrap();
        let n = Node::new(
            NodeId::new("n").unwrap(),
            Resources::cpu_mem(16000, 64 << 30),
        )
        .with_devices(&a100, 1);
        let state = ClusterState::new(vec![n], vec![mig_gpu("A100")]).unwrap();
        let e = Engine::new(state, EngineConfig::default()).unwrap();
        let whole = req(1000, 1);
        let half = PodRequest::new(
            Resources::cpu_mem(1000, 1 << 30),
            AcceleratorDemand::Mig {
                profile: "3g.20gb".into(),
            },
        );
        let g = gang(
            "halves",
            vec![RoleSpec::new("w", 2, whole).or_request(half)],
        );
        let r = placer().place(&e, &g).unwrap();
        let a = admitted(&r);
        assert_eq!(a.members.len(), 2);
        assert!(a.members.iter().all(|m| m.alternative == 1), "{a:?}");
        let mut s = e.state().clone();
        for m in &a.members {
            s.allocate(m.pod.clone(), &m.request, m.node_index, &m.devices)
                .unwrap();
        }
    }

    /// Two 4-GPU gangs on a 6-GPU cluster (the resource-deadlock example):
    /// one is admitted whole, the other holds nothing and waits (proven).
    #[test]
    fn no_resource_deadlock() {
        let e = engine(vec![node("a", 64000, 3, &[]), node("b", 64000, 3, &[])]);
        let mk = |id: &str| gang(id, vec![RoleSpec::new("w", 4, req(1000, 1))]);
        let report = placer().queue(&e, &[mk("j1"), mk("j2")]).unwrap();
        assert_eq!(report.admitted().count(), 1);
        let w = &report.results[1];
        let GangOutcome::Waiting { reason, proven } = &w.outcome else {
            panic!("{:?}", w.outcome)
        };
        assert!(*proven);
        assert!(
            reason.dimension == "gpu" || reason.dimension == "devices",
            "{reason:?}"
        );
        let s = apply_all(&e, &report);
        assert_eq!(s.placements().len(), 4);
    }

    /// Greedy per pod scatters small jobs and blocks a large one
    /// (volcano #4368): best fit over domains packs the small gangs into one
    /// rack and leaves the other rack whole.
    #[test]
    fn domain_packing_keeps_a_rack_whole() {
        let nodes = (0..4)
            .map(|i| {
                node(
                    &format!("n{i}"),
                    64000,
                    4,
                    &[(RACK, if i < 2 { "r0" } else { "r1" })],
                )
            })
            .collect();
        let e = engine(nodes);
        let small = |id: &str| gang(id, vec![RoleSpec::new("w", 2, req(1000, 2))]).required(RACK);
        let big = gang("big", vec![RoleSpec::new("w", 2, req(1000, 4))]).required(RACK);
        let report = placer()
            .queue(&e, &[small("s1"), small("s2"), big])
            .unwrap();
        assert_eq!(report.admitted().count(), 3, "{report:?}");
    }
}

mod behaviour {
    use super::*;

    #[test]
    fn elastic_role_places_as_many_as_fit() {
        let e = engine(vec![node("a", 64000, 3, &[])]);
        let g = gang("el", vec![RoleSpec::new("w", 5, req(1000, 1)).with_min(2)]);
        let r = placer().place(&e, &g).unwrap();
        assert_eq!(admitted(&r).members.len(), 3);
        let g = gang("el2", vec![RoleSpec::new("w", 5, req(1000, 1)).with_min(4)]);
        let r = placer().place(&e, &g).unwrap();
        assert!(matches!(r.outcome, GangOutcome::Infeasible { .. }), "{r:?}");
    }

    #[test]
    fn slices_hold_per_domain() {
        let nodes = (0..6)
            .map(|i| {
                node(
                    &format!("n{i}"),
                    64000,
                    2,
                    &[(RACK, &format!("r{}", i / 2))],
                )
            })
            .collect();
        let e = engine(nodes);
        let g = gang(
            "sl",
            vec![RoleSpec::new("w", 6, req(1000, 2)).sliced(RACK, 2)],
        );
        let r = placer().place(&e, &g).unwrap();
        let a = admitted(&r);
        let mut per: BTreeMap<String, u32> = BTreeMap::new();
        for m in &a.members {
            let rack = e.state().node(m.node_index).labels[RACK].clone();
            *per.entry(rack).or_default() += 1;
        }
        assert!(per.values().all(|&c| c % 2 == 0), "{per:?}");
    }

    #[test]
    fn preferred_level_climbs_until_it_fits() {
        let mk = |i: usize| {
            let zone = "z0";
            let block = if i < 4 { "b0" } else { "b1" };
            let rack = format!("r{}", i / 2);
            node(
                &format!("n{i}"),
                64000,
                8,
                &[(ZONE, zone), (BLOCK, block), (RACK, &rack)],
            )
        };
        let e = engine((0..8).map(mk).collect());
        let cfg = GangConfig::builder()
            .levels([HOSTNAME, RACK, BLOCK, ZONE])
            .build()
            .unwrap();
        let p = GangPlacer::new(cfg);
        // 24 GPUs: no rack (16) holds it, a block (32) does.
        let g = gang("pref", vec![RoleSpec::new("w", 3, req(1000, 8))])
            .preferred(RACK)
            .required(ZONE);
        let r = p.place(&e, &g).unwrap();
        let a = admitted(&r);
        assert_eq!(a.domain.as_ref().unwrap().level, BLOCK);
        let blocks: BTreeSet<&str> = a
            .members
            .iter()
            .map(|m| e.state().node(m.node_index).labels[BLOCK].as_str())
            .collect();
        assert_eq!(blocks.len(), 1);
    }

    #[test]
    fn heterogeneous_gang_with_fractions_and_cpu_members() {
        let e = engine(vec![node("a", 16000, 2, &[]), node("b", 16000, 0, &[])]);
        let frac = PodRequest::new(
            Resources::cpu_mem(1000, 1 << 30),
            AcceleratorDemand::Fraction {
                milli: GpuMilli::new(500),
                memory: None,
            },
        );
        let g = gang(
            "mix",
            vec![
                RoleSpec::new("front", 2, req(4000, 0)),
                RoleSpec::new("frac", 4, frac),
            ],
        );
        let r = placer().place(&e, &g).unwrap();
        let a = admitted(&r);
        assert_eq!(a.members.len(), 6);
        assert!(nodes_of(a, "frac").iter().all(|n| *n == "a"));
    }

    #[test]
    fn budget_exhausted_is_not_a_rejection() {
        // 12 pods that cannot fit (11 slots): the search runs out first.
        let nodes = (0..11)
            .map(|i| node(&format!("n{i}"), 3000, 0, &[]))
            .collect();
        let e = engine(nodes);
        let cfg = GangConfig::builder().max_steps(5).build().unwrap();
        let g = gang(
            "big",
            vec![
                RoleSpec::new("a", 6, req(2000, 0)),
                RoleSpec::new("b", 6, req(1500, 0)),
            ],
        );
        let r = GangPlacer::new(cfg).place(&e, &g).unwrap();
        match &r.outcome {
            GangOutcome::Waiting { proven, reason } => {
                assert!(!proven);
                assert!(reason.message.contains("not proven"), "{reason:?}");
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(r.stop, StopReason::Budget);
    }

    #[test]
    fn waiting_versus_infeasible() {
        let mut state = ClusterState::new(
            vec![node("a", 64000, 4, &[])],
            vec![fractional_gpu(GPU, 16)],
        )
        .unwrap();
        state
            .allocate(
                PodId::new("busy").unwrap(),
                &req(1000, 2),
                NodeIndex(0),
                &DeviceAssignment::Whole {
                    devices: vec![DeviceIndex(0), DeviceIndex(1)],
                },
            )
            .unwrap();
        let e = Engine::new(state, EngineConfig::default()).unwrap();
        let later = gang("later", vec![RoleSpec::new("w", 1, req(1000, 4))]);
        let never = gang("never", vec![RoleSpec::new("w", 5, req(1000, 1))]);
        let report = placer().queue(&e, &[later, never]).unwrap();
        assert!(matches!(
            report.results[0].outcome,
            GangOutcome::Waiting { proven: true, .. }
        ));
        assert!(matches!(
            report.results[1].outcome,
            GangOutcome::Infeasible { .. }
        ));
    }

    #[test]
    fn queue_orders_by_priority_then_input() {
        let e = engine(vec![node("a", 64000, 4, &[])]);
        let lo = gang("lo", vec![RoleSpec::new("w", 4, req(1000, 1))]);
        let hi = gang("hi", vec![RoleSpec::new("w", 4, req(1000, 1))]).with_priority(5);
        let report = placer().queue(&e, &[lo, hi]).unwrap();
        assert_eq!(report.results[0].gang.as_str(), "hi");
        assert!(report.results[0].admitted().is_some());
        assert!(report.results[1].admitted().is_none());
    }

    #[test]
    fn commit_is_atomic_and_checks_the_generation() {
        let mut e = engine(vec![node("a", 64000, 4, &[]), node("b", 64000, 4, &[])]);
        let g = gang("g", vec![RoleSpec::new("w", 3, req(1000, 2))]);
        let report = placer().queue(&e, std::slice::from_ref(&g)).unwrap();
        let before = e.state().clone();
        assert_eq!(GangPlacer::commit(&report, &mut e).unwrap(), 3);
        assert_eq!(e.state().placements().len(), 3);
        // The same report again is stale.
        let err = GangPlacer::commit(&report, &mut e).unwrap_err();
        assert!(matches!(err, GangError::Stale { .. }));
        for m in &report.results[0].admitted().unwrap().members {
            e.forget(&m.pod).unwrap();
        }
        assert_eq!(e.state(), &before);
    }
}

mod bad_input {
    use super::*;

    fn err(g: GangSpec) -> GangError {
        let e = engine(vec![node("a", 64000, 4, &[(RACK, "r")])]);
        placer().place(&e, &g).unwrap_err()
    }

    #[test]
    fn min_above_count() {
        let g = gang("g", vec![RoleSpec::new("w", 2, req(1000, 1)).with_min(3)]);
        assert!(matches!(
            err(g),
            GangError::MinAboveCount {
                min: 3,
                count: 2,
                ..
            }
        ));
    }

    #[test]
    fn unknown_level() {
        let g = gang("g", vec![RoleSpec::new("w", 2, req(1000, 1))]).required("example.com/pod");
        let e = err(g);
        assert!(matches!(e, GangError::UnknownLevel { .. }), "{e}");
        assert!(e.to_string().contains("example.com/pod"));
    }

    #[test]
    fn slice_not_dividing() {
        let g = gang(
            "g",
            vec![RoleSpec::new("w", 5, req(1000, 1)).sliced(RACK, 2)],
        );
        assert!(matches!(
            err(g),
            GangError::SliceNotDividing { size: 2, .. }
        ));
        let g = gang(
            "g",
            vec![RoleSpec::new("w", 4, req(1000, 1))
                .with_min(3)
                .sliced(RACK, 2)],
        );
        assert!(matches!(
            err(g),
            GangError::SliceNotDividing { what: "min", .. }
        ));
        let g = gang(
            "g",
            vec![RoleSpec::new("w", 4, req(1000, 1)).sliced(RACK, 0)],
        );
        assert!(matches!(
            err(g),
            GangError::SliceNotDividing { size: 0, .. }
        ));
    }

    #[test]
    fn contradictory_constraints() {
        let g = gang("g", vec![RoleSpec::new("w", 2, req(1000, 1))])
            .required(RACK)
            .preferred(ZONE);
        assert!(matches!(
            err(g),
            GangError::Contradictory { role: None, .. }
        ));
        let g = gang(
            "g",
            vec![RoleSpec::new("w", 2, req(1000, 1))
                .required(RACK)
                .sliced(ZONE, 1)],
        );
        assert!(matches!(
            err(g),
            GangError::Contradictory { role: Some(_), .. }
        ));
    }

    #[test]
    fn empty_duplicate_and_invalid() {
        assert!(matches!(err(gang("g", vec![])), GangError::NoRoles { .. }));
        assert!(matches!(
            err(gang("g", vec![RoleSpec::new("w", 0, req(1, 0))])),
            GangError::EmptyRole { .. }
        ));
        assert!(matches!(
            err(gang(
                "g",
                vec![
                    RoleSpec::new("w", 1, req(1, 0)),
                    RoleSpec::new("w", 1, req(1, 0))
                ]
            )),
            GangError::DuplicateRole { .. }
        ));
        let bad = PodRequest::new(
            Resources::cpu_mem(1, 1),
            AcceleratorDemand::Fraction {
                milli: GpuMilli::new(1500),
                memory: None,
            },
        );
        assert!(matches!(
            err(gang("g", vec![RoleSpec::new("w", 1, bad)])),
            GangError::InvalidRequest { .. }
        ));
        let e = engine(vec![node("a", 64000, 4, &[])]);
        let g = gang("g", vec![RoleSpec::new("w", 1, req(1, 0))]);
        assert!(matches!(
            placer().queue(&e, &[g.clone(), g]).unwrap_err(),
            GangError::DuplicateGang { .. }
        ));
    }

    #[test]
    fn bad_device_domains_and_levels() {
        let e = engine(vec![node("a", 64000, 4, &[(DEVICE_DOMAINS_LABEL, "3.3")])]);
        let g = gang("g", vec![RoleSpec::new("w", 1, req(1, 0))]);
        assert!(matches!(
            placer().place(&e, &g).unwrap_err(),
            GangError::DeviceDomains { .. }
        ));
        assert!(matches!(
            GangConfig::builder().levels([RACK, RACK]).build(),
            Err(GangError::Levels { .. })
        ));
        assert!(matches!(
            GangConfig::builder().levels(Vec::<String>::new()).build(),
            Err(GangError::Levels { .. })
        ));
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    struct Inst {
        /// (cpu in cores, gpus, device domains split, rack)
        nodes: Vec<(u64, usize, Option<usize>, u8)>,
        /// (count, min, cpu cores, gpus, one domain)
        roles: Vec<(u32, u32, u64, u16, bool)>,
        rack: bool,
    }

    fn inst() -> impl Strategy<Value = Inst> {
        let n = (1u64..=6, 0usize..=4, prop::option::of(1usize..=3), 0u8..2);
        let r = (1u32..=3, 0u32..=3, 0u64..=3, 0u16..=3, any::<bool>())
            .prop_map(|(c, m, cpu, g, dd)| (c, m.min(c), cpu, g, dd));
        (
            prop::collection::vec(n, 1..=3),
            prop::collection::vec(r, 1..=2),
            any::<bool>(),
        )
            .prop_map(|(nodes, roles, rack)| Inst { nodes, roles, rack })
    }

    fn build(i: &Inst) -> (Engine, GangSpec) {
        let nodes = i
            .nodes
            .iter()
            .enumerate()
            .map(|(k, &(cpu, g, split, rack))| {
                let mut n = node(
                    &format!("n{k}"),
                    cpu * 1000,
                    g,
                    &[(RACK, &format!("r{rack}"))],
                );
                if let Some(s) = split {
                    if s < g {
                        n.labels
                            .insert(DEVICE_DOMAINS_LABEL.into(), format!("{s}.{}", g - s));
                    }
                }
                n
            })
            .collect();
        let roles = i
            .roles
            .iter()
            .enumerate()
            .map(|(k, &(c, _, cpu, g, dd))| {
                // Exact-count roles: the oracle places every member.
                let mut r = RoleSpec::new(format!("r{k}"), c, req(cpu * 1000, g));
                if dd && g > 0 {
                    r = r.in_one_device_domain();
                }
                r
            })
            .collect();
        let mut g = gang("p", roles);
        if i.rack {
            g = g.required(RACK);
        }
        (engine(nodes), g)
    }

    /// Brute force: every node for every member, every interconnect domain
    /// for members bound to one.
    /// Members bound to one interconnect domain go first: once they are
    /// fixed, which idle devices a whole-device member takes is immaterial,
    /// so first fit for the others loses nothing.
    fn oracle(e: &Engine, i: &Inst) -> bool {
        let mut pods: Vec<(u64, u16, bool)> = i
            .roles
            .iter()
            .flat_map(|&(c, _, cpu, g, dd)| (0..c).map(move |_| (cpu * 1000, g, dd && g > 0)))
            .collect();
        pods.sort_by_key(|p| !p.2);
        let topo = rightsizer_gang::topology::TopologyIndex::new(
            e.state(),
            &rightsizer_gang::topology::default_levels(),
            DEVICE_DOMAINS_LABEL,
        )
        .unwrap();
        fn go(
            s: &mut ClusterState,
            topo: &rightsizer_gang::topology::TopologyIndex,
            pods: &[(u64, u16, bool)],
            k: usize,
            racks: &mut Vec<String>,
            need_rack: bool,
        ) -> bool {
            if k == pods.len() {
                return !need_rack || racks.iter().collect::<BTreeSet<_>>().len() <= 1;
            }
            let (cpu, g, dd) = pods[k];
            let r = req(cpu, g);
            for n in 0..s.len() {
                let ni = NodeIndex(n as u32);
                let mut opts = Vec::new();
                if dd {
                    for grp in topo.device_domains(ni) {
                        let idle: Vec<DeviceIndex> = grp
                            .iter()
                            .copied()
                            .filter(|d| {
                                s.node_free(ni).devices[usize::from(d.0)].mode
                                    == rightsizer_model::cluster::DeviceMode::Idle
                            })
                            .take(usize::from(g))
                            .collect();
                        if idle.len() == usize::from(g) {
                            opts.push(DeviceAssignment::Whole { devices: idle });
                        }
                    }
                } else if let Some(d) = s.first_fit_devices(&r, ni) {
                    opts.push(d);
                }
                for d in opts {
                    let pod = PodId::new(format!("o{k}")).unwrap();
                    if s.allocate(pod.clone(), &r, ni, &d).is_ok() {
                        racks.push(s.node(ni).labels[RACK].clone());
                        let ok = go(s, topo, pods, k + 1, racks, need_rack);
                        racks.pop();
                        s.release(&pod).unwrap();
                        if ok {
                            return true;
                        }
                    }
                }
            }
            false
        }
        let mut s = e.state().clone();
        go(&mut s, &topo, &pods, 0, &mut Vec::new(), i.rack)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Never partial, no false rejection, constraints hold, deterministic.
        #[test]
        fn gang_matches_the_oracle(i in inst()) {
            let (e, g) = build(&i);
            let p = placer();
            let r = p.place(&e, &g).unwrap();
            prop_assert_eq!(&r, &p.place(&e, &g).unwrap());
            let feasible = oracle(&e, &i);
            match &r.outcome {
                GangOutcome::Admitted(a) => {
                    prop_assert!(feasible, "placed but the oracle finds nothing: {:?}", a);
                    let want: u32 = g.roles.iter().map(|r| r.count).sum();
                    prop_assert_eq!(a.members.len() as u32, want);
                    let mut s = e.state().clone();
                    for m in &a.members {
                        prop_assert!(s.allocate(m.pod.clone(), &m.request, m.node_index, &m.devices).is_ok());
                    }
                    if i.rack {
                        let racks: BTreeSet<_> = a.members.iter().map(|m| &e.state().node(m.node_index).labels[RACK]).collect();
                        prop_assert_eq!(racks.len(), 1);
                    }
                    let topo = rightsizer_gang::topology::TopologyIndex::new(
                        e.state(), &rightsizer_gang::topology::default_levels(), DEVICE_DOMAINS_LABEL).unwrap();
                    for (m, spec) in a.members.iter().map(|m| (m, g.roles.iter().find(|r| r.name == m.role).unwrap())) {
                        if spec.one_device_domain {
                            let DeviceAssignment::Whole { devices } = &m.devices else { panic!() };
                            let doms = topo.device_domains(m.node_index);
                            prop_assert!(doms.iter().any(|d| devices.iter().all(|x| d.contains(x))));
                        }
                    }
                }
                other => {
                    prop_assert!(!feasible, "oracle places it, the placer says {:?}", other);
                    prop_assert_eq!(r.stop, StopReason::Exhausted);
                }
            }
        }

        /// Two gangs in one pass never share a device or overcommit a node,
        /// and a gang is placed whole or not at all.
        #[test]
        fn queue_never_double_books(a in inst(), b in inst()) {
            let (e, ga) = build(&a);
            let (_, mut gb) = build(&Inst { nodes: a.nodes.clone(), ..b });
            gb.id = GangId::new("q").unwrap();
            let report = placer().queue(&e, &[ga.clone(), gb.clone()]).unwrap();
            prop_assert_eq!(&report, &placer().queue(&e, &[ga.clone(), gb.clone()]).unwrap());
            let _ = apply_all(&e, &report);
            for (r, adm) in report.admitted() {
                let g = if r.gang == ga.id { &ga } else { &gb };
                let want: u32 = g.roles.iter().map(|r| r.count).sum();
                prop_assert_eq!(adm.members.len() as u32, want);
            }
        }
    }
}
