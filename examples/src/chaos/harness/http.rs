//! The harness's HTTP client: hyper-util's pooled HTTP/1 client, every request bounded.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A whole answer.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

/// A cloneable client; clones share the connection pool.
#[derive(Debug, Clone)]
pub(super) struct HttpClient {
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl HttpClient {
    pub(super) fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends `method url` with `hlc` as the `hlc` header when given, and reads the whole
    /// answer within `limit`.
    ///
    /// # Errors
    /// What failed (a bad url, connecting, the connection, a timeout), as text.
    pub(super) async fn send(
        &self,
        method: Method,
        url: &str,
        hlc: Option<&str>,
        limit: Duration,
    ) -> Result<Answer, String> {
        let uri: Uri = url.parse().map_err(|e| format!("bad url {url}: {e}"))?;
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(stamp) = hlc {
            request = request.header("hlc", stamp);
        }
        let request = request.body(Empty::new()).map_err(|e| e.to_string())?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                // The legacy client's error says little; its source says what failed.
                match std::error::Error::source(&e) {
                    Some(source) => format!("{e}: {source}"),
                    None => e.to_string(),
                }
            })?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| format!("reading the body: {e}"))?;
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body: body.to_bytes(),
            })
        };
        tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| format!("timed out after {limit:?}"))?
    }
}
