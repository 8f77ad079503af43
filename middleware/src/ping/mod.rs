//! Peer pings: the service that answers with this node's physical clock, and the
//! [`Prober`] that asks peers for theirs and feeds a [`PeerMonitor`](hlc_core::peers::PeerMonitor).
//!
//! The monitor in [`hlc_core::peers`] decides from ping exchanges whether this node's clock
//! is the one that is off; this module produces the exchanges over HTTP.
//!
//! - [`PingService`] answers any request with `200` and the JSON body
//!   `{"node_id": "<16 hex>", "physical_us": N}`: this node's id and its *physical* clock
//!   reading (µs since the Unix epoch), never an HLC stamp (see `HEADER.md`, "Peer pings").
//!   Mount it at a route of your choosing (`axum::Router::route_service("/hlc/ping", …)`).
//! - [`Prober`] pings each peer through a client stack of the caller's choosing, reading the
//!   local physical clock just before sending and just after the answer is read, and records
//!   each exchange in the monitor; [`Prober::run`] does a round every interval and calls
//!   [`evaluate`](hlc_core::peers::PeerMonitor::evaluate) after it.
//!
//! # Keep the ping out of the HLC layers
//!
//! A fenced node must keep answering pings, or it could never show its peers (nor itself)
//! that it has recovered. Skip the ping route in the server layer
//! ([`HlcServerLayer::skip_path`](crate::HlcServerLayer::skip_path)): a skipped path is
//! neither merged nor health-checked, so it answers while the node is fenced. Likewise send
//! pings through a client *without* the client layer (or at least without its health board):
//! a fenced node's client layer sends nothing, and the prober must keep measuring. Pings
//! carry no stamps either way; the offset is measured from physical clocks.
//!
//! ```
//! # use std::sync::Arc;
//! use hlc_core::{ManualClock, NodeId};
//! use hlc_middleware::ping::{PingAnswer, PingService};
//! use tower::ServiceExt;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let clock = ManualClock::new(1_700_000_000_000_000);
//! let ping = PingService::new(clock, NodeId::new(7));
//! let response = ping.oneshot(http::Request::new(())).await.unwrap();
//! let answer = PingAnswer::parse(response.body().as_bytes()).unwrap();
//! assert_eq!(answer, PingAnswer { node_id: NodeId::new(7), physical_us: 1_700_000_000_000_000 });
//! # }
//! ```

mod answer;
mod prober;
mod service;

pub use answer::{PingAnswer, PingAnswerError};
pub use prober::{PingError, PingOutcome, ProbeRound, Prober, DEFAULT_PING_TIMEOUT};
pub use service::PingService;
