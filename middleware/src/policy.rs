//! What the layers do with a header that is missing, malformed or too far ahead.
//!
//! | situation | server default | client default |
//! |---|---|---|
//! | no `hlc` header | [`Policy::Pass`] | [`Policy::Pass`] |
//! | malformed or duplicated header | [`Policy::Refuse`] (400) | [`Policy::Refuse`] (error) |
//! | peer more than max offset ahead | [`Policy::Refuse`] (400) | [`Policy::Refuse`] (error) |
//! | unsigned or badly signed, once keys are set | [`UnsignedPolicy::Ignore`] | [`UnsignedPolicy::Ignore`] |
//! | local clock unhealthy, once a board is set | [`HealthMode::Enforce`] (503) | [`HealthMode::Enforce`] (not sent) |
//!
//! Whatever the policy, the peer's stamp in a header that is not merged never reaches the
//! clock. The node's own stamps still advance it: a client's send stamp on the request, a
//! server's stamp on its refusal, and a local receive stamp for a message let through.
//!
//! ```
//! use hlc_middleware::{HlcServerLayer, Policy};
//!
//! let layer = HlcServerLayer::new(hlc_core::Hlc::new().into())
//!     .on_missing(Policy::Refuse)   // every caller must stamp its requests
//!     .on_malformed(Policy::Pass);  // but a garbled header is merely ignored
//! # let _ = layer;
//! ```

/// How a layer treats a message whose header it cannot merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Refuse the message: the server answers a refusal without calling its inner service;
    /// the client returns a [`ClientError`](crate::ClientError) instead of the response.
    Refuse,
    /// Let the message through as if it carried no header; nothing is merged.
    Pass,
}

/// What a layer holding [`SigningKeys`](crate::signature::SigningKeys) does with a stamp that
/// is unsigned or whose signature does not verify (see [`signature`](crate::signature)).
///
/// Either way the peer's stamp is not merged (the node's own send, refusal or receive stamps
/// still advance the clock, as for any header that is not merged). Without keys no
/// signature is read, and this policy does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UnsignedPolicy {
    /// Refuse the message: the server answers `401` with problem details (gRPC:
    /// `UNAUTHENTICATED`) without calling its inner service; the client returns a
    /// [`ClientError`](crate::ClientError) saying why.
    Refuse,
    /// Serve the message (the server answers with its own signed stamp) but do not merge the
    /// caller's stamp: a caller without the key can never move the clock. The default.
    #[default]
    Ignore,
}

/// What a layer watching a [`HealthBoard`](hlc_core::health::HealthBoard) does while the
/// local clock is unhealthy (see [clock health](crate#clock-health)). Without a board the
/// layers never read clock health, and this mode does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HealthMode {
    /// Refuse: the server answers `503` with problem details (gRPC: `UNAVAILABLE`) without
    /// reading the request's stamp or calling its inner service; the client returns
    /// [`ClientError::ClockUntrusted`](crate::ClientError::ClockUntrusted) and sends nothing.
    /// The default.
    #[default]
    Enforce,
    /// Serve and send as if healthy, but tell the
    /// [`LayerObserver`](crate::LayerObserver) (its `ignored`, with a
    /// [`Refusal::ClockUntrusted`](crate::Refusal::ClockUntrusted)) about every message that
    /// enforcing would have refused: for rolling the check out, or for a cluster where an
    /// outage costs more than an out-of-order stamp.
    ObserveOnly,
}
