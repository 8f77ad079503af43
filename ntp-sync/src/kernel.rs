//! The host kernel's view of its own clock: one read-only `adjtimex(2)` call, turned into a
//! bound on true time by [`proto::kernel`](crate::proto::kernel).
//!
//! Many hosts run chronyd or ntpd, which hand the kernel their error figures after every
//! update; the kernel keeps them growing in between. Reading them costs one system call and
//! needs no privilege. The read never changes anything: the request carries `modes = 0`
//! (`man 2 adjtimex`: "If modes is zero, no settings are adjusted"), built in one place and
//! checked by a test.
//!
//! ```
//! let view = ntp_sync::kernel::read();
//! // On a host no daemon disciplines, the kernel says so and there is no bound.
//! if let Ok(view) = view {
//!     println!("{:?}", view.interval().status);
//! }
//! ```

use hlc_core::PhysicalClock;

use crate::proto::estimate::Estimate;
pub use crate::proto::kernel::{KernelBound, KernelReading, KernelView, Unsynchronised};

/// The kernel's figures could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// The call failed.
    #[error("cannot read the kernel's clock figures: {0}")]
    Os(#[from] std::io::Error),
    /// This platform has no `adjtimex`.
    #[error("reading the kernel's clock figures needs linux")]
    Unsupported,
}

/// One read of the kernel, between two readings of a local clock.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LocalRead {
    /// What the kernel said.
    pub view: KernelView,
    /// The local clock just before the call, nanoseconds since the Unix epoch.
    pub before_nanos: i64,
    /// The local clock just after it.
    pub after_nanos: i64,
}

impl LocalRead {
    /// The kernel's bound relative to the local clock; see [`KernelView::estimate`].
    pub fn estimate(&self) -> Option<Estimate> {
        self.view.estimate(self.before_nanos, self.after_nanos)
    }
}

/// Reads the kernel's figures once.
///
/// # Errors
///
/// [`KernelError`] when the call fails or the platform has none.
pub fn read() -> Result<KernelView, KernelError> {
    Ok(read_figures()?.view())
}

/// Reads the kernel's figures once, between two readings of `clock`, to carry the bound
/// (which is on `CLOCK_REALTIME`) over to that clock.
///
/// # Errors
///
/// [`KernelError`] when the call fails or the platform has none.
pub fn read_with(clock: &dyn PhysicalClock) -> Result<LocalRead, KernelError> {
    let before_nanos = crate::readings::local_nanos(clock);
    let figures = read_figures();
    let after_nanos = crate::readings::local_nanos(clock);
    Ok(LocalRead {
        view: figures?.view(),
        before_nanos,
        after_nanos,
    })
}

/// The request of a read: every field zero, above all `modes`, so that nothing is set.
#[cfg(target_os = "linux")]
fn read_request() -> libc::timex {
    // SAFETY: `timex` is plain integers (and padding): all zeroes is a valid value.
    #[allow(unsafe_code)]
    let request: libc::timex = unsafe { std::mem::zeroed() };
    request
}

/// One `adjtimex` call with the zeroed request of [`read_request`]. `libc`'s binding is the
/// only one: rustix has none.
#[cfg(target_os = "linux")]
// `c_long` is `i64` on 64-bit targets only: the conversions are needed on 32-bit ones.
#[allow(clippy::useless_conversion)]
fn read_figures() -> Result<KernelReading, KernelError> {
    let mut timex = read_request();
    debug_assert_eq!(timex.modes, 0);
    // SAFETY: `timex` is a valid, exclusively borrowed `struct timex` for the whole call, and
    // with `modes == 0` the kernel only writes its figures into it.
    #[allow(unsafe_code)]
    let state = unsafe { libc::adjtimex(&mut timex) };
    if state == -1 {
        return Err(std::io::Error::last_os_error().into());
    }
    let nano = timex.status & libc::STA_NANO != 0;
    let sub_second = i64::from(timex.time.tv_usec);
    let sub_second_nanos = if nano { sub_second } else { sub_second * 1_000 };
    Ok(KernelReading {
        state,
        status: timex.status,
        maxerror_micros: i64::from(timex.maxerror),
        esterror_micros: i64::from(timex.esterror),
        offset: i64::from(timex.offset),
        freq: i64::from(timex.freq),
        time_nanos: i64::from(timex.time.tv_sec)
            .saturating_mul(1_000_000_000)
            .saturating_add(sub_second_nanos),
    })
}

#[cfg(not(target_os = "linux"))]
fn read_figures() -> Result<KernelReading, KernelError> {
    Err(KernelError::Unsupported)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::proto::kernel::{STA_CLOCKERR, STA_NANO, STA_UNSYNC, TIME_ERROR};
    use rustix::time::{clock_gettime, ClockId};

    #[test]
    fn the_request_sets_nothing() {
        let request = read_request();
        assert_eq!(request.modes, 0);
        assert_eq!((request.offset, request.freq, request.status), (0, 0, 0));
    }

    #[test]
    fn the_status_bits_are_the_kernels() {
        assert_eq!(STA_UNSYNC, libc::STA_UNSYNC);
        assert_eq!(STA_CLOCKERR, libc::STA_CLOCKERR);
        assert_eq!(STA_NANO, libc::STA_NANO);
        assert_eq!(TIME_ERROR, libc::TIME_ERROR);
    }

    fn realtime_nanos() -> i64 {
        let ts = clock_gettime(ClockId::Realtime);
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    }

    /// Holds on any machine: an unsynchronised kernel must give no bound; a synchronised one
    /// a bound around `CLOCK_REALTIME` that is at least its own `maxerror` wide on each side.
    #[test]
    fn the_real_read_is_consistent_with_its_own_figures() {
        let before = realtime_nanos();
        let view = read().unwrap();
        let after = realtime_nanos();
        let reading = view.reading;
        // The kernel's reading of CLOCK_REALTIME is taken during the call.
        assert!(before / 1_000 * 1_000 <= reading.time_nanos && reading.time_nanos <= after);
        let unsynchronised = reading.status & (STA_UNSYNC | STA_CLOCKERR) != 0
            || reading.state == TIME_ERROR
            || reading.maxerror_micros >= 16_000_000;
        match view.bound {
            KernelBound::Unsynchronised(_) => {
                assert!(unsynchronised, "{reading:?}");
                assert_eq!(view.interval(), crate::TimeInterval::unbounded());
            }
            KernelBound::Bounded {
                earliest_nanos,
                latest_nanos,
            } => {
                assert!(!unsynchronised, "{reading:?}");
                let error = reading.maxerror_micros * 1_000;
                assert!(earliest_nanos <= reading.time_nanos - error);
                assert!(latest_nanos >= reading.time_nanos + error);
            }
        }
    }

    #[test]
    fn a_read_with_a_local_clock_brackets_the_call() {
        let read = read_with(&crate::SteadyClock).unwrap();
        assert!(read.before_nanos <= read.after_nanos);
        assert_eq!(
            read.estimate().is_some(),
            read.view.reading.unsynchronised().is_none()
        );
    }
}
