//! Tower layers that carry hybrid logical clock timestamps across services and refuse peers
//! whose clocks run too far ahead.
//!
//! ```
//! use std::{convert::Infallible, sync::Arc};
//! use hlc_middleware::{header::HLC, ServiceBuilderExt};
//! use http::{Request, Response};
//! use tower::{ServiceBuilder, ServiceExt};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (alice, bob) = (Arc::new(hlc_core::Hlc::new()), Arc::new(hlc_core::Hlc::new()));
//! let server = ServiceBuilder::new() // bob's side: merge requests, stamp responses
//!     .hlc_server(bob.clone())
//!     .service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
//! let client = ServiceBuilder::new().hlc_client(alice.clone()).service(server);
//! let response = client.oneshot(Request::new(())).await?; // alice -> bob -> alice
//! assert!(alice.last() > bob.last()); // bob's answer happened before alice received it
//! assert!(response.headers().contains_key(HLC));
//! # Ok(())
//! # }
//! ```
//!
//! # What the layers do
//!
//! - [`HlcServerLayer`] (module [`server`]) merges the `hlc` header of each request into the
//!   local [`Hlc`](hlc_core::Hlc), refuses peers more than the clock's max offset ahead
//!   (before they can drag the clock into the future, as CockroachDB does in its RPC layer),
//!   leaves [`PeerTimestamp`] and [`MergedTimestamp`] in the request's extensions, and stamps
//!   every response with a fresh timestamp.
//! - [`HlcClientLayer`] (module [`client`]) stamps each outgoing request and merges the
//!   response's header, refusing skewed responses the same way.
//! - [`Policy`] decides what missing, malformed and skewed headers do; [`refusal`] shapes the
//!   refusal response (RFC 9457 problem details, or a gRPC status); [`LayerObserver`] reports
//!   what happened to instrumentation.
//! - [`header`] specifies the wire format for peers written in any language.
//! - [`signature`] signs stamps so that a caller without the cluster's key cannot move its
//!   clock (below).
//!
//! Both layers are `Clone`, delegate `poll_ready`, accept any body type and buffer nothing.
//! A refusal is an `Ok` response, as tower-http's refusing middleware do. What they cost per
//! request, and under load over loopback, is measured in `benches/README.md`.
//!
//! # Signed stamps
//!
//! Without keys, any caller that reaches a service can push its clock up to the max offset
//! ahead. Given [`SigningKeys`] (a key file: one `<key id> <key as hex>` a line, the first
//! signs, all verify), both layers add `hlc-signature: v1=<key id>:<HMAC-SHA256 in hex>`
//! over the exact `hlc` value to every stamp they send, and merge a received stamp only when
//! its signature verifies (RustCrypto `hmac` and `sha2`, compared in constant time). An
//! unsigned or badly signed stamp is never merged; [`UnsignedPolicy`] decides whether the
//! message is still served (`Ignore`, the default) or refused (`Refuse`: `401` with problem
//! details, gRPC `UNAUTHENTICATED`, a [`ClientError`] on the client). The signature is
//! checked before the max offset. Without keys nothing changes. See [`signature`] and
//! `HEADER.md`.
//!
//! ```
//! # use std::sync::Arc;
//! use hlc_middleware::{HlcServerLayer, SigningKeys, UnsignedPolicy};
//! let keys = SigningKeys::parse(&format!("k1 {}", "5e".repeat(32)))?; // or SigningKeys::load(path)
//! let layer = HlcServerLayer::new(Arc::new(hlc_core::Hlc::new()))
//!     .signing_keys(keys)
//!     .unsigned(UnsignedPolicy::Refuse);
//! # let _ = layer;
//! # Ok::<(), hlc_middleware::signature::KeyFileError>(())
//! ```
//!
//! # Clock health
//!
//! Max offset protects a cluster only while each node's own clock is close to true time. Given
//! a [`HealthBoard`](hlc_core::health::HealthBoard) (which time sync, a disruption watchdog and
//! the peer monitor report into; the worst report wins), both layers read the local clock's
//! health before each message, one relaxed atomic load with no lock and no allocation, and
//! while it is unhealthy:
//!
//! - [`HlcServerLayer::health`] answers `503` with `Retry-After`
//!   ([`DEFAULT_UNTRUSTED_RETRY_AFTER`]) and problem details of type `urn:hlc:clock-untrusted`
//!   whose `detail` and members name the reason (the radius and its limit, the fencing
//!   verdict, or no bound / a disruption); gRPC requests get `grpc-status: 14` (UNAVAILABLE).
//!   The inner service is not called, the caller's stamp is not merged, and the answer carries
//!   no `hlc` header: a stamp from an untrusted clock is what must not spread.
//! - [`HlcClientLayer::health`] sends nothing and returns [`ClientError::ClockUntrusted`].
//! - [`HealthMode::ObserveOnly`] serves and sends as usual but tells the [`LayerObserver`].
//!
//! Without a board nothing changes. [`startup::wait_healthy`] holds a node back at start-up
//! until its clock is healthy, for a bounded time.
//!
//! ```
//! # use std::sync::Arc;
//! use hlc_core::health::{HealthBoard, UnhealthyReason};
//! use hlc_middleware::{HealthMode, HlcServerLayer};
//! let board = HealthBoard::new();
//! let time_sync = board.reporter("ntp"); // ntp-sync's `NtpClient::report_health` takes this
//! time_sync.report(UnhealthyReason::Unsynchronised.into()); // until its first bound
//! let layer = HlcServerLayer::new(Arc::new(hlc_core::Hlc::new())).health(board.clone());
//! let observing = layer.clone().health_mode(HealthMode::ObserveOnly);
//! # let _ = (layer, observing);
//! ```
//!
//! # Peer pings
//!
//! A node's clock can be wrong in a way only its peers see. [`ping`] has the two halves of
//! the peer monitor's wire: [`ping::PingService`] answers with this node's physical clock
//! (mount it at any route, and skip that route in the server layer so that a fenced node
//! keeps answering), and [`ping::Prober`] pings a set of peers through a client stack every
//! interval and feeds the exchanges to a [`PeerMonitor`](hlc_core::peers::PeerMonitor),
//! which fences this node (through the [`HealthBoard`](hlc_core::health::HealthBoard) the
//! layers read) when most of its peers find its clock far off. The prober needs no runtime:
//! it sleeps through the function it is given (`tokio::time::sleep`).
//!
//! # Features
//!
//! None is on by default: the layers need none of them, and work with any `http`-based tower
//! stack, hyper and tonic servers included. Each adds a module of the same name, and brings
//! the crates it integrates:
//!
//! | feature | module | what it adds | brings |
//! |---|---|---|---|
//! | `axum` | `hlc_middleware::axum` | [`MergedTimestamp`] and [`PeerTimestamp`] as axum extractors | `axum` |
//! | `hyper` | `hlc_middleware::hyper` | hyper-util's pooled client with the client layer | `hyper-util` (client, http1, tokio) |
//! | `tonic` | `hlc_middleware::tonic` | client-side refusals as `tonic::Status` | `tonic`, tower's `util` |
//! | `reqwest` | `hlc_middleware::reqwest` | a `reqwest_middleware::Middleware` | `reqwest`, `reqwest-middleware`, `async-trait` |
//! | `opentelemetry` | `hlc_middleware::opentelemetry` | a `TextMapPropagator` for the `hlc` field, span attributes and metrics | `opentelemetry` (trace, metrics) |
//! | `prometheus` | `hlc_middleware::prometheus` | an observer and collectors for a `prometheus-client` registry: stamps, merges, refusals by reason, the clock's carries and jumps, per-peer offset histograms, the clock's health | `prometheus-client` |
//! | `nats` | `hlc_middleware::nats` | stamps NATS message headers on publish and merges them on receipt, with the layers' refusal rules | `async-nats` |
//!
//! Without `axum`, a handler that takes [`MergedTimestamp`] or [`PeerTimestamp`] does not
//! compile, and axum's error (the handler function does not implement `Handler`) does not
//! say why: turn the feature on.
//!
//! Each module is named after the crate it integrates. Import its items, as the examples
//! here do, rather than the module: `use hlc_middleware::reqwest;` would hide the `reqwest`
//! crate in that file (`::reqwest` still reaches it). To name the module, rename it:
//!
//! ```
//! # #[cfg(feature = "reqwest")] {
//! use hlc_middleware::reqwest::HlcMiddleware; // the item: `reqwest` stays the crate
//! use hlc_middleware::reqwest as hlc_reqwest; // or the module, under a name of its own
//!
//! let hlc = std::sync::Arc::new(hlc_core::Hlc::new());
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(HlcMiddleware::new(hlc.clone()))
//!     .build();
//! let _same: hlc_reqwest::HlcMiddleware = HlcMiddleware::new(hlc);
//! # let _ = client;
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
// Where links from other crates' docs point when these docs were not built beside them
// (`cargo doc --no-deps` builds crates in parallel): docs.rs, at the latest 0.1 release.
#![doc(html_root_url = "https://docs.rs/hlc-middleware/0.1")]

pub mod body;
mod builder;
pub mod client;
mod exchange;
pub mod extension;
pub mod header;
pub mod observer;
pub mod ping;
pub mod policy;
pub mod refusal;
pub mod server;
pub mod signature;
pub mod startup;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub mod hyper;
#[cfg(feature = "nats")]
#[cfg_attr(docsrs, doc(cfg(feature = "nats")))]
pub mod nats;
#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub mod opentelemetry;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub mod prometheus;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod reqwest;
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
pub mod tonic;

pub use body::HlcBody;
pub use builder::ServiceBuilderExt;
pub use client::{ClientError, HlcClient, HlcClientLayer};
pub use extension::{MergedTimestamp, PeerTimestamp};
pub use header::HeaderError;
pub use observer::{LayerObserver, Side};
pub use policy::{HealthMode, Policy, UnsignedPolicy};
pub use refusal::{ProblemResponse, Refusal, RefusalResponse, DEFAULT_UNTRUSTED_RETRY_AFTER};
pub use server::{HlcServer, HlcServerLayer};
pub use signature::SigningKeys;
