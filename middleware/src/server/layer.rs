//! [`HlcServerLayer`] and the configuration it shares with every service it builds.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use hlc_core::{Hlc, PhysicalClock, SystemClock};
use http::{HeaderMap, Response, Uri};
use tower::Layer;

use super::HlcServer;
use crate::exchange::Exchange;
use crate::{LayerObserver, Policy, ProblemResponse, Refusal, RefusalResponse, Side};

/// Applies [`HlcServer`]: merges each request's `hlc` header, refuses skewed peers, stamps
/// every response. See the [module docs](crate::server).
pub struct HlcServerLayer<C = SystemClock> {
    config: Arc<ServerConfig<C>>,
}

type SkipFn = dyn Fn(&Uri) -> bool + Send + Sync;

/// Shared by the layer, its services and their futures; cloned only while configuring.
pub(crate) struct ServerConfig<C> {
    pub(crate) exchange: Exchange<C>,
    skip: Option<Arc<SkipFn>>,
    responder: Arc<dyn RefusalResponse>,
}

impl<C: PhysicalClock> HlcServerLayer<C> {
    /// A layer on `hlc` with the defaults: requests without a header pass, malformed headers
    /// are refused with 400, peers beyond the clock's max offset are refused with
    /// [`ProblemResponse`], no path is skipped.
    pub fn new(hlc: Arc<Hlc<C>>) -> Self {
        Self {
            config: Arc::new(ServerConfig {
                exchange: Exchange::new(hlc, Side::Server),
                skip: None,
                responder: Arc::new(ProblemResponse::new()),
            }),
        }
    }

    /// What to do with requests that carry no `hlc` header (default [`Policy::Pass`]).
    pub fn on_missing(mut self, policy: Policy) -> Self {
        self.config_mut().exchange.on_missing = policy;
        self
    }

    /// What to do with malformed or duplicated `hlc` headers (default [`Policy::Refuse`]).
    pub fn on_malformed(mut self, policy: Policy) -> Self {
        self.config_mut().exchange.on_malformed = policy;
        self
    }

    /// Leaves requests for which `skip` returns true alone: no merge, no stamp, no
    /// extensions. Meant for health checks and the like.
    pub fn skip_if<F>(mut self, skip: F) -> Self
    where
        F: Fn(&Uri) -> bool + Send + Sync + 'static,
    {
        self.config_mut().skip = Some(Arc::new(skip));
        self
    }

    /// Skips requests whose path is exactly `path` (see [`skip_if`](Self::skip_if)).
    pub fn skip_path(self, path: &'static str) -> Self {
        self.skip_if(move |uri| uri.path() == path)
    }

    /// The response to refused requests (default [`ProblemResponse`]).
    pub fn refusal_response(mut self, responder: impl RefusalResponse) -> Self {
        self.config_mut().responder = Arc::new(responder);
        self
    }

    /// Reports merges, refusals and stamps to `observer`.
    pub fn observer(mut self, observer: Arc<dyn LayerObserver>) -> Self {
        self.config_mut().exchange.observer = Some(observer);
        self
    }

    /// The clock the layer merges into and stamps from.
    pub fn hlc(&self) -> &Arc<Hlc<C>> {
        &self.config.exchange.hlc
    }

    fn config_mut(&mut self) -> &mut ServerConfig<C> {
        Arc::make_mut(&mut self.config)
    }
}

impl<C: PhysicalClock> ServerConfig<C> {
    #[inline]
    pub(crate) fn skips(&self, uri: &Uri) -> bool {
        self.skip.as_ref().is_some_and(|skip| skip(uri))
    }

    /// The stamped refusal response, with the refusal in its extensions.
    #[cold]
    pub(crate) fn refuse(&self, refusal: Refusal, request: &HeaderMap) -> Response<Bytes> {
        let mut response = self.responder.respond(&refusal, request);
        self.exchange.stamp(response.headers_mut());
        response.extensions_mut().insert(refusal);
        response
    }
}

impl<S, C: PhysicalClock> Layer<S> for HlcServerLayer<C> {
    type Service = HlcServer<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        HlcServer::from_config(inner, Arc::clone(&self.config))
    }
}

impl<C> Clone for HlcServerLayer<C> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
        }
    }
}

impl<C> Clone for ServerConfig<C> {
    fn clone(&self) -> Self {
        Self {
            exchange: self.exchange.clone(),
            skip: self.skip.clone(),
            responder: Arc::clone(&self.responder),
        }
    }
}

impl<C> fmt::Debug for HlcServerLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

impl<C> fmt::Debug for ServerConfig<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HlcServerLayer")
            .field("exchange", &self.exchange)
            .field("skip", &self.skip.is_some())
            .finish_non_exhaustive()
    }
}
