//! Noticing that the local clock was stepped, from two readings of it and of a monotonic
//! clock.

use super::sample::drift_growth;

/// Notices the local clock being stepped (by an administrator or another time daemon) by
/// comparing how far it moved with how far a monotonic clock moved. After a step every sample
/// is measured against a clock that no longer exists and must be dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepDetector {
    last: Option<(i64, i64)>,
}

impl StepDetector {
    /// Tolerated disagreement: the most a kernel slews (500 ppm) plus 1 ms of reading jitter.
    const SLEW_PPB: i64 = 500_000;
    const SLACK_NANOS: i64 = 1_000_000;

    /// Records a reading of both clocks; true when the local clock moved by more than the
    /// monotonic one allows since the previous reading.
    pub fn stepped(&mut self, local_nanos: i64, monotonic_nanos: i64) -> bool {
        let previous = self.last.replace((local_nanos, monotonic_nanos));
        let Some((last_local, last_monotonic)) = previous else {
            return false;
        };
        let elapsed = monotonic_nanos.saturating_sub(last_monotonic);
        let moved = local_nanos.saturating_sub(last_local);
        let tolerance = drift_growth(elapsed, Self::SLEW_PPB) + Self::SLACK_NANOS;
        (moved - elapsed).abs() > tolerance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    #[test]
    fn steps_are_noticed_and_slews_are_not() {
        let mut detector = StepDetector::default();
        assert!(!detector.stepped(100 * SECOND, 5 * SECOND));
        // 10 s later, slewed by 400 ppm: fine.
        assert!(!detector.stepped(110 * SECOND + 4_000_000, 15 * SECOND));
        // 1 s later, stepped back by 2 s.
        assert!(detector.stepped(109 * SECOND, 16 * SECOND));
        assert!(!detector.stepped(110 * SECOND, 17 * SECOND));
    }
}
