//! The response future of [`HlcClient`](super::HlcClient).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use hlc_core::health::UnhealthyReason;
use hlc_core::PhysicalClock;
use http::Response;
use pin_project_lite::pin_project;

use super::ClientError;
use crate::exchange::Exchange;

pin_project! {
    /// Resolves to the inner service's response once its `hlc` header is merged, or to a
    /// [`ClientError`].
    pub struct ResponseFuture<F, C> {
        #[pin]
        state: State<F, C>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, C> {
        Sent {
            #[pin]
            future: F,
            exchange: Arc<Exchange<C>>,
        },
        // The local clock was untrusted: nothing was sent. `None` once resolved.
        NotSent {
            reason: Option<UnhealthyReason>,
        },
    }
}

impl<F, C> ResponseFuture<F, C> {
    pub(crate) fn new(future: F, exchange: Arc<Exchange<C>>) -> Self {
        Self {
            state: State::Sent { future, exchange },
        }
    }

    pub(crate) fn not_sent(reason: UnhealthyReason) -> Self {
        Self {
            state: State::NotSent {
                reason: Some(reason),
            },
        }
    }
}

impl<F, C, B, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Response<B>, E>>,
    C: PhysicalClock,
{
    type Output = Result<Response<B>, ClientError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Sent { future, exchange } => {
                let mut response = ready!(future.poll(cx)).map_err(ClientError::Service)?;
                let received = exchange
                    .receive(response.headers())
                    .map_err(ClientError::Refused)?;
                received.insert_into(response.extensions_mut());
                Poll::Ready(Ok(response))
            }
            StateProj::NotSent { reason } => {
                let reason = reason.take().expect("polled after completion");
                Poll::Ready(Err(ClientError::ClockUntrusted(reason)))
            }
        }
    }
}
