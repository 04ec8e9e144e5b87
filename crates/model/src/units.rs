//! Physical units and money as newtypes with checked arithmetic.
//!
//! Every quantity that crosses an API boundary is one of these types, never a
//! bare integer or float: a size in [`MilliCpu`] cannot be added to a size in
//! [`Bytes`], and a price is an integer number of micro-units of currency
//! ([`PricePerHour`], [`Money`]), so summing many prices is exact.
//!
//! Each integer unit has a `const fn new`, `get`, `ZERO`/`MAX`, and the
//! checked/saturating arithmetic that makes physical sense:
//!
//! ```
//! use rightsizer_model::units::{MilliCpu, Bytes, Watts, PricePerHour};
//! use std::time::Duration;
//!
//! let a = MilliCpu::new(1500);
//! assert_eq!(a.checked_sub(MilliCpu::from_cores(1)), Some(MilliCpu::new(500)));
//! assert_eq!(Bytes::from_gib(1).get(), 1 << 30);
//! // watts × time = joules
//! assert_eq!(Watts::new(300).energy_over(Duration::from_secs(10)).get(), 3000.0);
//! // $1.25 per hour for 30 days
//! let p = PricePerHour::from_dollars(1.25).unwrap();
//! assert_eq!(p.cost_for_hours(720).to_string(), "$900.000000");
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

macro_rules! integer_unit {
    ($(#[$m:meta])* $name:ident, $inner:ty, $suffix:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub(crate) $inner);

        impl $name {
            /// Zero of this unit.
            pub const ZERO: Self = Self(0);
            /// The largest representable amount.
            pub const MAX: Self = Self(<$inner>::MAX);
            /// Wraps a raw amount.
            pub const fn new(v: $inner) -> Self {
                Self(v)
            }
            /// The raw amount.
            pub const fn get(self) -> $inner {
                self.0
            }
            /// `true` when the amount is zero.
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }
            /// Addition that returns `None` on overflow.
            pub fn checked_add(self, o: Self) -> Option<Self> {
                self.0.checked_add(o.0).map(Self)
            }
            /// Subtraction that returns `None` when `o > self`.
            pub fn checked_sub(self, o: Self) -> Option<Self> {
                self.0.checked_sub(o.0).map(Self)
            }
            /// Addition clamped at [`Self::MAX`].
            pub fn saturating_add(self, o: Self) -> Self {
                Self(self.0.saturating_add(o.0))
            }
            /// Subtraction clamped at zero.
            pub fn saturating_sub(self, o: Self) -> Self {
                Self(self.0.saturating_sub(o.0))
            }
            /// Multiplication by a count, `None` on overflow.
            pub fn checked_mul(self, n: $inner) -> Option<Self> {
                self.0.checked_mul(n).map(Self)
            }
            /// `self / total` as a float in `[0, ∞)`; `0.0` when `total` is zero.
            pub fn ratio_of(self, total: Self) -> f64 {
                if total.0 == 0 {
                    0.0
                } else {
                    self.0 as f64 / total.0 as f64
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", self.0, $suffix)
            }
        }

        impl std::iter::Sum for $name {
            /// Saturating sum.
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(Self::ZERO, |a, b| a.saturating_add(b))
            }
        }
    };
}

integer_unit!(
    /// CPU in millicores (1000 = one core), as Kubernetes counts `cpu`.
    MilliCpu, u64, "m"
);
integer_unit!(
    /// A size in bytes (memory, device memory, storage).
    Bytes, u64, "B"
);
integer_unit!(
    /// Accelerator compute share in milli-devices: 1000 is one whole device,
    /// 500 half of one (HAMi/KAI-style fractional sharing). Values above 1000
    /// only occur as sums over several devices.
    GpuMilli, u32, "mgpu"
);
integer_unit!(
    /// Electrical power in whole watts, as spec sheets give TDP/TBP.
    Watts, u32, "W"
);

impl MilliCpu {
    /// `n` whole cores.
    pub const fn from_cores(n: u64) -> Self {
        Self(n * 1000)
    }
    /// Cores as a float (for reports).
    pub fn as_cores(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl Bytes {
    /// `n` KiB.
    pub const fn from_kib(n: u64) -> Self {
        Self(n << 10)
    }
    /// `n` MiB.
    pub const fn from_mib(n: u64) -> Self {
        Self(n << 20)
    }
    /// `n` GiB.
    pub const fn from_gib(n: u64) -> Self {
        Self(n << 30)
    }
    /// `n` decimal gigabytes (10^9 bytes).
    pub const fn from_gb(n: u64) -> Self {
        Self(n * 1_000_000_000)
    }
    /// Size in GiB as a float (for reports).
    pub fn as_gib(self) -> f64 {
        self.0 as f64 / (1u64 << 30) as f64
    }
}

impl GpuMilli {
    /// One whole device.
    pub const ONE: Self = Self(1000);
    /// `n` whole devices.
    pub const fn whole(n: u32) -> Self {
        Self(n * 1000)
    }
    /// Devices as a float (for reports).
    pub fn as_devices(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl Watts {
    /// Energy drawn at this power for `d`.
    pub fn energy_over(self, d: Duration) -> Joules {
        Joules(self.0 as f64 * d.as_secs_f64())
    }
}

/// Energy in joules. Energy is derived (power × time, or per unit of work such
/// as J/token), so it is a float; constructors reject NaN, infinities and
/// negative values.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Joules(f64);

impl Joules {
    /// Zero energy.
    pub const ZERO: Self = Self(0.0);
    /// `None` unless `v` is finite and non-negative.
    pub fn new(v: f64) -> Option<Self> {
        (v.is_finite() && v >= 0.0).then_some(Self(v))
    }
    /// The amount in joules.
    pub const fn get(self) -> f64 {
        self.0
    }
    /// Kilowatt-hours.
    pub fn as_kwh(self) -> f64 {
        self.0 / 3.6e6
    }
}

impl std::ops::Add for Joules {
    type Output = Joules;
    fn add(self, o: Joules) -> Joules {
        Joules(self.0 + o.0)
    }
}

impl fmt::Display for Joules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} J", self.0)
    }
}

/// Micro-units of currency per one unit. Prices are USD unless a catalog says otherwise.
pub const MICROS_PER_UNIT: u64 = 1_000_000;

/// An amount of money in integer micro-units (1 USD = 1,000,000).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(u64);

impl Money {
    /// No money.
    pub const ZERO: Self = Self(0);
    /// From micro-units.
    pub const fn from_micros(m: u64) -> Self {
        Self(m)
    }
    /// Micro-units.
    pub const fn micros(self) -> u64 {
        self.0
    }
    /// As a float number of currency units (for reports only).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_UNIT as f64
    }
    /// Checked addition.
    pub fn checked_add(self, o: Self) -> Option<Self> {
        self.0.checked_add(o.0).map(Self)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "${}.{:06}",
            self.0 / MICROS_PER_UNIT,
            self.0 % MICROS_PER_UNIT
        )
    }
}

/// A price per hour in integer micro-units of currency (1 USD/h = 1,000,000).
///
/// Summing many hourly prices is exact, so a plan never "buys an extra GPU"
/// because of float rounding.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct PricePerHour(u64);

impl PricePerHour {
    /// Free.
    pub const ZERO: Self = Self(0);
    /// From micro-units per hour.
    pub const fn from_micros(m: u64) -> Self {
        Self(m)
    }
    /// From a decimal price such as `3.06` (rounded to the nearest micro-unit).
    /// `None` for NaN, negative or absurdly large values.
    pub fn from_dollars(d: f64) -> Option<Self> {
        if !d.is_finite() || !(0.0..=1e12).contains(&d) {
            return None;
        }
        Some(Self((d * MICROS_PER_UNIT as f64).round() as u64))
    }
    /// Micro-units per hour.
    pub const fn micros(self) -> u64 {
        self.0
    }
    /// As a float (for reports only).
    pub fn as_dollars(self) -> f64 {
        self.0 as f64 / MICROS_PER_UNIT as f64
    }
    /// Checked addition.
    pub fn checked_add(self, o: Self) -> Option<Self> {
        self.0.checked_add(o.0).map(Self)
    }
    /// Checked multiplication by a count of instances.
    pub fn checked_mul(self, n: u64) -> Option<Self> {
        self.0.checked_mul(n).map(Self)
    }
    /// Cost of running for `hours` whole hours (saturating).
    pub fn cost_for_hours(self, hours: u64) -> Money {
        Money(self.0.saturating_mul(hours))
    }
    /// Cost of running for `d`, rounded to the nearest micro-unit.
    pub fn cost_for(self, d: Duration) -> Money {
        let micros = (self.0 as u128 * d.as_millis()) / 3_600_000;
        Money(micros.min(u64::MAX as u128) as u64)
    }
}

impl std::iter::Sum for PricePerHour {
    /// Saturating sum.
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        Self(iter.fold(0u64, |a, b| a.saturating_add(b.0)))
    }
}

impl fmt::Display for PricePerHour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "${}.{:06}/h",
            self.0 / MICROS_PER_UNIT,
            self.0 % MICROS_PER_UNIT
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_arithmetic() {
        assert_eq!(MilliCpu::new(5).checked_sub(MilliCpu::new(6)), None);
        assert_eq!(Bytes::MAX.checked_add(Bytes::new(1)), None);
        assert_eq!(GpuMilli::whole(2), GpuMilli::new(2000));
        assert_eq!(Bytes::from_mib(3).get(), 3 * 1024 * 1024);
    }

    #[test]
    fn prices_are_exact() {
        let p = PricePerHour::from_dollars(0.1).unwrap();
        let sum: PricePerHour = std::iter::repeat_n(p, 10).sum();
        assert_eq!(sum, PricePerHour::from_dollars(1.0).unwrap());
        assert_eq!(PricePerHour::from_dollars(-1.0), None);
        assert_eq!(PricePerHour::from_dollars(f64::NAN), None);
        assert_eq!(
            p.cost_for(Duration::from_secs(1800)),
            Money::from_micros(50_000)
        );
    }
}
