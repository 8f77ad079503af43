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
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use hlc_core::wire::TEXT_LEN;
use hlc_core::{Hlc, NodeId, NodeTimestamp, PhysicalClock, SystemClock, Timestamp};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::{HlcClientLayer, HlcServerLayer, MergedTimestamp, PeerTimestamp};
use http::{Extensions, HeaderMap, HeaderValue, Request, Response, StatusCode};
use tower::{service_fn, Layer, Service};

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

/// Times `service` the way every bench here does: a request from the peer in, the status
/// checked, the response dropped.
fn bench_service<S, B>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    peer: &HeaderValue,
    mut service: S,
) where
    S: Service<Request<()>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
{
    group.bench_function(id, |b| {
        b.iter(|| {
            let response = call_now(&mut service, black_box(from_peer(peer)));
            assert_eq!(response.status(), StatusCode::OK);
            black_box(response)
        });
    });
}

/// `middleware/bare`: the inner service alone.
fn bare(group: &mut BenchmarkGroup<'_, WallTime>, peer: &HeaderValue) {
    bench_service(group, "bare", peer, service_fn(empty));
}

/// `middleware/server_layer`: parse, merge, extensions, stamp.
fn server_layer(group: &mut BenchmarkGroup<'_, WallTime>, peer: &HeaderValue) {
    let server_hlc = Arc::new(Hlc::new());
    let mut server = HlcServerLayer::new(server_hlc.clone()).layer(service_fn(empty));
    assert_merges(&mut server, &server_hlc);
    bench_service(group, "server_layer", peer, server);
}

/// How far ahead of the server's physical clock the stamp of [`assert_merges`] is: inside the
/// default max offset, and longer than any pause the scheduler inflicts between making
/// the stamp and merging it. The lead it leaves on the clock is gone long before criterion's
/// warm-up ends.
const LEAD_MICROS: u64 = 200_000;

/// Sends `server` one request stamped ahead of its clock, so that only a merge can put the
/// clock past the stamp (the bench's own peer is behind it, which proves nothing), and checks
/// that both the clock and the response's stamp are past it.
fn assert_merges<S, B>(server: &mut S, hlc: &Hlc)
where
    S: Service<Request<()>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
{
    let lead = SystemClock.now_micros() + LEAD_MICROS;
    let ahead = NodeTimestamp::new(Timestamp::from_physical_micros(lead), NodeId::new(0xa1));
    let response = call_now(server, from_peer(&header::encode(ahead)));
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
    let server = HlcServerLayer::new(server_hlc.clone()).layer(service_fn(empty));
    let mut client_server = HlcClientLayer::new(client_hlc.clone()).layer(server);
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
    client_server(&mut group, &peer);
    group.finish();
}

criterion_group!(benches, define);
criterion_main!(benches);
