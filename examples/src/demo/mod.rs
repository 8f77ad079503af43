//! The demo: two `hlc_node`s in this process, one skewed beyond the max offset, and what
//! happens when they talk; then the skewed one corrects its clock through `ntp-sync` against
//! an NTP responder embedded in the process (the demo's time source: no internet needed) and
//! is accepted. `examples/demo.rs` prints the [`DemoReport`]; the tests check it.
//!
//! Every call between the nodes passes a tap (a recording proxy) in front of the callee,
//! which records the stamps it sees into a [`Recording`]; [`timeline`] draws that as one
//! HTML page, which [`output`] writes (by default to `target/hlc-demo/timeline.html`).

mod fencing;
mod lanes;
pub mod output;
mod recorder;
pub mod recording;
mod report;
mod tap;
mod time_sync;
pub mod timeline;

use std::io;
use std::time::Duration;

use bytes::Bytes;
use hlc_core::{Hlc, NodeId, NodeTimestamp};
use hlc_middleware::header::{self, HLC};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

use crate::node::{NodeConfig, RunningNode, TimeAnswer};
use recorder::Recorder;
use recording::Refusal;
use tap::Tap;

pub use recording::Recording;
pub use report::DemoReport;
pub use time_sync::NtpStep;

/// How far beta's clock runs ahead: four times the max offset.
pub const BETA_SKEW_MS: i64 = 2_000;
/// The max offset of both nodes: the library's default.
pub const MAX_OFFSET: Duration = hlc_core::DEFAULT_MAX_OFFSET;

pub(crate) type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Starts alpha (true time) and beta (2 s ahead), each the other's peer through a tap, walks
/// through the story, stops both and returns what happened.
///
/// # Errors
/// When a loopback socket cannot be bound, or a request fails in transport.
pub async fn run() -> io::Result<DemoReport> {
    let recorder = Recorder::start(lanes::all());
    let (alpha_listener, beta_listener) = (bind().await?, bind().await?);
    let url = |listener: &TcpListener| listener.local_addr().map(|a| format!("http://{a}"));
    let (alpha_url, beta_url) = (url(&alpha_listener)?, url(&beta_listener)?);
    let alpha_tap = Tap::start(alpha_url.clone(), lanes::ALPHA, recorder.clone()).await?;
    let beta_tap = Tap::start(beta_url.clone(), lanes::BETA, recorder.clone()).await?;
    let alpha = RunningNode::spawn(alpha_listener, config(1, 0, beta_tap.url()))?;
    let beta = RunningNode::spawn(beta_listener, config(2, BETA_SKEW_MS, alpha_tap.url()))?;
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut fences =
        fencing::FenceWatch::new(&recorder, [(lanes::ALPHA, &alpha), (lanes::BETA, &beta)]);

    recorder.step("1. a client stamps GET alpha/time; alpha merges the stamp and answers");
    let causal_chain = causal_chain(&client, alpha_tap.url()).await?;
    fences.check();
    recorder.step("2. beta calls alpha, stamped 2 s ahead: alpha refuses the request");
    let beta_to_alpha = post_json(&client, &format!("{beta_url}/relay")).await?;
    let alpha_after_refusal = alpha.node().hlc().last();
    let beta_clock = beta.node().hlc().now();
    fences.check();
    recorder.step("3. alpha calls beta: alpha's client refuses beta's answer, 2 s ahead");
    let alpha_to_beta = post_json(&client, &format!("{alpha_url}/relay")).await?;
    record_answer_refusal(&recorder, &alpha_to_beta);
    fences.check();
    recorder.step("4. beta restarts on a clock corrected through ntp-sync; alpha accepts it");
    let ntp = time_sync::beta_on_ntp(&client, alpha_tap.url(), &recorder).await?;
    fences.check();

    alpha.stop().await?;
    beta.stop().await?;
    Ok(DemoReport {
        urls: [alpha_url, beta_url],
        causal_chain,
        beta_to_alpha,
        alpha_after_refusal,
        beta_clock,
        alpha_to_beta,
        ntp,
        timeline: recorder.recording(),
    })
}

/// Alpha's client layer refused beta's answer: the tap saw the answer pass, the relay's
/// answer says it was refused and why.
fn record_answer_refusal(recorder: &Recorder, (_, body): &(StatusCode, serde_json::Value)) {
    let Some(kind) = body["kind"].as_str() else {
        return;
    };
    let answer = recorder.last_message(lanes::BETA, lanes::ALPHA);
    recorder.refusal(Refusal {
        lane: lanes::ALPHA,
        at_us: answer
            .as_ref()
            .map_or_else(|| recorder.now_us(), |(_, m)| m.received_us),
        message: answer.map(|(index, _)| index),
        kind: kind.to_owned(),
        reason: body["error"].as_str().unwrap_or(kind).to_owned(),
    });
}

pub(crate) async fn bind() -> io::Result<TcpListener> {
    TcpListener::bind("127.0.0.1:0").await
}

pub(crate) fn config(node: u64, clock_offset_ms: i64, peer: &str) -> NodeConfig {
    NodeConfig {
        max_offset: MAX_OFFSET,
        clock_offset_ms,
        peers: peer.parse().into_iter().collect(),
        ..NodeConfig::new(NodeId::new(node))
    }
}

/// A client with its own clock stamps a request to alpha (at `alpha`, its tap) by hand (as
/// the client layer would) and merges the answer.
async fn causal_chain(client: &HttpClient, alpha: &str) -> io::Result<[NodeTimestamp; 4]> {
    let clock = Hlc::builder()
        .node_id(lanes::CLIENT_NODE)
        .build()
        .map_err(io::Error::other)?;
    let sent = clock.now_with_node();
    let (answered, body) = get_stamped(client, &format!("{alpha}/time"), sent).await?;
    let time: TimeAnswer = serde_json::from_slice(&body)?;
    let stamped: NodeTimestamp = time.timestamp.parse().map_err(io::Error::other)?;
    let received = clock.update(answered.timestamp).map_err(io::Error::other)?;
    let received = NodeTimestamp::new(received, clock.node_id());
    Ok([sent, stamped, answered, received])
}

/// `GET url` with `stamp` in the `hlc` header: the answer's stamp and body.
async fn get_stamped(
    client: &HttpClient,
    url: &str,
    stamp: NodeTimestamp,
) -> io::Result<(NodeTimestamp, Bytes)> {
    let request = Request::get(url)
        .header(HLC, header::encode(stamp))
        .body(Empty::new())
        .map_err(io::Error::other)?;
    let response = client.request(request).await.map_err(io::Error::other)?;
    let answered = header::decode(response.headers())
        .map_err(io::Error::other)?
        .ok_or_else(|| io::Error::other("the answer carries no hlc header"))?;
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?;
    Ok((answered, body.to_bytes()))
}

pub(crate) async fn post_json(
    client: &HttpClient,
    url: &str,
) -> io::Result<(StatusCode, serde_json::Value)> {
    let request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .body(Empty::new())
        .map_err(io::Error::other)?;
    let response = client.request(request).await.map_err(io::Error::other)?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?;
    Ok((status, serde_json::from_slice(&body.to_bytes())?))
}
