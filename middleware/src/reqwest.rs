//! reqwest: [`HlcMiddleware`] for `reqwest_middleware::ClientBuilder::with`.
//!
//! It does what [`HlcClient`](crate::HlcClient) does: stamps each request, merges each
//! response's header, and puts [`PeerTimestamp`](crate::PeerTimestamp) and
//! [`MergedTimestamp`](crate::MergedTimestamp) into the response's extensions. A refused
//! response becomes `reqwest_middleware::Error::Middleware` wrapping a [`Refusal`], and its
//! stamp is never merged: the clock keeps the request's own send stamp, nothing of the
//! peer's. With a [health board](HlcClientLayer::health), a request is not sent
//! while the local clock is unhealthy: the error wraps
//! [`Refusal::ClockUntrusted`].
//!
//! ```
//! use std::sync::Arc;
//! use hlc_middleware::{reqwest::HlcMiddleware, HlcClientLayer, Policy, Refusal};
//!
//! let hlc = Arc::new(hlc_core::Hlc::new());
//! // Configure it as the client layer is configured.
//! let layer = HlcClientLayer::new(hlc).on_missing(Policy::Refuse);
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(HlcMiddleware::from_layer(&layer))
//!     .build();
//! # let _ = client;
//! // Telling a refusal apart from other failures:
//! fn refusal(error: &reqwest_middleware::Error) -> Option<&Refusal> {
//!     match error {
//!         reqwest_middleware::Error::Middleware(error) => error.downcast_ref(),
//!         _ => None,
//!     }
//! }
//! # let _ = refusal;
//! ```

use std::fmt;
use std::sync::Arc;

use hlc_core::{Hlc, PhysicalClock, SystemClock};
use http::Extensions;
use reqwest_middleware::{Error, Middleware, Next};

use crate::client::HlcClientLayer;
use crate::exchange::Exchange;
use crate::refusal::Refusal;

/// Stamps requests and merges responses for a `reqwest_middleware` client.
pub struct HlcMiddleware<C = SystemClock> {
    exchange: Arc<Exchange<C>>,
}

impl<C: PhysicalClock> HlcMiddleware<C> {
    /// The middleware with the defaults of [`HlcClientLayer::new`].
    pub fn new(hlc: Arc<Hlc<C>>) -> Self {
        Self::from_layer(&HlcClientLayer::new(hlc))
    }

    /// The middleware with the clock, policies and observer of a configured client layer.
    pub fn from_layer(layer: &HlcClientLayer<C>) -> Self {
        Self {
            exchange: layer.exchange(),
        }
    }
}

#[async_trait::async_trait]
impl<C: PhysicalClock + 'static> Middleware for HlcMiddleware<C> {
    async fn handle(
        &self,
        mut request: ::reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<::reqwest::Response> {
        if let Err(reason) = self.exchange.check_health() {
            return Err(Error::middleware(Refusal::ClockUntrusted(reason)));
        }
        self.exchange.stamp(request.headers_mut());
        let mut response = next.run(request, extensions).await?;
        let received = self
            .exchange
            .receive(response.headers())
            .map_err(Error::middleware)?;
        received.insert_into(response.extensions_mut());
        Ok(response)
    }
}

impl<C> Clone for HlcMiddleware<C> {
    fn clone(&self) -> Self {
        Self {
            exchange: Arc::clone(&self.exchange),
        }
    }
}

impl<C> fmt::Debug for HlcMiddleware<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HlcMiddleware")
            .field("exchange", &self.exchange)
            .finish()
    }
}
