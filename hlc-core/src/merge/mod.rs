//! Merging per-node event logs into one order.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use hlc_core::merge::{KWayMerge, ReorderConfig, Reorderer};
//! use hlc_core::{NodeId, NodeTimestamp, Timestamp};
//!
//! let at = |micros, node| NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node));
//! // Logs already in order per node: merge them lazily.
//! let merged: Vec<_> = KWayMerge::new([vec![at(1, 1), at(3, 1)], vec![at(2, 2)]]).collect();
//! assert_eq!(merged, [at(1, 1), at(2, 2), at(3, 1)]);
//!
//! // Live arrivals: an event waits until every source has passed it.
//! let start = Instant::now();
//! let mut live = Reorderer::new(ReorderConfig::new(), [NodeId::new(1), NodeId::new(2)], start);
//! live.push(at(3, 1), start)?;
//! assert_eq!(live.pop(start), None); // node 2 may still send something earlier
//! live.push(at(2, 2), start)?;
//! assert_eq!(live.pop(start), Some(at(2, 2)));
//! // Node 2 falls silent: after the max delay, node 1's event goes out anyway.
//! assert_eq!(live.pop(start + Duration::from_secs(2)), Some(at(3, 1)));
//! # Ok::<(), hlc_core::merge::PushError<NodeTimestamp>>(())
//! ```
//!
//! Two tools, for two situations:
//!
//! - [`KWayMerge`]: the logs are complete (files, or streams you can pull from), each in
//!   its node's order. A lazy iterator over them in global order, `O(log k)` per event.
//! - [`Reorderer`]: events arrive live and interleaved. It holds each until the watermark
//!   (the least of the sources' latest stamps) passes it, bounds how long a silent source can
//!   hold the order back and how many events wait, and hands back, as late, any event that
//!   arrives after its place in the order has gone.
//!
//! The order is `(timestamp, node id)`, the order of [`NodeTimestamp`]. With hybrid
//! timestamps it respects causality: a message's receipt is stamped after its sending, so it
//! comes after it, whatever the nodes' clock skew.

use crate::NodeTimestamp;

mod kway;
mod queue;
mod reorder;
mod settings;
mod sources;

pub use kway::KWayMerge;
pub use reorder::Reorderer;
pub use settings::{PushError, ReorderConfig, ReorderStats};

/// Something that carries the stamp it is ordered by.
pub trait Stamped {
    /// The stamp: its timestamp and the node that made it.
    fn stamp(&self) -> NodeTimestamp;
}

impl Stamped for NodeTimestamp {
    #[inline]
    fn stamp(&self) -> NodeTimestamp {
        *self
    }
}

/// A stamped payload.
impl<T> Stamped for (NodeTimestamp, T) {
    #[inline]
    fn stamp(&self) -> NodeTimestamp {
        self.0
    }
}

impl<T: Stamped + ?Sized> Stamped for &T {
    #[inline]
    fn stamp(&self) -> NodeTimestamp {
        (**self).stamp()
    }
}

impl<T: Stamped + ?Sized> Stamped for Box<T> {
    #[inline]
    fn stamp(&self) -> NodeTimestamp {
        (**self).stamp()
    }
}
