//! Conformance against the shared bin-packing data (run by `.ci/run` in
//! release mode with `--ignored`). Reads `$RIGHTSIZER_DATA` (default
//! `<repo>/../shared/data`) and panics when the data is missing.

mod common;

use rightsizer_pack::bench::{load_set, run_instance, summarize, InstanceOutcome, CLASSIC_SETS};
use rightsizer_pack::{bounds, oned, Budget};
use std::path::PathBuf;
use std::time::Duration;

fn data_dir() -> PathBuf {
    common::data_dir("binpacking/baselines_1d.csv")
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn ffd_bfd_l2_reproduce_baselines() {
    let data = data_dir();
    let text = std::fs::read_to_string(data.join("binpacking/baselines_1d.csv")).unwrap();
    let mut expected = std::collections::BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let v: Vec<u64> = f[6..10].iter().map(|x| x.parse().unwrap()).collect();
        expected.insert(f[0].to_string(), (f[1].to_string(), v));
    }
    let sets: std::collections::BTreeSet<String> = expected.values().map(|v| v.0.clone()).collect();
    let mut checked = 0;
    for set in sets {
        for b in load_set(&data, &set, None).unwrap() {
            let Some((_, v)) = expected.get(&b.name) else {
                continue;
            };
            let c = b.instance.bin_types[0].capacity[0];
            let w: Vec<u64> = b.instance.items.iter().map(|i| i.size[0]).collect();
            let got = [
                bounds::l1(c, &w),
                bounds::l2(c, &w),
                oned::ffd(c, &w).len() as u64,
                oned::bfd(c, &w).len() as u64,
            ];
            assert_eq!(got.to_vec(), *v, "{}: L1/L2/FFD/BFD", b.name);
            if let Some(o) = b.optimum {
                assert!(
                    bounds::one_dim(c, &w) <= o,
                    "{}: bound above optimum",
                    b.name
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, expected.len(), "every baseline row checked");
    assert_eq!(checked, 2115);
}

fn run_sample(sets: &[(&str, Option<usize>)], ms: u64) -> Vec<(String, Vec<InstanceOutcome>)> {
    let data = data_dir();
    sets.iter()
        .map(|&(set, k)| {
            let insts = load_set(&data, set, k.map(|k| (k, 2026))).unwrap();
            let outs = insts
                .iter()
                .map(|b| run_instance(b, Budget::time(Duration::from_millis(ms)), 1))
                .collect();
            (set.to_string(), outs)
        })
        .collect()
}

/// The fixed CI sample: all of Hard28, Falkenauer_T and Wäscher plus a
/// seeded sample of the other classic sets. Bars from issue 4.
#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn classic_quality_sample() {
    let plan: Vec<(&str, Option<usize>)> = CLASSIC_SETS
        .iter()
        .map(|&s| match s {
            "Hard28" | "Falkenauer_T" | "Waescher" => (s, None),
            "Scholl_3" => (s, None),
            _ => (s, Some(12)),
        })
        .collect();
    let results = run_sample(&plan, 1000);
    let mut all = Vec::new();
    for (set, outs) in &results {
        let s = summarize(set, outs);
        eprintln!(
            "{:14} n={:4} opt={:5.1}% proven={:5.1}% excess={:.3} mean={:.0}ms max={:.0}ms",
            s.set,
            s.instances,
            100.0 * s.optimum_found,
            100.0 * s.proven_optimal,
            s.mean_excess,
            s.mean_ms,
            s.max_ms
        );
        all.extend(outs.iter().cloned());
    }
    let total = summarize("all", &all);
    eprintln!(
        "all: opt={:.1}% excess={:.3}",
        100.0 * total.optimum_found,
        total.mean_excess
    );
    // The bars (1 s per instance): classic solved >= 97% (weighted
    // estimate from this sample), Falkenauer_T >= 90%, Schwerin 100%,
    // Falkenauer + Scholl proven >= 83%, Hard28 >= 14 of 28 (FLOOR_HARD28).
    let find = |name: &str| {
        results
            .iter()
            .find(|(s, _)| s == name)
            .map(|(_, o)| summarize(name, o))
            .unwrap()
    };
    // The sample over-represents the hard sets; weight each set's rate by
    // its size in the 1,615-instance benchmark.
    let sizes = [
        ("Falkenauer_U", 80.0),
        ("Falkenauer_T", 80.0),
        ("Scholl_1", 720.0),
        ("Scholl_2", 480.0),
        ("Scholl_3", 10.0),
        ("Schwerin_1", 100.0),
        ("Schwerin_2", 100.0),
        ("Waescher", 17.0),
        ("Hard28", 28.0),
    ];
    let weighted: f64 = sizes
        .iter()
        .map(|(s, n)| find(s).optimum_found * n)
        .sum::<f64>()
        / 1615.0;
    eprintln!(
        "estimated share of the 1,615 classic instances solved: {:.1}%",
        100.0 * weighted
    );
    assert!(
        weighted >= FLOOR_ALL,
        "classic optimum found (weighted) {weighted:.3}"
    );
    // Proven optimal (UB = own LB) on Falkenauer + Scholl, weighted likewise.
    let fs = &sizes[..5];
    let proven: f64 = fs
        .iter()
        .map(|(s, n)| find(s).proven_optimal * n)
        .sum::<f64>()
        / fs.iter().map(|(_, n)| n).sum::<f64>();
    eprintln!(
        "estimated share of Falkenauer + Scholl proven optimal: {:.1}%",
        100.0 * proven
    );
    assert!(proven >= 0.83, "Falkenauer + Scholl proven {proven:.3}");
    let t = find("Falkenauer_T").optimum_found;
    assert!(t >= 0.90, "Falkenauer_T optimum found {t:.3}");
    assert!(find("Schwerin_1").optimum_found >= 1.0);
    assert!(find("Schwerin_2").optimum_found >= 1.0);
    let h = find("Hard28");
    assert!(
        h.optimum_found * 28.0 >= FLOOR_HARD28,
        "Hard28 {:.0} optimal",
        h.optimum_found * 28.0
    );
    // No proven-optimal value may contradict a known optimum (checked in
    // run_instance) and no result may be below a known optimum.
    for o in &all {
        if let Some(opt) = o.optimum {
            assert!(
                o.bins >= opt,
                "{}: {} bins below the optimum {}",
                o.name,
                o.bins,
                opt
            );
            assert!(
                o.lower_bound <= opt,
                "{}: bound {} above the optimum {}",
                o.name,
                o.lower_bound,
                opt
            );
        }
    }
}

/// The bar for the share of classic instances solved.
const FLOOR_ALL: f64 = 0.97;
/// The bar: 14 of 28 (goal 22). With warm, lazy LP dives the packer
/// finds 17-21 within 1 s (mean 18.9 over seeds 1-14 of `bench-pack --set
/// Hard28`, 17 in this sample with the other test running beside it); a
/// deadline-bound search varies from run to run, by about ±2 here.
const FLOOR_HARD28: f64 = 14.0;
