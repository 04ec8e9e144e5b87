//! Fuzz target: `Quantity::parse` on arbitrary input.
//!
//! Properties: parsing never panics; a parsed quantity's canonical string
//! re-parses to the same amount; printing reaches a fixed point after at most
//! one more round (the one upstream exception: a binary amount that is not a
//! multiple of 1024 prints as a plain integer, `62.5Ki` → `64000`, which reads
//! back as decimal SI, `64k`); accessors never panic.
//! Crash inputs belong in `FUZZ_REGRESSIONS` in crates/model/tests/quantity.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_model::quantity::{Format, Quantity};

fuzz_target!(|data: &[u8]| {
    // Non-UTF-8 input can never be a valid quantity, but lossy conversion
    // still exercises the scanner on the rest of the bytes.
    let text = String::from_utf8_lossy(data);
    let Ok(q) = Quantity::parse(&text) else {
        return;
    };
    let s1 = q.to_string();
    let q1 = Quantity::parse(&s1)
        .unwrap_or_else(|e| panic!("{text:?} -> {s1:?} does not re-parse: {e}"));
    assert!(q1.eq_amount(&q), "{text:?} -> {s1:?} changed the amount");
    let s2 = q1.to_string();
    if s1 != s2 {
        assert_eq!(q.format(), Format::BinarySI, "{text:?}: {s1:?} -> {s2:?}");
        assert!(
            s1.trim_start_matches('-')
                .bytes()
                .all(|c| c.is_ascii_digit()),
            "{text:?}: {s1:?} -> {s2:?}"
        );
    }
    let q2 = Quantity::parse(&s2).expect("second canonical form re-parses");
    assert!(
        q2.eq_amount(&q) && q2.to_string() == s2,
        "{text:?}: no fixed point"
    );
    assert!((-q).eq_amount(&-q1));
    // Accessors must not panic on any parsed value.
    let _ = (q.value(), q.milli_value(), q.checked_scaled_value(-9));
    let _ = (q.to_millicpu(), q.to_bytes(), q.round_up(0), q.as_f64());
});
