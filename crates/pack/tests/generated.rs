//! Heterogeneous bins with costs: on generated instances with a planted
//! perfect packing (known optimal cost), the cost is within 2% of optimal
//! on at least 95% of the instances.

use rightsizer_pack::generate::{generate, GeneratorConfig};
use rightsizer_pack::{pack, Budget, PackOptions};

/// The bar: within 2% of the planted optimum on ≥ 95% of the
/// instances, with a deterministic iteration budget of about 1 s per
/// instance in release (12k iterations: 40/40 within 2%, mean ≈ 1.013).
/// Slow in debug builds: run by `.ci/run` in release.
#[test]
#[ignore = "slow in debug builds; run by .ci/run in release"]
fn cost_within_two_percent_on_95_percent() {
    let mut within = 0;
    let total = 40;
    let mut worst = 0.0f64;
    let mut sum = 0.0f64;
    let mut within5 = 0;
    for seed in 0..total {
        let cfg = GeneratorConfig {
            dims: 2 + (seed as usize % 3),
            bins: 30 + (seed as usize % 5) * 5,
            items_per_bin: (4, 10),
            efficient_types: 3,
            decoy_types: 2,
            shape_noise: 0.2,
        };
        let g = generate(&cfg, seed);
        let t0 = std::time::Instant::now();
        let r = pack(
            &g.instance,
            &PackOptions {
                budget: Budget::iterations(12_000),
                seed,
                ..PackOptions::default()
            },
        )
        .unwrap();
        assert!(r.unplaced.is_empty());
        assert!(
            r.lower_bound <= g.optimal_cost,
            "bound above the planted optimum"
        );
        assert!(
            r.objective >= g.optimal_cost,
            "better than the optimum: bug"
        );
        let ratio = r.objective.0 as f64 / g.optimal_cost.0 as f64;
        eprintln!(
            "seed {seed}: ratio {ratio:.4} in {:.0} ms ({} items)",
            t0.elapsed().as_secs_f64() * 1e3,
            g.instance.items.len()
        );
        worst = worst.max(ratio);
        sum += ratio;
        if ratio <= 1.02 {
            within += 1;
        }
        if ratio <= 1.05 {
            within5 += 1;
        }
    }
    eprintln!(
        "within 2%: {within}/{total}, mean ratio {:.4}, worst {worst:.3}",
        sum / total as f64
    );
    assert!(
        within * 100 >= 95 * total,
        "only {within}/{total} within 2%"
    );
    assert!(within5 == total, "only {within5}/{total} within 5%");
    assert!(
        sum / total as f64 <= 1.02,
        "mean ratio {:.4}",
        sum / total as f64
    );
}

#[test]
fn planted_cost_equals_the_continuous_bound() {
    // The generator's claim: the planted packing meets the cost bound, so
    // the packer's lower bound equals the planted cost.
    for seed in 0..5 {
        let g = generate(&GeneratorConfig::default(), seed);
        let r = pack(
            &g.instance,
            &PackOptions {
                budget: Budget::iterations(1),
                ..PackOptions::default()
            },
        )
        .unwrap();
        assert_eq!(r.lower_bound, g.optimal_cost, "seed {seed}");
    }
}

#[test]
fn small_generated_instances_respect_the_planted_optimum() {
    for seed in 0..4 {
        let cfg = GeneratorConfig {
            bins: 6,
            ..GeneratorConfig::default()
        };
        let g = generate(&cfg, seed);
        let r = pack(
            &g.instance,
            &PackOptions {
                budget: Budget::iterations(500),
                seed,
                ..PackOptions::default()
            },
        )
        .unwrap();
        assert!(r.unplaced.is_empty());
        assert!(r.lower_bound <= g.optimal_cost);
        assert!(r.objective >= g.optimal_cost);
        assert!(r.objective.0 as f64 <= 1.5 * g.optimal_cost.0 as f64);
    }
}
