//! Arbitrary bytes as the `hlc` header of a request through the server layer: split at `\n`
//! into up to four header values (so duplicates are exercised too). Nothing may panic; the
//! request reaches the inner service exactly when the header is one valid value within the
//! max offset; and a refused request moves the clock by exactly the one tick that stamps the
//! refusal (the peer's stamp is never merged).
#![no_main]

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use hlc_core::{ManualClock, NodeId, NodeTimestamp, Timestamp};
use hlc_fuzz::{tally, MAX_OFFSET_MICROS, NOW_MICROS};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::HlcServerLayer;
use http::{HeaderValue, Request, Response, StatusCode};
use libfuzzer_sys::fuzz_target;
use tower::{Layer, Service};

/// Answers `200` with an empty body.
struct Accept;

impl Service<Request<()>> for Accept {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        ready(Ok(Response::new(())))
    }
}

/// The stamp the layer must merge: one value that parses and is not too far ahead.
fn acceptable(values: &[HeaderValue]) -> Option<NodeTimestamp> {
    let [value] = values else { return None };
    let stamp = NodeTimestamp::parse_text(value.as_bytes()).ok()?;
    (stamp.timestamp.physical_micros() <= NOW_MICROS + MAX_OFFSET_MICROS).then_some(stamp)
}

fuzz_target!(|data: &[u8]| {
    let mut values = Vec::new();
    for part in data.split(|byte| *byte == b'\n').take(4) {
        // Bytes HTTP cannot carry in a header never reach a server.
        let Ok(value) = HeaderValue::from_bytes(part) else {
            return;
        };
        values.push(value);
    }
    let mut request = Request::new(());
    for value in &values {
        request.headers_mut().append(HLC, value.clone());
    }

    // The manual clock never moves during an input, so every tick is visible.
    let hlc = Arc::new(ManualClock::new(NOW_MICROS).hlc(NodeId::new(1)));
    let before: Timestamp = hlc.now();
    let mut service = HlcServerLayer::new(Arc::clone(&hlc)).layer(Accept);
    let mut cx = Context::from_waker(Waker::noop());
    let Poll::Ready(Ok(response)) = pin!(service.call(request)).as_mut().poll(&mut cx) else {
        panic!("the layer must answer at once");
    };
    let stamp = header::decode(response.headers()).unwrap().unwrap();
    assert_eq!(stamp.timestamp, hlc.last());
    let acceptable = acceptable(&values);
    tally::count("reached the service", acceptable.is_some());
    match acceptable {
        Some(peer) => {
            assert_eq!(response.status(), StatusCode::OK);
            assert!(stamp.timestamp > peer.timestamp && stamp.timestamp > before);
        }
        None => {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST);
            assert_eq!(
                stamp.timestamp.as_u64(),
                before.as_u64() + 1,
                "the clock moved"
            );
        }
    }
});
