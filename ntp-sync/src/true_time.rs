//! The read side of the client: the published estimate, read lock-free, in the shape of
//! Spanner's TrueTime (`now()` returns an interval that contains true time).

use std::sync::Arc;
use std::time::Duration;

use hlc_core::{PhysicalClock, SystemClock, Timestamp};
use serde::{Deserialize, Serialize};

use crate::estimate::{Estimate, Status, StatusPolicy};
use crate::seqlock::SeqCell;

/// True time at one instant: it lies in `[earliest, latest]`, unless `status` is
/// [`Status::Unsynchronised`], in which case the interval is unbounded (`earliest` is the
/// epoch and `latest` the largest timestamp) and says nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TimeInterval {
    /// True time is not before this (rounded down to the microsecond).
    pub earliest: Timestamp,
    /// True time is not after this (rounded up to the microsecond).
    pub latest: Timestamp,
    /// Whether the bound holds, and how fresh it is.
    pub status: Status,
}

impl TimeInterval {
    /// The interval that says nothing.
    pub fn unbounded() -> Self {
        Self {
            earliest: Timestamp::from_physical_micros(0),
            latest: Timestamp::from_physical_micros(hlc_core::MAX_PHYSICAL_MICROS),
            status: Status::Unsynchronised,
        }
    }

    /// Whether `ts` (its physical part) lies within the interval.
    pub fn contains(&self, ts: Timestamp) -> bool {
        let micros = ts.physical_micros();
        self.earliest.physical_micros() <= micros && micros <= self.latest.physical_micros()
    }

    /// Half the interval's width: the worst-case error of its midpoint.
    pub fn radius(&self) -> Duration {
        let width = self.latest.physical_micros() - self.earliest.physical_micros();
        Duration::from_micros(width.div_ceil(2))
    }
}

/// Whether the bound is good enough to honour the HLC's max offset.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Health {
    /// Synchronised or free-running with a radius within the limit.
    Healthy {
        /// The current radius.
        radius: Duration,
    },
    /// No bound at all.
    Unsynchronised,
    /// A bound, but too wide: two nodes each this far off could be twice as far apart.
    RadiusTooLarge {
        /// The current radius.
        radius: Duration,
        /// The configured limit (a share of max-offset).
        limit: Duration,
    },
    /// The bound is fine, but the corrected clock refused to follow it (the offset is beyond
    /// the panic threshold), so stamps from that clock are far from true time.
    CorrectionRefused {
        /// How far true time is from the local clock.
        offset: Duration,
    },
}

impl Health {
    /// Whether the node may keep stamping with its clock.
    pub fn is_healthy(&self) -> bool {
        matches!(self, Self::Healthy { .. })
    }
}

/// Settings of the read side.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ReadPolicy {
    /// Drift bound in ppb; the radius grows at this rate with the estimate's age.
    pub drift_ppb: i64,
    /// Freshness and void-after limits.
    pub status: StatusPolicy,
    /// Largest radius that is still healthy.
    pub health_limit: Duration,
}

/// A cheap, cloneable handle on the published estimate. Reading it takes one clock read and a
/// few atomic loads; no lock, no allocation.
#[derive(Clone)]
pub struct TrueTime {
    shared: Arc<Shared>,
}

struct Shared {
    /// The read path, in microseconds: `[at, earliest_offset, latest_offset, newest_sample]`
    /// with the offsets already rounded outwards; `at == 0` means no estimate.
    bounds: SeqCell<4>,
    /// The estimate as published, in nanoseconds, for [`TrueTime::estimate`].
    estimate: SeqCell<5>,
    clock: Arc<dyn PhysicalClock>,
    /// `clock` is the system clock: read it inline rather than through the trait object.
    system_clock: bool,
    /// The drift bound as a 32.32 fixed-point fraction, rounded up.
    drift_per_micro_q32: u64,
    free_running_after_micros: i64,
    void_after_micros: i64,
    policy: ReadPolicy,
}

impl std::fmt::Debug for TrueTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrueTime")
            .field("interval", &self.now_interval())
            .finish_non_exhaustive()
    }
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

impl TrueTime {
    /// A handle with no estimate yet, reading local time from `clock`.
    pub fn new(clock: Arc<dyn PhysicalClock>, policy: ReadPolicy) -> Self {
        Self::build(clock, false, policy)
    }

    /// A handle with no estimate yet on the system clock, which it reads inline: the
    /// cheapest [`now_interval`](Self::now_interval).
    pub fn with_system_clock(policy: ReadPolicy) -> Self {
        Self::build(Arc::new(SystemClock), true, policy)
    }

    fn build(clock: Arc<dyn PhysicalClock>, system_clock: bool, policy: ReadPolicy) -> Self {
        let shared = Shared {
            bounds: SeqCell::new([0; 4]),
            estimate: SeqCell::new([0; 5]),
            clock,
            system_clock,
            drift_per_micro_q32: drift_q32(policy.drift_ppb),
            free_running_after_micros: micros(policy.status.free_running_after),
            void_after_micros: micros(policy.status.void_after),
            policy,
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Publishes a new estimate, or withdraws it with `None`.
    pub fn publish(&self, estimate: Option<Estimate>) {
        let Some(e) = estimate else {
            self.shared.bounds.store([0; 4]);
            self.shared.estimate.store([0; 5]);
            return;
        };
        let low = e
            .offset_nanos
            .saturating_sub(e.radius_nanos)
            .div_euclid(1_000);
        let high = e
            .offset_nanos
            .saturating_add(e.radius_nanos)
            .saturating_add(999)
            .div_euclid(1_000);
        // The anchor rounds down, so the interval only ever grows with the rounding.
        let at = e.at_nanos.div_euclid(1_000).max(1);
        let newest = e.newest_sample_nanos.div_euclid(1_000);
        let bounds = [at, low, high, newest];
        self.shared.bounds.store(bounds.map(|word| word as u64));
        let (at, offset, radius, newest) = (
            e.at_nanos,
            e.offset_nanos,
            e.radius_nanos,
            e.newest_sample_nanos,
        );
        let words = [1, at, offset, radius, newest];
        self.shared.estimate.store(words.map(|word| word as u64));
    }

    /// The estimate in force, if any (possibly void; see [`TrueTime::now_interval`]).
    pub fn estimate(&self) -> Option<Estimate> {
        let [has, at, offset, radius, newest] = self.shared.estimate.load();
        (has == 1).then_some(Estimate {
            at_nanos: at as i64,
            offset_nanos: offset as i64,
            radius_nanos: radius as i64,
            newest_sample_nanos: newest as i64,
        })
    }

    /// The local clock the estimate is relative to.
    pub fn local_clock(&self) -> &Arc<dyn PhysicalClock> {
        &self.shared.clock
    }

    /// The settings.
    pub fn policy(&self) -> &ReadPolicy {
        &self.shared.policy
    }

    /// Local time in nanoseconds since the Unix epoch.
    pub fn local_nanos(&self) -> i64 {
        (self.local_micros() as i64).saturating_mul(1_000)
    }

    #[inline]
    fn local_micros(&self) -> u64 {
        match self.shared.system_clock {
            true => SystemClock.now_micros(),
            false => self.shared.clock.now_micros(),
        }
    }

    /// The interval that contains true time now: one clock read, four atomic loads and a
    /// little integer arithmetic, all in microseconds.
    #[inline]
    pub fn now_interval(&self) -> TimeInterval {
        let shared = &*self.shared;
        let now = self.local_micros() as i64;
        let [at, low, high, newest] = shared.bounds.load().map(|word| word as i64);
        let freshness = now.saturating_sub(newest);
        if at == 0 || freshness >= shared.void_after_micros {
            return TimeInterval::unbounded();
        }
        // The bound widens at the drift bound with the estimate's age, rounded up; a multiply
        // and a shift rather than a division, since this is the hot path.
        let age = (now - at).max(0) as u64;
        let growth = (age.saturating_mul(shared.drift_per_micro_q32) >> 32) as i64 + 1;
        let status = match freshness >= shared.free_running_after_micros {
            true => Status::FreeRunning,
            false => Status::Synchronised,
        };
        TimeInterval {
            // Microseconds since 1970 plus offsets within ±2^62: no overflow.
            earliest: micros_timestamp(now + low - growth),
            latest: micros_timestamp(now + high + growth),
            status,
        }
    }

    /// Whether the bound is tight enough; see [`Health`].
    pub fn health(&self) -> Health {
        let interval = self.now_interval();
        if interval.status == Status::Unsynchronised {
            return Health::Unsynchronised;
        }
        let radius = interval.radius();
        let limit = self.shared.policy.health_limit;
        match radius <= limit {
            true => Health::Healthy { radius },
            false => Health::RadiusTooLarge { radius, limit },
        }
    }
}

/// `ppb / 10^9` as a 32.32 fixed-point number, rounded up.
fn drift_q32(ppb: i64) -> u64 {
    let ppb = u64::try_from(ppb).unwrap_or(0).min(1_000_000_000);
    (ppb << 32).div_ceil(1_000_000_000)
}

fn micros_timestamp(micros: i64) -> Timestamp {
    Timestamp::from_physical_micros(micros.max(0) as u64)
}

#[cfg(test)]
#[path = "true_time_tests.rs"]
mod tests;
