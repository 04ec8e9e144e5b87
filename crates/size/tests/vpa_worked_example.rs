//! A worked example, computed by hand from VPA's published algorithm, run
//! end to end through the CSV reader and the `vpa` strategy.
//!
//! Input: one pod `api-0`, container `app`, 10 080 one-minute samples
//! starting 2026-11-27T00:00:00Z (7 days minus one minute).
//!
//! CPU: minute `i` uses `i mod 100`: < 70 → 0.2 cores, < 92 → 0.5, else 1.0.
//! With the decay the weight shares are 0.7017 / 0.2196 / 0.0787, so the
//! cumulative weight passes 0.5 in the 0.2-core bucket, 0.9 in the 0.5-core
//! bucket (0.9213) and 0.95 in the 1.0-core bucket.
//!
//! Buckets (`start(n) = 0.01 × (1.05^n − 1)/0.05`):
//! - 0.2 → n = ⌊ln 2 / ln 1.05⌋ = 14, end start(15) = 0.215786 → 215 m
//! - 0.5 → n = ⌊ln 3.5 / ln 1.05⌋ = 25, end start(26) = 0.511135 → 511 m
//! - 1.0 → n = ⌊ln 6 / ln 1.05⌋ = 36, end start(37) = 1.016281 → 1016 m
//!
//! Confidence: lifespan 10 079 min = 6.99931 d, samples 10 080/1440 = 7.0 →
//! c = 6.99931.
//! - target = 511 + ⌊511 × 0.15⌋ = 511 + 76 = **587 m**
//! - lower = ⌊(215 + 32) × (1 + 0.001/c)^−2⌋ = ⌊247 × 0.999714⌋ = **246 m**
//! - upper = ⌊(1016 + 152) × (1 + 1/c)⌋ = ⌊1168 × 1.142871⌋ = **1334 m**
//!
//! Memory: 1e9 bytes every minute plus one peak per day; day k (k = 1..7)
//! peaks at 3.0, 2.5, 2.0, 1.8, 1.6, 1.4, 1.2 GB. Windows end at midnight of
//! day k+1, weights 2^(k−1) = 1, 2, …, 64 (total 127). Ascending by value the
//! cumulative weights are 64 (1.2 GB), 96, 112, 120 (1.8 GB), 124 (2.0 GB),
//! 126, 127, so p50 → 1.2 GB, p90 (114.3) → 1.8 GB, p95 (120.65) → 2.0 GB.
//! Bucket ends (`start(n) = 1e7 × (1.05^n − 1)/0.05`):
//! 1.2e9 → n 39 → 1 207 997 742; 1.8e9 → n 47 → 1 880 253 929;
//! 2.0e9 → n 49 → 2 093 479 957.
//! - target = 1 880 253 929 + 282 038 089 = **2 162 292 018 B**
//! - lower = ⌊(1 207 997 742 + 181 199 661) × 0.999714⌋ = **1 388 800 535 B**
//! - upper = ⌊(2 093 479 957 + 314 021 993) × 1.142871⌋ = **2 751 464 923 B**

use rightsizer_size::input::read_csv;
use rightsizer_size::recommend::{recommend_all, RecommendContext, Strategy};
use rightsizer_size::time::Timestamp;

#[test]
fn vpa_worked_example_matches_hand_computation() {
    let t0 = 1_795_737_600i64; // 2026-11-27T00:00:00Z
    let peaks = [3.0e9, 2.5e9, 2.0e9, 1.8e9, 1.6e9, 1.4e9, 1.2e9];
    let mut csv = String::from("timestamp,namespace,pod,container,resource,value\n");
    for i in 0..10_080i64 {
        let c = i % 100;
        let cpu = if c < 70 {
            0.2
        } else if c < 92 {
            0.5
        } else {
            1.0
        };
        let day = (i / 1440) as usize;
        let mem = if i % 1440 == 600 { peaks[day] } else { 1e9 };
        let t = t0 + 60 * i;
        csv.push_str(&format!(
            "{t},prod,api-0,app,cpu,{cpu}\n{t},prod,api-0,app,memory,{mem}\n"
        ));
    }
    let usage = read_csv("worked.csv", &csv).unwrap();
    let now = Timestamp::from_unix_secs(t0 + 7 * 86_400).unwrap();
    let vpa = Strategy::Vpa.build().unwrap();
    let report = recommend_all(&usage, vpa.as_ref(), &RecommendContext::at(now));
    let rec = &report.workloads.values().next().unwrap().containers["app"];
    let cpu = rec.cpu.unwrap();
    let mem = rec.memory.unwrap();
    assert_eq!(
        (
            cpu.target.get(),
            cpu.lower_bound.get(),
            cpu.upper_bound.get()
        ),
        (587, 246, 1334)
    );
    assert_eq!(
        (
            mem.target.get(),
            mem.lower_bound.get(),
            mem.upper_bound.get()
        ),
        (2_162_292_018, 1_388_800_535, 2_751_464_923)
    );
    assert_eq!(cpu.uncapped_target, cpu.target);
    approx::assert_relative_eq!(
        rec.confidence.unwrap(),
        10_079.0 / 1440.0,
        max_relative = 1e-12
    );
}

#[test]
fn vpa_is_order_independent_for_shuffled_input() {
    // The same samples written in reverse order give the same recommendation.
    let t0 = 1_795_737_600i64;
    let mut rows = Vec::new();
    for i in 0..3000i64 {
        let t = t0 + 60 * i;
        rows.push(format!("{t},ns,w-0,c,cpu,{}", (i % 7) as f64 / 10.0));
        rows.push(format!(
            "{t},ns,w-0,c,memory,{}",
            1e8 + (i % 13) as f64 * 1e7
        ));
    }
    let hdr = "timestamp,namespace,pod,container,resource,value\n";
    let fwd = format!("{hdr}{}\n", rows.join("\n"));
    rows.reverse();
    let rev = format!("{hdr}{}\n", rows.join("\n"));
    let vpa = Strategy::Vpa.build().unwrap();
    let a = read_csv("a", &fwd).unwrap();
    let b = read_csv("b", &rev).unwrap();
    let ctx = RecommendContext::at(a.last_time().unwrap());
    assert_eq!(
        recommend_all(&a, vpa.as_ref(), &ctx).workloads,
        recommend_all(&b, vpa.as_ref(), &ctx).workloads
    );
}
