//! [`ClockCollector`]: the clock's own counters, read at each scrape.

use std::fmt;
use std::sync::Arc;

use hlc_core::{Hlc, PhysicalClock, SystemClock};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// Reads [`Hlc::stats`] and [`Hlc::max_offset`] when scraped: carries, backward jumps,
/// forward leaps, refusals and persistence failures, counted by the clock itself whoever
/// called it (see the [module docs](super) for the names). Register it with
/// `registry.register_collector(Box::new(ClockCollector::new(hlc)))`.
pub struct ClockCollector<C = SystemClock> {
    hlc: Arc<Hlc<C>>,
}

impl<C> ClockCollector<C> {
    /// A collector reading `hlc`.
    pub fn new(hlc: Arc<Hlc<C>>) -> Self {
        Self { hlc }
    }
}

impl<C> fmt::Debug for ClockCollector<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClockCollector")
            .field("hlc", &self.hlc)
            .finish()
    }
}

impl<C: PhysicalClock + 'static> Collector for ClockCollector<C> {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let stats = self.hlc.stats();
        let counters = [
            (
                "hlc_clock_carries",
                "Logical counter overflows carried into the physical part.",
                stats.carries,
            ),
            (
                "hlc_clock_backward_jumps",
                "Backward steps of the physical clock (episodes).",
                stats.backward_jumps,
            ),
            (
                "hlc_clock_forward_leaps",
                "Forward leaps of the physical clock beyond the threshold.",
                stats.forward_leaps,
            ),
            (
                "hlc_clock_refused",
                "Remote timestamps the clock refused for exceeding max offset.",
                stats.refused,
            ),
            (
                "hlc_clock_persist_failures",
                "Failed writes of the persisted upper bound.",
                stats.persist_failures,
            ),
        ];
        // Help texts end with a period, as `Registry::register` writes them for the others.
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        let max_offset = ConstGauge::new(self.hlc.max_offset().as_secs_f64());
        let metric = encoder.encode_descriptor(
            "hlc_clock_max_offset",
            "How far ahead of the local clock a remote timestamp may be before it is refused.",
            Some(&Unit::Seconds),
            max_offset.metric_type(),
        )?;
        max_offset.encode(metric)
    }
}
