//! The Monte Carlo "workload inflation" experiment of the FGD paper (§4 of
//! `fgd.md`): shuffle the trace, append uniform clones up to 130% of GPU
//! capacity, submit pods one at a time, drop what cannot be placed, never
//! depart; record GPU allocation and fragmentation against arrived demand.
//!
//! The simulator keeps a compact per-node state and caches each node's
//! policy verdict per pod class until the node changes; verdicts come from
//! [`rightsizer_place::share::Scorer::evaluate`], the same function the
//! placement engine uses, so decisions are identical.

use crate::workload::Experiment;
use rightsizer_model::units::{Bytes, MilliCpu};
use rightsizer_place::engine::pod_rng;
use rightsizer_place::frag::{FxHasher, NodeGpuState};
use rightsizer_place::rng::SeededRng;
use rightsizer_place::share::{
    lowest_free_gpus, random_gpu, Eval, GpuPick, NodeView, PodKind, PodShape, Scorer, SharePolicy,
    MILLI,
};
use serde::{Deserialize, Serialize};
use std::hash::Hasher;
use std::time::Instant;

/// The largest accepted [`RunConfig::inflation`].
pub const MAX_INFLATION: f64 = 100.0;

/// The most arrivals (trace pods plus clones) one run may submit; a
/// configuration expected to need more than half of it is rejected by
/// [`RunConfig::validate`], and [`arrival_order`] never goes past it.
pub const MAX_ARRIVALS: usize = 1 << 24;

/// Why a run cannot start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The inflation is not a finite number in `0..=MAX_INFLATION`.
    #[error("inflation {value} is not a finite number in 0..={max} (0 disables tuning)", max = MAX_INFLATION)]
    InvalidInflation {
        /// The value given.
        value: f64,
    },
    /// Inflation was asked for, but no pod requests a GPU, so no number of
    /// clones reaches the target.
    #[error("inflation {inflation} needs GPU demand, but no pod of the trace requests a GPU (use inflation 0)")]
    NoGpuDemand {
        /// The inflation asked for.
        inflation: f64,
    },
    /// The inflation would need more arrivals than a run may submit.
    #[error("inflation {inflation} needs about {expected:.0} arrivals; at most {limit} are supported", limit = MAX_ARRIVALS / 2)]
    TooManyArrivals {
        /// The inflation asked for.
        inflation: f64,
        /// Expected arrivals (trace pods scaled by target over trace demand).
        expected: f64,
    },
    /// The worker pool could not be built.
    #[error("cannot build the worker pool: {0}")]
    ThreadPool(String),
}

/// Experiment settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Inflate (or trim) the workload to this multiple of GPU capacity
    /// (1.3 in the paper); `0` disables tuning. Must be finite and in
    /// `0..=MAX_INFLATION` (see [`RunConfig::validate`]).
    pub inflation: f64,
    /// Keep every decision in [`SeedRun::decisions`] (for tests).
    pub record_decisions: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            inflation: 1.3,
            record_decisions: false,
        }
    }
}

impl RunConfig {
    /// Checks the settings against an experiment: the inflation is finite
    /// and in `0..=MAX_INFLATION`, and a positive inflation has GPU demand
    /// to clone and needs at most `MAX_ARRIVALS / 2` arrivals.
    ///
    /// ```
    /// use rightsizer_sim::openb::{parse_nodes, parse_pods};
    /// use rightsizer_sim::run::{RunConfig, RunError};
    /// use rightsizer_sim::workload::Experiment;
    /// let n = parse_nodes("n.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,8000,1024,1,T4\n")?;
    /// let p = parse_pods("p.csv", "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1,0,0\n")?;
    /// let exp = Experiment::new(&n, &p, 95.0)?;
    /// let cfg = RunConfig { inflation: f64::NAN, ..RunConfig::default() };
    /// assert!(matches!(cfg.validate(&exp), Err(RunError::InvalidInflation { .. })));
    /// let cfg = RunConfig::default();
    /// assert!(matches!(cfg.validate(&exp), Err(RunError::NoGpuDemand { .. })));
    /// let cfg = RunConfig { inflation: 0.0, ..RunConfig::default() };
    /// assert_eq!(cfg.validate(&exp), Ok(()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self, exp: &Experiment) -> Result<(), RunError> {
        let inflation = self.inflation;
        if !(0.0..=MAX_INFLATION).contains(&inflation) {
            return Err(RunError::InvalidInflation { value: inflation });
        }
        if inflation == 0.0 {
            return Ok(());
        }
        let total = exp.total_gpu_request();
        if total == 0 {
            return Err(RunError::NoGpuDemand { inflation });
        }
        let target = inflation * f64::from(exp.gpu_capacity.get());
        let expected = exp.pods.len() as f64 * (target / total as f64).max(1.0);
        if expected > (MAX_ARRIVALS / 2) as f64 {
            return Err(RunError::TooManyArrivals {
                inflation,
                expected,
            });
        }
        Ok(())
    }
}

/// Means over the arrivals whose arrived demand rounds to one integer
/// percentage of GPU capacity.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Bucket {
    /// Arrivals in the bucket.
    pub count: u32,
    /// Mean GPU allocation ratio (%).
    pub alloc_pct: f64,
    /// Mean fragmentation amount (% of capacity).
    pub frag_amount_pct: f64,
    /// Mean fragmentation rate (% of idle).
    pub frag_rate_pct: f64,
}

/// One decision: the pod (index into the experiment's name-sorted pods) and
/// where it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The pod.
    pub pod: u32,
    /// Node index and GPUs, or `None` if it failed.
    pub placed: Option<(u32, GpuPick)>,
}

/// The outcome of one (policy, seed) run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    /// The policy.
    pub policy: SharePolicy,
    /// The seed.
    pub seed: u64,
    /// Buckets indexed by arrival percentage `0..buckets.len()`.
    pub buckets: Vec<Bucket>,
    /// Pods submitted (trace plus clones).
    pub submitted: u32,
    /// Pods placed.
    pub placed: u32,
    /// Pods that found no feasible node.
    pub failed: u32,
    /// Allocated milli-GPU at the end.
    pub allocated_milli: u64,
    /// A digest of every decision, for determinism checks.
    pub digest: u64,
    /// Every decision, when [`RunConfig::record_decisions`] is set.
    pub decisions: Vec<Decision>,
    /// Wall time of the run in seconds (not part of the result proper).
    #[serde(skip)]
    pub wall_secs: f64,
}

/// Which metric to read from the buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Metric {
    /// GPU allocation ratio (%).
    Allocation,
    /// Fragmentation amount (% of capacity).
    FragAmount,
    /// Fragmentation rate (% of idle GPU).
    FragRate,
}

impl SeedRun {
    /// The metric at arrival `pct`: the mean over arrivals in that bucket,
    /// or over `pct ± 1` when the bucket is empty; `None` if those are empty too.
    pub fn at(&self, metric: Metric, pct: u32) -> Option<f64> {
        let get = |b: &Bucket| match metric {
            Metric::Allocation => b.alloc_pct,
            Metric::FragAmount => b.frag_amount_pct,
            Metric::FragRate => b.frag_rate_pct,
        };
        let p = pct as usize;
        if let Some(b) = self.buckets.get(p).filter(|b| b.count > 0) {
            return Some(get(b));
        }
        let (mut sum, mut n) = (0.0, 0u64);
        for q in p.saturating_sub(1)..=p + 1 {
            if let Some(b) = self.buckets.get(q).filter(|b| b.count > 0) {
                sum += get(b) * f64::from(b.count);
                n += u64::from(b.count);
            }
        }
        (n > 0).then(|| sum / n as f64)
    }

    /// GPU allocation ratio at arrival `pct`.
    pub fn alloc_at(&self, pct: u32) -> Option<f64> {
        self.at(Metric::Allocation, pct)
    }
}

/// The submission order for a seed: pods (indices into the experiment's
/// name-sorted list) shuffled, then uniform clones appended while the total
/// GPU request stays within `inflation × capacity` (the stop test adds the
/// clone's per-GPU share, as the original simulator does), or random pods
/// removed while it exceeds it. Returns the order and the generator, to be
/// used for the node priorities and the Random policy next.
///
/// An inflation that is not a positive finite number leaves the shuffled
/// trace as it is, and the order never grows past [`MAX_ARRIVALS`];
/// [`RunConfig::validate`] rejects the settings that would reach either.
pub fn arrival_order(exp: &Experiment, seed: u64, inflation: f64) -> (Vec<u32>, SeededRng) {
    let mut rng = SeededRng::new(seed);
    let n = exp.pods.len() as u32;
    let mut order: Vec<u32> = (0..n).collect();
    rng.shuffle(&mut order);
    if inflation > 0.0 && inflation.is_finite() {
        let target = inflation * f64::from(exp.gpu_capacity.get());
        let mut total = exp.total_gpu_request();
        if (total as f64) < target {
            while order.len() < MAX_ARRIVALS {
                let idx = rng.below(u64::from(n)) as u32;
                let p = &exp.pods[idx as usize];
                if (total + u64::from(p.gpu_milli.get())) as f64 > target {
                    break;
                }
                total += p.total_gpu_milli();
                order.push(idx);
            }
        } else {
            while total as f64 > target && !order.is_empty() {
                let k = rng.below(order.len() as u64) as usize;
                let idx = order.remove(k);
                total -= exp.pods[idx as usize].total_gpu_milli();
            }
        }
    }
    (order, rng)
}

/// Per-node fields read on every arrival, packed together.
#[derive(Clone, Copy, Debug)]
struct Hot {
    cpu_free: u64,
    mem_free: u64,
    version: u32,
    max_free: u32,
    full: u32,
    model: Option<u8>,
}

/// Compact mutable cluster state.
struct State {
    hot: Vec<Hot>,
    gpu_off: Vec<usize>,
    gpu_free: Vec<u32>,
    tags: Vec<u32>,
    frag: Vec<f64>,
}

impl State {
    fn new(exp: &Experiment) -> Self {
        let n = exp.nodes.len();
        let mut gpu_off = Vec::with_capacity(n + 1);
        let mut off = 0;
        for node in &exp.nodes {
            gpu_off.push(off);
            off += node.gpus as usize;
        }
        gpu_off.push(off);
        Self {
            hot: exp
                .nodes
                .iter()
                .map(|n| Hot {
                    cpu_free: n.cpu.get(),
                    mem_free: n.memory.get(),
                    version: 0,
                    max_free: if n.gpus > 0 { MILLI } else { 0 },
                    full: n.gpus,
                    model: n.model,
                })
                .collect(),
            gpu_free: vec![MILLI; off],
            tags: vec![0; n],
            frag: vec![0.0; n],
            gpu_off,
        }
    }

    fn gpus(&self, n: usize) -> &[u32] {
        &self.gpu_free[self.gpu_off[n]..self.gpu_off[n + 1]]
    }

    fn view(&self, n: usize) -> NodeView<'_> {
        let h = &self.hot[n];
        NodeView {
            cpu_free: MilliCpu::new(h.cpu_free),
            memory_free: Bytes::new(h.mem_free),
            model: h.model,
            gpus: self.gpus(n),
            tags: self.tags[n],
        }
    }

    fn gpu_state(&self, n: usize) -> NodeGpuState<'_> {
        NodeGpuState {
            cpu_free: MilliCpu::new(self.hot[n].cpu_free),
            model: self.hot[n].model,
            gpus: self.gpus(n),
        }
    }

    fn apply(&mut self, n: usize, pod: &PodShape, pick: GpuPick) {
        let (a, b) = (self.gpu_off[n], self.gpu_off[n + 1]);
        let ok = pick.apply(&mut self.gpu_free[a..b], pod);
        debug_assert!(ok, "the pick fits by construction");
        let g = &self.gpu_free[a..b];
        let h = &mut self.hot[n];
        h.cpu_free -= pod.cpu.get();
        h.mem_free -= pod.memory.get();
        h.max_free = g.iter().copied().max().unwrap_or(0);
        h.full = g.iter().filter(|&&x| x >= MILLI).count() as u32;
        h.version = h.version.wrapping_add(1);
        self.tags[n] |= pod.tag();
    }
}

/// Same answer as `share::fits(&view, pod).is_ok()`, from the packed
/// per-node maxima.
#[inline(always)]
fn feasible(h: &Hot, pod: &PodShape, kind: PodKind) -> bool {
    if h.cpu_free < pod.cpu.get() || h.mem_free < pod.memory.get() {
        return false;
    }
    match kind {
        PodKind::CpuOnly => true,
        PodKind::Share { milli } => h.max_free >= milli && pod.models.allows(h.model),
        PodKind::Whole { count } => h.full >= count && pod.models.allows(h.model),
    }
}

/// Runs one seed of one policy, after [`RunConfig::validate`].
pub fn run_seed(
    exp: &Experiment,
    policy: SharePolicy,
    seed: u64,
    cfg: &RunConfig,
) -> Result<SeedRun, RunError> {
    cfg.validate(exp)?;
    Ok(run_valid(exp, policy, seed, cfg))
}

fn run_valid(exp: &Experiment, policy: SharePolicy, seed: u64, cfg: &RunConfig) -> SeedRun {
    let start = Instant::now();
    let (order, rng) = arrival_order(exp, seed, cfg.inflation);
    simulate(exp, policy, seed, &order, rng, cfg, start)
}

/// Submits `order` (indices into the experiment's pods) one at a time with
/// `policy`; `rng` is the generator left by [`arrival_order`] (node
/// priorities and Random draws come from it).
pub(crate) fn simulate(
    exp: &Experiment,
    policy: SharePolicy,
    seed: u64,
    order: &[u32],
    mut rng: SeededRng,
    cfg: &RunConfig,
    start: Instant,
) -> SeedRun {
    let n_nodes = exp.nodes.len();
    let priority = rng.permutation(n_nodes);
    // Random draws per arrival from (this seed, arrival index), exactly as
    // the engine's Random plugin draws from (seed, pod identity).
    let random_seed = rng.next_u64();
    let mut st = State::new(exp);
    let mut scorer = Scorer::new(policy, Some(&exp.target));
    for n in 0..n_nodes {
        st.frag[n] = scorer.node_fragmentation(&st.gpu_state(n));
    }
    let mut total_frag: f64 = st.frag.iter().sum();
    let cap = f64::from(exp.gpu_capacity.get());
    let k = exp.key_count as usize;
    // Verdict cache, pod-class major so one arrival scans contiguous memory:
    // slot `key * nodes + node` holds (node version, verdict).
    let mut cache: Vec<(u32, Eval)> = Vec::new();
    if policy != SharePolicy::Random {
        let empty = Eval {
            score: 0,
            key: 0.0,
            pick: GpuPick::None,
            delta: 0.0,
        };
        cache = vec![(u32::MAX, empty); n_nodes * k];
    }
    let mut buckets: Vec<Bucket> = Vec::new();
    let mut arrived = 0u64;
    let mut used = 0u64;
    let (mut placed, mut failed) = (0u32, 0u32);
    let mut digest = FxHasher::default();
    let mut decisions = Vec::new();
    let mut feasible_list: Vec<u32> = Vec::with_capacity(n_nodes);
    for (arrival, &pi) in order.iter().enumerate() {
        let pod = &exp.pods[pi as usize];
        let kind = pod.kind();
        arrived += pod.total_gpu_milli();
        let choice: Option<(u32, GpuPick)> = if policy == SharePolicy::Random {
            feasible_list.clear();
            feasible_list
                .extend((0..n_nodes as u32).filter(|&n| feasible(&st.hot[n as usize], pod, kind)));
            if feasible_list.is_empty() {
                None
            } else {
                let mut rng = pod_rng(random_seed, arrival as u64);
                let n = feasible_list[rng.below(feasible_list.len() as u64) as usize];
                let pick = random_pick(st.gpus(n as usize), pod, &mut rng);
                Some((n, pick))
            }
        } else {
            let key = exp.pod_keys[pi as usize] as usize;
            let row = &mut cache[key * n_nodes..(key + 1) * n_nodes];
            // Inline argmax: highest key, ties to the lowest priority (a
            // permutation, so unique), exactly as `share::Best`.
            let mut best: Option<(f64, u32, u32, GpuPick)> = None;
            for (n, ((&prio, slot), h)) in
                priority.iter().zip(row.iter_mut()).zip(&st.hot).enumerate()
            {
                if !feasible(h, pod, kind) {
                    continue;
                }
                if slot.0 != h.version {
                    *slot = (
                        h.version,
                        scorer.evaluate(&st.view(n), pod, Some(st.frag[n])),
                    );
                }
                let key = slot.1.key;
                let better = match best {
                    None => true,
                    Some((bk, bp, _, _)) => key > bk || (key == bk && prio < bp),
                };
                if better {
                    best = Some((key, prio, n as u32, slot.1.pick));
                }
            }
            best.map(|(_, _, n, pick)| (n, pick))
        };
        match choice {
            Some((n, pick)) => {
                let n_us = n as usize;
                st.apply(n_us, pod, pick);
                used += pod.total_gpu_milli();
                let f = scorer.node_fragmentation(&st.gpu_state(n_us));
                total_frag += f - st.frag[n_us];
                st.frag[n_us] = f;
                placed += 1;
                digest.write_u32(pi);
                digest.write_u32(n);
                digest.write_u64(pick_code(pick));
            }
            None => {
                failed += 1;
                digest.write_u32(pi);
                digest.write_u32(u32::MAX);
            }
        }
        if cfg.record_decisions {
            decisions.push(Decision {
                pod: pi,
                placed: choice,
            });
        }
        let pct = (arrived as f64 * 100.0 / cap).round() as usize;
        if buckets.len() <= pct {
            buckets.resize(pct + 1, Bucket::default());
        }
        let idle = cap - used as f64;
        let b = &mut buckets[pct];
        b.count += 1;
        b.alloc_pct += used as f64 * 100.0 / cap;
        b.frag_amount_pct += total_frag.max(0.0) * 100.0 / cap;
        b.frag_rate_pct += if idle > 0.0 {
            total_frag.max(0.0) * 100.0 / idle
        } else {
            0.0
        };
    }
    for b in &mut buckets {
        if b.count > 0 {
            let c = f64::from(b.count);
            b.alloc_pct /= c;
            b.frag_amount_pct /= c;
            b.frag_rate_pct /= c;
        }
    }
    SeedRun {
        policy,
        seed,
        buckets,
        submitted: order.len() as u32,
        placed,
        failed,
        allocated_milli: used,
        digest: digest.finish(),
        decisions,
        wall_secs: start.elapsed().as_secs_f64(),
    }
}

fn random_pick(gpus: &[u32], pod: &PodShape, rng: &mut SeededRng) -> GpuPick {
    match pod.kind() {
        PodKind::CpuOnly => GpuPick::None,
        PodKind::Share { milli } => {
            random_gpu(gpus, milli, rng).map_or(GpuPick::None, GpuPick::Share)
        }
        PodKind::Whole { count } => {
            lowest_free_gpus(gpus, count).map_or(GpuPick::None, GpuPick::Whole)
        }
    }
}

fn pick_code(p: GpuPick) -> u64 {
    match p {
        GpuPick::None => u64::MAX,
        GpuPick::Share(i) => u64::from(i) | 1 << 62,
        GpuPick::Whole(m) => m,
    }
}

/// Runs every (policy, seed) pair, in parallel over the rayon pool; results
/// are in `policies × seeds` order and do not depend on the thread count.
/// `on_done` is called once per finished run (for progress bars). The
/// settings are validated once, before any run starts.
pub fn run_many(
    exp: &Experiment,
    policies: &[SharePolicy],
    seeds: &[u64],
    cfg: &RunConfig,
    on_done: &(dyn Fn(&SeedRun) + Sync),
) -> Result<Vec<SeedRun>, RunError> {
    use rayon::prelude::*;
    cfg.validate(exp)?;
    let jobs: Vec<(SharePolicy, u64)> = policies
        .iter()
        .flat_map(|&p| seeds.iter().map(move |&s| (p, s)))
        .collect();
    Ok(jobs
        .par_iter()
        .map(|&(p, s)| {
            let r = run_valid(exp, p, s, cfg);
            on_done(&r);
            r
        })
        .collect())
}

/// [`run_many`] on a dedicated pool of `threads` threads (`None`: rayon's
/// global pool). The results do not depend on the thread count.
pub fn run_many_on(
    threads: Option<usize>,
    exp: &Experiment,
    policies: &[SharePolicy],
    seeds: &[u64],
    cfg: &RunConfig,
    on_done: &(dyn Fn(&SeedRun) + Sync),
) -> Result<Vec<SeedRun>, RunError> {
    match threads {
        None => run_many(exp, policies, seeds, cfg, on_done),
        Some(t) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t.max(1))
                .build()
                .map_err(|e| RunError::ThreadPool(e.to_string()))?;
            pool.install(|| run_many(exp, policies, seeds, cfg, on_done))
        }
    }
}
