//! Phase profiles: how fast one replica runs prefill and decode.
//!
//! A [`PhaseProfile`] belongs to one model on one [`ReplicaShape`] (device
//! model, tensor × pipeline parallel degree) and answers three questions:
//!
//! * the TTFT of a prefill of `isl` tokens ([`PhaseProfile::prefill_ttft_ms`]);
//! * the prefill throughput in tokens/s per GPU at that length
//!   ([`PhaseProfile::prefill_thpt_per_gpu`]);
//! * the best decode throughput per GPU whose inter-token latency stays within
//!   a target at a context length ([`PhaseProfile::decode_thpt_per_gpu`]).
//!
//! It is either **measured** — tables in NVIDIA Dynamo's profiler layout
//! ([`PrefillTable`], [`DecodeTable`]), validated on construction: lengths
//! agree, values are positive, and latency never falls as the input grows
//! or the KV cache fills ([`ServeError::NonMonotone`]) — or **estimated**
//! from the device's spec sheet with the first-order model
//! ([`FirstOrder`]): compute-bound prefill, memory-bandwidth-bound decode,
//! and the KV cache limited to the memory the weights leave free. Every
//! output carries the [`ProfileSource`].
//!
//! ```
//! use rightsizer_serve::profile::{DecodeTable, PhaseProfile, PrefillTable, ReplicaShape};
//! let prefill = PrefillTable {
//!     prefill_isl: vec![512.0, 1024.0, 2048.0],
//!     prefill_ttft: vec![40.0, 75.0, 160.0],
//!     prefill_thpt_per_gpu: vec![12800.0, 13653.0, 12800.0],
//! };
//! let decode = DecodeTable {
//!     max_kv_tokens: 100_000.0,
//!     x_kv_usage: vec![0.1, 0.5, 1.0],
//!     y_context_length: vec![2048.0, 2048.0, 2048.0],
//!     z_itl: vec![10.0, 20.0, 40.0],
//!     z_thpt_per_gpu: vec![500.0, 1800.0, 2500.0],
//! };
//! let p = PhaseProfile::measured(ReplicaShape::new("H100-SXM", 1, 1), prefill, decode)?;
//! assert_eq!(p.prefill_ttft_ms(768.0), Some(57.5));
//! // ITL 30 ms lies halfway between the 20 ms and 40 ms points.
//! assert_eq!(p.decode_thpt_per_gpu(30.0, 1500.0), Some(2150.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::{positive, ServeError};
use rightsizer_model::accelerator::AcceleratorModel;
use serde::{Deserialize, Serialize};

/// The model being served.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmModel {
    /// Name for reports.
    pub name: String,
    /// Parameters in billions.
    pub params_billion: f64,
    /// Bytes per weight (2 for FP16/BF16).
    pub bytes_per_param: f64,
    /// KV-cache bytes per token of context (all layers, keys and values).
    pub kv_bytes_per_token: f64,
}

impl LlmModel {
    /// A model from its architecture: `kv = 2 (K and V) · layers · hidden · bytes`.
    /// OPT-13B (40 layers, hidden 5120, FP16) holds 819 200 bytes per token.
    pub fn from_architecture(
        name: impl Into<String>,
        params_billion: f64,
        bytes_per_param: f64,
        layers: u32,
        hidden: u32,
    ) -> Self {
        LlmModel {
            name: name.into(),
            params_billion,
            bytes_per_param,
            kv_bytes_per_token: 2.0 * f64::from(layers) * f64::from(hidden) * bytes_per_param,
        }
    }

    /// Weight bytes.
    pub fn weight_bytes(&self) -> f64 {
        self.params_billion * 1e9 * self.bytes_per_param
    }

    /// Checks every field is finite and positive.
    pub fn validate(&self) -> Result<(), ServeError> {
        positive("model.params_billion", self.params_billion)?;
        positive("model.bytes_per_param", self.bytes_per_param)?;
        positive("model.kv_bytes_per_token", self.kv_bytes_per_token)?;
        Ok(())
    }
}

/// One replica's hardware: `tp × pp` devices of one model.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReplicaShape {
    /// Device model id (catalog id, e.g. `A100-80GB`).
    pub device: String,
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel degree.
    pub pp: u32,
}

impl ReplicaShape {
    /// A shape.
    pub fn new(device: impl Into<String>, tp: u32, pp: u32) -> Self {
        ReplicaShape {
            device: device.into(),
            tp,
            pp,
        }
    }

    /// Devices per replica.
    pub fn gpus(&self) -> u32 {
        self.tp * self.pp
    }

    /// `A100-80GB tp2` (`pp` shown only when above 1).
    pub fn label(&self) -> String {
        if self.pp > 1 {
            format!("{} tp{} pp{}", self.device, self.tp, self.pp)
        } else {
            format!("{} tp{}", self.device, self.tp)
        }
    }
}

/// Where a profile's numbers come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileSource {
    /// Measured tables.
    Measured,
    /// The first-order model from the device's spec sheet: an estimate.
    Estimated,
}

/// Dynamo profiler prefill layout: one row per input length.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefillTable {
    /// Input sequence lengths (tokens), strictly increasing.
    pub prefill_isl: Vec<f64>,
    /// TTFT in milliseconds, non-decreasing.
    pub prefill_ttft: Vec<f64>,
    /// Prefill throughput in tokens/s per GPU.
    pub prefill_thpt_per_gpu: Vec<f64>,
}

/// Dynamo profiler decode layout: one row per (KV usage, context length) point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeTable {
    /// KV-cache capacity of one replica, tokens.
    pub max_kv_tokens: f64,
    /// KV-cache usage of each point, in `(0, 1]`.
    pub x_kv_usage: Vec<f64>,
    /// Context length of each point (tokens).
    pub y_context_length: Vec<f64>,
    /// Inter-token latency in milliseconds.
    pub z_itl: Vec<f64>,
    /// Decode throughput in tokens/s per GPU.
    pub z_thpt_per_gpu: Vec<f64>,
}

fn check_len(field: String, expected: usize, found: usize) -> Result<(), ServeError> {
    if expected == found {
        Ok(())
    } else {
        Err(ServeError::Shape {
            field,
            expected,
            found,
        })
    }
}

impl PrefillTable {
    /// Validates lengths, positivity, increasing lengths and monotone TTFT.
    pub fn validate(&self, field: &str) -> Result<(), ServeError> {
        let n = self.prefill_isl.len();
        if n == 0 {
            return Err(ServeError::InvalidParameter {
                field: format!("{field}.prefill_isl"),
                message: "needs at least one row".into(),
            });
        }
        check_len(format!("{field}.prefill_ttft"), n, self.prefill_ttft.len())?;
        check_len(
            format!("{field}.prefill_thpt_per_gpu"),
            n,
            self.prefill_thpt_per_gpu.len(),
        )?;
        for i in 0..n {
            positive(format!("{field}.prefill_isl[{i}]"), self.prefill_isl[i])?;
            positive(format!("{field}.prefill_ttft[{i}]"), self.prefill_ttft[i])?;
            positive(
                format!("{field}.prefill_thpt_per_gpu[{i}]"),
                self.prefill_thpt_per_gpu[i],
            )?;
            if i > 0 {
                if self.prefill_isl[i] <= self.prefill_isl[i - 1] {
                    return Err(ServeError::InvalidParameter {
                        field: format!("{field}.prefill_isl[{i}]"),
                        message: "input lengths must be strictly increasing".into(),
                    });
                }
                if self.prefill_ttft[i] < self.prefill_ttft[i - 1] {
                    return Err(ServeError::NonMonotone {
                        field: format!("{field}.prefill_ttft"),
                        axis: "prefill_isl",
                        index: i,
                        value: self.prefill_ttft[i],
                        previous_index: i - 1,
                        previous: self.prefill_ttft[i - 1],
                    });
                }
            }
        }
        Ok(())
    }

    /// Linear interpolation of a column at `isl`; below the first row the
    /// first row's value (a shorter prompt is never slower); above the last
    /// row `None` (not profiled).
    fn interp(&self, col: &[f64], isl: f64) -> Option<f64> {
        interp_clamped(&self.prefill_isl, col, isl)
    }
}

/// `ys` at `x` on the polyline `(xs, ys)` (`xs` increasing); the first value
/// below the range, `None` above it.
fn interp_clamped(xs: &[f64], ys: &[f64], x: f64) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    if x <= xs[0] {
        return Some(ys[0]);
    }
    for i in 1..xs.len() {
        if x <= xs[i] {
            let t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
            return Some(ys[i - 1] + t * (ys[i] - ys[i - 1]));
        }
    }
    None
}

/// One context-length level of a decode table, points by increasing KV usage.
#[derive(Clone, Debug, PartialEq)]
struct DecodeLevel {
    context: f64,
    /// (kv_usage, itl_ms, thpt_per_gpu)
    points: Vec<(f64, f64, f64)>,
}

impl DecodeTable {
    /// Validates lengths, ranges and that ITL never falls as KV usage grows
    /// at one context length.
    pub fn validate(&self, field: &str) -> Result<(), ServeError> {
        self.levels(field).map(|_| ())
    }

    fn levels(&self, field: &str) -> Result<Vec<DecodeLevel>, ServeError> {
        positive(format!("{field}.max_kv_tokens"), self.max_kv_tokens)?;
        let n = self.x_kv_usage.len();
        if n == 0 {
            return Err(ServeError::InvalidParameter {
                field: format!("{field}.x_kv_usage"),
                message: "needs at least one point".into(),
            });
        }
        check_len(
            format!("{field}.y_context_length"),
            n,
            self.y_context_length.len(),
        )?;
        check_len(format!("{field}.z_itl"), n, self.z_itl.len())?;
        check_len(
            format!("{field}.z_thpt_per_gpu"),
            n,
            self.z_thpt_per_gpu.len(),
        )?;
        let mut rows: Vec<(f64, f64, usize)> = Vec::with_capacity(n);
        for i in 0..n {
            let u = positive(format!("{field}.x_kv_usage[{i}]"), self.x_kv_usage[i])?;
            if u > 1.0 {
                return Err(ServeError::InvalidParameter {
                    field: format!("{field}.x_kv_usage[{i}]"),
                    message: format!("KV usage is a fraction in (0, 1], got {u}"),
                });
            }
            let c = positive(
                format!("{field}.y_context_length[{i}]"),
                self.y_context_length[i],
            )?;
            positive(format!("{field}.z_itl[{i}]"), self.z_itl[i])?;
            positive(
                format!("{field}.z_thpt_per_gpu[{i}]"),
                self.z_thpt_per_gpu[i],
            )?;
            rows.push((c, u, i));
        }
        rows.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        let mut levels: Vec<DecodeLevel> = Vec::new();
        let mut prev: Option<usize> = None;
        for &(c, u, i) in &rows {
            let new_level = levels.last().is_none_or(|l| l.context != c);
            if new_level {
                levels.push(DecodeLevel {
                    context: c,
                    points: Vec::new(),
                });
                prev = None;
            }
            if let Some(p) = prev {
                if self.z_itl[i] < self.z_itl[p] {
                    return Err(ServeError::NonMonotone {
                        field: format!("{field}.z_itl"),
                        axis: "x_kv_usage",
                        index: i,
                        value: self.z_itl[i],
                        previous_index: p,
                        previous: self.z_itl[p],
                    });
                }
            }
            prev = Some(i);
            let level = levels.last_mut().expect("pushed above");
            level
                .points
                .push((u, self.z_itl[i], self.z_thpt_per_gpu[i]));
        }
        Ok(levels)
    }
}

/// Best throughput per GPU at one context level with ITL within `itl_ms`:
/// the largest throughput of the points within the target, and of the point
/// where the ITL polyline crosses the target (linear in KV usage).
fn best_at_level(level: &DecodeLevel, itl_ms: f64) -> Option<f64> {
    let mut best: Option<f64> = None;
    let mut take = |v: f64| best = Some(best.map_or(v, |b: f64| b.max(v)));
    for (k, &(_, itl, thpt)) in level.points.iter().enumerate() {
        if itl <= itl_ms {
            take(thpt);
            if let Some(&(_, itl2, thpt2)) = level.points.get(k + 1) {
                if itl2 > itl_ms {
                    let t = (itl_ms - itl) / (itl2 - itl);
                    take(thpt + t * (thpt2 - thpt));
                }
            }
        }
    }
    best
}

/// First-order model parameters (see [`FirstOrder`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EstimateParams {
    /// Model FLOPs utilisation of prefill (fraction of dense BF16/FP16 peak).
    pub mfu: f64,
    /// Memory-bandwidth utilisation of decode.
    pub mbu: f64,
    /// Fraction of device memory kept free (activations, fragmentation).
    pub memory_reserve: f64,
    /// Efficiency kept per doubling of the replica's device count
    /// (collectives): a replica of `g` devices runs at `eff^log2(g)`.
    pub scaling_efficiency: f64,
    /// Largest decode batch the server runs.
    pub max_batch: u32,
}

impl Default for EstimateParams {
    fn default() -> Self {
        EstimateParams {
            mfu: 0.5,
            mbu: 0.7,
            memory_reserve: 0.1,
            scaling_efficiency: 0.9,
            max_batch: 256,
        }
    }
}

impl EstimateParams {
    /// Checks ranges.
    pub fn validate(&self, field: &str) -> Result<(), ServeError> {
        for (name, v) in [
            ("mfu", self.mfu),
            ("mbu", self.mbu),
            ("scaling_efficiency", self.scaling_efficiency),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                return Err(ServeError::InvalidParameter {
                    field: format!("{field}.{name}"),
                    message: format!("must be in (0, 1], got {v}"),
                });
            }
        }
        if !(0.0..1.0).contains(&self.memory_reserve) {
            return Err(ServeError::InvalidParameter {
                field: format!("{field}.memory_reserve"),
                message: format!("must be in [0, 1), got {}", self.memory_reserve),
            });
        }
        if self.max_batch == 0 {
            return Err(ServeError::InvalidParameter {
                field: format!("{field}.max_batch"),
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// The first-order model of one replica, from the device's spec sheet.
///
/// With `G` devices, dense peak `F`, bandwidth `B`, memory `M`, weights `W`
/// bytes, `P` parameters, KV bytes per token `k` and efficiency
/// `e = scaling_efficiency^log2(G)`:
///
/// * prefill of `n` tokens: `TTFT = max(2·P·n / (G·F·mfu·e), W / (G·B·mbu·e))`,
///   throughput per GPU `n / TTFT / G`;
/// * decode at batch `b` and context `c`: `ITL = max((W + b·c·k) / (G·B·mbu·e),
///   2·P·b / (G·F·mfu·e))`, with `W + b·c·k ≤ G·M·(1 − reserve)` and
///   `b ≤ max_batch`; the best throughput within an ITL target is at the
///   largest integer batch that meets it, `b / ITL / G` tokens/s per GPU.
///
/// Attention's quadratic prefill term and scheduling overheads are left out;
/// the figures are estimates, and every output says so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirstOrder {
    /// The model.
    pub model: LlmModel,
    /// Dense peak of the device, TFLOPS (BF16, else FP16).
    pub peak_tflops: f64,
    /// Memory bandwidth, GB/s.
    pub bandwidth_gb_s: f64,
    /// Device memory, bytes.
    pub memory_bytes: f64,
    /// Devices per replica.
    pub gpus: u32,
    /// The parameters.
    pub params: EstimateParams,
}

impl FirstOrder {
    /// The model of `shape` on the spec sheet `device`.
    pub fn new(
        model: &LlmModel,
        device: &AcceleratorModel,
        gpus: u32,
        params: &EstimateParams,
    ) -> Result<Self, ServeError> {
        let peak = if device.bf16.0 > 0.0 {
            device.bf16.0
        } else {
            device.fp16.0
        };
        let field = format!("devices.{}", device.id.as_str());
        Ok(FirstOrder {
            model: model.clone(),
            peak_tflops: positive(format!("{field}.bf16"), peak)?,
            bandwidth_gb_s: positive(
                format!("{field}.memory_bandwidth"),
                device.memory_bandwidth.0,
            )?,
            memory_bytes: positive(format!("{field}.memory"), device.memory.get() as f64)?,
            gpus,
            params: params.clone(),
        })
    }

    fn eff(&self) -> f64 {
        self.params
            .scaling_efficiency
            .powf(f64::from(self.gpus).log2())
    }
    fn flops(&self) -> f64 {
        f64::from(self.gpus) * self.peak_tflops * 1e12 * self.params.mfu * self.eff()
    }
    fn bw(&self) -> f64 {
        f64::from(self.gpus) * self.bandwidth_gb_s * 1e9 * self.params.mbu * self.eff()
    }
    /// KV tokens the memory left after weights and reserve holds (0 when the
    /// weights do not fit).
    pub fn max_kv_tokens(&self) -> f64 {
        let free = f64::from(self.gpus) * self.memory_bytes * (1.0 - self.params.memory_reserve)
            - self.model.weight_bytes();
        (free / self.model.kv_bytes_per_token).max(0.0).floor()
    }
    fn prefill_ttft_ms(&self, isl: f64) -> Option<f64> {
        if self.max_kv_tokens() < isl {
            return None;
        }
        let p = self.model.params_billion * 1e9;
        let compute = 2.0 * p * isl / self.flops();
        let weights = self.model.weight_bytes() / self.bw();
        Some(compute.max(weights) * 1e3)
    }
    fn itl_ms(&self, batch: f64, context: f64) -> f64 {
        let p = self.model.params_billion * 1e9;
        let mem = (self.model.weight_bytes() + batch * context * self.model.kv_bytes_per_token)
            / self.bw();
        let compute = 2.0 * p * batch / self.flops();
        mem.max(compute) * 1e3
    }
    fn decode_thpt_per_gpu(&self, itl_ms: f64, context: f64) -> Option<f64> {
        let k = self.model.kv_bytes_per_token;
        let p = self.model.params_billion * 1e9;
        let t = itl_ms / 1e3;
        let b_mem = (t * self.bw() - self.model.weight_bytes()) / (context * k);
        let b_comp = t * self.flops() / (2.0 * p);
        let b_fit = self.max_kv_tokens() / context;
        let b = b_mem
            .min(b_comp)
            .min(b_fit)
            .min(f64::from(self.params.max_batch))
            .floor();
        if b.is_nan() || b < 1.0 {
            return None;
        }
        let itl = self.itl_ms(b, context);
        Some(b / (itl / 1e3) / f64::from(self.gpus))
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Body {
    Measured {
        prefill: PrefillTable,
        decode: DecodeTable,
        levels: Vec<DecodeLevel>,
    },
    Estimated(FirstOrder),
}

/// The prefill and decode performance of one replica shape.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseProfile {
    shape: ReplicaShape,
    body: Body,
}

impl PhaseProfile {
    /// A measured profile; the tables are validated.
    pub fn measured(
        shape: ReplicaShape,
        prefill: PrefillTable,
        decode: DecodeTable,
    ) -> Result<Self, ServeError> {
        let field = format!("profiles[{}]", shape.label());
        check_shape(&shape, &field)?;
        prefill.validate(&format!("{field}.prefill"))?;
        let levels = decode.levels(&format!("{field}.decode"))?;
        Ok(PhaseProfile {
            shape,
            body: Body::Measured {
                prefill,
                decode,
                levels,
            },
        })
    }

    /// A first-order estimate of `model` on the spec sheet `device`.
    pub fn estimated(
        model: &LlmModel,
        device: &AcceleratorModel,
        shape: ReplicaShape,
        params: &EstimateParams,
    ) -> Result<Self, ServeError> {
        check_shape(&shape, &format!("shapes[{}]", shape.label()))?;
        model.validate()?;
        params.validate("estimate")?;
        let f = FirstOrder::new(model, device, shape.gpus(), params)?;
        Ok(PhaseProfile {
            shape,
            body: Body::Estimated(f),
        })
    }

    /// The replica shape.
    pub fn shape(&self) -> &ReplicaShape {
        &self.shape
    }

    /// Measured or estimated.
    pub fn source(&self) -> ProfileSource {
        match self.body {
            Body::Measured { .. } => ProfileSource::Measured,
            Body::Estimated(_) => ProfileSource::Estimated,
        }
    }

    /// KV-cache capacity of one replica in tokens.
    pub fn max_kv_tokens(&self) -> f64 {
        match &self.body {
            Body::Measured { decode, .. } => decode.max_kv_tokens,
            Body::Estimated(f) => f.max_kv_tokens(),
        }
    }

    /// TTFT of one prefill of `isl` tokens (no queueing), `None` when the
    /// length is beyond the profile or does not fit.
    pub fn prefill_ttft_ms(&self, isl: f64) -> Option<f64> {
        match &self.body {
            Body::Measured { prefill, .. } => prefill.interp(&prefill.prefill_ttft, isl),
            Body::Estimated(f) => f.prefill_ttft_ms(isl),
        }
    }

    /// Prefill tokens/s per GPU at input length `isl`.
    pub fn prefill_thpt_per_gpu(&self, isl: f64) -> Option<f64> {
        match &self.body {
            Body::Measured { prefill, .. } => prefill.interp(&prefill.prefill_thpt_per_gpu, isl),
            Body::Estimated(f) => {
                let ttft = f.prefill_ttft_ms(isl)?;
                Some(isl / (ttft / 1e3) / f64::from(f.gpus))
            }
        }
    }

    /// The best decode tokens/s per GPU with inter-token latency at most
    /// `itl_ms` at context length `context` (Dynamo's
    /// `find_best_throughput_per_gpu`). A measured table is read at the
    /// smallest profiled context at least `context` (a longer context is
    /// never faster, so this never over-promises); `None` above the largest.
    pub fn decode_thpt_per_gpu(&self, itl_ms: f64, context: f64) -> Option<f64> {
        if !(itl_ms.is_finite() && itl_ms > 0.0 && context.is_finite() && context > 0.0) {
            return None;
        }
        match &self.body {
            Body::Measured { levels, .. } => {
                let level = levels.iter().find(|l| l.context >= context)?;
                best_at_level(level, itl_ms)
            }
            Body::Estimated(f) => f.decode_thpt_per_gpu(itl_ms, context),
        }
    }

    /// The smallest ITL any batch reaches at `context` (the decode floor), if
    /// the profile covers it.
    pub fn decode_floor_ms(&self, context: f64) -> Option<f64> {
        match &self.body {
            Body::Measured { levels, .. } => {
                let level = levels.iter().find(|l| l.context >= context)?;
                level.points.first().map(|p| p.1)
            }
            Body::Estimated(f) => (f.max_kv_tokens() >= context).then(|| f.itl_ms(1.0, context)),
        }
    }

    /// The tables of a measured profile.
    pub fn tables(&self) -> Option<(&PrefillTable, &DecodeTable)> {
        match &self.body {
            Body::Measured {
                prefill, decode, ..
            } => Some((prefill, decode)),
            Body::Estimated(_) => None,
        }
    }
}

fn check_shape(shape: &ReplicaShape, field: &str) -> Result<(), ServeError> {
    if shape.tp == 0 || shape.pp == 0 || shape.gpus() > 64 {
        return Err(ServeError::InvalidParameter {
            field: field.to_string(),
            message: format!(
                "tp and pp must be at least 1 and tp·pp at most 64, got tp {} pp {}",
                shape.tp, shape.pp
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode() -> DecodeTable {
        DecodeTable {
            max_kv_tokens: 1000.0,
            x_kv_usage: vec![0.2, 0.6, 0.2, 0.6],
            y_context_length: vec![1000.0, 1000.0, 4000.0, 4000.0],
            z_itl: vec![10.0, 30.0, 12.0, 40.0],
            z_thpt_per_gpu: vec![100.0, 300.0, 90.0, 250.0],
        }
    }

    fn prefill() -> PrefillTable {
        PrefillTable {
            prefill_isl: vec![100.0, 200.0],
            prefill_ttft: vec![10.0, 30.0],
            prefill_thpt_per_gpu: vec![10000.0, 6666.0],
        }
    }

    #[test]
    fn non_monotone_tables_are_refused() {
        let mut p = prefill();
        p.prefill_ttft = vec![30.0, 10.0];
        let e = PhaseProfile::measured(ReplicaShape::new("X", 1, 1), p, decode()).unwrap_err();
        assert!(
            matches!(
                e,
                ServeError::NonMonotone {
                    axis: "prefill_isl",
                    index: 1,
                    ..
                }
            ),
            "{e}"
        );
        let mut d = decode();
        d.z_itl[3] = 5.0;
        let e = PhaseProfile::measured(ReplicaShape::new("X", 1, 1), prefill(), d).unwrap_err();
        assert!(
            matches!(
                e,
                ServeError::NonMonotone {
                    axis: "x_kv_usage",
                    index: 3,
                    previous_index: 2,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn shape_and_value_errors() {
        let mut d = decode();
        d.z_itl.pop();
        assert!(matches!(
            PhaseProfile::measured(ReplicaShape::new("X", 1, 1), prefill(), d),
            Err(ServeError::Shape {
                expected: 4,
                found: 3,
                ..
            })
        ));
        let mut p = prefill();
        p.prefill_thpt_per_gpu[0] = -1.0;
        assert!(matches!(
            PhaseProfile::measured(ReplicaShape::new("X", 1, 1), p, decode()),
            Err(ServeError::InvalidValue { .. })
        ));
    }

    #[test]
    fn decode_reads_the_next_context_level_up() {
        let p = PhaseProfile::measured(ReplicaShape::new("X", 1, 1), prefill(), decode()).unwrap();
        // Context 2000 reads the 4000 level: ITL 26 ms is half-way 12 → 40.
        assert_eq!(p.decode_thpt_per_gpu(26.0, 2000.0), Some(170.0));
        assert_eq!(p.decode_thpt_per_gpu(30.0, 1000.0), Some(300.0));
        assert_eq!(p.decode_thpt_per_gpu(9.0, 1000.0), None);
        assert_eq!(p.decode_thpt_per_gpu(30.0, 5000.0), None);
        assert_eq!(p.prefill_ttft_ms(50.0), Some(10.0));
        assert_eq!(p.prefill_ttft_ms(250.0), None);
    }

    #[test]
    fn first_order_matches_the_reference_floor() {
        // hetero.md §6: 13.48 GB of weights on an A100-80 (2039 GB/s) at
        // full bandwidth: 6.61 ms.
        let model = LlmModel {
            name: "llama-2-7b".into(),
            params_billion: 6.74,
            bytes_per_param: 2.0,
            kv_bytes_per_token: 524288.0,
        };
        let cat = rightsizer_catalog::Catalog::builtin();
        let a100 = cat.accelerator("A100-80GB").unwrap();
        let params = EstimateParams {
            mbu: 1.0,
            ..EstimateParams::default()
        };
        let p =
            PhaseProfile::estimated(&model, a100, ReplicaShape::new("A100-80GB", 1, 1), &params)
                .unwrap();
        let floor = p.decode_floor_ms(1.0).unwrap();
        assert!((floor - 6.61).abs() < 0.01, "{floor}");
        assert_eq!(p.source(), ProfileSource::Estimated);
        // More ITL budget never buys less throughput.
        let a = p.decode_thpt_per_gpu(20.0, 1024.0).unwrap();
        let b = p.decode_thpt_per_gpu(40.0, 1024.0).unwrap();
        assert!(b >= a, "{a} {b}");
    }
}
