//! Hot path of every caller: checking and allocating one pod on a node of
//! the cluster state, and releasing it. The baseline in the same group is a
//! plain resource-vector fit test (`Resources::fits_in`), so the report reads
//! as "allocate + release costs N× a bare fit check".
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rightsizer::model::cluster::tests_support::{fractional_gpu, mig_gpu};
use rightsizer::model::prelude::*;

fn cluster(n: usize) -> ClusterState {
    let t4 = AcceleratorModelId::new("T4").unwrap();
    let a100 = AcceleratorModelId::new("A100").unwrap();
    let nodes = (0..n)
        .map(|i| {
            let node = Node::new(
                NodeId::new(format!("n{i}")).unwrap(),
                Resources {
                    pods: 110,
                    ..Resources::cpu_mem(96_000, 384 << 30)
                },
            );
            if i % 2 == 0 {
                node.with_devices(&t4, 8)
            } else {
                node.with_devices(&a100, 8)
            }
        })
        .collect();
    ClusterState::new(nodes, vec![fractional_gpu("T4", 16), mig_gpu("A100")]).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("cluster_state");
    let mut state = cluster(1000);
    let req = PodRequest {
        resources: Resources {
            pods: 1,
            ..Resources::cpu_mem(4000, 16 << 30)
        },
        accelerator: AcceleratorDemand::Fraction {
            milli: GpuMilli::new(300),
            memory: None,
        },
        allowed_models: vec![],
    };
    let pod = PodId::new("bench-pod").unwrap();
    let cap = state.node(NodeIndex(0)).allocatable.clone();
    g.bench_function("baseline_fits_in", |b| {
        b.iter(|| black_box(&req.resources).fits_in(black_box(&cap)))
    });
    g.bench_function("first_fit_devices", |b| {
        b.iter(|| state.first_fit_devices(black_box(&req), NodeIndex(0)))
    });
    let devices = state.first_fit_devices(&req, NodeIndex(0)).unwrap();
    g.bench_function("allocate_release", |b| {
        b.iter(|| {
            state
                .allocate(pod.clone(), black_box(&req), NodeIndex(0), &devices)
                .unwrap();
            state.release(&pod).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
