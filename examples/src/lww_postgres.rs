//! A last-writer-wins key-value table in PostgreSQL, each write decided on the server by one
//! conditional upsert.
//!
//! The table and the statement are those of [`crate::lww_store`], in PostgreSQL's words: a row
//! per key with its value (`NULL` for a tombstone) and the stamp of the write that holds it,
//! the 16-byte binary form of [`NodeTimestamp`] as `bytea` ([`SCHEMA`]). PostgreSQL compares
//! `bytea` byte by byte as unsigned values (a shorter value first on a tie; the stamps are
//! all 16 bytes), so byte order is stamp order, as in SQLite. [`UPSERT`] inserts a key, or on
//! conflict overwrites the row only where the new stamp is greater.
//!
//! The server decides each write in that one statement, so writers on many connections
//! never read, compare and write back: PostgreSQL's `INSERT … ON CONFLICT DO UPDATE`
//! "guarantees an atomic INSERT or UPDATE outcome" (PostgreSQL 15 manual, *INSERT*), and in
//! the default READ COMMITTED isolation it locks the conflicting row and evaluates the
//! `WHERE` against its latest committed version, a write of a concurrent transaction
//! included (*Transaction Isolation*, 13.2.1). The command tag reports one row when the
//! write won and none when it lost.
//!
//! [`LwwTable`] holds one connection, through `tokio-postgres` without TLS (for a server on
//! loopback or a unix socket). The [`scenario`] module runs
//! [`crate::lww_store::scenario`]'s plans with every writer on its own connection at once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hlc_examples::lww_postgres::Error> {
//! use hlc_core::{NodeId, SystemClock, Hlc};
//! use hlc_examples::lww_postgres::LwwTable;
//!
//! let hlc = Hlc::builder().clock(SystemClock).node_id(NodeId::new(1)).build().unwrap();
//! let table = LwwTable::connect("host=/var/run/postgresql user=postgres").await?;
//! let first = hlc.now_with_node();
//! assert!(table.put("colour", Some(b"red"), hlc.now_with_node()).await?);
//! assert!(!table.put("colour", Some(b"stale"), first).await?);
//! # Ok(())
//! # }
//! ```

use hlc_core::{NodeTimestamp, ParseError};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement};

use crate::lww_store::Row;

pub mod scenario;

/// The table: one row per key, with the stamp of the write that holds it. The check keeps a
/// stamp of any other length out, so every stored stamp reads back.
///
/// [`LwwTable::connect`] runs it on every connection. `CREATE TABLE IF NOT EXISTS` from
/// several connections at the same instant can fail on PostgreSQL's catalog, so open one
/// connection before the others, as [`scenario::run`] does.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS lww (
    key text PRIMARY KEY,
    value bytea,
    stamp bytea NOT NULL CHECK (octet_length(stamp) = 16)
)";

/// The conditional upsert that decides each write: `excluded` is the row proposed for
/// insertion, `t` the row already there; bytea order is stamp order.
pub const UPSERT: &str = "INSERT INTO lww AS t (key, value, stamp) VALUES ($1, $2, $3)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, stamp = excluded.stamp
    WHERE excluded.stamp > t.stamp";

const SELECT: &str = "SELECT value, stamp FROM lww WHERE key = $1";
const SELECT_ALL: &str = "SELECT value, stamp, key FROM lww ORDER BY key";

/// What can go wrong talking to the table. The messages hold their causes (the server's
/// own message, for a refused statement), so no [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection or a statement failed.
    #[error("postgres: {}", with_causes(.0))]
    Postgres(tokio_postgres::Error),
    /// A stored stamp is not a stamp (only a table made without [`SCHEMA`]'s check holds one).
    #[error("the stamp stored under {key:?} is malformed: {reason}")]
    Stamp {
        /// The key whose row holds it.
        key: String,
        /// Why it does not parse.
        reason: ParseError,
    },
}

impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Postgres(error)
    }
}

/// `error` and its causes: tokio-postgres says only the kind ("db error") in its own message.
fn with_causes(error: &tokio_postgres::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text = format!("{text}: {inner}");
        cause = inner.source();
    }
    text
}

/// A last-writer-wins key-value table on one PostgreSQL connection.
#[derive(Debug)]
pub struct LwwTable {
    client: Client,
    upsert: Statement,
    select: Statement,
}

impl LwwTable {
    /// Connects with `config`, a libpq connection string (`host=/run/postgresql user=me`) or
    /// URL (`postgresql://me@127.0.0.1:5432/db`), creates the table if missing and prepares
    /// the statements. The connection runs on a task of the current tokio runtime and ends
    /// when the table is dropped.
    ///
    /// # Errors
    /// [`Error::Postgres`] when the connection, the schema or a statement fails.
    pub async fn connect(config: &str) -> Result<Self, Error> {
        let (client, connection) = tokio_postgres::connect(config, NoTls).await?;
        tokio::spawn(async move {
            // The client's next call fails with "connection closed"; this says why.
            if let Err(e) = connection.await {
                eprintln!("lww_postgres: connection lost: {e}");
            }
        });
        client.batch_execute(SCHEMA).await?;
        let upsert = client.prepare(UPSERT).await?;
        let select = client.prepare(SELECT).await?;
        Ok(Self {
            client,
            upsert,
            select,
        })
    }

    /// Writes `value` (or a tombstone, for `None`) under `key` at `stamp`, unless the row
    /// holds a greater stamp. Returns whether the write won.
    ///
    /// # Errors
    /// [`Error::Postgres`] when the statement fails.
    pub async fn put(
        &self,
        key: &str,
        value: Option<&[u8]>,
        stamp: NodeTimestamp,
    ) -> Result<bool, Error> {
        let stamp = stamp.to_bytes();
        let params: [&(dyn ToSql + Sync); 3] = [&key, &value, &stamp.as_slice()];
        Ok(self.client.execute(&self.upsert, &params).await? == 1)
    }

    /// The row under `key`, tombstones included.
    ///
    /// # Errors
    /// [`Error::Postgres`] when the query fails, [`Error::Stamp`] when the stored stamp is
    /// malformed.
    pub async fn get(&self, key: &str) -> Result<Option<Row>, Error> {
        let row = self.client.query_opt(&self.select, &[&key]).await?;
        row.map(|row| read_row(key, &row)).transpose()
    }

    /// Every row with its key, tombstones included, in key order.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn rows(&self) -> Result<Vec<(String, Row)>, Error> {
        let rows = self.client.query(SELECT_ALL, &[]).await?;
        rows.iter()
            .map(|row| {
                let key: String = row.try_get(2)?;
                let read = read_row(&key, row)?;
                Ok((key, read))
            })
            .collect()
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Reads `value, stamp` from the first two columns of `key`'s row.
fn read_row(key: &str, row: &tokio_postgres::Row) -> Result<Row, Error> {
    let stamp: &[u8] = row.try_get(1)?;
    let stamp = NodeTimestamp::from_bytes(stamp).map_err(|reason| Error::Stamp {
        key: key.to_owned(),
        reason,
    })?;
    Ok(Row {
        value: row.try_get(0)?,
        stamp,
    })
}
