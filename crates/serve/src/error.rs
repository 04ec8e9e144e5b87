//! The crate's error type.

use rightsizer_model::spec::SpecError;
use rightsizer_plan::PlanError;

/// Bad input to a serving plan. Every variant names the field it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A number that must be finite and positive (or non-negative) is not.
    #[error("{field}: must be a finite {expected} number, got {value}")]
    InvalidValue {
        /// Field path.
        field: String,
        /// What was expected (`positive`, `non-negative`, ...).
        expected: &'static str,
        /// The value found.
        value: f64,
    },
    /// A parameter outside its allowed range or shape.
    #[error("{field}: {message}")]
    InvalidParameter {
        /// Field path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Parallel columns of a table have different lengths.
    #[error("{field}: expected {expected} entries, found {found}")]
    Shape {
        /// Field path.
        field: String,
        /// Entries expected.
        expected: usize,
        /// Entries found.
        found: usize,
    },
    /// A latency table that decreases where it must not (longer inputs or
    /// fuller KV caches cannot be faster).
    #[error("{field}: latency is not monotone: entry {index} ({value} ms) is below entry {previous_index} ({previous} ms) at a larger {axis}")]
    NonMonotone {
        /// Field path.
        field: String,
        /// What grows along the table (`prefill_isl`, `x_kv_usage`).
        axis: &'static str,
        /// Index of the offending entry.
        index: usize,
        /// Its latency.
        value: f64,
        /// Index of the earlier entry it undercuts.
        previous_index: usize,
        /// That entry's latency.
        previous: f64,
    },
    /// A device that is neither in the catalog nor described in the input.
    #[error("{field}: unknown device `{device}`")]
    UnknownDevice {
        /// Field path.
        field: String,
        /// The device name.
        device: String,
    },
    /// A device without a price (catalog has no instance type carrying it, and
    /// none was given).
    #[error("{field}: no price for device `{device}` (give `price_per_gpu_hour`)")]
    NoPrice {
        /// Field path.
        field: String,
        /// The device name.
        device: String,
    },
    /// The fleet solver refused the derived problem.
    #[error("fleet problem: {0}")]
    Plan(#[from] PlanError),
    /// The cluster document is invalid.
    #[error("cluster: {0}")]
    Cluster(#[from] SpecError),
    /// The placement engine refused the cluster.
    #[error("placement engine: {0}")]
    Engine(String),
}

pub(crate) fn positive(field: impl Into<String>, v: f64) -> Result<f64, ServeError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(ServeError::InvalidValue {
            field: field.into(),
            expected: "positive",
            value: v,
        })
    }
}

pub(crate) fn non_negative(field: impl Into<String>, v: f64) -> Result<f64, ServeError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(ServeError::InvalidValue {
            field: field.into(),
            expected: "non-negative",
            value: v,
        })
    }
}
