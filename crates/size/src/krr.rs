//! Robusta krr's `simple` and `simple_limit` strategies.
//!
//! Sources: `robusta-dev/krr` `robusta_krr/strategies/simple.py`,
//! `simple_limit.py`, `core/runner.py`.
//!
//! - **simple**: CPU request = the largest per-pod
//!   `quantile_over_time(0.95)` of the CPU rate (linear interpolation), no CPU
//!   limit; memory request = memory limit = the largest working set × 1.15.
//! - **simple_limit**: CPU request = p66 and CPU limit = p96 of all pods'
//!   samples pooled (numpy `percentile`); memory as in `simple`.
//! - A resource needs ≥ 100 points (summed over pods) and a history spanning
//!   ≥ 3 h, else it is left undefined with a note. History: 14 days.
//! - Rounding (`runner.py`): CPU up to 1 m, memory up to 1 MiB; floors 10 m
//!   and 100 MiB.
//!
//! krr gives one size per resource, so `lower_bound = target` and
//! `upper_bound = limit` (or the target when there is no limit).
//!
//! ```
//! use rightsizer_size::krr::KrrRecommender;
//! use rightsizer_size::recommend::{Recommender, RecommendContext};
//! use rightsizer_size::input::read_csv;
//! let mut csv = String::from("timestamp,namespace,pod,container,resource,value\n");
//! for m in 0..200 {
//!     let t = 1_700_000_000 + 60 * m;
//!     csv += &format!("{t},ns,web-0,app,cpu,{}\n", f64::from(m as u32 % 10) / 10.0);
//!     csv += &format!("{t},ns,web-0,app,memory,1e9\n");
//! }
//! let usage = read_csv("u.csv", &csv)?;
//! let (_, w) = usage.workloads().next().unwrap();
//! let r = KrrRecommender::simple().recommend_workload(w, &RecommendContext::at(usage.last_time().unwrap()));
//! let c = &r.containers["app"];
//! assert_eq!(c.cpu.unwrap().target.get(), 900); // p95 of 0.0..0.9 = 0.9 cores
//! assert_eq!(c.memory.unwrap().target.get(), 1097 << 20); // 1e9 × 1.15 → 1097 MiB
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::gpu::GpuSizer;
use crate::recommend::{
    gpu_for, window, ContainerRecommendation, Estimate, Note, RecommendContext, Recommender,
    WorkloadRecommendation,
};
use crate::stats::quantile_linear;
use crate::time::{NANOS_PER_DAY, NANOS_PER_HOUR, NANOS_PER_SEC};
use crate::usage::WorkloadUsage;
use rightsizer_model::units::{Bytes, MilliCpu};

/// How the CPU request (and limit) are derived.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum KrrCpuRule {
    /// `simple`: max over pods of each pod's quantile; no limit.
    MaxOfPodQuantiles {
        /// Quantile in `[0, 1]` (0.95).
        quantile: f64,
    },
    /// `simple_limit`: quantiles of all samples pooled.
    PooledQuantiles {
        /// Request quantile (0.66).
        request: f64,
        /// Limit quantile (0.96).
        limit: f64,
    },
}

/// krr settings.
#[derive(Clone, Debug, PartialEq)]
pub struct KrrConfig {
    /// Strategy name reported.
    pub name: &'static str,
    /// CPU rule.
    pub cpu: KrrCpuRule,
    /// Memory buffer (0.15).
    pub memory_buffer_fraction: f64,
    /// Points required per resource (100).
    pub points_required: usize,
    /// History length (14 days).
    pub history_ns: i64,
    /// Minimum history span (3 h).
    pub min_history_span_ns: i64,
    /// CPU floor (10 m).
    pub cpu_min: MilliCpu,
    /// Memory floor (100 MiB).
    pub memory_min: Bytes,
    /// Memory rounding unit (1 MiB).
    pub memory_round: Bytes,
}

impl KrrConfig {
    /// `simple` defaults.
    pub fn simple() -> Self {
        Self {
            name: "krr-simple",
            cpu: KrrCpuRule::MaxOfPodQuantiles { quantile: 0.95 },
            memory_buffer_fraction: 0.15,
            points_required: 100,
            history_ns: 14 * NANOS_PER_DAY,
            min_history_span_ns: 3 * NANOS_PER_HOUR,
            cpu_min: MilliCpu::new(10),
            memory_min: Bytes::from_mib(100),
            memory_round: Bytes::from_mib(1),
        }
    }

    /// `simple_limit` defaults.
    pub fn simple_limit() -> Self {
        Self {
            name: "krr-simple-limit",
            cpu: KrrCpuRule::PooledQuantiles {
                request: 0.66,
                limit: 0.96,
            },
            ..Self::simple()
        }
    }
}

/// The krr strategies.
#[derive(Clone, Debug)]
pub struct KrrRecommender {
    config: KrrConfig,
    gpu: GpuSizer,
}

impl KrrRecommender {
    /// With explicit settings.
    pub fn new(config: KrrConfig) -> Self {
        Self {
            config,
            gpu: GpuSizer {
                utilisation_percentile: 0.95,
                margin_fraction: 0.15,
            },
        }
    }

    /// `simple`.
    pub fn simple() -> Self {
        Self::new(KrrConfig::simple())
    }

    /// `simple_limit`.
    pub fn simple_limit() -> Self {
        Self::new(KrrConfig::simple_limit())
    }

    fn round_cpu(&self, cores: f64) -> MilliCpu {
        let m = (cores * 1000.0).ceil();
        MilliCpu::new((m.clamp(0.0, 1e15) as u64).max(self.config.cpu_min.get()))
    }

    fn round_memory(&self, bytes: f64) -> Bytes {
        let unit = self.config.memory_round.get().max(1) as f64;
        let b = (bytes / unit).ceil() * unit;
        Bytes::new((b.clamp(0.0, 1e18) as u64).max(self.config.memory_min.get()))
    }
}

/// Time from the earliest to the latest point over several series.
fn span_of<'a>(series: impl Iterator<Item = &'a [i64]> + Clone) -> i64 {
    let first = series.clone().filter_map(|s| s.first()).min();
    let last = series.filter_map(|s| s.last()).max();
    match (first, last) {
        (Some(a), Some(b)) => b - a,
        _ => 0,
    }
}

impl Recommender for KrrRecommender {
    fn name(&self) -> &str {
        self.config.name
    }

    fn recommend_workload(
        &self,
        usage: &WorkloadUsage,
        ctx: &RecommendContext,
    ) -> WorkloadRecommendation {
        let cfg = &self.config;
        let mut out = WorkloadRecommendation::default();
        for (name, pods) in &usage.containers {
            let w = window(pods, ctx.now.unix_nanos(), cfg.history_ns);
            let mut rec = ContainerRecommendation::default();
            // CPU.
            let cpu_points: usize = w.pods.iter().map(|(_, s)| s.cpu.1.len()).sum();
            let cpu_span = span_of(w.pods.iter().map(|(_, s)| s.cpu.0));
            if cpu_points < cfg.points_required {
                rec.notes.push(Note::NotEnoughData {
                    resource: "cpu",
                    points: cpu_points,
                    required: cfg.points_required,
                });
            } else if cpu_span < cfg.min_history_span_ns {
                rec.notes.push(Note::HistoryTooShort {
                    span_secs: cpu_span / NANOS_PER_SEC,
                    required_secs: cfg.min_history_span_ns / NANOS_PER_SEC,
                });
            } else {
                match cfg.cpu {
                    KrrCpuRule::MaxOfPodQuantiles { quantile } => {
                        let q = w
                            .pods
                            .iter()
                            .filter(|(_, s)| !s.cpu.1.is_empty())
                            .map(|(_, s)| {
                                let mut v = s.cpu.1.to_vec();
                                v.sort_by(f64::total_cmp);
                                quantile_linear(&v, quantile)
                            })
                            .fold(f64::NEG_INFINITY, f64::max);
                        let t = self.round_cpu(q);
                        rec.cpu = Some(Estimate::new(t, t, t, None));
                    }
                    KrrCpuRule::PooledQuantiles { request, limit } => {
                        let mut v: Vec<f64> = w
                            .pods
                            .iter()
                            .flat_map(|(_, s)| s.cpu.1.iter().copied())
                            .collect();
                        v.sort_by(f64::total_cmp);
                        let r = self.round_cpu(quantile_linear(&v, request));
                        let l = self.round_cpu(quantile_linear(&v, limit));
                        rec.cpu = Some(Estimate::new(r, r, l, Some(l)));
                    }
                }
            }
            // Memory.
            let mem_points: usize = w.pods.iter().map(|(_, s)| s.memory.1.len()).sum();
            let mem_span = span_of(w.pods.iter().map(|(_, s)| s.memory.0));
            if mem_points < cfg.points_required {
                rec.notes.push(Note::NotEnoughData {
                    resource: "memory",
                    points: mem_points,
                    required: cfg.points_required,
                });
            } else if mem_span < cfg.min_history_span_ns {
                rec.notes.push(Note::HistoryTooShort {
                    span_secs: mem_span / NANOS_PER_SEC,
                    required_secs: cfg.min_history_span_ns / NANOS_PER_SEC,
                });
            } else {
                let peak = w
                    .pods
                    .iter()
                    .flat_map(|(_, s)| s.memory.1.iter().copied())
                    .fold(0.0, f64::max);
                let m = self.round_memory(peak * (1.0 + cfg.memory_buffer_fraction));
                rec.memory = Some(Estimate::new(m, m, m, Some(m)));
            }
            rec.gpu = gpu_for(&w, &self.gpu, ctx);
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

    fn usage(pods: &[(&str, Vec<f64>)], mem: f64) -> crate::usage::UsageSet {
        let mut b = UsageBuilder::new();
        let o = SampleOrigin::default();
        for (pod, cpu) in pods {
            for (i, v) in cpu.iter().enumerate() {
                let t = Timestamp::from_unix_secs(1_700_000_000 + 120 * i as i64).unwrap();
                b.push("ns", Some("w"), pod, "c", Resource::Cpu, t, *v, &o)
                    .unwrap();
                b.push("ns", Some("w"), pod, "c", Resource::Memory, t, mem, &o)
                    .unwrap();
            }
        }
        b.finish()
    }

    #[test]
    fn simple_takes_max_of_per_pod_quantiles() {
        // Pod a: 0..=99 m; pod b: constant 50 m. p95(a) = 94.05 m → 95 m.
        let a: Vec<f64> = (0..100).map(|i| f64::from(i) / 1000.0).collect();
        let b = vec![0.05; 100];
        let u = usage(&[("a", a.clone()), ("b", b)], 5e8);
        let (_, w) = u.workloads().next().unwrap();
        let ctx = RecommendContext::at(u.last_time().unwrap());
        let r = KrrRecommender::simple().recommend_workload(w, &ctx);
        let c = &r.containers["c"];
        assert_eq!(c.cpu.unwrap().target, MilliCpu::new(95));
        assert_eq!(c.cpu.unwrap().limit, None);
        // 5e8 × 1.15 = 575000000 B = 548.36 MiB → 549 MiB.
        assert_eq!(c.memory.unwrap().target, Bytes::from_mib(549));
        assert_eq!(c.memory.unwrap().limit, Some(Bytes::from_mib(549)));
        // simple_limit pools: p66 and p96 over 200 samples.
        let r = KrrRecommender::simple_limit().recommend_workload(w, &ctx);
        let cpu = r.containers["c"].cpu.unwrap();
        let mut all = a;
        all.extend(std::iter::repeat_n(0.05, 100));
        all.sort_by(f64::total_cmp);
        assert_eq!(
            cpu.target.get(),
            (quantile_linear(&all, 0.66) * 1000.0).ceil() as u64
        );
        assert_eq!(
            cpu.limit.unwrap().get(),
            (quantile_linear(&all, 0.96) * 1000.0).ceil() as u64
        );
    }

    #[test]
    fn floors_and_not_enough_data() {
        let u = usage(&[("a", vec![0.001; 100])], 1.0);
        let (_, w) = u.workloads().next().unwrap();
        let ctx = RecommendContext::at(u.last_time().unwrap());
        let r = KrrRecommender::simple().recommend_workload(w, &ctx);
        assert_eq!(r.containers["c"].cpu.unwrap().target, MilliCpu::new(10));
        assert_eq!(
            r.containers["c"].memory.unwrap().target,
            Bytes::from_mib(100)
        );
        let u = usage(&[("a", vec![0.5; 99])], 1.0);
        let (_, w) = u.workloads().next().unwrap();
        let r = KrrRecommender::simple().recommend_workload(w, &ctx);
        assert!(r.containers["c"].cpu.is_none());
        assert!(matches!(
            r.containers["c"].notes[0],
            Note::NotEnoughData { points: 99, .. }
        ));
    }
}
