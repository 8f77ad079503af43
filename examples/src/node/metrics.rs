//! `GET /metrics`: the node's registry in the Prometheus text format, through
//! `prometheus-client`'s encoder.
//!
//! The registry holds the middleware's [`PrometheusObserver`] (both layers and the peer
//! pings report into it), its [`ClockCollector`] over the node's clock, its
//! [`HealthCollector`] when the node has a health board, and [`NtpCollector`] when ntp-sync
//! corrects the clock.

use std::fmt;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use hlc_core::health::HealthBoard;
use hlc_core::Hlc;
use hlc_middleware::prometheus::{ClockCollector, HealthCollector, PrometheusObserver};
use ntp_sync::{NtpClient, Snapshot, Status};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use tokio::sync::watch;

use super::{Node, NodeClock};

/// Every status `ntp_status` lists, each 0 or 1.
const NTP_STATUSES: [Status; 4] = [
    Status::Unsynchronised,
    Status::Synchronised,
    Status::FreeRunning,
    Status::Disrupted,
];

/// The node's registry and the observer its layers and prober report into.
#[derive(Debug)]
pub(super) struct Metrics {
    registry: Registry,
    observer: PrometheusObserver,
}

impl Metrics {
    /// A registry over everything the node has: its clock always, its health board and its
    /// NTP client when it has them.
    pub(super) fn new(
        hlc: &Arc<Hlc<NodeClock>>,
        health: Option<&HealthBoard>,
        ntp: Option<&NtpClient>,
    ) -> Self {
        let mut registry = Registry::default();
        let observer = PrometheusObserver::with_max_offset(&mut registry, hlc.max_offset());
        registry.register_collector(Box::new(ClockCollector::new(Arc::clone(hlc))));
        if let Some(board) = health {
            registry.register_collector(Box::new(HealthCollector::new(board.clone())));
        }
        if let Some(ntp) = ntp {
            registry.register_collector(Box::new(NtpCollector {
                snapshot: ntp.subscribe(),
            }));
        }
        Self { registry, observer }
    }

    /// The observer to hand to the layers and to feed probing rounds.
    pub(super) fn observer(&self) -> &PrometheusObserver {
        &self.observer
    }

    /// The registry in the Prometheus text format.
    fn encode(&self) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// `GET /metrics`.
pub(super) async fn metrics(State(node): State<Arc<Node>>) -> Response {
    match node.metrics.encode() {
        Ok(text) => (
            [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        // Only a collector's own formatting can fail; say so rather than answer half a scrape.
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed").into_response(),
    }
}

/// ntp-sync's latest [`Snapshot`], read at each scrape: `ntp_offset_seconds` (true time
/// minus the node's uncorrected clock) and `ntp_radius_seconds` (the bound's half-width when
/// the estimate was made) while there is an estimate, `ntp_status{status}` (1 for the
/// current status: `unsynchronised`, `synchronised`, `free-running` or `disrupted`),
/// `ntp_polls_total` and `ntp_disruptions_total`.
#[derive(Debug)]
struct NtpCollector {
    snapshot: watch::Receiver<Snapshot>,
}

impl Collector for NtpCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let snapshot = self.snapshot.borrow().clone();
        if let Some(estimate) = snapshot.estimate {
            let nanos = [
                (
                    "ntp_offset",
                    "How far true time is ahead of the node's uncorrected clock, by ntp-sync's estimate.",
                    estimate.offset_nanos,
                ),
                (
                    "ntp_radius",
                    "Half-width of ntp-sync's bound on true time when the estimate was made.",
                    estimate.radius_nanos,
                ),
            ];
            for (name, help, value) in nanos {
                // Nanoseconds below 2^53 (104 days) are exact in an f64.
                #[allow(clippy::cast_precision_loss)]
                let gauge = ConstGauge::new(value as f64 / 1e9);
                let unit = Some(&Unit::Seconds);
                gauge.encode(encoder.encode_descriptor(
                    name,
                    help,
                    unit,
                    gauge.metric_type(),
                )?)?;
            }
        }
        let gauge_type = ConstGauge::new(0_i64).metric_type();
        let mut status = encoder.encode_descriptor(
            "ntp_status",
            "ntp-sync's status: 1 for the current one, 0 for the others.",
            None,
            gauge_type,
        )?;
        for each in NTP_STATUSES {
            let labels = [("status", each.to_string())];
            let value = ConstGauge::new(i64::from(each == snapshot.status));
            value.encode(status.encode_family(&labels)?)?;
        }
        let counters = [
            (
                "ntp_polls",
                "Polls ntp-sync completed, all sources together.",
                snapshot.polls,
            ),
            (
                "ntp_disruptions",
                "Disruptions (suspend, pause, clock step) ntp-sync saw.",
                snapshot.disruptions,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        Ok(())
    }
}
