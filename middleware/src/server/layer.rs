//! [`HlcServerLayer`]: how a server side is configured.

use std::fmt;
use std::sync::Arc;

use hlc_core::health::HealthBoard;
use hlc_core::{Hlc, PhysicalClock, SystemClock};
use http::Uri;
use tower::Layer;

use super::config::ServerConfig;
use super::HlcServer;
use crate::exchange::Exchange;
use crate::observer::{LayerObserver, Side};
use crate::policy::{HealthMode, Policy, UnsignedPolicy};
use crate::refusal::RefusalResponse;
use crate::signature::SigningKeys;

/// Applies [`HlcServer`]: merges each request's `hlc` header, refuses skewed peers, stamps
/// every response. See the [module docs](crate::server).
pub struct HlcServerLayer<C = SystemClock> {
    config: Arc<ServerConfig<C>>,
}

impl<C: PhysicalClock> HlcServerLayer<C> {
    /// A layer on `hlc` with the defaults: requests without a header pass, malformed headers
    /// are refused with 400, peers beyond the clock's max offset are refused with
    /// [`ProblemResponse`](crate::refusal::ProblemResponse), no path is skipped.
    pub fn new(hlc: Arc<Hlc<C>>) -> Self {
        Self {
            config: Arc::new(ServerConfig::new(Exchange::new(hlc, Side::Server))),
        }
    }

    /// What to do with requests that carry no `hlc` header (default [`Policy::Pass`]).
    pub fn on_missing(mut self, policy: Policy) -> Self {
        self.config_mut().exchange_mut().on_missing = policy;
        self
    }

    /// What to do with malformed or duplicated `hlc` headers (default [`Policy::Refuse`]).
    pub fn on_malformed(mut self, policy: Policy) -> Self {
        self.config_mut().exchange_mut().on_malformed = policy;
        self
    }

    /// What to do with a request stamped further ahead than the max offset (default
    /// [`Policy::Refuse`]). [`Policy::Pass`] serves it unmerged, as if it carried no header:
    /// the peer's stamp never reaches the clock, the request gets a local receive stamp as its
    /// [`MergedTimestamp`](crate::extension::MergedTimestamp) and no
    /// [`PeerTimestamp`](crate::extension::PeerTimestamp).
    pub fn on_too_far_ahead(mut self, policy: Policy) -> Self {
        self.config_mut().exchange_mut().on_too_far_ahead = policy;
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

    /// The response to refused requests (default
    /// [`ProblemResponse`](crate::refusal::ProblemResponse)).
    pub fn refusal_response(mut self, responder: impl RefusalResponse) -> Self {
        self.config_mut().responder = Arc::new(responder);
        self
    }

    /// Signs every response's stamp with the first of `keys`, and merges a request's stamp
    /// only when its `hlc-signature` verifies under one of them; other stamps go to the
    /// [`unsigned`](Self::unsigned) policy. See [`signature`](crate::signature).
    pub fn signing_keys(mut self, keys: SigningKeys) -> Self {
        self.config_mut().exchange_mut().signing_keys = Some(keys);
        self
    }

    /// What to do, once [`signing_keys`](Self::signing_keys) are set, with a request whose
    /// stamp is unsigned or fails verification (default [`UnsignedPolicy::Ignore`]: served,
    /// not merged; [`UnsignedPolicy::Refuse`]: `401`, gRPC `UNAUTHENTICATED`).
    pub fn unsigned(mut self, policy: UnsignedPolicy) -> Self {
        self.config_mut().exchange_mut().on_unsigned = policy;
        self
    }

    /// Reads the local clock's health from `board` before each request (one atomic load):
    /// while it is unhealthy, requests are answered `503` with `Retry-After` and problem
    /// details of type `urn:hlc:clock-untrusted` (gRPC `UNAVAILABLE`), unstamped, without
    /// calling the inner service; see [`health_mode`](Self::health_mode) and
    /// [clock health](crate#clock-health). Skipped paths are not checked.
    pub fn health(mut self, board: HealthBoard) -> Self {
        self.config_mut().exchange_mut().health = Some(board);
        self
    }

    /// What an unhealthy clock does once [`health`](Self::health) is set (default
    /// [`HealthMode::Enforce`]; [`HealthMode::ObserveOnly`] serves and tells the observer).
    pub fn health_mode(mut self, mode: HealthMode) -> Self {
        self.config_mut().exchange_mut().health_mode = mode;
        self
    }

    /// Reports merges, refusals and stamps to `observer`.
    pub fn observer(mut self, observer: Arc<dyn LayerObserver>) -> Self {
        self.config_mut().exchange_mut().observer = Some(observer);
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

impl<C> fmt::Debug for HlcServerLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}
