//! The read side of the client: the published estimate, read lock-free, in the shape of
//! Spanner's TrueTime (`now()` returns an interval that contains true time).

use std::sync::Arc;
use std::time::Duration;

use hlc_core::{PhysicalClock, Timestamp};
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
    /// `[has_estimate, at, offset, radius, newest_sample]` (nanoseconds), the i64s as bits.
    estimate: SeqCell<5>,
    clock: Arc<dyn PhysicalClock>,
    drift_ppb: i64,
    free_running_after_nanos: i64,
    void_after_nanos: i64,
    policy: ReadPolicy,
}

impl std::fmt::Debug for TrueTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrueTime")
            .field("interval", &self.now_interval())
            .finish_non_exhaustive()
    }
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

impl TrueTime {
    /// A handle with no estimate yet, reading local time from `clock`.
    pub fn new(clock: Arc<dyn PhysicalClock>, policy: ReadPolicy) -> Self {
        let shared = Shared {
            estimate: SeqCell::new([0; 5]),
            clock,
            drift_ppb: policy.drift_ppb,
            free_running_after_nanos: nanos(policy.status.free_running_after),
            void_after_nanos: nanos(policy.status.void_after),
            policy,
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Publishes a new estimate, or withdraws it with `None`.
    pub fn publish(&self, estimate: Option<Estimate>) {
        let words = match estimate {
            Some(e) => [
                1,
                e.at_nanos as u64,
                e.offset_nanos as u64,
                e.radius_nanos as u64,
                e.newest_sample_nanos as u64,
            ],
            None => [0; 5],
        };
        self.shared.estimate.store(words);
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
        (self.shared.clock.now_micros() as i64).saturating_mul(1_000)
    }

    /// The interval that contains true time now.
    #[inline]
    pub fn now_interval(&self) -> TimeInterval {
        let now = self.local_nanos();
        let shared = &*self.shared;
        let [has, at, offset, radius, newest] = shared.estimate.load();
        let freshness = now.saturating_sub(newest as i64);
        if has == 0 || freshness >= shared.void_after_nanos {
            return TimeInterval::unbounded();
        }
        // Grows at the drift bound, rounded up.
        let age = now.saturating_sub(at as i64).max(0);
        let growth = age.saturating_mul(shared.drift_ppb) / 1_000_000_000 + 1;
        let radius = (radius as i64).saturating_add(growth);
        let centre = now.saturating_add(offset as i64);
        let status = match freshness >= shared.free_running_after_nanos {
            true => Status::FreeRunning,
            false => Status::Synchronised,
        };
        TimeInterval {
            earliest: micros_floor(centre.saturating_sub(radius)),
            latest: micros_ceil(centre.saturating_add(radius)),
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

fn micros_floor(nanos: i64) -> Timestamp {
    Timestamp::from_physical_micros(nanos.max(0) as u64 / 1_000)
}

fn micros_ceil(nanos: i64) -> Timestamp {
    Timestamp::from_physical_micros((nanos.max(0) as u64).div_ceil(1_000))
}

#[cfg(test)]
#[path = "true_time_tests.rs"]
mod tests;
