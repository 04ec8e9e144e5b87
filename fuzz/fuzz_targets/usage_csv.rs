//! Fuzz target: the long-format usage CSV reader, then every recommender.
//!
//! Properties: reading never panics; an accepted input is normalised (each
//! series strictly increasing in time, values finite and non-negative, GPU
//! utilisation within [0, 1]); recommending from it never panics and keeps
//! `lower_bound <= target <= upper_bound` for VPA, or, with no CPU sample in
//! the window, gives no CPU size and a `NoData` note.
#![no_main]

#[path = "usage_checks.rs"]
mod usage_checks;

use libfuzzer_sys::fuzz_target;
use rightsizer_size::input::read_csv;
use rightsizer_size::recommend::{recommend_all, Note, RecommendContext, Strategy};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(set) = read_csv("fuzz.csv", &text) else {
        return;
    };
    usage_checks::assert_normalised(&set);
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
                    match c.cpu {
                        Some(cpu) => {
                            assert!(cpu.lower_bound <= cpu.target && cpu.target <= cpu.upper_bound)
                        }
                        // No CPU sample in the window: no size, and a reason.
                        None => assert!(c.notes.iter().any(|n| matches!(
                            n,
                            Note::NoData {
                                resource: "cpu",
                                ..
                            }
                        ))),
                    }
                }
            }
        }
    }
});
