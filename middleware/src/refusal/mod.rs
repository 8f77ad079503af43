//! Why the server layer refused a request, and the response it answers with.
//!
//! The default, [`ProblemResponse`], answers HTTP requests with `400` and an
//! `application/problem+json` body (RFC 9457) naming the remote time, the local time and the
//! bound, and gRPC requests with a trailers-only `grpc-status: 9` (FAILED_PRECONDITION) saying
//! the same. A stamp refused for its [signature](crate::signature) gets `401` (gRPC `16`,
//! UNAUTHENTICATED). A node whose own clock is [unhealthy](crate#clock-health) answers `503`
//! with `Retry-After` (default [`DEFAULT_UNTRUSTED_RETRY_AFTER`]) and the problem type
//! `urn:hlc:clock-untrusted` (gRPC `14`, UNAVAILABLE). Anything else is a closure away:
//!
//! ```
//! use bytes::Bytes;
//! use hlc_middleware::{HlcServerLayer, ProblemResponse, Refusal};
//! use http::{HeaderMap, Response, StatusCode};
//! use std::time::Duration;
//!
//! let hlc = std::sync::Arc::new(hlc_core::Hlc::new());
//! // The default body, but 503 and a Retry-After for skewed peers.
//! let unavailable = ProblemResponse::new()
//!     .too_far_ahead_status(StatusCode::SERVICE_UNAVAILABLE)
//!     .retry_after(Duration::from_secs(2));
//! let layer = HlcServerLayer::new(hlc.clone()).refusal_response(unavailable);
//! // Or a response of your own.
//! let teapot = |refusal: &Refusal, _request: &HeaderMap| {
//!     let mut response = Response::new(Bytes::from(refusal.to_string()));
//!     *response.status_mut() = StatusCode::IM_A_TEAPOT;
//!     response
//! };
//! let layer = HlcServerLayer::new(hlc).refusal_response(teapot);
//! # let _ = layer;
//! ```

mod grpc;
mod problem;

use bytes::Bytes;
use hlc_core::health::UnhealthyReason;
use hlc_core::{NodeTimestamp, UpdateError};
use http::header::HeaderMap;
use http::Response;

use crate::header::HeaderError;
use crate::signature::SignatureError;

pub use problem::{ProblemResponse, DEFAULT_UNTRUSTED_RETRY_AFTER};

/// Why a message was refused. The server layer also leaves it in its refusal response's
/// extensions; the client layer returns it in
/// [`ClientError::Refused`](crate::client::ClientError::Refused).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The peer's timestamp is further ahead of the local clock than the max offset.
    #[error("{error}")]
    TooFarAhead {
        /// The stamp the peer sent.
        peer: NodeTimestamp,
        /// The clock's refusal, naming both times and the bound.
        error: UpdateError,
    },
    /// The header is malformed or duplicated (and the policy refuses such messages).
    #[error("{0}")]
    Header(#[from] HeaderError),
    /// The message carries no header (and the policy refuses such messages).
    #[error("the message carries no hlc header")]
    Missing,
    /// The stamp is unsigned or its signature does not verify (and
    /// [`UnsignedPolicy::Refuse`](crate::UnsignedPolicy::Refuse) refuses such messages).
    #[error("{0}")]
    Signature(#[from] SignatureError),
    /// This node's own clock is unhealthy (see [`health`](crate::server::HlcServerLayer::health)):
    /// whatever the message carries, a clock that cannot honour max offset must not serve or
    /// stamp. Refused before the header is read, so nothing is merged.
    #[error("local clock untrusted: {0}")]
    ClockUntrusted(UnhealthyReason),
}

impl Refusal {
    /// A short, stable identifier of the kind of refusal, usable as OpenTelemetry's
    /// `error.type`: `hlc.too_far_ahead`, `hlc.malformed_header`, `hlc.missing_header`,
    /// `hlc.signature_missing`, `hlc.signature_invalid` or `hlc.clock_untrusted`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooFarAhead { .. } => "hlc.too_far_ahead",
            Self::Header(_) => "hlc.malformed_header",
            Self::Missing => "hlc.missing_header",
            Self::Signature(error) if error.is_missing() => "hlc.signature_missing",
            Self::Signature(_) => "hlc.signature_invalid",
            Self::ClockUntrusted(_) => "hlc.clock_untrusted",
        }
    }
}

/// The short name of why the local clock is untrusted, as problem details' `reason` member
/// and the Prometheus health state say it (see `HEADER.md`).
pub(crate) fn reason_name(reason: &UnhealthyReason) -> &'static str {
    match reason {
        UnhealthyReason::RadiusTooLarge { .. } => "radius_too_large",
        UnhealthyReason::Unsynchronised => "unsynchronised",
        UnhealthyReason::Disrupted => "disrupted",
        UnhealthyReason::Fenced { .. } => "fenced",
        // A reason hlc-core adds later: problem details' `detail` still names it.
        _ => "other",
    }
}

/// Builds the response to a refused request. The layer adds its own `hlc` header and the
/// [`Refusal`] extension afterwards.
///
/// Implemented for closures `Fn(&Refusal, &HeaderMap) -> Response<Bytes>`, where the header
/// map is the refused request's.
pub trait RefusalResponse: Send + Sync + 'static {
    /// The response for `refusal`; `request` holds the refused request's headers.
    fn respond(&self, refusal: &Refusal, request: &HeaderMap) -> Response<Bytes>;
}

impl<F> RefusalResponse for F
where
    F: Fn(&Refusal, &HeaderMap) -> Response<Bytes> + Send + Sync + 'static,
{
    fn respond(&self, refusal: &Refusal, request: &HeaderMap) -> Response<Bytes> {
        self(refusal, request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable() {
        let remote = hlc_core::Timestamp::from_physical_micros(2);
        let too_far = Refusal::TooFarAhead {
            peer: NodeTimestamp::new(remote, hlc_core::NodeId::new(7)),
            error: UpdateError::TooFarAhead {
                remote,
                local: hlc_core::Timestamp::from_physical_micros(1),
                max_offset: std::time::Duration::ZERO,
            },
        };
        assert_eq!(too_far.kind(), "hlc.too_far_ahead");
        assert_eq!(Refusal::Missing.kind(), "hlc.missing_header");
        let unsigned = Refusal::Signature(SignatureError::Missing);
        assert_eq!(unsigned.kind(), "hlc.signature_missing");
        let duplicate = Refusal::Signature(SignatureError::Duplicate { count: 2 });
        assert_eq!(duplicate.kind(), "hlc.signature_invalid");
        assert_eq!(
            Refusal::Missing.to_string(),
            "the message carries no hlc header"
        );
        let untrusted = Refusal::ClockUntrusted(UnhealthyReason::Unsynchronised);
        assert_eq!(untrusted.kind(), "hlc.clock_untrusted");
        assert_eq!(
            untrusted.to_string(),
            "local clock untrusted: no time sync bound"
        );
    }
}
