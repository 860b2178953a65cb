//! The timing loop: warm-up runs, then timed runs, summarised by their
//! median (robust to the odd slow run a busy machine produces) and spread.

use std::hint::black_box;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Nanoseconds per operation across the timed runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub median_ns: f64,
    /// First and third quartiles: half the runs fall between them.
    pub q1_ns: f64,
    pub q3_ns: f64,
    pub min_ns: f64,
    pub max_ns: f64,
}

impl Timing {
    /// Half the interquartile range as a percentage of the median.
    pub fn spread_percent(&self) -> f64 {
        if self.median_ns > 0.0 {
            (self.q3_ns - self.q1_ns) / 2.0 / self.median_ns * 100.0
        } else {
            0.0
        }
    }

    /// Summarises per-run totals (nanoseconds for `ops` operations each).
    /// `None` if there are no runs or no operations.
    pub fn from_runs(run_ns: &[f64], ops: u64) -> Option<Timing> {
        if run_ns.is_empty() || ops == 0 {
            return None;
        }
        let mut per_op: Vec<f64> = run_ns.iter().map(|ns| ns / ops as f64).collect();
        per_op.sort_by(f64::total_cmp);
        Some(Timing {
            median_ns: quantile(&per_op, 0.5),
            q1_ns: quantile(&per_op, 0.25),
            q3_ns: quantile(&per_op, 0.75),
            min_ns: per_op[0],
            max_ns: per_op[per_op.len() - 1],
        })
    }
}

/// Linear interpolation between the closest ranks of sorted, non-empty data.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (low, high) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (pos - low as f64)
}

/// Runs `run` `warmup` times untimed, then `reps` times timed, and checks
/// that every run returned `expected`.
pub fn measure(
    warmup: usize,
    reps: usize,
    ops: u64,
    expected: u64,
    mut run: impl FnMut() -> u64,
) -> Result<Timing, String> {
    let check = |got: u64| {
        if got == expected {
            Ok(())
        } else {
            Err(format!(
                "wrong result: got checksum {got}, expected {expected}"
            ))
        }
    };
    for _ in 0..warmup {
        check(black_box(run()))?;
    }
    let mut run_ns = Vec::with_capacity(reps);
    for _ in 0..reps {
        let started = Instant::now();
        let got = black_box(run());
        run_ns.push(started.elapsed().as_nanos() as f64);
        check(got)?;
    }
    Timing::from_runs(&run_ns, ops)
        .ok_or_else(|| "nothing to time: no runs or no operations".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_quartiles_of_known_runs() {
        let t = Timing::from_runs(&[50.0, 10.0, 30.0, 20.0, 40.0], 10).unwrap();
        assert_eq!(t.median_ns, 3.0);
        assert_eq!((t.q1_ns, t.q3_ns), (2.0, 4.0));
        assert_eq!((t.min_ns, t.max_ns), (1.0, 5.0));
        assert!((t.spread_percent() - 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn even_count_median_interpolates() {
        let t = Timing::from_runs(&[1.0, 2.0, 3.0, 4.0], 1).unwrap();
        assert_eq!(t.median_ns, 2.5);
    }

    #[test]
    fn no_runs_or_no_ops_is_none() {
        assert_eq!(Timing::from_runs(&[], 5), None);
        assert_eq!(Timing::from_runs(&[1.0], 0), None);
    }

    #[test]
    fn a_wrong_result_is_reported() {
        let err = measure(0, 2, 1, 7, || 8).unwrap_err();
        assert!(err.contains("got checksum 8, expected 7"), "{err}");
        assert!(measure(1, 3, 1, 7, || 7).is_ok());
    }
}
