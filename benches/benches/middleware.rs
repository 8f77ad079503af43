//! Criterion benches for hlc-middleware: what the layers add to one request, in process.
//!
//! The ids are an interface: `middleware/bare` is a `service_fn`
//! answering an empty response; `middleware/server_layer` puts the server layer in front of
//! it; `middleware/client_server` the client layer in front of that. So that the differences
//! are the layers and nothing else, every iteration of all three does the same work around the
//! service: it builds the same request (carrying a peer's `hlc` header, which the client layer
//! of `client_server` replaces with its own stamp), polls the service once without a runtime
//! (the futures are ready at once), checks the status and drops the response. What each layer
//! leaves in the response, and that the server layer merges the peer's stamp into its clock,
//! is checked once, before the timed loop.
//!
//! Both layers run as a user deploying them would: with the clock's health checked on every
//! request (a [`HealthBoard`] fed by one healthy reporter, one atomic load per check).
//! `middleware/server_layer_signed` is `server_layer` with signed stamps (an `hlc-signature`
//! verified on the request, produced on the response; unsigned requests refused), its requests
//! carrying the signature header beside the stamp. `middleware/tower_http_request_id` is a peer
//! reference: tower-http's `SetRequestId` and `PropagateRequestId` (ids from a counter) around
//! the same `bare`, the usual "one header in, one header out" layer pair.
//!
//! `middleware/floor` and `middleware/floor_client_server` are not layers: they are `bare` plus
//! only the work that any layer doing this crate's job must add with `http`'s types and the
//! default clock (two clock reads per side, the typed extension values, a header value), with
//! none of this crate's code and no parsing or formatting. Their distance from `bare` is a
//! lower bound for that of `server_layer` and `client_server` on the machine at hand; see
//! `benches/README.md`.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use hlc_core::health::{ClockHealth, HealthBoard, HealthReporter};
use hlc_core::wire::TEXT_LEN;
use hlc_core::{Hlc, NodeId, NodeTimestamp, PhysicalClock, SystemClock, Timestamp};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::signature::{SigningKeys, HLC_SIGNATURE};
use hlc_middleware::{
    HlcClientLayer, HlcServerLayer, MergedTimestamp, PeerTimestamp, UnsignedPolicy,
};
use http::{Extensions, HeaderMap, HeaderValue, Request, Response, StatusCode};
use tower::{service_fn, Layer, Service};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};

/// The inner service of every bench: an empty `200`.
fn empty(_: Request<()>) -> Ready<Result<Response<()>, Infallible>> {
    ready(Ok(Response::new(())))
}

/// Readies `service`, calls it and polls the future once: every service here answers at once.
#[inline(always)]
fn call_now<S: Service<Request<()>>>(service: &mut S, request: Request<()>) -> S::Response
where
    S::Error: std::fmt::Debug,
{
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready(), "service not ready");
    match pin!(service.call(request)).as_mut().poll(&mut cx) {
        Poll::Ready(result) => result.expect("the service failed"),
        Poll::Pending => panic!("the service did not answer at once"),
    }
}

/// A request as a peer sends it: stamped a moment ago by another clock.
fn from_peer(peer: &HeaderValue) -> Request<()> {
    let mut request = Request::new(());
    request.headers_mut().insert(HLC, peer.clone());
    request
}

/// A request as a peer holding the key sends it: the stamp and its signature.
fn signed_from_peer(peer: &HeaderValue, signature: &HeaderValue) -> Request<()> {
    let mut request = from_peer(peer);
    request
        .headers_mut()
        .insert(HLC_SIGNATURE, signature.clone());
    request
}

/// Times `service` the way every bench here does: a request from the peer in, the status
/// checked, the response dropped.
fn bench_service<S, B>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    peer: &HeaderValue,
    service: S,
) where
    S: Service<Request<()>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
{
    bench_requests(group, id, || from_peer(peer), service);
}

/// [`bench_service`] with the requests that `request` builds.
fn bench_requests<S, B>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    request: impl Fn() -> Request<()>,
    mut service: S,
) where
    S: Service<Request<()>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
{
    group.bench_function(id, |b| {
        b.iter(|| {
            let response = call_now(&mut service, black_box(request()));
            assert_eq!(response.status(), StatusCode::OK);
            black_box(response)
        });
    });
}

/// `middleware/bare`: the inner service alone.
fn bare(group: &mut BenchmarkGroup<'_, WallTime>, peer: &HeaderValue) {
    bench_service(group, "bare", peer, service_fn(empty));
}

/// A health board as a node running ntp-sync has one: a single source, reporting healthy.
/// The reporter must outlive the bench: a withdrawn source no longer counts.
fn healthy_board() -> (HealthBoard, HealthReporter) {
    let board = HealthBoard::new();
    let reporter = board.reporter("ntp-sync");
    reporter.report(ClockHealth::Healthy);
    assert!(board.is_healthy());
    (board, reporter)
}

/// `middleware/server_layer`: health check, parse, merge, extensions, stamp.
fn server_layer(group: &mut BenchmarkGroup<'_, WallTime>, peer: &HeaderValue) {
    let (board, _reporter) = healthy_board();
    let server_hlc = Arc::new(Hlc::new());
    let mut server = HlcServerLayer::new(server_hlc.clone())
        .health(board)
        .layer(service_fn(empty));
    assert_merges(&mut server, &server_hlc, |request| request);
    bench_service(group, "server_layer", peer, server);
}

/// `middleware/server_layer_signed`: `server_layer` with the request's signature verified and
/// the response's produced. Before timing: a signed stamp ahead is merged, an unsigned one is
/// refused, and the response's signature verifies.
fn server_layer_signed(group: &mut BenchmarkGroup<'_, WallTime>, peer: &HeaderValue) {
    let keys = SigningKeys::parse(&format!("bench {}\n", "5e".repeat(32))).expect("a key file");
    let (board, _reporter) = healthy_board();
    let server_hlc = Arc::new(Hlc::new());
    let mut server = HlcServerLayer::new(server_hlc.clone())
        .health(board)
        .signing_keys(keys.clone())
        .unsigned(UnsignedPolicy::Refuse)
        .layer(service_fn(empty));
    let response = call_now(&mut server, from_peer(peer));
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "unsigned stamp served"
    );
    let sign = |mut request: Request<()>| {
        let signature = keys.sign(request.headers()[HLC].as_bytes());
        request.headers_mut().insert(HLC_SIGNATURE, signature);
        request
    };
    let response = assert_merges(&mut server, &server_hlc, sign);
    let signature = response
        .headers()
        .get(HLC_SIGNATURE)
        .expect("a signed response");
    let stamp = response.headers()[HLC].as_bytes();
    keys.verify(signature.as_bytes(), stamp)
        .expect("a valid response signature");
    let signature = keys.sign(peer.as_bytes());
    bench_requests(
        group,
        "server_layer_signed",
        || signed_from_peer(peer, &signature),
        server,
    );
}

/// Request ids from a counter, as cheap as an id can be made.
#[derive(Clone, Default)]
struct CounterIds(Arc<AtomicU64>);

impl MakeRequestId for CounterIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = self.0.fetch_add(1, Ordering::Relaxed);
        Some(RequestId::new(HeaderValue::from(id)))
    }
}

/// `middleware/tower_http_request_id`: tower-http's request-id pair around `bare`, a peer's
/// layers of the same shape (a header read or made on the way in, one written on the way out).
fn tower_http_request_id(group: &mut BenchmarkGroup<'_, WallTime>, peer: &HeaderValue) {
    let ids = CounterIds::default();
    let mut service = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(ids.clone()))
        .layer(PropagateRequestIdLayer::x_request_id())
        .service(service_fn(empty));
    let response = call_now(&mut service, from_peer(peer));
    assert_eq!(
        response.headers()["x-request-id"],
        "0",
        "the id is not propagated"
    );
    bench_service(group, "tower_http_request_id", peer, service);
    assert!(ids.0.load(Ordering::Relaxed) > 1, "no ids were made");
}

/// How far ahead of the server's physical clock the stamp of [`assert_merges`] is: inside the
/// default max offset, and longer than any pause the scheduler inflicts between making
/// the stamp and merging it. The lead it leaves on the clock is gone long before criterion's
/// warm-up ends.
const LEAD_MICROS: u64 = 200_000;

/// Sends `server` one request stamped ahead of its clock (passed through `prepare`), so that
/// only a merge can put the clock past the stamp (the bench's own peer is behind it, which
/// proves nothing), checks that both the clock and the response's stamp are past it, and
/// returns the response.
fn assert_merges<S, B>(
    server: &mut S,
    hlc: &Hlc,
    prepare: impl Fn(Request<()>) -> Request<()>,
) -> Response<B>
where
    S: Service<Request<()>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
{
    let lead = SystemClock.now_micros() + LEAD_MICROS;
    let ahead = NodeTimestamp::new(Timestamp::from_physical_micros(lead), NodeId::new(0xa1));
    let response = call_now(server, prepare(from_peer(&header::encode(ahead))));
    assert_eq!(response.status(), StatusCode::OK, "the stamp was refused");
    assert!(
        hlc.last() > ahead.timestamp,
        "the peer's stamp was not merged"
    );
    let answered = header::decode(response.headers()).expect("a valid stamp");
    let answered = answered.expect("the response is stamped").timestamp;
    assert!(
        answered > ahead.timestamp,
        "the response is stamped before the merge"
    );
    response
}

/// The least one side of an exchange must do per message with `http`'s types and the default
/// clock. The peer's stamp is parsed, and the bytes of the local one formatted, once and ahead.
struct Floor {
    hlc: Hlc,
    sent: NodeTimestamp,
    text: [u8; TEXT_LEN],
}

impl Floor {
    fn new(peer: &HeaderValue) -> Self {
        let hlc = Hlc::new();
        let mut text = [0u8; TEXT_LEN];
        hlc.now_with_node().write_text(&mut text);
        let sent = NodeTimestamp::parse_text(peer.as_bytes()).expect("a valid stamp");
        Self { hlc, sent, text }
    }

    /// Merges the peer's stamp (a clock read) and leaves both typed values in `extensions`.
    fn receive(&self, extensions: &mut Extensions) {
        let merged = self
            .hlc
            .update(self.sent.timestamp)
            .expect("within max offset");
        extensions.insert(PeerTimestamp(self.sent));
        extensions.insert(MergedTimestamp(merged));
    }

    /// Reads the clock for a fresh stamp and puts a 36-byte value into `headers`.
    fn stamp(&self, headers: &mut HeaderMap) {
        black_box(self.hlc.now());
        let value = HeaderValue::from_bytes(black_box(&self.text)).expect("visible ASCII");
        headers.insert(HLC, value);
    }

    /// A service doing the server side's least around an empty response.
    fn server(self) -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> {
        service_fn(move |mut request: Request<()>| {
            self.receive(request.extensions_mut());
            drop(black_box(request));
            let mut response = Response::new(());
            self.stamp(response.headers_mut());
            ready(Ok(response))
        })
    }
}

/// `middleware/floor` and `middleware/floor_client_server`: `bare` plus only the work that a
/// server layer, and a client layer in front of it, must add (see [`Floor`]).
fn floors(group: &mut BenchmarkGroup<'_, WallTime>, peer: &HeaderValue) {
    bench_service(group, "floor", peer, Floor::new(peer).server());
    let (client, mut server) = (Floor::new(peer), Floor::new(peer).server());
    let client_server = service_fn(move |mut request: Request<()>| {
        client.stamp(request.headers_mut());
        let mut response = call_now(&mut server, request);
        client.receive(response.extensions_mut());
        ready(Ok::<_, Infallible>(response))
    });
    bench_service(group, "floor_client_server", peer, client_server);
}

/// `middleware/client_server`: the client stamps, the server merges and stamps, the client
/// merges.
fn client_server(group: &mut BenchmarkGroup<'_, WallTime>, peer: &HeaderValue) {
    let (client_hlc, server_hlc) = (Arc::new(Hlc::new()), Arc::new(Hlc::new()));
    let ((client_board, _client_reporter), (server_board, _server_reporter)) =
        (healthy_board(), healthy_board());
    let server = HlcServerLayer::new(server_hlc.clone())
        .health(server_board)
        .layer(service_fn(empty));
    let mut client_server = HlcClientLayer::new(client_hlc.clone())
        .health(client_board)
        .layer(server);
    let response = call_now(&mut client_server, from_peer(peer));
    assert!(response.extensions().get::<MergedTimestamp>().is_some());
    bench_service(group, "client_server", peer, client_server);
    // Each request through both layers is a send on one clock and a receive on the other.
    assert!(client_hlc.last() > server_hlc.last(), "causality lost");
}

fn define(c: &mut Criterion) {
    let mut group = c.benchmark_group("middleware");
    let peer = header::encode(Hlc::new().now_with_node());
    bare(&mut group, &peer);
    floors(&mut group, &peer);
    server_layer(&mut group, &peer);
    server_layer_signed(&mut group, &peer);
    client_server(&mut group, &peer);
    tower_http_request_id(&mut group, &peer);
    group.finish();
}

criterion_group!(benches, define);
criterion_main!(benches);
