//! VPA recommendation throughput: N containers × 8 days of 1-minute CPU and
//! memory samples, streamed into per-container aggregates (two 176-bucket
//! decaying histograms each, so memory does not grow with the sample count),
//! then estimated. The baseline is a plain sum over exactly the same samples,
//! so the reported ratio is independent of the machine.
//!
//! `cargo bench --bench size_vpa` runs 1 000 containers; set
//! `RIGHTSIZER_BENCH_FULL=1` for the full 10 000 (≈ 230 M samples per
//! iteration).
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rightsizer::model::units::Bytes;
use rightsizer::size::vpa::{ContainerState, InstanceHistory, Vpa, VpaConfig};

const MINUTES: usize = 8 * 1440;
const T0_NS: i64 = 1_795_737_600_000_000_000;

struct Trace {
    t: Vec<i64>,
    cpu: Vec<f64>,
    mem: Vec<f64>,
}

/// A deterministic 8-day trace with a daily cycle and SplitMix64 noise.
fn trace() -> Trace {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut tr = Trace {
        t: Vec::with_capacity(MINUTES),
        cpu: Vec::with_capacity(MINUTES),
        mem: Vec::with_capacity(MINUTES),
    };
    for m in 0..MINUTES {
        let day = (m % 1440) as f64 / 1440.0 * std::f64::consts::TAU;
        tr.t.push(T0_NS + m as i64 * 60_000_000_000);
        tr.cpu.push(0.3 + 0.2 * day.sin() + 0.3 * next());
        tr.mem.push(6e8 + 2e8 * day.cos() + 1e8 * next());
    }
    tr
}

fn scale(c: usize) -> f64 {
    0.25 + (c % 97) as f64 / 24.0
}

fn run_vpa(vpa: &Vpa, tr: &Trace, containers: usize) -> u64 {
    let mut acc = 0u64;
    for c in 0..containers {
        let s = scale(c);
        let mut agg = vpa.new_aggregate();
        let mut st = ContainerState::default();
        for i in 0..MINUTES {
            let t = tr.t[i];
            vpa.add_cpu_sample(&mut agg, &mut st, t, tr.cpu[i] * s);
            vpa.add_memory_sample(&mut agg, &mut st, t, tr.mem[i] * s);
        }
        let e = vpa.estimate(&agg, 1);
        acc = acc.wrapping_add(e.target_cpu.get() ^ e.upper_memory.get());
    }
    acc
}

/// The same samples through `Vpa::aggregate_instances` (the k-way merge of
/// CPU, memory and OOM cursors the `vpa` strategy uses), one instance per
/// container. It also materialises the scaled samples (two `Vec<f64>` per
/// container), so its cost over `run_vpa` is an upper bound on the merge.
fn run_vpa_merged(vpa: &Vpa, tr: &Trace, containers: usize) -> u64 {
    let mut acc = 0u64;
    let now = *tr.t.last().expect("non-empty trace");
    for c in 0..containers {
        let s = scale(c);
        let cpu: Vec<f64> = tr.cpu.iter().map(|x| x * s).collect();
        let mem: Vec<f64> = tr.mem.iter().map(|x| x * s).collect();
        let inst = [InstanceHistory {
            cpu_t: &tr.t,
            cpu: &cpu,
            memory_t: &tr.t,
            memory: &mem,
            ooms: &[],
        }];
        let fed = vpa.aggregate_instances(&inst, now, Bytes::ZERO);
        let e = vpa.estimate(&fed.aggregate, 1);
        acc = acc.wrapping_add(e.target_cpu.get() ^ e.upper_memory.get());
    }
    acc
}

fn run_sum(tr: &Trace, containers: usize) -> f64 {
    let mut acc = 0.0;
    for c in 0..containers {
        let s = scale(c);
        let mut sum = 0.0;
        for i in 0..MINUTES {
            sum += black_box(tr.cpu[i] * s) + black_box(tr.mem[i] * s);
        }
        acc += sum;
    }
    acc
}

fn bench(c: &mut Criterion) {
    let tr = trace();
    let vpa = Vpa::new(VpaConfig::default()).expect("default config is valid");
    // Memory is bounded by the histogram size: report it once.
    let agg = vpa.new_aggregate();
    eprintln!(
        "size_vpa: aggregate state = {} heap bytes per container, independent of {} samples",
        agg.heap_bytes(),
        2 * MINUTES
    );
    let full = std::env::var_os("RIGHTSIZER_BENCH_FULL").is_some();
    let sizes: &[usize] = if full { &[10_000] } else { &[1_000] };
    let mut g = c.benchmark_group("size_vpa");
    g.sample_size(10);
    for &n in sizes {
        g.throughput(Throughput::Elements((2 * MINUTES * n) as u64));
        g.bench_with_input(BenchmarkId::new("vpa_recommend", n), &n, |b, &n| {
            b.iter(|| run_vpa(&vpa, &tr, n))
        });
        g.bench_with_input(
            BenchmarkId::new("vpa_aggregate_instances", n),
            &n,
            |b, &n| b.iter(|| run_vpa_merged(&vpa, &tr, n)),
        );
        g.bench_with_input(BenchmarkId::new("baseline_sum", n), &n, |b, &n| {
            b.iter(|| run_sum(&tr, n))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
