//! Exact depth-first branch-and-bound for small instances (any number of
//! dimensions and bin types): items in decreasing size go into a used bin
//! or a new bin of some type; the bound is the current cost plus a
//! continuous bound on the rest.

use crate::core::{Bin, Prob, Sol};
use crate::result::BinSource;

/// Result of the exact search.
pub(crate) struct ExactOutcome {
    /// Best packing found (if better than the incumbent).
    pub improved: Option<Sol>,
    /// `true` when the search tree was fully explored.
    pub complete: bool,
    /// Nodes explored.
    pub nodes: u64,
}

struct Ctx<'a> {
    p: &'a Prob,
    order: Vec<usize>,
    /// rate[i * d + k]: cheapest cost per unit of capacity in dimension k
    rate: Vec<f64>,
    /// suffix sums of s*rate per dimension: suf[pos * d + k]
    suf: Vec<f64>,
    best_cost: u64,
    best: Option<Sol>,
    nodes: u64,
    max_nodes: u64,
    aborted: bool,
    remaining: Vec<u64>,
    stop: &'a mut dyn FnMut(u64) -> bool,
}

/// Runs the search for `items` (each fits some allowed type), improving on
/// `incumbent_cost`.
pub(crate) fn solve(
    p: &Prob,
    items: &[usize],
    incumbent_cost: u64,
    max_nodes: u64,
    stop: &mut dyn FnMut(u64) -> bool,
) -> ExactOutcome {
    let d = p.d;
    let mut order = items.to_vec();
    p.sort_largest_first(&mut order);
    let mut rate = vec![0.0; p.n * d];
    for &i in &order {
        for k in 0..d {
            let mut r = f64::INFINITY;
            for (t, ty) in p.types.iter().enumerate() {
                if p.fits_type(i, t) && ty.cap[k] > 0 {
                    r = r.min(ty.cost as f64 / ty.cap[k] as f64);
                }
            }
            rate[i * d + k] = if r.is_finite() { r } else { 0.0 };
        }
    }
    let m = order.len();
    let mut suf = vec![0.0; (m + 1) * d];
    for pos in (0..m).rev() {
        let i = order[pos];
        for k in 0..d {
            suf[pos * d + k] = suf[(pos + 1) * d + k] + p.s(i)[k] as f64 * rate[i * d + k];
        }
    }
    let mut ctx = Ctx {
        p,
        order,
        rate,
        suf,
        best_cost: incumbent_cost,
        best: None,
        nodes: 0,
        max_nodes,
        aborted: false,
        remaining: p.types.iter().map(|t| t.max).collect(),
        stop,
    };
    let mut sol = Sol::with_open_bins(p);
    let base: u64 = sol.cost();
    dfs(&mut ctx, &mut sol, 0, base);
    ExactOutcome {
        improved: ctx.best,
        complete: !ctx.aborted,
        nodes: ctx.nodes,
    }
}

fn bound(ctx: &Ctx, sol: &Sol, pos: usize, cost: u64) -> u64 {
    let p = ctx.p;
    let d = p.d;
    let mut extra = 0.0f64;
    for k in 0..d {
        let need = ctx.suf[pos * d + k];
        if need <= 0.0 {
            continue;
        }
        // free room in used bins, valued at the most expensive rate used
        let mut free = 0.0;
        for b in &sol.bins {
            if b.used() {
                free += (b.cap[k] - b.load[k]) as f64;
            }
        }
        let maxr = ctx.order[pos..]
            .iter()
            .map(|&i| ctx.rate[i * d + k])
            .fold(0.0, f64::max);
        extra = extra.max(need - free * maxr);
    }
    cost.saturating_add((extra * (1.0 - 1e-12) - 1e-9).ceil().max(0.0) as u64)
}

fn dfs(ctx: &mut Ctx, sol: &mut Sol, pos: usize, cost: u64) {
    if ctx.aborted {
        return;
    }
    ctx.nodes += 1;
    if ctx.nodes > ctx.max_nodes || (ctx.nodes % 1024 == 0 && (ctx.stop)(ctx.nodes)) {
        ctx.aborted = true;
        return;
    }
    if pos == ctx.order.len() {
        if cost < ctx.best_cost {
            ctx.best_cost = cost;
            let mut s = sol.clone();
            s.prune();
            ctx.best = Some(s);
        }
        return;
    }
    if bound(ctx, sol, pos, cost) >= ctx.best_cost {
        return;
    }
    let p = ctx.p;
    let i = ctx.order[pos];
    let s = p.s(i).to_vec();
    // existing bins (skip bins identical in type and load to one tried)
    let nb = sol.bins.len();
    let mut tried: Vec<(usize, Vec<u64>, bool)> = Vec::new();
    for b in 0..nb {
        let bin = &sol.bins[b];
        if !p.allowed(i, bin.ty) || !bin.fits(&s) {
            continue;
        }
        let key = (bin.ty, bin.load.clone(), bin.used());
        if tried.contains(&key) {
            continue;
        }
        tried.push(key);
        let was_used = bin.used();
        let add = if was_used { 0 } else { bin.cost };
        sol.bins[b].add(i, &s);
        dfs(ctx, sol, pos + 1, cost.saturating_add(add));
        let bin = &mut sol.bins[b];
        bin.items.pop();
        for (l, x) in bin.load.iter_mut().zip(&s) {
            *l -= x;
        }
        if ctx.aborted {
            return;
        }
    }
    // a new bin of each type
    for t in 0..p.types.len() {
        if ctx.remaining[t] == 0 || !p.fits_type(i, t) {
            continue;
        }
        ctx.remaining[t] -= 1;
        let mut bin = Bin::new_of_type(p, t);
        bin.src = BinSource::New { bin_type: t };
        bin.add(i, &s);
        let c = bin.cost;
        sol.bins.push(bin);
        dfs(ctx, sol, pos + 1, cost.saturating_add(c));
        sol.bins.pop();
        ctx.remaining[t] += 1;
        if ctx.aborted {
            return;
        }
    }
}
