//! Usage history: per-container samples of CPU, memory, GPU memory and GPU
//! utilisation, plus OOM events, grouped by workload.
//!
//! A [`UsageSet`] is built with a [`UsageBuilder`] (the CSV and Prometheus
//! readers in [`crate::input`] use one) and is always normalised: every series
//! is sorted by time, exact-duplicate timestamps keep the first value read
//! (VPA discards a sample that is not newer than the last one it saw), and
//! gaps are simply gaps. Values are validated on the way in: NaN, infinite and
//! negative samples are rejected, GPU utilisation must lie in `[0, 1]`.
//!
//! ```
//! use rightsizer_size::usage::{UsageBuilder, Resource, SampleOrigin};
//! use rightsizer_size::time::Timestamp;
//! let mut b = UsageBuilder::new();
//! let t = Timestamp::from_unix_secs(1_700_000_000).unwrap();
//! let at = SampleOrigin::default();
//! b.push("prod", None, "api-7d9c4b8f6d-x2x7q", "app", Resource::Cpu, t, 0.25, &at)?;
//! let set = b.finish();
//! let (key, w) = set.workloads().next().unwrap();
//! assert_eq!(key.workload.as_str(), "api"); // replica suffix removed
//! assert_eq!(w.containers["app"].len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::time::Timestamp;
use rightsizer_model::ids::{IdError, PodId, WorkloadId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What a sample measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Resource {
    /// CPU usage in cores (a rate).
    Cpu,
    /// Memory working set in bytes.
    Memory,
    /// GPU device memory used, bytes.
    GpuMemory,
    /// GPU utilisation, 0–1.
    GpuUtil,
    /// An OOM kill (the value is ignored).
    Oom,
}

impl Resource {
    /// Parses the CSV spelling (`cpu`, `memory`, `gpu_memory`, `gpu_util`, `oom`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "cpu" => Resource::Cpu,
            "memory" => Resource::Memory,
            "gpu_memory" => Resource::GpuMemory,
            "gpu_util" => Resource::GpuUtil,
            "oom" => Resource::Oom,
            _ => return None,
        })
    }

    /// The CSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
            Resource::GpuMemory => "gpu_memory",
            Resource::GpuUtil => "gpu_util",
            Resource::Oom => "oom",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The largest accepted CPU sample, in cores (larger values would be
/// clamped by the recommenders' integer arithmetic).
pub const MAX_CPU_CORES: f64 = 1e6;

/// The largest accepted memory or GPU-memory sample, in bytes (2^60).
pub const MAX_BYTES: f64 = 1_152_921_504_606_846_976.0;

/// Where a sample came from, for error messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SampleOrigin {
    /// File name (empty when not read from a file).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column of the value.
    pub column: usize,
}

/// Why a sample was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SampleError {
    /// The value is NaN, infinite, negative or (for `gpu_util`) above 1.
    #[error("{file}:{line}:{column}: {resource} sample {value} is invalid ({reason})")]
    BadValue {
        /// File.
        file: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// Resource.
        resource: Resource,
        /// The value.
        value: f64,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A name (pod, workload) is not a valid identifier.
    #[error("{file}:{line}:{column}: {field} {value:?} is not a valid name: {source}")]
    BadName {
        /// File.
        file: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// Which field.
        field: &'static str,
        /// The value.
        value: String,
        /// Why.
        source: IdError,
    },
}

/// Identifies one workload: namespace plus workload name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WorkloadKey {
    /// Namespace (may be empty).
    pub namespace: String,
    /// Workload name.
    pub workload: WorkloadId,
}

impl fmt::Display for WorkloadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}", self.workload)
        } else {
            write!(f, "{}/{}", self.namespace, self.workload)
        }
    }
}

/// A time series: parallel vectors of timestamps (ns) and values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    t: Vec<i64>,
    v: Vec<f64>,
}

impl Series {
    /// Builds a series from unsorted points; sorted by time (stable), keeping
    /// the first value for each duplicated timestamp. Returns the number of
    /// duplicates dropped.
    pub fn from_points(mut points: Vec<(i64, f64)>) -> (Self, usize) {
        points.sort_by_key(|p| p.0);
        let n = points.len();
        points.dedup_by_key(|p| p.0);
        let dropped = n - points.len();
        let (t, v) = points.into_iter().unzip();
        (Self { t, v }, dropped)
    }

    /// Timestamps in ns since the epoch, ascending, unique.
    pub fn times(&self) -> &[i64] {
        &self.t
    }

    /// Values, parallel to [`Self::times`].
    pub fn values(&self) -> &[f64] {
        &self.v
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// The sub-series with `from < t ≤ to` (binary search; no copy).
    pub fn window(&self, from_ns: i64, to_ns: i64) -> (&[i64], &[f64]) {
        let a = self.t.partition_point(|t| *t <= from_ns);
        let b = self.t.partition_point(|t| *t <= to_ns);
        let b = b.max(a);
        (&self.t[a..b], &self.v[a..b])
    }

    /// The largest gap between consecutive points (0 for fewer than 2).
    pub fn max_gap_ns(&self) -> i64 {
        self.t.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
    }
}

/// All samples of one container instance (one container of one pod).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerSeries {
    /// CPU cores.
    pub cpu: Series,
    /// Memory working set, bytes.
    pub memory: Series,
    /// GPU memory used, bytes.
    pub gpu_memory: Series,
    /// GPU utilisation, 0–1.
    pub gpu_util: Series,
    /// OOM kill times (ns), ascending, unique.
    pub ooms: Vec<i64>,
}

impl ContainerSeries {
    /// The series of `r` (`None` for [`Resource::Oom`]).
    pub fn series(&self, r: Resource) -> Option<&Series> {
        match r {
            Resource::Cpu => Some(&self.cpu),
            Resource::Memory => Some(&self.memory),
            Resource::GpuMemory => Some(&self.gpu_memory),
            Resource::GpuUtil => Some(&self.gpu_util),
            Resource::Oom => None,
        }
    }

    /// Latest timestamp of any sample or OOM.
    pub fn last_time(&self) -> Option<i64> {
        [
            self.cpu.t.last(),
            self.memory.t.last(),
            self.gpu_memory.t.last(),
            self.gpu_util.t.last(),
            self.ooms.last(),
        ]
        .into_iter()
        .flatten()
        .max()
        .copied()
    }
}

/// The usage of one workload: container name → pod → samples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkloadUsage {
    /// Per container name, per pod.
    pub containers: BTreeMap<String, BTreeMap<PodId, ContainerSeries>>,
}

/// Something odd but tolerated in the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum UsageWarning {
    /// Samples with an already-seen timestamp were dropped (first value kept).
    DuplicatesDropped {
        /// Workload.
        workload: String,
        /// Pod.
        pod: String,
        /// Container.
        container: String,
        /// Resource.
        resource: Resource,
        /// How many.
        count: usize,
    },
    /// Two Prometheus series carry the same container, resource and device;
    /// the later one's samples were dropped where the first has one.
    DuplicateSeries {
        /// File.
        file: String,
        /// Index of the dropped series in `data.result`.
        index: usize,
        /// Index of the series kept.
        first_index: usize,
        /// Resource.
        resource: Resource,
        /// Labels whose values differ between the two.
        differing_labels: Vec<String>,
        /// Samples dropped (same timestamp as a kept one).
        overlapping: usize,
    },
    /// Samples were skipped (e.g. Prometheus `NaN` stale markers).
    SamplesSkipped {
        /// File.
        file: String,
        /// Why.
        reason: String,
        /// How many.
        count: usize,
    },
}

impl fmt::Display for UsageWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageWarning::DuplicatesDropped {
                workload,
                pod,
                container,
                resource,
                count,
            } => write!(
                f,
                "{workload} pod {pod} container {container}: {count} duplicate {resource} sample(s) dropped (first kept)"
            ),
            UsageWarning::SamplesSkipped {
                file,
                reason,
                count,
            } => write!(f, "{file}: {count} sample(s) skipped: {reason}"),
            UsageWarning::DuplicateSeries {
                file,
                index,
                first_index,
                resource,
                differing_labels,
                overlapping,
            } => write!(
                f,
                "{file}: result #{index} duplicates result #{first_index} ({resource}; differing labels: {}); {overlapping} overlapping sample(s) dropped, not summed",
                if differing_labels.is_empty() {
                    "none".to_string()
                } else {
                    differing_labels.join(", ")
                }
            ),
        }
    }
}

/// Normalised usage for many workloads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UsageSet {
    workloads: BTreeMap<WorkloadKey, WorkloadUsage>,
    warnings: Vec<UsageWarning>,
    samples: usize,
}

impl UsageSet {
    /// Workloads in key order.
    pub fn workloads(&self) -> impl Iterator<Item = (&WorkloadKey, &WorkloadUsage)> {
        self.workloads.iter()
    }

    /// One workload.
    pub fn workload(&self, key: &WorkloadKey) -> Option<&WorkloadUsage> {
        self.workloads.get(key)
    }

    /// Number of workloads.
    pub fn len(&self) -> usize {
        self.workloads.len()
    }

    /// `true` when there are no workloads.
    pub fn is_empty(&self) -> bool {
        self.workloads.is_empty()
    }

    /// Warnings collected while reading and normalising.
    pub fn warnings(&self) -> &[UsageWarning] {
        &self.warnings
    }

    /// Number of samples kept (OOM events included).
    pub fn sample_count(&self) -> usize {
        self.samples
    }

    /// The latest timestamp in the set.
    pub fn last_time(&self) -> Option<Timestamp> {
        self.workloads
            .values()
            .flat_map(|w| w.containers.values())
            .flat_map(|pods| pods.values())
            .filter_map(ContainerSeries::last_time)
            .max()
            .and_then(Timestamp::from_unix_nanos)
    }
}

#[derive(Default)]
struct RawContainer {
    cpu: Vec<(i64, f64)>,
    memory: Vec<(i64, f64)>,
    gpu_memory: Vec<(i64, f64)>,
    gpu_util: Vec<(i64, f64)>,
    ooms: Vec<i64>,
}

/// Accumulates samples, then normalises them into a [`UsageSet`].
#[derive(Default)]
pub struct UsageBuilder {
    /// Workload → container → pod → index into `slots`.
    raw: BTreeMap<WorkloadKey, BTreeMap<String, BTreeMap<PodId, usize>>>,
    slots: Vec<RawContainer>,
    warnings: Vec<UsageWarning>,
}

/// A name that [`UsageBuilder::instance`] refused (the readers add where).
#[derive(Debug)]
pub(crate) struct NameError {
    pub(crate) field: &'static str,
    pub(crate) value: String,
    pub(crate) source: IdError,
}

/// Why a sample value is refused, or `None` when it is valid. OOM events
/// carry no value and are always valid.
pub(crate) fn check_value(resource: Resource, value: f64) -> Option<&'static str> {
    if resource == Resource::Oom {
        return None;
    }
    if value.is_nan() {
        Some("NaN")
    } else if value.is_infinite() {
        Some("infinite")
    } else if value < 0.0 {
        Some("negative")
    } else if resource == Resource::GpuUtil && value > 1.0 {
        Some("gpu_util must be a fraction in [0, 1]")
    } else if resource == Resource::Cpu && value > MAX_CPU_CORES {
        Some("above 1e6 cores, the largest accepted cpu sample")
    } else if matches!(resource, Resource::Memory | Resource::GpuMemory) && value > MAX_BYTES {
        Some("above 2^60 bytes (1 EiB), the largest accepted size")
    } else {
        None
    }
}

impl fmt::Debug for UsageBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsageBuilder")
            .field("workloads", &self.raw.len())
            .finish()
    }
}

impl UsageBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a warning to pass on to the set.
    pub fn warn(&mut self, w: UsageWarning) {
        self.warnings.push(w);
    }

    /// Adds one sample. `workload` defaults to the pod name without its
    /// replica suffix ([`workload_of_pod`]).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        namespace: &str,
        workload: Option<&str>,
        pod: &str,
        container: &str,
        resource: Resource,
        t: Timestamp,
        value: f64,
        origin: &SampleOrigin,
    ) -> Result<(), SampleError> {
        if let Some(reason) = check_value(resource, value) {
            return Err(SampleError::BadValue {
                file: origin.file.clone(),
                line: origin.line,
                column: origin.column,
                resource,
                value,
                reason,
            });
        }
        let slot = self
            .instance(namespace, workload, pod, container)
            .map_err(|e| SampleError::BadName {
                file: origin.file.clone(),
                line: origin.line,
                column: origin.column,
                field: e.field,
                value: e.value,
                source: e.source,
            })?;
        self.push_valid(slot, resource, t.unix_nanos(), value);
        Ok(())
    }

    /// The slot of one container instance, created on first use, after
    /// validating its names. The readers look a slot up once per distinct
    /// (namespace, workload, pod, container) and then call [`Self::push_valid`].
    pub(crate) fn instance(
        &mut self,
        namespace: &str,
        workload: Option<&str>,
        pod: &str,
        container: &str,
    ) -> Result<usize, NameError> {
        let name_err = |field, value: &str, source| NameError {
            field,
            value: value.to_string(),
            source,
        };
        let pod_id = PodId::new(pod).map_err(|e| name_err("pod", pod, e))?;
        let wl_name = match workload {
            Some(w) if !w.is_empty() => w,
            _ => workload_of_pod(pod),
        };
        let wl = WorkloadId::new(wl_name).map_err(|e| name_err("workload", wl_name, e))?;
        if container.is_empty() {
            return Err(name_err("container", container, IdError::Empty));
        }
        let key = WorkloadKey {
            namespace: namespace.to_string(),
            workload: wl,
        };
        let next = self.slots.len();
        let slot = *self
            .raw
            .entry(key)
            .or_default()
            .entry(container.to_string())
            .or_default()
            .entry(pod_id)
            .or_insert(next);
        if slot == next {
            self.slots.push(RawContainer::default());
        }
        Ok(slot)
    }

    /// Appends a sample already checked by [`check_value`] to a slot from
    /// [`Self::instance`].
    pub(crate) fn push_valid(&mut self, slot: usize, resource: Resource, ts: i64, value: f64) {
        let c = &mut self.slots[slot];
        match resource {
            Resource::Cpu => c.cpu.push((ts, value)),
            Resource::Memory => c.memory.push((ts, value)),
            Resource::GpuMemory => c.gpu_memory.push((ts, value)),
            Resource::GpuUtil => c.gpu_util.push((ts, value)),
            Resource::Oom => c.ooms.push(ts),
        }
    }

    /// Sorts, de-duplicates and returns the set.
    pub fn finish(mut self) -> UsageSet {
        let mut warnings = self.warnings;
        let mut workloads = BTreeMap::new();
        let mut samples = 0;
        for (key, containers) in self.raw {
            let mut wu = WorkloadUsage::default();
            for (cname, pods) in containers {
                let mut out = BTreeMap::new();
                for (pod, slot) in pods {
                    let raw = std::mem::take(&mut self.slots[slot]);
                    let mut cs = ContainerSeries::default();
                    for (res, pts, slot) in [
                        (Resource::Cpu, raw.cpu, &mut cs.cpu),
                        (Resource::Memory, raw.memory, &mut cs.memory),
                        (Resource::GpuMemory, raw.gpu_memory, &mut cs.gpu_memory),
                        (Resource::GpuUtil, raw.gpu_util, &mut cs.gpu_util),
                    ] {
                        let (s, dropped) = Series::from_points(pts);
                        if dropped > 0 {
                            warnings.push(UsageWarning::DuplicatesDropped {
                                workload: key.to_string(),
                                pod: pod.to_string(),
                                container: cname.clone(),
                                resource: res,
                                count: dropped,
                            });
                        }
                        samples += s.len();
                        *slot = s;
                    }
                    let mut ooms = raw.ooms;
                    ooms.sort_unstable();
                    ooms.dedup();
                    samples += ooms.len();
                    cs.ooms = ooms;
                    out.insert(pod, cs);
                }
                wu.containers.insert(cname, out);
            }
            workloads.insert(key, wu);
        }
        UsageSet {
            workloads,
            warnings,
            samples,
        }
    }
}

/// Characters Kubernetes uses for generated name suffixes
/// (`k8s.io/apimachinery/pkg/util/rand`: no vowels, no `0`, `1`, `3`).
fn is_safe_char(c: u8) -> bool {
    b"bcdfghjklmnpqrstvwxz2456789".contains(&c)
}

fn strip_safe_suffix(name: &str, min: usize, max: usize) -> Option<&str> {
    let (head, tail) = name.rsplit_once('-')?;
    let ok =
        !head.is_empty() && (min..=max).contains(&tail.len()) && tail.bytes().all(is_safe_char);
    ok.then_some(head)
}

/// The workload a pod belongs to, from its name: a Deployment pod
/// `<name>-<template-hash>-<5 chars>` gives `<name>`, a StatefulSet pod
/// `<name>-<ordinal>` gives `<name>`, a DaemonSet/Job pod `<name>-<5 chars>`
/// gives `<name>`; anything else is its own workload. Generated suffixes use
/// Kubernetes' vowel-free alphabet, so ordinary words are not stripped.
///
/// ```
/// use rightsizer_size::usage::workload_of_pod;
/// assert_eq!(workload_of_pod("vllm-7d9c4b8f6d-x2x7q"), "vllm");
/// assert_eq!(workload_of_pod("redis-2"), "redis");
/// assert_eq!(workload_of_pod("node-exporter-8wz5k"), "node-exporter");
/// assert_eq!(workload_of_pod("my-cache"), "my-cache");
/// ```
pub fn workload_of_pod(pod: &str) -> &str {
    if let Some(head) = strip_safe_suffix(pod, 5, 5) {
        if let Some(name) = strip_safe_suffix(head, 6, 10) {
            return name;
        }
        return head;
    }
    if let Some((head, tail)) = pod.rsplit_once('-') {
        if !head.is_empty() && !tail.is_empty() && tail.bytes().all(|c| c.is_ascii_digit()) {
            return head;
        }
    }
    pod
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names() {
        assert_eq!(
            workload_of_pod("api-5f7b9c6d48-abcde"),
            "api-5f7b9c6d48-abcde"
        ); // vowels: not generated
        assert_eq!(workload_of_pod("api-5f7b9c6d48-bcdfg"), "api");
        assert_eq!(workload_of_pod("trainer-worker-12"), "trainer-worker");
        assert_eq!(workload_of_pod("solo"), "solo");
        assert_eq!(workload_of_pod("-5"), "-5");
        assert_eq!(workload_of_pod("x-"), "x-");
    }

    #[test]
    fn series_sorted_and_deduplicated() {
        let (s, d) = Series::from_points(vec![(30, 3.0), (10, 1.0), (20, 2.0), (10, 9.0)]);
        assert_eq!(s.times(), &[10, 20, 30]);
        assert_eq!(s.values(), &[1.0, 2.0, 3.0]);
        assert_eq!(d, 1);
        assert_eq!(s.window(10, 30), (&[20i64, 30][..], &[2.0, 3.0][..]));
        assert_eq!(s.max_gap_ns(), 10);
    }

    #[test]
    fn bad_values_are_rejected() {
        let mut b = UsageBuilder::new();
        let t = Timestamp::from_unix_secs(1).unwrap();
        let o = SampleOrigin {
            file: "f.csv".into(),
            line: 3,
            column: 40,
        };
        for (r, v) in [
            (Resource::Cpu, f64::NAN),
            (Resource::Memory, -1.0),
            (Resource::Cpu, f64::INFINITY),
            (Resource::GpuUtil, 1.5),
        ] {
            let e = b.push("ns", None, "p", "c", r, t, v, &o).unwrap_err();
            assert!(e.to_string().starts_with("f.csv:3:40:"), "{e}");
        }
        assert!(b
            .push("ns", None, "p q", "c", Resource::Cpu, t, 1.0, &o)
            .is_err());
        assert!(b
            .push("ns", None, "p", "", Resource::Cpu, t, 1.0, &o)
            .is_err());
        // OOM values are ignored.
        b.push("ns", None, "p", "c", Resource::Oom, t, f64::NAN, &o)
            .unwrap();
    }
}
