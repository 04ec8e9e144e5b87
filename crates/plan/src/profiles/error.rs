//! Where a profile table went wrong ([`Location`]) and why ([`ProfileError`]).
//! A leaf of the crate: the crate error wraps it, nothing here imports back.

use super::types::{Slo, ThroughputUnit};
use std::fmt;
use std::path::PathBuf;

/// Where in an input a problem was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file name (or the origin given to a `from_*_str` reader).
    pub file: PathBuf,
    /// 1-based line (CSV), when known.
    pub line: Option<usize>,
    /// Column name (CSV) or field path (JSON, e.g. `rows[3].throughput`);
    /// empty when the whole row or file is meant.
    pub field: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        Ok(())
    }
}

/// Why a profile table was rejected or a conversion failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read {file}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file name has no `.csv` or `.json` extension.
    #[error("{file}: unsupported profile table format (expected a .csv or .json file)")]
    UnsupportedFormat {
        /// The file.
        file: PathBuf,
    },
    /// Malformed CSV or JSON syntax.
    #[error("{at}: {message}")]
    Syntax {
        /// Where (JSON: line and column in `field` as `line L column C`).
        at: Box<Location>,
        /// What is wrong.
        message: String,
    },
    /// A required column (or JSON field) is missing.
    #[error("{at}: missing column `{column}`")]
    MissingColumn {
        /// Where.
        at: Box<Location>,
        /// The column.
        column: String,
    },
    /// A column name is not one of the documented columns.
    #[error("{at}: unknown column `{column}` (expected one of {expected})")]
    UnknownColumn {
        /// Where.
        at: Box<Location>,
        /// The unknown name.
        column: String,
        /// The documented columns.
        expected: String,
    },
    /// A column appears twice in the header.
    #[error("{at}: column `{column}` appears twice")]
    DuplicateColumn {
        /// Where.
        at: Box<Location>,
        /// The repeated name.
        column: String,
    },
    /// A required value is empty.
    #[error("{at}: value required")]
    MissingValue {
        /// Where.
        at: Box<Location>,
    },
    /// A value could not be parsed or is out of range.
    #[error("{at}: invalid value {value:?}: {message}")]
    InvalidValue {
        /// Where.
        at: Box<Location>,
        /// The text as written.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// A throughput is negative, NaN or infinite.
    #[error("{at}: throughput must be finite and >= 0, got {value}")]
    InvalidThroughput {
        /// Where.
        at: Box<Location>,
        /// The offending value.
        value: f64,
    },
    /// The throughput unit is not `req/s`, `tokens/s` or `steps/s`.
    #[error("{at}: unknown unit {value:?} (expected req/s, tokens/s or steps/s)")]
    UnknownUnit {
        /// Where.
        at: Box<Location>,
        /// The text as written.
        value: String,
    },
    /// Two rows share (workload, option, bucket).
    #[error("{at}: duplicate row for workload `{workload}`, option `{option}`, bucket `{bucket}` (first at {first})")]
    DuplicateRow {
        /// The second occurrence.
        at: Box<Location>,
        /// Where the first one is (line or row).
        first: String,
        /// Workload.
        workload: String,
        /// Option.
        option: String,
        /// Bucket label.
        bucket: String,
    },
    /// One option name is described with different device, share or count.
    #[error("{at}: option `{option}` is {found} here but {first} at {first_at}")]
    ConflictingOption {
        /// The conflicting row.
        at: Box<Location>,
        /// The option name.
        option: String,
        /// Its description on this row.
        found: String,
        /// Its first description.
        first: String,
        /// Where the first description is.
        first_at: String,
    },
    /// The table has no rows.
    #[error("{file}: the profile table has no rows")]
    Empty {
        /// The file.
        file: PathBuf,
    },
    /// A conversion asked for a workload the table does not have.
    #[error("{file}: no rows for workload `{workload}` (the table has: {known})")]
    UnknownWorkload {
        /// The file.
        file: PathBuf,
        /// The workload asked for.
        workload: String,
        /// The workloads present.
        known: String,
    },
    /// A throughput cannot be converted to the requested unit.
    #[error("{at}: cannot convert {from} to {to} for bucket `{bucket}`{hint}")]
    UnitMismatch {
        /// The row.
        at: Box<Location>,
        /// Its unit.
        from: ThroughputUnit,
        /// The unit asked for.
        to: ThroughputUnit,
        /// The bucket.
        bucket: String,
        /// Why (e.g. a named bucket has no output length).
        hint: String,
    },
    /// Rows of one workload were measured under different SLOs.
    #[error("{at}: workload `{workload}` measured under {found} here but under {first} at {first_at}: plans need one SLO")]
    MixedSlo {
        /// The row.
        at: Box<Location>,
        /// The workload.
        workload: String,
        /// This row's SLO.
        found: Slo,
        /// The first SLO.
        first: Slo,
        /// Where the first one is.
        first_at: String,
    },
    /// An option has rows for several buckets and no bucket was chosen.
    #[error("{file}: workload `{workload}`, option `{option}` has rows for several buckets ({buckets}); pick one with measured_points_in")]
    AmbiguousBucket {
        /// The file.
        file: PathBuf,
        /// The workload.
        workload: String,
        /// The option.
        option: String,
        /// The buckets present.
        buckets: String,
    },
    /// A measured point needs a TPOT: neither `tpot_ms` nor a `tpot` SLO is given.
    #[error("{at}: a selection point needs the measured TPOT (`tpot_ms`) or a `tpot` SLO")]
    NoTpot {
        /// The row.
        at: Box<Location>,
    },
    /// A demand bucket's rate is negative or not finite, or names an unknown bucket.
    #[error("demand rate for bucket `{bucket}`: {message}")]
    InvalidDemand {
        /// The bucket label.
        bucket: String,
        /// What is wrong.
        message: String,
    },
}
