//! One-dimensional bin packing: FFD/BFD exactly as in the literature
//! baselines, strong bounds, bin elimination and an exact search.

use crate::bounds;
use crate::cns::Cns;
use crate::colgen::{self, CgLimits};
use crate::core::{Bin, Prob, Sol};
use crate::dive::{self, DiveStats};
use crate::result::{Budget, PackResult, Termination, WorkCounters};
use crate::rng::SplitMix64;
use crate::search::{insert_min_overflow, Tabu};
use crate::solver::{eliminate_uniform, finish, Clock, PackOptions};
use std::collections::BTreeMap;
use std::time::Instant;

/// Items by decreasing weight, ties by index (a stable sort).
fn decreasing(weights: &[u64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..weights.len()).collect();
    idx.sort_by(|&a, &b| weights[b].cmp(&weights[a]).then(a.cmp(&b)));
    idx
}

/// First-fit decreasing: each item into the first bin (in opening order)
/// with room. Returns the bins as lists of item indices. Items larger than
/// the capacity get a bin of their own.
///
/// ```
/// let bins = rightsizer_pack::oned::ffd(10, &[5, 6, 4, 5]);
/// assert_eq!(bins.len(), 2);
/// ```
pub fn ffd(capacity: u64, weights: &[u64]) -> Vec<Vec<usize>> {
    // segment tree over bins of the maximum residual
    let n = weights.len();
    let mut size = 1;
    while size < n.max(1) {
        size *= 2;
    }
    let mut tree = vec![0u64; 2 * size];
    let mut bins: Vec<Vec<usize>> = Vec::new();
    for i in decreasing(weights) {
        let w = weights[i];
        let b = if tree[1] >= w && !bins.is_empty() {
            let mut node = 1;
            while node < size {
                node = if tree[2 * node] >= w {
                    2 * node
                } else {
                    2 * node + 1
                };
            }
            node - size
        } else {
            bins.push(Vec::new());
            let b = bins.len() - 1;
            tree[size + b] = capacity.saturating_sub(0);
            b
        };
        bins[b].push(i);
        let leaf = size + b;
        tree[leaf] = tree[leaf].saturating_sub(w);
        let mut node = leaf / 2;
        while node >= 1 {
            tree[node] = tree[2 * node].max(tree[2 * node + 1]);
            node /= 2;
        }
    }
    bins
}

/// Best-fit decreasing: each item into the bin with the least residual
/// that still has room (ties: the earliest opened).
///
/// ```
/// let bins = rightsizer_pack::oned::bfd(10, &[5, 6, 4, 5]);
/// assert_eq!(bins.len(), 2);
/// ```
pub fn bfd(capacity: u64, weights: &[u64]) -> Vec<Vec<usize>> {
    bfd_until(capacity, weights, None).expect("no deadline")
}

/// [`bfd`] that gives up (`None`) once `deadline` passes (polled every
/// 1,024 items), so that the constructive phase itself honours a budget.
fn bfd_until(capacity: u64, weights: &[u64], deadline: Option<Instant>) -> Option<Vec<Vec<usize>>> {
    let mut by_res: BTreeMap<(u64, usize), ()> = BTreeMap::new();
    let mut bins: Vec<Vec<usize>> = Vec::new();
    let mut res: Vec<u64> = Vec::new();
    for (k, i) in decreasing(weights).into_iter().enumerate() {
        if k % 1024 == 1023 && deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let w = weights[i];
        let found = by_res.range((w, 0)..).next().map(|(&k, _)| k);
        let b = match found {
            Some(key) => {
                by_res.remove(&key);
                key.1
            }
            None => {
                bins.push(Vec::new());
                res.push(capacity);
                bins.len() - 1
            }
        };
        bins[b].push(i);
        res[b] = res[b].saturating_sub(w);
        by_res.insert((res[b], b), ());
    }
    Some(bins)
}

/// The Gilmore–Gomory LP bound computed by column generation.
#[derive(Clone, Debug, PartialEq)]
pub struct LpBound {
    /// A valid lower bound on the number of bins (at least L1); exact
    /// integer arithmetic on rounded duals, so floating-point noise cannot
    /// make it exceed the optimum.
    pub bins: u64,
    /// The last restricted-master LP value (an estimate of the LP optimum
    /// from above; equal to it when `converged`).
    pub lp_value: f64,
    /// `true` when no improving column remained (the LP is solved).
    pub converged: bool,
    /// Simplex pivots plus pricing problems solved.
    pub iterations: u64,
}

/// Column-generation LP bound for items `weights` in bins of `capacity`
/// (items larger than the capacity give the L1 bound only), limited to
/// `max_iterations` pivots plus pricings. Stops early once the bound
/// reaches `target` (e.g. a known packing's bin count). Deterministic.
///
/// ```
/// // Items 6 need a bin each, two 4s fit next to nothing but each other:
/// // the LP value is 4.5, so 5 bins are needed.
/// let b = rightsizer_pack::oned::lp_bound(10, &[6, 6, 6, 4, 4, 4, 4, 4, 4], u64::MAX, 10_000);
/// assert_eq!(b.bins, 5);
/// ```
pub fn lp_bound(capacity: u64, weights: &[u64], target: u64, max_iterations: u64) -> LpBound {
    let r = colgen::lp_bound(
        capacity,
        weights,
        &[],
        CgLimits {
            target,
            deadline: None,
            max_iterations,
            lazy: false,
        },
    );
    LpBound {
        bins: r.bound,
        lp_value: r.lp_value,
        converged: r.converged,
        iterations: r.iterations,
    }
}

/// Rounds an LP solution over patterns (counts per distinct size, sizes
/// decreasing) down to whole bins and packs the remaining items by FFD.
/// Returns bins of indices into `w`.
fn round_lp(c: u64, w: &[u64], patterns: &[(Vec<u32>, f64)]) -> Vec<Vec<usize>> {
    let order = decreasing(w);
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut sizes: Vec<u64> = Vec::new();
    for i in order {
        if sizes.last() == Some(&w[i]) {
            members.last_mut().expect("nonempty").push(i);
        } else {
            sizes.push(w[i]);
            members.push(vec![i]);
        }
    }
    let mut pats: Vec<&(Vec<u32>, f64)> = patterns.iter().collect();
    pats.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut bins: Vec<Vec<usize>> = Vec::new();
    for (a, x) in pats {
        if a.len() != sizes.len() {
            continue;
        }
        for _ in 0..(x + 1e-6).floor() as u64 {
            let mut bin = Vec::new();
            for (j, &k) in a.iter().enumerate() {
                for _ in 0..k {
                    if let Some(i) = members[j].pop() {
                        bin.push(i);
                    }
                }
            }
            if !bin.is_empty() {
                bins.push(bin);
            }
        }
    }
    let rest: Vec<usize> = members.into_iter().flatten().collect();
    let rw: Vec<u64> = rest.iter().map(|&i| w[i]).collect();
    bins.extend(
        ffd(c, &rw)
            .into_iter()
            .map(|b| b.into_iter().map(|x| rest[x]).collect::<Vec<usize>>()),
    );
    bins
}

fn to_sol(p: &Prob, bins: &[Vec<usize>]) -> Sol {
    let mut sol = Sol {
        bins: Vec::with_capacity(bins.len()),
        unplaced: Vec::new(),
    };
    for items in bins {
        let mut b = Bin::new_of_type(p, 0);
        for &i in items {
            b.add(i, p.s(i));
        }
        sol.bins.push(b);
    }
    sol
}

/// Above this many placeable items the 1-D path skips the per-item searches
/// (tabu repair, bin completion, consistent neighbourhood search): their
/// set-up alone is linear or worse in the items and bins and a single step
/// scans every bin, so a time budget could not be honoured (100k items
/// overran a 1 s budget by 0.9 s, 1M items by 275 s). What remains scales:
/// FFD, BFD, the L2/Fekete–Schepers bounds, the column-generation LP over
/// the distinct sizes and its rounding.
pub(crate) const LARGE_1D: usize = 20_000;

/// The 1-D path for more than [`LARGE_1D`] items. Each step runs only when
/// the budget allows it; FFD always runs (it is the answer when the budget
/// is already spent).
fn solve_large(
    p: &Prob,
    opts: &PackOptions,
    start: Instant,
    placeable: &[usize],
    w: &[u64],
) -> PackResult {
    let c = p.types[0].cap[0];
    let cost = p.types[0].cost;
    let mut clock = Clock::new(opts.budget);
    let mut work = WorkCounters {
        heuristics: 1,
        ..WorkCounters::default()
    };
    let mut is_placeable = vec![false; p.n];
    for &i in placeable {
        is_placeable[i] = true;
    }
    let unplaced: Vec<usize> = (0..p.n).filter(|&i| !is_placeable[i]).collect();
    let with_unplaced = |bins: &[Vec<usize>]| {
        let global: Vec<Vec<usize>> = bins
            .iter()
            .map(|b| b.iter().map(|&j| placeable[j]).collect())
            .collect();
        let mut s = to_sol(p, &global);
        s.unplaced = unplaced.clone();
        s
    };
    let mut best_local = ffd(c, w);
    let mut name = "ffd";
    clock.used += 1;
    // Building the result costs a few times what converting a packing to
    // the working form does: measure that and keep four times it in reserve, so
    // the optional steps below end before the time budget does.
    let t0 = Instant::now();
    let ffd_sol = with_unplaced(&best_local);
    let reserve = t0.elapsed() * 4;
    let mut improved = false;
    let deadline = |share: u32| {
        opts.budget
            .time
            .map(|t| start + (t * share / 100).saturating_sub(reserve))
    };
    let past = |d: Option<Instant>| d.is_some_and(|d| Instant::now() >= d);
    if !clock.out() && !past(deadline(50)) {
        work.heuristics += 1;
        clock.used += 1;
        match bfd_until(c, w, deadline(50)) {
            Some(b) if b.len() < best_local.len() => {
                best_local = b;
                name = "bfd";
                improved = true;
            }
            _ => {}
        }
    }
    // L2 and Fekete–Schepers sort the items; L1 is a single pass.
    let mut lb_bins = if clock.out() || past(deadline(40)) {
        bounds::l1(c, w)
    } else {
        bounds::one_dim(c, w)
    };
    let mut lp_stopped_by_time = false;
    if (best_local.len() as u64) > lb_bins && !clock.out() && !past(deadline(85)) {
        let deadline = deadline(85);
        // Seed the pool with an even sample of at most 4,096 of the
        // incumbent's bins: all of them (hundreds of thousands) cost more to
        // load than the LP needs, none makes it converge slowly.
        let step = best_local.len().div_ceil(4096).max(1);
        let seed: Vec<Vec<usize>> = best_local.iter().step_by(step).cloned().collect();
        let r = colgen::lp_bound(
            c,
            w,
            &[&seed],
            CgLimits {
                target: best_local.len() as u64,
                deadline,
                max_iterations: opts
                    .budget
                    .iterations
                    .map_or(1_000_000, |m| m.saturating_sub(clock.used) / 2)
                    .max(1),
                lazy: false,
            },
        );
        work.lp_iterations += r.iterations;
        clock.used += r.iterations.max(1);
        lp_stopped_by_time = !r.converged && past(deadline);
        lb_bins = lb_bins.max(r.bound);
        if (best_local.len() as u64) > lb_bins && !r.patterns.is_empty() && !clock.out() {
            let rounded = round_lp(c, w, &r.patterns);
            work.heuristics += 1;
            if rounded.len() < best_local.len() {
                best_local = rounded;
                name = "lp-rounding";
                improved = true;
            }
        }
    }
    let stopped_by_time = past(deadline(100)) || lp_stopped_by_time;
    let best = if improved {
        with_unplaced(&best_local)
    } else {
        ffd_sol
    };
    let objective = best.cost();
    let lb = lb_bins.saturating_mul(cost);
    let proven = objective <= lb;
    let termination = if proven {
        Termination::Optimal
    } else if clock.out() {
        clock.hit.unwrap_or(Termination::TimeLimit)
    } else if stopped_by_time {
        Termination::TimeLimit
    } else {
        Termination::Exhausted
    };
    finish(
        &best,
        objective,
        if proven { objective } else { lb.min(objective) },
        proven,
        termination,
        name.to_string(),
        work,
        start,
    )
}

/// The 1-D path of [`crate::pack`].
pub(crate) fn solve(
    p: &Prob,
    opts: &PackOptions,
    start: Instant,
    placeable: &[usize],
) -> PackResult {
    let c = p.types[0].cap[0];
    let cost = p.types[0].cost;
    let w: Vec<u64> = placeable.iter().map(|&i| p.size[i]).collect();
    let mut work = WorkCounters {
        heuristics: 2,
        ..WorkCounters::default()
    };
    let map = |bins: Vec<Vec<usize>>| -> Vec<Vec<usize>> {
        bins.into_iter()
            .map(|b| b.into_iter().map(|j| placeable[j]).collect())
            .collect()
    };
    if placeable.len() > LARGE_1D {
        return solve_large(p, opts, start, placeable, &w);
    }
    let f = map(ffd(c, &w));
    let b = map(bfd(c, &w));
    let (mut best, name) = if b.len() < f.len() {
        (to_sol(p, &b), "bfd")
    } else {
        (to_sol(p, &f), "ffd")
    };
    // `placeable` is ascending; a mask keeps this linear (`contains` made
    // the 1-D path quadratic in the item count).
    let mut is_placeable = vec![false; p.n];
    for &i in placeable {
        is_placeable[i] = true;
    }
    let unplaced: Vec<usize> = (0..p.n).filter(|&i| !is_placeable[i]).collect();
    best.unplaced = unplaced.clone();
    let mut lb_bins = bounds::one_dim(c, &w);
    let mut clock = Clock::new(opts.budget);
    let mut rng = SplitMix64::new(opts.seed ^ 0x1D1D);
    let mut lb = lb_bins.saturating_mul(cost);
    // Phase 0: a short tabu run (cheap wins on easy instances).
    if best.cost() > lb {
        let mut short = Clock::new(Budget {
            time: opts.budget.time.map(|t| t / 10),
            iterations: Some(
                opts.budget
                    .iterations
                    .unwrap_or(u64::MAX)
                    .min(20_000 + 20 * p.n as u64)
                    / 2,
            ),
        });
        eliminate_uniform(p, &mut best, lb, &mut short, &mut rng, &mut work);
        clock.used += short.used;
    }
    // The column-generation LP bound when the cheap bounds leave a gap:
    // a short run first (most instances are closed by the search or L2),
    // a longer one after phase 1 if the gap remains.
    let mut pos = vec![usize::MAX; p.n];
    for (k, &i) in placeable.iter().enumerate() {
        pos[i] = k;
    }
    let mut cg_done = false;
    let mut run_cg = |best: &Sol,
                      frac: u32,
                      iter_share: u64,
                      clock: &mut Clock,
                      work: &mut WorkCounters,
                      lb_bins: &mut u64| {
        if cg_done || (best.bins.len() as u64) <= *lb_bins || clock.out() {
            return None;
        }
        let cur: Vec<Vec<usize>> = best
            .bins
            .iter()
            .map(|b| b.items.iter().map(|&i| pos[i as usize]).collect())
            .collect();
        let fl = ffd(c, &w);
        let mut lp = colgen::Lp::new(c, &w, &[&cur, &fl])?;
        let r = lp.solve(CgLimits {
            target: best.bins.len() as u64,
            deadline: opts.budget.time.map(|t| start + t * frac / 100),
            max_iterations: opts
                .budget
                .iterations
                .map_or(1_000_000, |m| (m / iter_share).max(500)),
            lazy: false,
        });
        work.lp_iterations += r.iterations;
        clock.used += r.iterations;
        cg_done = r.converged || r.bound >= best.bins.len() as u64;
        *lb_bins = (*lb_bins).max(r.bound);
        Some((lp, r))
    };
    run_cg(&best, 8, 20, &mut clock, &mut work, &mut lb_bins);
    // LP diving needs cheap (dynamic-programming) pricing; when it runs,
    // phase 1 gets a smaller share.
    let diving = best.cost() > lb_bins.saturating_mul(cost) && colgen::dp_pricing(c, &w);
    // Phase 1: randomized bin-completion restarts aimed at the bound.
    let phase1_end = opts
        .budget
        .time
        .map(|t| start + t * if diving { 15 } else { 40 } / 100);
    let iter_cap = |f: u64| opts.budget.iterations.map(|m| m / 10 * f);
    let mut attempt = 0u64;
    while (best.bins.len() as u64) > lb_bins && !clock.out() {
        if phase1_end.is_some_and(|t| Instant::now() >= t)
            || iter_cap(4).is_some_and(|m| clock.used >= m)
        {
            break;
        }
        let ub = best.bins.len() as u64;
        let k = if attempt % 4 == 3 && lb_bins + 1 < ub {
            ub - 1
        } else {
            lb_bins
        };
        let left = clock.left();
        let deadline = phase1_end;
        let mut stop = |_: u64| deadline.is_some_and(|t| Instant::now() >= t);
        let seed = opts.seed.wrapping_add(attempt.wrapping_mul(0x9E37_79B9)) | 1;
        attempt += 1;
        if attempt % 2 == 0 {
            // fullest-completion greedy (MBS'), then tabu repair down to k bins
            let mut comp = Completion::new(c, &w, 1, u64::MAX, &mut stop);
            comp.seed = seed;
            let found = comp.run(p.n as u64 + 1);
            work.exact_nodes += comp.nodes;
            clock.used += comp.nodes.max(1);
            // None when the deadline interrupted the greedy
            let Some(bins) = found else { continue };
            let mut sol = to_sol(p, &map(bins));
            sol.unplaced = unplaced.clone();
            if sol.bins.len() as u64 <= k {
                best = sol;
                continue;
            }
            sol.bins.sort_by_key(|b| std::cmp::Reverse(b.load[0]));
            let extra: Vec<usize> = sol
                .bins
                .drain(k as usize..)
                .flat_map(|b| b.items.into_iter().map(|i| i as usize))
                .collect();
            insert_min_overflow(p, &mut sol.bins, &extra);
            let mut tabu = Tabu::new(p, sol.bins);
            let cap = (5_000 + 50 * p.n as u64).min(clock.left());
            let mut stop2 = |_: u64| deadline.is_some_and(|t| Instant::now() >= t);
            let rep = tabu.run(&mut rng, cap, &mut stop2);
            work.local_search_iterations += rep.iterations;
            clock.used += rep.iterations;
            if rep.feasible {
                let mut s2 = Sol {
                    bins: tabu.into_bins(),
                    unplaced: unplaced.clone(),
                };
                s2.prune();
                if s2.bins.len() < best.bins.len() {
                    best = s2;
                }
            }
            continue;
        }
        let mut comp = Completion::new(c, &w, 1, left.min(2_000 + 20 * p.n as u64), &mut stop);
        comp.seed = seed;
        let found = comp.run(k);
        work.exact_nodes += comp.nodes;
        clock.used += comp.nodes.max(1);
        if let Some(bins) = found {
            best = to_sol(p, &map(bins));
            best.unplaced = unplaced.clone();
        } else {
            // keep the deepest partial packing, completed by FFD, as a
            // starting point for phase 2 when it is no worse
            let (mut bins, rest) = comp.deepest();
            let rw: Vec<u64> = rest.iter().map(|&j| w[j]).collect();
            bins.extend(
                ffd(c, &rw)
                    .into_iter()
                    .map(|b| b.into_iter().map(|x| rest[x]).collect::<Vec<usize>>()),
            );
            if bins.len() <= best.bins.len() {
                best = to_sol(p, &map(bins));
                best.unplaced = unplaced.clone();
            }
        }
    }
    let cg = run_cg(&best, 48, 5, &mut clock, &mut work, &mut lb_bins);
    lb = lb_bins.saturating_mul(cost);
    // Phase 2a: LP diving (fix patterns of the LP solution, re-solve the
    // residual), each time aiming at one bin fewer than the incumbent.
    let dive_end = opts.budget.time.map(|t| start + t * 95 / 100);
    let mut dive_seed = opts.seed;
    while diving && best.cost() > lb && !clock.out() {
        let k = best.bins.len() as u64 - 1;
        let mut st = DiveStats::default();
        let max_it = opts
            .budget
            .iterations
            .map_or(u64::MAX, |m| (m / 100 * 95).saturating_sub(clock.used));
        let root = cg.as_ref().map(|(lp, _)| lp);
        let found = dive::search(c, &w, k, root, dive_seed, dive_end, max_it, &mut st);
        dive_seed = dive_seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        work.lp_iterations += st.lp_iterations;
        work.exact_nodes += st.nodes;
        clock.used += (st.lp_iterations + st.nodes).max(1);
        match found {
            Some(bins) => {
                best = to_sol(p, &map(bins));
                best.unplaced = unplaced.clone();
            }
            None => break,
        }
    }
    // LP-guided start: round the master's primal solution down, pack the
    // rest first-fit decreasing.
    let rounded = cg
        .filter(|_| best.cost() > lb)
        .map(|(_, r)| round_lp(c, &w, &r.patterns))
        .map(map);
    // Phase 2: consistent neighbourhood search from the incumbent.
    if best.cost() > lb && !clock.out() {
        let wi: Vec<u64> = p.size.clone();
        let bins: Vec<Vec<usize>> = best
            .bins
            .iter()
            .map(|b| b.items.iter().map(|&i| i as usize).collect())
            .collect();
        let ub = bins.len();
        let mut cns = match rounded {
            Some(r) if r.len() + 3 >= ub && ub >= 3 => {
                let mut cns = Cns::new(c, &wi, r, Vec::new());
                let k = cns.bins.len() - (ub - 3);
                cns.drop_bins(k);
                cns
            }
            _ => {
                let mut cns = Cns::new(c, &wi, bins, Vec::new());
                cns.drop_bins(3);
                cns
            }
        };
        loop {
            let cap = clock.left();
            let mut stop2 = |_: u64| clock.out();
            let (ok, iters) = cns.run(&mut rng, cap, &mut stop2);
            work.local_search_iterations += iters;
            clock.used += iters.max(1);
            if !ok {
                break;
            }
            if cns.bins.len() < best.bins.len() {
                best = to_sol(p, &cns.bins);
                best.unplaced = unplaced.clone();
            }
            if best.bins.len() as u64 <= lb_bins || clock.out() {
                break;
            }
            // aim at one bin fewer: a partial solution of (bins − 3) bins
            // plus S, done when S fits into two bins
            cns.drop_bins(3);
        }
    }
    // Defensive: every placeable item must be packed exactly once.
    let packed: usize = best.bins.iter().map(|b| b.items.len()).sum();
    if packed != placeable.len() {
        debug_assert!(
            false,
            "1-D search lost items: {packed} of {}",
            placeable.len()
        );
        best = to_sol(p, &f);
        best.unplaced = unplaced.clone();
    }
    let proven = best.cost() <= lb;
    let objective = best.cost();
    let termination = if proven {
        Termination::Optimal
    } else {
        clock.hit.unwrap_or(Termination::Exhausted)
    };
    finish(
        &best,
        objective,
        if proven { objective } else { lb },
        proven,
        termination,
        name.to_string(),
        work,
        start,
    )
}

/// Bin-completion search: packs the items into at most `k` bins, one bin
/// at a time (the largest remaining item first), trying for each bin the
/// `width` fullest completions whose waste keeps the total slack within
/// `k·c − Σw`. Returns the bins (as lists of weights' indices) when found.
pub(crate) struct Completion<'a> {
    c: u64,
    /// distinct weights, decreasing
    wt: Vec<u64>,
    /// remaining count of each distinct weight
    cnt: Vec<u32>,
    /// item indices of each distinct weight
    members: Vec<Vec<usize>>,
    width: usize,
    pub nodes: u64,
    max_nodes: u64,
    stop: &'a mut dyn FnMut(u64) -> bool,
    aborted: bool,
    /// chosen bins: (distinct index, count) lists
    stack: Vec<Vec<(usize, u32)>>,
    /// Seed for tie-breaking among equally full completions.
    pub seed: u64,
    /// The deepest partial packing reached.
    deepest: Vec<Vec<(usize, u32)>>,
}

impl<'a> Completion<'a> {
    pub fn new(
        c: u64,
        weights: &[u64],
        width: usize,
        max_nodes: u64,
        stop: &'a mut dyn FnMut(u64) -> bool,
    ) -> Self {
        let order = decreasing(weights);
        let mut wt: Vec<u64> = Vec::new();
        let mut cnt: Vec<u32> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        for i in order {
            if wt.last() == Some(&weights[i]) {
                *cnt.last_mut().expect("nonempty") += 1;
                members.last_mut().expect("nonempty").push(i);
            } else {
                wt.push(weights[i]);
                cnt.push(1);
                members.push(vec![i]);
            }
        }
        Completion {
            c,
            wt,
            cnt,
            members,
            width,
            nodes: 0,
            max_nodes,
            stop,
            aborted: false,
            stack: Vec::new(),
            seed: 0,
            deepest: Vec::new(),
        }
    }

    /// Tries to pack everything into `k` bins.
    pub fn run(&mut self, k: u64) -> Option<Vec<Vec<usize>>> {
        let total: u128 = self
            .wt
            .iter()
            .zip(&self.cnt)
            .map(|(&w, &n)| w as u128 * n as u128)
            .sum();
        let room = k as u128 * self.c as u128;
        if room < total {
            return None;
        }
        let slack = (room - total).min(u64::MAX as u128) as u64;
        if self.dfs(k, slack, total as u64) {
            Some(self.translate(&self.stack))
        } else {
            None
        }
    }

    /// The deepest partial packing as item lists, plus the items left out.
    pub fn deepest(&self) -> (Vec<Vec<usize>>, Vec<usize>) {
        let bins = self.translate(&self.deepest);
        let mut used = vec![0u32; self.wt.len()];
        for b in &self.deepest {
            for &(d, n) in b {
                used[d] += n;
            }
        }
        let mut rest = Vec::new();
        for (d, m) in self.members.iter().enumerate() {
            rest.extend(m[used[d] as usize..].iter().copied());
        }
        (bins, rest)
    }

    fn translate(&self, stack: &[Vec<(usize, u32)>]) -> Vec<Vec<usize>> {
        {
            let mut next = vec![0usize; self.wt.len()];
            let mut bins = Vec::new();
            for b in stack {
                let mut items = Vec::new();
                for &(d, n) in b {
                    for _ in 0..n {
                        items.push(self.members[d][next[d]]);
                        next[d] += 1;
                    }
                }
                bins.push(items);
            }
            bins
        }
    }

    fn dfs(&mut self, bins_left: u64, slack: u64, remaining: u64) -> bool {
        if remaining == 0 {
            return true;
        }
        if bins_left == 0 || self.aborted {
            return false;
        }
        self.nodes += 1;
        if self.nodes > self.max_nodes || (self.nodes % 256 == 0 && (self.stop)(self.nodes)) {
            self.aborted = true;
            return false;
        }
        // largest remaining item
        let first = match self.cnt.iter().position(|&n| n > 0) {
            Some(f) => f,
            None => return true,
        };
        self.cnt[first] -= 1;
        let cap = self.c - self.wt[first];
        let lo = cap.saturating_sub(slack);
        // enumerate completions with sum in [lo, cap]
        let mut found: Vec<(u64, Vec<(usize, u32)>)> = Vec::new();
        let mut cur: Vec<(usize, u32)> = Vec::new();
        // suffix sums of remaining weight from distinct index j
        let m = self.wt.len();
        let mut suf = vec![0u64; m + 1];
        for j in (0..m).rev() {
            suf[j] = suf[j + 1] + self.wt[j] * self.cnt[j] as u64;
        }
        let mut budget = 4000usize;
        self.enumerate(first, 0, cap, lo, &suf, &mut cur, &mut found, &mut budget);
        // fullest first; ties: larger items first (lexicographic)
        if self.seed != 0 {
            let mut rng =
                SplitMix64::new(self.seed ^ self.nodes.wrapping_mul(0xA24B_AED4_963E_E407));
            for i in (1..found.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                found.swap(i, j);
            }
            found.sort_by_key(|x| std::cmp::Reverse(x.0));
        } else {
            found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        }
        found.truncate(self.width);
        for (sum, set) in found {
            let waste = cap - sum;
            for &(d, n) in &set {
                self.cnt[d] -= n;
            }
            let mut bin = set.clone();
            bin.push((first, 1));
            self.stack.push(bin);
            if self.stack.len() > self.deepest.len() {
                self.deepest = self.stack.clone();
            }
            if self.dfs(
                bins_left - 1,
                slack - waste,
                remaining - self.wt[first] - sum,
            ) {
                return true;
            }
            self.stack.pop();
            for &(d, n) in &set {
                self.cnt[d] += n;
            }
            if self.aborted {
                break;
            }
        }
        self.cnt[first] += 1;
        false
    }

    #[allow(clippy::too_many_arguments)]
    fn enumerate(
        &self,
        j0: usize,
        sum: u64,
        cap: u64,
        lo: u64,
        suf: &[u64],
        cur: &mut Vec<(usize, u32)>,
        found: &mut Vec<(u64, Vec<(usize, u32)>)>,
        budget: &mut usize,
    ) {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        if sum >= lo {
            found.push((sum, cur.clone()));
            if sum == cap {
                return;
            }
        }
        if j0 >= self.wt.len() {
            return;
        }
        let gap = cap - sum;
        // only one more item fits: take the largest that fits
        let wmin = match (j0..self.wt.len()).rev().find(|&x| self.cnt[x] > 0) {
            Some(x) => self.wt[x],
            None => return,
        };
        if gap < 2 * wmin {
            let mut jj = j0 + self.wt[j0..].partition_point(|&x| x > gap);
            while jj < self.wt.len() && self.cnt[jj] == 0 {
                jj += 1;
            }
            if jj < self.wt.len() && sum + self.wt[jj] >= lo {
                cur.push((jj, 1));
                found.push((sum + self.wt[jj], cur.clone()));
                cur.pop();
            }
            return;
        }
        // skip weights too large
        let mut j = j0 + self.wt[j0..].partition_point(|&x| x > gap);
        while j < self.wt.len() && (self.cnt[j] == 0 || self.wt[j] > cap - sum) {
            j += 1;
        }
        if j >= self.wt.len() || sum + suf[j] < lo {
            return;
        }
        for jj in j..self.wt.len() {
            if self.cnt[jj] == 0 || self.wt[jj] > cap - sum {
                continue;
            }
            if sum + suf[jj] < lo {
                break;
            }
            let w = self.wt[jj];
            let maxn = ((cap - sum) / w).min(self.cnt[jj] as u64) as u32;
            for n in (1..=maxn).rev() {
                cur.push((jj, n));
                self.enumerate(jj + 1, sum + w * n as u64, cap, lo, suf, cur, found, budget);
                cur.pop();
                if *budget == 0 {
                    return;
                }
            }
        }
    }
}
