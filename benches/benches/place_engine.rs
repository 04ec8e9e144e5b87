//! The placement engine's hot paths.
//!
//! - `place_decide_1213_nodes`: one decision on the openb cluster, part
//!   filled (3,000 pods placed): FGD and BestFit plugins against a
//!   filter-only baseline (no score plugin) in the same group. Needs the
//!   shared data (`RIGHTSIZER_DATA`, default `../shared/data`).
//! - `place_decide_10k_heterogeneous`: one decision on 10,000 synthetic
//!   nodes (fractional T4 and A10 GPUs, MIG A100s, CPU-only), part filled:
//!   BestFit + MostAllocated and the filter-only configuration, each against
//!   `previous_full_explanation`: the engine's previous decision path on the
//!   same engine and nodes (every Filter plugin on every node, building a
//!   full `Rejection` per rejected node and the summary from them, then
//!   `score_nodes` on the feasible ones and the same selection rule), which
//!   must pick the same node. Prints the p50/p99 of 2,000 single decisions
//!   of each path side by side, their ratio, and the memory the engine
//!   holds per node.
//! - `place_node_event`: one `update_node` (a label flip) and one
//!   `observe_bound` + `release` pair on the 10,000-node engine.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rightsizer::model::ids::{NodeIndex, PodId};
use rightsizer::place::engine::{Engine, EngineConfig, PodSpec, SharePlugin};
use rightsizer::place::share::{PodKind, SharePolicy};
use rightsizer::sim::bridge::{cluster_state, engine_target, pod_request};
use rightsizer::sim::run::arrival_order;
use std::path::PathBuf;

fn engines() -> (
    Vec<(&'static str, Engine)>,
    rightsizer::model::workload::PodRequest,
) {
    let dir = std::env::var_os("RIGHTSIZER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
        .join("openb");
    let exp = rightsizer::sim::load_experiment(
        &dir.join("openb_node_list_gpu_node.csv"),
        &dir.join("openb_pod_list_default.csv"),
    )
    .unwrap_or_else(|e| {
        panic!(
            "openb trace under {}: {e}; set RIGHTSIZER_DATA",
            dir.display()
        )
    });
    let (order, _) = arrival_order(&exp, 42, 1.3);
    // Fill with BestFit, then hand the same state to each engine.
    let state = cluster_state(&exp).unwrap();
    let probe = Engine::new(state.clone(), EngineConfig::default()).unwrap();
    let target = engine_target(&exp, &probe).unwrap();
    let mut filler = Engine::new(state, EngineConfig::share(SharePolicy::BestFit)).unwrap();
    for (k, &pi) in order.iter().take(3000).enumerate() {
        let r = pod_request(&exp, pi as usize).unwrap();
        filler
            .place(PodId::new(format!("f{k}")).unwrap(), &PodSpec::new(&r))
            .unwrap();
    }
    let filled = filler.into_state();
    let share_pod = order
        .iter()
        .map(|&pi| pi as usize)
        .find(|&pi| matches!(exp.pods[pi].kind(), PodKind::Share { .. }))
        .unwrap();
    let req = pod_request(&exp, share_pod).unwrap();
    let mk = |p: Option<SharePolicy>| {
        let mut cfg = EngineConfig::default();
        if let Some(p) = p {
            cfg = cfg.with_plugin(Box::new(SharePlugin::new(p, Some(target.clone()), 1)), 1);
        }
        Engine::new(filled.clone(), cfg).unwrap()
    };
    (
        vec![
            ("fgd", mk(Some(SharePolicy::Fgd))),
            ("bestfit", mk(Some(SharePolicy::BestFit))),
            ("baseline_filter_only", mk(None)),
        ],
        req,
    )
}

fn decide(c: &mut Criterion) {
    let (engines, req) = engines();
    let mut g = c.benchmark_group("place_decide_1213_nodes");
    for (name, e) in engines {
        g.bench_function(name, |b| {
            b.iter(|| black_box(e.decide(&PodSpec::new(&req))))
        });
    }
    g.finish();
}

/// 10,000 nodes: 30% with four fractional T4s, 20% with eight fractional
/// A10s, 20% with eight MIG A100s, 30% CPU-only; then 15,000 pods placed.
fn heterogeneous(cfg: EngineConfig) -> Engine {
    use rightsizer::model::cluster::tests_support::{fractional_gpu, mig_gpu};
    use rightsizer::model::prelude::*;
    let t4 = AcceleratorModelId::new("T4").unwrap();
    let a10 = AcceleratorModelId::new("A10").unwrap();
    let a100 = AcceleratorModelId::new("A100").unwrap();
    let nodes = (0..10_000)
        .map(|i| {
            let n = Node::new(
                NodeId::new(format!("node-{i:05}")).unwrap(),
                Resources::cpu_mem(64_000, 256 << 30),
            );
            match i % 10 {
                0..=2 => n.with_devices(&t4, 4),
                3 | 4 => n.with_devices(&a10, 8),
                5 | 6 => n.with_devices(&a100, 8),
                _ => n,
            }
        })
        .collect();
    let state = ClusterState::new(
        nodes,
        vec![
            fractional_gpu("T4", 16),
            fractional_gpu("A10", 24),
            mig_gpu("A100"),
        ],
    )
    .unwrap();
    let mut e = Engine::new(state, cfg).unwrap();
    let pods = fill_pods();
    for (k, r) in pods.iter().cycle().take(15_000).enumerate() {
        let id = PodId::new(format!("fill-{k}")).unwrap();
        // The first node with room, so filling is fast and spreads pods.
        let node = (0..e.state().len())
            .map(|i| NodeIndex((((k * 7919) + i) % e.state().len()) as u32))
            .find_map(|n| {
                e.state()
                    .first_fit_devices(r, n)
                    .filter(|_| r.resources.fits_in(&e.state().node_free(n).resources))
                    .map(|d| (n, d))
            });
        if let Some((n, d)) = node {
            let nid = e.state().node(n).id.clone();
            e.observe_bound(id, &PodSpec::new(r), &nid, &d).unwrap();
        }
    }
    e
}

fn fill_pods() -> Vec<rightsizer::model::workload::PodRequest> {
    use rightsizer::model::prelude::*;
    let r = |cpu, acc| PodRequest::new(Resources::cpu_mem(cpu, 8 << 30), acc);
    vec![
        r(4000, AcceleratorDemand::None),
        r(
            2000,
            AcceleratorDemand::Fraction {
                milli: GpuMilli::new(300),
                memory: None,
            },
        ),
        r(8000, AcceleratorDemand::Whole { count: 2 }),
        r(
            4000,
            AcceleratorDemand::Mig {
                profile: "3g.20gb".into(),
            },
        ),
        r(
            1000,
            AcceleratorDemand::Fraction {
                milli: GpuMilli::new(500),
                memory: None,
            },
        ),
    ]
}

fn scoring() -> EngineConfig {
    use rightsizer::place::engine::KubePlugin;
    use rightsizer::place::kube::{FitScorer, Strategy};
    EngineConfig::share(SharePolicy::BestFit).with_plugin(
        Box::new(KubePlugin::fit(Strategy::MostAllocated, FitScorer::default_resources()).unwrap()),
        1,
    )
}

/// Bytes the engine holds per node (cluster state and engine rows),
/// estimated from the sizes of its per-node records and their vectors.
fn bytes_per_node(e: &Engine) -> usize {
    use std::mem::size_of;
    let st = e.state();
    let mut total = 0;
    for (i, n) in st.nodes().iter().enumerate() {
        let free = st.node_free(NodeIndex(i as u32));
        total += size_of::<rightsizer::model::node::Node>()
            + n.id.as_str().len() * 2 // the name, also in the index
            + n.devices.len() * size_of::<rightsizer::model::node::Device>()
            + size_of::<rightsizer::model::cluster::NodeFree>()
            + free.devices.iter().map(|d| size_of_val(d) + d.mig_instances.len()).sum::<usize>()
            + 64 // index entry, pod-set header
            + 300 // engine row: filter and score fields, view, tag counts (boxed), version
            + free.devices.len() * 4;
    }
    total / st.len().max(1)
}

/// The previous decision path, through the public API: every Filter plugin
/// on every node with a full `Rejection` for each rejected one, the summary
/// by reason kind, then every score plugin on the feasible nodes and the
/// engine's selection rule (highest total, lowest priority, lowest index).
fn previous_full_explanation(e: &Engine, spec: &PodSpec<'_>) -> Option<NodeIndex> {
    use std::collections::BTreeMap;
    let mut feasible = Vec::new();
    let mut summary: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..e.state().len() {
        let n = NodeIndex(i as u32);
        match e.filter(spec, n) {
            Ok(()) => feasible.push(n),
            Err(r) => *summary.entry(r.reason.kind().to_string()).or_default() += 1,
        }
    }
    black_box(&summary);
    let scores = e.score_nodes(spec, &feasible).unwrap();
    let prio = e.priorities();
    scores
        .nodes
        .iter()
        .min_by(|a, b| {
            b.total
                .total_cmp(&a.total)
                .then(prio[a.node.get()].cmp(&prio[b.node.get()]))
                .then(a.node.cmp(&b.node))
        })
        .map(|c| c.node)
}

/// p50 and p99 of 2,000 single calls of `f`.
fn quantiles(mut f: impl FnMut()) -> (std::time::Duration, std::time::Duration) {
    let mut t: Vec<std::time::Duration> = (0..2000)
        .map(|_| {
            let s = std::time::Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    (t[t.len() / 2], t[t.len() * 99 / 100])
}

fn decide_10k(c: &mut Criterion) {
    let engines = [
        ("bestfit_mostallocated", heterogeneous(scoring())),
        ("filter_only", heterogeneous(EngineConfig::default())),
    ];
    let req = rightsizer::model::workload::PodRequest::new(
        rightsizer::model::resources::Resources::cpu_mem(2000, 4 << 30),
        rightsizer::model::workload::AcceleratorDemand::Fraction {
            milli: rightsizer::model::units::GpuMilli::new(250),
            memory: None,
        },
    );
    let mut g = c.benchmark_group("place_decide_10k_heterogeneous");
    g.sample_size(30);
    for (name, e) in &engines {
        let spec = PodSpec::new(&req);
        let chosen = e.decide(&spec).unwrap().placed().map(|p| p.node);
        assert_eq!(
            chosen,
            previous_full_explanation(e, &spec),
            "{name}: both paths pick the same node"
        );
        // p50 / p99 of single decisions, both paths in the same run
        // (printed, not asserted: the machine may be loaded).
        let (p50, p99) = quantiles(|| {
            black_box(e.decide(&spec).unwrap());
        });
        let (b50, b99) = quantiles(|| {
            black_box(previous_full_explanation(e, &spec));
        });
        eprintln!(
            "{name}: decide p50 {p50:?} p99 {p99:?}; previous_full_explanation p50 {b50:?} p99 {b99:?} \
             (p50 ratio {:.1}x, p99 ratio {:.1}x) over 10,000 nodes; ~{} bytes per node",
            b50.as_secs_f64() / p50.as_secs_f64(),
            b99.as_secs_f64() / p99.as_secs_f64(),
            bytes_per_node(e)
        );
        g.bench_function(format!("{name}/decide"), |b| {
            b.iter(|| black_box(e.decide(&spec).unwrap()))
        });
        g.bench_function(format!("{name}/previous_full_explanation"), |b| {
            b.iter(|| black_box(previous_full_explanation(e, &spec)))
        });
    }
    g.finish();
}

fn node_event(c: &mut Criterion) {
    let mut e = heterogeneous(scoring());
    let mut g = c.benchmark_group("place_node_event");
    let id = e.state().node(NodeIndex(4321)).id.clone();
    let mut node = e.state().node(NodeIndex(4321)).clone();
    let mut flip = false;
    g.bench_function("update_node_label", |b| {
        b.iter(|| {
            flip = !flip;
            node.labels
                .insert("pool".into(), if flip { "a" } else { "b" }.into());
            black_box(e.update_node(node.clone()).unwrap());
        })
    });
    let req = rightsizer::model::workload::PodRequest::new(
        rightsizer::model::resources::Resources::cpu_mem(100, 1 << 20),
        rightsizer::model::workload::AcceleratorDemand::None,
    );
    let pod = PodId::new("observed").unwrap();
    g.bench_function("observe_bound_then_release", |b| {
        b.iter(|| {
            e.observe_bound(
                pod.clone(),
                &PodSpec::new(&req),
                &id,
                &rightsizer::model::cluster::DeviceAssignment::None,
            )
            .unwrap();
            black_box(e.release(&pod).unwrap());
        })
    });
    g.finish();
}

criterion_group!(benches, decide, decide_10k, node_event);
criterion_main!(benches);
