//! Arbitrary bytes as the `hlc` and `hlc-signature` headers of a request through a server
//! layer holding keys. The first byte picks the policy (bit 0 set: ignore, clear: refuse) and
//! whether the request has an `hlc` header at all (bit 1 set: none); the rest, split at `\n`,
//! is the `hlc` value and then up to three `hlc-signature` values.
//!
//! Nothing may panic, and the outcome is exactly what `HEADER.md` says: `verify` accepts a
//! signature only when it is byte for byte what the named key's `sign` writes; the request's
//! stamp is merged only when it is valid, within the max offset and carries exactly one
//! signature that verifies; an unverified stamp is refused with `401` or served unmerged, by
//! policy, and changes nothing; every response carries a signature of its own stamp.
#![no_main]

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use hlc_core::{NodeId, NodeTimestamp};
use hlc_fuzz::signing::{keys, signer};
use hlc_fuzz::{lines, tally, MAX_OFFSET_MICROS, NOW_MICROS};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::signature::{SigningKeys, HLC_SIGNATURE};
use hlc_middleware::{HlcServerLayer, PeerTimestamp, UnsignedPolicy};
use http::{HeaderValue, Request, Response, StatusCode};
use libfuzzer_sys::fuzz_target;
use tower::{Layer, Service};

/// Answers `200`, with the peer stamp the layer left in the request, if any.
struct Accept;

impl Service<Request<()>> for Accept {
    type Response = Response<Option<NodeTimestamp>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<()>) -> Self::Future {
        let peer = request.extensions().get::<PeerTimestamp>().map(|p| p.0);
        ready(Ok(Response::new(peer)))
    }
}

/// Whether `signature` verifies over `hlc`, checked against what the signing side writes.
fn verifies(keys: &SigningKeys, signature: &HeaderValue, hlc: &HeaderValue) -> bool {
    let (signature, hlc) = (signature.as_bytes(), hlc.as_bytes());
    let canonical = |id: &str| signer(id).sign(hlc);
    match keys.verify(signature, hlc) {
        Ok(id) => {
            assert_eq!(
                canonical(id.as_str()).as_bytes(),
                signature,
                "accepted a variant"
            );
            true
        }
        Err(error) => {
            for id in keys.key_ids() {
                assert_ne!(canonical(id.as_str()).as_bytes(), signature, "{error}");
            }
            assert!(!error.to_string().is_empty());
            false
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some(mut values) = lines::header_values(rest) else {
        return;
    };
    let hlc_value = (flags & 0b10 == 0 && !values.is_empty()).then(|| values.remove(0));
    let signatures = values;
    let policy = if flags & 1 == 1 {
        UnsignedPolicy::Ignore
    } else {
        UnsignedPolicy::Refuse
    };
    let keys = keys();

    let mut request = Request::new(());
    if let Some(value) = &hlc_value {
        request.headers_mut().insert(HLC, value.clone());
    }
    for signature in &signatures {
        request
            .headers_mut()
            .append(HLC_SIGNATURE, signature.clone());
    }
    let stamp = hlc_value
        .as_ref()
        .map(|value| NodeTimestamp::parse_text(value.as_bytes()));
    let verified = match (&hlc_value, &signatures[..]) {
        (Some(hlc), [signature]) => verifies(&keys, signature, hlc),
        _ => false,
    };
    tally::count("signature verified", verified);

    let hlc = Arc::new(hlc_core::ManualClock::new(NOW_MICROS).hlc(NodeId::new(1)));
    let before = hlc.now();
    let layer = HlcServerLayer::new(Arc::clone(&hlc))
        .signing_keys(keys.clone())
        .unsigned(policy);
    let mut service = layer.layer(Accept);
    let mut cx = Context::from_waker(Waker::noop());
    let Poll::Ready(Ok(response)) = pin!(service.call(request)).as_mut().poll(&mut cx) else {
        panic!("the layer must answer at once");
    };
    let answered = header::decode(response.headers()).unwrap().unwrap();
    assert_eq!(answered.timestamp, hlc.last());
    let signature = &response.headers()[HLC_SIGNATURE];
    assert!(verifies(&keys, signature, &response.headers()[HLC]));

    let status = response.status();
    let peer = response.into_body().into_inner().flatten();
    tally::count("signed stamp merged", peer.is_some());
    let ticks = hlc.last().as_u64() - before.as_u64();
    match stamp {
        // No header: passed by the default missing policy, with a local receive tick.
        None => assert_eq!((status, peer, ticks), (StatusCode::OK, None, 2)),
        Some(Err(_)) => assert_eq!((status, ticks), (StatusCode::BAD_REQUEST, 1)),
        Some(Ok(sent)) if !verified => {
            let expected = match policy {
                UnsignedPolicy::Refuse => (StatusCode::UNAUTHORIZED, None, 1),
                _ => (StatusCode::OK, None, 2),
            };
            assert_eq!((status, peer, ticks), expected, "{sent}");
        }
        Some(Ok(sent)) if sent.timestamp.physical_micros() > NOW_MICROS + MAX_OFFSET_MICROS => {
            assert_eq!((status, peer, ticks), (StatusCode::BAD_REQUEST, None, 1));
        }
        Some(Ok(sent)) => {
            assert_eq!((status, peer), (StatusCode::OK, Some(sent)));
            assert!(answered.timestamp > sent.timestamp);
        }
    }
});
