//! The response future of [`HlcClient`](super::HlcClient).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

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
        future: F,
        exchange: Arc<Exchange<C>>,
    }
}

impl<F, C> ResponseFuture<F, C> {
    pub(crate) fn new(future: F, exchange: Arc<Exchange<C>>) -> Self {
        Self { future, exchange }
    }
}

impl<F, C, B, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Response<B>, E>>,
    C: PhysicalClock,
{
    type Output = Result<Response<B>, ClientError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.future.poll(cx)).map_err(ClientError::Service)?;
        let received = this
            .exchange
            .receive(response.headers())
            .map_err(ClientError::Refused)?;
        received.insert_into(response.extensions_mut());
        Poll::Ready(Ok(response))
    }
}
