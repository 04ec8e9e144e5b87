//! Consistent neighbourhood search for one-dimensional packing, after
//! Buljubašić & Vasquez (2016): to reach `m` bins, the search works on a
//! *partial* solution of `m − 2` feasible bins plus a set `S` of
//! unassigned items, and succeeds as soon as `S` fits into two bins.
//!
//! * Tabu phase: `Swap(p, q)` moves exchange `p ≤ 2` items of one bin with
//!   `q ≤ 2` items of `S` (the bin stays feasible). The objective is
//!   lexicographic: minimise the weight of `S`, then maximise the number of
//!   items in `S` (many small items are easier to pack). An item moved from
//!   `S` into a bin may not go back to `S` for a (randomised) tenure.
//! * Descent phase: for each bin in turn, the best subset of the bin's
//!   items plus `S` that fits (maximum weight, then fewest items) replaces
//!   the bin's contents (general add/drop moves), until no bin improves.
//!
//! The phases alternate: a tabu phase of a bounded number of iterations
//! without improvement, then a descent.

use crate::rng::SplitMix64;

/// Best move so far: (gain, items-in-S delta, bin, out indices, in indices).
type Move = Option<(i64, i64, usize, [usize; 2], [usize; 2])>;

/// Search state.
pub(crate) struct Cns<'a> {
    c: u64,
    w: &'a [u64],
    /// items per bin
    pub bins: Vec<Vec<usize>>,
    load: Vec<u64>,
    /// waiting items
    pub s: Vec<usize>,
    /// iteration until which an item may not go back to S
    tabu: Vec<u64>,
    iter: u64,
    /// sorted weights of `S` (scratch)
    sw: Vec<u64>,
    /// distinct weights of `S` with multiplicity, increasing
    singles: Vec<(u64, u64)>,
    /// distinct pair sums of `S` with multiplicity, increasing
    pairs: Vec<(u64, u64)>,
    pair_buf: Vec<u64>,
    /// for capacities up to [`LUT_MAX`]: number of single items / pairs
    /// of `S` per total weight `≤ c`
    cnt1: Vec<u32>,
    cnt2: Vec<u32>,
    /// heaviest single / pair weight `≤ x` ([`NONE`] when none)
    best1: Vec<u32>,
    best2: Vec<u32>,
    /// whether the lookup tables (not the sorted ones) are current
    use_lut: bool,
}

/// No in-set in a lookup table.
const NONE: u32 = u32::MAX;

/// Largest capacity for which `best_move` uses lookup tables instead of
/// binary search.
const LUT_MAX: u64 = 1 << 16;

/// Splits `items` into at most two bins of capacity `c` when possible.
fn fits_two(c: u64, w: &[u64], items: &[usize]) -> Option<Vec<Vec<usize>>> {
    let total: u64 = items.iter().map(|&i| w[i]).sum();
    if total == 0 && items.is_empty() {
        return Some(Vec::new());
    }
    if total <= c {
        return Some(vec![items.to_vec()]);
    }
    if total > 2 * c || items.len() > 40 {
        return None;
    }
    // subset with weight in [total − c, c]: a bitset subset-sum decides,
    // a DFS over decreasing weights then finds the split
    let lo = total - c;
    if c <= 4_000_000 {
        let words = (c as usize) / 64 + 1;
        let mut bits = vec![0u64; words];
        bits[0] = 1;
        for &i in items {
            let sh = w[i] as usize;
            let (ws, bs) = (sh / 64, sh % 64);
            for k in (ws..words).rev() {
                let mut v = bits[k - ws] << bs;
                if bs > 0 && k > ws {
                    v |= bits[k - ws - 1] >> (64 - bs);
                }
                bits[k] |= v;
            }
        }
        let hit = (lo..=c).any(|x| bits[(x / 64) as usize] >> (x % 64) & 1 == 1);
        if !hit {
            return None;
        }
    }
    let mut idx = items.to_vec();
    idx.sort_by(|&a, &b| w[b].cmp(&w[a]).then(a.cmp(&b)));
    let mut suf = vec![0u64; idx.len() + 1];
    for k in (0..idx.len()).rev() {
        suf[k] = suf[k + 1] + w[idx[k]];
    }
    let mut pick = vec![false; idx.len()];
    let mut nodes = 0u32;
    #[allow(clippy::too_many_arguments)]
    fn rec(
        k: usize,
        sum: u64,
        lo: u64,
        c: u64,
        idx: &[usize],
        w: &[u64],
        suf: &[u64],
        pick: &mut [bool],
        nodes: &mut u32,
    ) -> bool {
        if sum >= lo {
            return true;
        }
        *nodes += 1;
        if k == idx.len() || sum + suf[k] < lo || *nodes > 200_000 {
            return false;
        }
        if sum + w[idx[k]] <= c {
            pick[k] = true;
            if rec(k + 1, sum + w[idx[k]], lo, c, idx, w, suf, pick, nodes) {
                return true;
            }
            pick[k] = false;
        }
        rec(k + 1, sum, lo, c, idx, w, suf, pick, nodes)
    }
    // the largest item goes into the first bin (symmetry)
    pick[0] = true;
    if rec(1, w[idx[0]], lo, c, &idx, w, &suf, &mut pick, &mut nodes) {
        let mut first = Vec::new();
        let mut second = Vec::new();
        for (k, &i) in idx.iter().enumerate() {
            if pick[k] {
                first.push(i);
            } else {
                second.push(i);
            }
        }
        return Some(vec![first, second]);
    }
    None
}

impl<'a> Cns<'a> {
    pub fn new(c: u64, w: &'a [u64], bins: Vec<Vec<usize>>, s: Vec<usize>) -> Self {
        let load = bins.iter().map(|b| b.iter().map(|&i| w[i]).sum()).collect();
        Cns {
            c,
            w,
            bins,
            load,
            s,
            tabu: vec![0; w.len()],
            iter: 0,
            sw: Vec::new(),
            singles: Vec::new(),
            pairs: Vec::new(),
            pair_buf: Vec::new(),
            cnt1: Vec::new(),
            cnt2: Vec::new(),
            best1: Vec::new(),
            best2: Vec::new(),
            use_lut: false,
        }
    }

    /// Moves the items of the `k` least loaded bins to `S`.
    pub fn drop_bins(&mut self, k: usize) {
        for _ in 0..k {
            if self.bins.is_empty() {
                return;
            }
            let (b, _) = self
                .load
                .iter()
                .enumerate()
                .min_by_key(|(i, l)| (**l, *i))
                .expect("nonempty");
            let items = self.bins.swap_remove(b);
            self.load.swap_remove(b);
            self.s.extend(items);
        }
    }

    fn weight_s(&self) -> u64 {
        self.s.iter().map(|&i| self.w[i]).sum()
    }

    /// Best-fit insertion of `S` items (largest first) where they fit.
    fn insert_all(&mut self) {
        self.s
            .sort_by(|&a, &b| self.w[b].cmp(&self.w[a]).then(a.cmp(&b)));
        let mut keep = Vec::new();
        for &i in &self.s {
            let mut best: Option<(u64, usize)> = None;
            for (b, &l) in self.load.iter().enumerate() {
                if l + self.w[i] <= self.c {
                    let r = self.c - l - self.w[i];
                    if best.is_none_or(|x| r < x.0) {
                        best = Some((r, b));
                    }
                }
            }
            match best {
                Some((_, b)) => {
                    self.load[b] += self.w[i];
                    self.bins[b].push(i);
                }
                None => keep.push(i),
            }
        }
        self.s = keep;
    }

    /// Descent: each bin's contents become the best subset of (bin ∪ S)
    /// that fits: maximum weight, then fewest items. Returns `true` when
    /// the weight of `S` decreased.
    fn descent(&mut self) -> bool {
        let mut any = false;
        let mut improved = true;
        let mut rounds = 0;
        while improved && rounds < 4 {
            improved = false;
            rounds += 1;
            for b in 0..self.bins.len() {
                if self.load[b] == self.c || self.s.is_empty() {
                    continue;
                }
                let mut pool: Vec<usize> = self.bins[b].clone();
                pool.extend(self.s.iter().copied());
                if pool.len() > 40 {
                    continue;
                }
                pool.sort_by(|&x, &y| self.w[y].cmp(&self.w[x]).then(x.cmp(&y)));
                let Some((sum, chosen)) = best_subset(self.c, self.w, &pool, self.load[b]) else {
                    continue;
                };
                if sum > self.load[b] {
                    let mut in_bin = vec![false; pool.len()];
                    for &k in &chosen {
                        in_bin[k] = true;
                    }
                    let mut nb = Vec::new();
                    let mut ns = Vec::new();
                    for (k, &i) in pool.iter().enumerate() {
                        if in_bin[k] {
                            nb.push(i);
                        } else {
                            ns.push(i);
                        }
                    }
                    self.bins[b] = nb;
                    self.load[b] = sum;
                    self.s = ns;
                    improved = true;
                    any = true;
                }
            }
        }
        any
    }

    /// Runs until `S` fits into two bins (`true`; the bins then hold a
    /// complete packing) or `max_iters` / `stop`.
    pub fn run(
        &mut self,
        rng: &mut SplitMix64,
        max_iters: u64,
        stop: &mut dyn FnMut(u64) -> bool,
    ) -> (bool, u64) {
        let start = self.iter;
        self.insert_all();
        let mut best_ws = u64::MAX;
        let mut since_best = 0u64;
        let stall = 200 + 10 * self.bins.len() as u64;
        loop {
            if let Some(extra) = fits_two(self.c, self.w, &self.s) {
                for b in extra {
                    if !b.is_empty() {
                        self.load.push(b.iter().map(|&i| self.w[i]).sum());
                        self.bins.push(b);
                    }
                }
                self.s.clear();
                return (true, self.iter - start);
            }
            if self.iter - start >= max_iters
                || ((self.iter - start) % 16 == 0 && stop(self.iter - start))
            {
                return (false, self.iter - start);
            }
            self.iter += 1;
            let it = self.iter;
            let ws = self.weight_s();
            if ws < best_ws {
                best_ws = ws;
                since_best = 0;
            } else {
                since_best += 1;
            }
            if since_best >= stall {
                since_best = 0;
                best_ws = u64::MAX;
                self.descent();
                continue;
            }
            let Some((_, _, b, oi, ui)) = self.best_move(rng, it, ws, best_ws) else {
                self.descent();
                continue;
            };
            // apply
            let mut ins: Vec<usize> = ui
                .iter()
                .filter(|&&u| u != usize::MAX)
                .map(|&u| self.s[u])
                .collect();
            let mut rm: Vec<usize> = ui.iter().copied().filter(|&u| u != usize::MAX).collect();
            rm.sort_unstable_by(|a, b| b.cmp(a));
            for u in rm {
                self.s.swap_remove(u);
            }
            let mut outi: Vec<usize> = oi.iter().copied().filter(|&x| x != usize::MAX).collect();
            outi.sort_unstable_by(|a, b| b.cmp(a));
            for x in outi {
                let i = self.bins[b].swap_remove(x);
                self.load[b] -= self.w[i];
                self.s.push(i);
            }
            for &i in &ins {
                self.load[b] += self.w[i];
                self.tabu[i] = it + 3 + rng.below(8);
            }
            self.bins[b].append(&mut ins);
            self.insert_all();
        }
    }

    /// Rebuilds the weight tables of `S`: for capacities up to
    /// [`LUT_MAX`], counts per weight (single items and pairs) and the
    /// heaviest weight `≤ x` for every `x ≤ c`; above, sorted distinct
    /// weights (pair sums) with multiplicities.
    fn build_tables(&mut self) {
        let w = self.w;
        self.sw.clear();
        self.sw.extend(self.s.iter().map(|&i| w[i]));
        // lookup tables (O(c) to build, O(1) per query) beat binary
        // search once `S` holds a pair
        self.use_lut = self.c <= LUT_MAX && self.sw.len() >= 2;
        if self.use_lut {
            let n = self.c as usize + 1;
            for t in [&mut self.cnt1, &mut self.cnt2] {
                t.clear();
                t.resize(n, 0);
            }
            for (a, &x) in self.sw.iter().enumerate() {
                if x <= self.c {
                    self.cnt1[x as usize] += 1;
                    for &y in &self.sw[a + 1..] {
                        if x + y <= self.c {
                            self.cnt2[(x + y) as usize] += 1;
                        }
                    }
                }
            }
            for (cnt, best) in [(&self.cnt1, &mut self.best1), (&self.cnt2, &mut self.best2)] {
                best.clear();
                let mut last = NONE;
                best.extend(cnt.iter().enumerate().map(|(x, &k)| {
                    if k > 0 {
                        last = x as u32;
                    }
                    last
                }));
            }
            return;
        }
        self.sw.sort_unstable();
        run_lengths(&self.sw, &mut self.singles);
        self.pair_buf.clear();
        for (a, &x) in self.sw.iter().enumerate() {
            for &y in &self.sw[a + 1..] {
                self.pair_buf.push(x + y);
            }
        }
        self.pair_buf.sort_unstable();
        run_lengths(&self.pair_buf, &mut self.pairs);
    }

    /// The heaviest in-set of `q` items of `S` with weight `≤ x`: its
    /// weight and how many in-sets have that weight.
    #[inline]
    fn heaviest(&self, q: i64, x: u64) -> Option<(u64, u64)> {
        if self.use_lut {
            let (cnt, best) = if q == 1 {
                (&self.cnt1, &self.best1)
            } else {
                (&self.cnt2, &self.best2)
            };
            let b = best[x.min(self.c) as usize];
            (b != NONE).then(|| (b as u64, cnt[b as usize] as u64))
        } else {
            let table = if q == 1 { &self.singles } else { &self.pairs };
            let k = table.partition_point(|p| p.0 <= x);
            (k > 0).then(|| table[k - 1])
        }
    }

    /// The best non-tabu `Swap(p, q)`, `p ≤ 2`, `1 ≤ q ≤ 2` (aspiration: a
    /// tabu move that beats the best weight of `S` is allowed).
    ///
    /// For every out-set of a bin only the heaviest in-set of each size can
    /// be best, so it is found by binary search over the sorted distinct
    /// weights (pair sums) of `S`; ties among equal moves are broken
    /// uniformly at random, counting every in-set with the same weight.
    fn best_move(&mut self, rng: &mut SplitMix64, it: u64, ws: u64, best_ws: u64) -> Move {
        self.build_tables();
        let mut best: Option<Cand> = None;
        let mut ties = 0u64;
        let c = self.c;
        let w = self.w;
        for b in 0..self.bins.len() {
            let items = &self.bins[b];
            let m = items.len();
            let room = c - self.load[b];
            // an in-set fits into the room plus the out-set, so no move of
            // this bin gains more than its room
            if best.as_ref().is_some_and(|bc| (room as i64) < bc.gain) {
                continue;
            }
            // nothing out (in `run`, `insert_all` leaves no such move)
            self.eval_out(
                &mut best,
                &mut ties,
                rng,
                b,
                [usize::MAX; 2],
                0,
                0,
                room,
                false,
                ws,
                best_ws,
            );
            for x in 0..m {
                let wx = w[items[x]];
                let tx = self.tabu[items[x]] > it;
                self.eval_out(
                    &mut best,
                    &mut ties,
                    rng,
                    b,
                    [x, usize::MAX],
                    1,
                    wx,
                    room,
                    tx,
                    ws,
                    best_ws,
                );
                for y in x + 1..m {
                    let wy = w[items[y]];
                    let ty = tx || self.tabu[items[y]] > it;
                    self.eval_out(
                        &mut best,
                        &mut ties,
                        rng,
                        b,
                        [x, y],
                        2,
                        wx + wy,
                        room,
                        ty,
                        ws,
                        best_ws,
                    );
                }
            }
        }
        let cand = best?;
        // materialise the chosen in-set: the `pick`-th one (in `S` order)
        // with the chosen total weight
        let mut left = cand.pick;
        let ns = self.s.len();
        if cand.q == 1 {
            for u in 0..ns {
                if w[self.s[u]] == cand.win {
                    if left == 0 {
                        return Some((cand.gain, cand.dn, cand.b, cand.oi, [u, usize::MAX]));
                    }
                    left -= 1;
                }
            }
        } else {
            for u in 0..ns {
                let wu = w[self.s[u]];
                if wu >= cand.win {
                    continue;
                }
                for v in u + 1..ns {
                    if wu + w[self.s[v]] == cand.win {
                        if left == 0 {
                            return Some((cand.gain, cand.dn, cand.b, cand.oi, [u, v]));
                        }
                        left -= 1;
                    }
                }
            }
        }
        unreachable_move()
    }

    /// Considers the best in-sets of one and of two items for the out-set
    /// `oi` (`nout` items of total weight `wout`) of bin `b`.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn eval_out(
        &self,
        best: &mut Option<Cand>,
        ties: &mut u64,
        rng: &mut SplitMix64,
        b: usize,
        oi: [usize; 2],
        nout: i64,
        wout: u64,
        room: u64,
        is_tabu: bool,
        ws: u64,
        best_ws: u64,
    ) {
        let avail = room + wout;
        for q in [1i64, 2] {
            // heaviest in-set of size q that fits
            let Some(mut hit) = self.heaviest(q, avail) else {
                continue;
            };
            // a move that changes nothing (equal weights swapped)
            if hit.0 == wout && q == nout {
                let next = if wout == 0 {
                    None
                } else {
                    self.heaviest(q, wout - 1)
                };
                let Some(h) = next else {
                    continue;
                };
                hit = h;
            }
            let (win, count) = hit;
            let gain = win as i64 - wout as i64;
            let dn = nout - q;
            if is_tabu && (ws as i64 - gain) >= best_ws as i64 {
                continue;
            }
            let key = (gain, dn);
            // Reservoir sampling over equal moves: a tie replaces the
            // incumbent with probability count / ties.
            let take = match best {
                Some(bc) if key < (bc.gain, bc.dn) => false,
                Some(bc) if key == (bc.gain, bc.dn) => {
                    *ties += count;
                    rng.below(*ties) < count
                }
                _ => {
                    *ties = count;
                    true
                }
            };
            if take {
                let pick = if count > 1 { rng.below(count) } else { 0 };
                *best = Some(Cand {
                    gain,
                    dn,
                    b,
                    oi,
                    q,
                    win,
                    pick,
                });
            }
        }
    }
}

/// A candidate move with its in-set given by weight and rank.
#[derive(Clone, Copy)]
struct Cand {
    gain: i64,
    dn: i64,
    b: usize,
    oi: [usize; 2],
    /// in-set size
    q: i64,
    /// in-set weight
    win: u64,
    /// which of the in-sets with this weight (in `S` order)
    pick: u64,
}

/// Replaces `out` with the (value, count) runs of the sorted `xs`.
fn run_lengths(xs: &[u64], out: &mut Vec<(u64, u64)>) {
    out.clear();
    for &x in xs {
        match out.last_mut() {
            Some((v, k)) if *v == x => *k += 1,
            _ => out.push((x, 1)),
        }
    }
}

fn unreachable_move() -> Move {
    debug_assert!(false, "chosen in-set not found in S");
    None
}

/// Best subset of `pool` (weights decreasing) with weight `≤ c`: maximum
/// weight, then fewest items; `None` when no subset beats `floor`.
fn best_subset(c: u64, w: &[u64], pool: &[usize], floor: u64) -> Option<(u64, Vec<usize>)> {
    struct St<'a> {
        c: u64,
        w: &'a [u64],
        pool: &'a [usize],
        suf: Vec<u64>,
        cur: Vec<usize>,
        best: (u64, usize),
        best_set: Vec<usize>,
        nodes: u32,
    }
    fn rec(st: &mut St, k: usize, sum: u64) {
        let key = (sum, usize::MAX - st.cur.len());
        if key > st.best {
            st.best = key;
            st.best_set = st.cur.clone();
        }
        st.nodes += 1;
        if k == st.pool.len() || st.best.0 == st.c || st.nodes > 5_000 {
            return;
        }
        if sum + st.suf[k] < st.best.0 {
            return;
        }
        let wk = st.w[st.pool[k]];
        if sum + wk <= st.c {
            st.cur.push(k);
            rec(st, k + 1, sum + wk);
            st.cur.pop();
        }
        rec(st, k + 1, sum);
    }
    let mut suf = vec![0u64; pool.len() + 1];
    for k in (0..pool.len()).rev() {
        suf[k] = suf[k + 1] + w[pool[k]];
    }
    let mut st = St {
        c,
        w,
        pool,
        suf,
        cur: Vec::new(),
        best: (floor, 0),
        best_set: Vec::new(),
        nodes: 0,
    };
    rec(&mut st, 0, 0);
    if st.best.0 > floor {
        Some((st.best.0, st.best_set))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_two_splits_exactly() {
        let w = [6, 4, 5, 5];
        let r = fits_two(10, &w, &[0, 1, 2, 3]).expect("fits");
        assert_eq!(r.len(), 2);
        for b in &r {
            assert!(b.iter().map(|&i| w[i]).sum::<u64>() <= 10);
        }
        assert!(fits_two(10, &[6, 6, 6], &[0, 1, 2]).is_none());
    }

    #[test]
    fn finds_a_perfect_packing_from_a_bad_one() {
        // 3×(5,3,2) fill three bins of 10 exactly; start from the packing
        // (5,5) (3,3,2,2) (3) (2) ... i.e. 4 bins and drop to 1 + S.
        let w = [5, 5, 5, 3, 3, 3, 2, 2, 2];
        let bins = vec![vec![0, 1], vec![3, 4, 6, 7], vec![2, 5], vec![8]];
        let mut cns = Cns::new(10, &w, bins, Vec::new());
        cns.drop_bins(2);
        let mut rng = SplitMix64::new(3);
        let (ok, _) = cns.run(&mut rng, 10_000, &mut |_| false);
        assert!(ok);
        assert_eq!(cns.bins.len(), 3);
        let mut all: Vec<usize> = cns.bins.concat();
        all.sort_unstable();
        assert_eq!(all, (0..9).collect::<Vec<_>>());
        for b in &cns.bins {
            assert!(b.iter().map(|&i| w[i]).sum::<u64>() <= 10);
        }
    }

    #[test]
    fn best_subset_prefers_fewer_items() {
        let w = [6, 4, 2, 2];
        let (s, set) = best_subset(10, &w, &[0, 1, 2, 3], 0).expect("some");
        assert_eq!(s, 10);
        assert_eq!(set.len(), 2);
    }

    /// The best (gain, items-in-S delta) over all moves, by enumeration.
    fn naive_best(cns: &Cns, it: u64, ws: u64, best_ws: u64) -> Option<(i64, i64)> {
        let w = cns.w;
        let ns = cns.s.len();
        let mut ins: Vec<(u64, i64)> = Vec::new();
        for u in 0..ns {
            ins.push((w[cns.s[u]], 1));
            for v in u + 1..ns {
                ins.push((w[cns.s[u]] + w[cns.s[v]], 2));
            }
        }
        let mut best = None;
        for (b, items) in cns.bins.iter().enumerate() {
            let room = cns.c - cns.load[b];
            let m = items.len();
            let mut outs = vec![(0u64, 0i64, false)];
            for x in 0..m {
                let tx = cns.tabu[items[x]] > it;
                outs.push((w[items[x]], 1, tx));
                for y in x + 1..m {
                    let ty = tx || cns.tabu[items[y]] > it;
                    outs.push((w[items[x]] + w[items[y]], 2, ty));
                }
            }
            for &(wout, nout, tabu) in &outs {
                for &(win, q) in &ins {
                    let (gain, dn) = (win as i64 - wout as i64, nout - q);
                    if win > room + wout || (gain == 0 && dn == 0) {
                        continue;
                    }
                    if tabu && ws as i64 - gain >= best_ws as i64 {
                        continue;
                    }
                    if best.is_none_or(|k| (gain, dn) > k) {
                        best = Some((gain, dn));
                    }
                }
            }
        }
        best
    }

    #[test]
    fn best_move_matches_enumeration() {
        let mut rng = SplitMix64::new(11);
        let mut paths = [0u32; 2];
        for case in 0..400u64 {
            // small capacities use the lookup tables, large ones the
            // sorted tables
            let scale = if case % 2 == 0 { 1 } else { 1_000 };
            let c = 100 * scale;
            let n = 6 + rng.below(20) as usize;
            let w: Vec<u64> = (0..n).map(|_| (5 + rng.below(60)) * scale).collect();
            let mut bins: Vec<Vec<usize>> = Vec::new();
            let mut load: Vec<u64> = Vec::new();
            let mut s = Vec::new();
            for i in 0..n {
                match (0..bins.len()).find(|&b| load[b] + w[i] <= c) {
                    Some(b) if rng.below(4) > 0 => {
                        load[b] += w[i];
                        bins[b].push(i);
                    }
                    _ if rng.below(2) == 0 => s.push(i),
                    _ => {
                        load.push(w[i]);
                        bins.push(vec![i]);
                    }
                }
            }
            let mut cns = Cns::new(c, &w, bins, s);
            for t in cns.tabu.iter_mut() {
                *t = rng.below(4);
            }
            let it = 2;
            let ws = cns.weight_s();
            let best_ws = ws.saturating_sub(rng.below(3) * scale);
            let want = naive_best(&cns, it, ws, best_ws);
            let got = cns.best_move(&mut rng, it, ws, best_ws);
            paths[cns.use_lut as usize] += 1;
            assert_eq!(got.map(|g| (g.0, g.1)), want, "case {case}");
            if let Some((gain, dn, b, oi, ui)) = got {
                let outs: Vec<usize> = oi.iter().copied().filter(|&x| x != usize::MAX).collect();
                let ins: Vec<usize> = ui.iter().copied().filter(|&x| x != usize::MAX).collect();
                let wout: u64 = outs.iter().map(|&x| w[cns.bins[b][x]]).sum();
                let win: u64 = ins.iter().map(|&u| w[cns.s[u]]).sum();
                assert_eq!(win as i64 - wout as i64, gain);
                assert_eq!(outs.len() as i64 - ins.len() as i64, dn);
                assert!(cns.load[b] - wout + win <= c);
            }
        }
        // both the lookup and the sorted tables were exercised
        assert!(paths[0] > 50 && paths[1] > 50, "{paths:?}");
    }
}
