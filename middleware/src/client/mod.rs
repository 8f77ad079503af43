//! The client layer: stamp each request, merge each response's `hlc` header.
//!
//! [`HlcClient`] writes `hlc: <now()>` on every request (replacing any header already there),
//! then reads the response's header. A valid one within the max offset is merged with
//! [`Hlc::update`](hlc_core::Hlc::update), and [`PeerTimestamp`](crate::PeerTimestamp) and
//! [`MergedTimestamp`](crate::MergedTimestamp) land in the response's extensions. A response
//! stamped too far ahead, or with a malformed header, becomes
//! [`ClientError::Refused`] by default, and its stamp is never merged: the clock keeps the
//! request's own send stamp (what [`Hlc::last`](hlc_core::Hlc::last) then reads) and nothing
//! of the peer's. The [policies](HlcClientLayer::on_too_far_ahead) can let such responses
//! through instead, unmerged, with a local receive stamp.
//! With [`signing_keys`](HlcClientLayer::signing_keys) requests are signed and a response's
//! stamp is merged only when its signature verifies; [`unsigned`](HlcClientLayer::unsigned)
//! decides whether an unverified response is still handed over (unmerged) or refused.
//! With a [health board](HlcClientLayer::health), a request is not sent at all while the
//! local clock is unhealthy: the call resolves to [`ClientError::ClockUntrusted`] at once.
//!
//! ```
//! use std::{convert::Infallible, sync::Arc};
//! use hlc_core::Hlc;
//! use hlc_middleware::{HlcClientLayer, HlcServer, MergedTimestamp};
//! use http::{Request, Response};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server_hlc = Arc::new(Hlc::new());
//! let handler = service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
//! let server = HlcServer::new(handler, server_hlc.clone()); // in process, for the example
//! let client_hlc = Arc::new(Hlc::new());
//! let client = ServiceBuilder::new()
//!     .layer(HlcClientLayer::new(client_hlc.clone()))
//!     .service(server);
//! let response = client.oneshot(Request::new(())).await?;
//! let merged = response.extensions().get::<MergedTimestamp>().unwrap().0;
//! assert_eq!(client_hlc.last(), merged);
//! assert!(merged > server_hlc.last()); // the server's answer happened before
//! # Ok(())
//! # }
//! ```

mod error;
mod future;
mod layer;

use std::sync::Arc;
use std::task::{Context, Poll};

use hlc_core::{Hlc, PhysicalClock, SystemClock};
use http::{Request, Response};
use tower::Service;

pub use error::ClientError;
pub use future::ResponseFuture;
pub use layer::HlcClientLayer;

use crate::exchange::Exchange;

/// Carries HLC timestamps across the client side of a service; built by [`HlcClientLayer`].
pub struct HlcClient<S, C = SystemClock> {
    inner: S,
    exchange: Arc<Exchange<C>>,
}

impl<S, C: PhysicalClock> HlcClient<S, C> {
    /// Wraps `inner` with the default settings of [`HlcClientLayer::new`].
    pub fn new(inner: S, hlc: Arc<Hlc<C>>) -> Self {
        use tower::Layer as _;
        HlcClientLayer::new(hlc).layer(inner)
    }

    pub(crate) fn from_exchange(inner: S, exchange: Arc<Exchange<C>>) -> Self {
        Self { inner, exchange }
    }

    /// The inner service.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for HlcClient<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: PhysicalClock,
{
    type Response = Response<ResBody>;
    type Error = ClientError<S::Error>;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(ClientError::Service)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if let Err(reason) = self.exchange.check_health() {
            return ResponseFuture::not_sent(reason);
        }
        self.exchange.stamp(request.headers_mut());
        ResponseFuture::new(self.inner.call(request), Arc::clone(&self.exchange))
    }
}

impl<S: Clone, C> Clone for HlcClient<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            exchange: Arc::clone(&self.exchange),
        }
    }
}

impl<S: std::fmt::Debug, C> std::fmt::Debug for HlcClient<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HlcClient")
            .field("inner", &self.inner)
            .field("exchange", &self.exchange)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{self, HLC};
    use crate::policy::Policy;
    use crate::refusal::Refusal;
    use hlc_core::{ManualClock, NodeId, NodeTimestamp, Timestamp};
    use std::convert::Infallible;
    use tower::ServiceExt;

    const START: u64 = 1_700_000_000_000_000;

    fn hlc() -> Arc<Hlc<ManualClock>> {
        Arc::new(Hlc::with_clock(ManualClock::new(START)))
    }

    /// A peer that answers with a fixed `hlc` header value.
    fn answering(
        value: &'static str,
    ) -> impl Service<Request<()>, Response = Response<()>, Error = Infallible> {
        tower::service_fn(move |_: Request<()>| async move {
            let mut response = Response::new(());
            response.headers_mut().insert(HLC, value.parse().unwrap());
            Ok(response)
        })
    }

    #[tokio::test]
    async fn requests_are_stamped_with_the_local_clock() {
        let hlc = hlc();
        let seen = tower::service_fn(|request: Request<()>| async move {
            let stamp = header::decode(request.headers()).unwrap().unwrap();
            Ok::<_, Infallible>(Response::new(stamp))
        });
        let response = HlcClient::new(seen, hlc.clone())
            .oneshot(Request::new(()))
            .await
            .unwrap();
        assert_eq!(response.body().node, hlc.node_id());
        // Stamped, then a local receive event for the header-less response.
        assert!(response.body().timestamp < hlc.last());
    }

    /// What the docs promise: a refused response's stamp never reaches the clock, and the
    /// clock reads the request's own send stamp afterwards.
    #[tokio::test]
    async fn a_refused_response_leaves_the_clock_at_the_requests_send_stamp() {
        let ahead = NodeTimestamp::new(
            Timestamp::from_physical_micros(START + 600_000),
            NodeId::new(5),
        );
        let value = ahead.to_string();
        let sent = Arc::new(std::sync::Mutex::new(None));
        let seen = Arc::clone(&sent);
        let peer = tower::service_fn(move |request: Request<()>| {
            *seen.lock().unwrap() = header::decode(request.headers()).unwrap();
            let mut response = Response::new(());
            response.headers_mut().insert(HLC, value.parse().unwrap());
            async { Ok::<_, Infallible>(response) }
        });
        let hlc = hlc();
        let before = hlc.last();
        let error = HlcClient::new(peer, hlc.clone())
            .oneshot(Request::new(()))
            .await
            .unwrap_err();
        assert!(matches!(error.refusal(), Some(Refusal::TooFarAhead { .. })));
        let sent = sent.lock().unwrap().expect("the request was stamped");
        assert!(sent.timestamp > before);
        assert_eq!(hlc.last(), sent.timestamp);
    }

    #[tokio::test]
    async fn a_response_too_far_ahead_is_an_error_or_passes_by_policy() {
        let ahead = NodeTimestamp::new(
            Timestamp::from_physical_micros(START + 600_000),
            NodeId::new(5),
        );
        let value: &'static str = Box::leak(ahead.to_string().into_boxed_str());
        let hlc = hlc();
        let error = HlcClient::new(answering(value), hlc.clone())
            .oneshot(Request::new(()))
            .await
            .unwrap_err();
        assert!(matches!(error.refusal(), Some(Refusal::TooFarAhead { .. })));
        assert!(error
            .to_string()
            .starts_with("response refused: remote timestamp"));
        assert!(hlc.last() < ahead.timestamp);
        let passing = HlcClientLayer::new(hlc.clone()).on_too_far_ahead(Policy::Pass);
        let service = tower::Layer::layer(&passing, answering(value));
        let response = service.oneshot(Request::new(())).await.unwrap();
        assert!(response
            .extensions()
            .get::<crate::extension::PeerTimestamp>()
            .is_none());
        assert!(hlc.last() < ahead.timestamp);
    }
}
