//! The reorderer's sources: one queue of waiting events per source, kept in stamp order, and
//! a heap of the queues' heads, so that finding the least waiting event costs `O(log k)` for
//! `k` sources however many events wait.

use std::collections::binary_heap::{BinaryHeap, PeekMut};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::queue::{key_of, stamp_of, Queued};
use crate::{NodeId, NodeTimestamp};

/// Room an empty queue keeps for the next burst; a burst that grew it further gives the
/// rest back, so memory follows the waiting events rather than the largest burst ever seen.
const KEEP_EMPTY_CAPACITY: usize = 256;

/// What the reorderer knows of one source.
pub(super) struct Source<T> {
    /// The greatest stamp it has sent; `None` until it sends.
    pub(super) latest: Option<NodeTimestamp>,
    pub(super) heard_at: Instant,
    /// Whether it holds the watermark back: heard from within the max delay.
    pub(super) holding: bool,
    /// Its waiting events in stamp order, as `(key, event)`.
    queue: VecDeque<(u128, T)>,
}

pub(super) struct Sources<T> {
    /// Stable slots; a slot is reused once its source is silent and has nothing waiting.
    slots: Vec<Source<T>>,
    /// `(node, slot)`, sorted by node.
    index: Vec<(NodeId, usize)>,
    free: Vec<usize>,
    /// `(head key, slot)` for every non-empty queue, plus stale entries skipped lazily.
    heads: BinaryHeap<Queued<()>>,
    waiting: usize,
}

impl<T> Sources<T> {
    pub(super) fn new() -> Self {
        Self {
            slots: Vec::new(),
            index: Vec::new(),
            free: Vec::new(),
            heads: BinaryHeap::new(),
            waiting: 0,
        }
    }

    /// How many events wait, over all sources.
    #[inline]
    pub(super) fn waiting(&self) -> usize {
        self.waiting
    }

    /// The slot of `node`, made (not holding, never heard) if it has none.
    #[inline]
    pub(super) fn slot(&mut self, node: NodeId, now: Instant) -> usize {
        match self.index.binary_search_by_key(&node, |&(node, _)| node) {
            Ok(at) => self.index[at].1,
            Err(at) => {
                let source = Source {
                    latest: None,
                    heard_at: now,
                    holding: false,
                    queue: VecDeque::new(),
                };
                let slot = match self.free.pop() {
                    Some(slot) => {
                        self.slots[slot] = source;
                        slot
                    }
                    None => {
                        self.slots.push(source);
                        self.slots.len() - 1
                    }
                };
                self.index.insert(at, (node, slot));
                slot
            }
        }
    }

    #[inline]
    pub(super) fn get_mut(&mut self, slot: usize) -> &mut Source<T> {
        &mut self.slots[slot]
    }

    /// Adds an event to its source's queue, in stamp order even if the source sent it out
    /// of order.
    #[inline]
    pub(super) fn enqueue(&mut self, slot: usize, stamp: NodeTimestamp, event: T) {
        let key = key_of(stamp);
        let queue = &mut self.slots[slot].queue;
        let old_head = queue.front().map(|&(head, _)| head);
        match queue.back() {
            Some(&(last, _)) if last > key => {
                let at = queue.partition_point(|&(waiting, _)| waiting <= key);
                queue.insert(at, (key, event));
            }
            _ => queue.push_back((key, event)),
        }
        if old_head.is_none_or(|head| key < head) {
            self.heads.push(Queued::new(key, slot, ()));
        }
        self.waiting += 1;
    }

    /// The stamp of the least waiting event.
    #[inline]
    pub(super) fn least(&mut self) -> Option<NodeTimestamp> {
        // Each turn either returns or drops a stale entry, so this ends.
        while let Some(top) = self.heads.peek() {
            match self.slots[top.tie].queue.front() {
                Some(&(head, _)) if head == top.key => return Some(stamp_of(head)),
                _ => {
                    self.heads.pop();
                }
            }
        }
        None
    }

    /// Takes the least waiting event out.
    #[inline]
    pub(super) fn pop_least(&mut self) -> Option<(NodeTimestamp, T)> {
        self.least()?;
        self.pop_checked_least()
    }

    /// Takes the least waiting event out, right after [`least`](Self::least) found it.
    #[inline]
    pub(super) fn pop_checked_least(&mut self) -> Option<(NodeTimestamp, T)> {
        let mut top = self.heads.peek_mut()?;
        let slot = top.tie;
        let queue = &mut self.slots[slot].queue;
        let (key, event) = queue.pop_front()?;
        match queue.front() {
            // Replacing the top in place costs one sift-down instead of a pop and a push.
            Some(&(next, _)) => *top = Queued::new(next, slot, ()),
            None => {
                PeekMut::pop(top);
                if queue.capacity() > KEEP_EMPTY_CAPACITY {
                    queue.shrink_to(KEEP_EMPTY_CAPACITY);
                }
            }
        }
        self.waiting -= 1;
        Some((stamp_of(key), event))
    }

    /// The sources that hold the watermark back.
    pub(super) fn holders(&self) -> impl Iterator<Item = &Source<T>> + '_ {
        self.slots.iter().filter(|source| source.holding)
    }

    /// Stops the sources silent for longer than `max_delay` from holding the watermark back,
    /// frees the slots of those with nothing waiting, and returns when the next may fall
    /// silent.
    pub(super) fn retire_silent(&mut self, now: Instant, max_delay: Duration) -> Option<Instant> {
        for source in &mut self.slots {
            if source.holding && now.saturating_duration_since(source.heard_at) > max_delay {
                source.holding = false;
            }
        }
        let slots = &self.slots;
        let free = &mut self.free;
        self.index.retain(|&(_, slot)| {
            let source = &slots[slot];
            let keep = source.holding || !source.queue.is_empty();
            if !keep {
                free.push(slot);
            }
            keep
        });
        self.holders()
            .filter_map(|source| source.heard_at.checked_add(max_delay))
            .min()
    }
}
