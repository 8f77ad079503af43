//! The shared cell that reporters write and the request path reads.

use std::fmt;
use std::sync::{Arc, PoisonError};

use super::packed::{pack, unpack};
use super::ClockHealth;
use crate::sync::{AtomicU64, Mutex, MutexGuard, Ordering};

/// This node's clock health, combined from every source that reports it: the worst report
/// wins (see [`ClockHealth`] for the order).
///
/// Each source takes a [`HealthReporter`] (its own slot) and reports into it; the request
/// path reads [`health`](Self::health), which is one atomic load: no lock, no allocation.
/// Clones share the board. With no reports (or only healthy ones) the clock is healthy.
///
/// ```
/// use hlc_core::health::{ClockHealth, HealthBoard, UnhealthyReason};
///
/// let board = HealthBoard::new();
/// let ntp = board.reporter("ntp");
/// let peers = board.reporter("peers");
/// ntp.report(UnhealthyReason::Unsynchronised.into());
/// assert_eq!(board.health(), UnhealthyReason::Unsynchronised.into());
///
/// ntp.report(ClockHealth::Healthy);
/// peers.report(ClockHealth::Healthy);
/// assert!(board.is_healthy());
/// ```
#[derive(Clone)]
pub struct HealthBoard {
    shared: Arc<Shared>,
}

struct Shared {
    /// The packed worst of the slots: what every reader loads.
    worst: AtomicU64,
    /// Every reporter's last word. Writers take the lock, so that the word they publish is
    /// the worst of one consistent set of slots, and the last writer publishes the last set.
    slots: Mutex<Vec<Slot>>,
}

struct Slot {
    source: &'static str,
    health: ClockHealth,
    claimed: bool,
}

/// One source's last report, as [`HealthBoard::reports`] lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SourceReport {
    /// The name the source's reporter was taken with.
    pub source: &'static str,
    /// What it last reported.
    pub health: ClockHealth,
}

impl HealthBoard {
    /// A board with no reporters: healthy.
    pub fn new() -> Self {
        let shared = Shared {
            worst: AtomicU64::new(pack(ClockHealth::Healthy)),
            slots: Mutex::new(Vec::new()),
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The combined health: the worst report of all sources. One atomic load.
    #[inline]
    pub fn health(&self) -> ClockHealth {
        // Relaxed: the word is the whole message, and it publishes no other data. A reader
        // that sees a report a moment late is no worse off than one that read a moment early.
        unpack(self.shared.worst.load(Ordering::Relaxed))
    }

    /// Whether the combined health is [`Healthy`](ClockHealth::Healthy).
    #[inline]
    pub fn is_healthy(&self) -> bool {
        self.health().is_healthy()
    }

    /// A slot for one more source, named `source` in [`reports`](Self::reports). It counts as
    /// healthy until its first report, so a source that starts out not knowing the clock
    /// (time sync before its first poll) should report that at once.
    pub fn reporter(&self, source: &'static str) -> HealthReporter {
        let mut slots = self.lock();
        let slot = Slot {
            source,
            health: ClockHealth::Healthy,
            claimed: true,
        };
        let index = match slots.iter().position(|s| !s.claimed) {
            Some(free) => {
                slots[free] = slot;
                free
            }
            None => {
                slots.push(slot);
                slots.len() - 1
            }
        };
        HealthReporter {
            shared: Arc::clone(&self.shared),
            slot: index,
        }
    }

    /// Every source's last report, in the order the reporters were taken.
    pub fn reports(&self) -> Vec<SourceReport> {
        let slots = self.lock();
        let claimed = slots.iter().filter(|s| s.claimed);
        claimed
            .map(|s| SourceReport {
                source: s.source,
                health: s.health,
            })
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
        lock(&self.shared)
    }
}

/// Nothing a writer does under the lock can leave the slots half-written, so a panic
/// elsewhere while it was held poisons nothing that matters.
fn lock(shared: &Shared) -> MutexGuard<'_, Vec<Slot>> {
    shared.slots.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Default for HealthBoard {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for HealthBoard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthBoard")
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

/// One source's slot on a [`HealthBoard`]: what time sync, a disruption watchdog or the peer
/// monitor reports through.
///
/// A report stands until the next one. Dropping the reporter leaves its last report standing,
/// so a source that stops or panics while unhealthy cannot make the node look healthy; call
/// [`withdraw`](Self::withdraw) to take a source off the board.
pub struct HealthReporter {
    shared: Arc<Shared>,
    slot: usize,
}

impl HealthReporter {
    /// Replaces this source's report and republishes the worst of all sources.
    pub fn report(&self, health: ClockHealth) {
        let mut slots = lock(&self.shared);
        slots[self.slot].health = health;
        publish(&self.shared, &slots);
    }

    /// This source's last report.
    pub fn last(&self) -> ClockHealth {
        lock(&self.shared)[self.slot].health
    }

    /// The name this reporter was taken with.
    pub fn source(&self) -> &'static str {
        lock(&self.shared)[self.slot].source
    }

    /// Takes this source off the board: its report no longer counts, and its slot is free for
    /// the next reporter.
    pub fn withdraw(self) {
        let mut slots = lock(&self.shared);
        slots[self.slot].claimed = false;
        slots[self.slot].health = ClockHealth::Healthy;
        publish(&self.shared, &slots);
    }
}

/// Stores the worst claimed slot. Called with the lock held: two writers publishing outside
/// it could interleave so that the older set of slots is published last.
fn publish(shared: &Shared, slots: &[Slot]) {
    let claimed = slots.iter().filter(|s| s.claimed);
    let worst = ClockHealth::worst(claimed.map(|s| s.health));
    shared.worst.store(pack(worst), Ordering::Relaxed);
}

impl fmt::Debug for HealthReporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthReporter")
            .field("slot", &self.slot)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::UnhealthyReason;
    use super::*;

    const UNSYNC: ClockHealth = ClockHealth::Unhealthy(UnhealthyReason::Unsynchronised);
    const DISRUPTED: ClockHealth = ClockHealth::Unhealthy(UnhealthyReason::Disrupted);

    #[test]
    fn the_worst_report_wins_and_leaves_when_it_is_replaced() {
        let board = HealthBoard::new();
        let (ntp, watchdog) = (board.reporter("ntp"), board.reporter("watchdog"));
        ntp.report(UNSYNC);
        watchdog.report(DISRUPTED);
        assert_eq!(board.health(), DISRUPTED);
        watchdog.report(ClockHealth::Healthy);
        assert_eq!(board.health(), UNSYNC);
        ntp.report(ClockHealth::Healthy);
        assert_eq!(board.health(), ClockHealth::Healthy);
    }

    #[test]
    fn each_reason_reads_back_through_the_board() {
        let board = HealthBoard::new();
        let source = board.reporter("any");
        let reasons = [
            UnhealthyReason::RadiusTooLarge {
                radius: Duration::from_millis(300),
                limit: Duration::from_millis(250),
            },
            UnhealthyReason::Unsynchronised,
            UnhealthyReason::Disrupted,
            UnhealthyReason::Fenced {
                far: 4,
                fresh: 4,
                offset_ms: 2_000,
            },
        ];
        for reason in reasons {
            source.report(reason.into());
            assert_eq!(board.health(), reason.into());
            assert_eq!(source.last(), reason.into());
        }
    }

    #[test]
    fn a_dropped_reporter_still_counts_and_a_withdrawn_one_does_not() {
        let board = HealthBoard::new();
        board.reporter("crashed").report(DISRUPTED);
        assert_eq!(board.health(), DISRUPTED);

        let board = HealthBoard::new();
        let leaving = board.reporter("leaving");
        leaving.report(DISRUPTED);
        leaving.withdraw();
        assert!(board.is_healthy());
        assert_eq!(board.reports(), []);
    }

    #[test]
    fn a_withdrawn_slot_is_reused_and_starts_healthy() {
        let board = HealthBoard::new();
        let first = board.reporter("first");
        let kept = board.reporter("kept");
        first.report(UNSYNC);
        first.withdraw();
        let next = board.reporter("next");
        assert_eq!(next.source(), "next");
        assert_eq!(next.last(), ClockHealth::Healthy);
        kept.report(DISRUPTED);
        let reports = board.reports();
        let names: Vec<_> = reports.iter().map(|r| r.source).collect();
        assert_eq!(names, ["next", "kept"]);
        assert_eq!(reports[1].health, DISRUPTED);
    }

    #[test]
    fn clones_share_one_board() {
        let board = HealthBoard::new();
        let clone = board.clone();
        clone.reporter("x").report(UNSYNC);
        assert_eq!(board.health(), UNSYNC);
        assert!(format!("{board:?}").contains("Unsynchronised"));
    }
}
