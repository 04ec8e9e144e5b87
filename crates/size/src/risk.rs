//! Risk profiles: sizes from a percentile + margin + history length, and for
//! each candidate size how often past usage would have exceeded it.
//!
//! Default profiles (each a [`RiskProfile`]):
//!
//! | profile | CPU percentile | memory percentile | margin | history |
//! |---|---|---|---|---|
//! | `cost` | p90 | p99 | +5 % | 7 d |
//! | `balanced` | p95 | max | +15 % | 14 d |
//! | `performance` | p99 | max | +30 % | 28 d |
//!
//! Percentiles are over all pods' samples pooled (linear interpolation).
//! Exceedance for every candidate is measured over the longest profile
//! history so candidates are comparable: the fraction of samples above the
//! size (CPU → throttling risk, memory → OOM risk) and the fraction of pod-days
//! (24 h windows per pod) whose peak exceeded it. The target is the selected
//! profile's size; the bounds are the smallest and largest candidate.
//!
//! ```
//! use rightsizer_size::risk::RiskRecommender;
//! use rightsizer_size::recommend::{Recommender, RecommendContext};
//! use rightsizer_size::input::read_csv;
//! let mut csv = String::from("timestamp,namespace,pod,container,resource,value\n");
//! for m in 0..1000 {
//!     let t = 1_700_000_000 + 60 * m;
//!     csv += &format!("{t},ns,web-0,app,cpu,{}\n", f64::from(m as u32 % 100) / 100.0);
//! }
//! let usage = read_csv("u.csv", &csv)?;
//! let (_, w) = usage.workloads().next().unwrap();
//! let r = RiskRecommender::default().recommend_workload(w, &RecommendContext::at(usage.last_time().unwrap()));
//! let risk = r.containers["app"].risk.as_ref().unwrap();
//! let cost = &risk.cpu[0];
//! assert_eq!(cost.profile, "cost");
//! assert!(cost.exceedance > 0.0 && cost.exceedance <= 0.1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::gpu::GpuSizer;
use crate::recommend::{
    gpu_for, window, ContainerRecommendation, Estimate, RecommendContext, Recommender,
    RiskCandidate, RiskReport, Windowed, WorkloadRecommendation,
};
use crate::stats::{exceedance, quantile_linear};
use crate::time::NANOS_PER_DAY;
use crate::usage::WorkloadUsage;
use rightsizer_model::units::{Bytes, MilliCpu};
use serde::{Deserialize, Serialize};

/// One risk profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskProfile {
    /// Name (`cost`, `balanced`, `performance`, ...).
    pub name: String,
    /// CPU percentile in `[0, 1]`.
    pub cpu_percentile: f64,
    /// Memory percentile in `[0, 1]` (1 = the peak).
    pub memory_percentile: f64,
    /// Margin added to both.
    pub margin_fraction: f64,
    /// History length in days.
    pub history_days: u32,
}

/// The risk strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskRecommender {
    /// Profiles, in the order reported.
    pub profiles: Vec<RiskProfile>,
    /// The profile whose size becomes the target.
    pub selected: String,
}

impl Default for RiskRecommender {
    fn default() -> Self {
        let p = |name: &str, cpu, mem, margin, days| RiskProfile {
            name: name.into(),
            cpu_percentile: cpu,
            memory_percentile: mem,
            margin_fraction: margin,
            history_days: days,
        };
        Self {
            profiles: vec![
                p("cost", 0.90, 0.99, 0.05, 7),
                p("balanced", 0.95, 1.0, 0.15, 14),
                p("performance", 0.99, 1.0, 0.30, 28),
            ],
            selected: "balanced".into(),
        }
    }
}

/// Fraction of (pod, 24 h window) pairs whose peak is above `limit`.
fn days_exceeded(series: &[(&[i64], &[f64])], limit: f64, now_ns: i64) -> f64 {
    let mut windows = 0usize;
    let mut over = 0usize;
    for (t, v) in series {
        let mut current: Option<(i64, f64)> = None;
        for (ti, vi) in t.iter().zip(v.iter()) {
            let day = (now_ns - ti).div_euclid(NANOS_PER_DAY);
            match current {
                Some((d, m)) if d == day => current = Some((d, m.max(*vi))),
                Some((_, m)) => {
                    windows += 1;
                    over += usize::from(m > limit);
                    current = Some((day, *vi));
                }
                None => current = Some((day, *vi)),
            }
        }
        if let Some((_, m)) = current {
            windows += 1;
            over += usize::from(m > limit);
        }
    }
    if windows == 0 {
        0.0
    } else {
        over as f64 / windows as f64
    }
}

fn pooled(w: &Windowed<'_>, cpu: bool) -> Vec<f64> {
    let mut v: Vec<f64> = w
        .pods
        .iter()
        .flat_map(|(_, s)| if cpu { s.cpu.1 } else { s.memory.1 }.iter().copied())
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

impl Recommender for RiskRecommender {
    fn name(&self) -> &str {
        "risk"
    }

    fn recommend_workload(
        &self,
        usage: &WorkloadUsage,
        ctx: &RecommendContext,
    ) -> WorkloadRecommendation {
        let now = ctx.now.unix_nanos();
        let longest = self
            .profiles
            .iter()
            .map(|p| i64::from(p.history_days) * NANOS_PER_DAY)
            .max()
            .unwrap_or(NANOS_PER_DAY);
        let selected = self
            .profiles
            .iter()
            .find(|p| p.name == self.selected)
            .or(self.profiles.first());
        let mut out = WorkloadRecommendation::default();
        for (name, pods) in &usage.containers {
            let full = window(pods, now, longest);
            let all_cpu = pooled(&full, true);
            let all_mem = pooled(&full, false);
            let cpu_series: Vec<(&[i64], &[f64])> = full.pods.iter().map(|(_, s)| s.cpu).collect();
            let mem_series: Vec<(&[i64], &[f64])> =
                full.pods.iter().map(|(_, s)| s.memory).collect();
            let mut report = RiskReport::default();
            for p in &self.profiles {
                let w = window(pods, now, i64::from(p.history_days) * NANOS_PER_DAY);
                let m = 1.0 + p.margin_fraction.max(0.0);
                let cpu = pooled(&w, true);
                if !cpu.is_empty() {
                    let size = quantile_linear(&cpu, p.cpu_percentile) * m;
                    let milli = MilliCpu::new((size * 1000.0).ceil().clamp(1.0, 1e15) as u64);
                    let lim = milli.as_cores();
                    report.cpu.push(RiskCandidate {
                        profile: p.name.clone(),
                        size: milli,
                        exceedance: exceedance(&all_cpu, lim),
                        days_exceeded: days_exceeded(&cpu_series, lim, now),
                    });
                }
                let mem = pooled(&w, false);
                if !mem.is_empty() {
                    let size = (quantile_linear(&mem, p.memory_percentile) * m).ceil();
                    let bytes = Bytes::new(size.clamp(1.0, 1e18) as u64);
                    let lim = bytes.get() as f64;
                    report.memory.push(RiskCandidate {
                        profile: p.name.clone(),
                        size: bytes,
                        exceedance: exceedance(&all_mem, lim),
                        days_exceeded: days_exceeded(&mem_series, lim, now),
                    });
                }
            }
            let pick = |sizes: Vec<(&str, u64)>| -> Option<(u64, u64, u64)> {
                let lo = sizes.iter().map(|s| s.1).min()?;
                let hi = sizes.iter().map(|s| s.1).max()?;
                let t = selected
                    .and_then(|sel| sizes.iter().find(|s| s.0 == sel.name))
                    .map_or(hi, |s| s.1);
                Some((t, lo, hi))
            };
            let mut rec = ContainerRecommendation::default();
            if let Some((t, lo, hi)) = pick(
                report
                    .cpu
                    .iter()
                    .map(|c| (c.profile.as_str(), c.size.get()))
                    .collect(),
            ) {
                rec.cpu = Some(Estimate::new(
                    MilliCpu::new(t),
                    MilliCpu::new(lo),
                    MilliCpu::new(hi),
                    None,
                ));
            }
            if let Some((t, lo, hi)) = pick(
                report
                    .memory
                    .iter()
                    .map(|c| (c.profile.as_str(), c.size.get()))
                    .collect(),
            ) {
                rec.memory = Some(Estimate::new(
                    Bytes::new(t),
                    Bytes::new(lo),
                    Bytes::new(hi),
                    None,
                ));
            }
            let [no_cpu, no_memory] = crate::recommend::no_data(pods, &full);
            rec.notes.extend(
                no_cpu
                    .filter(|_| rec.cpu.is_none())
                    .into_iter()
                    .chain(no_memory.filter(|_| rec.memory.is_none())),
            );
            let gpu_margin = selected.map_or(0.15, |p| p.margin_fraction);
            let gpu_pct = selected.map_or(0.95, |p| p.cpu_percentile);
            rec.gpu = gpu_for(
                &full,
                &GpuSizer {
                    utilisation_percentile: gpu_pct,
                    margin_fraction: gpu_margin,
                },
                ctx,
            );
            rec.risk = Some(report);
            out.containers.insert(name.clone(), rec);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;
    use crate::usage::{Resource, SampleOrigin, UsageBuilder};

    #[test]
    fn exceedance_per_profile() {
        let mut b = UsageBuilder::new();
        let o = SampleOrigin::default();
        let t0 = 1_700_000_000i64;
        // 3 days of hourly samples: memory 1 GiB with a 2 GiB spike on day 2.
        for h in 0..72 {
            let t = Timestamp::from_unix_secs(t0 + 3600 * h).unwrap();
            let mem = if h == 30 { 2.0 } else { 1.0 } * (1u64 << 30) as f64;
            b.push("ns", Some("w"), "p", "c", Resource::Memory, t, mem, &o)
                .unwrap();
            let cpu = f64::from((h % 10) as u32) / 10.0;
            b.push("ns", Some("w"), "p", "c", Resource::Cpu, t, cpu, &o)
                .unwrap();
        }
        let u = b.finish();
        let (_, w) = u.workloads().next().unwrap();
        let r = RiskRecommender::default()
            .recommend_workload(w, &RecommendContext::at(u.last_time().unwrap()));
        let c = &r.containers["c"];
        let risk = c.risk.as_ref().unwrap();
        let names: Vec<_> = risk.memory.iter().map(|m| m.profile.as_str()).collect();
        assert_eq!(names, ["cost", "balanced", "performance"]);
        // Balanced = peak × 1.15: never exceeded.
        assert_eq!(risk.memory[1].exceedance, 0.0);
        assert_eq!(
            risk.memory[1].size.get(),
            (2.0 * 1.15 * (1u64 << 30) as f64).ceil() as u64
        );
        // Cost = p99 of 72 samples (rank 70.29 → between 1 GiB and 2 GiB) × 1.05,
        // below the 2 GiB spike: exceeded by 1 of 72 samples, in 1 of 3 days.
        assert!(risk.memory[0].size.get() < 2 << 30);
        approx::assert_relative_eq!(risk.memory[0].exceedance, 1.0 / 72.0);
        approx::assert_relative_eq!(risk.memory[0].days_exceeded, 1.0 / 3.0);
        // Target = balanced; bounds span all profiles.
        let m = c.memory.unwrap();
        assert_eq!(m.target, risk.memory[1].size);
        assert_eq!(m.lower_bound, risk.memory[0].size);
        assert_eq!(m.upper_bound, risk.memory[2].size);
        // CPU candidates grow with the profile.
        assert!(risk.cpu[0].size <= risk.cpu[1].size && risk.cpu[1].size <= risk.cpu[2].size);
        assert!(risk.cpu[0].exceedance >= risk.cpu[2].exceedance);
    }
}
