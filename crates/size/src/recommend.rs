//! The [`Recommender`] trait, its output types, and the driver that runs a
//! recommender over a whole [`UsageSet`].
//!
//! Strategies ([`Strategy`]): [`VpaRecommender`] (VPA exactly),
//! [`crate::krr::KrrRecommender`] (`simple`, `simple_limit`) and
//! [`crate::risk::RiskRecommender`] (percentile + margin + history profiles
//! with exceedance estimates). Every strategy also sizes GPU shares when GPU
//! samples are present ([`crate::gpu`]).
//!
//! ```
//! use rightsizer_size::input::read_csv;
//! use rightsizer_size::recommend::{recommend_all, RecommendContext, Strategy};
//! let mut csv = String::from("timestamp,namespace,pod,container,resource,value\n");
//! for m in 0..600 {
//!     csv += &format!("{},prod,api-0,app,cpu,0.25\n", 1_700_000_000 + 60 * m);
//!     csv += &format!("{},prod,api-0,app,memory,4e8\n", 1_700_000_000 + 60 * m);
//! }
//! let usage = read_csv("usage.csv", &csv)?;
//! let rec = Strategy::Vpa.build()?;
//! let report = recommend_all(&usage, rec.as_ref(), &RecommendContext::at(usage.last_time().unwrap()));
//! let c = &report.workloads.values().next().unwrap().containers["app"];
//! let cpu = c.cpu.as_ref().unwrap();
//! assert!(cpu.lower_bound <= cpu.target && cpu.target <= cpu.upper_bound);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::gpu::{GpuRecommendation, GpuSizer};
use crate::time::Timestamp;
use crate::usage::{ContainerSeries, UsageSet, UsageWarning, WorkloadKey, WorkloadUsage};
use crate::vpa::{AggregateState, InstanceHistory, Vpa, VpaConfig, VpaConfigError};
use rightsizer_model::accelerator::AcceleratorModel;
use rightsizer_model::ids::PodId;
use rightsizer_model::units::{Bytes, MilliCpu};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A recommended size for one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Estimate<U> {
    /// The recommended request (after caps).
    pub target: U,
    /// The smallest request that is still reasonable (after caps).
    pub lower_bound: U,
    /// The largest request that is still reasonable (after caps).
    pub upper_bound: U,
    /// The target before any cap (VPA's `uncappedTarget`).
    pub uncapped_target: U,
    /// A recommended limit, when the strategy gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<U>,
}

impl<U: Copy + Ord> Estimate<U> {
    /// An estimate with no cap applied.
    pub fn new(target: U, lower_bound: U, upper_bound: U, limit: Option<U>) -> Self {
        Self {
            target,
            lower_bound,
            upper_bound,
            uncapped_target: target,
            limit,
        }
    }

    /// Clamps target and bounds (and limit) to `[min, max]`, keeping the
    /// uncapped target.
    pub fn cap(&mut self, min: Option<U>, max: Option<U>) {
        let c = |v: U| {
            let v = min.map_or(v, |m| v.max(m));
            max.map_or(v, |m| v.min(m))
        };
        self.target = c(self.target);
        self.lower_bound = c(self.lower_bound);
        self.upper_bound = c(self.upper_bound);
        self.limit = self.limit.map(c);
    }
}

/// Something the recommender wants the caller to know about one container.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Note {
    /// Fewer data points than the strategy requires; no recommendation.
    NotEnoughData {
        /// Resource name.
        resource: &'static str,
        /// Points found.
        points: usize,
        /// Points required.
        required: usize,
    },
    /// The history is shorter than the strategy requires.
    HistoryTooShort {
        /// Span found (seconds).
        span_secs: i64,
        /// Span required (seconds).
        required_secs: i64,
    },
    /// OOM events were found and bumped the memory recommendation.
    OomBump {
        /// Events used.
        events: usize,
        /// Events discarded as too old.
        discarded: usize,
    },
    /// A cap changed the target.
    Capped {
        /// Resource name.
        resource: &'static str,
    },
    /// No sample of the resource lies in the history window ending at
    /// `now`; the resource gets no recommendation.
    NoData {
        /// Resource name.
        resource: &'static str,
        /// Samples of the resource outside the window (before it or after
        /// `now`).
        outside_window: usize,
    },
    /// The history is thin: the confidence is below [`LOW_CONFIDENCE`], so
    /// the bounds (the upper bound above all) are wide.
    LowConfidence {
        /// The strategy's confidence (≈ days of history).
        confidence: f64,
        /// CPU samples behind it (VPA derives confidence from CPU samples).
        samples: u64,
        /// Time from the first to the last of them (seconds).
        span_secs: i64,
    },
    /// The workload's pod fits no node (type) of the cluster or catalog.
    NoNodeFits {
        /// The binding dimension on the closest shape.
        dimension: rightsizer_model::resources::Dimension,
        /// The closest shape.
        closest: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::NotEnoughData {
                resource,
                points,
                required,
            } => write!(
                f,
                "{resource}: not enough data ({points} points, {required} required)"
            ),
            Note::HistoryTooShort {
                span_secs,
                required_secs,
            } => write!(f, "history spans {span_secs}s, {required_secs}s required"),
            Note::OomBump { events, discarded } => {
                write!(
                    f,
                    "{events} OOM event(s) bumped memory ({discarded} too old)"
                )
            }
            Note::Capped { resource } => write!(f, "{resource}: target capped"),
            Note::NoData {
                resource,
                outside_window,
            } => write!(
                f,
                "{resource}: no samples in the history window ending at now ({outside_window} outside it); no recommendation"
            ),
            Note::LowConfidence {
                confidence,
                samples,
                span_secs,
            } => write!(
                f,
                "low confidence {confidence:.4} (below {LOW_CONFIDENCE}): {samples} CPU sample(s) over {span_secs}s; the bounds are wide"
            ),
            Note::NoNodeFits { dimension, closest } => write!(
                f,
                "the pod fits no node; {dimension} binds (closest: {closest})"
            ),
        }
    }
}

/// Below this confidence (≈ days of history) a recommendation carries a
/// [`Note::LowConfidence`].
pub const LOW_CONFIDENCE: f64 = 1.0;

/// A size at which past usage is checked, with how often it was exceeded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskCandidate<U> {
    /// Profile that produced the size.
    pub profile: String,
    /// The size.
    pub size: U,
    /// Fraction of samples above the size (CPU: throttling; memory: OOM).
    pub exceedance: f64,
    /// Fraction of pod-days whose peak exceeded the size.
    pub days_exceeded: f64,
}

/// Exceedance estimates per candidate size.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RiskReport {
    /// CPU candidates, one per profile.
    pub cpu: Vec<RiskCandidate<MilliCpu>>,
    /// Memory candidates, one per profile.
    pub memory: Vec<RiskCandidate<Bytes>>,
}

/// The recommendation for one container (all replicas together).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ContainerRecommendation {
    /// CPU, if the strategy could size it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Estimate<MilliCpu>>,
    /// Memory, if the strategy could size it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Estimate<Bytes>>,
    /// GPU share, when GPU samples exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuRecommendation>,
    /// Exceedance estimates (risk strategy only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskReport>,
    /// Confidence (≈ days of history), where the strategy has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Notes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

/// The recommendation for one workload.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WorkloadRecommendation {
    /// Per container name.
    pub containers: BTreeMap<String, ContainerRecommendation>,
}

/// Per-call inputs besides the usage.
#[derive(Clone, Debug, PartialEq)]
pub struct RecommendContext {
    /// Evaluation time: samples after it are ignored, history windows end here.
    pub now: Timestamp,
    /// The GPU model the workload runs on (enables MIG and memory checks).
    pub gpu_model: Option<AcceleratorModel>,
    /// Current memory requests per container name, used by VPA's OOM bump
    /// (missing → 0, i.e. the observed peak is used).
    pub memory_requests: BTreeMap<String, Bytes>,
    /// Optional caps applied to every container (VPA `minAllowed`).
    pub min_allowed: (Option<MilliCpu>, Option<Bytes>),
    /// Optional caps applied to every container (VPA `maxAllowed`).
    pub max_allowed: (Option<MilliCpu>, Option<Bytes>),
    /// Node (type) shapes to check each workload's pod against (empty: no check).
    pub capacity: Vec<crate::capacity::CapacityShape>,
    /// Scale targets down to the closest shape when the pod fits none
    /// (otherwise only flag it).
    pub clamp_to_capacity: bool,
}

impl RecommendContext {
    /// A context at `now` with no GPU model, requests or caps.
    pub fn at(now: Timestamp) -> Self {
        Self {
            now,
            gpu_model: None,
            memory_requests: BTreeMap::new(),
            min_allowed: (None, None),
            max_allowed: (None, None),
            capacity: Vec::new(),
            clamp_to_capacity: false,
        }
    }
}

/// A right-sizing strategy.
pub trait Recommender {
    /// Strategy name (`vpa`, `krr-simple`, ...).
    fn name(&self) -> &str;

    /// Recommends sizes for every container of one workload.
    fn recommend_workload(
        &self,
        usage: &WorkloadUsage,
        ctx: &RecommendContext,
    ) -> WorkloadRecommendation;
}

impl<R: Recommender + ?Sized> Recommender for &R {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn recommend_workload(
        &self,
        usage: &WorkloadUsage,
        ctx: &RecommendContext,
    ) -> WorkloadRecommendation {
        (**self).recommend_workload(usage, ctx)
    }
}

impl<R: Recommender + ?Sized> Recommender for Box<R> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn recommend_workload(
        &self,
        usage: &WorkloadUsage,
        ctx: &RecommendContext,
    ) -> WorkloadRecommendation {
        (**self).recommend_workload(usage, ctx)
    }
}

/// Recommendations for a whole usage set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecommendationReport {
    /// Strategy name.
    pub strategy: String,
    /// Evaluation time.
    pub now: Timestamp,
    /// Per workload; serialized as a list of `{namespace, workload,
    /// containers}` in key order, so no two keys can collide.
    #[serde(serialize_with = "serialize_workloads")]
    pub workloads: BTreeMap<WorkloadKey, WorkloadRecommendation>,
    /// Input warnings, as text.
    pub warnings: Vec<String>,
}

fn serialize_workloads<S: serde::Serializer>(
    m: &BTreeMap<WorkloadKey, WorkloadRecommendation>,
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Entry<'a> {
        namespace: &'a str,
        workload: &'a str,
        #[serde(flatten)]
        recommendation: &'a WorkloadRecommendation,
    }
    s.collect_seq(m.iter().map(|(k, v)| Entry {
        namespace: &k.namespace,
        workload: k.workload.as_str(),
        recommendation: v,
    }))
}

/// Runs `rec` over every workload of `usage`, then applies the context's caps.
pub fn recommend_all(
    usage: &UsageSet,
    rec: &dyn Recommender,
    ctx: &RecommendContext,
) -> RecommendationReport {
    let mut workloads = BTreeMap::new();
    for (key, w) in usage.workloads() {
        let mut r = rec.recommend_workload(w, ctx);
        for c in r.containers.values_mut() {
            apply_caps(c, ctx);
        }
        if !ctx.capacity.is_empty() {
            crate::capacity::clamp_to_capacity(&mut r, &ctx.capacity, ctx.clamp_to_capacity);
        }
        workloads.insert(key.clone(), r);
    }
    RecommendationReport {
        strategy: rec.name().to_string(),
        now: ctx.now,
        workloads,
        warnings: usage
            .warnings()
            .iter()
            .map(UsageWarning::to_string)
            .collect(),
    }
}

fn apply_caps(c: &mut ContainerRecommendation, ctx: &RecommendContext) {
    if let Some(e) = c.cpu.as_mut() {
        let before = e.target;
        e.cap(ctx.min_allowed.0, ctx.max_allowed.0);
        if e.target != before {
            c.notes.push(Note::Capped { resource: "cpu" });
        }
    }
    if let Some(e) = c.memory.as_mut() {
        let before = e.target;
        e.cap(ctx.min_allowed.1, ctx.max_allowed.1);
        if e.target != before {
            c.notes.push(Note::Capped { resource: "memory" });
        }
    }
}

/// The built-in strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Strategy {
    /// [`VpaRecommender`] with VPA's defaults.
    Vpa,
    /// krr `simple`.
    KrrSimple,
    /// krr `simple_limit`.
    KrrSimpleLimit,
    /// [`crate::risk::RiskRecommender`] with the default profiles.
    Risk,
}

impl Strategy {
    /// Parses `vpa`, `krr-simple`, `krr-simple-limit`, `risk`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "vpa" => Strategy::Vpa,
            "krr-simple" => Strategy::KrrSimple,
            "krr-simple-limit" => Strategy::KrrSimpleLimit,
            "risk" => Strategy::Risk,
            _ => return None,
        })
    }

    /// Builds the recommender with default settings.
    pub fn build(self) -> Result<Box<dyn Recommender + Send + Sync>, VpaConfigError> {
        Ok(match self {
            Strategy::Vpa => Box::new(VpaRecommender::new(VpaConfig::default())?),
            Strategy::KrrSimple => Box::new(crate::krr::KrrRecommender::simple()),
            Strategy::KrrSimpleLimit => Box::new(crate::krr::KrrRecommender::simple_limit()),
            Strategy::Risk => Box::new(crate::risk::RiskRecommender::default()),
        })
    }
}

/// Samples of one container in the history window `(now − history, now]`,
/// per pod.
pub(crate) struct Windowed<'a> {
    pub pods: Vec<(&'a PodId, WindowedSeries<'a>)>,
}

/// One pod's windowed slices.
pub(crate) struct WindowedSeries<'a> {
    pub cpu: (&'a [i64], &'a [f64]),
    pub memory: (&'a [i64], &'a [f64]),
    pub gpu_memory: &'a [f64],
    pub gpu_util: &'a [f64],
}

pub(crate) fn window<'a>(
    pods: &'a BTreeMap<PodId, ContainerSeries>,
    now_ns: i64,
    history_ns: i64,
) -> Windowed<'a> {
    let from = now_ns.saturating_sub(history_ns);
    Windowed {
        pods: pods
            .iter()
            .map(|(p, s)| {
                (
                    p,
                    WindowedSeries {
                        cpu: s.cpu.window(from, now_ns),
                        memory: s.memory.window(from, now_ns),
                        gpu_memory: s.gpu_memory.window(from, now_ns).1,
                        gpu_util: s.gpu_util.window(from, now_ns).1,
                    },
                )
            })
            .collect(),
    }
}

/// For each of CPU and memory: `Some(note)` when no sample of `pods` lies
/// in the window `w` (with the count of samples outside it).
pub(crate) fn no_data(
    pods: &BTreeMap<PodId, ContainerSeries>,
    w: &Windowed<'_>,
) -> [Option<Note>; 2] {
    let inside = |cpu: bool| -> usize {
        w.pods
            .iter()
            .map(|(_, s)| if cpu { s.cpu.1.len() } else { s.memory.1.len() })
            .sum()
    };
    let total = |cpu: bool| -> usize {
        pods.values()
            .map(|s| if cpu { s.cpu.len() } else { s.memory.len() })
            .sum()
    };
    [(true, "cpu"), (false, "memory")].map(|(cpu, resource)| {
        (inside(cpu) == 0).then(|| Note::NoData {
            resource,
            outside_window: total(cpu),
        })
    })
}

pub(crate) fn gpu_for(
    w: &Windowed<'_>,
    sizer: &GpuSizer,
    ctx: &RecommendContext,
) -> Option<GpuRecommendation> {
    let mem: Vec<&[f64]> = w.pods.iter().map(|(_, s)| s.gpu_memory).collect();
    let util: Vec<&[f64]> = w.pods.iter().map(|(_, s)| s.gpu_util).collect();
    sizer.recommend(&mem, &util, ctx.gpu_model.as_ref())
}

/// VPA's recommender over usage history: one [`AggregateState`] per container
/// name, fed by every pod over the whole history up to `now` (dropped, as
/// VPA's garbage collector does, after 8 days without a CPU sample).
#[derive(Clone, Debug)]
pub struct VpaRecommender {
    vpa: Vpa,
    gpu: GpuSizer,
}

impl VpaRecommender {
    /// With the given configuration; GPU shares use the target CPU percentile
    /// and the same margin.
    pub fn new(config: VpaConfig) -> Result<Self, VpaConfigError> {
        let gpu = GpuSizer {
            utilisation_percentile: config.target_cpu_percentile,
            margin_fraction: config.margin_fraction,
        };
        Ok(Self {
            vpa: Vpa::new(config)?,
            gpu,
        })
    }

    /// The underlying model.
    pub fn vpa(&self) -> &Vpa {
        &self.vpa
    }

    /// Builds the aggregate of one container from per-pod series (every
    /// sample up to `now`, fed as the recommender sees them over time, see
    /// [`Vpa::aggregate_instances`]); returns it with (OOMs used, OOMs
    /// discarded).
    pub fn aggregate(
        &self,
        pods: &BTreeMap<PodId, ContainerSeries>,
        now: Timestamp,
        memory_request: Bytes,
    ) -> (AggregateState, usize, usize) {
        let now_ns = now.unix_nanos();
        let instances: Vec<InstanceHistory<'_>> = pods
            .values()
            .map(|s| {
                let (cpu_t, cpu) = s.cpu.window(i64::MIN, now_ns);
                let (memory_t, memory) = s.memory.window(i64::MIN, now_ns);
                InstanceHistory {
                    cpu_t,
                    cpu,
                    memory_t,
                    memory,
                    ooms: &s.ooms,
                }
            })
            .collect();
        let fed = self
            .vpa
            .aggregate_instances(&instances, now_ns, memory_request);
        (fed.aggregate, fed.ooms_used, fed.ooms_discarded)
    }
}

impl Recommender for VpaRecommender {
    fn name(&self) -> &str {
        "vpa"
    }

    fn recommend_workload(
        &self,
        usage: &WorkloadUsage,
        ctx: &RecommendContext,
    ) -> WorkloadRecommendation {
        let n = usage.containers.len();
        let mut out = WorkloadRecommendation::default();
        for (name, pods) in &usage.containers {
            let req = ctx
                .memory_requests
                .get(name)
                .copied()
                .unwrap_or(Bytes::ZERO);
            let (agg, used, discarded) = self.aggregate(pods, ctx.now, req);
            let e = self.vpa.estimate(&agg, n);
            let w = window(pods, ctx.now.unix_nanos(), self.vpa.config().history_ns());
            let [no_cpu, no_memory] = no_data(pods, &w);
            let mut rec = ContainerRecommendation {
                cpu: no_cpu
                    .is_none()
                    .then(|| Estimate::new(e.target_cpu, e.lower_cpu, e.upper_cpu, None)),
                memory: no_memory
                    .is_none()
                    .then(|| Estimate::new(e.target_memory, e.lower_memory, e.upper_memory, None)),
                confidence: Some(e.confidence),
                ..Default::default()
            };
            rec.notes.extend(no_cpu.into_iter().chain(no_memory));
            if (rec.cpu.is_some() || rec.memory.is_some()) && e.confidence < LOW_CONFIDENCE {
                rec.notes.push(Note::LowConfidence {
                    confidence: e.confidence,
                    samples: agg.total_samples,
                    span_secs: agg
                        .first_sample_ns
                        .zip(agg.last_sample_ns)
                        .map_or(0, |(f, l)| (l - f) / crate::time::NANOS_PER_SEC),
                });
            }
            if used + discarded > 0 {
                rec.notes.push(Note::OomBump {
                    events: used,
                    discarded,
                });
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
    use crate::input::read_csv;

    const T0: i64 = 1_700_000_000;

    fn csv(rows: &[(i64, &str, &str, &str)]) -> String {
        let mut s = String::from("timestamp,namespace,pod,container,resource,value,workload\n");
        for (t, ns, res, wl) in rows {
            let v = if *res == "cpu" { "0.5" } else { "4e8" };
            s += &format!("{t},{ns},x-0,app,{res},{v},{wl}\n");
        }
        s
    }

    fn only(report: &RecommendationReport) -> &ContainerRecommendation {
        &report.workloads.values().next().unwrap().containers["app"]
    }

    /// Regression (issue 15): no sample in the window (`now` before every
    /// sample or long after them, or a resource never sampled) gave the
    /// 25m / 250 MiB floor without a word.
    #[test]
    fn no_data_means_no_recommendation_with_a_reason() {
        let rows: Vec<_> = (0..600)
            .map(|m| (T0 + 60 * m, "prod", "memory", "api"))
            .collect();
        let usage = read_csv("u.csv", &csv(&rows)).unwrap();
        for strategy in [Strategy::Vpa, Strategy::Risk] {
            let rec = strategy.build().unwrap();
            let last = usage.last_time().unwrap();
            let r = recommend_all(&usage, rec.as_ref(), &RecommendContext::at(last));
            let c = only(&r);
            assert_eq!(c.cpu, None, "{strategy:?}");
            assert!(c.memory.is_some(), "{strategy:?}");
            assert!(c.notes.contains(&Note::NoData {
                resource: "cpu",
                outside_window: 0
            }));
            for now in [T0 - 86_400, T0 + 90 * 86_400] {
                let ctx = RecommendContext::at(Timestamp::from_unix_secs(now).unwrap());
                let r = recommend_all(&usage, rec.as_ref(), &ctx);
                let c = only(&r);
                assert_eq!((c.cpu, c.memory), (None, None), "{strategy:?} at {now}");
                assert!(c.notes.contains(&Note::NoData {
                    resource: "memory",
                    outside_window: 600
                }));
                assert!(!c
                    .notes
                    .iter()
                    .any(|n| matches!(n, Note::LowConfidence { .. })));
            }
        }
    }

    /// Regression (issue 15): one sample gave an upper bound of 10^14
    /// millicores with nothing saying how thin the data was.
    #[test]
    fn thin_data_says_so() {
        let usage = read_csv("u.csv", &csv(&[(T0, "prod", "cpu", "api")])).unwrap();
        let rec = Strategy::Vpa.build().unwrap();
        let r = recommend_all(
            &usage,
            rec.as_ref(),
            &RecommendContext::at(usage.last_time().unwrap()),
        );
        let c = only(&r);
        assert!(c.cpu.is_some());
        assert!(
            c.notes.iter().any(|n| matches!(
                n,
                Note::LowConfidence {
                    samples: 1,
                    span_secs: 0,
                    ..
                }
            )),
            "{:?}",
            c.notes
        );
        // A week of minute samples is confident: no such note.
        let rows: Vec<_> = (0..7 * 1440)
            .map(|m| (T0 + 60 * m, "prod", "cpu", "api"))
            .collect();
        let usage = read_csv("u.csv", &csv(&rows)).unwrap();
        let r = recommend_all(
            &usage,
            rec.as_ref(),
            &RecommendContext::at(usage.last_time().unwrap()),
        );
        assert!(!only(&r)
            .notes
            .iter()
            .any(|n| matches!(n, Note::LowConfidence { .. })));
    }

    /// Regression (issue 15): `a/b` + `c` and `a` + `b/c` serialized to the
    /// same key `a/b/c`, and one workload vanished from the JSON.
    #[test]
    fn workload_keys_serialize_structured() {
        let usage = read_csv(
            "u.csv",
            &csv(&[(T0, "a/b", "cpu", "c"), (T0, "a", "cpu", "b/c")]),
        )
        .unwrap();
        let rec = Strategy::Vpa.build().unwrap();
        let r = recommend_all(
            &usage,
            rec.as_ref(),
            &RecommendContext::at(usage.last_time().unwrap()),
        );
        let v = serde_json::to_value(&r).unwrap();
        let w = v["workloads"].as_array().unwrap();
        let keys: Vec<(&str, &str)> = w
            .iter()
            .map(|e| {
                (
                    e["namespace"].as_str().unwrap(),
                    e["workload"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(keys, [("a", "b/c"), ("a/b", "c")]);
        assert!(w[0]["containers"]["app"]["cpu"].is_object());
    }
}
