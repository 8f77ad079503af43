//! A physical clock with a simulated skew, so that one machine can play a badly set one.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_shifts_both_ways_and_saturates() {
        assert_eq!(OffsetClock::from_millis(2).shift(1_000), 3_000);
        assert_eq!(OffsetClock::from_millis(-2).shift(1_000), 0);
        assert_eq!(OffsetClock::from_millis(0).shift(7), 7);
        assert_eq!(OffsetClock::from_millis(i64::MAX).offset_micros(), i64::MAX);
    }
}
