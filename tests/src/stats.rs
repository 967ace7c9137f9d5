//! Statistics over seeds: median and the 10th and 90th percentiles.
//!
//! Percentiles interpolate linearly between order statistics, the default of
//! numpy's `percentile` (method `"linear"`): the `q`-th percentile of `n`
//! sorted values sits at rank `h = (n − 1)·q/100`, between `x[⌊h⌋]` and
//! `x[⌊h⌋ + 1]`.

/// The `q`-th percentile (0 to 100) of `values`, linearly interpolated like
/// numpy's default. NaN values are ignored; `None` if nothing is left.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(percentile_sorted(&v, q))
}

/// [`percentile`] of values already sorted ascending (no NaN), not empty.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "percentile of no values");
    let q = q.clamp(0.0, 100.0);
    let h = (sorted.len() - 1) as f64 * q / 100.0;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = h - lo as f64;
    if frac == 0.0 || lo == hi {
        sorted[lo]
    } else {
        sorted[lo] + (sorted[hi] - sorted[lo]) * frac
    }
}

/// Median and the 10th and 90th percentiles of one metric over seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// 50th percentile.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Arithmetic mean (finer than the median for comparing two models on
    /// the same seeds).
    pub mean: f64,
    /// Values summarised (NaN excluded).
    pub n: usize,
}

impl Summary {
    /// The summary of `values` (NaN ignored; all NaN if nothing is left).
    pub fn of(values: &[f64]) -> Summary {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return Summary {
                median: f64::NAN,
                p10: f64::NAN,
                p90: f64::NAN,
                mean: f64::NAN,
                n: 0,
            };
        }
        v.sort_by(|a, b| a.total_cmp(b));
        Summary {
            median: percentile_sorted(&v, 50.0),
            p10: percentile_sorted(&v, 10.0),
            p90: percentile_sorted(&v, 90.0),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            n: v.len(),
        }
    }

    /// A constant (every statistic equal to `x`), for reference figures.
    pub fn constant(x: f64) -> Summary {
        Summary {
            median: x,
            p10: x,
            p90: x,
            mean: x,
            n: 1,
        }
    }
}

/// Mean of `values` (0 for none).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn percentiles_match_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4], [10, 50, 90]) = [1.3, 2.5, 3.7]
        let v = [4.0, 1.0, 3.0, 2.0];
        assert!(close(percentile(&v, 10.0).unwrap(), 1.3));
        assert!(close(percentile(&v, 50.0).unwrap(), 2.5));
        assert!(close(percentile(&v, 90.0).unwrap(), 3.7));
        // numpy.percentile([1..=20], [10, 50, 90]) = [2.9, 10.5, 18.1]
        let v: Vec<f64> = (1..=20).map(|x| x as f64).collect();
        assert!(close(percentile(&v, 10.0).unwrap(), 2.9));
        assert!(close(percentile(&v, 50.0).unwrap(), 10.5));
        assert!(close(percentile(&v, 90.0).unwrap(), 18.1));
        // numpy.percentile([10, 0, 5], [0, 25, 100]) = [0, 2.5, 10]
        let v = [10.0, 0.0, 5.0];
        assert!(close(percentile(&v, 0.0).unwrap(), 0.0));
        assert!(close(percentile(&v, 25.0).unwrap(), 2.5));
        assert!(close(percentile(&v, 100.0).unwrap(), 10.0));
    }

    #[test]
    fn edge_cases() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[f64::NAN], 50.0), None);
        assert_eq!(percentile(&[7.0], 10.0), Some(7.0));
        assert_eq!(percentile(&[7.0], 90.0), Some(7.0));
        // NaN is skipped, not sorted to an end.
        assert_eq!(percentile(&[1.0, f64::NAN, 3.0], 50.0), Some(2.0));
        // Out-of-range q is clamped.
        assert_eq!(percentile(&[1.0, 2.0], 150.0), Some(2.0));
        let s = Summary::of(&[2.0, 2.0, 2.0]);
        assert_eq!((s.median, s.p10, s.p90, s.n), (2.0, 2.0, 2.0, 3));
        assert_eq!(Summary::of(&[]).n, 0);
        assert!(Summary::of(&[]).median.is_nan());
    }

    #[test]
    fn summary_of_twenty_seeds() {
        // Ties, as 20 seeds of error counts give: numpy gives 1.0, 1.0, 3.0.
        let v = [
            1.0, 0.0, 1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 1.0, 4.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 3.0,
            1.0, 1.0, 2.0,
        ];
        let s = Summary::of(&v);
        assert!(close(s.median, 1.0));
        assert!(close(s.p10, 1.0));
        assert!(close(s.p90, 3.0));
        let v = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        let s = Summary::of(&v);
        assert!(close(s.p10, 1.0) && close(s.median, 5.0) && close(s.p90, 9.0));
    }

    #[test]
    fn mean_of_none_is_zero() {
        assert_eq!(mean(&[]), 0.0);
        assert_eq!(mean(&[1.0, 2.0]), 1.5);
    }
}
