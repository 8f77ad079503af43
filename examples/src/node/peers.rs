//! The node's peer monitor: pings every `--peer` at `/ping`, fences the node through its
//! health board, and answers `GET /peers`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hlc_core::health::HealthBoard;
use hlc_core::peers::{MonitorConfig, PeerMonitor, PeerVerdict};
use hlc_core::NodeId;
use hlc_middleware::ping::Prober;
use hlc_middleware::prometheus::PrometheusObserver;
use http::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

use super::NodeClock;

/// The route every node answers pings at, and pings its peers at.
pub const PING_PATH: &str = "/ping";

/// The answer of `GET /peers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeersAnswer {
    /// Every peer that has answered a ping, in node id order.
    pub peers: Vec<PeerEntry>,
    /// Whether this node has fenced itself.
    pub fenced: bool,
}

/// One peer in `GET /peers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerEntry {
    /// The peer's node id, 16 lowercase hex digits.
    pub node_id: String,
    /// The peer's base URL as given with `--peer` (without a trailing slash).
    pub url: String,
    /// The peer's clock minus this node's, in µs.
    pub offset_us: i64,
    /// How far the true offset may be from `offset_us`, in µs.
    pub uncertainty_us: u64,
    /// The last ping's round trip, in µs.
    pub rtt_us: u64,
    /// How long ago the peer last answered, in ms.
    pub last_seen_ms_ago: u64,
    /// `ok`, `far` or `stale`.
    pub verdict: PeerVerdict,
}

/// The monitor, and which `--peer` URL each node id answered from.
#[derive(Debug)]
pub(super) struct Peers {
    monitor: Arc<Mutex<PeerMonitor>>,
    urls: Arc<Mutex<BTreeMap<NodeId, String>>>,
    prober: Prober<Client<hyper_util::client::legacy::connect::HttpConnector, String>, NodeClock>,
    interval: Duration,
}

impl Peers {
    /// A monitor over `urls` reporting into `board`, with the default settings scaled to
    /// `max_offset`.
    pub(super) fn new(
        urls: &[Uri],
        clock: NodeClock,
        max_offset: Duration,
        interval: Duration,
        board: &HealthBoard,
    ) -> Self {
        let config = MonitorConfig::new().with_max_offset(max_offset);
        let monitor = PeerMonitor::new(config).with_reporter(board.reporter("peers"));
        let monitor = Arc::new(Mutex::new(monitor));
        // A plain client, without the HLC layers: a fenced node's client layer sends
        // nothing, and the prober must keep measuring so that the node can recover.
        let client = Client::builder(TokioExecutor::new()).build_http();
        let prober = urls.iter().fold(
            Prober::new(client, clock, Arc::clone(&monitor)),
            |prober, url| {
                // `Uri` prints `http://host:port` as `http://host:port/`; the label is the
                // base URL as the user wrote it, without that slash.
                let base = url.to_string().trim_end_matches('/').to_owned();
                match format!("{base}{PING_PATH}").parse() {
                    Ok(ping) => prober.target(base, ping),
                    Err(_) => prober, // unreachable: a base URL plus a path is a URL
                }
            },
        );
        Self {
            monitor,
            urls: Arc::default(),
            prober,
            interval,
        }
    }

    /// Probes every interval until dropped; logs fencing and recovery to stderr, and records
    /// each ping's offset in `metrics`.
    pub(super) async fn run(&self, metrics: &PrometheusObserver) {
        let urls = Arc::clone(&self.urls);
        self.prober
            .run(self.interval, tokio::time::sleep, move |probed| {
                metrics.record_round(probed);
                let mut urls = urls.lock().unwrap_or_else(PoisonError::into_inner);
                for (label, outcome) in &probed.pings {
                    if let Ok((peer, _)) = outcome {
                        urls.insert(*peer, label.clone());
                    }
                }
                if let Some(change) = probed.round.change {
                    eprintln!(
                        "hlc_node: {change:?}: {} of {} fresh peers far",
                        probed.round.far.len(),
                        probed.round.fresh
                    );
                }
            })
            .await;
    }

    /// What `GET /peers` answers now.
    pub(super) fn answer(&self) -> PeersAnswer {
        let report = self
            .monitor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .report(Instant::now());
        let urls = self.urls.lock().unwrap_or_else(PoisonError::into_inner);
        PeersAnswer {
            fenced: report.fenced,
            peers: report
                .peers
                .iter()
                .map(|peer| PeerEntry {
                    node_id: peer.peer.to_string(),
                    url: urls.get(&peer.peer).cloned().unwrap_or_default(),
                    offset_us: peer.offset_us,
                    uncertainty_us: peer.uncertainty_us,
                    rtt_us: peer.rtt_us,
                    last_seen_ms_ago: peer.last_seen_ms_ago,
                    verdict: peer.verdict,
                })
                .collect(),
        }
    }
}
