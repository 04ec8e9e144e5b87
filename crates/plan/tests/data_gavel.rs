//! Gavel reference cases C1–C5 (`gavel/simulation_throughputs.json`).

mod common;

use rightsizer_model::units::PricePerHour;
use rightsizer_plan::gavel::ThroughputMatrix;

const RESNET: &str = "ResNet-50 (batch size 64)";

fn matrix() -> ThroughputMatrix {
    let text = common::read("gavel/simulation_throughputs.json");
    ThroughputMatrix::from_gavel_json(&text, &["v100", "p100", "k80"], 1).unwrap()
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn gavel_reference_cases() {
    let text = common::read("gavel/simulation_throughputs.json");
    // C1: 83 keys per worker type (all scale factors); 26 jobs at scale factor 1.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for w in ["k80", "p100", "v100"] {
        assert_eq!(v[w].as_object().unwrap().len(), 83, "{w}");
    }
    let all = matrix();
    assert_eq!(all.jobs.len(), 26);
    let r = |t: &str| (all.get(RESNET, t).unwrap() * 1e4).round() / 1e4;
    assert_eq!((r("k80"), r("p100"), r("v100")), (0.6190, 2.6195, 4.3948));

    // C2: throughput per dollar at 0.52 / 1.68 / 2.85 (v100, p100, k80 order: 2.85, 1.68, 0.52).
    let prices = [2_850_000, 1_680_000, 520_000].map(PricePerHour::from_micros);
    let best = all.best_per_dollar(&prices).unwrap();
    assert_eq!(best[RESNET].0, "p100");
    assert_eq!(best["A3C"].0, "k80");
    assert_eq!(best["Transformer (batch size 64)"].0, "k80");

    // C3: max-min fairness on {1 V100, 1 P100, 1 K80}.
    let two = all.select(&[RESNET, "A3C"]).unwrap();
    let prop = two.proportional_throughput(&[1, 1, 1]).unwrap();
    assert!(
        (prop[0] - 2.5444).abs() < 1e-4 && (prop[1] - 5.4320).abs() < 1e-4,
        "{prop:?}"
    );
    let fair = two.max_min_fairness(&[1, 1, 1], None).unwrap();
    let t = 1.238582441263887;
    assert!(
        ((fair.objective - t) / t).abs() <= 1e-6,
        "t = {}",
        fair.objective
    );
    assert!(fair.share(RESNET, "k80") < 1e-9 && fair.share("A3C", "k80") < 1e-9);
    for (job, ty, want) in [
        (RESNET, "v100", 0.2997),
        (RESNET, "p100", 0.7003),
        ("A3C", "v100", 0.7003),
        ("A3C", "p100", 0.2997),
    ] {
        assert!(
            (fair.share(job, ty) - want).abs() <= 1e-3,
            "{job} {ty}: {}",
            fair.share(job, ty)
        );
    }

    // C4: makespan with 20k / 40k steps, vs the best static pinning.
    let steps = [20_000.0, 40_000.0];
    let ms = two.min_makespan(&[1, 1, 1], &steps).unwrap();
    let want = 6058.7270294465525;
    assert!(
        ((ms.objective - want) / want).abs() <= 1e-6,
        "makespan {}",
        ms.objective
    );
    for (job, ty, w) in [
        (RESNET, "v100", 0.3839),
        (RESNET, "p100", 0.6161),
        ("A3C", "v100", 0.6161),
    ] {
        assert!((ms.share(job, ty) - w).abs() <= 1e-3);
    }
    let pinned = two.best_static_makespan(&[1, 1, 1], &steps).unwrap();
    assert!(
        (pinned - 7040.584963793195).abs() <= 1e-6,
        "pinned {pinned}"
    );

    // C5: never assume a monotone ranking.
    let rec = "Recommendation (batch size 512)";
    assert!(all.get(rec, "v100").unwrap() < all.get(rec, "p100").unwrap());
    let rec_only = all.select(&[rec]).unwrap();
    let alloc = rec_only.max_min_fairness(&[1, 1, 1], None).unwrap();
    assert!(alloc.share(rec, "p100") > 0.999, "{alloc:?}");
    println!(
        "G3 t = {:.9}, G4 makespan = {:.6} s, pinned {:.6} s",
        fair.objective, ms.objective, pinned
    );
}
