//! The hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks", OPODIS 2014).
//!
//! The whole state is one packed [`Timestamp`] in one `AtomicU64`, so stamping is a clock read
//! and a compare-and-swap loop: no lock, no allocation. Both rules of the paper reduce to one
//! formula on the packed integer, because "same physical part, logical + 1" and "carry into
//! the physical part" are both just `+ 1`:
//!
//! - send or local event: `new = max(physical << 12, last + 1)`
//! - receive event:       `new = max(physical << 12, last + 1, remote + 1)`

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{PhysicalClock, SystemClock};
use crate::events::{Counters, HlcEvent, HlcObserver, HlcStats};
use crate::persist::UpperBoundStore;
use crate::sync::{AtomicBool, AtomicU64, Mutex, Ordering};
use crate::timestamp::{LOGICAL_BITS, MAX_LOGICAL, MAX_PHYSICAL_MICROS};
use crate::{NodeId, NodeTimestamp, Timestamp, UpdateError};

mod builder;
#[cfg(test)]
mod tests;

pub use builder::HlcBuilder;

/// The default max offset, the same as CockroachDB's and uhlc's: every other default of the
/// workspace that depends on max offset derives from this one.
pub const DEFAULT_MAX_OFFSET: Duration = Duration::from_millis(500);
/// The default backward-jump threshold, counted beyond the max offset.
pub const DEFAULT_BACKWARD_JUMP_THRESHOLD: Duration = Duration::from_secs(1);

/// A lock-free hybrid logical clock.
///
/// Timestamps from [`now`](Self::now) and [`update`](Self::update) are unique and strictly
/// increasing across all threads sharing the clock (share it through `Arc` or `&`), and stay
/// within a few microseconds of the physical clock unless a remote clock pulls them ahead
/// (by at most the max offset).
///
/// ```
/// use hlc_core::Hlc;
///
/// let hlc = Hlc::new();
/// let a = hlc.now();
/// let b = hlc.now();
/// assert!(a < b);
/// ```
pub struct Hlc<C = SystemClock> {
    pub(super) state: CacheLine<AtomicU64>,
    pub(super) clock: C,
    pub(super) node: NodeId,
    pub(super) max_offset: Duration,
    pub(super) max_offset_micros: u64,
    /// How far the HLC may lead the physical clock before that counts as a backward jump.
    pub(super) backward_slack_micros: u64,
    /// `u64::MAX` when forward leaps are not reported.
    pub(super) forward_leap_micros: u64,
    /// The state the clock was built with: zero, or the restart floor above a stored bound.
    /// It is no stamp, so the step from it to the first stamp is no leap.
    pub(super) start: u64,
    /// Set while a backward jump is in progress, so that it is reported once.
    pub(super) behind: AtomicBool,
    /// Physical part up to which stamps are covered by the persisted bound; `u64::MAX` when
    /// nothing is persisted.
    pub(super) persisted_bound: AtomicU64,
    pub(super) persistence: Option<Persistence>,
    pub(super) counters: Counters,
    pub(super) observer: Option<Arc<dyn HlcObserver>>,
}

/// Keeps the contended state word off the cache lines of the read-only configuration
/// (128 bytes: adjacent-line prefetch pairs 64-byte lines on x86).
#[repr(align(128))]
pub(super) struct CacheLine<T>(pub(super) T);

pub(super) struct Persistence {
    pub(super) store: Box<dyn UpperBoundStore>,
    pub(super) window_micros: u64,
    pub(super) lock: Mutex<()>,
}

#[cfg(any(test, feature = "test-util"))]
impl crate::ManualClock {
    /// An [`Hlc`] on this clock with node id `node` and the default settings: the fixture
    /// every crate's tests, examples and fuzz targets build their nodes from (feature
    /// `test-util`). The clock stays shared: moving this `ManualClock` moves the HLC's.
    ///
    /// ```
    /// use hlc_core::{ManualClock, NodeId};
    ///
    /// let clock = ManualClock::new(1_700_000_000_000_000);
    /// let hlc = clock.hlc(NodeId::new(7));
    /// assert_eq!(hlc.now().physical_micros(), 1_700_000_000_000_000);
    /// ```
    pub fn hlc(&self, node: NodeId) -> Hlc<crate::ManualClock> {
        HlcBuilder::new()
            .clock(self.clone())
            .node_id(node)
            .assemble(None)
    }
}

impl Hlc<SystemClock> {
    /// A clock on the system clock with a random node id and the default max offset.
    pub fn new() -> Self {
        Self::with_clock(SystemClock)
    }

    /// A builder for node id, max offset, physical clock, observer and persistence.
    pub fn builder() -> HlcBuilder<SystemClock> {
        HlcBuilder::new()
    }
}

impl Default for Hlc<SystemClock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: PhysicalClock> Hlc<C> {
    /// A clock on `clock` with a random node id and the default settings.
    pub fn with_clock(clock: C) -> Self {
        HlcBuilder::new().clock(clock).assemble(None)
    }

    /// Stamps a local or send event: a timestamp greater than every one this clock issued
    /// before. Never fails and never blocks (but for the rare write of a persisted bound, when
    /// one is configured).
    #[inline]
    pub fn now(&self) -> Timestamp {
        let physical = self.read_physical();
        Timestamp::from_u64(self.advance(physical << LOGICAL_BITS, physical))
    }

    /// [`now`](Self::now) paired with this clock's node id.
    #[inline]
    pub fn now_with_node(&self) -> NodeTimestamp {
        NodeTimestamp::new(self.now(), self.node)
    }

    /// Merges a remote timestamp (a receive event) and stamps it: the result is greater than
    /// `remote` and than every timestamp this clock issued before.
    ///
    /// # Errors
    /// [`UpdateError::TooFarAhead`] when the remote physical time is more than the max offset
    /// ahead of the local physical clock (exactly at the bound is accepted). The clock is left
    /// untouched.
    #[inline]
    pub fn update(&self, remote: Timestamp) -> Result<Timestamp, UpdateError> {
        let physical = self.read_physical();
        if remote.physical_micros() > physical.saturating_add(self.max_offset_micros) {
            return Err(self.refuse(remote, physical));
        }
        let floor = (physical << LOGICAL_BITS).max(remote.as_u64().saturating_add(1));
        Ok(Timestamp::from_u64(self.advance(floor, physical)))
    }

    /// The last timestamp issued (or the restart floor), without advancing the clock.
    pub fn last(&self) -> Timestamp {
        Timestamp::from_u64(self.state.0.load(Ordering::Relaxed))
    }

    /// This clock's node id.
    pub fn node_id(&self) -> NodeId {
        self.node
    }

    /// How far ahead of the local physical clock a remote timestamp may be.
    pub fn max_offset(&self) -> Duration {
        self.max_offset
    }

    /// The physical clock this HLC reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The counters since the clock was built.
    pub fn stats(&self) -> HlcStats {
        self.counters.snapshot()
    }

    #[inline]
    fn read_physical(&self) -> u64 {
        self.clock.now_micros().min(MAX_PHYSICAL_MICROS)
    }

    /// Moves the state to `max(floor, state + 1)` and returns the new state.
    #[inline]
    fn advance(&self, floor: u64, physical: u64) -> u64 {
        // Relaxed suffices: the clock publishes no other memory through this word, and the
        // modification order of a single atomic already makes every successful CAS see the
        // latest value, so results are unique and increasing. Causality across threads comes
        // from however the timestamp itself travels (a channel, a socket), which orders it.
        let mut old = self.state.0.load(Ordering::Relaxed);
        loop {
            // Saturates only at Timestamp::MAX, in the year 2112.
            let new = floor.max(old.saturating_add(1));
            match self
                .state
                .0
                .compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.after_advance(old, new, physical);
                    return new;
                }
                Err(seen) => old = seen,
            }
        }
    }

    /// Bookkeeping after a stamp: each check is one comparison unless something rare happened.
    #[inline]
    fn after_advance(&self, old: u64, new: u64, physical: u64) {
        let new_physical = new >> LOGICAL_BITS;
        if new_physical > physical {
            if new & u64::from(MAX_LOGICAL) == 0 {
                self.note_carry();
            }
            if new_physical - physical > self.backward_slack_micros {
                self.note_behind(new, physical);
            }
        } else {
            if self.behind.load(Ordering::Relaxed) {
                self.behind.store(false, Ordering::Relaxed);
            }
            let old_physical = old >> LOGICAL_BITS;
            if physical - old_physical > self.forward_leap_micros && old != self.start {
                self.note_leap(old, physical);
            }
        }
        // Acquire pairs with the Release that publishes a bound after its durable write: a
        // stamp handed out under a bound is ordered after the write (loom finds it otherwise).
        if new_physical > self.persisted_bound.load(Ordering::Acquire) {
            self.extend_persisted_bound(new_physical);
        }
    }

    #[cold]
    #[inline(never)]
    fn refuse(&self, remote: Timestamp, physical: u64) -> UpdateError {
        Counters::bump(&self.counters.refused);
        let local = Timestamp::from_physical_micros(physical);
        let max_offset = self.max_offset;
        self.emit(&HlcEvent::Refused {
            remote,
            local,
            max_offset,
        });
        UpdateError::TooFarAhead {
            remote,
            local,
            max_offset,
        }
    }

    #[cold]
    #[inline(never)]
    fn note_carry(&self) {
        Counters::bump(&self.counters.carries);
    }

    #[cold]
    #[inline(never)]
    fn note_behind(&self, new: u64, physical: u64) {
        if !self.behind.swap(true, Ordering::Relaxed) {
            Counters::bump(&self.counters.backward_jumps);
            self.emit(&HlcEvent::BackwardJump {
                hlc: Timestamp::from_u64(new),
                physical: Timestamp::from_physical_micros(physical),
            });
        }
    }

    #[cold]
    #[inline(never)]
    fn note_leap(&self, old: u64, physical: u64) {
        Counters::bump(&self.counters.forward_leaps);
        self.emit(&HlcEvent::ForwardLeap {
            from: Timestamp::from_u64(old),
            to: Timestamp::from_physical_micros(physical),
        });
    }

    /// Persists a bound beyond `stamp_physical` before the stamp is handed out.
    #[cold]
    #[inline(never)]
    fn extend_persisted_bound(&self, stamp_physical: u64) {
        let Some(persistence) = &self.persistence else {
            return;
        };
        // The lock orders this thread after whichever one persisted last, so the re-check
        // sees its bound (Relaxed will do).
        let _guard = persistence.lock.lock().unwrap_or_else(|e| e.into_inner());
        if stamp_physical <= self.persisted_bound.load(Ordering::Relaxed) {
            return;
        }
        let bound = stamp_physical.saturating_add(persistence.window_micros);
        if let Err(error) = persistence.store.store(bound) {
            // Retry one window later rather than on every stamp; the event says the
            // guarantee lapsed meanwhile.
            Counters::bump(&self.counters.persist_failures);
            self.emit(&HlcEvent::PersistFailed { error: &error });
        }
        // Only now: other threads hand out every stamp up to the published bound at once.
        self.persisted_bound.store(bound, Ordering::Release);
    }

    fn emit(&self, event: &HlcEvent<'_>) {
        #[cfg(feature = "tracing")]
        tracing::warn!(node = %self.node, ?event, "hybrid logical clock event");
        if let Some(observer) = &self.observer {
            observer.on_event(event);
        }
    }
}

impl<C> fmt::Debug for Hlc<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hlc")
            .field("node", &self.node)
            .field(
                "last",
                &Timestamp::from_u64(self.state.0.load(Ordering::Relaxed)),
            )
            .field("max_offset", &self.max_offset)
            .field("persisted", &self.persistence.is_some())
            .finish_non_exhaustive()
    }
}

pub(super) fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
