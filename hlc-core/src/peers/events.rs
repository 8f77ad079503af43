//! What the peer monitor tells an observer.

use crate::NodeId;

/// A change of the fence, handed to a [`PeerObserver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerEvent<'a> {
    /// A strict majority of the fresh peers found this node's clock too far: it fenced
    /// itself.
    Fenced {
        /// The far peers, in node id order.
        far: &'a [NodeId],
        /// How many peers voted.
        fresh: usize,
        /// The median offset of the far peers, in µs (peer minus this node).
        median_offset_us: i64,
    },
    /// Enough consecutive rounds agreed: this node is no longer fenced.
    Unfenced {
        /// The consecutive healthy rounds that ended the fence.
        healthy_rounds: u32,
    },
}

/// Receives [`PeerEvent`]s, from the thread that calls
/// [`evaluate`](super::PeerMonitor::evaluate). Closures implement it.
pub trait PeerObserver: Send + Sync {
    /// One event.
    fn on_event(&self, event: &PeerEvent<'_>);
}

impl<F: Fn(&PeerEvent<'_>) + Send + Sync> PeerObserver for F {
    fn on_event(&self, event: &PeerEvent<'_>) {
        self(event);
    }
}
