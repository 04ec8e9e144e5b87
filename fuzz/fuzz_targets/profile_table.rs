//! Fuzz target: the measured profile-table readers (CSV and JSON) behind
//! `rightsizer demo --profiles` and the planners' profile input.
//!
//! Properties: reading never panics; every accepted table writes back to CSV
//! and reads back equal (exactly: the CSV writer prints shortest round-trip
//! floats), its JSON form reads back with the same rows count, and the
//! conversions (throughput maps in every unit, measured points per bucket)
//! never panic and only yield finite, non-negative throughputs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_plan::profiles::{ProfileTable, ThroughputUnit};

fn check(t: &ProfileTable) {
    let csv = t.to_csv_string();
    let back = ProfileTable::from_csv_str(&csv, "fuzz_back.csv").expect("own CSV reads back");
    assert_eq!(&back, t, "CSV round trip changed the table:\n{csv}");
    let json = t.to_json_string();
    let back = ProfileTable::from_json_str(&json, "fuzz_back.json").expect("own JSON reads back");
    assert_eq!(back.rows().len(), t.rows().len());
    for w in t.workloads() {
        for unit in [
            ThroughputUnit::RequestsPerSecond,
            ThroughputUnit::TokensPerSecond,
            ThroughputUnit::StepsPerSecond,
        ] {
            if let Ok(maps) = t.throughput_by_bucket(w, unit) {
                for v in maps.values().flat_map(|m| m.values()) {
                    assert!(*v >= 0.0, "negative throughput {v}");
                }
            }
        }
        for b in t.buckets(w) {
            if let Ok(points) = t.measured_points_in(w, b) {
                for p in points.values() {
                    assert!(p.tokens_per_s >= 0.0 && p.tpot_ms > 0.0);
                }
            }
        }
        let _ = t.measured_points(w);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = ProfileTable::from_csv_str(&text, "fuzz.csv") {
        check(&t);
    }
    if let Ok(t) = ProfileTable::from_json_str(&text, "fuzz.json") {
        check(&t);
    }
});
