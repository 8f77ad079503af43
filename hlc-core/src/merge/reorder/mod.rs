//! The live reorderer: interleaved arrivals in, one global order out.

use std::fmt;
use std::time::Instant;

use super::sources::Sources;
use super::{PushError, ReorderConfig, ReorderStats, Stamped};
use crate::{NodeId, NodeTimestamp, Timestamp};

/// A watermark above every stamp: nothing holds the order back.
const EVERYTHING: NodeTimestamp = NodeTimestamp::new(Timestamp::MAX, NodeId::new(u64::MAX));

/// Puts events that arrive interleaved from several sources (each source in its own order)
/// into one `(timestamp, node id)` order, as they arrive.
///
/// A source is the node of an event's stamp. An event waits until the *watermark*, the least
/// of the sources' latest stamps, reaches it: from then on no source can send anything
/// earlier, since each sends in order. A source that has been silent for longer than the
/// max delay stops holding the watermark back, so waiting events go out; if it speaks again,
/// whatever it sends at or before the last released event is refused as
/// [`PushError::Late`], handed back to the caller, never dropped. A late arrival still
/// counts as a sign of life, so the source holds the watermark back again.
///
/// Time is an input: every call takes `now`, and nothing reads a clock. Call
/// [`pop`](Self::pop) after each [`push`](Self::push) and again by [`deadline`](Self::deadline)
/// when nothing arrives, since silence only counts when `pop` sees it.
///
/// # Memory
///
/// At most [`capacity`](ReorderConfig::capacity) events wait. Besides them it keeps a small
/// record and a queue per source that was heard from within the max delay or still has
/// events waiting; a silent source with nothing waiting is forgotten, and a queue that
/// grew large gives its room back once it empties. When the buffer is
/// full, `pop` releases the least waiting event without waiting for the watermark (counted
/// in [`ReorderStats::forced`]); anything a source sends before it later is then late. A
/// `push` into a full buffer is refused with [`PushError::Full`], the event handed back.
///
/// Declare the sources you expect in [`new`](Self::new) so that one that has not spoken yet
/// holds the order back; an event from an unknown node adds its source.
pub struct Reorderer<T> {
    config: ReorderConfig,
    sources: Sources<T>,
    /// A lower bound of the watermark; exact unless `stale` or a source fell silent.
    floor: Option<NodeTimestamp>,
    /// A source that may have held the watermark at `floor` has since moved on.
    stale: bool,
    /// No later than the first instant at which a holding source falls silent.
    next_silence: Option<Instant>,
    /// The last stamp released.
    frontier: Option<NodeTimestamp>,
    /// The latest `now` seen; time never runs backwards here.
    clock: Instant,
    stats: ReorderStats,
}

impl<T: Stamped> Reorderer<T> {
    /// A reorderer expecting events from `sources`, each silent since `now`.
    pub fn new(
        config: ReorderConfig,
        sources: impl IntoIterator<Item = NodeId>,
        now: Instant,
    ) -> Self {
        let mut reorderer = Self {
            config,
            sources: Sources::new(),
            floor: Some(EVERYTHING),
            stale: false,
            next_silence: None,
            frontier: None,
            clock: now,
            stats: ReorderStats::default(),
        };
        for node in sources {
            reorderer.add_source(node, now);
        }
        reorderer
    }

    /// Expects events from `node` from now on: the order waits for it until it sends or has
    /// been silent for the max delay. Does nothing for a source already holding the order.
    pub fn add_source(&mut self, node: NodeId, now: Instant) {
        let now = self.observe(now);
        let slot = self.sources.slot(node, now);
        let source = self.sources.get_mut(slot);
        if !source.holding {
            source.holding = true;
            source.heard_at = now;
            self.floor = self.floor.min(source.latest);
            self.note_deadline(now);
        }
    }

    /// Takes in an event that arrived at `now`.
    ///
    /// # Errors
    /// [`PushError::Late`] when the event is not after the last one released;
    /// [`PushError::Full`] when the buffer is full. Either way the event is handed back.
    #[inline]
    pub fn push(&mut self, event: T, now: Instant) -> Result<(), PushError<T>> {
        let now = self.observe(now);
        let stamp = event.stamp();
        if let Some(frontier) = self.frontier.filter(|frontier| stamp <= *frontier) {
            self.heard(stamp, now);
            self.stats.late += 1;
            return Err(PushError::Late {
                event,
                stamp,
                frontier,
            });
        }
        if self.is_full() {
            let capacity = self.config.capacity();
            return Err(PushError::Full { event, capacity });
        }
        let slot = self.heard(stamp, now);
        self.sources.enqueue(slot, stamp, event);
        Ok(())
    }

    /// The next event in order if the watermark at `now` has passed it, or if the buffer is
    /// full; `None` while it must wait.
    #[inline]
    pub fn pop(&mut self, now: Instant) -> Option<T> {
        let now = self.observe(now);
        let least = self.sources.least()?;
        if !self.passes(least, now) {
            if !self.is_full() {
                return None;
            }
            self.stats.forced += 1;
        }
        let (stamp, event) = self.sources.pop_checked_least()?;
        Some(self.released(stamp, event))
    }

    /// Releases every waiting event in order, without waiting for the watermark: at
    /// shutdown, or once every source is known to have finished.
    pub fn flush(&mut self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.release())
    }

    /// When `pop` should be called again if nothing arrives: no later than the instant a
    /// source's silence may release waiting events. `None` when nothing waits.
    pub fn deadline(&self) -> Option<Instant> {
        if self.is_empty() {
            None
        } else {
            self.next_silence
        }
    }

    /// The last stamp released; anything at or before it is late.
    pub fn frontier(&self) -> Option<NodeTimestamp> {
        self.frontier
    }

    /// How many events wait.
    pub fn len(&self) -> usize {
        self.sources.waiting()
    }

    /// Whether no event waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The counters so far.
    pub fn stats(&self) -> ReorderStats {
        self.stats
    }

    /// The settings.
    pub fn config(&self) -> ReorderConfig {
        self.config
    }

    #[inline]
    fn observe(&mut self, now: Instant) -> Instant {
        self.clock = self.clock.max(now);
        self.clock
    }

    #[inline]
    fn is_full(&self) -> bool {
        self.sources.waiting() >= self.config.capacity()
    }

    /// Records that the stamp's source sent `stamp` at `now`; returns its slot.
    #[inline]
    fn heard(&mut self, stamp: NodeTimestamp, now: Instant) -> usize {
        let slot = self.sources.slot(stamp.node, now);
        let source = self.sources.get_mut(slot);
        // Only a source at the floor can have been holding the watermark there.
        self.stale |= source.holding && source.latest <= self.floor;
        source.latest = source.latest.max(Some(stamp));
        source.heard_at = now;
        if !source.holding {
            // Back from silence, or new: it holds the watermark from here on.
            source.holding = true;
            self.floor = self.floor.min(source.latest);
            self.note_deadline(now);
        }
        slot
    }

    fn note_deadline(&mut self, heard_at: Instant) {
        if let Some(silent_at) = heard_at.checked_add(self.config.max_delay()) {
            self.next_silence = Some(self.next_silence.map_or(silent_at, |t| t.min(silent_at)));
        }
    }

    /// Whether the watermark at `now` has reached `stamp`; recomputes it only when it may
    /// have moved.
    #[inline]
    fn passes(&mut self, stamp: NodeTimestamp, now: Instant) -> bool {
        if Some(stamp) <= self.floor {
            return true;
        }
        if !self.stale && self.next_silence.is_none_or(|silent_at| now <= silent_at) {
            return false;
        }
        self.recompute_watermark(now);
        Some(stamp) <= self.floor
    }

    fn recompute_watermark(&mut self, now: Instant) {
        if self.next_silence.is_some_and(|silent_at| now > silent_at) {
            self.next_silence = self.sources.retire_silent(now, self.config.max_delay());
        }
        let least = self.sources.holders().map(|source| source.latest).min();
        self.floor = least.unwrap_or(Some(EVERYTHING));
        self.stale = false;
    }

    fn release(&mut self) -> Option<T> {
        let (stamp, event) = self.sources.pop_least()?;
        Some(self.released(stamp, event))
    }

    #[inline]
    fn released(&mut self, stamp: NodeTimestamp, event: T) -> T {
        self.frontier = Some(stamp);
        self.stats.emitted += 1;
        event
    }
}

impl<T> fmt::Debug for Reorderer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reorderer")
            .field("config", &self.config)
            .field("waiting", &self.sources.waiting())
            .field("frontier", &self.frontier)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
