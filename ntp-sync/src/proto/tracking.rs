//! What the client does after every poll, without I/O: notice a stepped local clock, select
//! among the sources, feed the discipline once per new sample, and decide the estimate to
//! publish. The tokio client and the simulation both drive this one [`Tracker`], passing in
//! the clock readings they took.

use crate::proto::discipline::{Correction, Discipline, DisciplineAction, DisciplineError};
use crate::proto::engine::{Engine, Evaluation, Outcome};
use crate::proto::estimate::Estimate;
use crate::proto::step::StepDetector;

/// The clock readings of one refresh, taken together.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Readings {
    /// The local clock, nanoseconds since the Unix epoch.
    pub local_nanos: i64,
    /// A monotonic clock (any origin) to check the local clock against; ignored unless the
    /// tracker watches for steps.
    pub monotonic_nanos: i64,
}

/// What one refresh decided.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Update {
    /// The selection at this instant.
    pub evaluation: Evaluation,
    /// The local clock was seen stepping: every sample was dropped and the estimate withdrawn.
    pub stepped: bool,
    /// What the discipline did with a new estimate, if one came.
    pub action: Option<Result<DisciplineAction, DisciplineError>>,
    /// The estimate to publish (`None`: withdrawn, or none yet).
    pub published: Option<Estimate>,
    /// The correction in force, to publish to the corrected clock.
    pub correction: Option<Correction>,
}

/// The client's state between polls: the estimate in force and the discipline.
#[derive(Clone, Debug)]
pub struct Tracker {
    discipline: Discipline,
    steps: Option<StepDetector>,
    published: Option<Estimate>,
    applied_sample_nanos: i64,
    refused: Option<DisciplineError>,
}

impl Tracker {
    /// A tracker over `discipline`. With `watch_steps` it compares the local clock with the
    /// monotonic reading at every refresh: needed for a local clock that might be stepped,
    /// pointless for the [`SteadyClock`](crate::SteadyClock), which cannot be.
    pub fn new(discipline: Discipline, watch_steps: bool) -> Self {
        Self {
            discipline,
            steps: watch_steps.then(StepDetector::default),
            published: None,
            applied_sample_nanos: i64::MIN,
            refused: None,
        }
    }

    /// The estimate in force.
    pub fn published(&self) -> Option<Estimate> {
        self.published
    }

    /// Set while the discipline refuses the estimate (beyond the panic threshold).
    pub fn refused(&self) -> Option<DisciplineError> {
        self.refused
    }

    /// Re-evaluates `engine` at `readings` and decides what to publish.
    pub fn refresh(&mut self, engine: &mut Engine, readings: Readings) -> Update {
        let now = readings.local_nanos;
        let stepped = self
            .steps
            .as_mut()
            .is_some_and(|steps| steps.stepped(now, readings.monotonic_nanos));
        if stepped {
            // Samples and estimate measured a clock that no longer reads as it did.
            engine.forget_samples();
            self.published = None;
            self.discipline.clock_stepped();
        }
        let evaluation = engine.evaluate(now);
        let action = match evaluation.outcome {
            Outcome::Agreed(estimate) => self.discipline(estimate),
            _ => None,
        };
        self.published = evaluation.next_published(self.published);
        Update {
            evaluation,
            stepped,
            action,
            published: self.published,
            correction: self.discipline.correction(),
        }
    }

    /// Feeds the discipline, once per new sample: re-applying an estimate made from the same
    /// samples would fool the frequency estimate into seeing no drift.
    fn discipline(
        &mut self,
        estimate: Estimate,
    ) -> Option<Result<DisciplineAction, DisciplineError>> {
        if estimate.newest_sample_nanos <= self.applied_sample_nanos {
            return None;
        }
        self.applied_sample_nanos = estimate.newest_sample_nanos;
        let result = self
            .discipline
            .update(estimate.at_nanos, estimate.offset_nanos);
        self.refused = result.err();
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::answer::{answer, ServerParams};
    use crate::proto::discipline::DEFAULT_PANIC_THRESHOLD;
    use crate::proto::engine::EngineConfig;
    use crate::proto::sample::LocalTimes;
    use std::net::SocketAddr;

    const SECOND: i64 = 1_000_000_000;
    const NOW: i64 = 1_700_000_000 * SECOND;

    fn answered(engine: &mut Engine, at: i64, offset: i64) {
        let address = SocketAddr::from(([127, 0, 0, 1], 123));
        let request = engine.begin_poll(0, at as u64);
        let response = answer(&request, at + offset, at + offset, &ServerParams::default());
        let local = LocalTimes {
            sent_nanos: at,
            received_nanos: at,
        };
        engine
            .on_response(0, &response.unwrap(), address, local)
            .unwrap();
    }

    fn setup(watch_steps: bool) -> (Engine, Tracker) {
        let mut engine = Engine::new(EngineConfig::default());
        engine.add_source("a", Some(SocketAddr::from(([127, 0, 0, 1], 123))));
        let tracker = Tracker::new(Discipline::new(DEFAULT_PANIC_THRESHOLD), watch_steps);
        (engine, tracker)
    }

    fn at(local: i64, monotonic: i64) -> Readings {
        Readings {
            local_nanos: local,
            monotonic_nanos: monotonic,
        }
    }

    #[test]
    fn a_new_sample_is_disciplined_once_and_published() {
        let (mut engine, mut tracker) = setup(false);
        answered(&mut engine, NOW, 2 * SECOND);
        let first = tracker.refresh(&mut engine, at(NOW, 0));
        assert!(matches!(
            first.action,
            Some(Ok(DisciplineAction::Stepped { .. }))
        ));
        assert_eq!(first.correction.unwrap().base_nanos, 2 * SECOND);
        assert_eq!(first.published, tracker.published());
        let again = tracker.refresh(&mut engine, at(NOW + SECOND, SECOND));
        assert_eq!(again.action, None);
        assert!(again.published.is_some());
    }

    #[test]
    fn a_stepped_local_clock_withdraws_everything_then_steps_the_correction() {
        let (mut engine, mut tracker) = setup(true);
        answered(&mut engine, NOW, 0);
        tracker.refresh(&mut engine, at(NOW, 0));
        // The local clock jumps 5 s ahead while the monotonic clock moves 10 s.
        let later = NOW + 15 * SECOND;
        let update = tracker.refresh(&mut engine, at(later, 10 * SECOND));
        assert!(update.stepped);
        assert_eq!(update.published, None);
        assert_eq!(engine.evaluate(later).estimate(), None);
        // The next answer measures the stepped clock: the correction steps with it.
        answered(&mut engine, later + SECOND, -5 * SECOND);
        let update = tracker.refresh(&mut engine, at(later + SECOND, 11 * SECOND));
        assert!(!update.stepped);
        assert!(matches!(
            update.action,
            Some(Ok(DisciplineAction::Stepped { .. }))
        ));
        assert_eq!(update.correction.unwrap().at(later + SECOND), -5 * SECOND);
    }

    #[test]
    fn a_refused_estimate_is_remembered_until_one_is_accepted() {
        let (mut engine, mut tracker) = setup(false);
        answered(&mut engine, NOW, 2_000 * SECOND);
        let update = tracker.refresh(&mut engine, at(NOW, 0));
        assert!(matches!(update.action, Some(Err(_))));
        assert!(tracker.refused().is_some());
        assert_eq!(update.correction, None);
        answered(&mut engine, NOW + SECOND, SECOND);
        tracker.refresh(&mut engine, at(NOW + SECOND, SECOND));
        assert_eq!(tracker.refused(), None);
    }
}
