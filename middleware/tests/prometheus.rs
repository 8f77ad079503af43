//! Prometheus: the observer and collectors after known traffic on a manual clock, encoded
//! in the Prometheus text format and read back with a Prometheus text parser.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use common::{node, stamped, START};
use hlc_core::health::{HealthBoard, UnhealthyReason};
use hlc_core::peers::Measurement;
use hlc_core::{ManualClock, NodeId, NodeTimestamp, Timestamp, MAX_LOGICAL};
use hlc_middleware::prometheus::{ClockCollector, HealthCollector, PrometheusObserver};
use hlc_middleware::{HlcClientLayer, HlcServerLayer};
use http::{Request, Response};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;
use prometheus_parse::{HistogramCount, Scrape, Value};
use tower::{service_fn, Layer, Service, ServiceExt};

fn ok_handler() -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone {
    service_fn(|_: Request<()>| async { Ok(Response::new(())) })
}

/// The registry encoded as `GET /metrics` would answer, and parsed back.
fn scrape(registry: &Registry) -> Scrape {
    let mut text = String::new();
    prometheus_text::encode(&mut text, registry).unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap()
}

/// The value of the one sample named `name` whose labels include `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Value {
    let mut found = scrape.samples.iter().filter(|sample| {
        sample.metric == name
            && labels
                .iter()
                .all(|(key, value)| sample.labels.get(key) == Some(value))
    });
    let sample = found
        .next()
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"));
    assert!(found.next().is_none(), "two samples {name} {labels:?}");
    sample.value.clone()
}

#[tokio::test]
async fn counters_follow_the_traffic_and_collectors_read_the_clock_and_board() {
    let mut registry = Registry::default();
    let observer = PrometheusObserver::new(&mut registry);
    let clock = ManualClock::new(START);
    let server = node(2, &clock);
    registry.register_collector(Box::new(ClockCollector::new(server.clone())));
    let board = HealthBoard::new();
    let peers = board.reporter("peers");
    registry.register_collector(Box::new(HealthCollector::new(board.clone())));

    // Three requests through both layers: three stamps and three merges on each side.
    let service = HlcServerLayer::new(server.clone())
        .observer(Arc::new(observer.clone()))
        .layer(ok_handler());
    let alice = node(1, &clock);
    let client = HlcClientLayer::new(alice)
        .observer(Arc::new(observer.clone()))
        .layer(service.clone());
    for _ in 0..3 {
        client.clone().oneshot(Request::new(())).await.unwrap();
    }
    // One request 2 s ahead: refused by the server layer, and by the clock.
    let far = NodeTimestamp::new(
        Timestamp::from_physical_micros(START + 2_000_000),
        NodeId::new(0xa1),
    );
    let refused = service.clone().oneshot(stamped(far)).await.unwrap();
    assert_eq!(refused.status(), 400);
    // One carry: more stamps within one microsecond than the logical counter holds.
    for _ in 0..=MAX_LOGICAL {
        server.now();
    }
    // One backward jump: the physical clock steps back two seconds.
    clock.rewind(Duration::from_secs(2));
    server.now();
    // A ping measured peer a1 400 ms ahead, and the peers fenced this node.
    let measured = Measurement {
        offset_us: 400_000,
        uncertainty_us: 100,
        rtt_us: 200,
    };
    observer.record_ping(NodeId::new(0xa1), &measured);
    peers.report(
        UnhealthyReason::Fenced {
            far: 2,
            fresh: 2,
            offset_ms: 400,
        }
        .into(),
    );

    let scrape = scrape(&registry);
    for side in ["server", "client"] {
        let stamps = value(&scrape, "hlc_stamps_total", &[("side", side)]);
        // The refused request's answer is stamped too.
        let expected = if side == "server" { 4.0 } else { 3.0 };
        assert_eq!(stamps, Value::Counter(expected), "{side}");
        let merges = value(&scrape, "hlc_merges_total", &[("side", side)]);
        assert_eq!(merges, Value::Counter(3.0), "{side}");
    }
    let refusals = [("side", "server"), ("reason", "hlc.too_far_ahead")];
    assert_eq!(
        value(&scrape, "hlc_refusals_total", &refusals),
        Value::Counter(1.0)
    );
    for (name, expected) in [
        ("hlc_clock_refused_total", 1.0),
        ("hlc_clock_carries_total", 1.0),
        ("hlc_clock_backward_jumps_total", 1.0),
        ("hlc_clock_forward_leaps_total", 0.0),
    ] {
        assert_eq!(
            value(&scrape, name, &[]),
            Value::Counter(expected),
            "{name}"
        );
    }
    let max_offset = hlc_core::DEFAULT_MAX_OFFSET.as_secs_f64();
    assert_eq!(
        value(&scrape, "hlc_clock_max_offset_seconds", &[]),
        Value::Gauge(max_offset)
    );

    // The 400 ms offset falls in the bucket of the far threshold (80 % of 500 ms) and above.
    let Value::Histogram(buckets) = value(
        &scrape,
        "hlc_peer_offset_microseconds",
        &[("peer", "00000000000000a1")],
    ) else {
        panic!("not a histogram");
    };
    let count_at = |edge: f64| {
        buckets
            .iter()
            .find(|b| b.less_than == edge)
            .map(|b| b.count)
    };
    assert_eq!(count_at(50_000.0), Some(0.0));
    assert_eq!(count_at(400_000.0), Some(1.0));
    assert!(buckets.contains(&HistogramCount {
        less_than: f64::INFINITY,
        count: 1.0
    }));
    assert_eq!(
        value(&scrape, "hlc_peer_offset_microseconds_sum", &[]),
        Value::Untyped(400_000.0)
    );

    assert_eq!(value(&scrape, "hlc_clock_healthy", &[]), Value::Gauge(0.0));
    for (state, expected) in [("fenced", 1.0), ("healthy", 0.0), ("unsynchronised", 0.0)] {
        let labels = [("state", state)];
        assert_eq!(
            value(&scrape, "hlc_clock_health", &labels),
            Value::Gauge(expected)
        );
        let labels = [("source", "peers"), ("state", state)];
        assert_eq!(
            value(&scrape, "hlc_clock_health_source", &labels),
            Value::Gauge(expected)
        );
    }
}

#[test]
fn a_registry_prefix_goes_in_front_of_every_name() {
    let mut registry = Registry::with_prefix("shop");
    let observer = PrometheusObserver::new(&mut registry);
    registry.register_collector(Box::new(HealthCollector::new(HealthBoard::new())));
    observer.record_ping(
        NodeId::new(3),
        &Measurement {
            offset_us: -1_000,
            uncertainty_us: 10,
            rtt_us: 20,
        },
    );
    let scrape = scrape(&registry);
    assert_eq!(
        value(&scrape, "shop_hlc_clock_healthy", &[]),
        Value::Gauge(1.0)
    );
    let offsets = value(
        &scrape,
        "shop_hlc_peer_offset_microseconds",
        &[("peer", "0000000000000003")],
    );
    assert!(matches!(offsets, Value::Histogram(_)), "{offsets:?}");
    assert!(scrape.docs.contains_key("shop_hlc_stamps_total"));
}
