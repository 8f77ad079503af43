//! Noticing that a clock was stepped, from two readings of it and of a reference clock that
//! is never stepped. The [tracker](super::tracking) runs one on the client's local clock;
//! the [watchdog](super::watchdog) runs one on the system clock.

use super::sample::drift_growth;

/// Notices a clock being stepped (by an administrator or another time daemon) by comparing
/// how far it moved with how far a reference clock moved. After a step of the local clock
/// every sample is measured against a clock that no longer exists and must be dropped.
#[derive(Clone, Copy, Debug)]
pub struct StepDetector {
    last: Option<(i64, i64)>,
    /// How fast the watched clock may legitimately run off the reference (a slew).
    slew_ppb: i64,
    /// Disagreement tolerated on top of the slew, in nanoseconds.
    slack_nanos: i64,
}

impl Default for StepDetector {
    /// Tolerates the most a kernel slews (500 ppm) plus 1 ms of reading jitter: right for a
    /// local clock of any kind checked against `CLOCK_MONOTONIC`.
    fn default() -> Self {
        Self::new(500_000, 1_000_000)
    }
}

impl StepDetector {
    /// A detector that tolerates a rate difference of `slew_ppb` plus `slack_nanos`.
    pub fn new(slew_ppb: i64, slack_nanos: i64) -> Self {
        Self {
            last: None,
            slew_ppb,
            slack_nanos,
        }
    }

    /// Records a reading of both clocks; true when the watched clock moved by more than the
    /// reference allows since the previous reading.
    pub fn stepped(&mut self, local_nanos: i64, monotonic_nanos: i64) -> bool {
        self.step(local_nanos, monotonic_nanos, 0).is_some()
    }

    /// Records a reading of both clocks; the size of the step (positive: forwards) when the
    /// watched clock moved by more than the reference allows since the previous reading.
    /// `extra_slack_nanos` widens the tolerance for this reading alone (how long the two
    /// reads took, say).
    pub fn step(
        &mut self,
        local_nanos: i64,
        reference_nanos: i64,
        extra_slack_nanos: i64,
    ) -> Option<i64> {
        let last = self.last.replace((local_nanos, reference_nanos))?;
        self.step_since(last, (local_nanos, reference_nanos), extra_slack_nanos)
    }

    /// The size of the step (positive: forwards) when the watched clock moved by more than
    /// the reference allows between two readings of both, `(local, reference)`, or `None`;
    /// the detector's own last reading is neither used nor changed.
    pub fn step_since(
        &self,
        (then_local, then_reference): (i64, i64),
        (local_nanos, reference_nanos): (i64, i64),
        extra_slack_nanos: i64,
    ) -> Option<i64> {
        let elapsed = reference_nanos.saturating_sub(then_reference);
        let moved = local_nanos.saturating_sub(then_local);
        let tolerance = drift_growth(elapsed.abs(), self.slew_ppb)
            .saturating_add(self.slack_nanos)
            .saturating_add(extra_slack_nanos.max(0));
        let step = moved.saturating_sub(elapsed);
        (step.saturating_abs() > tolerance).then_some(step)
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

    #[test]
    fn the_step_is_measured_and_the_extra_slack_widens_one_reading() {
        let mut detector = StepDetector::new(0, 1_000_000);
        assert_eq!(detector.step(100 * SECOND, 5 * SECOND, 0), None);
        assert_eq!(detector.step(103 * SECOND, 6 * SECOND, 0), Some(2 * SECOND));
        // 1.5 ms off: a step, unless the reads took 1 ms.
        assert_eq!(
            detector.step(104 * SECOND + 1_500_000, 7 * SECOND, 1_000_000),
            None
        );
        assert_eq!(
            detector.step(105 * SECOND + 3_000_000, 8 * SECOND, 0),
            Some(1_500_000)
        );
    }
}
