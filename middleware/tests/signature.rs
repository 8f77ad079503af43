//! Signed stamps through both layers, in process on manual clocks: what each policy merges,
//! refuses and answers, and that the signature is checked before the max offset.

mod common;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{body_json, node, stamp_of, stamped, START};
use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp, Timestamp};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::signature::{SignatureError, SigningKeys, HLC_SIGNATURE};
use hlc_middleware::{
    HlcClientLayer, HlcServerLayer, LayerObserver, PeerTimestamp, Refusal, Side, UnsignedPolicy,
};
use http::{HeaderValue, Request, Response, StatusCode};
use tower::{service_fn, Layer, Service, ServiceExt};

/// The key the cluster shares, and one an outsider has.
fn cluster_keys() -> SigningKeys {
    SigningKeys::parse(&format!("k1 {}\n", "5e".repeat(32))).unwrap()
}

fn outsider_keys() -> SigningKeys {
    SigningKeys::parse(&format!("k1 {}\n", "a0".repeat(32))).unwrap()
}

fn server_node() -> Arc<Hlc<ManualClock>> {
    node(2, &ManualClock::new(START))
}

/// A stamp from a caller whose clock is `lead_us` ahead of the server's.
fn caller_stamp(lead_us: u64) -> NodeTimestamp {
    NodeTimestamp::new(
        Timestamp::from_physical_micros(START + lead_us),
        NodeId::new(1),
    )
}

/// A request carrying `stamp`, signed with `keys`.
fn signed(stamp: NodeTimestamp, keys: &SigningKeys) -> Request<()> {
    let mut request = stamped(stamp);
    let signature = keys.sign(request.headers()[HLC].as_bytes());
    request.headers_mut().insert(HLC_SIGNATURE, signature);
    request
}

/// A handler that counts its calls and answers `peer` when it saw the caller's stamp.
fn counting(
    calls: &Arc<AtomicUsize>,
) -> impl Service<Request<()>, Response = Response<String>, Error = Infallible> + Clone {
    let calls = Arc::clone(calls);
    service_fn(move |request: Request<()>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let peer = request.extensions().get::<PeerTimestamp>().is_some();
        async move { Ok(Response::new(if peer { "peer" } else { "none" }.to_owned())) }
    })
}

/// Whether the handler behind [`counting`] saw the caller's stamp.
fn saw_peer(response: Response<hlc_middleware::HlcBody<String>>) -> bool {
    response.into_body().into_inner().as_deref() == Some("peer")
}

/// Asserts that a response carries a stamp signed by `keys` over its exact `hlc` bytes.
fn assert_signed(headers: &http::HeaderMap, keys: &SigningKeys) {
    let signature = headers.get(HLC_SIGNATURE).expect("an hlc-signature header");
    let verified = keys.verify(signature.as_bytes(), headers[HLC].as_bytes());
    assert_eq!(verified.unwrap().as_str(), "k1");
}

#[tokio::test]
async fn an_unsigned_stamp_400_ms_ahead_is_served_but_not_merged_by_default() {
    let hlc = server_node();
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = HlcServerLayer::new(hlc.clone()).signing_keys(cluster_keys());
    let response = layer
        .layer(counting(&calls))
        .oneshot(stamped(caller_stamp(400_000)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(hlc.last().physical_micros(), START, "the clock moved");
    assert_signed(response.headers(), &cluster_keys());
    assert!(!saw_peer(response), "the handler saw a peer stamp");

    // The same request without keys is merged: the test above would notice a no-op.
    let keyless = HlcServerLayer::new(hlc.clone()).layer(counting(&calls));
    keyless
        .oneshot(stamped(caller_stamp(400_000)))
        .await
        .unwrap();
    assert!(hlc.last().physical_micros() >= START + 400_000);
}

#[tokio::test]
async fn refuse_answers_401_problem_json_without_calling_the_service() {
    let hlc = server_node();
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = HlcServerLayer::new(hlc.clone())
        .signing_keys(cluster_keys())
        .unsigned(UnsignedPolicy::Refuse);
    let before = hlc.now();
    let response = layer
        .layer(counting(&calls))
        .oneshot(stamped(caller_stamp(400_000)))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(response.headers()["www-authenticate"], "hlc-signature");
    assert_signed(response.headers(), &cluster_keys());
    // The only change: the local send event that stamped the refusal.
    assert_eq!(
        stamp_of(response.headers()).timestamp.as_u64(),
        before.as_u64() + 1
    );
    assert_eq!(hlc.last().as_u64(), before.as_u64() + 1);
    let body = body_json(response).await;
    assert_eq!(body["type"], "urn:hlc:signature-missing");
    assert_eq!(body["status"], 401);
    assert_eq!(
        body["detail"],
        "the message carries no hlc-signature header"
    );
}

#[tokio::test]
async fn a_valid_signature_is_merged_and_an_outsiders_is_not() {
    for policy in [UnsignedPolicy::Ignore, UnsignedPolicy::Refuse] {
        let hlc = server_node();
        let calls = Arc::new(AtomicUsize::new(0));
        let service = HlcServerLayer::new(hlc.clone())
            .signing_keys(cluster_keys())
            .unsigned(policy)
            .layer(counting(&calls));
        let outsider = service
            .clone()
            .oneshot(signed(caller_stamp(400_000), &outsider_keys()))
            .await
            .unwrap();
        assert_eq!(hlc.last().physical_micros(), START, "{policy:?}");
        let expected = match policy {
            UnsignedPolicy::Refuse => StatusCode::UNAUTHORIZED,
            _ => StatusCode::OK,
        };
        assert_eq!(outsider.status(), expected);
        assert!(matches!(
            outsider.extensions().get::<Refusal>(),
            Some(Refusal::Signature(SignatureError::Mismatch(_))) | None
        ));

        let member = service
            .oneshot(signed(caller_stamp(400_000), &cluster_keys()))
            .await
            .unwrap();
        assert_eq!(member.status(), StatusCode::OK);
        assert!(saw_peer(member), "the handler saw no peer stamp");
        assert!(hlc.last() > caller_stamp(400_000).timestamp, "{policy:?}");
    }
}

#[tokio::test]
async fn a_malformed_signature_is_refused_or_ignored_and_changes_nothing() {
    let garbage = ["v1=k1:zz", "v1=k1", "", "v2=k1:00", "v1=k 1:00"];
    // Local events only: the refusal's stamp; or the receive stamp and the response's.
    for (policy, status, ticks) in [
        (UnsignedPolicy::Refuse, StatusCode::UNAUTHORIZED, 1),
        (UnsignedPolicy::Ignore, StatusCode::OK, 2),
    ] {
        for value in garbage {
            let hlc = server_node();
            let before = hlc.now();
            let service = HlcServerLayer::new(hlc.clone())
                .signing_keys(cluster_keys())
                .unsigned(policy)
                .layer(counting(&Arc::default()));
            let mut request = stamped(caller_stamp(100_000));
            let header = HeaderValue::from_static(value);
            request.headers_mut().insert(HLC_SIGNATURE, header);
            let response = service.oneshot(request).await.unwrap();
            assert_eq!(response.status(), status, "{value}");
            assert_eq!(hlc.last().as_u64(), before.as_u64() + ticks, "{value}");
            if policy == UnsignedPolicy::Refuse {
                let body = body_json(response).await;
                assert_eq!(body["type"], "urn:hlc:signature-invalid", "{value}");
                let detail = body["detail"].as_str().unwrap();
                assert!(
                    detail.starts_with("malformed hlc-signature header"),
                    "{detail}"
                );
            }
        }
    }
}

/// Records what the server layer reports.
#[derive(Default)]
struct Seen(Mutex<Vec<String>>);

impl LayerObserver for Seen {
    fn merged(&self, _: Side, _: NodeTimestamp, _: Timestamp, _: u64) {
        self.0.lock().unwrap().push("merged".into());
    }
    fn refused(&self, _: Side, refusal: &Refusal) {
        self.0
            .lock()
            .unwrap()
            .push(format!("refused {}", refusal.kind()));
    }
    fn ignored(&self, _: Side, refusal: &Refusal) {
        self.0
            .lock()
            .unwrap()
            .push(format!("ignored {}", refusal.kind()));
    }
}

#[tokio::test]
async fn the_signature_is_checked_before_the_max_offset() {
    // An unsigned stamp an hour ahead is not evidence of a skewed peer: under refuse it is a
    // signature refusal (401), under ignore it is served; never a too-far-ahead refusal.
    let far = caller_stamp(3_600_000_000);
    for (policy, status, report) in [
        (UnsignedPolicy::Refuse, StatusCode::UNAUTHORIZED, "refused"),
        (UnsignedPolicy::Ignore, StatusCode::OK, "ignored"),
    ] {
        let seen = Arc::new(Seen::default());
        let service = HlcServerLayer::new(server_node())
            .signing_keys(cluster_keys())
            .unsigned(policy)
            .observer(seen.clone())
            .layer(counting(&Arc::default()));
        let response = service.oneshot(stamped(far)).await.unwrap();
        assert_eq!(response.status(), status);
        let reports = seen.0.lock().unwrap().clone();
        assert_eq!(reports, [format!("{report} hlc.signature_missing")]);
    }
    // Signed, the same stamp meets the max-offset rule as before.
    let service = HlcServerLayer::new(server_node())
        .signing_keys(cluster_keys())
        .layer(counting(&Arc::default()));
    let response = service.oneshot(signed(far, &cluster_keys())).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(
        response.extensions().get::<Refusal>(),
        Some(Refusal::TooFarAhead { .. })
    ));
}

#[tokio::test]
async fn without_keys_signatures_are_neither_read_nor_written() {
    let hlc = server_node();
    let service = HlcServerLayer::new(hlc.clone()).layer(counting(&Arc::default()));
    let mut request = stamped(caller_stamp(100_000));
    request
        .headers_mut()
        .insert(HLC_SIGNATURE, HeaderValue::from_static("v1=k1:zz"));
    let response = service.oneshot(request).await.unwrap();
    assert!(response.headers().get(HLC_SIGNATURE).is_none());
    assert!(saw_peer(response), "a keyless server read the signature");
}

/// A peer that answers with its own stamp, signed with `keys` when given.
fn answering(
    keys: Option<SigningKeys>,
) -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> + Clone {
    service_fn(move |_: Request<()>| {
        let keys = keys.clone();
        async move {
            let mut response = Response::new(());
            let value = header::encode(caller_stamp(300_000));
            if let Some(keys) = keys {
                let signature = keys.sign(value.as_bytes());
                response.headers_mut().insert(HLC_SIGNATURE, signature);
            }
            response.headers_mut().insert(HLC, value);
            Ok(response)
        }
    })
}

#[tokio::test]
async fn the_client_signs_requests_and_applies_the_policy_to_responses() {
    let alice = node(5, &ManualClock::new(START));
    let keys = cluster_keys();
    let refusing = HlcClientLayer::new(alice.clone())
        .signing_keys(keys.clone())
        .unsigned(UnsignedPolicy::Refuse);
    let error = refusing
        .layer(answering(None))
        .oneshot(Request::new(()))
        .await
        .unwrap_err();
    assert_eq!(
        error.refusal(),
        Some(&Refusal::Signature(SignatureError::Missing))
    );
    assert_eq!(
        error.to_string(),
        "response refused: the message carries no hlc-signature header"
    );
    assert_eq!(
        alice.last().physical_micros(),
        START,
        "the refused answer moved the clock"
    );

    let ignoring = HlcClientLayer::new(alice.clone()).signing_keys(keys.clone());
    let response = ignoring
        .layer(answering(Some(outsider_keys())))
        .oneshot(Request::new(()))
        .await
        .unwrap();
    assert!(response.extensions().get::<PeerTimestamp>().is_none());
    assert_eq!(alice.last().physical_micros(), START);

    // Requests go out signed, and a signed answer is merged.
    let checking = service_fn(|request: Request<()>| async move {
        let headers = request.headers();
        let signature = &headers[HLC_SIGNATURE];
        let keys = cluster_keys();
        let verified = keys.verify(signature.as_bytes(), headers[HLC].as_bytes());
        assert!(verified.is_ok(), "{verified:?}");
        answering(Some(cluster_keys())).oneshot(request).await
    });
    let response = refusing
        .layer(checking)
        .oneshot(Request::new(()))
        .await
        .unwrap();
    assert!(response.extensions().get::<PeerTimestamp>().is_some());
    assert!(alice.last() > caller_stamp(300_000).timestamp);
}
