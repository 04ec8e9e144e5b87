//! Consistent-neighbourhood-style search for one-dimensional packing: the
//! bins always stay feasible, the items that do not fit wait in a set `S`,
//! and a tabu search swaps up to two items between a bin and `S` to pack
//! more weight; a descent between bins concentrates the free space.

use crate::rng::SplitMix64;

/// Best move so far: (gain, tie key, bin, out indices, in indices).
type Move = Option<(i64, u64, usize, [usize; 2], [usize; 2])>;

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
        }
    }

    /// Moves the items of the least loaded bin to `S` (one bin fewer).
    pub fn drop_bin(&mut self) {
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

    fn insert_all(&mut self) {
        // largest first, best fit
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

    /// Descent between bins: moves and 1-1 swaps that increase Σ load².
    fn descent(&mut self) {
        let nb = self.bins.len();
        let mut improved = true;
        let mut rounds = 0;
        while improved && rounds < 3 {
            improved = false;
            rounds += 1;
            for a in 0..nb {
                for b in 0..nb {
                    if a == b || self.load[a] < self.load[b] {
                        continue;
                    }
                    // a is the fuller bin: move/swap to make it fuller still
                    let ra = self.c - self.load[a];
                    if ra == 0 {
                        break;
                    }
                    let mut best: Option<(u64, usize, usize)> = None; // (gain, idx in b, idx in a or MAX)
                    for (jb, &j) in self.bins[b].iter().enumerate() {
                        if self.w[j] <= ra {
                            let g = self.w[j];
                            if best.is_none_or(|x| g > x.0) {
                                best = Some((g, jb, usize::MAX));
                            }
                        }
                        for (ia, &i) in self.bins[a].iter().enumerate() {
                            if self.w[j] > self.w[i] && self.w[j] - self.w[i] <= ra {
                                let g = self.w[j] - self.w[i];
                                if best.is_none_or(|x| g > x.0) {
                                    best = Some((g, jb, ia));
                                }
                            }
                        }
                    }
                    if let Some((g, jb, ia)) = best {
                        let j = self.bins[b].swap_remove(jb);
                        if ia != usize::MAX {
                            let i = self.bins[a].swap_remove(ia);
                            self.bins[b].push(i);
                        }
                        self.bins[a].push(j);
                        self.load[a] += g;
                        self.load[b] -= g;
                        improved = true;
                    }
                }
            }
        }
    }

    /// Runs until `S` is empty (`true`) or `max_iters` / `stop`.
    pub fn run(
        &mut self,
        rng: &mut SplitMix64,
        max_iters: u64,
        stop: &mut dyn FnMut(u64) -> bool,
    ) -> (bool, u64) {
        let start = self.iter;
        self.insert_all();
        while !self.s.is_empty() {
            if self.iter - start >= max_iters
                || ((self.iter - start) % 32 == 0 && stop(self.iter - start))
            {
                return (false, self.iter - start);
            }
            self.iter += 1;
            let it = self.iter;
            // best Swap(p, q): p items out of bin b (not tabu), q items of S in
            let ns = self.s.len();
            let mut best: Move = None;
            let mut ties = 0u64;
            for b in 0..self.bins.len() {
                let items = &self.bins[b];
                let m = items.len();
                let room = self.c - self.load[b];
                // out sets: none, single, pair
                let mut outs: Vec<(u64, [usize; 2])> = vec![(0, [usize::MAX; 2])];
                for x in 0..m {
                    if self.tabu[items[x]] > it {
                        continue;
                    }
                    outs.push((self.w[items[x]], [x, usize::MAX]));
                    for y in x + 1..m {
                        if self.tabu[items[y]] > it {
                            continue;
                        }
                        outs.push((self.w[items[x]] + self.w[items[y]], [x, y]));
                    }
                }
                for &(wout, oi) in &outs {
                    let avail = room + wout;
                    for u in 0..ns {
                        let wu = self.w[self.s[u]];
                        if wu <= avail {
                            self.consider(
                                &mut best,
                                &mut ties,
                                rng,
                                wu as i64 - wout as i64,
                                b,
                                oi,
                                [u, usize::MAX],
                                oi[0] != usize::MAX,
                            );
                        }
                        for v in u + 1..ns {
                            let wv = self.w[self.s[v]];
                            if wu + wv <= avail {
                                self.consider(
                                    &mut best,
                                    &mut ties,
                                    rng,
                                    (wu + wv) as i64 - wout as i64,
                                    b,
                                    oi,
                                    [u, v],
                                    oi[0] != usize::MAX,
                                );
                            }
                        }
                    }
                }
            }
            let Some((_, _, b, oi, ui)) = best else {
                self.descent();
                self.insert_all();
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
                self.tabu[i] = it + 5 + rng.below(10);
            }
            self.bins[b].append(&mut ins);
            if it % 512 == 0 {
                self.descent();
            }
            self.insert_all();
        }
        (true, self.iter - start)
    }

    #[allow(clippy::too_many_arguments)]
    fn consider(
        &self,
        best: &mut Move,
        ties: &mut u64,
        rng: &mut SplitMix64,
        gain: i64,
        b: usize,
        oi: [usize; 2],
        ui: [usize; 2],
        takes_out: bool,
    ) {
        // a pure insertion is handled by insert_all; require a real swap
        if !takes_out {
            return;
        }
        // prefer more packed weight; among equal, fewer items left in S
        let nin = ui.iter().filter(|&&u| u != usize::MAX).count() as u64;
        let nout = oi.iter().filter(|&&x| x != usize::MAX).count() as u64;
        let key2 = nin + 2 - nout; // bigger = fewer items in S afterwards
        match best {
            Some((g, k2, ..)) if (gain, key2) < (*g, *k2) => {}
            Some((g, k2, ..)) if (gain, key2) == (*g, *k2) => {
                *ties += 1;
                if rng.below(*ties) == 0 {
                    *best = Some((gain, key2, b, oi, ui));
                }
            }
            _ => {
                *ties = 1;
                *best = Some((gain, key2, b, oi, ui));
            }
        }
    }
}
