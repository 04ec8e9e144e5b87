//! Lower bounds: continuous (L1), Martello–Toth L2, Fekete–Schepers
//! dual-feasible functions, a pairwise-conflict clique bound for vectors and
//! a continuous cost bound for heterogeneous bins.

use crate::core::Prob;

/// `⌈Σw / c⌉`.
pub fn l1(capacity: u64, weights: &[u64]) -> u64 {
    if capacity == 0 {
        return weights.iter().any(|&w| w > 0) as u64 * weights.len() as u64;
    }
    let s: u128 = weights.iter().map(|&w| w as u128).sum();
    s.div_ceil(capacity as u128) as u64
}

/// Martello–Toth bound L2 for one dimension (items must fit: `w ≤ c`).
///
/// ```
/// // Three items of 6 in bins of 10: L1 = 2, L2 = 3.
/// assert_eq!(rightsizer_pack::bounds::l1(10, &[6, 6, 6]), 2);
/// assert_eq!(rightsizer_pack::bounds::l2(10, &[6, 6, 6]), 3);
/// ```
pub fn l2(capacity: u64, weights: &[u64]) -> u64 {
    let c = capacity as u128;
    let mut ws: Vec<u64> = weights.to_vec();
    ws.sort_unstable();
    let mut pre = vec![0u128; ws.len() + 1];
    for (i, &x) in ws.iter().enumerate() {
        pre[i + 1] = pre[i] + x as u128;
    }
    // index of first element > x / >= x
    let upper = |x: u128| ws.partition_point(|&v| (v as u128) <= x);
    let lower = |x: u128| ws.partition_point(|&v| (v as u128) < x);
    let half = c / 2;
    let mut best = 0u128;
    let mut cands: Vec<u128> = vec![0];
    cands.extend(ws.iter().map(|&x| x as u128).filter(|&x| x <= half));
    cands.dedup();
    for k in cands {
        // n1: w > c - k
        let a1 = upper(c - k);
        let n1 = (ws.len() - a1) as u128;
        // n2: half < w <= c - k
        let a2 = upper(half);
        let b2 = a1;
        let (n2, s2) = if b2 > a2 {
            ((b2 - a2) as u128, pre[b2] - pre[a2])
        } else {
            (0, 0)
        };
        // n3: k <= w <= half
        let a3 = lower(k);
        let b3 = upper(half);
        let s3 = if b3 > a3 { pre[b3] - pre[a3] } else { 0 };
        let free = n2 * c - s2;
        let rest = s3.saturating_sub(free);
        let val = n1 + n2 + if rest > 0 { rest.div_ceil(c) } else { 0 };
        best = best.max(val);
    }
    (best as u64).max(l1(capacity, weights))
}

/// Fekete–Schepers bound: the best of `⌈Σ u_k(w) / c⌉` over the
/// dual-feasible functions `u_k`, `k = 1..=max_k`, where `u_k(x) = x` when
/// `(k+1)x/c` is integral and `⌊(k+1)x/c⌋·c/k` otherwise.
pub fn fekete_schepers(capacity: u64, weights: &[u64], max_k: u64) -> u64 {
    let c = capacity as u128;
    let mut best = l1(capacity, weights);
    if c == 0 {
        return best;
    }
    for k in 1..=max_k {
        // u(x) = x if (k+1)x/c is integral, else floor((k+1)x/c)·c/k;
        // summed in units of 1/(k(k+1)).
        let k1 = k as u128 + 1;
        let kk = k as u128;
        let mut tot: u128 = 0;
        for &w in weights {
            let x = w as u128 * k1;
            tot += if x % c == 0 { x * kk } else { (x / c) * c * k1 };
        }
        let v = tot.div_ceil(c * kk * k1) as u64;
        best = best.max(v);
    }
    best
}

/// The best 1-D bound available cheaply: max(L2, Fekete–Schepers), and at
/// least one bin for any non-empty item list (zero-size items still need a
/// bin; without this the search would chase a bound of 0).
pub fn one_dim(capacity: u64, weights: &[u64]) -> u64 {
    l2(capacity, weights)
        .max(fekete_schepers(capacity, weights, 40))
        .max(u64::from(!weights.is_empty()))
}

/// Greedy clique of pairwise incompatible items (no two fit together).
pub(crate) fn conflict_clique(p: &Prob, cap: &[u64], items: &[usize]) -> u64 {
    let mut order: Vec<(f64, usize)> = items
        .iter()
        .map(|&i| {
            let m = p
                .s(i)
                .iter()
                .zip(cap)
                .map(|(&s, &c)| s as f64 / c.max(1) as f64)
                .fold(0.0, f64::max);
            (m, i)
        })
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut clique: Vec<usize> = Vec::new();
    for &(_, i) in order.iter().take(4000) {
        let si = p.s(i);
        let conflicts_all = clique
            .iter()
            .all(|&j| p.s(j).iter().zip(si).zip(cap).any(|((a, b), c)| a + b > *c));
        if conflicts_all {
            clique.push(i);
        }
    }
    clique.len() as u64
}

/// Lower bound on the number of bins for uniform (single-type) instances.
pub(crate) fn uniform_bins(p: &Prob, items: &[usize]) -> u64 {
    let cap = &p.types[0].cap;
    let mut best = 0;
    let mut w = Vec::with_capacity(items.len());
    for k in 0..p.d {
        w.clear();
        w.extend(items.iter().map(|&i| p.s(i)[k]));
        let b = if p.d == 1 {
            one_dim(cap[k], &w)
        } else {
            l2(cap[k], &w)
        };
        best = best.max(b);
    }
    if p.d > 1 {
        best = best.max(conflict_clique(p, cap, items));
    }
    best
}

/// Lower bound on the cost of packing `items` (each fits some allowed type).
pub(crate) fn cost_bound(p: &Prob, items: &[usize]) -> u64 {
    if p.uniform() {
        return uniform_bins(p, items).saturating_mul(p.types[0].cost);
    }
    // Open bins that already hold something are paid for whatever we do.
    let mut fixed = 0u64;
    let mut free = vec![0u64; p.d];
    for (t, used) in &p.open {
        if used.iter().any(|&u| u > 0) {
            fixed = fixed.saturating_add(p.types[*t].cost);
            for k in 0..p.d {
                free[k] += p.types[*t].cap[k] - used[k];
            }
        }
    }
    let mut best = 0.0f64;
    for k in 0..p.d {
        let mut need = 0.0f64;
        let mut max_rate = 0.0f64;
        for &i in items {
            let s = p.s(i)[k];
            if s == 0 {
                continue;
            }
            let mut rate = f64::INFINITY;
            for (t, ty) in p.types.iter().enumerate() {
                if p.fits_type(i, t) && ty.cap[k] > 0 {
                    rate = rate.min(ty.cost as f64 / ty.cap[k] as f64);
                }
            }
            if !rate.is_finite() {
                continue;
            }
            need += s as f64 * rate;
            max_rate = max_rate.max(rate);
        }
        let v = (need - free[k] as f64 * max_rate).max(0.0);
        best = best.max(v);
    }
    // Largest-item bound: the most expensive "cheapest type" any item needs.
    let mut single = 0u64;
    for &i in items {
        let m = (0..p.types.len())
            .filter(|&t| p.fits_type(i, t))
            .map(|t| p.types[t].cost)
            .min()
            .unwrap_or(0);
        single = single.max(m);
    }
    let cont = (best * (1.0 - 1e-12) - 1e-9).ceil().max(0.0) as u64;
    let open_any = p.open.iter().any(|(_, u)| u.iter().any(|&x| x > 0));
    fixed.saturating_add(if open_any { cont } else { cont.max(single) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_on_small_cases() {
        assert_eq!(l1(10, &[5, 5, 5]), 2);
        assert_eq!(l2(10, &[6, 6, 6]), 3);
        assert_eq!(l2(10, &[6, 4, 6, 4]), 2);
        assert_eq!(fekete_schepers(10, &[6, 6, 6], 5), 3);
        // 4 items of 34 in bins of 100: at most 2 per bin.
        assert_eq!(one_dim(100, &[34, 34, 34, 34]), 2);
        assert_eq!(fekete_schepers(100, &[34, 34, 34], 5), 2);
        assert_eq!(fekete_schepers(100, &[33, 33, 33], 5), 1);
        assert_eq!(one_dim(100, &[]), 0);
    }
}
