//! The VPA recommender, step for step.
//!
//! Sources: `kubernetes/autoscaler` `vertical-pod-autoscaler/pkg/recommender`
//! (`util/histogram*.go`, `util/decaying_histogram.go`,
//! `model/aggregate_container_state.go`, `model/container.go`,
//! `model/types.go`, `logic/estimator.go`, `logic/recommender.go`).
//!
//! What is reproduced (checked against those files at kubernetes/autoscaler
//! commit 55c37cd5, and against a Go build of them on hand-made workloads,
//! see `tests/vpa_real_workloads.rs`):
//!
//! - **Aggregation** ([`Vpa::aggregate_instances`]): every instance (pod) of
//!   a container name of a workload feeds one [`AggregateState`]: a decaying
//!   CPU histogram (every sample, weight `0.1 × 2^(age/24h)`), a decaying
//!   histogram of memory **peaks** (weight 1), the CPU sample count and the
//!   first/last CPU sample times (`TotalSamplesCount`, `FirstSampleStart`,
//!   `LastSampleStart`: CPU only). Events of all instances are fed in time
//!   order (CPU, memory, OOM, then instance, at equal times), the whole
//!   recorded history up to `now`, as a recommender running all along sees
//!   it: nothing is cut at 8 days, old samples only decay.
//! - **Garbage collection** (`isExpired`): when the last CPU sample is at
//!   least 8 days (interval × count) older than the next event, or than
//!   `now`, the aggregate is dropped and starts again empty (an aggregate
//!   with no CPU sample expires 8 days after its first event, VPA's
//!   `CreationTime`). VPA runs this check hourly; here it runs at every event.
//! - **Memory windows** ([`ContainerState`], `addMemorySample`): each
//!   instance keeps one peak per 24 h window anchored at its own first
//!   memory sample, rolling forward by whole intervals (`WindowEnd +=
//!   (ts − WindowEnd).Truncate(24h) + 24h`); a larger sample inside the window
//!   subtracts the old peak and adds the new one, both stamped with the
//!   window end. A window whose first sample is 0 keeps its 0 (VPA's
//!   `oldMaxMem != 0` test).
//! - CPU samples that are not newer than the instance's last one are
//!   discarded; memory samples older than the last one are discarded.
//! - **OOM**: `needed = max(used + 100 MiB, used × 1.2)` with
//!   `used = max(memory request, current window usage peak)`, added as a
//!   memory sample; an OOM more than one interval before the instance's
//!   latest memory sample is dropped (kubernetes/autoscaler#8548).
//! - **Integers**: sample values are `ResourceAmount`s (CPU in millicores,
//!   memory in bytes, truncated, capped at 1e14) and every scaling step
//!   truncates again.
//! - **Floats**: bucket starts use Go's `math.Pow` (successive squarings,
//!   which differs from a correctly rounded `powf` by up to ~30 ulps at
//!   1.05^175) and decay weights Go's `math.Exp2`, both reimplemented
//!   bit-for-bit ([`crate::histogram`]); `FindBucket` agrees with Go for every
//!   millicore value up to 1000 cores. Histogram subtraction is VPA's
//!   `safeSubtract` on the bucket and the total; the reference timestamp
//!   starts at Go's zero time, is rounded to the half-life and is moved
//!   (weights × 2^−k) when a sample is more than 100 half-lives past it.
//! - **Estimation** per resource: `percentile → + margin → × confidence
//!   factor (bounds only) → max(·, per-container minimum)`; target p90,
//!   lower p50, upper p95, margin 15 %, upper factor `(1 + 1/c)^1`, lower
//!   `(1 + 0.001/c)^−2` (Go's `Pow`), `c = min((last − first) / 24 h, CPU
//!   samples / 1440)`; pod minimum 25 m / 250 MiB, scaled by
//!   `1/containers` and truncated. Percentiles return bucket ends; a bucket
//!   under epsilon (1e-4) is empty for the min/max bucket scan.
//!
//! Not reproduced: checkpoints, VPA objects' per-container policies,
//! aggregation by pod labels (a workload is one aggregation key), and the
//! CPU-request weighting of old VPA versions (today's code weights every CPU
//! sample by `minSampleWeight`).
//!
//! ```
//! use rightsizer_size::vpa::{Vpa, VpaConfig, ContainerState};
//! let vpa = Vpa::new(VpaConfig::default())?;
//! let mut agg = vpa.new_aggregate();
//! let mut c = ContainerState::default();
//! let t0 = 1_795_737_600_000_000_000i64; // 2026-11-27T00:00:00Z
//! for minute in 0..(7 * 1440) {
//!     let t = t0 + minute * 60_000_000_000;
//!     vpa.add_cpu_sample(&mut agg, &mut c, t, 0.5);
//!     vpa.add_memory_sample(&mut agg, &mut c, t, 1.0e9);
//! }
//! let e = vpa.estimate(&agg, 1);
//! // 0.5 cores is in bucket 25 = [0.47727, 0.51135) cores; p90 is its end,
//! // truncated to 511 m; + trunc(511 × 0.15) = 76 m → 587 m.
//! assert_eq!(e.target_cpu.get(), 587);
//! assert!(e.lower_cpu <= e.target_cpu && e.target_cpu <= e.upper_cpu);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::histogram::{
    go_pow, DecayingHistogram, ExponentialBuckets, HistogramError, MIN_SAMPLE_WEIGHT,
};
use crate::time::{NANOS_PER_DAY, NANOS_PER_MINUTE};
use rightsizer_model::units::{Bytes, MilliCpu};
use serde::{Deserialize, Serialize};

/// VPA's `MaxResourceAmount` (1e14).
pub const MAX_RESOURCE_AMOUNT: i64 = 100_000_000_000_000;

/// Recommender parameters, defaulting to VPA's flag defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VpaConfig {
    /// `--target-cpu-percentile` (0.9).
    pub target_cpu_percentile: f64,
    /// `--recommendation-lower-bound-cpu-percentile` (0.5).
    pub lower_bound_cpu_percentile: f64,
    /// `--recommendation-upper-bound-cpu-percentile` (0.95).
    pub upper_bound_cpu_percentile: f64,
    /// `--target-memory-percentile` (0.9).
    pub target_memory_percentile: f64,
    /// `--recommendation-lower-bound-memory-percentile` (0.5).
    pub lower_bound_memory_percentile: f64,
    /// `--recommendation-upper-bound-memory-percentile` (0.95).
    pub upper_bound_memory_percentile: f64,
    /// `--recommendation-margin-fraction` (0.15).
    pub margin_fraction: f64,
    /// `--pod-recommendation-min-cpu-millicores` (25).
    pub pod_min_cpu_millicores: f64,
    /// `--pod-recommendation-min-memory-mb` (250, times 1024²).
    pub pod_min_memory_mb: f64,
    /// `--cpu-histogram-decay-half-life` in ns (24 h).
    pub cpu_half_life_ns: i64,
    /// `--memory-histogram-decay-half-life` in ns (24 h).
    pub memory_half_life_ns: i64,
    /// `MemoryAggregationInterval` in ns (24 h).
    pub memory_aggregation_interval_ns: i64,
    /// `MemoryAggregationIntervalCount` (8).
    pub memory_aggregation_interval_count: i64,
    /// `--oom-bump-up-ratio` (1.2).
    pub oom_bump_up_ratio: f64,
    /// `--oom-min-bump-up-bytes` (100 MiB).
    pub oom_min_bump_up_bytes: f64,
    /// The unit in which confidence is measured (24 h: one day of
    /// 1-minute samples gives confidence 1).
    pub confidence_interval_ns: i64,
}

impl Default for VpaConfig {
    fn default() -> Self {
        Self {
            target_cpu_percentile: 0.9,
            lower_bound_cpu_percentile: 0.5,
            upper_bound_cpu_percentile: 0.95,
            target_memory_percentile: 0.9,
            lower_bound_memory_percentile: 0.5,
            upper_bound_memory_percentile: 0.95,
            margin_fraction: 0.15,
            pod_min_cpu_millicores: 25.0,
            pod_min_memory_mb: 250.0,
            cpu_half_life_ns: NANOS_PER_DAY,
            memory_half_life_ns: NANOS_PER_DAY,
            memory_aggregation_interval_ns: NANOS_PER_DAY,
            memory_aggregation_interval_count: 8,
            oom_bump_up_ratio: 1.2,
            oom_min_bump_up_bytes: 100.0 * 1024.0 * 1024.0,
            confidence_interval_ns: NANOS_PER_DAY,
        }
    }
}

/// Why a [`VpaConfig`] is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VpaConfigError {
    /// A parameter is out of range.
    #[error("VPA option {field} = {value} is invalid: {reason}")]
    Bad {
        /// Field name.
        field: &'static str,
        /// Value.
        value: f64,
        /// Rule.
        reason: &'static str,
    },
    /// Histogram layout problem.
    #[error(transparent)]
    Histogram(#[from] HistogramError),
}

impl VpaConfig {
    /// The history VPA keeps: interval × count (8 days).
    pub fn history_ns(&self) -> i64 {
        self.memory_aggregation_interval_ns
            .saturating_mul(self.memory_aggregation_interval_count)
    }

    fn validate(&self) -> Result<(), VpaConfigError> {
        let bad = |field, value: f64, reason| {
            Err(VpaConfigError::Bad {
                field,
                value,
                reason,
            })
        };
        for (field, p) in [
            ("target_cpu_percentile", self.target_cpu_percentile),
            (
                "lower_bound_cpu_percentile",
                self.lower_bound_cpu_percentile,
            ),
            (
                "upper_bound_cpu_percentile",
                self.upper_bound_cpu_percentile,
            ),
            ("target_memory_percentile", self.target_memory_percentile),
            (
                "lower_bound_memory_percentile",
                self.lower_bound_memory_percentile,
            ),
            (
                "upper_bound_memory_percentile",
                self.upper_bound_memory_percentile,
            ),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(field, p, "must be in [0, 1]");
            }
        }
        for (field, v) in [
            ("margin_fraction", self.margin_fraction),
            ("pod_min_cpu_millicores", self.pod_min_cpu_millicores),
            ("pod_min_memory_mb", self.pod_min_memory_mb),
            ("oom_min_bump_up_bytes", self.oom_min_bump_up_bytes),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(field, v, "must be finite and >= 0");
            }
        }
        if !(self.oom_bump_up_ratio >= 1.0 && self.oom_bump_up_ratio.is_finite()) {
            return bad(
                "oom_bump_up_ratio",
                self.oom_bump_up_ratio,
                "must be finite and >= 1",
            );
        }
        for (field, v) in [
            ("cpu_half_life_ns", self.cpu_half_life_ns),
            ("memory_half_life_ns", self.memory_half_life_ns),
            (
                "memory_aggregation_interval_ns",
                self.memory_aggregation_interval_ns,
            ),
            (
                "memory_aggregation_interval_count",
                self.memory_aggregation_interval_count,
            ),
            ("confidence_interval_ns", self.confidence_interval_ns),
        ] {
            if v <= 0 {
                return bad(field, v as f64, "must be > 0");
            }
        }
        Ok(())
    }
}

/// VPA's `resourceAmountFromFloat`: clamp to `[0, 1e14]`, truncate.
pub fn resource_amount_from_float(x: f64) -> i64 {
    if x < 0.0 {
        0
    } else if x > MAX_RESOURCE_AMOUNT as f64 {
        MAX_RESOURCE_AMOUNT
    } else {
        x as i64 // truncation; NaN → 0 (VPA then applies the minimum, same result)
    }
}

/// VPA's `ScaleResource`.
pub fn scale_resource(amount: i64, factor: f64) -> i64 {
    resource_amount_from_float(amount as f64 * factor)
}

/// Usage aggregated over all instances of one container of one workload
/// (VPA's `AggregateContainerState`). Its size does not depend on the number
/// of samples.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateState {
    /// Decaying histogram of CPU cores.
    pub cpu: DecayingHistogram,
    /// Decaying histogram of per-window memory peaks (bytes).
    pub memory_peaks: DecayingHistogram,
    /// First CPU sample time (ns).
    pub first_sample_ns: Option<i64>,
    /// Last CPU sample time (ns).
    pub last_sample_ns: Option<i64>,
    /// Number of CPU samples.
    pub total_samples: u64,
}

impl AggregateState {
    /// Heap bytes held by the two histograms.
    pub fn heap_bytes(&self) -> usize {
        self.cpu.histogram().heap_bytes() + self.memory_peaks.histogram().heap_bytes()
    }
}

/// Per container instance state (VPA's `ContainerState`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerState {
    last_cpu_ns: Option<i64>,
    last_memory_ns: Option<i64>,
    window_end_ns: Option<i64>,
    memory_peak: i64,
    oom_peak: i64,
}

impl ContainerState {
    /// End of the current memory window (exclusive), if any sample was seen.
    pub fn window_end_ns(&self) -> Option<i64> {
        self.window_end_ns
    }

    /// The current window's peak: max(usage peak, OOM-derived peak).
    pub fn max_memory_peak(&self) -> i64 {
        self.memory_peak.max(self.oom_peak)
    }
}

/// Why an OOM event was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OomRejected {
    /// More than one aggregation interval before the instance's latest
    /// memory sample (kubernetes/autoscaler#8548 moved the reference from
    /// the window end to that sample).
    #[error("OOM at {at_ns} ns is too old (latest memory sample at {last_sample_ns} ns)")]
    TooOld {
        /// Event time.
        at_ns: i64,
        /// Start of the latest memory sample of the instance.
        last_sample_ns: i64,
    },
}

/// One VPA recommendation for a container.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct VpaEstimate {
    /// Target CPU.
    pub target_cpu: MilliCpu,
    /// Lower-bound CPU.
    pub lower_cpu: MilliCpu,
    /// Upper-bound CPU.
    pub upper_cpu: MilliCpu,
    /// Target memory.
    pub target_memory: Bytes,
    /// Lower-bound memory.
    pub lower_memory: Bytes,
    /// Upper-bound memory.
    pub upper_memory: Bytes,
    /// The confidence `c` (≈ days of history).
    pub confidence: f64,
}

/// The VPA recommender: configuration plus the shared histogram layouts.
#[derive(Clone, Debug)]
pub struct Vpa {
    config: VpaConfig,
    cpu_layout: ExponentialBuckets,
    memory_layout: ExponentialBuckets,
}

impl Vpa {
    /// Validates the configuration and builds the layouts.
    pub fn new(config: VpaConfig) -> Result<Self, VpaConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            cpu_layout: ExponentialBuckets::vpa_cpu(),
            memory_layout: ExponentialBuckets::vpa_memory(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &VpaConfig {
        &self.config
    }

    /// The CPU bucket layout (cores).
    pub fn cpu_layout(&self) -> &ExponentialBuckets {
        &self.cpu_layout
    }

    /// The memory bucket layout (bytes).
    pub fn memory_layout(&self) -> &ExponentialBuckets {
        &self.memory_layout
    }

    /// An empty aggregate.
    pub fn new_aggregate(&self) -> AggregateState {
        AggregateState {
            cpu: DecayingHistogram::new(&self.cpu_layout, self.config.cpu_half_life_ns),
            memory_peaks: DecayingHistogram::new(
                &self.memory_layout,
                self.config.memory_half_life_ns,
            ),
            first_sample_ns: None,
            last_sample_ns: None,
            total_samples: 0,
        }
    }

    /// Adds a CPU sample (cores); returns `false` if discarded (negative,
    /// NaN, or not newer than the instance's last CPU sample).
    #[inline]
    pub fn add_cpu_sample(
        &self,
        agg: &mut AggregateState,
        c: &mut ContainerState,
        t_ns: i64,
        cores: f64,
    ) -> bool {
        if cores.is_nan() || cores < 0.0 || c.last_cpu_ns.is_some_and(|l| t_ns <= l) {
            return false;
        }
        let milli = resource_amount_from_float(cores * 1000.0) as u64;
        agg.cpu
            .add_milli_sample(&self.cpu_layout, milli, MIN_SAMPLE_WEIGHT, t_ns);
        if agg.last_sample_ns.is_none_or(|l| t_ns > l) {
            agg.last_sample_ns = Some(t_ns);
        }
        if agg.first_sample_ns.is_none_or(|f| t_ns < f) {
            agg.first_sample_ns = Some(t_ns);
        }
        agg.total_samples += 1;
        c.last_cpu_ns = Some(t_ns);
        true
    }

    /// Adds a memory working-set sample (bytes); returns `false` if discarded.
    #[inline]
    pub fn add_memory_sample(
        &self,
        agg: &mut AggregateState,
        c: &mut ContainerState,
        t_ns: i64,
        bytes: f64,
    ) -> bool {
        if bytes.is_nan() || bytes < 0.0 {
            return false;
        }
        self.add_memory_amount(agg, c, t_ns, resource_amount_from_float(bytes), false)
    }

    fn add_memory_amount(
        &self,
        agg: &mut AggregateState,
        c: &mut ContainerState,
        ts: i64,
        usage: i64,
        is_oom: bool,
    ) -> bool {
        if !is_oom && c.last_memory_ns.is_some_and(|l| ts < l) {
            return false;
        }
        c.last_memory_ns = Some(ts);
        let window_end = *c.window_end_ns.get_or_insert(ts);
        let mut add_new_peak = false;
        if ts < window_end {
            let old = c.max_memory_peak();
            if old != 0 && usage > old {
                agg.memory_peaks
                    .subtract_sample(&self.memory_layout, old as f64, 1.0, window_end);
                add_new_peak = true;
            }
        } else {
            let interval = self.config.memory_aggregation_interval_ns;
            let d = ts - window_end;
            let shift = d - d % interval + interval;
            c.window_end_ns = Some(window_end + shift);
            c.memory_peak = 0;
            c.oom_peak = 0;
            add_new_peak = true;
        }
        if add_new_peak {
            let we = c.window_end_ns.expect("set above");
            agg.memory_peaks
                .add_sample(&self.memory_layout, usage as f64, 1.0, we);
            if is_oom {
                c.oom_peak = usage;
            } else {
                c.memory_peak = usage;
            }
        }
        true
    }

    /// Records an OOM kill at `t_ns` of a container whose memory request was
    /// `request` (use 0 when unknown): adds the bumped-up memory sample.
    pub fn record_oom(
        &self,
        agg: &mut AggregateState,
        c: &mut ContainerState,
        t_ns: i64,
        request: Bytes,
    ) -> Result<i64, OomRejected> {
        if let Some(last) = c.last_memory_ns {
            if t_ns < last.saturating_sub(self.config.memory_aggregation_interval_ns) {
                return Err(OomRejected::TooOld {
                    at_ns: t_ns,
                    last_sample_ns: last,
                });
            }
        }
        let used = (request.get().min(MAX_RESOURCE_AMOUNT as u64) as i64).max(c.memory_peak);
        let needed = (used + resource_amount_from_float(self.config.oom_min_bump_up_bytes))
            .max(scale_resource(used, self.config.oom_bump_up_ratio));
        self.add_memory_amount(agg, c, t_ns, needed, true);
        Ok(needed)
    }

    /// VPA's confidence: `min(days from first to last CPU sample, CPU samples / 1440)`
    /// (with the day replaced by the configured confidence interval).
    pub fn confidence(&self, agg: &AggregateState) -> f64 {
        let (Some(f), Some(l)) = (agg.first_sample_ns, agg.last_sample_ns) else {
            return 0.0;
        };
        let interval = self.config.confidence_interval_ns as f64;
        let lifespan = (l - f) as f64 / interval;
        let samples = agg.total_samples as f64 / (interval / NANOS_PER_MINUTE as f64);
        lifespan.min(samples)
    }

    /// The per-container minimums `(millicores, bytes)` for a pod of
    /// `containers` containers.
    pub fn container_minimums(&self, containers: usize) -> (i64, i64) {
        let fraction = 1.0 / containers.max(1) as f64;
        (
            scale_resource(
                resource_amount_from_float(self.config.pod_min_cpu_millicores * 0.001 * 1000.0),
                fraction,
            ),
            scale_resource(
                resource_amount_from_float(self.config.pod_min_memory_mb * 1024.0 * 1024.0),
                fraction,
            ),
        )
    }

    /// Target, lower and upper bound for one container of a workload with
    /// `containers` containers.
    pub fn estimate(&self, agg: &AggregateState, containers: usize) -> VpaEstimate {
        let cfg = &self.config;
        let c = self.confidence(agg);
        let (min_cpu, min_mem) = self.container_minimums(containers);
        let cpu_p =
            |p| resource_amount_from_float(agg.cpu.percentile(&self.cpu_layout, p) * 1000.0);
        let mem_p =
            |p| resource_amount_from_float(agg.memory_peaks.percentile(&self.memory_layout, p));
        let margin = |a: i64| a + scale_resource(a, cfg.margin_fraction);
        let upper = |a: i64| scale_resource(a, go_pow(1.0 + 1.0 / c, 1.0));
        let lower = |a: i64| scale_resource(a, go_pow(1.0 + 0.001 / c, -2.0));
        let cpu = |a: i64| MilliCpu::new(a.max(min_cpu).max(0) as u64);
        let mem = |a: i64| Bytes::new(a.max(min_mem).max(0) as u64);
        VpaEstimate {
            target_cpu: cpu(margin(cpu_p(cfg.target_cpu_percentile))),
            lower_cpu: cpu(lower(margin(cpu_p(cfg.lower_bound_cpu_percentile)))),
            upper_cpu: cpu(upper(margin(cpu_p(cfg.upper_bound_cpu_percentile)))),
            target_memory: mem(margin(mem_p(cfg.target_memory_percentile))),
            lower_memory: mem(lower(margin(mem_p(cfg.lower_bound_memory_percentile)))),
            upper_memory: mem(upper(margin(mem_p(cfg.upper_bound_memory_percentile)))),
            confidence: c,
        }
    }
}

/// The recorded history of one container instance (one container of one
/// pod): samples ascending by time, as [`crate::usage::Series`] holds them.
#[derive(Clone, Copy, Debug, Default)]
pub struct InstanceHistory<'a> {
    /// CPU sample times (ns).
    pub cpu_t: &'a [i64],
    /// CPU samples (cores), one per time.
    pub cpu: &'a [f64],
    /// Memory sample times (ns).
    pub memory_t: &'a [i64],
    /// Memory working-set samples (bytes), one per time.
    pub memory: &'a [f64],
    /// OOM kill times (ns), ascending.
    pub ooms: &'a [i64],
}

/// The result of [`Vpa::aggregate_instances`].
#[derive(Clone, Debug, PartialEq)]
pub struct FedAggregate {
    /// The aggregate as VPA holds it at `now` (empty if it expired).
    pub aggregate: AggregateState,
    /// OOM events recorded as memory samples.
    pub ooms_used: usize,
    /// OOM events VPA discards as too old.
    pub ooms_discarded: usize,
    /// How many times the aggregate was garbage-collected (no CPU sample for
    /// the 8-day history) and started again; the last one may be at `now`.
    pub expirations: usize,
}

impl Vpa {
    /// Feeds every instance of one container of a workload into one
    /// aggregate exactly as the recommender does over time: all events with
    /// time ≤ `now_ns`, merged across instances in time order (at equal
    /// times CPU, then memory, then OOMs, then by instance index), each
    /// instance keeping its own [`ContainerState`] (so replicas that start
    /// and stop at different times each roll their own memory windows). An
    /// aggregate whose last CPU sample is at least `history` (8 days) old
    /// when the next event arrives, or at `now_ns`, is garbage-collected like
    /// `clusterState.garbageCollectAggregateCollectionStates` does (an
    /// aggregate without CPU samples expires `history` after its first
    /// event): its histograms, sample count and first/last times start again.
    ///
    /// `memory_request` is the request used for OOM bumps (0 when unknown).
    pub fn aggregate_instances(
        &self,
        instances: &[InstanceHistory<'_>],
        now_ns: i64,
        memory_request: Bytes,
    ) -> FedAggregate {
        const CPU: u8 = 0;
        const MEMORY: u8 = 1;
        const OOM: u8 = 2;
        let upto = |t: &[i64]| t.partition_point(|x| *x <= now_ns);
        // A k-way merge over 3 cursors per instance: memory O(instances),
        // not O(samples). Keys (time, kind, instance) are distinct per
        // cursor, so the order is total and deterministic.
        let lens: Vec<[usize; 3]> = instances
            .iter()
            .map(|h| {
                [
                    upto(h.cpu_t).min(h.cpu.len()),
                    upto(h.memory_t).min(h.memory.len()),
                    upto(h.ooms),
                ]
            })
            .collect();
        let time_of = |i: usize, kind: u8, k: usize| match kind {
            CPU => instances[i].cpu_t[k],
            MEMORY => instances[i].memory_t[k],
            _ => instances[i].ooms[k],
        };
        let mut cursor = vec![[0usize; 3]; instances.len()];
        let mut heap = std::collections::BinaryHeap::new();
        for (i, l) in lens.iter().enumerate() {
            for kind in [CPU, MEMORY, OOM] {
                if l[kind as usize] > 0 {
                    heap.push(std::cmp::Reverse((time_of(i, kind, 0), kind, i)));
                }
            }
        }
        let history = self.config.history_ns();
        let mut out = FedAggregate {
            aggregate: self.new_aggregate(),
            ooms_used: 0,
            ooms_discarded: 0,
            expirations: 0,
        };
        let mut states = vec![ContainerState::default(); instances.len()];
        let mut created: Option<i64> = None;
        while let Some(std::cmp::Reverse((t, kind, i))) = heap.pop() {
            let k = cursor[i][kind as usize];
            cursor[i][kind as usize] += 1;
            if k + 1 < lens[i][kind as usize] {
                heap.push(std::cmp::Reverse((time_of(i, kind, k + 1), kind, i)));
            }
            if self.expire_if_stale(&mut out, &mut created, t, history) {
                out.expirations += 1;
            }
            created.get_or_insert(t);
            let (h, c) = (&instances[i], &mut states[i]);
            let agg = &mut out.aggregate;
            match kind {
                CPU => {
                    self.add_cpu_sample(agg, c, t, h.cpu[k]);
                }
                MEMORY => {
                    self.add_memory_sample(agg, c, t, h.memory[k]);
                }
                _ => match self.record_oom(agg, c, t, memory_request) {
                    Ok(_) => out.ooms_used += 1,
                    Err(_) => out.ooms_discarded += 1,
                },
            }
        }
        if self.expire_if_stale(&mut out, &mut created, now_ns, history) {
            out.expirations += 1;
        }
        out
    }

    /// VPA's `isExpired(now)` followed by deletion: `true` if the aggregate
    /// was reset.
    fn expire_if_stale(
        &self,
        out: &mut FedAggregate,
        created: &mut Option<i64>,
        now: i64,
        history: i64,
    ) -> bool {
        let since = match (out.aggregate.last_sample_ns, *created) {
            (Some(last), _) if out.aggregate.total_samples > 0 => last,
            (_, Some(c)) => c,
            _ => return false,
        };
        if now.saturating_sub(since) >= history {
            out.aggregate = self.new_aggregate();
            *created = None;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NANOS_PER_HOUR;

    const T0: i64 = 1_795_737_600_000_000_000; // 2026-11-27T00:00:00Z, a UTC midnight
    const MIN: i64 = NANOS_PER_MINUTE;
    const MIB: f64 = 1024.0 * 1024.0;

    fn vpa() -> Vpa {
        Vpa::new(VpaConfig::default()).unwrap()
    }

    #[test]
    fn confidence_factors_at_12h_24h_7d() {
        let v = vpa();
        for (minutes, conf, up_factor) in [
            (12 * 60, 0.5, 3.0),
            (24 * 60, 1.0, 2.0),
            (7 * 24 * 60, 7.0, 8.0 / 7.0),
        ] {
            let mut agg = v.new_aggregate();
            let mut c = ContainerState::default();
            // minutes + 1 samples span exactly `minutes` minutes.
            for m in 0..=minutes {
                v.add_cpu_sample(&mut agg, &mut c, T0 + m * MIN, 1.0);
            }
            let got = v.confidence(&agg);
            approx::assert_relative_eq!(got, conf, max_relative = 1e-12);
            let e = v.estimate(&agg, 1);
            // 1.0 core: bucket end = start(find(1.0)+1); +15 % truncated; × factor truncated.
            let l = v.cpu_layout();
            let p95 = resource_amount_from_float(l.bucket_start(l.find_bucket(1.0) + 1) * 1000.0);
            let with_margin = p95 + scale_resource(p95, 0.15);
            assert_eq!(
                e.upper_cpu.get() as i64,
                scale_resource(with_margin, 1.0 + 1.0 / got),
                "{minutes} min"
            );
            assert_eq!(e.target_cpu.get() as i64, with_margin);
            approx::assert_relative_eq!(
                e.upper_cpu.get() as f64 / with_margin as f64,
                up_factor,
                max_relative = 2e-3
            );
        }
    }

    #[test]
    fn lower_bound_factor_for_short_history() {
        let v = vpa();
        let mut agg = v.new_aggregate();
        let mut c = ContainerState::default();
        // 6 samples over 5 minutes: lifespan 5 min = 1/288 day, samples 6/1440.
        for m in 0..=5 {
            v.add_cpu_sample(&mut agg, &mut c, T0 + m * MIN, 2.0);
        }
        let conf = v.confidence(&agg);
        approx::assert_relative_eq!(conf, 5.0 / 1440.0, max_relative = 1e-12);
        let factor = (1.0 + 0.001 / conf).powi(-2);
        approx::assert_relative_eq!(factor, 1.288f64.powi(-2), max_relative = 1e-12); // "5m history: ×0.6"
        let e = v.estimate(&agg, 1);
        let l = v.cpu_layout();
        let p50 = resource_amount_from_float(l.bucket_start(l.find_bucket(2.0) + 1) * 1000.0);
        let m = p50 + scale_resource(p50, 0.15);
        assert_eq!(e.lower_cpu.get() as i64, scale_resource(m, factor));
    }

    #[test]
    fn empty_history_gives_minimums() {
        let v = vpa();
        let agg = v.new_aggregate();
        let e = v.estimate(&agg, 1);
        assert_eq!(e.target_cpu, MilliCpu::new(25));
        assert_eq!(e.lower_cpu, MilliCpu::new(25));
        assert_eq!(e.upper_cpu, MilliCpu::new(25));
        assert_eq!(e.target_memory, Bytes::new(250 * 1024 * 1024));
        assert_eq!(e.confidence, 0.0);
    }

    #[test]
    fn minimum_split_across_containers() {
        let v = vpa();
        assert_eq!(v.container_minimums(1), (25, 262_144_000));
        assert_eq!(v.container_minimums(2), (12, 131_072_000));
        // 25 × 1/3 = 8.33 → 8; 262144000/3 = 87381333.3 → 87381333
        assert_eq!(v.container_minimums(3), (8, 87_381_333));
        let agg = v.new_aggregate();
        let e = v.estimate(&agg, 3);
        assert_eq!(e.target_cpu, MilliCpu::new(8));
        assert_eq!(e.target_memory, Bytes::new(87_381_333));
    }

    #[test]
    fn memory_keeps_one_peak_per_window() {
        let v = vpa();
        let mut agg = v.new_aggregate();
        let mut c = ContainerState::default();
        // Day 1: 100 MiB then 300 MiB then 200 MiB → one peak of 300 MiB.
        v.add_memory_sample(&mut agg, &mut c, T0, 100.0 * MIB);
        assert_eq!(c.window_end_ns(), Some(T0 + NANOS_PER_DAY));
        v.add_memory_sample(&mut agg, &mut c, T0 + NANOS_PER_HOUR, 300.0 * MIB);
        v.add_memory_sample(&mut agg, &mut c, T0 + 2 * NANOS_PER_HOUR, 200.0 * MIB);
        let h = agg.memory_peaks.histogram();
        let l = v.memory_layout();
        // The first peak moved the reference to its window end: weight 2^0.
        approx::assert_relative_eq!(h.total_weight(), 1.0, max_relative = 1e-12);
        assert_eq!(h.bucket_weight(l.find_bucket(100.0 * MIB)), 0.0);
        approx::assert_relative_eq!(h.bucket_weight(l.find_bucket(300.0 * MIB)), 1.0);
        // An older sample is discarded.
        assert!(!v.add_memory_sample(&mut agg, &mut c, T0, 900.0 * MIB));
        // Day 3 (skipping day 2, a gap): a new window ending at T0 + 3 days.
        v.add_memory_sample(&mut agg, &mut c, T0 + 2 * NANOS_PER_DAY + 5, 50.0 * MIB);
        assert_eq!(c.window_end_ns(), Some(T0 + 3 * NANOS_PER_DAY));
        approx::assert_relative_eq!(agg.memory_peaks.histogram().total_weight(), 1.0 + 4.0);
    }

    #[test]
    fn zero_first_sample_pins_the_window_peak() {
        let v = vpa();
        let mut agg = v.new_aggregate();
        let mut c = ContainerState::default();
        v.add_memory_sample(&mut agg, &mut c, T0, 0.0);
        v.add_memory_sample(&mut agg, &mut c, T0 + MIN, 500.0 * MIB);
        assert_eq!(c.max_memory_peak(), 0); // VPA's `oldMaxMem != 0` guard
    }

    #[test]
    fn oom_bump() {
        let v = vpa();
        let mut agg = v.new_aggregate();
        let mut c = ContainerState::default();
        v.add_memory_sample(&mut agg, &mut c, T0, 200.0 * MIB);
        // used = max(request 0, peak 200 MiB): max(300 MiB, 240 MiB) = 300 MiB.
        let n = v
            .record_oom(&mut agg, &mut c, T0 + MIN, Bytes::ZERO)
            .unwrap();
        assert_eq!(n, 300 * 1024 * 1024);
        assert_eq!(c.max_memory_peak(), 300 * 1024 * 1024);
        // With a 1 GiB request: max(1 GiB + 100 MiB, 1.2 GiB) = 1.2 GiB (truncated).
        let n = v
            .record_oom(&mut agg, &mut c, T0 + 2 * MIN, Bytes::from_gib(1))
            .unwrap();
        assert_eq!(n, (1.2 * (1u64 << 30) as f64) as i64);
        // Only one peak remains in the window.
        let l = v.memory_layout();
        let h = agg.memory_peaks.histogram();
        approx::assert_relative_eq!(h.total_weight(), 1.0, max_relative = 1e-12);
        approx::assert_relative_eq!(h.bucket_weight(l.find_bucket(n as f64)), 1.0);
        // An OOM more than one interval before the window end is rejected.
        let mut c2 = c.clone();
        v.add_memory_sample(&mut agg, &mut c2, T0 + 3 * NANOS_PER_DAY, 1.0);
        assert!(v
            .record_oom(&mut agg, &mut c2, T0 + NANOS_PER_DAY, Bytes::ZERO)
            .is_err());
    }

    #[test]
    fn oom_age_is_measured_from_the_latest_memory_sample() {
        // kubernetes/autoscaler#8548: the window may end up to 24 h after the
        // latest sample; an OOM just under 24 h before that sample counts.
        let v = vpa();
        let mut agg = v.new_aggregate();
        let mut c = ContainerState::default();
        v.add_memory_sample(&mut agg, &mut c, T0, 100.0 * MIB);
        v.add_memory_sample(&mut agg, &mut c, T0 + NANOS_PER_DAY + MIN, 100.0 * MIB);
        assert_eq!(c.window_end_ns(), Some(T0 + 2 * NANOS_PER_DAY));
        // Window end − 24 h = T0 + 1 day would reject this one.
        let at = T0 + 2 * MIN;
        assert!(v.record_oom(&mut agg, &mut c, at, Bytes::ZERO).is_ok());
        // More than 24 h before the latest sample: rejected.
        let last = T0 + 2 * NANOS_PER_DAY;
        v.add_memory_sample(&mut agg, &mut c, last, 100.0 * MIB);
        let old = last - NANOS_PER_DAY - 1;
        assert_eq!(
            v.record_oom(&mut agg, &mut c, old, Bytes::ZERO),
            Err(OomRejected::TooOld {
                at_ns: old,
                last_sample_ns: last
            })
        );
        assert!(v.record_oom(&mut agg, &mut c, old + 1, Bytes::ZERO).is_ok());
    }

    #[test]
    fn aggregate_instances_merges_in_time_order_and_expires() {
        let v = vpa();
        let day = NANOS_PER_DAY;
        // Two replicas: a = days 0–1, b = days 1–2; then b again on day 11.
        let ta: Vec<i64> = (0..1440).map(|m| T0 + m * MIN).collect();
        let tb: Vec<i64> = (0..1440)
            .map(|m| T0 + day + m * MIN)
            .chain((0..60).map(|m| T0 + 11 * day + m * MIN))
            .collect();
        let (ca, cb) = (vec![0.5; ta.len()], vec![1.0; tb.len()]);
        let (ma, mb) = (vec![4e8; ta.len()], vec![8e8; tb.len()]);
        let inst = [
            InstanceHistory {
                cpu_t: &ta,
                cpu: &ca,
                memory_t: &ta,
                memory: &ma,
                ooms: &[],
            },
            InstanceHistory {
                cpu_t: &tb,
                cpu: &cb,
                memory_t: &tb,
                memory: &mb,
                ooms: &[T0 + day + 30 * MIN],
            },
        ];
        // At day 2: both replicas, one aggregate, no expiry.
        let f = v.aggregate_instances(&inst, T0 + 2 * day, Bytes::ZERO);
        assert_eq!(f.aggregate.total_samples, 2880);
        assert_eq!(f.aggregate.first_sample_ns, Some(T0));
        assert_eq!(f.aggregate.last_sample_ns, Some(T0 + 2 * day - MIN));
        assert_eq!((f.ooms_used, f.ooms_discarded, f.expirations), (1, 0, 0));
        // Samples after `now` are not seen.
        let f = v.aggregate_instances(&inst, T0 + day / 2, Bytes::ZERO);
        assert_eq!(f.aggregate.total_samples, 721);
        // On day 11 the 9-day silence has expired the aggregate: only the
        // last hour counts.
        let f = v.aggregate_instances(&inst, T0 + 12 * day, Bytes::ZERO);
        assert_eq!(f.expirations, 1);
        assert_eq!(f.aggregate.total_samples, 60);
        assert_eq!(f.aggregate.first_sample_ns, Some(T0 + 11 * day));
        // Eight days after the last sample it has expired again: empty.
        let f = v.aggregate_instances(&inst, T0 + 19 * day + 59 * MIN, Bytes::ZERO);
        assert_eq!(f.expirations, 2);
        assert_eq!(f.aggregate.total_samples, 0);
        assert!(f.aggregate.cpu.is_empty(v.cpu_layout()));
        // One minute less: not yet.
        let f = v.aggregate_instances(&inst, T0 + 19 * day + 58 * MIN, Bytes::ZERO);
        assert_eq!((f.expirations, f.aggregate.total_samples), (1, 60));
    }

    #[test]
    fn cpu_duplicates_and_reordering_are_discarded() {
        let v = vpa();
        let mut agg = v.new_aggregate();
        let mut c = ContainerState::default();
        assert!(v.add_cpu_sample(&mut agg, &mut c, T0 + MIN, 1.0));
        assert!(!v.add_cpu_sample(&mut agg, &mut c, T0 + MIN, 1.0));
        assert!(!v.add_cpu_sample(&mut agg, &mut c, T0, 1.0));
        assert!(!v.add_cpu_sample(&mut agg, &mut c, T0 + 2 * MIN, -1.0));
        assert!(!v.add_cpu_sample(&mut agg, &mut c, T0 + 2 * MIN, f64::NAN));
        assert_eq!(agg.total_samples, 1);
    }

    #[test]
    fn config_is_validated() {
        let c = VpaConfig {
            target_cpu_percentile: 1.5,
            ..VpaConfig::default()
        };
        assert!(Vpa::new(c).is_err());
        let c = VpaConfig {
            memory_aggregation_interval_ns: 0,
            ..VpaConfig::default()
        };
        assert!(Vpa::new(c).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn outputs_are_bucket_edges_plus_margin(
            cpu in proptest::collection::vec(0.0f64..64.0, 1..300),
            mem in proptest::collection::vec(0.0f64..6e10, 1..300),
            step_min in 1i64..120,
        ) {
            let v = vpa();
            let mut agg = v.new_aggregate();
            let mut c = ContainerState::default();
            for (i, x) in cpu.iter().enumerate() {
                v.add_cpu_sample(&mut agg, &mut c, T0 + i as i64 * step_min * MIN, *x);
            }
            for (i, x) in mem.iter().enumerate() {
                v.add_memory_sample(&mut agg, &mut c, T0 + i as i64 * step_min * MIN, *x);
            }
            let e = v.estimate(&agg, 1);
            proptest::prop_assert!(e.lower_cpu <= e.target_cpu && e.target_cpu <= e.upper_cpu);
            proptest::prop_assert!(e.lower_memory <= e.target_memory && e.target_memory <= e.upper_memory);
            // The target is (a bucket edge, truncated) + 15 %, or the minimum.
            let l = v.cpu_layout();
            let on_edge = (0..l.num_buckets()).any(|k| {
                let a = resource_amount_from_float(l.bucket_start(k) * 1000.0);
                (a + scale_resource(a, 0.15)) as u64 == e.target_cpu.get()
            });
            proptest::prop_assert!(on_edge || e.target_cpu.get() == 25, "{:?}", e);
            let l = v.memory_layout();
            let on_edge = (0..l.num_buckets()).any(|k| {
                let a = resource_amount_from_float(l.bucket_start(k));
                (a + scale_resource(a, 0.15)) as u64 == e.target_memory.get()
            });
            proptest::prop_assert!(on_edge || e.target_memory.get() == 262_144_000, "{:?}", e);
        }
        #[test]
        fn aggregate_instances_counts_every_sample_up_to_now(
            pods in proptest::collection::vec(
                (0i64..(6 * 1440), 1i64..600, proptest::collection::vec(0.0f64..8.0, 1..120)),
                1..6,
            ),
            now_min in 0i64..(7 * 1440),
        ) {
            // Replicas starting at arbitrary minutes, sampling every 1..600
            // minutes, all within 8 days: nothing expires, every CPU sample
            // at or before `now` counts once, first/last are the extremes.
            let v = vpa();
            let series: Vec<(Vec<i64>, Vec<f64>)> = pods
                .iter()
                .map(|(start, step, xs)| {
                    let t = (0..xs.len() as i64).map(|k| T0 + (start + k * step) * MIN).collect();
                    (t, xs.clone())
                })
                .collect();
            let inst: Vec<InstanceHistory<'_>> = series
                .iter()
                .map(|(t, x)| InstanceHistory { cpu_t: t, cpu: x, memory_t: t, memory: x, ooms: &[] })
                .collect();
            let now = T0 + now_min * MIN;
            let f = v.aggregate_instances(&inst, now, Bytes::ZERO);
            let seen: Vec<i64> = series.iter().flat_map(|(t, _)| t.iter().copied()).filter(|t| *t <= now).collect();
            proptest::prop_assert_eq!(f.expirations, 0);
            proptest::prop_assert_eq!(f.aggregate.total_samples, seen.len() as u64);
            proptest::prop_assert_eq!(f.aggregate.first_sample_ns, seen.iter().copied().min());
            proptest::prop_assert_eq!(f.aggregate.last_sample_ns, seen.iter().copied().max());
            // Fed one by one in the same order, the aggregate is the same.
            let mut agg = v.new_aggregate();
            let mut states = vec![ContainerState::default(); inst.len()];
            let mut ev: Vec<(i64, u8, usize, usize)> = Vec::new();
            for (i, (t, _)) in series.iter().enumerate() {
                for (k, tk) in t.iter().enumerate().filter(|(_, tk)| **tk <= now) {
                    ev.push((*tk, 0, i, k));
                    ev.push((*tk, 1, i, k));
                }
            }
            ev.sort_unstable();
            for (t, kind, i, k) in ev {
                if kind == 0 {
                    v.add_cpu_sample(&mut agg, &mut states[i], t, series[i].1[k]);
                } else {
                    v.add_memory_sample(&mut agg, &mut states[i], t, series[i].1[k]);
                }
            }
            proptest::prop_assert_eq!(&f.aggregate, &agg);
        }
    }
}
