//! Timestamps: unix seconds or RFC 3339, stored as nanoseconds since the Unix
//! epoch.
//!
//! The parser is written here rather than pulled from a date-time crate: the
//! inputs need only the RFC 3339 profile (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`)
//! and plain unix seconds, and a dozen lines of civil-date arithmetic are
//! cheaper than a dependency.
//!
//! ```
//! use rightsizer_size::time::Timestamp;
//! let a = Timestamp::parse("2026-11-27T00:00:00Z")?;
//! let b = Timestamp::parse("1795737600")?;
//! assert_eq!(a, b);
//! assert_eq!(Timestamp::parse("2026-11-27T01:00:00+01:00")?, a);
//! assert_eq!(a.to_rfc3339(), "2026-11-27T00:00:00Z");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Nanoseconds in one minute.
pub const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SEC;
/// Nanoseconds in one hour.
pub const NANOS_PER_HOUR: i64 = 3600 * NANOS_PER_SEC;
/// Nanoseconds in one day.
pub const NANOS_PER_DAY: i64 = 24 * NANOS_PER_HOUR;

/// A point in time: nanoseconds since 1970-01-01T00:00:00Z.
///
/// The representable range is 1970-01-01 up to 2262-04-11 (the range of an
/// `i64` of nanoseconds); earlier or later inputs are rejected as out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

/// Why a string is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Neither unix seconds nor RFC 3339.
    #[error("{input:?} is neither unix seconds nor an RFC 3339 timestamp ({reason})")]
    Syntax {
        /// The input.
        input: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Well-formed but before 1970 or after 2262-04-11.
    #[error("timestamp {input:?} is out of range (1970-01-01 .. 2262-04-11)")]
    OutOfRange {
        /// The input.
        input: String,
    },
}

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Self = Self(0);
    /// The latest representable instant.
    pub const MAX: Self = Self(i64::MAX);

    /// From nanoseconds since the epoch; `None` if negative.
    pub const fn from_unix_nanos(n: i64) -> Option<Self> {
        if n < 0 {
            None
        } else {
            Some(Self(n))
        }
    }

    /// From whole seconds since the epoch; `None` if out of range.
    pub fn from_unix_secs(s: i64) -> Option<Self> {
        s.checked_mul(NANOS_PER_SEC).and_then(Self::from_unix_nanos)
    }

    /// From fractional seconds since the epoch (as Prometheus writes them);
    /// `None` if not finite or out of range. Rounded to the nearest microsecond
    /// first, so `1700000000.123` is exactly `…123_000_000` ns.
    pub fn from_unix_secs_f64(s: f64) -> Option<Self> {
        if !s.is_finite() || s < 0.0 || s > (i64::MAX / NANOS_PER_SEC) as f64 {
            return None;
        }
        let whole = s.trunc();
        let micros = ((s - whole) * 1e6).round() as i64;
        (whole as i64)
            .checked_mul(NANOS_PER_SEC)?
            .checked_add(micros * 1000)
            .and_then(Self::from_unix_nanos)
    }

    /// Nanoseconds since the epoch.
    pub const fn unix_nanos(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch as a float (for reports).
    pub fn unix_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// `self + nanos`, `None` when leaving the range.
    pub fn checked_add_nanos(self, nanos: i64) -> Option<Self> {
        self.0.checked_add(nanos).and_then(Self::from_unix_nanos)
    }

    /// `self − nanos`, clamped at the epoch.
    pub fn saturating_sub_nanos(self, nanos: i64) -> Self {
        Self(self.0.saturating_sub(nanos).max(0))
    }

    /// Parses unix seconds (`1700000000`, `1700000000.5`) or RFC 3339
    /// (`2026-11-27T10:00:00Z`, `2026-11-27T10:00:00.25+02:00`; `t`, `z` and a
    /// space separator are accepted too). Leap seconds (`:60`) are rejected.
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        let s = input.trim();
        let syntax = |reason| TimestampError::Syntax {
            input: input.to_string(),
            reason,
        };
        let range = || TimestampError::OutOfRange {
            input: input.to_string(),
        };
        if s.is_empty() {
            return Err(syntax("empty"));
        }
        let b = s.as_bytes();
        let looks_numeric = b
            .iter()
            .all(|c| c.is_ascii_digit() || *c == b'.' || *c == b'-' || *c == b'+')
            && !(b.len() >= 10 && b[4] == b'-');
        if looks_numeric {
            if let Ok(i) = s.parse::<i64>() {
                return Self::from_unix_secs(i).ok_or_else(range);
            }
            let f: f64 = s.parse().map_err(|_| syntax("bad number"))?;
            return Self::from_unix_secs_f64(f).ok_or_else(range);
        }
        parse_rfc3339(b).map_err(syntax)?.ok_or_else(range)
    }

    /// RFC 3339 in UTC with as many fractional digits as needed.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = self.0.rem_euclid(NANOS_PER_SEC);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut out = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        );
        if nanos != 0 {
            let frac = format!("{nanos:09}");
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, TimestampError> {
        Self::parse(s)
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Result<i64, &'static str> {
    let part = b.get(at..at + n).ok_or("truncated")?;
    let mut v = 0i64;
    for c in part {
        if !c.is_ascii_digit() {
            return Err("expected a digit");
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Ok(v)
}

fn expect(b: &[u8], at: usize, what: &[u8]) -> Result<(), &'static str> {
    match b.get(at) {
        Some(c) if what.contains(c) => Ok(()),
        _ => Err("unexpected character"),
    }
}

/// `Ok(None)` means well-formed but out of range.
fn parse_rfc3339(b: &[u8]) -> Result<Option<Timestamp>, &'static str> {
    let year = digits(b, 0, 4)?;
    expect(b, 4, b"-")?;
    let month = digits(b, 5, 2)?;
    expect(b, 7, b"-")?;
    let day = digits(b, 8, 2)?;
    expect(b, 10, b"Tt ")?;
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b":")?;
    let minute = digits(b, 14, 2)?;
    expect(b, 16, b":")?;
    let second = digits(b, 17, 2)?;
    let mut i = 19;
    let mut nanos = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return Err("empty fraction");
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }
    let offset_secs = match b.get(i) {
        Some(b'Z') | Some(b'z') => {
            i += 1;
            0
        }
        Some(c @ (b'+' | b'-')) => {
            let sign = if *c == b'-' { -1 } else { 1 };
            let oh = digits(b, i + 1, 2)?;
            expect(b, i + 3, b":")?;
            let om = digits(b, i + 4, 2)?;
            if oh > 23 || om > 59 {
                return Err("bad offset");
            }
            i += 6;
            sign * (oh * 3600 + om * 60)
        }
        _ => return Err("missing time zone (Z or ±HH:MM)"),
    };
    if i != b.len() {
        return Err("trailing characters");
    }
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("day out of range");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("time of day out of range");
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Ok(secs
        .checked_mul(NANOS_PER_SEC)
        .and_then(|n| n.checked_add(nanos))
        .and_then(Timestamp::from_unix_nanos))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_forms() {
        let base = Timestamp::from_unix_secs(1_700_000_000).unwrap();
        assert_eq!(base.to_rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(Timestamp::parse("2023-11-14T22:13:20Z").unwrap(), base);
        assert_eq!(Timestamp::parse("2023-11-14 22:13:20z").unwrap(), base);
        assert_eq!(Timestamp::parse("2023-11-14T23:13:20+01:00").unwrap(), base);
        assert_eq!(Timestamp::parse("2023-11-14T21:43:20-00:30").unwrap(), base);
        let frac = Timestamp::parse("2023-11-14T22:13:20.25Z").unwrap();
        assert_eq!(frac.unix_nanos() - base.unix_nanos(), 250_000_000);
        assert_eq!(frac.to_rfc3339(), "2023-11-14T22:13:20.25Z");
        assert_eq!(Timestamp::parse("1700000000.25").unwrap(), frac);
        assert_eq!(
            Timestamp::parse("2024-02-29T00:00:00Z")
                .unwrap()
                .to_rfc3339(),
            "2024-02-29T00:00:00Z"
        );
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "yesterday",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T23:59:60Z",
            "2023-01-01T00:00:00",
            "2023-01-01T00:00:00Zjunk",
            "2023-01-01T00:00:00.Z",
            "1e400",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(matches!(
            Timestamp::parse("1969-12-31T23:59:59Z"),
            Err(TimestampError::OutOfRange { .. })
        ));
        assert!(matches!(
            Timestamp::parse("-5"),
            Err(TimestampError::OutOfRange { .. })
        ));
        assert!(matches!(
            Timestamp::parse("9999-01-01T00:00:00Z"),
            Err(TimestampError::OutOfRange { .. })
        ));
    }

    #[test]
    fn civil_roundtrip() {
        for days in [-1000i64, 0, 59, 60, 365, 10_957, 19_000, 100_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
