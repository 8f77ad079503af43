//! The configuration an [`HlcServerLayer`](super::HlcServerLayer) shares with every service it
//! builds: the clock exchange, the skip predicate and the refusal response.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use hlc_core::PhysicalClock;
use http::{HeaderMap, Response, Uri};

use crate::exchange::Exchange;
use crate::refusal::{ProblemResponse, Refusal, RefusalResponse};

pub(super) type SkipFn = dyn Fn(&Uri) -> bool + Send + Sync;

/// Shared by the layer and its services; cloned only while configuring. Responses are
/// stamped through the [`Exchange`] alone, which the response future holds.
pub(crate) struct ServerConfig<C> {
    pub(crate) exchange: Arc<Exchange<C>>,
    pub(super) skip: Option<Arc<SkipFn>>,
    pub(super) responder: Arc<dyn RefusalResponse>,
}

impl<C> ServerConfig<C> {
    pub(super) fn new(exchange: Exchange<C>) -> Self {
        Self {
            exchange: Arc::new(exchange),
            skip: None,
            responder: Arc::new(ProblemResponse::new()),
        }
    }

    /// The exchange, to configure it.
    pub(super) fn exchange_mut(&mut self) -> &mut Exchange<C> {
        Arc::make_mut(&mut self.exchange)
    }
}

impl<C: PhysicalClock> ServerConfig<C> {
    #[inline]
    pub(crate) fn skips(&self, uri: &Uri) -> bool {
        self.skip.as_ref().is_some_and(|skip| skip(uri))
    }

    /// The refusal response, with the refusal in its extensions; stamped, unless the refusal
    /// is that the local clock is untrusted: a stamp from that clock is what it must not
    /// spread (a fenced clock up to max offset ahead would still be merged by its peers).
    #[cold]
    pub(crate) fn refuse(&self, refusal: Refusal, request: &HeaderMap) -> Response<Bytes> {
        let mut response = self.responder.respond(&refusal, request);
        if !matches!(refusal, Refusal::ClockUntrusted(_)) {
            self.exchange.stamp(response.headers_mut());
        }
        response.extensions_mut().insert(refusal);
        response
    }
}

impl<C> Clone for ServerConfig<C> {
    fn clone(&self) -> Self {
        Self {
            exchange: Arc::clone(&self.exchange),
            skip: self.skip.clone(),
            responder: Arc::clone(&self.responder),
        }
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
