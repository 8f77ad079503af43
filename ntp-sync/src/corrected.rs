//! The software-disciplined clock: local time plus the discipline's correction, readable
//! lock-free by any number of threads, for an [`Hlc`](hlc_core::Hlc).

use std::sync::Arc;
use std::time::Duration;

use hlc_core::PhysicalClock;

use crate::proto::discipline::Correction;
use crate::proto::leap::Leap;
use crate::proto::published_correction::PublishedCorrection;
use crate::proto::step_guard::StepGuard;

/// A [`PhysicalClock`] that reads local time and adds the published correction.
///
/// Before the first correction it reads the local clock unchanged. It never goes backwards: a
/// slewed correction's rate stays within 500 ppm of the local clock's, and a high-water mark
/// holds the clock still after a backward step (of the correction, or of the local clock)
/// until time catches up. How far it may be from true time meanwhile is what
/// [`NtpClient::health`](crate::NtpClient::health) reports. Build the `Hlc` after
/// [`NtpClient::wait_synced`](crate::NtpClient::wait_synced), so that the first-sync step
/// happens before the first stamp.
///
/// At a leap second the majority of its servers announced it reads Unix time as a kernel
/// does: through an inserted second it counts the last second again (never below what it
/// read last), at a deleted one it moves a second forward. Built [with the smear](Self::with_leap_smear) it instead takes the second in
/// linearly over the 24 hours around the leap, noon to noon UTC, as the public smearing time
/// services do, and never stops or jumps; see [`crate::proto::leap`] for what that does to
/// the bound.
#[derive(Clone)]
pub struct CorrectedClock {
    shared: Arc<Shared>,
}

struct Shared {
    published: PublishedCorrection,
    clock: Arc<dyn PhysicalClock>,
    /// For a local clock that can be stepped: the reference it is checked against.
    guard: Option<Guard>,
}

/// A [`StepGuard`] and the never-stepped reference clock it compares the local clock with.
struct Guard {
    reference: Arc<dyn PhysicalClock>,
    state: StepGuard,
}

impl std::fmt::Debug for CorrectedClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorrectedClock")
            .field("correction", &self.correction())
            .finish_non_exhaustive()
    }
}

impl CorrectedClock {
    /// A clock over `local` with no correction yet, stepping at leap seconds (smearing is
    /// off by default: [`DEFAULT_LEAP_SMEAR`](crate::proto::leap::DEFAULT_LEAP_SMEAR)).
    pub fn new(local: Arc<dyn PhysicalClock>) -> Self {
        Self::with_leap_smear(local, crate::proto::leap::DEFAULT_LEAP_SMEAR)
    }

    /// A clock over `local` with no correction yet that smears leap seconds when `smear` is
    /// set. Do not mix: nodes whose clocks smear and nodes whose clocks step are up to half
    /// a second apart during the 24 hours around a leap, and so are smearing and stepping
    /// servers (selection names such a disagreement in
    /// [`SourceReport::probable_smear`](crate::proto::engine::SourceReport::probable_smear)).
    pub fn with_leap_smear(local: Arc<dyn PhysicalClock>, smear: bool) -> Self {
        Self::build(local, smear, None)
    }

    /// A clock over a `local` clock that may be stepped (a supplied one), checked on every
    /// read against `reference`, a clock that is never stepped: a step of `local` since the
    /// correction in force was put in force is read as if it had not happened, until a new
    /// correction measured on the stepped clock is published (see
    /// [`crate::proto::step_guard`]). The check costs one read of `reference` per read.
    pub fn guarded(
        local: Arc<dyn PhysicalClock>,
        reference: Arc<dyn PhysicalClock>,
        smear: bool,
    ) -> Self {
        let guard = Guard {
            reference,
            state: StepGuard::new(),
        };
        Self::build(local, smear, Some(guard))
    }

    fn build(local: Arc<dyn PhysicalClock>, smear: bool, guard: Option<Guard>) -> Self {
        let shared = Shared {
            published: PublishedCorrection::new().with_leap_smear(smear),
            clock: local,
            guard,
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Puts `correction` in force for every reader.
    pub fn publish(&self, correction: Correction) {
        self.publish_with_leap(correction, None);
    }

    /// Puts `correction` in force with the leap second it counts the continuous numbering
    /// of (see [`PublishedCorrection::publish_with_leap`]).
    pub fn publish_with_leap(&self, correction: Correction, leap: Option<Leap>) {
        let changed = self.correction() != Some(correction);
        self.shared.published.publish_with_leap(correction, leap);
        // Only a new correction was measured on the local clock as it reads now; the one in
        // force published again may predate a step the tracker has not noticed. The anchor
        // follows the correction: a reader that sees the new anchor sees the new correction.
        if let (true, Some(guard)) = (changed, &self.shared.guard) {
            let local = self.shared.clock.now_micros();
            guard.state.anchor(local, guard.reference.now_micros());
        }
    }

    /// Whether the clock smears leap seconds.
    pub fn smears_leaps(&self) -> bool {
        self.shared.published.smears_leaps()
    }

    /// The correction in force, `None` before the first one.
    pub fn correction(&self) -> Option<Correction> {
        self.shared.published.correction()
    }

    /// The local clock it corrects.
    pub fn local_clock(&self) -> &Arc<dyn PhysicalClock> {
        &self.shared.clock
    }

    /// The local clock's reading that the clock corrects now: the local clock, or for a
    /// [guarded](Self::guarded) clock stepped since the correction in force, where it would
    /// read had it not been stepped.
    pub fn local_reading(&self) -> u64 {
        let local = self.shared.clock.now_micros();
        match &self.shared.guard {
            Some(guard) => guard
                .state
                .local_reading(local, guard.reference.now_micros()),
            None => local,
        }
    }

    /// What the clock reads when the local clock reads `local_micros`. Readers that need the
    /// corrected time and something else at one instant read the local clock once and pass
    /// it here.
    pub fn reading_at(&self, local_micros: u64) -> u64 {
        self.shared.published.reading_at(local_micros)
    }
}

impl PhysicalClock for CorrectedClock {
    fn now_micros(&self) -> u64 {
        self.reading_at(self.local_reading())
    }

    /// The local clock's: the correction adds no graininess of its own.
    fn resolution(&self) -> Duration {
        self.shared.clock.resolution()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::discipline::{Discipline, DEFAULT_PANIC_THRESHOLD};
    use hlc_core::{Hlc, ManualClock};
    use std::time::Duration;

    const START_MICROS: u64 = 1_700_000_000_000_000;

    fn clock() -> (ManualClock, CorrectedClock, Discipline) {
        let local = ManualClock::new(START_MICROS);
        let corrected = CorrectedClock::new(Arc::new(local.clone()));
        (local, corrected, Discipline::new(DEFAULT_PANIC_THRESHOLD))
    }

    fn apply(local: &ManualClock, corrected: &CorrectedClock, d: &mut Discipline, offset: i64) {
        d.update(local.now_micros() as i64 * 1_000, offset).unwrap();
        corrected.publish(d.correction().unwrap());
    }

    #[test]
    fn reads_local_time_until_the_first_correction_then_steps() {
        let (local, corrected, mut d) = clock();
        assert_eq!(corrected.now_micros(), START_MICROS);
        apply(&local, &corrected, &mut d, 2_000_000_000);
        assert_eq!(corrected.now_micros(), START_MICROS + 2_000_000);
        assert_eq!(corrected.correction(), d.correction());
    }

    #[test]
    fn a_guarded_clock_reads_through_a_step_until_a_correction_measured_after_it() {
        let local = ManualClock::new(START_MICROS);
        let reference = ManualClock::new(0);
        let corrected =
            CorrectedClock::guarded(Arc::new(local.clone()), Arc::new(reference.clone()), false);
        let mut d = Discipline::new(DEFAULT_PANIC_THRESHOLD);
        apply(&local, &corrected, &mut d, 1_000_000_000);
        let second = Duration::from_secs(1);
        // One second on, the local clock stepped 2 s ahead: read as if it had not been.
        local.advance(3 * second);
        reference.advance(second);
        assert_eq!(corrected.now_micros(), START_MICROS + 2_000_000);
        // The correction in force published again (a refresh that noticed nothing new) was
        // measured before the step: still read through it.
        corrected.publish(corrected.correction().unwrap());
        assert_eq!(corrected.now_micros(), START_MICROS + 2_000_000);
        // A correction measured on the stepped clock (-1 s) is taken as it reads.
        d.update(local.now_micros() as i64 * 1_000, -1_000_000_000)
            .unwrap();
        corrected.publish(d.correction().unwrap());
        local.advance(second);
        reference.advance(second);
        assert_eq!(corrected.now_micros(), START_MICROS + 3_000_000);
    }

    #[test]
    fn never_goes_backwards_even_when_the_local_clock_does() {
        let (local, corrected, _) = clock();
        let first = corrected.now_micros();
        local.rewind(Duration::from_secs(5));
        assert_eq!(corrected.now_micros(), first);
        local.advance(Duration::from_secs(6));
        assert_eq!(corrected.now_micros(), first + 1_000_000);
    }

    #[test]
    fn a_backward_step_holds_the_clock_still_until_time_catches_up() {
        let (local, corrected, mut d) = clock();
        apply(&local, &corrected, &mut d, 0);
        let before = corrected.now_micros();
        apply(&local, &corrected, &mut d, -1_000_000_000);
        assert_eq!(corrected.reading_at(local.now_micros()), before);
        local.advance(Duration::from_millis(1_500));
        assert_eq!(corrected.now_micros(), before + 500_000);
    }

    #[test]
    fn drives_an_hlc() {
        let (local, corrected, mut d) = clock();
        apply(&local, &corrected, &mut d, 1_000_000_000);
        let hlc = Hlc::with_clock(corrected.clone());
        assert_eq!(hlc.now().physical_micros(), START_MICROS + 1_000_000);
        assert!(format!("{corrected:?}").contains("base_nanos: 1000000000"));
        assert_eq!(corrected.resolution(), Duration::from_micros(1));
    }

    #[test]
    fn at_an_inserted_leap_it_repeats_a_second_and_a_smearing_one_never_does() {
        let midnight = START_MICROS / 1_000_000 + 10;
        let leap = Leap {
            kind: crate::proto::leap::LeapKind::Insert,
            midnight_unix_secs: midnight as i64,
        };
        let step = midnight * 1_000_000;
        let local = ManualClock::new(step - 500_000);
        let stepping = CorrectedClock::new(Arc::new(local.clone()));
        let smearing = CorrectedClock::with_leap_smear(Arc::new(local.clone()), true);
        assert!(smearing.smears_leaps() && !stepping.smears_leaps());
        for clock in [&stepping, &smearing] {
            clock.publish_with_leap(Correction::default(), Some(leap));
        }
        assert_eq!(stepping.now_micros(), step - 500_000);
        // Half a second before the centre of the smear, a little under half a second behind.
        let smeared = smearing.now_micros();
        assert!(
            (step - 1_000_000..step - 500_000).contains(&smeared),
            "{smeared}"
        );
        local.advance(Duration::from_millis(1_000));
        // In the leap second Unix time reads 23:59:59.5 again: never less than it read last.
        assert_eq!(stepping.now_micros(), step - 500_000);
        local.advance(Duration::from_millis(1_000));
        assert_eq!(stepping.now_micros(), step + 500_000);
        assert!(smearing.now_micros() > smeared + 1_999_000);
    }
}
