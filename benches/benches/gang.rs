//! Gang placement (`rightsizer::gang`), the benchmarks A, B and C,
//! each beside a greedy per-pod baseline run on the same input in the same
//! process. The baseline places pods one at a time, first fit in node
//! order; a gang's later pods stay in the first pod's domain of its
//! required level; a gang with a pod that fits nowhere is rolled back (so
//! it holds nothing). It never chooses a domain and never backtracks.
//!
//! - **A** (scheduler-perf shape): 5,000 nodes in 50 racks, 750 gangs of 4
//!   and 3 gangs of 1,000 pods, each gang in one rack.
//! - **B**: 512 nodes (4 zones × 8 blocks × 8 racks × 2 nodes, 8 GPUs): a
//!   disaggregated-inference group, a 128 × 8-GPU hero job into a cluster
//!   70% full, and 7,000 fractional pods.
//! - **C**: 1,000 gangs (2–64 pods, 1–8 GPUs each) onto 2,000 nodes with
//!   NVLink cliques of 8 nodes and racks of 16.
//!
//! Before the criterion groups, one run of each is printed with its time,
//! pods/s and admitted fractions for the placer and the baseline. All
//! inputs are generated here from fixed seeds.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rightsizer::gang::topology::{TopologyIndex, BLOCK, CLIQUE, HOSTNAME, RACK, ZONE};
use rightsizer::gang::{GangConfig, GangPlacer, GangSpec, QueueReport, RoleSpec};
use rightsizer::model::cluster::tests_support::fractional_gpu;
use rightsizer::model::prelude::*;
use rightsizer::model::rng::SplitMix64;
use rightsizer::{Engine, EngineConfig};
use std::time::{Duration, Instant};

fn gpu() -> AcceleratorModelId {
    AcceleratorModelId::new("H100").unwrap()
}

fn node(name: String, cpu: u64, gpus: usize, labels: &[(&str, String)]) -> Node {
    let mut n = Node::new(NodeId::new(name).unwrap(), Resources::cpu_mem(cpu, 1 << 40))
        .with_devices(&gpu(), gpus);
    for (k, v) in labels {
        n.labels.insert(k.to_string(), v.clone());
    }
    n
}

fn req(cpu: u64, acc: AcceleratorDemand) -> PodRequest {
    PodRequest::new(Resources::cpu_mem(cpu, 1 << 30), acc)
}

fn whole(n: u16) -> AcceleratorDemand {
    AcceleratorDemand::Whole { count: n }
}

fn gid(s: String) -> GangId {
    GangId::new(s).unwrap()
}

fn engine(state: ClusterState) -> Engine {
    Engine::new(state, EngineConfig::default()).unwrap()
}

fn state(nodes: Vec<Node>) -> ClusterState {
    ClusterState::new(nodes, vec![fractional_gpu("H100", 80)]).unwrap()
}

/// The greedy per-pod baseline; returns (gangs admitted, pods placed,
/// GPUs placed).
fn greedy(state: &ClusterState, gangs: &[GangSpec], levels: &[String]) -> (usize, usize, u64) {
    let topo = TopologyIndex::new(state, levels, "none").unwrap();
    let mut s = state.clone();
    let mut order: Vec<usize> = (0..gangs.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(gangs[i].priority), i));
    let (mut admitted, mut pods, mut gpus) = (0, 0, 0);
    for i in order {
        let g = &gangs[i];
        let level = g
            .topology
            .required
            .as_ref()
            .map(|l| levels.iter().position(|x| x == l).unwrap());
        let mut anchor: Option<u32> = None;
        let mut placed: Vec<PodId> = Vec::new();
        let mut ok = true;
        'gang: for role in &g.roles {
            let mut r = role.request.clone();
            r.resources.pods = 1;
            for j in 0..role.count {
                let pod = PodId::new(g.member_name(&role.name, j)).unwrap();
                let nodes: Box<dyn Iterator<Item = NodeIndex> + '_> = match (level, anchor) {
                    (Some(l), Some(d)) => {
                        Box::new(topo.domains(l)[d as usize].nodes.iter().copied())
                    }
                    _ => Box::new((0..s.len() as u32).map(NodeIndex)),
                };
                let mut done = false;
                for n in nodes {
                    if let Some(dev) = s.first_fit_devices(&r, n) {
                        if s.allocate(pod.clone(), &r, n, &dev).is_ok() {
                            if let (Some(l), None) = (level, anchor) {
                                anchor = topo.domain_of(l, n);
                            }
                            placed.push(pod.clone());
                            done = true;
                            break;
                        }
                    }
                }
                if !done {
                    ok = false;
                    break 'gang;
                }
            }
        }
        if ok {
            admitted += 1;
            pods += placed.len();
            gpus += g
                .roles
                .iter()
                .map(|r| u64::from(r.request.accelerator.gpu_milli().get()) * u64::from(r.count))
                .sum::<u64>();
        } else {
            for p in placed.iter().rev() {
                s.release(p).unwrap();
            }
        }
    }
    (admitted, pods, gpus)
}

fn summary(report: &QueueReport) -> (usize, usize, u64) {
    let mut out = (0, 0, 0);
    for (_, a) in report.admitted() {
        out.0 += 1;
        out.1 += a.members.len();
        out.2 += a
            .members
            .iter()
            .map(|m| u64::from(m.request.accelerator.gpu_milli().get()))
            .sum::<u64>();
    }
    out
}

fn levels(l: &[&str]) -> Vec<String> {
    l.iter().map(|s| s.to_string()).collect()
}

/// Prints one run of the placer and the baseline on the same input.
fn compare(name: &str, st: &ClusterState, gangs: &[GangSpec], lv: &[String], placer: &GangPlacer) {
    let e = engine(st.clone());
    let pods: usize = gangs
        .iter()
        .map(|g| g.roles.iter().map(|r| r.count as usize).sum::<usize>())
        .sum();
    let gpus: u64 = gangs
        .iter()
        .flat_map(|g| &g.roles)
        .map(|r| u64::from(r.request.accelerator.gpu_milli().get()) * u64::from(r.count))
        .sum();
    let t = Instant::now();
    let report = placer.queue(&e, gangs).unwrap();
    let tp = t.elapsed();
    let (ga, pa, ua) = summary(&report);
    let t = Instant::now();
    let (gb, pb, ub) = greedy(st, gangs, lv);
    let tb = t.elapsed();
    let rate = |d: Duration| pods as f64 / d.as_secs_f64();
    let frac = |a: u64| {
        if gpus == 0 {
            1.0
        } else {
            a as f64 / gpus as f64
        }
    };
    eprintln!(
        "{name}: {} gangs / {pods} pods. gang placer: {tp:.2?} ({:.0} pods/s, {:.1} µs/gang), admitted {ga} gangs, {pa} pods, GPU fraction {:.3}; \
         greedy per-pod: {tb:.2?} ({:.0} pods/s), admitted {gb} gangs, {pb} pods, GPU fraction {:.3}; max steps of one gang {}",
        gangs.len(),
        rate(tp),
        tp.as_secs_f64() * 1e6 / gangs.len() as f64,
        frac(ua),
        rate(tb),
        frac(ub),
        report.results.iter().map(|r| r.steps).max().unwrap_or(0),
    );
}

// ----- A ------------------------------------------------------------------

fn shape_a() -> (ClusterState, Vec<GangSpec>) {
    let nodes = (0..5000)
        .map(|i| {
            node(
                format!("a{i}"),
                16000,
                0,
                &[(RACK, format!("r{}", i / 100))],
            )
        })
        .collect();
    let mut gangs = Vec::new();
    for i in 0..753 {
        let size = if i % 251 == 250 { 1000 } else { 4 };
        gangs.push(
            GangSpec::new(
                gid(format!("g{i}")),
                vec![RoleSpec::new("w", size, req(1000, AcceleratorDemand::None))],
            )
            .required(RACK),
        );
    }
    (state(nodes), gangs)
}

// ----- B ------------------------------------------------------------------

fn cluster_b() -> Vec<Node> {
    let mut nodes = Vec::new();
    for z in 0..4 {
        for b in 0..8 {
            for r in 0..8 {
                for h in 0..2 {
                    nodes.push(node(
                        format!("z{z}b{b}r{r}n{h}"),
                        64000,
                        8,
                        &[
                            (ZONE, format!("z{z}")),
                            (BLOCK, format!("z{z}b{b}")),
                            (RACK, format!("z{z}b{b}r{r}")),
                        ],
                    ));
                }
            }
        }
    }
    nodes
}

fn disagg() -> GangSpec {
    let mut g = GangSpec::new(
        gid("disagg".into()),
        vec![
            RoleSpec::new("prefill", 4, req(8000, whole(8))).required(RACK),
            RoleSpec::new("decode", 8, req(4000, whole(4))).preferred(BLOCK),
            RoleSpec::new("frontend", 2, req(4000, AcceleratorDemand::None)),
        ],
    );
    g.topology.required = Some(ZONE.into());
    g
}

/// 70% of the GPUs taken, all in zones 1–3, in seeded random node order.
fn seventy_percent_full() -> ClusterState {
    let mut s = state(cluster_b());
    let mut rng = SplitMix64::new(7);
    let mut idx: Vec<usize> = (128..512).collect();
    for i in (1..idx.len()).rev() {
        idx.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let target = 4096 * 7 / 10;
    let mut taken = 0;
    for (k, &n) in idx.iter().enumerate() {
        let take = (target - taken).min(8);
        if take == 0 {
            break;
        }
        let r = req(1000, whole(take as u16));
        let dev = s.first_fit_devices(&r, NodeIndex(n as u32)).unwrap();
        s.allocate(
            PodId::new(format!("busy{k}")).unwrap(),
            &r,
            NodeIndex(n as u32),
            &dev,
        )
        .unwrap();
        taken += take;
    }
    s
}

fn hero() -> GangSpec {
    GangSpec::new(
        gid("hero".into()),
        vec![RoleSpec::new("w", 128, req(8000, whole(8)))],
    )
    .required(ZONE)
}

fn fractional() -> Vec<GangSpec> {
    (0..7000)
        .map(|i| {
            let milli = if i % 2 == 0 { 125 } else { 500 };
            GangSpec::new(
                gid(format!("f{i}")),
                vec![RoleSpec::new(
                    "p",
                    1,
                    req(
                        100,
                        AcceleratorDemand::Fraction {
                            milli: GpuMilli::new(milli),
                            memory: None,
                        },
                    ),
                )],
            )
        })
        .collect()
}

// ----- C ------------------------------------------------------------------

fn shape_c() -> (ClusterState, Vec<GangSpec>) {
    let nodes = (0..2000)
        .map(|i| {
            node(
                format!("c{i}"),
                128000,
                8,
                &[
                    (CLIQUE, format!("k{}", i / 8)),
                    (RACK, format!("r{}", i / 16)),
                ],
            )
        })
        .collect();
    let mut rng = SplitMix64::new(11);
    let gangs = (0..1000)
        .map(|i| {
            let size = rng.range(2, 64) as u32;
            let per = [1u16, 2, 4, 8][rng.below(4) as usize];
            let total = u64::from(size) * u64::from(per);
            let mut g = GangSpec::new(
                gid(format!("q{i}")),
                vec![RoleSpec::new("w", size, req(2000, whole(per)))],
            )
            .with_priority(rng.below(3) as i32);
            g = if total <= 64 {
                g.required(CLIQUE)
            } else if total <= 128 {
                g.required(RACK)
            } else {
                g.preferred(RACK)
            };
            g
        })
        .collect();
    (state(nodes), gangs)
}

fn bench(c: &mut Criterion) {
    let lv_a = levels(&[HOSTNAME, RACK]);
    let pa = GangPlacer::new(GangConfig::builder().levels(lv_a.clone()).build().unwrap());
    let (sa, ga) = shape_a();
    compare("A 5k nodes / 50 racks", &sa, &ga, &lv_a, &pa);

    let lv_b = levels(&[HOSTNAME, RACK, BLOCK, ZONE]);
    let pb = GangPlacer::new(GangConfig::builder().levels(lv_b.clone()).build().unwrap());
    let empty_b = state(cluster_b());
    let full_b = seventy_percent_full();
    let frac_b = fractional();
    compare("B disaggregated group", &empty_b, &[disagg()], &lv_b, &pb);
    compare("B hero 128x8 into 70% full", &full_b, &[hero()], &lv_b, &pb);
    compare("B 7,000 fractional pods", &empty_b, &frac_b, &lv_b, &pb);

    let lv_c = levels(&[HOSTNAME, CLIQUE, RACK]);
    let pc = GangPlacer::new(GangConfig::builder().levels(lv_c.clone()).build().unwrap());
    let (sc, gc) = shape_c();
    compare("C 1,000 gangs / 2k nodes", &sc, &gc, &lv_c, &pc);

    let mut g = c.benchmark_group("gang");
    g.sample_size(10);
    let ea = engine(sa.clone());
    g.bench_function("A_gang_placer", |b| {
        b.iter(|| black_box(pa.queue(&ea, black_box(&ga)).unwrap()))
    });
    g.bench_function("A_greedy_per_pod", |b| {
        b.iter(|| black_box(greedy(&sa, black_box(&ga), &lv_a)))
    });
    let eb = engine(empty_b.clone());
    let disagg = [disagg()];
    g.bench_function("B_disaggregated", |b| {
        b.iter(|| black_box(pb.queue(&eb, black_box(&disagg)).unwrap()))
    });
    let ef = engine(full_b);
    let hero = [hero()];
    g.bench_function("B_hero_70pct_full", |b| {
        b.iter(|| black_box(pb.queue(&ef, black_box(&hero)).unwrap()))
    });
    g.bench_function("B_fractional_7000", |b| {
        b.iter(|| black_box(pb.queue(&eb, black_box(&frac_b)).unwrap()))
    });
    let ec = engine(sc.clone());
    g.bench_function("C_gang_placer", |b| {
        b.iter(|| black_box(pc.queue(&ec, black_box(&gc)).unwrap()))
    });
    g.bench_function("C_greedy_per_pod", |b| {
        b.iter(|| black_box(greedy(&sc, black_box(&gc), &lv_c)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
