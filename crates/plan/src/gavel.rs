//! Heterogeneity-aware training allocation (Gavel, OSDI '20).
//!
//! An allocation `X[m][j]` is the fraction of wall time job `m` spends on
//! accelerator type `j`; its effective throughput is `Σ_j T[m][j]·X[m][j]`.
//! Constraints: `X >= 0`, `Σ_j X[m][j] <= 1` (one worker type at a time),
//! `Σ_m X[m][j]·scale_m <= workers_j`. Each policy is one linear program,
//! solved with [`crate::lp`].
//!
//! Nothing here assumes a newer or pricier device is faster: every decision
//! reads the throughput matrix (Gavel's Recommendation job is slower on V100
//! than on P100).
//!
//! ```
//! use rightsizer_plan::gavel::ThroughputMatrix;
//! // ResNet-50 bs64 and A3C on V100 / P100 / K80 (steps/s, rounded).
//! let t = ThroughputMatrix::new(
//!     vec!["resnet50".into(), "a3c".into()],
//!     vec!["v100".into(), "p100".into(), "k80".into()],
//!     vec![vec![4.395, 2.619, 0.619], vec![7.18, 5.68, 3.44]],
//! )?;
//! let fair = t.max_min_fairness(&[1, 1, 1], None)?;
//! assert!(fair.objective > 1.2); // +20 % for both jobs over an equal time share
//! assert!(fair.share("resnet50", "k80") < 1e-9 && fair.share("a3c", "k80") < 1e-9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::PlanError;
use crate::lp::{Lp, LpStatus, Sense};
use rightsizer_model::units::PricePerHour;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Steps/s of each job on each accelerator type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThroughputMatrix {
    /// Job names (rows).
    pub jobs: Vec<String>,
    /// Accelerator types (columns).
    pub types: Vec<String>,
    /// `throughput[m][j]` in steps/s; 0 means the job cannot run there.
    pub throughput: Vec<Vec<f64>>,
    /// Workers each job occupies while running (Gavel's scale factor); 1 by default.
    pub scale: Vec<u32>,
}

/// A time-share allocation and the policy's objective.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// `shares[job][type]`: fraction of wall time.
    pub shares: BTreeMap<String, BTreeMap<String, f64>>,
    /// Effective throughput per job (steps/s).
    pub throughput: BTreeMap<String, f64>,
    /// The policy's objective: normalised throughput `t` (max-min fairness),
    /// makespan in seconds (makespan), or steps per dollar-hour (cost).
    pub objective: f64,
    /// Simplex pivots used.
    pub pivots: usize,
    /// For the cost policy: `true` when the SLOs were infeasible and dropped
    /// (Gavel's behaviour), with the jobs whose SLO could not be met.
    pub dropped_slos: Vec<String>,
}

impl Allocation {
    /// The share of `job` on `ty` (0 when absent).
    pub fn share(&self, job: &str, ty: &str) -> f64 {
        self.shares
            .get(job)
            .and_then(|r| r.get(ty))
            .copied()
            .unwrap_or(0.0)
    }
}

impl ThroughputMatrix {
    /// A matrix with scale factor 1 for every job. Throughputs must be finite
    /// and non-negative, with one row per job and one column per type.
    pub fn new(
        jobs: Vec<String>,
        types: Vec<String>,
        throughput: Vec<Vec<f64>>,
    ) -> Result<Self, PlanError> {
        if types.is_empty() {
            return Err(PlanError::EmptyCatalog);
        }
        if throughput.len() != jobs.len() {
            return Err(PlanError::Shape {
                field: "throughput".into(),
                expected: jobs.len(),
                found: throughput.len(),
            });
        }
        for (m, row) in throughput.iter().enumerate() {
            if row.len() != types.len() {
                return Err(PlanError::Shape {
                    field: format!("throughput[{m}]"),
                    expected: types.len(),
                    found: row.len(),
                });
            }
            for (j, &v) in row.iter().enumerate() {
                if !v.is_finite() || v < 0.0 {
                    return Err(PlanError::InvalidThroughput {
                        field: format!("throughput[{}][{}]", jobs[m], types[j]),
                        value: v,
                    });
                }
            }
        }
        let scale = vec![1; jobs.len()];
        Ok(ThroughputMatrix {
            jobs,
            types,
            throughput,
            scale,
        })
    }

    /// Reads Gavel's `simulation_throughputs.json` / `physical_cluster_throughputs.json`:
    /// the isolated (`"null"`) throughput of every `(model, scale_factor)` key
    /// at `scale_factor`, for the listed worker types (e.g. `["v100", "p100", "k80"]`).
    /// Jobs are sorted by name; a job missing on some type gets 0 there.
    pub fn from_gavel_json(
        text: &str,
        worker_types: &[&str],
        scale_factor: u32,
    ) -> Result<Self, PlanError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| PlanError::Parse {
            file: "<gavel throughputs>".into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let mut table: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for (j, w) in worker_types.iter().enumerate() {
            let obj = v.get(*w).and_then(|x| x.as_object()).ok_or_else(|| {
                PlanError::UnknownAccelerator {
                    name: (*w).to_string(),
                    field: "worker type".into(),
                }
            })?;
            for (key, entry) in obj {
                let Some((model, sf)) = parse_gavel_key(key) else {
                    return Err(PlanError::Parse {
                        file: "<gavel throughputs>".into(),
                        line: 0,
                        column: 0,
                        message: format!("cannot parse job key {key:?} under {w}"),
                    });
                };
                if sf != scale_factor {
                    continue;
                }
                let iso =
                    entry
                        .get("null")
                        .and_then(|x| x.as_f64())
                        .ok_or_else(|| PlanError::Parse {
                            file: "<gavel throughputs>".into(),
                            line: 0,
                            column: 0,
                            message: format!("{w}.{key}: missing numeric \"null\" throughput"),
                        })?;
                table
                    .entry(model)
                    .or_insert_with(|| vec![0.0; worker_types.len()])[j] = iso;
            }
        }
        let (jobs, throughput): (Vec<String>, Vec<Vec<f64>>) = table.into_iter().unzip();
        let mut m = ThroughputMatrix::new(
            jobs,
            worker_types.iter().map(|s| s.to_string()).collect(),
            throughput,
        )?;
        m.scale = vec![scale_factor; m.jobs.len()];
        Ok(m)
    }

    /// The sub-matrix of the named jobs, in the given order.
    pub fn select(&self, jobs: &[&str]) -> Result<Self, PlanError> {
        let mut rows = Vec::new();
        let mut scale = Vec::new();
        for (i, name) in jobs.iter().enumerate() {
            let m = self.jobs.iter().position(|j| j == name).ok_or_else(|| {
                PlanError::UnknownAccelerator {
                    name: (*name).to_string(),
                    field: format!("jobs[{i}]"),
                }
            })?;
            rows.push(self.throughput[m].clone());
            scale.push(self.scale[m]);
        }
        Ok(ThroughputMatrix {
            jobs: jobs.iter().map(|s| s.to_string()).collect(),
            types: self.types.clone(),
            throughput: rows,
            scale,
        })
    }

    /// Throughput of `job` on `ty`.
    pub fn get(&self, job: &str, ty: &str) -> Option<f64> {
        let m = self.jobs.iter().position(|j| j == job)?;
        let j = self.types.iter().position(|t| t == ty)?;
        Some(self.throughput[m][j])
    }

    fn check_workers(&self, workers: &[u32]) -> Result<(), PlanError> {
        if workers.len() != self.types.len() {
            return Err(PlanError::Shape {
                field: "workers".into(),
                expected: self.types.len(),
                found: workers.len(),
            });
        }
        Ok(())
    }

    /// Per job, the type with the most steps per dollar (G2). Ties go to the
    /// earlier type. Reads the matrix only: no device ranking is assumed.
    pub fn best_per_dollar(
        &self,
        prices: &[PricePerHour],
    ) -> Result<BTreeMap<String, (String, f64)>, PlanError> {
        if prices.len() != self.types.len() {
            return Err(PlanError::Shape {
                field: "prices".into(),
                expected: self.types.len(),
                found: prices.len(),
            });
        }
        let mut out = BTreeMap::new();
        for (m, job) in self.jobs.iter().enumerate() {
            let mut best: Option<(usize, f64)> = None;
            for (j, p) in prices.iter().enumerate() {
                if p.micros() == 0 {
                    continue;
                }
                let v = self.throughput[m][j] / p.as_dollars();
                if best.is_none_or(|b| v > b.1) {
                    best = Some((j, v));
                }
            }
            if let Some((j, v)) = best {
                out.insert(job.clone(), (self.types[j].clone(), v));
            }
        }
        Ok(out)
    }

    /// Gavel's proportional share: each job gets `workers_j / jobs` of every
    /// type, rescaled so no job's row sum exceeds 1. Returns throughputs.
    pub fn proportional_throughput(&self, workers: &[u32]) -> Result<Vec<f64>, PlanError> {
        self.check_workers(workers)?;
        let n = self.jobs.len().max(1) as f64;
        let mut share: Vec<f64> = workers.iter().map(|&w| f64::from(w) / n).collect();
        let s: f64 = share.iter().sum();
        if s > 1.0 {
            share.iter_mut().for_each(|x| *x /= s);
        }
        Ok(self
            .throughput
            .iter()
            .map(|row| row.iter().zip(&share).map(|(t, x)| t * x).sum())
            .collect())
    }

    /// `max t` s.t. `throughput_m(X) >= t·norm_m` for every job, under the
    /// base constraints.
    fn max_min(
        &self,
        workers: &[u32],
        norm: &[f64],
    ) -> Result<(f64, Vec<Vec<f64>>, usize), PlanError> {
        let nm = self.jobs.len();
        let nt = self.types.len();
        let nv = nm * nt + 1;
        let mut c = vec![0.0; nv];
        c[nv - 1] = 1.0;
        let mut lp = Lp::new(c);
        for m in 0..nm {
            let mut a = vec![0.0; nv];
            for j in 0..nt {
                a[m * nt + j] = -self.throughput[m][j] / norm[m];
            }
            a[nv - 1] = 1.0;
            lp.add(a, Sense::Le, 0.0);
        }
        for m in 0..nm {
            let mut a = vec![0.0; nv];
            for j in 0..nt {
                a[m * nt + j] = 1.0;
            }
            lp.add(a, Sense::Le, 1.0);
        }
        for j in 0..nt {
            let mut a = vec![0.0; nv];
            for m in 0..nm {
                a[m * nt + j] = f64::from(self.scale[m]);
            }
            lp.add(a, Sense::Le, f64::from(workers[j]));
        }
        let sol = lp.solve(100_000);
        if sol.status != LpStatus::Optimal {
            return Err(PlanError::InvalidParameter {
                field: "throughput".into(),
                message: format!("allocation LP stopped with {:?}", sol.status),
            });
        }
        let x = (0..nm)
            .map(|m| (0..nt).map(|j| sol.x[m * nt + j]).collect())
            .collect();
        Ok((sol.x[nv - 1], x, sol.pivots))
    }

    fn allocation(&self, x: Vec<Vec<f64>>, objective: f64, pivots: usize) -> Allocation {
        let mut shares = BTreeMap::new();
        let mut thr = BTreeMap::new();
        for (m, job) in self.jobs.iter().enumerate() {
            let row: BTreeMap<String, f64> = self
                .types
                .iter()
                .cloned()
                .zip(x[m].iter().copied())
                .collect();
            thr.insert(
                job.clone(),
                x[m].iter()
                    .zip(&self.throughput[m])
                    .map(|(a, b)| a * b)
                    .sum(),
            );
            shares.insert(job.clone(), row);
        }
        Allocation {
            shares,
            throughput: thr,
            objective,
            pivots,
            dropped_slos: Vec::new(),
        }
    }

    /// Max-min fairness (Gavel `MaxMinFairness_Perf`): maximise the smallest
    /// `throughput_m(X) / (weight_m · proportional_m)`. `objective` is that `t`.
    pub fn max_min_fairness(
        &self,
        workers: &[u32],
        weights: Option<&[f64]>,
    ) -> Result<Allocation, PlanError> {
        let prop = self.proportional_throughput(workers)?;
        let mut norm = Vec::with_capacity(prop.len());
        for (m, p) in prop.iter().enumerate() {
            let w = weights.map_or(1.0, |w| w.get(m).copied().unwrap_or(1.0));
            if !(w.is_finite() && w > 0.0) {
                return Err(PlanError::InvalidParameter {
                    field: format!("weights[{m}]"),
                    message: format!("must be positive, got {w}"),
                });
            }
            if *p <= 0.0 {
                return Err(PlanError::InvalidParameter {
                    field: format!("jobs[{}]", self.jobs[m]),
                    message: "the job cannot run on any available type".into(),
                });
            }
            norm.push(w * p);
        }
        let (t, x, piv) = self.max_min(workers, &norm)?;
        Ok(self.allocation(x, t, piv))
    }

    /// Makespan (Gavel `MinTotalDuration_Perf`): minimise the time until the
    /// last job finishes its `steps`. `objective` is the makespan in seconds.
    pub fn min_makespan(&self, workers: &[u32], steps: &[f64]) -> Result<Allocation, PlanError> {
        self.check_workers(workers)?;
        if steps.len() != self.jobs.len() {
            return Err(PlanError::Shape {
                field: "steps".into(),
                expected: self.jobs.len(),
                found: steps.len(),
            });
        }
        for (m, &s) in steps.iter().enumerate() {
            if !(s.is_finite() && s > 0.0) {
                return Err(PlanError::InvalidRate {
                    field: format!("steps[{m}]"),
                    value: s,
                });
            }
        }
        let (t, x, piv) = self.max_min(workers, steps)?;
        if t <= 0.0 {
            return Err(PlanError::InvalidParameter {
                field: "throughput".into(),
                message: "some job cannot run on any available type".into(),
            });
        }
        Ok(self.allocation(x, 1.0 / t, piv))
    }

    /// Cost under SLOs (Gavel `ThroughputNormalizedByCostSum_PerfSLOs`):
    /// maximise `Σ_m Σ_j T[m][j]·X[m][j] / price_j` subject to every job
    /// finishing `steps_m` within `slo_seconds_m`. When the SLOs cannot all be
    /// met, they are dropped (as Gavel does) and listed in `dropped_slos`.
    pub fn cost_under_slo(
        &self,
        workers: &[u32],
        prices: &[PricePerHour],
        steps: &[f64],
        slo_seconds: &[f64],
    ) -> Result<Allocation, PlanError> {
        self.check_workers(workers)?;
        let nm = self.jobs.len();
        let nt = self.types.len();
        if prices.len() != nt || steps.len() != nm || slo_seconds.len() != nm {
            return Err(PlanError::Shape {
                field: "prices/steps/slo_seconds".into(),
                expected: nt,
                found: prices.len(),
            });
        }
        let build = |with_slo: bool| {
            let mut c = vec![0.0; nm * nt];
            for m in 0..nm {
                for j in 0..nt {
                    let p = prices[j].as_dollars();
                    c[m * nt + j] = if p > 0.0 {
                        self.throughput[m][j] / p
                    } else {
                        0.0
                    };
                }
            }
            let mut lp = Lp::new(c);
            for m in 0..nm {
                let mut a = vec![0.0; nm * nt];
                a[m * nt..(m + 1) * nt].fill(1.0);
                lp.add(a, Sense::Le, 1.0);
            }
            for j in 0..nt {
                let mut a = vec![0.0; nm * nt];
                for m in 0..nm {
                    a[m * nt + j] = f64::from(self.scale[m]);
                }
                lp.add(a, Sense::Le, f64::from(workers[j]));
            }
            if with_slo {
                for m in 0..nm {
                    let mut a = vec![0.0; nm * nt];
                    a[m * nt..(m + 1) * nt].copy_from_slice(&self.throughput[m]);
                    lp.add(a, Sense::Ge, steps[m] / slo_seconds[m]);
                }
            }
            lp.solve(100_000)
        };
        let sol = build(true);
        let (sol, dropped) = if sol.status == LpStatus::Infeasible {
            // Name the jobs whose SLO is out of reach even alone on the best type.
            let dropped = (0..nm)
                .filter(|&m| {
                    let best = (0..nt)
                        .filter(|&j| workers[j] >= self.scale[m])
                        .map(|j| self.throughput[m][j])
                        .fold(0.0, f64::max);
                    best < steps[m] / slo_seconds[m]
                })
                .map(|m| self.jobs[m].clone())
                .collect::<Vec<_>>();
            let dropped = if dropped.is_empty() {
                self.jobs.clone()
            } else {
                dropped
            };
            (build(false), dropped)
        } else {
            (sol, Vec::new())
        };
        if sol.status != LpStatus::Optimal {
            return Err(PlanError::InvalidParameter {
                field: "throughput".into(),
                message: format!("cost LP stopped with {:?}", sol.status),
            });
        }
        let x = (0..nm)
            .map(|m| (0..nt).map(|j| sol.x[m * nt + j]).collect())
            .collect();
        let mut a = self.allocation(x, sol.objective, sol.pivots);
        a.dropped_slos = dropped;
        Ok(a)
    }

    /// The best static placement with one whole device per job and no time
    /// sharing (the baseline Gavel improves on): the smallest makespan over
    /// all injective job → device assignments. Exhaustive; for small clusters.
    pub fn best_static_makespan(&self, workers: &[u32], steps: &[f64]) -> Option<f64> {
        let devices: Vec<usize> = workers
            .iter()
            .enumerate()
            .flat_map(|(j, &n)| std::iter::repeat_n(j, n as usize))
            .collect();
        let nm = self.jobs.len();
        if nm > devices.len() || devices.len() > 12 {
            return None;
        }
        let mut used = vec![false; devices.len()];
        let mut best = f64::INFINITY;
        fn rec(
            s: &ThroughputMatrix,
            m: usize,
            devices: &[usize],
            used: &mut [bool],
            steps: &[f64],
            cur: f64,
            best: &mut f64,
        ) {
            if m == s.jobs.len() {
                *best = best.min(cur);
                return;
            }
            for d in 0..devices.len() {
                if !used[d] {
                    let t = s.throughput[m][devices[d]];
                    if t > 0.0 {
                        used[d] = true;
                        rec(s, m + 1, devices, used, steps, cur.max(steps[m] / t), best);
                        used[d] = false;
                    }
                }
            }
        }
        rec(self, 0, &devices, &mut used, steps, 0.0, &mut best);
        best.is_finite().then_some(best)
    }
}

/// Parses `"('ResNet-50 (batch size 64)', 1)"` into the model name and scale factor.
fn parse_gavel_key(key: &str) -> Option<(String, u32)> {
    let inner = key.trim().strip_prefix('(')?.strip_suffix(')')?;
    let comma = inner.rfind(',')?;
    let name = inner[..comma].trim();
    let name = name
        .strip_prefix('\'')
        .and_then(|n| n.strip_suffix('\''))
        .unwrap_or(name);
    let sf = inner[comma + 1..].trim().parse().ok()?;
    Some((name.to_string(), sf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys() {
        assert_eq!(
            parse_gavel_key("('ResNet-50 (batch size 64)', 1)"),
            Some(("ResNet-50 (batch size 64)".into(), 1))
        );
        assert_eq!(parse_gavel_key("('A3C', 8)"), Some(("A3C".into(), 8)));
        assert_eq!(parse_gavel_key("nonsense"), None);
    }

    #[test]
    fn recommendation_is_not_ranked_by_generation() {
        // Recommendation bs512 (rounded): slower on V100 than on P100.
        let t = ThroughputMatrix::new(
            vec!["rec".into()],
            vec!["v100".into(), "p100".into(), "k80".into()],
            vec![vec![23.3, 48.9, 32.9]],
        )
        .unwrap();
        let a = t.max_min_fairness(&[1, 1, 1], None).unwrap();
        assert!((a.share("rec", "p100") - 1.0).abs() < 1e-9);
        let prices = [2_850_000, 1_680_000, 520_000].map(PricePerHour::from_micros);
        assert_eq!(t.best_per_dollar(&prices).unwrap()["rec"].0, "k80");
    }

    #[test]
    fn bad_input_is_typed() {
        assert!(matches!(
            ThroughputMatrix::new(vec!["a".into()], vec![], vec![vec![]]),
            Err(PlanError::EmptyCatalog)
        ));
        assert!(matches!(
            ThroughputMatrix::new(vec!["a".into()], vec!["x".into()], vec![vec![-1.0]]),
            Err(PlanError::InvalidThroughput { .. })
        ));
    }

    #[test]
    fn cost_policy_meets_slos_or_drops_them() {
        let t = ThroughputMatrix::new(
            vec!["a".into(), "b".into()],
            vec!["fast".into(), "cheap".into()],
            vec![vec![10.0, 2.0], vec![8.0, 4.0]],
        )
        .unwrap();
        let prices = [4_000_000, 1_000_000].map(PricePerHour::from_micros);
        let ok = t
            .cost_under_slo(&[1, 1], &prices, &[3600.0, 3600.0], &[3600.0, 3600.0])
            .unwrap();
        assert!(ok.dropped_slos.is_empty());
        for v in ok.throughput.values() {
            assert!(*v >= 1.0 - 1e-9);
        }
        let bad = t
            .cost_under_slo(&[1, 1], &prices, &[1e6, 10.0], &[10.0, 10.0])
            .unwrap();
        assert_eq!(bad.dropped_slos, vec!["a".to_string()]);
    }
}
