//! reqwest through reqwest-middleware against a hyper server on loopback.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use common::{node, serve, stamp_of, START};
use hlc_core::{Hlc, ManualClock};
use hlc_middleware::reqwest::HlcMiddleware;
use hlc_middleware::{
    HlcClientLayer, HlcServerLayer, MergedTimestamp, PeerTimestamp, Policy, Refusal,
};
use http::{Request, Response};
use hyper::body::Incoming;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use tower::ServiceBuilder;

async fn start(hlc: Arc<Hlc<ManualClock>>) -> SocketAddr {
    let service = ServiceBuilder::new()
        .layer(HlcServerLayer::new(hlc))
        .service_fn(|request: Request<Incoming>| async move {
            let PeerTimestamp(peer) = request.extensions().get().copied().unwrap();
            Ok::<_, Infallible>(Response::new(peer.to_string()))
        });
    serve(service).await
}

fn client(middleware: HlcMiddleware<ManualClock>) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(middleware)
        .build()
}

#[tokio::test]
async fn requests_are_stamped_and_responses_merged() {
    let server = node(2, &ManualClock::new(START + 300_000));
    let alice = node(1, &ManualClock::new(START));
    let address = start(server.clone()).await;
    let client = client(HlcMiddleware::new(alice.clone()));
    let response = client
        .get(format!("http://{address}/"))
        .send()
        .await
        .unwrap();
    let answered = stamp_of(response.headers());
    let MergedTimestamp(merged) = *response.extensions().get().unwrap();
    let PeerTimestamp(peer) = *response.extensions().get().unwrap();
    assert_eq!(peer, answered);
    assert_eq!(alice.last(), merged);
    let sent: hlc_core::NodeTimestamp = response.text().await.unwrap().parse().unwrap();
    assert_eq!(sent.node, alice.node_id());
    assert!(sent.timestamp < answered.timestamp && answered.timestamp < merged);
}

#[tokio::test]
async fn a_skewed_server_is_a_refusal_error_and_the_clock_stays() {
    let server = node(2, &ManualClock::new(START + 5_000_000));
    let alice = node(1, &ManualClock::new(START));
    let address = start(server).await;
    let layer = HlcClientLayer::new(alice.clone()).on_missing(Policy::Refuse);
    let client = client(HlcMiddleware::from_layer(&layer));
    let error = client
        .get(format!("http://{address}/"))
        .send()
        .await
        .unwrap_err();
    let sent = alice.last();
    let reqwest_middleware::Error::Middleware(error) = error else {
        panic!("expected a middleware error, got {error:?}");
    };
    let refusal = error.downcast_ref::<Refusal>().unwrap();
    assert_eq!(refusal.kind(), "hlc.too_far_ahead");
    assert_eq!(alice.last(), sent);
    assert_eq!(sent.physical_micros(), START);
}
