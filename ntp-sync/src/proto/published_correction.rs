//! The correction as published to readers, without a clock: the discipline's [`Correction`]
//! in a sequence lock, and what the corrected clock reads at a given reading of the local
//! clock. [`CorrectedClock`](crate::CorrectedClock) reads the local clock and asks this; the
//! simulation asks it at the readings it chooses.

use std::sync::atomic::{AtomicU64, Ordering};

use super::discipline::Correction;
use super::seqlock::SeqCell;

/// The correction in force, readable lock-free by any number of threads, and the high-water
/// mark that keeps the corrected clock from going backwards.
#[derive(Debug)]
pub struct PublishedCorrection {
    /// `[applied, anchor, base, frequency, slew, slew_duration]`, the i64s as their bits.
    words: SeqCell<6>,
    high_water_micros: AtomicU64,
}

impl Default for PublishedCorrection {
    fn default() -> Self {
        Self::new()
    }
}

impl PublishedCorrection {
    /// No correction yet: the corrected clock reads the local clock unchanged.
    pub fn new() -> Self {
        Self {
            words: SeqCell::new([0; 6]),
            high_water_micros: AtomicU64::new(0),
        }
    }

    /// Puts `correction` in force for every reader.
    pub fn publish(&self, correction: Correction) {
        let fields = [
            correction.anchor_nanos,
            correction.base_nanos,
            correction.frequency_ppb,
            correction.slew_nanos,
            correction.slew_duration_nanos,
        ];
        let mut words = [1u64; 6];
        for (word, field) in words[1..].iter_mut().zip(fields) {
            *word = field as u64;
        }
        self.words.store(words);
    }

    /// The correction in force, `None` before the first one.
    pub fn correction(&self) -> Option<Correction> {
        let [applied, anchor, base, frequency, slew, duration] = self.words.load();
        (applied == 1).then_some(Correction {
            anchor_nanos: anchor as i64,
            base_nanos: base as i64,
            frequency_ppb: frequency as i64,
            slew_nanos: slew as i64,
            slew_duration_nanos: duration as i64,
        })
    }

    /// What the corrected clock reads when the local clock reads `local_micros`: the
    /// corrected time, or the high-water mark if that is later (after a backward step it holds
    /// still until time catches up).
    pub fn reading_at(&self, local_micros: u64) -> u64 {
        let local = (local_micros as i64).saturating_mul(1_000);
        let correction = self.correction().map_or(0, |c| c.at(local));
        let corrected = (local.saturating_add(correction).max(0) / 1_000) as u64;
        let previous = self
            .high_water_micros
            .fetch_max(corrected, Ordering::Relaxed);
        previous.max(corrected)
    }
}
