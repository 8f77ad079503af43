//! Five `hlc_node` processes on loopback, one of them two seconds ahead: the peer monitor
//! fences the wrong one, the others stay healthy and name it, and it serves again once
//! restarted with a correct clock.
//!
//! The test runs the `hlc_node` example binary that cargo builds next to this test
//! (`cargo test -p hlc-examples` builds the examples; with a `--test` filter, build it first
//! with `cargo build -p hlc-examples --example hlc_node`).
//!
//! Ports: the test binds the five listening sockets itself and hands each node its socket as
//! standard input (`--listen-stdin`), keeping its own copy. The ports never change hands, so
//! the rogue restarts on the same port with no window in which anything else could take it,
//! and no port is ever bound, dropped and reused. Every wait is bounded and generous; no
//! assertion depends on how fast the machine is. Run with `--nocapture` to see the
//! transcript.

mod common;

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hlc_core::peers::PeerVerdict;
use hlc_examples::node::PeersAnswer;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// The whole test's bound: generous for a loaded two-core machine.
const TEST_LIMIT: Duration = Duration::from_secs(180);
/// How long any one condition may take to come true.
const WAIT_LIMIT: Duration = Duration::from_secs(60);
/// Each request's bound.
const REQUEST_LIMIT: Duration = Duration::from_secs(5);
/// The nodes' probe interval, in ms: short, to keep the test short.
const PROBE_INTERVAL_MS: u64 = 200;
/// The rogue's skew, in ms: four times the default max offset.
const ROGUE_OFFSET_MS: i64 = 2_000;
const NODES: u64 = 5;
const ROGUE: u64 = 5;

/// A node process, killed when dropped.
struct NodeProcess {
    child: Child,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Cluster {
    listeners: Vec<TcpListener>,
    logs: tempfile::TempDir,
}

impl Cluster {
    fn new() -> Self {
        let listeners = (0..NODES)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind loopback"))
            .collect();
        Self {
            listeners,
            logs: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn address(&self, node: u64) -> SocketAddr {
        self.listeners[index(node)].local_addr().expect("bound")
    }

    fn url(&self, node: u64) -> String {
        format!("http://{}", self.address(node))
    }

    fn log(&self, node: u64, run: u32) -> PathBuf {
        self.logs.path().join(format!("node{node}-run{run}.log"))
    }

    /// Starts `node` on its socket, with every other node as a peer.
    fn start(&self, node: u64, clock_offset_ms: i64, run: u32) -> NodeProcess {
        let socket = self.listeners[index(node)]
            .try_clone()
            .expect("duplicate the listening socket");
        let log = File::create(self.log(node, run)).expect("a log file");
        let mut command = Command::new(common::example_binary("hlc_node"));
        command
            .args(["--listen-stdin", "--node-id", &node.to_string()])
            .args(["--probe-interval", &PROBE_INTERVAL_MS.to_string()])
            .args(["--clock-offset", &clock_offset_ms.to_string()]);
        for peer in (1..=NODES).filter(|&peer| peer != node) {
            command.args(["--peer", &self.url(peer)]);
        }
        let child = command
            .stdin(Stdio::from(OwnedFd::from(socket)))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start hlc_node");
        NodeProcess { child }
    }

    fn read_log(&self, node: u64, run: u32) -> String {
        std::fs::read_to_string(self.log(node, run)).unwrap_or_default()
    }
}

fn index(node: u64) -> usize {
    usize::try_from(node - 1).unwrap()
}

fn hex(node: u64) -> String {
    format!("{node:016x}")
}

/// `GET url`: its status and body, or `None` if it did not answer within the bound.
async fn get(client: &HttpClient, url: String) -> Option<(StatusCode, Bytes)> {
    let request = Request::get(url).body(Empty::new()).ok()?;
    let response = tokio::time::timeout(REQUEST_LIMIT, client.request(request))
        .await
        .ok()?
        .ok()?;
    let status = response.status();
    let body = tokio::time::timeout(REQUEST_LIMIT, response.into_body().collect())
        .await
        .ok()?
        .ok()?;
    Some((status, body.to_bytes()))
}

async fn peers(client: &HttpClient, cluster: &Cluster, node: u64) -> Option<PeersAnswer> {
    let (status, body) = get(client, format!("{}/peers", cluster.url(node))).await?;
    (status == StatusCode::OK).then(|| serde_json::from_slice(&body).ok())?
}

async fn health(client: &HttpClient, cluster: &Cluster, node: u64) -> Option<(StatusCode, String)> {
    let (status, body) = get(client, format!("{}/health", cluster.url(node))).await?;
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Polls `check` until it gives `Some`, every probe interval, at most [`WAIT_LIMIT`].
async fn wait_for<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> (T, Duration) {
    let start = Instant::now();
    loop {
        if let Some(found) = check().await {
            return (found, start.elapsed());
        }
        assert!(
            start.elapsed() < WAIT_LIMIT,
            "{what}: not within {WAIT_LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(PROBE_INTERVAL_MS)).await;
    }
}

/// `node`'s /peers when it lists every other node, `rogue` with `rogue_verdict` and the
/// others `ok`.
async fn sees(
    client: &HttpClient,
    cluster: &Cluster,
    node: u64,
    rogue_verdict: PeerVerdict,
) -> Option<PeersAnswer> {
    let answer = peers(client, cluster, node).await?;
    let expected: Vec<(String, PeerVerdict)> = (1..=NODES)
        .filter(|&peer| peer != node)
        .map(|peer| {
            let verdict = if peer == ROGUE {
                rogue_verdict
            } else {
                PeerVerdict::Ok
            };
            (hex(peer), verdict)
        })
        .collect();
    let seen: Vec<(String, PeerVerdict)> = answer
        .peers
        .iter()
        .map(|peer| (peer.node_id.clone(), peer.verdict))
        .collect();
    (seen == expected).then_some(answer)
}

fn show(answer: &PeersAnswer) -> String {
    let peers: Vec<String> = answer
        .peers
        .iter()
        .map(|p| {
            format!(
                "{} {:?} offset {} us ± {} us (rtt {} us, seen {} ms ago)",
                p.url, p.verdict, p.offset_us, p.uncertainty_us, p.rtt_us, p.last_seen_ms_ago
            )
        })
        .collect();
    format!("fenced {}; {}", answer.fenced, peers.join("; "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_fence_the_one_two_seconds_ahead_and_it_recovers_after_a_restart() {
    tokio::time::timeout(TEST_LIMIT, five_nodes())
        .await
        .unwrap_or_else(|_| panic!("test still running after {TEST_LIMIT:?}"));
}

#[allow(clippy::print_stdout)] // the transcript, seen with --nocapture
async fn five_nodes() {
    let cluster = Cluster::new();
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut processes: Vec<NodeProcess> = (1..=NODES)
        .map(|node| {
            let offset = if node == ROGUE { ROGUE_OFFSET_MS } else { 0 };
            cluster.start(node, offset, 1)
        })
        .collect();
    println!(
        "five hlc_node processes, probe interval {PROBE_INTERVAL_MS} ms; node {ROGUE} at {} (+{ROGUE_OFFSET_MS} ms)",
        cluster.url(ROGUE)
    );

    // The rogue fences itself: 503 on /health (naming the fence) and on /time.
    let ((status, body), took) = wait_for("the rogue fences itself", || async {
        let (status, body) = health(&client, &cluster, ROGUE).await?;
        (status == StatusCode::SERVICE_UNAVAILABLE && body.contains("fenced"))
            .then_some((status, body))
    })
    .await;
    println!(
        "node {ROGUE} fenced within {took:?} of polling (~{} probe intervals): /health {status} {body}",
        took.as_millis() / u128::from(PROBE_INTERVAL_MS)
    );
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["type"], "urn:hlc:clock-untrusted");
    let (time_status, _) = get(&client, format!("{}/time", cluster.url(ROGUE)))
        .await
        .expect("the rogue answers /time");
    assert_eq!(time_status, StatusCode::SERVICE_UNAVAILABLE);
    let rogue_view = peers(&client, &cluster, ROGUE).await.expect("rogue /peers");
    assert!(rogue_view.fenced);
    println!("node {ROGUE} /peers: {}", show(&rogue_view));

    // The other four stay healthy and name the rogue as far.
    for node in (1..=NODES).filter(|&node| node != ROGUE) {
        let (view, _) = wait_for("a healthy node names the rogue far", || {
            sees(&client, &cluster, node, PeerVerdict::Far)
        })
        .await;
        assert!(!view.fenced, "node {node}: {}", show(&view));
        let (status, body) = health(&client, &cluster, node).await.expect("/health");
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, "ok"),
            "node {node}"
        );
        let rogue = view.peers.iter().find(|p| p.node_id == hex(ROGUE)).unwrap();
        assert_eq!(rogue.url, cluster.url(ROGUE));
        println!("node {node} /health 200 ok; /peers: {}", show(&view));
    }

    // Restart the rogue on the same socket with a correct clock. A new process starts with a
    // new, unfenced monitor, so what this shows is that it serves at once, measures every
    // peer ok, and that the others' monitors take it back as ok (the old readings replaced).
    drop(processes.remove(index(ROGUE)));
    let _restarted = cluster.start(ROGUE, 0, 2);
    println!("node {ROGUE} restarted with --clock-offset 0");
    let (view, took) = wait_for("the restarted node sees every peer ok", || {
        sees(&client, &cluster, ROGUE, PeerVerdict::Ok)
    })
    .await;
    let (status, body) = health(&client, &cluster, ROGUE).await.expect("/health");
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    assert!(!view.fenced);
    println!(
        "node {ROGUE} /health 200 ok within {took:?}; /peers: {}",
        show(&view)
    );
    for node in (1..=NODES).filter(|&node| node != ROGUE) {
        let (view, took) = wait_for("the others see the restarted node ok", || {
            sees(&client, &cluster, node, PeerVerdict::Ok)
        })
        .await;
        println!(
            "node {node} sees node {ROGUE} ok within {took:?}: {}",
            show(&view)
        );
    }
    println!(
        "node {ROGUE} log, first run:\n{}node {ROGUE} log, after the restart:\n{}",
        cluster.read_log(ROGUE, 1),
        cluster.read_log(ROGUE, 2)
    );
}
