//! The client layer's error.

use crate::refusal::Refusal;

/// Why [`HlcClient`](crate::HlcClient) returned no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError<E> {
    /// The inner service failed; its error, unchanged.
    #[error(transparent)]
    Service(E),
    /// The response's `hlc` header was refused under the layer's policies. The clock was not
    /// touched and the response was dropped.
    #[error("response refused: {0}")]
    Refused(Refusal),
}

impl<E> ClientError<E> {
    /// The refusal, when the response was refused rather than the service failing.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(refusal) => Some(refusal),
            Self::Service(_) => None,
        }
    }
}
