//! A last-writer-wins key-value table in SQLite, resolved by one conditional upsert.
//!
//! Each row keeps the stamp of the write that made it, in the 16-byte binary form of
//! [`NodeTimestamp`], whose byte order is the stamp order. One statement then resolves
//! every conflict inside the database: insert, or on conflict overwrite only where the new
//! stamp is greater ([`SCHEMA`], [`UPSERT`]). A `NULL` value is a tombstone.
//!
//! The statement reports one changed row when the write won and none when it lost. The
//! [`scenario`] module shows why the stamps must come from a hybrid clock;
//! [`crate::lww_postgres`] runs the same statement, and the same scenario, in PostgreSQL.
//!
//! # On disk
//!
//! [`LwwStore::open`] keeps the table in a database file, with SQLite's defaults (rollback
//! journal, full sync). A row's value and stamp change in one statement, so no reader, and no
//! reopen after a crash, sees one without the other; a [`Batch`] extends that to several
//! writes, and [`LwwStore::merge_from`] merges a whole replica as one batch.

use std::path::Path;

use hlc_core::NodeTimestamp;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension};

mod batch;
pub mod scenario;

pub use batch::Batch;

/// The table: one row per key, with the stamp of the write that holds it.
pub const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB, stamp BLOB NOT NULL)";

/// The conditional upsert that resolves every conflict: SQLite compares blobs with
/// `memcmp`, so `excluded.stamp > kv.stamp` is the stamp order.
pub const UPSERT: &str = "INSERT INTO kv (key, value, stamp) VALUES (?1, ?2, ?3)
    ON CONFLICT(key) DO UPDATE SET value = excluded.value, stamp = excluded.stamp
    WHERE excluded.stamp > kv.stamp";

const SELECT: &str = "SELECT value, stamp FROM kv WHERE key = ?1";
const SELECT_ALL: &str = "SELECT value, stamp, key FROM kv ORDER BY key";

/// A row: the value (`None` for a tombstone) and the stamp of the write that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The value, or `None` when the key was deleted.
    pub value: Option<Vec<u8>>,
    /// The stamp of the winning write.
    pub stamp: NodeTimestamp,
}

impl Row {
    /// Reads `value, stamp` from the first two columns.
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let stamp: Vec<u8> = row.get(1)?;
        let stamp = NodeTimestamp::from_bytes(&stamp)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, Type::Blob, e.into()))?;
        Ok(Self {
            value: row.get(0)?,
            stamp,
        })
    }
}

/// Runs [`UPSERT`]: whether the write won.
fn upsert(
    connection: &Connection,
    key: &str,
    value: Option<&[u8]>,
    stamp: NodeTimestamp,
) -> rusqlite::Result<bool> {
    let changed = connection.execute(UPSERT, (key, value, stamp.to_bytes()))?;
    Ok(changed == 1)
}

/// A last-writer-wins key-value table on one SQLite connection.
#[derive(Debug)]
pub struct LwwStore {
    connection: Connection,
}

impl LwwStore {
    /// A store in a fresh in-memory database.
    ///
    /// # Errors
    /// Any SQLite error opening the database or creating the table.
    pub fn open_in_memory() -> rusqlite::Result<Self> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    /// A store in the database file at `path`, created if missing.
    ///
    /// # Errors
    /// Any SQLite error opening the database or creating the table.
    pub fn open(path: impl AsRef<Path>) -> rusqlite::Result<Self> {
        Self::with_connection(Connection::open(path)?)
    }

    /// A store on an open connection; creates the table if missing.
    ///
    /// # Errors
    /// Any SQLite error creating the table.
    pub fn with_connection(connection: Connection) -> rusqlite::Result<Self> {
        connection.execute(SCHEMA, ())?;
        Ok(Self { connection })
    }

    /// Writes `value` (or a tombstone, for `None`) under `key` at `stamp`, unless the row
    /// holds a greater stamp. Returns whether the write won.
    ///
    /// # Errors
    /// Any SQLite error running the upsert.
    pub fn put(
        &self,
        key: &str,
        value: Option<&[u8]>,
        stamp: NodeTimestamp,
    ) -> rusqlite::Result<bool> {
        upsert(&self.connection, key, value, stamp)
    }

    /// The row under `key`, tombstones included.
    ///
    /// # Errors
    /// Any SQLite error, or [`rusqlite::Error::FromSqlConversionFailure`] when the stored
    /// stamp is not 16 bytes.
    pub fn get(&self, key: &str) -> rusqlite::Result<Option<Row>> {
        self.connection
            .query_row(SELECT, [key], Row::read)
            .optional()
    }

    /// Every row with its key, tombstones included, in key order.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn rows(&self) -> rusqlite::Result<Vec<(String, Row)>> {
        let mut statement = self.connection.prepare(SELECT_ALL)?;
        let rows = statement.query_map((), |row| Ok((row.get(2)?, Row::read(row)?)))?;
        rows.collect()
    }

    /// The underlying connection.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlc_core::{NodeId, Timestamp};

    /// A stamp at `micros` from `node`, for the tests of this module and its children.
    pub(crate) fn stamp(micros: u64, node: u64) -> NodeTimestamp {
        NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node))
    }

    #[test]
    fn the_upsert_keeps_the_greater_stamp() {
        let store = LwwStore::open_in_memory().unwrap();
        assert!(store.put("k", Some(b"one"), stamp(10, 2)).unwrap());
        assert!(!store.put("k", Some(b"older"), stamp(9, 9)).unwrap());
        assert!(!store
            .put("k", Some(b"tie, lower node"), stamp(10, 1))
            .unwrap());
        assert!(store.put("k", None, stamp(10, 3)).unwrap());
        let row = store.get("k").unwrap().unwrap();
        assert_eq!(
            row,
            Row {
                value: None,
                stamp: stamp(10, 3)
            }
        );
        assert_eq!(store.get("absent").unwrap(), None);
    }

    #[test]
    fn byte_order_is_stamp_order_across_a_byte_boundary() {
        let store = LwwStore::open_in_memory().unwrap();
        store.put("k", Some(b"low"), stamp(0xff, 0xffff)).unwrap();
        assert!(store.put("k", Some(b"high"), stamp(0x100, 0)).unwrap());
    }

    #[test]
    fn a_malformed_stored_stamp_is_an_error() {
        let store = LwwStore::open_in_memory().unwrap();
        store
            .connection()
            .execute("INSERT INTO kv VALUES ('k', NULL, x'0102')", ())
            .unwrap();
        let err = store.get("k").unwrap_err();
        assert!(
            err.to_string().contains("expected 16 bytes, got 2"),
            "{err}"
        );
    }
}
