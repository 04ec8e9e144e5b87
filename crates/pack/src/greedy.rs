//! Constructive heuristics: item-centric first/best-fit decreasing with
//! several size measures and weightings, and bin-centric dot product.

use crate::core::{Bin, Prob, Sol};
use crate::result::BinSource;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How the size of a multi-dimensional item is reduced to one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeNorm {
    /// Weighted sum.
    L1,
    /// Weighted Euclidean norm.
    L2,
    /// Weighted maximum.
    LInf,
}

/// Weights of the dimensions in a size measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// All dimensions weigh 1.
    Uniform,
    /// Each dimension weighs its total demand relative to capacity.
    AverageLoad,
    /// Average-load weights recomputed over the items not yet placed.
    Dynamic,
}

/// Where an item goes among the open bins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// The first bin (in opening order) where it fits.
    First,
    /// The bin with the least weighted residual after placing it.
    Best,
}

/// Which type a new bin gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeRule {
    /// Lowest cost per average item held (capacity over the mean item
    /// size in the bottleneck dimension).
    Efficient,
    /// Lowest cost among the types the item fits.
    Cheapest,
}

/// A constructive heuristic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Heuristic {
    /// Sort items by decreasing size, place each into an open bin.
    ItemCentric {
        /// First or best fit.
        fit: Fit,
        /// Size measure.
        norm: SizeNorm,
        /// Dimension weights.
        weights: Weights,
        /// Type of new bins.
        types: TypeRule,
    },
    /// Fill one bin at a time with the item of largest dot product with the
    /// bin's residual capacity.
    BinCentricDot {
        /// Dimension weights.
        weights: Weights,
        /// Type of new bins.
        types: TypeRule,
    },
}

impl Heuristic {
    /// First-fit decreasing with the given measure (efficient bin types).
    pub const fn ffd(norm: SizeNorm, weights: Weights) -> Self {
        Heuristic::ItemCentric {
            fit: Fit::First,
            norm,
            weights,
            types: TypeRule::Efficient,
        }
    }

    /// Best-fit decreasing with the given measure (efficient bin types).
    pub const fn bfd(norm: SizeNorm, weights: Weights) -> Self {
        Heuristic::ItemCentric {
            fit: Fit::Best,
            norm,
            weights,
            types: TypeRule::Efficient,
        }
    }

    /// A short name such as `ffd-l2-avg`.
    pub fn name(&self) -> String {
        let w = |w: &Weights| match w {
            Weights::Uniform => "unit",
            Weights::AverageLoad => "avg",
            Weights::Dynamic => "dyn",
        };
        let t = |t: &TypeRule| match t {
            TypeRule::Efficient => "",
            TypeRule::Cheapest => "-cheap",
        };
        match self {
            Heuristic::ItemCentric {
                fit,
                norm,
                weights,
                types,
            } => format!(
                "{}-{}-{}{}",
                match fit {
                    Fit::First => "ffd",
                    Fit::Best => "bfd",
                },
                match norm {
                    SizeNorm::L1 => "l1",
                    SizeNorm::L2 => "l2",
                    SizeNorm::LInf => "linf",
                },
                w(weights),
                t(types)
            ),
            Heuristic::BinCentricDot { weights, types } => {
                format!("bcs-dot-{}{}", w(weights), t(types))
            }
        }
    }

    /// The portfolio run by [`crate::pack`] for an instance of `n` items,
    /// `d` dimensions and `types` bin types.
    pub fn portfolio(n: usize, d: usize, types: usize) -> Vec<Heuristic> {
        let mut v = Vec::new();
        let rules: &[TypeRule] = if types > 1 {
            &[TypeRule::Efficient, TypeRule::Cheapest]
        } else {
            &[TypeRule::Efficient]
        };
        let norms: &[SizeNorm] = if n > 20_000 {
            // very large inputs: one strong rule per type choice keeps the
            // portfolio under a second for 100k items
            &[SizeNorm::L2]
        } else if d > 1 {
            &[SizeNorm::L2, SizeNorm::L1, SizeNorm::LInf]
        } else {
            &[SizeNorm::L1]
        };
        let weights: &[Weights] = if n > 20_000 {
            &[Weights::AverageLoad]
        } else if d > 1 {
            if n <= 5000 {
                &[Weights::AverageLoad, Weights::Uniform, Weights::Dynamic]
            } else {
                &[Weights::AverageLoad, Weights::Uniform]
            }
        } else {
            &[Weights::Uniform]
        };
        for &types in rules {
            for &norm in norms {
                for &weights in weights {
                    v.push(Heuristic::ItemCentric {
                        fit: Fit::First,
                        norm,
                        weights,
                        types,
                    });
                    if n <= 20_000 {
                        v.push(Heuristic::ItemCentric {
                            fit: Fit::Best,
                            norm,
                            weights,
                            types,
                        });
                    }
                }
            }
            if n <= 3000 {
                v.push(Heuristic::BinCentricDot {
                    weights: Weights::AverageLoad,
                    types,
                });
                if d > 1 {
                    v.push(Heuristic::BinCentricDot {
                        weights: Weights::Uniform,
                        types,
                    });
                }
            }
        }
        v
    }
}

/// Average-load weights over the given items.
fn avg_weights(p: &Prob, items: impl Iterator<Item = usize>) -> Vec<f64> {
    let mut w = vec![0.0; p.d];
    let mut any = false;
    for i in items {
        any = true;
        for (k, &s) in p.s(i).iter().enumerate() {
            w[k] += s as f64 / p.scale[k];
        }
    }
    let tot: f64 = w.iter().sum();
    if !any || tot <= 0.0 {
        return vec![1.0; p.d];
    }
    w.iter().map(|x| x / tot * p.d as f64).collect()
}

fn measure(p: &Prob, i: usize, norm: SizeNorm, w: &[f64]) -> f64 {
    let s = p.s(i);
    match norm {
        SizeNorm::L1 => s
            .iter()
            .enumerate()
            .map(|(k, &x)| w[k] * x as f64 / p.scale[k])
            .sum(),
        SizeNorm::L2 => s
            .iter()
            .enumerate()
            .map(|(k, &x)| {
                let v = w[k] * x as f64 / p.scale[k];
                v * v
            })
            .sum::<f64>()
            .sqrt(),
        SizeNorm::LInf => s
            .iter()
            .enumerate()
            .map(|(k, &x)| w[k] * x as f64 / p.scale[k])
            .fold(0.0, f64::max),
    }
}

/// Items sorted by decreasing measure, ties by index (stable).
fn sorted_items(p: &Prob, items: &[usize], norm: SizeNorm, w: &[f64]) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = items.iter().map(|&i| (measure(p, i, norm, w), i)).collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().map(|x| x.1).collect()
}

/// Chooses the type of a new bin for item `i`; `None` if no type is left.
pub(crate) fn choose_type(
    p: &Prob,
    i: usize,
    rule: TypeRule,
    avg: &[f64],
    remaining: &[u64],
) -> Option<usize> {
    let mut best: Option<(f64, u64, usize)> = None;
    for t in 0..p.types.len() {
        if remaining[t] == 0 || !p.fits_type(i, t) {
            continue;
        }
        let ty = &p.types[t];
        let key = match rule {
            TypeRule::Efficient => {
                // cost per average item the type holds (bottleneck dimension)
                let fit = ty
                    .cap
                    .iter()
                    .zip(avg)
                    .filter(|(_, &a)| a > 0.0)
                    .map(|(&c, &a)| c as f64 / a)
                    .fold(f64::INFINITY, f64::min);
                let fit = if fit.is_finite() { fit } else { 1.0 };
                ty.cost as f64 / fit.max(1e-12)
            }
            TypeRule::Cheapest => ty.cost as f64,
        };
        // Equal efficiency: the larger (costlier) bin packs with less
        // waste; the final downsizing pass shrinks bins left half empty.
        let tie = match rule {
            TypeRule::Efficient => u64::MAX - ty.cost,
            TypeRule::Cheapest => ty.cost,
        };
        let cand = (key, tie, t);
        if best.is_none_or(|b| {
            cand.0 < b.0 * (1.0 - 1e-12)
                || (cand.0 <= b.0 * (1.0 + 1e-12) && (cand.1, cand.2) < (b.1, b.2))
        }) {
            best = Some(cand);
        }
    }
    best.map(|b| b.2)
}

/// With more than `4 × WINDOW` bins, multi-dimensional first fit only
/// scans the `WINDOW` most recently opened bins.
const WINDOW: usize = 1024;

/// Tree nodes a multi-dimensional first-fit query visits at most.
const MAX_VISITS: usize = 2048;

/// Segment tree over bins keeping the per-dimension maximum residual, for
/// first-fit in O(d log B) on typical inputs.
struct FitTree {
    d: usize,
    size: usize,
    /// `res[node * d + k]`
    res: Vec<u64>,
}

impl FitTree {
    fn new(d: usize) -> Self {
        FitTree {
            d,
            size: 1,
            res: vec![0; 2 * d],
        }
    }

    fn rebuild(&mut self, bins: &[Bin]) {
        while self.size < bins.len() {
            self.size *= 2;
        }
        self.res = vec![0; 2 * self.size * self.d];
        for (b, bin) in bins.iter().enumerate() {
            self.write_leaf(b, bin);
        }
        for node in (1..self.size).rev() {
            self.pull(node);
        }
    }

    fn write_leaf(&mut self, b: usize, bin: &Bin) {
        let node = self.size + b;
        for k in 0..self.d {
            self.res[node * self.d + k] = bin.cap[k] - bin.load[k];
        }
    }

    fn pull(&mut self, node: usize) {
        for k in 0..self.d {
            let a = self.res[2 * node * self.d + k];
            let b = self.res[(2 * node + 1) * self.d + k];
            self.res[node * self.d + k] = a.max(b);
        }
    }

    fn update(&mut self, b: usize, bins: &[Bin]) {
        if b >= self.size {
            self.rebuild(bins);
            return;
        }
        self.write_leaf(b, &bins[b]);
        let mut node = (self.size + b) / 2;
        while node >= 1 {
            self.pull(node);
            node /= 2;
        }
    }

    fn may_fit(&self, node: usize, s: &[u64]) -> bool {
        s.iter()
            .enumerate()
            .all(|(k, &x)| self.res[node * self.d + k] >= x)
    }

    /// Leftmost bin `< nbins` accepted by `ok` whose residual covers `s`.
    /// In several dimensions the per-dimension maxima can promise room no
    /// single bin has; the search then gives up after visiting
    /// [`MAX_VISITS`] tree nodes and a new bin is opened. In one dimension
    /// the maxima are exact and a query visits O(log B) nodes.
    fn first(&self, s: &[u64], nbins: usize, ok: &dyn Fn(usize) -> bool) -> Option<usize> {
        let mut leaves = 0usize;
        self.search(1, 0, self.size, s, nbins, ok, &mut leaves)
    }

    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        node: usize,
        lo: usize,
        hi: usize,
        s: &[u64],
        nbins: usize,
        ok: &dyn Fn(usize) -> bool,
        leaves: &mut usize,
    ) -> Option<usize> {
        if lo >= nbins || *leaves >= MAX_VISITS {
            return None;
        }
        *leaves += 1;
        if !self.may_fit(node, s) {
            return None;
        }
        if hi - lo == 1 {
            return if ok(lo) { Some(lo) } else { None };
        }
        let mid = (lo + hi) / 2;
        self.search(2 * node, lo, mid, s, nbins, ok, leaves)
            .or_else(|| self.search(2 * node + 1, mid, hi, s, nbins, ok, leaves))
    }
}

/// Runs one heuristic, returning a complete packing (items that fit nowhere
/// go to `unplaced`).
pub(crate) fn run(p: &Prob, h: Heuristic) -> Sol {
    run_until(p, h, None)
}

/// Items left when a constructive heuristic's deadline passes go by next
/// fit: into the last bin opened if it holds them, else a new bin. The
/// packing stays complete, and the phase ends within a few item steps of
/// the deadline (polled every 1,024 items).
fn next_fit(
    p: &Prob,
    sol: &mut Sol,
    remaining: &mut [u64],
    avg: &[f64],
    types: TypeRule,
    i: usize,
) {
    let s = p.s(i);
    if let Some(last) = sol.bins.last_mut() {
        if p.allowed(i, last.ty) && last.fits(s) {
            last.add(i, s);
            return;
        }
    }
    match choose_type(p, i, types, avg, remaining) {
        Some(t) => {
            remaining[t] -= 1;
            let mut b = Bin::new_of_type(p, t);
            b.add(i, s);
            sol.bins.push(b);
        }
        None => sol.unplaced.push(i),
    }
}

/// [`run`] that switches to next fit once `deadline` passes (`None`: never),
/// so that the constructive phase honours a time budget at any size.
pub(crate) fn run_until(p: &Prob, h: Heuristic, deadline: Option<Instant>) -> Sol {
    let past = || deadline.is_some_and(|d| Instant::now() >= d);
    let mut sol = Sol::with_open_bins(p);
    let mut remaining: Vec<u64> = p.types.iter().map(|t| t.max).collect();
    let all: Vec<usize> = (0..p.n).collect();
    // mean item size per dimension (for the type choice)
    let mut avg = vec![0.0f64; p.d];
    for i in 0..p.n {
        for (k, &x) in p.s(i).iter().enumerate() {
            avg[k] += x as f64 / p.n.max(1) as f64;
        }
    }
    match h {
        Heuristic::ItemCentric {
            fit,
            norm,
            weights,
            types,
        } => {
            let w0 = match weights {
                Weights::Uniform => vec![1.0; p.d],
                _ => avg_weights(p, all.iter().copied()),
            };
            let mut order = sorted_items(p, &all, norm, &w0);
            let mut tree = FitTree::new(p.d);
            let mut resid: Vec<u64> = Vec::new();
            if p.d >= 2 {
                for bin in &sol.bins {
                    resid.extend(bin.cap.iter().zip(&bin.load).map(|(c, l)| c - l));
                }
            } else {
                tree.rebuild(&sol.bins);
            }
            let step = (p.n / 20).max(1);
            let mut pos = 0;
            while pos < order.len() {
                if weights == Weights::Dynamic && pos > 0 && pos % step == 0 {
                    let w = avg_weights(p, order[pos..].iter().copied());
                    let rest = sorted_items(p, &order[pos..], norm, &w);
                    order.truncate(pos);
                    order.extend(rest);
                }
                let i = order[pos];
                pos += 1;
                if pos % 1024 == 0 && past() {
                    for &j in &order[pos - 1..] {
                        next_fit(p, &mut sol, &mut remaining, &avg, types, j);
                    }
                    break;
                }
                let s = p.s(i);
                let target = match fit {
                    Fit::First if p.d >= 2 => {
                        // several dimensions: per-dimension maxima prune
                        // badly, a flat scan of the residuals is faster
                        let d = p.d;
                        let nb = resid.len() / d;
                        // very many bins: first fit among the most recent
                        // WINDOW bins only (older ones are nearly full)
                        let from = if nb > 4 * WINDOW { nb - WINDOW } else { 0 };
                        let mut found = None;
                        for (off, r) in resid[from * d..].chunks_exact(d).enumerate() {
                            let b = from + off;
                            if r.iter().zip(s).all(|(a, b)| a >= b) && p.allowed(i, sol.bins[b].ty)
                            {
                                found = Some(b);
                                break;
                            }
                        }
                        found
                    }
                    Fit::First => {
                        let bins = &sol.bins;
                        let ok = |b: usize| p.allowed(i, bins[b].ty) && bins[b].fits(s);
                        tree.first(s, bins.len(), &ok)
                    }
                    Fit::Best => {
                        let mut best: Option<(f64, usize)> = None;
                        for (b, bin) in sol.bins.iter().enumerate() {
                            if !p.allowed(i, bin.ty) || !bin.fits(s) {
                                continue;
                            }
                            let r: f64 = (0..p.d)
                                .map(|k| {
                                    w0[k] * (bin.cap[k] - bin.load[k] - s[k]) as f64 / p.scale[k]
                                })
                                .sum();
                            if best.is_none_or(|x| r < x.0) {
                                best = Some((r, b));
                            }
                        }
                        best.map(|x| x.1)
                    }
                };
                let b = match target {
                    Some(b) => b,
                    None => match choose_type(p, i, types, &avg, &remaining) {
                        Some(t) => {
                            remaining[t] -= 1;
                            sol.bins.push(Bin::new_of_type(p, t));
                            sol.bins.len() - 1
                        }
                        None => {
                            sol.unplaced.push(i);
                            continue;
                        }
                    },
                };
                sol.bins[b].add(i, s);
                if fit == Fit::First {
                    if p.d >= 2 {
                        let bin = &sol.bins[b];
                        if resid.len() < (b + 1) * p.d {
                            resid.resize((b + 1) * p.d, 0);
                        }
                        for k in 0..p.d {
                            resid[b * p.d + k] = bin.cap[k] - bin.load[k];
                        }
                    } else {
                        tree.update(b, &sol.bins);
                    }
                }
            }
        }
        Heuristic::BinCentricDot { weights, types } => {
            let mut left: Vec<usize> = all.clone();
            let w0 = match weights {
                Weights::Uniform => vec![1.0; p.d],
                _ => avg_weights(p, all.iter().copied()),
            };
            left = sorted_items(p, &left, SizeNorm::L2, &w0);
            // First fill the open bins, then new ones.
            let mut b = 0;
            loop {
                if left.is_empty() {
                    break;
                }
                if past() {
                    for &j in &left {
                        next_fit(p, &mut sol, &mut remaining, &avg, types, j);
                    }
                    break;
                }
                if b == sol.bins.len() {
                    // open a new bin for the largest remaining item
                    let mut opened = false;
                    while let Some(&i) = left.first() {
                        match choose_type(p, i, types, &avg, &remaining) {
                            Some(t) => {
                                remaining[t] -= 1;
                                sol.bins.push(Bin::new_of_type(p, t));
                                opened = true;
                                break;
                            }
                            None => {
                                sol.unplaced.push(i);
                                left.remove(0);
                            }
                        }
                    }
                    if !opened {
                        break;
                    }
                }
                loop {
                    let bin = &sol.bins[b];
                    let mut best: Option<(f64, usize)> = None;
                    for (pos, &i) in left.iter().enumerate() {
                        let s = p.s(i);
                        if !p.allowed(i, bin.ty) || !bin.fits(s) {
                            continue;
                        }
                        let dot: f64 = (0..p.d)
                            .map(|k| {
                                w0[k]
                                    * (s[k] as f64 / p.scale[k])
                                    * ((bin.cap[k] - bin.load[k]) as f64 / p.scale[k])
                            })
                            .sum();
                        if best.is_none_or(|x| dot > x.0) {
                            best = Some((dot, pos));
                        }
                    }
                    match best {
                        Some((_, pos)) => {
                            let i = left.remove(pos);
                            sol.bins[b].add(i, p.s(i));
                        }
                        None => break,
                    }
                }
                b += 1;
            }
        }
    }
    downsize(p, &mut sol);
    sol.prune();
    sol
}

/// Gives every new bin the cheapest type its items fit (respecting limits).
pub(crate) fn downsize(p: &Prob, sol: &mut Sol) {
    if p.types.len() < 2 {
        return;
    }
    let mut remaining: Vec<u64> = p.types.iter().map(|t| t.max).collect();
    for b in &sol.bins {
        if let BinSource::New { bin_type } = b.src {
            if b.used() {
                remaining[bin_type] = remaining[bin_type].saturating_sub(1);
            }
        }
    }
    for b in sol.bins.iter_mut() {
        if !matches!(b.src, BinSource::New { .. }) || !b.used() {
            continue;
        }
        let mut best = b.ty;
        for t in 0..p.types.len() {
            if t == b.ty || remaining[t] == 0 || p.types[t].cost >= p.types[best].cost {
                continue;
            }
            let fits = b.load.iter().zip(&p.types[t].cap).all(|(l, c)| l <= c)
                && b.items.iter().all(|&i| p.allowed(i as usize, t));
            if fits {
                best = t;
            }
        }
        if best != b.ty {
            remaining[b.ty] += 1;
            remaining[best] -= 1;
            b.ty = best;
            b.src = BinSource::New { bin_type: best };
            b.cost = p.types[best].cost;
            b.cap = p.types[best].cap.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::{BinType, Cost, Instance, Item};
    use crate::rng::SplitMix64;

    /// Issue 15 item 6: past its deadline a constructive heuristic finishes
    /// by next fit; the packing is still complete and feasible, and with no
    /// deadline nothing changes.
    #[test]
    fn past_the_deadline_the_rest_goes_by_next_fit() {
        let mut rng = SplitMix64::new(4);
        let items: Vec<Item> = (0..5000)
            .map(|_| Item::new(vec![rng.range(1, 50), rng.range(1, 50)]))
            .collect();
        let mut inst = Instance {
            items,
            bin_types: vec![
                BinType::new(vec![100, 100], Cost(10)),
                BinType::new(vec![60, 150], Cost(8)),
            ],
            open_bins: vec![],
        };
        inst.bin_types[1].max_count = Some(20);
        let p = Prob::new(&inst);
        let past = Some(Instant::now());
        for h in Heuristic::portfolio(p.n, p.d, p.types.len()) {
            let full = run(&p, h);
            let hurried = run_until(&p, h, past);
            let mut seen = vec![0u32; p.n];
            let mut per_type = [0u64; 2];
            for b in &hurried.bins {
                assert!((0..p.d).all(|k| b.load[k] <= b.cap[k]), "{}", h.name());
                per_type[b.ty] += 1;
                for &i in &b.items {
                    seen[i as usize] += 1;
                }
            }
            for &i in &hurried.unplaced {
                seen[i] += 1;
            }
            assert!(seen.iter().all(|&c| c == 1), "{}", h.name());
            assert!(per_type[1] <= 20);
            // Never better than the full heuristic on this instance, and the
            // full run is what `run` gives.
            assert!(hurried.bins.len() >= full.bins.len(), "{}", h.name());
            let again = run_until(&p, h, None);
            assert_eq!(again.cost(), full.cost());
        }
    }
}
