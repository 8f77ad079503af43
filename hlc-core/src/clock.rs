//! Physical clocks: where an [`Hlc`](crate::Hlc) reads wall-clock time.
//!
//! This module is the only place in the crate that reads the operating system's clock.

use std::sync::Arc;
use std::time::Duration;

use rustix::time::{clock_getres, clock_gettime, ClockId, Timespec};

use crate::sync::unmodelled::{AtomicU64, Ordering};

/// The resolution a clock reports unless it says otherwise: one microsecond, the unit of
/// [`PhysicalClock::now_micros`].
const MICROSECOND: Duration = Duration::from_micros(1);

/// A source of wall-clock time in microseconds since the Unix epoch.
///
/// Implementations must be cheap and must not block: the clock is read on every stamp.
/// They may go backwards (an NTP step, a manual change); the HLC stays monotonic regardless.
pub trait PhysicalClock: Send + Sync {
    /// Microseconds since 1970-01-01T00:00:00Z (0 for any time before it).
    fn now_micros(&self) -> u64;

    /// How far a reading lags the time it stands for when the clock is updated on time: a
    /// reading `r` means the clock was in `[r, r + resolution)` when it was read. One
    /// microsecond unless the clock ticks coarser (a kernel tick, a cache refreshed by a
    /// timer). Anything that turns readings into bounds (ntp-sync's interval, for one) widens
    /// them by this much.
    ///
    /// For a clock updated by a tick or a thread this is nominal: on a loaded machine, or a
    /// virtual machine whose host is busy, a tick or a refresh comes late and the reading lags
    /// further (seen here: 4.6 ms behind a 4 ms tick). A bound that must hold under load reads
    /// a precise clock.
    fn resolution(&self) -> Duration {
        MICROSECOND
    }
}

impl<C: PhysicalClock + ?Sized> PhysicalClock for &C {
    fn now_micros(&self) -> u64 {
        (**self).now_micros()
    }

    fn resolution(&self) -> Duration {
        (**self).resolution()
    }
}

impl<C: PhysicalClock + ?Sized> PhysicalClock for Arc<C> {
    fn now_micros(&self) -> u64 {
        (**self).now_micros()
    }

    fn resolution(&self) -> Duration {
        (**self).resolution()
    }
}

impl<C: PhysicalClock + ?Sized> PhysicalClock for Box<C> {
    fn now_micros(&self) -> u64 {
        (**self).now_micros()
    }

    fn resolution(&self) -> Duration {
        (**self).resolution()
    }
}

/// The precise system clock, `CLOCK_REALTIME`.
///
/// Read through the vDSO without `SystemTime` arithmetic: about 23 ns here, where going through
/// `SystemTime::now().duration_since(UNIX_EPOCH)` adds about 10 ns more.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl PhysicalClock for SystemClock {
    #[inline]
    fn now_micros(&self) -> u64 {
        micros(clock_gettime(ClockId::Realtime))
    }
}

/// The coarse system clock, `CLOCK_REALTIME_COARSE`: the time of the last kernel tick.
///
/// About three times cheaper to read than [`SystemClock`] but only as fine as the kernel tick
/// (4 ms on these machines with `HZ=250`): stamps lag true time by up to one tick, and all
/// stamps within a tick share a physical part and differ in the logical counter. With 12
/// logical bits per microsecond, a burst of more than 4096 stamps in one tick carries into the
/// physical part, which then runs ahead by a few microseconds until the next tick.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoarseClock;

impl PhysicalClock for CoarseClock {
    #[inline]
    fn now_micros(&self) -> u64 {
        micros(clock_gettime(ClockId::RealtimeCoarse))
    }

    /// The kernel tick, as `clock_getres(CLOCK_REALTIME_COARSE)` reports it (nominal: a late
    /// tick makes the clock lag further).
    fn resolution(&self) -> Duration {
        let tick = clock_getres(ClockId::RealtimeCoarse);
        let nanos = u64::try_from(tick.tv_nsec).unwrap_or(0);
        let secs = u64::try_from(tick.tv_sec).unwrap_or(0);
        (Duration::from_secs(secs) + Duration::from_nanos(nanos)).max(MICROSECOND)
    }
}

fn micros(ts: Timespec) -> u64 {
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let sub_micros = u64::try_from(ts.tv_nsec).unwrap_or(0) / 1_000;
    secs.saturating_mul(1_000_000).saturating_add(sub_micros)
}

/// A clock cached in one atomic word that a background thread refreshes: a read is a single
/// relaxed load, for stamping in a few nanoseconds.
///
/// Accuracy is what it costs: the cached time lags its source by up to the refresh interval
/// (plus scheduling delay when the machine is loaded), so stamps lag real time by as much and
/// other nodes see this node's clock that much behind. Pick an interval well below your
/// max offset; 1 ms is a sound default. The thread wakes once per interval and stops by itself
/// when the last clone of the clock is dropped.
///
/// ```
/// use std::time::Duration;
/// use hlc_core::{CachedClock, PhysicalClock, SystemClock};
///
/// let clock = CachedClock::spawn(SystemClock, Duration::from_millis(1));
/// assert!(clock.now_micros() > 0);
/// ```
#[derive(Debug, Clone)]
pub struct CachedClock {
    shared: Arc<CachedState>,
}

#[derive(Debug)]
struct CachedState {
    micros: AtomicU64,
    /// The refresh interval plus the source's own resolution.
    resolution: Duration,
}

impl CachedClock {
    /// Caches `source`, refreshed every `interval` by a background thread named
    /// `hlc-cached-clock`. Its [`resolution`](PhysicalClock::resolution) is `interval` plus
    /// the source's: what a reading may lag when the thread runs on time.
    pub fn spawn<C: PhysicalClock + 'static>(source: C, interval: Duration) -> Self {
        let (clock, refresher) = Self::unspawned(source, interval);
        // If the thread cannot be spawned, the cache still holds the time it was built with and
        // the HLC logic keeps every stamp unique; the failure shows as a clock that stands still.
        let _ = std::thread::Builder::new()
            .name("hlc-cached-clock".into())
            .spawn(move || {
                while refresher.refresh() {
                    std::thread::sleep(interval);
                }
            });
        clock
    }

    /// The cache and the refresher that keeps it current, without a thread: the caller decides
    /// when [`CachedClockRefresher::refresh`] runs (an existing timer, or a test), and promises
    /// to run it at least every `interval`, which counts into the clock's resolution.
    pub fn unspawned<C: PhysicalClock + 'static>(
        source: C,
        interval: Duration,
    ) -> (Self, CachedClockRefresher) {
        let shared = Arc::new(CachedState {
            micros: AtomicU64::new(source.now_micros()),
            resolution: interval.saturating_add(source.resolution()),
        });
        let refresher = CachedClockRefresher {
            shared: Arc::downgrade(&shared),
            source: Box::new(source),
        };
        (Self { shared }, refresher)
    }
}

impl PhysicalClock for CachedClock {
    #[inline]
    fn now_micros(&self) -> u64 {
        // Only the value itself is published; nothing else is ordered by it.
        self.shared.micros.load(Ordering::Relaxed)
    }

    fn resolution(&self) -> Duration {
        self.shared.resolution
    }
}

/// Copies the source clock into a [`CachedClock`]; see [`CachedClock::unspawned`].
pub struct CachedClockRefresher {
    shared: std::sync::Weak<CachedState>,
    source: Box<dyn PhysicalClock>,
}

impl std::fmt::Debug for CachedClockRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedClockRefresher")
            .finish_non_exhaustive()
    }
}

impl CachedClockRefresher {
    /// Copies the source's current time into the cache. Returns `false` once every
    /// [`CachedClock`] sharing the cache has been dropped.
    pub fn refresh(&self) -> bool {
        match self.shared.upgrade() {
            Some(shared) => {
                let now = self.source.now_micros();
                shared.micros.store(now, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

#[cfg(any(test, feature = "test-util"))]
pub use manual::ManualClock;

#[cfg(any(test, feature = "test-util"))]
mod manual {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use super::PhysicalClock;
    use crate::sync::{AtomicU64, Ordering};

    /// A clock that moves only when told to: the one manual clock every crate's tests share
    /// (feature `test-util`). Clones share the same time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use hlc_core::{ManualClock, PhysicalClock};
    ///
    /// let clock = ManualClock::new(1_000);
    /// let handle = clock.clone();
    /// handle.advance(Duration::from_micros(5));
    /// assert_eq!(clock.now_micros(), 1_005);
    /// handle.rewind(Duration::from_micros(10));
    /// assert_eq!(clock.now_micros(), 995);
    /// ```
    #[derive(Debug, Clone)]
    pub struct ManualClock {
        micros: Arc<AtomicU64>,
    }

    impl ManualClock {
        /// A clock standing at `micros` since the Unix epoch.
        pub fn new(micros: u64) -> Self {
            Self {
                micros: Arc::new(AtomicU64::new(micros)),
            }
        }

        /// A clock standing at `time` (0 if it is before the epoch).
        pub fn at(time: SystemTime) -> Self {
            let micros = time
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
            Self::new(micros)
        }

        /// Sets the time to `micros` since the epoch, forwards or backwards.
        pub fn set(&self, micros: u64) {
            self.micros.store(micros, Ordering::SeqCst);
        }

        /// Moves the time forwards by `by` (saturating).
        pub fn advance(&self, by: Duration) {
            self.update(|m| m.saturating_add(duration_micros(by)));
        }

        /// Moves the time backwards by `by` (saturating at the epoch), like an NTP step back.
        pub fn rewind(&self, by: Duration) {
            self.update(|m| m.saturating_sub(duration_micros(by)));
        }

        fn update(&self, f: impl Fn(u64) -> u64) {
            let mut current = self.micros.load(Ordering::SeqCst);
            while let Err(seen) = self.micros.compare_exchange(
                current,
                f(current),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                current = seen;
            }
        }
    }

    fn duration_micros(d: Duration) -> u64 {
        u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
    }

    impl PhysicalClock for ManualClock {
        fn now_micros(&self) -> u64 {
            self.micros.load(Ordering::SeqCst)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    fn system_micros() -> u64 {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        u64::try_from(since.as_micros()).unwrap()
    }

    #[test]
    fn system_clock_agrees_with_system_time() {
        let before = system_micros();
        let read = SystemClock.now_micros();
        let after = system_micros();
        assert!(before <= read && read <= after, "{before} {read} {after}");
    }

    #[test]
    fn coarse_clock_never_leads_and_reports_the_kernel_tick() {
        // The coarse reading is the last tick at or before the moment it was read, so it
        // never leads a precise read taken after it, however the machine is loaded. How far
        // it lags has no hard bound (a tick can come late), so only the reported resolution
        // is checked: what the kernel says its tick is.
        let coarse = CoarseClock.now_micros();
        let after = SystemClock.now_micros();
        assert!(coarse <= after, "{coarse} {after}");
        let tick = clock_getres(ClockId::RealtimeCoarse);
        let expected = Duration::new(tick.tv_sec as u64, tick.tv_nsec as u32);
        assert_eq!(CoarseClock.resolution(), expected.max(MICROSECOND));
        assert_eq!(SystemClock.resolution(), MICROSECOND);
    }

    #[test]
    fn cached_clock_follows_its_refresher_and_stops_with_the_last_clone() {
        let source = ManualClock::new(100);
        let (cached, refresher) = CachedClock::unspawned(source.clone(), Duration::from_millis(2));
        assert_eq!(cached.resolution(), Duration::from_micros(2_001));
        source.advance(Duration::from_micros(50));
        assert_eq!(cached.now_micros(), 100);
        assert!(refresher.refresh());
        assert_eq!(cached.now_micros(), 150);
        drop(cached);
        assert!(!refresher.refresh());
    }

    #[test]
    fn negative_timespecs_read_as_the_epoch() {
        assert_eq!(
            micros(Timespec {
                tv_sec: -5,
                tv_nsec: 0
            }),
            0
        );
    }
}
