//! Prometheus metrics through `prometheus-client`, in a registry of the user's own.
//!
//! Three pieces, each registered on its own, so that a service exposes what it has:
//!
//! - [`PrometheusObserver`]: a [`LayerObserver`](crate::LayerObserver) counting what the
//!   layers do, and a histogram of the offsets that [peer pings](crate::ping) measure.
//! - [`ClockCollector`]: the clock's own counters ([`HlcStats`](hlc_core::HlcStats)), read
//!   at each scrape.
//! - [`HealthCollector`]: the [`HealthBoard`](hlc_core::health::HealthBoard)'s verdict and
//!   each source's report, read at each scrape.
//!
//! ```
//! use std::sync::Arc;
//! use hlc_core::health::HealthBoard;
//! use hlc_middleware::prometheus::{ClockCollector, HealthCollector, PrometheusObserver};
//! use hlc_middleware::HlcServerLayer;
//! use prometheus_client::registry::Registry;
//!
//! let (hlc, board) = (Arc::new(hlc_core::Hlc::new()), HealthBoard::new());
//! let mut registry = Registry::default();
//! let observer = PrometheusObserver::new(&mut registry);
//! registry.register_collector(Box::new(ClockCollector::new(hlc.clone())));
//! registry.register_collector(Box::new(HealthCollector::new(board.clone())));
//! let layer = HlcServerLayer::new(hlc).health(board).observer(Arc::new(observer));
//!
//! let mut text = String::new(); // what GET /metrics answers
//! prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)?;
//! assert!(text.contains("hlc_clock_healthy 1\n"));
//! # let _ = layer;
//! # Ok::<(), std::fmt::Error>(())
//! ```
//!
//! # Metrics
//!
//! Names as the Prometheus text format writes them (a registry made with
//! `Registry::with_prefix` puts its prefix in front):
//!
//! | name | type | labels | what |
//! | --- | --- | --- | --- |
//! | `hlc_stamps_total` | counter | `side` | messages the layers stamped (the server its responses, the client its requests) |
//! | `hlc_merges_total` | counter | `side` | peers' stamps merged into the clock |
//! | `hlc_refusals_total` | counter | `side`, `reason` | messages refused; `reason` is [`Refusal::kind`](crate::Refusal::kind) |
//! | `hlc_ignored_total` | counter | `side`, `reason` | what would have been refused, let through ([`LayerObserver::ignored`](crate::LayerObserver::ignored)) |
//! | `hlc_peer_offset_microseconds` | histogram | `peer` | each ping's offset of the peer's clock from this node's (peer minus this node), `peer` its node id in 16 hex digits |
//! | `hlc_clock_carries_total` | counter | | logical counter overflows carried into the physical part |
//! | `hlc_clock_backward_jumps_total` | counter | | backward steps of the physical clock |
//! | `hlc_clock_forward_leaps_total` | counter | | forward leaps of the physical clock beyond the threshold |
//! | `hlc_clock_refused_total` | counter | | remote timestamps the clock refused, through the layers or not |
//! | `hlc_clock_persist_failures_total` | counter | | failed writes of the persisted upper bound |
//! | `hlc_clock_max_offset_seconds` | gauge | | the clock's max offset |
//! | `hlc_clock_healthy` | gauge | | 1 while the board says healthy, else 0 |
//! | `hlc_clock_health` | gauge | `state` | 1 for the board's state, 0 for the others |
//! | `hlc_clock_health_source` | gauge | `source`, `state` | the same, per source that reports into the board |
//!
//! `side` is `server` or `client`. `state` is `healthy`, `radius_too_large`,
//! `unsynchronised`, `disrupted` or `fenced` (the `reason` member of the `503` problem
//! details, `HEADER.md`), 1 for the current one and 0 for the others, so that an alert can
//! read `hlc_clock_health{state="fenced"} == 1`.
//!
//! The offset histogram is in microseconds, as the ping measures it, and its buckets are
//! shares of the max offset ([`PrometheusObserver::with_max_offset`]) on both sides of zero:
//! a peer behind this node observes negative values, so its `_sum` can go down.
//!
//! # Cost
//!
//! The per-message counters (`side` only) are created up front: counting a stamp or a merge
//! is one relaxed atomic add. A refusal or an ignored message looks its `reason` up in a
//! map first. Collectors read the clock and the board only when scraped.

mod clock;
mod health;
mod observer;

pub use clock::ClockCollector;
pub use health::HealthCollector;
pub use observer::PrometheusObserver;
