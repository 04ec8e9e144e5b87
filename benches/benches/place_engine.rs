//! One placement decision of the general engine on the 1,213-node openb
//! cluster, part filled (3,000 pods placed): FGD and BestFit plugins against
//! a filter-only baseline (no score plugin) in the same group.
//!
//! Needs the shared data (`RIGHTSIZER_DATA`, default `../shared/data`).
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rightsizer::model::ids::PodId;
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

criterion_group!(benches, decide);
criterion_main!(benches);
