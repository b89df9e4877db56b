//! Medians, percentiles and throughput of samples.

use std::time::{Duration, Instant};

use crate::Res;

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples.
pub(crate) fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// Operations per second of `f`: after one warm-up call, the median of `rounds` runs of
/// `budget` each.
pub(crate) fn throughput(
    rounds: usize,
    budget: Duration,
    mut f: impl FnMut() -> Res<()>,
) -> Res<f64> {
    f()?;
    let mut rates = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < budget {
            f()?;
            n += 1;
        }
        rates.push(n as f64 / start.elapsed().as_secs_f64());
    }
    Ok(median(&rates))
}

/// Mean duration of `f` over `n` calls.
pub(crate) fn mean_time<T>(n: usize, mut f: impl FnMut() -> Res<T>) -> Res<Duration> {
    let start = Instant::now();
    for _ in 0..n {
        f()?;
    }
    Ok(start.elapsed() / n.max(1) as u32)
}
