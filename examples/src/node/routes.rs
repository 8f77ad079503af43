//! The node's routes: `GET /time`, `GET /health`, `GET /peers`, `GET /metrics`,
//! `POST /relay` (`/ping` is the middleware's service, mounted by the router).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hlc_core::{NodeTimestamp, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::relay::{PeerAnswer, RelayError};
use super::Node;

/// The answer of `GET /time`: a fresh stamp in the `hlc` header's text form, and the node id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeAnswer {
    /// `00-<16 hex timestamp>-<16 hex node id>`.
    pub timestamp: String,
    /// The node id, 16 lowercase hex digits.
    pub node_id: String,
}

impl From<NodeTimestamp> for TimeAnswer {
    fn from(stamp: NodeTimestamp) -> Self {
        Self {
            timestamp: stamp.to_string(),
            node_id: stamp.node.to_string(),
        }
    }
}

/// The answer of a successful `POST /relay`: the peer's `/time`, then this node's stamp for
/// receiving it (merged with the peer's header, so greater than the peer's stamps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayAnswer {
    /// What the peer's `/time` said.
    pub peer: TimeAnswer,
    /// This node's receive stamp for the peer's answer.
    pub local: TimeAnswer,
}

pub(super) fn routes(node: Arc<Node>) -> Router {
    Router::new()
        .route("/time", get(time))
        .route("/health", get(super::health::health))
        .route("/peers", get(peers))
        .route("/metrics", get(super::metrics::metrics))
        .route("/relay", post(relay))
        .with_state(node)
}

async fn time(State(node): State<Arc<Node>>) -> Json<TimeAnswer> {
    Json(node.hlc.now_with_node().into())
}

async fn peers(State(node): State<Arc<Node>>) -> Json<super::PeersAnswer> {
    Json(node.peers())
}

async fn relay(State(node): State<Arc<Node>>) -> Response {
    let Some(peer) = node.config.peers.first() else {
        let error = json!({"error": "no peer configured: start the node with --peer URL"});
        return (StatusCode::SERVICE_UNAVAILABLE, Json(error)).into_response();
    };
    let uri = format!("{}/time", peer.to_string().trim_end_matches('/'));
    let answer = match uri.parse() {
        Ok(uri) => node.peer.get(uri).await,
        Err(error) => Err(RelayError::Transport(format!(
            "bad peer url {uri}: {error}"
        ))),
    };
    match answer {
        Ok(answer) if answer.status == StatusCode::OK => relayed(&node, answer),
        Ok(answer) => peer_failed(&answer),
        Err(RelayError::Refused(refusal)) => bad_gateway(json!({
            "error": format!("response refused: {refusal}"),
            "kind": refusal.kind(),
        })),
        // Sent nothing: `not_sent` names why this node's clock is untrusted.
        Err(RelayError::NotSent(reason)) => bad_gateway(json!({
            "error": format!("request not sent: local clock untrusted: {reason}"),
            "not_sent": reason.to_string(),
        })),
        Err(RelayError::Transport(error)) => bad_gateway(json!({ "error": error })),
    }
}

/// Both timestamps: the peer's, and ours for receiving it.
fn relayed(node: &Node, answer: PeerAnswer) -> Response {
    let Ok(peer) = serde_json::from_slice::<TimeAnswer>(&answer.body) else {
        return bad_gateway(json!({"error": "the peer's /time answer is not the expected json"}));
    };
    let received: Timestamp = answer.merged.unwrap_or_else(|| node.hlc.now());
    let local = NodeTimestamp::new(received, node.hlc.node_id()).into();
    Json(RelayAnswer { peer, local }).into_response()
}

/// The peer answered, but not with its time (it refused us, say): pass its answer on.
fn peer_failed(answer: &PeerAnswer) -> Response {
    let body = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .unwrap_or_else(|_| String::from_utf8_lossy(&answer.body).into());
    bad_gateway(json!({
        "error": format!("the peer answered {}", answer.status),
        "peer_status": answer.status.as_u16(),
        "peer_body": body,
    }))
}

fn bad_gateway(body: serde_json::Value) -> Response {
    (StatusCode::BAD_GATEWAY, Json(body)).into_response()
}
