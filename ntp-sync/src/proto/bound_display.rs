//! The text a user logs for the bound's status types: [`TimeInterval`] and [`Health`].

use std::fmt;

use super::bound::{Health, TimeInterval};

/// `synchronised, true time in [EARLIEST, LATEST]` with both ends in [`Timestamp`]'s RFC 3339
/// form (`#0`: an interval's ends carry no logical count), or `unsynchronised, no bound`;
/// then the pending leap second, if any.
///
/// [`Timestamp`]: hlc_core::Timestamp
impl fmt::Display for TimeInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status.bounds_true_time() {
            write!(
                f,
                "{}, true time in [{}, {}]",
                self.status, self.earliest, self.latest
            )?;
        } else {
            write!(f, "{}, no bound", self.status)?;
        }
        match self.leap {
            Some(leap) => write!(f, "; {leap} pending"),
            None => Ok(()),
        }
    }
}

/// `healthy, within 1.2ms of true time`, or `unhealthy: ` and the reason with its figures.
impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Healthy { radius } => write!(f, "healthy, within {radius:?} of true time"),
            Self::Unsynchronised => f.write_str("unhealthy: no bound on true time"),
            Self::Disrupted { kind } => write!(f, "unhealthy: no bound since a {kind}"),
            Self::RadiusTooLarge { radius, limit } => {
                write!(
                    f,
                    "unhealthy: bound radius {radius:?} exceeds the limit {limit:?}"
                )
            }
            Self::Converging { error, limit } => write!(
                f,
                "unhealthy: corrected clock converging, up to {error:?} off (limit {limit:?})"
            ),
            Self::CorrectionRefused { offset } => write!(
                f,
                "unhealthy: corrected clock refused to follow an offset of {offset:?}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hlc_core::Timestamp;

    use super::*;
    use crate::proto::estimate::Status;
    use crate::proto::watchdog::DisruptionKind;

    #[test]
    fn an_interval_names_its_status_and_both_ends_or_no_bound() {
        let interval = TimeInterval {
            earliest: Timestamp::from_physical_micros(1_700_000_000_000_000),
            latest: Timestamp::from_physical_micros(1_700_000_000_002_500),
            status: Status::Synchronised,
            leap: None,
        };
        assert_eq!(
            interval.to_string(),
            "synchronised, true time in \
             [2023-11-14T22:13:20.000000Z#0, 2023-11-14T22:13:20.002500Z#0]"
        );
        let free = TimeInterval {
            status: Status::FreeRunning,
            ..interval
        };
        assert!(free.to_string().starts_with("free-running, true time in ["));
        assert_eq!(
            TimeInterval::unbounded().to_string(),
            "unsynchronised, no bound"
        );
    }

    #[test]
    fn health_says_healthy_or_why_not_with_its_figures() {
        let ms = Duration::from_millis;
        let cases = [
            (
                Health::Healthy { radius: ms(2) },
                "healthy, within 2ms of true time",
            ),
            (Health::Unsynchronised, "unhealthy: no bound on true time"),
            (
                Health::Disrupted {
                    kind: DisruptionKind::Suspend,
                },
                "unhealthy: no bound since a suspend",
            ),
            (
                Health::RadiusTooLarge {
                    radius: ms(300),
                    limit: ms(250),
                },
                "unhealthy: bound radius 300ms exceeds the limit 250ms",
            ),
            (
                Health::Converging {
                    error: ms(40),
                    limit: ms(25),
                },
                "unhealthy: corrected clock converging, up to 40ms off (limit 25ms)",
            ),
            (
                Health::CorrectionRefused {
                    offset: Duration::from_secs(2_000),
                },
                "unhealthy: corrected clock refused to follow an offset of 2000s",
            ),
        ];
        for (health, text) in cases {
            assert_eq!(health.to_string(), text);
        }
    }
}
