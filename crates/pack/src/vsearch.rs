//! Vector and heterogeneous bin-elimination search.
//!
//! [`perfect_fit`]: when a target number of identical bins leaves no slack
//! in some dimensions (the items' total equals `target · capacity` there),
//! every bin of a packing with `target` bins is *exactly* full in those
//! dimensions. The search enumerates the exact-fill patterns of one, two
//! and three items (pairs and triples completed by a hash lookup of the
//! missing size, patterns of four by meeting two pair sums) and looks for
//! an exact cover of the items by patterns, branching on the item type with
//! the fewest applicable patterns (as in dancing-links exact cover). Triplet
//! instances (every optimal bin holds three items filling it) are solved
//! this way, where the multi-dimensional heuristics stay 15–20% above the
//! optimum.

use crate::bounds;
use crate::core::{Bin, Prob, Sol};
use crate::greedy::{self, Heuristic};
use crate::result::{BinSource, WorkCounters};
use crate::rng::SplitMix64;
use crate::solver::{eliminate_uniform, Clock};
use std::collections::HashMap;

/// Upper limit on enumerated patterns (memory and time guard).
const MAX_PATTERNS: usize = 400_000;

/// Pattern enumeration is quadratic in the distinct item sizes.
const MAX_KINDS: usize = 10_000;

/// The single-type search repairs whole packings (its tabu state is
/// items × bins); above this many items it is skipped.
const SINGLE_TYPE_MAX_ITEMS: usize = 5_000;

/// Items grouped by identical size vectors.
struct Kinds {
    /// Item ids of each kind.
    members: Vec<Vec<usize>>,
    /// Size vector of each kind.
    size: Vec<Vec<u64>>,
}

fn kinds_of(p: &Prob, items: &[usize]) -> Kinds {
    let mut idx: HashMap<&[u64], usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut size: Vec<Vec<u64>> = Vec::new();
    for &i in items {
        let s = p.s(i);
        let k = *idx.entry(s).or_insert_with(|| {
            members.push(Vec::new());
            size.push(s.to_vec());
            members.len() - 1
        });
        members[k].push(i);
    }
    Kinds { members, size }
}

/// Tries to pack `items` into exactly `target` bins of the single bin type
/// of a uniform instance using exact-fill patterns. `None` when no dimension
/// is tight, the pattern space is too large, no cover exists among the
/// enumerated patterns, or the budget runs out.
pub(crate) fn perfect_fit(
    p: &Prob,
    items: &[usize],
    target: u64,
    clock: &mut Clock,
    rng: &mut SplitMix64,
) -> Option<Sol> {
    if !p.uniform() || items.is_empty() || target == 0 {
        return None;
    }
    let cap = &p.types[0].cap;
    let d = p.d;
    let mut total = vec![0u128; d];
    for &i in items {
        for k in 0..d {
            total[k] += p.s(i)[k] as u128;
        }
    }
    let tight: Vec<usize> = (0..d)
        .filter(|&k| total[k] == target as u128 * cap[k] as u128)
        .collect();
    if tight.is_empty() || (0..d).any(|k| total[k] > target as u128 * cap[k] as u128) {
        return None;
    }
    let kinds = kinds_of(p, items);
    let nk = kinds.members.len();
    if nk > MAX_KINDS {
        return None;
    }
    let proj = |v: &[u64]| -> Vec<u64> { tight.iter().map(|&k| v[k]).collect() };
    let cap_t = proj(cap);
    // kinds by their tight projection
    let mut by_proj: HashMap<Vec<u64>, Vec<u32>> = HashMap::new();
    for (k, s) in kinds.size.iter().enumerate() {
        by_proj.entry(proj(s)).or_default().push(k as u32);
    }
    let count = |k: u32| kinds.members[k as usize].len();
    let fits_all = |parts: &[u32]| -> bool {
        (0..d).all(|k| {
            parts
                .iter()
                .map(|&x| kinds.size[x as usize][k])
                .sum::<u64>()
                <= cap[k]
        })
    };
    // multiplicity check for a sorted pattern
    let mult_ok = |parts: &[u32]| -> bool {
        let mut j = 0;
        while j < parts.len() {
            let mut e = j;
            while e < parts.len() && parts[e] == parts[j] {
                e += 1;
            }
            if e - j > count(parts[j]) {
                return false;
            }
            j = e;
        }
        true
    };
    let sub = |a: &[u64], b: &[u64]| -> Option<Vec<u64>> {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.checked_sub(*y))
            .collect::<Option<Vec<u64>>>()
    };
    let mut pats: Vec<Vec<u32>> = Vec::new();
    let mut work = 0u64;
    // singles
    for k in 0..nk as u32 {
        if proj(&kinds.size[k as usize]) == cap_t {
            pats.push(vec![k]);
        }
    }
    // pairs and triples via complement lookup
    for a in 0..nk as u32 {
        let pa = proj(&kinds.size[a as usize]);
        let Some(ra) = sub(&cap_t, &pa) else { continue };
        if ra.iter().all(|&x| x == 0) {
            continue;
        }
        if let Some(cs) = by_proj.get(&ra) {
            for &b in cs {
                if b >= a {
                    let pat = vec![a, b];
                    if mult_ok(&pat) && fits_all(&pat) {
                        pats.push(pat);
                    }
                }
            }
        }
        for b in a..nk as u32 {
            work += 1;
            if work % 4096 == 0 {
                clock.used += 64;
                if clock.out() {
                    return None;
                }
            }
            let pb = proj(&kinds.size[b as usize]);
            let Some(rb) = sub(&ra, &pb) else { continue };
            if rb.iter().all(|&x| x == 0) {
                continue;
            }
            if let Some(cs) = by_proj.get(&rb) {
                for &c in cs {
                    if c >= b {
                        let pat = vec![a, b, c];
                        if mult_ok(&pat) && fits_all(&pat) {
                            pats.push(pat);
                        }
                    }
                }
            }
            if pats.len() > MAX_PATTERNS {
                return None;
            }
        }
    }
    if pats.is_empty() {
        return None;
    }

    let (chosen, _complete) = exact_cover(&kinds, &pats, target, clock, rng)?;
    // materialise the bins; items of a partial cover go first fit
    // decreasing into further bins
    let mut next = vec![0usize; nk];
    let mut bins = Vec::with_capacity(target as usize);
    for pi in chosen {
        let mut b = Bin::new_of_type(p, 0);
        for &k in &pats[pi] {
            let i = kinds.members[k as usize][next[k as usize]];
            next[k as usize] += 1;
            b.add(i, p.s(i));
        }
        bins.push(b);
    }
    let full = bins.len();
    let mut rest: Vec<usize> = (0..nk)
        .flat_map(|k| kinds.members[k][next[k]..].iter().copied())
        .collect();
    p.sort_largest_first(&mut rest);
    for i in rest {
        let s = p.s(i);
        match bins[full..].iter_mut().find(|b| b.fits(s)) {
            Some(b) => b.add(i, s),
            None => {
                let mut b = Bin::new_of_type(p, 0);
                b.add(i, s);
                bins.push(b);
            }
        }
    }
    debug_assert!(bins
        .iter()
        .all(|b| b.load.iter().zip(&b.cap).all(|(l, c)| l <= c)));
    Some(Sol {
        bins,
        unplaced: Vec::new(),
    })
}

/// Heterogeneous bins without restrictions or open bins: for the bin types
/// with the lowest continuous cost (ties: the largest, which is the most
/// flexible), packs every item into bins of that one type with the uniform
/// machinery (greedy portfolio, bin elimination), then moves each bin to
/// the cheapest type its load fits. Replaces `best` when cheaper. When
/// several types cost the same per unit of capacity, one large type packs
/// as well as any mix of the small ones, and the downsizing step fixes the
/// last, partly filled bins.
pub(crate) fn single_type(
    p: &Prob,
    best: &mut Sol,
    lb: u64,
    clock: &mut Clock,
    rng: &mut SplitMix64,
    work: &mut WorkCounters,
) {
    if p.types.len() < 2
        || p.n > SINGLE_TYPE_MAX_ITEMS
        || p.allow.is_some()
        || !p.open.is_empty()
        || !best.unplaced.is_empty()
    {
        return;
    }
    let items: Vec<usize> = (0..p.n).collect();
    let mut total = vec![0f64; p.d];
    for i in 0..p.n {
        for k in 0..p.d {
            total[k] += p.s(i)[k] as f64;
        }
    }
    // candidate types: every item fits, unlimited count
    let mut cands: Vec<(f64, u64, usize)> = (0..p.types.len())
        .filter(|&t| p.types[t].max == u64::MAX && (0..p.n).all(|i| p.fits_type(i, t)))
        .map(|t| {
            let ty = &p.types[t];
            let bins = (0..p.d)
                .map(|k| total[k] / ty.cap[k].max(1) as f64)
                .fold(0.0, f64::max);
            (bins * ty.cost as f64, ty.cost, t)
        })
        .collect();
    cands.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    cands.truncate(2);
    let tries = cands.len();
    for (idx, &(cont, _, t)) in cands.iter().enumerate() {
        if best.cost() <= lb || clock.out() || cont >= best.cost() as f64 {
            continue;
        }
        let mut sub = p.clone();
        sub.types = vec![p.types[t].clone()];
        let portfolio = Heuristic::portfolio(p.n, p.d, 1);
        let mut sol = portfolio
            .iter()
            .map(|&h| greedy::run(&sub, h))
            .min_by_key(|s| s.key())
            .expect("portfolio is never empty");
        work.heuristics += portfolio.len() as u64;
        let sub_lb = bounds::uniform_bins(&sub, &items).saturating_mul(sub.types[0].cost);
        // half of what is left for the first type, all of the rest for
        // the last
        let mut sc = clock.share(if idx + 1 == tries { 0.5 } else { 0.35 });
        eliminate_uniform(&sub, &mut sol, sub_lb, &mut sc, rng, work);
        clock.used += sc.used;
        for b in sol.bins.iter_mut() {
            b.ty = t;
            b.src = BinSource::New { bin_type: t };
            b.cost = p.types[t].cost;
        }
        greedy::downsize(p, &mut sol);
        if sol.key() < best.key() {
            *best = sol;
        }
    }
}

/// Incremental exact-cover state (dancing-links style counters): `bad[q]`
/// counts the kinds of pattern `q` with fewer items left than `q` needs,
/// `avail[k]` the applicable patterns containing kind `k`.
struct Cover<'a> {
    pats: &'a [Vec<u32>],
    /// distinct (kind, need) of each pattern
    pat_kinds: Vec<Vec<(u32, u32)>>,
    /// (pattern, need) per kind
    of_kind: Vec<Vec<(u32, u32)>>,
    left: Vec<usize>,
    bad: Vec<u32>,
    avail: Vec<u32>,
}

impl<'a> Cover<'a> {
    fn new(kinds: &Kinds, pats: &'a [Vec<u32>]) -> Self {
        let nk = kinds.members.len();
        let left: Vec<usize> = kinds.members.iter().map(Vec::len).collect();
        let mut pat_kinds = Vec::with_capacity(pats.len());
        let mut of_kind: Vec<Vec<(u32, u32)>> = vec![Vec::new(); nk];
        for (q, pat) in pats.iter().enumerate() {
            let mut v: Vec<(u32, u32)> = Vec::new();
            for &k in pat {
                match v.last_mut() {
                    Some(last) if last.0 == k => last.1 += 1,
                    _ => v.push((k, 1)),
                }
            }
            for &(k, need) in &v {
                of_kind[k as usize].push((q as u32, need));
            }
            pat_kinds.push(v);
        }
        let mut c = Cover {
            pats,
            pat_kinds,
            of_kind,
            left,
            bad: vec![0; pats.len()],
            avail: vec![0; nk],
        };
        for q in 0..pats.len() {
            let b = c.pat_kinds[q]
                .iter()
                .filter(|&&(k, need)| need as usize > c.left[k as usize])
                .count() as u32;
            c.bad[q] = b;
            if b == 0 {
                for &(k, _) in &c.pat_kinds[q] {
                    c.avail[k as usize] += 1;
                }
            }
        }
        c
    }

    fn dec(&mut self, k: usize) {
        self.left[k] -= 1;
        let l = self.left[k] as u32;
        for &(q, need) in &self.of_kind[k] {
            if need == l + 1 {
                self.bad[q as usize] += 1;
                if self.bad[q as usize] == 1 {
                    for &(k2, _) in &self.pat_kinds[q as usize] {
                        self.avail[k2 as usize] -= 1;
                    }
                }
            }
        }
    }

    fn inc(&mut self, k: usize) {
        let l = self.left[k] as u32;
        self.left[k] += 1;
        for &(q, need) in &self.of_kind[k] {
            if need == l + 1 {
                self.bad[q as usize] -= 1;
                if self.bad[q as usize] == 0 {
                    for &(k2, _) in &self.pat_kinds[q as usize] {
                        self.avail[k2 as usize] += 1;
                    }
                }
            }
        }
    }

    fn apply(&mut self, q: usize) {
        for j in 0..self.pats[q].len() {
            self.dec(self.pats[q][j] as usize);
        }
    }

    fn undo(&mut self, q: usize) {
        for j in (0..self.pats[q].len()).rev() {
            self.inc(self.pats[q][j] as usize);
        }
    }

    /// Applicable patterns of the kind with the fewest (ties: lowest
    /// `tie` key); `None` when every item is covered.
    fn choose(&self, tie: &[u64]) -> Option<Vec<u32>> {
        let mut best: Option<(u32, u64, usize)> = None;
        for k in 0..self.left.len() {
            if self.left[k] == 0 {
                continue;
            }
            // branching degree with multiplicities (cf. Knuth's algorithm M)
            let theta = (self.avail[k] + 1).saturating_sub(self.left[k] as u32);
            let key = (if self.avail[k] == 0 { 0 } else { theta.max(1) }, tie[k]);
            if best.is_none_or(|b| key < (b.0, b.1)) {
                best = Some((key.0, key.1, k));
                if key.0 == 0 {
                    break;
                }
            }
        }
        let (_, _, k) = best?;
        Some(
            self.of_kind[k]
                .iter()
                .filter(|&&(q, _)| self.bad[q as usize] == 0)
                .map(|&(q, _)| q)
                .collect(),
        )
    }
}

/// Outcome of one bounded depth-first run.
enum Run {
    Found(Vec<usize>),
    /// The whole tree was searched: no cover.
    Exhausted,
    /// Node limit or budget reached.
    Limit,
}

/// Exact cover with multiplicities: choose patterns (with repetition) whose
/// kind counts add up to every kind's count, using at most `target`
/// patterns. Depth-first with restarts (growing node limits, reshuffled
/// candidate orders and tie-breaks). Returns pattern indices.
fn exact_cover(
    kinds: &Kinds,
    pats: &[Vec<u32>],
    target: u64,
    clock: &mut Clock,
    rng: &mut SplitMix64,
) -> Option<(Vec<usize>, bool)> {
    let mut cover = Cover::new(kinds, pats);
    let nk = kinds.members.len();
    if (0..nk).any(|k| cover.avail[k] == 0) {
        return None;
    }
    let mut tie: Vec<u64> = (0..nk as u64).collect();
    let mut limit = 2_000 + 20 * nk as u64;
    let mut partial: Vec<usize> = Vec::new();
    // the cover search may use up to 60% of the budget; the rest goes to
    // the bin-elimination search from the best partial cover
    let stop_at = 0.6;
    for round in 0.. {
        if round > 0 {
            for t in tie.iter_mut() {
                *t = rng.next_u64();
            }
        }
        let run = dfs(
            &mut cover,
            target,
            limit,
            &tie,
            clock,
            rng,
            round > 0,
            &mut partial,
            stop_at,
        );
        match run {
            Run::Found(v) => return Some((v, true)),
            Run::Exhausted => break,
            Run::Limit => {
                if clock.out() || clock.fraction() >= stop_at {
                    break;
                }
                limit = limit * 3 / 2;
            }
        }
    }
    (!partial.is_empty()).then_some((partial, false))
}

#[allow(clippy::too_many_arguments)]
fn dfs(
    cover: &mut Cover,
    target: u64,
    limit: u64,
    tie: &[u64],
    clock: &mut Clock,
    rng: &mut SplitMix64,
    shuffle: bool,
    partial: &mut Vec<usize>,
    stop_at: f64,
) -> Run {
    let mut remaining: usize = cover.left.iter().sum();
    // frames: (candidates, next index, applied pattern)
    let mut stack: Vec<(Vec<u32>, usize, Option<u32>)> = Vec::new();
    let mut chosen: Vec<usize> = Vec::new();
    let mut nodes = 0u64;
    let pick = |cover: &Cover, rng: &mut SplitMix64| -> Option<Vec<u32>> {
        let mut c = cover.choose(tie)?;
        if shuffle {
            for i in (1..c.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                c.swap(i, j);
            }
        }
        Some(c)
    };
    let Some(first) = pick(cover, rng) else {
        return Run::Found(Vec::new());
    };
    stack.push((first, 0, None));
    let result = loop {
        nodes += 1;
        if nodes % 64 == 0 {
            clock.used += 64;
            if nodes >= limit || clock.out() || clock.fraction() >= stop_at {
                break Run::Limit;
            }
        }
        let Some(top) = stack.last_mut() else {
            break Run::Exhausted;
        };
        if let Some(q) = top.2.take() {
            cover.undo(q as usize);
            remaining += cover.pats[q as usize].len();
            chosen.pop();
        }
        if top.1 >= top.0.len() || chosen.len() as u64 >= target {
            stack.pop();
            continue;
        }
        let q = top.0[top.1];
        top.1 += 1;
        top.2 = Some(q);
        cover.apply(q as usize);
        remaining -= cover.pats[q as usize].len();
        chosen.push(q as usize);
        if chosen.len() > partial.len() {
            partial.clone_from(&chosen);
        }
        if remaining == 0 {
            break Run::Found(chosen.clone());
        }
        if chosen.len() as u64 >= target {
            continue;
        }
        if let Some(c) = pick(cover, rng) {
            if !c.is_empty() {
                stack.push((c, 0, None));
            }
        }
    };
    // restore the counters for the next run
    while let Some((_, _, applied)) = stack.pop() {
        if let Some(q) = applied {
            cover.undo(q as usize);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::{Instance, Item};
    use crate::result::Budget;

    fn triplets(seed: u64, bins: usize, d: usize) -> Instance {
        let mut rng = SplitMix64::new(seed);
        let mut items = Vec::new();
        for _ in 0..bins {
            let mut a = vec![0u64; d];
            let mut b = vec![0u64; d];
            let mut c = vec![0u64; d];
            for k in 0..d {
                a[k] = rng.range(26, 49);
                b[k] = rng.range(26, (100 - a[k] - 25).min(49));
                c[k] = 100 - a[k] - b[k];
            }
            items.extend([Item::new(a), Item::new(b), Item::new(c)]);
        }
        for i in (1..items.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
        Instance::uniform(vec![100; d], items)
    }

    #[test]
    fn finds_the_planted_triplets() {
        for seed in 0..4 {
            let inst = triplets(seed, 30, 3);
            let p = Prob::new(&inst);
            let items: Vec<usize> = (0..p.n).collect();
            let mut clock = Clock::new(Budget::iterations(1_000_000));
            let mut rng = SplitMix64::new(seed);
            let sol = perfect_fit(&p, &items, 30, &mut clock, &mut rng).expect("cover");
            assert_eq!(sol.bins.len(), 30);
            let mut seen = vec![false; p.n];
            for b in &sol.bins {
                assert!(b.load.iter().zip(&b.cap).all(|(l, c)| l == c));
                for &i in &b.items {
                    assert!(!seen[i as usize]);
                    seen[i as usize] = true;
                }
            }
            assert!(seen.iter().all(|&x| x));
        }
    }

    #[test]
    fn single_type_packs_into_the_large_type_then_downsizes() {
        use crate::instance::{BinType, Cost};
        let inst = Instance {
            items: [6u64, 6, 6, 4, 4, 4]
                .iter()
                .map(|&w| Item::new(vec![w, w]))
                .collect(),
            bin_types: vec![
                BinType::new(vec![10, 10], Cost(10)),
                BinType::new(vec![20, 20], Cost(20)),
            ],
            open_bins: vec![],
        };
        let p = Prob::new(&inst);
        // one item per small bin: cost 60
        let mut best = Sol {
            bins: (0..p.n)
                .map(|i| {
                    let mut b = Bin::new_of_type(&p, 0);
                    b.add(i, p.s(i));
                    b
                })
                .collect(),
            unplaced: Vec::new(),
        };
        let mut clock = Clock::new(Budget::iterations(10_000));
        let mut rng = SplitMix64::new(3);
        let mut work = WorkCounters::default();
        single_type(&p, &mut best, 30, &mut clock, &mut rng, &mut work);
        assert_eq!(best.cost(), 30);
        let mut seen = vec![false; p.n];
        for b in &best.bins {
            assert!(b.load.iter().zip(&b.cap).all(|(l, c)| l <= c));
            assert_eq!(b.cap, p.types[b.ty].cap);
            b.items.iter().for_each(|&i| seen[i as usize] = true);
        }
        assert!(seen.iter().all(|&x| x));
    }

    #[test]
    fn no_tight_dimension_gives_up() {
        let inst = Instance::uniform(
            vec![10, 10],
            vec![Item::new(vec![3, 3]), Item::new(vec![4, 4])],
        );
        let p = Prob::new(&inst);
        let mut clock = Clock::new(Budget::iterations(1000));
        let mut rng = SplitMix64::new(1);
        assert!(perfect_fit(&p, &[0, 1], 1, &mut clock, &mut rng).is_none());
    }

    #[test]
    fn impossible_cover_is_rejected() {
        // totals are tight for 2 bins but no exact-fill pattern covers all
        let inst = Instance::uniform(
            vec![10],
            vec![
                Item::new(vec![7]),
                Item::new(vec![7]),
                Item::new(vec![3]),
                Item::new(vec![3]),
            ],
        );
        let mut inst2 = inst.clone();
        inst2.items[1] = Item::new(vec![6]);
        inst2.items[3] = Item::new(vec![4]);
        let p = Prob::new(&inst2);
        let mut clock = Clock::new(Budget::iterations(1000));
        let mut rng = SplitMix64::new(1);
        // 7+3, 6+4: a cover exists
        assert!(perfect_fit(&p, &[0, 1, 2, 3], 2, &mut clock, &mut rng).is_some());
        let inst3 = Instance::uniform(
            vec![10],
            vec![
                Item::new(vec![8]),
                Item::new(vec![6]),
                Item::new(vec![3]),
                Item::new(vec![3]),
            ],
        );
        let p = Prob::new(&inst3);
        assert!(perfect_fit(&p, &[0, 1, 2, 3], 2, &mut clock, &mut rng).is_none());
        let _ = inst;
    }
}
