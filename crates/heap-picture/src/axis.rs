//! Linear scales and tick marks.

/// Maps a value range onto a pixel range, linearly.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub px_lo: f64,
    pub px_hi: f64,
}

impl Scale {
    pub fn at(&self, value: f64) -> f64 {
        if self.hi == self.lo {
            return self.px_lo;
        }
        self.px_lo + (value - self.lo) / (self.hi - self.lo) * (self.px_hi - self.px_lo)
    }
}

/// Round tick values from 0 to at least `max` (at most about `max_ticks`
/// steps). Byte axes step by powers of two (256 B, 512 B, 1 KiB, ...) so the
/// labels are round in KiB and MiB; other axes step by 1, 2 or 5 times a power
/// of ten. The last tick is the axis end (at or above `max`).
pub(crate) fn ticks(max: f64, bytes: bool, max_ticks: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let wanted = max_ticks.max(1) as f64;
    let step = if bytes {
        let mut step = 1.0_f64;
        while max / step > wanted {
            step *= 2.0;
        }
        step
    } else {
        let raw = max / wanted;
        let power = 10f64.powf(raw.log10().floor());
        let mut step = power;
        for factor in [1.0, 2.0, 5.0, 10.0] {
            step = power * factor;
            if step >= raw {
                break;
            }
        }
        step
    };
    let count = (max / step).ceil() as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ticks_step_by_powers_of_two() {
        assert_eq!(
            ticks(8000.0, true, 8),
            [
                0.0, 1024.0, 2048.0, 3072.0, 4096.0, 5120.0, 6144.0, 7168.0, 8192.0
            ]
        );
        assert_eq!(ticks(3.0, true, 8), [0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn decimal_ticks_step_by_one_two_five() {
        assert_eq!(
            ticks(1999.0, false, 5),
            [0.0, 500.0, 1000.0, 1500.0, 2000.0]
        );
        let empty = ticks(0.0, false, 5);
        assert_eq!(empty.len(), 6);
        assert_eq!(empty.last(), Some(&1.0));
    }

    #[test]
    fn scale_is_linear() {
        let s = Scale {
            lo: 0.0,
            hi: 10.0,
            px_lo: 100.0,
            px_hi: 0.0,
        };
        assert_eq!(s.at(0.0), 100.0);
        assert_eq!(s.at(5.0), 50.0);
        assert_eq!(s.at(10.0), 0.0);
    }
}
