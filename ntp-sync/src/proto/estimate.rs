//! The combined estimate and how it ages: the radius grows at the drift bound, the status
//! turns from synchronised to free-running when no fresh estimate comes, and the estimate is
//! withdrawn altogether after the void-after limit.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::proto::sample::drift_growth;

/// Whether the bound can be trusted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Status {
    /// No estimate: no majority of servers agreed yet, or the last estimate is void. The
    /// interval is unbounded; never a guess.
    Unsynchronised,
    /// The estimate is fresh.
    Synchronised,
    /// No fresh estimate for a while: the bound still holds under the drift assumption, but it
    /// keeps widening until the void-after limit.
    FreeRunning,
    /// A suspend, a pause of the process or its virtual machine, or a step of the local
    /// clock broke the link between the local clock and the estimate (see
    /// [`proto::watchdog`](crate::proto::watchdog)). The interval is unbounded, as when
    /// unsynchronised, until an estimate from samples taken after the disruption exists;
    /// the client polls every server at once to get one.
    Disrupted,
}

impl Status {
    /// Whether an interval with this status bounds true time: synchronised or free-running.
    pub fn bounds_true_time(self) -> bool {
        matches!(self, Self::Synchronised | Self::FreeRunning)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unsynchronised => "unsynchronised",
            Self::Synchronised => "synchronised",
            Self::FreeRunning => "free-running",
            Self::Disrupted => "disrupted",
        })
    }
}

/// The default age after which an estimate is free-running: several polls missed at the
/// default interval.
pub const DEFAULT_FREE_RUNNING_AFTER: Duration = Duration::from_secs(300);
/// The default age after which an estimate is withdrawn: by then the radius has grown by
/// 54 ms at the default drift bound.
pub const DEFAULT_VOID_AFTER: Duration = Duration::from_secs(3_600);

/// When an estimate stops being fresh and when it is withdrawn.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StatusPolicy {
    /// Age after which the status is [`Status::FreeRunning`] (default
    /// [`DEFAULT_FREE_RUNNING_AFTER`]).
    pub free_running_after: Duration,
    /// Age after which the estimate is withdrawn (default [`DEFAULT_VOID_AFTER`]).
    pub void_after: Duration,
}

impl Default for StatusPolicy {
    fn default() -> Self {
        Self {
            free_running_after: DEFAULT_FREE_RUNNING_AFTER,
            void_after: DEFAULT_VOID_AFTER,
        }
    }
}

/// True time = local time + `offset_nanos`, within `radius_nanos` at local time `at_nanos`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Estimate {
    /// How far true time is ahead of the local clock, in nanoseconds.
    pub offset_nanos: i64,
    /// The half-width of the bound at `at_nanos`.
    pub radius_nanos: i64,
    /// Local time (nanoseconds since the Unix epoch) the estimate was made at.
    pub at_nanos: i64,
    /// Local time of the newest sample behind it: freshness is measured from here, so an
    /// estimate recomputed from old samples does not pass for a fresh one.
    pub newest_sample_nanos: i64,
}

impl Estimate {
    /// The estimate whose bound is the offsets `[low_nanos, high_nanos]` at local time
    /// `at_nanos`: centred, with the radius rounded up so that the bound covers both ends.
    pub fn covering(
        low_nanos: i64,
        high_nanos: i64,
        at_nanos: i64,
        newest_sample_nanos: i64,
    ) -> Self {
        let width = high_nanos.saturating_sub(low_nanos).max(0);
        let offset_nanos = low_nanos.saturating_add(width / 2);
        Self {
            offset_nanos,
            radius_nanos: high_nanos.max(low_nanos).saturating_sub(offset_nanos),
            at_nanos,
            newest_sample_nanos,
        }
    }

    /// The radius at local time `now_nanos`, grown at `drift_ppb` since the estimate.
    pub fn radius_at(&self, now_nanos: i64, drift_ppb: i64) -> i64 {
        let age = now_nanos.saturating_sub(self.at_nanos);
        self.radius_nanos
            .saturating_add(drift_growth(age, drift_ppb))
    }

    /// The status at local time `now_nanos`, from the age of the newest sample.
    pub fn status_at(&self, now_nanos: i64, policy: &StatusPolicy) -> Status {
        let age = now_nanos.saturating_sub(self.newest_sample_nanos).max(0);
        let age = Duration::from_nanos(age as u64);
        if age >= policy.void_after {
            Status::Unsynchronised
        } else if age >= policy.free_running_after {
            Status::FreeRunning
        } else {
            Status::Synchronised
        }
    }

    /// `(earliest, latest)` true time in nanoseconds since the Unix epoch, at local time
    /// `now_nanos`.
    pub fn true_time_at(&self, now_nanos: i64, drift_ppb: i64) -> (i64, i64) {
        let centre = now_nanos.saturating_add(self.offset_nanos);
        let radius = self.radius_at(now_nanos, drift_ppb);
        (centre.saturating_sub(radius), centre.saturating_add(radius))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::sample::DEFAULT_DRIFT_BOUND_PPB;

    const SECOND: i64 = 1_000_000_000;

    fn estimate() -> Estimate {
        Estimate {
            offset_nanos: 2 * SECOND,
            radius_nanos: 1_000_000,
            at_nanos: 1_000 * SECOND,
            newest_sample_nanos: 1_000 * SECOND,
        }
    }

    #[test]
    fn true_time_is_local_time_plus_offset_within_the_radius() {
        let (earliest, latest) = estimate().true_time_at(1_000 * SECOND, DEFAULT_DRIFT_BOUND_PPB);
        assert_eq!(earliest, 1_002 * SECOND - 1_000_001);
        assert_eq!(latest, 1_002 * SECOND + 1_000_001);
    }

    #[test]
    fn the_radius_grows_with_age() {
        let e = estimate();
        assert_eq!(
            e.radius_at(1_100 * SECOND, DEFAULT_DRIFT_BOUND_PPB),
            1_000_000 + 1_500_001
        );
        assert!(
            e.radius_at(1_100 * SECOND, 0) < e.radius_at(1_100 * SECOND, DEFAULT_DRIFT_BOUND_PPB)
        );
    }

    #[test]
    fn status_ages_from_synchronised_to_free_running_to_void() {
        let e = estimate();
        let policy = StatusPolicy::default();
        assert_eq!(e.status_at(1_000 * SECOND, &policy), Status::Synchronised);
        assert_eq!(e.status_at(1_299 * SECOND, &policy), Status::Synchronised);
        assert_eq!(e.status_at(1_300 * SECOND, &policy), Status::FreeRunning);
        assert_eq!(e.status_at(4_599 * SECOND, &policy), Status::FreeRunning);
        assert_eq!(e.status_at(4_600 * SECOND, &policy), Status::Unsynchronised);
        assert_eq!(Status::FreeRunning.to_string(), "free-running");
        assert_eq!(Status::Disrupted.to_string(), "disrupted");
        assert!(Status::FreeRunning.bounds_true_time());
        assert!(!Status::Disrupted.bounds_true_time());
        let recomputed = Estimate {
            at_nanos: 1_300 * SECOND,
            ..e
        };
        assert_eq!(
            recomputed.status_at(1_300 * SECOND, &policy),
            Status::FreeRunning
        );
    }
}
