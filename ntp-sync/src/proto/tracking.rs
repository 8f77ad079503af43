//! What the client does after every poll, without I/O: notice a disruption (a stepped local
//! clock, or what the [watchdog](crate::proto::watchdog) sees), select among the sources,
//! feed the discipline once per new sample, and decide the estimate to publish. The tokio
//! client and the simulation both drive this one [`Tracker`], passing in the clock readings
//! they took.
//!
//! A disruption that breaks the link between the local clock and the estimate (a suspend, a
//! pause, a step of the local clock) withdraws the estimate, drops every sample, abandons the
//! polls in flight and polls every source at once: samples from before the gap are never
//! combined with samples after it. The estimate stays withdrawn, and the status
//! [`Disrupted`](crate::Status::Disrupted), until the sources agree again on samples taken
//! after the gap. A step of the system clock alone is reported but changes nothing for a
//! local clock it did not move; the local clock's own step detector, which runs in the same
//! refresh, decides whether it moved.

use std::time::Duration;

use crate::proto::combine::{combine, CombineAt, Conflict, TimeSources};
use crate::proto::discipline::{Correction, Discipline, DisciplineAction, DisciplineError};
use crate::proto::engine::{Engine, Evaluation};
use crate::proto::estimate::Estimate;
use crate::proto::leap::{LeapFollower, LeapInForce};
use crate::proto::step::StepDetector;
use crate::proto::watchdog::{Disruption, DisruptionKind, HostClocks, Watchdog, WatchdogConfig};

/// The clock readings of one refresh, taken together.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Readings {
    /// The local clock, nanoseconds since the Unix epoch.
    pub local_nanos: i64,
    /// A monotonic clock (any origin) to check the local clock against; ignored unless the
    /// tracker watches for steps.
    pub monotonic_nanos: i64,
    /// The host's clocks for the watchdog; ignored without one.
    pub host: Option<HostClocks>,
}

/// What one refresh decided.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Update {
    /// The selection at this instant.
    pub evaluation: Evaluation,
    /// The local clock was seen stepping: every sample was dropped and the estimate withdrawn.
    pub stepped: bool,
    /// A disruption seen at this refresh.
    pub detected: Option<Disruption>,
    /// The disruption the estimate is withdrawn for, until the sources agree again on
    /// samples taken after it; publish [`Status::Disrupted`](crate::Status::Disrupted) while
    /// it is set.
    pub disruption: Option<Disruption>,
    /// What the discipline did with a new estimate, if one came.
    pub action: Option<Result<DisciplineAction, DisciplineError>>,
    /// The estimate to publish (`None`: withdrawn, or none yet).
    pub published: Option<Estimate>,
    /// Set when the network's and the kernel's bounds do not meet (nothing is published).
    pub conflict: Option<Conflict>,
    /// The correction in force, to publish to the corrected clock.
    pub correction: Option<Correction>,
    /// The leap second in force, to publish with the estimate and the correction (both
    /// count the continuous numbering while it is); see [`crate::proto::leap`].
    pub leap: Option<LeapInForce>,
    /// The falsetickers whose disagreement is the size a leap smear would explain.
    pub probable_smear: Vec<usize>,
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
    watchdog: Option<Watchdog>,
    disruption: Option<Disruption>,
    published: Option<Estimate>,
    applied_sample_nanos: i64,
    refused: Option<DisciplineError>,
    leap: LeapFollower,
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
            watchdog: None,
            disruption: None,
            published: None,
            applied_sample_nanos: i64::MIN,
            refused: None,
            leap: LeapFollower::default(),
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

    /// The same tracker with a disruption [`Watchdog`] over the host clocks it is given.
    pub fn with_watchdog(mut self, config: WatchdogConfig) -> Self {
        self.watchdog = Some(Watchdog::new(config));
        self
    }

    /// The watchdog's settings, if it has one.
    pub fn watchdog(&self) -> Option<&WatchdogConfig> {
        self.watchdog.as_ref().map(Watchdog::config)
    }

    /// The estimate in force.
    pub fn published(&self) -> Option<Estimate> {
        self.published
    }

    /// The disruption the estimate is withdrawn for, if it is.
    pub fn disruption(&self) -> Option<Disruption> {
        self.disruption
    }

    /// Set while the discipline refuses the estimate (beyond the panic threshold).
    pub fn refused(&self) -> Option<DisciplineError> {
        self.refused
    }

    /// A heartbeat of the watchdog at `readings`, the next one meant `sleep` later: `None`
    /// when it saw nothing (nothing else is done), otherwise the refresh that follows.
    pub fn heartbeat(
        &mut self,
        engine: &mut Engine,
        readings: Readings,
        sleep: Duration,
    ) -> Option<Update> {
        let watchdog = self.watchdog.as_mut()?;
        let seen = watchdog.heartbeat(readings.host?, sleep)?;
        Some(self.update(engine, readings, Some(seen)))
    }

    /// Re-evaluates `engine` at `readings` and decides what to publish; the watchdog checks
    /// the host clocks first, so a sample taken across a gap is dropped before it is used.
    pub fn refresh(&mut self, engine: &mut Engine, readings: Readings) -> Update {
        let seen = match (self.watchdog.as_mut(), readings.host) {
            (Some(watchdog), Some(host)) => watchdog.check_between(host),
            _ => None,
        };
        self.update(engine, readings, seen)
    }

    fn update(
        &mut self,
        engine: &mut Engine,
        readings: Readings,
        seen: Option<Disruption>,
    ) -> Update {
        let now = readings.local_nanos;
        let step = self
            .steps
            .as_mut()
            .and_then(|steps| steps.step(now, readings.monotonic_nanos, 0));
        let local_step = step.map(|gap_nanos| Disruption {
            kind: DisruptionKind::LocalClockStep,
            gap_nanos,
        });
        // The one that breaks the estimate, if either does.
        let detected = match seen {
            Some(d) if d.kind.invalidates_estimate() => Some(d),
            _ => local_step.or(seen),
        };
        if let Some(disruption) = detected.filter(|d| d.kind.invalidates_estimate()) {
            // Samples and estimates measured a clock across a gap it may not have counted:
            // the network's samples, and the kernel's bound carried over to the local clock
            // as it read before the gap.
            engine.resynchronise();
            self.network = None;
            self.kernel = None;
            self.published = None;
            self.discipline.clock_stepped();
            self.disruption = Some(disruption);
            self.leap.disrupted();
        }
        self.leap.before_selection(engine, now);
        let evaluation = engine.evaluate(now);
        let next = evaluation.next_published(self.network);
        let followed = self.leap.after_selection(engine, &evaluation, next, now);
        self.network = followed.network;
        if followed.renumbered_nanos != 0 {
            self.discipline.renumber(followed.renumbered_nanos);
        }
        let probable_smear = self.leap.probable_smear(engine, &evaluation, now);
        if self.network.is_some() || self.kernel.is_some() {
            // Everything from before the gap is gone: these are measured after it.
            self.disruption = None;
        }
        let at = CombineAt {
            now_nanos: now,
            drift_ppb: engine.config().drift_ppb,
            policy: engine.config().status,
        };
        // The kernel's bound is on a clock that steps at the leap: not combined across it.
        let kernel = self.kernel.filter(|_| !self.leap.near_step());
        let combined = combine(self.sources, self.network, kernel, &at);
        self.published = combined.estimate();
        let action = self
            .published
            .and_then(|estimate| self.discipline(estimate));
        Update {
            evaluation,
            stepped: step.is_some(),
            detected,
            disruption: self.disruption,
            action,
            published: self.published,
            conflict: combined.conflict(),
            correction: self.discipline.correction(),
            leap: self.leap.in_force(),
            probable_smear,
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
            host: None,
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
        let disruption = update.disruption.unwrap();
        assert_eq!(update.detected, Some(disruption));
        assert_eq!(disruption.kind, DisruptionKind::LocalClockStep);
        assert_eq!(disruption.gap_nanos, 5 * SECOND);
        assert_eq!(engine.next_poll_in(0), Some(Duration::ZERO));
        assert_eq!(engine.evaluate(later).estimate(), None);
        // The next answer measures the stepped clock: the correction steps with it.
        answered(&mut engine, later + SECOND, -5 * SECOND);
        let update = tracker.refresh(&mut engine, at(later + SECOND, 11 * SECOND));
        assert!(!update.stepped);
        assert_eq!(update.disruption, None);
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

    /// Readings of a host whose clocks all read `local` (realtime moved by `realtime_step`)
    /// and whose boot clock is `asleep` ahead of its monotonic one.
    fn host(local: i64, asleep: i64, realtime_step: i64) -> Readings {
        Readings {
            local_nanos: local,
            monotonic_nanos: local,
            host: Some(HostClocks {
                boottime_nanos: local + asleep,
                monotonic_nanos: local,
                monotonic_raw_nanos: local,
                realtime_nanos: local + asleep + realtime_step,
                spread_nanos: 0,
            }),
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
    fn a_pause_withdraws_the_estimate_until_samples_after_it_agree() {
        let (mut engine, tracker) = setup(false);
        let mut tracker = tracker.with_watchdog(WatchdogConfig::default());
        let beat = Duration::from_millis(500);
        answered(&mut engine, NOW, 0);
        assert_eq!(tracker.heartbeat(&mut engine, host(NOW, 0, 0), beat), None);
        assert!(tracker
            .refresh(&mut engine, host(NOW, 0, 0))
            .published
            .is_some());
        // Stopped for 3 s in the middle of a heartbeat; the poll in flight straddles the gap.
        let request = engine.begin_poll(0, 77);
        let later = NOW + 3_500_000_000;
        let update = tracker
            .heartbeat(&mut engine, host(later, 0, 0), beat)
            .unwrap();
        let disruption = update.disruption.unwrap();
        assert_eq!(disruption.kind, DisruptionKind::Pause);
        assert_eq!(update.detected, Some(disruption));
        assert_eq!((update.published, tracker.published()), (None, None));
        assert_eq!(engine.next_poll_in(0), Some(Duration::ZERO));
        // The straddling answer is refused; until a new one comes, the client stays disrupted.
        let response = answer(&request, later, later, &ServerParams::default()).unwrap();
        let times = LocalTimes {
            sent_nanos: NOW,
            received_nanos: later,
        };
        let address = SocketAddr::from(([127, 0, 0, 1], 123));
        assert!(engine.on_response(0, &response, address, times).is_err());
        let update = tracker.refresh(&mut engine, host(later + SECOND, 0, 0));
        assert_eq!(
            (update.detected, update.disruption),
            (None, Some(disruption))
        );
        answered(&mut engine, later + 2 * SECOND, 0);
        let update = tracker.refresh(&mut engine, host(later + 2 * SECOND, 0, 0));
        assert_eq!(update.disruption, None);
        assert_eq!(tracker.disruption(), None);
        assert!(update.published.is_some());
    }

    #[test]
    fn a_suspend_is_seen_by_a_refresh_before_the_heartbeat() {
        let (mut engine, tracker) = setup(false);
        let mut tracker = tracker.with_watchdog(WatchdogConfig::default());
        answered(&mut engine, NOW, 0);
        tracker.heartbeat(&mut engine, host(NOW, 0, 0), Duration::from_millis(500));
        tracker.refresh(&mut engine, host(NOW, 0, 0));
        // Asleep 60 s; the poller runs first after the resume.
        let update = tracker.refresh(&mut engine, host(NOW + 100_000_000, 60 * SECOND, 0));
        let disruption = update.disruption.unwrap();
        assert_eq!(
            (disruption.kind, disruption.gap_nanos),
            (DisruptionKind::Suspend, 60 * SECOND)
        );
        assert_eq!(update.published, None);
        assert_eq!(engine.evaluate(NOW).estimate(), None);
    }

    #[test]
    fn a_system_clock_step_is_reported_but_leaves_a_steady_clock_estimate_alone() {
        let (mut engine, tracker) = setup(false);
        let mut tracker = tracker.with_watchdog(WatchdogConfig::default());
        answered(&mut engine, NOW, 0);
        tracker.refresh(&mut engine, host(NOW, 0, 0));
        let update = tracker.refresh(&mut engine, host(NOW + SECOND, 0, -2 * SECOND));
        let detected = update.detected.unwrap();
        assert_eq!(detected.kind, DisruptionKind::SystemClockStep);
        assert_eq!(update.disruption, None);
        assert!(update.published.is_some());
        assert!(engine.evaluate(NOW + SECOND).estimate().is_some());
    }

    #[test]
    fn a_suspend_drops_the_kernels_bound_until_a_read_after_it() {
        let mut engine = Engine::new(EngineConfig::default());
        let mut tracker = Tracker::new(Discipline::new(DEFAULT_PANIC_THRESHOLD), false)
            .with_sources(TimeSources::Kernel)
            .with_watchdog(WatchdogConfig::default());
        tracker.set_kernel(Some(kernel(SECOND, 5_000_000, NOW)));
        assert!(tracker
            .refresh(&mut engine, host(NOW, 0, 0))
            .published
            .is_some());
        // Asleep for 30 s: the bound read before it was carried over to a clock that did not
        // count the sleep.
        let update = tracker.refresh(&mut engine, host(NOW + SECOND, 30 * SECOND, 0));
        assert_eq!(
            update.disruption.map(|d| d.kind),
            Some(DisruptionKind::Suspend)
        );
        assert_eq!(update.published, None);
        let update = tracker.refresh(&mut engine, host(NOW + 2 * SECOND, 30 * SECOND, 0));
        assert_eq!(
            (update.published, update.disruption.is_some()),
            (None, true)
        );
        // A read after the resume ends the disruption.
        let fresh = kernel(31 * SECOND, 5_000_000, NOW + 3 * SECOND);
        tracker.set_kernel(Some(fresh));
        let update = tracker.refresh(&mut engine, host(NOW + 3 * SECOND, 30 * SECOND, 0));
        assert_eq!((update.published, update.disruption), (Some(fresh), None));
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
