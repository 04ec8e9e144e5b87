//! Small statistics helpers shared by the recommenders.

/// The `q`-quantile of ascending `sorted` values with linear interpolation
/// between closest ranks: Prometheus' `quantile_over_time` and numpy's default
/// `percentile` (rank `q × (n − 1)`). `q` is clamped to `[0, 1]`; an empty
/// slice gives NaN.
///
/// ```
/// use rightsizer_size::stats::quantile_linear;
/// assert_eq!(quantile_linear(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
/// assert_eq!(quantile_linear(&[1.0, 2.0, 3.0, 4.0], 1.0), 4.0);
/// assert_eq!(quantile_linear(&[7.0], 0.66), 7.0);
/// ```
pub fn quantile_linear(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
    let rank = q * (n - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let w = rank - rank.floor();
    sorted[lo] * (1.0 - w) + sorted[hi] * w
}

/// Fraction of `values` strictly above `limit` (0 for an empty slice).
pub fn exceedance(values: &[f64], limit: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().filter(|v| **v > limit).count() as f64 / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_compatible() {
        // numpy.percentile([1..10], 66) = 6.94, 96 → 9.64
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        approx::assert_relative_eq!(quantile_linear(&v, 0.66), 6.94, max_relative = 1e-12);
        approx::assert_relative_eq!(quantile_linear(&v, 0.96), 9.64, max_relative = 1e-12);
        assert!(quantile_linear(&[], 0.5).is_nan());
        assert_eq!(exceedance(&v, 8.0), 0.2);
        assert_eq!(exceedance(&[], 8.0), 0.0);
    }
}
