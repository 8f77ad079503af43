//! Dozens of malformed `hlc` headers, each refused with 400 and none moving the clock.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{body_json, node, stamp_of, START};
use hlc_core::ManualClock;
use hlc_middleware::header::HLC;
use hlc_middleware::HlcServerLayer;
use http::{HeaderValue, Request, Response, StatusCode};
use tower::{service_fn, Layer, ServiceExt};

/// Header values that must each be refused: (values, what the detail must mention).
fn malformed_cases() -> Vec<(Vec<&'static [u8]>, &'static str)> {
    let valid: &'static [u8] = b"00-0006412b3c4d5003-00000000000000a1";
    let mut cases: Vec<(Vec<&'static [u8]>, &'static str)> = vec![
        (vec![b""], "expected 36 bytes, got 0"),
        (vec![b"0"], "got 1"),
        (vec![b"00-0006412b3c4d5003-00000000000000a"], "got 35"),
        (vec![b"00-0006412b3c4d5003-00000000000000a10"], "got 37"),
        (vec![b"00-6412b3c4d5003-a1"], "got 19"),
        (vec![b"00-0006412b3c4d5003"], "got 19"),
        (vec![b"00-0006412B3C4D5003-00000000000000A1"], "hex digit"),
        (
            vec![b"00-0006412b3c4d5003-00000000000000A1"],
            "hex digit at byte 34",
        ),
        (
            vec![b"00-0006412B3c4d5003-00000000000000a1"],
            "hex digit at byte 10",
        ),
        (
            vec![b"01-0006412b3c4d5003-00000000000000a1"],
            "unknown version",
        ),
        (
            vec![b"ff-0006412b3c4d5003-00000000000000a1"],
            "unknown version",
        ),
        (
            vec![b"10-0006412b3c4d5003-00000000000000a1"],
            "unknown version",
        ),
        (
            vec![b"0a-0006412b3c4d5003-00000000000000a1"],
            "unknown version",
        ),
        (vec![b" 00-0006412b3c4d5003-00000000000000a1"], "got 37"),
        (vec![b"00-0006412b3c4d5003-00000000000000a1 "], "got 37"),
        (
            vec![b"00-0006412b3c4d5003 00000000000000a1"],
            "expected '-' at byte 19",
        ),
        (
            vec![b"00 0006412b3c4d5003-00000000000000a1"],
            "expected '-' at byte 2",
        ),
        (
            vec![b"00-0006412b 3c4d503-00000000000000a1"],
            "hex digit at byte 11",
        ),
        (
            vec![b"00-0006412b3c4d5003-0000000000000\t01"],
            "hex digit at byte 33",
        ),
        (
            vec!["00-0006412b3c4d5003-0000000000000é1".as_bytes()],
            "hex digit",
        ),
        (
            vec!["00-0006412b3c4d50é-00000000000000a1".as_bytes()],
            "hex digit",
        ),
        (vec![&[0xff; 36]], "unknown version"),
        (vec![&[0x80; 36]], "unknown version"),
        (
            vec![b"00_0006412b3c4d5003_00000000000000a1"],
            "expected '-' at byte 2",
        ),
        (vec![b"000006412b3c4d5003000000000000000a1"], "got 35"),
        (
            vec![b"00-0x06412b3c4d5003-00000000000000a1"],
            "hex digit at byte 4",
        ),
        (
            vec![b"00-0006412b3c4d500g-00000000000000a1"],
            "hex digit at byte 18",
        ),
        (
            vec![b"00-+006412b3c4d5003-00000000000000a1"],
            "hex digit at byte 3",
        ),
        (
            vec![b"00-0006412b3c4d5003--0000000000000a1"],
            "hex digit at byte 20",
        ),
        (
            vec![b"00-0006412b3c4d5003-00000000000000a1,00-0006412b3c4d5003-00000000000000a1"],
            "got 73",
        ),
        (vec![b"\"00-0006412b3c4d5003-00000000000000a1\""], "got 38"),
        (vec![valid, valid], "appears 2 times"),
        (vec![valid, b"garbage"], "appears 2 times"),
        (vec![b"", valid], "appears 2 times"),
        (vec![valid, valid, valid], "appears 3 times"),
    ];
    cases.push((vec![b"2023-11-14T22:13:20.123456Z#3"], "got 29"));
    cases
}

#[tokio::test]
async fn each_malformed_header_is_refused_with_400_and_changes_nothing() {
    let hlc = node(2, &ManualClock::new(START));
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let handler = service_fn(move |_: Request<()>| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, Infallible>(Response::new(String::new())) }
    });
    let service = HlcServerLayer::new(hlc.clone()).layer(handler);
    let cases = malformed_cases();
    assert!(cases.len() >= 30);
    for (values, mention) in cases {
        let mut request = Request::new(());
        for value in &values {
            let value = HeaderValue::from_bytes(value).unwrap();
            request.headers_mut().append(HLC, value);
        }
        let before = hlc.now();
        let response = service.clone().oneshot(request).await.unwrap();
        let label: Vec<_> = values.iter().map(|v| String::from_utf8_lossy(v)).collect();
        let label = format!("{label:?}");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{label}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(
            stamp_of(response.headers()).timestamp.as_u64(),
            before.as_u64() + 1,
            "{label} moved the clock"
        );
        let body = body_json(response).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(mention), "{label}: {detail}");
        assert_eq!(body["type"], "urn:hlc:malformed-header");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}
