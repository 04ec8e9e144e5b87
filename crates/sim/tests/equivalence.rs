//! The simulator's fast path makes the same decisions as the placement
//! engine, and results do not depend on the thread count.

use proptest::prelude::*;
use rightsizer_model::cluster::DeviceAssignment;
use rightsizer_model::ids::PodId;
use rightsizer_place::engine::{Engine, EngineConfig, PodSpec, SharePlugin};
use rightsizer_place::share::{GpuPick, SharePolicy};
use rightsizer_sim::bridge::{cluster_state, engine_target, pod_request};
use rightsizer_sim::openb::{OpenbNode, OpenbPod};
use rightsizer_sim::run::{arrival_order, run_many_on, run_seed, RunConfig};
use rightsizer_sim::workload::Experiment;

fn to_pick(d: &DeviceAssignment) -> GpuPick {
    match d {
        DeviceAssignment::Shared { device } => GpuPick::Share(device.0),
        DeviceAssignment::Whole { devices } => {
            GpuPick::Whole(devices.iter().fold(0, |m, d| m | 1u64 << d.0))
        }
        _ => GpuPick::None,
    }
}

/// Replays `limit` arrivals of one seed on the engine and compares every
/// decision with the simulator's.
pub fn check_equivalence(exp: &Experiment, policy: SharePolicy, seed: u64, limit: usize) {
    let cfg = RunConfig {
        inflation: 1.3,
        record_decisions: true,
    };
    let sim = run_seed(exp, policy, seed, &cfg).unwrap();
    let (order, mut rng) = arrival_order(exp, seed, cfg.inflation);
    let priority = rng.permutation(exp.nodes.len());
    let random_seed = rng.next_u64();
    let state = cluster_state(exp).unwrap();
    // A first engine only to learn the model indices for the target workload.
    let probe = Engine::new(state.clone(), EngineConfig::default()).unwrap();
    let target = engine_target(exp, &probe).unwrap();
    let config = EngineConfig::default()
        .with_plugin(
            Box::new(SharePlugin::new(policy, Some(target), random_seed)),
            1,
        )
        .with_priority(priority)
        .with_explain_top(1);
    let mut engine = Engine::new(state, config).unwrap();
    for (k, &pi) in order.iter().enumerate().take(limit) {
        let req = pod_request(exp, pi as usize).unwrap();
        let d = engine
            .place(
                PodId::new(format!("a{k}")).unwrap(),
                &PodSpec::new(&req).with_identity(k as u64),
            )
            .unwrap();
        let got = d.placed().map(|p| (p.node.0, to_pick(&p.devices)));
        assert_eq!(sim.decisions[k].pod, pi);
        assert_eq!(
            got, sim.decisions[k].placed,
            "{policy}, seed {seed}, arrival {k}"
        );
    }
}

fn experiment(nodes: &[(u64, u64, u32, bool)], pods: &[(u64, u64, u8, u32, u8)]) -> Experiment {
    let nodes: Vec<OpenbNode> = nodes
        .iter()
        .enumerate()
        .map(|(i, &(cpu, mem, gpus, alt))| OpenbNode {
            name: format!("node-{i:03}"),
            cpu_milli: cpu,
            memory_mib: mem,
            gpus,
            model: (gpus > 0).then(|| {
                if alt {
                    "B".to_string()
                } else {
                    "A".to_string()
                }
            }),
        })
        .collect();
    // A `gpu_spec` may only name models some node has.
    let has = |m: &str| nodes.iter().any(|n| n.model.as_deref() == Some(m));
    let pods: Vec<OpenbPod> = pods
        .iter()
        .enumerate()
        .map(|(i, &(cpu, mem, kind, milli, spec))| {
            let (num_gpu, gpu_milli) = match kind {
                0 => (0, 0),
                1 => (1, milli),
                k => (1u32 << (k - 2), 1000),
            };
            OpenbPod {
                name: format!("pod-{i:04}"),
                cpu_milli: cpu,
                memory_mib: mem,
                num_gpu,
                gpu_milli,
                gpu_spec: ["", "A", "B", "A|B"][usize::from(spec)]
                    .split('|')
                    .filter(|m| has(m))
                    .collect::<Vec<_>>()
                    .join("|"),
            }
        })
        .collect();
    Experiment::new(&nodes, &pods, 95.0).unwrap()
}

fn node_strategy() -> impl Strategy<Value = Vec<(u64, u64, u32, bool)>> {
    prop::collection::vec(
        (
            prop::sample::select(vec![8000u64, 16000, 32000, 96000]),
            prop::sample::select(vec![16384u64, 65536, 393216]),
            prop::sample::select(vec![0u32, 1, 2, 4, 8]),
            any::<bool>(),
        ),
        2..10,
    )
    .prop_filter("needs a GPU", |n| n.iter().any(|x| x.2 > 0))
}

fn pod_strategy() -> impl Strategy<Value = Vec<(u64, u64, u8, u32, u8)>> {
    prop::collection::vec(
        (
            prop::sample::select(vec![1000u64, 2000, 4000, 8000, 12000]),
            0u64..32768,
            0u8..5,
            prop::sample::select(vec![100u32, 250, 460, 500, 700, 900]),
            0u8..4,
        ),
        5..60,
    )
    .prop_filter("needs GPU demand", |p| p.iter().any(|x| x.2 > 0))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn simulator_matches_engine(nodes in node_strategy(), pods in pod_strategy(), policy in 0..SharePolicy::ALL.len(), seed in 0u64..1000) {
        let exp = experiment(&nodes, &pods);
        check_equivalence(&exp, SharePolicy::ALL[policy], seed, usize::MAX);
    }

    #[test]
    fn same_results_on_one_and_two_threads(nodes in node_strategy(), pods in pod_strategy(), seed in 0u64..1000) {
        let exp = experiment(&nodes, &pods);
        let seeds = [seed, seed + 1, seed + 2];
        let cfg = RunConfig { inflation: 1.3, record_decisions: true };
        let one = run_many_on(Some(1), &exp, &SharePolicy::ALL, &seeds, &cfg, &|_| {}).unwrap();
        let two = run_many_on(Some(2), &exp, &SharePolicy::ALL, &seeds, &cfg, &|_| {}).unwrap();
        prop_assert_eq!(one.len(), two.len());
        for (a, b) in one.iter().zip(&two) {
            prop_assert_eq!((a.policy, a.seed, a.digest), (b.policy, b.seed, b.digest));
            prop_assert_eq!(&a.decisions, &b.decisions);
            prop_assert_eq!(&a.buckets, &b.buckets);
        }
    }
}

/// The engine and the simulator agree on a sample of the real trace.
#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn simulator_matches_engine_on_openb_sample() {
    let dir = std::env::var_os("RIGHTSIZER_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
        })
        .join("openb");
    assert!(
        dir.is_dir(),
        "openb trace not found at {}: set RIGHTSIZER_DATA",
        dir.display()
    );
    let exp = rightsizer_sim::load_experiment(
        &dir.join("openb_node_list_gpu_node.csv"),
        &dir.join("openb_pod_list_gpuspec33.csv"),
    )
    .unwrap();
    for policy in [SharePolicy::Fgd, SharePolicy::BestFit, SharePolicy::Random] {
        check_equivalence(&exp, policy, 42, 1500);
    }
}

/// Regression (issue 15): a pod list without GPU demand, or an inflation
/// that is infinite, negative or NaN, used to loop forever or silently mean
/// "no tuning"; every one is now a typed error before any run starts.
#[test]
fn invalid_inflation_and_no_gpu_demand_are_errors() {
    use rightsizer_sim::run::{run_many, RunError, MAX_INFLATION};
    let exp = experiment(&[(8000, 16384, 2, false)], &[(1000, 1, 1, 500, 0)]);
    for bad in [
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -1.0,
        MAX_INFLATION * 2.0,
    ] {
        let cfg = RunConfig {
            inflation: bad,
            record_decisions: false,
        };
        let e = run_seed(&exp, SharePolicy::Fgd, 1, &cfg).unwrap_err();
        assert!(matches!(e, RunError::InvalidInflation { .. }), "{bad}: {e}");
        let e = run_many(&exp, &SharePolicy::ALL, &[1], &cfg, &|_| {}).unwrap_err();
        assert!(matches!(e, RunError::InvalidInflation { .. }), "{bad}: {e}");
    }
    let cpu_only = experiment(
        &[(8000, 16384, 2, false)],
        &[(1000, 1, 0, 0, 0), (2000, 1, 0, 0, 0)],
    );
    let cfg = RunConfig::default();
    let e = run_seed(&cpu_only, SharePolicy::BestFit, 1, &cfg).unwrap_err();
    assert!(matches!(e, RunError::NoGpuDemand { .. }), "{e}");
    // Inflation 0 keeps the trace as it is and ends.
    let cfg = RunConfig {
        inflation: 0.0,
        record_decisions: false,
    };
    let r = run_seed(&cpu_only, SharePolicy::BestFit, 1, &cfg).unwrap();
    assert_eq!(r.submitted, 2);
    // A tiny demand against a huge capacity needs too many clones.
    let huge = experiment(&[(8000, 16384, 8, false); 16], &[(1000, 1, 1, 1, 0)]);
    let cfg = RunConfig {
        inflation: MAX_INFLATION,
        record_decisions: false,
    };
    let e = run_seed(&huge, SharePolicy::BestFit, 1, &cfg).unwrap_err();
    assert!(matches!(e, RunError::TooManyArrivals { .. }), "{e}");
}
