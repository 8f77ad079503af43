//! The software-disciplined clock: local time plus the [`Discipline`]'s correction, readable
//! lock-free by any number of threads, for an [`Hlc`](hlc_core::Hlc).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hlc_core::PhysicalClock;

use crate::discipline::{Correction, Discipline, DisciplineAction, DisciplineError};
use crate::seqlock::SeqCell;

/// A [`PhysicalClock`] that reads local time and adds the disciplined correction.
///
/// Before the first estimate it reads the local clock unchanged. It never goes backwards:
/// the correction's rate stays within 500 ppm of the local clock's, and a high-water mark
/// holds it still should the local clock itself be stepped back. Build the `Hlc` after
/// [`NtpClient::wait_synced`](crate::NtpClient::wait_synced) so the first-sync step happens
/// before the first stamp (a backward step would otherwise hold the clock still until true
/// time catches up).
#[derive(Clone)]
pub struct CorrectedClock {
    shared: Arc<Shared>,
}

struct Shared {
    /// `[applied, anchor, base, frequency, slew, slew_duration]`, the i64s as their bits.
    correction: SeqCell<6>,
    discipline: Mutex<Discipline>,
    high_water_micros: AtomicU64,
    clock: Arc<dyn PhysicalClock>,
}

impl std::fmt::Debug for CorrectedClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorrectedClock")
            .field("correction", &self.correction())
            .finish_non_exhaustive()
    }
}

impl CorrectedClock {
    /// A clock over `local` whose discipline refuses offsets beyond `discipline`'s threshold.
    pub fn new(local: Arc<dyn PhysicalClock>, discipline: Discipline) -> Self {
        let shared = Shared {
            correction: SeqCell::new([0; 6]),
            discipline: Mutex::new(discipline),
            high_water_micros: AtomicU64::new(0),
            clock: local,
        };
        let clock = Self {
            shared: Arc::new(shared),
        };
        if let Some(correction) = discipline.correction() {
            clock.publish(correction);
        }
        clock
    }

    /// Applies an offset estimate made at local time `now_nanos`; see [`Discipline::update`].
    ///
    /// # Errors
    ///
    /// [`DisciplineError::PanicThreshold`]; the clock keeps its correction.
    pub fn apply(
        &self,
        now_nanos: i64,
        offset_nanos: i64,
    ) -> Result<DisciplineAction, DisciplineError> {
        // A poisoned lock only means another thread panicked mid-update; the state is Copy
        // and every update is all-or-nothing, so it is still consistent.
        let mut discipline = match self.shared.discipline.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let action = discipline.update(now_nanos, offset_nanos)?;
        if let Some(correction) = discipline.correction() {
            self.publish(correction);
        }
        Ok(action)
    }

    fn publish(&self, c: Correction) {
        let fields = [
            c.anchor_nanos,
            c.base_nanos,
            c.frequency_ppb,
            c.slew_nanos,
            c.slew_duration_nanos,
        ];
        let mut words = [1u64; 6];
        for (word, field) in words[1..].iter_mut().zip(fields) {
            *word = field as u64;
        }
        self.shared.correction.store(words);
    }

    /// The correction in force, `None` before the first applied estimate.
    pub fn correction(&self) -> Option<Correction> {
        let [applied, anchor, base, frequency, slew, duration] = self.shared.correction.load();
        (applied == 1).then_some(Correction {
            anchor_nanos: anchor as i64,
            base_nanos: base as i64,
            frequency_ppb: frequency as i64,
            slew_nanos: slew as i64,
            slew_duration_nanos: duration as i64,
        })
    }
}

impl PhysicalClock for CorrectedClock {
    fn now_micros(&self) -> u64 {
        let local = (self.shared.clock.now_micros() as i64).saturating_mul(1_000);
        let correction = self.correction().map_or(0, |c| c.at(local));
        let corrected = (local.saturating_add(correction).max(0) / 1_000) as u64;
        let previous = self
            .shared
            .high_water_micros
            .fetch_max(corrected, Ordering::Relaxed);
        previous.max(corrected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discipline::DEFAULT_PANIC_THRESHOLD;
    use hlc_core::{Hlc, ManualClock};
    use std::time::Duration;

    const START_MICROS: u64 = 1_700_000_000_000_000;

    fn clock() -> (ManualClock, CorrectedClock) {
        let local = ManualClock::new(START_MICROS);
        let corrected = CorrectedClock::new(
            Arc::new(local.clone()),
            Discipline::new(DEFAULT_PANIC_THRESHOLD),
        );
        (local, corrected)
    }

    #[test]
    fn reads_local_time_until_the_first_estimate_then_steps() {
        let (local, corrected) = clock();
        assert_eq!(corrected.now_micros(), START_MICROS);
        let now = local.now_micros() as i64 * 1_000;
        corrected.apply(now, 2_000_000_000).unwrap();
        assert_eq!(corrected.now_micros(), START_MICROS + 2_000_000);
    }

    #[test]
    fn never_goes_backwards_even_when_the_local_clock_does() {
        let (local, corrected) = clock();
        let first = corrected.now_micros();
        local.rewind(Duration::from_secs(5));
        assert_eq!(corrected.now_micros(), first);
        local.advance(Duration::from_secs(6));
        assert_eq!(corrected.now_micros(), first + 1_000_000);
    }

    #[test]
    fn refuses_panics_and_keeps_its_correction() {
        let (local, corrected) = clock();
        let now = local.now_micros() as i64 * 1_000;
        let error = corrected.apply(now, -2_000_000_000_000).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("behind exceeds the panic threshold"),
            "{error}"
        );
        assert_eq!(corrected.correction(), None);
        assert_eq!(corrected.now_micros(), START_MICROS);
    }

    #[test]
    fn drives_an_hlc() {
        let (local, corrected) = clock();
        corrected
            .apply(local.now_micros() as i64 * 1_000, 1_000_000_000)
            .unwrap();
        let hlc = Hlc::with_clock(corrected.clone());
        assert_eq!(hlc.now().physical_micros(), START_MICROS + 1_000_000);
        assert!(format!("{corrected:?}").contains("base_nanos: 1000000000"));
    }
}
