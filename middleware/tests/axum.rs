//! axum on loopback: `Router::layer`, the extractors, a skipped health route and a refusal.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use common::{bounded, node, stamp_of, START};
use hlc_core::{Hlc, ManualClock, NodeTimestamp};
use hlc_middleware::{HlcServerLayer, MergedTimestamp, PeerTimestamp};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use tower::ServiceExt;

type Client = hlc_middleware::hyper::HyperClient<Empty<Bytes>, ManualClock>;

async fn time(MergedTimestamp(merged): MergedTimestamp, peer: Option<PeerTimestamp>) -> String {
    let peer = peer.map(|PeerTimestamp(peer)| peer.to_string());
    format!("{} {}", merged.as_u64(), peer.unwrap_or_default())
}

async fn peer_required(PeerTimestamp(peer): PeerTimestamp) -> String {
    peer.to_string()
}

async fn start(hlc: Arc<Hlc<ManualClock>>) -> SocketAddr {
    let layered = Router::new()
        .route("/time", get(time))
        .route("/peer", get(peer_required))
        .route("/health", get(|| async { "ok" }))
        .layer(HlcServerLayer::new(hlc).skip_path("/health"));
    // A route the layer does not cover, to show the extractor's complaint.
    let app = layered.route("/uncovered", get(time));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

async fn get_from(client: &Client, address: SocketAddr, path: &str) -> Response<Bytes> {
    let request = Request::get(format!("http://{address}{path}"))
        .body(Empty::new())
        .unwrap();
    let response = client.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn handlers_extract_the_merged_and_peer_timestamps() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let address = start(server.clone()).await;
        let alice = node(1, &ManualClock::new(START + 250_000));
        let client: Client = hlc_middleware::hyper::client(alice.clone());
        let response = get_from(&client, address, "/time").await;
        assert_eq!(response.status(), StatusCode::OK);
        let text = std::str::from_utf8(response.body()).unwrap();
        let (merged, peer) = text.split_once(' ').unwrap();
        let peer: NodeTimestamp = peer.parse().unwrap();
        let merged: u64 = merged.parse().unwrap();
        assert_eq!(peer.node, alice.node_id());
        assert!(peer.timestamp.as_u64() < merged);
        assert!(merged < stamp_of(response.headers()).timestamp.as_u64());
        let response = get_from(&client, address, "/peer").await;
        let second: NodeTimestamp = std::str::from_utf8(response.body())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(second.node, alice.node_id());
        assert!(second.timestamp > peer.timestamp);
    })
    .await;
}

#[tokio::test]
async fn the_health_route_is_skipped_and_a_skewed_peer_refused() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let address = start(server.clone()).await;
        let skewed = node(1, &ManualClock::new(START + 900_000));
        let client: Client = hlc_middleware::hyper::client(skewed);
        let before = server.now();
        let health = get_from(&client, address, "/health").await;
        assert_eq!(health.status(), StatusCode::OK);
        assert!(health.headers().get("hlc").is_none());
        assert_eq!(server.last(), before);

        let refused = get_from(&client, address, "/time").await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        let problem: serde_json::Value = serde_json::from_slice(refused.body()).unwrap();
        assert_eq!(problem["lead_us"], 900_000);
        assert_eq!(
            stamp_of(refused.headers()).timestamp.as_u64(),
            before.as_u64() + 1
        );
    })
    .await;
}

#[tokio::test]
async fn extractors_reject_what_is_missing() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let address = start(server).await;
        let plain =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Empty<Bytes>>();
        let request = Request::get(format!("http://{address}/peer"))
            .body(Empty::new())
            .unwrap();
        let response = plain.request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().contains_key("hlc"));

        let alice = node(1, &ManualClock::new(START));
        let client: Client = hlc_middleware::hyper::client(alice);
        let uncovered = get_from(&client, address, "/uncovered").await;
        assert_eq!(uncovered.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(std::str::from_utf8(uncovered.body())
            .unwrap()
            .contains("does not cover this route"));
    })
    .await;
}
