//! The reader: one consumer per node's subject, fetched in turn, merged with [`Merger`].

use std::sync::Arc;
use std::time::Instant;

use async_nats::jetstream::consumer::{pull, AckPolicy, PullConsumer};
use async_nats::jetstream::stream::Stream;
use futures_util::StreamExt;
use hlc_core::merge::ReorderConfig;
use hlc_core::{ManualClock, NodeId};
use hlc_middleware::nats::HlcNats;
use hlc_middleware::{HlcClientLayer, Policy, Refusal};

use super::cluster::{node_ids, WAIT};
use super::merge::{MergedLog, Merger};
use super::{subject, BoxError, Payload};
use crate::event_log::cluster::NODES;
use crate::event_log::Entry;

/// Events fetched from one subject at a time: small, so that the subjects interleave and
/// the reorderers have work to do.
pub const BATCH: usize = 3;
/// The reader's own node id, after the cluster's.
pub const READER_ID: NodeId = NodeId::new(100);

/// A message the reader could not use, with the reason: reported, never dropped silently.
#[derive(Debug)]
pub struct Unusable {
    /// The subject it came on.
    pub subject: String,
    /// Why: a refused stamp, or a payload that does not parse.
    pub reason: String,
}

/// What the reader made of the stream.
#[derive(Debug)]
pub struct ReadLog {
    /// The events in both orders, and the late ones.
    pub merged: MergedLog,
    /// Messages that could not be used.
    pub unusable: Vec<Unusable>,
}

/// Reads every node's subject of `stream` until all are drained, merging their events into
/// the two orders. `truth` is a clock at true time, for the reader's own clock, which
/// merges each stamp under the default rules: a stamp missing, malformed or too far ahead
/// makes the message [`Unusable`].
///
/// # Errors
/// A consumer that cannot be created, or a fetch that fails or does not answer in time.
pub async fn read(stream: &Stream, truth: ManualClock) -> Result<ReadLog, BoxError> {
    let layer = HlcClientLayer::new(Arc::new(truth.hlc(READER_ID))).on_missing(Policy::Refuse);
    let nats = HlcNats::from_layer(&layer);
    let mut sources = Vec::new();
    for (name, _) in NODES {
        sources.push((name, consumer(stream, name).await?));
    }
    let mut merger = Merger::new(ReorderConfig::new(), node_ids(), Instant::now());
    let mut unusable = Vec::new();
    loop {
        let mut fetched = 0;
        for (name, consumer) in &sources {
            let mut batch = consumer.fetch().max_messages(BATCH).messages().await?;
            while let Some(message) = tokio::time::timeout(WAIT, batch.next()).await? {
                let message = message?;
                fetched += 1;
                match entry(&nats, &message) {
                    Ok(entry) => merger.push(entry, Instant::now()),
                    Err(reason) => unusable.push(Unusable {
                        subject: subject(name),
                        reason,
                    }),
                }
            }
        }
        if fetched == 0 {
            break;
        }
        merger.tick(Instant::now());
    }
    Ok(ReadLog {
        merged: merger.finish(),
        unusable,
    })
}

/// A consumer of one node's subject, from its first event.
async fn consumer(stream: &Stream, name: &str) -> Result<PullConsumer, BoxError> {
    let config = pull::Config {
        filter_subject: subject(name),
        // It only reads: nothing to acknowledge or redeliver.
        ack_policy: AckPolicy::None,
        ..pull::Config::default()
    };
    Ok(stream.create_consumer(config).await?)
}

/// The event of a message, stamped with the publisher's stamp from its header.
fn entry(nats: &HlcNats<ManualClock>, message: &async_nats::Message) -> Result<Entry, String> {
    let receipt = nats
        .receive_message(message)
        .map_err(|refusal: Refusal| format!("stamp refused: {refusal}"))?;
    let stamp = receipt.peer.ok_or("no stamp merged")?;
    let payload: Payload = serde_json::from_slice(&message.payload)
        .map_err(|e| format!("payload does not parse: {e}"))?;
    Ok(Entry {
        hlc: stamp,
        wall_micros: payload.wall_micros,
        node: payload.node,
        event: payload.event,
    })
}
