//! Kubernetes `resource.Quantity`: exact parsing and canonical formatting.
//!
//! This module reimplements the string semantics of apimachinery's
//! `k8s.io/apimachinery/pkg/api/resource.Quantity` without floating point:
//!
//! * **Grammar.** An optional sign, a number (`d`, `d.d`, `d.` or `.d`), then
//!   an optional suffix: decimal SI (`n u m "" k M G T P E`), binary SI
//!   (`Ki Mi Gi Ti Pi Ei`) or a decimal exponent (`e3`, `E-6`, `e+9`). `1E` on
//!   its own is exa (10^18); `1E3` is an exponent. Whitespace, a second decimal
//!   point and unknown suffixes are errors.
//! * **Rounding.** Nano (10^-9) is the finest unit. Finer amounts are rounded
//!   *away from zero* to the next nano, so `0.9n` is `1n` and `-1.1E-9` is
//!   `-2n`: asking for some resource never yields none.
//! * **Binary edge cases.** Binary amounts above 2^63-1 are capped at 2^63-1
//!   (`9Ei`). A non-zero binary amount smaller than one in magnitude is
//!   recorded as [`Format::DecimalSI`]. Decimal amounts are not capped.
//! * **Canonical form** ([`Display`](fmt::Display)): an integer mantissa and
//!   the largest suffix or exponent that keeps the value exact (`1.5Gi` →
//!   `1536Mi`, `0.5` → `500m`, `1000e-12` → `1e-9`). A binary quantity that is
//!   not a whole number, or is smaller than 1024 in magnitude, is written in
//!   decimal SI (`.001Ki` → `1024m`). A decimal SI amount above what `E` can
//!   express falls back to exponent notation (`1000E` → `1e21`).
//! * **Round trips.** The canonical string always parses back to the same
//!   amount. It also prints the same, except (as upstream) for a binary amount
//!   of 1024 or more that is not a multiple of 1024: `62.5Ki` prints as
//!   `64000`, which parses as decimal SI and then prints as `64k`.
//!
//! ```
//! use rightsizer_model::quantity::{Format, Quantity};
//!
//! let q: Quantity = "1.5Gi".parse()?;
//! assert_eq!(q.to_string(), "1536Mi");
//! assert_eq!(q.format(), Format::BinarySI);
//! assert_eq!(q.value(), 1_610_612_736);
//!
//! let cpu = Quantity::parse("0.5")?;
//! assert_eq!(cpu.to_string(), "500m");
//! assert_eq!(cpu.milli_value(), 500);
//!
//! assert_eq!(Quantity::parse("0.9n")?.to_string(), "1n");
//! assert!(Quantity::parse("1 ").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Representation and limits
//!
//! A quantity is stored exactly as `mantissa × 10^exponent` with an `i128`
//! mantissa (at most 38 significant digits) and an `i32` exponent. Every
//! quantity in practical use, and every case of the upstream conformance
//! table, fits. Inputs that upstream would accept but that need more than 38
//! significant digits after rounding to nano (for example a 40-digit integer
//! with no trailing zeros) are rejected with [`QuantityError::Unrepresentable`]
//! rather than silently rounded.
//!
//! # Deliberate differences from upstream
//!
//! * Upstream's `String()` sometimes echoes the input verbatim when a cheap
//!   heuristic thinks it is already canonical, so it prints `"+5"`, `"01"`,
//!   `"1.234k"` or `"1E18"` unchanged. This type always prints the canonical
//!   form (`5`, `1`, `1234`, `1e18`); the amount and format are identical.
//! * Upstream's `Value()`/`ScaledValue()` silently overflow `int64`, and for
//!   some negative big-decimal amounts they round towards zero. Here
//!   [`Quantity::value`] and friends always round away from zero (the
//!   documented upstream rule) and saturate; `checked_*` variants report
//!   overflow as `None`.
//! * Exponents are read as a 64-bit integer and truncated to 32 bits exactly
//!   as upstream does (`1e4294967297` is `1e1`), but the subsequent scale
//!   arithmetic is exact instead of wrapping, which only matters for
//!   exponents within a few digits of -2^31.
//! * Serde reads a JSON *number* through `f64` (shortest decimal form), so
//!   `1e3` as a JSON number is [`Format::DecimalSI`]; upstream parses the raw
//!   number text and would record [`Format::DecimalExponent`]. The amount is
//!   the same whenever the number is exactly representable as `f64`. JSON
//!   strings behave as upstream (surrounding whitespace is trimmed).
//! * Upstream quirks that *are* reproduced: a value with no digits is zero
//!   when upstream's fast path handles it (`"k"`, `"."`, `"-"`, `"+Ki"` parse
//!   as zero) and a [`QuantityError::Numeric`] error when upstream's
//!   big-decimal path does (`"Ei"`, `".e-10"`).

use crate::units::{Bytes, MilliCpu};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
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

impl fmt::Display for Format {
    /// Writes the upstream name (`DecimalSI`, `BinarySI`, `DecimalExponent`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::DecimalSI => "DecimalSI",
            Format::BinarySI => "BinarySI",
            Format::DecimalExponent => "DecimalExponent",
        })
    }
}

/// Why a string is not a valid quantity, or a quantity does not fit a unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantityError {
    /// The string does not match the quantity grammar (upstream `ErrFormatWrong`).
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {input:?}")]
    Format {
        /// The input.
        input: String,
    },
    /// The suffix is not a known unit or exponent (upstream `ErrSuffix`).
    #[error("unable to parse quantity's suffix {suffix:?}: {input:?}")]
    Suffix {
        /// The input.
        input: String,
        /// The offending suffix.
        suffix: String,
    },
    /// The numeric part has no digits where upstream needs some
    /// (upstream `ErrNumeric`).
    #[error("unable to parse numeric part of quantity: {input:?}")]
    Numeric {
        /// The input.
        input: String,
    },
    /// A valid quantity that needs more than 38 significant digits or an
    /// exponent beyond 32 bits; upstream would keep it in a big decimal.
    #[error("quantity {input:?} is too precise or too large to represent exactly")]
    Unrepresentable {
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

/// Most significant digits a mantissa may have (10^38 < i128::MAX).
const MAX_DIGITS: usize = 38;
/// The nano exponent: the finest unit a parsed quantity keeps.
const NANO: i64 = -9;
/// Upstream's cap for binary SI amounts: 2^63-1.
const MAX_BINARY: i128 = i64::MAX as i128;

/// A Kubernetes resource quantity: an exact decimal amount and the
/// [`Format`] it is written back in.
///
/// Equality (`==`, `Hash`) is structural: amount *and* format. Use
/// [`Quantity::cmp_amount`] or [`Quantity::eq_amount`] to compare amounts
/// only, as upstream's `Cmp`/`Equal` do (`1Ki` and `1024` are equal amounts
/// with different formats).
///
/// ```
/// use rightsizer_model::quantity::Quantity;
/// use std::cmp::Ordering;
///
/// let a = Quantity::parse("1Ki")?;
/// let b = Quantity::parse("1024")?;
/// assert!(a.eq_amount(&b));
/// assert_ne!(a, b);
/// assert_eq!(Quantity::parse("10000T")?.cmp_amount(&Quantity::parse("100Gi")?), Ordering::Greater);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Quantity {
    /// Normalised: no trailing decimal zeros; zero iff the amount is zero.
    mantissa: i128,
    /// Normalised: `0` when the mantissa is zero.
    exponent: i32,
    format: Format,
}

impl Default for Quantity {
    /// Zero in [`Format::DecimalSI`].
    fn default() -> Self {
        Self::ZERO
    }
}

/// The pieces of a quantity string, as upstream's `parseQuantityString` splits it.
struct Scanned<'a> {
    negative: bool,
    /// Whether the numeric part contains at least one digit.
    has_digit: bool,
    /// Integer digits without leading zeros.
    num: &'a [u8],
    /// Fraction digits.
    denom: &'a [u8],
    suffix: &'a str,
}

fn scan(s: &str) -> Option<Scanned<'_>> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut negative = false;
    match b.first() {
        Some(b'-') => {
            negative = true;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    let sign_len = pos;
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos == end {
        // Only a sign and zeros (or nothing): upstream returns "0" at once.
        return Some(Scanned {
            negative,
            has_digit: true,
            num: &[],
            denom: &[],
            suffix: "",
        });
    }
    let mut has_digit = pos > sign_len;
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let num = &b[num_start..pos];
    has_digit |= !num.is_empty();
    let mut denom: &[u8] = &[];
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &b[start..pos];
        has_digit |= !denom.is_empty();
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'+' || b[pos] == b'-') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return None;
    }
    Some(Scanned {
        negative,
        has_digit,
        num,
        denom,
        // The suffix is ASCII by construction, so this slice is on a char boundary.
        suffix: &s[suffix_start..],
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    Ten,
    Two,
}

/// Upstream's `suffixHandler.interpret`: base, exponent and format of a suffix.
fn interpret(suffix: &str) -> Option<(Base, i32, Format)> {
    let dec = |e| Some((Base::Ten, e, Format::DecimalSI));
    let bin = |e| Some((Base::Two, e, Format::BinarySI));
    match suffix {
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "" => dec(0),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ => {
            let rest = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            let e = parse_go_int64(rest)?;
            // Upstream: `int32(parsed)`, a truncating conversion.
            Some((Base::Ten, e as i32, Format::DecimalExponent))
        }
    }
}

/// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, at least one digit,
/// no overflow.
fn parse_go_int64(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v: i128 = 0;
    for c in digits.bytes() {
        v = v * 10 + i128::from(c - b'0');
        if v > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    i64::try_from(if neg { -v } else { v }).ok()
}

/// Multiplies a big-endian decimal digit vector by a small factor.
fn mul_small(digits: &mut Vec<u8>, factor: u32) {
    let mut carry: u64 = 0;
    for d in digits.iter_mut().rev() {
        let v = u64::from(*d) * u64::from(factor) + carry;
        *d = (v % 10) as u8;
        carry = v / 10;
    }
    let mut prefix = Vec::new();
    while carry > 0 {
        prefix.push((carry % 10) as u8);
        carry /= 10;
    }
    if !prefix.is_empty() {
        prefix.reverse();
        prefix.append(digits);
        *digits = prefix;
    }
}

/// Adds one to a big-endian decimal digit vector.
fn increment(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, 1);
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

fn digit_count(v: i128) -> u32 {
    if v == 0 {
        1
    } else {
        v.unsigned_abs().ilog10() + 1
    }
}

impl Quantity {
    /// Zero, in [`Format::DecimalSI`].
    pub const ZERO: Self = Self {
        mantissa: 0,
        exponent: 0,
        format: Format::DecimalSI,
    };

    /// Builds a normalised quantity from `mantissa × 10^exponent`.
    fn from_parts(mut mantissa: i128, exponent: i64, format: Format) -> Option<Self> {
        if mantissa == 0 {
            return Some(Self {
                mantissa: 0,
                exponent: 0,
                format,
            });
        }
        let mut exponent = exponent;
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        Some(Self {
            mantissa,
            exponent: i32::try_from(exponent).ok()?,
            format,
        })
    }

    /// Parses a quantity string exactly as apimachinery's `ParseQuantity` does.
    ///
    /// ```
    /// use rightsizer_model::quantity::{Format, Quantity, QuantityError};
    ///
    /// let q = Quantity::parse("100.035Ki")?;
    /// assert_eq!(q.to_plain_string(), "102435.84");
    /// assert_eq!(q.format(), Format::BinarySI);
    /// assert_eq!(Quantity::parse("1E")?.format(), Format::DecimalSI);
    /// assert_eq!(Quantity::parse("1E3")?.format(), Format::DecimalExponent);
    /// assert_eq!(Quantity::parse("9Ei")?.value(), i64::MAX); // binary cap
    /// assert!(matches!(Quantity::parse("1i"), Err(QuantityError::Suffix { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::Format {
                input: String::new(),
            });
        }
        let sc = scan(s).ok_or_else(|| QuantityError::Format {
            input: s.to_string(),
        })?;
        let (base, exp, format) = interpret(sc.suffix).ok_or_else(|| QuantityError::Suffix {
            input: s.to_string(),
            suffix: sc.suffix.to_string(),
        })?;
        if !sc.has_digit {
            // Upstream's int64 fast path reads the empty number as "0"; its
            // big-decimal path (needed for tiny scales and Pi/Ei) fails.
            let slow = match base {
                Base::Ten => i64::from(exp) < NANO,
                Base::Two => exp >= 50,
            };
            if slow {
                return Err(QuantityError::Numeric {
                    input: s.to_string(),
                });
            }
            return Ok(Self {
                format,
                ..Self::ZERO
            });
        }
        if let Some(q) = Self::parse_fast(&sc, base, exp, format) {
            return Ok(q);
        }
        Self::parse_digits(s, &sc, base, exp, format)
    }

    /// The general path: exact arithmetic on the decimal digit string.
    fn parse_digits(
        s: &str,
        sc: &Scanned<'_>,
        base: Base,
        exp: i32,
        mut format: Format,
    ) -> Result<Self, QuantityError> {
        let unrepresentable = || QuantityError::Unrepresentable {
            input: s.to_string(),
        };

        // digits × 10^scale is the exact amount (before the binary factor).
        let mut digits: Vec<u8> = sc
            .num
            .iter()
            .chain(sc.denom)
            .map(|c| c - b'0')
            .skip_while(|&d| d == 0)
            .collect();
        let denom_len = i64::try_from(sc.denom.len()).unwrap_or(i64::MAX);
        let mut scale: i64 = match base {
            Base::Ten => i64::from(exp) - denom_len,
            Base::Two => -denom_len,
        };
        if base == Base::Two && !digits.is_empty() {
            for _ in 0..exp / 10 {
                mul_small(&mut digits, 1024);
            }
        }
        // Round away from zero to nano.
        if scale < NANO {
            let cut = u64::try_from(NANO - scale).unwrap_or(u64::MAX);
            let keep = if cut >= digits.len() as u64 {
                0
            } else {
                digits.len() - cut as usize
            };
            let dropped_nonzero = digits[keep..].iter().any(|&d| d != 0);
            digits.truncate(keep);
            if dropped_nonzero {
                increment(&mut digits);
            }
            scale = NANO;
        }
        while digits.last() == Some(&0) {
            digits.pop();
            scale += 1;
        }
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        if digits.is_empty() {
            return Ok(Self {
                format,
                ..Self::ZERO
            });
        }
        let int_digits = digits.len() as i64 + scale;
        if base == Base::Two {
            let capped = int_digits > 19 || {
                // value < 10^19 and scale >= -9, so nano units fit an i128.
                let nano = digits_to_i128(&digits) * pow10((scale - NANO) as u32).unwrap_or(0);
                nano > MAX_BINARY * 1_000_000_000
            };
            if capped {
                let q = Self::from_parts(MAX_BINARY, 0, format).ok_or_else(unrepresentable)?;
                return Ok(if sc.negative { -q } else { q });
            }
            if int_digits <= 0 {
                // 0 < |amount| < 1
                format = Format::DecimalSI;
            }
        }
        if digits.len() > MAX_DIGITS {
            return Err(unrepresentable());
        }
        let mut mantissa = digits_to_i128(&digits);
        if sc.negative {
            mantissa = -mantissa;
        }
        Self::from_parts(mantissa, scale, format).ok_or_else(unrepresentable)
    }

    /// The common case without big-number arithmetic: few enough digits for
    /// an `i128`, no rounding, and for binary suffixes a whole number. `None`
    /// hands over to the general path, which gives the same result for every
    /// input this accepts.
    fn parse_fast(sc: &Scanned<'_>, base: Base, exp: i32, mut format: Format) -> Option<Self> {
        if sc.num.len() + sc.denom.len() > 36 {
            return None;
        }
        let mut mantissa: i128 = 0;
        for &c in sc.num.iter().chain(sc.denom) {
            mantissa = mantissa * 10 + i128::from(c - b'0');
        }
        let denom_len = sc.denom.len() as i64;
        let (mantissa, scale) = match base {
            Base::Ten => {
                let scale = i64::from(exp) - denom_len;
                if scale < NANO {
                    return None;
                }
                (mantissa, scale)
            }
            Base::Two => {
                // digits × 2^exp × 10^-denom_len, exact when denom_len <= 9.
                if denom_len > -NANO {
                    return None;
                }
                let v = mantissa.checked_mul(1i128 << exp)?;
                let one = pow10(denom_len as u32)?;
                if v > MAX_BINARY * one {
                    (MAX_BINARY, 0)
                } else {
                    if v != 0 && v < one {
                        format = Format::DecimalSI;
                    }
                    (v, -denom_len)
                }
            }
        };
        let mantissa = if sc.negative { -mantissa } else { mantissa };
        Self::from_parts(mantissa, scale, format)
    }

    /// Upstream `NewQuantity`: `value` units in `format`.
    ///
    /// ```
    /// use rightsizer_model::quantity::{Format, Quantity};
    /// assert_eq!(Quantity::new(1 << 30, Format::BinarySI).to_string(), "1Gi");
    /// assert_eq!(Quantity::new(5000, Format::DecimalSI).to_string(), "5k");
    /// ```
    pub fn new(value: i64, format: Format) -> Self {
        Self::new_scaled_in(i128::from(value), 0, format)
    }

    /// Upstream `NewMilliQuantity`: `value` thousandths in `format`.
    ///
    /// ```
    /// use rightsizer_model::quantity::{Format, Quantity};
    /// assert_eq!(Quantity::new_milli(1500, Format::DecimalSI).to_string(), "1500m");
    /// assert_eq!(Quantity::new_milli(2000, Format::DecimalSI).to_string(), "2");
    /// ```
    pub fn new_milli(value: i64, format: Format) -> Self {
        Self::new_scaled_in(i128::from(value), -3, format)
    }

    /// Upstream `NewScaledQuantity`: `value × 10^scale` in [`Format::DecimalSI`].
    ///
    /// Unlike upstream, amounts finer than nano are rounded away from zero to
    /// the next nano, as parsing does, so every quantity has nano precision.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// assert_eq!(Quantity::new_scaled(3, 6).to_string(), "3M");
    /// assert_eq!(Quantity::new_scaled(1, -12).to_string(), "1n");
    /// ```
    pub fn new_scaled(value: i64, scale: i32) -> Self {
        Self::new_scaled_in(i128::from(value), scale, Format::DecimalSI)
    }

    /// `value × 10^scale` with |value| < 2^64, rounded away from zero to nano.
    fn new_scaled_in(value: i128, scale: i32, format: Format) -> Self {
        let mut v = value;
        let mut e = i64::from(scale);
        if e < NANO {
            let cut = (NANO - e) as u32;
            let (q, r) = match pow10(cut) {
                Some(p) => (v / p, v % p),
                None => (0, v),
            };
            v = q + if r != 0 { r.signum() } else { 0 };
            e = NANO;
        }
        let mut format = format;
        if format == Format::BinarySI && v != 0 && i64::from(digit_count(v)) + e <= 0 {
            format = Format::DecimalSI;
        }
        // NANO <= e <= i32::MAX. Normalising can only fail when trailing
        // zeros would push the exponent past i32::MAX; keep them then.
        Self::from_parts(v, e, format).unwrap_or(Self {
            mantissa: v,
            exponent: e as i32,
            format,
        })
    }

    /// `Value()`: the amount rounded away from zero to an integer, saturating
    /// at the `i64` bounds.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// assert_eq!(Quantity::parse("1n")?.value(), 1);
    /// assert_eq!(Quantity::parse("5Gi")?.value(), 5_368_709_120);
    /// assert_eq!(Quantity::parse("-1.5")?.value(), -2);
    /// assert_eq!(Quantity::parse("100E")?.value(), i64::MAX);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// `MilliValue()`: the amount in thousandths, rounded away from zero,
    /// saturating at the `i64` bounds.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// assert_eq!(Quantity::parse("5300m")?.milli_value(), 5300);
    /// assert_eq!(Quantity::parse("1n")?.milli_value(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(-3)
    }

    /// `ScaledValue(scale)`: the amount divided by 10^scale, rounded away
    /// from zero, saturating at the `i64` bounds.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// let q = Quantity::parse("1m")?;
    /// assert_eq!(q.scaled_value(-9), 1_000_000);
    /// assert_eq!(q.scaled_value(0), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scaled_value(&self, scale: i32) -> i64 {
        self.checked_scaled_value(scale)
            .unwrap_or(if self.mantissa < 0 {
                i64::MIN
            } else {
                i64::MAX
            })
    }

    /// [`Quantity::value`], or `None` when it does not fit an `i64`.
    pub fn checked_value(&self) -> Option<i64> {
        self.checked_scaled_value(0)
    }

    /// [`Quantity::milli_value`], or `None` when it does not fit an `i64`.
    pub fn checked_milli_value(&self) -> Option<i64> {
        self.checked_scaled_value(-3)
    }

    /// [`Quantity::scaled_value`], or `None` when it does not fit an `i64`.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// assert_eq!(Quantity::parse("9223372036854775807")?.checked_value(), Some(i64::MAX));
    /// assert_eq!(Quantity::parse("9223372036854775808")?.checked_value(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn checked_scaled_value(&self, scale: i32) -> Option<i64> {
        i64::try_from(self.scaled_i128(scale)?).ok()
    }

    /// The amount divided by 10^scale, rounded away from zero, if it fits an `i128`.
    fn scaled_i128(&self, scale: i32) -> Option<i128> {
        if self.mantissa == 0 {
            return Some(0);
        }
        let diff = i64::from(self.exponent) - i64::from(scale);
        if diff >= 0 {
            let p = pow10(u32::try_from(diff).ok()?)?;
            self.mantissa.checked_mul(p)
        } else {
            let (q, r) = match u32::try_from(-diff).ok().and_then(pow10) {
                Some(p) => (self.mantissa / p, self.mantissa % p),
                None => (0, self.mantissa),
            };
            Some(if r != 0 { q + r.signum() } else { q })
        }
    }

    /// Upstream `RoundUp(scale)`: the amount rounded away from zero to a
    /// multiple of 10^scale, and whether that was exact.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// let q = Quantity::parse("-9.01")?;
    /// let (r, exact) = q.round_up(-1);
    /// assert_eq!((r.to_plain_string().as_str(), exact), ("-9.1", false));
    /// assert_eq!(q.round_up(-2), (q, true));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn round_up(&self, scale: i32) -> (Self, bool) {
        if self.mantissa == 0 || self.exponent >= scale {
            return (*self, true);
        }
        // exponent < scale: dividing never overflows.
        let diff = (i64::from(scale) - i64::from(self.exponent)) as u32;
        let (q, r) = match pow10(diff) {
            Some(p) => (self.mantissa / p, self.mantissa % p),
            None => (0, self.mantissa),
        };
        let v = if r != 0 { q + r.signum() } else { q };
        let rounded = Self::from_parts(v, i64::from(scale), self.format).unwrap_or(Self {
            mantissa: v,
            exponent: scale,
            format: self.format,
        });
        (rounded, r == 0)
    }

    /// The amount as the nearest `f64` (upstream `AsApproximateFloat64`,
    /// correctly rounded here). For reports only; never feed it back into
    /// exact arithmetic.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// assert_eq!(Quantity::parse("1.1Ki")?.as_f64(), 1126.4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_f64(&self) -> f64 {
        // The plain decimal string is exact, and Rust's float parser rounds
        // correctly; huge exponents become ±inf.
        if self.exponent > 400 {
            return if self.mantissa < 0 {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
        }
        self.to_plain_string().parse().unwrap_or(f64::NAN)
    }

    /// The format the quantity was parsed or built with (after upstream's
    /// adjustment of tiny binary amounts to [`Format::DecimalSI`]).
    pub fn format(&self) -> Format {
        self.format
    }

    /// The same amount with another format.
    ///
    /// ```
    /// use rightsizer_model::quantity::{Format, Quantity};
    /// let q = Quantity::parse("1048576")?.with_format(Format::BinarySI);
    /// assert_eq!(q.to_string(), "1Mi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_format(self, format: Format) -> Self {
        Self { format, ..self }
    }

    /// `true` when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// `-1`, `0` or `1` by the sign of the amount (upstream `Sign`).
    pub fn signum(&self) -> i32 {
        self.mantissa.signum() as i32
    }

    /// The exact amount as `(mantissa, exponent)`, meaning
    /// `mantissa × 10^exponent`, with no trailing zeros in the mantissa.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// assert_eq!(Quantity::parse("1.5Gi")?.to_parts(), (1_610_612_736, 0));
    /// assert_eq!(Quantity::parse("120m")?.to_parts(), (12, -2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_parts(&self) -> (i128, i32) {
        (self.mantissa, self.exponent)
    }

    /// Compares amounts, ignoring the format (upstream `Cmp`).
    pub fn cmp_amount(&self, other: &Self) -> Ordering {
        let (a, b) = (self.mantissa, other.mantissa);
        match a.signum().cmp(&b.signum()) {
            Ordering::Equal if a == 0 => return Ordering::Equal,
            Ordering::Equal => {}
            o => return o,
        }
        // Same non-zero sign: compare magnitudes, then flip for negatives.
        let order_a = i64::from(digit_count(a)) + i64::from(self.exponent);
        let order_b = i64::from(digit_count(b)) + i64::from(other.exponent);
        let mag = if order_a != order_b {
            order_a.cmp(&order_b)
        } else {
            // Equal orders of magnitude: aligning to the smaller exponent
            // keeps both within max(digits) <= 38 digits.
            let (ma, mb) = (a.unsigned_abs(), b.unsigned_abs());
            let e = self.exponent.min(other.exponent);
            let sa = ma * 10u128.pow((self.exponent - e) as u32);
            let sb = mb * 10u128.pow((other.exponent - e) as u32);
            sa.cmp(&sb)
        };
        if a < 0 {
            mag.reverse()
        } else {
            mag
        }
    }

    /// `true` when both amounts are equal, whatever their formats.
    pub fn eq_amount(&self, other: &Self) -> bool {
        self.cmp_amount(other) == Ordering::Equal
    }

    /// The exact amount in plain decimal notation, without suffix or
    /// exponent (`"102435.84"`, `"-0.000000124"`, `"12000000000000000000"`).
    /// The string is about `exponent` characters long, so for untrusted
    /// input with absurd exponents (`1e2000000000`) prefer
    /// [`Quantity::to_parts`] or [`Display`](fmt::Display).
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// assert_eq!(Quantity::parse("-0.00000012345")?.to_plain_string(), "-0.000000124");
    /// assert_eq!(Quantity::parse("12E")?.to_plain_string(), "12000000000000000000");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_plain_string(&self) -> String {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        let e = i64::from(self.exponent);
        if e >= 0 {
            format!("{sign}{digits}{}", "0".repeat(e as usize))
        } else {
            let frac = (-e) as usize;
            if digits.len() > frac {
                let (i, f) = digits.split_at(digits.len() - frac);
                format!("{sign}{i}.{f}")
            } else {
                format!("{sign}0.{}{digits}", "0".repeat(frac - digits.len()))
            }
        }
    }

    /// CPU: the amount in millicores (rounded up); error if negative or too large.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// assert_eq!(Quantity::parse("1.5")?.to_millicpu()?.get(), 1500);
    /// assert_eq!(Quantity::parse("1n")?.to_millicpu()?.get(), 1);
    /// assert!(Quantity::parse("-1")?.to_millicpu().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_millicpu(&self) -> Result<MilliCpu, QuantityError> {
        self.scaled_i128(-3)
            .and_then(|v| u64::try_from(v).ok())
            .map(MilliCpu::new)
            .ok_or_else(|| QuantityError::OutOfRange {
                input: self.to_string(),
                target: "millicores",
            })
    }

    /// Bytes (rounded up); error if negative or too large.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// assert_eq!(Quantity::parse("1Gi")?.to_bytes()?.get(), 1 << 30);
    /// assert_eq!(Quantity::parse("0.5")?.to_bytes()?.get(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Bytes, QuantityError> {
        self.scaled_i128(0)
            .and_then(|v| u64::try_from(v).ok())
            .map(Bytes::new)
            .ok_or_else(|| QuantityError::OutOfRange {
                input: self.to_string(),
                target: "bytes",
            })
    }

    /// A quantity of millicores in decimal SI format.
    ///
    /// ```
    /// use rightsizer_model::{quantity::Quantity, units::MilliCpu};
    /// assert_eq!(Quantity::from_millicpu(MilliCpu::new(2500)).to_string(), "2500m");
    /// ```
    pub fn from_millicpu(m: MilliCpu) -> Self {
        Self::new_scaled_in(i128::from(m.get()), -3, Format::DecimalSI)
    }

    /// A quantity of bytes in binary SI format.
    ///
    /// ```
    /// use rightsizer_model::{quantity::Quantity, units::Bytes};
    /// assert_eq!(Quantity::from_bytes(Bytes::from_gib(3)).to_string(), "3Gi");
    /// assert_eq!(Quantity::from_bytes(Bytes::new(1000)).to_string(), "1k");
    /// ```
    pub fn from_bytes(b: Bytes) -> Self {
        Self::new_scaled_in(i128::from(b.get()), 0, Format::BinarySI)
    }

    /// Upstream `CanonicalizeBytes`: the canonical number and suffix.
    fn canonical_parts(&self) -> Canonical {
        if self.mantissa == 0 {
            return Canonical {
                number: 0,
                zeros: 0,
                suffix: Suffix::Text(""),
            };
        }
        let mut format = self.format;
        if format == Format::BinarySI {
            if let Some(whole) = self.whole_value().filter(|v| v.unsigned_abs() >= 1024) {
                // Divide out powers of 1024 (at most Ei).
                let mut v = whole;
                let mut e = 0;
                while e < 6 && v % 1024 == 0 {
                    v /= 1024;
                    e += 1;
                }
                return Canonical {
                    number: v,
                    zeros: 0,
                    suffix: Suffix::Text(["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][e]),
                };
            }
            // Too small or not a whole number: don't lose precision.
            format = Format::DecimalSI;
        }
        // Lower the exponent to a multiple of three.
        let e = i64::from(self.exponent);
        let e3 = e.div_euclid(3) * 3;
        let suffix = match (format, e3) {
            (Format::DecimalSI, -9) => Suffix::Text("n"),
            (Format::DecimalSI, -6) => Suffix::Text("u"),
            (Format::DecimalSI, -3) => Suffix::Text("m"),
            (_, 0) => Suffix::Text(""),
            (Format::DecimalSI, 3) => Suffix::Text("k"),
            (Format::DecimalSI, 6) => Suffix::Text("M"),
            (Format::DecimalSI, 9) => Suffix::Text("G"),
            (Format::DecimalSI, 12) => Suffix::Text("T"),
            (Format::DecimalSI, 15) => Suffix::Text("P"),
            (Format::DecimalSI, 18) => Suffix::Text("E"),
            // Decimal exponent, and upstream's fallback for decimal SI
            // amounts beyond the suffix table.
            (_, e3) => Suffix::Exponent(e3),
        };
        Canonical {
            number: self.mantissa,
            zeros: (e - e3) as usize,
            suffix,
        }
    }

    /// The amount as an integer if it is a whole number that fits an `i128`.
    fn whole_value(&self) -> Option<i128> {
        if self.exponent < 0 {
            return None;
        }
        self.mantissa
            .checked_mul(pow10(u32::try_from(self.exponent).ok()?)?)
    }
}

fn digits_to_i128(digits: &[u8]) -> i128 {
    digits.iter().fold(0i128, |acc, &d| {
        acc.saturating_mul(10).saturating_add(i128::from(d))
    })
}

impl std::ops::Neg for Quantity {
    type Output = Self;
    /// The negated amount in the same format (upstream `Neg`).
    fn neg(self) -> Self {
        Self {
            mantissa: -self.mantissa,
            ..self
        }
    }
}

/// A canonical form: `number`, then `zeros` zero digits, then the suffix.
struct Canonical {
    number: i128,
    zeros: usize,
    suffix: Suffix,
}

enum Suffix {
    Text(&'static str),
    Exponent(i64),
}

impl fmt::Display for Quantity {
    /// The canonical string (upstream `String()` without its input echo).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.canonical_parts();
        let zeros = &"00"[..c.zeros];
        // i64 formatting is much cheaper than i128's.
        match i64::try_from(c.number) {
            Ok(n) => write!(f, "{n}{zeros}")?,
            Err(_) => write!(f, "{}{zeros}", c.number)?,
        }
        match c.suffix {
            Suffix::Text(t) => f.write_str(t),
            Suffix::Exponent(e) => write!(f, "e{e}"),
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
///
/// ```
/// use rightsizer_model::units::MilliCpu;
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct R { #[serde(with = "rightsizer_model::quantity::serde_cpu")] cpu: MilliCpu }
/// let r: R = serde_json::from_str(r#"{"cpu": "1.5"}"#)?;
/// assert_eq!(r.cpu, MilliCpu::new(1500));
/// let r: R = serde_json::from_str(r#"{"cpu": 0.25}"#)?;
/// assert_eq!(serde_json::to_string(&r)?, r#"{"cpu":"250m"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
///
/// ```
/// use rightsizer_model::units::Bytes;
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct R { #[serde(with = "rightsizer_model::quantity::serde_bytes")] mem: Bytes }
/// let r: R = serde_json::from_str(r#"{"mem": "1.5Gi"}"#)?;
/// assert_eq!(r.mem, Bytes::from_mib(1536));
/// assert_eq!(serde_json::to_string(&r)?, r#"{"mem":"1536Mi"}"#);
/// let r: R = serde_json::from_str(r#"{"mem": 4096}"#)?;
/// assert_eq!(r.mem, Bytes::from_kib(4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    I(i64),
    F(f64),
}

/// Reads a quantity from a string (surrounding whitespace trimmed, as
/// upstream's `UnmarshalJSON` does) or a JSON number.
fn deserialize_quantity<'de, D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
    let text = match StrOrNum::deserialize(d)? {
        StrOrNum::S(s) => s.trim().to_string(),
        StrOrNum::U(u) => u.to_string(),
        StrOrNum::I(i) => i.to_string(),
        // `Display` for f64 is the shortest round-trip decimal, never an exponent.
        StrOrNum::F(f) if f.is_finite() => format!("{f}"),
        StrOrNum::F(f) => {
            return Err(serde::de::Error::custom(format!(
                "{f} is not a valid quantity"
            )))
        }
    };
    Quantity::parse(&text).map_err(serde::de::Error::custom)
}

impl Serialize for Quantity {
    /// Serializes as the canonical string.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    /// Deserializes from a quantity string or a JSON number.
    ///
    /// ```
    /// use rightsizer_model::quantity::Quantity;
    /// let q: Quantity = serde_json::from_str(r#"" 1Gi ""#)?;
    /// assert_eq!(q.to_string(), "1Gi");
    /// let q: Quantity = serde_json::from_str("1.5")?;
    /// assert_eq!(serde_json::to_string(&q)?, r#""1500m""#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_quantity(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The int fast path agrees with the general digit-string path on
        /// every input it accepts.
        #[test]
        fn fast_path_matches_general_path(
            sign in prop_oneof![Just(""), Just("-"), Just("+")],
            int in "[0-9]{0,24}",
            frac in prop_oneof![Just(String::new()), "\\.[0-9]{0,14}"],
            suffix in prop_oneof![
                prop::sample::select(vec!["", "n", "u", "m", "k", "M", "G", "T", "P", "E"]),
                prop::sample::select(vec!["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]),
                prop::sample::select(vec!["e-12", "e-9", "e-3", "e0", "e3", "E18", "e30"]),
            ],
        ) {
            let s = format!("{sign}{int}{frac}{suffix}");
            let sc = scan(&s).unwrap();
            if !sc.has_digit {
                // Digit-less numbers are decided before either path runs.
                return Ok(());
            }
            let (base, exp, format) = interpret(sc.suffix).unwrap();
            if let Some(fast) = Quantity::parse_fast(&sc, base, exp, format) {
                let general = Quantity::parse_digits(&s, &sc, base, exp, format).unwrap();
                prop_assert_eq!(fast, general, "{}", s);
            }
        }
    }
}
