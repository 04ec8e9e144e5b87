//! Node-mix planner: a serving fleet (40 L4, 24 A10G and 6 two-GPU H100
//! replicas with their co-located pods, plus 60 CPU pods) packed onto the
//! built-in AWS instance types (on-demand only, deterministic iteration
//! budget). Baseline in the same process: greedy cheapest-per-replica sizing
//! (each group alone on the instance type with the lowest price per replica
//! it can hold, no sharing between groups). The bench prints both costs
//! once so the quality ratio sits next to the time ratio.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rightsizer::catalog::Catalog;
use rightsizer::model::ids::AcceleratorModelId;
use rightsizer::model::node::Provider;
use rightsizer::model::units::{Bytes, MilliCpu};
use rightsizer::plan::nodemix::{
    InstanceCandidate, NodeMixConfig, NodeMixProblem, ReplicaGroup, ReplicaShape,
};

fn problem() -> NodeMixProblem {
    let cat = Catalog::builtin();
    let cands: Vec<InstanceCandidate> = cat
        .node_types()
        .filter(|t| t.provider == Provider::Aws)
        .map(|t| InstanceCandidate::new(t.clone()))
        .collect();
    let acc = |m: &str, n: u16, cores: u64, gib: u64| {
        ReplicaShape::accelerated(
            AcceleratorModelId::new(m).unwrap(),
            n,
            MilliCpu::from_cores(cores),
            Bytes::from_gib(gib),
        )
    };
    let groups = vec![
        ReplicaGroup::new("l4-chat", 40, acc("L4", 1, 3, 12)),
        ReplicaGroup::new("a10g-embed", 24, acc("A10G", 1, 6, 20)),
        ReplicaGroup::new("h100-70b", 6, acc("H100-SXM", 2, 20, 200)),
        ReplicaGroup::new(
            "gateway",
            60,
            ReplicaShape::cpu_only(MilliCpu::new(1500), Bytes::from_gib(3)),
        ),
    ];
    NodeMixProblem::new(cands, groups)
        .unwrap()
        .with_catalog_power(&cat)
}

/// Greedy baseline: per group, the candidate with the lowest on-demand price
/// per replica it holds; ⌈count / per node⌉ nodes. Returns micro-dollars/h.
fn greedy(p: &NodeMixProblem) -> u64 {
    let mut total = 0u64;
    for g in p.groups() {
        let s = &g.shape;
        let best = p
            .candidates()
            .iter()
            .filter_map(|c| {
                let t = &c.node_type;
                let mut per = u64::MAX;
                if let Some(a) = &s.accelerator {
                    let have: u64 = t
                        .devices
                        .iter()
                        .filter(|d| d.model == *a)
                        .map(|d| u64::from(d.count))
                        .sum();
                    per = per.min(have / u64::from(s.devices));
                }
                if !s.cpu.is_zero() {
                    per = per.min(t.cpu.get() / s.cpu.get());
                }
                if !s.memory.is_zero() {
                    per = per.min(t.memory.get() / s.memory.get());
                }
                (per > 0 && per < u64::MAX).then(|| {
                    let nodes = u64::from(g.count).div_ceil(per);
                    nodes * t.price.micros()
                })
            })
            .min()
            .expect("some type fits");
        total += best;
    }
    total
}

fn bench(c: &mut Criterion) {
    let p = problem();
    let cfg = NodeMixConfig::default();
    let mix = p.solve(&cfg).unwrap();
    assert!(mix.unplaced.is_empty());
    let base = greedy(&p);
    eprintln!(
        "plan_nodemix: packer {} (bound {}, gap {:.2}%, {:?}) vs greedy {} per hour: {:.3}x",
        mix.cost_per_hour,
        mix.lower_bound,
        100.0 * mix.gap,
        mix.termination,
        rightsizer::model::units::PricePerHour::from_micros(base),
        base as f64 / mix.cost_per_hour.micros() as f64
    );
    let mut g = c.benchmark_group("plan_nodemix_aws_130_replicas");
    g.sample_size(10);
    g.bench_function("packer", |b| b.iter(|| black_box(p.solve(&cfg).unwrap())));
    g.bench_function("greedy_baseline", |b| b.iter(|| black_box(greedy(&p))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
