//! Helpers shared by the integration tests: manual clocks and a real hyper server on loopback.
// Each test file uses a different subset.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp};
use hlc_middleware::header::{self, HLC};
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tower::Service;

use hlc_middleware::HlcBody;
use http_body_util::BodyExt;

/// 2023-11-14T22:13:20Z in microseconds.
pub const START: u64 = 1_700_000_000_000_000;
/// The default max offset in microseconds.
pub const MAX_OFFSET_MICROS: u64 = hlc_core::DEFAULT_MAX_OFFSET.as_micros() as u64;
/// Connections a test server accepts before it stops.
const MAX_CONNECTIONS: usize = 256;
/// Bounds a whole test that talks over a socket.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Runs `test` within [`TEST_LIMIT`]: a connection or a future that never completes fails the
/// test instead of hanging CI.
pub async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("test still running after {TEST_LIMIT:?}"))
}

/// A clock on `clock` with node id `node` and the default max offset.
pub fn node(node: u64, clock: &ManualClock) -> Arc<Hlc<ManualClock>> {
    Arc::new(clock.hlc(NodeId::new(node)))
}

/// The `hlc` header of a message, which must be present and valid.
pub fn stamp_of(headers: &http::HeaderMap) -> NodeTimestamp {
    header::decode(headers)
        .expect("a valid hlc header")
        .expect("an hlc header")
}

/// A request carrying `stamp` in its `hlc` header.
pub fn stamped<B: Default>(stamp: NodeTimestamp) -> Request<B> {
    let mut request = Request::new(B::default());
    request.headers_mut().insert(HLC, header::encode(stamp));
    request
}

/// Serves `service` with hyper (HTTP/1 and HTTP/2) on 127.0.0.1 and returns its address.
pub async fn serve<S, B>(service: S) -> SocketAddr
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        for _ in 0..MAX_CONNECTIONS {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let builder = auto::Builder::new(TokioExecutor::new());
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

/// The body of a refusal (or any JSON answer) as JSON.
pub async fn body_json<B>(response: Response<HlcBody<B>>) -> serde_json::Value
where
    B: http_body::Body<Data = bytes::Bytes>,
    B::Error: std::fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// A plain hyper client, no layer: a test sends exactly the headers it sets and sees the
/// server's answer as it was sent.
pub fn raw_client() -> hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Empty<bytes::Bytes>,
> {
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
}

/// A GET to `address` carrying the stamp of peer `node`, `lead_us` µs ahead of [`START`].
pub fn get_stamped_ahead(
    address: SocketAddr,
    lead_us: u64,
    node: u64,
) -> Request<http_body_util::Empty<bytes::Bytes>> {
    let stamp = NodeTimestamp::new(
        hlc_core::Timestamp::from_physical_micros(START + lead_us),
        NodeId::new(node),
    );
    Request::get(format!("http://{address}/"))
        .header(HLC, header::encode(stamp))
        .body(http_body_util::Empty::new())
        .unwrap()
}

/// A tonic health service, reporting SERVING, behind `layer` on loopback.
pub async fn serve_grpc_health(layer: hlc_middleware::HlcServerLayer<ManualClock>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let server = tonic::transport::Server::builder()
        .layer(layer)
        .add_service(health)
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener));
    tokio::spawn(server);
    address
}
