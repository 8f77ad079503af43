//! Laws of the server layer over generated headers: what is merged, what is refused, and that
//! a refusal moves the clock by exactly the tick that stamps it.

mod common;

use std::cell::Cell;
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use common::{node, stamp_of, MAX_OFFSET_MICROS, START};
use hlc_core::{ManualClock, NodeId, NodeTimestamp, Timestamp};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::HlcServerLayer;
use http::{HeaderValue, Request, Response, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use tower::{service_fn, Layer, Service};

/// Sends one request with `values` as its `hlc` headers; returns the status, the response
/// stamp and the clock's last stamp before the request.
fn exchange(values: &[HeaderValue]) -> (StatusCode, NodeTimestamp, Timestamp) {
    let hlc = node(2, &ManualClock::new(START));
    let before = hlc.now();
    let inner = service_fn(
        |_: Request<()>| -> Ready<Result<Response<()>, Infallible>> {
            ready(Ok(Response::new(())))
        },
    );
    let mut service = HlcServerLayer::new(hlc).layer(inner);
    let mut request = Request::new(());
    for value in values {
        request.headers_mut().append(HLC, value.clone());
    }
    let mut cx = Context::from_waker(Waker::noop());
    let Poll::Ready(Ok(response)) = pin!(service.call(request)).as_mut().poll(&mut cx) else {
        panic!("the layer answers at once");
    };
    (response.status(), stamp_of(response.headers()), before)
}

/// The text form of a stamp, written here rather than by the encoder under test.
fn text_form(physical: u64, logical: u16, node: u64) -> Vec<u8> {
    let timestamp = Timestamp::from_parts(physical, logical).unwrap();
    format!("00-{:016x}-{node:016x}", timestamp.as_u64()).into_bytes()
}

/// The `hlc` values of one request: half the time a single valid stamp no further ahead than
/// the max offset, otherwise one to three values of arbitrary printable bytes (which almost
/// never form a stamp, so they exercise the refusals).
fn header_values() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let valid = (
        START - 10_000_000..=START + MAX_OFFSET_MICROS,
        0u16..4096,
        any::<u64>(),
    )
        .prop_map(|(physical, logical, node)| vec![text_form(physical, logical, node)]);
    let arbitrary = prop::collection::vec(prop::collection::vec(0x20u8..0x7f, 0..48), 1..4);
    prop_oneof![valid, arbitrary]
}

#[test]
fn header_values_are_merged_only_when_valid_and_never_move_the_clock_otherwise() {
    let (merged, refused) = (Cell::new(0u32), Cell::new(0u32));
    // A fixed number of cases, whatever PROPTEST_CASES says: the count check below needs it.
    let cases = 256;
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    let result = runner.run(&header_values(), |values| {
        let values: Vec<HeaderValue> = values
            .iter()
            .map(|v| HeaderValue::from_bytes(v).unwrap())
            .collect();
        let (status, stamp, before) = exchange(&values);
        let valid = match values.as_slice() {
            [one] => NodeTimestamp::parse_text(one.as_bytes()).ok(),
            _ => None,
        };
        match valid {
            Some(peer) if peer.timestamp.physical_micros() <= START + MAX_OFFSET_MICROS => {
                prop_assert_eq!(status, StatusCode::OK);
                prop_assert!(stamp.timestamp > peer.timestamp);
                merged.set(merged.get() + 1);
            }
            _ => {
                prop_assert_eq!(status, StatusCode::BAD_REQUEST);
                prop_assert_eq!(stamp.timestamp.as_u64(), before.as_u64() + 1);
                refused.set(refused.get() + 1);
            }
        }
        Ok(())
    });
    result.unwrap();
    // Half the cases are drawn valid: either branch running for fewer than a quarter of them
    // means a broken generator (by chance, one in 10^16 with 256 cases).
    let (merged, refused) = (merged.get(), refused.get());
    assert!(
        merged >= cases / 4 && refused >= cases / 4,
        "{merged} merged, {refused} refused of {cases}"
    );
}

proptest! {
    #[test]
    fn valid_stamps_are_accepted_exactly_up_to_the_bound(
        offset in -10_000_000i64..10_000_000,
        logical in 0u16..4096,
        peer_node in any::<u64>(),
    ) {
        let physical = START.saturating_add_signed(offset);
        let peer = NodeTimestamp::new(
            Timestamp::from_parts(physical, logical).unwrap(),
            NodeId::new(peer_node),
        );
        let (status, stamp, before) = exchange(&[header::encode(peer)]);
        if physical <= START + MAX_OFFSET_MICROS {
            prop_assert_eq!(status, StatusCode::OK);
            prop_assert!(stamp.timestamp > peer.timestamp && stamp.timestamp > before);
        } else {
            prop_assert_eq!(status, StatusCode::BAD_REQUEST);
            prop_assert_eq!(stamp.timestamp.as_u64(), before.as_u64() + 1);
        }
    }
}
