//! Right-sizing from usage history, and in-place resize plans.
//!
//! # Contents
//!
//! - [`input`]: read usage from a long-format CSV or a Prometheus
//!   `query_range` response into a normalised [`usage::UsageSet`]
//!   (unsorted, duplicated and gappy series are fine; bad values are typed
//!   errors naming file, line and column).
//! - [`recommend`]: the [`recommend::Recommender`] trait and its strategies:
//!   - [`vpa`]: the VPA recommender exactly (decaying exponential-bucket
//!     [`histogram`]s, memory peaks per 24 h, p90/p50/p95, +15 %, confidence
//!     scaling, per-pod minimums, OOM bump); outputs land on VPA's bucket edges;
//!   - [`krr`]: krr `simple` and `simple_limit`;
//!   - [`risk`]: cost / balanced / performance profiles with exceedance
//!     estimates per candidate size;
//!   - [`gpu`]: the smallest GPU share (fraction, MIG profile or whole devices).
//! - [`capacity`]: flag or clamp a recommendation that fits no node type,
//!   naming the binding dimension.
//! - [`resize`]: cluster-wide in-place resize plans (feasible at every step,
//!   QoS-preserving, PDB-style waves, `resize` patches and evictions).
//! - [`time`]: timestamps (unix seconds or RFC 3339).
//!
//! # API themes
//!
//! Sizes are [`rightsizer_model::units::MilliCpu`] and
//! [`rightsizer_model::units::Bytes`]; maps in outputs are `BTreeMap`s, so
//! output order is deterministic; memory use of the VPA path is bounded by the
//! histogram size (two 176-bucket histograms per container), not the number
//! of samples.
//!
//! ```
//! use rightsizer_size::input::read_csv;
//! use rightsizer_size::recommend::{recommend_all, RecommendContext, Strategy};
//! let csv = "timestamp,namespace,pod,container,resource,value\n\
//!            2026-11-27T00:00:00Z,prod,api-0,app,cpu,0.5\n";
//! let usage = read_csv("usage.csv", csv)?;
//! let vpa = Strategy::Vpa.build()?;
//! let report = recommend_all(&usage, vpa.as_ref(), &RecommendContext::at(usage.last_time().unwrap()));
//! assert_eq!(report.workloads.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod capacity;
pub mod gpu;
pub mod histogram;
pub mod input;
pub mod krr;
pub mod recommend;
pub mod resize;
pub mod risk;
pub mod stats;
pub mod time;
pub mod usage;
pub mod vpa;
