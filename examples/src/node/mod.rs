//! `hlc_node`: a small axum service carrying HLC timestamps, for users and black-box checks.
//!
//! Routes: `GET /time` answers `{"timestamp": "<hlc header text form>", "node_id": "<hex>"}`;
//! `GET /health` answers `ok` and is skipped by the server layer; `POST /relay` calls the
//! peer's `/time` through the client layer and answers both timestamps. With the layers on
//! (the default), every request is merged and refused as `hlc-middleware` does.
//!
//! With NTP servers configured, the node measures its (possibly skewed) clock against them
//! through `ntp-sync` and stamps with the corrected clock, as a production node would.

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

use hlc_core::{Hlc, NodeId};
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
}

/// A node's shared state: its clock and its way to the peer.
#[derive(Debug)]
pub struct Node {
    hlc: Arc<Hlc<NodeClock>>,
    config: NodeConfig,
    peer: relay::PeerClient,
    ntp: Option<NtpClient>,
}

impl Node {
    /// Builds the clock (on NTP when servers are configured) and the peer client. Call
    /// [`wait_synced`](Self::wait_synced) before serving a node that uses NTP.
    ///
    /// # Errors
    /// When the NTP client cannot start (bad settings, or no tokio runtime).
    pub fn new(config: NodeConfig) -> io::Result<Arc<Self>> {
        let skewed = OffsetClock::from_millis(config.clock_offset_ms);
        let (clock, ntp) = time_sync::node_clock(skewed, &config)?;
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

    /// The node's configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The routes, behind the server layer when the layers are on.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        let routes = routes::routes(Arc::clone(self));
        if self.config.hlc_layers {
            routes.layer(HlcServerLayer::new(Arc::clone(&self.hlc)).skip_path("/health"))
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
