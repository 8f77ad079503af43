//! Signed stamps over real sockets on loopback: a hyper server and hyper-util clients, and a
//! tonic server and channel for UNAUTHENTICATED.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use common::{
    bounded, get_stamped_ahead, node, raw_client, serve, serve_grpc_health, stamp_of, START,
};
use hlc_core::{Hlc, ManualClock};
use hlc_middleware::header::HLC;
use hlc_middleware::signature::{SignatureError, SigningKeys, HLC_SIGNATURE};
use hlc_middleware::{HlcClientLayer, HlcServerLayer, PeerTimestamp, Refusal, UnsignedPolicy};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use tonic::transport::Endpoint;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tower::{ServiceBuilder, ServiceExt};

fn cluster_keys() -> SigningKeys {
    SigningKeys::parse(&format!("k1 {}\n", "5e".repeat(32))).unwrap()
}

/// A hyper server behind `layer` that answers `peer` or `none`: whether it merged a stamp.
async fn start_http(layer: HlcServerLayer<ManualClock>) -> SocketAddr {
    let service =
        ServiceBuilder::new()
            .layer(layer)
            .service_fn(|request: Request<Incoming>| async move {
                let peer = request.extensions().get::<PeerTimestamp>().is_some();
                let body = if peer { "peer" } else { "none" };
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
            });
    serve(service).await
}

async fn text(response: Response<Incoming>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn assert_signed(headers: &http::HeaderMap) {
    let signature = headers.get(HLC_SIGNATURE).expect("an hlc-signature header");
    let keys = cluster_keys();
    assert!(keys
        .verify(signature.as_bytes(), headers[HLC].as_bytes())
        .is_ok());
}

#[tokio::test]
async fn a_keyless_caller_400_ms_ahead_cannot_move_the_clock_of_a_signing_node() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let layer = HlcServerLayer::new(server.clone()).signing_keys(cluster_keys());
        let address = start_http(layer).await;
        let response = raw_client()
            .request(get_stamped_ahead(address, 400_000, 1))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_signed(response.headers());
        assert_eq!(stamp_of(response.headers()).timestamp, server.last());
        assert_eq!(text(response).await, "none");
        assert_eq!(
            server.last().physical_micros(),
            START,
            "the caller moved the clock"
        );
    })
    .await;
}

#[tokio::test]
async fn refuse_answers_a_keyless_caller_401_and_the_clock_stays() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let layer = HlcServerLayer::new(server.clone())
            .signing_keys(cluster_keys())
            .unsigned(UnsignedPolicy::Refuse);
        let address = start_http(layer).await;
        let mut request = get_stamped_ahead(address, 400_000, 1);
        let forged = "v1=k1:0000000000000000000000000000000000000000000000000000000000000000";
        request
            .headers_mut()
            .insert(HLC_SIGNATURE, forged.parse().unwrap());
        let response = raw_client().request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_signed(response.headers());
        let body: serde_json::Value = serde_json::from_str(&text(response).await).unwrap();
        assert_eq!(body["type"], "urn:hlc:signature-invalid");
        assert_eq!(
            body["detail"],
            "the hlc signature by key k1 does not match the hlc value"
        );
        assert_eq!(
            server.last().physical_micros(),
            START,
            "the caller moved the clock"
        );
    })
    .await;
}

#[tokio::test]
async fn a_signing_client_400_ms_ahead_is_merged_and_merges_the_signed_answer() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let layer = HlcServerLayer::new(server.clone())
            .signing_keys(cluster_keys())
            .unsigned(UnsignedPolicy::Refuse);
        let address = start_http(layer).await;
        let alice = node(1, &ManualClock::new(START + 400_000));
        let client = HlcClientLayer::new(alice.clone())
            .signing_keys(cluster_keys())
            .unsigned(UnsignedPolicy::Refuse);
        let request = Request::get(format!("http://{address}/"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = tower::Layer::layer(&client, raw_client())
            .oneshot(request)
            .await
            .unwrap();
        assert!(response.extensions().get::<PeerTimestamp>().is_some());
        assert!(server.last().physical_micros() >= START + 400_000);
        assert!(alice.last() > server.last());
        assert_eq!(text(response).await, "peer");
    })
    .await;
}

#[tokio::test]
async fn a_refusing_client_refuses_the_unsigned_answer_of_a_keyless_server() {
    bounded(async {
        let server = node(2, &ManualClock::new(START + 300_000));
        let address = start_http(HlcServerLayer::new(server)).await;
        let alice = node(1, &ManualClock::new(START));
        let client = HlcClientLayer::new(alice.clone())
            .signing_keys(cluster_keys())
            .unsigned(UnsignedPolicy::Refuse);
        let request = Request::get(format!("http://{address}/"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let error = tower::Layer::layer(&client, raw_client())
            .oneshot(request)
            .await
            .unwrap_err();
        assert_eq!(
            error.refusal(),
            Some(&Refusal::Signature(SignatureError::Missing))
        );
        assert_eq!(
            alice.last().physical_micros(),
            START,
            "the answer moved the clock"
        );
    })
    .await;
}

async fn health_check(
    layer: HlcClientLayer<ManualClock>,
    address: SocketAddr,
) -> Result<tonic::Response<tonic_health::pb::HealthCheckResponse>, tonic::Status> {
    let channel = Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let stamped = ServiceBuilder::new()
        .layer(hlc_middleware::tonic::with_status(layer))
        .service(channel);
    let request = HealthCheckRequest {
        service: String::new(),
    };
    HealthClient::new(stamped).check(request).await
}

#[tokio::test]
async fn grpc_refuses_a_keyless_caller_as_unauthenticated_and_serves_a_signing_one() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let layer = HlcServerLayer::new(server.clone())
            .signing_keys(cluster_keys())
            .unsigned(UnsignedPolicy::Refuse);
        let address = serve_grpc_health(layer).await;

        let keyless = node(1, &ManualClock::new(START + 400_000));
        let status = health_check(HlcClientLayer::new(keyless), address)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        assert_eq!(
            status.message(),
            "the message carries no hlc-signature header"
        );
        assert_eq!(
            server.last().physical_micros(),
            START,
            "the caller moved the clock"
        );

        let member = node(3, &ManualClock::new(START + 400_000));
        let signing = HlcClientLayer::new(member.clone())
            .signing_keys(cluster_keys())
            .unsigned(UnsignedPolicy::Refuse);
        health_check(signing, address).await.unwrap();
        assert!(server.last().physical_micros() >= START + 400_000);
        assert!(member.last() > server.last());
    })
    .await;
}

#[tokio::test]
async fn a_grpc_client_refuses_an_unsigned_answer_as_unauthenticated() {
    bounded(async {
        let server: Arc<Hlc<ManualClock>> = node(2, &ManualClock::new(START + 300_000));
        let address = serve_grpc_health(HlcServerLayer::new(server)).await;
        let alice = node(1, &ManualClock::new(START));
        let refusing = HlcClientLayer::new(alice.clone())
            .signing_keys(cluster_keys())
            .unsigned(UnsignedPolicy::Refuse);
        let status = health_check(refusing, address).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        assert_eq!(
            alice.last().physical_micros(),
            START,
            "the answer moved the clock"
        );
    })
    .await;
}
