//! The peer monitor's thresholds, each with its default.

use std::time::Duration;

use crate::DEFAULT_MAX_OFFSET;

/// Settings of a [`PeerMonitor`](super::PeerMonitor).
///
/// ```
/// use std::time::Duration;
/// use hlc_core::peers::MonitorConfig;
///
/// let config = MonitorConfig::new().with_max_offset(Duration::from_millis(250));
/// assert_eq!(config.far_threshold(), Duration::from_millis(200)); // 80 %
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonitorConfig {
    max_offset: Duration,
    far_percent: u32,
    stale_after: Duration,
    window: Duration,
    window_capacity: usize,
    recovery_rounds: u32,
    min_fresh_peers: usize,
}

impl MonitorConfig {
    /// The default share of max offset beyond which a peer's clock is far: 80 %, CockroachDB's
    /// tolerance, which leaves a fifth of the bound for the error of measuring it.
    pub const DEFAULT_FAR_PERCENT: u32 = 80;
    /// The default time after its last answer that a peer stops counting: ten seconds.
    pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(10);
    /// The default span of each peer's rolling offset distribution: one minute.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
    /// The default number of samples a peer's window holds at most: 128.
    pub const DEFAULT_WINDOW_CAPACITY: usize = 128;
    /// The default number of consecutive healthy rounds before a fenced node recovers: 3.
    pub const DEFAULT_RECOVERY_ROUNDS: u32 = 3;
    /// The default (and least) number of fresh peers for a verdict: 2. With one peer, a
    /// disagreement cannot say which of the two clocks is wrong.
    pub const DEFAULT_MIN_FRESH_PEERS: usize = 2;

    /// The defaults, against [`DEFAULT_MAX_OFFSET`].
    pub const fn new() -> Self {
        Self {
            max_offset: DEFAULT_MAX_OFFSET,
            far_percent: Self::DEFAULT_FAR_PERCENT,
            stale_after: Self::DEFAULT_STALE_AFTER,
            window: Self::DEFAULT_WINDOW,
            window_capacity: Self::DEFAULT_WINDOW_CAPACITY,
            recovery_rounds: Self::DEFAULT_RECOVERY_ROUNDS,
            min_fresh_peers: Self::DEFAULT_MIN_FRESH_PEERS,
        }
    }

    /// The HLC's max offset, which the far threshold is a share of.
    pub const fn with_max_offset(mut self, max_offset: Duration) -> Self {
        self.max_offset = max_offset;
        self
    }

    /// The share of max offset, in percent, beyond which (after subtracting the
    /// uncertainty) a peer's clock is far.
    pub const fn with_far_percent(mut self, percent: u32) -> Self {
        self.far_percent = percent;
        self
    }

    /// How long after its last answer a peer stops counting.
    pub const fn with_stale_after(mut self, stale_after: Duration) -> Self {
        self.stale_after = stale_after;
        self
    }

    /// The span of each peer's rolling offset distribution.
    pub const fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// How many samples a peer's window holds at most (the oldest go first); 0 counts as 1.
    pub const fn with_window_capacity(mut self, capacity: usize) -> Self {
        self.window_capacity = if capacity == 0 { 1 } else { capacity };
        self
    }

    /// How many consecutive healthy rounds a fenced node needs to recover; 0 counts as 1.
    pub const fn with_recovery_rounds(mut self, rounds: u32) -> Self {
        self.recovery_rounds = if rounds == 0 { 1 } else { rounds };
        self
    }

    /// How many fresh peers a verdict needs; fewer than
    /// [`DEFAULT_MIN_FRESH_PEERS`](Self::DEFAULT_MIN_FRESH_PEERS) count as that.
    pub const fn with_min_fresh_peers(mut self, peers: usize) -> Self {
        self.min_fresh_peers = if peers < Self::DEFAULT_MIN_FRESH_PEERS {
            Self::DEFAULT_MIN_FRESH_PEERS
        } else {
            peers
        };
        self
    }

    /// The max offset the threshold is a share of.
    pub const fn max_offset(&self) -> Duration {
        self.max_offset
    }

    /// The threshold: `far_percent` of max offset. A peer is far when its offset minus its
    /// uncertainty exceeds it.
    pub const fn far_threshold(&self) -> Duration {
        let nanos = self.max_offset.as_nanos() * self.far_percent as u128 / 100;
        // Saturates only for bounds of centuries.
        if nanos > u64::MAX as u128 {
            Duration::from_nanos(u64::MAX)
        } else {
            Duration::from_nanos(nanos as u64)
        }
    }

    /// The share of max offset, in percent.
    pub const fn far_percent(&self) -> u32 {
        self.far_percent
    }

    /// How long after its last answer a peer stops counting.
    pub const fn stale_after(&self) -> Duration {
        self.stale_after
    }

    /// The span of each peer's rolling offset distribution.
    pub const fn window(&self) -> Duration {
        self.window
    }

    /// How many samples a peer's window holds at most.
    pub const fn window_capacity(&self) -> usize {
        self.window_capacity
    }

    /// How many consecutive healthy rounds a fenced node needs to recover.
    pub const fn recovery_rounds(&self) -> u32 {
        self.recovery_rounds
    }

    /// How many fresh peers a verdict needs.
    pub const fn min_fresh_peers(&self) -> usize {
        self.min_fresh_peers
    }
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_threshold_is_eighty_percent_of_the_default_max_offset() {
        assert_eq!(
            MonitorConfig::new().far_threshold() * 5,
            DEFAULT_MAX_OFFSET * 4
        );
    }

    #[test]
    fn degenerate_settings_are_raised_to_their_least_meaningful_value() {
        let config = MonitorConfig::new()
            .with_window_capacity(0)
            .with_recovery_rounds(0)
            .with_min_fresh_peers(1);
        assert_eq!(config.window_capacity(), 1);
        assert_eq!(config.recovery_rounds(), 1);
        assert_eq!(config.min_fresh_peers(), 2);
    }
}
