//! A physical clock with a simulated skew, so that one machine can play a badly set one, and
//! a step that can be applied at run time, as an administrator stepping a real clock would.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use hlc_core::{PhysicalClock, SystemClock};

/// The clock a node stamps with: its [`OffsetClock`], or that clock corrected through NTP.
pub type NodeClock = Arc<dyn PhysicalClock>;

/// A clock (the system clock unless told otherwise) shifted by a fixed number of
/// microseconds, either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetClock<C = SystemClock> {
    offset_micros: i64,
    base: C,
}

impl OffsetClock {
    /// The system clock plus `offset_ms` milliseconds (negative: behind).
    pub fn from_millis(offset_ms: i64) -> Self {
        Self {
            offset_micros: offset_ms.saturating_mul(1_000),
            base: SystemClock,
        }
    }
}

impl<C> OffsetClock<C> {
    /// The same offset over `base` instead.
    pub fn over<D>(self, base: D) -> OffsetClock<D> {
        OffsetClock {
            offset_micros: self.offset_micros,
            base,
        }
    }

    /// The simulated skew in microseconds.
    pub fn offset_micros(&self) -> i64 {
        self.offset_micros
    }

    /// `micros` shifted by the offset, saturating at the epoch and at `u64::MAX`.
    fn shift(&self, micros: u64) -> u64 {
        micros.saturating_add_signed(self.offset_micros)
    }
}

impl<C: PhysicalClock> PhysicalClock for OffsetClock<C> {
    fn now_micros(&self) -> u64 {
        self.shift(self.base.now_micros())
    }

    fn resolution(&self) -> std::time::Duration {
        self.base.resolution()
    }
}

/// A handle that steps a [`SteppedClock`] at run time (`POST /admin/step` with
/// `--chaos-admin`). Clones step the same clock.
#[derive(Debug, Clone, Default)]
pub struct ClockStep(Arc<AtomicI64>);

impl ClockStep {
    /// Steps the clock by `ms` milliseconds (negative: back); returns the total step so far, in
    /// milliseconds.
    pub fn step_millis(&self, ms: i64) -> i64 {
        let micros = ms.saturating_mul(1_000);
        let before = self.0.fetch_add(micros, Ordering::Relaxed);
        before.saturating_add(micros) / 1_000
    }

    /// The total step so far, in microseconds.
    pub fn micros(&self) -> i64 {
        // Relaxed: the step is a value of its own; no other memory is published with it.
        self.0.load(Ordering::Relaxed)
    }
}

/// A clock plus the total of the steps applied through its [`ClockStep`]: beneath ntp-sync's
/// correction, so that ntp-sync sees the step as it would see a real clock stepped.
#[derive(Debug, Clone)]
pub struct SteppedClock<C> {
    base: C,
    step: ClockStep,
}

impl<C> SteppedClock<C> {
    /// `base`, stepped by whatever `step` is told.
    pub fn new(base: C, step: ClockStep) -> Self {
        Self { base, step }
    }
}

impl<C: PhysicalClock> PhysicalClock for SteppedClock<C> {
    fn now_micros(&self) -> u64 {
        self.base
            .now_micros()
            .saturating_add_signed(self.step.micros())
    }

    fn resolution(&self) -> std::time::Duration {
        self.base.resolution()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_moves_the_clock_at_once_and_adds_up() {
        let manual = hlc_core::ManualClock::new(10_000_000);
        let step = ClockStep::default();
        let clock = SteppedClock::new(manual.clone(), step.clone());
        assert_eq!(clock.now_micros(), 10_000_000);
        assert_eq!(step.step_millis(2_000), 2_000);
        assert_eq!(clock.now_micros(), 12_000_000);
        assert_eq!(step.step_millis(-500), 1_500);
        assert_eq!(clock.now_micros(), 11_500_000);
        assert_eq!(step.micros(), 1_500_000);
    }

    #[test]
    fn the_offset_shifts_both_ways_and_saturates() {
        assert_eq!(OffsetClock::from_millis(2).shift(1_000), 3_000);
        assert_eq!(OffsetClock::from_millis(-2).shift(1_000), 0);
        assert_eq!(OffsetClock::from_millis(0).shift(7), 7);
        assert_eq!(OffsetClock::from_millis(i64::MAX).offset_micros(), i64::MAX);
    }
}
