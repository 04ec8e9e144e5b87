//! Vector sets of Mommessin et al. (2024) at the 1 s budget: a
//! seeded sample per set against the bars. Needs the shared data.

mod common;

use rightsizer_pack::bench::{load_set, run_instance, summarize};
use rightsizer_pack::Budget;
use std::path::PathBuf;
use std::time::Duration;

fn data_dir() -> PathBuf {
    common::data_dir("binpacking/vbp")
}

/// Mean bins/OPT of a seeded sample of `set` with a 1 s budget.
fn sample_ratio(set: &str, k: usize) -> f64 {
    let data = data_dir();
    let insts = load_set(&data, set, Some((k, 1))).expect("load set");
    assert!(!insts.is_empty(), "no instances in {set}");
    let out: Vec<_> = insts
        .iter()
        .map(|b| run_instance(b, Budget::time(Duration::from_millis(1000)), 1))
        .collect();
    for o in &out {
        assert!(
            o.time_ms < 1_200.0,
            "{}: {} ms over a 1 s budget",
            o.name,
            o.time_ms
        );
    }
    let s = summarize(set, &out);
    eprintln!(
        "{set}: {} instances, mean ratio {:.4}, optimum {:.1}%, mean {:.0} ms",
        s.instances,
        s.mean_ratio,
        100.0 * s.optimum_found,
        s.mean_ms
    );
    for o in out.iter().filter(|o| Some(o.bins) != o.optimum) {
        eprintln!("  {}: {} bins, OPT {:?}", o.name, o.bins, o.optimum);
    }
    s.mean_ratio
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn triplets_within_ten_percent() {
    let r = sample_ratio("Triplet", 40);
    assert!(r <= 1.10, "Triplet mean bins/OPT {r:.4} > 1.10");
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn new_and_panigrahy_keep_their_bars() {
    let r = sample_ratio("New", 20);
    assert!(r <= 1.05, "New mean bins/OPT {r:.4} > 1.05");
    let r = sample_ratio("Panigrahy", 20);
    assert!(r <= 1.015, "Panigrahy mean bins/OPT {r:.4} > 1.015");
}
