//! reqwest through reqwest-middleware against a hyper server on loopback.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::{bounded, node, serve, stamp_of, START};
use hlc_core::{Hlc, ManualClock, NodeTimestamp};
use hlc_middleware::reqwest::HlcMiddleware;
use hlc_middleware::{
    HlcClientLayer, HlcServerLayer, MergedTimestamp, PeerTimestamp, Policy, Refusal,
};
use http::{Request, Response};
use hyper::body::Incoming;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use tower::ServiceBuilder;

/// The stamps a server received, in order, as its layer decoded them.
type Received = Arc<Mutex<Vec<NodeTimestamp>>>;

/// Serves on loopback; answers each request with the stamp it carried, and records it.
async fn start(hlc: Arc<Hlc<ManualClock>>) -> (SocketAddr, Received) {
    let received = Received::default();
    let recorder = Arc::clone(&received);
    let service = ServiceBuilder::new()
        .layer(HlcServerLayer::new(hlc))
        .service_fn(move |request: Request<Incoming>| {
            let PeerTimestamp(peer) = request.extensions().get().copied().unwrap();
            recorder.lock().unwrap().push(peer);
            async move { Ok::<_, Infallible>(Response::new(peer.to_string())) }
        });
    (serve(service).await, received)
}

fn client(middleware: HlcMiddleware<ManualClock>) -> ClientWithMiddleware {
    // Loopback only: a proxy from the environment must not carry these requests.
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    ClientBuilder::new(plain).with(middleware).build()
}

#[tokio::test]
async fn requests_are_stamped_and_responses_merged() {
    bounded(async {
        let server = node(2, &ManualClock::new(START + 300_000));
        let alice = node(1, &ManualClock::new(START));
        let (address, received) = start(server.clone()).await;
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
        let sent: NodeTimestamp = response.text().await.unwrap().parse().unwrap();
        assert_eq!(*received.lock().unwrap(), [sent]);
        assert_eq!(sent.node, alice.node_id());
        assert!(sent.timestamp < answered.timestamp && answered.timestamp < merged);
    })
    .await;
}

#[tokio::test]
async fn a_skewed_server_is_a_refusal_error_and_the_clock_stays() {
    bounded(async {
        let server = node(2, &ManualClock::new(START + 5_000_000));
        let alice = node(1, &ManualClock::new(START));
        let (address, received) = start(server).await;
        let layer = HlcClientLayer::new(alice.clone()).on_missing(Policy::Refuse);
        let client = client(HlcMiddleware::from_layer(&layer));
        let error = client
            .get(format!("http://{address}/"))
            .send()
            .await
            .unwrap_err();
        let reqwest_middleware::Error::Middleware(error) = error else {
            panic!("expected a middleware error, got {error:?}");
        };
        let refusal = error.downcast_ref::<Refusal>().unwrap();
        assert_eq!(refusal.kind(), "hlc.too_far_ahead");
        // The stamp the server received, not one read from the clock after the call.
        let received = received.lock().unwrap().clone();
        let [sent] = received[..] else {
            panic!("one request expected: {received:?}");
        };
        assert_eq!(sent.node, alice.node_id());
        assert_eq!(
            alice.last(),
            sent.timestamp,
            "the refused answer moved the clock"
        );
        assert_eq!(sent.timestamp.physical_micros(), START);
    })
    .await;
}
