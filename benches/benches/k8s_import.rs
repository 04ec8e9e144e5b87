//! `rightsizer import` on a generated 5,000-node / 150,000-pod kubectl dump
//! (`rightsizer_k8s::synth::cluster_dump`). The baseline in the same group
//! is parsing the same text into `serde_json::Value` only, so the report
//! reads as "importing costs N× parsing the JSON"; the time per object is
//! printed once before the measurements. With `K8S_IMPORT_WRITE_DUMP=<path>`
//! the dump is also written there, to time the CLI on it.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rightsizer::k8s::{synth, Importer};
use std::time::Instant;

const NODES: usize = 5_000;
const PODS: usize = 150_000;

fn bench(c: &mut Criterion) {
    let dump = synth::cluster_dump(NODES, PODS, 42);
    if let Some(path) = std::env::var_os("K8S_IMPORT_WRITE_DUMP") {
        // For measuring the CLI: `/usr/bin/time -v rightsizer import <path>`.
        std::fs::write(path, &dump).expect("write dump");
    }
    let importer = Importer::new();
    let t = Instant::now();
    let out = importer.import_str(&dump, "synthetic").expect("imports");
    let took = t.elapsed();
    assert_eq!((out.nodes.len(), out.workloads.len()), (NODES, PODS));
    eprintln!(
        "k8s_import: {} MB dump, {} objects in {:.2?} ({:.2} µs per object)",
        dump.len() / 1_000_000,
        NODES + PODS,
        took,
        took.as_secs_f64() * 1e6 / (NODES + PODS) as f64
    );
    drop(out);
    let mut g = c.benchmark_group("k8s_import_5k_nodes_150k_pods");
    g.sample_size(10);
    g.bench_function("baseline_parse_json_value", |b| {
        b.iter(|| black_box(serde_json::from_str::<serde_json::Value>(black_box(&dump)).unwrap()))
    });
    g.bench_function("import", |b| {
        b.iter(|| black_box(importer.import_str(black_box(&dump), "synthetic").unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
