//! Fleet planner on Mélange-sized instances: 4 GPU types (L4, A10G,
//! A100-80GB, H100 at catalog prices), a 10 × 10 grid of request-size buckets,
//! slice factor 8, 32 req/s (synthetic throughputs, see
//! `rightsizer::plan::synth`). `exact` solves to proven optimality (the bench
//! asserts it); `heuristic` is the same solver's incumbent heuristics with a
//! node budget of zero (LP-cheapest assignment + drop-one-device local
//! search, no proof), measured in the same group as the baseline.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rightsizer::plan::fleet::{Objective, SolveConfig};
use rightsizer::plan::synth::melange_sized;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("plan_fleet_melange_4x100x8");
    for seed in 1..=4u64 {
        let p = melange_sized(seed, 10, 10, 32.0, 8);
        let exact = SolveConfig::default();
        let plan = p.solve(Objective::Cost, &exact);
        let plan = plan.plan().expect("feasible");
        assert!(plan.is_optimal(), "seed {seed}: {:?}", plan.stop);
        let heur = SolveConfig::default().with_node_limit(0);
        g.bench_function(format!("exact/seed{seed}"), |b| {
            b.iter(|| black_box(p.solve(Objective::Cost, &exact)))
        });
        g.bench_function(format!("heuristic/seed{seed}"), |b| {
            b.iter(|| black_box(p.solve(Objective::Cost, &heur)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
