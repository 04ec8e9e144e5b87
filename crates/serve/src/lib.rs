//! LLM serving plans for heterogeneous clusters: prefill and decode pools on
//! possibly different accelerators, the best co-located alternative, replica
//! plans over a rate forecast, and every plan placed on the cluster.
//!
//! * [`profile`]: phase profiles per model and replica shape, measured
//!   (Dynamo profiler layout, validated, non-monotone latency refused) or
//!   estimated from the catalog's spec sheets with the first-order model.
//! * [`dynamo`]: NVIDIA Dynamo's SLA-planner replica formulas.
//! * [`planner`]: the disaggregated and aggregated planner over
//!   `rightsizer_plan::fleet` (exact integer counts, lower bound and gap),
//!   with placement through `rightsizer_place`.
//! * [`timeline`]: replica plans per interval of a forecast with scale
//!   limits and warm-up.
//! * [`spec`]: the `serve-plan` document.
//!
//! Estimated figures are marked as such in every output
//! ([`profile::ProfileSource`], [`planner::ServePlan::estimated`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dynamo;
pub mod error;
pub mod planner;
pub mod profile;

pub use error::ServeError;
pub use planner::{Bucket, DeviceSpec, ServeConfig, ServePlan, ServePlanner, ServeReport, Slo};
