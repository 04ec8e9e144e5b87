//! The error type of this crate.

use std::path::PathBuf;

/// Why a planning input was rejected.
///
/// "No option can meet the demand" is *not* an error: it is reported as an
/// [`crate::fleet::Infeasibility`] or as infeasible options in a
/// [`crate::select::Selection`]. Errors are reserved for malformed input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The list of accelerator options (the catalog) is empty.
    #[error("the accelerator catalog is empty: nothing to plan with")]
    EmptyCatalog,
    /// Two options share a name.
    #[error("accelerator option `{name}` is listed twice")]
    DuplicateOption {
        /// The repeated name.
        name: String,
    },
    /// A name does not match any accelerator option.
    #[error("unknown accelerator `{name}` at {field}")]
    UnknownAccelerator {
        /// The unknown name.
        name: String,
        /// Where it was referenced (field path).
        field: String,
    },
    /// A rate, share or demand is negative, NaN or infinite.
    #[error("{field} must be a finite non-negative number, got {value}")]
    InvalidRate {
        /// Field path, e.g. `buckets[3].rate`.
        field: String,
        /// The offending value.
        value: f64,
    },
    /// A throughput is zero, negative, NaN or infinite (use "absent" for
    /// "cannot serve under the SLO").
    #[error("{field} must be a finite positive throughput, got {value}")]
    InvalidThroughput {
        /// Field path, e.g. `buckets[3].throughput[L4]`.
        field: String,
        /// The offending value.
        value: f64,
    },
    /// A price is negative, NaN or too large.
    #[error("{field}: invalid price {value}")]
    InvalidPrice {
        /// Field path.
        field: String,
        /// The offending value.
        value: f64,
    },
    /// A table has the wrong shape.
    #[error("{field}: expected {expected} entries, found {found}")]
    Shape {
        /// Field path.
        field: String,
        /// Expected length.
        expected: usize,
        /// Actual length.
        found: usize,
    },
    /// A parameter is out of its allowed range.
    #[error("{field}: {message}")]
    InvalidParameter {
        /// Field path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A load is so large that it cannot be represented exactly.
    #[error("{field}: load of {load} accelerators is beyond the supported range (1e6)")]
    LoadTooLarge {
        /// Field path.
        field: String,
        /// The load in accelerators.
        load: f64,
    },
    /// A CSV or JSON/YAML document could not be parsed.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// File name (or `<input>`).
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What went wrong.
        message: String,
    },
    /// An instance type id is neither in the catalog nor defined inline.
    #[error("unknown instance type `{id}` at {field}")]
    UnknownInstanceType {
        /// The unknown id.
        id: String,
        /// Where it was referenced (field path).
        field: String,
    },
    /// A size (CPU, memory, device count) is negative, malformed or out of range.
    #[error("{field}: invalid size `{value}`: {message}")]
    InvalidSize {
        /// Field path, e.g. `nodes.replicas.L4.cpu`.
        field: String,
        /// The offending value as written.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// A name appears twice where names must be unique.
    #[error("{field}: `{name}` is listed twice")]
    DuplicateEntry {
        /// Field path of the list.
        field: String,
        /// The repeated name.
        name: String,
    },
    /// A required field is missing.
    #[error("{field} is required")]
    MissingField {
        /// Field path.
        field: String,
    },
    /// No instance type can be opened at all: the candidate list is empty
    /// or every candidate has a count limit of 0.
    #[error("{field}: no instance type can be opened ({message})")]
    NoInstanceAvailable {
        /// Field path of the candidate list.
        field: String,
        /// Why (empty list, every limit 0).
        message: String,
    },
    /// The batch packer rejected the instance built from valid input (a bug).
    #[error("the node-mix packing instance was rejected")]
    Packer {
        /// The packer's error.
        #[source]
        source: rightsizer_pack::PackError,
    },
    /// A file could not be read.
    #[error("cannot read {file}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A measured profile table was rejected.
    #[error(transparent)]
    Profile(Box<crate::profiles::ProfileError>),
}
