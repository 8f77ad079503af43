//! A lock-free hybrid logical clock: timestamps that respect causality, stay close to real
//! time, and refuse remote clocks that run too far ahead.
//!
//! ```
//! use hlc_core::{Hlc, NodeTimestamp, Timestamp};
//!
//! let (alice, bob) = (Hlc::new(), Hlc::new());
//! let sent = alice.now_with_node();                   // stamp a message
//! let header = sent.to_string();                      // "00-<timestamp>-<node>"
//! let received: NodeTimestamp = header.parse()?;      // strict parser
//! let merged = bob.update(received.timestamp)?;       // receive event
//! assert!(merged > sent.timestamp);                   // causality kept
//!
//! // A timestamp an hour ahead is refused and leaves the clock untouched.
//! let hour_ahead = Timestamp::from_physical_micros(bob.now().physical_micros() + 3_600_000_000);
//! let before = bob.last();
//! assert!(bob.update(hour_ahead).is_err());
//! assert_eq!(bob.last(), before);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design
//!
//! - [`Timestamp`] packs microseconds since the Unix epoch (52 bits, until 2112) and a 12-bit
//!   logical counter into one `u64`; integer order is HLC order. A counter overflow carries into
//!   the physical part (counted in [`HlcStats::carries`]), so [`Hlc::now`] never fails.
//! - [`Hlc`] keeps that word in one `AtomicU64` and advances it with a compare-and-swap loop.
//!   It is checked with loom (`tests/loom.rs`) and with real threads.
//! - [`Hlc::update`] refuses a remote timestamp more than the max offset (default
//!   [`DEFAULT_MAX_OFFSET`]) ahead
//!   of the local physical clock, with an error naming both times and the bound.
//! - Physical time comes from a [`PhysicalClock`]: [`SystemClock`] (precise), [`CoarseClock`]
//!   and [`CachedClock`] (cheaper, coarser), `ManualClock` for tests (feature `test-util`), or
//!   any clock of your own, such as a time-sync client's corrected clock.
//! - [`NodeTimestamp`] pairs a timestamp with its [`NodeId`] for a total order across nodes,
//!   with a text wire form and a 16-byte sortable binary form (see [`wire`], and
//!   [two text forms](#two-text-forms) for how each displays).
//! - Optional restart monotonicity through an [`UpperBoundStore`] such as [`FileUpperBound`];
//!   a stored bound too far ahead of the clock fails the build rather than skew every stamp.
//! - [`lww`]: last-writer-wins registers and maps that merge by (timestamp, node id).
//! - [`merge`]: a lazy k-way merge of per-node logs, and a live reorderer for interleaved
//!   arrivals with a watermark and late-event reports.
//! - [`health`]: whether this node's own clock can be trusted, combined from every source
//!   that knows (time sync, the host's kernel figures, the peer monitor); see below.
//! - [`peers`]: the peer-offset monitor that fences a node whose clock disagrees with a
//!   strict majority of its peers.
//!
//! # Two text forms
//!
//! A [`NodeTimestamp`] displays as its wire form, what travels in a header and what
//! [`NodeTimestamp::from_str`](std::str::FromStr) parses; a [`Timestamp`] displays as
//! RFC 3339 in UTC with the logical count after `#`, for people and logs (and parses back
//! from it). The same instant in both:
//!
//! ```
//! use hlc_core::{NodeId, NodeTimestamp, Timestamp};
//!
//! let t = Timestamp::from_parts(1_700_000_000_000_000, 3)?;
//! let stamp = NodeTimestamp::new(t, NodeId::new(0xa1));
//! assert_eq!(stamp.to_string(), "00-60a24181e4000003-00000000000000a1"); // the wire
//! assert_eq!(stamp.timestamp.to_string(), "2023-11-14T22:13:20.000000Z#3"); // a log line
//! assert_eq!(stamp.node.to_string(), "00000000000000a1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Clock health
//!
//! Max offset guards a node against peers whose clocks run ahead, not against its own clock
//! being the wrong one. Sources that know about the local clock report into a
//! [`health::HealthBoard`], each through its own [`health::HealthReporter`]: time sync (its
//! error bound judged by [`health::HealthPolicy`]: unhealthy past half of max offset; no
//! bound; a disruption) and the [`peers::PeerMonitor`] (fenced by its peers). The worst
//! report wins, in [`health::ClockHealth`]'s order. A request path reads it with one atomic
//! load ([`health::HealthBoard::health`]). This crate depends on no time-sync crate: they
//! report into it.
//!
//! # Performance
//!
//! Stamping is one clock read and one compare-and-swap; [`CachedClock`] trades microsecond
//! accuracy for a few nanoseconds. The benches (`cargo bench -p hlc-benches --bench hlc`,
//! `--bench ordering`) and their figures are in `benches/README.md`.
//!
//! # Features
//!
//! - `chrono` (default): conversions to and from `chrono::DateTime<Utc>`; it brings `chrono`
//!   (with its `std` and `clock` features). Display and parsing of RFC 3339 need no feature.
//! - `tracing`: a `tracing` warning for each [`HlcEvent`]; it brings `tracing`.
//! - `test-util`: `ManualClock` and the `ManualClock::hlc` fixture, for tests.
//!
//! With none, the crate depends on `rustix` (the clock reads), `serde` and `thiserror`.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Where links from other crates' docs point when these docs were not built beside them
// (`cargo doc --no-deps` builds crates in parallel): docs.rs, at the latest 0.1 release.
#![doc(html_root_url = "https://docs.rs/hlc-core/0.1")]

mod clock;
mod datetime;
mod error;
mod events;
pub mod health;
mod hex;
mod hlc;
pub mod lww;
pub mod merge;
mod node;
pub mod peers;
mod persist;
mod serde_impls;
mod sync;
mod timestamp;
pub mod wire;

#[cfg(feature = "chrono")]
mod chrono_impls;

#[cfg(any(test, feature = "test-util"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use clock::ManualClock;
pub use clock::{CachedClock, CachedClockRefresher, CoarseClock, PhysicalClock, SystemClock};
pub use error::{BuildError, ParseError, RangeError, UpdateError};
pub use events::{HlcEvent, HlcObserver, HlcStats};
pub use hlc::{Hlc, HlcBuilder, DEFAULT_BACKWARD_JUMP_THRESHOLD, DEFAULT_MAX_OFFSET};
pub use node::NodeId;
pub use persist::{FileUpperBound, UpperBoundStore};
pub use timestamp::{Timestamp, LOGICAL_BITS, MAX_LOGICAL, MAX_PHYSICAL_MICROS};
pub use wire::NodeTimestamp;
