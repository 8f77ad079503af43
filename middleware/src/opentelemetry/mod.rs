//! OpenTelemetry: a propagator for the `hlc` field, span attributes and metrics.
//!
//! - [`HlcPropagator`] is a `TextMapPropagator`: it stamps outgoing carriers (message
//!   headers, queue metadata) with `hlc.now()` and extracts a carrier's `hlc` field into the
//!   context as a [`PeerTimestamp`](crate::PeerTimestamp), for the receiver to merge.
//! - [`OtelObserver`] is a [`LayerObserver`](crate::LayerObserver): on the span current when
//!   the layers run it sets `hlc.timestamp` and `hlc.node_id` (this side's stamp),
//!   `hlc.remote_timestamp` and `hlc.remote_node_id` (the peer's) and, on a refusal,
//!   `error.type` (see [`Refusal::kind`](crate::Refusal::kind)); it counts refusals
//!   (`hlc.refusals`) and malformed headers (`hlc.malformed_headers`) and records how far
//!   peers lead the local clock (`hlc.peer.lead`, in seconds, zero for peers behind).
//!   Every instrument has the attribute `hlc.side` (`server` or `client`). Given the peer
//!   monitor that [pings](crate::ping) feed ([`OtelObserver::peer_monitor`]), a span about a
//!   peer's stamp also gets `hlc.remote_offset_us` and `hlc.remote_offset_uncertainty_us`:
//!   the peer's clock minus this node's, as its last ping measured it.
//!
//! ```
//! use std::sync::Arc;
//! use hlc_middleware::opentelemetry::{HlcPropagator, OtelObserver};
//! use hlc_middleware::HlcServerLayer;
//! use opentelemetry::propagation::TextMapPropagator;
//!
//! let hlc = Arc::new(hlc_core::Hlc::new());
//! let meter = opentelemetry::global::meter("my-service");
//! let layer = HlcServerLayer::new(hlc.clone()).observer(Arc::new(OtelObserver::new(&meter)));
//! # let _ = layer;
//!
//! let propagator = HlcPropagator::new(hlc);
//! let mut carrier = std::collections::HashMap::new();
//! propagator.inject_context(&opentelemetry::Context::new(), &mut carrier);
//! assert_eq!(carrier["hlc"].len(), 36);
//! ```
//!
//! Times appear in span attributes in the text form of [`Timestamp`](hlc_core::Timestamp)
//! (`2023-11-14T22:13:20.123456Z#3`), node ids as 16 lowercase hex digits.

mod observer;
mod propagator;

pub use observer::OtelObserver;
pub use propagator::HlcPropagator;
