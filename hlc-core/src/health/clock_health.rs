//! The value a health report carries: healthy, or unhealthy and why.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Whether this node's physical clock can be trusted to honour max offset.
///
/// Ordered by severity: a greater value is worse, so the combination of several reports is
/// their maximum ([`ClockHealth::worst`]). [`Healthy`](Self::Healthy) is the least; then the
/// [`UnhealthyReason`]s in their own order.
///
/// ```
/// use std::time::Duration;
/// use hlc_core::health::{ClockHealth, UnhealthyReason};
///
/// let wide = ClockHealth::Unhealthy(UnhealthyReason::RadiusTooLarge {
///     radius: Duration::from_millis(300),
///     limit: Duration::from_millis(250),
/// });
/// let unsync = ClockHealth::Unhealthy(UnhealthyReason::Unsynchronised);
/// assert_eq!(ClockHealth::worst([ClockHealth::Healthy, wide, unsync]), unsync);
/// assert_eq!(unsync.to_string(), "unhealthy: no time sync bound");
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ClockHealth {
    /// Nothing says the clock is wrong.
    #[default]
    Healthy,
    /// Something says the clock may be, or is, too far from true time.
    Unhealthy(UnhealthyReason),
}

/// Why a clock is unhealthy, from the least to the most severe (the declaration order is the
/// severity order, see [`ClockHealth`]).
///
/// The order ranks how much a report knows against the clock: a wide bound still bounds it,
/// no bound knows nothing, a disruption knows the clock may have jumped, and a fence is
/// evidence from peers that it did. Within one reason, the fields decide (in declaration
/// order): the wider radius, or the more peers that disagree, is worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnhealthyReason {
    /// There is a bound on the clock's error, but it is wider than the limit (see
    /// [`HealthPolicy`](super::HealthPolicy)): two nodes each this far off could be further
    /// apart than max offset.
    ///
    /// A [`HealthBoard`](super::HealthBoard) keeps both in whole microseconds (rounded up) up
    /// to [`MAX_ENCODED_DURATION`]; longer ones read back as that.
    RadiusTooLarge {
        /// How far the clock may be from true time.
        radius: Duration,
        /// The largest radius that is still healthy.
        limit: Duration,
    },
    /// No bound on the clock's error at all: time sync has not synchronised, or lost it.
    Unsynchronised,
    /// A suspend, a pause or a step of the local clock broke the bound: the clock may be off
    /// by the whole gap until time sync has measured it again.
    Disrupted,
    /// The peer monitor found this node's clock too far from a strict majority of its fresh
    /// peers, and fenced it (see [`peers`](crate::peers)).
    ///
    /// A [`HealthBoard`](super::HealthBoard) keeps `offset_ms` up to
    /// ±[`MAX_ENCODED_OFFSET_MS`]; further ones read back as that.
    Fenced {
        /// How many fresh peers found this node's clock too far.
        far: u16,
        /// How many fresh peers voted.
        fresh: u16,
        /// The median offset of the far peers from this node, in milliseconds (peer minus
        /// this node: positive when they run ahead, so this node is behind).
        offset_ms: i32,
    },
}

/// The longest duration a [`HealthBoard`](super::HealthBoard) keeps in a
/// [`RadiusTooLarge`](UnhealthyReason::RadiusTooLarge) report: 2³⁰ − 1 µs, about 17.9
/// minutes (far beyond any sensible limit; the report stays unhealthy).
pub const MAX_ENCODED_DURATION: Duration = Duration::from_micros(super::packed::MAX_MICROS);

/// The largest offset magnitude a [`HealthBoard`](super::HealthBoard) keeps in a
/// [`Fenced`](UnhealthyReason::Fenced) report: 2²⁷ − 1 ms, about 37 hours.
pub const MAX_ENCODED_OFFSET_MS: i32 = super::packed::MAX_OFFSET_MS;

impl ClockHealth {
    /// Whether the clock may be trusted.
    pub const fn is_healthy(&self) -> bool {
        matches!(self, Self::Healthy)
    }

    /// The reason, when unhealthy.
    pub const fn reason(&self) -> Option<UnhealthyReason> {
        match *self {
            Self::Healthy => None,
            Self::Unhealthy(reason) => Some(reason),
        }
    }

    /// The worst of several reports ([`Healthy`](Self::Healthy) when there are none).
    pub fn worst(reports: impl IntoIterator<Item = Self>) -> Self {
        reports.into_iter().max().unwrap_or_default()
    }
}

impl From<UnhealthyReason> for ClockHealth {
    fn from(reason: UnhealthyReason) -> Self {
        Self::Unhealthy(reason)
    }
}

impl fmt::Display for ClockHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Healthy => f.write_str("healthy"),
            Self::Unhealthy(reason) => write!(f, "unhealthy: {reason}"),
        }
    }
}

impl fmt::Display for UnhealthyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RadiusTooLarge { radius, limit } => {
                write!(f, "clock error bound {radius:?} exceeds the limit {limit:?}")
            }
            Self::Unsynchronised => f.write_str("no time sync bound"),
            Self::Disrupted => f.write_str("clock disrupted (suspend, pause or step)"),
            Self::Fenced {
                far,
                fresh,
                offset_ms,
            } => write!(
                f,
                "fenced: {far} of {fresh} peers find this clock too far (median offset {offset_ms} ms)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radius(ms: u64) -> ClockHealth {
        ClockHealth::Unhealthy(UnhealthyReason::RadiusTooLarge {
            radius: Duration::from_millis(ms),
            limit: Duration::from_millis(250),
        })
    }

    fn fenced(far: u16) -> ClockHealth {
        ClockHealth::Unhealthy(UnhealthyReason::Fenced {
            far,
            fresh: 4,
            offset_ms: -900,
        })
    }

    const UNSYNC: ClockHealth = ClockHealth::Unhealthy(UnhealthyReason::Unsynchronised);
    const DISRUPTED: ClockHealth = ClockHealth::Unhealthy(UnhealthyReason::Disrupted);

    #[test]
    fn severity_runs_healthy_radius_unsynchronised_disrupted_fenced() {
        let ladder = [
            ClockHealth::Healthy,
            radius(300),
            UNSYNC,
            DISRUPTED,
            fenced(3),
        ];
        assert!(ladder.windows(2).all(|w| w[0] < w[1]), "{ladder:?}");
        for (i, &health) in ladder.iter().enumerate() {
            let mut reports = ladder[..=i].to_vec();
            reports.reverse();
            assert_eq!(ClockHealth::worst(reports), health);
        }
    }

    #[test]
    fn within_a_reason_the_wider_radius_and_the_more_far_peers_are_worse() {
        assert_eq!(ClockHealth::worst([radius(900), radius(300)]), radius(900));
        assert_eq!(ClockHealth::worst([fenced(3), fenced(4)]), fenced(4));
    }

    #[test]
    fn no_reports_is_healthy() {
        assert_eq!(ClockHealth::worst([]), ClockHealth::Healthy);
        assert!(ClockHealth::default().is_healthy());
        assert_eq!(ClockHealth::Healthy.reason(), None);
        assert_eq!(DISRUPTED.reason(), Some(UnhealthyReason::Disrupted));
    }

    #[test]
    fn display_names_each_reason() {
        assert_eq!(ClockHealth::Healthy.to_string(), "healthy");
        assert_eq!(
            radius(300).to_string(),
            "unhealthy: clock error bound 300ms exceeds the limit 250ms"
        );
        assert_eq!(
            DISRUPTED.to_string(),
            "unhealthy: clock disrupted (suspend, pause or step)"
        );
        assert_eq!(
            fenced(3).to_string(),
            "unhealthy: fenced: 3 of 4 peers find this clock too far (median offset -900 ms)"
        );
    }

    #[test]
    fn serde_names_are_snake_case() {
        let json = serde_json::to_string(&fenced(3)).unwrap();
        assert_eq!(
            json,
            r#"{"unhealthy":{"fenced":{"far":3,"fresh":4,"offset_ms":-900}}}"#
        );
        assert_eq!(
            serde_json::from_str::<ClockHealth>(&json).unwrap(),
            fenced(3)
        );
        assert_eq!(
            serde_json::to_string(&ClockHealth::Healthy).unwrap(),
            r#""healthy""#
        );
    }
}
