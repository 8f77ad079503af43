//! The load generator: a few workers calling `/time` and `/relay` on every node, each
//! request stamped by the generator's own HLC on the system clock, every request and its
//! outcome recorded.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hlc_core::{Hlc, NodeId, SystemClock};
use http::{Method, StatusCode};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use tokio::time::{Instant, MissedTickBehavior};

use super::http::{Answer, HttpClient};
use super::recorder::{now_us, Recorder};
use super::{LOAD_NODE_ID, NODES};
use crate::chaos::history::{
    NodeInfo, Outcome, Record, RelayFailure, RelayPeer, RequestRecord, Route,
};

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
    /// For every node, the peer its `/relay` calls: a `502` names it in the history.
    relay_peers: BTreeMap<u64, u64>,
    hlc: Hlc<SystemClock>,
    next_id: AtomicU64,
    recorder: Recorder,
}

impl Load {
    /// Load on `nodes`, whose `/relay` calls the peer `relay_peers` gives, recorded by
    /// `recorder`.
    ///
    /// # Errors
    /// When the generator's clock cannot be built.
    pub(super) fn new(
        client: HttpClient,
        nodes: Vec<NodeInfo>,
        relay_peers: BTreeMap<u64, u64>,
        recorder: Recorder,
    ) -> io::Result<Self> {
        let hlc = Hlc::builder()
            .node_id(NodeId::new(LOAD_NODE_ID))
            .build()
            .map_err(io::Error::other)?;
        Ok(Self {
            client,
            nodes,
            relay_peers,
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
                Ok(answer) => outcome(route, &answer, self.relay_peers.get(&node.node).copied()),
                Err(error) => Outcome::Failed { error },
            },
        }
    }
}

/// What an answer says, as the history keeps it; `relay_peer` is the node a `/relay` calls.
fn outcome(route: Route, answer: &Answer, relay_peer: Option<u64>) -> Outcome {
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
    let relay_failure = match (route, answer.status, relay_peer) {
        (Route::Relay, StatusCode::BAD_GATEWAY, Some(peer)) => {
            Some(Box::new(relay_failure(peer, &body, &answer.body)))
        }
        _ => None,
    };
    let relay_peer = match route {
        Route::Relay if ok => relay_peer_stamp(&body["peer"]),
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
        relay_failure,
    }
}

/// Which of its four `502`s a `/relay` answered (`examples/src/node/routes.rs`): one with
/// `peer_status` passes the peer's answer on, one with `kind` is the client layer's refusal,
/// one with `not_sent` says the client layer sent nothing on the node's untrusted clock, and
/// one with `error` alone is a failure to reach the peer.
fn relay_failure(peer: u64, body: &Value, raw: &[u8]) -> RelayFailure {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    if let Some(status) = body["peer_status"].as_u64() {
        let problem = &body["peer_body"];
        return RelayFailure::PeerAnswered {
            peer,
            status: u16::try_from(status).unwrap_or(u16::MAX),
            problem_type: text(&problem["type"]),
            reason: text(&problem["reason"]),
        };
    }
    if let Some(kind) = text(&body["kind"]) {
        return RelayFailure::Refused { peer, kind };
    }
    if let Some(reason) = text(&body["not_sent"]) {
        return RelayFailure::NotSent { peer, reason };
    }
    let error = text(&body["error"]).unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned());
    RelayFailure::Transport { peer, error }
}

/// The `peer` half of a `/relay` answer: its stamp, and the node its node id names.
fn relay_peer_stamp(peer: &Value) -> Option<RelayPeer> {
    let node = u64::from_str_radix(peer["node_id"].as_str()?, 16).ok()?;
    Some(RelayPeer {
        node: if (1..=NODES).contains(&node) { node } else { 0 },
        stamp: peer["timestamp"].as_str()?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

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
            Some(3),
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
        } = outcome(Route::Time, &answer(503, None, body), None)
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
            relay_failure,
            ..
        } = outcome(Route::Relay, &answer(502, None, body), Some(4))
        else {
            panic!("not answered")
        };
        assert_eq!(status, 502);
        assert_eq!(problem_type.as_deref(), Some("urn:hlc:clock-untrusted"));
        assert_eq!(reason.as_deref(), Some("disrupted"));
        assert_eq!(
            relay_failure.map(|failure| *failure),
            Some(RelayFailure::PeerAnswered {
                peer: 4,
                status: 503,
                problem_type: Some("urn:hlc:clock-untrusted".into()),
                reason: Some("disrupted".into()),
            })
        );
    }

    #[test]
    fn a_relay_502_says_whether_it_was_refused_or_never_answered() {
        let failure = |body: &str| match outcome(Route::Relay, &answer(502, None, body), Some(2)) {
            Outcome::Answered { relay_failure, .. } => relay_failure.map(|failure| *failure),
            Outcome::Failed { .. } => panic!("not answered"),
        };
        let refused = r#"{"error":"response refused: ...","kind":"hlc.too_far_ahead"}"#;
        assert_eq!(
            failure(refused),
            Some(RelayFailure::Refused {
                peer: 2,
                kind: "hlc.too_far_ahead".into()
            })
        );
        let transport = r#"{"error":"client error (Connect)"}"#;
        assert_eq!(
            failure(transport),
            Some(RelayFailure::Transport {
                peer: 2,
                error: "client error (Connect)".into()
            })
        );
        // As seen in a run (seed 1): the relaying node's own clock became untrusted while it
        // was stopped, and its client layer sent nothing.
        let not_sent = r#"{"error":"request not sent: local clock untrusted: clock disrupted (suspend, pause or step)","not_sent":"clock disrupted (suspend, pause or step)"}"#;
        assert_eq!(
            failure(not_sent),
            Some(RelayFailure::NotSent {
                peer: 2,
                reason: "clock disrupted (suspend, pause or step)".into()
            })
        );
        // Not JSON: the whole body is the error.
        assert_eq!(
            failure("oops"),
            Some(RelayFailure::Transport {
                peer: 2,
                error: "oops".into()
            })
        );
        // Other statuses and routes carry none.
        let time = outcome(Route::Time, &answer(502, None, transport), None);
        assert!(matches!(
            time,
            Outcome::Answered {
                relay_failure: None,
                ..
            }
        ));
    }
}
