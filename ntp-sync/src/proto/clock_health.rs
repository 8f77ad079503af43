//! ntp-sync's [`Health`] in hlc-core's terms: what an [`NtpClient`](crate::NtpClient)
//! reports into a [`HealthBoard`](hlc_core::health::HealthBoard).
//!
//! | [`Health`] | [`ClockHealth`] |
//! |---|---|
//! | `Healthy` | `Healthy` |
//! | `Unsynchronised` | `Unhealthy(Unsynchronised)` |
//! | `Disrupted` | `Unhealthy(Disrupted)` |
//! | `RadiusTooLarge { radius, limit }` | `Unhealthy(RadiusTooLarge { radius, limit })` |
//! | `Converging { error, limit }` | `Unhealthy(RadiusTooLarge { radius: error, limit })` |
//! | `CorrectionRefused { .. }` | `Unhealthy(Unsynchronised)` |
//!
//! A converging clock's worst-case error is the radius of the clock the HLC reads, so it is a
//! radius too wide. A refused correction leaves the HLC reading a clock that does not follow
//! the bound at all (it is beyond the panic threshold from it): the bound holds for true
//! time, not for that clock, so the clock has none, which is what `Unsynchronised` says.

use hlc_core::health::{ClockHealth, UnhealthyReason};

use super::bound::Health;

impl From<Health> for ClockHealth {
    fn from(health: Health) -> Self {
        let reason = match health {
            Health::Healthy { .. } => return ClockHealth::Healthy,
            Health::Unsynchronised | Health::CorrectionRefused { .. } => {
                UnhealthyReason::Unsynchronised
            }
            Health::Disrupted { .. } => UnhealthyReason::Disrupted,
            Health::RadiusTooLarge { radius, limit } => {
                UnhealthyReason::RadiusTooLarge { radius, limit }
            }
            Health::Converging { error, limit } => UnhealthyReason::RadiusTooLarge {
                radius: error,
                limit,
            },
        };
        ClockHealth::Unhealthy(reason)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hlc_core::health::HealthPolicy;

    use super::*;
    use crate::proto::bound::DEFAULT_HEALTH_SHARE;
    use crate::proto::watchdog::DisruptionKind;

    const MS: Duration = Duration::from_millis(1);

    fn unhealthy(reason: UnhealthyReason) -> ClockHealth {
        ClockHealth::Unhealthy(reason)
    }

    #[test]
    fn each_status_maps_to_what_it_says_about_the_clock_the_hlc_reads() {
        let wide = UnhealthyReason::RadiusTooLarge {
            radius: 300 * MS,
            limit: 250 * MS,
        };
        let cases = [
            (Health::Healthy { radius: 3 * MS }, ClockHealth::Healthy),
            (
                Health::Unsynchronised,
                unhealthy(UnhealthyReason::Unsynchronised),
            ),
            (
                Health::Disrupted {
                    kind: DisruptionKind::Suspend,
                },
                unhealthy(UnhealthyReason::Disrupted),
            ),
            (
                Health::RadiusTooLarge {
                    radius: 300 * MS,
                    limit: 250 * MS,
                },
                unhealthy(wide),
            ),
            (
                Health::Converging {
                    error: 300 * MS,
                    limit: 250 * MS,
                },
                unhealthy(wide),
            ),
            (
                Health::CorrectionRefused {
                    offset: Duration::from_secs(2_000),
                },
                unhealthy(UnhealthyReason::Unsynchronised),
            ),
        ];
        for (health, expected) in cases {
            assert_eq!(ClockHealth::from(health), expected, "{health:?}");
        }
    }

    #[test]
    fn the_default_share_is_hlc_cores_default_radius_limit() {
        assert_eq!(DEFAULT_HEALTH_SHARE, 0.5);
        assert_eq!(
            hlc_core::DEFAULT_MAX_OFFSET.mul_f64(DEFAULT_HEALTH_SHARE),
            HealthPolicy::DEFAULT_RADIUS_LIMIT
        );
    }
}
