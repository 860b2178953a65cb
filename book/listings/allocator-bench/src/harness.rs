//! The timing loop: warm-up runs, then timed runs, summarised by their
//! median (robust to the odd slow run a busy machine produces) and spread.

use std::hint::black_box;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::faults;

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

    /// Summarises runs given as nanoseconds per operation; `None` if there
    /// are none.
    pub fn from_samples(samples_ns: &[f64]) -> Option<Timing> {
        if samples_ns.is_empty() {
            return None;
        }
        let mut per_op = samples_ns.to_vec();
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

/// What the timed runs measured, one entry per run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Runs {
    /// Nanoseconds per operation.
    pub ns_per_op: Vec<f64>,
    /// Minor page faults the process took during the run (empty where they
    /// cannot be counted).
    pub minor_faults: Vec<u64>,
}

/// Runs `run` `warmup` times untimed, then `reps` times timed, and checks
/// that every run returned `expected`. `before_run` is called before every
/// run, outside the timed region (an arena prepares its memory there).
pub fn measure(
    warmup: usize,
    reps: usize,
    ops: u64,
    expected: u64,
    mut run: impl FnMut() -> u64,
    mut before_run: impl FnMut(),
) -> Result<Runs, String> {
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
        before_run();
        check(black_box(run()))?;
    }
    if ops == 0 {
        return Err("nothing to time: the workload has no operations".into());
    }
    let mut runs = Runs {
        ns_per_op: Vec::with_capacity(reps),
        minor_faults: Vec::with_capacity(reps),
    };
    for _ in 0..reps {
        before_run();
        let faults_before = faults::minor_faults();
        let started = Instant::now();
        let got = black_box(run());
        let elapsed = started.elapsed();
        if let (Some(before), Some(after)) = (faults_before, faults::minor_faults()) {
            runs.minor_faults.push(after.saturating_sub(before));
        }
        runs.ns_per_op.push(elapsed.as_nanos() as f64 / ops as f64);
        check(got)?;
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_quartiles_of_known_runs() {
        let t = Timing::from_samples(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!(t.median_ns, 3.0);
        assert_eq!((t.q1_ns, t.q3_ns), (2.0, 4.0));
        assert_eq!((t.min_ns, t.max_ns), (1.0, 5.0));
        assert!((t.spread_percent() - 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn even_count_median_interpolates() {
        let t = Timing::from_samples(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(t.median_ns, 2.5);
    }

    #[test]
    fn no_runs_is_none_and_no_ops_is_an_error() {
        assert_eq!(Timing::from_samples(&[]), None);
        assert!(measure(0, 3, 0, 0, || 0, || {}).is_err());
    }

    #[test]
    fn a_wrong_result_is_reported() {
        let err = measure(0, 2, 1, 7, || 8, || {}).unwrap_err();
        assert!(err.contains("got checksum 8, expected 7"), "{err}");
        let runs = measure(1, 3, 10, 7, || 7, || {}).unwrap();
        assert_eq!(runs.ns_per_op.len(), 3);
    }

    #[test]
    fn before_run_comes_before_every_run_warm_up_included() {
        let log = std::cell::RefCell::new(Vec::new());
        let runs = measure(
            2,
            3,
            1,
            0,
            || {
                log.borrow_mut().push("run");
                0
            },
            || log.borrow_mut().push("before"),
        )
        .unwrap();
        assert_eq!(log.into_inner(), ["before", "run"].repeat(5));
        if faults::minor_faults().is_some() {
            assert_eq!(runs.minor_faults.len(), 3);
        }
    }
}
