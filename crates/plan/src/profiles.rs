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

use crate::fleet::{AcceleratorOption, DemandBucket};
use crate::select::MeasuredPoint;
use rightsizer_model::units::{GpuMilli, Watts};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

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

/// The unit of a throughput.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ThroughputUnit {
    /// Requests per second (`req/s`).
    #[serde(rename = "req/s")]
    RequestsPerSecond,
    /// Output tokens per second (`tokens/s`).
    #[serde(rename = "tokens/s")]
    TokensPerSecond,
    /// Training steps per second (`steps/s`).
    #[serde(rename = "steps/s")]
    StepsPerSecond,
}

impl ThroughputUnit {
    /// The text form used in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            ThroughputUnit::RequestsPerSecond => "req/s",
            ThroughputUnit::TokensPerSecond => "tokens/s",
            ThroughputUnit::StepsPerSecond => "steps/s",
        }
    }
}

impl fmt::Display for ThroughputUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ThroughputUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "req/s" => Ok(ThroughputUnit::RequestsPerSecond),
            "tokens/s" => Ok(ThroughputUnit::TokensPerSecond),
            "steps/s" => Ok(ThroughputUnit::StepsPerSecond),
            _ => Err(format!("unknown unit {s:?}")),
        }
    }
}

/// How much of a device (or which CPU capacity) one unit of an option uses.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Share {
    /// Whole devices (`whole`).
    Whole,
    /// A MIG instance of this profile (`mig:3g.20gb`).
    Mig(String),
    /// A time-sliced fraction of one device (`fraction:500` = half).
    Fraction(GpuMilli),
    /// CPU only, with this many vCPUs (`vcpu:32`).
    Vcpu(u32),
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Share::Whole => f.write_str("whole"),
            Share::Mig(p) => write!(f, "mig:{p}"),
            Share::Fraction(m) => write!(f, "fraction:{}", m.get()),
            Share::Vcpu(n) => write!(f, "vcpu:{n}"),
        }
    }
}

impl FromStr for Share {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() || s == "whole" {
            return Ok(Share::Whole);
        }
        if let Some(p) = s.strip_prefix("mig:") {
            if p.is_empty() || p.trim() != p {
                return Err("a MIG profile name is required, e.g. mig:3g.20gb".into());
            }
            return Ok(Share::Mig(p.to_string()));
        }
        if let Some(m) = s.strip_prefix("fraction:") {
            return match m.parse::<u32>() {
                Ok(v) if (1..=1000).contains(&v) => Ok(Share::Fraction(GpuMilli::new(v))),
                _ => Err(
                    "a fraction is 1..=1000 thousandths of one device, e.g. fraction:500".into(),
                ),
            };
        }
        if let Some(n) = s.strip_prefix("vcpu:") {
            return match n.parse::<u32>() {
                Ok(v) if v >= 1 => Ok(Share::Vcpu(v)),
                _ => Err("a vCPU count is at least 1, e.g. vcpu:32".into()),
            };
        }
        Err("expected whole, mig:<profile>, fraction:<milli> or vcpu:<n>".into())
    }
}

/// A request bucket: representative input × output lengths, or a name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bucket {
    /// `<input>x<output>` tokens; `output` is at least 1.
    Tokens {
        /// Input (prompt) tokens.
        input: u32,
        /// Output (generated) tokens.
        output: u32,
    },
    /// Any other label, e.g. a training job or a Mélange cell `r0c1`.
    Named(String),
}

impl Bucket {
    /// The canonical label (`512x128` or the name): the key of
    /// [`ProfileTable::throughput_by_bucket`].
    pub fn label(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bucket::Tokens { input, output } => write!(f, "{input}x{output}"),
            Bucket::Named(n) => f.write_str(n),
        }
    }
}

impl FromStr for Bucket {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("a bucket label is required".into());
        }
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if let Some((i, o)) = s.split_once('x') {
            if digits(i) && digits(o) {
                let (Ok(input), Ok(output)) = (i.parse::<u32>(), o.parse::<u32>()) else {
                    return Err("token counts must fit in 32 bits".into());
                };
                if output == 0 {
                    return Err("a token bucket has at least one output token".into());
                }
                return Ok(Bucket::Tokens { input, output });
            }
        }
        Ok(Bucket::Named(s.to_string()))
    }
}

/// Serde through the text form: serialises with `Display`, deserialises
/// with `FromStr` (its message becomes the serde error).
macro_rules! serde_as_text {
    ($($t:ty),+) => {$(
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}

serde_as_text!(Share, Bucket);

/// The SLO a throughput was measured under.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slo {
    /// Time per output token at most this many ms.
    TpotMs(f64),
    /// Time to first token at most this many ms.
    TtftMs(f64),
    /// End-to-end request latency at most this many ms.
    LatencyMs(f64),
    /// No latency SLO (e.g. training throughput).
    None,
}

impl Slo {
    fn metric(&self) -> &'static str {
        match self {
            Slo::TpotMs(_) => "tpot",
            Slo::TtftMs(_) => "ttft",
            Slo::LatencyMs(_) => "latency",
            Slo::None => "none",
        }
    }
    fn ms(&self) -> Option<f64> {
        match *self {
            Slo::TpotMs(v) | Slo::TtftMs(v) | Slo::LatencyMs(v) => Some(v),
            Slo::None => None,
        }
    }
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ms() {
            Some(v) => write!(f, "{} <= {v} ms", self.metric()),
            None => f.write_str("no SLO"),
        }
    }
}

/// What one unit of an option is: device, share and replica size.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProfileOption {
    /// Accelerator model id or CPU instance type.
    pub device: String,
    /// Whole devices, a MIG profile, a fraction or vCPUs.
    pub share: Share,
    /// Devices per replica.
    pub count: u32,
}

impl fmt::Display for ProfileOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} x{} ({})", self.device, self.count, self.share)
    }
}

/// One measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileRow {
    /// Workload (model or job) name.
    pub workload: String,
    /// Option name, as used in plans and selections.
    pub option: String,
    /// What one unit of the option is.
    #[serde(flatten)]
    pub unit_of: ProfileOption,
    /// The request bucket.
    pub bucket: Bucket,
    /// Highest sustained throughput of one replica under the SLO (0: SLO never met).
    pub throughput: f64,
    /// Unit of `throughput`.
    pub unit: ThroughputUnit,
    /// The SLO of the measurement.
    pub slo: Slo,
    /// Measured TPOT at that throughput (ms), if recorded.
    pub tpot_ms: Option<f64>,
    /// Measured average power of one replica, if recorded.
    pub power: Option<Watts>,
}

/// A validated profile table.
///
/// Rows keep their input order; equality compares the rows only (not the
/// origin or line numbers).
#[derive(Clone, Debug)]
pub struct ProfileTable {
    origin: PathBuf,
    rows: Vec<ProfileRow>,
    /// Per row: CSV line or JSON row path, for error messages.
    places: Vec<(Option<usize>, String)>,
}

impl PartialEq for ProfileTable {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows
    }
}

/// The documented columns, in the order [`ProfileTable::to_csv_string`] writes them.
pub const COLUMNS: [&str; 12] = [
    "workload",
    "option",
    "device",
    "share",
    "count",
    "bucket",
    "throughput",
    "unit",
    "slo",
    "slo_ms",
    "tpot_ms",
    "power_watts",
];
const REQUIRED: [&str; 9] = [
    "workload",
    "option",
    "device",
    "count",
    "bucket",
    "throughput",
    "unit",
    "slo",
    "slo_ms",
];

/// JSON document: `{"rows": [...]}`.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct JsonDoc {
    rows: Vec<JsonRow>,
}

/// One JSON row: the CSV columns as fields.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct JsonRow {
    workload: String,
    option: String,
    device: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    share: Option<String>,
    count: u32,
    bucket: String,
    throughput: f64,
    unit: String,
    slo: String,
    #[serde(default)]
    slo_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tpot_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    power_watts: Option<f64>,
}

/// Raw text fields of one row, before validation.
struct RawRow<'a> {
    get: Getter<'a>,
    at: Locator<'a>,
}

type Getter<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;
type Locator<'a> = Box<dyn Fn(&str) -> Box<Location> + 'a>;

impl RawRow<'_> {
    fn required(&self, col: &str) -> Result<String, ProfileError> {
        match (self.get)(col) {
            Some(v) if v.chars().any(char::is_control) => Err(self.invalid(
                col,
                &v,
                "control characters (line breaks, tabs) are not allowed",
            )),
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ProfileError::MissingValue { at: (self.at)(col) }),
        }
    }
    fn optional(&self, col: &str) -> Option<String> {
        (self.get)(col).filter(|v| !v.is_empty())
    }
    fn invalid(&self, col: &str, value: &str, message: impl Into<String>) -> ProfileError {
        ProfileError::InvalidValue {
            at: (self.at)(col),
            value: value.to_string(),
            message: message.into(),
        }
    }
    fn number(&self, col: &str, text: &str) -> Result<f64, ProfileError> {
        text.parse::<f64>()
            .map_err(|_| self.invalid(col, text, "not a number"))
    }
    fn positive_ms(&self, col: &str, text: &str) -> Result<f64, ProfileError> {
        let v = self.number(col, text)?;
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.invalid(col, text, "must be a finite number of milliseconds > 0"))
        }
    }

    fn parse(&self) -> Result<ProfileRow, ProfileError> {
        let workload = self.required("workload")?;
        let option = self.required("option")?;
        let device = self.required("device")?;
        let share_text = match self.optional("share") {
            Some(_) => self.required("share")?,
            None => String::new(),
        };
        let share = share_text
            .parse::<Share>()
            .map_err(|m| self.invalid("share", &share_text, m))?;
        let count_text = self.required("count")?;
        let count = match count_text.parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(self.invalid(
                    "count",
                    &count_text,
                    "devices per replica: an integer >= 1",
                ))
            }
        };
        let bucket_text = self.required("bucket")?;
        let bucket = bucket_text
            .parse::<Bucket>()
            .map_err(|m| self.invalid("bucket", &bucket_text, m))?;
        let tp_text = self.required("throughput")?;
        let throughput = self.number("throughput", &tp_text)?;
        if !(throughput.is_finite() && throughput >= 0.0) {
            return Err(ProfileError::InvalidThroughput {
                at: (self.at)("throughput"),
                value: throughput,
            });
        }
        let unit_text = self.required("unit")?;
        let unit = unit_text
            .parse::<ThroughputUnit>()
            .map_err(|_| ProfileError::UnknownUnit {
                at: (self.at)("unit"),
                value: unit_text.clone(),
            })?;
        let slo_text = self.required("slo")?;
        let slo_ms = self.optional("slo_ms");
        let slo = match (slo_text.as_str(), slo_ms) {
            ("none", None) => Slo::None,
            ("none", Some(v)) => {
                return Err(self.invalid("slo_ms", &v, "must be empty when slo is `none`"))
            }
            ("tpot" | "ttft" | "latency", None) => {
                return Err(ProfileError::MissingValue {
                    at: (self.at)("slo_ms"),
                })
            }
            ("tpot", Some(v)) => Slo::TpotMs(self.positive_ms("slo_ms", &v)?),
            ("ttft", Some(v)) => Slo::TtftMs(self.positive_ms("slo_ms", &v)?),
            ("latency", Some(v)) => Slo::LatencyMs(self.positive_ms("slo_ms", &v)?),
            (other, _) => {
                return Err(self.invalid("slo", other, "expected tpot, ttft, latency or none"))
            }
        };
        let tpot_ms = match self.optional("tpot_ms") {
            Some(v) => Some(self.positive_ms("tpot_ms", &v)?),
            None => None,
        };
        let power = match self.optional("power_watts") {
            Some(v) => {
                let w = self.number("power_watts", &v)?;
                if !(w.is_finite() && w >= 0.0 && w <= f64::from(u32::MAX)) {
                    return Err(self.invalid("power_watts", &v, "watts: a finite number >= 0"));
                }
                Some(Watts::new(w.round() as u32))
            }
            None => None,
        };
        Ok(ProfileRow {
            workload,
            option,
            unit_of: ProfileOption {
                device,
                share,
                count,
            },
            bucket,
            throughput,
            unit,
            slo,
            tpot_ms,
            power,
        })
    }
}

/// Splits one CSV line into fields; `Err((column, message))` on a quote error.
fn split_csv_line(line: &str) -> Result<Vec<String>, (usize, String)> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false; // the current field was quoted (and the quote closed)
    let mut in_quotes = false;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek().map(|&(_, d)| d) == Some('"') => {
                    cur.push('"');
                    chars.next();
                }
                '"' => in_quotes = false,
                _ => cur.push(c),
            }
            continue;
        }
        match c {
            ',' => {
                let f = std::mem::take(&mut cur);
                fields.push(if quoted { f } else { f.trim().to_string() });
                quoted = false;
            }
            '"' if !quoted && cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
                in_quotes = true;
            }
            '"' => return Err((i + 1, "quote inside a field (quote the whole field)".into())),
            _ if quoted && !c.is_whitespace() => {
                return Err((i + 1, "text after a closing quote".into()))
            }
            _ if quoted => {}
            _ => cur.push(c),
        }
    }
    if in_quotes {
        return Err((line.len() + 1, "unterminated quoted field".into()));
    }
    fields.push(if quoted { cur } else { cur.trim().to_string() });
    Ok(fields)
}

fn quote_csv(s: &str) -> String {
    let needs =
        s.is_empty() || s.contains([',', '"', '\n', '\r']) || s.starts_with('#') || s.trim() != s;
    if needs {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl ProfileTable {
    /// Reads a CSV table; `origin` names the input in errors.
    ///
    /// ```
    /// use rightsizer_plan::profiles::{ProfileError, ProfileTable};
    /// let bad = "workload,option,device,count,bucket,throughput,unit,slo,slo_ms\n\
    ///            llama,L4,L4,1,512x128,-3,req/s,tpot,40\n";
    /// match ProfileTable::from_csv_str(bad, "bad.csv") {
    ///     Err(ProfileError::InvalidThroughput { at, value }) => {
    ///         assert_eq!(at.line, Some(2));
    ///         assert_eq!(at.field, "throughput");
    ///         assert_eq!(value, -3.0);
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn from_csv_str(text: &str, origin: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let file = origin.as_ref().to_path_buf();
        let loc = |line: Option<usize>, field: &str| {
            Box::new(Location {
                file: file.clone(),
                line,
                field: field.to_string(),
            })
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let Some((hline, header)) = lines.next() else {
            return Err(ProfileError::Empty { file });
        };
        let header = split_csv_line(header).map_err(|(c, m)| ProfileError::Syntax {
            at: loc(Some(hline), &format!("column {c}")),
            message: m,
        })?;
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, h) in header.iter().enumerate() {
            let Some(col) = COLUMNS.iter().find(|c| **c == h.as_str()) else {
                return Err(ProfileError::UnknownColumn {
                    at: loc(Some(hline), &format!("column {}", i + 1)),
                    column: h.clone(),
                    expected: COLUMNS.join(", "),
                });
            };
            if index.insert(col, i).is_some() {
                return Err(ProfileError::DuplicateColumn {
                    at: loc(Some(hline), &format!("column {}", i + 1)),
                    column: h.clone(),
                });
            }
        }
        for r in REQUIRED {
            if !index.contains_key(r) {
                return Err(ProfileError::MissingColumn {
                    at: loc(Some(hline), ""),
                    column: r.to_string(),
                });
            }
        }
        let mut table = ProfileTable {
            origin: file.clone(),
            rows: Vec::new(),
            places: Vec::new(),
        };
        for (n, line) in lines {
            let rec = split_csv_line(line).map_err(|(c, m)| ProfileError::Syntax {
                at: loc(Some(n), &format!("column {c}")),
                message: m,
            })?;
            if rec.len() != header.len() {
                return Err(ProfileError::Syntax {
                    at: loc(Some(n), ""),
                    message: format!(
                        "expected {} fields (as in the header), found {}",
                        header.len(),
                        rec.len()
                    ),
                });
            }
            let raw = RawRow {
                get: Box::new(|c: &str| index.get(c).map(|&i| rec[i].clone())),
                at: Box::new(|c: &str| loc(Some(n), c)),
            };
            let row = raw.parse()?;
            table.push(row, (Some(n), String::new()));
        }
        table.finish()
    }

    /// Reads a JSON table `{"rows": [...]}`; `origin` names the input in errors.
    ///
    /// ```
    /// use rightsizer_plan::profiles::ProfileTable;
    /// let json = r#"{"rows": [{"workload": "resnet50", "option": "V100", "device": "V100", "count": 1,
    ///   "bucket": "bs64", "throughput": 4.3948, "unit": "steps/s", "slo": "none"}]}"#;
    /// let t = ProfileTable::from_json_str(json, "gavel.json")?;
    /// assert_eq!(t.rows()[0].throughput, 4.3948);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json_str(text: &str, origin: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let file = origin.as_ref().to_path_buf();
        let doc: JsonDoc = serde_json::from_str(text).map_err(|e| ProfileError::Syntax {
            at: Box::new(Location {
                file: file.clone(),
                line: Some(e.line()),
                field: format!("column {}", e.column()),
            }),
            message: e.to_string(),
        })?;
        let mut table = ProfileTable {
            origin: file.clone(),
            rows: Vec::new(),
            places: Vec::new(),
        };
        for (i, r) in doc.rows.iter().enumerate() {
            let num = |v: Option<f64>| v.map(format_f64);
            let fields: BTreeMap<&str, Option<String>> = BTreeMap::from([
                ("workload", Some(r.workload.clone())),
                ("option", Some(r.option.clone())),
                ("device", Some(r.device.clone())),
                ("share", r.share.clone()),
                ("count", Some(r.count.to_string())),
                ("bucket", Some(r.bucket.clone())),
                ("throughput", Some(format_f64(r.throughput))),
                ("unit", Some(r.unit.clone())),
                ("slo", Some(r.slo.clone())),
                ("slo_ms", num(r.slo_ms)),
                ("tpot_ms", num(r.tpot_ms)),
                ("power_watts", num(r.power_watts)),
            ]);
            let file = &file;
            let raw = RawRow {
                get: Box::new(move |c: &str| fields.get(c).cloned().flatten()),
                at: Box::new(move |c: &str| {
                    Box::new(Location {
                        file: file.clone(),
                        line: None,
                        field: if c.is_empty() {
                            format!("rows[{i}]")
                        } else {
                            format!("rows[{i}].{c}")
                        },
                    })
                }),
            };
            let row = raw.parse()?;
            table.push(row, (None, format!("rows[{i}]")));
        }
        table.finish()
    }

    /// Reads a `.csv` or `.json` file (by extension, case-insensitive).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let read = || {
            std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
                file: path.to_path_buf(),
                source,
            })
        };
        match ext.as_deref() {
            Some("csv") => Self::from_csv_str(&read()?, path),
            Some("json") => Self::from_json_str(&read()?, path),
            _ => Err(ProfileError::UnsupportedFormat {
                file: path.to_path_buf(),
            }),
        }
    }

    /// Builds a table from rows (validated like a file; `origin` names it in errors).
    pub fn from_rows(
        rows: impl IntoIterator<Item = ProfileRow>,
        origin: impl AsRef<Path>,
    ) -> Result<Self, ProfileError> {
        let mut table = ProfileTable {
            origin: origin.as_ref().to_path_buf(),
            rows: Vec::new(),
            places: Vec::new(),
        };
        for (i, r) in rows.into_iter().enumerate() {
            // Re-validate through the text form so constructed rows obey the file rules.
            let checked = table.validate_row(&r, i)?;
            table.push(checked, (None, format!("rows[{i}]")));
        }
        table.finish()
    }

    fn validate_row(&self, r: &ProfileRow, i: usize) -> Result<ProfileRow, ProfileError> {
        let fields = row_fields(r);
        let file = self.origin.clone();
        let raw = RawRow {
            get: Box::new(move |c: &str| {
                COLUMNS
                    .iter()
                    .position(|k| *k == c)
                    .and_then(|p| fields[p].clone())
            }),
            at: Box::new(move |c: &str| {
                Box::new(Location {
                    file: file.clone(),
                    line: None,
                    field: format!("rows[{i}].{c}"),
                })
            }),
        };
        raw.parse()
    }

    fn place(&self, i: usize) -> String {
        match &self.places[i] {
            (Some(l), _) => format!("line {l}"),
            (None, p) => p.clone(),
        }
    }

    fn loc(&self, i: usize, field: &str) -> Box<Location> {
        let (line, path) = &self.places[i];
        Box::new(Location {
            file: self.origin.clone(),
            line: *line,
            field: if path.is_empty() || field.is_empty() {
                format!("{path}{field}")
            } else {
                format!("{path}.{field}")
            },
        })
    }

    fn push(&mut self, row: ProfileRow, place: (Option<usize>, String)) {
        self.rows.push(row);
        self.places.push(place);
    }

    /// Checks uniqueness and option consistency once all rows are in.
    fn finish(self) -> Result<Self, ProfileError> {
        if self.rows.is_empty() {
            return Err(ProfileError::Empty { file: self.origin });
        }
        let mut seen: BTreeMap<(&str, &str, &Bucket), usize> = BTreeMap::new();
        let mut options: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, r) in self.rows.iter().enumerate() {
            if let Some(&j) = seen.get(&(r.workload.as_str(), r.option.as_str(), &r.bucket)) {
                return Err(ProfileError::DuplicateRow {
                    at: self.loc(i, ""),
                    first: self.place(j),
                    workload: r.workload.clone(),
                    option: r.option.clone(),
                    bucket: r.bucket.label(),
                });
            }
            seen.insert((&r.workload, &r.option, &r.bucket), i);
            match options.get(r.option.as_str()) {
                Some(&j) if self.rows[j].unit_of != r.unit_of => {
                    return Err(ProfileError::ConflictingOption {
                        at: self.loc(i, ""),
                        option: r.option.clone(),
                        found: r.unit_of.to_string(),
                        first: self.rows[j].unit_of.to_string(),
                        first_at: self.place(j),
                    })
                }
                Some(_) => {}
                None => {
                    options.insert(&r.option, i);
                }
            }
        }
        Ok(self)
    }

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

    /// Writes the table as CSV with every documented column, in [`COLUMNS`]
    /// order; reading it back gives an equal table.
    pub fn to_csv_string(&self) -> String {
        let mut s = COLUMNS.join(",");
        s.push('\n');
        for r in &self.rows {
            let fields: Vec<String> = row_fields(r)
                .into_iter()
                .map(|f| f.map(|v| quote_csv(&v)).unwrap_or_default())
                .collect();
            s += &fields.join(",");
            s.push('\n');
        }
        s
    }

    /// Writes the table as JSON (`{"rows": [...]}`); reading it back gives an
    /// equal table.
    pub fn to_json_string(&self) -> String {
        let rows = self
            .rows
            .iter()
            .map(|r| JsonRow {
                workload: r.workload.clone(),
                option: r.option.clone(),
                device: r.unit_of.device.clone(),
                share: (r.unit_of.share != Share::Whole).then(|| r.unit_of.share.to_string()),
                count: r.unit_of.count,
                bucket: r.bucket.label(),
                throughput: r.throughput,
                unit: r.unit.to_string(),
                slo: r.slo.metric().to_string(),
                slo_ms: r.slo.ms(),
                tpot_ms: r.tpot_ms,
                power_watts: r.power.map(|w| f64::from(w.get())),
            })
            .collect();
        serde_json::to_string_pretty(&JsonDoc { rows }).expect("plain data serialises")
    }
}

/// Shortest text that parses back to the same `f64`.
fn format_f64(v: f64) -> String {
    format!("{v}")
}

/// A row's fields in [`COLUMNS`] order (`None` = empty).
fn row_fields(r: &ProfileRow) -> Vec<Option<String>> {
    vec![
        Some(r.workload.clone()),
        Some(r.option.clone()),
        Some(r.unit_of.device.clone()),
        Some(r.unit_of.share.to_string()),
        Some(r.unit_of.count.to_string()),
        Some(r.bucket.label()),
        Some(format_f64(r.throughput)),
        Some(r.unit.to_string()),
        Some(r.slo.metric().to_string()),
        r.slo.ms().map(format_f64),
        r.tpot_ms.map(format_f64),
        r.power.map(|w| w.get().to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "workload,option,device,count,bucket,throughput,unit,slo,slo_ms";

    fn csv(rows: &[&str]) -> String {
        let mut s = format!("{HEADER}\n");
        for r in rows {
            s += r;
            s.push('\n');
        }
        s
    }

    fn read(rows: &[&str]) -> Result<ProfileTable, ProfileError> {
        ProfileTable::from_csv_str(&csv(rows), "t.csv")
    }

    #[test]
    fn reads_every_column_and_kind() {
        let text = "\
# comment line, then a header in another order
bucket , workload,option,device,share,count,throughput,unit,slo,slo_ms,tpot_ms,power_watts

512x128,llama,A10Gx1,A10G,whole,1,2.5,req/s,tpot,40,31.5,289.6
\"2048x512\",llama,\"A100-40GB:3g\",A100-40GB,mig:3g.20gb,1,0.5,req/s,tpot,40,,
512x128,llama,L4-half,L4,fraction:500,1,0,req/s,tpot,40,,
512x128,llama,cpu-32,m7i.8xlarge,vcpu:32,1,0.1,req/s,tpot,40,,
bs64,resnet50,V100,V100,,1,4.3948,steps/s,none,,,
";
        let t = ProfileTable::from_csv_str(text, "all.csv").unwrap();
        assert_eq!(t.rows().len(), 5);
        let r = &t.rows()[0];
        assert_eq!(
            r.bucket,
            Bucket::Tokens {
                input: 512,
                output: 128
            }
        );
        assert_eq!(r.slo, Slo::TpotMs(40.0));
        assert_eq!(r.tpot_ms, Some(31.5));
        assert_eq!(r.power, Some(Watts::new(290)));
        assert_eq!(t.rows()[1].unit_of.share, Share::Mig("3g.20gb".into()));
        assert_eq!(
            t.rows()[2].unit_of.share,
            Share::Fraction(GpuMilli::new(500))
        );
        assert_eq!(t.rows()[3].unit_of.share, Share::Vcpu(32));
        assert_eq!(t.rows()[4].slo, Slo::None);
        assert_eq!(t.rows()[4].bucket, Bucket::Named("bs64".into()));
        assert_eq!(
            t.workloads().into_iter().collect::<Vec<_>>(),
            ["llama", "resnet50"]
        );
        // Maps: the zero row is absent, the others converted.
        let m = t
            .throughput_by_bucket("llama", ThroughputUnit::TokensPerSecond)
            .unwrap();
        assert_eq!(m["512x128"]["A10Gx1"], 320.0);
        assert!(!m["512x128"].contains_key("L4-half"));
        assert_eq!(m["2048x512"]["A100-40GB:3g"], 256.0);
        let s = t
            .throughput_by_bucket("resnet50", ThroughputUnit::StepsPerSecond)
            .unwrap();
        assert_eq!(s["bs64"]["V100"], 4.3948);
        // JSON and CSV writers round trip.
        let back = ProfileTable::from_csv_str(&t.to_csv_string(), "back.csv").unwrap();
        assert_eq!(back, t);
        let back = ProfileTable::from_json_str(&t.to_json_string(), "back.json").unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn conversions_that_make_no_sense_are_errors() {
        let t = read(&[
            "train,V100,V100,1,bs64,4.4,steps/s,none,",
            "chat,L4,L4,1,512x128,4,req/s,tpot,40",
            "chat,L4,L4,1,1024x256,2,req/s,tpot,40",
            "named,L4,L4,1,long,2,req/s,tpot,40",
            "mixed,L4,L4,1,512x128,2,req/s,tpot,40",
            "mixed,A10G,A10G,1,512x128,2,req/s,tpot,120",
        ])
        .unwrap();
        assert!(matches!(
            t.throughput_by_bucket("train", ThroughputUnit::RequestsPerSecond),
            Err(ProfileError::UnitMismatch { .. })
        ));
        assert!(matches!(
            t.throughput_by_bucket("named", ThroughputUnit::TokensPerSecond),
            Err(ProfileError::UnitMismatch { .. })
        ));
        assert!(t
            .throughput_by_bucket("named", ThroughputUnit::RequestsPerSecond)
            .is_ok());
        match t.throughput_by_bucket("mixed", ThroughputUnit::RequestsPerSecond) {
            Err(ProfileError::MixedSlo { at, first_at, .. }) => {
                assert_eq!(at.line, Some(7));
                assert_eq!(first_at, "line 6");
            }
            other => panic!("{other:?}"),
        }
        match t.throughput_by_bucket("nope", ThroughputUnit::RequestsPerSecond) {
            Err(ProfileError::UnknownWorkload { known, .. }) => {
                assert_eq!(known, "chat, mixed, named, train")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            t.measured_points("chat"),
            Err(ProfileError::AmbiguousBucket { .. })
        ));
        let p = t
            .measured_points_in("chat", &"1024x256".parse().unwrap())
            .unwrap();
        assert_eq!(p["L4"].tokens_per_s, 512.0);
        assert_eq!(p["L4"].tpot_ms, 40.0);
        assert!(matches!(
            t.measured_points("train"),
            Err(ProfileError::UnitMismatch { .. })
        ));
        let t = read(&["e2e,L4,L4,1,512x128,4,req/s,latency,900"]).unwrap();
        assert!(matches!(
            t.measured_points("e2e"),
            Err(ProfileError::NoTpot { .. })
        ));
    }

    #[test]
    fn bad_inputs_name_file_line_column_and_value() {
        let ok = "llama,L4,L4,1,512x128,4,req/s,tpot,40";
        let cases: Vec<(String, &str)> = vec![
            (
                csv(&["llama,L4,L4,1,512x128,-1,req/s,tpot,40"]),
                "throughput",
            ),
            (
                csv(&["llama,L4,L4,1,512x128,NaN,req/s,tpot,40"]),
                "throughput",
            ),
            (
                csv(&["llama,L4,L4,1,512x128,inf,req/s,tpot,40"]),
                "throughput",
            ),
            (csv(&["llama,L4,L4,1,512x128,4,rps,tpot,40"]), "unit"),
            (csv(&["llama,L4,L4,0,512x128,4,req/s,tpot,40"]), "count"),
            (csv(&["llama,L4,L4,1,512x0,4,req/s,tpot,40"]), "bucket"),
            (csv(&["llama,L4,L4,1,512x128,4,req/s,p99,40"]), "slo"),
            (csv(&["llama,L4,L4,1,512x128,4,req/s,tpot,"]), "slo_ms"),
            (csv(&["llama,L4,L4,1,512x128,4,req/s,tpot,-40"]), "slo_ms"),
            (csv(&["llama,L4,L4,1,512x128,4,req/s,none,40"]), "slo_ms"),
            (csv(&[",L4,L4,1,512x128,4,req/s,tpot,40"]), "workload"),
            (
                csv(&["llama,L4,L4,1,512x128,four,req/s,tpot,40"]),
                "throughput",
            ),
        ];
        for (text, field) in cases {
            let err = ProfileTable::from_csv_str(&text, "bad.csv").unwrap_err();
            let msg = err.to_string();
            assert!(msg.starts_with("bad.csv:2: "), "{msg}");
            assert!(msg.contains(field), "{field}: {msg}");
        }
        assert!(matches!(
            read(&[ok, "llama,L4,L4,1,512x128,4,req/s,tpot,40"]),
            Err(ProfileError::DuplicateRow { first, .. }) if first == "line 2"
        ));
        // Same bucket written differently is still a duplicate.
        assert!(matches!(
            read(&[ok, "llama,L4,L4,1,0512x128,5,req/s,tpot,40"]),
            Err(ProfileError::DuplicateRow { .. })
        ));
        assert!(matches!(
            read(&[ok, "llama,L4,L4,2,1024x128,4,req/s,tpot,40"]),
            Err(ProfileError::ConflictingOption { .. })
        ));
        assert!(matches!(read(&[]), Err(ProfileError::Empty { .. })));
        assert!(matches!(
            ProfileTable::from_csv_str("", "e.csv"),
            Err(ProfileError::Empty { .. })
        ));
        assert!(matches!(
            ProfileTable::from_csv_str(&format!("{HEADER},colour\n"), "e.csv"),
            Err(ProfileError::UnknownColumn { column, .. }) if column == "colour"
        ));
        assert!(matches!(
            ProfileTable::from_csv_str(&format!("{HEADER},unit\n"), "e.csv"),
            Err(ProfileError::DuplicateColumn { column, .. }) if column == "unit"
        ));
        assert!(matches!(
            ProfileTable::from_csv_str("workload,option,device,count,bucket,throughput,unit,slo\n", "e.csv"),
            Err(ProfileError::MissingColumn { column, .. }) if column == "slo_ms"
        ));
        assert!(matches!(
            read(&["llama,L4,L4,1,512x128,4,req/s,tpot"]),
            Err(ProfileError::Syntax { .. })
        ));
        assert!(matches!(
            read(&["llama,\"L4,L4,1,512x128,4,req/s,tpot,40"]),
            Err(ProfileError::Syntax { .. })
        ));
        assert!(matches!(
            read(&["llama,L\"4,L4,1,512x128,4,req/s,tpot,40"]),
            Err(ProfileError::Syntax { .. })
        ));
        // JSON: unknown fields, bad values and syntax, with the row path.
        let j = r#"{"rows": [{"workload": "w", "option": "L4", "device": "L4", "count": 1,
            "bucket": "1x1", "throughput": -2, "unit": "req/s", "slo": "none"}]}"#;
        match ProfileTable::from_json_str(j, "t.json") {
            Err(ProfileError::InvalidThroughput { at, value }) => {
                assert_eq!(at.field, "rows[0].throughput");
                assert_eq!(value, -2.0);
            }
            other => panic!("{other:?}"),
        }
        let j = r#"{"rows": [{"workload": "w", "colour": "red"}]}"#;
        assert!(matches!(
            ProfileTable::from_json_str(j, "t.json"),
            Err(ProfileError::Syntax { .. })
        ));
        assert!(matches!(
            ProfileTable::from_json_str(r#"{"rows": []}"#, "t.json"),
            Err(ProfileError::Empty { .. })
        ));
        assert!(matches!(
            ProfileTable::from_path("profiles.yaml"),
            Err(ProfileError::UnsupportedFormat { .. })
        ));
        assert!(matches!(
            ProfileTable::from_path("/nonexistent/p.csv"),
            Err(ProfileError::Io { .. })
        ));
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(split_csv_line("a, b ,\" c \"").unwrap(), ["a", "b", " c "]);
        assert_eq!(split_csv_line("\"x\"\"y\",").unwrap(), ["x\"y", ""]);
        assert_eq!(quote_csv("#x"), "\"#x\"");
        assert_eq!(quote_csv("a,b"), "\"a,b\"");
        assert_eq!(quote_csv("plain"), "plain");
    }
}
