//! Mélange's solver input format (`melange-release`, `melange/config/*.json`).
//!
//! ```json
//! { "gpu_info": { "A10G": { "cost": 1.01, "tputs": [[2, 1], [5, 2]] }, ... },
//!   "workload_distribution": [[0.2, 0.1], [0.5, 0.2]],
//!   "total_request_rate": 30.0,
//!   "slice_factor": 1 }
//! ```
//!
//! `tputs[r][c]` is the highest request rate one GPU sustains on bucket
//! (input-size row `r`, output-size column `c`) under the TPOT SLO; a zero or
//! negative throughput means "cannot meet the SLO" there. GPU order follows
//! the JSON object's key order.
//!
//! ```
//! use rightsizer_plan::melange::MelangeInput;
//! use rightsizer_plan::fleet::{Objective, SolveConfig};
//! let json = r#"{"gpu_info": {"A10G": {"cost": 1.01, "tputs": [[5, 1], [10, 5]]},
//!                             "A100": {"cost": 3.67, "tputs": [[20, 2], [50, 20]]}},
//!               "workload_distribution": [[0.25, 0.5], [0.25, 0.25]],
//!               "total_request_rate": 16, "slice_factor": 1}"#;
//! let input = MelangeInput::from_json(json)?;
//! let plan = input.to_problem()?.solve(Objective::Cost, &SolveConfig::default());
//! // The exact A10G load is 10; a naive float sum says 10.000000000000002.
//! assert_eq!(plan.plan().unwrap().counts["A10G"], 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::PlanError;
use crate::fleet::{AcceleratorOption, DemandBucket, FleetProblem};
use rightsizer_model::units::PricePerHour;
use serde::{Deserialize, Serialize};

/// One GPU entry of `gpu_info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MelangeGpu {
    /// Hourly price in dollars.
    pub cost: f64,
    /// Throughput table, same shape as the workload distribution.
    pub tputs: Vec<Vec<f64>>,
}

/// The whole solver input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MelangeInput {
    /// GPU types in file order.
    #[serde(with = "ordered_map")]
    pub gpu_info: Vec<(String, MelangeGpu)>,
    /// Share of requests per bucket (sums to 1).
    pub workload_distribution: Vec<Vec<f64>>,
    /// Total request rate (req/s).
    pub total_request_rate: f64,
    /// Slices per bucket.
    pub slice_factor: u32,
}

mod ordered_map {
    use super::MelangeGpu;
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[(String, MelangeGpu)], s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(v.len()))?;
        for (k, g) in v {
            m.serialize_entry(k, g)?;
        }
        m.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<(String, MelangeGpu)>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<(String, MelangeGpu)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map from GPU name to {cost, tputs}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, MelangeGpu>()? {
                    out.push((k, v));
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

impl MelangeInput {
    /// Parses the JSON text; errors carry line and column.
    pub fn from_json(text: &str) -> Result<Self, PlanError> {
        serde_json::from_str(text).map_err(|e| PlanError::Parse {
            file: "<melange input>".into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }

    /// Converts to a fleet problem: one bucket per table cell, named `r{row}c{col}`.
    pub fn to_problem(&self) -> Result<FleetProblem, PlanError> {
        if !self.total_request_rate.is_finite() || self.total_request_rate < 0.0 {
            return Err(PlanError::InvalidRate {
                field: "total_request_rate".into(),
                value: self.total_request_rate,
            });
        }
        let mut options = Vec::new();
        for (name, g) in &self.gpu_info {
            let price = PricePerHour::from_dollars(g.cost).ok_or(PlanError::InvalidPrice {
                field: format!("gpu_info.{name}.cost"),
                value: g.cost,
            })?;
            options.push(AcceleratorOption::new(name.clone(), price));
        }
        let mut buckets = Vec::new();
        for (r, row) in self.workload_distribution.iter().enumerate() {
            for (c, &share) in row.iter().enumerate() {
                if !share.is_finite() || share < 0.0 {
                    return Err(PlanError::InvalidRate {
                        field: format!("workload_distribution[{r}][{c}]"),
                        value: share,
                    });
                }
                let mut tp = Vec::new();
                for (name, g) in &self.gpu_info {
                    let row_t = g.tputs.get(r).ok_or_else(|| PlanError::Shape {
                        field: format!("gpu_info.{name}.tputs"),
                        expected: self.workload_distribution.len(),
                        found: g.tputs.len(),
                    })?;
                    let t = *row_t.get(c).ok_or_else(|| PlanError::Shape {
                        field: format!("gpu_info.{name}.tputs[{r}]"),
                        expected: row.len(),
                        found: row_t.len(),
                    })?;
                    if t.is_nan() {
                        return Err(PlanError::InvalidThroughput {
                            field: format!("gpu_info.{name}.tputs[{r}][{c}]"),
                            value: t,
                        });
                    }
                    tp.push((t > 0.0).then_some(t));
                }
                buckets.push(DemandBucket::new(
                    format!("r{r}c{c}"),
                    share * self.total_request_rate,
                    tp,
                ));
            }
        }
        FleetProblem::new(options, buckets, self.slice_factor)
    }
}
