//! Arbitrary bytes as a gRPC request through the server layer: the first line is appended to
//! `application/grpc` as the content-type (`+proto`, `-web`, anything), the next up to four
//! lines are `hlc` header values.
//!
//! Nothing may panic. A request with one valid value within the max offset, or with none
//! (the default passes it), reaches the inner service and is merged. Anything else is
//! refused as `HEADER.md` says for gRPC: HTTP 200, a trailers-only response (empty body) with
//! `content-type: application/grpc`, `grpc-status` 9 for a peer too far ahead and 3 for a
//! malformed header, a `grpc-message` that percent-decodes to the refusal's text; and the
//! clock moves by exactly the one tick that stamps the refusal.
#![no_main]

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use hlc_core::{ManualClock, NodeId, NodeTimestamp, LOGICAL_BITS};
use hlc_fuzz::{lines, tally, MAX_OFFSET_MICROS, NOW_MICROS};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::{HlcBody, HlcServerLayer, Refusal};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use libfuzzer_sys::fuzz_target;
use tower::{Layer, Service};

/// Answers `200` with an empty body.
struct Accept;

impl Service<Request<()>> for Accept {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        ready(Ok(Response::new(String::new())))
    }
}

/// The request, or `None` when its bytes cannot be HTTP header values.
fn request(data: &[u8]) -> Option<Request<()>> {
    let (suffix, rest) = match data.iter().position(|byte| *byte == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let content_type = HeaderValue::from_bytes(&[b"application/grpc", suffix].concat()).ok()?;
    let mut request = Request::new(());
    request.headers_mut().insert(CONTENT_TYPE, content_type);
    for value in lines::header_values(rest)? {
        request.headers_mut().append(HLC, value);
    }
    Some(request)
}

/// The stamp to merge when the request must reach the inner service: `Some(None)` for no
/// header, `Some(Some(stamp))` for one valid value within the max offset.
fn accepted(request: &Request<()>) -> Option<Option<NodeTimestamp>> {
    match header::decode(request.headers()) {
        Ok(None) => Some(None),
        Ok(Some(peer)) if peer.timestamp.physical_micros() <= NOW_MICROS + MAX_OFFSET_MICROS => {
            Some(Some(peer))
        }
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = request(data) else {
        return;
    };
    let expected = accepted(&request);
    let hlc = Arc::new(ManualClock::new(NOW_MICROS).hlc(NodeId::new(1)));
    // A first stamp, so that every later tick is the state plus one (the clock stands still).
    let before = hlc.now().as_u64();
    let mut service = HlcServerLayer::new(Arc::clone(&hlc)).layer(Accept);
    let Poll::Ready(Ok(response)) = pin!(service.call(request))
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("the layer must answer at once");
    };
    let stamp = header::decode(response.headers())
        .expect("one valid hlc header")
        .expect("every response is stamped");
    assert_eq!(stamp.timestamp, hlc.last());
    tally::count("reached the service", expected.is_some());
    assert_eq!(response.status(), StatusCode::OK);
    match expected {
        Some(peer) => {
            let merged = peer.map_or(before + 1, |peer| {
                (NOW_MICROS << LOGICAL_BITS)
                    .max(before + 1)
                    .max(peer.timestamp.as_u64() + 1)
            });
            // The merge, then the response's send event.
            assert_eq!(stamp.timestamp.as_u64(), merged + 1);
            assert!(!response.body().is_refusal());
            assert!(response.headers().get("grpc-status").is_none());
        }
        None => {
            assert_eq!(stamp.timestamp.as_u64(), before + 1, "the clock moved");
            check_refusal(&response);
        }
    }
});

/// A trailers-only gRPC response saying why (gRPC's PROTOCOL-HTTP2 document).
fn check_refusal(response: &Response<HlcBody<String>>) {
    let headers = response.headers();
    let refusal = response
        .extensions()
        .get::<Refusal>()
        .expect("a refusal names its reason");
    let status = match refusal {
        Refusal::TooFarAhead { .. } => "9",
        _ => "3",
    };
    assert_eq!(headers["grpc-status"], status, "{refusal:?}");
    assert_eq!(headers[CONTENT_TYPE], "application/grpc");
    let message = headers
        .get("grpc-message")
        .expect("a refusal carries a message");
    assert_eq!(percent_decode(message.as_bytes()), refusal.to_string());
    let body = response.body();
    assert!(body.is_refusal() && body.is_end_stream());
}

/// gRPC's `grpc-message` encoding: printable ASCII but `%` as is, every other byte as `%XX`;
/// panics on anything else.
fn percent_decode(encoded: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some((&byte, tail)) = rest.split_first() {
        assert!((0x20..=0x7e).contains(&byte), "unencoded byte {byte:#04x}");
        if byte != b'%' {
            bytes.push(byte);
            rest = tail;
            continue;
        }
        let hex = tail.get(..2).expect("two hex digits after %");
        assert!(hex.iter().all(u8::is_ascii_hexdigit), "{hex:?} after %");
        let text = std::str::from_utf8(hex).expect("ascii hex digits");
        bytes.push(u8::from_str_radix(text, 16).expect("hex digits"));
        rest = &tail[2..];
    }
    String::from_utf8(bytes).expect("the message is UTF-8")
}
