//! The client's side of a leap second, between polls: take in the majority's announcement,
//! stop combining samples that may straddle the step, and move the estimate measured after
//! the step into the continuous numbering until the leap, and the smear around it, are
//! behind. The [`Tracker`](crate::proto::tracking::Tracker) runs it at every refresh.

use serde::{Deserialize, Serialize};

use super::{expected_disagreement, Leap, LeapInForce, LeapKind, LEAP_COOLDOWN, LEAP_GUARD};
use super::{month_end_after, SECOND, SMEAR_WINDOW};
use crate::proto::engine::{Engine, Evaluation, Outcome, SourceState};
use crate::proto::estimate::Estimate;
use crate::proto::packet::LeapIndicator;

/// Slack on the local time after which samples count as taken after the step: the
/// reference estimate's radius grows at the drift bound meanwhile, by far less than this.
const CUTOFF_MARGIN_NANOS: i64 = SECOND;

/// A leap the majority announced, and how far the client has come through it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
struct Active {
    leap: Leap,
    /// The latest estimate measured before the step: where the step falls on the local clock.
    reference: Estimate,
    /// Once the step is near: the local time after which a sample's request must have left
    /// for the sample to be certainly measured after the step.
    cutoff_local_nanos: Option<i64>,
    /// The estimate in force was measured after the step.
    measured_after: bool,
}

/// What [`LeapFollower::after_selection`] decided.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Followed {
    /// The network's estimate to keep, in the continuous numbering while a leap is in force.
    pub network: Option<Estimate>,
    /// Non-zero when the leap is behind: the numbering moved by this much, and so must the
    /// discipline's correction.
    pub renumbered_nanos: i64,
}

/// The leap in force, if any, and the one passed last.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct LeapFollower {
    active: Option<Active>,
    passed: Option<Leap>,
}

impl LeapFollower {
    /// The leap in force, as the read side needs it.
    pub fn in_force(&self) -> Option<LeapInForce> {
        self.active.map(|a| LeapInForce {
            leap: a.leap,
            measured_after: a.measured_after,
        })
    }

    /// Whether samples are being held to the step: from [`LEAP_GUARD`] before it until the
    /// leap is behind. Bounds that carry no leap of their own (the kernel's, read on a clock
    /// that steps) are not combined meanwhile.
    pub fn near_step(&self) -> bool {
        self.active.is_some_and(|a| a.cutoff_local_nanos.is_some())
    }

    /// A disruption broke the link between the local clock and every estimate, the
    /// reference included: the leap is forgotten and taken in again from the next
    /// announcement (a disruption within [`LEAP_GUARD`] of the step is not covered).
    pub fn disrupted(&mut self) {
        self.active = None;
    }

    /// Before selection at local time `now`: once the truth may be within [`LEAP_GUARD`] of
    /// the step, drops every sample that may have been measured before it, for good.
    pub fn before_selection(&mut self, engine: &mut Engine, now: i64) {
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let drift = engine.config().drift_ppb;
        let step = active.leap.step_nanos();
        if active.cutoff_local_nanos.is_none() {
            let (_, latest) = active.reference.true_time_at(now, drift);
            if latest < step.saturating_sub(guard_nanos()) {
                return;
            }
            // The local time at which the truth is certainly past the ambiguous second.
            let (earliest, _) = active.reference.true_time_at(now, drift);
            let lead = earliest - now;
            active.cutoff_local_nanos = Some(step + SECOND + CUTOFF_MARGIN_NANOS - lead);
        }
        let Some(cutoff) = active.cutoff_local_nanos else {
            return;
        };
        let timeout = i64::try_from(engine.config().poll.timeout.as_nanos()).unwrap_or(i64::MAX);
        // The request left at most a timeout before the answer, and the server's clock was
        // within the sample's radius of the truth: it had stepped if the truth had.
        engine.retain_samples(|s| {
            s.taken_at_nanos
                .saturating_sub(timeout)
                .saturating_sub(s.radius_nanos)
                >= cutoff
        });
    }

    /// After selection at local time `now`: `network` is the estimate selection leaves in
    /// force. Takes in an announcement (or its withdrawal), moves an estimate measured after
    /// the step into the continuous numbering, and lets the leap go once its smear window
    /// is certainly over.
    pub fn after_selection(
        &mut self,
        engine: &Engine,
        evaluation: &Evaluation,
        network: Option<Estimate>,
        now: i64,
    ) -> Followed {
        let drift = engine.config().drift_ppb;
        let agreed = matches!(evaluation.outcome, Outcome::Agreed(_));
        let mut followed = Followed {
            network,
            renumbered_nanos: 0,
        };
        let Some(active) = self.active.as_mut() else {
            let announced = engine.announced_leap(evaluation);
            let kind = announced.and_then(LeapKind::from_indicator);
            if let (Some(kind), Some(estimate), true) = (kind, network, agreed) {
                self.take_in(kind, estimate, now, drift);
            }
            return followed;
        };
        if active.cutoff_local_nanos.is_none() {
            if agreed && engine.announced_leap(evaluation) == Some(LeapIndicator::NoWarning) {
                // The majority no longer announces it: withdrawn before it came.
                self.active = None;
                return followed;
            }
            if let Some(estimate) = network {
                active.reference = estimate;
            }
            return followed;
        }
        let shift = active.leap.shift_nanos();
        if agreed {
            // Only samples taken after the step are left: this estimate counts the new
            // numbering, moved back into the continuous one.
            active.measured_after = true;
            followed.network = network.map(|e| Estimate {
                offset_nanos: e.offset_nanos - shift,
                ..e
            });
        }
        let window_end = active.leap.step_nanos() + window_nanos() / 2;
        let behind = followed
            .network
            .filter(|_| active.measured_after)
            .is_some_and(|e| e.true_time_at(now, drift).0 >= window_end);
        if behind {
            self.passed = Some(active.leap);
            self.active = None;
            followed.network = followed.network.map(|e| Estimate {
                offset_nanos: e.offset_nanos + shift,
                ..e
            });
            followed.renumbered_nanos = shift;
        }
        followed
    }

    /// Takes in the majority's announcement of `kind`, made with `estimate` at local `now`,
    /// for the end of the month the estimate says it is; refused while the estimate
    /// straddles a month's end or the step is already near, and for a day after a leap.
    fn take_in(&mut self, kind: LeapKind, estimate: Estimate, now: i64, drift: i64) {
        let (earliest, latest) = estimate.true_time_at(now, drift);
        let month_end = |nanos: i64| month_end_after(nanos.div_euclid(SECOND));
        if month_end(earliest) != month_end(latest) {
            return;
        }
        let leap = Leap::at_month_end(kind, earliest);
        let cooling = self.passed.is_some_and(|passed| {
            let cooldown = i64::try_from(LEAP_COOLDOWN.as_secs()).unwrap_or(i64::MAX);
            earliest.div_euclid(SECOND) < passed.midnight_unix_secs.saturating_add(cooldown)
        });
        let too_late = latest >= leap.step_nanos().saturating_sub(guard_nanos());
        if cooling || too_late {
            return;
        }
        self.active = Some(Active {
            leap,
            reference: estimate,
            cutoff_local_nanos: None,
            measured_after: false,
        });
    }

    /// The falsetickers of `evaluation` whose disagreement with the agreed estimate is what
    /// a smearing source shows against stepping ones (or the other way round) at local time
    /// `now`, within the radii: probably a mix of smeared and unsmeared servers, not liars.
    pub fn probable_smear(&self, engine: &Engine, evaluation: &Evaluation, now: i64) -> Vec<usize> {
        let (Some(active), Some(agreed)) = (self.active, evaluation.estimate()) else {
            return Vec::new();
        };
        let drift = engine.config().drift_ppb;
        // The agreed estimate counts the numbering of the samples it came from.
        let renumbered = match active.measured_after {
            true => active.leap.shift_nanos(),
            false => 0,
        };
        let continuous = now + agreed.offset_nanos - renumbered;
        let expected = expected_disagreement(&active.leap, continuous);
        let states = evaluation.states.iter().enumerate();
        states
            .filter(|(_, state)| **state == SourceState::Falseticker)
            .filter_map(|(index, _)| {
                let best = engine.sources()[index].filter().best()?;
                let tolerance = best.radius_at(now, drift) + agreed.radius_at(now, drift);
                let seen = best.offset_nanos - agreed.offset_nanos;
                let matches = expected
                    .iter()
                    .any(|e| e.abs() > tolerance && (seen - e).abs() <= tolerance);
                matches.then_some(index)
            })
            .collect()
    }
}

fn guard_nanos() -> i64 {
    i64::try_from(LEAP_GUARD.as_nanos()).unwrap_or(i64::MAX)
}

fn window_nanos() -> i64 {
    i64::try_from(SMEAR_WINDOW.as_nanos()).unwrap_or(i64::MAX)
}
