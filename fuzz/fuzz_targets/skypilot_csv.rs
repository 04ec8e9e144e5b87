//! Fuzz target: the SkyPilot `vms.csv` catalog readers (AWS, Azure, GCP)
//! behind `rightsizer plan`'s catalog import.
//!
//! Properties: reading never panics; missing or sentinel prices make a row
//! ineligible (`None`), so every price that is read is positive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_model::units::PricePerHour;
use rightsizer_plan::skypilot::{read_aws, read_azure, read_gcp};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for rows in [
        read_aws(&text, "fuzz_aws.csv"),
        read_azure(&text, "fuzz_azure.csv"),
        read_gcp(&text, "fuzz_gcp.csv"),
    ]
    .into_iter()
    .flatten()
    {
        for r in &rows {
            for p in [r.price, r.spot_price].into_iter().flatten() {
                assert!(
                    p > PricePerHour::ZERO,
                    "line {}: non-positive price",
                    r.line
                );
            }
        }
    }
});
