//! The demo: two `hlc_node`s in this process, one skewed beyond the max offset, and what
//! happens when they talk. `examples/demo.rs` prints the [`DemoReport`]; the tests check it.

use std::fmt;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use hlc_core::{Hlc, NodeId, NodeTimestamp, Timestamp};
use hlc_middleware::header::{self, HLC};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

use crate::node::{NodeConfig, RunningNode, TimeAnswer};

/// How far beta's clock runs ahead: four times the max offset.
pub const BETA_SKEW_MS: i64 = 2_000;
/// The max offset of both nodes.
pub const MAX_OFFSET: Duration = Duration::from_millis(500);

/// What the demo saw.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Alpha's and beta's base URLs.
    pub urls: [String; 2],
    /// Client sends, alpha stamps `/time`, alpha stamps its response, client receives.
    pub causal_chain: [NodeTimestamp; 4],
    /// `POST beta/relay`: beta's call to alpha, which alpha refuses.
    pub beta_to_alpha: (StatusCode, serde_json::Value),
    /// Alpha's clock right after refusing beta: still on alpha's own time.
    pub alpha_after_refusal: Timestamp,
    /// Beta's clock at the same moment, for comparison.
    pub beta_clock: Timestamp,
    /// `POST alpha/relay`: alpha's call to beta, whose answer alpha's client layer refuses.
    pub alpha_to_beta: (StatusCode, serde_json::Value),
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Starts alpha (true time) and beta (2 s ahead), each the other's peer, walks through the
/// story, stops both and returns what happened.
///
/// # Errors
/// When a loopback socket cannot be bound, or a request fails in transport.
pub async fn run() -> io::Result<DemoReport> {
    let (alpha_listener, beta_listener) = (bind().await?, bind().await?);
    let url = |listener: &TcpListener| listener.local_addr().map(|a| format!("http://{a}"));
    let (alpha_url, beta_url) = (url(&alpha_listener)?, url(&beta_listener)?);
    let alpha = RunningNode::spawn(alpha_listener, config(1, 0, &beta_url))?;
    let beta = RunningNode::spawn(beta_listener, config(2, BETA_SKEW_MS, &alpha_url))?;
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

    let causal_chain = causal_chain(&client, &alpha_url).await?;
    let beta_to_alpha = post_json(&client, &format!("{beta_url}/relay")).await?;
    let alpha_after_refusal = alpha.node().hlc().last();
    let beta_clock = beta.node().hlc().now();
    let alpha_to_beta = post_json(&client, &format!("{alpha_url}/relay")).await?;

    alpha.stop().await?;
    beta.stop().await?;
    Ok(DemoReport {
        urls: [alpha_url, beta_url],
        causal_chain,
        beta_to_alpha,
        alpha_after_refusal,
        beta_clock,
        alpha_to_beta,
    })
}

async fn bind() -> io::Result<TcpListener> {
    TcpListener::bind("127.0.0.1:0").await
}

fn config(node: u64, clock_offset_ms: i64, peer: &str) -> NodeConfig {
    NodeConfig {
        node_id: NodeId::new(node),
        max_offset: MAX_OFFSET,
        clock_offset_ms,
        peer: peer.parse().ok(),
        hlc_layers: true,
    }
}

/// A client with its own clock stamps a request to alpha by hand (as the client layer would)
/// and merges the answer.
async fn causal_chain(client: &HttpClient, alpha: &str) -> io::Result<[NodeTimestamp; 4]> {
    let clock = Hlc::builder().node_id(NodeId::new(0xc1)).build().map_err(io::Error::other)?;
    let sent = clock.now_with_node();
    let request = Request::get(format!("{alpha}/time"))
        .header(HLC, header::encode(sent))
        .body(Empty::new())
        .map_err(io::Error::other)?;
    let response = client.request(request).await.map_err(io::Error::other)?;
    let answered = header::decode(response.headers())
        .map_err(io::Error::other)?
        .ok_or_else(|| io::Error::other("alpha's answer carries no hlc header"))?;
    let body = response.into_body().collect().await.map_err(io::Error::other)?;
    let time: TimeAnswer = serde_json::from_slice(&body.to_bytes())?;
    let stamped: NodeTimestamp = time.timestamp.parse().map_err(io::Error::other)?;
    let received = clock.update(answered.timestamp).map_err(io::Error::other)?;
    Ok([sent, stamped, answered, NodeTimestamp::new(received, clock.node_id())])
}

async fn post_json(client: &HttpClient, url: &str) -> io::Result<(StatusCode, serde_json::Value)> {
    let request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .body(Empty::new())
        .map_err(io::Error::other)?;
    let response = client.request(request).await.map_err(io::Error::other)?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(io::Error::other)?;
    Ok((status, serde_json::from_slice(&body.to_bytes())?))
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [alpha, beta] = &self.urls;
        let max = MAX_OFFSET.as_millis();
        writeln!(f, "Two hlc_node instances in this process, max offset {max} ms:")?;
        writeln!(f, "  alpha  node 0000000000000001  {alpha}  clock offset +0 ms")?;
        writeln!(f, "  beta   node 0000000000000002  {beta}  clock offset +{BETA_SKEW_MS} ms (beyond the max offset)")?;
        writeln!(f)?;
        writeln!(f, "1. Causality: a client stamps GET alpha/time; alpha merges the stamp and answers.")?;
        let labels = ["client sent", "alpha's /time", "alpha answered", "client received"];
        for (label, stamp) in labels.iter().zip(&self.causal_chain) {
            writeln!(f, "   {label:<16} {stamp}  ({})", stamp.timestamp)?;
        }
        let increasing = self.causal_chain.windows(2).all(|w| w[0] < w[1]);
        writeln!(f, "   each stamp greater than the one before: {increasing}")?;
        writeln!(f)?;
        writeln!(f, "2. POST beta/relay: beta calls alpha with a stamp {BETA_SKEW_MS} ms ahead of alpha's clock.")?;
        write_answer(f, &self.beta_to_alpha)?;
        writeln!(f, "   alpha's clock after refusing: {}", self.alpha_after_refusal)?;
        writeln!(f, "   beta's clock meanwhile:       {}", self.beta_clock)?;
        writeln!(f, "   (alpha kept its own time: the skewed stamp was never merged)")?;
        writeln!(f)?;
        writeln!(f, "3. POST alpha/relay: beta accepts alpha's call (alpha is behind), but its answer")?;
        writeln!(f, "   is stamped {BETA_SKEW_MS} ms ahead, so alpha's client layer refuses the answer.")?;
        write_answer(f, &self.alpha_to_beta)
    }
}

/// The relay's status and error, and the peer's problem details when it refused the call.
fn write_answer(
    f: &mut fmt::Formatter<'_>,
    (status, body): &(StatusCode, serde_json::Value),
) -> fmt::Result {
    let error = body["error"].as_str().unwrap_or("(no error)");
    writeln!(f, "   the relay answered {status}: {error}")?;
    if let Some(detail) = body["peer_body"]["detail"].as_str() {
        let kind = body["peer_body"]["type"].as_str().unwrap_or("?");
        writeln!(f, "   alpha's refusal ({kind}): {detail}")?;
    }
    Ok(())
}
