//! The packer: portfolio of constructive heuristics, anytime bin
//! elimination by tabu search, exact search on small instances, bounds.

use crate::bounds;
use crate::core::{Bin, Prob, Sol};
use crate::exact;
use crate::greedy::{self, Heuristic};
use crate::instance::{Cost, Instance, PackError};
use crate::oned;
use crate::result::{BinSource, Budget, PackResult, Termination, WorkCounters};
use crate::rng::SplitMix64;
use crate::search::{insert_min_overflow, Tabu};
use crate::vsearch;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Options of [`pack`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PackOptions {
    /// Limit on the improvement phases (the constructive portfolio always runs).
    pub budget: Budget,
    /// Seed of the local search.
    pub seed: u64,
    /// Run the exact search when there are at most this many items.
    pub exact_max_items: usize,
    /// Run the constructive heuristics in parallel (result is the same).
    pub parallel: bool,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions {
            budget: Budget::iterations(200_000),
            seed: 0,
            exact_max_items: 16,
            parallel: true,
        }
    }
}

/// Budget bookkeeping.
pub(crate) struct Clock {
    start: Instant,
    budget: Budget,
    pub used: u64,
    pub hit: Option<Termination>,
}

impl Clock {
    pub fn new(budget: Budget) -> Self {
        Clock {
            start: Instant::now(),
            budget,
            used: 0,
            hit: None,
        }
    }

    /// Charges `n` iterations; `true` when the budget is exhausted.
    pub fn out(&mut self) -> bool {
        if self.hit.is_some() {
            return true;
        }
        if let Some(max) = self.budget.iterations {
            if self.used >= max {
                self.hit = Some(Termination::IterationLimit);
                return true;
            }
        }
        if let Some(t) = self.budget.time {
            if self.start.elapsed() >= t {
                self.hit = Some(Termination::TimeLimit);
                return true;
            }
        }
        false
    }

    /// Share of the budget used so far (0 when unlimited; the larger of
    /// the time and iteration shares).
    pub fn fraction(&self) -> f64 {
        let mut f = 0.0f64;
        if let Some(max) = self.budget.iterations {
            f = f.max(self.used as f64 / max.max(1) as f64);
        }
        if let Some(t) = self.budget.time {
            f = f.max(self.start.elapsed().as_secs_f64() / t.as_secs_f64().max(1e-9));
        }
        f
    }

    /// A clock for a sub-search with `share` of what is left of this
    /// budget (charge its `used` back afterwards).
    pub fn share(&self, share: f64) -> Clock {
        let iterations = self
            .budget
            .iterations
            .map(|m| (m.saturating_sub(self.used) as f64 * share) as u64);
        let time = self
            .budget
            .time
            .map(|t| t.saturating_sub(self.start.elapsed()).mul_f64(share));
        Clock::new(Budget { time, iterations })
    }

    /// Iterations left (`u64::MAX` when unlimited).
    pub fn left(&self) -> u64 {
        self.budget
            .iterations
            .map_or(u64::MAX, |m| m.saturating_sub(self.used))
    }
}

/// Packs the instance. Deterministic for a given seed when the budget is
/// an iteration limit (the parallel portfolio is reduced in a fixed order).
///
/// ```
/// use rightsizer_pack::{pack, Instance, PackOptions};
/// let inst = Instance::one_dim(10, &[6, 4, 5, 5, 3, 7]);
/// let r = pack(&inst, &PackOptions::default())?;
/// assert_eq!(r.bin_count(), 3);
/// assert!(r.proven_optimal);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pack(inst: &Instance, opts: &PackOptions) -> Result<PackResult, PackError> {
    inst.validate()?;
    let start = Instant::now();
    let p = Prob::new(inst);
    let mut clock = Clock::new(opts.budget);
    let mut work = WorkCounters::default();
    let mut rng = SplitMix64::new(opts.seed ^ 0x005E_ED0F_BA55);

    // Items that fit no allowed type (nor an open bin) can never be placed.
    let placeable: Vec<usize> = (0..p.n)
        .filter(|&i| {
            (0..p.types.len()).any(|t| p.fits_type(i, t))
                || p.open.iter().any(|(t, used)| {
                    p.allowed(i, *t) && (0..p.d).all(|k| used[k] + p.s(i)[k] <= p.types[*t].cap[k])
                })
        })
        .collect();

    // 1-D classic bin packing has a dedicated, stronger path.
    if p.uniform() && p.d == 1 {
        return Ok(oned::solve(&p, opts, start, &placeable));
    }

    let portfolio = Heuristic::portfolio(p.n, p.d, p.types.len());
    work.heuristics = portfolio.len() as u64;
    // The constructive phase honours a time budget too: past 40% of it the
    // heuristics finish their remaining items by next fit.
    let deadline = opts.budget.time.map(|t| start + t * 2 / 5);
    let sols: Vec<Sol> = if opts.parallel {
        portfolio
            .par_iter()
            .map(|&h| greedy::run_until(&p, h, deadline))
            .collect()
    } else {
        portfolio
            .iter()
            .map(|&h| greedy::run_until(&p, h, deadline))
            .collect()
    };
    let (best_idx, _) = sols
        .iter()
        .enumerate()
        .min_by_key(|(i, s)| (s.key(), *i))
        .expect("portfolio is never empty");
    let mut best = sols[best_idx].clone();
    let best_name = portfolio[best_idx].name();
    drop(sols);

    let lb = bounds::cost_bound(&p, &placeable);
    let all_placed = best.unplaced.len() + placeable.len() == p.n;
    let mut proven = all_placed && best.cost() <= lb;

    if !proven && all_placed && p.uniform() && p.types[0].cost > 0 {
        // Bins forced to be exactly full: exact cover by exact-fill patterns.
        let target = lb / p.types[0].cost;
        if let Some(mut s) = vsearch::perfect_fit(&p, &placeable, target, &mut clock, &mut rng) {
            s.unplaced = best.unplaced.clone();
            if s.key() < best.key() {
                best = s;
                proven = best.cost() <= lb;
            }
        }
    }
    if !proven && all_placed {
        if p.uniform() {
            eliminate_uniform(&p, &mut best, lb, &mut clock, &mut rng, &mut work);
        } else {
            vsearch::single_type(&p, &mut best, lb, &mut clock, &mut rng, &mut work);
            eliminate_general(&p, &mut best, lb, &mut clock, &mut rng, &mut work);
        }
        proven = best.cost() <= lb;
        if !proven && placeable.len() <= opts.exact_max_items && !clock.out() {
            let left = clock.left();
            let mut stop = |_: u64| false;
            let out = exact::solve(&p, &placeable, best.cost(), left.min(50_000_000), &mut stop);
            work.exact_nodes += out.nodes;
            clock.used += out.nodes;
            if let Some(mut s) = out.improved {
                s.unplaced = std::mem::take(&mut best.unplaced);
                best = s;
            }
            if out.complete {
                proven = true;
            } else {
                clock.hit.get_or_insert(Termination::IterationLimit);
            }
        }
    }
    let objective = best.cost();
    let lower = if proven { objective } else { lb.min(objective) };
    let termination = if proven {
        Termination::Optimal
    } else {
        clock.hit.unwrap_or(Termination::Exhausted)
    };
    Ok(finish(
        &best,
        objective,
        lower,
        proven,
        termination,
        best_name,
        work,
        start,
    ))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    best: &Sol,
    objective: u64,
    lower: u64,
    proven: bool,
    termination: Termination,
    best_name: String,
    work: WorkCounters,
    start: Instant,
) -> PackResult {
    let mut unplaced = best.unplaced.clone();
    unplaced.sort_unstable();
    PackResult {
        bins: best.to_packed(),
        unplaced,
        objective: Cost(objective),
        lower_bound: Cost(lower),
        gap: if objective == 0 {
            0.0
        } else {
            (objective - lower) as f64 / objective as f64
        },
        proven_optimal: proven,
        termination,
        best_heuristic: best_name,
        work,
        elapsed: start.elapsed(),
    }
}

fn weight_of(p: &Prob, b: &Bin) -> f64 {
    (0..p.d)
        .map(|k| b.load[k] as f64 / b.cap[k].max(1) as f64)
        .sum()
}

/// Repeatedly removes one bin and repairs with tabu search (identical bins).
pub(crate) fn eliminate_uniform(
    p: &Prob,
    best: &mut Sol,
    lb: u64,
    clock: &mut Clock,
    rng: &mut SplitMix64,
    work: &mut WorkCounters,
) {
    let cost = p.types[0].cost.max(1);
    let mut attempt = 0u64;
    while best.cost() > lb && !clock.out() {
        let mut bins = best.bins.clone();
        // remove one of the lightest bins (rotating over the 3 lightest)
        let mut idx: Vec<usize> = (0..bins.len()).collect();
        idx.sort_by(|&a, &b| {
            weight_of(p, &bins[a])
                .total_cmp(&weight_of(p, &bins[b]))
                .then(a.cmp(&b))
        });
        let r = idx[(attempt as usize) % idx.len().min(3)];
        attempt += 1;
        let removed = bins.remove(r);
        let items: Vec<usize> = removed.items.iter().map(|&i| i as usize).collect();
        insert_min_overflow(p, &mut bins, &items);
        let mut tabu = Tabu::new(p, bins);
        let per_attempt = (20_000 + 200 * p.n as u64).min(clock.left());
        let mut stop = |_: u64| clock.out();
        let rep = tabu.run(rng, per_attempt, &mut stop);
        work.local_search_iterations += rep.iterations;
        clock.used += rep.iterations;
        if rep.feasible {
            let mut sol = Sol {
                bins: tabu.into_bins(),
                unplaced: best.unplaced.clone(),
            };
            sol.prune();
            debug_assert!(sol.cost() + cost <= best.cost() + cost);
            *best = sol;
            attempt = 0;
        }
    }
}

/// Bin elimination and downgrading for heterogeneous bins: for the bins
/// wasting the most money, try to empty them (or switch them to a cheaper
/// type) and repair the neighbourhood with tabu search.
pub(crate) fn eliminate_general(
    p: &Prob,
    best: &mut Sol,
    lb: u64,
    clock: &mut Clock,
    rng: &mut SplitMix64,
    work: &mut WorkCounters,
) {
    let mut failed: Vec<(Vec<u32>, usize)> = Vec::new();
    'outer: while best.cost() > lb && !clock.out() {
        // candidates: used bins, most wasted money first
        let mut cand: Vec<(f64, usize)> = best
            .bins
            .iter()
            .enumerate()
            .filter(|(_, b)| b.used() && !b.base_used && b.cost > 0)
            .map(|(i, b)| {
                let util = (0..p.d)
                    .map(|k| b.load[k] as f64 / b.cap[k].max(1) as f64)
                    .fold(0.0, f64::max);
                (b.cost as f64 * (1.0 - util), i)
            })
            .collect();
        cand.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut remaining: Vec<u64> = p.types.iter().map(|t| t.max).collect();
        for b in &best.bins {
            if let BinSource::New { bin_type } = b.src {
                if b.used() {
                    remaining[bin_type] = remaining[bin_type].saturating_sub(1);
                }
            }
        }
        for &(_, r) in cand.iter().take(64) {
            if clock.out() {
                break 'outer;
            }
            // options: remove (None) or change to a cheaper type
            let mut options: Vec<Option<usize>> = vec![None];
            if matches!(best.bins[r].src, BinSource::New { .. }) {
                let mut ts: Vec<usize> = (0..p.types.len())
                    .filter(|&t| {
                        remaining[t] > 0
                            && p.types[t].cost < best.bins[r].cost
                            && best.bins[r].items.iter().all(|&i| p.allowed(i as usize, t))
                    })
                    .collect();
                ts.sort_by_key(|&t| std::cmp::Reverse(p.types[t].cost));
                options.extend(ts.into_iter().take(3).map(Some));
            }
            for opt in options {
                let key = (best.bins[r].items.clone(), opt.map_or(usize::MAX, |t| t));
                if failed.contains(&key) {
                    continue;
                }
                if let Some(sol) = try_repair(p, best, r, opt, clock, rng, work) {
                    *best = sol;
                    greedy::downsize(p, best);
                    continue 'outer;
                }
                failed.push(key);
                if failed.len() > 4096 {
                    failed.drain(..2048);
                }
            }
        }
        break;
    }
}

/// Removes bin `r` (or retypes it to `new_type`) and repairs a
/// neighbourhood of bins; `Some` when the result is feasible.
fn try_repair(
    p: &Prob,
    best: &Sol,
    r: usize,
    new_type: Option<usize>,
    clock: &mut Clock,
    rng: &mut SplitMix64,
    work: &mut WorkCounters,
) -> Option<Sol> {
    let target = &best.bins[r];
    let moving: Vec<usize> = target.items.iter().map(|&i| i as usize).collect();
    // neighbourhood: used bins (and free open bins) ranked by room, same
    // allowed types as the moving items
    let mut others: Vec<(f64, usize)> = best
        .bins
        .iter()
        .enumerate()
        .filter(|&(i, b)| i != r && b.used() && moving.iter().any(|&m| p.allowed(m, b.ty)))
        .map(|(i, b)| {
            let room: f64 = (0..p.d)
                .map(|k| (b.cap[k] - b.load[k]) as f64 / p.scale[k])
                .sum();
            (room, i)
        })
        .collect();
    others.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    others.truncate(40);
    let mut chosen: Vec<usize> = others.iter().map(|x| x.1).collect();
    chosen.sort_unstable();
    let mut sub: Vec<Bin> = chosen.iter().map(|&i| best.bins[i].clone()).collect();
    let mut to_insert = moving.clone();
    if let Some(t) = new_type {
        let mut nb = Bin::new_of_type(p, t);
        nb.src = BinSource::New { bin_type: t };
        sub.push(nb);
    } else if sub.is_empty() {
        return None;
    }
    if new_type.is_none() && moving.is_empty() {
        to_insert.clear();
    }
    if !insert_min_overflow(p, &mut sub, &to_insert) {
        return None;
    }
    let mut tabu = Tabu::new(p, sub);
    let cap = (2_000 + 100 * moving.len() as u64).min(clock.left());
    let mut stop = |_: u64| clock.out();
    let rep = tabu.run(rng, cap, &mut stop);
    work.local_search_iterations += rep.iterations;
    clock.used += rep.iterations;
    if !rep.feasible {
        return None;
    }
    let newbins = tabu.into_bins();
    let mut sol = Sol {
        bins: Vec::with_capacity(best.bins.len()),
        unplaced: best.unplaced.clone(),
    };
    let mut k = 0;
    for (i, b) in best.bins.iter().enumerate() {
        if i == r {
            continue;
        }
        if k < chosen.len() && chosen[k] == i {
            sol.bins.push(newbins[k].clone());
            k += 1;
        } else {
            sol.bins.push(b.clone());
        }
    }
    if new_type.is_some() {
        sol.bins.push(newbins[chosen.len()].clone());
    }
    // keep released open bins in the list (they are free when empty)
    if let BinSource::Open { .. } = target.src {
        let mut emptied = target.clone();
        for i in &emptied.items {
            for k2 in 0..p.d {
                emptied.load[k2] -= p.s(*i as usize)[k2];
            }
        }
        emptied.items.clear();
        sol.bins.push(emptied);
    }
    sol.prune();
    if sol.key() < best.key() {
        Some(sol)
    } else {
        None
    }
}
