//! The default refusal response: RFC 9457 problem details over HTTP, a gRPC status for gRPC
//! requests.

use std::time::Duration;

use bytes::Bytes;
use hlc_core::{NodeTimestamp, UpdateError};
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

use super::{grpc, Refusal, RefusalResponse};

/// The challenge of a `401`: the scheme is the header a caller must add.
const CHALLENGE: &str = "hlc-signature";

/// The default refusal: RFC 9457 problem details over HTTP, a gRPC status for gRPC requests.
///
/// A peer too far ahead gets `400` unless [`too_far_ahead_status`](Self::too_far_ahead_status)
/// says otherwise; malformed and missing headers always get `400` (gRPC: INVALID_ARGUMENT),
/// since retrying them cannot help. A stamp unsigned or badly signed gets `401` with
/// `WWW-Authenticate: hlc-signature` (RFC 9110, section 15.5.2, asks every `401` for a
/// challenge) and the problem type `urn:hlc:signature-missing` or `urn:hlc:signature-invalid`
/// (gRPC: UNAUTHENTICATED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemResponse {
    too_far_ahead_status: StatusCode,
    retry_after: Option<Duration>,
}

impl ProblemResponse {
    /// `400` for every refusal, no `Retry-After`.
    pub fn new() -> Self {
        Self {
            too_far_ahead_status: StatusCode::BAD_REQUEST,
            retry_after: None,
        }
    }

    /// The HTTP status for a peer too far ahead (gRPC requests still get FAILED_PRECONDITION).
    pub fn too_far_ahead_status(mut self, status: StatusCode) -> Self {
        self.too_far_ahead_status = status;
        self
    }

    /// Adds `Retry-After` (whole seconds, rounded up) to refusals of peers too far ahead.
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    fn http(&self, refusal: &Refusal) -> Response<Bytes> {
        let status = match refusal {
            Refusal::TooFarAhead { .. } => self.too_far_ahead_status,
            Refusal::Signature(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = problem_json(refusal, status);
        let mut response = Response::new(Bytes::from(body.to_string()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let (Refusal::TooFarAhead { .. }, Some(after)) = (refusal, self.retry_after) {
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Refusal::Signature(_) = refusal {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
        }
        response
    }
}

impl Default for ProblemResponse {
    fn default() -> Self {
        Self::new()
    }
}

impl RefusalResponse for ProblemResponse {
    fn respond(&self, refusal: &Refusal, request: &HeaderMap) -> Response<Bytes> {
        if grpc::is_grpc(request) {
            grpc::refusal(refusal)
        } else {
            self.http(refusal)
        }
    }
}

/// The problem details object of RFC 9457, with the times as extension members.
fn problem_json(refusal: &Refusal, status: StatusCode) -> serde_json::Value {
    let (kind, title) = match refusal {
        Refusal::TooFarAhead { .. } => ("too-far-ahead", "remote clock too far ahead"),
        Refusal::Header(_) => ("malformed-header", "malformed hlc header"),
        Refusal::Missing => ("missing-header", "missing hlc header"),
        Refusal::Signature(error) if error.is_missing() => {
            ("signature-missing", "missing hlc signature")
        }
        Refusal::Signature(_) => ("signature-invalid", "invalid hlc signature"),
    };
    let mut body = serde_json::json!({
        "type": format!("urn:hlc:{kind}"),
        "title": title,
        "status": status.as_u16(),
        "detail": refusal.to_string(),
    });
    if let Refusal::TooFarAhead { peer, error } = refusal {
        add_times(&mut body, peer, error);
    }
    body
}

/// The members naming both times and the bound (see `HEADER.md`).
fn add_times(body: &mut serde_json::Value, peer: &NodeTimestamp, error: &UpdateError) {
    let UpdateError::TooFarAhead {
        remote,
        local,
        max_offset,
    } = error
    else {
        return;
    };
    let lead = remote
        .physical_micros()
        .saturating_sub(local.physical_micros());
    body["remote_timestamp"] = peer.to_string().into();
    body["remote_time"] = remote.to_string().into();
    body["local_time"] = local.to_string().into();
    body["max_offset_us"] = u64::try_from(max_offset.as_micros())
        .unwrap_or(u64::MAX)
        .into();
    body["lead_us"] = lead.into();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::HeaderError;
    use hlc_core::{NodeId, ParseError, Timestamp};

    fn too_far() -> Refusal {
        let remote = Timestamp::from_physical_micros(1_700_000_002_000_000);
        let local = Timestamp::from_physical_micros(1_700_000_000_000_000);
        Refusal::TooFarAhead {
            peer: NodeTimestamp::new(remote, NodeId::new(7)),
            error: UpdateError::TooFarAhead {
                remote,
                local,
                max_offset: hlc_core::DEFAULT_MAX_OFFSET,
            },
        }
    }

    fn json(response: &Response<Bytes>) -> serde_json::Value {
        serde_json::from_slice(response.body()).unwrap()
    }

    #[test]
    fn http_refusal_is_a_problem_naming_both_times_and_the_bound() {
        let response = ProblemResponse::new().respond(&too_far(), &HeaderMap::new());
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        let body = json(&response);
        assert_eq!(body["type"], "urn:hlc:too-far-ahead");
        assert_eq!(body["status"], 400);
        assert_eq!(body["remote_time"], "2023-11-14T22:13:22.000000Z#0");
        assert_eq!(body["local_time"], "2023-11-14T22:13:20.000000Z#0");
        let max_offset = hlc_core::DEFAULT_MAX_OFFSET.as_micros() as u64;
        assert_eq!(body["max_offset_us"], max_offset);
        assert_eq!(body["lead_us"], 2_000_000);
        let bound = format!("{max_offset}us");
        assert!(body["detail"].as_str().unwrap().contains(&bound));
        assert!(response.headers().get(RETRY_AFTER).is_none());
    }

    #[test]
    fn status_and_retry_after_are_configurable_for_skew_only() {
        let problem = ProblemResponse::new()
            .too_far_ahead_status(StatusCode::SERVICE_UNAVAILABLE)
            .retry_after(Duration::from_millis(1500));
        let response = problem.respond(&too_far(), &HeaderMap::new());
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[RETRY_AFTER], "2");
        let malformed = Refusal::Header(HeaderError::Malformed(ParseError::Length {
            expected: 36,
            actual: 3,
        }));
        let response = problem.respond(&malformed, &HeaderMap::new());
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(RETRY_AFTER).is_none());
        let body = json(&response);
        assert_eq!(
            body["detail"],
            "malformed hlc header: expected 36 bytes, got 3"
        );
        assert!(body.get("remote_time").is_none());
    }

    #[test]
    fn signature_refusals_are_401_with_a_challenge_and_a_type_each() {
        use crate::signature::SignatureError;
        let problem = ProblemResponse::new().too_far_ahead_status(StatusCode::SERVICE_UNAVAILABLE);
        let missing = Refusal::Signature(SignatureError::Missing);
        let invalid = Refusal::Signature(SignatureError::Mismatch("k1".parse().unwrap()));
        for (refusal, kind) in [
            (missing, "signature-missing"),
            (invalid, "signature-invalid"),
        ] {
            let response = problem.respond(&refusal, &HeaderMap::new());
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(response.headers()[WWW_AUTHENTICATE], "hlc-signature");
            let body = json(&response);
            assert_eq!(body["type"], format!("urn:hlc:{kind}"));
            assert_eq!(body["status"], 401);
            assert_eq!(body["detail"], refusal.to_string());
        }
    }
}
