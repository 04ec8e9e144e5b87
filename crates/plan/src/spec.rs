//! The planning input document (what `rightsizer plan <file>` reads) and
//! what-if sweeps.
//!
//! ```yaml
//! objective: cost              # or: energy, or {cost_plus_energy: {per_kwh: 0.12}}
//! slice_factor: 4
//! options:
//!   - {name: L4,   price_per_hour: 0.8048, power_watts: 72}
//!   - {name: A10G, price_per_hour: 1.006,  power_watts: 150, max_count: 8}
//! demand:
//!   - {label: short, rate: 12.0, throughput: {L4: 6, A10G: 7}}
//!   - {label: long,  rate: 2.0,  throughput: {A10G: 0.8}}   # L4 cannot meet the SLO
//! what_if:
//!   demand_scale: [0.5, 2.0]
//!   price_scale: {A10G: [0.5, 1.5]}
//! ```
//! The document may instead carry a Mélange solver input under `melange:`.
//!
//! ```
//! use rightsizer_plan::spec::PlanSpec;
//! let spec: PlanSpec = serde_json::from_str(r#"{
//!   "options": [{"name": "L4", "price_per_hour": 0.8048}, {"name": "A10G", "price_per_hour": 1.006}],
//!   "demand": [{"label": "chat", "rate": 12, "throughput": {"L4": 6, "A10G": 7}}]}"#)?;
//! let report = spec.run(&Default::default())?;
//! let plan = report.outcome.plan().unwrap();
//! assert_eq!(plan.counts["L4"], 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::PlanError;
use crate::fleet::{
    AcceleratorOption, DemandBucket, FleetOutcome, FleetProblem, Objective, SolveConfig, StopReason,
};
use crate::melange::MelangeInput;
use rightsizer_model::units::{Money, PricePerHour, Watts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One option in the document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    /// Unique name.
    pub name: String,
    /// Dollars per hour.
    pub price_per_hour: f64,
    /// Busy power in watts.
    #[serde(default)]
    pub power_watts: u32,
    /// Availability limit.
    #[serde(default)]
    pub max_count: Option<u32>,
}

/// One demand bucket in the document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketSpec {
    /// Label.
    pub label: String,
    /// Requests (or work units) per second.
    pub rate: f64,
    /// Throughput per option name under the SLO; options not listed cannot serve it.
    pub throughput: BTreeMap<String, f64>,
}

/// Objective as written in the document.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveSpec {
    /// Hourly price.
    #[default]
    Cost,
    /// Provisioned power.
    Energy,
    /// Price plus energy at `per_kwh` dollars.
    CostPlusEnergy {
        /// Dollars per kWh.
        per_kwh: f64,
    },
}

/// What-if sweeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WhatIfSpec {
    /// Demand multipliers.
    #[serde(default)]
    pub demand_scale: Vec<f64>,
    /// Price multipliers per option.
    #[serde(default)]
    pub price_scale: BTreeMap<String, Vec<f64>>,
}

/// The whole document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// What to minimise.
    #[serde(default)]
    pub objective: ObjectiveSpec,
    /// Slices per bucket (default 4, as Mélange recommends).
    #[serde(default)]
    pub slice_factor: Option<u32>,
    /// Capacity options.
    #[serde(default)]
    pub options: Vec<OptionSpec>,
    /// Demand buckets.
    #[serde(default)]
    pub demand: Vec<BucketSpec>,
    /// Alternatively, a Mélange solver input.
    #[serde(default)]
    pub melange: Option<MelangeInput>,
    /// Sweeps to run after the base plan.
    #[serde(default)]
    pub what_if: WhatIfSpec,
}

/// One point of a what-if sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// What was changed, e.g. `demand ×2` or `price[A10G] ×0.5`.
    pub change: String,
    /// Counts per option (empty when infeasible).
    pub counts: BTreeMap<String, u32>,
    /// Hourly cost (None when infeasible).
    pub cost: Option<PricePerHour>,
    /// Why the solver stopped (None when infeasible).
    pub stop: Option<StopReason>,
    /// The infeasibility, if any.
    pub infeasible: Option<String>,
}

/// Result of [`PlanSpec::run`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    /// The objective used.
    pub objective: Objective,
    /// The base plan.
    pub outcome: FleetOutcome,
    /// What-if points in document order.
    pub what_if: Vec<SweepPoint>,
}

impl PlanSpec {
    fn objective(&self) -> Result<Objective, PlanError> {
        Ok(match self.objective {
            ObjectiveSpec::Cost => Objective::Cost,
            ObjectiveSpec::Energy => Objective::Energy,
            ObjectiveSpec::CostPlusEnergy { per_kwh } => Objective::CostPlusEnergy {
                per_kwh: PricePerHour::from_dollars(per_kwh)
                    .map(|p| Money::from_micros(p.micros()))
                    .ok_or(PlanError::InvalidPrice {
                        field: "objective.cost_plus_energy.per_kwh".into(),
                        value: per_kwh,
                    })?,
            },
        })
    }

    /// Builds the fleet problem, validating names, prices and rates.
    pub fn problem(&self) -> Result<FleetProblem, PlanError> {
        if let Some(m) = &self.melange {
            if !self.options.is_empty() || !self.demand.is_empty() {
                return Err(PlanError::InvalidParameter {
                    field: "melange".into(),
                    message: "give either `melange` or `options`/`demand`, not both".into(),
                });
            }
            return m.to_problem();
        }
        if self.options.is_empty() {
            return Err(PlanError::EmptyCatalog);
        }
        let mut opts = Vec::new();
        for (i, o) in self.options.iter().enumerate() {
            let price =
                PricePerHour::from_dollars(o.price_per_hour).ok_or(PlanError::InvalidPrice {
                    field: format!("options[{i}].price_per_hour"),
                    value: o.price_per_hour,
                })?;
            let mut a = AcceleratorOption::new(o.name.clone(), price)
                .with_power(Watts::new(o.power_watts), Watts::ZERO);
            a.max_count = o.max_count;
            opts.push(a);
        }
        let mut buckets = Vec::new();
        for (b, d) in self.demand.iter().enumerate() {
            if !(d.rate.is_finite() && d.rate >= 0.0) {
                return Err(PlanError::InvalidRate {
                    field: format!("demand[{b}].rate"),
                    value: d.rate,
                });
            }
            for name in d.throughput.keys() {
                if !opts.iter().any(|o| &o.name == name) {
                    return Err(PlanError::UnknownAccelerator {
                        name: name.clone(),
                        field: format!("demand[{b}].throughput"),
                    });
                }
            }
            let tp = opts
                .iter()
                .map(|o| d.throughput.get(&o.name).copied())
                .collect();
            buckets.push(DemandBucket::new(d.label.clone(), d.rate, tp));
        }
        FleetProblem::new(opts, buckets, self.slice_factor.unwrap_or(4))
    }

    /// Solves the base plan and every what-if point.
    pub fn run(&self, cfg: &SolveConfig) -> Result<PlanReport, PlanError> {
        let objective = self.objective()?;
        let p = self.problem()?;
        let outcome = p.solve(objective, cfg);
        let mut what_if = Vec::new();
        let point = |change: String, q: &FleetProblem| {
            let o = q.solve(objective, cfg);
            match o {
                FleetOutcome::Plan(pl) => SweepPoint {
                    change,
                    counts: pl.counts,
                    cost: Some(pl.cost),
                    stop: Some(pl.stop),
                    infeasible: None,
                },
                FleetOutcome::Infeasible(i) => SweepPoint {
                    change,
                    counts: BTreeMap::new(),
                    cost: None,
                    stop: None,
                    infeasible: Some(i.to_string()),
                },
            }
        };
        for (i, &f) in self.what_if.demand_scale.iter().enumerate() {
            if !(f.is_finite() && f >= 0.0) {
                return Err(PlanError::InvalidRate {
                    field: format!("what_if.demand_scale[{i}]"),
                    value: f,
                });
            }
            what_if.push(point(format!("demand x{f}"), &p.with_demand_scaled(f)?));
        }
        for (name, fs) in &self.what_if.price_scale {
            if !p.options().iter().any(|o| &o.name == name) {
                return Err(PlanError::UnknownAccelerator {
                    name: name.clone(),
                    field: "what_if.price_scale".into(),
                });
            }
            for (i, &f) in fs.iter().enumerate() {
                if !(f.is_finite() && f >= 0.0) {
                    return Err(PlanError::InvalidRate {
                        field: format!("what_if.price_scale.{name}[{i}]"),
                        value: f,
                    });
                }
                let q = p.with_prices(|o| {
                    if &o.name == name {
                        PricePerHour::from_micros((o.price.micros() as f64 * f).round() as u64)
                    } else {
                        o.price
                    }
                })?;
                what_if.push(point(format!("price[{name}] x{f}"), &q));
            }
        }
        Ok(PlanReport {
            objective,
            outcome,
            what_if,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> PlanSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn bad_inputs_are_typed_errors_or_reports() {
        let base = r#"{"options": [{"name": "L4", "price_per_hour": 0.8}],
                       "demand": [{"label": "a", "rate": RATE, "throughput": {NAME: 5}}]}"#;
        let s = spec(&base.replace("RATE", "-1").replace("NAME", "\"L4\""));
        assert!(matches!(s.problem(), Err(PlanError::InvalidRate { .. })));
        let s = spec(&base.replace("RATE", "1").replace("NAME", "\"H900\""));
        match s.problem() {
            Err(PlanError::UnknownAccelerator { name, field }) => {
                assert_eq!(name, "H900");
                assert_eq!(field, "demand[0].throughput");
            }
            other => panic!("{other:?}"),
        }
        let s = spec(r#"{"demand": []}"#);
        assert!(matches!(s.problem(), Err(PlanError::EmptyCatalog)));
        // No option meets the SLO for a bucket: an infeasibility report naming it.
        let s = spec(
            r#"{"options": [{"name": "L4", "price_per_hour": 0.8}],
                "demand": [{"label": "long", "rate": 1, "throughput": {}}]}"#,
        );
        let r = s.run(&SolveConfig::default()).unwrap();
        match r.outcome {
            FleetOutcome::Infeasible(i) => assert!(i.to_string().contains("`long`")),
            other => panic!("{other:?}"),
        }
        // Count limits too low: named in the report.
        let s = spec(
            r#"{"options": [{"name": "L4", "price_per_hour": 0.8, "max_count": 1}],
                "demand": [{"label": "a", "rate": 10, "throughput": {"L4": 2}}]}"#,
        );
        let r = s.run(&SolveConfig::default()).unwrap();
        match r.outcome {
            FleetOutcome::Infeasible(i) => assert!(i.to_string().contains("L4 <= 1"), "{i}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_if_moves_the_plan() {
        let s = spec(
            r#"{"options": [{"name": "L4", "price_per_hour": 0.8048}, {"name": "A10G", "price_per_hour": 1.006}],
                "demand": [{"label": "chat", "rate": 12, "throughput": {"L4": 6, "A10G": 7}}],
                "what_if": {"demand_scale": [0.5, 3], "price_scale": {"L4": [2]}}}"#,
        );
        let r = s.run(&SolveConfig::default()).unwrap();
        assert_eq!(r.what_if.len(), 3);
        assert_eq!(r.what_if[0].counts["L4"], 1);
        assert!(r.what_if[1].cost.unwrap() > r.outcome.plan().unwrap().cost);
        // L4 at twice the price: A10G takes over.
        assert_eq!(r.what_if[2].counts["L4"], 0);
    }
}
