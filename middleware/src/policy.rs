//! What the layers do with a header that is missing, malformed or too far ahead.
//!
//! | situation | server default | client default |
//! |---|---|---|
//! | no `hlc` header | [`Policy::Pass`] | [`Policy::Pass`] |
//! | malformed or duplicated header | [`Policy::Refuse`] (400) | [`Policy::Refuse`] (error) |
//! | peer more than max offset ahead | always refused | [`Policy::Refuse`] (error) |
//!
//! Whatever the policy, a header that is not merged leaves the clock as it was.
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
