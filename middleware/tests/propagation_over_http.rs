//! The OpenTelemetry propagator across a real transport: two hyper services on loopback.
//! Service A, handling a request, calls service B through hyper-util's client with the trace
//! context and the `hlc` field injected by one composite propagator; B extracts both with the
//! same propagators, merges A's stamp into its clock and answers what it saw.

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{node, serve, START};
use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp, Timestamp};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::opentelemetry::HlcPropagator;
use hlc_middleware::PeerTimestamp;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
use opentelemetry::Context;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use serde_json::{json, Value};
use tower::service_fn;

/// Bound on every socket operation: generous, so that a loaded machine cannot fail the test,
/// yet a hung peer ends it.
const DEADLINE: Duration = Duration::from_secs(30);

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// W3C trace context and the `hlc` field side by side, as a service would install them.
fn propagators(hlc: Arc<Hlc<ManualClock>>) -> Arc<TextMapCompositePropagator> {
    Arc::new(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(HlcPropagator::new(hlc)),
    ]))
}

async fn within<F: Future>(what: &str, future: F) -> Result<F::Output, String> {
    tokio::time::timeout(DEADLINE, future)
        .await
        .map_err(|_| format!("{what}: nothing within {DEADLINE:?}"))
}

/// GETs `request` and reads its JSON body, each step under [`DEADLINE`].
async fn call(client: &HttpClient, request: Request<Empty<Bytes>>) -> Result<Value, String> {
    let response = within("response", client.request(request))
        .await?
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = within("body", response.into_body().collect())
        .await?
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    if status != StatusCode::OK {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
    }
    serde_json::from_slice(&body).map_err(|e| format!("json: {e}"))
}

fn answer(result: Result<Value, String>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match result {
        Ok(value) => (StatusCode::OK, value.to_string()),
        Err(error) => (StatusCode::BAD_GATEWAY, error),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    Ok(response)
}

/// B: extracts the trace context and the `hlc` field, merges the stamp (a receive event) and
/// answers what it saw.
fn b_sees(
    request: &Request<Incoming>,
    propagators: &TextMapCompositePropagator,
    hlc: &Hlc<ManualClock>,
) -> Value {
    let cx = propagators.extract(&HeaderExtractor(request.headers()));
    let parent = cx.span().span_context().clone();
    let peer = cx.get::<PeerTimestamp>().map(|PeerTimestamp(peer)| *peer);
    let merged = peer.map(|peer| match hlc.update(peer.timestamp) {
        Ok(merged) => json!(merged.as_u64()),
        Err(refused) => json!(refused.to_string()),
    });
    json!({
        "hlc_fields": request.headers().get_all(HLC).iter().count(),
        "hlc": peer.map(|peer| peer.to_string()),
        "trace_id": parent.is_valid().then(|| parent.trace_id().to_string()),
        "parent_span_id": parent.is_valid().then(|| parent.span_id().to_string()),
        "traceparent": request.headers().get("traceparent").map(|v| v.to_str().ok()),
        "merged": merged,
    })
}

async fn start_b(hlc: Arc<Hlc<ManualClock>>) -> SocketAddr {
    let propagators = propagators(hlc.clone());
    serve(service_fn(move |request: Request<Incoming>| {
        let seen = b_sees(&request, &propagators, &hlc);
        async move { answer(Ok(seen)) }
    }))
    .await
}

/// A: in a span of its own, stamps and calls B, then answers with what it sent and what B saw.
async fn a_calls_b(
    b: SocketAddr,
    tracer: &SdkTracer,
    propagators: &TextMapCompositePropagator,
    client: &HttpClient,
) -> Result<Value, String> {
    let cx = Context::new().with_span(tracer.start("a calls b"));
    let mut request = Request::get(format!("http://{b}/"))
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    propagators.inject_context(&cx, &mut HeaderInjector(request.headers_mut()));
    // Captured on A's side before the call: the stamp the injection (a send event) made.
    let sent = header::decode(request.headers())
        .map_err(|e| e.to_string())?
        .ok_or("no hlc field injected")?;
    let b_saw = call(client, request).await?;
    let span = cx.span().span_context().clone();
    Ok(json!({
        "sent": sent.to_string(),
        "trace_id": span.trace_id().to_string(),
        "span_id": span.span_id().to_string(),
        "b_saw": b_saw,
    }))
}

async fn start_a(hlc: Arc<Hlc<ManualClock>>, tracer: SdkTracer, b: SocketAddr) -> SocketAddr {
    let propagators = propagators(hlc);
    let client = http_client();
    let tracer = Arc::new(tracer);
    serve(service_fn(move |_: Request<Incoming>| {
        let (propagators, client, tracer) = (propagators.clone(), client.clone(), tracer.clone());
        async move { answer(a_calls_b(b, &tracer, &propagators, &client).await) }
    }))
    .await
}

fn get(address: SocketAddr) -> Request<Empty<Bytes>> {
    Request::get(format!("http://{address}/"))
        .body(Empty::new())
        .unwrap()
}

#[tokio::test]
async fn hlc_and_traceparent_cross_two_hyper_services() {
    // A runs 300 ms ahead of B, within the default max offset: B's merge takes A's stamp.
    let a = node(1, &ManualClock::new(START + 300_000));
    let b = node(2, &ManualClock::new(START));
    let tracer = SdkTracerProvider::builder().build().tracer("service-a");
    let b_address = start_b(b.clone()).await;
    let a_address = start_a(a.clone(), tracer, b_address).await;

    let seen = call(&http_client(), get(a_address)).await.unwrap();

    let sent: NodeTimestamp = seen["sent"].as_str().unwrap().parse().unwrap();
    assert_eq!(sent.node, NodeId::new(1));
    assert_eq!(sent.timestamp, a.last(), "{seen}");
    let b_saw = &seen["b_saw"];
    assert_eq!(b_saw["hlc_fields"], 1, "{seen}");
    assert_eq!(b_saw["hlc"].as_str(), Some(sent.to_string().as_str()));

    let trace_id = seen["trace_id"].as_str().unwrap();
    let span_id = seen["span_id"].as_str().unwrap();
    assert_ne!(trace_id, "00000000000000000000000000000000");
    assert_eq!(b_saw["trace_id"].as_str(), Some(trace_id), "{seen}");
    assert_eq!(b_saw["parent_span_id"].as_str(), Some(span_id), "{seen}");
    assert_eq!(
        b_saw["traceparent"].as_str(),
        Some(format!("00-{trace_id}-{span_id}-01").as_str())
    );

    // B had stamped nothing and its physical clock is behind the stamp, so the receive rule
    // (HEADER.md: l := max(l + 1, remote + 1, physical << 12)) gives exactly remote + 1.
    let merged = Timestamp::from_u64(b_saw["merged"].as_u64().unwrap());
    assert_eq!(merged, Timestamp::from_u64(sent.timestamp.as_u64() + 1));
    assert_eq!(b.last(), merged);
}

#[tokio::test]
async fn two_hlc_fields_on_the_wire_are_not_extracted_but_the_trace_is() {
    let b = node(2, &ManualClock::new(START));
    let before = b.last();
    let b_address = start_b(b.clone()).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut request = get(b_address);
    request
        .headers_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    for stamp in [
        "00-0006412b3c4d5003-00000000000000a1",
        "00-0006412b3c4d5004-00000000000000a1",
    ] {
        request.headers_mut().append(HLC, stamp.parse().unwrap());
    }

    let b_saw = call(&http_client(), request).await.unwrap();

    // Both fields crossed the wire, and the extraction saw them as malformed.
    assert_eq!(b_saw["hlc_fields"], 2, "{b_saw}");
    assert_eq!(b_saw["hlc"], Value::Null, "{b_saw}");
    assert_eq!(b_saw["merged"], Value::Null, "{b_saw}");
    assert_eq!(b.last(), before);
    assert_eq!(
        b_saw["trace_id"].as_str(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(b_saw["traceparent"].as_str(), Some(traceparent));
}
