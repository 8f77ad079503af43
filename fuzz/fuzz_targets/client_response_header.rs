//! Arbitrary bytes as the `hlc` header of a response through the client layer. The first
//! byte picks the layer's three policies (bit 0 missing, bit 1 malformed, bit 2 too far
//! ahead: set means pass); the rest, split at `\n`, is up to four header values (none for an
//! empty rest).
//!
//! Nothing may panic, and the outcome is exactly what `HEADER.md` and the policies say: one
//! valid value within the max offset is merged by the receive rule
//! `max(last + 1, remote + 1, physical << 12)`; a header that cannot be merged is either
//! passed with a local tick and no peer stamp, or refused with the matching reason, and a
//! refusal leaves the clock where the request's stamp put it.
#![no_main]

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp, Timestamp, LOGICAL_BITS};
use hlc_fuzz::{lines, tally, MAX_OFFSET_MICROS, NOW_MICROS};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::{
    ClientError, HlcClientLayer, MergedTimestamp, PeerTimestamp, Policy, Refusal,
};
use http::{HeaderValue, Request, Response};
use libfuzzer_sys::fuzz_target;
use tower::{Layer, Service};

/// A peer that answers every request with the given `hlc` header values.
struct Answer(Vec<HeaderValue>);

impl Service<Request<()>> for Answer {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<()>) -> Self::Future {
        assert!(
            matches!(header::decode(request.headers()), Ok(Some(_))),
            "the request must carry one valid stamp"
        );
        let mut response = Response::new(());
        for value in &self.0 {
            response.headers_mut().append(HLC, value.clone());
        }
        ready(Ok(response))
    }
}

/// What the header is, by `HEADER.md`.
enum Header {
    Missing,
    Malformed,
    TooFarAhead(NodeTimestamp),
    Valid(NodeTimestamp),
}

fn classify(values: &[HeaderValue]) -> Header {
    let value = match values {
        [] => return Header::Missing,
        [value] => value,
        _ => return Header::Malformed,
    };
    match NodeTimestamp::parse_text(value.as_bytes()) {
        Err(_) => Header::Malformed,
        Ok(peer) if peer.timestamp.physical_micros() > NOW_MICROS + MAX_OFFSET_MICROS => {
            Header::TooFarAhead(peer)
        }
        Ok(peer) => Header::Valid(peer),
    }
}

fn policy(bits: u8, bit: u8) -> Policy {
    if bits >> bit & 1 == 1 {
        Policy::Pass
    } else {
        Policy::Refuse
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&policies, rest)) = data.split_first() else {
        return;
    };
    let Some(values) = lines::header_values(rest) else {
        return;
    };
    let hlc = Arc::new(ManualClock::new(NOW_MICROS).hlc(NodeId::new(1)));
    let layer = HlcClientLayer::new(Arc::clone(&hlc))
        .on_missing(policy(policies, 0))
        .on_malformed(policy(policies, 1))
        .on_too_far_ahead(policy(policies, 2));
    let header = classify(&values);
    let mut client = layer.layer(Answer(values));
    let mut future = pin!(client.call(Request::new(())));
    // Calling stamped the request: the clock's state before the response arrives.
    let sent = hlc.last();
    let Poll::Ready(outcome) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("the layer must answer at once");
    };
    let merged = matches!(header, Header::Valid(_));
    tally::count("merged", merged);
    match (header, outcome) {
        (Header::Valid(peer), Ok(response)) => {
            let floor = (NOW_MICROS << LOGICAL_BITS)
                .max(sent.as_u64() + 1)
                .max(peer.timestamp.as_u64() + 1);
            let extensions = response.extensions();
            assert_eq!(extensions.get(), Some(&PeerTimestamp(peer)));
            assert_eq!(
                extensions.get(),
                Some(&MergedTimestamp(Timestamp::from_u64(floor)))
            );
            assert_eq!(hlc.last().as_u64(), floor);
        }
        (Header::Valid(peer), Err(error)) => panic!("{peer} within the bound refused: {error}"),
        (header, outcome) => check_unmerged(&header, policies, outcome, sent, &hlc),
    }
});

/// A header the layer must not merge: passed with a local tick, or refused for its reason.
fn check_unmerged(
    header: &Header,
    policies: u8,
    outcome: Result<Response<()>, ClientError<Infallible>>,
    sent: Timestamp,
    hlc: &Hlc<ManualClock>,
) {
    let (bit, reason_matches): (u8, fn(&Refusal) -> bool) = match header {
        Header::Missing => (0, |r| matches!(r, Refusal::Missing)),
        Header::Malformed => (1, |r| matches!(r, Refusal::Header(_))),
        Header::TooFarAhead(_) => (2, |r| matches!(r, Refusal::TooFarAhead { .. })),
        Header::Valid(_) => unreachable!("valid headers are merged"),
    };
    match (policy(policies, bit), outcome) {
        (Policy::Pass, Ok(response)) => {
            let local_tick = Timestamp::from_u64(sent.as_u64() + 1);
            assert_eq!(response.extensions().get::<PeerTimestamp>(), None);
            assert_eq!(
                response.extensions().get(),
                Some(&MergedTimestamp(local_tick))
            );
            assert_eq!(hlc.last(), local_tick);
        }
        (Policy::Refuse, Err(ClientError::Refused(refusal))) => {
            assert!(reason_matches(&refusal), "wrong reason: {refusal:?}");
            if let (Header::TooFarAhead(peer), Refusal::TooFarAhead { peer: named, .. }) =
                (header, &refusal)
            {
                assert_eq!(named, peer);
            }
            assert!(!refusal.to_string().is_empty());
            assert_eq!(hlc.last(), sent, "a refusal moved the clock");
        }
        (policy, outcome) => panic!("{policy:?} gave {:?}", outcome.map(|_| "a response")),
    }
}
