//! Clock readings in the nanoseconds the protocol counts in. The kernel read needs only the
//! local clock; the rest serves the tokio shell's sockets.

#[cfg(feature = "tokio")]
use std::time::Duration;

use hlc_core::PhysicalClock;
#[cfg(feature = "tokio")]
use rustix::time::{clock_gettime, ClockId, Timespec};

#[cfg(feature = "tokio")]
use crate::proto::kernel_stamp::ClockReadings;

/// Local time in nanoseconds since the Unix epoch.
pub(crate) fn local_nanos(clock: &dyn PhysicalClock) -> i64 {
    i64::try_from(clock.now_micros())
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000)
}

#[cfg(feature = "tokio")]
/// A duration in nanoseconds, saturating (after 292 years).
pub(crate) fn duration_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(feature = "tokio")]
/// The realtime clock, the local clock and the monotonic clock read together, between two
/// reads of the realtime clock (the order [`ClockReadings`] describes): what a kernel
/// timestamp is carried onto the local clock with.
pub(crate) fn read_clocks(clock: &dyn PhysicalClock) -> ClockReadings {
    let realtime_before = realtime_nanos();
    let local = local_nanos(clock);
    let monotonic = timespec_nanos(clock_gettime(ClockId::Monotonic));
    ClockReadings {
        realtime_before,
        local,
        monotonic,
        realtime_after: realtime_nanos(),
    }
}

#[cfg(feature = "tokio")]
/// `CLOCK_REALTIME` in nanoseconds since the Unix epoch: the clock the kernel stamps
/// datagrams with.
pub(crate) fn realtime_nanos() -> i64 {
    timespec_nanos(clock_gettime(ClockId::Realtime))
}

#[cfg(feature = "tokio")]
fn timespec_nanos(time: Timespec) -> i64 {
    time.tv_sec
        .saturating_mul(1_000_000_000)
        .saturating_add(time.tv_nsec)
}

#[cfg(feature = "tokio")]
#[cfg(test)]
mod tests {
    use hlc_core::SystemClock;

    use super::*;

    #[test]
    fn readings_of_the_system_clock_lie_between_the_realtime_reads() {
        let readings = read_clocks(&SystemClock);
        // The local reading is truncated to the microsecond.
        assert!(readings.realtime_before - 1_000 < readings.local);
        assert!(readings.local <= readings.realtime_after);
        assert!(readings.realtime_before <= readings.realtime_after);
        assert!(readings.monotonic > 0);
    }
}
