//! `hlc_node` and the demo, driven through the examples library on loopback. Each test is
//! bounded in time, and no assertion depends on how fast the machine is.

use std::time::Duration;

use bytes::Bytes;
use hlc_core::{NodeId, NodeTimestamp};
use hlc_examples::demo::{BETA_SKEW_MS, MAX_OFFSET};
use hlc_examples::node::{NodeConfig, RelayAnswer, RunningNode, TimeAnswer};
use hlc_middleware::header::{self, HLC};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Bounds a whole test: a node that never answers fails it instead of hanging CI. The demo
/// waits up to 15 s for its NTP sync, so this leaves it room on a loaded machine.
const TEST_LIMIT: Duration = Duration::from_secs(90);

async fn bounded<T>(test: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("test still running after {TEST_LIMIT:?}"))
}

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

fn config(node: u64, clock_offset_ms: i64, peer: Option<&str>) -> NodeConfig {
    NodeConfig {
        clock_offset_ms,
        peers: peer.map(|url| url.parse().unwrap()).into_iter().collect(),
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
    let response = client()
        .request(request.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

fn json<T: serde::de::DeserializeOwned>(response: &Response<Bytes>) -> T {
    serde_json::from_slice(response.body()).unwrap()
}

#[tokio::test]
async fn time_answers_its_stamp_and_health_is_not_stamped() {
    bounded(async {
        let node = start(config(0xa1, 0, None)).await;
        let response = send(Method::GET, format!("{}/time", node.url()), None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let answer: TimeAnswer = json(&response);
        assert_eq!(answer.node_id, "00000000000000a1");
        let stamp: NodeTimestamp = answer.timestamp.parse().unwrap();
        assert_eq!(stamp.node, NodeId::new(0xa1));
        let header = header::decode(response.headers()).unwrap().unwrap();
        assert!(header.timestamp > stamp.timestamp);

        let health = send(Method::GET, format!("{}/health", node.url()), None).await;
        assert_eq!(health.status(), StatusCode::OK);
        assert!(health.headers().get(HLC).is_none());
        let no_peer = send(Method::POST, format!("{}/relay", node.url()), None).await;
        assert_eq!(no_peer.status(), StatusCode::SERVICE_UNAVAILABLE);
        node.stop().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn relay_answers_both_stamps_in_causal_order() {
    bounded(async {
        let beta = start(config(2, 300, None)).await;
        let alpha = start(config(1, 0, Some(&beta.url()))).await;
        let response = send(Method::POST, format!("{}/relay", alpha.url()), None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let RelayAnswer { peer, local } = json(&response);
        let peer: NodeTimestamp = peer.timestamp.parse().unwrap();
        let local: NodeTimestamp = local.timestamp.parse().unwrap();
        assert_eq!((peer.node, local.node), (NodeId::new(2), NodeId::new(1)));
        // Alpha's clock is 300 ms behind beta's, yet it received beta's answer after beta sent it.
        assert!(local.timestamp > peer.timestamp);
        alpha.stop().await.unwrap();
        beta.stop().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn skewed_requests_are_refused_unless_the_layers_are_off() {
    bounded(async {
        let node = start(config(1, 0, None)).await;
        let skewed = NodeTimestamp::new(
            hlc_core::Timestamp::from_physical_micros(
                node.node().hlc().now().physical_micros() + 5_000_000,
            ),
            NodeId::new(9),
        );
        let refused = send(Method::GET, format!("{}/time", node.url()), Some(skewed)).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        assert!(node.node().hlc().last() < skewed.timestamp);
        node.stop().await.unwrap();

        let bare = start(NodeConfig {
            hlc_layers: false,
            ..config(1, 0, None)
        })
        .await;
        let accepted = send(Method::GET, format!("{}/time", bare.url()), Some(skewed)).await;
        assert_eq!(accepted.status(), StatusCode::OK);
        assert!(accepted.headers().get(HLC).is_none());
        bare.stop().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_demo_shows_causality_and_both_refusals() {
    bounded(async {
        let report = hlc_examples::demo::run().await.unwrap();
        assert!(report.causal_chain.windows(2).all(|w| w[0] < w[1]));
        let (status, body) = &report.beta_to_alpha;
        assert_eq!(*status, StatusCode::BAD_GATEWAY);
        assert_eq!(body["peer_status"], 400);
        assert_eq!(body["peer_body"]["type"], "urn:hlc:too-far-ahead");
        let lead =
            report.beta_clock.physical_micros() - report.alpha_after_refusal.physical_micros();
        assert!(
            lead > 1_000_000,
            "alpha's clock was dragged ahead: lead {lead} us"
        );
        let (status, body) = &report.alpha_to_beta;
        assert_eq!(*status, StatusCode::BAD_GATEWAY);
        assert_eq!(body["kind"], "hlc.too_far_ahead");
        let printed = report.to_string();
        assert!(printed.contains("each stamp greater than the one before: true"));

        // Step 4: the same skew, corrected through ntp-sync against the embedded responder,
        // which serves the system clock: the truth is minus the skew, and the bound holds it
        // (give or take a nanosecond of float rounding).
        let ntp = &report.ntp;
        let skew = BETA_SKEW_MS as f64 / 1_000.0;
        assert!(
            (ntp.measured_offset + skew).abs() <= ntp.radius + 1e-9,
            "measured {} ± {} s, truth {} s",
            ntp.measured_offset,
            ntp.radius,
            -skew
        );
        assert!(ntp.health.is_healthy(), "{:?}", ntp.health);
        let (status, body) = &ntp.beta_to_alpha;
        assert_eq!(*status, StatusCode::OK, "{body}");
        let answer: RelayAnswer = serde_json::from_value(body.clone()).unwrap();
        let peer: NodeTimestamp = answer.peer.timestamp.parse().unwrap();
        let local: NodeTimestamp = answer.local.timestamp.parse().unwrap();
        assert!(local > peer);
        // Beta's corrected stamps are near alpha's, not 2 s ahead. The gap also holds the
        // call's own latency, which load stretches: the bound is the max offset, a quarter of
        // the skew that was corrected.
        let gap = local
            .timestamp
            .physical_micros()
            .abs_diff(peer.timestamp.physical_micros());
        let max_offset = u64::try_from(MAX_OFFSET.as_micros()).unwrap();
        assert!(gap < max_offset, "beta's stamp is {gap} us from alpha's");
    })
    .await;
}

/// A node correcting its clock against `server`, serving at once behind a health board.
async fn start_waiting_for(server: &ntp_sync::Responder) -> RunningNode {
    start(NodeConfig {
        ntp_servers: vec![server.local_addr().to_string()],
        wait_synced: Some(Duration::from_secs(30)),
        ..config(2, 2_000, None)
    })
    .await
}

#[tokio::test]
async fn wait_synced_answers_503_until_the_clock_is_healthy_then_serves() {
    bounded(async {
        // A silent server: the node never synchronises, so every answer is a 503.
        let silent = ntp_sync::Responder::bind("127.0.0.1:0").await.unwrap();
        silent.set_behaviour(silent.behaviour().with(ntp_sync::Fault::Silence));
        let unsynced = start_waiting_for(&silent).await;
        let response = send(Method::GET, format!("{}/time", unsynced.url()), None).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(http::header::RETRY_AFTER));
        let problem: serde_json::Value = json(&response);
        assert_eq!(problem["type"], "urn:hlc:clock-untrusted");
        assert_eq!(problem["reason"], "unsynchronised");
        // `/health` says why, and is not stamped either.
        let health = send(Method::GET, format!("{}/health", unsynced.url()), None).await;
        assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(health.headers().get(HLC).is_none());
        let problem: serde_json::Value = json(&health);
        assert_eq!(problem["reason"], "unsynchronised");
        unsynced.stop().await.unwrap();

        // An honest one: the same node turns healthy and serves, 2 s of skew corrected.
        let honest = ntp_sync::Responder::bind("127.0.0.1:0").await.unwrap();
        let synced = start_waiting_for(&honest).await;
        synced
            .node()
            .wait_healthy(Duration::from_secs(60))
            .await
            .unwrap();
        let response = send(Method::GET, format!("{}/time", synced.url()), None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let answer: TimeAnswer = json(&response);
        assert_eq!(answer.node_id, "0000000000000002");
        synced.stop().await.unwrap();
    })
    .await;
}
