//! `GET /health`: `200 ok`, or `503` with the middleware's `urn:hlc:clock-untrusted` problem
//! details naming the reason. The server layer skips the route, so it answers either way.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use hlc_core::health::ClockHealth;
use hlc_middleware::refusal::{ProblemResponse, RefusalResponse};
use hlc_middleware::Refusal;
use http::HeaderMap;

use super::Node;

pub(super) async fn health(State(node): State<Arc<Node>>) -> Response {
    let health = node.health().map_or(ClockHealth::Healthy, |b| b.health());
    match health {
        ClockHealth::Healthy => "ok".into_response(),
        ClockHealth::Unhealthy(reason) => ProblemResponse::new()
            .respond(&Refusal::ClockUntrusted(reason), &HeaderMap::new())
            .map(Body::from),
    }
}
