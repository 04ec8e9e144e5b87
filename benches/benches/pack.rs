//! Packing hot paths, each next to a baseline in the same group so the
//! claim is a ratio: FFD-L2 (n = 500, d = 10) against a textbook
//! first-fit decreasing, 100k items onto heterogeneous bins against
//! sorting the same items (the least work any decreasing heuristic does),
//! and the one-dimensional column-generation LP bound (200 items of a
//! Hard28-like spread) against the combinatorial bounds L2 / Fekete–Schepers
//! on the same items.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use rightsizer::pack::rng::SplitMix64;
use rightsizer::pack::{bounds, oned};
use rightsizer::pack::{
    construct, pack, BinType, Budget, Cost, Heuristic, Instance, Item, PackOptions, SizeNorm,
    Weights,
};

fn vector_instance(n: usize, d: usize, seed: u64) -> Instance {
    let mut rng = SplitMix64::new(seed);
    let items = (0..n)
        .map(|_| Item::new((0..d).map(|_| rng.range(10, 400)).collect()))
        .collect();
    Instance::uniform(vec![1000; d], items)
}

fn hetero_instance(n: usize, seed: u64) -> Instance {
    let mut rng = SplitMix64::new(seed);
    // cpu (millicores), memory (MiB), pods
    let items = (0..n)
        .map(|_| Item::new(vec![rng.range(50, 4000), rng.range(64, 16_384), 1]))
        .collect();
    let bin_types = vec![
        BinType::new(vec![4_000, 16_384, 110], Cost(192_000)),
        BinType::new(vec![16_000, 65_536, 110], Cost(768_000)),
        BinType::new(vec![64_000, 262_144, 250], Cost(3_072_000)),
        BinType::new(vec![32_000, 65_536, 250], Cost(1_360_000)),
    ];
    Instance {
        items,
        bin_types,
        open_bins: Vec::new(),
    }
}

/// Textbook FFD: sort by L2 norm, scan every bin for each item.
fn naive_ffd_l2(inst: &Instance) -> usize {
    let cap = &inst.bin_types[0].capacity;
    let mut order: Vec<(f64, usize)> = inst
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let s: f64 = it
                .size
                .iter()
                .zip(cap)
                .map(|(&x, &c)| (x as f64 / c as f64).powi(2))
                .sum();
            (s, i)
        })
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut loads: Vec<Vec<u64>> = Vec::new();
    for (_, i) in order {
        let s = &inst.items[i].size;
        match loads
            .iter_mut()
            .find(|l| l.iter().zip(s).zip(cap).all(|((a, b), c)| a + b <= *c))
        {
            Some(l) => l.iter_mut().zip(s).for_each(|(a, b)| *a += b),
            None => loads.push(s.clone()),
        }
    }
    loads.len()
}

fn bench_ffd(c: &mut Criterion) {
    let inst = vector_instance(500, 10, 7);
    let mut g = c.benchmark_group("pack_ffd_l2_n500_d10");
    g.bench_function(BenchmarkId::new("baseline_naive_ffd", 500), |b| {
        b.iter(|| black_box(naive_ffd_l2(black_box(&inst))))
    });
    let h = Heuristic::ffd(SizeNorm::L2, Weights::AverageLoad);
    g.bench_function(BenchmarkId::new("rightsizer_ffd_l2_avg", 500), |b| {
        b.iter(|| black_box(construct(black_box(&inst), h).unwrap().len()))
    });
    g.finish();
}

fn bench_100k(c: &mut Criterion) {
    let inst = hetero_instance(100_000, 11);
    let mut g = c.benchmark_group("pack_100k_heterogeneous");
    g.sample_size(10);
    g.bench_function("baseline_sort_items", |b| {
        b.iter(|| {
            let mut v: Vec<(f64, usize)> = inst
                .items
                .iter()
                .enumerate()
                .map(|(i, it)| (it.size.iter().map(|&x| (x as f64).powi(2)).sum::<f64>(), i))
                .collect();
            v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            black_box(v.len())
        })
    });
    let h = Heuristic::ffd(SizeNorm::L2, Weights::AverageLoad);
    g.bench_function("rightsizer_ffd_l2_avg", |b| {
        b.iter(|| black_box(construct(black_box(&inst), h).unwrap().len()))
    });
    let opts = PackOptions {
        budget: Budget::iterations(0),
        ..PackOptions::default()
    };
    g.bench_function("rightsizer_pack_portfolio", |b| {
        b.iter(|| black_box(pack(black_box(&inst), &opts).unwrap().objective))
    });
    g.finish();
}

/// 200 items of 1..=800 in bins of 1000, the spread of Hard28's instances.
fn oned_weights(seed: u64) -> Vec<u64> {
    let mut rng = SplitMix64::new(seed);
    (0..200).map(|_| rng.range(1, 800)).collect()
}

fn bench_lp_bound(c: &mut Criterion) {
    let w = oned_weights(3);
    let mut g = c.benchmark_group("pack_lp_bound_1d_n200");
    g.sample_size(10);
    g.bench_function("baseline_l2_fekete_schepers", |b| {
        b.iter(|| black_box(bounds::one_dim(1000, black_box(&w))))
    });
    g.bench_function("rightsizer_column_generation", |b| {
        b.iter(|| black_box(oned::lp_bound(1000, black_box(&w), u64::MAX, 1_000_000).bins))
    });
    g.finish();
}

criterion_group!(benches, bench_ffd, bench_100k, bench_lp_bound);
criterion_main!(benches);
