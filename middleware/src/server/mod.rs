//! The server layer: merge each request's `hlc` header, refuse skewed peers, stamp responses.
//!
//! For each request [`HlcServer`]:
//!
//! 1. leaves it alone when the [skip predicate](HlcServerLayer::skip_if) says so;
//! 2. when a [health board](HlcServerLayer::health) says the local clock is unhealthy,
//!    answers `503` (gRPC `UNAVAILABLE`) without reading the stamp, calling the inner
//!    service or stamping the answer (unless [observing only](crate::HealthMode::ObserveOnly));
//! 3. parses the `hlc` header, verifies its signature when
//!    [`signing_keys`](HlcServerLayer::signing_keys) are set, and merges it with
//!    [`Hlc::update`](hlc_core::Hlc::update);
//! 4. refuses the request, *without calling the inner service and without merging*, when the
//!    peer is further ahead than the clock's max offset, when the header is malformed or
//!    duplicated (unless [`on_malformed`](HlcServerLayer::on_malformed) passes it), when it
//!    is missing and [`on_missing`](HlcServerLayer::on_missing) refuses that, or when its
//!    signature does not verify and [`unsigned`](HlcServerLayer::unsigned) refuses that (an
//!    unverified stamp that is let through is not merged either);
//! 5. otherwise puts [`PeerTimestamp`](crate::PeerTimestamp) (when there was a header) and
//!    [`MergedTimestamp`](crate::MergedTimestamp) into the request's extensions and calls the
//!    inner service;
//! 6. stamps the response, refusals (but an untrusted clock's) and error responses alike, with a fresh `now()`, signed
//!    when keys are set.
//!
//! A refusal is an `Ok` response (see [`refusal`](crate::refusal)); the inner service's own
//! errors pass through unchanged and unstamped, since there is no response to stamp. Bodies
//! stream through untouched: any body type, nothing buffered. The stamp on a refusal is a
//! local send event, the one change a refused request makes to the clock.
//!
//! ```
//! use std::{convert::Infallible, sync::Arc};
//! use hlc_core::Hlc;
//! use hlc_middleware::{header::HLC, HlcServerLayer, MergedTimestamp};
//! use http::{Request, Response};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let hlc = Arc::new(Hlc::new());
//! let service = ServiceBuilder::new()
//!     .layer(HlcServerLayer::new(hlc.clone()).skip_path("/health"))
//!     .service_fn(|request: Request<String>| async move {
//!         let merged = request.extensions().get::<MergedTimestamp>().unwrap().0;
//!         Ok::<_, Infallible>(Response::new(merged.to_string()))
//!     });
//! let sent = Hlc::new().now_with_node(); // another node's clock
//! let request = Request::builder().header(HLC, sent.to_string()).body(String::new())?;
//! let response = service.oneshot(request).await?;
//! let answered: hlc_core::NodeTimestamp = response.headers()[HLC].to_str()?.parse()?;
//! assert!(answered.timestamp > sent.timestamp);
//! # Ok(())
//! # }
//! ```

mod config;
mod future;
mod layer;

use std::sync::Arc;
use std::task::{Context, Poll};

use hlc_core::{Hlc, PhysicalClock, SystemClock};
use http::{Request, Response};
use tower::Service;

pub use future::ResponseFuture;
pub use layer::HlcServerLayer;

use crate::body::HlcBody;
use crate::refusal::Refusal;
use config::ServerConfig;

/// Carries HLC timestamps across the server side of a service; built by [`HlcServerLayer`].
pub struct HlcServer<S, C = SystemClock> {
    inner: S,
    config: Arc<ServerConfig<C>>,
}

impl<S, C: PhysicalClock> HlcServer<S, C> {
    /// Wraps `inner` with the default settings of [`HlcServerLayer::new`].
    pub fn new(inner: S, hlc: Arc<Hlc<C>>) -> Self {
        use tower::Layer as _;
        HlcServerLayer::new(hlc).layer(inner)
    }

    pub(crate) fn from_config(inner: S, config: Arc<ServerConfig<C>>) -> Self {
        Self { inner, config }
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

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for HlcServer<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: PhysicalClock,
{
    type Response = Response<HlcBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if self.config.skips(request.uri()) {
            return ResponseFuture::called(self.inner.call(request), None);
        }
        if let Err(reason) = self.config.exchange.check_health() {
            let refusal = Refusal::ClockUntrusted(reason);
            return ResponseFuture::refused(self.config.refuse(refusal, request.headers()));
        }
        match self.config.exchange.receive(request.headers()) {
            Ok(received) => {
                received.insert_into(request.extensions_mut());
                let exchange = Some(Arc::clone(&self.config.exchange));
                ResponseFuture::called(self.inner.call(request), exchange)
            }
            Err(refusal) => ResponseFuture::refused(self.config.refuse(refusal, request.headers())),
        }
    }
}

impl<S: Clone, C> Clone for HlcServer<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

impl<S: std::fmt::Debug, C> std::fmt::Debug for HlcServer<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HlcServer")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extension::{MergedTimestamp, PeerTimestamp};
    use crate::header::HLC;
    use crate::policy::Policy;
    use hlc_core::{ManualClock, NodeId, NodeTimestamp, Timestamp};
    use std::convert::Infallible;
    use tower::ServiceExt;

    const START: u64 = 1_700_000_000_000_000;

    fn hlc() -> Arc<Hlc<ManualClock>> {
        let clock = ManualClock::new(START);
        Arc::new(Hlc::builder().clock(clock).build().unwrap())
    }

    /// Answers with the extensions the layer put into the request.
    async fn echo(request: Request<()>) -> Result<Response<String>, Infallible> {
        let peer = request.extensions().get::<PeerTimestamp>().copied();
        let merged = request.extensions().get::<MergedTimestamp>().copied();
        Ok(Response::new(format!("{peer:?} {merged:?}")))
    }

    fn stamped(stamp: NodeTimestamp) -> Request<()> {
        let mut request = Request::new(());
        request
            .headers_mut()
            .insert(HLC, crate::header::encode(stamp));
        request
    }

    #[tokio::test]
    async fn skipped_paths_are_neither_merged_nor_stamped() {
        let hlc = hlc();
        let layer = HlcServerLayer::new(hlc.clone()).skip_path("/health");
        let service = tower::ServiceBuilder::new().layer(layer).service_fn(echo);
        let far = NodeTimestamp::new(Timestamp::from_physical_micros(START * 2), NodeId::new(9));
        let mut request = stamped(far);
        *request.uri_mut() = "/health".parse().unwrap();
        let before = hlc.last();
        let response = service.oneshot(request).await.unwrap();
        assert!(response.headers().get(HLC).is_none());
        assert!(response.extensions().get::<Refusal>().is_none());
        assert_eq!(hlc.last(), before);
    }

    #[tokio::test]
    async fn requests_without_a_header_get_a_local_receive_stamp() {
        let hlc = hlc();
        let service = HlcServer::new(tower::service_fn(echo), hlc.clone());
        let response = service.oneshot(Request::new(())).await.unwrap();
        let stamp = crate::header::decode(response.headers()).unwrap().unwrap();
        assert_eq!(stamp.node, hlc.node_id());
        assert_eq!(stamp.timestamp, hlc.last());
        let body = response.into_body().into_inner().unwrap();
        assert!(body.starts_with("None Some(MergedTimestamp"), "{body}");
    }

    #[tokio::test]
    async fn a_peer_too_far_ahead_is_served_unmerged_when_the_policy_passes_it() {
        let hlc = hlc();
        let far = NodeTimestamp::new(
            Timestamp::from_physical_micros(START + 600_000),
            NodeId::new(9),
        );
        let refusing = HlcServer::new(tower::service_fn(echo), hlc.clone());
        let refused = refusing.oneshot(stamped(far)).await.unwrap();
        assert!(matches!(
            refused.extensions().get::<Refusal>(),
            Some(Refusal::TooFarAhead { .. })
        ));
        let layer = HlcServerLayer::new(hlc.clone()).on_too_far_ahead(Policy::Pass);
        let passing = tower::ServiceBuilder::new().layer(layer).service_fn(echo);
        let response = passing.oneshot(stamped(far)).await.unwrap();
        assert!(response.extensions().get::<Refusal>().is_none());
        assert!(hlc.last() < far.timestamp, "the far stamp was not merged");
        let body = response.into_body().into_inner().unwrap();
        assert!(body.starts_with("None Some(MergedTimestamp"), "{body}");
    }
}
