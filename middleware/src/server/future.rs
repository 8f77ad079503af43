//! The response future of [`HlcServer`](super::HlcServer).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use hlc_core::PhysicalClock;
use http::Response;
use pin_project_lite::pin_project;

use crate::body::HlcBody;
use crate::exchange::Exchange;

pin_project! {
    /// Resolves to the inner service's response stamped with a fresh timestamp, or to a
    /// refusal that never reached the inner service.
    pub struct ResponseFuture<F, C> {
        #[pin]
        state: State<F, C>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, C> {
        Called {
            #[pin]
            future: F,
            // `None` for skipped requests, which are not stamped.
            stamp_with: Option<Arc<Exchange<C>>>,
        },
        // Boxed: refusals are rare, and the unboxed response would make every future larger.
        Refused {
            response: Option<Box<Response<Bytes>>>,
        },
    }
}

impl<F, C> ResponseFuture<F, C> {
    pub(crate) fn called(future: F, stamp_with: Option<Arc<Exchange<C>>>) -> Self {
        Self {
            state: State::Called { future, stamp_with },
        }
    }

    pub(crate) fn refused(response: Response<Bytes>) -> Self {
        Self {
            state: State::Refused {
                response: Some(Box::new(response)),
            },
        }
    }
}

impl<F, C, B, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Response<B>, E>>,
    C: PhysicalClock,
{
    type Output = Result<Response<HlcBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { future, stamp_with } => {
                let mut response = ready!(future.poll(cx))?;
                if let Some(exchange) = stamp_with.take() {
                    exchange.stamp(response.headers_mut());
                }
                Poll::Ready(Ok(response.map(HlcBody::inner)))
            }
            StateProj::Refused { response } => {
                let response = response.take().expect("polled after completion");
                Poll::Ready(Ok((*response).map(HlcBody::refusal)))
            }
        }
    }
}
