//! Generator of heterogeneous instances with a known optimal cost.
//!
//! Bin types come in two groups: *efficient* types whose capacity vectors
//! are multiples `m · base` of one base vector with cost `m · unit_cost`,
//! and *decoy* types that cost more per unit of capacity in every
//! dimension. A perfect packing is built by opening efficient bins and
//! cutting every bin's capacity vector into items that fill it exactly in
//! all dimensions. The continuous cost bound (cheapest cost per unit of
//! capacity times total size) then equals the cost of that packing, so the
//! packing is optimal and its cost is known.

use crate::instance::{BinType, Cost, Instance, Item};
use crate::rng::SplitMix64;

/// Parameters of [`generate`].
#[derive(Clone, Debug)]
pub struct GeneratorConfig {
    /// Dimensions.
    pub dims: usize,
    /// Number of bins in the planted packing.
    pub bins: usize,
    /// Items per planted bin: a random count in this range.
    pub items_per_bin: (usize, usize),
    /// Number of efficient types (multiples 1..=k of the base vector).
    pub efficient_types: usize,
    /// Number of decoy types.
    pub decoy_types: usize,
    /// How independently the dimensions of an item are cut: 0 = every item
    /// has the same share of its bin in every dimension (pods whose cpu and
    /// memory scale together), 1 = independent cuts per dimension.
    pub shape_noise: f64,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            dims: 3,
            bins: 20,
            items_per_bin: (2, 5),
            efficient_types: 3,
            decoy_types: 2,
            shape_noise: 0.2,
        }
    }
}

/// A generated instance and its optimal cost.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The instance (items shuffled).
    pub instance: Instance,
    /// Cost of the planted (optimal) packing.
    pub optimal_cost: Cost,
}

/// Builds an instance with a planted perfect packing.
///
/// ```
/// use rightsizer_pack::generate::{generate, GeneratorConfig};
/// let g = generate(&GeneratorConfig::default(), 7);
/// assert!(g.optimal_cost.0 > 0);
/// ```
pub fn generate(cfg: &GeneratorConfig, seed: u64) -> Generated {
    let mut rng = SplitMix64::new(seed);
    let d = cfg.dims.max(1);
    let base: Vec<u64> = (0..d).map(|_| rng.range(50, 150) * 20).collect();
    let unit_cost = rng.range(100, 1000);
    let ne = cfg.efficient_types.max(1);
    let mut types = Vec::new();
    for m in 1..=ne as u64 {
        let mut t = BinType::new(base.iter().map(|b| b * m).collect(), Cost(unit_cost * m));
        t.name = Some(format!("eff{m}"));
        types.push(t);
    }
    for k in 0..cfg.decoy_types {
        // a different shape, strictly more expensive per unit in every dim
        let mult = rng.range(1, ne as u64 + 1);
        let cap: Vec<u64> = base
            .iter()
            .map(|b| b * mult * rng.range(60, 140) / 100)
            .map(|c| c.max(1))
            .collect();
        let worst_ratio = cap
            .iter()
            .zip(&base)
            .map(|(&c, &b)| c as f64 / b as f64)
            .fold(0.0, f64::max);
        let cost = ((unit_cost as f64 * worst_ratio) * (1.05 + 0.3 * rng.unit())).ceil() as u64;
        let mut t = BinType::new(cap, Cost(cost.max(1)));
        t.name = Some(format!("decoy{k}"));
        types.push(t);
    }
    let mut items: Vec<Item> = Vec::new();
    let mut total = 0u64;
    for _ in 0..cfg.bins {
        let t = rng.below(ne as u64) as usize;
        total += types[t].cost.0;
        let cap = types[t].capacity.clone();
        let (lo, hi) = cfg.items_per_bin;
        let k = rng.range(lo.max(1) as u64, hi.max(lo.max(1)) as u64) as usize;
        // cut the bin into k shares (of the first dimension); the other
        // dimensions follow the shares with noise, then are repaired so
        // every dimension sums exactly to the capacity
        let mut parts: Vec<Vec<u64>> = vec![vec![0; d]; k];
        let mut shares: Vec<f64> = (0..k).map(|_| 0.2 + rng.unit()).collect();
        let tot: f64 = shares.iter().sum();
        shares.iter_mut().for_each(|x| *x /= tot);
        for (dim, &c) in cap.iter().enumerate() {
            let noise = cfg.shape_noise.clamp(0.0, 1.0);
            let mut w: Vec<f64> = shares
                .iter()
                .map(|&f| f * (1.0 - noise) + noise * (0.2 + rng.unit()) / k as f64)
                .collect();
            let t: f64 = w.iter().sum();
            w.iter_mut().for_each(|x| *x /= t);
            // integer parts >= 1 summing to c
            let mut acc = 0u64;
            for j in 0..k {
                let v = if j + 1 == k {
                    c - acc
                } else {
                    let left_after = (k - j - 1) as u64;
                    ((w[j] * c as f64).round() as u64).clamp(1, c - acc - left_after)
                };
                parts[j][dim] = v;
                acc += v;
            }
        }
        items.extend(parts.into_iter().map(Item::new));
    }
    // shuffle
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
    Generated {
        instance: Instance {
            items,
            bin_types: types,
            open_bins: Vec::new(),
        },
        optimal_cost: Cost(total),
    }
}
