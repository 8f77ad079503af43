//! `POST /admin/step?ms=N`, the test hook `--chaos-admin` enables: steps the node's simulated
//! clock by N ms at run time, as an administrator stepping a real clock would. The server
//! layer skips it, so that a fenced node can be stepped back.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use super::Node;

/// Where the step route is served.
pub(super) const STEP_PATH: &str = "/admin/step";

/// The largest step the route takes, either way: a day, far beyond any clock fault worth
/// simulating, and far from overflowing the clock's microseconds.
const MAX_STEP_MS: i64 = 86_400_000;

pub(super) fn routes(node: Arc<Node>) -> Router {
    Router::new().route(STEP_PATH, post(step)).with_state(node)
}

async fn step(State(node): State<Arc<Node>>, uri: Uri) -> Response {
    match step_millis(uri.query().unwrap_or("")) {
        Ok(ms) => {
            let total = node.clock_step().step_millis(ms);
            Json(json!({ "stepped_ms": ms, "total_step_ms": total })).into_response()
        }
        Err(error) => (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response(),
    }
}

/// The `ms` parameter of the query: a whole number of milliseconds within a day.
fn step_millis(query: &str) -> Result<i64, String> {
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))
        .ok_or("expected ?ms=N (milliseconds, negative: back)")?;
    let ms: i64 = value
        .parse()
        .map_err(|e| format!("ms={value:?} is not a whole number of milliseconds: {e}"))?;
    if ms.abs() > MAX_STEP_MS {
        return Err(format!("a step of {ms} ms is beyond {MAX_STEP_MS} ms"));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_gives_the_step_or_a_clear_error() {
        assert_eq!(step_millis("ms=2000"), Ok(2000));
        assert_eq!(step_millis("x=1&ms=-500"), Ok(-500));
        for bad in ["", "ms=", "ms=1.5", "ms=ten", "ms=86400001", "step=5"] {
            let error = step_millis(bad).unwrap_err();
            assert!(error.contains("ms"), "{bad:?}: {error}");
        }
    }
}
