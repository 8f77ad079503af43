//! The correction as published to readers, without a clock: the discipline's [`Correction`]
//! in a sequence lock, and what the corrected clock reads at a given reading of the local
//! clock. [`CorrectedClock`](crate::CorrectedClock) reads the local clock and asks this; the
//! simulation asks it at the readings it chooses.

use std::sync::atomic::{AtomicU64, Ordering};

use super::discipline::Correction;
use super::leap::Leap;
use super::seqlock::SeqCell;

/// The correction in force, readable lock-free by any number of threads, and the high-water
/// mark that keeps the corrected clock from going backwards.
///
/// Around a leap second the correction counts the leap's continuous numbering (see
/// [`crate::proto::leap`]) and the reading is Unix time: it steps at the leap (through an
/// inserted second it counts the last second again, held at the high-water mark meanwhile;
/// a deleted one jumps it forward), or, with the smear on, takes the second in linearly
/// over the 24 hours around it.
#[derive(Debug)]
pub struct PublishedCorrection {
    /// `[applied, anchor, base, frequency, slew, slew_duration, leap, leap_step]`, the i64s
    /// as their bits; `leap` a [`Leap`]'s code, 0 for none.
    words: SeqCell<8>,
    high_water_micros: AtomicU64,
    smear: bool,
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
            words: SeqCell::new([0; 8]),
            high_water_micros: AtomicU64::new(0),
            smear: crate::proto::leap::DEFAULT_LEAP_SMEAR,
        }
    }

    /// The same, smearing leap seconds when `smear` is set (default
    /// [`DEFAULT_LEAP_SMEAR`](crate::proto::leap::DEFAULT_LEAP_SMEAR)).
    pub fn with_leap_smear(mut self, smear: bool) -> Self {
        self.smear = smear;
        self
    }

    /// Whether leap seconds are smeared.
    pub fn smears_leaps(&self) -> bool {
        self.smear
    }

    /// Puts `correction` in force for every reader.
    pub fn publish(&self, correction: Correction) {
        self.publish_with_leap(correction, None);
    }

    /// Puts `correction` in force with the leap second it counts the continuous numbering
    /// of, if any.
    pub fn publish_with_leap(&self, correction: Correction, leap: Option<Leap>) {
        let fields = [
            correction.anchor_nanos,
            correction.base_nanos,
            correction.frequency_ppb,
            correction.slew_nanos,
            correction.slew_duration_nanos,
        ];
        let mut words = [1u64; 8];
        for (word, field) in words[1..6].iter_mut().zip(fields) {
            *word = field as u64;
        }
        let (code, step) = Leap::to_words(leap);
        words[6] = code;
        words[7] = step as u64;
        self.words.store(words);
    }

    /// The correction in force, `None` before the first one.
    pub fn correction(&self) -> Option<Correction> {
        decode(self.words.load())
    }

    /// The leap second the correction counts the continuous numbering of, if any.
    pub fn leap(&self) -> Option<Leap> {
        let words = self.words.load();
        Leap::from_words(words[6], words[7] as i64)
    }

    /// What the corrected clock reads when the local clock reads `local_micros`: the
    /// corrected time, or the high-water mark if that is later (after a backward step it holds
    /// still until time catches up).
    pub fn reading_at(&self, local_micros: u64) -> u64 {
        let local = (local_micros as i64).saturating_mul(1_000);
        // One load: the correction and the leap it counts from were published together.
        let words = self.words.load();
        let correction = decode(words).map_or(0, |c| c.at(local));
        let mut corrected = local.saturating_add(correction);
        if let Some(leap) = Leap::from_words(words[6], words[7] as i64) {
            corrected = self.reported(&leap, corrected);
        }
        let corrected = (corrected.max(0) / 1_000) as u64;
        let previous = self
            .high_water_micros
            .fetch_max(corrected, Ordering::Relaxed);
        previous.max(corrected)
    }

    /// Unix time as reported at continuous time `u` of `leap`.
    #[cold]
    fn reported(&self, leap: &Leap, u: i64) -> i64 {
        match (self.smear, u < leap.step_nanos()) {
            (true, _) => leap.smeared(u),
            (false, true) => u,
            (false, false) => u + leap.shift_nanos(),
        }
    }
}

fn decode(words: [u64; 8]) -> Option<Correction> {
    let [applied, anchor, base, frequency, slew, duration, ..] = words;
    (applied == 1).then_some(Correction {
        anchor_nanos: anchor as i64,
        base_nanos: base as i64,
        frequency_ppb: frequency as i64,
        slew_nanos: slew as i64,
        slew_duration_nanos: duration as i64,
    })
}
