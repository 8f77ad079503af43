//! The event log of [`event_log`] on NATS JetStream: three nodes with skewed
//! clocks publish their events to one stream, one subject per node, and a reader merges the
//! subjects into one order as they arrive.
//!
//! Each node publishes every event it has (a message sent, a message received) on
//! `events.<node>`, its [`HlcNats`](hlc_middleware::nats::HlcNats) stamping the message's
//! `hlc` header, and its wall-clock reading in the payload ([`cluster`]). The messages between
//! nodes are those events themselves: a node reads its inbox (every subject of the stream),
//! merges the stamp of the event addressed to it, publishes its receipt, and sends on, so
//! each node reacts to the others' events. The reader ([`reader`]) fetches each node's
//! subject in turn and puts the events into one order twice with
//! [`Reorderer`](hlc_core::merge::Reorderer)s ([`merge`]): by wall clock, where a receipt
//! from a node whose clock runs behind can come before its sending, and by hybrid timestamp,
//! where it never does. An event that arrives after the order has passed it is reported as
//! late, beside the order; a message whose stamp is refused is reported with the reason.
//!
//! Run with `cargo run -p hlc-examples --example event_log_nats` (it starts a `nats-server`
//! of its own, from the Debian package of that name).

use std::error::Error;
use std::fmt::Write as _;

use async_nats::jetstream::{self, stream::Config};
use serde::{Deserialize, Serialize};

use crate::event_log::{self, Event, Order};

pub mod cluster;
pub mod merge;
pub mod reader;
pub mod server;

/// An error from any step, sendable across tasks.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// The JetStream stream holding every node's events.
pub const STREAM: &str = "EVENTS";

/// The subject a node publishes on: `events.<node>`.
pub fn subject(node: &str) -> String {
    format!("events.{node}")
}

/// A message's payload: the event and the publisher's wall clock. Its hybrid timestamp
/// travels in the message's `hlc` header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The publishing node's name.
    pub node: String,
    /// The node's physical clock at the event, in microseconds since the Unix epoch.
    pub wall_micros: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// Creates the stream, capturing every node's subject.
///
/// # Errors
/// The server refuses the stream (JetStream not enabled, or a stream of that name with
/// other settings).
pub async fn create_stream(js: &jetstream::Context) -> Result<jetstream::stream::Stream, BoxError> {
    let config = Config {
        name: STREAM.into(),
        subjects: vec![subject("*")],
        ..Config::default()
    };
    Ok(js.create_stream(config).await?)
}

/// Runs the cluster against the server at `url` and reads its events back merged.
///
/// # Errors
/// A connection, publish or fetch that fails or does not answer in time, or a stamp the
/// nodes refuse (which the chosen skews never cause).
pub async fn run(url: &str) -> Result<reader::ReadLog, BoxError> {
    let js = jetstream::new(async_nats::connect(url).await?);
    let stream = create_stream(&js).await?;
    let truth = cluster::run(&js, &stream).await?;
    reader::read(&stream, truth).await
}

/// The merged log in both orders, each with its causal violations and late events, and the
/// messages the reader could not use: what the example prints.
pub fn render(log: &reader::ReadLog) -> String {
    let mut out = String::new();
    for (order, title) in [
        (Order::WallClock, "wall-clock order"),
        (Order::Hlc, "HLC order"),
    ] {
        let merged = &log.merged;
        let violations = merged.causal_violations(order);
        let _ = writeln!(
            out,
            "\n{title}:\n{}",
            event_log::render(merged.entries(order), order)
        );
        let _ = writeln!(
            out,
            "  causal violations: {} {violations:?}",
            violations.len()
        );
        let late: Vec<_> = merged.late_for(order).collect();
        let _ = writeln!(out, "  late events: {}", late.len());
        for late in late {
            let _ = writeln!(
                out,
                "    {} from {} ({:?}): the order had passed {}",
                late.entry.hlc, late.entry.node, late.entry.event, late.frontier
            );
        }
    }
    let _ = writeln!(out, "\nunusable messages: {}", log.unusable.len());
    for unusable in &log.unusable {
        let _ = writeln!(out, "  on {}: {}", unusable.subject, unusable.reason);
    }
    out
}
