//! A small dense two-phase simplex for the linear programs of this crate.
//!
//! The problems solved here are tiny (the Gavel policies have a few dozen
//! variables, the fleet planner's Lagrangian master a dozen), so a dense
//! tableau is the simplest exact-enough tool: no factorisation, no sparse
//! bookkeeping, and the whole state fits in cache. Pivoting uses Dantzig's
//! rule and falls back to Bland's rule after a run of degenerate pivots, so it
//! cannot cycle.
//!
//! ```
//! use rightsizer_plan::lp::{Lp, Sense, LpStatus};
//! // max 3x + 2y  s.t.  x + y <= 4,  x + 3y <= 6,  x >= 1
//! let mut lp = Lp::new(vec![3.0, 2.0]);
//! lp.add(vec![1.0, 1.0], Sense::Le, 4.0);
//! lp.add(vec![1.0, 3.0], Sense::Le, 6.0);
//! lp.add(vec![1.0, 0.0], Sense::Ge, 1.0);
//! let sol = lp.solve(10_000);
//! assert_eq!(sol.status, LpStatus::Optimal);
//! assert!((sol.objective - 12.0).abs() < 1e-9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The sense of one constraint row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sense {
    /// `a·x <= b`
    Le,
    /// `a·x >= b`
    Ge,
    /// `a·x == b`
    Eq,
}

/// Why the simplex stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpStatus {
    /// An optimal basic solution was found.
    Optimal,
    /// No point satisfies the constraints.
    Infeasible,
    /// The objective grows without bound.
    Unbounded,
    /// The pivot budget ran out first.
    IterationLimit,
}

/// A linear program `max c·x` subject to rows `a·x (<=|>=|==) b`, `x >= 0`.
#[derive(Clone, Debug)]
pub struct Lp {
    c: Vec<f64>,
    rows: Vec<(Vec<f64>, Sense, f64)>,
}

/// The result of [`Lp::solve`].
#[derive(Clone, Debug)]
pub struct LpSolution {
    /// Why the solver stopped.
    pub status: LpStatus,
    /// Objective value at `x` (meaningful when `status` is `Optimal`).
    pub objective: f64,
    /// Primal values of the structural variables.
    pub x: Vec<f64>,
    /// Dual value of each row, in row order (for a maximisation: `>= 0` on
    /// binding `<=` rows, `<= 0` on binding `>=` rows; `0` for equality rows,
    /// whose duals are not reported).
    pub duals: Vec<f64>,
    /// Number of pivots performed (both phases).
    pub pivots: usize,
}

const EPS: f64 = 1e-10;

impl Lp {
    /// A program over `c.len()` non-negative variables maximising `c·x`.
    pub fn new(c: Vec<f64>) -> Self {
        Lp {
            c,
            rows: Vec::new(),
        }
    }

    /// Number of structural variables.
    pub fn num_vars(&self) -> usize {
        self.c.len()
    }

    /// Adds the row `a·x (sense) b`. Short rows are padded with zeros.
    pub fn add(&mut self, mut a: Vec<f64>, sense: Sense, b: f64) {
        a.resize(self.c.len(), 0.0);
        self.rows.push((a, sense, b));
    }

    /// Solves with at most `max_pivots` pivots in total.
    pub fn solve(&self, max_pivots: usize) -> LpSolution {
        let n = self.c.len();
        let m = self.rows.len();
        // Normalise to b >= 0, remembering flipped rows.
        let mut flipped = vec![false; m];
        let mut senses = Vec::with_capacity(m);
        for (i, (_, s, b)) in self.rows.iter().enumerate() {
            let s = *s;
            if *b < 0.0 {
                flipped[i] = true;
                senses.push(match s {
                    Sense::Le => Sense::Ge,
                    Sense::Ge => Sense::Le,
                    Sense::Eq => Sense::Eq,
                });
            } else {
                senses.push(s);
            }
        }
        // Column layout: structural | slack/surplus (one per inequality) | artificial.
        let mut slack_col = vec![usize::MAX; m];
        let mut art_col = vec![usize::MAX; m];
        let mut ncols = n;
        for i in 0..m {
            if senses[i] != Sense::Eq {
                slack_col[i] = ncols;
                ncols += 1;
            }
        }
        let first_art = ncols;
        for i in 0..m {
            if senses[i] != Sense::Le {
                art_col[i] = ncols;
                ncols += 1;
            }
        }
        let w = ncols + 1; // last column is the rhs
        let mut t = vec![0.0f64; (m + 1) * w];
        let mut basis = vec![0usize; m];
        for (i, (a, _, b)) in self.rows.iter().enumerate() {
            let sign = if flipped[i] { -1.0 } else { 1.0 };
            let row = &mut t[i * w..(i + 1) * w];
            for j in 0..n {
                row[j] = sign * a[j];
            }
            row[w - 1] = sign * b;
            match senses[i] {
                Sense::Le => {
                    row[slack_col[i]] = 1.0;
                    basis[i] = slack_col[i];
                }
                Sense::Ge => {
                    row[slack_col[i]] = -1.0;
                    row[art_col[i]] = 1.0;
                    basis[i] = art_col[i];
                }
                Sense::Eq => {
                    row[art_col[i]] = 1.0;
                    basis[i] = art_col[i];
                }
            }
        }
        let mut pivots = 0usize;
        let obj = m; // objective row index
                     // Phase 1: maximise -(sum of artificials), i.e. the objective row holds
                     // reduced costs of minimising the artificial sum.
        if first_art < ncols {
            for j in 0..w {
                t[obj * w + j] = 0.0;
            }
            for j in first_art..ncols {
                t[obj * w + j] = 1.0;
            }
            for i in 0..m {
                if basis[i] >= first_art {
                    for j in 0..w {
                        t[obj * w + j] -= t[i * w + j];
                    }
                }
            }
            let st = run(&mut t, &mut basis, m, w, ncols, max_pivots, &mut pivots);
            if st == LpStatus::IterationLimit {
                return self.finish(LpStatus::IterationLimit, &t, &basis, m, w, pivots, &[]);
            }
            if -t[obj * w + w - 1] > 1e-7 * (1.0 + self.max_abs_b()) {
                return self.finish(LpStatus::Infeasible, &t, &basis, m, w, pivots, &[]);
            }
            // Drive artificials out of the basis where possible.
            for i in 0..m {
                if basis[i] >= first_art {
                    if let Some(j) = (0..first_art).find(|&j| t[i * w + j].abs() > 1e-9) {
                        pivot(&mut t, &mut basis, m, w, i, j);
                        pivots += 1;
                    }
                }
            }
            // Forbid artificials from re-entering: zero their columns.
            for i in 0..=m {
                for j in first_art..ncols {
                    if basis.get(i).copied() != Some(j) {
                        t[i * w + j] = 0.0;
                    }
                }
            }
        }
        // Phase 2 objective row: z_j - c_j.
        for j in 0..w {
            t[obj * w + j] = 0.0;
        }
        for j in 0..n {
            t[obj * w + j] = -self.c[j];
        }
        for i in 0..m {
            let bj = basis[i];
            let cb = if bj < n { self.c[bj] } else { 0.0 };
            if cb != 0.0 {
                for j in 0..w {
                    t[obj * w + j] += cb * t[i * w + j];
                }
            }
        }
        let st = run(
            &mut t,
            &mut basis,
            m,
            w,
            first_art,
            max_pivots.saturating_sub(pivots),
            &mut pivots,
        );
        self.finish(st, &t, &basis, m, w, pivots, &slack_col)
    }

    fn max_abs_b(&self) -> f64 {
        self.rows.iter().map(|r| r.2.abs()).fold(0.0, f64::max)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        status: LpStatus,
        t: &[f64],
        basis: &[usize],
        m: usize,
        w: usize,
        pivots: usize,
        slack_col: &[usize],
    ) -> LpSolution {
        let n = self.c.len();
        let mut x = vec![0.0; n];
        for i in 0..m {
            if basis[i] < n {
                x[basis[i]] = t[i * w + w - 1].max(0.0);
            }
        }
        let objective = self.c.iter().zip(&x).map(|(c, v)| c * v).sum();
        let mut duals = vec![0.0; m];
        if status == LpStatus::Optimal {
            for i in 0..m {
                let sc = slack_col[i];
                if sc != usize::MAX {
                    // Reduced cost of the slack (+1 column) is y_i; of a surplus (-1) is -y_i.
                    let r = t[m * w + sc];
                    // Flipping a row negates both its dual and its slack column,
                    // so the rule depends on the original sense only.
                    let y = if self.rows[i].1 == Sense::Le { r } else { -r };
                    duals[i] = y;
                }
            }
        }
        LpSolution {
            status,
            objective,
            x,
            duals,
            pivots,
        }
    }
}

fn pivot(t: &mut [f64], basis: &mut [usize], m: usize, w: usize, r: usize, c: usize) {
    let p = t[r * w + c];
    for j in 0..w {
        t[r * w + j] /= p;
    }
    let (before, rest) = t.split_at_mut(r * w);
    let (prow, after) = rest.split_at_mut(w);
    for (i, row) in before
        .chunks_exact_mut(w)
        .chain(after.chunks_exact_mut(w))
        .enumerate()
    {
        let _ = i;
        let f = row[c];
        if f != 0.0 {
            for j in 0..w {
                row[j] -= f * prow[j];
            }
            row[c] = 0.0;
        }
    }
    basis[r] = c;
    let _ = m;
}

/// Runs primal simplex on the tableau; columns `>= ncols` never enter.
fn run(
    t: &mut [f64],
    basis: &mut [usize],
    m: usize,
    w: usize,
    ncols: usize,
    budget: usize,
    pivots: &mut usize,
) -> LpStatus {
    let mut degenerate_run = 0usize;
    let mut done = 0usize;
    loop {
        let obj = &t[m * w..m * w + ncols];
        let bland = degenerate_run > 50;
        let mut enter = usize::MAX;
        let mut best = -EPS;
        for (j, &v) in obj.iter().enumerate() {
            if v < -EPS {
                if bland {
                    enter = j;
                    break;
                }
                if v < best {
                    best = v;
                    enter = j;
                }
            }
        }
        if enter == usize::MAX {
            return LpStatus::Optimal;
        }
        if done >= budget {
            return LpStatus::IterationLimit;
        }
        let mut leave = usize::MAX;
        let mut ratio = f64::INFINITY;
        for i in 0..m {
            let a = t[i * w + enter];
            if a > 1e-9 {
                let q = t[i * w + w - 1] / a;
                if q < ratio - 1e-12
                    || (q <= ratio + 1e-12 && leave != usize::MAX && basis[i] < basis[leave])
                {
                    ratio = q;
                    leave = i;
                }
            }
        }
        if leave == usize::MAX {
            return LpStatus::Unbounded;
        }
        if ratio.abs() < 1e-12 {
            degenerate_run += 1;
        } else {
            degenerate_run = 0;
        }
        pivot(t, basis, m, w, leave, enter);
        done += 1;
        *pivots += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_max() {
        let mut lp = Lp::new(vec![1.0, 1.0]);
        lp.add(vec![1.0, 2.0], Sense::Le, 4.0);
        lp.add(vec![3.0, 1.0], Sense::Le, 6.0);
        let s = lp.solve(100);
        assert_eq!(s.status, LpStatus::Optimal);
        assert!((s.objective - 2.8).abs() < 1e-9, "{s:?}");
        assert!((s.x[0] - 1.6).abs() < 1e-9);
        // duals: y = (0.4, 0.2); b·y = 2.8
        assert!((s.duals[0] - 0.4).abs() < 1e-9, "{s:?}");
        assert!((s.duals[1] - 0.2).abs() < 1e-9);
    }

    #[test]
    fn infeasible_and_unbounded() {
        let mut lp = Lp::new(vec![1.0]);
        lp.add(vec![1.0], Sense::Le, 1.0);
        lp.add(vec![1.0], Sense::Ge, 2.0);
        assert_eq!(lp.solve(100).status, LpStatus::Infeasible);
        let mut lp = Lp::new(vec![1.0, 0.0]);
        lp.add(vec![-1.0, 1.0], Sense::Le, 1.0);
        assert_eq!(lp.solve(100).status, LpStatus::Unbounded);
    }

    #[test]
    fn equality_and_negative_rhs() {
        // max -x - y s.t. x + y == 3, x - y <= -1  → y >= x + 1; optimum -3
        let mut lp = Lp::new(vec![-1.0, -1.0]);
        lp.add(vec![1.0, 1.0], Sense::Eq, 3.0);
        lp.add(vec![1.0, -1.0], Sense::Le, -1.0);
        let s = lp.solve(100);
        assert_eq!(s.status, LpStatus::Optimal);
        assert!((s.objective + 3.0).abs() < 1e-9);
        assert!(s.x[1] >= s.x[0] + 1.0 - 1e-9);
    }
}
