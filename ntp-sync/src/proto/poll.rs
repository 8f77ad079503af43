//! When to poll a source next: a short initial burst, then the minimum interval while the
//! source answers, doubling on each failure up to the maximum (exponential back-off), and a
//! floor that doubles with each `RATE` kiss-o'-death (RFC 5905 §7.4: poll less often).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The default poll interval while a source answers, as chrony's and ntpd's.
pub const DEFAULT_MIN_POLL: Duration = Duration::from_secs(64);
/// The default ceiling of the back-off, as chrony's and ntpd's.
pub const DEFAULT_MAX_POLL: Duration = Duration::from_secs(1024);
/// The least poll interval RFC 5905 allows towards servers you do not run.
pub const MIN_PUBLIC_POLL: Duration = Duration::from_secs(16);
/// The longest poll interval allowed: RFC 5905's MAXPOLL (2^17 s, about 36 hours; §7.3).
pub const MAX_POLL_LIMIT: Duration = Duration::from_secs(1 << 17);
/// The default number of polls in the initial burst.
pub const DEFAULT_BURST_COUNT: u8 = 4;
/// The default spacing of the initial burst, as chrony's `iburst`.
pub const DEFAULT_BURST_INTERVAL: Duration = Duration::from_secs(2);
/// The default wait for each response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// The polling policy shared by every source.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PollConfig {
    /// Interval while the source answers (default [`DEFAULT_MIN_POLL`]; towards servers you do
    /// not run, no less than [`MIN_PUBLIC_POLL`]).
    pub min_interval: Duration,
    /// Ceiling of the back-off (default [`DEFAULT_MAX_POLL`]).
    pub max_interval: Duration,
    /// Polls sent at `burst_interval` when a source is first used (default
    /// [`DEFAULT_BURST_COUNT`]), so the first estimate comes in seconds rather than minutes.
    pub burst_count: u8,
    /// Spacing of the initial burst (default [`DEFAULT_BURST_INTERVAL`]).
    pub burst_interval: Duration,
    /// How long to wait for each response (default [`DEFAULT_TIMEOUT`]).
    pub timeout: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        Self {
            min_interval: DEFAULT_MIN_POLL,
            max_interval: DEFAULT_MAX_POLL,
            burst_count: DEFAULT_BURST_COUNT,
            burst_interval: DEFAULT_BURST_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Doubling beyond this is pointless: the interval is capped at `max_interval` anyway.
const MAX_EXPONENT: u32 = 16;

/// The poll schedule of one source.
#[derive(Clone, Debug)]
pub struct PollSchedule {
    burst_left: u8,
    failures: u32,
    rate_exponent: u32,
    /// Poll at once rather than after the interval: set after a disruption.
    due_now: bool,
}

impl PollSchedule {
    /// A schedule that starts with the configured burst.
    pub fn new(config: &PollConfig) -> Self {
        Self {
            burst_left: config.burst_count,
            failures: 0,
            rate_exponent: 0,
            due_now: false,
        }
    }

    /// Starts over after a disruption: poll at once, then a new burst, as when the source was
    /// first used, failures forgotten. A `RATE` kiss still holds: such a source waits out its
    /// floor rather than being polled at once.
    pub fn restart(&mut self, config: &PollConfig) {
        self.burst_left = config.burst_count;
        self.failures = 0;
        self.due_now = true;
    }

    /// Records that a poll began.
    pub fn began(&mut self) {
        self.due_now = false;
    }

    /// Records a poll that got a usable response.
    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.burst_left = self.burst_left.saturating_sub(1);
    }

    /// Records a poll that timed out or got an unusable response.
    pub fn failed(&mut self) {
        self.failures = (self.failures + 1).min(MAX_EXPONENT);
        self.burst_left = self.burst_left.saturating_sub(1);
    }

    /// Records a `RATE` kiss: the source's floor doubles and the burst ends.
    pub fn rate_limited(&mut self) {
        self.rate_exponent = (self.rate_exponent + 1).min(MAX_EXPONENT);
        self.burst_left = 0;
    }

    /// How long to wait before the next poll.
    pub fn interval(&self, config: &PollConfig) -> Duration {
        if self.due_now && self.rate_exponent == 0 {
            return Duration::ZERO;
        }
        if self.burst_left > 0 && self.rate_exponent == 0 {
            return config.burst_interval;
        }
        let floor = doubled(config.min_interval, self.rate_exponent).min(config.max_interval);
        doubled(floor, self.failures).min(config.max_interval.max(floor))
    }
}

fn doubled(interval: Duration, times: u32) -> Duration {
    interval.saturating_mul(1 << times.min(MAX_EXPONENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PollConfig {
        PollConfig::default()
    }

    #[test]
    fn starts_with_a_burst_then_settles_at_the_minimum() {
        let mut schedule = PollSchedule::new(&config());
        for _ in 0..4 {
            assert_eq!(schedule.interval(&config()), Duration::from_secs(2));
            schedule.succeeded();
        }
        assert_eq!(schedule.interval(&config()), Duration::from_secs(64));
    }

    #[test]
    fn a_restart_polls_at_once_then_bursts_again_unless_rate_limited() {
        let mut schedule = PollSchedule::new(&config());
        for _ in 0..8 {
            schedule.failed();
        }
        schedule.restart(&config());
        assert_eq!(schedule.interval(&config()), Duration::ZERO);
        schedule.began();
        assert_eq!(schedule.interval(&config()), Duration::from_secs(2));
        schedule.rate_limited();
        schedule.restart(&config());
        assert_eq!(schedule.interval(&config()).as_secs(), 128);
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_maximum() {
        let mut schedule = PollSchedule::new(&PollConfig {
            burst_count: 0,
            ..config()
        });
        let mut seen = Vec::new();
        for _ in 0..6 {
            schedule.failed();
            seen.push(schedule.interval(&config()).as_secs());
        }
        assert_eq!(seen, [128, 256, 512, 1024, 1024, 1024]);
        schedule.succeeded();
        assert_eq!(schedule.interval(&config()).as_secs(), 64);
    }

    #[test]
    fn rate_kisses_raise_the_floor_and_end_the_burst() {
        let mut schedule = PollSchedule::new(&config());
        schedule.rate_limited();
        assert_eq!(schedule.interval(&config()).as_secs(), 128);
        schedule.rate_limited();
        schedule.succeeded();
        assert_eq!(schedule.interval(&config()).as_secs(), 256);
        for _ in 0..40 {
            schedule.rate_limited();
            schedule.failed();
        }
        assert_eq!(schedule.interval(&config()).as_secs(), 1024);
    }
}
