//! hyper: the server layer wraps any service that hyper serves, and [`client`] builds
//! hyper-util's pooled client with the client layer.
//!
//! ```
//! use std::{convert::Infallible, sync::Arc};
//! use http::{Request, Response};
//! use http_body_util::{BodyExt, Empty};
//! use hyper_util::{rt::TokioIo, server::conn::auto, service::TowerToHyperService};
//! use hlc_middleware::{HlcServerLayer, MergedTimestamp};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server_hlc = Arc::new(hlc_core::Hlc::new());
//! let service = ServiceBuilder::new()
//!     .layer(HlcServerLayer::new(server_hlc))
//!     .service_fn(|request: Request<hyper::body::Incoming>| async move {
//!         let merged = request.extensions().get::<MergedTimestamp>().unwrap().0;
//!         Ok::<_, Infallible>(Response::new(merged.to_string()))
//!     });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let address = listener.local_addr()?;
//! tokio::spawn(async move {
//!     let (stream, _) = listener.accept().await.unwrap();
//!     let server = auto::Builder::new(hyper_util::rt::TokioExecutor::new());
//!     let _ = server.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)).await;
//! });
//!
//! let client_hlc = Arc::new(hlc_core::Hlc::new());
//! let client = hlc_middleware::hyper::client::<Empty<bytes::Bytes>, _>(client_hlc.clone());
//! let request = Request::get(format!("http://{address}/")).body(Empty::new())?;
//! let response = client.oneshot(request).await?;
//! let merged_here = response.extensions().get::<MergedTimestamp>().unwrap().0;
//! let merged_there: hlc_core::Timestamp = String::from_utf8(
//!     response.into_body().collect().await?.to_bytes().to_vec(),
//! )?
//! .parse()?;
//! assert!(merged_here > merged_there);
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use hlc_core::{Hlc, PhysicalClock, SystemClock};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::client::HlcClient;

/// hyper-util's legacy client over plain HTTP with [`HlcClient`] around it.
pub type HyperClient<B, C = SystemClock> = HlcClient<Client<HttpConnector, B>, C>;

/// A pooled HTTP/1 client on the tokio runtime, stamping from and merging into `hlc`.
///
/// For other connectors or settings, wrap your own `Client` with
/// [`HlcClientLayer`](crate::HlcClientLayer).
pub fn client<B, C>(hlc: Arc<Hlc<C>>) -> HyperClient<B, C>
where
    B: http_body::Body + Send,
    B::Data: Send,
    C: PhysicalClock,
{
    let inner = Client::builder(TokioExecutor::new()).build_http();
    HlcClient::new(inner, hlc)
}
