//! The rule that turns a clock's error bound into a health report.

use std::time::Duration;

use super::{ClockHealth, UnhealthyReason};
use crate::DEFAULT_MAX_OFFSET;

/// When a bound on the clock's error (its radius: how far the clock may be from true time)
/// is too wide for max offset to mean anything.
///
/// Two nodes each within `max offset / 2` of true time are within max offset of each other,
/// so a node whose radius exceeds half the max offset can no longer promise that its stamps
/// keep to the bound its peers check: by default it is unhealthy past
/// [`DEFAULT_RADIUS_LIMIT`](Self::DEFAULT_RADIUS_LIMIT).
///
/// ```
/// use std::time::Duration;
/// use hlc_core::health::HealthPolicy;
///
/// let policy = HealthPolicy::for_max_offset(Duration::from_millis(200));
/// assert_eq!(policy.radius_limit(), Duration::from_millis(100));
/// assert!(policy.judge_radius(Duration::from_millis(100)).is_healthy());
/// assert!(!policy.judge_radius(Duration::from_millis(101)).is_healthy());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthPolicy {
    radius_limit: Duration,
}

impl HealthPolicy {
    /// The default radius limit: half of [`DEFAULT_MAX_OFFSET`].
    pub const DEFAULT_RADIUS_LIMIT: Duration = half(DEFAULT_MAX_OFFSET);

    /// The default: unhealthy past [`DEFAULT_RADIUS_LIMIT`](Self::DEFAULT_RADIUS_LIMIT).
    pub const fn new() -> Self {
        Self {
            radius_limit: Self::DEFAULT_RADIUS_LIMIT,
        }
    }

    /// Unhealthy past half of `max_offset`: the rule for a clock built with a max offset of
    /// its own.
    pub const fn for_max_offset(max_offset: Duration) -> Self {
        Self {
            radius_limit: half(max_offset),
        }
    }

    /// Unhealthy past `limit`.
    pub const fn with_radius_limit(mut self, limit: Duration) -> Self {
        self.radius_limit = limit;
        self
    }

    /// The largest radius that is still healthy.
    pub const fn radius_limit(&self) -> Duration {
        self.radius_limit
    }

    /// The health of a clock whose error is bounded by `radius`: unhealthy
    /// ([`RadiusTooLarge`](UnhealthyReason::RadiusTooLarge)) when `radius` exceeds the limit.
    pub const fn judge_radius(&self, radius: Duration) -> ClockHealth {
        // `Duration`'s `Ord` is not const; nanoseconds compare the same.
        if radius.as_nanos() > self.radius_limit.as_nanos() {
            ClockHealth::Unhealthy(UnhealthyReason::RadiusTooLarge {
                radius,
                limit: self.radius_limit,
            })
        } else {
            ClockHealth::Healthy
        }
    }
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self::new()
    }
}

/// `d / 2` rounded down to the nanosecond, in a `const` context (`Duration`'s `Div` is not
/// const).
const fn half(d: Duration) -> Duration {
    let odd_second = (d.as_secs() % 2) as u32 * 1_000_000_000;
    Duration::new(d.as_secs() / 2, (odd_second + d.subsec_nanos()) / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_limit_is_half_the_default_max_offset() {
        assert_eq!(HealthPolicy::DEFAULT_RADIUS_LIMIT * 2, DEFAULT_MAX_OFFSET);
        assert_eq!(
            HealthPolicy::default(),
            HealthPolicy::for_max_offset(DEFAULT_MAX_OFFSET)
        );
    }

    #[test]
    fn a_radius_above_the_limit_is_unhealthy_and_names_both() {
        let policy = HealthPolicy::new().with_radius_limit(Duration::from_millis(10));
        assert_eq!(
            policy.judge_radius(Duration::from_millis(10)),
            ClockHealth::Healthy
        );
        let radius = Duration::from_millis(10) + Duration::from_nanos(1);
        assert_eq!(
            policy.judge_radius(radius),
            UnhealthyReason::RadiusTooLarge {
                radius,
                limit: Duration::from_millis(10)
            }
            .into()
        );
    }

    #[test]
    fn half_is_exact_to_the_nanosecond_up_to_the_largest_duration() {
        assert_eq!(
            half(Duration::MAX) * 2 + Duration::from_nanos(1),
            Duration::MAX
        );
        assert_eq!(
            half(Duration::from_nanos(1_000_000_001)),
            Duration::from_nanos(500_000_000)
        );
        assert_eq!(half(Duration::from_nanos(3)), Duration::from_nanos(1));
    }
}
