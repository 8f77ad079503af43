//! The min-heap entry shared by the k-way merge and the reorderer.

use std::cmp::Ordering;

use crate::{NodeId, NodeTimestamp, Timestamp};

/// A stamp as one integer, timestamp in the high half: the same order as [`NodeTimestamp`],
/// compared without branches.
#[inline]
pub(super) fn key_of(stamp: NodeTimestamp) -> u128 {
    (u128::from(stamp.timestamp.as_u64()) << 64) | u128::from(stamp.node.as_u64())
}

/// The stamp back from [`key_of`].
#[inline]
pub(super) fn stamp_of(key: u128) -> NodeTimestamp {
    // The truncations take the two halves apart.
    NodeTimestamp::new(
        Timestamp::from_u64((key >> 64) as u64),
        NodeId::new(key as u64),
    )
}

/// An item with its stamp and a tie-breaker (a source index), ordered so that
/// `BinaryHeap`, a max-heap, pops the least `(stamp, tie)` first.
pub(super) struct Queued<T> {
    pub(super) key: u128,
    pub(super) tie: usize,
    pub(super) item: T,
}

impl<T> Queued<T> {
    #[inline]
    pub(super) fn new(key: u128, tie: usize, item: T) -> Self {
        Self { key, tie, item }
    }
}

impl<T> PartialEq for Queued<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for Queued<T> {}

impl<T> PartialOrd for Queued<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Queued<T> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the least stamp is the heap's maximum.
        (other.key, other.tie).cmp(&(self.key, self.tie))
    }
}
