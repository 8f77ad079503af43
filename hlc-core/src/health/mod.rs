//! Whether this node's own clock can be trusted: the signal every source of knowledge about
//! the clock reports into, and the request path reads.
//!
//! Max offset only protects a cluster whose clocks are close to true time; a node whose own
//! clock is wrong cannot notice it from the stamps it refuses or accepts. Whatever knows
//! better reports here: time sync (its error bound, or that it has none, or that the clock
//! was disrupted), the host's kernel figures, and the [peer monitor](crate::peers). This
//! crate depends on none of them; they depend on it.
//!
//! ```
//! use std::time::Duration;
//! use hlc_core::health::{HealthBoard, HealthPolicy, UnhealthyReason};
//!
//! let board = HealthBoard::new();
//! let time_sync = board.reporter("ntp");
//! let policy = HealthPolicy::new(); // unhealthy past half of the default max offset
//!
//! time_sync.report(policy.judge_radius(Duration::from_millis(3)));
//! assert!(board.is_healthy());                  // one atomic load on the request path
//! time_sync.report(policy.judge_radius(Duration::from_secs(1)));
//! assert!(matches!(
//!     board.health().reason(),
//!     Some(UnhealthyReason::RadiusTooLarge { .. })
//! ));
//! ```
//!
//! - [`ClockHealth`]: healthy, or unhealthy with an [`UnhealthyReason`]. Small and `Copy`.
//! - [`HealthBoard`]: each source takes a [`HealthReporter`] (a slot of its own); the worst
//!   report wins. Worst is [`ClockHealth`]'s order: healthy, then a too-wide bound
//!   ([`RadiusTooLarge`](UnhealthyReason::RadiusTooLarge)), no bound
//!   ([`Unsynchronised`](UnhealthyReason::Unsynchronised)), a disruption
//!   ([`Disrupted`](UnhealthyReason::Disrupted)), and worst, peers' evidence
//!   ([`Fenced`](UnhealthyReason::Fenced)).
//! - [`HealthPolicy`]: the default rule, unhealthy when the radius exceeds max offset / 2
//!   ([`HealthPolicy::DEFAULT_RADIUS_LIMIT`]), configurable.
//!
//! Reading is one relaxed atomic load of a packed word whose integer order is the severity
//! order; reporting (rare: once per poll or per monitor round) takes a lock, writes its slot
//! and republishes the worst. Both are model-checked with loom (`tests/loom.rs`).

mod board;
mod clock_health;
mod packed;
mod policy;

pub use board::{HealthBoard, HealthReporter, SourceReport};
pub use clock_health::{ClockHealth, UnhealthyReason, MAX_ENCODED_DURATION, MAX_ENCODED_OFFSET_MS};
pub use policy::HealthPolicy;
