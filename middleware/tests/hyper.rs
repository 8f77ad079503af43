//! hyper 1.x servers and hyper-util's client on loopback: a causal chain across three nodes.

mod common;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use common::{bounded, node, serve, stamp_of, START};
use hlc_core::{Hlc, ManualClock, PhysicalClock, Timestamp};
use hlc_middleware::{HlcServerLayer, MergedTimestamp, PeerTimestamp};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use tower::{service_fn, ServiceBuilder, ServiceExt};

type Client = hlc_middleware::hyper::HyperClient<Empty<Bytes>, ManualClock>;

/// "<peer stamp> <merged stamp>" as packed integers, from the request extensions.
fn stamps_seen(request: &Request<Incoming>) -> String {
    let PeerTimestamp(peer) = request.extensions().get().copied().unwrap();
    let MergedTimestamp(merged) = request.extensions().get().copied().unwrap();
    format!("{} {}", peer.timestamp.as_u64(), merged.as_u64())
}

async fn body_text<B: http_body::Body>(response: Response<B>) -> String
where
    B::Error: std::fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Node C answers with what it saw.
async fn start_c(hlc: Arc<Hlc<ManualClock>>) -> std::net::SocketAddr {
    let service = ServiceBuilder::new()
        .layer(HlcServerLayer::new(hlc))
        .service_fn(|request: Request<Incoming>| async move {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(stamps_seen(&request)))))
        });
    serve(service).await
}

/// Node B calls C, then answers with what it saw and what C said.
async fn start_b(hlc: Arc<Hlc<ManualClock>>, c: std::net::SocketAddr) -> std::net::SocketAddr {
    let client: Client = hlc_middleware::hyper::client(hlc.clone());
    let handler = service_fn(move |request: Request<Incoming>| {
        let client = client.clone();
        async move {
            let seen = stamps_seen(&request);
            let call = Request::get(format!("http://{c}/"))
                .body(Empty::new())
                .unwrap();
            let response = client.oneshot(call).await.unwrap();
            let c_answer = stamp_of(response.headers()).timestamp.as_u64();
            let MergedTimestamp(merged) = *response.extensions().get().unwrap();
            let c_seen = body_text(response).await;
            let body = format!("{seen} {c_seen} {c_answer} {}", merged.as_u64());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
        }
    });
    serve(
        ServiceBuilder::new()
            .layer(HlcServerLayer::new(hlc))
            .service(handler),
    )
    .await
}

#[tokio::test]
async fn a_causal_chain_a_b_c_is_strictly_increasing_despite_skew() {
    bounded(async {
        // A runs 400 ms ahead of C, B 100 ms ahead of C: all within the default max offset.
        let a = node(1, &ManualClock::new(START + 400_000));
        let b = node(2, &ManualClock::new(START + 100_000));
        let c = node(3, &ManualClock::new(START));
        let b_address = start_b(b, start_c(c.clone()).await).await;

        let client: Client = hlc_middleware::hyper::client(a.clone());
        let request = Request::get(format!("http://{b_address}/"))
            .body(Empty::new())
            .unwrap();
        let response = client.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let b_answer = stamp_of(response.headers()).timestamp.as_u64();
        let MergedTimestamp(a_received) = *response.extensions().get().unwrap();
        let mut chain: Vec<u64> = body_text(response)
            .await
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        chain.extend([b_answer, a_received.as_u64()]);
        // a sent, b received, b sent, c received, c answered, b received, b answered, a received
        assert_eq!(chain.len(), 8);
        assert!(chain.windows(2).all(|w| w[0] < w[1]), "{chain:?}");
        // C's physical clock still says START, yet its stamps follow A's 400 ms-ahead send.
        assert!(Timestamp::from_u64(chain[3]).physical_micros() >= START + 400_000);
        assert_eq!(c.clock().now_micros(), START);
    })
    .await;
}

#[tokio::test]
async fn a_skewed_client_is_refused_over_the_wire_and_the_server_clock_stays() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let address = start_c(server.clone()).await;
        let skewed = node(1, &ManualClock::new(START + 2_000_000));
        let client: Client = hlc_middleware::hyper::client(skewed);
        let request = Request::get(format!("http://{address}/"))
            .body(Empty::new())
            .unwrap();
        let response = client.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let refusal_stamp = stamp_of(response.headers()).timestamp;
        assert_eq!(refusal_stamp.physical_micros(), START);
        let problem: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
        assert_eq!(problem["lead_us"], 2_000_000);
        assert_eq!(server.last(), refusal_stamp);
    })
    .await;
}
