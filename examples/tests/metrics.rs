//! `hlc_node`'s `GET /metrics`, scraped over loopback after known traffic and read with a
//! Prometheus text parser. Each test is bounded in time; no assertion depends on how fast
//! the machine is.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hlc_core::{Hlc, NodeId, NodeTimestamp, Timestamp};
use hlc_examples::node::{NodeConfig, RunningNode};
use hlc_middleware::header::{self, HLC};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
use prometheus_parse::{Scrape, Value};

/// Bounds a whole test: a node that never answers fails it instead of hanging CI.
const TEST_LIMIT: Duration = Duration::from_secs(90);
/// Stamped requests each test sends before scraping.
const STAMPED: usize = 5;

async fn bounded<T>(test: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("test still running after {TEST_LIMIT:?}"))
}

fn config(node: u64, clock_offset_ms: i64, peers: &[&RunningNode]) -> NodeConfig {
    NodeConfig {
        clock_offset_ms,
        peers: peers.iter().map(|p| p.url().parse().unwrap()).collect(),
        ..NodeConfig::new(NodeId::new(node))
    }
}

async fn start(config: NodeConfig) -> RunningNode {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    RunningNode::spawn(listener, config).unwrap()
}

async fn send(method: Method, url: String, stamp: Option<NodeTimestamp>) -> Response<Bytes> {
    let mut request = Request::builder().method(method).uri(url);
    if let Some(stamp) = stamp {
        request = request.header(HLC, header::encode(stamp));
    }
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

/// `GET /metrics`, checked to be the Prometheus text format, and parsed.
async fn scrape_once(node: &RunningNode) -> Scrape {
    let response = send(Method::GET, format!("{}/metrics", node.url()), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[http::header::CONTENT_TYPE], CONTENT_TYPE);
    assert!(
        response.headers().get(HLC).is_none(),
        "a scrape is not stamped"
    );
    let text = std::str::from_utf8(response.body()).unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap()
}

/// Scrapes until `ready` holds for the scrape, at most [`TEST_LIMIT`].
async fn scrape_until(node: &RunningNode, ready: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + TEST_LIMIT;
    loop {
        let scrape = scrape_once(node).await;
        if ready(&scrape) || Instant::now() > deadline {
            return scrape;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the one sample named `name` whose labels include `labels`, if there is one.
fn find(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<Value> {
    let mut found = scrape.samples.iter().filter(|sample| {
        sample.metric == name && labels.iter().all(|(k, v)| sample.labels.get(k) == Some(v))
    });
    let sample = found.next()?;
    assert!(found.next().is_none(), "two samples {name} {labels:?}");
    Some(sample.value.clone())
}

fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Value {
    find(scrape, name, labels).unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
}

/// (observations at or below `edge`, all observations) of a histogram sample.
fn histogram_at(value: &Value, edge: f64) -> (f64, f64) {
    let Value::Histogram(buckets) = value else {
        panic!("not a histogram: {value:?}");
    };
    let count = |le: f64| buckets.iter().find(|b| b.less_than == le).unwrap().count;
    (count(edge), count(f64::INFINITY))
}

const BETA: &str = "0000000000000002";

#[tokio::test]
async fn metrics_count_the_traffic_and_histogram_the_peer_offsets() {
    bounded(async {
        // Beta runs 2 s ahead; alpha pings it, and relays to it.
        let beta = start(config(2, 2_000, &[])).await;
        let alpha = start(config(1, 0, &[&beta])).await;
        let caller = Hlc::builder().node_id(NodeId::new(0xc)).build().unwrap();
        for _ in 0..STAMPED {
            let stamp = Some(caller.now_with_node());
            let response = send(Method::GET, format!("{}/time", alpha.url()), stamp).await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        let now = alpha.node().hlc().now().physical_micros();
        let far = NodeTimestamp::new(
            Timestamp::from_physical_micros(now + 5_000_000),
            caller.node_id(),
        );
        let refused = send(Method::GET, format!("{}/time", alpha.url()), Some(far)).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        // Alpha's client layer refuses beta's answer, 2 s ahead.
        let relay = send(Method::POST, format!("{}/relay", alpha.url()), None).await;
        assert_eq!(relay.status(), StatusCode::BAD_GATEWAY);

        // The first ping round may still be on its way: wait for beta's histogram.
        let scrape = scrape_until(&alpha, |s| {
            find(s, "hlc_peer_offset_microseconds", &[("peer", BETA)]).is_some()
        })
        .await;
        let counter = |name, labels: &[(&str, &str)]| value(&scrape, name, labels);
        // Every answer of a route behind the layer is stamped: the stamped calls, the
        // refusal and /relay's own answer; /metrics is not.
        let served = (STAMPED + 2) as f64;
        let server = [("side", "server")];
        let client = [("side", "client")];
        assert_eq!(counter("hlc_stamps_total", &server), Value::Counter(served));
        assert_eq!(
            counter("hlc_merges_total", &server),
            Value::Counter(STAMPED as f64)
        );
        assert_eq!(counter("hlc_stamps_total", &client), Value::Counter(1.0));
        assert_eq!(counter("hlc_merges_total", &client), Value::Counter(0.0));
        for side in ["server", "client"] {
            let labels = [("side", side), ("reason", "hlc.too_far_ahead")];
            assert_eq!(
                counter("hlc_refusals_total", &labels),
                Value::Counter(1.0),
                "{side}"
            );
        }
        assert_eq!(counter("hlc_clock_refused_total", &[]), Value::Counter(2.0));
        for name in ["hlc_clock_carries_total", "hlc_clock_backward_jumps_total"] {
            assert!(matches!(counter(name, &[]), Value::Counter(_)), "{name}");
        }

        // Each ping measured beta 2 s ahead, give or take half a round trip, which the ping
        // timeout holds under a second: every observation lies between 1 s and 5 s.
        let offsets = counter("hlc_peer_offset_microseconds", &[("peer", BETA)]);
        let (within_1s, all) = histogram_at(&offsets, 1e6);
        assert_eq!(within_1s, 0.0);
        assert!(all >= 1.0);
        assert_eq!(histogram_at(&offsets, 5e6), (all, all));

        // One peer gives no verdict: alpha's board (fed by its peer monitor) stays healthy.
        assert_eq!(counter("hlc_clock_healthy", &[]), Value::Gauge(1.0));
        let peers_healthy = [("source", "peers"), ("state", "healthy")];
        assert_eq!(
            counter("hlc_clock_health_source", &peers_healthy),
            Value::Gauge(1.0)
        );
        // No NTP, no NTP metrics.
        assert!(scrape.samples.iter().all(|s| !s.metric.starts_with("ntp_")));
        alpha.stop().await.unwrap();
        beta.stop().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_fenced_node_still_answers_metrics_and_says_it_is_fenced() {
    bounded(async {
        // Two peers on time, and a node 2 s ahead of both of them: it fences itself.
        let peers = [
            start(config(2, 0, &[])).await,
            start(config(3, 0, &[])).await,
        ];
        let skewed = start(config(1, 2_000, &[&peers[0], &peers[1]])).await;
        let fenced = [("state", "fenced")];
        let scrape = scrape_until(&skewed, |s| {
            find(s, "hlc_clock_health", &fenced) == Some(Value::Gauge(1.0))
        })
        .await;
        assert_eq!(
            value(&scrape, "hlc_clock_health", &fenced),
            Value::Gauge(1.0)
        );
        let healthy = [("state", "healthy")];
        assert_eq!(
            value(&scrape, "hlc_clock_health", &healthy),
            Value::Gauge(0.0)
        );
        assert_eq!(value(&scrape, "hlc_clock_healthy", &[]), Value::Gauge(0.0));
        let source = [("source", "peers"), ("state", "fenced")];
        assert_eq!(
            value(&scrape, "hlc_clock_health_source", &source),
            Value::Gauge(1.0)
        );
        // Both peers measured 2 s behind it.
        for peer in ["0000000000000002", "0000000000000003"] {
            let offsets = value(&scrape, "hlc_peer_offset_microseconds", &[("peer", peer)]);
            let (below_minus_1s, all) = histogram_at(&offsets, -1e6);
            assert!(all >= 1.0 && below_minus_1s == all, "{peer}: {offsets:?}");
        }
        // The refusals while fenced are counted too.
        let time = send(Method::GET, format!("{}/time", skewed.url()), None).await;
        assert_eq!(time.status(), StatusCode::SERVICE_UNAVAILABLE);
        let after = scrape_once(&skewed).await;
        let untrusted = [("side", "server"), ("reason", "hlc.clock_untrusted")];
        assert_eq!(
            value(&after, "hlc_refusals_total", &untrusted),
            Value::Counter(1.0)
        );
        skewed.stop().await.unwrap();
        for peer in peers {
            peer.stop().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn with_ntp_the_estimate_and_status_are_exported() {
    bounded(async {
        // The embedded responder serves the system clock; the node's clock runs 2 s ahead.
        let responder = ntp_sync::Responder::bind("127.0.0.1:0").await.unwrap();
        let node = start(NodeConfig {
            ntp_servers: vec![responder.local_addr().to_string()],
            wait_synced: Some(Duration::from_secs(30)),
            ..config(1, 2_000, &[])
        })
        .await;
        node.node()
            .wait_healthy(Duration::from_secs(60))
            .await
            .unwrap();
        let synchronised = [("status", "synchronised")];
        let scrape = scrape_until(&node, |s| {
            find(s, "ntp_status", &synchronised) == Some(Value::Gauge(1.0))
        })
        .await;
        assert_eq!(
            value(&scrape, "ntp_status", &synchronised),
            Value::Gauge(1.0)
        );
        for other in ["unsynchronised", "free-running", "disrupted"] {
            assert_eq!(
                value(&scrape, "ntp_status", &[("status", other)]),
                Value::Gauge(0.0)
            );
        }
        // True time is 2 s behind the node's clock, within the bound's radius (give or take
        // a nanosecond of float rounding).
        let Value::Gauge(offset) = value(&scrape, "ntp_offset_seconds", &[]) else {
            panic!("ntp_offset_seconds is not a gauge");
        };
        let Value::Gauge(radius) = value(&scrape, "ntp_radius_seconds", &[]) else {
            panic!("ntp_radius_seconds is not a gauge");
        };
        assert!(
            (offset + 2.0).abs() <= radius + 1e-9,
            "offset {offset} ± {radius} s"
        );
        assert!(matches!(value(&scrape, "ntp_polls_total", &[]), Value::Counter(n) if n >= 1.0));
        let ntp_healthy = [("source", "ntp"), ("state", "healthy")];
        assert_eq!(
            value(&scrape, "hlc_clock_health_source", &ntp_healthy),
            Value::Gauge(1.0)
        );
        node.stop().await.unwrap();
    })
    .await;
}
