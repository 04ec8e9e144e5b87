//! Conformance against the published FGD results on the openb trace.
//! These need the shared data (`RIGHTSIZER_DATA`) and are run by `.ci/run`.

use rightsizer_place::share::SharePolicy;
use rightsizer_sim::report::{summarize, LEVELS};
use rightsizer_sim::run::{run_many, run_seed, RunConfig};
use rightsizer_sim::workload::Experiment;
use rightsizer_sim::{load_experiment, openb};
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("RIGHTSIZER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let openb = dir.join("openb");
    assert!(
        openb.join("openb_pod_list_default.csv").is_file(),
        "openb trace not found under {}: set RIGHTSIZER_DATA to the shared data directory",
        dir.display()
    );
    openb
}

fn default_experiment() -> Experiment {
    let d = data_dir();
    load_experiment(
        &d.join("openb_node_list_gpu_node.csv"),
        &d.join("openb_pod_list_default.csv"),
    )
    .expect("default trace loads")
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn default_trace_shape_and_typical_pods() {
    let exp = default_experiment();
    assert_eq!(exp.nodes.len(), 1213);
    assert_eq!(exp.gpu_capacity.get(), 6_212_000);
    assert_eq!(exp.pods.len(), 8152);
    let t = &exp.typical;
    assert_eq!(t.classes.len(), 35, "typical classes");
    assert_eq!(t.total_pods, 8152);
    assert!(
        (t.coverage_pct() - 95.26).abs() < 0.005,
        "coverage {}",
        t.coverage_pct()
    );
    assert_eq!(t.classes.last().unwrap().count, 31);
    let cpu_only: f64 = t
        .classes
        .iter()
        .filter(|c| c.num_gpu == 0)
        .map(|c| c.probability)
        .sum();
    assert!((cpu_only - 0.136).abs() < 0.001, "cpu-only mass {cpu_only}");
    assert!(
        t.classes.iter().all(|c| c.num_gpu <= 1),
        "no multi-GPU class"
    );
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn every_trace_file_loads() {
    let d = data_dir();
    let nodes = openb::load_nodes(&d.join("openb_node_list_gpu_node.csv")).unwrap();
    for entry in std::fs::read_dir(&d).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("openb_pod_list") {
            let pods = openb::load_pods(&p).unwrap_or_else(|e| panic!("{e}"));
            Experiment::new(&nodes, &pods, 95.0).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

/// Published means at 100% arrival and our tolerance bands.
const BANDS: [(SharePolicy, f64, f64); 6] = [
    (SharePolicy::Fgd, 95.23, 0.35),
    (SharePolicy::BestFit, 92.86, 0.35),
    (SharePolicy::DotProd, 90.62, 0.35),
    (SharePolicy::GpuPacking, 91.78, 0.8),
    (SharePolicy::GpuClustering, 91.65, 0.8),
    (SharePolicy::Random, 86.30, 0.6),
];

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn reproduces_published_allocation_at_100pct() {
    let exp = default_experiment();
    let seeds: Vec<u64> = (42..52).collect();
    let policies: Vec<SharePolicy> = BANDS.iter().map(|b| b.0).collect();
    let runs = run_many(&exp, &policies, &seeds, &RunConfig::default(), &|_| {}).unwrap();
    let summary = summarize(&runs, &LEVELS);
    let mut failures = Vec::new();
    for (s, &(p, want, tol)) in summary.iter().zip(&BANDS) {
        assert_eq!(s.policy, p);
        let row: Vec<String> = s
            .allocation
            .iter()
            .map(|l| format!("{:.2}±{:.2}", l.mean, l.sd))
            .collect();
        eprintln!("{:<14} {}", p.name(), row.join("  "));
        let at100 = s
            .allocation
            .iter()
            .find(|l| l.arrive_pct == 100)
            .expect("level 100");
        if (at100.mean - want).abs() > tol {
            failures.push(format!("{p}: {:.2} not within {want} ± {tol}", at100.mean));
        }
    }
    // FGD beats BestFit on every seed by a clear margin.
    let fgd: Vec<&_> = runs
        .iter()
        .filter(|r| r.policy == SharePolicy::Fgd)
        .collect();
    let bf: Vec<&_> = runs
        .iter()
        .filter(|r| r.policy == SharePolicy::BestFit)
        .collect();
    for (f, b) in fgd.iter().zip(&bf) {
        let (f, b) = (f.alloc_at(100).unwrap(), b.alloc_at(100).unwrap());
        if f - b < 1.8 {
            failures.push(format!("FGD {f:.2} vs BestFit {b:.2}: gap below 1.8 pp"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn same_seed_same_decisions() {
    let exp = default_experiment();
    let cfg = RunConfig::default();
    for p in [SharePolicy::Fgd, SharePolicy::Random] {
        let a = run_seed(&exp, p, 7, &cfg).unwrap();
        let b = run_seed(&exp, p, 7, &cfg).unwrap();
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.buckets, b.buckets);
    }
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn bound_holds_and_fgd_strand_beats_fgd_on_a_sample() {
    use rightsizer_sim::limit::{limits_many, LimitConfig};
    let exp = default_experiment();
    let cfg = RunConfig::default();
    let seeds = [42, 47];
    let levels = [90, 95, 100, 130];
    let runs = run_many(&exp, &SharePolicy::ALL, &seeds, &cfg, &|_| {}).unwrap();
    let lcfg = LimitConfig {
        levels: levels.to_vec(),
        ..LimitConfig::default()
    };
    let limits = limits_many(&exp, &seeds, &cfg, &lcfg).unwrap();
    assert_eq!(limits.len(), seeds.len());
    let mut checked = 0;
    for l in &limits {
        assert_eq!(l.levels.len(), levels.len(), "every level has arrivals");
        for lv in &l.levels {
            assert!(lv.offline_pct <= lv.upper_bound_pct + 1e-9, "{lv:?}");
            assert!(lv.upper_bound_pct <= 100.0 + 1e-9, "{lv:?}");
            for r in runs.iter().filter(|r| r.seed == l.seed) {
                let a = r.alloc_at(lv.arrive_pct).expect("level reached");
                assert!(
                    a <= lv.upper_bound_pct + 1e-9,
                    "{} seed {} at {}%: {a} above the bound {}",
                    r.policy,
                    r.seed,
                    lv.arrive_pct,
                    lv.upper_bound_pct
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= SharePolicy::ALL.len() * seeds.len() * levels.len());
    for &s in &seeds {
        let get = |p| runs.iter().find(|r| r.policy == p && r.seed == s).unwrap();
        let (fgd, strand) = (get(SharePolicy::Fgd), get(SharePolicy::FgdStrand));
        for lv in [100, 130] {
            let (f, x) = (fgd.alloc_at(lv).unwrap(), strand.alloc_at(lv).unwrap());
            assert!(
                x > f + 0.3,
                "seed {s} at {lv}%: FGD-strand {x:.2} vs FGD {f:.2}"
            );
        }
    }
}
