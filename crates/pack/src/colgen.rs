//! Column-generation (Gilmore–Gomory) LP bound for one-dimensional packing.
//!
//! The restricted master LP `min Σ x_p  s.t.  Σ_p a_ip x_p ≥ d_i, x ≥ 0`
//! over patterns `p` (item multiplicities fitting one bin) is solved by a
//! small dense revised simplex (explicit basis inverse, periodic
//! refactorisation, surplus columns so the start basis of single-size
//! patterns is feasible, Devex weights choosing among the pooled columns).
//! New columns come from an exact bounded knapsack (dynamic programming
//! over the capacity when `c·log(d)` is small, branch-and-bound with the
//! Dantzig bound otherwise).
//!
//! [`Lp`] keeps the master between solves for LP diving: fixing a pattern
//! lowers the demands, columns that ask for missing items are barred, and
//! dual simplex pivots over the pool restore primal feasibility from the
//! last basis. On Hard28's dives a re-solve took about 60 iterations,
//! against 350–700 for the seeded cold start it replaced; the unit test
//! `warm_resolve_matches_cold_solve` counts a third of the cold iterations
//! on small instances.
//!
//! The bound is valid whatever the floating-point noise in the simplex: the
//! duals are rounded down to integers `P_i ≥ 0`, the pricing is solved
//! exactly in integers (`z = max P·a` over patterns), so `P / z` is
//! dual-feasible and `⌈Σ d_i P_i / z⌉` (integer division) is a lower bound
//! on the number of bins (Farley's bound).

use std::time::Instant;

/// Scale of the integer duals.
const SCALE: f64 = (1u64 << 36) as f64;
/// Reduced-cost tolerance.
const EPS: f64 = 1e-9;
/// Node limit of one branch-and-bound pricing.
const BB_NODES: u64 = 200_000;
/// Weight of the stability centre in the smoothed pricing duals.
const ALPHA: f64 = 0.5;

/// Budget and target of a column-generation run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CgLimits {
    /// Stop when the bound reaches this value (e.g. the incumbent).
    pub target: u64,
    /// Wall-clock deadline.
    pub deadline: Option<Instant>,
    /// Maximum simplex pivots plus pricings.
    pub max_iterations: u64,
    /// Stop without pricing once the pooled columns reach the target (an
    /// LP value of at most `target − 1`): for dives, which need a good LP
    /// solution and a bound only when the target is in doubt.
    pub lazy: bool,
}

/// Result of a column-generation run.
#[derive(Clone, Debug)]
pub(crate) struct CgResult {
    /// A valid lower bound on the number of bins (`⌈Farley⌉`, at least the
    /// sum of the demands divided by the capacity, rounded up).
    pub bound: u64,
    /// The last restricted-master value (an upper estimate of the LP).
    pub lp_value: f64,
    /// `true` when the LP was solved to optimality (no improving column).
    pub converged: bool,
    /// Pivots plus pricings.
    pub iterations: u64,
    /// The primal solution: patterns (counts per distinct size, sizes
    /// decreasing as in [`group`]) and values.
    pub patterns: Vec<(Vec<u32>, f64)>,
}

/// Groups weights into distinct sizes (decreasing) with multiplicities.
pub(crate) fn group(weights: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let mut ws: Vec<u64> = weights.to_vec();
    ws.sort_unstable_by(|a, b| b.cmp(a));
    let mut sizes: Vec<u64> = Vec::new();
    let mut demand: Vec<u64> = Vec::new();
    for w in ws {
        if sizes.last() == Some(&w) {
            *demand.last_mut().expect("nonempty") += 1;
        } else {
            sizes.push(w);
            demand.push(1);
        }
    }
    (sizes, demand)
}

/// `true` when the pricing of these items is solved by dynamic
/// programming (fast), not branch-and-bound.
pub(crate) fn dp_pricing(c: u64, weights: &[u64]) -> bool {
    let (sizes, demand) = group(weights);
    c > 0 && sizes.first().is_some_and(|&s| s <= c) && Knapsack::new(c, &sizes, &demand).use_dp
}

/// Exact bounded knapsack: maximise `Σ p_j a_j` with `Σ w_j a_j ≤ c`,
/// `0 ≤ a_j ≤ u_j`. Profits are integers, so the optimum is exact.
pub(crate) struct Knapsack {
    c: u64,
    w: Vec<u64>,
    /// binary splitting of the bounded items: (type, multiplicity)
    split: Vec<(usize, u32)>,
    use_dp: bool,
    ub: Vec<u32>,
}

impl Knapsack {
    pub fn new(c: u64, w: &[u64], ub: &[u64]) -> Self {
        let ub: Vec<u32> = w
            .iter()
            .zip(ub)
            .map(|(&wj, &u)| u.min(c / wj.max(1)).min(u32::MAX as u64) as u32)
            .collect();
        let mut split = Vec::new();
        for (j, &u) in ub.iter().enumerate() {
            let mut left = u;
            let mut k = 1u32;
            while left > 0 {
                let t = k.min(left);
                split.push((j, t));
                left -= t;
                k = k.saturating_mul(2);
            }
        }
        let use_dp = (c as u128) * (split.len() as u128) <= 6_000_000;
        Knapsack {
            c,
            w: w.to_vec(),
            split,
            use_dp,
            ub,
        }
    }

    /// The best pattern, its profit and whether it is proven optimal (the
    /// branch-and-bound stops after [`BB_NODES`] nodes with its best so far).
    pub fn solve(&self, p: &[u64]) -> (u128, Vec<u32>, bool) {
        if self.use_dp {
            let (z, a) = self.dp(p);
            (z, a, true)
        } else {
            self.bb(p)
        }
    }

    fn dp(&self, p: &[u64]) -> (u128, Vec<u32>) {
        // 64-bit values when no pattern can overflow them (the usual case)
        let total: u128 = self
            .split
            .iter()
            .map(|&(j, t)| p[j] as u128 * t as u128)
            .sum();
        if total <= u64::MAX as u128 {
            self.dp_in::<u64>(p)
        } else {
            self.dp_in::<u128>(p)
        }
    }

    fn dp_in<T>(&self, p: &[u64]) -> (u128, Vec<u32>)
    where
        T: Copy + Ord + Default + From<u64> + Into<u128> + std::ops::Add<Output = T>,
        T: std::ops::Mul<Output = T>,
    {
        let c = self.c as usize;
        let mut best = vec![T::default(); c + 1];
        let mut take = vec![false; self.split.len() * (c + 1)];
        for (s, &(j, t)) in self.split.iter().enumerate() {
            if p[j] == 0 {
                continue;
            }
            let ww = self.w[j] as usize * t as usize;
            if ww > c {
                continue;
            }
            let val = T::from(p[j]) * T::from(t as u64);
            let row = &mut take[s * (c + 1)..(s + 1) * (c + 1)];
            for cap in (ww..=c).rev() {
                let v = best[cap - ww] + val;
                if v > best[cap] {
                    best[cap] = v;
                    row[cap] = true;
                }
            }
        }
        let mut a = vec![0u32; self.w.len()];
        let mut cap = c;
        let z: u128 = best[c].into();
        for s in (0..self.split.len()).rev() {
            if take[s * (c + 1) + cap] {
                let (j, t) = self.split[s];
                a[j] += t;
                cap -= self.w[j] as usize * t as usize;
            }
        }
        (z, a)
    }

    fn bb(&self, p: &[u64]) -> (u128, Vec<u32>, bool) {
        // types by profit density, decreasing (exact comparison in u128)
        let mut order: Vec<usize> = (0..self.w.len()).filter(|&j| p[j] > 0).collect();
        order.sort_by(|&a, &b| {
            (p[b] as u128 * self.w[a] as u128)
                .cmp(&(p[a] as u128 * self.w[b] as u128))
                .then(a.cmp(&b))
        });
        let mut st = Bb {
            c: self.c,
            w: &self.w,
            p,
            ub: &self.ub,
            order: &order,
            cur: vec![0; self.w.len()],
            best: vec![0; self.w.len()],
            best_val: 0,
            nodes: 0,
        };
        // greedy start
        {
            let mut cap = self.c;
            let mut val = 0u128;
            for &j in &order {
                let k = (cap / self.w[j]).min(self.ub[j] as u64);
                st.best[j] = k as u32;
                cap -= k * self.w[j];
                val += k as u128 * p[j] as u128;
            }
            st.best_val = val;
        }
        st.dfs(0, self.c, 0);
        let exact = st.nodes <= BB_NODES;
        (st.best_val, st.best, exact)
    }
}

struct Bb<'a> {
    c: u64,
    w: &'a [u64],
    p: &'a [u64],
    ub: &'a [u32],
    order: &'a [usize],
    cur: Vec<u32>,
    best: Vec<u32>,
    best_val: u128,
    nodes: u64,
}

impl Bb<'_> {
    /// Integer upper bound (floor of the Dantzig bound) from position `k`.
    fn bound(&self, k: usize, cap: u64, val: u128) -> u128 {
        let mut cap = cap;
        let mut v = val;
        for &j in &self.order[k..] {
            let full = self.ub[j] as u64 * self.w[j];
            if full <= cap {
                cap -= full;
                v += self.ub[j] as u128 * self.p[j] as u128;
            } else {
                return v + (cap as u128 * self.p[j] as u128) / self.w[j] as u128;
            }
        }
        v
    }

    fn dfs(&mut self, k: usize, cap: u64, val: u128) {
        let _ = self.c;
        self.nodes += 1;
        if self.nodes > BB_NODES {
            return;
        }
        if val > self.best_val {
            self.best_val = val;
            self.best.clone_from(&self.cur);
        }
        if k >= self.order.len() || self.bound(k, cap, val) <= self.best_val {
            return;
        }
        let j = self.order[k];
        let maxn = (cap / self.w[j]).min(self.ub[j] as u64);
        for n in (0..=maxn).rev() {
            self.cur[j] = n as u32;
            self.dfs(
                k + 1,
                cap - n * self.w[j],
                val + n as u128 * self.p[j] as u128,
            );
        }
        self.cur[j] = 0;
    }
}

/// Dense revised simplex over the restricted master.
#[derive(Clone)]
struct Master {
    m: usize,
    demand: Vec<f64>,
    /// pool of pattern columns
    cols: Vec<Vec<u32>>,
    /// the same columns as (row, count) non-zeros
    nz: Vec<Vec<(usize, f64)>>,
    /// basis: column index; `>= cols.len()`… encoded as `Var`
    basis: Vec<Var>,
    binv: Vec<f64>,
    xb: Vec<f64>,
    in_basis: Vec<bool>,
    /// columns barred from the basis (they ask for items no longer
    /// demanded); a basic one is driven out and never re-enters
    off: Vec<bool>,
    /// Devex reference weights of the pool columns (entering rule
    /// `rc² / weight`)
    weight: Vec<f64>,
    /// simplex multipliers `c_B B⁻¹`, updated with each pivot and
    /// recomputed with each refactorisation
    pi: Vec<f64>,
    /// pivots since `B⁻¹` was last rebuilt
    since_refactor: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Var {
    Pattern(usize),
    Surplus(usize),
}

impl Master {
    fn new(c: u64, sizes: &[u64], demand: &[u64]) -> Self {
        let m = sizes.len();
        let mut cols = Vec::with_capacity(m);
        for j in 0..m {
            let mut a = vec![0u32; m];
            a[j] = (c / sizes[j]).min(demand[j]).max(1) as u32;
            cols.push(a);
        }
        let nz = cols.iter().map(|a| sparse(a)).collect();
        let mut ms = Master {
            m,
            nz,
            // a tiny perturbation of the right-hand side against degenerate
            // stalling; the bound comes from exact pricing, so it stays valid
            demand: demand
                .iter()
                .enumerate()
                .map(|(j, &d)| d as f64 + 1e-7 * (1.0 + ((j * 7919) % 1009) as f64 / 1009.0))
                .collect(),
            cols,
            basis: (0..m).map(Var::Pattern).collect(),
            binv: vec![0.0; m * m],
            xb: vec![0.0; m],
            in_basis: vec![true; m],
            off: vec![false; m],
            weight: vec![1.0; m],
            pi: vec![0.0; m],
            since_refactor: 0,
        };
        ms.singleton_basis();
        ms
    }

    /// Adds a pattern column to the pool.
    fn push_col(&mut self, a: Vec<u32>) {
        self.nz.push(sparse(&a));
        self.cols.push(a);
        self.in_basis.push(false);
        self.off.push(false);
        self.weight.push(1.0);
    }

    /// Reduced cost of pool column `p` under duals `pi`.
    fn reduced_cost(&self, p: usize, pi: &[f64]) -> f64 {
        1.0 - self.nz[p].iter().map(|&(i, x)| x * pi[i]).sum::<f64>()
    }

    fn column(&self, v: Var) -> Vec<f64> {
        match v {
            Var::Pattern(p) => self.cols[p].iter().map(|&x| x as f64).collect(),
            Var::Surplus(j) => {
                let mut e = vec![0.0; self.m];
                e[j] = -1.0;
                e
            }
        }
    }

    fn cost(v: Var) -> f64 {
        match v {
            Var::Pattern(_) => 1.0,
            Var::Surplus(_) => 0.0,
        }
    }

    /// Rebuilds `B⁻¹` and `x_B` from the basis; on a singular basis falls
    /// back to the single-size start basis.
    fn refactor(&mut self) {
        self.since_refactor = 0;
        let m = self.m;
        let mut a = vec![0.0; m * m];
        for (k, &v) in self.basis.iter().enumerate() {
            let col = self.column(v);
            for i in 0..m {
                a[i * m + k] = col[i];
            }
        }
        match invert(&a, m) {
            Some(inv) => {
                self.binv = inv;
                self.solve_basis();
            }
            None => self.singleton_basis(),
        }
    }

    /// `true` when enough pivots have accumulated since the last
    /// refactorisation (every max(64, 3m)).
    fn refactor_due(&self) -> bool {
        self.since_refactor >= 64.max(3 * self.m as u32)
    }

    /// The start basis of single-size patterns (columns `0..m`), whose
    /// inverse is diagonal.
    fn singleton_basis(&mut self) {
        self.since_refactor = 0;
        let m = self.m;
        for k in 0..m {
            if let Var::Pattern(p) = self.basis[k] {
                self.in_basis[p] = false;
            }
            self.basis[k] = Var::Pattern(k);
        }
        for k in 0..m {
            self.in_basis[k] = true;
        }
        let mut inv = vec![0.0; m * m];
        for k in 0..m {
            inv[k * m + k] = 1.0 / self.cols[k][k] as f64;
        }
        self.binv = inv;
        self.solve_basis();
    }

    /// `x_B = B⁻¹ d` and the multipliers from the current inverse.
    fn solve_basis(&mut self) {
        let m = self.m;
        for k in 0..m {
            let mut s = 0.0;
            for i in 0..m {
                s += self.binv[k * m + i] * self.demand[i];
            }
            self.xb[k] = s.max(0.0);
        }
        self.pi = self.compute_duals();
    }

    fn compute_duals(&self) -> Vec<f64> {
        let m = self.m;
        let mut pi = vec![0.0; m];
        for (k, &v) in self.basis.iter().enumerate() {
            let cb = Self::cost(v);
            if cb != 0.0 {
                for i in 0..m {
                    pi[i] += cb * self.binv[k * m + i];
                }
            }
        }
        pi
    }

    fn value(&self) -> f64 {
        self.basis
            .iter()
            .zip(&self.xb)
            .map(|(&v, &x)| Self::cost(v) * x)
            .sum()
    }

    /// `x_B = B⁻¹ d`, not clamped (negative entries are primal
    /// infeasibilities for [`Lp::restore`]).
    fn primal_values(&mut self) {
        let m = self.m;
        for k in 0..m {
            let row = &self.binv[k * m..(k + 1) * m];
            self.xb[k] = row.iter().zip(&self.demand).map(|(&a, &d)| a * d).sum();
        }
    }

    /// `B⁻¹ a` for the column of `v`, and `v`'s non-zeros.
    fn ftran(&self, v: Var) -> (Vec<f64>, Vec<(usize, f64)>) {
        let m = self.m;
        let col: Vec<(usize, f64)> = match v {
            Var::Pattern(p) => self.nz[p].clone(),
            Var::Surplus(j) => vec![(j, -1.0)],
        };
        let mut u = vec![0.0; m];
        for (k, uk) in u.iter_mut().enumerate() {
            let row = &self.binv[k * m..(k + 1) * m];
            *uk = col.iter().map(|&(i, x)| row[i] * x).sum();
        }
        (u, col)
    }

    /// Pivots `v` into the basis (primal ratio test). Returns `false` when
    /// no pivot was possible.
    fn pivot(&mut self, v: Var) -> bool {
        let (u, col) = self.ftran(v);
        let mut leave: Option<(f64, f64, usize)> = None;
        for (k, &uk) in u.iter().enumerate() {
            // a barred basic column blocks any increase (its bound is 0)
            let barred = matches!(self.basis[k], Var::Pattern(p) if self.off[p]);
            if uk > 1e-9 || (barred && uk < -1e-9) {
                let r = if uk > 0.0 { self.xb[k] / uk } else { 0.0 };
                let uk = uk.abs();
                let better = match leave {
                    None => true,
                    Some((br, bu, _)) => r < br - 1e-12 || (r <= br + 1e-12 && uk > bu),
                };
                if better {
                    leave = Some((r, uk, k));
                }
            }
        }
        let Some((theta, _, r)) = leave else {
            return false;
        };

        for (x, &uk) in self.xb.iter_mut().zip(&u) {
            *x = (*x - theta * uk).max(0.0);
        }
        self.xb[r] = theta;
        self.devex(v, r, u[r]);
        self.exchange(v, r, &u, &col);
        true
    }

    /// Devex update of the reference weights for `v` entering at row `r`
    /// with pivot element `ar` (before the basis changes).
    fn devex(&mut self, v: Var, r: usize, ar: f64) {
        let m = self.m;
        let wq = match v {
            Var::Pattern(p) => self.weight[p],
            Var::Surplus(_) => 1.0,
        };
        let row = &self.binv[r * m..(r + 1) * m];
        let mut reset = false;
        for p in 0..self.cols.len() {
            if self.in_basis[p] || self.off[p] {
                continue;
            }
            let a: f64 = self.nz[p].iter().map(|&(i, x)| row[i] * x).sum();
            if a != 0.0 {
                let t = a / ar;
                let w = t * t * wq;
                if w > self.weight[p] {
                    self.weight[p] = w;
                    reset |= w > 1e6;
                }
            }
        }
        if let Var::Pattern(p) = self.basis[r] {
            self.weight[p] = (wq / (ar * ar)).max(1.0);
        }
        if reset {
            self.weight.iter_mut().for_each(|w| *w = 1.0);
        }
    }

    /// Pivots `v` into the basis in place of row `r` (a dual simplex step:
    /// `x_B` is updated without clamping).
    fn pivot_on(&mut self, v: Var, r: usize) {
        let (u, col) = self.ftran(v);
        let theta = self.xb[r] / u[r];
        for (x, &uk) in self.xb.iter_mut().zip(&u) {
            *x -= theta * uk;
        }
        self.xb[r] = theta;
        self.exchange(v, r, &u, &col);
    }

    /// Updates `B⁻¹`, the multipliers and the basis for `v` entering at
    /// row `r` (`u = B⁻¹ a_v`, `col` its non-zeros).
    fn exchange(&mut self, v: Var, r: usize, u: &[f64], col: &[(usize, f64)]) {
        self.since_refactor += 1;
        let m = self.m;
        let dq = Self::cost(v) - col.iter().map(|&(i, x)| self.pi[i] * x).sum::<f64>();
        let ur = u[r];
        let (head, rest) = self.binv.split_at_mut(r * m);
        let (row_r, tail) = rest.split_at_mut(m);
        for x in row_r.iter_mut() {
            *x /= ur;
        }
        for k in 0..m {
            if k == r || u[k] == 0.0 {
                continue;
            }
            let f = u[k];
            let row = if k < r {
                &mut head[k * m..(k + 1) * m]
            } else {
                &mut tail[(k - r - 1) * m..(k - r) * m]
            };
            for (x, &y) in row.iter_mut().zip(row_r.iter()) {
                *x -= f * y;
            }
        }
        // π' = π + d_q · (new row r of B⁻¹)
        for (p, &y) in self.pi.iter_mut().zip(row_r.iter()) {
            *p += dq * y;
        }
        if let Var::Pattern(p) = self.basis[r] {
            self.in_basis[p] = false;
        }
        if let Var::Pattern(p) = v {
            self.in_basis[p] = true;
        }
        self.basis[r] = v;
    }
}

/// The non-zeros of a pattern column.
fn sparse(a: &[u32]) -> Vec<(usize, f64)> {
    a.iter()
        .enumerate()
        .filter(|&(_, &x)| x > 0)
        .map(|(i, &x)| (i, x as f64))
        .collect()
}

/// Gauss–Jordan inverse with partial pivoting (row-major `m×m`).
fn invert(a: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut a = a.to_vec();
    let mut inv = vec![0.0; m * m];
    for i in 0..m {
        inv[i * m + i] = 1.0;
    }
    for col in 0..m {
        let (piv, maxv) = (col..m)
            .map(|r| (r, a[r * m + col].abs()))
            .fold((col, -1.0), |acc, x| if x.1 > acc.1 { x } else { acc });
        if maxv < 1e-11 {
            return None;
        }
        if piv != col {
            for k in 0..m {
                a.swap(piv * m + k, col * m + k);
                inv.swap(piv * m + k, col * m + k);
            }
        }
        let d = a[col * m + col];
        for k in 0..m {
            a[col * m + k] /= d;
            inv[col * m + k] /= d;
        }
        for r in 0..m {
            if r != col {
                let f = a[r * m + col];
                if f != 0.0 {
                    for k in 0..m {
                        a[r * m + k] -= f * a[col * m + k];
                        inv[r * m + k] -= f * inv[col * m + k];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// Farley's bound from integer duals `p` and the exact pricing value `z`.
fn farley(demand: &[u64], p: &[u64], z: u128) -> u64 {
    if z == 0 {
        return 0;
    }
    let num: u128 = demand
        .iter()
        .zip(p)
        .map(|(&d, &x)| d as u128 * x as u128)
        .sum();
    num.div_ceil(z) as u64
}

/// Runs column generation for items `weights` (each `≤ c`) in bins of
/// capacity `c`. `start` holds known packings (bins as indices into
/// `weights`) whose bins seed the column pool.
pub(crate) fn lp_bound(
    c: u64,
    weights: &[u64],
    start: &[&[Vec<usize>]],
    limits: CgLimits,
) -> CgResult {
    match Lp::new(c, weights, start) {
        Some(mut lp) => lp.solve(limits),
        None => CgResult {
            bound: crate::bounds::l1(c, weights),
            lp_value: 0.0,
            converged: weights.is_empty(),
            iterations: 0,
            patterns: Vec::new(),
        },
    }
}

/// A column-generation LP that lives across re-solves: patterns can be
/// fixed ([`Lp::remove`]), which lowers the demands, and the next
/// [`Lp::solve`] starts from the last basis, restoring primal feasibility
/// by dual simplex pivots over the column pool (the basis stays optimal
/// for the duals, so a few pivots usually suffice).
#[derive(Clone)]
pub(crate) struct Lp {
    c: u64,
    sizes: Vec<u64>,
    demand: Vec<u64>,
    ms: Master,
    /// demands changed since the last solve
    dirty: bool,
}

impl Lp {
    /// The LP of items `weights` in bins of capacity `c`, its pool seeded
    /// with the bins of `start` (indices into `weights`). `None` when there
    /// is nothing to solve (no items, or an item larger than `c`).
    pub fn new(c: u64, weights: &[u64], start: &[&[Vec<usize>]]) -> Option<Self> {
        let (sizes, demand) = group(weights);
        let m = sizes.len();
        if m == 0 || c == 0 || sizes[0] > c {
            return None;
        }
        let mut ms = Master::new(c, &sizes, &demand);
        let mut seen: std::collections::BTreeSet<Vec<u32>> = ms.cols.iter().cloned().collect();
        for sol in start {
            for bin in sol.iter() {
                let mut a = vec![0u32; m];
                let mut load = 0u64;
                for &i in bin {
                    let j = sizes.partition_point(|&x| x > weights[i]);
                    a[j] += 1;
                    load += weights[i];
                }
                if load <= c
                    && a.iter().zip(&demand).all(|(&x, &d)| x as u64 <= d)
                    && seen.insert(a.clone())
                {
                    ms.push_col(a);
                }
            }
        }
        Some(Lp {
            c,
            sizes,
            demand,
            ms,
            dirty: false,
        })
    }

    /// The distinct sizes (decreasing), the row order of every pattern.
    pub fn sizes(&self) -> &[u64] {
        &self.sizes
    }

    /// Removes the items of pattern `a` (counts per distinct size, each at
    /// most the demand left) from the demands.
    pub fn remove(&mut self, a: &[u32]) {
        for (i, &n) in a.iter().enumerate() {
            debug_assert!(n as u64 <= self.demand[i]);
            let n = (n as u64).min(self.demand[i]);
            self.demand[i] -= n;
            self.ms.demand[i] -= n as f64;
            self.dirty |= n > 0;
        }
        // bar the pooled patterns that now ask for missing items (the
        // single-size start columns stay: they keep a feasible basis)
        let ms = &mut self.ms;
        for p in ms.m..ms.cols.len() {
            if !ms.off[p] && ms.nz[p].iter().any(|&(i, x)| x > self.demand[i] as f64) {
                ms.off[p] = true;
            }
        }
    }

    /// Makes the basis primal feasible for the current demands: dual
    /// simplex pivots (reduced costs clamped at zero where the basis is not
    /// dual feasible), falling back to the single-size basis. Returns the
    /// pivots made.
    fn restore(&mut self) -> u64 {
        self.dirty = false;
        let ms = &mut self.ms;
        let m = ms.m;
        if ms.refactor_due() {
            ms.refactor();
        }
        ms.primal_values();
        let mut pivots = 0u64;
        let limit = 4 * m as u64 + 16;
        loop {
            // the largest violation: a negative value, or a barred column
            // above its bound 0
            let violation = |k: usize| match ms.basis[k] {
                Var::Pattern(p) if ms.off[p] => ms.xb[k].abs(),
                _ => -ms.xb[k],
            };
            let Some(r) = (0..m)
                .filter(|&k| violation(k) > 1e-9)
                .max_by(|&a, &b| violation(a).total_cmp(&violation(b)).then(b.cmp(&a)))
            else {
                break;
            };
            // the value of row r must rise (negative) or fall (barred)
            let sign = if ms.xb[r] < 0.0 { 1.0 } else { -1.0 };
            if pivots >= limit {
                ms.singleton_basis();
                return pivots;
            }
            let row = &ms.binv[r * m..(r + 1) * m];
            let mut surplus_in = vec![false; m];
            for &v in &ms.basis {
                if let Var::Surplus(j) = v {
                    surplus_in[j] = true;
                }
            }
            // (ratio, |alpha|, var): smallest ratio, then largest |alpha|
            let mut best: Option<(f64, f64, Var)> = None;
            let mut consider = |alpha: f64, d: f64, v: Var| {
                let alpha = sign * alpha;
                if alpha < -1e-9 {
                    let ratio = d.max(0.0) / -alpha;
                    let better = match best {
                        None => true,
                        Some((br, ba, _)) => {
                            ratio < br - 1e-12 || (ratio <= br + 1e-12 && -alpha > ba)
                        }
                    };
                    if better {
                        best = Some((ratio, -alpha, v));
                    }
                }
            };
            for p in 0..ms.cols.len() {
                if ms.in_basis[p] || ms.off[p] {
                    continue;
                }
                let alpha: f64 = ms.nz[p].iter().map(|&(i, x)| row[i] * x).sum();
                if sign * alpha < -1e-9 {
                    consider(alpha, ms.reduced_cost(p, &ms.pi), Var::Pattern(p));
                }
            }
            for j in 0..m {
                if !surplus_in[j] {
                    consider(-row[j], ms.pi[j], Var::Surplus(j));
                }
            }
            let Some((_, _, v)) = best else {
                ms.singleton_basis();
                return pivots;
            };
            ms.pivot_on(v, r);
            pivots += 1;
        }
        for x in ms.xb.iter_mut() {
            *x = x.max(0.0);
        }
        pivots
    }

    /// Runs column generation from the current basis until the LP is
    /// solved, the bound reaches `limits.target` or the budget runs out.
    pub fn solve(&mut self, limits: CgLimits) -> CgResult {
        // the L1 bound of the items left
        let l1 = {
            let s: u128 = self
                .demand
                .iter()
                .zip(&self.sizes)
                .map(|(&d, &s)| d as u128 * s as u128)
                .sum();
            s.div_ceil(self.c as u128) as u64
        };
        let mut res = CgResult {
            bound: l1,
            lp_value: f64::INFINITY,
            converged: false,
            iterations: 0,
            patterns: Vec::new(),
        };
        if self.dirty {
            res.iterations += self.restore();
        }
        let ks = Knapsack::new(self.c, &self.sizes, &self.demand);
        let demand = &self.demand;
        let ms = &mut self.ms;
        let mut center: Option<Vec<f64>> = None;
        let mut best_f = 0.0f64;
        loop {
            if res.iterations >= limits.max_iterations
                || limits.deadline.is_some_and(|t| Instant::now() >= t)
                || res.bound >= limits.target
            {
                break;
            }
            let pi = ms.pi.clone();
            // a surplus column with a negative dual, then the seeded columns
            let mut enter: Option<(f64, Var)> = None;
            for (j, &x) in pi.iter().enumerate() {
                if x < -EPS && enter.is_none_or(|e| x < e.0) {
                    enter = Some((x, Var::Surplus(j)));
                }
            }
            if enter.is_none() {
                // Dantzig's rule over the whole pool before pricing anew
                for p in 0..ms.cols.len() {
                    if ms.in_basis[p] || ms.off[p] {
                        continue;
                    }
                    let rc = ms.reduced_cost(p, &pi);
                    if rc < -EPS {
                        let score = -rc * rc / ms.weight[p];
                        if enter.is_none_or(|e| score < e.0) {
                            enter = Some((score, Var::Pattern(p)));
                        }
                    }
                }
            }
            if enter.is_none()
                && limits.lazy
                && ms.value() <= limits.target.saturating_sub(1) as f64 + 1e-6
            {
                // the pool already reaches the target: no pricing
                break;
            }
            if enter.is_none() {
                // price a new column (Wentges smoothing towards the duals
                // with the best bound so far); every pricing gives a valid
                // bound
                let mut exact = center.is_none();
                let mut done = false;
                loop {
                    let sep: Vec<f64> = match (&center, exact) {
                        (Some(cen), false) => cen
                            .iter()
                            .zip(&pi)
                            .map(|(&a, &b)| ALPHA * a + (1.0 - ALPHA) * b)
                            .collect(),
                        _ => pi.clone(),
                    };
                    let pint: Vec<u64> = sep
                        .iter()
                        .map(|&x| (x.max(0.0) * SCALE).floor() as u64)
                        .collect();
                    let (z, a, proven) = ks.solve(&pint);
                    res.iterations += 1;
                    if proven {
                        res.bound = res.bound.max(farley(demand, &pint, z));
                    }
                    if z > 0 && proven {
                        let num: f64 = demand
                            .iter()
                            .zip(&pint)
                            .map(|(&d, &x)| d as f64 * x as f64)
                            .sum();
                        let f = num / z as f64;
                        if f > best_f {
                            best_f = f;
                            center = Some(sep.clone());
                        }
                    }
                    res.lp_value = ms.value();
                    if (res.lp_value - 1e-4).ceil() <= res.bound as f64
                        || res.bound >= limits.target
                    {
                        done = true;
                        break;
                    }
                    let rc = 1.0 - a.iter().zip(&pi).map(|(&x, &y)| x as f64 * y).sum::<f64>();
                    if rc < -EPS {
                        ms.push_col(a);
                        enter = Some((rc, Var::Pattern(ms.cols.len() - 1)));
                        break;
                    }
                    if exact {
                        res.converged = proven;
                        done = true;
                        break;
                    }
                    exact = true;
                }
                if done {
                    break;
                }
            }
            let (_, v) = enter.expect("set above");
            res.iterations += 1;
            if !ms.pivot(v) {
                break;
            }
            if ms.refactor_due() {
                ms.refactor();
            }
        }
        res.lp_value = ms.value();
        res.patterns = ms
            .basis
            .iter()
            .zip(&ms.xb)
            .filter_map(|(&v, &x)| match v {
                Var::Pattern(p) if x > 1e-9 => Some((ms.cols[p].clone(), x)),
                _ => None,
            })
            .collect();
        res
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn lim(target: u64) -> CgLimits {
        CgLimits {
            target,
            deadline: None,
            max_iterations: 100_000,
            lazy: false,
        }
    }

    fn brute_knap(c: u64, w: &[u64], u: &[u64], p: &[u64]) -> u128 {
        fn rec(j: usize, cap: u64, w: &[u64], u: &[u64], p: &[u64]) -> u128 {
            if j == w.len() {
                return 0;
            }
            let mut best = 0;
            let mut k = 0;
            while k <= u[j] && k * w[j] <= cap {
                best = best.max(k as u128 * p[j] as u128 + rec(j + 1, cap - k * w[j], w, u, p));
                k += 1;
            }
            best
        }
        rec(0, c, w, u, p)
    }

    /// Minimum bins by exhaustive search (tiny instances).
    fn brute_bins(c: u64, w: &[u64]) -> u64 {
        fn rec(i: usize, w: &[u64], c: u64, loads: &mut Vec<u64>, best: &mut u64) {
            if loads.len() as u64 >= *best {
                return;
            }
            if i == w.len() {
                *best = loads.len() as u64;
                return;
            }
            for b in 0..loads.len() {
                if loads[b] + w[i] <= c {
                    loads[b] += w[i];
                    rec(i + 1, w, c, loads, best);
                    loads[b] -= w[i];
                }
            }
            loads.push(w[i]);
            rec(i + 1, w, c, loads, best);
            loads.pop();
        }
        let mut best = w.len() as u64;
        rec(0, w, c, &mut Vec::new(), &mut best);
        best
    }

    #[test]
    fn knapsack_dp_and_bb_are_exact() {
        let mut rng = crate::rng::SplitMix64::new(7);
        for _ in 0..200 {
            let m = 1 + rng.below(6) as usize;
            let c = 10 + rng.below(60);
            let w: Vec<u64> = (0..m).map(|_| 1 + rng.below(c)).collect();
            let u: Vec<u64> = (0..m).map(|_| 1 + rng.below(4)).collect();
            let p: Vec<u64> = (0..m).map(|_| rng.below(1000)).collect();
            let want = brute_knap(c, &w, &u, &p);
            let mut k = Knapsack::new(c, &w, &u);
            for dp in [true, false] {
                k.use_dp = dp;
                let (z, a, proven) = k.solve(&p);
                assert!(proven);
                assert_eq!(z, want);
                let load: u64 = a.iter().zip(&w).map(|(&x, &y)| x as u64 * y).sum();
                let val: u128 = a.iter().zip(&p).map(|(&x, &y)| x as u128 * y as u128).sum();
                assert!(load <= c);
                assert_eq!(val, z);
                assert!(a.iter().zip(&u).all(|(&x, &y)| x as u64 <= y));
            }
        }
    }

    #[test]
    fn lp_bound_beats_l2_on_three_thirds() {
        // sizes 4 in bins of 10: two per bin → 3 bins for 5 items;
        // 6s need their own bin with one 4 at most.
        let w = [6, 6, 6, 4, 4, 4, 4, 4, 4];
        let r = lp_bound(10, &w, &[], lim(u64::MAX));
        assert_eq!(r.bound, 5);
        assert!(r.lp_value >= 4.5 - 1e-6, "{}", r.lp_value);
        assert_eq!(crate::bounds::one_dim(10, &w), 5);
    }

    #[test]
    fn lp_bound_never_exceeds_brute_force_optimum() {
        let mut rng = crate::rng::SplitMix64::new(11);
        for _ in 0..150 {
            let n = 1 + rng.below(9) as usize;
            let c = 20 + rng.below(40);
            let w: Vec<u64> = (0..n).map(|_| 1 + rng.below(c)).collect();
            let opt = brute_bins(c, &w);
            let ffd = crate::oned::ffd(c, &w);
            let r = lp_bound(c, &w, &[&ffd], lim(u64::MAX));
            assert!(
                r.bound <= opt,
                "bound {} > opt {opt} on {w:?} c={c}",
                r.bound
            );
            assert!(r.bound >= crate::bounds::l1(c, &w));
            assert!(
                r.bound as f64 >= r.lp_value - 1e-4,
                "{} {}",
                r.bound,
                r.lp_value
            );
            // the primal patterns cover the demands
            let (_, demand) = group(&w);
            for (j, &d) in demand.iter().enumerate() {
                let cov: f64 = r.patterns.iter().map(|(a, x)| a[j] as f64 * x).sum();
                assert!(cov >= d as f64 - 1e-6);
            }
        }
    }

    #[test]
    fn stops_at_target_and_budget() {
        let w: Vec<u64> = (0..60).map(|i| 200 + (i * 37) % 300).collect();
        let r = lp_bound(1000, &w, &[], lim(1));
        assert!(r.bound >= 1);
        let r2 = lp_bound(
            1000,
            &w,
            &[],
            CgLimits {
                target: u64::MAX,
                deadline: None,
                max_iterations: 3,
                lazy: false,
            },
        );
        assert!(r2.iterations <= 4);
    }

    /// Fixing patterns and re-solving warm gives the LP of the residual:
    /// the same bound `⌈LP⌉` as a cold solve of the items left, with
    /// patterns that only use items still there, in fewer iterations.
    #[test]
    fn warm_resolve_matches_cold_solve() {
        let mut rng = crate::rng::SplitMix64::new(5);
        let mut compared = 0;
        let (mut warm_it, mut cold_it) = (0u64, 0u64);
        for case in 0..60 {
            let c = 50 + rng.below(100);
            let n = 8 + rng.below(25) as usize;
            let w: Vec<u64> = (0..n).map(|_| 1 + rng.below(c * 2 / 3)).collect();
            let mut lp = Lp::new(c, &w, &[]).expect("items fit");
            let sizes = lp.sizes().to_vec();
            let (_, mut demand) = group(&w);
            // solved: optimal, or the bound meets the LP value rounded up
            let closed = |r: &CgResult| r.converged || (r.lp_value - 1e-4).ceil() <= r.bound as f64;
            let mut r = lp.solve(lim(u64::MAX));
            while demand.iter().sum::<u64>() > 0 && closed(&r) {
                // fix the largest pattern, clipped to the items left
                let (a, _) = r
                    .patterns
                    .iter()
                    .max_by(|x, y| x.1.total_cmp(&y.1).then_with(|| y.0.cmp(&x.0)))
                    .expect("a pattern");
                let a: Vec<u32> = a
                    .iter()
                    .zip(&demand)
                    .map(|(&x, &d)| x.min(d as u32))
                    .collect();
                if a.iter().all(|&x| x == 0) {
                    break;
                }
                lp.remove(&a);
                for (d, &x) in demand.iter_mut().zip(&a) {
                    *d -= x as u64;
                }
                r = lp.solve(lim(u64::MAX));
                let rest: Vec<u64> = sizes
                    .iter()
                    .zip(&demand)
                    .flat_map(|(&s, &d)| std::iter::repeat_n(s, d as usize))
                    .collect();
                let cold = lp_bound(c, &rest, &[], lim(u64::MAX));
                if !(closed(&r) && closed(&cold)) {
                    continue;
                }
                assert_eq!(r.bound, cold.bound, "case {case}");
                compared += 1;
                warm_it += r.iterations;
                cold_it += cold.iterations;
                for (j, &d) in demand.iter().enumerate() {
                    let cov: f64 = r.patterns.iter().map(|(a, x)| a[j] as f64 * x).sum();
                    assert!(cov >= d as f64 - 1e-6, "case {case}: row {j} uncovered");
                }
                // only the single-size start columns may ask for more than is
                // left (they keep the basis feasible)
                for (a, x) in &r.patterns {
                    let over = a.iter().zip(&demand).any(|(&n, &d)| n as u64 > d);
                    let single = a.iter().filter(|&&n| n > 0).count() == 1;
                    assert!(!over || single || *x < 1e-6, "case {case}: {a:?} at {x}");
                }
            }
        }
        assert!(compared >= 200, "only {compared} warm re-solves compared");
        eprintln!("{compared} re-solves: {warm_it} warm iterations, {cold_it} cold");
        assert!(2 * warm_it < cold_it, "warm {warm_it}, cold {cold_it}");
    }
}
