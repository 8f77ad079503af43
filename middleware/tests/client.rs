//! The client layer's rules, driven in process on manual clocks.

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use common::{node, stamp_of, MAX_OFFSET_MICROS, START};
use hlc_core::{ManualClock, NodeId, NodeTimestamp, Timestamp};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::{
    ClientError, HlcClientLayer, HlcServerLayer, MergedTimestamp, PeerTimestamp, Policy, Refusal,
};
use http::{HeaderValue, Request, Response};
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};

/// A peer answering every request with `value` as its `hlc` header (or none).
fn peer_answering(
    value: Option<HeaderValue>,
) -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone {
    service_fn(move |_: Request<()>| {
        let value = value.clone();
        async move {
            let mut response = Response::new(());
            if let Some(value) = value {
                response.headers_mut().insert(HLC, value);
            }
            Ok(response)
        }
    })
}

/// The stamps a peer received, in order, as the requests carried them.
type Received = Arc<Mutex<Vec<NodeTimestamp>>>;

/// A peer answering every request with `value` as its `hlc` header, recording what it received.
fn recording_peer(
    value: HeaderValue,
) -> (
    impl Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone,
    Received,
) {
    let received = Received::default();
    let recorder = Arc::clone(&received);
    let peer = service_fn(move |request: Request<()>| {
        recorder.lock().unwrap().push(stamp_of(request.headers()));
        let mut response = Response::new(());
        response.headers_mut().insert(HLC, value.clone());
        std::future::ready(Ok(response))
    });
    (peer, received)
}

fn ahead_by(micros: u64) -> HeaderValue {
    let stamp = NodeTimestamp::new(
        Timestamp::from_physical_micros(START + micros),
        NodeId::new(9),
    );
    header::encode(stamp)
}

#[tokio::test]
async fn requests_carry_the_local_stamp_and_responses_are_merged() {
    let (client_clock, server_clock) = (ManualClock::new(START), ManualClock::new(START + 300_000));
    let (alice, bob) = (node(1, &client_clock), node(2, &server_clock));
    let handler = service_fn(|request: Request<()>| async move {
        let seen = request.extensions().get::<PeerTimestamp>().copied();
        Ok::<_, Infallible>(Response::new(seen))
    });
    let service = ServiceBuilder::new()
        .layer(HlcClientLayer::new(alice.clone()))
        .layer(HlcServerLayer::new(bob.clone()))
        .service(handler);
    let response = service.oneshot(Request::new(())).await.unwrap();
    let answered = stamp_of(response.headers());
    let MergedTimestamp(merged) = *response.extensions().get().unwrap();
    let peer_seen_by_alice = response.extensions().get::<PeerTimestamp>().copied();
    let PeerTimestamp(sent) = response.into_body().into_inner().unwrap().unwrap();
    assert_eq!(sent.node, alice.node_id());
    assert_eq!(answered.node, bob.node_id());
    // Alice's clock is 300 ms behind Bob's, yet her receive event comes after his answer.
    assert!(sent.timestamp < answered.timestamp && answered.timestamp < merged);
    assert_eq!(alice.last(), merged);
    assert_eq!(peer_seen_by_alice, Some(PeerTimestamp(answered)));
}

#[tokio::test]
async fn a_response_too_far_ahead_is_a_typed_error_and_the_clock_stays() {
    let clock = ManualClock::new(START);
    let alice = node(1, &clock);
    let (peer, received) = recording_peer(ahead_by(500_001));
    let service = HlcClientLayer::new(alice.clone()).layer(peer);
    let error = service.oneshot(Request::new(())).await.unwrap_err();
    assert!(matches!(
        error,
        ClientError::Refused(Refusal::TooFarAhead { ref peer, .. }) if peer.node == NodeId::new(9)
    ));
    // The stamp the peer received, not one read from the clock after the call.
    let received = received.lock().unwrap().clone();
    let [sent] = received[..] else {
        panic!("one request expected: {received:?}");
    };
    assert_eq!(sent.node, alice.node_id());
    assert_eq!(sent.timestamp.physical_micros(), START);
    assert_eq!(
        alice.last(),
        sent.timestamp,
        "the refused response moved the clock"
    );

    let at_bound =
        HlcClientLayer::new(alice.clone()).layer(peer_answering(Some(ahead_by(MAX_OFFSET_MICROS))));
    let response = at_bound.oneshot(Request::new(())).await.unwrap();
    assert!(
        response
            .extensions()
            .get::<MergedTimestamp>()
            .unwrap()
            .0
            .physical_micros()
            > START
    );
}

#[tokio::test]
async fn malformed_and_missing_response_headers_follow_the_policies() {
    let clock = ManualClock::new(START);
    let alice = node(1, &clock);
    let garbled = HeaderValue::from_static("00-ABCDEF");
    let service = HlcClientLayer::new(alice.clone()).layer(peer_answering(Some(garbled.clone())));
    let error = service.oneshot(Request::new(())).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "response refused: malformed hlc header: expected 36 bytes, got 9"
    );
    let passing = HlcClientLayer::new(alice.clone()).on_malformed(Policy::Pass);
    let response = passing
        .layer(peer_answering(Some(garbled)))
        .oneshot(Request::new(()))
        .await
        .unwrap();
    assert!(response.extensions().get::<PeerTimestamp>().is_none());

    let response = HlcClientLayer::new(alice.clone())
        .layer(peer_answering(None))
        .oneshot(Request::new(()))
        .await
        .unwrap();
    assert_eq!(
        response.extensions().get::<MergedTimestamp>().unwrap().0,
        alice.last()
    );
    let strict = HlcClientLayer::new(alice).on_missing(Policy::Refuse);
    let error = strict
        .layer(peer_answering(None))
        .oneshot(Request::new(()))
        .await
        .unwrap_err();
    assert_eq!(error.refusal(), Some(&Refusal::Missing));
}

#[tokio::test]
async fn service_errors_and_backpressure_pass_through() {
    let clock = ManualClock::new(START);
    let alice = node(1, &clock);
    let failing = service_fn(|_: Request<()>| async { Err::<Response<()>, _>("unreachable peer") });
    let error = HlcClientLayer::new(alice.clone())
        .layer(failing)
        .oneshot(Request::new(()))
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Service("unreachable peer")));

    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let held = Arc::clone(&gate);
    let slow = service_fn(move |_: Request<()>| {
        let held = Arc::clone(&held);
        async move {
            let _permit = held.acquire().await.unwrap();
            Ok::<_, Infallible>(Response::new(()))
        }
    });
    let limited = tower::limit::ConcurrencyLimit::new(slow, 1);
    let mut service = HlcClientLayer::new(alice).layer(limited);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(service.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    let first = tokio::spawn(service.call(Request::new(())));
    assert!(
        service.poll_ready(&mut cx).is_pending(),
        "the limit was hidden"
    );
    gate.add_permits(1);
    first.await.unwrap().unwrap();
    service.ready().await.unwrap();
}
