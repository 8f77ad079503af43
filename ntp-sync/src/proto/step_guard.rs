//! Keeps a corrected clock on true time across a step of its local clock that nobody has
//! noticed yet.
//!
//! A correction is measured against the local clock as it read when the correction was put
//! in force. When a supplied local clock is stepped, the [tracker](super::tracking) notices
//! at its next refresh (a poll, or the watchdog's heartbeat) and withdraws the estimate; until
//! then, a reader adding the old correction to the stepped clock would be off by the whole
//! step while every health signal still says synchronised. The guard closes that gap on the
//! read path: it keeps the readings of the local clock and of a reference that is never
//! stepped (the monotonic clock the tracker checks against) taken when the correction changed,
//! and when the local clock has since moved further from the reference than a slew can
//! ([`StepDetector`]'s tolerance: 500 ppm plus 1 ms), it reads the local clock where it would
//! be had it not been stepped: that anchor moved on by the reference.

use super::seqlock::SeqCell;
use super::step::StepDetector;

/// The local and reference readings taken when the correction in force was put in force,
/// and the test that tells a step from a slew. Lock-free: one sequence-locked load a read.
#[derive(Debug)]
pub struct StepGuard {
    /// `[set, local_micros, reference_micros]`.
    anchor: SeqCell<3>,
    detector: StepDetector,
}

impl Default for StepGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl StepGuard {
    /// A guard with no anchor yet: readings pass through until the first [`anchor`](Self::anchor).
    pub fn new() -> Self {
        Self {
            anchor: SeqCell::new([0; 3]),
            detector: StepDetector::default(),
        }
    }

    /// Anchors at a reading of both clocks taken just after a new correction was put in
    /// force: the correction was measured on the local clock as it reads now.
    pub fn anchor(&self, local_micros: u64, reference_micros: u64) {
        self.anchor.store([1, local_micros, reference_micros]);
    }

    /// The local reading to correct: `local_micros`, unless the local clock has moved further
    /// from the reference since the anchor than a slew can, and then the anchor moved on by
    /// the reference.
    pub fn local_reading(&self, local_micros: u64, reference_micros: u64) -> u64 {
        let [set, anchor_local, anchor_reference] = self.anchor.load();
        if set == 0 {
            return local_micros;
        }
        let nanos = |micros: u64| (micros as i64).saturating_mul(1_000);
        let then = (nanos(anchor_local), nanos(anchor_reference));
        let now = (nanos(local_micros), nanos(reference_micros));
        match self.detector.step_since(then, now, 0) {
            None => local_micros,
            Some(_) => {
                let elapsed = (reference_micros as i64).saturating_sub(anchor_reference as i64);
                anchor_local.saturating_add_signed(elapsed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000;
    const LOCAL: u64 = 1_700_000_000 * SECOND;

    #[test]
    fn readings_pass_through_before_the_first_anchor() {
        let guard = StepGuard::new();
        assert_eq!(
            guard.local_reading(LOCAL + 7 * SECOND, 3),
            LOCAL + 7 * SECOND
        );
    }

    #[test]
    fn a_slew_passes_and_a_step_either_way_is_read_as_if_it_had_not_happened() {
        let guard = StepGuard::new();
        guard.anchor(LOCAL, 100 * SECOND);
        // 10 s on, slewed by 400 ppm (4 ms): within the tolerance, read as it is.
        let slewed = LOCAL + 10 * SECOND + 4_000;
        assert_eq!(guard.local_reading(slewed, 110 * SECOND), slewed);
        // 10 s on, stepped 2 s ahead: read where it would be.
        let ahead = LOCAL + 12 * SECOND;
        assert_eq!(
            guard.local_reading(ahead, 110 * SECOND),
            LOCAL + 10 * SECOND
        );
        // And 2 s behind.
        let behind = LOCAL + 8 * SECOND;
        assert_eq!(
            guard.local_reading(behind, 110 * SECOND),
            LOCAL + 10 * SECOND
        );
    }

    #[test]
    fn a_new_anchor_takes_the_stepped_clock_as_it_reads() {
        let guard = StepGuard::new();
        guard.anchor(LOCAL, 100 * SECOND);
        let stepped = LOCAL + 12 * SECOND;
        guard.anchor(stepped, 110 * SECOND);
        assert_eq!(
            guard.local_reading(stepped + SECOND, 111 * SECOND),
            stepped + SECOND
        );
    }
}
