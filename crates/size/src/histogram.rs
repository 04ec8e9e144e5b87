//! VPA's histograms: exponential buckets, bucket-edge percentiles and
//! exponential decay, as `vertical-pod-autoscaler/pkg/recommender/util`
//! defines them.
//!
//! - [`ExponentialBuckets`]: bucket `n` has size `first × ratio^n` and starts at
//!   `first × (ratio^n − 1)/(ratio − 1)`; the index of a value is
//!   `floor(ln(v(ratio−1)/first + 1)/ln(ratio))`, computed with the same float
//!   expression as VPA so values land in the same bucket.
//! - [`Histogram`]: per-bucket weights; a bucket below `epsilon` counts as empty;
//!   [`Histogram::percentile`] returns the **end** of the bucket in which the
//!   running weight first reaches `p × total` (the start of the last bucket if
//!   that is where it ends), so every answer is a bucket edge.
//! - [`DecayingHistogram`]: a sample at `t` weighs `w × 2^((t − ref)/halfLife)`,
//!   with `ref` a multiple of the half-life that is moved forward (rescaling
//!   all weights by a power of two) once a sample is more than 100 half-lives
//!   past it — exactly VPA's renormalisation, starting from Go's zero time.
//!
//! ```
//! use rightsizer_size::histogram::{ExponentialBuckets, Histogram};
//! let b = ExponentialBuckets::vpa_cpu();
//! assert_eq!(b.num_buckets(), 176);
//! let mut h = Histogram::new(&b);
//! h.add_sample(&b, 0.5, 1.0);
//! // 0.5 cores falls in the bucket [start(n), start(n+1)); the percentile is its end.
//! let n = b.find_bucket(0.5);
//! assert_eq!(h.percentile(&b, 0.9), b.bucket_start(n + 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

/// Why histogram options are invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HistogramError {
    /// A parameter is out of its domain.
    #[error("histogram option {field} = {value} is invalid: {reason}")]
    BadOption {
        /// Which option.
        field: &'static str,
        /// Its value.
        value: f64,
        /// The rule it breaks.
        reason: &'static str,
    },
}

/// VPA's `minSampleWeight` (weight of one CPU sample before decay).
pub const MIN_SAMPLE_WEIGHT: f64 = 0.1;
/// VPA's epsilon: `0.001 × minSampleWeight`.
pub const EPSILON: f64 = 0.001 * MIN_SAMPLE_WEIGHT;
/// When the decay exponent would exceed this many half-lives the histogram is
/// renormalised (`maxDecayExponent`).
pub const MAX_DECAY_EXPONENT: i64 = 100;

/// Largest millicore value resolved through the CPU lookup table (64 cores).
const CPU_TABLE_MAX_MILLI: usize = 65_536;

/// Exponential bucket layout (VPA's `exponentialHistogramOptions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExponentialBuckets {
    num_buckets: usize,
    first: f64,
    ratio: f64,
    epsilon: f64,
    #[serde(skip)]
    starts: Vec<f64>,
    /// Bucket index per integer millicore value `/1000` (only for layouts that
    /// opt in, see [`Self::with_milli_table`]).
    #[serde(skip)]
    milli_table: Vec<u8>,
}

impl ExponentialBuckets {
    /// A layout covering `[0, max_value]` with a first bucket of `first` and
    /// growth `ratio`; the last bucket starts at or above `max_value`.
    pub fn new(
        max_value: f64,
        first: f64,
        ratio: f64,
        epsilon: f64,
    ) -> Result<Self, HistogramError> {
        let bad = |field, value, reason| {
            Err(HistogramError::BadOption {
                field,
                value,
                reason,
            })
        };
        if !(max_value > 0.0 && max_value.is_finite()) {
            return bad("max_value", max_value, "must be finite and > 0");
        }
        if !(first > 0.0 && first.is_finite()) {
            return bad("first_bucket_size", first, "must be finite and > 0");
        }
        if !(ratio > 1.0 && ratio.is_finite()) {
            return bad("ratio", ratio, "must be finite and > 1");
        }
        if !(epsilon > 0.0 && epsilon.is_finite()) {
            return bad("epsilon", epsilon, "must be finite and > 0");
        }
        let n = (log(ratio, max_value * (ratio - 1.0) / first + 1.0)).ceil() + 1.0;
        if n > 255.0 {
            return bad("max_value", max_value, "layout needs more than 255 buckets");
        }
        let num_buckets = n as usize;
        let starts = (0..num_buckets)
            .map(|b| {
                if b == 0 {
                    0.0
                } else {
                    first * (go_pow(ratio, b as f64) - 1.0) / (ratio - 1.0)
                }
            })
            .collect();
        Ok(Self {
            num_buckets,
            first,
            ratio,
            epsilon,
            starts,
            milli_table: Vec::new(),
        })
    }

    /// VPA's CPU layout: first bucket 0.01 cores, ratio 1.05, max 1000 cores
    /// (176 buckets), with a lookup table for integer millicores.
    pub fn vpa_cpu() -> Self {
        Self::new(1000.0, 0.01, 1.05, EPSILON)
            .expect("constant options are valid")
            .with_milli_table()
    }

    /// VPA's memory layout: first bucket 10 MB (1e7 bytes), ratio 1.05, max
    /// 1 TB (176 buckets).
    pub fn vpa_memory() -> Self {
        Self::new(1e12, 1e7, 1.05, EPSILON).expect("constant options are valid")
    }

    /// Precomputes [`Self::find_bucket`] for every `m / 1000.0`, `m` an integer
    /// millicore count up to 64 cores, so the CPU hot path needs no logarithm.
    /// The table is filled with the same formula, so results are identical.
    pub fn with_milli_table(mut self) -> Self {
        self.milli_table = (0..=CPU_TABLE_MAX_MILLI)
            .map(|m| self.find_bucket(m as f64 / 1000.0) as u8)
            .collect();
        self
    }

    /// Number of buckets.
    pub fn num_buckets(&self) -> usize {
        self.num_buckets
    }

    /// The minimum weight of a non-empty bucket.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// The bucket holding `value` (values below the first bucket size, NaN
    /// included, go to bucket 0; values beyond the range to the last bucket).
    pub fn find_bucket(&self, value: f64) -> usize {
        if value.is_nan() || value < self.first {
            return 0;
        }
        let b = log(self.ratio, value * (self.ratio - 1.0) / self.first + 1.0);
        if b.is_nan() || b >= self.num_buckets as f64 {
            return self.num_buckets - 1;
        }
        b as usize
    }

    /// [`Self::find_bucket`] of `milli / 1000` through the lookup table when
    /// available.
    #[inline]
    pub fn find_bucket_milli(&self, milli: u64) -> usize {
        match self.milli_table.get(milli as usize) {
            Some(b) => usize::from(*b),
            None => self.find_bucket(milli as f64 / 1000.0),
        }
    }

    /// Start (lower edge) of bucket `b`; `b` is clamped to the last bucket.
    pub fn bucket_start(&self, b: usize) -> f64 {
        self.starts[b.min(self.num_buckets - 1)]
    }
}

/// `log_base(x)` exactly as VPA computes it (`ln x / ln base`).
fn log(base: f64, x: f64) -> f64 {
    x.ln() / base.ln()
}

/// A histogram of weights over an [`ExponentialBuckets`] layout (VPA's
/// `histogram`). The layout is passed to each call so that thousands of
/// histograms can share one.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    weights: Vec<f64>,
    total: f64,
    min_bucket: usize,
    max_bucket: usize,
}

impl Histogram {
    /// An empty histogram for `layout`.
    pub fn new(layout: &ExponentialBuckets) -> Self {
        Self {
            weights: vec![0.0; layout.num_buckets()],
            total: 0.0,
            min_bucket: layout.num_buckets() - 1,
            max_bucket: 0,
        }
    }

    /// Total weight.
    pub fn total_weight(&self) -> f64 {
        self.total
    }

    /// Weight of bucket `b`.
    pub fn bucket_weight(&self, b: usize) -> f64 {
        self.weights.get(b).copied().unwrap_or(0.0)
    }

    /// Heap bytes held (independent of the number of samples added).
    pub fn heap_bytes(&self) -> usize {
        self.weights.capacity() * std::mem::size_of::<f64>()
    }

    /// Adds `weight` (non-negative; negative or NaN weights are ignored) at `value`.
    pub fn add_sample(&mut self, layout: &ExponentialBuckets, value: f64, weight: f64) {
        self.add_to_bucket(layout, layout.find_bucket(value), weight);
    }

    #[inline]
    fn add_to_bucket(&mut self, layout: &ExponentialBuckets, bucket: usize, weight: f64) {
        if weight.is_nan() || weight < 0.0 {
            return;
        }
        let w = &mut self.weights[bucket];
        *w += weight;
        self.total += weight;
        if bucket < self.min_bucket && *w >= layout.epsilon {
            self.min_bucket = bucket;
        }
        if bucket > self.max_bucket && *w >= layout.epsilon {
            self.max_bucket = bucket;
        }
    }

    /// Removes `weight` at `value` with VPA's `safeSubtract`: the bucket and
    /// the total each drop by `weight`, and whichever falls below `epsilon`
    /// becomes exactly 0.
    pub fn subtract_sample(&mut self, layout: &ExponentialBuckets, value: f64, weight: f64) {
        if weight.is_nan() || weight < 0.0 {
            return;
        }
        let b = layout.find_bucket(value);
        let safe_subtract = |v: f64| {
            let v = v - weight;
            if v < layout.epsilon {
                0.0
            } else {
                v
            }
        };
        self.total = safe_subtract(self.total);
        self.weights[b] = safe_subtract(self.weights[b]);
        self.update_min_max(layout);
    }

    /// `true` when no bucket holds at least `epsilon`.
    pub fn is_empty(&self, layout: &ExponentialBuckets) -> bool {
        self.weights[self.min_bucket] < layout.epsilon
    }

    /// VPA's percentile: the end of the bucket where the running weight first
    /// reaches `p × total` (the start of the last bucket if it ends there);
    /// `0.0` for an empty histogram.
    pub fn percentile(&self, layout: &ExponentialBuckets, p: f64) -> f64 {
        if self.is_empty(layout) {
            return 0.0;
        }
        let threshold = p * self.total;
        let mut sum = 0.0;
        let mut b = self.min_bucket;
        while b < self.max_bucket {
            sum += self.weights[b];
            if sum >= threshold {
                break;
            }
            b += 1;
        }
        if b < layout.num_buckets() - 1 {
            layout.bucket_start(b + 1)
        } else {
            layout.bucket_start(b)
        }
    }

    /// Adds all weights of `other` (same layout).
    pub fn merge(&mut self, other: &Histogram) {
        if other.min_bucket <= other.max_bucket {
            for b in other.min_bucket..=other.max_bucket {
                self.weights[b] += other.weights[b];
            }
        }
        self.total += other.total;
        self.min_bucket = self.min_bucket.min(other.min_bucket);
        self.max_bucket = self.max_bucket.max(other.max_bucket);
    }

    fn scale(&mut self, layout: &ExponentialBuckets, factor: f64) {
        if self.min_bucket <= self.max_bucket {
            for w in &mut self.weights[self.min_bucket..=self.max_bucket] {
                *w *= factor;
            }
        }
        self.total *= factor;
        self.update_min_max(layout);
    }

    fn update_min_max(&mut self, layout: &ExponentialBuckets) {
        let last = layout.num_buckets() - 1;
        while self.weights[self.min_bucket] < layout.epsilon && self.min_bucket < last {
            self.min_bucket += 1;
        }
        while self.weights[self.max_bucket] < layout.epsilon && self.max_bucket > 0 {
            self.max_bucket -= 1;
        }
    }
}

/// Nanoseconds from Go's zero time (0001-01-01T00:00:00Z) to the Unix epoch.
const GO_ZERO_TO_UNIX_NANOS: i128 = 62_135_596_800 * 1_000_000_000;

/// A [`Histogram`] whose samples decay with a half-life (VPA's
/// `decayingHistogram`). Times are nanoseconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct DecayingHistogram {
    hist: Histogram,
    half_life_ns: i64,
    /// Reference time in ns since the Unix epoch; starts at Go's zero time.
    reference: i128,
    /// `reference + 100 half-lives`: a later sample triggers renormalisation.
    max_allowed: i128,
}

impl DecayingHistogram {
    /// An empty histogram; `half_life_ns` must be positive.
    pub fn new(layout: &ExponentialBuckets, half_life_ns: i64) -> Self {
        Self {
            hist: Histogram::new(layout),
            half_life_ns: half_life_ns.max(1),
            reference: -GO_ZERO_TO_UNIX_NANOS,
            max_allowed: -GO_ZERO_TO_UNIX_NANOS
                + i128::from(half_life_ns.max(1)) * i128::from(MAX_DECAY_EXPONENT),
        }
    }

    /// The underlying weights (scaled relative to [`Self::reference_unix_nanos`]).
    pub fn histogram(&self) -> &Histogram {
        &self.hist
    }

    /// The current reference time (ns since the Unix epoch; negative before
    /// the first sample, i.e. Go's zero time).
    pub fn reference_unix_nanos(&self) -> i128 {
        self.reference
    }

    /// Adds a sample of `weight` at `value`, measured at `t_ns`.
    #[inline]
    pub fn add_sample(&mut self, layout: &ExponentialBuckets, value: f64, weight: f64, t_ns: i64) {
        let f = self.decay_factor(layout, t_ns);
        self.hist.add_sample(layout, value, weight * f);
    }

    /// Adds a CPU sample given in integer millicores (the VPA hot path).
    #[inline]
    pub fn add_milli_sample(
        &mut self,
        layout: &ExponentialBuckets,
        milli: u64,
        weight: f64,
        t_ns: i64,
    ) {
        let f = self.decay_factor(layout, t_ns);
        let b = layout.find_bucket_milli(milli);
        self.hist.add_to_bucket(layout, b, weight * f);
    }

    /// Subtracts a sample previously added at `t_ns`.
    pub fn subtract_sample(
        &mut self,
        layout: &ExponentialBuckets,
        value: f64,
        weight: f64,
        t_ns: i64,
    ) {
        let f = self.decay_factor(layout, t_ns);
        self.hist.subtract_sample(layout, value, weight * f);
    }

    /// See [`Histogram::percentile`].
    pub fn percentile(&self, layout: &ExponentialBuckets, p: f64) -> f64 {
        self.hist.percentile(layout, p)
    }

    /// See [`Histogram::is_empty`].
    pub fn is_empty(&self, layout: &ExponentialBuckets) -> bool {
        self.hist.is_empty(layout)
    }

    /// Merges `other` (same half-life), aligning reference times first.
    pub fn merge(&mut self, layout: &ExponentialBuckets, other: &DecayingHistogram) {
        let mut o = other.clone();
        if self.reference < o.reference {
            self.shift_reference(layout, o.reference);
        } else if o.reference < self.reference {
            o.shift_reference(layout, self.reference);
        }
        self.hist.merge(&o.hist);
    }

    #[inline]
    fn decay_factor(&mut self, layout: &ExponentialBuckets, t_ns: i64) -> f64 {
        let t = i128::from(t_ns);
        if t > self.max_allowed {
            self.shift_reference(layout, t);
        }
        let diff = clamp_duration(t - self.reference);
        go_exp2(diff as f64 / self.half_life_ns as f64)
    }

    fn shift_reference(&mut self, layout: &ExponentialBuckets, new_ref: i128) {
        let new_ref = go_round(new_ref, i128::from(self.half_life_ns));
        let diff = clamp_duration(self.reference - new_ref);
        let exponent = go_round_f64(diff as f64 / self.half_life_ns as f64);
        self.hist.scale(layout, ldexp1(exponent));
        self.reference = new_ref;
        self.max_allowed = new_ref + i128::from(self.half_life_ns) * i128::from(MAX_DECAY_EXPONENT);
    }
}

/// Go's `time.Time.Sub`: a Duration saturating at the `i64` range.
fn clamp_duration(d: i128) -> i64 {
    d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Go's `Time.Round(d)`: nearest multiple of `d` since Go's zero time, halves up.
fn go_round(t_unix: i128, d: i128) -> i128 {
    let since_zero = t_unix + GO_ZERO_TO_UNIX_NANOS;
    let r = since_zero.rem_euclid(d);
    if r + r < d {
        t_unix - r
    } else {
        t_unix + (d - r)
    }
}

/// VPA's `round(x) = int(floor(x + 0.5))`.
fn go_round_f64(x: f64) -> i64 {
    (x + 0.5).floor() as i64
}

/// `2^e` like Go's `math.Ldexp(1, e)` (0 on underflow, +∞ on overflow).
fn ldexp1(e: i64) -> f64 {
    if e < -1074 {
        0.0
    } else if e > 1023 {
        f64::INFINITY
    } else if e < -1022 {
        // Subnormal: 2^-1022 × 2^(e+1022).
        f64::from_bits(1u64 << (e + 1074))
    } else {
        f64::from_bits(((e + 1023) as u64) << 52)
    }
}

/// Go's `math.Frexp` for finite non-zero `x`: `x = frac × 2^exp`,
/// `frac ∈ [0.5, 1)`.
fn go_frexp(x: f64) -> (f64, i64) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let (x, mut e) = if x.abs() < f64::MIN_POSITIVE {
        (x * (1u64 << 52) as f64, -52)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023 + 1;
    let frac = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (frac, e)
}

/// Go's `math.Ldexp`: `frac × 2^exp` with one rounding.
fn go_ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || !frac.is_finite() {
        return frac;
    }
    let (frac, e) = if frac.abs() < f64::MIN_POSITIVE {
        (frac * (1u64 << 52) as f64, -52)
    } else {
        (frac, 0)
    };
    let bits = frac.to_bits();
    let mut exp = exp + e + ((bits >> 52) & 0x7ff) as i64 - 1023;
    if exp < -1075 {
        return 0.0f64.copysign(frac);
    }
    if exp > 1023 {
        return f64::INFINITY.copysign(frac);
    }
    let mut m = 1.0;
    if exp < -1022 {
        exp += 53;
        m = 1.0 / (1u64 << 53) as f64;
    }
    let bits = (bits & !(0x7ffu64 << 52)) | (((exp + 1023) as u64) << 52);
    m * f64::from_bits(bits)
}

/// Go's `math.Pow` (amd64, Go ≤ 1.21: no assembly, successive squarings of
/// the `Frexp` mantissa) for the exponents VPA uses: integers (bucket
/// starts `ratio^n`, the confidence multipliers' `1` and `−2`). Its result
/// can differ from a correctly rounded `powf` in the last bits, which moves a
/// truncated bucket edge or scaled amount by one unit.
pub(crate) fn go_pow(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 || x.is_infinite() || y.is_infinite() || y.fract() != 0.0 || y.abs() >= 1e15 {
        // Outside what VPA evaluates: fall back to the C library.
        return x.powf(y);
    }
    let yi = y.abs() as i64;
    let mut a1 = 1.0;
    let mut ae = 0i64;
    let (mut x1, mut xe) = go_frexp(x);
    let mut i = yi;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    go_ldexp(a1, ae)
}

/// Go's `math.Exp2` (pure Go on amd64): argument reduction and the
/// `expmulti` polynomial, so decay weights are bit-identical to VPA's.
/// The constants are Go's literals verbatim (both languages round decimal
/// literals correctly, so the bits agree).
#[allow(clippy::excessive_precision)]
pub(crate) fn go_exp2(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    const OVERFLOW: f64 = 1.023_999_999_999_999_9e+03;
    const UNDERFLOW: f64 = -1.0740e+03;
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == f64::NEG_INFINITY || x < UNDERFLOW {
        return 0.0;
    }
    if x > OVERFLOW {
        return f64::INFINITY;
    }
    let k: i64 = if x > 0.0 {
        (x + 0.5) as i64
    } else if x < 0.0 {
        (x - 0.5) as i64
    } else {
        0
    };
    let t = x - k as f64;
    let hi = t * LN2_HI;
    let lo = -t * LN2_LO;
    go_expmulti(hi, lo, k)
}

#[allow(clippy::excessive_precision)]
fn go_expmulti(hi: f64, lo: f64, k: i64) -> f64 {
    const P1: f64 = 1.666_666_666_666_666_574_15e-01;
    const P2: f64 = -2.777_777_777_701_559_338_42e-03;
    const P3: f64 = 6.613_756_321_437_934_361_17e-05;
    const P4: f64 = -1.653_390_220_546_525_153_90e-06;
    const P5: f64 = 4.138_136_797_057_238_460_39e-08;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    go_ldexp(y, k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NANOS_PER_DAY;

    #[test]
    fn vpa_layouts_have_176_buckets() {
        let cpu = ExponentialBuckets::vpa_cpu();
        let mem = ExponentialBuckets::vpa_memory();
        assert_eq!(cpu.num_buckets(), 176);
        assert_eq!(mem.num_buckets(), 176);
        // start(n) = first × (1.05^n − 1)/0.05
        assert_eq!(cpu.bucket_start(0), 0.0);
        approx::assert_relative_eq!(cpu.bucket_start(1), 0.01, max_relative = 1e-12);
        approx::assert_relative_eq!(cpu.bucket_start(2), 0.0205, max_relative = 1e-12);
        approx::assert_relative_eq!(cpu.bucket_start(3), 0.031525, max_relative = 1e-12);
        approx::assert_relative_eq!(mem.bucket_start(1), 1e7, max_relative = 1e-12);
        approx::assert_relative_eq!(mem.bucket_start(2), 2.05e7, max_relative = 1e-12);
        // The last bucket starts at or above the max value, the one before below.
        assert!(cpu.bucket_start(175) >= 1000.0 && cpu.bucket_start(174) < 1000.0);
        assert!(mem.bucket_start(175) >= 1e12 && mem.bucket_start(174) < 1e12);
    }

    #[test]
    fn find_bucket_edges() {
        let cpu = ExponentialBuckets::vpa_cpu();
        assert_eq!(cpu.find_bucket(0.0), 0);
        assert_eq!(cpu.find_bucket(0.0099), 0);
        assert_eq!(cpu.find_bucket(0.015), 1);
        assert_eq!(cpu.find_bucket(0.021), 2);
        assert_eq!(cpu.find_bucket(1e9), 175);
        assert_eq!(cpu.find_bucket(f64::NAN), 0);
        for b in 1..175 {
            let mid = 0.5 * (cpu.bucket_start(b) + cpu.bucket_start(b + 1));
            assert_eq!(cpu.find_bucket(mid), b);
        }
        // The lookup table agrees with the formula.
        for m in [
            0u64, 1, 9, 10, 11, 20, 21, 999, 1000, 12_345, 65_536, 70_000,
        ] {
            assert_eq!(cpu.find_bucket_milli(m), cpu.find_bucket(m as f64 / 1000.0));
        }
    }

    #[test]
    fn percentile_returns_bucket_end() {
        let l = ExponentialBuckets::vpa_cpu();
        let mut h = Histogram::new(&l);
        assert_eq!(h.percentile(&l, 0.5), 0.0);
        // Ten samples at 0.1..1.0 cores, weight 1.
        for i in 1..=10 {
            h.add_sample(&l, f64::from(i) / 10.0, 1.0);
        }
        // p50: running sum reaches 5 at the 5th sample (0.5 cores) → end of its bucket.
        assert_eq!(
            h.percentile(&l, 0.5),
            l.bucket_start(l.find_bucket(0.5) + 1)
        );
        // p90 → 9th sample, p95 needs 9.5 → 10th sample.
        assert_eq!(
            h.percentile(&l, 0.9),
            l.bucket_start(l.find_bucket(0.9) + 1)
        );
        assert_eq!(
            h.percentile(&l, 0.95),
            l.bucket_start(l.find_bucket(1.0) + 1)
        );
        // p0 → the end of the first non-empty bucket.
        assert_eq!(
            h.percentile(&l, 0.0),
            l.bucket_start(l.find_bucket(0.1) + 1)
        );
        // A sample beyond the range: the last bucket's start.
        let mut top = Histogram::new(&l);
        top.add_sample(&l, 5000.0, 1.0);
        assert_eq!(top.percentile(&l, 0.5), l.bucket_start(175));
    }

    #[test]
    fn tiny_weights_are_empty_and_subtract_clamps() {
        let l = ExponentialBuckets::vpa_memory();
        let mut h = Histogram::new(&l);
        h.add_sample(&l, 5e8, EPSILON / 2.0);
        assert!(h.is_empty(&l));
        h.add_sample(&l, 5e8, 1.0);
        assert!(!h.is_empty(&l));
        h.subtract_sample(&l, 5e8, 1.0 + EPSILON / 4.0);
        assert!(h.is_empty(&l));
        assert_eq!(h.bucket_weight(l.find_bucket(5e8)), 0.0);
    }

    #[test]
    fn decay_halves_per_half_life() {
        let l = ExponentialBuckets::vpa_cpu();
        let day = NANOS_PER_DAY;
        let t0 = 1_795_737_600 * 1_000_000_000i64; // a UTC midnight
        let mut h = DecayingHistogram::new(&l, day);
        h.add_sample(&l, 1.0, 1.0, t0);
        // The first sample moves the reference to the nearest multiple of 24 h.
        assert_eq!(h.reference_unix_nanos(), i128::from(t0));
        h.add_sample(&l, 2.0, 1.0, t0 + day);
        h.add_sample(&l, 3.0, 1.0, t0 + 2 * day);
        let w = |h: &DecayingHistogram, v: f64| h.histogram().bucket_weight(l.find_bucket(v));
        approx::assert_relative_eq!(w(&h, 1.0), 1.0);
        approx::assert_relative_eq!(w(&h, 2.0), 2.0);
        approx::assert_relative_eq!(w(&h, 3.0), 4.0);
        approx::assert_relative_eq!(h.histogram().total_weight(), 7.0);
        // Half a day later the factor is √2.
        h.add_sample(&l, 4.0, 1.0, t0 + day / 2);
        approx::assert_relative_eq!(w(&h, 4.0), std::f64::consts::SQRT_2);
        // 150 days later the reference moves and everything older than ~13
        // half-lives falls below epsilon: VPA forgets it.
        h.add_sample(&l, 0.001, 1.0, t0 + 150 * day);
        assert_eq!(h.reference_unix_nanos(), i128::from(t0 + 150 * day));
        approx::assert_relative_eq!(
            h.histogram().total_weight(),
            1.0 + (7.0 + std::f64::consts::SQRT_2) * 2f64.powi(-150),
            max_relative = 1e-12
        );
        assert_eq!(h.percentile(&l, 0.99), l.bucket_start(1));
    }

    /// Bits printed by Go 1.19.8 linux/amd64 (`math.Float64bits(math.Pow(1.05, n))`,
    /// `math.Exp2(x)`), which differ from a correctly rounded `powf`/`exp2`.
    #[test]
    fn go_pow_and_exp2_are_bit_identical_to_go() {
        for (n, bits) in [
            (7.0, 0x3ff6_837b_bb97_f124u64),
            (37.0, 0x4018_535c_5773_7740),
            (100.0, 0x4060_700a_4de5_1799),
            (127.0, 0x407e_af44_69d7_c80d),
            (128.0, 0x4080_1c03_eac4_7c3a),
            (175.0, 0x40b3_f28c_0b1c_2558),
        ] {
            assert_eq!(go_pow(1.05, n).to_bits(), bits, "1.05^{n}");
        }
        // The lower-bound multiplier at 5 minutes of history.
        assert_eq!(
            go_pow(1.0 + 0.001 / (5.0 / 1440.0), -2.0).to_bits(),
            0x3fe3_4a14_c27b_3c18
        );
        assert_eq!(go_pow(1.7, 1.0), 1.7);
        assert_eq!(go_pow(f64::INFINITY, -2.0), 0.0);
        for (x, bits) in [
            (0.5, 0x3ff6_a09e_667f_3bccu64),
            (-0.5, 0x3fe6_a09e_667f_3bcc),
            (1.0 / 3.0, 0x3ff4_28a2_f98d_728b),
            (-99.99, 0x39b0_1c7d_6c40_4f1c),
            (99.7, 0x4629_fdf8_bcce_534c),
            (-1.0 / 1440.0, 0x3fef_fc0e_c62f_ed35),
            (7.123456, 0x4061_6df1_1dc9_1d2d),
        ] {
            assert_eq!(go_exp2(x).to_bits(), bits, "2^{x}");
        }
        assert_eq!(go_exp2(0.0), 1.0);
        assert_eq!(go_exp2(-1100.0), 0.0);
        assert_eq!(go_exp2(3.0), 8.0);
    }

    #[test]
    fn subtract_is_vpa_safe_subtract_on_bucket_and_total() {
        let l = ExponentialBuckets::vpa_memory();
        let mut h = Histogram::new(&l);
        h.add_sample(&l, 5e8, 1.0);
        h.add_sample(&l, 9e8, 1.0);
        // More than the bucket holds: the bucket empties, and the total drops
        // by the full weight (2 − 1.5), not by what the bucket held.
        h.subtract_sample(&l, 5e8, 1.5);
        assert_eq!(h.bucket_weight(l.find_bucket(5e8)), 0.0);
        assert_eq!(h.total_weight(), 0.5);
        // The total below epsilon becomes exactly 0.
        h.subtract_sample(&l, 9e8, 0.5 + EPSILON / 2.0);
        assert_eq!(h.total_weight(), 0.0);
        assert_eq!(
            h.bucket_weight(l.find_bucket(9e8)),
            1.0 - (0.5 + EPSILON / 2.0)
        );
    }

    #[test]
    fn go_rounding() {
        let day = i128::from(NANOS_PER_DAY);
        assert_eq!(go_round(day / 2 - 1, day), 0);
        assert_eq!(go_round(day / 2, day), day);
        assert_eq!(go_round(3 * day + 5, day), 3 * day);
        assert_eq!(ldexp1(0), 1.0);
        assert_eq!(ldexp1(-2), 0.25);
        assert_eq!(ldexp1(-106_752), 0.0);
        assert_eq!(ldexp1(-1074), f64::from_bits(1));
    }
}
