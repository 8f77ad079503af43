//! [`Batch`]: writes that land together or not at all, and the merge of one replica into
//! another.

use hlc_core::NodeTimestamp;
use rusqlite::Transaction;

use super::{upsert, LwwStore};

/// Writes that land together or not at all: one SQLite transaction.
///
/// A writer killed between two statements of a batch leaves the file as it was before the
/// batch, even when the batch had outgrown the page cache and SQLite had already written some
/// of it into the file: the next open rolls the interrupted transaction back from the journal
/// (SQLite, "Atomic Commit In SQLite", <https://sqlite.org/atomiccommit.html>). Each
/// statement is the conditional upsert, so a batch resolves conflicts as single writes do.
/// Dropped without [`commit`](Self::commit), a batch writes nothing.
#[derive(Debug)]
pub struct Batch<'a> {
    transaction: Transaction<'a>,
}

impl<'a> Batch<'a> {
    pub(super) fn new(transaction: Transaction<'a>) -> Self {
        Self { transaction }
    }

    /// Writes `value` (or a tombstone) under `key` at `stamp` unless the row holds a greater
    /// stamp, as [`LwwStore::put`] does, but only once the batch commits. Returns whether the
    /// write wins against what the store holds now, earlier writes of the batch included.
    ///
    /// # Errors
    /// Any SQLite error running the upsert.
    pub fn put(
        &self,
        key: &str,
        value: Option<&[u8]>,
        stamp: NodeTimestamp,
    ) -> rusqlite::Result<bool> {
        upsert(&self.transaction, key, value, stamp)
    }

    /// Makes every write of the batch durable at once.
    ///
    /// # Errors
    /// Any SQLite error committing; the batch is then rolled back.
    pub fn commit(self) -> rusqlite::Result<()> {
        self.transaction.commit()
    }
}

impl LwwStore {
    /// Starts a [`Batch`].
    ///
    /// # Errors
    /// Any SQLite error beginning the transaction.
    pub fn batch(&mut self) -> rusqlite::Result<Batch<'_>> {
        Ok(Batch::new(self.connection.transaction()?))
    }

    /// Merges every row of `other`, tombstones included, by the last-writer-wins rule, in one
    /// batch: replicas that wrote apart and then merge each other hold the same rows, in
    /// whichever order the merges ran. Returns how many rows of `other` won.
    ///
    /// # Errors
    /// Any SQLite error, or a malformed stored stamp in `other` (then nothing is merged).
    pub fn merge_from(&mut self, other: &LwwStore) -> rusqlite::Result<usize> {
        let rows = other.rows()?;
        let batch = self.batch()?;
        let mut won = 0;
        for (key, row) in &rows {
            won += usize::from(batch.put(key, row.value.as_deref(), row.stamp)?);
        }
        batch.commit()?;
        Ok(won)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lww_store::tests::stamp;
    use crate::lww_store::Row;

    #[test]
    fn a_batch_dropped_without_commit_writes_nothing() {
        let mut store = LwwStore::open_in_memory().unwrap();
        store.put("k", Some(b"old"), stamp(1, 1)).unwrap();
        let batch = store.batch().unwrap();
        assert!(batch.put("k", Some(b"new"), stamp(2, 1)).unwrap());
        assert!(batch.put("j", Some(b"new"), stamp(2, 1)).unwrap());
        // Inside the batch a later write still loses to an earlier, greater one.
        assert!(!batch.put("j", Some(b"older"), stamp(1, 9)).unwrap());
        drop(batch);
        assert_eq!(store.get("k").unwrap().unwrap().value.unwrap(), b"old");
        assert_eq!(store.get("j").unwrap(), None);

        let batch = store.batch().unwrap();
        batch.put("k", Some(b"new"), stamp(2, 1)).unwrap();
        batch.commit().unwrap();
        assert_eq!(
            store.get("k").unwrap(),
            Some(Row {
                value: Some(b"new".to_vec()),
                stamp: stamp(2, 1)
            })
        );
    }

    #[test]
    fn replicas_that_merge_each_other_converge() {
        let mut a = LwwStore::open_in_memory().unwrap();
        let mut b = LwwStore::open_in_memory().unwrap();
        a.put("x", Some(b"a"), stamp(5, 1)).unwrap();
        b.put("x", Some(b"b"), stamp(6, 2)).unwrap();
        a.put("y", None, stamp(9, 1)).unwrap();
        b.put("y", Some(b"b"), stamp(8, 2)).unwrap();
        b.put("z", Some(b"b"), stamp(1, 2)).unwrap();

        assert_eq!(a.merge_from(&b).unwrap(), 2, "x and z won, y lost");
        assert_eq!(b.merge_from(&a).unwrap(), 1, "only the tombstone on y won");
        assert_eq!(a.rows().unwrap(), b.rows().unwrap());
        assert_eq!(a.get("y").unwrap().unwrap().value, None);
        assert_eq!(
            a.merge_from(&b).unwrap(),
            0,
            "merging again changes nothing"
        );
    }

    #[test]
    fn a_malformed_row_in_the_other_replica_merges_nothing() {
        let mut a = LwwStore::open_in_memory().unwrap();
        let b = LwwStore::open_in_memory().unwrap();
        b.put("good", Some(b"b"), stamp(1, 2)).unwrap();
        b.connection()
            .execute("INSERT INTO kv VALUES ('bad', NULL, x'01')", ())
            .unwrap();
        assert!(a.merge_from(&b).is_err());
        assert_eq!(a.rows().unwrap(), []);
    }
}
