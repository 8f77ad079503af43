//! [`HlcClientLayer`] and the configuration it shares with every service it builds.

use std::fmt;
use std::sync::Arc;

use hlc_core::health::HealthBoard;
use hlc_core::{Hlc, PhysicalClock, SystemClock};
use tower::Layer;

use super::HlcClient;
use crate::exchange::Exchange;
use crate::observer::{LayerObserver, Side};
use crate::policy::{HealthMode, Policy, UnsignedPolicy};
use crate::signature::SigningKeys;

/// Applies [`HlcClient`]: stamps each request, merges each response's `hlc` header. See the
/// [module docs](crate::client).
pub struct HlcClientLayer<C = SystemClock> {
    exchange: Arc<Exchange<C>>,
}

impl<C: PhysicalClock> HlcClientLayer<C> {
    /// A layer on `hlc` with the defaults: a response without a header passes, a malformed
    /// one or one further ahead than the max offset becomes a
    /// [`ClientError::Refused`](crate::ClientError::Refused) and is not merged (the clock
    /// keeps the request's own send stamp, nothing of the peer's).
    pub fn new(hlc: Arc<Hlc<C>>) -> Self {
        Self {
            exchange: Arc::new(Exchange::new(hlc, Side::Client)),
        }
    }

    /// What to do with responses that carry no `hlc` header (default [`Policy::Pass`]).
    pub fn on_missing(mut self, policy: Policy) -> Self {
        Arc::make_mut(&mut self.exchange).on_missing = policy;
        self
    }

    /// What to do with malformed or duplicated `hlc` headers (default [`Policy::Refuse`]).
    pub fn on_malformed(mut self, policy: Policy) -> Self {
        Arc::make_mut(&mut self.exchange).on_malformed = policy;
        self
    }

    /// What to do with a response stamped further ahead than the max offset (default
    /// [`Policy::Refuse`]). [`Policy::Pass`] hands the response over unmerged.
    pub fn on_too_far_ahead(mut self, policy: Policy) -> Self {
        Arc::make_mut(&mut self.exchange).on_too_far_ahead = policy;
        self
    }

    /// Signs every request's stamp with the first of `keys`, and merges a response's stamp
    /// only when its `hlc-signature` verifies under one of them; other stamps go to the
    /// [`unsigned`](Self::unsigned) policy. See [`signature`](crate::signature).
    pub fn signing_keys(mut self, keys: SigningKeys) -> Self {
        Arc::make_mut(&mut self.exchange).signing_keys = Some(keys);
        self
    }

    /// What to do, once [`signing_keys`](Self::signing_keys) are set, with a response whose
    /// stamp is unsigned or fails verification (default [`UnsignedPolicy::Ignore`]: handed
    /// over unmerged; [`UnsignedPolicy::Refuse`]: a
    /// [`ClientError::Refused`](crate::ClientError::Refused) saying why).
    pub fn unsigned(mut self, policy: UnsignedPolicy) -> Self {
        Arc::make_mut(&mut self.exchange).on_unsigned = policy;
        self
    }

    /// Reads the local clock's health from `board` before each request (one atomic load):
    /// while it is unhealthy, nothing is sent and the call returns
    /// [`ClientError::ClockUntrusted`](crate::ClientError::ClockUntrusted) naming the reason;
    /// see [`health_mode`](Self::health_mode) and [clock health](crate#clock-health).
    pub fn health(mut self, board: HealthBoard) -> Self {
        Arc::make_mut(&mut self.exchange).health = Some(board);
        self
    }

    /// What an unhealthy clock does once [`health`](Self::health) is set (default
    /// [`HealthMode::Enforce`]; [`HealthMode::ObserveOnly`] sends and tells the observer).
    pub fn health_mode(mut self, mode: HealthMode) -> Self {
        Arc::make_mut(&mut self.exchange).health_mode = mode;
        self
    }

    /// Reports stamps, merges and refusals to `observer`.
    pub fn observer(mut self, observer: Arc<dyn LayerObserver>) -> Self {
        Arc::make_mut(&mut self.exchange).observer = Some(observer);
        self
    }

    /// The clock the layer stamps from and merges into.
    pub fn hlc(&self) -> &Arc<Hlc<C>> {
        &self.exchange.hlc
    }

    /// The configuration, shared with integrations that are not tower services.
    #[cfg_attr(not(any(feature = "reqwest", feature = "nats")), allow(dead_code))]
    pub(crate) fn exchange(&self) -> Arc<Exchange<C>> {
        Arc::clone(&self.exchange)
    }
}

impl<S, C: PhysicalClock> Layer<S> for HlcClientLayer<C> {
    type Service = HlcClient<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        HlcClient::from_exchange(inner, Arc::clone(&self.exchange))
    }
}

impl<C> Clone for HlcClientLayer<C> {
    fn clone(&self) -> Self {
        Self {
            exchange: Arc::clone(&self.exchange),
        }
    }
}

impl<C> fmt::Debug for HlcClientLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HlcClientLayer")
            .field("exchange", &self.exchange)
            .finish()
    }
}
