//! `hlc_node`: a small axum service carrying HLC timestamps, for users and black-box checks.
//!
//! Routes: `GET /time` answers `{"timestamp": "<hlc header text form>", "node_id": "<hex>"}`;
//! `POST /relay` calls the first peer's `/time` through the client layer and answers both
//! timestamps; `GET /ping` answers this node's physical clock
//! ([`hlc_middleware::ping::PingService`]); `GET /peers` answers what the peer monitor
//! measured ([`PeersAnswer`]); `GET /health` answers `200 ok`, or `503` with problem details
//! naming why the clock is untrusted (fenced, unsynchronised, radius too large);
//! `GET /metrics` answers Prometheus metrics in the text format (below). With the layers on
//! (the default), every request but `/health`, `/peers`, `/metrics` and `/ping` is merged
//! and refused as `hlc-middleware` does, and refused with `503` while the clock is unhealthy.
//!
//! `/metrics` is `prometheus-client`'s encoding of a registry holding what
//! [`hlc_middleware::prometheus`] offers (stamps, merges and refusals by side and reason from
//! both layers, the clock's carries and backward jumps, a histogram per peer of the offsets
//! its pings measured, in µs, labelled with the peer's node id, and the health board's state
//! when the node has one), and, with NTP servers, ntp-sync's estimate from its
//! [`Snapshot`](ntp_sync::Snapshot): `ntp_offset_seconds`, `ntp_radius_seconds`,
//! `ntp_status{status}`, `ntp_polls_total` and `ntp_disruptions_total`.
//!
//! With peers ([`NodeConfig::peers`]), the node pings each at `/ping` every
//! [`NodeConfig::probe_interval`] and feeds a [`PeerMonitor`](hlc_core::peers::PeerMonitor)
//! that reports into the node's [`HealthBoard`]: when most of its peers find its clock far
//! off, the node fences itself (`503` on `/time`, `/relay` and `/health`) until enough
//! consecutive rounds agree again. `/ping` keeps answering while fenced, so that it can.
//!
//! With a key file ([`NodeConfig::hmac_key_file`]) both layers sign every stamp and merge
//! only stamps that verify; [`NodeConfig::unsigned`] says what the others get.
//!
//! With NTP servers configured, the node measures its (possibly skewed) clock against them
//! through `ntp-sync` and stamps with the corrected clock, as a production node would. With
//! [`NodeConfig::wait_synced`] as well, ntp-sync reports the clock's health into a
//! [`HealthBoard`] that the server layer reads: the node serves at once, answering `503`
//! (`urn:hlc:clock-untrusted`) for as long as the clock is unhealthy.
//!
//! With an upper bound file ([`NodeConfig::upper_bound_file`]) the clock persists an upper
//! bound on its stamps ([`hlc_core::FileUpperBound`], a window of max offset /
//! [`UPPER_BOUND_WINDOW_SHARE`]) and a restarted node starts above every stamp it issued
//! before. A node restarted with its clock set back finds the bound ahead of its clock by as
//! much, and hlc-core refuses to build from a bound further ahead than max offset + window
//! ([`HlcBuilder::max_stored_lead`](hlc_core::HlcBuilder::max_stored_lead)), because its stamps
//! would lead its clock as far. With NTP servers the node therefore builds its clock only
//! after the first synchronised estimate ([`Node::start`]): the corrected clock then reads
//! true time again, the bound is no further ahead than a healthy node leaves it, and the
//! first stamp after the restart still exceeds the last before it. Without NTP servers such
//! a restart fails, naming the bound and the clock, until the clock has caught up: raising
//! the limit would make every stamp lead the clock by the step, and peers refuse those.
//!
//! With [`NodeConfig::chaos_admin`] (a test hook, off by default) `POST /admin/step?ms=N`
//! steps the node's simulated clock by N ms at run time, beneath ntp-sync's correction, as a
//! real clock step would be ([`ClockStep`]).

mod admin;
mod cli;
mod clock;
mod health;
mod metrics;
mod peers;
mod relay;
mod routes;
mod running;
mod time_sync;

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hlc_core::health::HealthBoard;
use hlc_core::{FileUpperBound, Hlc, NodeId};
use hlc_middleware::ping::PingService;
use hlc_middleware::startup::{wait_healthy, StillUnhealthy};
use hlc_middleware::{HlcServerLayer, SigningKeys, UnsignedPolicy};
use http::Uri;
use ntp_sync::NtpClient;
use tokio::net::TcpListener;

pub use cli::{Args, UnsignedArg};
pub use clock::{ClockStep, NodeClock, OffsetClock, SteppedClock};
pub use peers::{PeerEntry, PeersAnswer, PING_PATH};
pub use routes::{RelayAnswer, TimeAnswer};
pub use running::RunningNode;

/// How often a node pings its peers unless told otherwise: once a second, so that a wrong
/// clock is fenced within a few seconds while the pings cost nothing worth measuring.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// The persistence window is max offset divided by this: a tenth, as hlc-core's
/// [`persist_upper_bound`](hlc_core::HlcBuilder::persist_upper_bound) advises, so that
/// stamps leading the clock by up to a window after a restart are never refused by peers,
/// and the file is rewritten at most once per window of stamping.
pub const UPPER_BOUND_WINDOW_SHARE: u32 = 10;

/// What a node is: its identity, its clock's skew and bound, its peers, and whether the HLC
/// layers are on.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The node id stamped into every timestamp.
    pub node_id: NodeId,
    /// The max offset of its clock.
    pub max_offset: Duration,
    /// Simulated skew of its physical clock, in milliseconds.
    pub clock_offset_ms: i64,
    /// Base URLs of the peers: each is pinged at [`PING_PATH`]; `POST /relay` calls the
    /// first.
    pub peers: Vec<Uri>,
    /// How often to ping the peers ([`DEFAULT_PROBE_INTERVAL`] from the command line).
    pub probe_interval: Duration,
    /// A key file for signed stamps ([`SigningKeys::load`]); none: stamps are unsigned.
    pub hmac_key_file: Option<PathBuf>,
    /// With a key file, what unsigned or badly signed stamps get, on both layers.
    pub unsigned: UnsignedPolicy,
    /// Whether the server and client layers are on.
    pub hlc_layers: bool,
    /// NTP servers (`host:port`) to correct the clock against; none: stamp with the skewed
    /// clock as it is.
    pub ntp_servers: Vec<String>,
    /// With NTP servers: serve at once behind a health board fed by ntp-sync (503 while the
    /// clock is unhealthy), and give [`Node::wait_healthy`] this long.
    pub wait_synced: Option<Duration>,
    /// A file to persist an upper bound on the clock's stamps in, so that they keep
    /// increasing across restarts (see the module docs); none: nothing persisted.
    pub upper_bound_file: Option<PathBuf>,
    /// A test hook: serve `POST /admin/step?ms=N`, which steps the simulated clock at run
    /// time. Never on in production: anyone who can reach the node could move its clock.
    pub chaos_admin: bool,
}

impl NodeConfig {
    /// A node with the command line's defaults: the default max offset, no skew, no peers,
    /// unsigned stamps, the layers on, no NTP, nothing persisted, no test hooks. Set the
    /// rest with struct update syntax: `NodeConfig { clock_offset_ms: 2_000, ..NodeConfig::new(id) }`.
    pub fn new(node_id: NodeId) -> Self {
        Self {
            node_id,
            max_offset: hlc_core::DEFAULT_MAX_OFFSET,
            clock_offset_ms: 0,
            peers: Vec::new(),
            probe_interval: DEFAULT_PROBE_INTERVAL,
            hmac_key_file: None,
            unsigned: UnsignedPolicy::Ignore,
            hlc_layers: true,
            ntp_servers: Vec::new(),
            wait_synced: None,
            upper_bound_file: None,
            chaos_admin: false,
        }
    }
}

impl Parts {
    fn new(config: NodeConfig) -> io::Result<Self> {
        let step = ClockStep::default();
        let skewed = OffsetClock::from_millis(config.clock_offset_ms);
        let (clock, mut ntp) = time_sync::node_clock(skewed, step.clone(), &config)?;
        let mut health = match (config.wait_synced, ntp.as_mut()) {
            (Some(_), Some(ntp)) => Some(time_sync::health_board(ntp)),
            _ => None,
        };
        let peers = (!config.peers.is_empty()).then(|| {
            let board = health.get_or_insert_with(HealthBoard::new);
            peers::Peers::new(
                &config.peers,
                Arc::clone(&clock),
                config.max_offset,
                config.probe_interval,
                board,
            )
        });
        let keys = match &config.hmac_key_file {
            Some(path) => Some(SigningKeys::load(path).map_err(io::Error::other)?),
            None => None,
        };
        Ok(Self {
            clock,
            config,
            ntp,
            health,
            peers,
            keys,
            step,
        })
    }

    /// Builds the clock, loading and storing the upper bound when there is a file for it.
    fn build(self) -> io::Result<Arc<Node>> {
        let config = self.config;
        let mut builder = Hlc::builder()
            .clock(Arc::clone(&self.clock))
            .node_id(config.node_id)
            .max_offset(config.max_offset);
        if let Some(path) = &config.upper_bound_file {
            let window = config.max_offset / UPPER_BOUND_WINDOW_SHARE;
            builder = builder.persist_upper_bound(FileUpperBound::new(path), window);
        }
        let hlc = Arc::new(builder.build().map_err(io::Error::other)?);
        let metrics = metrics::Metrics::new(&hlc, self.health.as_ref(), self.ntp.as_ref());
        let observer = Arc::new(metrics.observer().clone());
        let peer = relay::PeerClient::new(
            &hlc,
            &config,
            self.keys.clone(),
            self.health.clone(),
            observer,
        );
        Ok(Arc::new(Node {
            hlc,
            clock: self.clock,
            config,
            peer,
            ntp: self.ntp,
            health: self.health,
            peers: self.peers,
            keys: self.keys,
            metrics,
            step: self.step,
        }))
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The physical clock is a trait object without `Debug`; the `Hlc` shows its reading.
        f.debug_struct("Node")
            .field("hlc", &self.hlc)
            .field("config", &self.config)
            .field("peer", &self.peer)
            .field("ntp", &self.ntp)
            .field("health", &self.health)
            .field("peers", &self.peers)
            .finish_non_exhaustive()
    }
}

/// A node's shared state: its clock and its way to the peer.
pub struct Node {
    hlc: Arc<Hlc<NodeClock>>,
    clock: NodeClock,
    config: NodeConfig,
    peer: relay::PeerClient,
    ntp: Option<NtpClient>,
    health: Option<HealthBoard>,
    peers: Option<peers::Peers>,
    keys: Option<SigningKeys>,
    metrics: metrics::Metrics,
    step: ClockStep,
}

/// What a node is made of before its [`Hlc`] is built.
struct Parts {
    clock: NodeClock,
    config: NodeConfig,
    ntp: Option<NtpClient>,
    health: Option<HealthBoard>,
    peers: Option<peers::Peers>,
    keys: Option<SigningKeys>,
    step: ClockStep,
}

impl Node {
    /// Builds the clock (on NTP when servers are configured) and the peer client. Call
    /// [`wait_synced`](Self::wait_synced) before serving a node that uses NTP.
    ///
    /// # Errors
    /// When the NTP client cannot start (bad settings, or no tokio runtime), the key file
    /// cannot be read, or the upper bound file cannot be used (see [`Node::start`], which a
    /// node with both NTP servers and an upper bound file needs).
    pub fn new(config: NodeConfig) -> io::Result<Arc<Self>> {
        if config.upper_bound_file.is_some() && !config.ntp_servers.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "with ntp servers, a node persisting its upper bound is built by Node::start",
            ));
        }
        Parts::new(config)?.build()
    }

    /// Builds the node as [`new`](Self::new) does, but with NTP servers and an upper bound
    /// file waits (at most `sync_limit`) for the first synchronised estimate before it builds
    /// the clock: the stored bound is then checked against the corrected clock, not against
    /// the skewed one (see the module docs).
    ///
    /// # Errors
    /// Those of [`new`](Self::new), and [`io::ErrorKind::TimedOut`] when no majority of the
    /// servers agreed within `sync_limit`.
    pub async fn start(config: NodeConfig, sync_limit: Duration) -> io::Result<Arc<Self>> {
        let parts = Parts::new(config)?;
        if parts.config.upper_bound_file.is_some() {
            if let Some(ntp) = &parts.ntp {
                time_sync::wait_synced(ntp, sync_limit).await?;
            }
        }
        parts.build()
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

    /// The board the server layer reads: fed by ntp-sync when the node serves before it is
    /// synchronised ([`NodeConfig::wait_synced`] with NTP servers), and by the peer monitor
    /// when it has peers.
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

    /// The handle that steps the node's simulated clock (what `POST /admin/step` uses).
    pub fn clock_step(&self) -> &ClockStep {
        &self.step
    }

    /// The node's configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// What `GET /peers` answers now (no peers: an empty list, not fenced).
    pub fn peers(&self) -> PeersAnswer {
        self.peers.as_ref().map_or(
            PeersAnswer {
                peers: Vec::new(),
                fenced: false,
            },
            peers::Peers::answer,
        )
    }

    /// Pings the peers every probe interval, forever (at once without peers). [`serve`]
    /// runs it beside the server.
    ///
    /// On NTP, it first waits for the first synchronised estimate: before it, offsets to
    /// peers measure nothing but the skew NTP is about to correct, and reading the corrected
    /// clock that early would make ntp-sync slew the skew away instead of stepping it.
    ///
    /// [`serve`]: Self::serve
    pub async fn probe(&self) {
        let Some(peers) = &self.peers else {
            return;
        };
        if let Some(ntp) = &self.ntp {
            ntp.wait_synced().await;
        }
        peers.run(self.metrics.observer()).await;
    }

    /// The routes, behind the server layer when the layers are on. `/health`, `/peers`,
    /// `/metrics` and `/ping` are skipped by the layer (they carry no stamps): `/health`
    /// reads the board itself, `/peers` and `/metrics` show a fenced node why (a scraper
    /// sends no `hlc` header, and must reach a fenced node most of all), and `/ping` must
    /// answer while the node is fenced so that its peers can see it recover.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        let ping = PingService::new(Arc::clone(&self.clock), self.hlc.node_id());
        let mut routes = routes::routes(Arc::clone(self)).route_service(PING_PATH, ping);
        if self.config.chaos_admin {
            routes = routes.merge(admin::routes(Arc::clone(self)));
        }
        if self.config.hlc_layers {
            let mut layer = HlcServerLayer::new(Arc::clone(&self.hlc))
                .skip_if(|uri| {
                    matches!(uri.path(), "/health" | "/peers" | "/metrics" | PING_PATH)
                        || uri.path() == admin::STEP_PATH
                })
                .unsigned(self.config.unsigned)
                .observer(Arc::new(self.metrics.observer().clone()));
            if let Some(keys) = &self.keys {
                layer = layer.signing_keys(keys.clone());
            }
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
        let prober = tokio::spawn({
            let node = Arc::clone(&self);
            async move { node.probe().await }
        });
        let served = axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await;
        prober.abort();
        served
    }
}
