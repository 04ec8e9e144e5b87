//! `rightsizer plan` with a `profiles:` table: the demand buckets'
//! throughputs come from a measured profile table next to the document.

mod common;

use common::{examples, plan};
use std::path::PathBuf;

#[test]
fn example_reads_the_table_and_inline_values_win() {
    let doc = examples().join("plan-profiles.yaml");
    let out = plan(&[doc.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let o = &r["outcome"];
    assert_eq!(o["stop"], "optimal");
    // By hand from the table: 40 req/s of 512x128 at 9.5 per A10G -> 5 A10G;
    // 8 req/s of 2048x256 at 4.2 per L40S -> 2 L40S; 2 req/s of 8192x512 at
    // the inline 1.0 per A100 -> 2 A100 (the table has no A100-80GBx1 row,
    // so without the inline value that bucket would take 4 L40S).
    assert_eq!(o["counts"]["A10Gx1"], 5);
    assert_eq!(o["counts"]["L40Sx1"], 2);
    assert_eq!(o["counts"]["A100-80GBx1"], 2);
    assert_eq!(o["cost"], 5 * 1_006_000 + 2 * 1_861_000 + 2 * 2_745_600);
}

#[test]
fn a_bucket_missing_from_the_table_is_an_error_naming_it() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plan-profiles");
    std::fs::create_dir_all(&dir).unwrap();
    let table = examples().join("profiles/llama-8b.csv");
    let doc = dir.join("typo.yaml");
    std::fs::write(
        &doc,
        format!(
            "options:\n  - {{name: A10Gx1, price_per_hour: 1.006}}\ndemand:\n  - {{label: 512x129, rate: 4}}\nprofiles: {{table: {}, workload: llama-3-8b}}\n",
            table.display()
        ),
    )
    .unwrap();
    let out = plan(&[doc.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("demand[0].label"), "{err}");
    assert!(err.contains("512x129"), "{err}");
}
