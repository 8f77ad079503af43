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
//! cargo run -p ntp-sync -- serve --listen 127.0.0.1:11123 &
//! cargo run -p hlc-examples --example hlc_node -- --listen 127.0.0.1:8081 --node-id 2 \
//!     --clock-offset 2000 --peer http://127.0.0.1:8080 --ntp 127.0.0.1:11123
//! ```
//!
//! Ctrl-C stops it after the requests in flight are answered.

use std::time::Duration;

use clap::Parser;
use hlc_examples::node::{Args, Node};

/// How long to wait for a majority of the NTP servers before giving up.
const SYNC_LIMIT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let node = Node::new(args.config())?;
    if let Some(ntp) = node.ntp() {
        eprintln!(
            "hlc_node: synchronising with {:?}",
            node.config().ntp_servers
        );
        node.wait_synced(SYNC_LIMIT).await?;
        eprintln!("hlc_node: true time is in {:?}", ntp.now_interval());
    }
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let config = node.config();
    eprintln!(
        "hlc_node {} on http://{} (clock offset {} ms, max offset {} ms, hlc layers {})",
        config.node_id,
        listener.local_addr()?,
        config.clock_offset_ms,
        config.max_offset.as_millis(),
        if config.hlc_layers { "on" } else { "off" },
    );
    node.serve(listener, ctrl_c()).await?;
    eprintln!("hlc_node stopped");
    Ok(())
}

/// Completes on Ctrl-C; never, if the signal cannot be watched (stop the process instead).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
