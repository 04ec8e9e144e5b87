//! GPU-sharing placement policies from the FGD paper's evaluation (§3 of
//! `fgd.md`): Random, DotProd, GpuClustering, GpuPacking, BestFit and FGD
//! (quantised as published, and an exact float argmin).
//!
//! These work on a compact [`NodeView`] (free CPU and memory, GPU model, free
//! milli-GPU per GPU, the set of GPU "tags" already on the node) and a
//! [`PodShape`], so the placement engine and the trace simulator share one
//! implementation and make identical decisions.
//!
//! Every policy returns an integer score in `0..=100` (higher is better) and
//! the GPUs it would use; [`Best`] selects the highest score, ties going to
//! the lowest node priority.
//!
//! ```
//! use rightsizer_model::units::{Bytes, GpuMilli, MilliCpu};
//! use rightsizer_place::frag::{ModelMask, TargetWorkload, TaskClass};
//! use rightsizer_place::share::{GpuPick, NodeView, PodShape, Scorer, SharePolicy};
//! let target = TargetWorkload::new(vec![
//!     (TaskClass::new(MilliCpu::new(4000), GpuMilli::new(500), 1, ModelMask::ANY), 0.5),
//!     (TaskClass::new(MilliCpu::new(4000), GpuMilli::new(1000), 1, ModelMask::ANY), 0.5),
//! ])?;
//! let pod = PodShape::new(MilliCpu::new(4000), Bytes::ZERO, 1, GpuMilli::new(500), ModelMask::ANY);
//! let gpus = [1000, 500];
//! let view = NodeView { cpu_free: MilliCpu::new(32000), memory_free: Bytes::from_gib(64),
//!     model: Some(0), gpus: &gpus, tags: 0 };
//! let mut scorer = Scorer::new(SharePolicy::Fgd, Some(&target));
//! let eval = scorer.evaluate(&view, &pod, None);
//! // FGD fills the half-used GPU and keeps the free one whole.
//! assert_eq!(eval.pick, GpuPick::Share(1));
//! assert!(eval.score >= 50);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::frag::{FragMemo, ModelMask, NodeGpuState, TargetWorkload};
use crate::rng::SeededRng;
use rightsizer_model::units::{Bytes, GpuMilli, MilliCpu};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One whole GPU in milli-GPU.
pub const MILLI: u32 = 1000;
/// CPU normaliser of the simulator's vector scores: the largest node shape
/// (128 cores).
pub const MAX_SPEC_CPU: f64 = 128_000.0;
/// GPU normaliser: the largest node shape (8 GPUs).
pub const MAX_SPEC_GPU: f64 = 8_000.0;

/// A pod's request as the sharing policies see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PodShape {
    /// CPU request.
    pub cpu: MilliCpu,
    /// Memory request (a feasibility constraint only).
    pub memory: Bytes,
    /// Number of GPUs: 0 (CPU-only), 1 for a fraction, k for whole GPUs.
    pub num_gpu: u32,
    /// Share per GPU: `< 1000` a fraction of one GPU, `1000` whole GPUs.
    pub gpu_milli: GpuMilli,
    /// Allowed GPU models.
    pub models: ModelMask,
}

/// The three kinds of request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PodKind {
    /// No GPU.
    CpuOnly,
    /// A fraction of one GPU.
    Share {
        /// The share, `1..1000`.
        milli: u32,
    },
    /// `count` completely free GPUs.
    Whole {
        /// Number of GPUs.
        count: u32,
    },
}

impl PodShape {
    /// A pod shape from its parts.
    pub const fn new(
        cpu: MilliCpu,
        memory: Bytes,
        num_gpu: u32,
        gpu_milli: GpuMilli,
        models: ModelMask,
    ) -> Self {
        Self {
            cpu,
            memory,
            num_gpu,
            gpu_milli,
            models,
        }
    }

    /// The request's kind.
    pub fn kind(&self) -> PodKind {
        let m = self.gpu_milli.get();
        if self.num_gpu == 0 || m == 0 {
            PodKind::CpuOnly
        } else if m < MILLI {
            PodKind::Share { milli: m }
        } else {
            PodKind::Whole {
                count: self.num_gpu,
            }
        }
    }

    /// Total milli-GPU requested (`num_gpu × gpu_milli`).
    pub fn total_gpu_milli(&self) -> u64 {
        match self.kind() {
            PodKind::CpuOnly => 0,
            _ => u64::from(self.num_gpu) * u64::from(self.gpu_milli.get()),
        }
    }

    /// The GpuClustering tag as a bit: bit 0 for a shared GPU, bit `k` for
    /// `k` whole GPUs (`k ≥ 31` share bit 31), 0 for CPU-only.
    pub fn tag(&self) -> u32 {
        match self.kind() {
            PodKind::CpuOnly => 0,
            PodKind::Share { .. } => 1,
            PodKind::Whole { count } => 1u32 << count.min(31),
        }
    }
}

/// The state of one node as the sharing policies see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeView<'a> {
    /// Free CPU.
    pub cpu_free: MilliCpu,
    /// Free memory.
    pub memory_free: Bytes,
    /// Interned GPU model (`None`: no GPU).
    pub model: Option<u8>,
    /// Free milli-GPU per GPU, in device order.
    pub gpus: &'a [u32],
    /// Union of the [`PodShape::tag`]s of the GPU pods on the node.
    pub tags: u32,
}

impl NodeView<'_> {
    fn gpu_state(&self) -> NodeGpuState<'_> {
        NodeGpuState {
            cpu_free: self.cpu_free,
            model: self.model,
            gpus: self.gpus,
        }
    }

    fn gpu_left(&self) -> u64 {
        self.gpus.iter().map(|&g| u64::from(g)).sum()
    }
}

/// Why a pod does not fit a node (the first failing check, in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Misfit {
    /// Not enough free CPU.
    Cpu,
    /// Not enough free memory.
    Memory,
    /// The pod needs a GPU and the node has none.
    NoGpu,
    /// The node's GPU model is not allowed.
    Model,
    /// No GPU (or not enough whole GPUs) has room.
    GpuCapacity,
}

/// Checks CPU, memory, GPU model and per-GPU fit.
pub fn fits(view: &NodeView<'_>, pod: &PodShape) -> Result<(), Misfit> {
    if view.cpu_free < pod.cpu {
        return Err(Misfit::Cpu);
    }
    if view.memory_free < pod.memory {
        return Err(Misfit::Memory);
    }
    match pod.kind() {
        PodKind::CpuOnly => Ok(()),
        kind => {
            if view.gpus.is_empty() || view.model.is_none() {
                return Err(Misfit::NoGpu);
            }
            if !pod.models.allows(view.model) {
                return Err(Misfit::Model);
            }
            let ok = match kind {
                PodKind::Share { milli } => view.gpus.iter().any(|&g| g >= milli),
                PodKind::Whole { count } => {
                    view.gpus.iter().filter(|&&g| g >= MILLI).count() as u64 >= u64::from(count)
                }
                PodKind::CpuOnly => true,
            };
            if ok {
                Ok(())
            } else {
                Err(Misfit::GpuCapacity)
            }
        }
    }
}

/// Which GPUs of the node a pod takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GpuPick {
    /// None (CPU-only pod).
    None,
    /// A share of the GPU with this index.
    Share(u16),
    /// Whole GPUs: bit `i` set means GPU `i` (nodes of up to 64 GPUs).
    Whole(u64),
}

impl GpuPick {
    /// The GPU indices, ascending.
    pub fn indices(&self) -> Vec<u16> {
        match *self {
            GpuPick::None => Vec::new(),
            GpuPick::Share(i) => vec![i],
            GpuPick::Whole(mask) => (0..64u16).filter(|i| mask & (1u64 << i) != 0).collect(),
        }
    }

    /// Subtracts the pod's GPU share from `gpus` (free milli per GPU).
    /// Returns `false`, changing nothing, if a chosen GPU lacks room.
    pub fn apply(&self, gpus: &mut [u32], pod: &PodShape) -> bool {
        let milli = pod.gpu_milli.get();
        let idx = self.indices();
        if idx
            .iter()
            .any(|&i| gpus.get(usize::from(i)).is_none_or(|&g| g < milli))
        {
            return false;
        }
        for i in idx {
            gpus[usize::from(i)] -= milli;
        }
        true
    }
}

/// The lowest-index `count` completely free GPUs, if there are enough.
pub fn lowest_free_gpus(gpus: &[u32], count: u32) -> Option<u64> {
    let mut mask = 0u64;
    let mut n = 0;
    for (i, &g) in gpus.iter().enumerate().take(64) {
        if n == count {
            break;
        }
        if g >= MILLI {
            mask |= 1u64 << i;
            n += 1;
        }
    }
    (n == count).then_some(mask)
}

/// Best-fit GPU for a share: the least free GPU that still fits, lowest
/// index on ties.
pub fn best_fit_gpu(gpus: &[u32], milli: u32) -> Option<u16> {
    let mut best: Option<(u32, usize)> = None;
    for (i, &g) in gpus.iter().enumerate() {
        if g >= milli && best.is_none_or(|(bg, _)| g < bg) {
            best = Some((g, i));
        }
    }
    best.map(|(_, i)| i as u16)
}

/// A uniformly random GPU among those with room for `milli`.
pub fn random_gpu(gpus: &[u32], milli: u32, rng: &mut SeededRng) -> Option<u16> {
    let n = gpus.iter().filter(|&&g| g >= milli).count() as u64;
    if n == 0 {
        return None;
    }
    let k = rng.below(n) as usize;
    gpus.iter()
        .enumerate()
        .filter(|(_, &g)| g >= milli)
        .nth(k)
        .map(|(i, _)| i as u16)
}

/// The GPU-sharing policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SharePolicy {
    /// A uniformly random feasible node (seeded), random fitting GPU.
    Random,
    /// Smallest dot product of free and requested (cpu, gpu) vectors.
    DotProd,
    /// Prefer nodes already holding pods of the same GPU tag.
    GpuClustering,
    /// Prefer partly used GPUs, then partly used nodes, then idle nodes.
    GpuPacking,
    /// Least (cpu, gpu) leftover after placement.
    BestFit,
    /// Fragmentation Gradient Descent as published: `int(100·sigmoid(Δ/1000))`.
    Fgd,
    /// FGD as an exact float argmin of the fragmentation increase.
    FgdExact,
    /// FGD with a CPU-stranding and best-fit tie-break ([`crate::strand`]).
    FgdStrand,
}

impl SharePolicy {
    /// The six policies of the paper's evaluation, in its order.
    pub const PAPER: [SharePolicy; 6] = [
        SharePolicy::Random,
        SharePolicy::DotProd,
        SharePolicy::GpuClustering,
        SharePolicy::GpuPacking,
        SharePolicy::BestFit,
        SharePolicy::Fgd,
    ];

    /// Every policy.
    pub const ALL: [SharePolicy; 8] = [
        SharePolicy::Random,
        SharePolicy::DotProd,
        SharePolicy::GpuClustering,
        SharePolicy::GpuPacking,
        SharePolicy::BestFit,
        SharePolicy::Fgd,
        SharePolicy::FgdExact,
        SharePolicy::FgdStrand,
    ];

    /// The policy's name as used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            SharePolicy::Random => "Random",
            SharePolicy::DotProd => "DotProd",
            SharePolicy::GpuClustering => "GpuClustering",
            SharePolicy::GpuPacking => "GpuPacking",
            SharePolicy::BestFit => "BestFit",
            SharePolicy::Fgd => "FGD",
            SharePolicy::FgdExact => "FGD-exact",
            SharePolicy::FgdStrand => "FGD-strand",
        }
    }

    /// `true` for the two FGD variants (they need a target workload).
    pub const fn needs_target(self) -> bool {
        matches!(
            self,
            SharePolicy::Fgd | SharePolicy::FgdExact | SharePolicy::FgdStrand
        )
    }
}

impl fmt::Display for SharePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown policy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown policy {name:?}; expected one of Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD, FGD-exact, FGD-strand")]
#[non_exhaustive]
pub struct UnknownPolicy {
    /// The name given.
    pub name: String,
}

impl FromStr for SharePolicy {
    type Err = UnknownPolicy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        Ok(match norm.as_str() {
            "random" => SharePolicy::Random,
            "dotprod" | "dotproduct" => SharePolicy::DotProd,
            "gpuclustering" | "clustering" => SharePolicy::GpuClustering,
            "gpupacking" | "packing" => SharePolicy::GpuPacking,
            "bestfit" => SharePolicy::BestFit,
            "fgd" => SharePolicy::Fgd,
            "fgdexact" => SharePolicy::FgdExact,
            "fgdstrand" => SharePolicy::FgdStrand,
            _ => {
                return Err(UnknownPolicy {
                    name: s.to_string(),
                })
            }
        })
    }
}

/// A policy's verdict on one feasible node.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Eval {
    /// Score in `0..=100`, higher is better (BestFit's is the raw score before
    /// min–max normalisation across nodes, which preserves order).
    pub score: i64,
    /// The selection key: the score itself, or for [`SharePolicy::FgdExact`]
    /// the fragmentation decrease `Δ` in milli-GPU.
    pub key: f64,
    /// The GPUs the pod would take.
    pub pick: GpuPick,
    /// For FGD: `Δ = F_n(M) − F_{n⊕m}(M)` in milli-GPU; 0 otherwise.
    pub delta: f64,
}

/// Sigmoid as the simulator defines it.
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The published FGD score for a fragmentation decrease `delta` (milli-GPU).
pub fn fgd_score(delta: f64) -> i64 {
    (sigmoid(delta / 1000.0) * 100.0) as i64
}

/// Scores feasible nodes for one policy; holds the FGD memo.
#[derive(Debug, Clone)]
pub struct Scorer<'t> {
    policy: SharePolicy,
    target: Option<&'t TargetWorkload>,
    memo: FragMemo,
}

impl<'t> Scorer<'t> {
    /// A scorer. The FGD policies need `target`; without one they score every
    /// node 50 (Δ = 0).
    pub fn new(policy: SharePolicy, target: Option<&'t TargetWorkload>) -> Self {
        Self {
            policy,
            target,
            memo: FragMemo::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> SharePolicy {
        self.policy
    }

    /// `F_n(M)` of a node state, memoised (0 without a target).
    pub fn node_fragmentation(&mut self, state: &NodeGpuState<'_>) -> f64 {
        match self.target {
            Some(t) => self.memo.node_fragmentation(t, state),
            None => 0.0,
        }
    }

    /// The fragmentation memo (to keep it across scorers).
    pub fn memo_mut(&mut self) -> &mut FragMemo {
        &mut self.memo
    }

    /// Memo `(hits, misses)`.
    pub fn memo_stats(&self) -> (u64, u64) {
        self.memo.stats()
    }

    /// Scores `pod` on a node it [`fits`]. `node_frag` is the node's current
    /// `F_n(M)` when the caller keeps it up to date (FGD only); otherwise it
    /// is computed. [`SharePolicy::Random`] scores 0 and picks best-fit here;
    /// the random node and GPU are drawn by the selector.
    pub fn evaluate(
        &mut self,
        view: &NodeView<'_>,
        pod: &PodShape,
        node_frag: Option<f64>,
    ) -> Eval {
        let kind = pod.kind();
        let default_pick = match kind {
            PodKind::CpuOnly => GpuPick::None,
            PodKind::Share { milli } => {
                best_fit_gpu(view.gpus, milli).map_or(GpuPick::None, GpuPick::Share)
            }
            PodKind::Whole { count } => {
                lowest_free_gpus(view.gpus, count).map_or(GpuPick::None, GpuPick::Whole)
            }
        };
        let plain = |score: i64| Eval {
            score,
            key: score as f64,
            pick: default_pick,
            delta: 0.0,
        };
        match self.policy {
            SharePolicy::Random => plain(0),
            SharePolicy::DotProd => {
                let node = [
                    view.cpu_free.get() as f64 / MAX_SPEC_CPU,
                    view.gpu_left() as f64 / MAX_SPEC_GPU,
                ];
                let req = [
                    pod.cpu.get() as f64 / MAX_SPEC_CPU,
                    pod.total_gpu_milli() as f64 / MAX_SPEC_GPU,
                ];
                let dot = node[0] * req[0] + node[1] * req[1];
                let s = 1.0 - dot / 2.0;
                plain((100.0 * s) as i64)
            }
            SharePolicy::GpuClustering => {
                let tag = pod.tag();
                if tag == 0 {
                    return plain(0);
                }
                let left = view.gpu_left() as i64;
                let base = 25 * (MAX_SPEC_GPU as i64 - left) / MAX_SPEC_GPU as i64;
                let band = if view.tags & tag != 0 {
                    if view.tags == tag {
                        75
                    } else {
                        50
                    }
                } else if view.tags == 0 {
                    25
                } else {
                    0
                };
                plain(base + band)
            }
            SharePolicy::GpuPacking => plain(packing_score(view.gpus, pod)),
            SharePolicy::BestFit => {
                let free = [view.cpu_free.get() as f64, view.gpu_left() as f64];
                let req = [pod.cpu.get() as f64, pod.total_gpu_milli() as f64];
                let max = [MAX_SPEC_CPU, MAX_SPEC_GPU];
                let mut s = 0.0;
                for i in 0..2 {
                    s += (free[i] - req[i]) / max[i] * 0.5;
                }
                plain(((1.0 - s) * 100.0) as i64)
            }
            SharePolicy::Fgd | SharePolicy::FgdExact => {
                self.fgd(view, pod, node_frag, default_pick)
            }
            SharePolicy::FgdStrand => {
                let e = self.fgd(view, pod, node_frag, default_pick);
                crate::strand::strand_eval(e, view, pod, self.target)
            }
        }
    }

    fn fgd(
        &mut self,
        view: &NodeView<'_>,
        pod: &PodShape,
        node_frag: Option<f64>,
        default_pick: GpuPick,
    ) -> Eval {
        let exact = matches!(self.policy, SharePolicy::FgdExact | SharePolicy::FgdStrand);
        let Some(target) = self.target else {
            return Eval {
                score: 50,
                key: if exact { 0.0 } else { 50.0 },
                pick: default_pick,
                delta: 0.0,
            };
        };
        let cur = match node_frag {
            Some(f) => f,
            None => self.memo.node_fragmentation(target, &view.gpu_state()),
        };
        let cpu_after = view.cpu_free.saturating_sub(pod.cpu);
        let mut buf = [0u32; 64];
        let n = view.gpus.len().min(64);
        buf[..n].copy_from_slice(&view.gpus[..n]);
        let eval_state = |gpus: &[u32], memo: &mut FragMemo| {
            let st = NodeGpuState {
                cpu_free: cpu_after,
                model: view.model,
                gpus,
            };
            let delta = cur - memo.node_fragmentation(target, &st);
            let score = fgd_score(delta);
            (score, if exact { delta } else { score as f64 }, delta)
        };
        match pod.kind() {
            PodKind::Share { milli } => {
                let mut best: Option<Eval> = None;
                let mut seen = [u32::MAX; 64];
                let mut n_seen = 0;
                for i in 0..n {
                    let g = view.gpus[i];
                    if g < milli || seen[..n_seen].contains(&g) {
                        continue;
                    }
                    seen[n_seen] = g;
                    n_seen += 1;
                    buf[i] = g - milli;
                    let (score, key, delta) = eval_state(&buf[..n], &mut self.memo);
                    buf[i] = g;
                    if best.is_none_or(|b| key > b.key) {
                        best = Some(Eval {
                            score,
                            key,
                            pick: GpuPick::Share(i as u16),
                            delta,
                        });
                    }
                }
                best.unwrap_or(Eval {
                    score: 0,
                    key: f64::NEG_INFINITY,
                    pick: GpuPick::None,
                    delta: 0.0,
                })
            }
            PodKind::Whole { .. } => {
                if let GpuPick::Whole(mask) = default_pick {
                    for (i, g) in buf[..n].iter_mut().enumerate() {
                        if mask & (1u64 << i) != 0 {
                            *g -= MILLI;
                        }
                    }
                }
                let (score, key, delta) = eval_state(&buf[..n], &mut self.memo);
                Eval {
                    score,
                    key,
                    pick: default_pick,
                    delta,
                }
            }
            PodKind::CpuOnly => {
                let (score, key, delta) = eval_state(&buf[..n], &mut self.memo);
                Eval {
                    score,
                    key,
                    pick: GpuPick::None,
                    delta,
                }
            }
        }
    }
}

/// GpuPacking's score: (1) fits on partly used GPUs → `100 − Σ left%/10`,
/// at least 50; (2) needs fully free GPUs on a partly used node →
/// `50 − #free GPUs used`, at least 33; (3) idle node → `max(33 − #GPUs, #GPUs)`.
/// CPU-only pods score 0.
pub fn packing_score(gpus: &[u32], pod: &PodShape) -> i64 {
    let milli = pod.gpu_milli.get();
    if pod.kind() == PodKind::CpuOnly {
        return 0;
    }
    let fully_free = gpus.iter().filter(|&&g| g == MILLI).count() as i64;
    if fully_free == gpus.len() as i64 {
        return (100 / 3 - fully_free).max(fully_free);
    }
    let mut order: Vec<usize> = (0..gpus.len()).collect();
    order.sort_by_key(|&i| (gpus[i], i));
    let mut need = pod.num_gpu;
    let mut free_used = 0i64;
    let mut left_pct = 0i64;
    for i in order {
        if need == 0 {
            break;
        }
        let g = gpus[i];
        if milli <= g {
            need -= 1;
            if g == MILLI {
                free_used += 1;
            }
            left_pct += i64::from(g) * 100 / i64::from(MILLI);
        }
    }
    if need != 0 {
        return 0;
    }
    if free_used > 0 {
        (50 - free_used).max(100 / 3)
    } else {
        (100 - left_pct / 10).max(50)
    }
}

/// Running argmax over nodes: the highest key wins, ties go to the lowest
/// priority value (then the lowest node index).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Best<T> {
    /// The winner so far: `(key, priority, index, payload)`.
    pub winner: Option<(f64, u32, u32, T)>,
}

impl<T: Copy> Default for Best<T> {
    fn default() -> Self {
        Self { winner: None }
    }
}

impl<T: Copy> Best<T> {
    /// Offers a candidate.
    pub fn offer(&mut self, key: f64, priority: u32, index: u32, payload: T) {
        let better = match self.winner {
            None => true,
            Some((k, p, i, _)) => key > k || (key == k && (priority, index) < (p, i)),
        };
        if better {
            self.winner = Some((key, priority, index, payload));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frag::TaskClass;

    fn pod(cpu: u64, n: u32, milli: u32) -> PodShape {
        PodShape::new(
            MilliCpu::new(cpu),
            Bytes::ZERO,
            n,
            GpuMilli::new(milli),
            ModelMask::ANY,
        )
    }

    fn view(cpu: u64, gpus: &[u32], tags: u32) -> NodeView<'_> {
        NodeView {
            cpu_free: MilliCpu::new(cpu),
            memory_free: Bytes::from_gib(100),
            model: Some(0),
            gpus,
            tags,
        }
    }

    #[test]
    fn fit_checks() {
        let g = [300, 1000];
        assert_eq!(fits(&view(1000, &g, 0), &pod(2000, 0, 0)), Err(Misfit::Cpu));
        assert_eq!(fits(&view(8000, &g, 0), &pod(2000, 1, 500)), Ok(()));
        assert_eq!(
            fits(&view(8000, &g, 0), &pod(2000, 2, 1000)),
            Err(Misfit::GpuCapacity)
        );
        let mut p = pod(1, 1, 100);
        p.models = ModelMask::only(3);
        assert_eq!(fits(&view(8000, &g, 0), &p), Err(Misfit::Model));
        let none = NodeView {
            model: None,
            gpus: &[],
            ..view(8000, &g, 0)
        };
        assert_eq!(fits(&none, &pod(1, 1, 100)), Err(Misfit::NoGpu));
    }

    #[test]
    fn gpu_picks() {
        assert_eq!(best_fit_gpu(&[1000, 300, 600, 300], 250), Some(1));
        assert_eq!(best_fit_gpu(&[100], 250), None);
        assert_eq!(lowest_free_gpus(&[1000, 500, 1000, 1000], 2), Some(0b101));
        assert_eq!(lowest_free_gpus(&[1000, 500], 2), None);
        let mut r = SeededRng::new(3);
        for _ in 0..20 {
            let g = random_gpu(&[100, 900, 800], 500, &mut r).unwrap();
            assert!(g == 1 || g == 2);
        }
        let mut gpus = [1000, 400];
        assert!(!GpuPick::Share(1).apply(&mut gpus, &pod(0, 1, 500)));
        assert_eq!(gpus, [1000, 400]);
        assert!(GpuPick::Share(0).apply(&mut gpus, &pod(0, 1, 500)));
        assert_eq!(gpus, [500, 400]);
    }

    #[test]
    fn packing_cases() {
        // Idle 8-GPU node: max(33 - 8, 8) = 25.
        assert_eq!(packing_score(&[1000; 8], &pod(1, 1, 500)), 25);
        // Partly used node, share fits a used GPU with 600 left: 100 - 60/10.
        assert_eq!(packing_score(&[600, 1000], &pod(1, 1, 500)), 94);
        // Must use a free GPU on a partly used node: 50 - 1.
        assert_eq!(packing_score(&[400, 1000], &pod(1, 1, 500)), 49);
        assert_eq!(packing_score(&[400, 1000], &pod(1, 0, 0)), 0);
    }

    #[test]
    fn clustering_bands() {
        let mut s = Scorer::new(SharePolicy::GpuClustering, None);
        let p = pod(1, 1, 500); // tag 1
        let g = [1000u32; 8];
        assert_eq!(s.evaluate(&view(1, &g, 0), &p, None).score, 25);
        assert_eq!(s.evaluate(&view(1, &g, 1), &p, None).score, 75);
        assert_eq!(s.evaluate(&view(1, &g, 3), &p, None).score, 50);
        assert_eq!(s.evaluate(&view(1, &g, 2), &p, None).score, 0);
        let g2 = [0u32; 8];
        assert_eq!(s.evaluate(&view(1, &g2, 1), &p, None).score, 100);
    }

    #[test]
    fn bestfit_and_dotprod_prefer_fuller_nodes() {
        let p = pod(4000, 1, 1000);
        for pol in [SharePolicy::BestFit, SharePolicy::DotProd] {
            let mut s = Scorer::new(pol, None);
            let full = s.evaluate(&view(8000, &[1000, 0], 0), &p, None);
            let empty = s.evaluate(&view(96000, &[1000; 8], 0), &p, None);
            assert!(full.score > empty.score, "{pol}");
        }
    }

    #[test]
    fn fgd_prefers_no_new_fragments() {
        let t = TargetWorkload::new(vec![
            (
                TaskClass::new(MilliCpu::new(1000), GpuMilli::new(500), 1, ModelMask::ANY),
                0.5,
            ),
            (
                TaskClass::new(MilliCpu::new(1000), GpuMilli::new(1000), 1, ModelMask::ANY),
                0.5,
            ),
        ])
        .unwrap();
        let mut s = Scorer::new(SharePolicy::Fgd, Some(&t));
        let e = s.evaluate(&view(8000, &[1000, 500], 0), &pod(1000, 1, 500), None);
        assert_eq!(e.pick, GpuPick::Share(1));
        let mut x = Scorer::new(SharePolicy::FgdExact, Some(&t));
        let e2 = x.evaluate(&view(8000, &[1000, 500], 0), &pod(1000, 1, 500), None);
        assert_eq!(e2.pick, GpuPick::Share(1));
        assert_eq!(e2.key, e2.delta);
        assert_eq!(fgd_score(0.0), 50);
        assert_eq!(fgd_score(-5000.0), 0);
    }

    #[test]
    fn best_tie_break() {
        let mut b = Best::default();
        b.offer(5.0, 9, 0, ());
        b.offer(5.0, 3, 1, ());
        b.offer(4.0, 0, 2, ());
        assert_eq!(b.winner.map(|w| w.2), Some(1));
    }

    #[test]
    fn policy_names_round_trip() {
        for p in SharePolicy::ALL {
            assert_eq!(p.name().parse::<SharePolicy>().unwrap(), p);
        }
        assert!("nope".parse::<SharePolicy>().is_err());
    }
}
