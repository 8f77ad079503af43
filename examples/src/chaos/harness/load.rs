//! The load generator: a few workers calling `/time` and `/relay` on every node, each
//! request stamped by the generator's own HLC on the system clock, every request and its
//! outcome recorded.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hlc_core::{Hlc, NodeId, SystemClock};
use http::Method;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior};

use super::http::{Answer, HttpClient};
use super::recorder::{now_us, Recorder};
use super::{LOAD_NODE_ID, NODES};
use crate::chaos::history::{NodeInfo, Outcome, Record, RelayPeer, RequestRecord, Route};

/// Concurrent workers: enough to keep two cores busy with five debug-build nodes, few
/// enough that the machine still runs the nodes' probes on time.
pub const WORKERS: u64 = 8;

/// The least time between the starts of two requests of one worker: the load is
/// [`WORKERS`] × 25 requests a second at most, which keeps the history of a ten-minute soak
/// to tens of megabytes and leaves the nodes' probes CPU on two cores.
pub const WORKER_PACE: Duration = Duration::from_millis(40);

/// How long a request may take: generous for a loaded machine, and longer than a pause
/// ([`PAUSE`](super::faults::PAUSE)) or a restart, so that a request queued on a stopped or
/// restarting node is answered rather than abandoned.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the workers share.
#[derive(Debug)]
pub(super) struct Load {
    client: HttpClient,
    nodes: Vec<NodeInfo>,
    hlc: Hlc<SystemClock>,
    next_id: AtomicU64,
    recorder: Recorder,
}

impl Load {
    /// Load on `nodes`, recorded by `recorder`.
    ///
    /// # Errors
    /// When the generator's clock cannot be built.
    pub(super) fn new(
        client: HttpClient,
        nodes: Vec<NodeInfo>,
        recorder: Recorder,
    ) -> io::Result<Self> {
        let hlc = Hlc::builder()
            .node_id(NodeId::new(LOAD_NODE_ID))
            .build()
            .map_err(io::Error::other)?;
        Ok(Self {
            client,
            nodes,
            hlc,
            next_id: AtomicU64::new(1),
            recorder,
        })
    }

    /// One worker: requests to nodes and routes drawn from `seed` until `until`.
    pub(super) async fn worker(self: Arc<Self>, seed: u64, until: Instant) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut pace = tokio::time::interval(WORKER_PACE);
        pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
        while Instant::now() < until {
            pace.tick().await;
            let node = &self.nodes[rng.random_range(0..self.nodes.len())];
            let route = if rng.random_bool(0.5) {
                Route::Time
            } else {
                Route::Relay
            };
            let record = self.request(node, route).await;
            self.recorder.record(Record::Request(record));
        }
    }

    async fn request(&self, node: &NodeInfo, route: Route) -> RequestRecord {
        let (method, path) = match route {
            Route::Time => (Method::GET, "/time"),
            Route::Relay => (Method::POST, "/relay"),
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let stamp = self.hlc.now_with_node().to_string();
        let url = format!("{}{path}", node.url);
        let sent_us = now_us();
        let answer = self
            .client
            .send(method, &url, Some(&stamp), REQUEST_TIMEOUT)
            .await;
        let received_us = now_us();
        RequestRecord {
            id,
            node: node.node,
            route,
            sent_us,
            received_us,
            stamp_sent: Some(stamp),
            outcome: match answer {
                Ok(answer) => outcome(route, &answer),
                Err(error) => Outcome::Failed { error },
            },
        }
    }
}

/// What an answer says, as the history keeps it.
fn outcome(route: Route, answer: &Answer) -> Outcome {
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let stamp = answer
        .headers
        .get("hlc")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ok = answer.status.is_success();
    let body_stamp = match route {
        _ if !ok => None,
        Route::Time => text(&body["timestamp"]),
        Route::Relay => text(&body["local"]["timestamp"]),
    };
    let relay_peer = match route {
        Route::Relay if ok => relay_peer(&body["peer"]),
        _ => None,
    };
    // A `/relay` that failed at its peer (502) says why in `peer_body` (the peer's refusal)
    // or in `kind` (the client layer refused the peer's answer).
    let problem = if body["type"].is_string() {
        &body
    } else {
        &body["peer_body"]
    };
    Outcome::Answered {
        status: answer.status.as_u16(),
        stamp,
        body_stamp,
        relay_peer,
        problem_type: text(&problem["type"]),
        reason: text(&problem["reason"]).or_else(|| text(&body["kind"])),
    }
}

/// The `peer` half of a `/relay` answer: its stamp, and the node its node id names.
fn relay_peer(peer: &Value) -> Option<RelayPeer> {
    let node = u64::from_str_radix(peer["node_id"].as_str()?, 16).ok()?;
    Some(RelayPeer {
        node: if (1..=NODES).contains(&node) { node } else { 0 },
        stamp: peer["timestamp"].as_str()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};

    fn answer(status: u16, hlc: Option<&str>, body: &str) -> Answer {
        let mut headers = HeaderMap::new();
        if let Some(hlc) = hlc {
            headers.insert("hlc", hlc.parse().unwrap());
        }
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: body.to_owned().into(),
        }
    }

    #[test]
    fn a_relay_answer_gives_both_stamps_and_the_peer() {
        let body = r#"{"peer":{"timestamp":"00-a-0000000000000003","node_id":"0000000000000003"},
                       "local":{"timestamp":"00-b-0000000000000002","node_id":"0000000000000002"}}"#;
        let Outcome::Answered {
            status,
            stamp,
            body_stamp,
            relay_peer,
            problem_type,
            ..
        } = outcome(
            Route::Relay,
            &answer(200, Some("00-c-0000000000000002"), body),
        )
        else {
            panic!("not answered")
        };
        assert_eq!(status, 200);
        assert_eq!(stamp.as_deref(), Some("00-c-0000000000000002"));
        assert_eq!(body_stamp.as_deref(), Some("00-b-0000000000000002"));
        let peer = relay_peer.unwrap();
        assert_eq!(
            (peer.node, peer.stamp.as_str()),
            (3, "00-a-0000000000000003")
        );
        assert_eq!(problem_type, None);
    }

    #[test]
    fn a_refusal_gives_its_problem_and_reason_and_no_stamps() {
        let body = r#"{"type":"urn:hlc:clock-untrusted","reason":"fenced","timestamp":"x"}"#;
        let Outcome::Answered {
            body_stamp,
            problem_type,
            reason,
            ..
        } = outcome(Route::Time, &answer(503, None, body))
        else {
            panic!("not answered")
        };
        assert_eq!(body_stamp, None);
        assert_eq!(problem_type.as_deref(), Some("urn:hlc:clock-untrusted"));
        assert_eq!(reason.as_deref(), Some("fenced"));
    }

    #[test]
    fn a_relay_whose_peer_refused_names_the_peers_problem() {
        let body = r#"{"error":"the peer answered 503","peer_status":503,
                       "peer_body":{"type":"urn:hlc:clock-untrusted","reason":"disrupted"}}"#;
        let Outcome::Answered {
            status,
            problem_type,
            reason,
            ..
        } = outcome(Route::Relay, &answer(502, None, body))
        else {
            panic!("not answered")
        };
        assert_eq!(status, 502);
        assert_eq!(problem_type.as_deref(), Some("urn:hlc:clock-untrusted"));
        assert_eq!(reason.as_deref(), Some("disrupted"));
    }
}
