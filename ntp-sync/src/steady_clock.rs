//! The clock the bound is kept on: the machine's oscillator as `CLOCK_MONOTONIC_RAW` counts
//! it, which no time daemon steps or slews, shifted once to read Unix time.

use std::sync::OnceLock;

use hlc_core::PhysicalClock;
use rustix::time::{clock_gettime, ClockId, Timespec};

/// A [`PhysicalClock`] that counts `CLOCK_MONOTONIC_RAW` from the Unix time this process first
/// read it at: the default local clock of an [`NtpClient`](crate::NtpClient).
///
/// The system clock (`CLOCK_REALTIME`) is what other programs steer: an administrator or a
/// host daemon's `makestep` steps it, and chronyd slews it by up to 83 333 ppm by default.
/// A bound kept on it would be wrong between two polls by whatever moved it. The raw
/// monotonic clock runs at the oscillator's own rate, which only the drift bound has to cover
/// (RFC 5905's PHI is a tolerance for exactly this), so an estimate kept on it stays
/// true however the system clock is moved. Every `SteadyClock` in a process shares one shift,
/// taken from the system clock at the first read: they all read the same time.
///
/// It does not count time the machine spends suspended (neither does `CLOCK_MONOTONIC`):
/// the client's [watchdog](crate::proto::watchdog) notices a suspend and withdraws the
/// estimate until it has resynchronised.
///
/// ```
/// use hlc_core::{PhysicalClock, SystemClock};
/// use ntp_sync::SteadyClock;
///
/// let steady = SteadyClock.now_micros();
/// let system = SystemClock.now_micros();
/// // One shift, taken when the process first read it: the two agree closely until somebody
/// // moves the system clock.
/// assert!(steady.abs_diff(system) < 60_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SteadyClock;

impl SteadyClock {
    /// Nanoseconds since the Unix epoch on this clock.
    #[inline]
    pub fn now_nanos(self) -> i64 {
        nanos(clock_gettime(ClockId::MonotonicRaw)).saturating_add(shift_nanos())
    }
}

/// Unix time minus raw monotonic time, read once per process.
fn shift_nanos() -> i64 {
    static SHIFT: OnceLock<i64> = OnceLock::new();
    *SHIFT.get_or_init(|| {
        let raw = nanos(clock_gettime(ClockId::MonotonicRaw));
        let unix = nanos(clock_gettime(ClockId::Realtime));
        unix.saturating_sub(raw)
    })
}

fn nanos(ts: Timespec) -> i64 {
    ts.tv_sec
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec)
}

impl PhysicalClock for SteadyClock {
    #[inline]
    fn now_micros(&self) -> u64 {
        u64::try_from(self.now_nanos() / 1_000).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_never_goes_backwards_and_every_read_shares_one_timescale() {
        let mut last = SteadyClock.now_nanos();
        for _ in 0..10_000 {
            let now = SteadyClock.now_nanos();
            assert!(now >= last);
            last = now;
        }
        // Two inline reads bracket one through a trait object, on another thread.
        let before = SteadyClock.now_micros();
        let shared: std::sync::Arc<dyn PhysicalClock> = std::sync::Arc::new(SteadyClock);
        let other = std::thread::spawn(move || shared.now_micros())
            .join()
            .unwrap();
        let after = SteadyClock.now_micros();
        assert!(before <= other && other <= after);
    }
}
