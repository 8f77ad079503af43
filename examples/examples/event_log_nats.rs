//! An event log across nodes on NATS JetStream: three nodes with skewed clocks publish
//! causally related events, one subject per node; a reader merges the subjects into one order
//! by wall clock and one by hybrid timestamp, counting the messages that appear received
//! before they were sent, and reporting late events and unusable messages.
//!
//! Run with `cargo run -p hlc-examples --example event_log_nats`. It starts a `nats-server`
//! of its own (Debian package `nats-server`) on loopback, and stops it at the end.

// An example prints its results.
#![allow(clippy::print_stdout)]

use hlc_examples::event_log_nats::{self, server::NatsServer, BoxError};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let server = NatsServer::start()?;
    println!("nats-server with JetStream at {}", server.url());
    let log = event_log_nats::run(server.url()).await?;
    print!("{}", event_log_nats::render(&log));
    Ok(())
}
