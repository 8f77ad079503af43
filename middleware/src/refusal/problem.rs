//! The default refusal response: RFC 9457 problem details over HTTP, a gRPC status for gRPC
//! requests.

use std::time::Duration;

use bytes::Bytes;
use hlc_core::health::UnhealthyReason;
use hlc_core::{NodeTimestamp, UpdateError};
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

use super::{grpc, Refusal, RefusalResponse};

/// The challenge of a `401`: the scheme is the header a caller must add.
const CHALLENGE: &str = "hlc-signature";

/// How long an unhealthy node asks callers to wait before they retry (`Retry-After` on its
/// `503`s, whole seconds): long enough that callers do not hammer a node waiting for its
/// next time sync poll or peer round, short enough to find it again soon after it recovers.
pub const DEFAULT_UNTRUSTED_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The default refusal: RFC 9457 problem details over HTTP, a gRPC status for gRPC requests.
///
/// A peer too far ahead gets `400` unless [`too_far_ahead_status`](Self::too_far_ahead_status)
/// says otherwise; malformed and missing headers always get `400` (gRPC: INVALID_ARGUMENT),
/// since retrying them cannot help. A stamp unsigned or badly signed gets `401` with
/// `WWW-Authenticate: hlc-signature` (RFC 9110, section 15.5.2, asks every `401` for a
/// challenge) and the problem type `urn:hlc:signature-missing` or `urn:hlc:signature-invalid`
/// (gRPC: UNAUTHENTICATED). A node whose own clock is untrusted answers `503` with
/// `Retry-After` ([`DEFAULT_UNTRUSTED_RETRY_AFTER`] unless
/// [`untrusted_retry_after`](Self::untrusted_retry_after) says otherwise) and the problem type
/// `urn:hlc:clock-untrusted`, whose members name the reason (gRPC: UNAVAILABLE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemResponse {
    too_far_ahead_status: StatusCode,
    retry_after: Option<Duration>,
    untrusted_retry_after: Duration,
}

impl ProblemResponse {
    /// `400` for every refusal of a message, no `Retry-After`; `503` with
    /// [`DEFAULT_UNTRUSTED_RETRY_AFTER`] when the local clock is untrusted.
    pub fn new() -> Self {
        Self {
            too_far_ahead_status: StatusCode::BAD_REQUEST,
            retry_after: None,
            untrusted_retry_after: DEFAULT_UNTRUSTED_RETRY_AFTER,
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

    /// The `Retry-After` of a `503` for an untrusted local clock (whole seconds, rounded up;
    /// default [`DEFAULT_UNTRUSTED_RETRY_AFTER`]).
    pub fn untrusted_retry_after(mut self, after: Duration) -> Self {
        self.untrusted_retry_after = after;
        self
    }

    fn http(&self, refusal: &Refusal) -> Response<Bytes> {
        let status = match refusal {
            Refusal::TooFarAhead { .. } => self.too_far_ahead_status,
            Refusal::Signature(_) => StatusCode::UNAUTHORIZED,
            Refusal::ClockUntrusted(_) => StatusCode::SERVICE_UNAVAILABLE,
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
        let retry_after = match refusal {
            Refusal::TooFarAhead { .. } => self.retry_after,
            Refusal::ClockUntrusted(_) => Some(self.untrusted_retry_after),
            _ => None,
        };
        if let Some(after) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(whole_seconds(after)));
        }
        if let Refusal::Signature(_) = refusal {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
        }
        response
    }
}

/// RFC 9110, section 10.2.3: `Retry-After` is a number of whole seconds; round up, so that
/// a caller never comes back early.
fn whole_seconds(after: Duration) -> u64 {
    after.as_secs() + u64::from(after.subsec_nanos() > 0)
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
        Refusal::ClockUntrusted(_) => ("clock-untrusted", "local clock untrusted"),
    };
    let mut body = serde_json::json!({
        "type": format!("urn:hlc:{kind}"),
        "title": title,
        "status": status.as_u16(),
        "detail": refusal.to_string(),
    });
    match refusal {
        Refusal::TooFarAhead { peer, error } => add_times(&mut body, peer, error),
        Refusal::ClockUntrusted(reason) => add_reason(&mut body, reason),
        _ => {}
    }
    body
}

/// The members naming why the local clock is untrusted (see `HEADER.md`): `reason`, and the
/// radius and limit, or the fencing verdict.
fn add_reason(body: &mut serde_json::Value, reason: &UnhealthyReason) {
    let micros = |d: &Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    match reason {
        UnhealthyReason::RadiusTooLarge { radius, limit } => {
            body["radius_us"] = micros(radius).into();
            body["limit_us"] = micros(limit).into();
        }
        UnhealthyReason::Fenced {
            far,
            fresh,
            offset_ms,
        } => {
            body["far_peers"] = (*far).into();
            body["fresh_peers"] = (*fresh).into();
            body["offset_ms"] = (*offset_ms).into();
        }
        _ => {}
    }
    body["reason"] = super::reason_name(reason).into();
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
    fn an_untrusted_clock_is_503_naming_the_reason_whatever_the_skew_settings() {
        let problem = ProblemResponse::new().retry_after(Duration::from_secs(60));
        let wide = UnhealthyReason::RadiusTooLarge {
            radius: Duration::from_millis(300),
            limit: Duration::from_millis(250),
        };
        let response = problem.respond(&Refusal::ClockUntrusted(wide), &HeaderMap::new());
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let default = DEFAULT_UNTRUSTED_RETRY_AFTER.as_secs().to_string();
        assert_eq!(response.headers()[RETRY_AFTER], default.as_str());
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        let body = json(&response);
        assert_eq!(body["type"], "urn:hlc:clock-untrusted");
        assert_eq!(body["status"], 503);
        assert_eq!(body["reason"], "radius_too_large");
        assert_eq!(body["radius_us"], 300_000);
        assert_eq!(body["limit_us"], 250_000);
        assert_eq!(body["detail"], Refusal::ClockUntrusted(wide).to_string());

        let fenced = UnhealthyReason::Fenced {
            far: 3,
            fresh: 4,
            offset_ms: -900,
        };
        let problem = problem.untrusted_retry_after(Duration::from_millis(2500));
        let response = problem.respond(&Refusal::ClockUntrusted(fenced), &HeaderMap::new());
        assert_eq!(response.headers()[RETRY_AFTER], "3");
        let body = json(&response);
        assert_eq!(body["reason"], "fenced");
        assert_eq!(
            (body["far_peers"].as_u64(), body["fresh_peers"].as_u64()),
            (Some(3), Some(4))
        );
        assert_eq!(body["offset_ms"], -900);
        let unsync = Refusal::ClockUntrusted(UnhealthyReason::Unsynchronised);
        assert_eq!(
            json(&problem.respond(&unsync, &HeaderMap::new()))["reason"],
            "unsynchronised"
        );
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
