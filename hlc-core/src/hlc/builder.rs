//! Configuration of an [`Hlc`]: clock, node id, bounds, observer and persistence.

use std::sync::Arc;
use std::time::Duration;

use super::{duration_micros, CacheLine, Hlc, Persistence};
use super::{DEFAULT_BACKWARD_JUMP_THRESHOLD, DEFAULT_MAX_OFFSET};
use crate::clock::{PhysicalClock, SystemClock};
use crate::events::{Counters, HlcObserver};
use crate::persist::UpperBoundStore;
use crate::sync::{AtomicBool, AtomicU64, Mutex, Ordering};
use crate::timestamp::{LOGICAL_BITS, MAX_LOGICAL, MAX_PHYSICAL_MICROS};
use crate::{BuildError, NodeId};

/// The part of the default [`HlcBuilder::max_stored_lead`] beyond max offset + window: room
/// for a coarse clock's tick and the microsecond a carry adds.
const STORED_LEAD_MARGIN: Duration = Duration::from_millis(10);

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
    /// `None`: the default, derived from max offset and window when the clock is built.
    max_stored_lead: Option<Duration>,
}

impl HlcBuilder<SystemClock> {
    /// Defaults: system clock, random node id, [`DEFAULT_MAX_OFFSET`], backward jumps reported past
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
            max_stored_lead: None,
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
            max_stored_lead: self.max_stored_lead,
        }
    }

    /// Sets the node id (default: [`NodeId::random`]).
    pub fn node_id(mut self, node: NodeId) -> Self {
        self.node = Some(node);
        self
    }

    /// Sets how far ahead of the local physical clock a remote timestamp may be (default
    /// [`DEFAULT_MAX_OFFSET`]). Choose it above the worst clock skew you expect between healthy
    /// nodes.
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
    /// threshold longer than the quietest gap between stamps. The first stamp of a clock
    /// reports none: it follows no stamp, neither from the epoch nor across a restart.
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
    /// clock was set back meanwhile (set back further than
    /// [`max_stored_lead`](Self::max_stored_lead) allows, the build fails instead).
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

    /// How far the stored upper bound may lead the physical clock when the clock is built
    /// (default: max offset + persistence window + 10 ms). A bound further ahead fails the
    /// build.
    ///
    /// The default accepts every bound a healthy node leaves behind. Merges keep its stamps
    /// within max offset of its physical clock (a microsecond more when a remote counter
    /// carries), and it stores bounds one window above its stamps: so a node restarting at
    /// once, its clock not set back, finds its bound at most max offset + window (+ 1 µs)
    /// ahead. The 10 ms on top leave room for a coarse clock, which may read up to a kernel
    /// tick (4 ms at `HZ=250`) earlier after the restart than before.
    ///
    /// A bound further ahead comes from a clock that ran ahead before and was set back
    /// since, or from another node's store. Starting from it would make every stamp lead the
    /// clock as far, and every peer would refuse this node until its clock caught up (a day,
    /// for a bound a day ahead). Each build stores a bound a window above the one it loaded
    /// until the clock passes it, so restarts in a loop faster than the window add up to the
    /// limit too.
    ///
    /// The refusal stores nothing, so a build retried once the clock has caught up succeeds.
    /// To start at once, raise this limit (stamps then lead the clock by the bound's lead) or
    /// remove the stored bound (giving up monotonicity against the stamps it covered).
    pub fn max_stored_lead(mut self, lead: Duration) -> Self {
        self.max_stored_lead = Some(lead);
        self
    }

    /// Builds the clock. With persistence, loads the stored bound and stores a new one first.
    ///
    /// # Errors
    /// [`BuildError::Persist`] when the store cannot be read or written,
    /// [`BuildError::ZeroWindow`] for a zero persistence window,
    /// [`BuildError::StoredBoundTooFarAhead`] when the stored bound leads the physical clock by
    /// more than [`max_stored_lead`](Self::max_stored_lead), and
    /// [`BuildError::StoredBoundOutOfRange`] when no timestamp is left above it.
    pub fn build(mut self) -> Result<Hlc<C>, BuildError> {
        let Some((store, window)) = self.persistence.take() else {
            return Ok(self.assemble(None));
        };
        if window.is_zero() {
            return Err(BuildError::ZeroWindow);
        }
        let now = self.clock.now_micros().min(MAX_PHYSICAL_MICROS);
        let loaded = match store.load()? {
            Some(stored) => Some(self.check_stored(stored, now, window)?),
            None => None,
        };
        let window_micros = duration_micros(window);
        // Stamps of this run start above the loaded bound, so the new one must cover them.
        let first_physical = now.max(loaded.map_or(0, |loaded| loaded + 1));
        let bound = first_physical.saturating_add(window_micros);
        store.store(bound)?;
        let persistence = Persistence {
            store,
            window_micros,
            lock: Mutex::new(()),
        };
        let mut hlc = self.assemble(Some(persistence));
        if let Some(loaded) = loaded {
            // Stamps before the restart had a physical part up to `loaded` with any logical
            // part: the first one now is at least `loaded + 1` microseconds.
            hlc.start = (loaded << LOGICAL_BITS) | u64::from(MAX_LOGICAL);
            hlc.state.0.store(hlc.start, Ordering::Relaxed);
        }
        hlc.persisted_bound.store(bound, Ordering::Relaxed);
        Ok(hlc)
    }

    /// The stored bound, if the clock can start from it.
    fn check_stored(&self, stored: u64, now: u64, window: Duration) -> Result<u64, BuildError> {
        if stored >= MAX_PHYSICAL_MICROS {
            return Err(BuildError::StoredBoundOutOfRange {
                stored_micros: stored,
            });
        }
        let limit = self.max_stored_lead.unwrap_or_else(|| {
            self.max_offset
                .saturating_add(window)
                .saturating_add(STORED_LEAD_MARGIN)
        });
        if stored.saturating_sub(now) > duration_micros(limit) {
            return Err(BuildError::StoredBoundTooFarAhead {
                stored_micros: stored,
                clock_micros: now,
                limit,
            });
        }
        Ok(stored)
    }

    pub(super) fn assemble(self, persistence: Option<Persistence>) -> Hlc<C> {
        let max_offset_micros = duration_micros(self.max_offset);
        Hlc {
            state: CacheLine(AtomicU64::new(0)),
            clock: self.clock,
            node: self.node.unwrap_or_else(NodeId::random),
            max_offset: self.max_offset,
            max_offset_micros,
            backward_slack_micros: max_offset_micros
                .saturating_add(duration_micros(self.backward_jump_threshold)),
            forward_leap_micros: self
                .forward_leap_threshold
                .map_or(u64::MAX, duration_micros),
            start: 0,
            behind: AtomicBool::new(false),
            persisted_bound: AtomicU64::new(u64::MAX),
            persistence,
            counters: Counters::default(),
            observer: self.observer,
        }
    }
}
