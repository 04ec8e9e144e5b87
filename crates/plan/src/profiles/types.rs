//! The value types of a profile table: units, shares, buckets, SLOs, rows.

use rightsizer_model::units::{GpuMilli, Watts};
use serde::{Deserialize, Serialize};

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

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
    pub(super) fn metric(&self) -> &'static str {
        match self {
            Slo::TpotMs(_) => "tpot",
            Slo::TtftMs(_) => "ttft",
            Slo::LatencyMs(_) => "latency",
            Slo::None => "none",
        }
    }
    pub(super) fn ms(&self) -> Option<f64> {
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
    pub(super) origin: PathBuf,
    pub(super) rows: Vec<ProfileRow>,
    /// Per row: CSV line or JSON row path, for error messages.
    pub(super) places: Vec<(Option<usize>, String)>,
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
