//! The client layer's error.

use hlc_core::health::UnhealthyReason;

use crate::refusal::Refusal;

/// Why [`HlcClient`](crate::HlcClient) returned no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError<E> {
    /// The inner service failed; its error, unchanged.
    #[error(transparent)]
    Service(E),
    /// The response's `hlc` header was refused under the layer's policies. Its stamp was not
    /// merged (the clock keeps the request's own send stamp, nothing of the peer's) and the
    /// response was dropped.
    #[error("response refused: {0}")]
    Refused(Refusal),
    /// The local clock is unhealthy (see
    /// [`HlcClientLayer::health`](crate::HlcClientLayer::health)), so the request was not
    /// sent: the inner service was never called and the clock was not read.
    #[error("request not sent: local clock untrusted: {0}")]
    ClockUntrusted(UnhealthyReason),
}

impl<E> ClientError<E> {
    /// The refusal, when the response was refused rather than the service failing.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(refusal) => Some(refusal),
            Self::Service(_) | Self::ClockUntrusted(_) => None,
        }
    }
}
