//! Anytime local search on a fixed set of bins: all items are assigned,
//! bins may overflow, and a tabu search with move and swap moves drives the
//! total weighted overflow to zero (as in consistent-neighbourhood and
//! bin-elimination methods: remove a bin, then repair).

use crate::core::{Bin, Prob};
use crate::rng::SplitMix64;

/// Outcome of a repair run.
pub(crate) struct Repair {
    /// `true` when every bin is within capacity.
    pub feasible: bool,
    /// Iterations used.
    pub iterations: u64,
}

/// Until when moving item `i` into bin `b` is tabu. Dense (`items × bins`)
/// when that is small; otherwise a short list per item of the entries still
/// in force, since a dense table is quadratic in the instance (100k items:
/// 32 GB). Expired entries (until ≤ now) read as 0 either way and the
/// iteration count only grows, so both give the same answers.
enum TabuTable {
    Dense { nb: usize, until: Vec<u64> },
    PerItem(Vec<Vec<(u32, u64)>>),
}

/// Largest dense table, in entries (32 MB).
const DENSE_TABU_ENTRIES: usize = 1 << 22;

impl TabuTable {
    fn new(items: usize, bins: usize) -> Self {
        match items.checked_mul(bins) {
            Some(e) if e <= DENSE_TABU_ENTRIES => TabuTable::Dense {
                nb: bins,
                until: vec![0; e],
            },
            _ => TabuTable::PerItem(vec![Vec::new(); items]),
        }
    }

    #[inline]
    fn get(&self, i: usize, b: usize) -> u64 {
        match self {
            TabuTable::Dense { nb, until } => until[i * nb + b],
            TabuTable::PerItem(l) => l[i].iter().find(|e| e.0 as usize == b).map_or(0, |e| e.1),
        }
    }

    /// Sets the entry at iteration `now`, dropping the item's expired ones.
    #[inline]
    fn set(&mut self, i: usize, b: usize, v: u64, now: u64) {
        match self {
            TabuTable::Dense { nb, until } => until[i * *nb + b] = v,
            TabuTable::PerItem(l) => {
                let l = &mut l[i];
                l.retain(|e| e.1 > now && e.0 as usize != b);
                l.push((b as u32, v));
            }
        }
    }
}

/// Tabu search state over fixed bins.
pub(crate) struct Tabu<'a> {
    p: &'a Prob,
    pub bins: Vec<Bin>,
    /// global id of each local item
    gid: Vec<usize>,
    /// sizes of local items
    sz: Vec<u64>,
    d: usize,
    /// bin of each local item
    pos: Vec<u32>,
    /// index of the item inside its bin's item list
    slot: Vec<u32>,
    w: Vec<f64>,
    tabu: TabuTable,
    nb: usize,
    over: f64,
    iter: u64,
}

impl<'a> Tabu<'a> {
    /// Bins with their items (loads must be consistent).
    pub fn new(p: &'a Prob, mut bins: Vec<Bin>) -> Self {
        let nb = bins.len();
        let m: usize = bins.iter().map(|b| b.items.len()).sum();
        let mut gid = Vec::with_capacity(m);
        let mut sz = Vec::with_capacity(m * p.d);
        let mut pos = vec![0u32; m];
        let mut slot = vec![0u32; m];
        for (b, bin) in bins.iter_mut().enumerate() {
            for (s, i) in bin.items.iter_mut().enumerate() {
                let l = gid.len();
                gid.push(*i as usize);
                sz.extend_from_slice(p.s(*i as usize));
                pos[l] = b as u32;
                slot[l] = s as u32;
                *i = l as u32;
            }
        }
        let w = if p.d == 1 {
            vec![1.0]
        } else {
            p.scale.iter().map(|s| 1.0 / s).collect()
        };
        let mut t = Tabu {
            p,
            bins,
            gid,
            sz,
            d: p.d,
            pos,
            slot,
            w,
            tabu: TabuTable::new(m, nb),
            nb,
            over: 0.0,
            iter: 0,
        };
        t.over = (0..nb).map(|b| t.excess(&t.bins[b].load, b)).sum();
        t
    }

    #[inline]
    fn s(&self, i: usize) -> &[u64] {
        &self.sz[i * self.d..(i + 1) * self.d]
    }

    /// The bins with global item ids.
    pub fn into_bins(self) -> Vec<Bin> {
        let mut bins = self.bins;
        for b in bins.iter_mut() {
            for i in b.items.iter_mut() {
                *i = self.gid[*i as usize] as u32;
            }
        }
        bins
    }

    #[inline]
    fn excess(&self, load: &[u64], b: usize) -> f64 {
        let cap = &self.bins[b].cap;
        let mut e = 0.0;
        for k in 0..load.len() {
            if load[k] > cap[k] {
                e += (load[k] - cap[k]) as f64 * self.w[k];
            }
        }
        e
    }

    /// Excess of bin `b` if `add` is added and `sub` removed.
    #[inline]
    fn excess_delta(&self, b: usize, add: Option<usize>, sub: Option<usize>) -> f64 {
        let bin = &self.bins[b];
        if self.d == 1 {
            let mut l = bin.load[0];
            if let Some(i) = add {
                l += self.sz[i];
            }
            if let Some(j) = sub {
                l -= self.sz[j];
            }
            return if l > bin.cap[0] {
                (l - bin.cap[0]) as f64
            } else {
                0.0
            };
        }
        let mut e = 0.0;
        for k in 0..self.p.d {
            let mut l = bin.load[k];
            if let Some(i) = add {
                l += self.s(i)[k];
            }
            if let Some(j) = sub {
                l -= self.s(j)[k];
            }
            if l > bin.cap[k] {
                e += (l - bin.cap[k]) as f64 * self.w[k];
            }
        }
        e
    }

    fn bin_excess(&self, b: usize) -> f64 {
        self.excess(&self.bins[b].load, b)
    }

    fn remove(&mut self, i: usize) {
        let b = self.pos[i] as usize;
        let s = self.slot[i] as usize;
        let bin = &mut self.bins[b];
        bin.items.swap_remove(s);
        if s < bin.items.len() {
            let moved = bin.items[s] as usize;
            self.slot[moved] = s as u32;
        }
        for k in 0..self.d {
            bin.load[k] -= self.sz[i * self.d + k];
        }
    }

    fn insert(&mut self, i: usize, b: usize) {
        let bin = &mut self.bins[b];
        self.slot[i] = bin.items.len() as u32;
        bin.items.push(i as u32);
        for k in 0..self.d {
            bin.load[k] += self.sz[i * self.d + k];
        }
        self.pos[i] = b as u32;
    }

    fn relocate(&mut self, i: usize, to: usize) {
        let from = self.pos[i] as usize;
        let before = self.bin_excess(from) + self.bin_excess(to);
        self.remove(i);
        self.insert(i, to);
        let after = self.bin_excess(from) + self.bin_excess(to);
        self.over += after - before;
    }

    /// Runs until feasible or `max_iters` iterations; `stop` is polled.
    pub fn run(
        &mut self,
        rng: &mut SplitMix64,
        max_iters: u64,
        stop: &mut dyn FnMut(u64) -> bool,
    ) -> Repair {
        let p = self.p;
        let start = self.iter;
        let mut best_over = self.over;
        let mut overloaded: Vec<usize> = Vec::new();
        while self.iter - start < max_iters {
            // exact feasibility check (float drift safe)
            overloaded.clear();
            for b in 0..self.nb {
                let bin = &self.bins[b];
                if bin.load.iter().zip(&bin.cap).any(|(l, c)| l > c) {
                    overloaded.push(b);
                }
            }
            if overloaded.is_empty() {
                self.over = 0.0;
                return Repair {
                    feasible: true,
                    iterations: self.iter - start,
                };
            }
            // One iteration scans every bin: with many bins poll the budget
            // every iteration, or a time limit overruns by 64 scans.
            let stride = if self.nb > 1024 { 1 } else { 64 };
            if (self.iter - start) % stride == 0 && stop(self.iter - start) {
                break;
            }
            self.iter += 1;
            let it = self.iter;
            // Candidate moves from the overloaded bins.
            let mut best_delta = f64::INFINITY;
            let mut best_mv: (usize, usize, usize) = (usize::MAX, 0, usize::MAX); // (i, to, j)
            let mut ties = 0u64;
            let n_over_items: usize = overloaded.iter().map(|&b| self.bins[b].items.len()).sum();
            // Limit work when many bins overflow.
            let sample_bins: [usize; 1] = [overloaded[rng.below(overloaded.len() as u64) as usize]];
            for &a in &sample_bins {
                let ea = self.bin_excess(a);
                let ta = self.bins[a].ty;
                for ii in 0..self.bins[a].items.len() {
                    let i = self.bins[a].items[ii] as usize;
                    let ea_rm = self.excess_delta(a, None, Some(i));
                    for b in 0..self.nb {
                        if b == a || !p.allowed(self.gid[i], self.bins[b].ty) {
                            continue;
                        }
                        let eb = self.bin_excess(b);
                        let mut tabu_i: Option<bool> = None;
                        // move
                        let d = ea_rm - ea + self.excess_delta(b, Some(i), None) - eb;
                        if d <= best_delta + 1e-12
                            && (!*tabu_i.get_or_insert(self.tabu.get(i, b) > it)
                                || self.over + d < best_over - 1e-9)
                        {
                            consider(
                                &mut best_delta,
                                &mut best_mv,
                                &mut ties,
                                rng,
                                d,
                                (i, b, usize::MAX),
                            );
                        }
                        // swaps
                        let b_over = eb > 0.0;
                        for jj in 0..self.bins[b].items.len() {
                            let j = self.bins[b].items[jj] as usize;
                            let si = self.s(i);
                            let sj = self.s(j);
                            // j at least as large as i everywhere cannot
                            // help unless b itself overflows
                            if !b_over && si.iter().zip(sj).all(|(x, y)| y >= x) {
                                continue;
                            }
                            if !p.allowed(self.gid[j], ta) {
                                continue;
                            }
                            let d = self.excess_delta(a, Some(j), Some(i)) - ea
                                + self.excess_delta(b, Some(i), Some(j))
                                - eb;
                            if d > best_delta + 1e-12 {
                                continue;
                            }
                            let tabu_s = *tabu_i.get_or_insert(self.tabu.get(i, b) > it)
                                || self.tabu.get(j, a) > it;
                            if !tabu_s || self.over + d < best_over - 1e-9 {
                                consider(
                                    &mut best_delta,
                                    &mut best_mv,
                                    &mut ties,
                                    rng,
                                    d,
                                    (i, b, j),
                                );
                            }
                        }
                    }
                }
            }
            if best_mv.0 == usize::MAX {
                continue;
            }
            let (i, to, j) = best_mv;
            let from = self.pos[i] as usize;
            let tenure = (0.6 * n_over_items as f64) as u64 + rng.below(10) + 1;
            self.relocate(i, to);
            self.tabu.set(i, from, it + tenure, it);
            if j != usize::MAX {
                self.relocate(j, from);
                self.tabu.set(j, to, it + tenure, it);
            }
            if self.over < best_over {
                best_over = self.over;
            }
        }
        let feasible = self
            .bins
            .iter()
            .all(|b| b.load.iter().zip(&b.cap).all(|(l, c)| l <= c));
        Repair {
            feasible,
            iterations: self.iter - start,
        }
    }
}

#[inline]
fn consider(
    best: &mut f64,
    mv: &mut (usize, usize, usize),
    ties: &mut u64,
    rng: &mut SplitMix64,
    d: f64,
    cand: (usize, usize, usize),
) {
    if d < *best - 1e-12 {
        *best = d;
        *mv = cand;
        *ties = 1;
    } else if (d - *best).abs() <= 1e-12 {
        *ties += 1;
        if rng.below(*ties) == 0 {
            *mv = cand;
        }
    }
}

/// Puts `items` into `bins` one by one, each where it adds the least
/// overflow (ties: most remaining room). Returns `false` if an item is
/// allowed in none of the bins.
pub(crate) fn insert_min_overflow(p: &Prob, bins: &mut [Bin], items: &[usize]) -> bool {
    let mut order = items.to_vec();
    p.sort_largest_first(&mut order);
    for i in order {
        let s = p.s(i);
        let mut best: Option<(f64, f64, usize)> = None;
        for (b, bin) in bins.iter().enumerate() {
            if !p.allowed(i, bin.ty) {
                continue;
            }
            let mut over = 0.0;
            let mut room = 0.0;
            for k in 0..p.d {
                let l = bin.load[k] + s[k];
                if l > bin.cap[k] {
                    over += (l - bin.cap[k]) as f64 / p.scale[k];
                } else {
                    room += (bin.cap[k] - l) as f64 / p.scale[k];
                }
            }
            if best.is_none_or(|x| over < x.0 || (over == x.0 && room > x.1)) {
                best = Some((over, room, b));
            }
        }
        match best {
            Some((_, _, b)) => bins[b].add(i, s),
            None => return false,
        }
    }
    true
}
