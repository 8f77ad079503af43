//! The server layer's rules, driven in process on manual clocks.

mod common;

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use common::{body_json, node, stamp_of, stamped, MAX_OFFSET_MICROS, START};
use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp, Timestamp};
use hlc_middleware::header::HLC;
use hlc_middleware::{
    HlcServerLayer, MergedTimestamp, PeerTimestamp, Policy, ProblemResponse, Refusal,
};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::{service_fn, Layer, Service, ServiceExt};

fn server_node() -> (Arc<Hlc<ManualClock>>, ManualClock) {
    let clock = ManualClock::new(START);
    (node(2, &clock), clock)
}

fn peer_at(physical: u64) -> NodeTimestamp {
    NodeTimestamp::new(Timestamp::from_physical_micros(physical), NodeId::new(1))
}

/// A handler that counts its calls and answers 200 with the merged timestamp.
fn counting(
    calls: &Arc<AtomicUsize>,
) -> impl Service<Request<()>, Response = Response<String>, Error = Infallible> + Clone {
    let calls = Arc::clone(calls);
    service_fn(move |request: Request<()>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let merged = request.extensions().get::<MergedTimestamp>().copied();
        async move { Ok(Response::new(format!("{merged:?}"))) }
    })
}

#[tokio::test]
async fn the_response_stamp_is_greater_than_the_request_stamp() {
    let (hlc, _) = server_node();
    let client = Hlc::with_clock(ManualClock::new(START + 200_000));
    let sent = client.now_with_node();
    let calls = Arc::new(AtomicUsize::new(0));
    let service = HlcServerLayer::new(hlc.clone()).layer(counting(&calls));
    let response = service.oneshot(stamped(sent)).await.unwrap();
    let answered = stamp_of(response.headers());
    assert_eq!(response.status(), StatusCode::OK);
    assert!(answered.timestamp > sent.timestamp);
    assert_eq!(answered.node, hlc.node_id());
    assert_eq!(hlc.last(), answered.timestamp);
}

#[tokio::test]
async fn exactly_at_the_bound_is_accepted_and_one_microsecond_over_is_refused() {
    let (hlc, _) = server_node();
    let calls = Arc::new(AtomicUsize::new(0));
    let service = HlcServerLayer::new(hlc.clone()).layer(counting(&calls));
    let at_bound = peer_at(START + MAX_OFFSET_MICROS);
    let response = service.clone().oneshot(stamped(at_bound)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(stamp_of(response.headers()).timestamp > at_bound.timestamp);

    let (hlc, _) = server_node();
    let service = HlcServerLayer::new(hlc.clone()).layer(counting(&calls));
    let over = peer_at(START + MAX_OFFSET_MICROS + 1);
    let response = service.oneshot(stamped(over)).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the refused request ran");
    let body = body_json(response).await;
    assert_eq!(body["max_offset_us"], MAX_OFFSET_MICROS);
    assert_eq!(body["lead_us"], MAX_OFFSET_MICROS + 1);
}

#[tokio::test]
async fn a_refusal_leaves_the_clock_unchanged_as_the_next_request_shows() {
    let (hlc, _) = server_node();
    let calls = Arc::new(AtomicUsize::new(0));
    let service = HlcServerLayer::new(hlc.clone()).layer(counting(&calls));
    let before = hlc.now();
    let far = peer_at(START + 3_600_000_000);
    let response = service.clone().oneshot(stamped(far)).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // The only change: the local send event that stamped the refusal.
    let refusal_stamp = stamp_of(response.headers()).timestamp;
    assert_eq!(refusal_stamp.as_u64(), before.as_u64() + 1);
    assert!(matches!(
        response.extensions().get::<Refusal>(),
        Some(Refusal::TooFarAhead { peer, .. }) if *peer == far
    ));
    let body = body_json(response).await;
    assert_eq!(body["remote_time"], far.timestamp.to_string());
    assert_eq!(
        body["local_time"],
        Timestamp::from_physical_micros(START).to_string()
    );
    assert_eq!(body["remote_timestamp"], far.to_string());

    let next = service.oneshot(Request::new(())).await.unwrap();
    let next_stamp = stamp_of(next.headers()).timestamp;
    assert_eq!(next_stamp.physical_micros(), START);
    assert!(next_stamp < far.timestamp && next_stamp > refusal_stamp);
}

#[tokio::test]
async fn policies_can_refuse_missing_headers_and_pass_malformed_ones() {
    let (hlc, _) = server_node();
    let calls = Arc::new(AtomicUsize::new(0));
    let strict = HlcServerLayer::new(hlc.clone()).on_missing(Policy::Refuse);
    let response = strict
        .layer(counting(&calls))
        .oneshot(Request::new(()))
        .await;
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(response).await["type"], "urn:hlc:missing-header");

    let lenient = HlcServerLayer::new(hlc.clone()).on_malformed(Policy::Pass);
    let seen = service_fn(|request: Request<()>| async move {
        let peer = request.extensions().get::<PeerTimestamp>().copied();
        let merged = request.extensions().get::<MergedTimestamp>().copied();
        Ok::<_, Infallible>(Response::new((peer, merged)))
    });
    let mut request = Request::new(());
    request
        .headers_mut()
        .insert(HLC, "00-FFFFFFFFFFFFFFFF-0000000000000001".parse().unwrap());
    let response = lenient.layer(seen).oneshot(request).await.unwrap();
    let (peer, merged) = response.into_body().into_inner().unwrap();
    assert_eq!(peer, None);
    assert_eq!(merged.unwrap().0.physical_micros(), START);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn grpc_requests_are_refused_with_failed_precondition() {
    let (hlc, _) = server_node();
    let calls = Arc::new(AtomicUsize::new(0));
    let service = HlcServerLayer::new(hlc).layer(counting(&calls));
    let mut request: Request<()> = stamped(peer_at(START + 2_000_000));
    request
        .headers_mut()
        .insert("content-type", "application/grpc+proto".parse().unwrap());
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["grpc-status"], "9");
    let message = response.headers()["grpc-message"].to_str().unwrap();
    assert!(message.contains("2000000us ahead") && message.contains("500000us"));
    assert!(response.headers().contains_key(HLC));
    assert!(response.body().is_refusal());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_refusal_response_is_configurable() {
    let (hlc, _) = server_node();
    let calls = Arc::new(AtomicUsize::new(0));
    let unavailable = ProblemResponse::new()
        .too_far_ahead_status(StatusCode::SERVICE_UNAVAILABLE)
        .retry_after(Duration::from_secs(1));
    let layer = HlcServerLayer::new(hlc.clone()).refusal_response(unavailable);
    let far = peer_at(START + 1_000_000);
    let response = layer.layer(counting(&calls)).oneshot(stamped(far)).await;
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(response.headers().contains_key(HLC));

    let teapot = |refusal: &Refusal, _: &HeaderMap| {
        let mut response = Response::new(Bytes::from(refusal.kind()));
        *response.status_mut() = StatusCode::IM_A_TEAPOT;
        response
    };
    let layer = HlcServerLayer::new(hlc).refusal_response(teapot);
    let response = layer.layer(counting(&calls)).oneshot(stamped(far)).await;
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert!(response.headers().contains_key(HLC));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "hlc.too_far_ahead");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn error_responses_are_stamped_and_service_errors_pass_through() {
    let (hlc, _) = server_node();
    let failing = service_fn(|request: Request<()>| async move {
        if request.uri().path() == "/broken" {
            return Err("inner failure");
        }
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        Ok(response)
    });
    let service = HlcServerLayer::new(hlc.clone()).layer(failing);
    let response = service.clone().oneshot(Request::new(())).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(stamp_of(response.headers()).timestamp, hlc.last());
    let broken = Request::get("/broken").body(()).unwrap();
    assert_eq!(service.oneshot(broken).await.unwrap_err(), "inner failure");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_in_flight_requests_get_distinct_response_stamps() {
    const IN_FLIGHT: usize = 64;
    let (hlc, _) = server_node();
    // Every handler waits until all are in flight, so the stamps are taken concurrently.
    let barrier = Arc::new(tokio::sync::Barrier::new(IN_FLIGHT));
    let handler = service_fn(move |_: Request<()>| {
        let barrier = Arc::clone(&barrier);
        async move {
            barrier.wait().await;
            Ok::<_, Infallible>(Response::new(()))
        }
    });
    let service = HlcServerLayer::new(hlc.clone()).layer(handler);
    let client = Hlc::with_clock(ManualClock::new(START));
    let mut tasks = Vec::with_capacity(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        let request = stamped(client.now_with_node());
        tasks.push(tokio::spawn(service.clone().oneshot(request)));
    }
    let mut stamps = HashSet::new();
    for task in tasks {
        let response = task.await.unwrap().unwrap();
        stamps.insert(stamp_of(response.headers()).timestamp);
    }
    assert_eq!(stamps.len(), IN_FLIGHT);
    assert_eq!(stamps.iter().max(), Some(&hlc.last()));
}

#[tokio::test]
async fn poll_ready_backpressure_passes_through() {
    let (hlc, _) = server_node();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let held = Arc::clone(&gate);
    let handler = service_fn(move |_: Request<()>| {
        let held = Arc::clone(&held);
        async move {
            let _permit = held.acquire().await.unwrap();
            Ok::<_, Infallible>(Response::new(()))
        }
    });
    let limited = tower::limit::ConcurrencyLimit::new(handler, 1);
    let mut service = HlcServerLayer::new(hlc).layer(limited);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(service.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    let first = tokio::spawn(service.call(Request::new(())));
    assert!(
        service.poll_ready(&mut cx).is_pending(),
        "the limit was hidden"
    );
    gate.add_permits(1);
    let response = first.await.unwrap().unwrap();
    assert!(response.headers().contains_key(HLC));
    service.ready().await.unwrap();
}

/// A body fed through a channel, to show the layer passes frames as they come.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(http_body::Frame::data(bytes))))
    }
}

#[tokio::test]
async fn bodies_stream_through_without_buffering() {
    let (hlc, _) = server_node();
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    let receiver = std::sync::Mutex::new(Some(receiver));
    let handler = service_fn(move |_: Request<()>| {
        let body = ChannelBody(receiver.lock().unwrap().take().unwrap());
        async move { Ok::<_, Infallible>(Response::new(body)) }
    });
    let service = HlcServerLayer::new(hlc).layer(handler);
    // The response arrives before any of its body exists.
    let response = service.oneshot(Request::new(())).await.unwrap();
    let mut body = response.into_body();
    for chunk in ["first", "second"] {
        sender.send(Bytes::from(chunk)).await.unwrap();
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), chunk);
    }
    drop(sender);
    assert!(body.frame().await.is_none());
}
