//! The publishing nodes: the nodes, skews and messages of
//! [`event_log::cluster`](crate::event_log::cluster), exchanging their messages through the
//! stream instead of in memory.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_nats::jetstream::{self, stream::Stream};
use async_nats::HeaderMap;
use futures_util::StreamExt;
use hlc_core::{ManualClock, NodeId, PhysicalClock};
use hlc_middleware::nats::HlcNats;

use super::{subject, BoxError, Payload};
use crate::event_log::cluster::{GAP, LATENCY, MESSAGES, NODES};
use crate::event_log::Event;

/// 2024-01-01T00:00:00Z: true time when the cluster starts.
pub const START_MICROS: u64 = 1_704_067_200_000_000;
/// Bounds each wait on the server; generous for a loaded machine.
pub const WAIT: Duration = Duration::from_secs(20);

/// The node id of the node at `index` in [`NODES`].
pub fn node_id(index: usize) -> NodeId {
    NodeId::new(index as u64 + 1)
}

/// The node ids of every node, in the order of [`NODES`].
pub fn node_ids() -> impl Iterator<Item = NodeId> + Clone {
    (0..NODES.len()).map(node_id)
}

struct Node {
    name: &'static str,
    clock: ManualClock,
    nats: HlcNats<ManualClock>,
    /// Every event of the stream, the node's own included, in stream order.
    inbox: pull::Stream,
}

impl Node {
    async fn open(
        stream: &Stream,
        index: usize,
        (name, skew_ms): (&'static str, i64),
    ) -> Result<Self, BoxError> {
        let clock = ManualClock::new(
            START_MICROS
                .checked_add_signed(skew_ms * 1_000)
                .ok_or("skew")?,
        );
        let nats = HlcNats::new(Arc::new(clock.hlc(node_id(index))));
        let consumer = stream
            .create_consumer(pull::Config {
                // It only reads: nothing to acknowledge or redeliver.
                ack_policy: AckPolicy::None,
                ..pull::Config::default()
            })
            .await?;
        let inbox = consumer.messages().await?;
        Ok(Self {
            name,
            clock,
            nats,
            inbox,
        })
    }

    /// Publishes `event` on this node's subject, stamped; waits for the stream's ack.
    async fn publish(&self, js: &jetstream::Context, event: Event) -> Result<(), BoxError> {
        let mut headers = HeaderMap::new();
        self.nats.stamp(&mut headers)?;
        let payload = Payload {
            node: self.name.into(),
            wall_micros: self.clock.now_micros(),
            event,
        };
        let ack = js
            .publish_with_headers(
                subject(self.name),
                headers,
                serde_json::to_vec(&payload)?.into(),
            )
            .await?;
        tokio::time::timeout(WAIT, ack).await??;
        Ok(())
    }

    /// Reads the inbox up to message `number`, sent to this node, and merges its stamp; the
    /// events before it were for others.
    async fn receive(&mut self, number: u32) -> Result<(), BoxError> {
        loop {
            let message = tokio::time::timeout(WAIT, self.inbox.next())
                .await?
                .ok_or("the inbox closed")??;
            let payload: Payload = serde_json::from_slice(&message.payload)?;
            if matches!(payload.event, Event::Send { message, ref to } if message == number && to == self.name)
            {
                self.nats.receive_message(&message)?;
                return Ok(());
            }
        }
    }
}

/// Runs the cluster: for each of [`MESSAGES`], the sender publishes the sending and the
/// receiver, after the network's latency, reads it from its inbox, merges its stamp and
/// publishes the receipt. Returns a clock showing true time at the end.
///
/// # Errors
/// A publish or read that fails or does not answer within [`WAIT`], or a refused stamp
/// (which the chosen skews, within the default max offset, never cause).
pub async fn run(js: &jetstream::Context, stream: &Stream) -> Result<ManualClock, BoxError> {
    let mut nodes = Vec::new();
    for (index, spec) in NODES.into_iter().enumerate() {
        nodes.push(Node::open(stream, index, spec).await?);
    }
    let truth = ManualClock::new(START_MICROS);
    let advance = |nodes: &[Node], by| {
        truth.advance(by);
        nodes.iter().for_each(|n| n.clock.advance(by));
    };
    for (number, (from, to)) in (1..).zip(MESSAGES) {
        advance(&nodes, GAP);
        let to_name = nodes[to].name.into();
        nodes[from]
            .publish(
                js,
                Event::Send {
                    message: number,
                    to: to_name,
                },
            )
            .await?;
        advance(&nodes, LATENCY);
        nodes[to].receive(number).await?;
        let from_name = nodes[from].name.into();
        nodes[to]
            .publish(
                js,
                Event::Receive {
                    message: number,
                    from: from_name,
                },
            )
            .await?;
    }
    Ok(truth)
}
