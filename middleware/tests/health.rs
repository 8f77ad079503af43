//! Clock health over real hyper and tonic on loopback: an unhealthy node answers 503 (gRPC
//! UNAVAILABLE) without running the request or merging its stamp, observe-only serves and
//! reports, and an unhealthy client sends nothing.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::{
    bounded, get_stamped_ahead, node, raw_client, serve, serve_grpc_health, stamp_of, START,
};
use hlc_core::health::{ClockHealth, HealthBoard, HealthReporter, UnhealthyReason};
use hlc_core::{Hlc, ManualClock};
use hlc_middleware::header::HLC;
use hlc_middleware::{
    ClientError, HealthMode, HlcClientLayer, HlcServerLayer, LayerObserver, Refusal, Side,
    DEFAULT_UNTRUSTED_RETRY_AFTER,
};
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tower::{service_fn, Layer, ServiceExt};

const WIDE: UnhealthyReason = UnhealthyReason::RadiusTooLarge {
    radius: Duration::from_millis(300),
    limit: Duration::from_millis(250),
};

/// A board with one source that reports `health`.
fn board_reporting(health: ClockHealth) -> (HealthBoard, HealthReporter) {
    let board = HealthBoard::new();
    let reporter = board.reporter("test");
    reporter.report(health);
    (board, reporter)
}

/// Serves a handler that counts its calls behind `layer`.
async fn counting_server(
    layer: HlcServerLayer<ManualClock>,
    calls: &Arc<AtomicUsize>,
) -> SocketAddr {
    let calls = Arc::clone(calls);
    let handler = service_fn(move |_: Request<Incoming>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"served")))) }
    });
    serve(layer.layer(handler)).await
}

async fn json(response: Response<Incoming>) -> serde_json::Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn an_unhealthy_node_answers_503_problem_without_running_or_merging() {
    bounded(async {
        let hlc = node(2, &ManualClock::new(START));
        let (board, _reporter) = board_reporting(WIDE.into());
        let calls = Arc::new(AtomicUsize::new(0));
        let layer = HlcServerLayer::new(hlc.clone()).health(board);
        let address = counting_server(layer, &calls).await;
        let before = hlc.last();

        let response = raw_client()
            .request(get_stamped_ahead(address, 200_000, 9))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let retry = DEFAULT_UNTRUSTED_RETRY_AFTER.as_secs().to_string();
        assert_eq!(response.headers()[RETRY_AFTER], retry.as_str());
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        assert!(
            response.headers().get(HLC).is_none(),
            "an untrusted clock stamped"
        );
        let body = json(response).await;
        assert_eq!(body["type"], "urn:hlc:clock-untrusted");
        assert_eq!(body["status"], 503);
        assert_eq!(body["reason"], "radius_too_large");
        assert_eq!(body["radius_us"], 300_000);
        assert_eq!(body["limit_us"], 250_000);
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("300ms") && detail.contains("250ms"),
            "{detail}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0, "the refused request ran");
        assert_eq!(hlc.last(), before, "the clock moved");
    })
    .await;
}

#[tokio::test]
async fn a_node_serves_while_healthy_and_again_once_it_recovers() {
    bounded(async {
        let hlc = node(2, &ManualClock::new(START));
        let (board, reporter) = board_reporting(ClockHealth::Healthy);
        let calls = Arc::new(AtomicUsize::new(0));
        let address = counting_server(HlcServerLayer::new(hlc.clone()).health(board), &calls).await;
        let client = raw_client();

        let served = client
            .request(get_stamped_ahead(address, 100_000, 9))
            .await
            .unwrap();
        assert_eq!(served.status(), StatusCode::OK);
        assert!(stamp_of(served.headers()).timestamp.physical_micros() >= START + 100_000);

        let fenced = UnhealthyReason::Fenced {
            far: 3,
            fresh: 4,
            offset_ms: 1_200,
        };
        reporter.report(fenced.into());
        let refused = client
            .request(get_stamped_ahead(address, 200_000, 9))
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = json(refused).await;
        assert_eq!(body["reason"], "fenced");
        assert_eq!(body["far_peers"], 3);
        assert_eq!(body["fresh_peers"], 4);
        assert_eq!(body["offset_ms"], 1_200);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        reporter.report(ClockHealth::Healthy);
        let again = client
            .request(get_stamped_ahead(address, 300_000, 9))
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(
            hlc.last().physical_micros() >= START + 300_000,
            "the stamp was merged"
        );
    })
    .await;
}

/// Records what the layer reported as refused or ignored.
#[derive(Default)]
struct Recorder {
    refused: Mutex<Vec<(Side, Refusal)>>,
    ignored: Mutex<Vec<(Side, Refusal)>>,
}

impl LayerObserver for Recorder {
    fn refused(&self, side: Side, refusal: &Refusal) {
        self.refused.lock().unwrap().push((side, refusal.clone()));
    }

    fn ignored(&self, side: Side, refusal: &Refusal) {
        self.ignored.lock().unwrap().push((side, refusal.clone()));
    }
}

#[tokio::test]
async fn observe_only_serves_merges_and_tells_the_observer() {
    bounded(async {
        let hlc = node(2, &ManualClock::new(START));
        let (board, _reporter) = board_reporting(UnhealthyReason::Disrupted.into());
        let recorder = Arc::new(Recorder::default());
        let layer = HlcServerLayer::new(hlc.clone())
            .health(board)
            .health_mode(HealthMode::ObserveOnly)
            .observer(recorder.clone());
        let calls = Arc::new(AtomicUsize::new(0));
        let address = counting_server(layer, &calls).await;

        let response = raw_client()
            .request(get_stamped_ahead(address, 100_000, 9))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().contains_key(HLC));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            hlc.last().physical_micros() >= START + 100_000,
            "not merged"
        );
        let ignored = recorder.ignored.lock().unwrap().clone();
        let untrusted = Refusal::ClockUntrusted(UnhealthyReason::Disrupted);
        assert_eq!(ignored, [(Side::Server, untrusted)]);
        assert!(recorder.refused.lock().unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_enforcing_node_tells_the_observer_it_refused() {
    bounded(async {
        let hlc = node(2, &ManualClock::new(START));
        let (board, _reporter) = board_reporting(UnhealthyReason::Unsynchronised.into());
        let recorder = Arc::new(Recorder::default());
        let layer = HlcServerLayer::new(hlc)
            .health(board)
            .observer(recorder.clone());
        let address = counting_server(layer, &Arc::new(AtomicUsize::new(0))).await;
        let response = raw_client()
            .request(get_stamped_ahead(address, 0, 9))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(json(response).await["reason"], "unsynchronised");
        let refused = recorder.refused.lock().unwrap().clone();
        let untrusted = Refusal::ClockUntrusted(UnhealthyReason::Unsynchronised);
        assert_eq!(refused, [(Side::Server, untrusted)]);
    })
    .await;
}

#[tokio::test]
async fn an_unhealthy_client_sends_nothing_and_says_why() {
    bounded(async {
        let server_calls = Arc::new(AtomicUsize::new(0));
        let server_hlc = node(2, &ManualClock::new(START));
        let address = counting_server(HlcServerLayer::new(server_hlc), &server_calls).await;
        let alice = node(1, &ManualClock::new(START));
        let (board, reporter) = board_reporting(WIDE.into());
        let client = HlcClientLayer::new(alice.clone())
            .health(board)
            .layer(raw_client());
        let before = alice.last();

        let error = client
            .clone()
            .oneshot(get_stamped_ahead(address, 0, 9))
            .await
            .unwrap_err();
        assert!(matches!(error, ClientError::ClockUntrusted(reason) if reason == WIDE));
        assert!(
            error
                .to_string()
                .starts_with("request not sent: local clock untrusted: clock error bound 300ms"),
            "{error}"
        );
        assert_eq!(server_calls.load(Ordering::SeqCst), 0, "a request left");
        assert_eq!(alice.last(), before, "the untrusted clock stamped");

        reporter.report(ClockHealth::Healthy);
        let response = client
            .oneshot(get_stamped_ahead(address, 0, 9))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(server_calls.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn an_unhealthy_client_never_calls_its_inner_service() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let inner = service_fn(move |_: Request<()>| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, Infallible>(Response::new(())) }
    });
    let hlc = Arc::new(Hlc::with_clock(ManualClock::new(START)));
    let (board, _reporter) = board_reporting(UnhealthyReason::Disrupted.into());
    let client = HlcClientLayer::new(hlc).health(board).layer(inner);
    let error = client.oneshot(Request::new(())).await.unwrap_err();
    assert!(matches!(
        error,
        ClientError::ClockUntrusted(UnhealthyReason::Disrupted)
    ));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

mod grpc {
    use super::*;
    use tonic::transport::Endpoint;
    use tonic::Code;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    fn check() -> HealthCheckRequest {
        HealthCheckRequest {
            service: String::new(),
        }
    }

    #[tokio::test]
    async fn an_unhealthy_grpc_server_answers_unavailable_until_it_recovers() {
        bounded(async {
            let hlc = node(2, &ManualClock::new(START));
            let (board, reporter) = board_reporting(UnhealthyReason::Disrupted.into());
            let address = serve_grpc_health(HlcServerLayer::new(hlc.clone()).health(board)).await;
            let channel = Endpoint::from_shared(format!("http://{address}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            let mut client = HealthClient::new(channel);
            let before = hlc.last();
            let status = client.check(check()).await.unwrap_err();
            assert_eq!(status.code(), Code::Unavailable);
            assert!(
                status.message().contains("clock disrupted"),
                "{}",
                status.message()
            );
            assert_eq!(hlc.last(), before);

            reporter.report(ClockHealth::Healthy);
            client.check(check()).await.unwrap();
        })
        .await;
    }

    #[tokio::test]
    async fn an_unhealthy_grpc_client_gets_unavailable_without_sending() {
        bounded(async {
            let server = node(2, &ManualClock::new(START));
            let address = serve_grpc_health(HlcServerLayer::new(server.clone())).await;
            let channel = Endpoint::from_shared(format!("http://{address}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            let alice = node(1, &ManualClock::new(START));
            let (board, _reporter) = board_reporting(UnhealthyReason::Unsynchronised.into());
            let layer =
                hlc_middleware::tonic::with_status(HlcClientLayer::new(alice).health(board));
            let stamped = tower::ServiceBuilder::new().layer(layer).service(channel);
            let before = server.last();
            let status = HealthClient::new(stamped).check(check()).await.unwrap_err();
            assert_eq!(status.code(), Code::Unavailable);
            assert!(
                status.message().contains("no time sync bound"),
                "{}",
                status.message()
            );
            assert_eq!(server.last(), before, "the request reached the server");
        })
        .await;
    }
}
