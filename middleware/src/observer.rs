//! A hook for instrumentation: what the layers saw, as it happens.
//!
//! Both layers call a [`LayerObserver`] when one is configured (and skip the calls entirely
//! otherwise). The OpenTelemetry integration is one implementation; logging or counting is
//! another:
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//! use hlc_middleware::{HlcServerLayer, LayerObserver, Refusal, Side};
//!
//! #[derive(Default)]
//! struct CountRefusals(AtomicU64);
//!
//! impl LayerObserver for CountRefusals {
//!     fn refused(&self, _side: Side, _refusal: &Refusal) {
//!         self.0.fetch_add(1, Ordering::Relaxed);
//!     }
//! }
//!
//! let counter = Arc::new(CountRefusals::default());
//! let layer = HlcServerLayer::new(hlc_core::Hlc::new().into()).observer(counter.clone());
//! # let _ = layer;
//! ```

use hlc_core::{NodeTimestamp, Timestamp};

use crate::refusal::Refusal;

/// Which layer is reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The server layer, about a request it received and the response it sent.
    Server,
    /// The client layer, about a request it sent and the response it received.
    Client,
}

impl Side {
    /// `"server"` or `"client"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Client => "client",
        }
    }
}

/// Receives what the layers see. Every method does nothing by default.
///
/// Calls happen inline on the request path, from whatever task polls the service: keep them
/// cheap and never block.
pub trait LayerObserver: Send + Sync + 'static {
    /// A peer's stamp was merged into the local clock.
    ///
    /// `local_micros` is the local physical clock read just after the merge, so
    /// `peer.timestamp.physical_micros() - local_micros` is how far the peer leads.
    fn merged(&self, side: Side, peer: NodeTimestamp, merged: Timestamp, local_micros: u64) {
        let _ = (side, peer, merged, local_micros);
    }

    /// A message was refused; nothing was merged. On the client side a
    /// [`Refusal::ClockUntrusted`] means the request was never sent.
    fn refused(&self, side: Side, refusal: &Refusal) {
        let _ = (side, refusal);
    }

    /// What would have been refused was let through: a malformed header under
    /// [`Policy::Pass`](crate::Policy::Pass) (nothing was merged), or a message while the local
    /// clock is untrusted under [`HealthMode::ObserveOnly`](crate::HealthMode::ObserveOnly)
    /// ([`Refusal::ClockUntrusted`]; the message then goes on as usual).
    fn ignored(&self, side: Side, refusal: &Refusal) {
        let _ = (side, refusal);
    }

    /// The layer stamped an outgoing message (the server its response, the client its
    /// request) with `stamp`.
    fn stamped(&self, side: Side, stamp: NodeTimestamp) {
        let _ = (side, stamp);
    }
}
