//! Synthetic, seeded fleet-planning instances for benchmarks and tests.
//!
//! **These throughputs are invented** (a smooth first-order shape, not
//! measurements): they exist so that benchmarks and property tests have
//! Mélange-sized inputs with realistic structure — cheap GPUs win on short
//! requests, big GPUs on long ones, the small cards cannot hold long contexts.
//! Prices are the real on-demand catalog prices used by the Mélange reference
//! cases (L4 0.8048, A10G 1.006, A100-80GB 3.673, H100 6.98 $/h).
//!
//! ```
//! use rightsizer_plan::synth::melange_sized;
//! let p = melange_sized(7, 10, 10, 40.0, 8);
//! assert_eq!(p.buckets().len(), 100);
//! assert_eq!(p.options().len(), 4);
//! ```

use crate::fleet::{AcceleratorOption, DemandBucket, FleetProblem};
use rightsizer_model::units::{PricePerHour, Watts};

pub use rightsizer_model::rng::SplitMix64;

/// The four GPU options of the Mélange evaluation, with catalog prices and
/// TDPs as busy power (idle power unknown: zero).
pub fn melange_options() -> Vec<AcceleratorOption> {
    vec![
        AcceleratorOption::new("L4", PricePerHour::from_micros(804_800))
            .with_power(Watts::new(72), Watts::ZERO),
        AcceleratorOption::new("A10G", PricePerHour::from_micros(1_006_000))
            .with_power(Watts::new(150), Watts::ZERO),
        AcceleratorOption::new("A100-80GB", PricePerHour::from_micros(3_673_000))
            .with_power(Watts::new(400), Watts::ZERO),
        AcceleratorOption::new("H100", PricePerHour::from_micros(6_980_000))
            .with_power(Watts::new(700), Watts::ZERO),
    ]
}

/// A `rows × cols` grid of input × output length buckets with seeded random
/// shares, total rate `rate` req/s, over [`melange_options`].
pub fn melange_sized(
    seed: u64,
    rows: usize,
    cols: usize,
    rate: f64,
    slice_factor: u32,
) -> FleetProblem {
    let opts = melange_options();
    // (req/s on tiny requests, input tokens halving it, output tokens halving it, max context)
    let shape = [
        (6.0, 300.0, 80.0, 3000.0),
        (7.0, 400.0, 100.0, 4000.0),
        (22.0, 1500.0, 300.0, 32000.0),
        (40.0, 2500.0, 500.0, 32000.0),
    ];
    let mut rng = SplitMix64::new(seed);
    let mut shares = Vec::with_capacity(rows * cols);
    for _ in 0..rows * cols {
        // Skewed shares: many small buckets, a few heavy ones.
        let u = rng.unit();
        shares.push(u * u * u + 1e-3);
    }
    let total: f64 = shares.iter().sum();
    let mut buckets = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        let input = 25.0 * 2f64.powf(r as f64 * 7.0 / rows.max(1) as f64);
        for c in 0..cols {
            let output = 25.0 * 2f64.powf(c as f64 * 6.0 / cols.max(1) as f64);
            let tp = shape
                .iter()
                .map(|&(k, i, o, ctx)| {
                    (input + output <= ctx).then(|| {
                        let t = k / (1.0 + input / i + output / o);
                        // Round to 3 significant digits like a measured table.
                        let mag = 10f64.powi(t.log10().floor() as i32 - 2);
                        (t / mag).round() * mag
                    })
                })
                .collect();
            buckets.push(DemandBucket::new(
                format!("in{input:.0}/out{output:.0}"),
                rate * shares[r * cols + c] / total,
                tp,
            ));
        }
    }
    FleetProblem::new(opts, buckets, slice_factor).expect("synthetic instance is valid")
}
