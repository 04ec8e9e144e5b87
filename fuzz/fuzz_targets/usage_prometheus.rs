//! Fuzz target: the Prometheus `query_range` reader used by
//! `rightsizer recommend --usage *.json`.
//!
//! Properties: reading never panics; an accepted response is normalised
//! (each series strictly increasing in time, values finite and
//! non-negative, GPU utilisation within [0, 1]); an error names the file.
#![no_main]

#[path = "usage_checks.rs"]
mod usage_checks;

use libfuzzer_sys::fuzz_target;
use rightsizer_size::input::{read_prometheus, PromMetric};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match read_prometheus("fuzz.json", &text, Some(PromMetric::MemoryWorkingSetBytes)) {
        Err(e) => assert!(e.to_string().starts_with("fuzz.json"), "{e}"),
        Ok(set) => usage_checks::assert_normalised(&set),
    }
});
