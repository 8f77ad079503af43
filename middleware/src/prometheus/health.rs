//! [`HealthCollector`]: the health board's verdict and each source's report, read at each
//! scrape.

use std::fmt;

use hlc_core::health::{ClockHealth, HealthBoard};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;

use crate::refusal::reason_name;

/// Every state a health gauge lists, each 0 or 1: healthy, then the reasons in
/// [`ClockHealth`]'s severity order.
const STATES: [&str; 5] = [
    "healthy",
    "radius_too_large",
    "unsynchronised",
    "disrupted",
    "fenced",
];

/// Reads a [`HealthBoard`] when scraped: `hlc_clock_healthy`, `hlc_clock_health{state}` and
/// `hlc_clock_health_source{source, state}` (see the [module docs](super)). Register it with
/// `registry.register_collector(Box::new(HealthCollector::new(board)))`.
#[derive(Debug, Clone)]
pub struct HealthCollector {
    board: HealthBoard,
}

impl HealthCollector {
    /// A collector reading `board` (a clone shares it).
    pub fn new(board: HealthBoard) -> Self {
        Self { board }
    }
}

impl Collector for HealthCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let health = self.board.health();
        let healthy = ConstGauge::new(i64::from(health.is_healthy()));
        healthy.encode(encoder.encode_descriptor(
            "hlc_clock_healthy",
            "1 while the local clock may be trusted (the health board's verdict), else 0.",
            None,
            healthy.metric_type(),
        )?)?;

        let mut metric = encoder.encode_descriptor(
            "hlc_clock_health",
            "The health board's verdict: 1 for the current state, 0 for the others.",
            None,
            healthy.metric_type(),
        )?;
        for (state, value) in one_hot(health) {
            ConstGauge::new(value).encode(metric.encode_family(&[("state", state)])?)?;
        }

        let mut metric = encoder.encode_descriptor(
            "hlc_clock_health_source",
            "Each source's last health report: 1 for its state, 0 for the others.",
            None,
            healthy.metric_type(),
        )?;
        for report in self.board.reports() {
            for (state, value) in one_hot(report.health) {
                let labels = [("source", report.source), ("state", state)];
                ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// Each state with 1 for `health`'s and 0 for the others; a reason this crate does not
/// know yet (`other`) is listed after them.
fn one_hot(health: ClockHealth) -> impl Iterator<Item = (&'static str, i64)> {
    let current = health.reason().as_ref().map_or("healthy", reason_name);
    let unknown = (!STATES.contains(&current)).then_some((current, 1));
    STATES
        .into_iter()
        .map(move |state| (state, i64::from(state == current)))
        .chain(unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlc_core::health::UnhealthyReason;

    #[test]
    fn exactly_the_current_state_is_one() {
        let fenced = ClockHealth::Unhealthy(UnhealthyReason::Fenced {
            far: 2,
            fresh: 3,
            offset_ms: 900,
        });
        let states: Vec<_> = one_hot(fenced).collect();
        assert_eq!(
            states,
            [
                ("healthy", 0),
                ("radius_too_large", 0),
                ("unsynchronised", 0),
                ("disrupted", 0),
                ("fenced", 1)
            ]
        );
        let healthy: Vec<_> = one_hot(ClockHealth::Healthy).filter(|s| s.1 == 1).collect();
        assert_eq!(healthy, [("healthy", 1)]);
    }
}
