//! A simulation harness in virtual time: one client [`Engine`] against many servers with
//! chosen clock offsets and drifts, asymmetric and random delays, losses and lies. Every
//! exchange goes through the real codec, validation, filter and selection; only the network
//! and the clocks are simulated, so thousands of exchanges take milliseconds.
//!
//! ```
//! use ntp_sync::sim::{Scenario, SimServer, Simulation};
//!
//! let mut scenario = Scenario::new(42);
//! scenario.local_offset_nanos = 250_000_000; // the local clock is 250 ms ahead
//! scenario.servers = vec![SimServer::honest(0), SimServer::honest(1_000), SimServer::liar(5_000_000_000)];
//! let report = Simulation::new(scenario).run(1_000);
//! assert_eq!(report.misses, 0);
//! assert!(report.bounded_checks > 900);
//! ```

use std::net::{Ipv4Addr, SocketAddr};

use crate::engine::{Engine, EngineConfig};
use crate::estimate::{Estimate, Status};
use crate::poll::PollConfig;
use crate::sample::LocalTimes;
use crate::server::{answer, ServerParams};
use crate::source::PollFailure;

/// A uniformly random one-way delay in `[min_nanos, max_nanos]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DelayRange {
    /// Shortest delay.
    pub min_nanos: i64,
    /// Longest delay.
    pub max_nanos: i64,
}

/// One simulated server.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct SimServer {
    /// Its clock's error against true time at the start, in nanoseconds.
    pub offset_nanos: i64,
    /// How fast that error grows, in ppb.
    pub drift_ppb: i64,
    /// Delay of requests to it.
    pub outbound: DelayRange,
    /// Delay of its responses.
    pub inbound: DelayRange,
    /// Probability that an exchange is lost, 0 to 1.
    pub loss: f64,
    /// What it claims about itself (root delay and dispersion make it honest or not).
    pub params: ServerParams,
}

impl SimServer {
    /// A server `offset_nanos` off that claims a root dispersion of 1 ms (honest while the
    /// offset stays within it), 1 to 20 ms away each way.
    pub fn honest(offset_nanos: i64) -> Self {
        Self {
            offset_nanos,
            drift_ppb: 0,
            outbound: DelayRange {
                min_nanos: 1_000_000,
                max_nanos: 20_000_000,
            },
            inbound: DelayRange {
                min_nanos: 1_000_000,
                max_nanos: 20_000_000,
            },
            loss: 0.0,
            params: ServerParams::default(),
        }
    }

    /// A server `offset_nanos` off that claims to be within 1 ms: a liar when the offset is
    /// larger.
    pub fn liar(offset_nanos: i64) -> Self {
        Self::honest(offset_nanos)
    }

    /// How far the server claims its clock may be off (root delay / 2 + root dispersion).
    pub fn claimed_nanos(&self) -> i64 {
        self.params.root_delay_nanos / 2 + self.params.root_dispersion_nanos
    }

    /// Whether its clock stays within its claim for `duration_nanos` from the start.
    pub fn is_honest_for(&self, duration_nanos: i64) -> bool {
        // A drift of 1 ppb moves the clock 1 ns per second.
        let drifted = self
            .drift_ppb
            .abs()
            .saturating_mul(duration_nanos / 1_000_000_000 + 1);
        self.offset_nanos.abs().saturating_add(drifted) <= self.claimed_nanos()
    }
}

/// A whole simulated world.
#[derive(Clone, PartialEq, Debug)]
pub struct Scenario {
    /// Seed of the deterministic random source: a scenario replays exactly.
    pub seed: u64,
    /// True time at the start, nanoseconds since the Unix epoch.
    pub start_nanos: i64,
    /// Local clock minus true time at the start.
    pub local_offset_nanos: i64,
    /// Local clock drift in ppb; keep it within the engine's drift bound for the guarantee.
    pub local_drift_ppb: i64,
    /// The servers.
    pub servers: Vec<SimServer>,
    /// The client's configuration.
    pub config: EngineConfig,
}

impl Scenario {
    /// No servers, a perfect local clock, and polling every 16 s after a 4-poll burst.
    pub fn new(seed: u64) -> Self {
        let poll = PollConfig {
            min_interval: std::time::Duration::from_secs(16),
            ..PollConfig::default()
        };
        Self {
            seed,
            start_nanos: 1_700_000_000_000_000_000,
            local_offset_nanos: 0,
            local_drift_ppb: 0,
            servers: Vec::new(),
            config: EngineConfig {
                poll,
                ..EngineConfig::default()
            },
        }
    }
}

/// What a run observed.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct SimReport {
    /// Requests sent.
    pub exchanges: u64,
    /// Responses that gave a sample.
    pub samples: u64,
    /// Instants at which the client claimed a bound (synchronised or free-running).
    pub bounded_checks: u64,
    /// Of those, instants at which true time was outside the bound: must be zero whenever a
    /// majority of servers is honest and the local drift is within the bound.
    pub misses: u64,
    /// The largest radius claimed, in nanoseconds.
    pub max_radius_nanos: i64,
    /// The estimate at the end.
    pub last_estimate: Option<Estimate>,
}

/// A running simulation.
#[derive(Debug)]
pub struct Simulation {
    scenario: Scenario,
    engine: Engine,
    rng: SplitMix64,
    now: i64,
    due: Vec<Option<i64>>,
    estimate: Option<Estimate>,
    report: SimReport,
}

impl Simulation {
    /// Sets up the world; every server is due for its first poll at once.
    pub fn new(scenario: Scenario) -> Self {
        let mut engine = Engine::new(scenario.config);
        for index in 0..scenario.servers.len() {
            engine.add_source(format!("sim-{index}"), Some(address(index)));
        }
        Self {
            rng: SplitMix64(scenario.seed),
            now: scenario.start_nanos,
            due: vec![Some(scenario.start_nanos); scenario.servers.len()],
            engine,
            estimate: None,
            report: SimReport::default(),
            scenario,
        }
    }

    /// The client engine, to inspect its sources.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// True time now, in nanoseconds since the Unix epoch.
    pub fn true_nanos(&self) -> i64 {
        self.now
    }

    /// Runs `exchanges` more polls (fewer if every server refused us) and reports.
    pub fn run(&mut self, exchanges: u64) -> SimReport {
        for _ in 0..exchanges {
            let Some(index) = self.next_due() else { break };
            self.check();
            self.exchange(index);
            self.check();
        }
        self.report.last_estimate = self.estimate;
        self.report.clone()
    }

    fn next_due(&self) -> Option<usize> {
        let due = self.due.iter().enumerate();
        due.filter_map(|(i, at)| at.map(|at| (at, i)))
            .min()
            .map(|(_, i)| i)
    }

    fn local_at(&self, true_nanos: i64) -> i64 {
        let elapsed = true_nanos - self.scenario.start_nanos;
        true_nanos
            + self.scenario.local_offset_nanos
            + scaled(elapsed, self.scenario.local_drift_ppb)
    }

    fn server_at(&self, server: &SimServer, true_nanos: i64) -> i64 {
        let elapsed = true_nanos - self.scenario.start_nanos;
        true_nanos + server.offset_nanos + scaled(elapsed, server.drift_ppb)
    }

    fn exchange(&mut self, index: usize) {
        self.now = self.now.max(self.due[index].unwrap_or(self.now));
        let sent = self.local_at(self.now);
        let request = self.engine.begin_poll(index, self.rng.next());
        self.report.exchanges += 1;
        let timeout = self.scenario.config.poll.timeout;
        let timeout_nanos = i64::try_from(timeout.as_nanos()).unwrap_or(i64::MAX);
        match self.deliver(index, &request) {
            Some((bytes, back)) if back - self.now <= timeout_nanos => {
                self.now = back;
                let received = self.local_at(back);
                let local = LocalTimes {
                    sent_nanos: sent,
                    received_nanos: received,
                };
                let accepted = self
                    .engine
                    .on_response(index, &bytes, address(index), local);
                self.report.samples += u64::from(accepted.is_ok());
            }
            _ => {
                self.now += timeout_nanos;
                self.engine.on_failure(index, PollFailure::Timeout(timeout));
            }
        }
        self.reschedule(index);
    }

    /// The server's response and the true time it arrives back, unless the exchange is lost.
    fn deliver(&mut self, index: usize, request: &[u8]) -> Option<([u8; crate::HEADER_LEN], i64)> {
        let server = self.scenario.servers[index];
        let lost = self.rng.chance(server.loss);
        let arrive = self.now + self.rng.within(server.outbound);
        let hold = self.rng.within(DelayRange {
            min_nanos: 0,
            max_nanos: 50_000,
        });
        let receive = self.server_at(&server, arrive);
        let transmit = self.server_at(&server, arrive + hold);
        let back = arrive + hold + self.rng.within(server.inbound);
        let response = answer(request, receive, transmit, &server.params)?;
        (!lost).then_some((response, back))
    }

    fn reschedule(&mut self, index: usize) {
        let wait = self.engine.next_poll_in(index);
        self.due[index] =
            wait.map(|w| self.now + i64::try_from(w.as_nanos()).unwrap_or(i64::MAX / 2));
        let local = self.local_at(self.now);
        self.estimate = self.engine.evaluate(local).next_published(self.estimate);
    }

    /// Compares the bound the client would publish now with true time.
    fn check(&mut self) {
        let Some(estimate) = self.estimate else {
            return;
        };
        let local = self.local_at(self.now);
        if estimate.status_at(local, &self.scenario.config.status) == Status::Unsynchronised {
            return;
        }
        let (earliest, latest) = estimate.true_time_at(local, self.scenario.config.drift_ppb);
        self.report.bounded_checks += 1;
        self.report.max_radius_nanos = self.report.max_radius_nanos.max((latest - earliest) / 2);
        if self.now < earliest || self.now > latest {
            self.report.misses += 1;
        }
    }
}

fn address(index: usize) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 10_000 + (index % 50_000) as u16))
}

fn scaled(nanos: i64, ppb: i64) -> i64 {
    (i128::from(nanos) * i128::from(ppb) / 1_000_000_000) as i64
}

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): tiny, fast, and good enough to drive a simulation reproducibly.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn within(&mut self, range: DelayRange) -> i64 {
        let span = (range.max_nanos - range.min_nanos).max(0) as u64 + 1;
        range.min_nanos + (self.next() % span) as i64
    }

    fn chance(&mut self, probability: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < probability
    }
}

#[cfg(test)]
#[path = "sim_tests.rs"]
mod tests;
