//! What the clock reports besides timestamps: counters and events for an observer.

use std::time::Duration;

use crate::sync::{AtomicU64, Ordering};
use crate::Timestamp;

/// Something noteworthy the clock saw, handed to an [`HlcObserver`].
#[derive(Debug)]
#[non_exhaustive]
pub enum HlcEvent<'a> {
    /// A remote timestamp was refused: it was more than `max_offset` ahead.
    Refused {
        /// The refused remote timestamp.
        remote: Timestamp,
        /// Local physical time when it was refused.
        local: Timestamp,
        /// The bound it exceeded.
        max_offset: Duration,
    },
    /// The physical clock reads further behind the HLC than remote merges can explain: it
    /// stepped backwards. The HLC keeps counting on its logical part until the physical
    /// clock catches up. Reported once per episode.
    BackwardJump {
        /// The timestamp just issued.
        hlc: Timestamp,
        /// The physical clock reading (logical part zero).
        physical: Timestamp,
    },
    /// The physical clock leapt forwards by more than the configured threshold between two
    /// stamps of this clock (so never on its first stamp, after a restart either).
    ForwardLeap {
        /// The previous timestamp.
        from: Timestamp,
        /// The physical clock reading that was stamped.
        to: Timestamp,
    },
    /// Writing the persisted upper bound failed; stamps above the last persisted bound lose
    /// the restart guarantee until a later write succeeds.
    PersistFailed {
        /// The I/O error.
        error: &'a std::io::Error,
    },
}

/// Receives [`HlcEvent`]s. Called from the thread that stamps, off the fast path, so keep it
/// short (count, log, or hand over to a channel). Closures implement it.
pub trait HlcObserver: Send + Sync {
    /// One event.
    fn on_event(&self, event: &HlcEvent<'_>);
}

impl<F: Fn(&HlcEvent<'_>) + Send + Sync> HlcObserver for F {
    fn on_event(&self, event: &HlcEvent<'_>) {
        self(event);
    }
}

/// A snapshot of the clock's counters since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HlcStats {
    /// Remote timestamps refused for exceeding max offset.
    pub refused: u64,
    /// Logical counter overflows that carried into the physical part and pushed the clock
    /// ahead of physical time.
    pub carries: u64,
    /// Backward steps of the physical clock (episodes, not stamps).
    pub backward_jumps: u64,
    /// Forward leaps of the physical clock beyond the threshold.
    pub forward_leaps: u64,
    /// Failed writes of the persisted upper bound.
    pub persist_failures: u64,
}

/// The live counters. Only slow paths touch them, so the stamping path never writes here.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) refused: AtomicU64,
    pub(crate) carries: AtomicU64,
    pub(crate) backward_jumps: AtomicU64,
    pub(crate) forward_leaps: AtomicU64,
    pub(crate) persist_failures: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        // Counters order nothing; they only have to add up.
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> HlcStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        HlcStats {
            refused: read(&self.refused),
            carries: read(&self.carries),
            backward_jumps: read(&self.backward_jumps),
            forward_leaps: read(&self.forward_leaps),
            persist_failures: read(&self.persist_failures),
        }
    }
}
