//! Configuration of an [`NtpClient`].

use std::sync::Arc;
use std::time::Duration;

use hlc_core::{PhysicalClock, DEFAULT_MAX_OFFSET};

use super::poller::{heartbeat, poll_kernel, poll_source, watch_status};
use super::state::Shared;
use super::NtpClient;
use crate::corrected::CorrectedClock;
use crate::proto::bound::ReadPolicy;
use crate::proto::bound::DEFAULT_HEALTH_SHARE;
use crate::proto::combine::TimeSources;
use crate::proto::discipline::{
    Discipline, DEFAULT_PANIC_THRESHOLD, DEFAULT_STEP_THRESHOLD, MAX_RATE_PPB,
};
use crate::proto::engine::{Engine, EngineConfig};
use crate::proto::kernel::DEFAULT_KERNEL_INTERVAL;
use crate::proto::leap::DEFAULT_LEAP_SMEAR;
use crate::proto::poll::MAX_POLL_LIMIT;
use crate::proto::tracking::Tracker;
use crate::proto::watchdog::WatchdogConfig;
use crate::steady_clock::SteadyClock;
use crate::tokio_clock::TokioClock;
use crate::true_time::TrueTime;

/// Why [`NtpClientBuilder::start`] could not start a client: a configuration it cannot run
/// with, or no runtime. Not [`hlc_core::BuildError`], which is the clock builder's (a stored
/// upper bound that cannot be used); this one was named `BuildError` before.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// No server was given.
    #[error("no ntp server given")]
    NoServers,
    /// A setting is out of range; the message says which.
    #[error("invalid setting: {0}")]
    Invalid(&'static str),
    /// `start` was called outside a tokio runtime.
    #[error("ntp client must be started inside a tokio runtime")]
    NoRuntime,
}

/// Builds an [`NtpClient`]; every setting has a default but the servers.
pub struct NtpClientBuilder {
    servers: Vec<String>,
    config: EngineConfig,
    /// `None`: the steady clock.
    clock: Option<Arc<dyn PhysicalClock>>,
    panic_threshold: Duration,
    step_threshold: Duration,
    max_offset: Duration,
    health_share: f64,
    sources: TimeSources,
    kernel_interval: Duration,
    /// `None`: no watchdog.
    watchdog: Option<WatchdogConfig>,
    leap_smear: bool,
}

impl Default for NtpClientBuilder {
    fn default() -> Self {
        Self {
            servers: Vec::new(),
            config: EngineConfig::default(),
            clock: None,
            panic_threshold: DEFAULT_PANIC_THRESHOLD,
            step_threshold: DEFAULT_STEP_THRESHOLD,
            max_offset: DEFAULT_MAX_OFFSET,
            health_share: DEFAULT_HEALTH_SHARE,
            sources: TimeSources::default(),
            kernel_interval: DEFAULT_KERNEL_INTERVAL,
            watchdog: Some(WatchdogConfig::default()),
            leap_smear: DEFAULT_LEAP_SMEAR,
        }
    }
}

impl std::fmt::Debug for NtpClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtpClientBuilder")
            .field("servers", &self.servers)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl NtpClientBuilder {
    /// Adds a server: `host`, `host:port`, an IP address or a socket address (port 123 when
    /// none is given). Names are resolved when polled, and again while they fail.
    pub fn server(mut self, server: impl Into<String>) -> Self {
        self.servers.push(server.into());
        self
    }

    /// Adds several servers.
    pub fn servers<S: Into<String>>(mut self, servers: impl IntoIterator<Item = S>) -> Self {
        self.servers.extend(servers.into_iter().map(Into::into));
        self
    }

    /// Replaces the whole engine configuration (polling, drift bound, status limits).
    pub fn engine_config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Poll interval while a server answers (default [`DEFAULT_MIN_POLL`](crate::proto::poll::DEFAULT_MIN_POLL); no less than
    /// [`MIN_PUBLIC_POLL`](crate::proto::poll::MIN_PUBLIC_POLL) towards servers you do not run) and the back-off ceiling (default
    /// [`DEFAULT_MAX_POLL`](crate::proto::poll::DEFAULT_MAX_POLL)).
    pub fn poll_interval(mut self, min: Duration, max: Duration) -> Self {
        self.config.poll.min_interval = min;
        self.config.poll.max_interval = max;
        self
    }

    /// Initial burst: `count` polls `interval` apart (default [`DEFAULT_BURST_COUNT`](crate::proto::poll::DEFAULT_BURST_COUNT) at
    /// [`DEFAULT_BURST_INTERVAL`](crate::proto::poll::DEFAULT_BURST_INTERVAL)).
    pub fn burst(mut self, count: u8, interval: Duration) -> Self {
        self.config.poll.burst_count = count;
        self.config.poll.burst_interval = interval;
        self
    }

    /// How long to wait for each response (default [`DEFAULT_TIMEOUT`](crate::proto::poll::DEFAULT_TIMEOUT)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.poll.timeout = timeout;
        self
    }

    /// The most the local clock's rate may be off, in ppm (default
    /// [`DEFAULT_DRIFT_BOUND_PPB`](crate::proto::sample::DEFAULT_DRIFT_BOUND_PPB), RFC 5905's PHI).
    pub fn drift_bound_ppm(mut self, ppm: f64) -> Self {
        self.config.drift_ppb = if ppm.is_finite() {
            (ppm * 1_000.0) as i64
        } else {
            -1
        };
        self
    }

    /// Age of the newest sample after which the status is free-running (default
    /// [`DEFAULT_FREE_RUNNING_AFTER`](crate::proto::estimate::DEFAULT_FREE_RUNNING_AFTER)) and after which the estimate is withdrawn (default
    /// [`DEFAULT_VOID_AFTER`](crate::proto::estimate::DEFAULT_VOID_AFTER)).
    pub fn freshness(mut self, free_running_after: Duration, void_after: Duration) -> Self {
        self.config.status.free_running_after = free_running_after;
        self.config.status.void_after = void_after;
        self
    }

    /// Offsets beyond this are not applied to the corrected clock (default
    /// [`DEFAULT_PANIC_THRESHOLD`]).
    pub fn panic_threshold(mut self, threshold: Duration) -> Self {
        self.panic_threshold = threshold;
        self
    }

    /// An estimate further than this from the corrected clock is stepped in at once rather
    /// than slewed (default [`DEFAULT_STEP_THRESHOLD`], RFC 5905's STEPT).
    pub fn step_threshold(mut self, threshold: Duration) -> Self {
        self.step_threshold = threshold;
        self
    }

    /// The HLC's max offset (default [`DEFAULT_MAX_OFFSET`]) and the share of it the clock's
    /// worst-case error may use before [`health`](NtpClient::health) turns unhealthy (default
    /// [`DEFAULT_HEALTH_SHARE`]).
    pub fn health_limit(mut self, max_offset: Duration, share: f64) -> Self {
        self.max_offset = max_offset;
        self.health_share = share;
        self
    }

    /// The local clock the offset is measured against, the bound kept on and the corrected
    /// clock built over (default: the [`SteadyClock`], which no daemon steps or slews).
    ///
    /// The bound assumes this clock runs within the drift bound of true time and is never
    /// stepped: a step is noticed at the next poll, or at the watchdog's next heartbeat when
    /// the system clock was stepped (samples dropped, status disrupted, the correction
    /// stepped). Reads in between are not off by the step: the
    /// [corrected clock](NtpClient::corrected_clock), [`now_interval`](NtpClient::now_interval)
    /// and [`health`](NtpClient::health) check this clock against the monotonic clock on every
    /// read and read through a step as if it had not happened (see
    /// [`crate::proto::step_guard`]), at the cost of one more clock read. A coarse or cached
    /// clock's [resolution](PhysicalClock::resolution) is counted, but only as long as the
    /// kernel or its refresher keeps to it: a late tick on a loaded machine is not, so prefer
    /// a precise clock. Tests pass a `ManualClock` or a [`TokioClock`](crate::TokioClock).
    pub fn clock(mut self, clock: impl PhysicalClock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Which sources bound true time (default [`TimeSources::Network`]): NTP servers, the
    /// host kernel's own figures (kept by the host's chronyd or ntpd, read with `adjtimex`),
    /// or both.
    ///
    /// With both, the bound published is the intersection of the two; while one has no
    /// bound, the other's alone (each is trusted alone as much as when it is the only
    /// source). When they do not meet, one of them lies: nothing is published (the status is
    /// unsynchronised, so [`health`](NtpClient::health) is
    /// [`Unsynchronised`](crate::Health::Unsynchronised)), [`Snapshot::conflict`](crate::Snapshot::conflict)
    /// names both bounds and a `tracing` warning says so. See [`crate::proto::combine`].
    ///
    /// The kernel's figures bound `CLOCK_REALTIME`; each read is carried over to the local
    /// clock by reading it just before and after, so the published bound stays on the local
    /// clock and ages at the drift bound like the network's. Without the network no servers
    /// may be given.
    pub fn time_sources(mut self, sources: TimeSources) -> Self {
        self.sources = sources;
        self
    }

    /// How often the kernel is read when it is a source (default
    /// [`DEFAULT_KERNEL_INTERVAL`]).
    pub fn kernel_interval(mut self, interval: Duration) -> Self {
        self.kernel_interval = interval;
        self
    }

    /// The disruption watchdog's heartbeat and thresholds (default
    /// [`WatchdogConfig::default`]; see [`proto::watchdog`](crate::proto::watchdog)). On a
    /// suspend, a pause or a step of the local clock the status turns
    /// [`Disrupted`](crate::Status::Disrupted) and every server is polled at once.
    pub fn watchdog(mut self, config: WatchdogConfig) -> Self {
        self.watchdog = Some(config);
        self
    }

    /// Runs no disruption watchdog: a suspend or a pause then goes unnoticed until the next
    /// poll's estimate replaces the old one, and reads in between may be off by the gap. A
    /// step of a [supplied clock](Self::clock) is still noticed at the next poll.
    pub fn without_watchdog(mut self) -> Self {
        self.watchdog = None;
        self
    }

    /// Smear leap seconds (default [`DEFAULT_LEAP_SMEAR`]: off): the corrected clock takes
    /// an announced leap second in linearly over the 24 hours around it, noon to noon UTC,
    /// rather than counting a second twice (or skipping one, for a deleted second), and
    /// [`now_interval`](NtpClient::now_interval) bounds the smeared time. Only for a fleet
    /// that smears as one, polling servers that do not: see [`crate::proto::leap`].
    pub fn leap_smear(mut self, smear: bool) -> Self {
        self.leap_smear = smear;
        self
    }

    fn check(&self) -> Result<(), StartError> {
        let poll = &self.config.poll;
        let network = self.sources.network();
        let checks = [
            (!network || !self.servers.is_empty(), StartError::NoServers),
            (
                network || self.servers.is_empty(),
                StartError::Invalid("servers given but the network is not a time source"),
            ),
            (
                !self.kernel_interval.is_zero(),
                StartError::Invalid("kernel interval must be positive"),
            ),
            (
                !poll.min_interval.is_zero(),
                StartError::Invalid("poll interval must be positive"),
            ),
            (
                poll.max_interval >= poll.min_interval,
                StartError::Invalid("max poll below min poll"),
            ),
            (
                poll.max_interval <= MAX_POLL_LIMIT,
                StartError::Invalid("max poll above RFC 5905's MAXPOLL (2^17 s)"),
            ),
            (
                !poll.timeout.is_zero(),
                StartError::Invalid("timeout must be positive"),
            ),
            (
                (0..=MAX_RATE_PPB).contains(&self.config.drift_ppb),
                StartError::Invalid("drift bound must be 0 to 500 ppm"),
            ),
            (
                self.config.status.void_after >= self.config.status.free_running_after,
                StartError::Invalid("void-after below free-running-after"),
            ),
            (
                self.health_share > 0.0 && self.health_share <= 1.0,
                StartError::Invalid("health share must be in (0, 1]"),
            ),
            (
                self.watchdog.is_none_or(|w| !w.heartbeat.is_zero()),
                StartError::Invalid("watchdog heartbeat must be positive"),
            ),
        ];
        match checks.into_iter().find(|(ok, _)| !ok) {
            Some((_, error)) => Err(error),
            None => Ok(()),
        }
    }

    /// Starts polling in the background on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`StartError`] for a configuration it cannot run with, or outside a runtime.
    pub fn start(self) -> Result<NtpClient, StartError> {
        self.check()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        let supplied = self.clock.is_some();
        let local = self.clock.unwrap_or_else(|| Arc::new(SteadyClock));
        let config = self.config.with_clock_resolution(local.resolution());
        let mut engine = Engine::new(config);
        for server in &self.servers {
            engine.add_source(server.clone(), server.parse().ok());
        }
        let policy = ReadPolicy {
            drift_ppb: config.drift_ppb,
            status: config.status,
            health_limit: self.max_offset.mul_f64(self.health_share),
        };
        // A supplied clock can be stepped: the corrected clock checks it on every read against
        // the monotonic clock the tracker checks it against (tokio's, which tests can pause).
        let corrected = if supplied {
            let reference: Arc<dyn PhysicalClock> = Arc::new(TokioClock::starting_at(0));
            CorrectedClock::guarded(Arc::clone(&local), reference, self.leap_smear)
        } else {
            CorrectedClock::with_leap_smear(Arc::clone(&local), self.leap_smear)
        };
        let true_time = TrueTime::build(local, !supplied, policy, Some(corrected.clone()));
        let discipline =
            Discipline::new(self.panic_threshold).with_step_threshold(self.step_threshold);
        // Only a supplied clock can be stepped; the steady clock cannot.
        let mut tracker = Tracker::new(discipline, supplied).with_sources(self.sources);
        if let Some(config) = self.watchdog {
            tracker = tracker.with_watchdog(config);
        }
        let shared = Arc::new(Shared::new(engine, tracker, true_time, corrected));
        let mut tasks: Vec<_> = (0..self.servers.len())
            .map(|index| runtime.spawn(poll_source(Arc::clone(&shared), index)))
            .collect();
        if self.sources.kernel() {
            let interval = self.kernel_interval;
            tasks.push(runtime.spawn(poll_kernel(Arc::clone(&shared), interval)));
        }
        tasks.push(runtime.spawn(watch_status(Arc::clone(&shared))));
        if let Some(every) = shared.watchdog_heartbeat() {
            tasks.push(runtime.spawn(heartbeat(Arc::clone(&shared), every)));
        }
        Ok(NtpClient { shared, tasks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_configurations_it_cannot_run() {
        let cases = [
            (NtpClient::builder(), StartError::NoServers),
            (
                NtpClient::builder()
                    .server("a")
                    .poll_interval(Duration::ZERO, Duration::ZERO),
                StartError::Invalid("poll interval must be positive"),
            ),
            (
                NtpClient::builder().server("a").drift_bound_ppm(f64::NAN),
                StartError::Invalid("drift bound must be 0 to 500 ppm"),
            ),
            (
                NtpClient::builder()
                    .server("a")
                    .health_limit(Duration::from_secs(1), 2.0),
                StartError::Invalid("health share must be in (0, 1]"),
            ),
            (
                NtpClient::builder().time_sources(TimeSources::Both),
                StartError::NoServers,
            ),
            (
                NtpClient::builder()
                    .server("a")
                    .time_sources(TimeSources::Kernel),
                StartError::Invalid("servers given but the network is not a time source"),
            ),
            (
                NtpClient::builder()
                    .time_sources(TimeSources::Kernel)
                    .kernel_interval(Duration::ZERO),
                StartError::Invalid("kernel interval must be positive"),
            ),
            (
                NtpClient::builder().server("a").watchdog(WatchdogConfig {
                    heartbeat: Duration::ZERO,
                    ..WatchdogConfig::default()
                }),
                StartError::Invalid("watchdog heartbeat must be positive"),
            ),
        ];
        for (builder, expected) in cases {
            assert_eq!(builder.check(), Err(expected));
        }
    }

    #[test]
    fn the_kernel_alone_needs_no_servers() {
        let builder = NtpClient::builder().time_sources(TimeSources::Kernel);
        assert_eq!(builder.check(), Ok(()));
    }

    #[test]
    fn starting_outside_a_runtime_is_an_error_not_a_panic() {
        let result = NtpClient::builder().server("127.0.0.1:9").start();
        assert_eq!(result.unwrap_err(), StartError::NoRuntime);
    }
}
