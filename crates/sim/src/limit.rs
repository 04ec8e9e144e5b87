//! The limit the online policies are measured against, per seed and
//! arrival level, on the same arrival sequences as [`crate::run`]:
//!
//! - an **upper bound** on the GPU allocation *any* policy (online or
//!   offline) can reach: the Lagrangian dual of the LP relaxation that
//!   assigns the arrived GPU pods fractionally to *node groups* (nodes of one
//!   shape: GPU model, GPU count, CPU, memory), subject to each group's total
//!   CPU, GPU and memory. A pod class may only use groups whose model it
//!   accepts and whose single node could hold it (enough GPUs, CPU and
//!   memory). By weak duality *every* non-negative multiplier vector gives a
//!   valid bound, so the bound stays true however the projected subgradient
//!   search ([`LimitConfig::dual_iterations`]) ends; the trivial bounds
//!   (capacity, arrived demand) are two such points and are always included;
//! - an **achievable offline figure**: the arrived prefix known in advance,
//!   placed by each policy of [`LimitConfig::offline`] in two orders —
//!   as it arrived, and sorted by decreasing GPU request (then CPU; CPU-only
//!   pods last); the best of these packings is kept. It is a real placement, checked by the simulator's
//!   feasibility rules.
//!
//! Levels match [`SeedRun::at`](crate::run::SeedRun::at): the bound is taken
//! at the *last* arrival of the level's bucket (the LP value only grows with
//! the prefix, so it bounds every arrival in the bucket and so their mean),
//! and the offline figure at the *first* arrival (its placement stays
//! feasible at every later arrival of the bucket). An empty bucket uses the
//! `±1` window as `SeedRun::at` does.
//!
//! ```no_run
//! use rightsizer_sim::{load_experiment, limit::{seed_limit, LimitConfig}, run::RunConfig};
//! let dir = std::path::Path::new("../shared/data/openb");
//! let exp = load_experiment(&dir.join("openb_node_list_gpu_node.csv"),
//!                           &dir.join("openb_pod_list_default.csv"))?;
//! let l = seed_limit(&exp, 42, &RunConfig::default(), &LimitConfig::default())?;
//! let at100 = l.level(100).unwrap();
//! assert!(at100.offline_pct <= at100.upper_bound_pct);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::report::LEVELS;
use crate::run::{arrival_order, simulate, RunConfig, RunError};
use crate::workload::Experiment;
use rightsizer_place::frag::ModelMask;
use rightsizer_place::share::{PodKind, SharePolicy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// What to compute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitConfig {
    /// Arrival levels (% of GPU capacity).
    pub levels: Vec<u32>,
    /// Subgradient iterations of the dual search per level (0: only the
    /// trivial bounds, capacity and arrived demand).
    pub dual_iterations: u32,
    /// Policies that pack the sorted prefix for the offline figure (empty:
    /// no offline figure, reported as 0).
    pub offline: Vec<SharePolicy>,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            levels: LEVELS.to_vec(),
            dual_iterations: 300,
            offline: vec![SharePolicy::FgdStrand, SharePolicy::BestFit],
        }
    }
}

/// The limit at one arrival level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelLimit {
    /// Arrival level (% of capacity).
    pub arrive_pct: u32,
    /// Upper bound on GPU allocation (% of capacity).
    pub upper_bound_pct: f64,
    /// Best offline packing of the prefix (% of capacity).
    pub offline_pct: f64,
    /// The policy that packed it (`None` without offline policies).
    pub offline_policy: Option<SharePolicy>,
    /// Subgradient iterations the dual search ran.
    pub dual_iterations: u32,
}

/// The limits of one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedLimit {
    /// The seed.
    pub seed: u64,
    /// One entry per level that has arrivals, in the order asked.
    pub levels: Vec<LevelLimit>,
    /// Wall time in seconds.
    #[serde(skip)]
    pub wall_secs: f64,
}

impl SeedLimit {
    /// The entry for level `pct`.
    pub fn level(&self, pct: u32) -> Option<&LevelLimit> {
        self.levels.iter().find(|l| l.arrive_pct == pct)
    }
}

/// Computes the limits of one seed (after [`RunConfig::validate`]).
pub fn seed_limit(
    exp: &Experiment,
    seed: u64,
    cfg: &RunConfig,
    lcfg: &LimitConfig,
) -> Result<SeedLimit, RunError> {
    cfg.validate(exp)?;
    let start = Instant::now();
    let (order, rng) = arrival_order(exp, seed, cfg.inflation);
    let cap = f64::from(exp.gpu_capacity.get());
    let mut pct = Vec::with_capacity(order.len());
    let mut arrived = 0u64;
    for &p in &order {
        arrived += exp.pods[p as usize].total_gpu_milli();
        pct.push((arrived as f64 * 100.0 / cap).round() as u64);
    }
    let groups = Groups::new(exp);
    let plain = RunConfig {
        record_decisions: false,
        ..*cfg
    };
    let mut levels = Vec::new();
    for &level in &lcfg.levels {
        let l = u64::from(level);
        let in_bucket = |lo: u64, hi: u64| {
            let first = pct.iter().position(|&x| (lo..=hi).contains(&x))?;
            let last = pct.iter().rposition(|&x| (lo..=hi).contains(&x))?;
            Some((first, last))
        };
        let Some((first, last)) = in_bucket(l, l).or_else(|| in_bucket(l.saturating_sub(1), l + 1))
        else {
            continue;
        };
        let mut best: Option<(u64, SharePolicy)> = None;
        let arrival = order[..=first].to_vec();
        let mut sorted = arrival.clone();
        sorted.sort_by_key(|&p| {
            let s = &exp.pods[p as usize];
            (
                std::cmp::Reverse(s.total_gpu_milli()),
                std::cmp::Reverse(s.cpu.get()),
                p,
            )
        });
        for prefix in [&arrival, &sorted] {
            for &policy in &lcfg.offline {
                let r = simulate(exp, policy, seed, prefix, rng.clone(), &plain, start);
                if best.is_none_or(|(b, _)| r.allocated_milli > b) {
                    best = Some((r.allocated_milli, policy));
                }
            }
        }
        let offline = best.map_or(0, |b| b.0);
        let (ub, iters) = groups.upper_bound(exp, &order[..=last], lcfg.dual_iterations, offline);
        levels.push(LevelLimit {
            arrive_pct: level,
            upper_bound_pct: ub * 100.0 / cap,
            offline_pct: offline as f64 * 100.0 / cap,
            offline_policy: best.map(|b| b.1),
            dual_iterations: iters,
        });
    }
    Ok(SeedLimit {
        seed,
        levels,
        wall_secs: start.elapsed().as_secs_f64(),
    })
}

/// Node groups of one shape with their total resources.
struct Groups {
    /// (model, gpus per node, cpu per node, memory per node).
    shape: Vec<(Option<u8>, u32, u64, u64)>,
    /// Totals (cpu, gpu milli, memory).
    total: Vec<[f64; 3]>,
}

/// A class of arrived GPU pods: its request and how many arrived.
struct Class {
    cpu: f64,
    gpu: f64,
    mem: f64,
    count: f64,
    eligible: Vec<usize>,
}

impl Groups {
    fn new(exp: &Experiment) -> Self {
        let mut map: BTreeMap<(Option<u8>, u32, u64, u64), u64> = BTreeMap::new();
        for n in &exp.nodes {
            if n.gpus > 0 && n.model.is_some() {
                *map.entry((n.model, n.gpus, n.cpu.get(), n.memory.get()))
                    .or_default() += 1;
            }
        }
        let (shape, total) = map
            .into_iter()
            .map(|(s, k)| {
                let k = k as f64;
                (
                    s,
                    [s.2 as f64 * k, f64::from(s.1) * 1000.0 * k, s.3 as f64 * k],
                )
            })
            .unzip();
        Self { shape, total }
    }

    fn classes(&self, exp: &Experiment, prefix: &[u32]) -> Vec<Class> {
        let mut map: BTreeMap<(u64, u64, u32, u32, ModelMask), u64> = BTreeMap::new();
        for &p in prefix {
            let s = &exp.pods[p as usize];
            if s.kind() != PodKind::CpuOnly {
                *map.entry((
                    s.cpu.get(),
                    s.memory.get(),
                    s.num_gpu,
                    s.gpu_milli.get(),
                    s.models,
                ))
                .or_default() += 1;
            }
        }
        map.into_iter()
            .map(|((cpu, mem, num, milli, models), count)| {
                let eligible = self
                    .shape
                    .iter()
                    .enumerate()
                    .filter(|(_, &(m, g, c, me))| {
                        models.allows(m) && g >= num && c >= cpu && me >= mem
                    })
                    .map(|(i, _)| i)
                    .collect();
                Class {
                    cpu: cpu as f64,
                    gpu: f64::from(num) * f64::from(milli),
                    mem: mem as f64,
                    count: count as f64,
                    eligible,
                }
            })
            .collect()
    }

    /// The best dual value found (milli-GPU) and the iterations run.
    /// `target` (an achievable value) steers the Polyak step.
    fn upper_bound(
        &self,
        exp: &Experiment,
        prefix: &[u32],
        iterations: u32,
        target: u64,
    ) -> (f64, u32) {
        let classes = self.classes(exp, prefix);
        let ng = self.shape.len();
        let capacity: f64 = self.total.iter().map(|t| t[1]).sum();
        let demand: f64 = classes
            .iter()
            .filter(|c| !c.eligible.is_empty())
            .map(|c| c.gpu * c.count)
            .sum();
        let mut best = capacity.min(demand);
        // Multipliers per group for (cpu, gpu, memory), in milli-GPU per
        // unit of the group's capacity.
        let mut y: Vec<[f64; 3]> = self.total.iter().map(|t| [0.0, 0.5 * t[1], 0.0]).collect();
        let mut grad = vec![[0.0f64; 3]; ng];
        let mut mu = 1.0;
        let mut stall = 0;
        let mut run = 0;
        let lb = target as f64;
        for _ in 0..iterations {
            run += 1;
            let mut value: f64 = y.iter().map(|m| m[0] + m[1] + m[2]).sum();
            grad.fill([1.0; 3]);
            for c in &classes {
                let mut top: Option<(f64, usize)> = None;
                for &g in &c.eligible {
                    let t = &self.total[g];
                    let v = c.gpu
                        - y[g][0] * c.cpu / t[0]
                        - y[g][1] * c.gpu / t[1]
                        - y[g][2] * c.mem / t[2].max(1.0);
                    if v > 0.0 && top.is_none_or(|(b, _)| v > b) {
                        top = Some((v, g));
                    }
                }
                if let Some((v, g)) = top {
                    value += c.count * v;
                    let t = &self.total[g];
                    grad[g][0] -= c.count * c.cpu / t[0];
                    grad[g][1] -= c.count * c.gpu / t[1];
                    grad[g][2] -= c.count * c.mem / t[2].max(1.0);
                }
            }
            if value < best - 1e-9 {
                best = value;
                stall = 0;
            } else {
                stall += 1;
                if stall >= 10 {
                    mu /= 2.0;
                    stall = 0;
                }
            }
            if best - lb < 0.5 || mu < 1e-6 {
                break;
            }
            let norm: f64 = grad.iter().flat_map(|g| g.iter()).map(|x| x * x).sum();
            if norm <= 0.0 {
                break;
            }
            let step = mu * (value - lb).max(1.0) / norm;
            for (m, g) in y.iter_mut().zip(&grad) {
                for k in 0..3 {
                    m[k] = (m[k] - step * g[k]).max(0.0);
                }
            }
        }
        (best, run)
    }
}

/// [`seed_limit`] for every seed, in parallel over the rayon pool; results
/// are in seed order and do not depend on the thread count.
pub fn limits_many(
    exp: &Experiment,
    seeds: &[u64],
    cfg: &RunConfig,
    lcfg: &LimitConfig,
) -> Result<Vec<SeedLimit>, RunError> {
    use rayon::prelude::*;
    cfg.validate(exp)?;
    seeds
        .par_iter()
        .map(|&s| seed_limit(exp, s, cfg, lcfg))
        .collect()
}

/// Mean over seeds of the bound and the offline figure at `level`
/// (`None` if no seed has the level).
pub fn mean_at(limits: &[SeedLimit], level: u32) -> Option<(f64, f64)> {
    let v: Vec<&LevelLimit> = limits.iter().filter_map(|l| l.level(level)).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    Some((
        v.iter().map(|l| l.upper_bound_pct).sum::<f64>() / n,
        v.iter().map(|l| l.offline_pct).sum::<f64>() / n,
    ))
}

/// [`limits_many`] on a dedicated pool of `threads` threads (`None`:
/// rayon's global pool). The results do not depend on the thread count.
pub fn limits_many_on(
    threads: Option<usize>,
    exp: &Experiment,
    seeds: &[u64],
    cfg: &RunConfig,
    lcfg: &LimitConfig,
) -> Result<Vec<SeedLimit>, RunError> {
    match threads {
        None => limits_many(exp, seeds, cfg, lcfg),
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t.max(1))
            .build()
            .map_err(|e| RunError::ThreadPool(e.to_string()))?
            .install(|| limits_many(exp, seeds, cfg, lcfg)),
    }
}
