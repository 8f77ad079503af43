//! Clock readings in the nanoseconds the protocol counts in.

use std::time::Duration;

use hlc_core::PhysicalClock;

/// Local time in nanoseconds since the Unix epoch.
pub(crate) fn local_nanos(clock: &dyn PhysicalClock) -> i64 {
    i64::try_from(clock.now_micros())
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000)
}

/// A duration in nanoseconds, saturating (after 292 years).
pub(crate) fn duration_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}
