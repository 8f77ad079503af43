//! Typed values the layers leave in request and response extensions.
//!
//! The server layer puts both into the request before the inner service sees it; the client
//! layer puts both into the response it hands back. Read them with
//! `extensions().get::<MergedTimestamp>()`, or with the axum extractors (feature `axum`).
//!
//! ```
//! use hlc_core::{NodeId, NodeTimestamp, Timestamp};
//! use hlc_middleware::{MergedTimestamp, PeerTimestamp};
//!
//! let mut request = http::Request::new(());
//! let peer = NodeTimestamp::new(Timestamp::from_u64(41), NodeId::new(2));
//! request.extensions_mut().insert(PeerTimestamp(peer));
//! request.extensions_mut().insert(MergedTimestamp(Timestamp::from_u64(42)));
//! assert_eq!(request.extensions().get::<MergedTimestamp>().unwrap().0.as_u64(), 42);
//! ```

use hlc_core::{NodeTimestamp, Timestamp};

/// The stamp the peer sent in its `hlc` header, with the peer's node id.
///
/// Present only when the message carried a valid header that was merged. An axum extractor
/// (take it as `Option<PeerTimestamp>`) with the `axum` feature only: without it axum says
/// that the handler does not implement `Handler`, and nothing more (see `hlc_middleware::axum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerTimestamp(pub NodeTimestamp);

/// The local clock's stamp for receiving the message: the result of merging the peer's stamp
/// with [`Hlc::update`](hlc_core::Hlc::update), or of [`Hlc::now`](hlc_core::Hlc::now) when
/// the message carried no header. Greater than the peer's stamp and than every stamp the local
/// clock issued before.
///
/// An axum extractor with the `axum` feature only: without it axum says that the handler does
/// not implement `Handler`, and nothing more (see `hlc_middleware::axum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MergedTimestamp(pub Timestamp);
