//! A map of last-writer-wins registers.

use std::borrow::Borrow;
use std::collections::btree_map::{BTreeMap, Entry};

use super::join::merge_shared_keys;
use super::LwwRegister;
use crate::{NodeTimestamp, Timestamp};

/// Below one incoming entry per this many existing ones, [`LwwMap::merge`] looks each
/// incoming key up (`m log n`); above it, one linear pass over both maps (`m + n`) is cheaper.
const SPARSE_MERGE_RATIO: usize = 16;

fn is_sparse(incoming: usize, existing: usize) -> bool {
    incoming.saturating_mul(SPARSE_MERGE_RATIO) < existing
}

/// A map whose every key is an [`LwwRegister`]: writes and deletes carry their stamps, and
/// merging two maps keeps, key by key, the write with the greater stamp.
///
/// Deleted keys stay as tombstones until [`drop_tombstones_before`](Self::drop_tombstones_before)
/// removes them (see the [module docs](super) for when that is safe). Keys iterate in order,
/// and two maps that hold the same writes compare equal and serialise identically.
///
/// ```
/// use hlc_core::lww::LwwMap;
/// use hlc_core::{NodeId, NodeTimestamp, Timestamp};
///
/// let stamp = |micros| NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(1));
/// let mut map = LwwMap::new();
/// map.insert("a", 1, stamp(10));
/// map.insert("b", 2, stamp(11));
/// map.remove("a", stamp(12));
/// assert_eq!(map.get("a"), None);
/// assert_eq!((map.len(), map.tombstone_count()), (1, 1));
/// assert_eq!(map.drop_tombstones_before(Timestamp::from_physical_micros(13)), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LwwMap<K, V> {
    entries: BTreeMap<K, LwwRegister<V>>,
    tombstones: usize,
}

impl<K, V> Default for LwwMap<K, V> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
            tombstones: 0,
        }
    }
}

impl<K: Ord, V> LwwMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `value` under `key` at `stamp`, unless the key holds a write with a greater
    /// stamp; returns whether it wrote.
    pub fn insert(&mut self, key: K, value: V, stamp: NodeTimestamp) -> bool {
        self.apply(key, LwwRegister::new(value, stamp))
    }

    /// Deletes `key` at `stamp` by writing a tombstone, unless the key holds a write with a
    /// greater stamp; returns whether it wrote.
    pub fn remove(&mut self, key: K, stamp: NodeTimestamp) -> bool {
        self.apply(key, LwwRegister::tombstone(stamp))
    }

    /// Merges one replicated write (a value or a tombstone) into `key`; returns whether it won.
    pub fn apply(&mut self, key: K, write: LwwRegister<V>) -> bool {
        match self.entries.entry(key) {
            Entry::Vacant(slot) => {
                self.tombstones += usize::from(write.is_tombstone());
                slot.insert(write);
                true
            }
            Entry::Occupied(mut slot) => {
                let was_tombstone = slot.get().is_tombstone();
                let won = slot.get_mut().merge(write);
                if won {
                    self.tombstones -= usize::from(was_tombstone);
                    self.tombstones += usize::from(slot.get().is_tombstone());
                }
                won
            }
        }
    }

    /// Merges another replica's map into this one, key by key. Commutative, associative and
    /// idempotent, like [`LwwRegister::merge`].
    ///
    /// Costs `O(m log n)` when the other map is much smaller, `O(n + m)` otherwise; keys in
    /// both maps are merged in place, without reshaping the tree.
    pub fn merge(&mut self, other: Self) {
        if is_sparse(other.entries.len(), self.entries.len()) {
            self.extend(other.entries);
            return;
        }
        let missing = merge_shared_keys(&mut self.entries, other.entries, &mut self.tombstones);
        self.tombstones += missing.iter().filter(|(_, w)| w.is_tombstone()).count();
        if is_sparse(missing.len(), self.entries.len()) {
            self.entries.extend(missing);
        } else {
            // Sorted input builds the tree in one pass; `append` then merges two trees linearly.
            let mut missing: BTreeMap<K, LwwRegister<V>> = missing.into_iter().collect();
            self.entries.append(&mut missing);
        }
    }

    /// The live value under `key`: `None` when the key is absent or deleted.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.entries.get(key).and_then(LwwRegister::value)
    }

    /// The register under `key`, tombstones included, with its stamp.
    pub fn register<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&LwwRegister<V>>
    where
        K: Borrow<Q>,
    {
        self.entries.get(key)
    }

    /// Whether `key` holds a live value.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.get(key).is_some()
    }

    /// Drops the tombstones whose timestamp is older than `horizon` and returns how many it
    /// dropped. Live values are never dropped.
    ///
    /// Only safe when no replica can still send a write for a dropped key stamped before its
    /// tombstone: such a write would then bring the deleted value back. The
    /// [module docs](super) explain why only the caller can pick that horizon.
    pub fn drop_tombstones_before(&mut self, horizon: Timestamp) -> usize {
        let before = self.entries.len();
        self.entries
            .retain(|_, write| !write.is_tombstone() || write.stamp().timestamp >= horizon);
        let dropped = before - self.entries.len();
        self.tombstones -= dropped;
        dropped
    }
}

impl<K, V> LwwMap<K, V> {
    /// How many keys hold a live value.
    pub fn len(&self) -> usize {
        self.entries.len() - self.tombstones
    }

    /// Whether no key holds a live value (tombstones may remain).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many tombstones the map keeps.
    pub fn tombstone_count(&self) -> usize {
        self.tombstones
    }

    /// The live entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.entries
            .iter()
            .filter_map(|(key, write)| write.value().map(|value| (key, value)))
    }

    /// Every register in key order, tombstones included: what a replica sends to another.
    pub fn registers(&self) -> impl Iterator<Item = (&K, &LwwRegister<V>)> + '_ {
        self.entries.iter()
    }

    /// The greatest stamp of any write in the map, tombstones included. A node that takes
    /// in a replica's map passes this to [`Hlc::update`](crate::Hlc::update) so that its own
    /// later writes are stamped after everything it has seen.
    pub fn max_stamp(&self) -> Option<NodeTimestamp> {
        self.entries.values().map(LwwRegister::stamp).max()
    }

    pub(super) fn entries(&self) -> &BTreeMap<K, LwwRegister<V>> {
        &self.entries
    }
}

/// Merges each write in, as [`LwwMap::apply`] does.
impl<K: Ord, V> Extend<(K, LwwRegister<V>)> for LwwMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, LwwRegister<V>)>>(&mut self, writes: I) {
        for (key, write) in writes {
            self.apply(key, write);
        }
    }
}

/// Collects writes, keeping the greatest stamp per key.
impl<K: Ord, V> FromIterator<(K, LwwRegister<V>)> for LwwMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, LwwRegister<V>)>>(writes: I) -> Self {
        let mut map = Self::new();
        map.extend(writes);
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeId;

    fn stamp(micros: u64, node: u64) -> NodeTimestamp {
        NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node))
    }

    #[test]
    fn counts_follow_inserts_deletes_and_revivals() {
        let mut map = LwwMap::new();
        assert!(map.insert("k", 1, stamp(1, 1)));
        assert!(map.remove("k", stamp(2, 1)));
        assert_eq!((map.len(), map.tombstone_count()), (0, 1));
        assert!(!map.insert("k", 2, stamp(1, 2)));
        assert!(map.insert("k", 3, stamp(3, 1)));
        assert_eq!((map.len(), map.tombstone_count()), (1, 0));
        assert_eq!(map.get("k"), Some(&3));
    }

    fn numbered(keys: std::ops::Range<u32>, node: u32) -> LwwMap<u32, u32> {
        keys.map(|k| {
            let at = stamp(u64::from(k * node % 13), u64::from(node));
            let write = if k % 7 == 0 {
                LwwRegister::tombstone(at)
            } else {
                LwwRegister::new(k, at)
            };
            (k, write)
        })
        .collect()
    }

    /// Each path of `merge` (sparse lookups, in-place with few or many new keys) against
    /// applying the writes one by one.
    #[test]
    fn every_merge_path_matches_writing_one_by_one() {
        let cases = [
            (0..100, 95..97),
            (0..100, 1..101),
            (0..100, 50..300),
            (0..3, 0..100),
        ];
        for (mine, theirs) in cases {
            let (mine, theirs) = (numbered(mine, 1), numbered(theirs, 2));
            let mut expected = mine.clone();
            theirs.registers().for_each(|(k, w)| {
                expected.apply(*k, w.clone());
            });
            let mut merged = mine.clone();
            merged.merge(theirs.clone());
            assert_eq!(merged, expected);
            assert_eq!(
                merged.tombstone_count(),
                expected
                    .registers()
                    .filter(|(_, w)| w.is_tombstone())
                    .count()
            );
        }
    }

    #[test]
    fn only_old_tombstones_are_dropped() {
        let mut map = LwwMap::new();
        map.insert("live", 0, stamp(1, 1));
        map.remove("old", stamp(2, 1));
        map.remove("recent", stamp(9, 1));
        assert_eq!(
            map.drop_tombstones_before(Timestamp::from_physical_micros(5)),
            1
        );
        assert!(map.register("old").is_none());
        assert!(map
            .register("recent")
            .is_some_and(LwwRegister::is_tombstone));
        assert_eq!(map.get("live"), Some(&0));
        assert_eq!(map.max_stamp(), Some(stamp(9, 1)));
    }
}
