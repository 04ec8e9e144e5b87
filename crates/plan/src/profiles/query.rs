//! Queries over a read table and its conversion into the planners' inputs
//! (fleet demand buckets, selection points).

use super::error::ProfileError;
use super::types::*;
use crate::fleet::{AcceleratorOption, DemandBucket};
use crate::select::MeasuredPoint;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

impl ProfileTable {
    /// The rows in input order.
    pub fn rows(&self) -> &[ProfileRow] {
        &self.rows
    }

    /// The origin (file name) given when reading.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// The workloads, sorted.
    pub fn workloads(&self) -> BTreeSet<&str> {
        self.rows.iter().map(|r| r.workload.as_str()).collect()
    }

    /// The options, by name, with what one unit is.
    pub fn options(&self) -> BTreeMap<&str, &ProfileOption> {
        self.rows
            .iter()
            .map(|r| (r.option.as_str(), &r.unit_of))
            .collect()
    }

    /// The buckets measured for `workload`, sorted.
    pub fn buckets(&self, workload: &str) -> BTreeSet<&Bucket> {
        self.rows
            .iter()
            .filter(|r| r.workload == workload)
            .map(|r| &r.bucket)
            .collect()
    }

    /// Indices of the rows of `workload`, checking it exists and has one SLO.
    fn workload_rows(&self, workload: &str) -> Result<Vec<usize>, ProfileError> {
        let idx: Vec<usize> = (0..self.rows.len())
            .filter(|&i| self.rows[i].workload == workload)
            .collect();
        let Some(&first) = idx.first() else {
            return Err(ProfileError::UnknownWorkload {
                file: self.origin.clone(),
                workload: workload.to_string(),
                known: self.workloads().into_iter().collect::<Vec<_>>().join(", "),
            });
        };
        for &i in &idx {
            if self.rows[i].slo != self.rows[first].slo {
                return Err(ProfileError::MixedSlo {
                    at: self.loc(i, "slo"),
                    workload: workload.to_string(),
                    found: self.rows[i].slo,
                    first: self.rows[first].slo,
                    first_at: self.place(first),
                });
            }
        }
        Ok(idx)
    }

    /// Row `i`'s throughput in `to`: `req/s × output tokens = tokens/s` for
    /// token buckets; `steps/s` converts to nothing else.
    fn convert(&self, i: usize, to: ThroughputUnit) -> Result<f64, ProfileError> {
        use ThroughputUnit::*;
        let r = &self.rows[i];
        let mismatch = |hint: &str| ProfileError::UnitMismatch {
            at: self.loc(i, "unit"),
            from: r.unit,
            to,
            bucket: r.bucket.label(),
            hint: hint.to_string(),
        };
        let out = match r.bucket {
            Bucket::Tokens { output, .. } => Some(f64::from(output)),
            Bucket::Named(_) => None,
        };
        match (r.unit, to) {
            (a, b) if a == b => Ok(r.throughput),
            (RequestsPerSecond, TokensPerSecond) => out
                .map(|o| r.throughput * o)
                .ok_or_else(|| mismatch(": a named bucket has no output length")),
            (TokensPerSecond, RequestsPerSecond) => out
                .map(|o| r.throughput / o)
                .ok_or_else(|| mismatch(": a named bucket has no output length")),
            _ => Err(mismatch("")),
        }
    }

    /// Per bucket label, per option name: the throughput of one unit in
    /// `unit`, for the fleet planner ([`crate::spec::BucketSpec::throughput`]).
    /// Rows with throughput 0 (SLO never met) are left out: an absent option
    /// cannot serve the bucket.
    ///
    /// Errors: unknown workload, rows under different SLOs, or a row whose
    /// unit cannot be converted (steps/s ↔ anything else; req/s ↔ tokens/s
    /// on a named bucket).
    pub fn throughput_by_bucket(
        &self,
        workload: &str,
        unit: ThroughputUnit,
    ) -> Result<BTreeMap<String, BTreeMap<String, f64>>, ProfileError> {
        let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        for i in self.workload_rows(workload)? {
            let r = &self.rows[i];
            let v = self.convert(i, unit)?;
            let entry = out.entry(r.bucket.label()).or_default();
            if v > 0.0 {
                entry.insert(r.option.clone(), v);
            }
        }
        Ok(out)
    }

    /// Fleet-planner buckets for `workload`: one [`DemandBucket`] per entry
    /// of `rates` (bucket label → rate in `unit`), with the throughput of each
    /// of `options` (by name; `None` where the table has no positive
    /// measurement). Buckets come out in label order.
    ///
    /// ```
    /// use rightsizer_plan::profiles::{ProfileTable, ThroughputUnit};
    /// use rightsizer_plan::fleet::{AcceleratorOption, FleetProblem, Objective, SolveConfig};
    /// use rightsizer_model::units::PricePerHour;
    /// use std::collections::BTreeMap;
    /// let t = ProfileTable::from_csv_str("\
    /// workload,option,device,count,bucket,throughput,unit,slo,slo_ms
    /// chat,L4,L4,1,256x64,4,req/s,tpot,120
    /// chat,A10G,A10G,1,256x64,6,req/s,tpot,120
    /// chat,A10G,A10G,1,2048x256,1,req/s,tpot,120
    /// ", "chat.csv")?;
    /// let options = vec![
    ///     AcceleratorOption::new("L4", PricePerHour::from_micros(804_800)),
    ///     AcceleratorOption::new("A10G", PricePerHour::from_micros(1_006_000)),
    /// ];
    /// let rates = BTreeMap::from([("256x64".to_string(), 8.0), ("2048x256".to_string(), 0.5)]);
    /// let buckets = t.demand_buckets("chat", ThroughputUnit::RequestsPerSecond, &rates, &options)?;
    /// let plan = FleetProblem::new(options, buckets, 4)?.solve(Objective::Cost, &SolveConfig::default());
    /// let plan = plan.plan().unwrap();
    /// // 8 req/s of short requests alone would take 2 L4; with the long ones two A10G are cheaper.
    /// assert_eq!((plan.counts["L4"], plan.counts["A10G"]), (0, 2));
    /// assert_eq!(plan.cost, PricePerHour::from_micros(2_012_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn demand_buckets(
        &self,
        workload: &str,
        unit: ThroughputUnit,
        rates: &BTreeMap<String, f64>,
        options: &[AcceleratorOption],
    ) -> Result<Vec<DemandBucket>, ProfileError> {
        let maps = self.throughput_by_bucket(workload, unit)?;
        let mut out = Vec::new();
        for (label, &rate) in rates {
            if !(rate.is_finite() && rate >= 0.0) {
                return Err(ProfileError::InvalidDemand {
                    bucket: label.clone(),
                    message: format!("must be a finite rate >= 0, got {rate}"),
                });
            }
            let Some(tp) = maps.get(label) else {
                return Err(ProfileError::InvalidDemand {
                    bucket: label.clone(),
                    message: format!(
                        "the table has no rows for this bucket of `{workload}` (it has: {})",
                        maps.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            };
            let t = options.iter().map(|o| tp.get(&o.name).copied()).collect();
            out.push(DemandBucket::new(label.clone(), rate, t));
        }
        Ok(out)
    }

    /// Selection overrides for `workload`: per option, output tokens/s of one
    /// replica, the TPOT (`tpot_ms`, else the TPOT SLO: an upper bound) and
    /// the measured power. Each option must have exactly one bucket for the
    /// workload ([`Self::measured_points_in`] picks one). A row with
    /// throughput 0 becomes a point with 0 tokens/s, which
    /// [`crate::select::select`] reports as
    /// [`crate::select::Infeasible::MeasuredCannotMeetSlo`].
    ///
    /// ```
    /// use rightsizer_plan::profiles::ProfileTable;
    /// use rightsizer_plan::select::{candidates_from_catalog, select, LlmWorkload, ProfileSource};
    /// use rightsizer_catalog::Catalog;
    /// let t = ProfileTable::from_csv_str("\
    /// workload,option,device,count,bucket,throughput,unit,slo,slo_ms,tpot_ms,power_watts
    /// llama-2-7b,A10Gx1,A10G,1,512x128,4,req/s,tpot,40,30,150
    /// ", "m.csv")?;
    /// let points = t.measured_points("llama-2-7b")?;
    /// assert_eq!(points["A10Gx1"].tokens_per_s, 512.0);
    /// let w = LlmWorkload { name: "llama-2-7b".into(), params_billion: 6.74, bytes_per_param: 2.0,
    ///     kv_bytes_per_token: 0.0, context_tokens: 640, max_batch: 1, tpot_slo_ms: 40.0, memory_reserve: 0.1 };
    /// let c = candidates_from_catalog(&Catalog::builtin(), &[("A10G", 1), ("L40S", 1)])?;
    /// let sel = select(&w, &c, &points)?;
    /// let a10 = sel.feasible.iter().find(|e| e.name == "A10Gx1").unwrap();
    /// assert_eq!(a10.source, ProfileSource::Measured);
    /// let l40s = sel.feasible.iter().find(|e| e.name == "L40Sx1").unwrap();
    /// assert_eq!(l40s.source, ProfileSource::SpecEstimate);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn measured_points(
        &self,
        workload: &str,
    ) -> Result<BTreeMap<String, MeasuredPoint>, ProfileError> {
        let idx = self.workload_rows(workload)?;
        let mut by_option: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for i in idx {
            by_option.entry(&self.rows[i].option).or_default().push(i);
        }
        let mut out = BTreeMap::new();
        for (option, rows) in by_option {
            if rows.len() > 1 {
                return Err(ProfileError::AmbiguousBucket {
                    file: self.origin.clone(),
                    workload: workload.to_string(),
                    option: option.to_string(),
                    buckets: rows
                        .iter()
                        .map(|&i| self.rows[i].bucket.label())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            out.insert(option.to_string(), self.point(rows[0])?);
        }
        Ok(out)
    }

    /// Like [`Self::measured_points`], restricted to one bucket (options
    /// without a row for it are left out).
    pub fn measured_points_in(
        &self,
        workload: &str,
        bucket: &Bucket,
    ) -> Result<BTreeMap<String, MeasuredPoint>, ProfileError> {
        let mut out = BTreeMap::new();
        for i in self.workload_rows(workload)? {
            if &self.rows[i].bucket == bucket {
                out.insert(self.rows[i].option.clone(), self.point(i)?);
            }
        }
        Ok(out)
    }

    fn point(&self, i: usize) -> Result<MeasuredPoint, ProfileError> {
        let r = &self.rows[i];
        let tokens_per_s = self.convert(i, ThroughputUnit::TokensPerSecond)?;
        let tpot_ms = match (r.tpot_ms, r.slo) {
            (Some(t), _) => t,
            (None, Slo::TpotMs(t)) => t,
            _ => {
                return Err(ProfileError::NoTpot {
                    at: self.loc(i, "tpot_ms"),
                })
            }
        };
        Ok(MeasuredPoint {
            tokens_per_s,
            tpot_ms,
            power: r.power,
        })
    }
}
