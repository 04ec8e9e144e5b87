//! One seed of the FGD paper's experiment on the default openb trace
//! (8,152 pods + clones on 1,213 nodes). Baselines in the same group: the
//! same run with BestFit (the cheapest scoring policy, so the ratio is the
//! cost of FGD's fragmentation gradient), and building the arrival order
//! alone. A second group runs all six policies on two threads.
//!
//! Needs the shared data (`RIGHTSIZER_DATA`, default `../shared/data`).
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rightsizer::place::share::SharePolicy;
use rightsizer::sim::run::{arrival_order, run_many_on, run_seed, RunConfig};
use rightsizer::sim::workload::Experiment;
use std::path::PathBuf;
use std::time::Duration;

fn experiment() -> Experiment {
    let dir = std::env::var_os("RIGHTSIZER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
        .join("openb");
    rightsizer::sim::load_experiment(
        &dir.join("openb_node_list_gpu_node.csv"),
        &dir.join("openb_pod_list_default.csv"),
    )
    .unwrap_or_else(|e| {
        panic!(
            "openb trace under {}: {e}; set RIGHTSIZER_DATA",
            dir.display()
        )
    })
}

fn one_seed(c: &mut Criterion) {
    let exp = experiment();
    let cfg = RunConfig::default();
    let mut g = c.benchmark_group("sim_one_seed");
    g.sample_size(10).measurement_time(Duration::from_secs(6));
    g.bench_function("fgd", |b| {
        b.iter(|| black_box(run_seed(&exp, SharePolicy::Fgd, 42, &cfg).unwrap()))
    });
    g.bench_function("fgd_exact", |b| {
        b.iter(|| black_box(run_seed(&exp, SharePolicy::FgdExact, 42, &cfg).unwrap()))
    });
    g.bench_function("baseline_bestfit", |b| {
        b.iter(|| black_box(run_seed(&exp, SharePolicy::BestFit, 42, &cfg).unwrap()))
    });
    g.bench_function("baseline_arrival_order", |b| {
        b.iter(|| black_box(arrival_order(&exp, 42, 1.3)))
    });
    g.finish();
}

fn six_policies(c: &mut Criterion) {
    let exp = experiment();
    let cfg = RunConfig::default();
    let mut g = c.benchmark_group("sim_six_policies_2_threads");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("two_seeds", |b| {
        b.iter(|| {
            black_box(
                run_many_on(Some(2), &exp, &SharePolicy::PAPER, &[42, 43], &cfg, &|_| {}).unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, one_seed, six_policies);
criterion_main!(benches);
