//! Fuzz target: the long-format usage CSV reader, then every recommender.
//!
//! Properties: reading never panics; an accepted input is normalised (each
//! series strictly increasing in time, values finite and non-negative, GPU
//! utilisation within [0, 1]); recommending from it never panics and keeps
//! `lower_bound <= target <= upper_bound` for VPA.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_size::input::read_csv;
use rightsizer_size::recommend::{recommend_all, RecommendContext, Strategy};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(set) = read_csv("fuzz.csv", &text) else {
        return;
    };
    for (_, w) in set.workloads() {
        for pods in w.containers.values() {
            for s in pods.values() {
                for series in [&s.cpu, &s.memory, &s.gpu_memory, &s.gpu_util] {
                    assert!(series.times().windows(2).all(|p| p[0] < p[1]));
                    assert!(series.values().iter().all(|v| v.is_finite() && *v >= 0.0));
                }
                assert!(s.gpu_util.values().iter().all(|v| *v <= 1.0));
                assert!(s.ooms.windows(2).all(|p| p[0] < p[1]));
            }
        }
    }
    let Some(now) = set.last_time() else {
        return;
    };
    let ctx = RecommendContext::at(now);
    for strategy in [
        Strategy::Vpa,
        Strategy::KrrSimple,
        Strategy::KrrSimpleLimit,
        Strategy::Risk,
    ] {
        let rec = strategy.build().expect("default configs are valid");
        let report = recommend_all(&set, rec.as_ref(), &ctx);
        if strategy == Strategy::Vpa {
            for w in report.workloads.values() {
                for c in w.containers.values() {
                    let cpu = c.cpu.expect("vpa always sizes cpu");
                    assert!(cpu.lower_bound <= cpu.target && cpu.target <= cpu.upper_bound);
                }
            }
        }
    }
});
