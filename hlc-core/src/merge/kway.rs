//! The lazy k-way merge of per-node streams.

use std::collections::binary_heap::{BinaryHeap, PeekMut};
use std::fmt;
use std::iter::FusedIterator;

use super::queue::{key_of, Queued};
use super::Stamped;

/// Merges streams that are each in stamp order into one stream in `(timestamp, node id)`
/// order, lazily: it holds one pending item per stream, in a binary heap, and pulls the next
/// item of a stream only when that stream's head is yielded. Each item costs `O(log k)` for
/// `k` streams; nothing is collected, so the streams may be files or endless channels.
///
/// Equal stamps (which a clock never issues twice) come out in the order of the streams.
/// A stream that is itself out of order is not sorted: its items still all come out, and the
/// merge continues from wherever that stream went.
///
/// ```
/// use hlc_core::merge::KWayMerge;
/// use hlc_core::{NodeId, NodeTimestamp, Timestamp};
///
/// let at = |micros, node| NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node));
/// let node_a = vec![at(1, 1), at(4, 1)];
/// let node_b = vec![at(2, 2), at(3, 2), at(5, 2)];
/// let merged: Vec<_> = KWayMerge::new([node_a, node_b]).map(|s| s.timestamp.physical_micros()).collect();
/// assert_eq!(merged, [1, 2, 3, 4, 5]);
/// ```
pub struct KWayMerge<I: Iterator> {
    sources: Vec<I>,
    heads: BinaryHeap<Queued<I::Item>>,
}

impl<I> KWayMerge<I>
where
    I: Iterator<Item: Stamped>,
{
    /// A merge of `sources`, pulling the first item of each now.
    pub fn new<S>(sources: S) -> Self
    where
        S: IntoIterator<Item: IntoIterator<IntoIter = I>>,
    {
        let mut sources: Vec<I> = sources.into_iter().map(IntoIterator::into_iter).collect();
        let mut heads = BinaryHeap::with_capacity(sources.len());
        for (index, source) in sources.iter_mut().enumerate() {
            if let Some(item) = source.next() {
                heads.push(Queued::new(key_of(item.stamp()), index, item));
            }
        }
        Self { sources, heads }
    }
}

impl<I> Iterator for KWayMerge<I>
where
    I: Iterator<Item: Stamped>,
{
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let mut least = self.heads.peek_mut()?;
        let index = least.tie;
        match self.sources[index].next() {
            // Replacing the top in place costs one sift-down instead of a pop and a push.
            Some(item) => {
                let next = Queued::new(key_of(item.stamp()), index, item);
                Some(std::mem::replace(&mut *least, next).item)
            }
            None => Some(PeekMut::pop(least).item),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let pending = self.heads.len();
        self.heads
            .iter()
            .map(|head| self.sources[head.tie].size_hint())
            .fold((pending, Some(pending)), |(low, high), (l, h)| {
                let high = high.zip(h).and_then(|(a, b)| a.checked_add(b));
                (low.saturating_add(l), high)
            })
    }
}

/// A stream is never pulled again once it has ended, so the merge ends for good too.
impl<I> FusedIterator for KWayMerge<I> where I: Iterator<Item: Stamped> {}

impl<I: Iterator> fmt::Debug for KWayMerge<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KWayMerge")
            .field("sources", &self.sources.len())
            .field("live_sources", &self.heads.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NodeId, NodeTimestamp, Timestamp};

    fn at(micros: u64, node: u64) -> NodeTimestamp {
        NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node))
    }

    #[test]
    fn merges_in_stamp_then_node_order() {
        let merged: Vec<_> =
            KWayMerge::new([vec![at(1, 2), at(3, 2)], vec![], vec![at(1, 1), at(2, 1)]]).collect();
        assert_eq!(merged, [at(1, 1), at(1, 2), at(2, 1), at(3, 2)]);
    }

    #[test]
    fn size_hint_counts_pending_and_remaining() {
        let mut merge = KWayMerge::new([vec![at(1, 1), at(2, 1)], vec![at(3, 2)]]);
        assert_eq!(merge.size_hint(), (3, Some(3)));
        merge.next();
        assert_eq!(merge.size_hint(), (2, Some(2)));
        assert_eq!(merge.by_ref().count(), 2);
        assert_eq!(merge.next(), None);
    }

    #[test]
    fn endless_streams_are_merged_lazily() {
        let evens = (0..).map(|i| at(2 * i, 1));
        let odds = (0..).map(|i| at(2 * i + 1, 2));
        let first: Vec<u64> = KWayMerge::new([
            Box::new(evens) as Box<dyn Iterator<Item = _>>,
            Box::new(odds),
        ])
        .take(5)
        .map(|s| s.timestamp.physical_micros())
        .collect();
        assert_eq!(first, [0, 1, 2, 3, 4]);
    }
}
