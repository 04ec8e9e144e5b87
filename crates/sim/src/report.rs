//! Aggregation of seed runs into per-policy statistics at arrival levels.

use crate::run::{Metric, SeedRun};
use rightsizer_place::share::SharePolicy;
use serde::{Deserialize, Serialize};

/// The arrival levels of the paper's table (% of GPU capacity).
pub const LEVELS: [u32; 6] = [50, 80, 90, 95, 100, 130];

/// Statistics of one metric at one arrival level over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelStats {
    /// Arrival level (% of capacity).
    pub arrive_pct: u32,
    /// Mean over seeds.
    pub mean: f64,
    /// Population standard deviation over seeds.
    pub sd: f64,
    /// Minimum over seeds.
    pub min: f64,
    /// Maximum over seeds.
    pub max: f64,
    /// Per-seed values, in seed order (seeds with no value are skipped).
    pub per_seed: Vec<(u64, f64)>,
}

/// One policy's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySummary {
    /// The policy.
    pub policy: SharePolicy,
    /// GPU allocation ratio per level.
    pub allocation: Vec<LevelStats>,
    /// Fragmentation amount (% of capacity) per level.
    pub frag_amount: Vec<LevelStats>,
    /// Fragmentation rate (% of idle) per level.
    pub frag_rate: Vec<LevelStats>,
    /// Mean wall time per seed run, seconds.
    pub mean_wall_secs: f64,
}

/// Statistics over seeds of `metric` at `level`, `None` if no seed has a value.
pub fn level_stats(runs: &[&SeedRun], metric: Metric, level: u32) -> Option<LevelStats> {
    let per_seed: Vec<(u64, f64)> = runs
        .iter()
        .filter_map(|r| r.at(metric, level).map(|v| (r.seed, v)))
        .collect();
    if per_seed.is_empty() {
        return None;
    }
    let n = per_seed.len() as f64;
    let mean = per_seed.iter().map(|x| x.1).sum::<f64>() / n;
    let var = per_seed.iter().map(|x| (x.1 - mean).powi(2)).sum::<f64>() / n;
    Some(LevelStats {
        arrive_pct: level,
        mean,
        sd: var.sqrt(),
        min: per_seed.iter().map(|x| x.1).fold(f64::INFINITY, f64::min),
        max: per_seed
            .iter()
            .map(|x| x.1)
            .fold(f64::NEG_INFINITY, f64::max),
        per_seed,
    })
}

/// Summaries per policy (in first-appearance order) at `levels`.
pub fn summarize(runs: &[SeedRun], levels: &[u32]) -> Vec<PolicySummary> {
    let mut policies: Vec<SharePolicy> = Vec::new();
    for r in runs {
        if !policies.contains(&r.policy) {
            policies.push(r.policy);
        }
    }
    policies
        .into_iter()
        .map(|p| {
            let rs: Vec<&SeedRun> = runs.iter().filter(|r| r.policy == p).collect();
            let stats = |m| {
                levels
                    .iter()
                    .filter_map(|&l| level_stats(&rs, m, l))
                    .collect()
            };
            PolicySummary {
                policy: p,
                allocation: stats(Metric::Allocation),
                frag_amount: stats(Metric::FragAmount),
                frag_rate: stats(Metric::FragRate),
                mean_wall_secs: rs.iter().map(|r| r.wall_secs).sum::<f64>()
                    / rs.len().max(1) as f64,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Bucket;

    fn run(seed: u64, alloc: f64) -> SeedRun {
        let mut buckets = vec![Bucket::default(); 101];
        buckets[100] = Bucket {
            count: 2,
            alloc_pct: alloc,
            frag_amount_pct: 1.0,
            frag_rate_pct: 2.0,
        };
        SeedRun {
            policy: SharePolicy::BestFit,
            seed,
            buckets,
            submitted: 0,
            placed: 0,
            failed: 0,
            allocated_milli: 0,
            digest: 0,
            decisions: vec![],
            wall_secs: 0.0,
        }
    }

    #[test]
    fn stats_and_window() {
        let runs = vec![run(1, 90.0), run(2, 92.0)];
        let s = summarize(&runs, &[99, 100, 50]);
        let a = &s[0].allocation;
        // 99 is empty: falls back to the ±1 window (bucket 100).
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].arrive_pct, 100);
        assert!((a[1].mean - 91.0).abs() < 1e-12);
        assert!((a[1].sd - 1.0).abs() < 1e-12);
        assert_eq!((a[1].min, a[1].max), (90.0, 92.0));
        assert_eq!(a[1].per_seed, vec![(1, 90.0), (2, 92.0)]);
    }
}
