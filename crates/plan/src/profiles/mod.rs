//! Measured performance-profile tables (CSV and JSON).
//!
//! A profile table lists, per workload, accelerator option and request
//! bucket, the highest throughput one replica sustains while meeting an SLO,
//! as measured by a benchmark (for example Mélange's vLLM sweep: raise the
//! request rate until the TPOT SLO breaks). The planners consume it through
//! two conversions:
//!
//! * [`ProfileTable::throughput_by_bucket`]: `bucket → option → throughput`,
//!   the per-bucket maps of [`crate::spec::BucketSpec::throughput`] and
//!   [`crate::fleet::DemandBucket`] ([`ProfileTable::demand_buckets`] builds
//!   the latter directly);
//! * [`ProfileTable::measured_points`]: `option → MeasuredPoint`, the
//!   overrides of [`crate::select::select`], whose results then say
//!   [`crate::select::ProfileSource::Measured`] for those options.
//!
//! # Columns (CSV header names = JSON field names)
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `workload` | yes | model / job name, e.g. `llama-3-8b` |
//! | `option` | yes | name of the capacity unit in plans, e.g. `A10Gx1` (the [`crate::select::candidates_from_catalog`] naming) or `L4` |
//! | `device` | yes | accelerator model id (`A10G`, `H100-SXM`, `Inferentia2`) or a CPU instance type / `cpu` |
//! | `share` | no | `whole` (default when empty), `mig:<profile>` (e.g. `mig:3g.20gb`), `fraction:<milli>` (1–1000 of one device) or `vcpu:<n>` (CPU) |
//! | `count` | yes | devices per replica (tensor-parallel degree), at least 1 |
//! | `bucket` | yes | `<input>x<output>` tokens (e.g. `512x128`: the bucket's representative input and output lengths) or any other text naming the bucket (e.g. a training job `resnet50-bs64`) |
//! | `throughput` | yes | highest sustained rate of one replica under the SLO, ≥ 0; `0` means the SLO was not met at any rate |
//! | `unit` | yes | `req/s`, `tokens/s` (output tokens) or `steps/s` |
//! | `slo` | yes | `tpot`, `ttft`, `latency` (end-to-end) or `none` |
//! | `slo_ms` | yes unless `slo` is `none` | the SLO in milliseconds |
//! | `tpot_ms` | no | measured time per output token at that throughput (ms) |
//! | `power_watts` | no | measured average power of one replica (W, rounded to whole watts) |
//!
//! CSV: one header row, then one row per measurement; fields may be quoted
//! with `"` (`""` escapes a quote); unquoted fields are trimmed; blank lines
//! and lines starting with `#` (comments: sources, notes) are skipped.
//! Unknown, duplicate or missing columns are errors. JSON: `{"rows": [ {...}, ... ]}`
//! with the same field names (numbers as numbers); unknown fields are errors.
//!
//! Every error is a [`ProfileError`] naming the file, the line (CSV) or row
//! (JSON), the column and the offending value. Rows must be unique per
//! (workload, option, bucket), and an option name means one device, share
//! and count throughout the table.
//!
//! ```
//! use rightsizer_plan::profiles::{ProfileTable, ThroughputUnit};
//! let csv = "\
//! ## illustrative numbers
//! workload,option,device,count,bucket,throughput,unit,slo,slo_ms,power_watts
//! llama-3-8b,A10Gx1,A10G,1,512x128,2.5,req/s,tpot,40,290
//! llama-3-8b,L40Sx1,L40S,1,512x128,6,req/s,tpot,40,
//! llama-3-8b,L40Sx1,L40S,1,2048x512,1.5,req/s,tpot,40,
//! ";
//! let table = ProfileTable::from_csv_str(csv, "llama.csv")?;
//! let maps = table.throughput_by_bucket("llama-3-8b", ThroughputUnit::RequestsPerSecond)?;
//! assert_eq!(maps["512x128"]["L40Sx1"], 6.0);
//! assert!(!maps["2048x512"].contains_key("A10Gx1")); // not measured: cannot serve
//! // The same rows as output tokens/s: 2.5 req/s x 128 tokens.
//! let tokens = table.throughput_by_bucket("llama-3-8b", ThroughputUnit::TokensPerSecond)?;
//! assert_eq!(tokens["512x128"]["A10Gx1"], 320.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod query;
mod read;
#[cfg(test)]
mod tests;
mod types;
mod write;

pub use error::{Location, ProfileError};
pub use types::*;
