//! GPU fragmentation with respect to a target workload (FGD, Weng et al.,
//! USENIX ATC '23, §2 of `fgd.md`).
//!
//! A node's leftover GPU capacity counts as *fragmented* for a task class `m`
//! unless `m` can actually run there; when it can, only the GPUs whose
//! remaining share is smaller than `m`'s per-GPU request are fragments. The
//! node measure is the expectation over a [`TargetWorkload`], and the cluster
//! measure is the sum over nodes.
//!
//! ```
//! use rightsizer_model::units::{GpuMilli, MilliCpu};
//! use rightsizer_place::frag::{ModelMask, NodeGpuState, TargetWorkload, TaskClass};
//! let class = TaskClass::new(MilliCpu::new(6000), GpuMilli::new(465), 1, ModelMask::ANY);
//! let target = TargetWorkload::new(vec![(class, 0.0933)])?;
//! // 1 core left, GPUs [200, 1000, 1000, 500]: the class lacks CPU, so all
//! // 2700 idle milli-GPU are fragments.
//! let node = NodeGpuState { cpu_free: MilliCpu::new(1000), model: Some(0), gpus: &[200, 1000, 1000, 500] };
//! assert!((target.node_fragmentation(&node) - 251.91).abs() < 0.01);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rightsizer_model::ids::AcceleratorModelId;
use rightsizer_model::units::{GpuMilli, MilliCpu};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A set of allowed GPU models, as a bit set over model indices `0..64`
/// interned by the caller (the cluster's model table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ModelMask(pub u64);

impl ModelMask {
    /// Every model (no constraint).
    pub const ANY: Self = Self(u64::MAX);
    /// No model at all (a constraint nothing satisfies).
    pub const NONE: Self = Self(0);

    /// The set holding only model `index` (`index < 64`).
    pub const fn only(index: u8) -> Self {
        Self(1u64 << (index & 63))
    }

    /// The union with model `index`.
    pub const fn with(self, index: u8) -> Self {
        Self(self.0 | (1u64 << (index & 63)))
    }

    /// `true` when this is [`ModelMask::ANY`].
    pub const fn is_any(self) -> bool {
        self.0 == u64::MAX
    }

    /// `true` when a node of `model` is allowed. A node without GPUs
    /// (`None`) is never allowed.
    pub const fn allows(self, model: Option<u8>) -> bool {
        match model {
            Some(m) => self.0 & (1u64 << (m & 63)) != 0,
            None => false,
        }
    }
}

/// A task class of the target workload: CPU, per-GPU share, GPU count and
/// allowed GPU models. Memory is not part of a class (FGD ignores it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaskClass {
    /// CPU request.
    pub cpu: MilliCpu,
    /// GPU share per GPU: `< 1000` is a fraction of one GPU, `1000` whole
    /// GPUs, `0` CPU-only.
    pub gpu_milli: GpuMilli,
    /// Number of GPUs (1 for a fractional request, 0 for CPU-only).
    pub num_gpu: u32,
    /// Allowed GPU models.
    pub models: ModelMask,
}

impl TaskClass {
    /// A class from its parts.
    pub const fn new(cpu: MilliCpu, gpu_milli: GpuMilli, num_gpu: u32, models: ModelMask) -> Self {
        Self {
            cpu,
            gpu_milli,
            num_gpu,
            models,
        }
    }

    /// `true` when the class asks for no GPU.
    pub const fn is_cpu_only(&self) -> bool {
        self.num_gpu == 0 || self.gpu_milli.get() == 0
    }
}

/// The GPU-relevant state of one node: free CPU, its GPU model and the free
/// milli-GPU of each of its GPUs (0..=1000 each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeGpuState<'a> {
    /// Free CPU.
    pub cpu_free: MilliCpu,
    /// Interned GPU model; `None` for a node without GPUs.
    pub model: Option<u8>,
    /// Free milli-GPU per GPU, in device order.
    pub gpus: &'a [u32],
}

impl NodeGpuState<'_> {
    /// Total idle milli-GPU on the node.
    pub fn idle(&self) -> u64 {
        self.gpus.iter().map(|&g| u64::from(g)).sum()
    }
}

/// Where a node falls relative to a task class (the simulator's quadrants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Quadrant {
    /// Neither the GPUs nor the CPU fit.
    Q1LackBoth,
    /// The GPUs do not fit, the CPU does.
    Q2LackGpu,
    /// Both fit: only GPUs too small for the class are fragments.
    Q3Satisfied,
    /// The GPUs fit, the CPU does not.
    Q4LackCpu,
    /// The class is CPU-only: no GPU is usable by it.
    XAxis,
    /// The node has no GPU or a model the class does not accept.
    NoAccess,
}

/// The quadrant of `node` for `class`.
pub fn quadrant(node: &NodeGpuState<'_>, class: &TaskClass) -> Quadrant {
    if class.is_cpu_only() {
        return Quadrant::XAxis;
    }
    if node.gpus.is_empty() || !class.models.allows(node.model) {
        return Quadrant::NoAccess;
    }
    let milli = class.gpu_milli.get();
    let fitting = node.gpus.iter().filter(|&&g| g >= milli).count() as u64;
    let gpu_fit = fitting >= u64::from(class.num_gpu);
    let cpu_fit = node.cpu_free >= class.cpu;
    match (gpu_fit, cpu_fit) {
        (true, true) => Quadrant::Q3Satisfied,
        (true, false) => Quadrant::Q4LackCpu,
        (false, true) => Quadrant::Q2LackGpu,
        (false, false) => Quadrant::Q1LackBoth,
    }
}

/// `F_n(m)`: the milli-GPU on `node` that `class` could not use.
pub fn class_fragmentation(node: &NodeGpuState<'_>, class: &TaskClass) -> u64 {
    if class.is_cpu_only() || node.gpus.is_empty() || !class.models.allows(node.model) {
        return node.idle();
    }
    let milli = class.gpu_milli.get();
    let mut fitting = 0u32;
    let mut small = 0u64;
    let mut idle = 0u64;
    for &g in node.gpus {
        idle += u64::from(g);
        if g >= milli {
            fitting += 1;
        } else {
            small += u64::from(g);
        }
    }
    if fitting >= class.num_gpu && node.cpu_free >= class.cpu {
        small
    } else {
        idle
    }
}

/// Why a target workload is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FragError {
    /// A class probability is negative, NaN or infinite.
    #[error(
        "class {index} has probability {probability}, which is not a finite non-negative number"
    )]
    BadProbability {
        /// Index of the class.
        index: usize,
        /// The offending value.
        probability: f64,
    },
}

/// A target workload: a discrete distribution over task classes. The
/// probabilities are used as given (the golden values in the FGD test suite
/// use unnormalised weights); [`TargetWorkload::normalized`] rescales them.
///
/// It deserialises through [`TargetWorkload::new`] (so its derived memo keys
/// are always rebuilt and its probabilities checked). Its model masks use an
/// engine's internal model numbering; configuration should name models with
/// [`NamedTargetWorkload`], which the engine resolves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TargetWorkloadRepr", into = "TargetWorkloadRepr")]
pub struct TargetWorkload {
    classes: Vec<TaskClass>,
    probs: Vec<f64>,
    /// Sorted distinct class CPU requests (for memo keys).
    cpu_levels: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
struct TargetWorkloadRepr {
    classes: Vec<(TaskClass, f64)>,
}

impl TryFrom<TargetWorkloadRepr> for TargetWorkload {
    type Error = FragError;
    fn try_from(r: TargetWorkloadRepr) -> Result<Self, FragError> {
        TargetWorkload::new(r.classes)
    }
}

impl From<TargetWorkload> for TargetWorkloadRepr {
    fn from(t: TargetWorkload) -> Self {
        Self {
            classes: t.classes.into_iter().zip(t.probs).collect(),
        }
    }
}

/// One task class of a [`NamedTargetWorkload`]: the device models it accepts
/// are named (empty: any model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTaskClass {
    /// CPU request in millicores.
    pub cpu: MilliCpu,
    /// Milli-GPU per device (1000 for whole devices, 0 for CPU-only).
    pub gpu_milli: GpuMilli,
    /// Devices (0 for CPU-only).
    pub num_gpu: u32,
    /// Accepted device models; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<AcceleratorModelId>,
    /// Probability (weight) of the class.
    pub probability: f64,
}

/// A target workload as configuration: classes naming their device models.
/// The placement engine resolves it against its models
/// ([`NamedTargetWorkload::resolve`]).
///
/// ```
/// use rightsizer_place::frag::NamedTargetWorkload;
/// let t: NamedTargetWorkload = serde_json::from_str(
///     r#"{"classes":[{"cpu":4000,"gpu_milli":500,"num_gpu":1,"models":["T4"],"probability":1.0}]}"#,
/// )?;
/// assert_eq!(t.classes[0].models[0].as_str(), "T4");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTargetWorkload {
    /// The classes.
    pub classes: Vec<NamedTaskClass>,
}

/// A class of a [`NamedTargetWorkload`] names a model the engine does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target workload class {class}: unknown accelerator model {model}")]
#[non_exhaustive]
pub struct UnknownTargetModel {
    /// Index of the class.
    pub class: usize,
    /// The model.
    pub model: AcceleratorModelId,
}

impl NamedTargetWorkload {
    /// The workload with model names replaced by `index`'s numbering.
    pub fn resolve(
        &self,
        index: impl Fn(&AcceleratorModelId) -> Option<u8>,
    ) -> Result<Result<TargetWorkload, FragError>, UnknownTargetModel> {
        let mut out = Vec::with_capacity(self.classes.len());
        for (k, c) in self.classes.iter().enumerate() {
            let mut mask = if c.models.is_empty() {
                ModelMask::ANY
            } else {
                ModelMask::NONE
            };
            for m in &c.models {
                let i = index(m).ok_or_else(|| UnknownTargetModel {
                    class: k,
                    model: m.clone(),
                })?;
                mask = mask.with(i);
            }
            out.push((
                TaskClass::new(c.cpu, c.gpu_milli, c.num_gpu, mask),
                c.probability,
            ));
        }
        Ok(TargetWorkload::new(out))
    }
}

impl TargetWorkload {
    /// A workload from `(class, probability)` pairs.
    pub fn new(classes: Vec<(TaskClass, f64)>) -> Result<Self, FragError> {
        for (index, (_, p)) in classes.iter().enumerate() {
            if !p.is_finite() || *p < 0.0 {
                return Err(FragError::BadProbability {
                    index,
                    probability: *p,
                });
            }
        }
        let (classes, probs): (Vec<_>, Vec<_>) = classes.into_iter().unzip();
        let mut cpu_levels: Vec<u64> = classes.iter().map(|c| c.cpu.get()).collect();
        cpu_levels.sort_unstable();
        cpu_levels.dedup();
        Ok(Self {
            classes,
            probs,
            cpu_levels,
        })
    }

    /// The same classes with probabilities rescaled to sum to 1 (unchanged
    /// when they sum to 0).
    pub fn normalized(&self) -> Self {
        let total: f64 = self.probs.iter().sum();
        let mut out = self.clone();
        if total > 0.0 {
            for p in &mut out.probs {
                *p /= total;
            }
        }
        out
    }

    /// The classes and their probabilities, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&TaskClass, f64)> + '_ {
        self.classes.iter().zip(self.probs.iter().copied())
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    /// `true` when there are no classes.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// Probability mass of CPU-only classes (a floor on the fragmentation rate).
    pub fn cpu_only_mass(&self) -> f64 {
        self.iter()
            .filter(|(c, _)| c.is_cpu_only())
            .map(|(_, p)| p)
            .sum()
    }

    /// `F_n(M) = Σ_m p_m · F_n(m)`, in milli-GPU.
    pub fn node_fragmentation(&self, node: &NodeGpuState<'_>) -> f64 {
        let idle = node.idle();
        if idle == 0 {
            return 0.0;
        }
        let mut f = 0.0;
        for (c, p) in self.classes.iter().zip(&self.probs) {
            f += p * class_fragmentation(node, c) as f64;
        }
        f
    }

    /// How many distinct class CPU requests fit in `cpu_free`: the node's
    /// fragmentation depends on its free CPU only through this number.
    fn cpu_level(&self, cpu_free: MilliCpu) -> u32 {
        self.cpu_levels.partition_point(|&c| c <= cpu_free.get()) as u32
    }

    /// The cluster's fragmentation: the sum of node measures, the idle
    /// milli-GPU and the capacity.
    pub fn cluster_fragmentation<'a>(
        &self,
        nodes: impl IntoIterator<Item = NodeGpuState<'a>>,
        capacity: GpuMilli,
    ) -> ClusterFragmentation {
        let mut amount = 0.0;
        let mut idle = 0u64;
        for n in nodes {
            amount += self.node_fragmentation(&n);
            idle += n.idle();
        }
        ClusterFragmentation {
            amount,
            idle,
            capacity: u64::from(capacity.get()),
        }
    }
}

/// Cluster fragmentation: `F(M)` with the idle and total GPU capacity it is
/// measured against.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterFragmentation {
    /// `F(M)` in milli-GPU.
    pub amount: f64,
    /// Idle milli-GPU over all nodes.
    pub idle: u64,
    /// Total milli-GPU capacity.
    pub capacity: u64,
}

impl ClusterFragmentation {
    /// Fragmentation rate `F(M) / idle` in percent (0 when nothing is idle).
    pub fn rate_pct(&self) -> f64 {
        if self.idle == 0 {
            0.0
        } else {
            100.0 * self.amount / self.idle as f64
        }
    }

    /// Fragmentation amount as a percentage of GPU capacity (Fig. 7a).
    pub fn amount_pct(&self) -> f64 {
        if self.capacity == 0 {
            0.0
        } else {
            100.0 * self.amount / self.capacity as f64
        }
    }
}

/// A fast, deterministic hasher for small integer keys (FxHash).
#[derive(Default, Clone, Copy, Debug)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Memo of node fragmentation by node state, for one target workload.
///
/// The key is the node's GPU model, how many class CPU thresholds its free
/// CPU meets, and its sorted per-GPU free shares, so nodes in the same state
/// (and states that differ only in CPU the workload cannot tell apart) share
/// one entry. Nodes with more than 8 GPUs bypass the memo.
#[derive(Debug, Clone, Default)]
pub struct FragMemo {
    map: FxHashMap<(u32, u128), f64>,
    hits: u64,
    misses: u64,
}

impl FragMemo {
    /// An empty memo.
    pub fn new() -> Self {
        Self::default()
    }

    /// `target.node_fragmentation(node)`, memoised.
    pub fn node_fragmentation(&mut self, target: &TargetWorkload, node: &NodeGpuState<'_>) -> f64 {
        if node.gpus.len() > 8 || node.gpus.iter().any(|&g| g > 0xFFFF) {
            return target.node_fragmentation(node);
        }
        let mut sorted = [0u32; 8];
        sorted[..node.gpus.len()].copy_from_slice(node.gpus);
        sorted[..node.gpus.len()].sort_unstable();
        let mut packed = 0u128;
        for (i, &g) in sorted[..node.gpus.len()].iter().enumerate() {
            packed |= u128::from(g + 1) << (16 * i);
        }
        let model = node.model.map_or(0xFF, u32::from);
        let key = (model << 16 | target.cpu_level(node.cpu_free), packed);
        if let Some(&v) = self.map.get(&key) {
            self.hits += 1;
            return v;
        }
        self.misses += 1;
        let v = target.node_fragmentation(node);
        self.map.insert(key, v);
        v
    }

    /// `(hits, misses)` so far.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cls(cpu: u64, milli: u32, n: u32, models: ModelMask) -> TaskClass {
        TaskClass::new(MilliCpu::new(cpu), GpuMilli::new(milli), n, models)
    }

    // Model indices for the golden fixtures.
    const GTX1080: u8 = 0;
    const RTX2080: u8 = 1;
    const T4: u8 = 2;
    const P100: u8 = 3;
    const V100M16: u8 = 4;

    fn spec(s: &str) -> ModelMask {
        match s {
            "" => ModelMask::ANY,
            "2080" => ModelMask::only(RTX2080),
            "T4" => ModelMask::only(T4),
            "P100" => ModelMask::only(P100),
            "V100M16" => ModelMask::only(V100M16),
            other => panic!("unknown model {other}"),
        }
    }

    /// The 35-class typed list of the simulator's `frag_test.go`
    /// (`TestingGenerateGetTypicalPods`), as (cpu, milli, gpus, spec, %).
    const TYPED: &[(u64, u32, u32, &str, f64)] = &[
        (6000, 465, 1, "", 9.33),
        (8000, 440, 1, "2080", 9.15),
        (8000, 475, 1, "T4", 8.76),
        (8000, 440, 1, "P100", 8.72),
        (2000, 465, 1, "", 8.68),
        (12000, 900, 1, "", 8.65),
        (4000, 900, 1, "", 8.43),
        (16000, 678, 1, "T4", 8.36),
        (8000, 500, 1, "", 8.29),
        (6000, 511, 1, "", 8.11),
        (14000, 1000, 2, "2080", 0.54),
        (4000, 1000, 1, "2080", 0.43),
        (32000, 1000, 2, "T4", 0.43),
        (16000, 1000, 1, "V100M16", 0.40),
        (64000, 1000, 2, "", 0.40),
        (10000, 1000, 2, "", 0.40),
        (11400, 1000, 1, "T4", 0.36),
        (16000, 1000, 1, "T4", 0.36),
        (4000, 1000, 2, "", 0.36),
        (14000, 1000, 2, "V100M16", 0.36),
        (8000, 1000, 4, "", 0.36),
        (16000, 1000, 2, "", 0.32),
        (2000, 1000, 1, "T4", 0.32),
        (6000, 1000, 1, "", 0.32),
        (4000, 1000, 1, "", 0.32),
        (5000, 1000, 1, "", 0.32),
        (32000, 1000, 4, "V100M16", 0.32),
        (32000, 1000, 2, "", 0.32),
        (24000, 1000, 8, "2080", 0.32),
        (40000, 1000, 4, "", 0.29),
        (32000, 1000, 8, "", 0.29),
        (32000, 1000, 1, "T4", 0.29),
        (16000, 1000, 1, "", 0.25),
        (7000, 1000, 1, "V100M16", 0.25),
        (24000, 1000, 1, "T4", 0.25),
    ];

    /// The 31-class list with CPU-only classes
    /// (`TestingGenerateGetTypicalPodsWithNonGpu`).
    const NON_GPU: &[(u64, u32, u32, f64)] = &[
        (15700, 1000, 1, 28.69),
        (11900, 1000, 1, 18.93),
        (11400, 1000, 1, 12.27),
        (1000, 0, 0, 7.36),
        (18710, 1000, 1, 4.85),
        (8200, 1000, 1, 3.79),
        (16400, 1000, 1, 3.31),
        (9810, 1000, 1, 1.97),
        (15200, 1000, 1, 1.87),
        (11200, 1000, 1, 1.81),
        (14200, 1000, 1, 1.76),
        (12000, 0, 0, 1.65),
        (14900, 1000, 1, 1.39),
        (60200, 1000, 4, 1.23),
        (64200, 1000, 8, 1.07),
        (32200, 1000, 4, 1.01),
        (17400, 1000, 2, 0.91),
        (30200, 1000, 2, 0.69),
        (16000, 1000, 1, 0.64),
        (15000, 1000, 1, 0.59),
        (64000, 1000, 8, 0.53),
        (15000, 0, 0, 0.53),
        (11910, 1000, 1, 0.53),
        (120200, 1000, 8, 0.48),
        (11300, 1000, 1, 0.37),
        (30000, 1000, 2, 0.32),
        (9800, 1000, 1, 0.32),
        (8000, 1000, 1, 0.32),
        (2000, 1000, 1, 0.27),
        (2000, 80, 1, 0.27),
        (1000, 1000, 1, 0.27),
    ];

    fn typed() -> TargetWorkload {
        TargetWorkload::new(
            TYPED
                .iter()
                .map(|&(c, m, n, s, p)| (cls(c, m, n, spec(s)), p / 100.0))
                .collect(),
        )
        .unwrap()
    }

    fn non_gpu() -> TargetWorkload {
        TargetWorkload::new(
            NON_GPU
                .iter()
                .map(|&(c, m, n, p)| (cls(c, m, n, ModelMask::ANY), p / 100.0))
                .collect(),
        )
        .unwrap()
    }

    fn node(cpu: u64, model: u8, gpus: &[u32]) -> NodeGpuState<'_> {
        NodeGpuState {
            cpu_free: MilliCpu::new(cpu),
            model: Some(model),
            gpus,
        }
    }

    #[test]
    fn golden_single_class_q4() {
        let t = TargetWorkload::new(vec![(cls(6000, 465, 1, ModelMask::ANY), 0.0933)]).unwrap();
        let n = node(1000, GTX1080, &[200, 1000, 1000, 500]);
        assert_eq!(
            quadrant(&n, t.iter().next().unwrap().0),
            Quadrant::Q4LackCpu
        );
        assert_eq!(n.idle(), 2700);
        assert!((t.node_fragmentation(&n) - 251.91).abs() < 0.01);
    }

    #[test]
    fn golden_non_gpu_list() {
        let t = non_gpu();
        let f = t.node_fragmentation(&node(64000, P100, &[1000; 8]));
        assert!((f - 887.20).abs() < 0.01, "{f}");
        let half = [1000, 1000, 1000, 1000, 0, 0, 0, 0];
        let f = t.node_fragmentation(&node(32000, P100, &half));
        assert!((f - 554.4).abs() < 0.01, "{f}");
        let f = t.node_fragmentation(&node(0, P100, &half));
        assert!((f - 4000.0).abs() < 0.01, "{f}");
    }

    #[test]
    fn golden_typed_list() {
        let t = typed();
        let f = t.node_fragmentation(&node(1000, GTX1080, &[200, 1000, 1000, 500]));
        assert!((f - 2566.62).abs() < 0.01, "{f}");
        let f = t.node_fragmentation(&node(1000, GTX1080, &[1000; 4]));
        assert!((f - 3802.40).abs() < 0.01, "{f}");
        let f = t.node_fragmentation(&node(1000, GTX1080, &[1000; 8]));
        assert!((f - 7604.80).abs() < 0.01, "{f}");
    }

    #[test]
    fn memo_agrees_with_direct() {
        let t = typed();
        let mut memo = FragMemo::new();
        for gpus in [
            [200u32, 1000, 1000, 500],
            [1000, 500, 200, 1000],
            [0, 0, 0, 0],
        ] {
            for cpu in [0, 1000, 8000, 64000] {
                let n = node(cpu, T4, &gpus);
                assert_eq!(memo.node_fragmentation(&t, &n), t.node_fragmentation(&n));
            }
        }
        assert!(memo.stats().0 > 0);
    }

    #[test]
    fn cluster_measures() {
        let t = non_gpu().normalized();
        let a = [1000u32; 8];
        let b = [0u32; 8];
        let c = t.cluster_fragmentation(
            [node(0, P100, &a), node(64000, P100, &b)],
            GpuMilli::new(16000),
        );
        assert_eq!(c.idle, 8000);
        assert!((c.rate_pct() - 100.0).abs() < 1e-9);
        assert!((c.amount_pct() - 50.0).abs() < 1e-9);
        assert!(t.cpu_only_mass() > 0.0);
    }

    #[test]
    fn rejects_bad_probability() {
        let e = TargetWorkload::new(vec![(cls(1, 1, 1, ModelMask::ANY), f64::NAN)]).unwrap_err();
        assert!(matches!(e, FragError::BadProbability { index: 0, .. }));
    }
}
