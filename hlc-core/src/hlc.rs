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
use crate::{BuildError, NodeId, NodeTimestamp, Timestamp, UpdateError};

/// The default max offset: 500 ms, as CockroachDB and uhlc use.
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
    state: CacheLine<AtomicU64>,
    clock: C,
    node: NodeId,
    max_offset: Duration,
    max_offset_micros: u64,
    /// How far the HLC may lead the physical clock before that counts as a backward jump.
    backward_slack_micros: u64,
    /// `u64::MAX` when forward leaps are not reported.
    forward_leap_micros: u64,
    /// Set while a backward jump is in progress, so that it is reported once.
    behind: AtomicBool,
    /// Physical part up to which stamps are covered by the persisted bound; `u64::MAX` when
    /// nothing is persisted.
    persisted_bound: AtomicU64,
    persistence: Option<Persistence>,
    counters: Counters,
    observer: Option<Arc<dyn HlcObserver>>,
}

/// Keeps the contended state word off the cache lines of the read-only configuration
/// (128 bytes: adjacent-line prefetch pairs 64-byte lines on x86).
#[repr(align(128))]
struct CacheLine<T>(T);

struct Persistence {
    store: Box<dyn UpperBoundStore>,
    window_micros: u64,
    lock: Mutex<()>,
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
            if physical - old_physical > self.forward_leap_micros && old != 0 {
                self.note_leap(old, physical);
            }
        }
        if new_physical > self.persisted_bound.load(Ordering::Relaxed) {
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
        // sees its bound.
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
        self.persisted_bound.store(bound, Ordering::Relaxed);
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

/// Configures an [`Hlc`].
///
/// ```
/// use std::time::Duration;
/// use hlc_core::{Hlc, NodeId};
///
/// let hlc = Hlc::builder()
///     .node_id(NodeId::new(7))
///     .max_offset(Duration::from_millis(250))
///     .build()?;
/// assert_eq!(hlc.node_id(), NodeId::new(7));
/// # Ok::<(), hlc_core::BuildError>(())
/// ```
pub struct HlcBuilder<C = SystemClock> {
    clock: C,
    node: Option<NodeId>,
    max_offset: Duration,
    backward_jump_threshold: Duration,
    forward_leap_threshold: Option<Duration>,
    observer: Option<Arc<dyn HlcObserver>>,
    persistence: Option<(Box<dyn UpperBoundStore>, Duration)>,
}

impl HlcBuilder<SystemClock> {
    /// Defaults: system clock, random node id, 500 ms max offset, backward jumps reported past
    /// max offset + 1 s, forward leaps not reported, nothing persisted.
    pub fn new() -> Self {
        Self {
            clock: SystemClock,
            node: None,
            max_offset: DEFAULT_MAX_OFFSET,
            backward_jump_threshold: DEFAULT_BACKWARD_JUMP_THRESHOLD,
            forward_leap_threshold: None,
            observer: None,
            persistence: None,
        }
    }
}

impl Default for HlcBuilder<SystemClock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: PhysicalClock> HlcBuilder<C> {
    /// Reads physical time from `clock` instead.
    pub fn clock<D: PhysicalClock>(self, clock: D) -> HlcBuilder<D> {
        HlcBuilder {
            clock,
            node: self.node,
            max_offset: self.max_offset,
            backward_jump_threshold: self.backward_jump_threshold,
            forward_leap_threshold: self.forward_leap_threshold,
            observer: self.observer,
            persistence: self.persistence,
        }
    }

    /// Sets the node id (default: [`NodeId::random`]).
    pub fn node_id(mut self, node: NodeId) -> Self {
        self.node = Some(node);
        self
    }

    /// Sets how far ahead of the local physical clock a remote timestamp may be (default
    /// 500 ms). Choose it above the worst clock skew you expect between healthy nodes.
    pub fn max_offset(mut self, max_offset: Duration) -> Self {
        self.max_offset = max_offset;
        self
    }

    /// A backward step of the physical clock is reported when the HLC leads the physical
    /// clock by more than max offset plus this threshold (default 1 s). Remote merges can
    /// legitimately put the HLC up to max offset ahead, so smaller steps are indistinguishable
    /// from them and are not reported; the HLC stays monotonic either way.
    pub fn backward_jump_threshold(mut self, threshold: Duration) -> Self {
        self.backward_jump_threshold = threshold;
        self
    }

    /// Reports a forward leap when the physical clock moves ahead by more than `threshold`
    /// between two consecutive stamps (default: not reported). Without a monotonic reference the
    /// clock cannot tell a leap from a pause: an idle clock also reports one, so pick a
    /// threshold longer than the quietest gap between stamps.
    pub fn forward_leap_threshold(mut self, threshold: Duration) -> Self {
        self.forward_leap_threshold = Some(threshold);
        self
    }

    /// Hands refusals, jumps and persistence failures to `observer`.
    pub fn observer(mut self, observer: impl HlcObserver + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Persists an upper bound on issued physical times in `store`, `window` ahead of the
    /// latest stamp, so that the clock stays monotonic across restarts even when the system
    /// clock was set back meanwhile.
    ///
    /// On [`build`](Self::build) the clock does **not wait**: it starts from the stored bound,
    /// so its first stamp is above every stamp issued before the restart. Until the physical
    /// clock passes that bound, stamps lead it by up to `window` (more if the clock was set
    /// back), and peers refuse them if that lead exceeds their max offset: keep `window` well
    /// below max offset (a tenth is a good start). A longer window means fewer writes: one
    /// write per `window` of stamping.
    pub fn persist_upper_bound(
        mut self,
        store: impl UpperBoundStore + 'static,
        window: Duration,
    ) -> Self {
        self.persistence = Some((Box::new(store), window));
        self
    }

    /// Builds the clock. With persistence, loads the stored bound and stores a new one first.
    ///
    /// # Errors
    /// [`BuildError::Persist`] when the store cannot be read or written, and
    /// [`BuildError::ZeroWindow`] for a zero persistence window.
    pub fn build(mut self) -> Result<Hlc<C>, BuildError> {
        let Some((store, window)) = self.persistence.take() else {
            return Ok(self.assemble(None));
        };
        if window.is_zero() {
            return Err(BuildError::ZeroWindow);
        }
        let loaded = store.load()?.unwrap_or(0).min(MAX_PHYSICAL_MICROS);
        let window_micros = duration_micros(window);
        let start = self.clock.now_micros().max(loaded.saturating_add(1));
        let bound = start.saturating_add(window_micros);
        store.store(bound)?;
        let persistence = Persistence {
            store,
            window_micros,
            lock: Mutex::new(()),
        };
        let hlc = self.assemble(Some(persistence));
        // Every stamp before the restart had a physical part at most `loaded`; start above it.
        hlc.state.0.store(
            (loaded << LOGICAL_BITS) | u64::from(MAX_LOGICAL),
            Ordering::Relaxed,
        );
        hlc.persisted_bound.store(bound, Ordering::Relaxed);
        Ok(hlc)
    }

    fn assemble(self, persistence: Option<Persistence>) -> Hlc<C> {
        let max_offset_micros = duration_micros(self.max_offset);
        Hlc {
            state: CacheLine(AtomicU64::new(0)),
            clock: self.clock,
            node: self.node.unwrap_or_else(NodeId::random),
            max_offset: self.max_offset,
            max_offset_micros,
            backward_slack_micros: max_offset_micros
                .saturating_add(duration_micros(self.backward_jump_threshold)),
            forward_leap_micros: self.forward_leap_threshold.map_or(u64::MAX, duration_micros),
            behind: AtomicBool::new(false),
            persisted_bound: AtomicU64::new(u64::MAX),
            persistence,
            counters: Counters::default(),
            observer: self.observer,
        }
    }
}

fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
