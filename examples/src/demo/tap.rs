//! A wiretap in front of a node: a loopback HTTP proxy that forwards every request to the
//! node unchanged and records each stamped exchange (both `hlc` headers, when each passed,
//! and the node's refusal, if any) for the timeline. The demo's callers talk to a node
//! through its tap, so what the picture shows is what went over the wire.

use std::io;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hlc_middleware::header;
use http::{header::CONTENT_TYPE, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tokio::task::JoinHandle;

use super::recorder::Recorder;
use super::recording::{LaneId, Message, Refusal};
use crate::node::PING_PATH;

/// A tap serving on loopback until dropped.
#[derive(Debug)]
pub(crate) struct Tap {
    url: String,
    task: JoinHandle<()>,
}

impl Tap {
    /// Starts a tap that forwards to `target` (a base URL), the node on lane `lane`.
    pub(crate) async fn start(
        target: String,
        lane: LaneId,
        recorder: Recorder,
    ) -> io::Result<Self> {
        let listener = super::bind().await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Forward {
            target,
            lane,
            recorder,
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let app = axum::Router::new().fallback(forward).with_state(state);
        let task = tokio::spawn(async move {
            // Serving ends only when the task is aborted; an accept error ends the tap, and
            // the demo's next call through it fails naming the connection.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, task })
    }

    /// `http://ADDRESS`, where callers reach the node through the tap.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
struct Forward {
    target: String,
    lane: LaneId,
    recorder: Recorder,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// When a request and its answer passed the tap.
struct Passed {
    request_in: u64,
    request_out: u64,
    answer_in: u64,
}

async fn forward(State(tap): State<Arc<Forward>>, request: Request) -> Response {
    let request_in = tap.recorder.now_us();
    match exchange(&tap, request, request_in).await {
        Ok(response) => response,
        Err(error) => (StatusCode::BAD_GATEWAY, format!("tap: {error}")).into_response(),
    }
}

async fn exchange(tap: &Forward, request: Request, request_in: u64) -> Result<Response, String> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = http::Request::builder()
        .method(parts.method.clone())
        .uri(format!("{}{path}", tap.target));
    for (name, value) in parts
        .headers
        .iter()
        .filter(|(name, _)| *name != http::header::HOST)
    {
        outgoing = outgoing.header(name, value);
    }
    let outgoing = outgoing.body(Full::new(body)).map_err(|e| e.to_string())?;
    let request_out = tap.recorder.now_us();
    let answer = tap
        .client
        .request(outgoing)
        .await
        .map_err(|e| e.to_string())?;
    let (answer_parts, answer_body) = answer.into_parts();
    let answer_body = answer_body
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let passed = Passed {
        request_in,
        request_out,
        answer_in: tap.recorder.now_us(),
    };
    if parts.uri.path() != PING_PATH {
        record(tap, &parts, &answer_parts, &answer_body, &passed);
    }
    Ok(Response::from_parts(answer_parts, Body::from(answer_body)))
}

/// Records a request stamped by a node on a lane, its answer, and the refusal the answer
/// carries. Unstamped requests (the demo's own `POST /relay` calls) and pings (physical
/// readings, no stamps) are the story's scaffolding, not its messages.
fn record(
    tap: &Forward,
    request: &http::request::Parts,
    answer: &http::response::Parts,
    body: &Bytes,
    passed: &Passed,
) {
    let Ok(Some(stamp)) = header::decode(&request.headers) else {
        return;
    };
    let Some(from) = tap.recorder.lane_of(stamp.node) else {
        return;
    };
    let sent = tap.recorder.message(Message {
        from,
        to: tap.lane,
        sent_us: passed.request_in,
        received_us: passed.request_out,
        what: format!("{} {}", request.method, request.uri.path()),
        stamp: Some(stamp),
    });
    if let Some((kind, reason)) = problem(answer, body) {
        tap.recorder.refusal(Refusal {
            lane: tap.lane,
            at_us: passed.request_out,
            message: Some(sent),
            kind,
            reason,
        });
    }
    let at = tap.recorder.now_us();
    tap.recorder.message(Message {
        from: tap.lane,
        to: from,
        sent_us: passed.answer_in,
        received_us: at,
        what: answer.status.to_string(),
        stamp: header::decode(&answer.headers).ok().flatten(),
    });
}

/// The kind and detail of an RFC 9457 problem details answer: how the node refused.
fn problem(answer: &http::response::Parts, body: &Bytes) -> Option<(String, String)> {
    let content_type = answer.headers.get(CONTENT_TYPE)?.to_str().ok()?;
    if !content_type.starts_with("application/problem+json") {
        return None;
    }
    let problem: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |field: &str| problem[field].as_str().unwrap_or("").to_owned();
    Some((text("type"), text("detail")))
}
