//! Accelerator selection for one LLM-serving workload: every option with its
//! cost and energy per unit of work, latency headroom, the Pareto set, and the
//! infeasible options with the reason.
//!
//! Throughput comes from a measured profile when one is given, otherwise from
//! the first-order models of the reference, and every evaluated option says
//! which ([`ProfileSource`]):
//!
//! * **fit**: `weights + KV(batch, context) + reserve·memory <= count·memory`;
//! * **decode floor** (memory-bound): `TPOT >= (weights + KV reads) / bandwidth`;
//! * decode throughput at the largest batch that meets the TPOT SLO and fits.
//!
//! Unit economics are exact on the price side: `$/1M tokens = $/h ÷ (tokens/s
//! · 3600) · 10⁶` and `J/token = watts ÷ tokens/s`.
//!
//! ```
//! use rightsizer_plan::select::{decode_floor_ms, cost_per_million_tokens, joules_per_token};
//! use rightsizer_model::units::PricePerHour;
//! // Llama-2-7B FP16 (13.48 GB) on an L4 (300 GB/s): 44.93 ms per token at best.
//! assert!((decode_floor_ms(13.48e9, 300.0) - 44.933).abs() < 1e-2);
//! let p = PricePerHour::from_micros(1_006_000); // g5.xlarge
//! assert!((cost_per_million_tokens(p, 500.0) - 0.558889).abs() < 1e-6);
//! assert!((joules_per_token(700.0, 1000.0) - 0.70).abs() < 1e-12);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::PlanError;
use rightsizer_catalog::{price_per_device, Catalog};
use rightsizer_model::accelerator::AcceleratorModel;
use rightsizer_model::units::{PricePerHour, Watts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Memory-bound decode floor in milliseconds: `bytes / (GB/s · 10⁹) · 10³`.
pub fn decode_floor_ms(bytes_read_per_token: f64, bandwidth_gb_s: f64) -> f64 {
    bytes_read_per_token / (bandwidth_gb_s * 1e9) * 1e3
}

/// GiB/s (Neuron devices report these) to GB/s.
pub fn gib_s_to_gb_s(gib_s: f64) -> f64 {
    gib_s * (1u64 << 30) as f64 / 1e9
}

/// Dollars per million tokens at `tokens_per_s`.
pub fn cost_per_million_tokens(price: PricePerHour, tokens_per_s: f64) -> f64 {
    price.as_dollars() / (tokens_per_s * 3600.0) * 1e6
}

/// Joules per token at average board power `watts`.
pub fn joules_per_token(watts: f64, tokens_per_s: f64) -> f64 {
    watts / tokens_per_s
}

/// An LLM-serving workload described by its size and SLO.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmWorkload {
    /// Name for reports.
    pub name: String,
    /// Parameters in billions (e.g. 6.74 for Llama-2-7B).
    pub params_billion: f64,
    /// Bytes per parameter (2 for FP16/BF16, 1 for INT8/FP8).
    pub bytes_per_param: f64,
    /// KV-cache bytes per token of context (0 when unknown: batch then stays at `max_batch`).
    #[serde(default)]
    pub kv_bytes_per_token: f64,
    /// Context length per sequence (input + output tokens).
    pub context_tokens: u32,
    /// Largest batch the server runs.
    pub max_batch: u32,
    /// Time-per-output-token SLO in milliseconds.
    pub tpot_slo_ms: f64,
    /// Fraction of device memory kept free (activations, fragmentation); 0.1 by default.
    #[serde(default = "default_reserve")]
    pub memory_reserve: f64,
}

fn default_reserve() -> f64 {
    0.1
}

impl LlmWorkload {
    /// Weight bytes.
    pub fn weight_bytes(&self) -> f64 {
        self.params_billion * 1e9 * self.bytes_per_param
    }

    fn validate(&self) -> Result<(), PlanError> {
        let checks = [
            ("params_billion", self.params_billion),
            ("bytes_per_param", self.bytes_per_param),
            ("tpot_slo_ms", self.tpot_slo_ms),
        ];
        for (f, v) in checks {
            if !(v.is_finite() && v > 0.0) {
                return Err(PlanError::InvalidRate {
                    field: format!("workload.{f}"),
                    value: v,
                });
            }
        }
        if !(self.kv_bytes_per_token.is_finite() && self.kv_bytes_per_token >= 0.0) {
            return Err(PlanError::InvalidRate {
                field: "workload.kv_bytes_per_token".into(),
                value: self.kv_bytes_per_token,
            });
        }
        if !(0.0..1.0).contains(&self.memory_reserve) {
            return Err(PlanError::InvalidParameter {
                field: "workload.memory_reserve".into(),
                message: format!("must be in [0, 1), got {}", self.memory_reserve),
            });
        }
        if self.max_batch == 0 {
            return Err(PlanError::InvalidParameter {
                field: "workload.max_batch".into(),
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// One candidate: a device model, how many of them form a replica, and the
/// price of that replica.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Name for reports, e.g. `aws:g5.xlarge` or `A10G`.
    pub name: String,
    /// The device spec.
    pub model: AcceleratorModel,
    /// Devices per replica (tensor parallel degree).
    pub count: u32,
    /// Hourly price of one replica (host included when known).
    pub price: Option<PricePerHour>,
}

/// A measured operating point that overrides the estimate for a candidate.
///
/// `tokens_per_s == 0` records a measurement that found no rate meeting the
/// SLO: the candidate is then reported as [`Infeasible::MeasuredCannotMeetSlo`]
/// instead of being estimated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasuredPoint {
    /// Output tokens/s of one replica under the SLO (0: the SLO was not met at any rate).
    pub tokens_per_s: f64,
    /// Measured TPOT at that throughput (ms).
    pub tpot_ms: f64,
    /// Measured average board power of the replica, if known.
    #[serde(default)]
    pub power: Option<Watts>,
}

/// Where a throughput figure came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileSource {
    /// A measured profile.
    Measured,
    /// A first-order estimate from the spec sheet (memory-bound decode).
    SpecEstimate,
}

/// Why an option cannot serve the workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Infeasible {
    /// Weights plus KV plus reserve exceed the replica's memory.
    DoesNotFit {
        /// Bytes needed (weights + one sequence of KV).
        need_bytes: f64,
        /// Usable bytes (memory × count × (1 − reserve)).
        usable_bytes: f64,
    },
    /// Even at batch 1 the decode floor exceeds the SLO.
    CannotMeetSlo {
        /// Decode floor at batch 1 (ms).
        floor_ms: f64,
        /// The SLO (ms).
        slo_ms: f64,
    },
    /// No price is known for the option.
    NoPrice,
    /// A measured profile found no rate at which the option meets the SLO.
    MeasuredCannotMeetSlo {
        /// The SLO (ms).
        slo_ms: f64,
    },
}

/// One feasible option.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluated {
    /// Candidate name.
    pub name: String,
    /// Output tokens/s of one replica.
    pub tokens_per_s: f64,
    /// TPOT at that throughput (ms).
    pub tpot_ms: f64,
    /// Batch size used (estimates only).
    pub batch: u32,
    /// `1 − TPOT/SLO`.
    pub headroom: f64,
    /// Dollars per million output tokens.
    pub usd_per_million_tokens: f64,
    /// Joules per output token (at max board power for estimates: an upper bound).
    pub joules_per_token: f64,
    /// Measured or estimated.
    pub source: ProfileSource,
    /// `true` when on the cost/energy Pareto frontier.
    pub pareto: bool,
}

/// The result of [`select`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Feasible options, cheapest per token first.
    pub feasible: Vec<Evaluated>,
    /// Infeasible options by name, with the reason.
    pub infeasible: BTreeMap<String, Infeasible>,
}

impl Selection {
    /// The Pareto-optimal options (cost, energy), cheapest first.
    pub fn pareto(&self) -> impl Iterator<Item = &Evaluated> {
        self.feasible.iter().filter(|e| e.pareto)
    }
}

/// Candidates from a catalog: `count` devices of each listed accelerator
/// model, priced at the catalog's cheapest per-device price (× count), named
/// `"<id>x<count>"`. Models without any priced instance get `price: None`
/// (reported as [`Infeasible::NoPrice`]).
///
/// ```
/// use rightsizer_catalog::Catalog;
/// use rightsizer_plan::select::candidates_from_catalog;
/// let c = candidates_from_catalog(&Catalog::builtin(), &[("A10G", 1), ("H100-SXM", 2)])?;
/// assert_eq!(c[1].name, "H100-SXMx2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn candidates_from_catalog(
    catalog: &Catalog,
    models: &[(&str, u32)],
) -> Result<Vec<Candidate>, PlanError> {
    let mut out = Vec::new();
    for (i, &(id, count)) in models.iter().enumerate() {
        let model = catalog
            .accelerator(id)
            .ok_or_else(|| PlanError::UnknownAccelerator {
                name: id.to_string(),
                field: format!("models[{i}]"),
            })?;
        if count == 0 {
            return Err(PlanError::InvalidParameter {
                field: format!("models[{i}].count"),
                message: "must be at least 1".into(),
            });
        }
        let price = catalog
            .cheapest_per_device(id)
            .and_then(price_per_device)
            .and_then(|p| p.checked_mul(u64::from(count)));
        out.push(Candidate {
            name: format!("{id}x{count}"),
            model: model.clone(),
            count,
            price,
        });
    }
    Ok(out)
}

/// Evaluates every candidate for `w`; `measured` overrides estimates by name.
pub fn select(
    w: &LlmWorkload,
    candidates: &[Candidate],
    measured: &BTreeMap<String, MeasuredPoint>,
) -> Result<Selection, PlanError> {
    w.validate()?;
    if candidates.is_empty() {
        return Err(PlanError::EmptyCatalog);
    }
    for name in measured.keys() {
        if !candidates.iter().any(|c| &c.name == name) {
            return Err(PlanError::UnknownAccelerator {
                name: name.clone(),
                field: "measured".into(),
            });
        }
    }
    let mut feasible = Vec::new();
    let mut infeasible = BTreeMap::new();
    for c in candidates {
        let n = f64::from(c.count.max(1));
        let mem = c.model.memory.get() as f64 * n;
        let usable = mem * (1.0 - w.memory_reserve);
        let kv_seq = w.kv_bytes_per_token * f64::from(w.context_tokens);
        let need = w.weight_bytes() + kv_seq;
        if need > usable {
            infeasible.insert(
                c.name.clone(),
                Infeasible::DoesNotFit {
                    need_bytes: need,
                    usable_bytes: usable,
                },
            );
            continue;
        }
        let Some(price) = c.price else {
            infeasible.insert(c.name.clone(), Infeasible::NoPrice);
            continue;
        };
        if measured.get(&c.name).is_some_and(|m| m.tokens_per_s == 0.0) {
            infeasible.insert(
                c.name.clone(),
                Infeasible::MeasuredCannotMeetSlo {
                    slo_ms: w.tpot_slo_ms,
                },
            );
            continue;
        }
        let (tps, tpot, batch, power, source) = if let Some(m) = measured.get(&c.name) {
            let p = m.power.map_or(f64::from(c.model.max_power.get()) * n, |p| {
                f64::from(p.get())
            });
            (m.tokens_per_s, m.tpot_ms, 0, p, ProfileSource::Measured)
        } else {
            let bw = c.model.memory_bandwidth.0 * n;
            let floor = decode_floor_ms(w.weight_bytes() + kv_seq, bw);
            if floor > w.tpot_slo_ms {
                infeasible.insert(
                    c.name.clone(),
                    Infeasible::CannotMeetSlo {
                        floor_ms: floor,
                        slo_ms: w.tpot_slo_ms,
                    },
                );
                continue;
            }
            // Largest batch within the SLO and memory.
            let mut b = w.max_batch;
            if kv_seq > 0.0 {
                let by_mem = ((usable - w.weight_bytes()) / kv_seq).floor().max(1.0) as u32;
                let by_slo = (((w.tpot_slo_ms / 1e3) * bw * 1e9 - w.weight_bytes()) / kv_seq)
                    .floor()
                    .max(1.0) as u32;
                b = b.min(by_mem).min(by_slo);
            }
            let tpot = decode_floor_ms(w.weight_bytes() + f64::from(b) * kv_seq, bw);
            let power = f64::from(c.model.max_power.get()) * n;
            (
                f64::from(b) * 1e3 / tpot,
                tpot,
                b,
                power,
                ProfileSource::SpecEstimate,
            )
        };
        if !(tps.is_finite() && tps > 0.0) {
            return Err(PlanError::InvalidThroughput {
                field: format!("measured[{}].tokens_per_s", c.name),
                value: tps,
            });
        }
        if tpot > w.tpot_slo_ms {
            infeasible.insert(
                c.name.clone(),
                Infeasible::CannotMeetSlo {
                    floor_ms: tpot,
                    slo_ms: w.tpot_slo_ms,
                },
            );
            continue;
        }
        feasible.push(Evaluated {
            name: c.name.clone(),
            tokens_per_s: tps,
            tpot_ms: tpot,
            batch,
            headroom: 1.0 - tpot / w.tpot_slo_ms,
            usd_per_million_tokens: cost_per_million_tokens(price, tps),
            joules_per_token: if power > 0.0 {
                joules_per_token(power, tps)
            } else {
                f64::NAN
            },
            source,
            pareto: false,
        });
    }
    feasible.sort_by(|a, b| {
        a.usd_per_million_tokens
            .total_cmp(&b.usd_per_million_tokens)
            .then(a.joules_per_token.total_cmp(&b.joules_per_token))
            .then(a.name.cmp(&b.name))
    });
    // Pareto: sorted by cost, keep strictly improving energy.
    let mut best_e = f64::INFINITY;
    for e in &mut feasible {
        let j = if e.joules_per_token.is_nan() {
            f64::INFINITY
        } else {
            e.joules_per_token
        };
        if j < best_e {
            e.pareto = true;
            best_e = j;
        }
    }
    Ok(Selection {
        feasible,
        infeasible,
    })
}

/// An SVG scatter plot of cost (x) against energy (y) per token, with the
/// Pareto frontier drawn as a line. Plain SVG text, no dependencies.
pub fn pareto_svg(sel: &Selection, title: &str) -> String {
    let pts: Vec<&Evaluated> = sel
        .feasible
        .iter()
        .filter(|e| e.joules_per_token.is_finite())
        .collect();
    let (w, h, pad) = (640.0, 420.0, 60.0);
    let xmax = pts
        .iter()
        .map(|e| e.usd_per_million_tokens)
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.1;
    let ymax = pts
        .iter()
        .map(|e| e.joules_per_token)
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.1;
    let sx = |x: f64| pad + x / xmax * (w - 2.0 * pad);
    let sy = |y: f64| h - pad - y / ymax * (h - 2.0 * pad);
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n\
         <line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n\
         <line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">$ per 1M output tokens (max {:.3})</text>\n\
         <text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">J per token (max {:.3})</text>\n",
        w / 2.0,
        esc(title),
        h - pad,
        w - pad,
        h - pad,
        h - pad,
        w / 2.0,
        h - 20.0,
        xmax / 1.1,
        h / 2.0,
        h / 2.0,
        ymax / 1.1,
    );
    let frontier: Vec<String> = pts
        .iter()
        .filter(|e| e.pareto)
        .map(|e| {
            format!(
                "{:.1},{:.1}",
                sx(e.usd_per_million_tokens),
                sy(e.joules_per_token)
            )
        })
        .collect();
    if frontier.len() > 1 {
        s += &format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n",
            frontier.join(" ")
        );
    }
    for e in &pts {
        let (x, y) = (sx(e.usd_per_million_tokens), sy(e.joules_per_token));
        let fill = if e.pareto { "#d62728" } else { "#1f77b4" };
        let tag = match e.source {
            ProfileSource::Measured => "",
            ProfileSource::SpecEstimate => " (estimate)",
        };
        s += &format!(
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{fill}\"/>\n<text x=\"{:.1}\" y=\"{:.1}\">{}{}</text>\n",
            x + 6.0,
            y - 6.0,
            esc(&e.name),
            tag
        );
    }
    s += "</svg>\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rightsizer_model::accelerator::{GigabytesPerSecond, TeraOps};

    fn spec(id: &str, mem_gb: f64, bw: f64, watts: u32) -> AcceleratorModel {
        let json = format!(
            r#"{{"id":"{id}","kind":"gpu","vendor":"x","name":"{id}","memory":"{}","bf16":100.0,"fp16":100.0,"int8":200.0,
                "memory_bandwidth":{bw},"idle_power":0,"max_power":{watts},"source":"test"}}"#,
            (mem_gb * 1e9) as u64
        );
        let mut m: AcceleratorModel = serde_json::from_str(&json).expect("model json");
        m.memory_bandwidth = GigabytesPerSecond(bw);
        m.bf16 = TeraOps(100.0);
        m
    }

    fn llama(params: f64, slo: f64) -> LlmWorkload {
        LlmWorkload {
            name: "llama".into(),
            params_billion: params,
            bytes_per_param: 2.0,
            kv_bytes_per_token: 0.0,
            context_tokens: 0,
            max_batch: 1,
            tpot_slo_ms: slo,
            memory_reserve: 0.1,
        }
    }

    fn cand(m: AcceleratorModel, count: u32, price: u64) -> Candidate {
        Candidate {
            name: format!("{}x{count}", m.id),
            model: m,
            count,
            price: Some(PricePerHour::from_micros(price)),
        }
    }

    #[test]
    fn e_checks_decode_floor_and_fit() {
        // E1: decode floors for 13.48 GB of weights (±1 %).
        for (bw, want) in [
            (300.0, 44.93),
            (320.0, 42.12),
            (600.0, 22.47),
            (3350.0, 4.02),
        ] {
            let got = decode_floor_ms(13.48e9, bw);
            assert!((got - want).abs() / want < 0.01, "{bw}: {got}");
        }
        let inf2 = gib_s_to_gb_s(820.0);
        assert!((inf2 - 880.46).abs() < 0.01);
        assert!((decode_floor_ms(13.48e9, inf2) - 15.31).abs() / 15.31 < 0.01);
        // E2: 40 ms TPOT, FP16 Llama-2-7B: L4 and T4 infeasible, A10G feasible.
        let w = llama(6.74, 40.0);
        let cands = vec![
            cand(spec("L4", 24.0, 300.0, 72), 1, 804_800),
            cand(spec("T4", 16.0, 320.0, 70), 1, 526_000),
            cand(spec("A10G", 24.0, 600.0, 150), 1, 1_006_000),
        ];
        let sel = select(&w, &cands, &BTreeMap::new()).unwrap();
        assert!(matches!(
            sel.infeasible["L4x1"],
            Infeasible::CannotMeetSlo { .. }
        ));
        assert!(matches!(
            sel.infeasible["T4x1"],
            Infeasible::CannotMeetSlo { .. }
        ));
        assert_eq!(sel.feasible.len(), 1);
        assert_eq!(sel.feasible[0].name, "A10Gx1");
        assert_eq!(sel.feasible[0].source, ProfileSource::SpecEstimate);
        // E3: FP16 Llama-2-70B (68.98 B params) needs >= 2 x 80 GB; not 1 x H200 with 10 % reserve.
        let w = llama(68.98, 1000.0);
        let cands = vec![
            cand(spec("H100", 80.0, 3350.0, 700), 1, 6_880_000),
            cand(spec("H100", 80.0, 3350.0, 700), 2, 13_760_000),
            cand(spec("H200", 141.0, 4800.0, 700), 1, 7_912_000),
            cand(spec("MI300X", 192.0, 5300.0, 750), 1, 6_000_000),
        ];
        let sel = select(&w, &cands, &BTreeMap::new()).unwrap();
        assert!(matches!(
            sel.infeasible["H100x1"],
            Infeasible::DoesNotFit { .. }
        ));
        assert!(matches!(
            sel.infeasible["H200x1"],
            Infeasible::DoesNotFit { .. }
        ));
        let names: Vec<&str> = sel.feasible.iter().map(|e| e.name.as_str()).collect();
        assert!(names.contains(&"H100x2") && names.contains(&"MI300Xx1"));
    }

    #[test]
    fn e_checks_with_the_builtin_catalog() {
        let cat = Catalog::builtin();
        let c = candidates_from_catalog(&cat, &[("L4", 1), ("T4", 1), ("A10G", 1)]).unwrap();
        let sel = select(&llama(6.74, 40.0), &c, &BTreeMap::new()).unwrap();
        assert!(
            matches!(sel.infeasible["L4x1"], Infeasible::CannotMeetSlo { .. }),
            "{sel:?}"
        );
        assert!(matches!(
            sel.infeasible["T4x1"],
            Infeasible::CannotMeetSlo { .. }
        ));
        assert_eq!(sel.feasible[0].name, "A10Gx1");
        let c = candidates_from_catalog(
            &cat,
            &[("H100-SXM", 1), ("H100-SXM", 2), ("H200", 1), ("MI300X", 1)],
        )
        .unwrap();
        let sel = select(&llama(68.98, 1000.0), &c, &BTreeMap::new()).unwrap();
        assert!(matches!(
            sel.infeasible["H100-SXMx1"],
            Infeasible::DoesNotFit { .. }
        ));
        assert!(matches!(
            sel.infeasible["H200x1"],
            Infeasible::DoesNotFit { .. }
        ));
        assert!(!sel.infeasible.contains_key("H100-SXMx2"));
        assert!(matches!(
            candidates_from_catalog(&cat, &[("H900", 1)]),
            Err(PlanError::UnknownAccelerator { .. })
        ));
    }

    #[test]
    fn f_checks_unit_economics_and_pareto() {
        // F1, F2 exactly as the reference states them.
        let p = PricePerHour::from_micros(1_006_000);
        assert!((cost_per_million_tokens(p, 500.0) - 0.558_888_9).abs() < 1e-6);
        assert_eq!(joules_per_token(700.0, 1000.0), 0.7);
        // Measured points override estimates and are labelled.
        let w = llama(6.74, 40.0);
        let cands = vec![
            cand(spec("A10G", 24.0, 600.0, 150), 1, 1_006_000),
            cand(spec("H100", 80.0, 3350.0, 700), 1, 6_880_000),
        ];
        let mut measured = BTreeMap::new();
        measured.insert(
            "A10Gx1".to_string(),
            MeasuredPoint {
                tokens_per_s: 500.0,
                tpot_ms: 30.0,
                power: Some(Watts::new(150)),
            },
        );
        let sel = select(&w, &cands, &measured).unwrap();
        let a10 = sel.feasible.iter().find(|e| e.name == "A10Gx1").unwrap();
        assert_eq!(a10.source, ProfileSource::Measured);
        assert!((a10.usd_per_million_tokens - 0.558_888_9).abs() < 1e-6);
        assert!(sel.pareto().count() >= 1);
        let svg = pareto_svg(&sel, "Llama-2-7B <40 ms>");
        assert!(svg.starts_with("<svg") && svg.contains("A10Gx1") && svg.contains("&lt;40 ms&gt;"));
        // A measurement that met the SLO at no rate makes the option infeasible.
        let mut none = measured.clone();
        none.get_mut("A10Gx1").unwrap().tokens_per_s = 0.0;
        let sel = select(&w, &cands, &none).unwrap();
        assert_eq!(
            sel.infeasible["A10Gx1"],
            Infeasible::MeasuredCannotMeetSlo { slo_ms: 40.0 }
        );
        // Unknown measured name and empty catalog are typed errors.
        let mut bad = BTreeMap::new();
        bad.insert("nope".to_string(), measured["A10Gx1"].clone());
        assert!(matches!(
            select(&w, &cands, &bad),
            Err(PlanError::UnknownAccelerator { .. })
        ));
        assert!(matches!(
            select(&w, &[], &BTreeMap::new()),
            Err(PlanError::EmptyCatalog)
        ));
        assert!(matches!(
            select(&llama(-1.0, 40.0), &cands, &BTreeMap::new()),
            Err(PlanError::InvalidRate { .. })
        ));
    }
}
