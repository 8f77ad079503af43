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
            behind: AtomicBool::new(false),
            persisted_bound: AtomicU64::new(u64::MAX),
            persistence,
            counters: Counters::default(),
            observer: self.observer,
        }
    }
}
