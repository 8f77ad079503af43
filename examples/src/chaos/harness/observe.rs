//! What the harness watches besides its own requests: every node's `/health`, and the
//! nodes' resident set sizes.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior};

use super::cluster::{lock, rss_kib, Cluster};
use super::http::HttpClient;
use super::recorder::{now_us, Recorder};
use super::NODES;
use crate::chaos::history::{NodeInfo, Record, RssPhase};

/// How often each node's `/health` is read.
pub const HEALTH_EVERY: Duration = Duration::from_millis(200);

/// How long a `/health` read may take before it counts as no answer: a stopped node does
/// not answer at all, and the next poll is due.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);

/// How often the nodes' RSS is sampled during the run.
pub const RSS_EVERY: Duration = Duration::from_secs(5);

/// The longest warm-up of a life started by a restart: a third of a long soak would leave
/// the lives that kills start late without a reference, and a fresh process has reached
/// its working set well within this under load.
pub const RESTARTED_WARM_UP: Duration = Duration::from_secs(30);

/// Reads `node`'s `/health` every [`HEALTH_EVERY`] until `until`.
pub(super) async fn poll_health(
    client: HttpClient,
    node: NodeInfo,
    recorder: Recorder,
    until: Instant,
) {
    let url = format!("{}/health", node.url);
    let mut ticks = tokio::time::interval(HEALTH_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while Instant::now() < until {
        ticks.tick().await;
        // Read before the poll goes out: the node judged its health after this.
        let sent_us = now_us();
        let answer = client.send(Method::GET, &url, None, HEALTH_TIMEOUT).await;
        let (status, reason) = match answer {
            Ok(answer) => {
                let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
                let reason = body["reason"].as_str().map(str::to_owned);
                (Some(answer.status.as_u16()), reason)
            }
            Err(_) => (None, None),
        };
        recorder.record(Record::Health {
            at_us: now_us(),
            node: node.node,
            status,
            reason,
            sent_us: Some(sent_us),
        });
    }
}

/// Samples every node's RSS each [`RSS_EVERY`] until `until`: a life's first sample once it
/// has served for `warm_up` (counted from `load_start` for lives started before the load;
/// at most [`RESTARTED_WARM_UP`] for lives started by a restart) is its
/// [`RssPhase::WarmedUp`] reference, later ones are [`RssPhase::During`].
pub(super) async fn sample_rss(
    cluster: Arc<Mutex<Cluster>>,
    recorder: Recorder,
    load_start: Instant,
    warm_up: Duration,
    until: Instant,
) {
    let mut warmed = HashSet::new();
    while Instant::now() + RSS_EVERY < until {
        tokio::time::sleep(RSS_EVERY).await;
        for node in 1..=NODES {
            let Some(current) = lock(&cluster).current(node) else {
                continue;
            };
            let Some(since) = current.answering_since else {
                continue;
            };
            let warm_up = match current.life {
                0 => warm_up,
                _ => warm_up.min(RESTARTED_WARM_UP),
            };
            let phase = if warmed.contains(&(node, current.life)) {
                RssPhase::During
            } else if since.max(load_start).elapsed() >= warm_up {
                warmed.insert((node, current.life));
                RssPhase::WarmedUp
            } else {
                continue;
            };
            record_rss(&recorder, node, current.pid, current.life, phase);
        }
    }
}

/// Samples every running node's RSS as [`RssPhase::End`].
pub(super) fn sample_end(cluster: &Mutex<Cluster>, recorder: &Recorder) {
    for node in 1..=NODES {
        if let Some(current) = lock(cluster).current(node) {
            record_rss(recorder, node, current.pid, current.life, RssPhase::End);
        }
    }
}

fn record_rss(recorder: &Recorder, node: u64, pid: u32, life: u32, phase: RssPhase) {
    // A process gone between the lookup and the read has no sample: the checker skips a
    // life without both ends.
    if let Ok(rss_kib) = rss_kib(pid) {
        recorder.record(Record::Rss {
            at_us: now_us(),
            node,
            life,
            rss_kib,
            phase,
        });
    }
}
