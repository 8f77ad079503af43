//! A simulation harness in virtual time: one client against many servers with chosen clock
//! offsets and drifts, asymmetric and random delays, losses and lies, on a host whose system
//! clock is stepped and slewed. Every exchange goes through the real codec, validation,
//! filter, selection and [`Tracker`] (step detection, discipline); every read through the
//! real [`PublishedBound`] and [`PublishedCorrection`], which [`TrueTime`](crate::TrueTime)
//! and [`CorrectedClock`](crate::CorrectedClock) read too. Only the network and the clocks
//! are simulated, so a day of polling takes a fraction of a second.
//!
//! At random instants between polls the simulation reads the interval, the health and the
//! corrected clock, and counts every read at which one of them lied: true time outside an
//! interval that claimed a bound, or a corrected clock further from true time than a
//! healthy verdict allowed.
//!
//! ```
//! use ntp_sync::proto::sim::{Scenario, SimServer, Simulation};
//!
//! let mut scenario = Scenario::new(42);
//! scenario.local_offset_nanos = 250_000_000; // the local clock is 250 ms ahead
//! scenario.servers = vec![SimServer::honest(0), SimServer::honest(1_000), SimServer::liar(5_000_000_000)];
//! let report = Simulation::new(scenario).run(1_000);
//! assert_eq!((report.misses, report.health_misses), (0, 0));
//! assert!(report.bounded_checks > 1_900);
//! ```

mod gap;
mod rng;
mod world;

use std::net::{Ipv4Addr, SocketAddr};

use hlc_core::Timestamp;

pub use gap::{Gap, GapKind};
pub use world::DEFAULT_ANNOUNCE_NANOS;
pub use world::{ClientClock, DelayRange, Scenario, ServerLeap, SimServer, WallEvent};

use crate::proto::answer::answer;
use crate::proto::bound::{Health, PublishedBound, ReadPolicy};
use crate::proto::discipline::{Discipline, DEFAULT_PANIC_THRESHOLD};
use crate::proto::engine::{Engine, SourceState};
use crate::proto::estimate::{Estimate, Status};
use crate::proto::packet::LeapIndicator;
use crate::proto::published_correction::PublishedCorrection;
use crate::proto::sample::LocalTimes;
use crate::proto::source::PollFailure;
use crate::proto::tracking::{Readings, Tracker, Update};
use crate::proto::watchdog::WatchdogConfig;
use rng::SplitMix64;

/// What a run observed.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct SimReport {
    /// Requests sent.
    pub exchanges: u64,
    /// Responses that gave a sample.
    pub samples: u64,
    /// Reads at which the client claimed a bound (synchronised or free-running).
    pub bounded_checks: u64,
    /// Of those, reads at which true time was outside the bound: must be zero whenever a
    /// majority of the servers that vote is honest and the local clock keeps the drift bound
    /// (see [`honest_majority_misses`](Self::honest_majority_misses)).
    pub misses: u64,
    /// Reads at which the health was healthy.
    pub healthy_checks: u64,
    /// Of those, reads at which the corrected clock was further from true time than the
    /// healthy verdict's radius: must be zero under the same assumptions.
    pub health_misses: u64,
    /// True time of the last read with a miss of either kind.
    pub last_miss_nanos: Option<i64>,
    /// Reads with a miss of either kind under an estimate published while honest servers
    /// were a strict majority of the servers that vote: a broken promise, since the crate's
    /// assumption 1 held. The other misses came while a server that has no vote (it never
    /// answered its first polls, say) left the honest ones no majority of the voters, which
    /// no selection can tell from an honest majority of another opinion.
    pub honest_majority_misses: u64,
    /// Reads at which the corrected clock read less than at the read before.
    pub backward_reads: u64,
    /// The largest radius claimed, in nanoseconds.
    pub max_radius_nanos: i64,
    /// Times the client noticed its local clock stepping.
    pub steps_noticed: u64,
    /// Disruptions the client noticed (steps of its local clock included).
    pub disruptions: u64,
    /// Reads at which the status was disrupted.
    pub disrupted_reads: u64,
    /// The status read the moment the client ran again after each gap, in order.
    pub status_after_gaps: Vec<Status>,
    /// The estimate at the end.
    pub last_estimate: Option<Estimate>,
    /// Reads before the scenario's leap step that claimed a bound.
    pub bounded_before_leap: u64,
    /// Of those, reads that said the leap was pending.
    pub pending_before_leap: u64,
    /// Reads two seconds or more after the step that still said a leap was pending.
    pub pending_after_leap: u64,
    /// Refreshes at which selection named a falseticker a probable smearing source.
    pub probable_smear: u64,
}

/// A running simulation.
#[derive(Debug)]
pub struct Simulation {
    scenario: Scenario,
    engine: Engine,
    tracker: Tracker,
    bound: PublishedBound,
    corrected: PublishedCorrection,
    rng: SplitMix64,
    now: i64,
    due: Vec<Option<i64>>,
    /// True time of the next heartbeat of the watchdog.
    next_beat: i64,
    last_reading: u64,
    /// Whether honest servers were a strict majority of the voters when the estimate in force
    /// was published.
    honest_majority: bool,
    report: SimReport,
}

impl Simulation {
    /// Sets up the world; every server is due for its first poll at once.
    pub fn new(scenario: Scenario) -> Self {
        let mut engine = Engine::new(scenario.config);
        for index in 0..scenario.servers.len() {
            engine.add_source(format!("sim-{index}"), Some(address(index)));
        }
        let policy = ReadPolicy {
            drift_ppb: scenario.config.drift_ppb,
            status: scenario.config.status,
            health_limit: scenario.health_limit,
        };
        // The client watches for steps when its clock can step, as the tokio client does.
        let watch_steps = scenario.client_clock == ClientClock::System;
        let mut tracker = Tracker::new(Discipline::new(DEFAULT_PANIC_THRESHOLD), watch_steps);
        if let Some(heartbeat) = scenario.heartbeat {
            let config = WatchdogConfig {
                heartbeat,
                ..WatchdogConfig::default()
            };
            tracker = tracker.with_watchdog(config);
        }
        Self {
            tracker,
            // A microsecond clock, as the tokio client's default.
            bound: PublishedBound::new(policy, std::time::Duration::from_micros(1))
                .with_leap_smear(scenario.leap_smear),
            corrected: PublishedCorrection::new().with_leap_smear(scenario.leap_smear),
            rng: SplitMix64(scenario.seed),
            now: scenario.start_nanos,
            due: vec![Some(scenario.start_nanos); scenario.servers.len()],
            next_beat: scenario.start_nanos,
            last_reading: 0,
            honest_majority: true,
            engine,
            report: SimReport::default(),
            scenario,
        }
    }

    /// The client engine, to inspect its sources.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The world, to change it between runs (servers falling silent, say).
    pub fn scenario_mut(&mut self) -> &mut Scenario {
        &mut self.scenario
    }

    /// True time now, in nanoseconds since the Unix epoch.
    pub fn true_nanos(&self) -> i64 {
        self.now
    }

    /// How far the corrected clock reads from true time now, in nanoseconds.
    pub fn corrected_error_nanos(&self) -> i64 {
        let reading = self.corrected.reading_at(self.local_micros(self.now));
        reading as i64 * 1_000 - self.now
    }

    /// The health at true time now.
    pub fn health(&self) -> Health {
        let local = self.local_micros(self.now);
        let corrected = self.corrected.reading_at(local);
        self.bound.health_at(local, Some(corrected))
    }

    /// Runs `exchanges` more polls (fewer if every server refused us) and reports.
    pub fn run(&mut self, exchanges: u64) -> SimReport {
        for _ in 0..exchanges {
            if !self.step() {
                break;
            }
        }
        self.report.last_estimate = self.tracker.published();
        self.report.clone()
    }

    /// Runs until true time is `duration_nanos` past the start (or every server refused us).
    pub fn run_until(&mut self, duration_nanos: i64) -> SimReport {
        let end = self.scenario.start_nanos.saturating_add(duration_nanos);
        while self.now < end && self.step() {}
        self.report.last_estimate = self.tracker.published();
        self.report.clone()
    }

    /// Reads at random instants up to the next poll, then polls; false when nothing is due.
    fn step(&mut self) -> bool {
        let Some(index) = self.next_due() else {
            return false;
        };
        // A poll due while the client is stopped goes out when it runs again.
        let due = self.due[index].unwrap_or(self.now).max(self.now);
        let due = gap::resumes_at(&self.scenario.gaps, due);
        let mut instants: Vec<i64> = (0..self.scenario.reads_per_poll)
            .map(|_| {
                let span = world::DelayRange {
                    min_nanos: self.now,
                    max_nanos: due,
                };
                self.rng.within(span)
            })
            .collect();
        // A caller reads the moment the client runs again after a gap.
        let ends = self.scenario.gaps.iter().map(Gap::end_nanos);
        instants.extend(ends.filter(|end| (self.now..=due).contains(end)));
        instants.sort_unstable();
        for at in instants {
            self.beat_until(at);
            self.read(at);
        }
        self.now = due;
        self.beat_until(due);
        self.exchange(index);
        true
    }

    /// Runs the watchdog's heartbeats due up to true time `until`; one due while the client
    /// is stopped runs when it runs again.
    fn beat_until(&mut self, until: i64) {
        let Some(heartbeat) = self.scenario.heartbeat else {
            return;
        };
        let every = i64::try_from(heartbeat.as_nanos())
            .unwrap_or(i64::MAX)
            .max(1);
        while self.next_beat <= until {
            let at = gap::resumes_at(&self.scenario.gaps, self.next_beat);
            if at > until {
                return;
            }
            let readings = self.readings(at);
            if let Some(update) = self
                .tracker
                .heartbeat(&mut self.engine, readings, heartbeat)
            {
                self.publish(update, readings.local_nanos);
            }
            self.next_beat = at + every;
        }
    }

    fn next_due(&self) -> Option<usize> {
        let due = self.due.iter().enumerate();
        due.filter_map(|(i, at)| at.map(|at| (at, i)))
            .min()
            .map(|(_, i)| i)
    }

    /// The local clock when true time is `true_nanos`, as the client reads it: in whole
    /// microseconds, as a real clock read gives them.
    fn local_micros(&self, true_nanos: i64) -> u64 {
        let nanos = self.scenario.client_clock_at(true_nanos);
        u64::try_from(nanos.div_euclid(1_000)).unwrap_or(0)
    }

    /// The same reading in nanoseconds, as the engine counts.
    fn local_at(&self, true_nanos: i64) -> i64 {
        (self.local_micros(true_nanos) as i64).saturating_mul(1_000)
    }

    fn exchange(&mut self, index: usize) {
        let sent = self.local_at(self.now);
        let request = self.engine.begin_poll(index, self.rng.next());
        self.report.exchanges += 1;
        let timeout = self.scenario.config.poll.timeout;
        let timeout_nanos = i64::try_from(timeout.as_nanos()).unwrap_or(i64::MAX);
        let gaps = &self.scenario.gaps.clone();
        let mut straddled = false;
        match self.deliver(index, &request) {
            // An answer that arrives while the client is stopped is read when it runs again,
            // however late: a sample taken across a gap, which the watchdog must catch.
            Some((bytes, arrived))
                if arrived - self.now <= timeout_nanos || straddles(gaps, self.now, arrived) =>
            {
                let back = gap::resumes_at(gaps, arrived);
                straddled = back != arrived;
                self.now = back;
                let local = LocalTimes {
                    sent_nanos: sent,
                    received_nanos: self.local_at(back),
                };
                let accepted = self
                    .engine
                    .on_response(index, &bytes, address(index), local);
                self.report.samples += u64::from(accepted.is_ok());
            }
            _ => {
                self.now = gap::resumes_at(gaps, self.now + timeout_nanos);
                self.engine.on_failure(index, PollFailure::Timeout(timeout));
            }
        }
        self.refresh();
        if straddled {
            // The worst order after a resume: a caller reads right after the answer taken
            // across the gap was used, before any heartbeat ran.
            self.read(self.now);
        }
        let wait = self.engine.next_poll_in(index);
        self.due[index] =
            wait.map(|w| self.now + i64::try_from(w.as_nanos()).unwrap_or(i64::MAX / 2));
    }

    /// The server's response and the true time it arrives back, unless the exchange is lost.
    fn deliver(
        &mut self,
        index: usize,
        request: &[u8],
    ) -> Option<([u8; crate::proto::packet::HEADER_LEN], i64)> {
        let server = self.scenario.servers[index];
        let leap = self.scenario.leap;
        let lost = self.rng.chance(server.loss) || server.behaviour.silent;
        let arrive = self.now + self.rng.within(server.outbound);
        let hold = self.rng.within(DelayRange {
            min_nanos: 0,
            max_nanos: 50_000,
        });
        // True time is the servers' reference, their drift counted from the start.
        let start = self.scenario.start_nanos;
        let (arrive_unix, _) = server.leap.reading(leap.as_ref(), arrive);
        let (leave_unix, indicator) = server.leap.reading(leap.as_ref(), arrive + hold);
        let receive = server.behaviour.clock_at(arrive_unix, start);
        let transmit = server.behaviour.clock_at(leave_unix, start);
        let back = arrive + hold + self.rng.within(server.inbound);
        let mut params = server.behaviour.params;
        if params.leap == LeapIndicator::NoWarning {
            params.leap = indicator;
        }
        let response = answer(request, receive, transmit, &params)?;
        (!lost).then_some((response, back))
    }

    /// What the tokio client reads at true time `at`.
    fn readings(&self, at: i64) -> Readings {
        Readings {
            local_nanos: self.local_at(at),
            monotonic_nanos: self.scenario.oscillator_at(at),
            host: Some(self.scenario.host_clocks_at(at)),
        }
    }

    /// What the tokio client does after a poll: the tracker decides, the handles publish.
    fn refresh(&mut self) {
        let readings = self.readings(self.now);
        let update = self.tracker.refresh(&mut self.engine, readings);
        self.publish(update, readings.local_nanos);
    }

    /// Whether the servers honest so far are a strict majority of those that vote at local
    /// time `local_nanos` (a candidate, or undecided: `Engine::evaluate`'s states).
    fn honest_voting_majority(&self, local_nanos: i64) -> bool {
        let elapsed = self.now - self.scenario.start_nanos;
        let evaluation = self.engine.evaluate(local_nanos);
        let (mut voters, mut honest) = (0usize, 0usize);
        for (state, server) in evaluation.states.iter().zip(&self.scenario.servers) {
            let votes = match state {
                SourceState::Combined | SourceState::Falseticker => true,
                SourceState::Unusable(reason) => reason.is_undecided(),
            };
            voters += usize::from(votes);
            honest += usize::from(votes && server.is_honest_for(elapsed));
        }
        honest * 2 > voters
    }

    /// Publishes `update`, made at local time `local_nanos`.
    fn publish(&mut self, update: Update, local_nanos: i64) {
        self.honest_majority = self.honest_voting_majority(local_nanos);
        self.report.steps_noticed += u64::from(update.stepped);
        self.report.disruptions += u64::from(update.detected.is_some());
        self.report.probable_smear += u64::from(!update.probable_smear.is_empty());
        let leap = update.leap;
        if let Some(correction) = update.correction {
            self.corrected
                .publish_with_leap(correction, leap.map(|l| l.leap));
        }
        self.bound.set_refused(self.tracker.refused());
        match update.disruption {
            Some(disruption) => self.bound.publish_disrupted(disruption.kind),
            None => self.bound.publish_with_leap(update.published, leap),
        }
    }

    /// Reads everything a caller may read at true time `at` and counts the lies.
    fn read(&mut self, at: i64) {
        let gaps = &self.scenario.gaps;
        if gaps.iter().any(|gap| gap.covers(at)) {
            return;
        }
        let local = self.local_micros(at);
        let micros = |nanos: i64| u64::try_from(nanos.div_euclid(1_000)).unwrap_or(0);
        let (low_truth, high_truth) = self.scenario.truths_at(at);
        let truths = [low_truth, high_truth].map(|t| Timestamp::from_physical_micros(micros(t)));
        let interval = self.bound.interval_at(local);
        let reading = self.corrected.reading_at(local);
        let health = self.bound.health_at(local, Some(reading));
        let mut lied = false;
        // The first read after each gap (the gaps in order) is the one at its end.
        let ended = self
            .scenario
            .gaps
            .iter()
            .position(|gap| gap.end_nanos() == at);
        if ended == Some(self.report.status_after_gaps.len()) {
            self.report.status_after_gaps.push(interval.status);
        }
        self.report.disrupted_reads += u64::from(interval.status == Status::Disrupted);
        if interval.status.bounds_true_time() {
            self.report.bounded_checks += 1;
            let radius = i64::try_from(interval.radius().as_nanos()).unwrap_or(i64::MAX);
            self.report.max_radius_nanos = self.report.max_radius_nanos.max(radius);
            if !truths.iter().all(|truth| interval.contains(*truth)) {
                self.report.misses += 1;
                lied = true;
            }
            self.count_leap(at, interval.leap.is_some());
        }
        if let Health::Healthy { radius } = health {
            self.report.healthy_checks += 1;
            let error = truths
                .iter()
                .map(|truth| reading.abs_diff(truth.physical_micros()))
                .max()
                .unwrap_or(0);
            if u128::from(error) > radius.as_micros() {
                self.report.health_misses += 1;
                lied = true;
            }
        }
        if lied {
            self.report.last_miss_nanos = Some(at);
            self.report.honest_majority_misses += u64::from(self.honest_majority);
        }
        self.report.backward_reads += u64::from(reading < self.last_reading);
        self.last_reading = reading;
    }
}

impl Simulation {
    /// Counts a bounded read at true time `at` that said a leap was `pending`, or not.
    fn count_leap(&mut self, at: i64, pending: bool) {
        let Some(leap) = self.scenario.leap else {
            return;
        };
        let step = leap.step_nanos();
        if at < step {
            self.report.bounded_before_leap += 1;
            self.report.pending_before_leap += u64::from(pending);
        } else if at >= step + 2_000_000_000 {
            self.report.pending_after_leap += u64::from(pending);
        }
    }
}

/// Whether a gap starts while an exchange sent at `sent` waits for its answer, due at
/// `arrived`.
fn straddles(gaps: &[Gap], sent: i64, arrived: i64) -> bool {
    gaps.iter()
        .any(|gap| sent < gap.at_nanos && gap.at_nanos <= arrived)
}

fn address(index: usize) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 10_000 + (index % 50_000) as u16))
}

#[cfg(test)]
mod leap_tests;
#[cfg(test)]
mod tests;
