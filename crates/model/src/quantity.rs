//! Kubernetes `resource.Quantity`: parse and canonical format.
//!
//! PROVISIONAL STUB: replaced by the exact apimachinery implementation.

use crate::units::{Bytes, MilliCpu};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// How a quantity is written back (apimachinery's `Format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Format {
    /// Decimal SI suffixes (`m`, `k`, `M`, ...).
    DecimalSI,
    /// Binary suffixes (`Ki`, `Mi`, ...).
    BinarySI,
    /// Decimal exponents (`1e3`).
    DecimalExponent,
}

/// Why a string is not a valid quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantityError {
    /// The string does not match the quantity grammar.
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {input:?}")]
    Format {
        /// The input.
        input: String,
    },
    /// The value does not fit the target unit.
    #[error("quantity {input:?} is out of range for {target}")]
    OutOfRange {
        /// The input.
        input: String,
        /// What it was converted to.
        target: &'static str,
    },
}

/// A Kubernetes resource quantity (stub: milli-units in an i128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantity {
    milli: i128,
    format: Format,
}

impl Quantity {
    /// Parses a quantity string.
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        let bad = || QuantityError::Format {
            input: s.to_string(),
        };
        let (num, mult, format): (&str, f64, Format) = if let Some(n) = s.strip_suffix("Ki") {
            (n, 1024.0, Format::BinarySI)
        } else if let Some(n) = s.strip_suffix("Mi") {
            (n, 1048576.0, Format::BinarySI)
        } else if let Some(n) = s.strip_suffix("Gi") {
            (n, 1073741824.0, Format::BinarySI)
        } else if let Some(n) = s.strip_suffix('m') {
            (n, 0.001, Format::DecimalSI)
        } else if let Some(n) = s.strip_suffix('k') {
            (n, 1e3, Format::DecimalSI)
        } else if let Some(n) = s.strip_suffix('G') {
            (n, 1e9, Format::DecimalSI)
        } else {
            (s, 1.0, Format::DecimalSI)
        };
        let v: f64 = num.parse().map_err(|_| bad())?;
        Ok(Self {
            milli: (v * mult * 1000.0).ceil() as i128,
            format,
        })
    }
    /// `Value()`: the amount rounded up to an integer.
    pub fn value(&self) -> i64 {
        (self.milli.div_euclid(1000) + i128::from(self.milli.rem_euclid(1000) != 0)) as i64
    }
    /// `MilliValue()`: the amount in thousandths, rounded up.
    pub fn milli_value(&self) -> i64 {
        self.milli as i64
    }
    /// The format the quantity was written in.
    pub fn format(&self) -> Format {
        self.format
    }
    /// CPU: the amount in millicores (rounded up); error if negative or too large.
    pub fn to_millicpu(&self) -> Result<MilliCpu, QuantityError> {
        u64::try_from(self.milli)
            .map(MilliCpu::new)
            .map_err(|_| QuantityError::OutOfRange {
                input: self.to_string(),
                target: "millicores",
            })
    }
    /// Bytes (rounded up); error if negative or too large.
    pub fn to_bytes(&self) -> Result<Bytes, QuantityError> {
        u64::try_from(self.value())
            .map(Bytes::new)
            .map_err(|_| QuantityError::OutOfRange {
                input: self.to_string(),
                target: "bytes",
            })
    }
    /// A quantity of millicores in decimal SI format.
    pub fn from_millicpu(m: MilliCpu) -> Self {
        Self {
            milli: m.get() as i128,
            format: Format::DecimalSI,
        }
    }
    /// A quantity of bytes in binary SI format.
    pub fn from_bytes(b: Bytes) -> Self {
        Self {
            milli: b.get() as i128 * 1000,
            format: Format::BinarySI,
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.milli % 1000 == 0 {
            write!(f, "{}", self.milli / 1000)
        } else {
            write!(f, "{}m", self.milli)
        }
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, QuantityError> {
        Self::parse(s)
    }
}

/// Serde adapter for a [`MilliCpu`] field written as a Kubernetes quantity
/// (`"500m"`, `"2"`, or a JSON number of cores).
pub mod serde_cpu {
    use super::*;
    /// Serializes as the canonical quantity string.
    pub fn serialize<S: Serializer>(v: &MilliCpu, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&Quantity::from_millicpu(*v))
    }
    /// Deserializes from a quantity string or a number of cores.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MilliCpu, D::Error> {
        let q = super::deserialize_quantity(d)?;
        q.to_millicpu().map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for a [`Bytes`] field written as a Kubernetes quantity
/// (`"1Gi"`, `"512M"`, or a JSON number of bytes).
pub mod serde_bytes {
    use super::*;
    /// Serializes as the canonical quantity string.
    pub fn serialize<S: Serializer>(v: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&Quantity::from_bytes(*v))
    }
    /// Deserializes from a quantity string or a number of bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let q = super::deserialize_quantity(d)?;
        q.to_bytes().map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StrOrNum {
    S(String),
    U(u64),
    F(f64),
}

fn deserialize_quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
    let text = match StrOrNum::deserialize(d)? {
        StrOrNum::S(s) => s,
        StrOrNum::U(u) => u.to_string(),
        StrOrNum::F(f) => format!("{f}"),
    };
    Quantity::parse(&text).map_err(serde::de::Error::custom)
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_quantity(d)
    }
}
