//! `hlc_node`: a small axum service carrying HLC timestamps, for users and black-box checks.
//!
//! Routes: `GET /time` answers `{"timestamp": "<hlc header text form>", "node_id": "<hex>"}`;
//! `GET /health` answers `ok` and is skipped by the server layer; `POST /relay` calls the
//! peer's `/time` through the client layer and answers both timestamps. With the layers on
//! (the default), every request is merged and refused as `hlc-middleware` does.
//!
//! With NTP servers configured, the node measures its (possibly skewed) clock against them
//! through `ntp-sync` and stamps with the corrected clock, as a production node would. With
//! [`NodeConfig::wait_synced`] as well, ntp-sync reports the clock's health into a
//! [`HealthBoard`] that the server layer reads: the node serves at once, answering `503`
//! (`urn:hlc:clock-untrusted`) for as long as the clock is unhealthy.

mod cli;
mod clock;
mod relay;
mod routes;
mod running;
mod time_sync;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hlc_core::health::HealthBoard;
use hlc_core::{Hlc, NodeId};
use hlc_middleware::startup::{wait_healthy, StillUnhealthy};
use hlc_middleware::HlcServerLayer;
use http::Uri;
use ntp_sync::NtpClient;
use tokio::net::TcpListener;

pub use cli::Args;
pub use clock::{NodeClock, OffsetClock};
pub use routes::{RelayAnswer, TimeAnswer};
pub use running::RunningNode;

/// What a node is: its identity, its clock's skew and bound, its peer, and whether the HLC
/// layers are on.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The node id stamped into every timestamp.
    pub node_id: NodeId,
    /// The max offset of its clock.
    pub max_offset: Duration,
    /// Simulated skew of its physical clock, in milliseconds.
    pub clock_offset_ms: i64,
    /// Base URL of the peer called on `POST /relay`.
    pub peer: Option<Uri>,
    /// Whether the server and client layers are on.
    pub hlc_layers: bool,
    /// NTP servers (`host:port`) to correct the clock against; none: stamp with the skewed
    /// clock as it is.
    pub ntp_servers: Vec<String>,
    /// With NTP servers: serve at once behind a health board fed by ntp-sync (503 while the
    /// clock is unhealthy), and give [`Node::wait_healthy`] this long.
    pub wait_synced: Option<Duration>,
}

/// A node's shared state: its clock and its way to the peer.
#[derive(Debug)]
pub struct Node {
    hlc: Arc<Hlc<NodeClock>>,
    config: NodeConfig,
    peer: relay::PeerClient,
    ntp: Option<NtpClient>,
    health: Option<HealthBoard>,
}

impl Node {
    /// Builds the clock (on NTP when servers are configured) and the peer client. Call
    /// [`wait_synced`](Self::wait_synced) before serving a node that uses NTP.
    ///
    /// # Errors
    /// When the NTP client cannot start (bad settings, or no tokio runtime).
    pub fn new(config: NodeConfig) -> io::Result<Arc<Self>> {
        let skewed = OffsetClock::from_millis(config.clock_offset_ms);
        let (clock, mut ntp) = time_sync::node_clock(skewed, &config)?;
        let health = match (config.wait_synced, ntp.as_mut()) {
            (Some(_), Some(ntp)) => Some(time_sync::health_board(ntp)),
            _ => None,
        };
        let hlc = Hlc::builder()
            .clock(clock)
            .node_id(config.node_id)
            .max_offset(config.max_offset)
            .build()
            .map_err(io::Error::other)?;
        let hlc = Arc::new(hlc);
        let peer = relay::PeerClient::new(&hlc, config.hlc_layers);
        Ok(Arc::new(Self {
            hlc,
            config,
            peer,
            ntp,
            health,
        }))
    }

    /// The node's clock.
    pub fn hlc(&self) -> &Arc<Hlc<NodeClock>> {
        &self.hlc
    }

    /// The NTP client correcting the clock, when servers are configured.
    pub fn ntp(&self) -> Option<&NtpClient> {
        self.ntp.as_ref()
    }

    /// Waits until the NTP client is synchronised (at once without NTP).
    ///
    /// # Errors
    /// [`io::ErrorKind::TimedOut`] when no majority of the servers agreed within `limit`.
    pub async fn wait_synced(&self, limit: Duration) -> io::Result<()> {
        match &self.ntp {
            Some(ntp) => time_sync::wait_synced(ntp, limit).await,
            None => Ok(()),
        }
    }

    /// The board the server layer reads, when the node serves before it is synchronised
    /// ([`NodeConfig::wait_synced`] with NTP servers).
    pub fn health(&self) -> Option<&HealthBoard> {
        self.health.as_ref()
    }

    /// Waits until the clock is healthy, at most `limit` (at once without a health board).
    /// Giving up changes nothing: the node still answers `503` while the clock is unhealthy,
    /// and serves again once it is.
    ///
    /// # Errors
    /// [`StillUnhealthy`], naming the last reason, after `limit`.
    pub async fn wait_healthy(&self, limit: Duration) -> Result<(), StillUnhealthy> {
        match &self.health {
            Some(board) => wait_healthy(board, limit, tokio::time::sleep).await,
            None => Ok(()),
        }
    }

    /// The node's configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The routes, behind the server layer when the layers are on.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        let routes = routes::routes(Arc::clone(self));
        if self.config.hlc_layers {
            let mut layer = HlcServerLayer::new(Arc::clone(&self.hlc)).skip_path("/health");
            if let Some(board) = &self.health {
                layer = layer.health(board.clone());
            }
            routes.layer(layer)
        } else {
            routes
        }
    }

    /// Serves the node on `listener` until `shutdown` completes, then finishes the requests
    /// in flight.
    ///
    /// # Errors
    /// When accepting connections fails.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}
