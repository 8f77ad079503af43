//! The one-pass merge of two key-sorted maps of registers.

use std::collections::BTreeMap;

use super::LwwRegister;

/// Merges `theirs` into `mine` in one ordered pass over both: a key in both merges its
/// registers in place, without touching the tree's shape; the keys only in `theirs` are
/// returned, in key order, for the caller to insert. `tombstones` follows every change to
/// `mine`.
pub(super) fn merge_shared_keys<K: Ord, V>(
    mine: &mut BTreeMap<K, LwwRegister<V>>,
    theirs: BTreeMap<K, LwwRegister<V>>,
    tombstones: &mut usize,
) -> Vec<(K, LwwRegister<V>)> {
    let mut missing = Vec::new();
    let mut cursor = mine.iter_mut().peekable();
    for (key, write) in theirs {
        while cursor.next_if(|(mine, _)| **mine < key).is_some() {}
        match cursor.next_if(|(mine, _)| **mine == key) {
            Some((_, register)) => {
                let was_tombstone = register.is_tombstone();
                if register.merge(write) {
                    *tombstones -= usize::from(was_tombstone);
                    *tombstones += usize::from(register.is_tombstone());
                }
            }
            None => missing.push((key, write)),
        }
    }
    missing
}
