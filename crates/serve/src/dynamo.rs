//! NVIDIA Dynamo's SLA-planner replica formulas, reproduced exactly.
//!
//! From the SLA planner's scaling algorithm (ai-dynamo/dynamo,
//! `docs/architecture/sla_planner.md`, "Calculating Number of Replicas"):
//!
//! ```text
//! predicted_load   = next_requests · next_isl / interval · min(1, prefill_correction)
//! prefill_replicas = ceil(predicted_load / interpolated_throughput / gpus_per_engine)
//!
//! corrected_itl    = itl / decode_correction
//! thpt_per_gpu     = find_best_throughput_per_gpu(corrected_itl, context = isl + osl / 2)
//! decode_replicas  = ceil(next_requests · next_osl / interval / thpt_per_gpu / gpus_per_engine)
//! ```
//!
//! Here the request count over the interval is given as a rate
//! (`next_requests / interval`). Correction factors are observed ÷ expected
//! latency ([`Corrections`]). Dynamo applies the prefill correction capped at
//! 1 (`min(1, ·)`), so a slower-than-profiled prefill does not add replicas;
//! we follow it to the letter.
//!
//! ```
//! use rightsizer_serve::dynamo::{prefill_replicas, decode_replicas};
//! // 10 req/s of 3000-token prompts, 40 000 tok/s/GPU prefill, 2 GPUs/engine:
//! // 30 000 / 40 000 / 2 = 0.375 → 1 engine.
//! assert_eq!(prefill_replicas(10.0, 3000.0, 1.0, 40_000.0, 2), 1);
//! // 10 req/s × 300 output tokens at 500 tok/s/GPU, 1 GPU/engine: 6 engines.
//! assert_eq!(decode_replicas(10.0, 300.0, 500.0, 1), 6);
//! ```

use serde::{Deserialize, Serialize};

/// Observed ÷ expected latency, from a running deployment (1 = as profiled).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Corrections {
    /// Observed TTFT ÷ interpolated TTFT.
    pub prefill: f64,
    /// Observed ITL ÷ interpolated ITL.
    pub decode: f64,
}

impl Default for Corrections {
    fn default() -> Self {
        Corrections {
            prefill: 1.0,
            decode: 1.0,
        }
    }
}

impl Corrections {
    /// The factor prefill load is multiplied by: `min(1, prefill)`.
    pub fn prefill_load_factor(&self) -> f64 {
        self.prefill.min(1.0)
    }

    /// The ITL target decode is profiled at: `itl / decode`.
    pub fn corrected_itl(&self, itl_ms: f64) -> f64 {
        itl_ms / self.decode
    }
}

/// Dynamo's prefill replica count: `ceil(rate · isl · min(1, correction) /
/// thpt_per_gpu / gpus_per_engine)`.
pub fn prefill_replicas(
    rate: f64,
    isl: f64,
    correction: f64,
    thpt_per_gpu: f64,
    gpus_per_engine: u32,
) -> u64 {
    let load = rate * isl * correction.min(1.0);
    (load / thpt_per_gpu / f64::from(gpus_per_engine)).ceil() as u64
}

/// Dynamo's decode replica count: `ceil(rate · osl / thpt_per_gpu /
/// gpus_per_engine)`, with `thpt_per_gpu` read at the corrected ITL and the
/// context `isl + osl / 2` ([`decode_context`]).
pub fn decode_replicas(rate: f64, osl: f64, thpt_per_gpu: f64, gpus_per_engine: u32) -> u64 {
    (rate * osl / thpt_per_gpu / f64::from(gpus_per_engine)).ceil() as u64
}

/// The context length Dynamo reads decode throughput at: `isl + osl / 2`.
pub fn decode_context(isl: f64, osl: f64) -> f64 {
    isl + osl / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_prefill() {
        // 4.2 req/s · 2048 · 0.8 = 6881.28 tok/s; / 3000 / 1 = 2.29 → 3.
        assert_eq!(prefill_replicas(4.2, 2048.0, 0.8, 3000.0, 1), 3);
        // correction above 1 is capped: 2 req/s · 1000 · 1 / 1000 / 2 = 1.
        assert_eq!(prefill_replicas(2.0, 1000.0, 1.7, 1000.0, 2), 1);
        // exact multiple: 8 · 1000 / 1000 / 4 = 2.
        assert_eq!(prefill_replicas(8.0, 1000.0, 1.0, 1000.0, 4), 2);
        assert_eq!(prefill_replicas(0.0, 1000.0, 1.0, 1000.0, 4), 0);
    }

    #[test]
    fn hand_computed_decode() {
        // 3 req/s · 150 = 450 tok/s; / 100 / 2 = 2.25 → 3.
        assert_eq!(decode_replicas(3.0, 150.0, 100.0, 2), 3);
        assert_eq!(decode_context(3000.0, 150.0), 3075.0);
        let c = Corrections {
            prefill: 1.3,
            decode: 1.25,
        };
        assert_eq!(c.corrected_itl(50.0), 40.0);
        assert_eq!(c.prefill_load_factor(), 1.0);
    }
}
