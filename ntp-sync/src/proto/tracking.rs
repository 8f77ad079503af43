//! What the client does after every poll, without I/O: notice a stepped local clock, select
//! among the sources, feed the discipline once per new sample, and decide the estimate to
//! publish. The tokio client and the simulation both drive this one [`Tracker`], passing in
//! the clock readings they took.

use crate::proto::combine::{combine, CombineAt, Conflict, TimeSources};
use crate::proto::discipline::{Correction, Discipline, DisciplineAction, DisciplineError};
use crate::proto::engine::{Engine, Evaluation};
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
    /// Set when the network's and the kernel's bounds do not meet (nothing is published).
    pub conflict: Option<Conflict>,
    /// The correction in force, to publish to the corrected clock.
    pub correction: Option<Correction>,
}

/// The client's state between polls: the estimate in force and the discipline.
#[derive(Clone, Debug)]
pub struct Tracker {
    discipline: Discipline,
    steps: Option<StepDetector>,
    sources: TimeSources,
    /// The network's estimate in force.
    network: Option<Estimate>,
    /// The kernel's estimate from its latest read, on the local clock.
    kernel: Option<Estimate>,
    /// What the sources give together: the estimate published.
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
            sources: TimeSources::Network,
            network: None,
            kernel: None,
            published: None,
            applied_sample_nanos: i64::MIN,
            refused: None,
        }
    }

    /// Bounds true time with `sources` (default [`TimeSources::Network`]); see
    /// [`combine`](crate::proto::combine) for how two are combined.
    pub fn with_sources(mut self, sources: TimeSources) -> Self {
        self.sources = sources;
        self
    }

    /// The kernel's estimate from its latest read, on the local clock (`None`: the kernel is
    /// not synchronised, or could not be read); used from the next refresh on.
    pub fn set_kernel(&mut self, kernel: Option<Estimate>) {
        self.kernel = kernel;
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
            // The kernel's estimate was carried over to the clock as it read before, too.
            engine.forget_samples();
            self.network = None;
            self.kernel = None;
            self.discipline.clock_stepped();
        }
        let evaluation = engine.evaluate(now);
        self.network = evaluation.next_published(self.network);
        let at = CombineAt {
            now_nanos: now,
            drift_ppb: engine.config().drift_ppb,
            policy: engine.config().status,
        };
        let combined = combine(self.sources, self.network, self.kernel, &at);
        self.published = combined.estimate();
        let action = self
            .published
            .and_then(|estimate| self.discipline(estimate));
        Update {
            evaluation,
            stepped,
            action,
            published: self.published,
            conflict: combined.conflict(),
            correction: self.discipline.correction(),
        }
    }

    /// Feeds the discipline, once per new sample: re-applying an estimate made from the same
    /// samples would fool the frequency estimate into seeing no drift. With the network
    /// alone this is every new agreed estimate, as before sources could be combined: one
    /// published but not new was applied when it was.
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

    fn kernel(offset: i64, radius: i64, at: i64) -> Estimate {
        Estimate {
            offset_nanos: offset,
            radius_nanos: radius,
            at_nanos: at,
            newest_sample_nanos: at,
        }
    }

    #[test]
    fn with_both_sources_a_kernel_that_contradicts_the_network_withdraws_the_bound() {
        let (mut engine, tracker) = setup(false);
        let mut tracker = tracker.with_sources(TimeSources::Both);
        answered(&mut engine, NOW, 0);
        // The kernel says true time is 2 s ahead, within 10 ms: the network says 0.
        tracker.set_kernel(Some(kernel(2 * SECOND, 10_000_000, NOW)));
        let update = tracker.refresh(&mut engine, at(NOW, 0));
        let conflict = update.conflict.expect("a conflict");
        assert!(conflict.kernel.0 > conflict.network.1);
        assert_eq!(update.published, None);
        assert_eq!(update.action, None);
        // A kernel that agrees: the intersection, which the discipline follows.
        tracker.set_kernel(Some(kernel(1_000, 10_000_000, NOW)));
        let update = tracker.refresh(&mut engine, at(NOW, 0));
        assert_eq!(update.conflict, None);
        let published = update.published.unwrap();
        assert!(published.radius_nanos <= 10_000_000);
        assert!(matches!(update.action, Some(Ok(_))));
        // A kernel with no bound leaves the network's alone.
        tracker.set_kernel(None);
        let update = tracker.refresh(&mut engine, at(NOW + SECOND, SECOND));
        assert_eq!(update.published, engine.evaluate(NOW + SECOND).estimate());
    }

    #[test]
    fn with_the_kernel_alone_its_estimate_is_published_and_followed() {
        let mut engine = Engine::new(EngineConfig::default());
        let mut tracker = Tracker::new(Discipline::new(DEFAULT_PANIC_THRESHOLD), false)
            .with_sources(TimeSources::Kernel);
        assert_eq!(tracker.refresh(&mut engine, at(NOW, 0)).published, None);
        let estimate = kernel(3 * SECOND, 5_000_000, NOW);
        tracker.set_kernel(Some(estimate));
        let update = tracker.refresh(&mut engine, at(NOW, 0));
        assert_eq!(update.published, Some(estimate));
        assert!(matches!(
            update.action,
            Some(Ok(DisciplineAction::Stepped { .. }))
        ));
        assert_eq!(update.correction.unwrap().base_nanos, 3 * SECOND);
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
