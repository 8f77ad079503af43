//! The peer-offset monitor: how a node finds out that its own clock is the wrong one, and
//! fences itself.
//!
//! Max offset makes each node refuse stamps from a peer too far ahead, but the node whose
//! clock is wrong refuses or accepts like any other and never learns that it is the one
//! that is off. Its peers can tell it: this module takes ping exchanges with them, and
//! decides, by majority, whether to fence this node. It is pure (time is an argument, no
//! I/O); the ping service and the prober that produce the exchanges live elsewhere.
//!
//! # Measuring
//!
//! A [`PingExchange`] holds two readings of this node's physical clock (sent, received) and
//! the peer's physical clock reading from its answer. Offset = peer − midpoint, uncertainty =
//! round trip / 2: the peer's reading happened somewhere within the round trip. Physical
//! readings, never HLC stamps, since merges push a stamp's physical part ahead of its node's
//! clock.
//!
//! Per peer, the [`PeerMonitor`] keeps the last offset, uncertainty and round trip, when it
//! last answered, and the offsets over a rolling window ([`OffsetDistribution`]: min,
//! median, max, count; [`MonitorConfig::DEFAULT_WINDOW`], at most
//! [`MonitorConfig::DEFAULT_WINDOW_CAPACITY`] samples). A peer that has not answered for
//! [`MonitorConfig::DEFAULT_STALE_AFTER`] is stale and has no vote.
//!
//! # The rule
//!
//! Each [`PeerMonitor::evaluate`] is one round over the fresh peers:
//!
//! - A peer is **far** when its last `|offset| − uncertainty` exceeds the threshold,
//!   [`MonitorConfig::DEFAULT_FAR_PERCENT`] of max offset (CockroachDB's tolerance for its
//!   remote clock monitor). A measurement whose uncertainty covers the threshold is never
//!   far: noise does not fence.
//! - A strict majority of the fresh peers far: the round [`Disagrees`](RoundVerdict::Disagrees),
//!   and this node fences itself (an observer gets [`PeerEvent::Fenced`], the health
//!   reporter reports [`Fenced`](crate::health::UnhealthyReason::Fenced)).
//! - Only a minority far (or none): the round [`Agrees`](RoundVerdict::Agrees); the far
//!   peers are named in the [`Round`] and the [`MonitorReport`], and this node stays healthy.
//!   A fenced node recovers after [`MonitorConfig::DEFAULT_RECOVERY_ROUNDS`] consecutive
//!   agreeing rounds ([`PeerEvent::Unfenced`]); a single agreeing round among disagreeing
//!   ones (a flapping peer) does not lift the fence.
//! - Fewer than [`MonitorConfig::DEFAULT_MIN_FRESH_PEERS`] (two) fresh peers: **no verdict**.
//!   With one peer, a disagreement cannot say which clock is wrong.
//!
//! A node cut off from most of the cluster (a partition) judges by the fresh peers it still
//! sees: with two or more it decides among them; with fewer, nothing changes. A healthy node
//! stays healthy (one peer cannot show it is wrong) and a fenced node stays fenced (it cannot
//! show it has recovered); a round without a verdict also restarts the count towards
//! recovery.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use hlc_core::health::HealthBoard;
//! use hlc_core::peers::{MonitorConfig, PeerMonitor, PeerVerdict, PingExchange};
//! use hlc_core::NodeId;
//!
//! let board = HealthBoard::new();
//! let mut monitor = PeerMonitor::new(MonitorConfig::new()).with_reporter(board.reporter("peers"));
//! let now = Instant::now();
//! // Peer 4's clock is two seconds ahead; peers 2 and 3 agree with this node.
//! for (peer, ahead_us) in [(2, 1_000), (3, -2_000), (4, 2_000_000)] {
//!     let sent = 1_700_000_000_000_000;
//!     let exchange = PingExchange {
//!         peer: NodeId::new(peer),
//!         sent_local: sent,
//!         received_local: sent + 800,
//!         peer_physical: sent.saturating_add_signed(400 + ahead_us),
//!     };
//!     monitor.record(now, exchange)?;
//! }
//! let round = monitor.evaluate(now);
//! assert_eq!(round.far, [NodeId::new(4)]); // the minority is named
//! assert!(board.is_healthy());             // and this node stays healthy
//! let report = monitor.report(now + Duration::from_secs(1));
//! assert_eq!(report.peers[2].verdict, PeerVerdict::Far);
//! # Ok::<(), hlc_core::peers::ExchangeError>(())
//! ```

mod config;
mod events;
mod exchange;
mod monitor;
mod report;
mod window;

pub use config::MonitorConfig;
pub use events::{PeerEvent, PeerObserver};
pub use exchange::{ExchangeError, Measurement, PingExchange};
pub use monitor::PeerMonitor;
pub use report::{FenceChange, MonitorReport, PeerReport, PeerVerdict, Round, RoundVerdict};
pub use window::OffsetDistribution;
