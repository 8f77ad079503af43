//! [`OtelObserver`]: span attributes and metrics from the layers.

use std::sync::{Arc, Mutex, PoisonError};

use hlc_core::peers::PeerMonitor;
use hlc_core::{NodeTimestamp, Timestamp, UpdateError};
use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::trace::{get_active_span, SpanRef};
use opentelemetry::KeyValue;

use crate::observer::{LayerObserver, Side};
use crate::refusal::Refusal;

/// Histogram buckets for the peer lead, in seconds: fine below the default max offset
/// ([`DEFAULT_MAX_OFFSET`](hlc_core::DEFAULT_MAX_OFFSET)),
/// coarse beyond it.
const LEAD_BUCKETS: [f64; 12] = [
    0.0, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Reports what the layers see to OpenTelemetry; see the [module docs](super).
///
/// Span attributes go to the span current (`Context::current()`) when the layer runs, usually
/// the request span of an outer tracing layer. Without a recording span only the metrics are
/// recorded, and nothing is formatted.
///
/// Given the [`PeerMonitor`] that peer pings feed ([`peer_monitor`](Self::peer_monitor)), a
/// span about a peer's stamp also gets what the pings last measured of that peer's clock.
#[derive(Debug, Clone)]
pub struct OtelObserver {
    refusals: Counter<u64>,
    malformed: Counter<u64>,
    lead: Histogram<f64>,
    monitor: Option<Arc<Mutex<PeerMonitor>>>,
}

impl OtelObserver {
    /// Creates the instruments on `meter`.
    pub fn new(meter: &Meter) -> Self {
        Self {
            refusals: meter
                .u64_counter("hlc.refusals")
                .with_description("Messages refused for their hlc header")
                .with_unit("{message}")
                .build(),
            malformed: meter
                .u64_counter("hlc.malformed_headers")
                .with_description("Malformed or duplicated hlc headers, refused or ignored")
                .with_unit("{header}")
                .build(),
            lead: meter
                .f64_histogram("hlc.peer.lead")
                .with_description("How far a peer's stamp leads the local physical clock")
                .with_unit("s")
                .with_boundaries(LEAD_BUCKETS.to_vec())
                .build(),
            monitor: None,
        }
    }

    /// Looks peers up in `monitor` (the one a [`Prober`](crate::ping::Prober) feeds, e.g.
    /// `prober.monitor().clone()`): a span about a peer's stamp (merged, or refused for
    /// being too far ahead) gets `hlc.remote_offset_us` (the peer's clock minus this node's,
    /// from its last ping) and `hlc.remote_offset_uncertainty_us`, when the monitor has
    /// measured that peer. The lookup locks the monitor, and only for a recording span.
    pub fn peer_monitor(mut self, monitor: Arc<Mutex<PeerMonitor>>) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// The offset attributes of `peer`, when the monitor has measured it.
    fn set_offset(&self, span: &SpanRef<'_>, peer: NodeTimestamp) {
        let Some(monitor) = &self.monitor else {
            return;
        };
        // The monitor's state is whole after each call; a panic elsewhere leaves it usable.
        let measured = monitor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last_measurement(peer.node);
        if let Some(measured) = measured {
            span.set_attribute(KeyValue::new("hlc.remote_offset_us", measured.offset_us));
            let uncertainty = i64::try_from(measured.uncertainty_us).unwrap_or(i64::MAX);
            span.set_attribute(KeyValue::new(
                "hlc.remote_offset_uncertainty_us",
                uncertainty,
            ));
        }
    }

    fn record_lead(&self, side: Side, remote_micros: u64, local_micros: u64) {
        let lead = remote_micros.saturating_sub(local_micros);
        // Up to 2^52 µs: exact in an f64 mantissa.
        #[allow(clippy::cast_precision_loss)]
        let seconds = lead as f64 / 1e6;
        self.lead.record(seconds, &[side_attribute(side)]);
    }
}

impl LayerObserver for OtelObserver {
    fn merged(&self, side: Side, peer: NodeTimestamp, _merged: Timestamp, local_micros: u64) {
        self.record_lead(side, peer.timestamp.physical_micros(), local_micros);
        with_recording_span(|span| {
            set_remote(&span, peer);
            self.set_offset(&span, peer);
        });
    }

    fn refused(&self, side: Side, refusal: &Refusal) {
        let attributes = [
            side_attribute(side),
            KeyValue::new("error.type", refusal.kind()),
        ];
        self.refusals.add(1, &attributes);
        if let Refusal::Header(_) = refusal {
            self.malformed.add(1, &[side_attribute(side)]);
        }
        if let Refusal::TooFarAhead {
            error: UpdateError::TooFarAhead { remote, local, .. },
            ..
        } = refusal
        {
            self.record_lead(side, remote.physical_micros(), local.physical_micros());
        }
        with_recording_span(|span| {
            span.set_attribute(KeyValue::new("error.type", refusal.kind()));
            if let Refusal::TooFarAhead { peer, .. } = refusal {
                set_remote(&span, *peer);
                self.set_offset(&span, *peer);
            }
        });
    }

    fn ignored(&self, side: Side, refusal: &Refusal) {
        if let Refusal::Header(_) = refusal {
            self.malformed.add(1, &[side_attribute(side)]);
        }
    }

    fn stamped(&self, _side: Side, stamp: NodeTimestamp) {
        with_recording_span(|span| {
            span.set_attribute(KeyValue::new("hlc.timestamp", stamp.timestamp.to_string()));
            span.set_attribute(KeyValue::new("hlc.node_id", stamp.node.to_string()));
        });
    }
}

fn side_attribute(side: Side) -> KeyValue {
    KeyValue::new("hlc.side", side.as_str())
}

fn set_remote(span: &SpanRef<'_>, peer: NodeTimestamp) {
    span.set_attribute(KeyValue::new(
        "hlc.remote_timestamp",
        peer.timestamp.to_string(),
    ));
    span.set_attribute(KeyValue::new("hlc.remote_node_id", peer.node.to_string()));
}

fn with_recording_span(f: impl FnOnce(SpanRef<'_>)) {
    get_active_span(|span| {
        if span.is_recording() {
            f(span);
        }
    });
}
