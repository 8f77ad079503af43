//! Refusals in gRPC's terms, without depending on a gRPC library.
//!
//! The rules come from gRPC's "PROTOCOL-HTTP2" document: a request is gRPC when its
//! content-type starts with `application/grpc`; an error with no messages may be a
//! trailers-only response, whose HTTP status is 200 and whose headers carry `grpc-status` and a
//! percent-encoded `grpc-message`.

use std::fmt::Write as _;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use http::Response;

use super::Refusal;

/// gRPC status code FAILED_PRECONDITION.
pub(crate) const FAILED_PRECONDITION: u8 = 9;
/// gRPC status code INVALID_ARGUMENT.
pub(crate) const INVALID_ARGUMENT: u8 = 3;
/// gRPC status code UNAVAILABLE: the one gRPC asks clients to retry (with backoff).
pub(crate) const UNAVAILABLE: u8 = 14;
/// gRPC status code UNAUTHENTICATED.
pub(crate) const UNAUTHENTICATED: u8 = 16;

/// Whether the request's content-type says gRPC (`application/grpc`, `application/grpc+proto`,
/// `application/grpc-web`, ...).
pub(crate) fn is_grpc(request: &HeaderMap) -> bool {
    request
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc"))
}

/// A trailers-only response carrying the refusal as a gRPC status.
pub(crate) fn refusal(refusal: &Refusal) -> Response<Bytes> {
    let code = match refusal {
        Refusal::TooFarAhead { .. } => FAILED_PRECONDITION,
        Refusal::Signature(_) => UNAUTHENTICATED,
        Refusal::ClockUntrusted(_) => UNAVAILABLE,
        _ => INVALID_ARGUMENT,
    };
    let mut response = Response::new(Bytes::new());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-status", HeaderValue::from(u16::from(code)));
    if let Ok(message) = HeaderValue::from_str(&percent_encode(&refusal.to_string())) {
        headers.insert("grpc-message", message);
    }
    response
}

/// Percent-encodes every byte outside printable ASCII, and `%` itself.
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for byte in message.bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            // Writing into a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_content_types_are_recognised() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
            is_grpc(&headers)
        };
        assert!(with("application/grpc"));
        assert!(with("application/grpc+proto"));
        assert!(!with("application/json"));
        assert!(!is_grpc(&HeaderMap::new()));
    }

    #[test]
    fn messages_are_percent_encoded() {
        assert_eq!(percent_encode("a 100% é"), "a 100%25 %C3%A9");
    }

    #[test]
    fn missing_header_is_invalid_argument_in_a_trailers_only_response() {
        let response = refusal(&Refusal::Missing);
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["grpc-status"], "3");
        assert_eq!(
            response.headers()["grpc-message"],
            "the message carries no hlc header"
        );
        assert!(response.body().is_empty());
    }

    #[test]
    fn an_untrusted_clock_is_unavailable() {
        let reason = hlc_core::health::UnhealthyReason::Disrupted;
        let response = refusal(&Refusal::ClockUntrusted(reason));
        assert_eq!(response.headers()["grpc-status"], "14");
        assert_eq!(
            response.headers()["grpc-message"],
            "local clock untrusted: clock disrupted (suspend, pause or step)"
        );
    }

    #[test]
    fn a_signature_refusal_is_unauthenticated() {
        let refusal = Refusal::Signature(crate::signature::SignatureError::Missing);
        let response = super::refusal(&refusal);
        assert_eq!(response.headers()["grpc-status"], "16");
        assert_eq!(
            response.headers()["grpc-message"],
            "the message carries no hlc-signature header"
        );
    }
}
