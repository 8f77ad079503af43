//! OpenTelemetry: span attributes and metrics, checked with the SDK's in-memory exporters.

mod common;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use common::{node, stamped, START};
use hlc_core::peers::{MonitorConfig, PeerMonitor, PingExchange};
use hlc_core::{ManualClock, NodeId, NodeTimestamp, Timestamp};
use hlc_middleware::header::HLC;
use hlc_middleware::opentelemetry::OtelObserver;
use hlc_middleware::{HlcClientLayer, HlcServerLayer, LayerObserver};
use http::{Request, Response};
use opentelemetry::context::FutureExt;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tower::{service_fn, Layer, Service, ServiceExt};

struct Telemetry {
    spans: InMemorySpanExporter,
    tracer_provider: SdkTracerProvider,
    metrics: InMemoryMetricExporter,
    meter_provider: SdkMeterProvider,
    observer: Arc<dyn LayerObserver>,
}

impl Telemetry {
    fn new() -> Self {
        Self::with_monitor(None)
    }

    /// With the peer monitor that pings feed, when given.
    fn with_monitor(monitor: Option<Arc<Mutex<PeerMonitor>>>) -> Self {
        let spans = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let metrics = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        let mut observer = OtelObserver::new(&meter_provider.meter("test"));
        if let Some(monitor) = monitor {
            observer = observer.peer_monitor(monitor);
        }
        let observer = Arc::new(observer);
        Self {
            spans,
            tracer_provider,
            metrics,
            meter_provider,
            observer,
        }
    }

    /// Runs `call` inside a span named `name` and returns that span's attributes.
    async fn in_span<F: std::future::Future>(
        &self,
        name: &'static str,
        call: F,
    ) -> HashMap<String, Value> {
        let span = self.tracer_provider.tracer("test").start(name);
        let cx = Context::current_with_span(span);
        call.with_context(cx.clone()).await;
        cx.span().end();
        let finished = self.spans.get_finished_spans().unwrap();
        let span = finished.iter().find(|span| span.name == name).unwrap();
        span.attributes
            .iter()
            .map(|KeyValue { key, value, .. }| (key.to_string(), value.clone()))
            .collect()
    }

    fn collect(&self) -> Vec<ResourceMetrics> {
        self.meter_provider.force_flush().unwrap();
        self.metrics.get_finished_metrics().unwrap()
    }

    /// The sum of counter `name` over data points whose attributes include `with`.
    fn counter(&self, name: &str, with: &KeyValue) -> u64 {
        let mut total = 0;
        if let Some(resource) = self.collect().last() {
            for metric in resource.scope_metrics().flat_map(|scope| scope.metrics()) {
                if let (true, AggregatedMetrics::U64(MetricData::Sum(sum))) =
                    (metric.name() == name, metric.data())
                {
                    total += sum
                        .data_points()
                        .filter(|point| point.attributes().any(|kv| kv == with))
                        .map(|point| point.value())
                        .sum::<u64>();
                }
            }
        }
        total
    }

    /// (count, max) of the lead histogram.
    fn lead(&self) -> (u64, f64) {
        if let Some(resource) = self.collect().last() {
            for metric in resource.scope_metrics().flat_map(|scope| scope.metrics()) {
                if let (true, AggregatedMetrics::F64(MetricData::Histogram(histogram))) =
                    (metric.name() == "hlc.peer.lead", metric.data())
                {
                    let point = histogram.data_points().next().unwrap();
                    return (point.count(), point.max().unwrap());
                }
            }
        }
        (0, 0.0)
    }
}

fn ok_handler() -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone {
    service_fn(|_: Request<()>| async { Ok(Response::new(())) })
}

fn text(value: &Value) -> String {
    value.as_str().into_owned()
}

#[tokio::test]
async fn server_spans_and_metrics_describe_merges_and_refusals() {
    let telemetry = Telemetry::new();
    let server = node(2, &ManualClock::new(START));
    let layer = HlcServerLayer::new(server.clone()).observer(telemetry.observer.clone());
    let service = layer.layer(ok_handler());

    let peer = NodeTimestamp::new(
        Timestamp::from_physical_micros(START + 200_000),
        NodeId::new(0xa1),
    );
    let merged = telemetry
        .in_span("merged", service.clone().oneshot(stamped(peer)))
        .await;
    assert_eq!(
        text(&merged["hlc.remote_timestamp"]),
        peer.timestamp.to_string()
    );
    assert_eq!(text(&merged["hlc.remote_node_id"]), "00000000000000a1");
    assert_eq!(text(&merged["hlc.timestamp"]), server.last().to_string());
    assert_eq!(text(&merged["hlc.node_id"]), server.node_id().to_string());
    assert!(!merged.contains_key("error.type"));

    let far = NodeTimestamp::new(
        Timestamp::from_physical_micros(START + 2_000_000),
        NodeId::new(0xa1),
    );
    let refused = telemetry
        .in_span("refused", service.clone().oneshot(stamped(far)))
        .await;
    assert_eq!(text(&refused["error.type"]), "hlc.too_far_ahead");
    assert_eq!(
        text(&refused["hlc.remote_timestamp"]),
        far.timestamp.to_string()
    );
    assert_eq!(text(&refused["hlc.timestamp"]), server.last().to_string());

    let mut garbled = Request::new(());
    garbled.headers_mut().insert(HLC, "00-zz".parse().unwrap());
    let malformed = telemetry
        .in_span("malformed", service.oneshot(garbled))
        .await;
    assert_eq!(text(&malformed["error.type"]), "hlc.malformed_header");

    let server_side = KeyValue::new("hlc.side", "server");
    assert_eq!(telemetry.counter("hlc.refusals", &server_side), 2);
    assert_eq!(
        telemetry.counter(
            "hlc.refusals",
            &KeyValue::new("error.type", "hlc.too_far_ahead")
        ),
        1
    );
    assert_eq!(telemetry.counter("hlc.malformed_headers", &server_side), 1);
    // The 200 ms lead merged, then the 2 s lead refused.
    let (count, max) = telemetry.lead();
    assert_eq!(count, 2);
    assert!((max - 2.0).abs() < 1e-9, "{max}");
}

#[tokio::test]
async fn client_spans_name_the_request_stamp_and_the_answer() {
    let telemetry = Telemetry::new();
    let server = node(2, &ManualClock::new(START + 3_000_000));
    let alice = node(1, &ManualClock::new(START));
    let client = HlcClientLayer::new(alice.clone()).observer(telemetry.observer.clone());
    let service = client.layer(HlcServerLayer::new(server.clone()).layer(ok_handler()));
    let attributes = telemetry
        .in_span("call", async {
            let error = service.oneshot(Request::new(())).await.unwrap_err();
            assert_eq!(error.refusal().unwrap().kind(), "hlc.too_far_ahead");
        })
        .await;
    assert_eq!(text(&attributes["hlc.timestamp"]), alice.last().to_string());
    assert_eq!(
        text(&attributes["hlc.remote_timestamp"]),
        server.last().to_string()
    );
    assert_eq!(text(&attributes["error.type"]), "hlc.too_far_ahead");
    assert_eq!(
        telemetry.counter("hlc.refusals", &KeyValue::new("hlc.side", "client")),
        1
    );
}

#[tokio::test]
async fn without_a_span_only_metrics_are_recorded() {
    let telemetry = Telemetry::new();
    let server = node(2, &ManualClock::new(START));
    let layer = HlcServerLayer::new(server).observer(telemetry.observer.clone());
    let mut garbled = Request::new(());
    garbled
        .headers_mut()
        .insert(HLC, "garbage".parse().unwrap());
    let response = layer.layer(ok_handler()).oneshot(garbled).await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(telemetry.spans.get_finished_spans().unwrap().is_empty());
    assert_eq!(
        telemetry.counter(
            "hlc.malformed_headers",
            &KeyValue::new("hlc.side", "server")
        ),
        1
    );
}

#[tokio::test]
async fn spans_carry_the_offset_the_monitor_measured_of_the_peer() {
    // Pings measured peer a1's clock 300 ms ahead of this node's, ± 1 ms.
    let mut monitor = PeerMonitor::new(MonitorConfig::new());
    let exchange = PingExchange {
        peer: NodeId::new(0xa1),
        sent_local: START,
        received_local: START + 2_000,
        peer_physical: START + 1_000 + 300_000,
    };
    monitor.record(Instant::now(), exchange).unwrap();
    let telemetry = Telemetry::with_monitor(Some(Arc::new(Mutex::new(monitor))));
    let server = node(2, &ManualClock::new(START));
    let layer = HlcServerLayer::new(server).observer(telemetry.observer.clone());
    let service = layer.layer(ok_handler());

    let at = |micros, node| NodeTimestamp::new(Timestamp::from_physical_micros(micros), node);
    let merged = telemetry
        .in_span(
            "merged",
            service
                .clone()
                .oneshot(stamped(at(START + 100_000, NodeId::new(0xa1)))),
        )
        .await;
    assert_eq!(merged["hlc.remote_offset_us"], Value::I64(300_000));
    assert_eq!(
        merged["hlc.remote_offset_uncertainty_us"],
        Value::I64(1_000)
    );

    // Refused for its stamp, the same peer's span still says how far its clock is.
    let refused = telemetry
        .in_span(
            "refused",
            service
                .clone()
                .oneshot(stamped(at(START + 2_000_000, NodeId::new(0xa1)))),
        )
        .await;
    assert_eq!(text(&refused["error.type"]), "hlc.too_far_ahead");
    assert_eq!(refused["hlc.remote_offset_us"], Value::I64(300_000));

    // A peer the monitor never measured gets no offset, only its stamp.
    let unknown = telemetry
        .in_span(
            "unknown",
            service.oneshot(stamped(at(START + 100_000, NodeId::new(0xb2)))),
        )
        .await;
    assert_eq!(text(&unknown["hlc.remote_node_id"]), "00000000000000b2");
    assert!(!unknown.contains_key("hlc.remote_offset_us"));
}
