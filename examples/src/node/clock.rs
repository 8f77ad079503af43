//! A physical clock with a simulated skew, so that one machine can play a badly set one.

use std::sync::Arc;

use hlc_core::{PhysicalClock, SystemClock};

/// The clock a node stamps with: its [`OffsetClock`], or that clock corrected through NTP.
pub type NodeClock = Arc<dyn PhysicalClock>;

/// The system clock shifted by a fixed number of microseconds (either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetClock {
    offset_micros: i64,
}

impl OffsetClock {
    /// The system clock plus `offset_ms` milliseconds (negative: behind).
    pub fn from_millis(offset_ms: i64) -> Self {
        Self {
            offset_micros: offset_ms.saturating_mul(1_000),
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

impl PhysicalClock for OffsetClock {
    fn now_micros(&self) -> u64 {
        self.shift(SystemClock.now_micros())
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
