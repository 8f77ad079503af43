//! A sequence lock over a few words: readers never block and never write shared memory, so
//! reading the published estimate costs a handful of loads (the read path of
//! [`TrueTime::now_interval`](crate::TrueTime::now_interval)).
//!
//! The orderings follow H.-J. Boehm, "Can seqlocks get along with programming language memory
//! models?" (MSPC 2012): the data are atomics read relaxed, an acquire fence before the second
//! read of the sequence number, and a release fence after a writer marks the write started.

use std::sync::atomic::{fence, AtomicU64, Ordering};

/// `N` words published together.
#[derive(Debug)]
pub(crate) struct SeqCell<const N: usize> {
    sequence: AtomicU64,
    words: [AtomicU64; N],
}

impl<const N: usize> SeqCell<N> {
    pub(crate) fn new(words: [u64; N]) -> Self {
        Self {
            sequence: AtomicU64::new(0),
            words: words.map(AtomicU64::new),
        }
    }

    /// A consistent copy of the words, as one writer left them.
    pub(crate) fn load(&self) -> [u64; N] {
        loop {
            let before = self.sequence.load(Ordering::Acquire);
            let words = std::array::from_fn(|i| self.words[i].load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            let after = self.sequence.load(Ordering::Relaxed);
            if before == after && before.is_multiple_of(2) {
                return words;
            }
            std::hint::spin_loop();
        }
    }

    /// Replaces the words. Concurrent writers take turns; readers retry meanwhile.
    pub(crate) fn store(&self, words: [u64; N]) {
        let started = self.begin_write();
        fence(Ordering::Release);
        for (slot, word) in self.words.iter().zip(words) {
            slot.store(word, Ordering::Relaxed);
        }
        self.sequence.store(started + 1, Ordering::Release);
    }

    /// Moves the sequence number to odd (write in progress); returns the odd value.
    fn begin_write(&self) -> u64 {
        loop {
            let current = self.sequence.load(Ordering::Relaxed);
            if current.is_multiple_of(2)
                && self
                    .sequence
                    .compare_exchange_weak(
                        current,
                        current + 1,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                return current + 1;
            }
            std::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_store_is_seen_whole() {
        let cell = SeqCell::new([1, 2, 3]);
        assert_eq!(cell.load(), [1, 2, 3]);
        cell.store([4, 5, 6]);
        assert_eq!(cell.load(), [4, 5, 6]);
    }

    #[test]
    fn readers_never_see_a_torn_write() {
        let cell = Arc::new(SeqCell::new([0; 4]));
        let writer = {
            let cell = Arc::clone(&cell);
            std::thread::spawn(move || {
                for i in 1..=20_000u64 {
                    cell.store([i; 4]);
                }
            })
        };
        let mut last = 0;
        for _ in 0..20_000 {
            let words = cell.load();
            assert!(words.iter().all(|w| *w == words[0]), "torn: {words:?}");
            assert!(words[0] >= last, "went back");
            last = words[0];
        }
        writer.join().unwrap();
        assert_eq!(cell.load(), [20_000; 4]);
    }
}
