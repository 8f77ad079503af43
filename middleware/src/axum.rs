//! axum: add [`HlcServerLayer`](crate::HlcServerLayer) with `Router::layer` and take the
//! timestamps as extractors.
//!
//! [`MergedTimestamp`] is there for every request the layer handled (the peer's stamp merged,
//! or a local receive stamp when there was no header); without the layer it is a `500`, a
//! wiring mistake. [`PeerTimestamp`] is there when the request carried a valid header; take it
//! as `Option<PeerTimestamp>` unless your route requires one (`400` otherwise).
//!
//! ```
//! use std::sync::Arc;
//! use axum::{routing::get, Router};
//! use hlc_middleware::{HlcServerLayer, MergedTimestamp, PeerTimestamp};
//!
//! async fn time(MergedTimestamp(now): MergedTimestamp, peer: Option<PeerTimestamp>) -> String {
//!     format!("received at {now}, sent by {:?}", peer.map(|PeerTimestamp(p)| p.node))
//! }
//!
//! let hlc = Arc::new(hlc_core::Hlc::new());
//! let app: Router = Router::new()
//!     .route("/time", get(time))
//!     .route("/health", get(|| async { "ok" }))
//!     .layer(HlcServerLayer::new(hlc).skip_path("/health"));
//! # let _ = app;
//! ```

use std::convert::Infallible;

use ::axum::extract::{FromRequestParts, OptionalFromRequestParts};
use ::axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::extension::{MergedTimestamp, PeerTimestamp};

/// Why a timestamp extractor found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MissingTimestamp {
    /// No [`MergedTimestamp`]: the server layer did not run for this route.
    #[error("no merged hlc timestamp: the hlc server layer does not cover this route")]
    Merged,
    /// No [`PeerTimestamp`]: the request carried no `hlc` header.
    #[error("the request carries no hlc header")]
    Peer,
}

/// `500` for a missing layer, `400` for a missing header, with the message as body.
impl IntoResponse for MissingTimestamp {
    fn into_response(self) -> Response {
        let status = match self {
            Self::Merged => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Peer => StatusCode::BAD_REQUEST,
        };
        (status, self.to_string()).into_response()
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Send + Sync> FromRequestParts<S> for MergedTimestamp {
    type Rejection = MissingTimestamp;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get()
            .copied()
            .ok_or(MissingTimestamp::Merged)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Send + Sync> OptionalFromRequestParts<S> for MergedTimestamp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts.extensions.get().copied())
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Send + Sync> FromRequestParts<S> for PeerTimestamp {
    type Rejection = MissingTimestamp;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get()
            .copied()
            .ok_or(MissingTimestamp::Peer)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl<S: Send + Sync> OptionalFromRequestParts<S> for PeerTimestamp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts.extensions.get().copied())
    }
}
