//! The clock discipline, in-process (the spirit of RFC 5905 §12 and its PLL/FLL, kept
//! simple): corrected time = local time + a correction that follows the offset estimates.
//!
//! - The first estimate is applied at once (a step), and so is any estimate that differs
//!   from the correction in force by more than the step threshold
//!   ([`DEFAULT_STEP_THRESHOLD`]): after the local clock was stepped, or the estimate moved a
//!   long way,
//!   slewing at 500 ppm would leave the clock off for hours.
//! - Smaller corrections are slewed, so the corrected clock does not jump: its rate differs
//!   from the local clock's by at most 500 ppm (the kernel's limit for `adjtime`, RFC 5905's
//!   MAXFREQ), so it never goes backwards.
//! - The frequency error of the local clock is estimated from successive estimates (how fast
//!   the offset drifts) and compensated, so the corrected clock stays close between polls.
//!   A step starts that history afresh: a jump is not a frequency.
//! - An offset beyond the panic threshold ([`DEFAULT_PANIC_THRESHOLD`]) is refused and
//!   reported: something is badly wrong and a human should look.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Largest rate difference between the corrected and the local clock, in ppb (500 ppm).
pub const MAX_RATE_PPB: i64 = 500_000;
/// Largest frequency compensation, leaving at least 200 ppm for slewing.
pub const MAX_FREQUENCY_PPB: i64 = 300_000;
/// Default panic threshold, as ntpd's.
pub const DEFAULT_PANIC_THRESHOLD: Duration = Duration::from_secs(1_000);
/// Default step threshold: RFC 5905's STEPT, as ntpd's.
pub const DEFAULT_STEP_THRESHOLD: Duration = Duration::from_millis(128);

/// Estimates closer together than this carry too little information about frequency.
const MIN_FREQUENCY_SPAN_NANOS: i64 = 4_000_000_000;
/// Each new frequency measurement moves the estimate a quarter of the way (an FLL gain).
const FREQUENCY_GAIN_DIVISOR: i64 = 4;

/// The correction as a function of local time: piecewise linear from an anchor.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Correction {
    /// Local time (ns since the Unix epoch) the pieces start from.
    pub anchor_nanos: i64,
    /// The correction at the anchor, in nanoseconds.
    pub base_nanos: i64,
    /// Frequency compensation in ppb, applied from the anchor on.
    pub frequency_ppb: i64,
    /// The correction still to be slewed in, in nanoseconds.
    pub slew_nanos: i64,
    /// How long the slew takes, in nanoseconds of local time.
    pub slew_duration_nanos: i64,
}

impl Correction {
    /// The correction in nanoseconds at local time `local_nanos`.
    pub fn at(&self, local_nanos: i64) -> i64 {
        let elapsed = local_nanos.saturating_sub(self.anchor_nanos).max(0);
        let frequency = (elapsed as f64 * self.frequency_ppb as f64 * 1e-9) as i64;
        let slewed = if elapsed >= self.slew_duration_nanos {
            self.slew_nanos
        } else {
            (self.slew_nanos as f64 * (elapsed as f64 / self.slew_duration_nanos as f64)) as i64
        };
        self.base_nanos
            .saturating_add(frequency)
            .saturating_add(slewed)
    }
}

/// What an accepted estimate did to the clock.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum DisciplineAction {
    /// The correction was set at once: the first estimate, or one beyond the step threshold
    /// from the correction in force.
    Stepped {
        /// The correction applied, in nanoseconds.
        offset_nanos: i64,
    },
    /// The remaining error is being slewed in.
    Slewing {
        /// The error being removed, in nanoseconds.
        error_nanos: i64,
        /// How long removing it takes.
        over: Duration,
    },
}

/// An estimate the discipline would not apply.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DisciplineError {
    /// The offset is beyond the panic threshold.
    #[error(
        "offset {offset:?} {} exceeds the panic threshold {threshold:?}; not applied",
        if *ahead { "ahead" } else { "behind" }
    )]
    PanicThreshold {
        /// The size of the offset.
        offset: Duration,
        /// Whether true time is ahead of the local clock (else behind).
        ahead: bool,
        /// The threshold.
        threshold: Duration,
    },
}

/// The discipline's state: the correction in force and the last estimate applied.
#[derive(Clone, Copy, Debug)]
pub struct Discipline {
    panic_threshold: Duration,
    step_threshold_nanos: i64,
    correction: Option<Correction>,
    /// Where the frequency measurement starts: `(local time, offset)` of an estimate since
    /// which the local clock ran undisturbed.
    last_estimate: Option<(i64, i64)>,
}

impl Discipline {
    /// A discipline that refuses offsets beyond `panic_threshold` and steps beyond
    /// [`DEFAULT_STEP_THRESHOLD`].
    pub fn new(panic_threshold: Duration) -> Self {
        Self {
            panic_threshold,
            step_threshold_nanos: duration_nanos(DEFAULT_STEP_THRESHOLD),
            correction: None,
            last_estimate: None,
        }
    }

    /// Steps, rather than slews, when an estimate differs from the correction in force by
    /// more than `threshold`.
    pub fn with_step_threshold(mut self, threshold: Duration) -> Self {
        self.step_threshold_nanos = duration_nanos(threshold);
        self
    }

    /// Forgets the frequency history, after the local clock was seen stepping: the offsets on
    /// either side of a step measure different clocks.
    pub fn clock_stepped(&mut self) {
        self.last_estimate = None;
    }

    /// Moves the correction, and the history the frequency is learned from, by
    /// `shift_nanos`: the estimates are counted in a numbering `shift_nanos` away from now on
    /// (after a leap second), which the corrected clock's reading does not see.
    pub fn renumber(&mut self, shift_nanos: i64) {
        if let Some(correction) = self.correction.as_mut() {
            correction.base_nanos = correction.base_nanos.saturating_add(shift_nanos);
        }
        if let Some((_, offset)) = self.last_estimate.as_mut() {
            *offset = offset.saturating_add(shift_nanos);
        }
    }

    /// The correction in force, `None` before the first accepted estimate.
    pub fn correction(&self) -> Option<Correction> {
        self.correction
    }

    /// Applies an offset estimate (true time − local time) made at local time `now_nanos`.
    ///
    /// # Errors
    ///
    /// [`DisciplineError::PanicThreshold`] when the offset is beyond the threshold; the
    /// correction in force is left unchanged.
    pub fn update(
        &mut self,
        now_nanos: i64,
        offset_nanos: i64,
    ) -> Result<DisciplineAction, DisciplineError> {
        self.check_threshold(offset_nanos)?;
        match self.correction {
            Some(current) if self.within_step_threshold(&current, now_nanos, offset_nanos) => {
                Ok(self.slew(current, now_nanos, offset_nanos))
            }
            current => Ok(self.step(current, now_nanos, offset_nanos)),
        }
    }

    fn within_step_threshold(&self, current: &Correction, now_nanos: i64, offset: i64) -> bool {
        offset.saturating_sub(current.at(now_nanos)).abs() <= self.step_threshold_nanos
    }

    /// Sets the correction to `offset_nanos` at once, keeping the frequency learned so far
    /// (a property of the oscillator, which a step does not change) but restarting its
    /// history from here.
    fn step(
        &mut self,
        current: Option<Correction>,
        now_nanos: i64,
        offset_nanos: i64,
    ) -> DisciplineAction {
        self.correction = Some(Correction {
            anchor_nanos: now_nanos,
            base_nanos: offset_nanos,
            frequency_ppb: current.map_or(0, |c| c.frequency_ppb),
            ..Correction::default()
        });
        self.last_estimate = Some((now_nanos, offset_nanos));
        DisciplineAction::Stepped { offset_nanos }
    }

    /// Starts slewing from the correction in force towards `offset_nanos`, as fast as the
    /// 500 ppm limit allows once the frequency compensation has taken its share.
    fn slew(&mut self, current: Correction, now_nanos: i64, offset_nanos: i64) -> DisciplineAction {
        let frequency_ppb = self.next_frequency(current.frequency_ppb, now_nanos, offset_nanos);
        let base_nanos = current.at(now_nanos);
        let error_nanos = offset_nanos.saturating_sub(base_nanos);
        let slew_rate = MAX_RATE_PPB - frequency_ppb.abs();
        let duration = (error_nanos.unsigned_abs() as f64 * 1e9 / slew_rate as f64).ceil() as i64;
        self.correction = Some(Correction {
            anchor_nanos: now_nanos,
            base_nanos,
            frequency_ppb,
            slew_nanos: error_nanos,
            slew_duration_nanos: duration,
        });
        DisciplineAction::Slewing {
            error_nanos,
            over: Duration::from_nanos(duration.max(0) as u64),
        }
    }

    fn check_threshold(&self, offset_nanos: i64) -> Result<(), DisciplineError> {
        let offset = Duration::from_nanos(offset_nanos.unsigned_abs());
        if offset <= self.panic_threshold {
            return Ok(());
        }
        Err(DisciplineError::PanicThreshold {
            offset,
            ahead: offset_nanos > 0,
            threshold: self.panic_threshold,
        })
    }

    /// Moves the frequency estimate towards the drift seen since the last estimate. A
    /// drift faster than any oscillator's (beyond 500 ppm) is something else moving the
    /// offset, not a frequency: it is not learned from.
    fn next_frequency(&mut self, frequency_ppb: i64, now_nanos: i64, offset_nanos: i64) -> i64 {
        let Some((then, offset_then)) = self.last_estimate else {
            self.last_estimate = Some((now_nanos, offset_nanos));
            return frequency_ppb;
        };
        let span = now_nanos.saturating_sub(then);
        if span < MIN_FREQUENCY_SPAN_NANOS {
            return frequency_ppb;
        }
        self.last_estimate = Some((now_nanos, offset_nanos));
        let drift = offset_nanos.saturating_sub(offset_then) as f64;
        let measured = (drift * 1e9 / span as f64) as i64;
        if measured.abs() > MAX_RATE_PPB {
            return frequency_ppb;
        }
        let adjusted = frequency_ppb + (measured - frequency_ppb) / FREQUENCY_GAIN_DIVISOR;
        adjusted.clamp(-MAX_FREQUENCY_PPB, MAX_FREQUENCY_PPB)
    }
}

fn duration_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
