//! `hlc_node`: a small axum service that stamps, merges and refuses HLC timestamps.
//!
//! ```text
//! cargo run -p hlc-examples --example hlc_node -- --listen 127.0.0.1:8080 --node-id 1
//! cargo run -p hlc-examples --example hlc_node -- --listen 127.0.0.1:8081 --node-id 2 \
//!     --clock-offset 2000 --peer http://127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/time
//! curl -i -X POST http://127.0.0.1:8081/relay   # refused: node 2 runs 2 s ahead
//! ```
//!
//! With `--ntp HOST:PORT` (repeatable) the node corrects its clock through ntp-sync before
//! serving, so even `--clock-offset 2000` stamps close to true time:
//!
//! ```text
//! cargo run -p ntp-sync --features cli -- serve --listen 127.0.0.1:11123 &
//! cargo run -p hlc-examples --example hlc_node -- --listen 127.0.0.1:8081 --node-id 2 \
//!     --clock-offset 2000 --peer http://127.0.0.1:8080 --ntp 127.0.0.1:11123
//! ```
//!
//! With `--wait-synced SECONDS` as well it listens at once instead, answering `503`
//! (`urn:hlc:clock-untrusted`, `Retry-After`) until ntp-sync says the clock is healthy, and
//! says so when it turns healthy. After SECONDS it stops waiting but keeps answering `503`
//! while the clock is unhealthy: serving from an untrusted clock is what the flag prevents.
//!
//! With `--peer URL` repeated, it pings every peer at `/ping` each `--probe-interval` and
//! fences itself (`503` on `/time`, `/relay` and `/health`) when most of them find its clock
//! far off; `GET /peers` shows what it measured. A five-node cluster on one machine, one of
//! them two seconds ahead:
//!
//! ```text
//! for i in 1 2 3 4 5; do
//!   peers=$(for j in 1 2 3 4 5; do [ $j != $i ] && echo --peer http://127.0.0.1:808$j; done)
//!   offset=$([ $i = 5 ] && echo 2000 || echo 0)
//!   cargo run -p hlc-examples --example hlc_node -- --listen 127.0.0.1:808$i --node-id $i \
//!       --clock-offset $offset $peers &
//! done
//! curl -i http://127.0.0.1:8085/health; curl -s http://127.0.0.1:8081/peers
//! ```
//!
//! `GET /metrics` answers Prometheus metrics in the text format (through `prometheus-client`):
//! stamps, merges and refusals by side and reason, the clock's carries and backward jumps,
//! per-peer offset histograms (µs, `peer` label), the health board's state, and with `--ntp`
//! ntp-sync's offset, radius and status. It answers while the node is fenced:
//!
//! ```text
//! curl -s http://127.0.0.1:8081/metrics | grep -E '^hlc_(refusals|clock_health)'
//! ```
//!
//! `--hmac-key-file PATH` signs every stamp and merges only signed ones; `--unsigned refuse`
//! answers 401 to the others (`ignore`, the default, serves them unmerged).
//!
//! `--listen-stdin` serves on a listening socket passed as standard input instead of binding
//! `--listen` (inetd `wait` style): a supervisor that holds the socket can restart the node
//! on the same port with nobody else able to take it in between.
//!
//! `--upper-bound-file PATH` persists an upper bound on the clock's stamps
//! ([`hlc_core::FileUpperBound`]), so that a restarted node's first stamp exceeds its last
//! before the restart, even with its clock set back. hlc-core refuses to start from a bound
//! further ahead of the clock than max offset + window; so with `--ntp` the node builds its
//! clock after the first sync (with `--wait-synced` too: it then listens only once synced),
//! on the corrected clock, and a node restarted with `--clock-offset -10000` comes back at
//! once. Without `--ntp` such a restart fails, naming the bound, until the clock catches up.
//!
//! `--chaos-admin` is a test hook for the chaos harness (`scripts/chaos`), off by default and
//! never for production: `POST /admin/step?ms=N` steps the node's simulated clock by N ms at
//! run time, beneath the NTP correction, as a real clock step would:
//!
//! ```text
//! curl -s -X POST 'http://127.0.0.1:8081/admin/step?ms=2000'
//! ```
//!
//! Ctrl-C stops it after the requests in flight are answered.

use std::time::Duration;

use std::sync::Arc;

use clap::Parser;
use hlc_examples::node::{Args, Node};

/// How long to wait for a majority of the NTP servers before giving up.
const SYNC_LIMIT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let config = args.config();
    let sync_limit = config.wait_synced.unwrap_or(SYNC_LIMIT);
    let node = Node::start(config, sync_limit).await?;
    if let Some(limit) = node.config().wait_synced {
        tokio::spawn(log_when_healthy(Arc::clone(&node), limit));
    } else if let Some(ntp) = node.ntp() {
        eprintln!(
            "hlc_node: synchronising with {:?}",
            node.config().ntp_servers
        );
        node.wait_synced(SYNC_LIMIT).await?;
        eprintln!("hlc_node: true time is in {:?}", ntp.now_interval());
    }
    let listener = if args.listen_stdin {
        inherited_listener()?
    } else {
        tokio::net::TcpListener::bind(args.listen).await?
    };
    let config = node.config();
    eprintln!(
        "hlc_node {} on http://{} (clock offset {} ms, max offset {} ms, hlc layers {})",
        config.node_id,
        listener.local_addr()?,
        config.clock_offset_ms,
        config.max_offset.as_millis(),
        if config.hlc_layers { "on" } else { "off" },
    );
    if !config.peers.is_empty() {
        eprintln!(
            "hlc_node: pinging {} peers every {:?}",
            config.peers.len(),
            config.probe_interval
        );
    }
    node.serve(listener, ctrl_c()).await?;
    eprintln!("hlc_node stopped");
    Ok(())
}

/// The listening socket on standard input. Duplicated, so that the process's fd 0 stays as
/// it was; a standard input that is not a listening TCP socket fails at the first accept.
fn inherited_listener() -> std::io::Result<tokio::net::TcpListener> {
    use std::os::fd::AsFd;
    let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
    let listener = std::net::TcpListener::from(fd);
    listener.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(listener)
}

/// Says when the clock turns healthy, or that it gave up waiting (the node keeps answering
/// 503 while the clock is unhealthy, and serves once it is).
async fn log_when_healthy(node: Arc<Node>, limit: Duration) {
    eprintln!("hlc_node: answering 503 until the clock is healthy (waiting up to {limit:?})");
    match node.wait_healthy(limit).await {
        Ok(()) => eprintln!("hlc_node: clock healthy, serving"),
        Err(error) => eprintln!("hlc_node: {error}; still answering 503 while it is"),
    }
}

/// Completes on Ctrl-C; never, if the signal cannot be watched (stop the process instead).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
