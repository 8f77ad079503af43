//! Last-writer-wins in PostgreSQL: three writers, one with its clock 300 ms ahead, each on its
//! own connection, update three keys at once, every update after reading what its key holds.
//! Stamped by wall clock, causally later updates are silently lost; stamped by the hybrid
//! logical clock, none is. Then a tombstone: it wins over an older write and loses to a newer
//! one.
//!
//! Run with a PostgreSQL to talk to (the README shows one started with Docker):
//!
//! ```sh
//! cargo run -p hlc-examples --example lww_postgres -- \
//!     --database-url postgresql://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! `--database-url` (or the `DATABASE_URL` environment variable) takes a URL or a libpq
//! key-value string (`host=/var/run/postgresql user=me`); no TLS. The example creates the
//! table `lww` if missing and leaves its rows there, under keys starting with
//! `lww_postgres/<run>/`, so that every run starts afresh.

// An example prints its results.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser;
use hlc_core::{ManualClock, NodeId};
use hlc_examples::lww_postgres::{scenario, LwwTable, SCHEMA, UPSERT};
use hlc_examples::lww_store::scenario::{Stamping, THREE_WRITERS};

/// Last-writer-wins in PostgreSQL, stamped by wall clock and by hybrid logical clock.
#[derive(Parser)]
struct Args {
    /// The database: a URL (postgresql://user@host:port/db) or a libpq key-value string.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let args = Args::parse();
    println!("schema: {}", one_line(SCHEMA));
    println!("upsert: {}\n", one_line(UPSERT));
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_micros();
    let prefix = format!("lww_postgres/{run}/");
    for (stamping, name) in [(Stamping::WallClock, "wall"), (Stamping::Hybrid, "hlc")] {
        let keys = format!("{prefix}{name}/");
        let outcome = scenario::run(&args.database_url, &keys, THREE_WRITERS, stamping).await?;
        println!("{outcome}\n");
    }
    tombstone(&args.database_url, &format!("{prefix}tombstone")).await?;
    println!("\nthe rows stay in table lww, under keys starting with {prefix}");
    Ok(())
}

/// A write, a delete after it, an older write that loses to the delete, a newer that wins.
async fn tombstone(database_url: &str, key: &str) -> Result<(), Box<dyn Error + Send + Sync>> {
    let table = LwwTable::connect(database_url).await?;
    let clock = ManualClock::new(1_704_067_200_000_000);
    let hlc = clock.hlc(NodeId::new(1));
    let older = hlc.now_with_node();
    let written = hlc.now_with_node();
    let deleted = hlc.now_with_node();
    let newer = hlc.now_with_node();
    println!("a tombstone (value NULL) under {key}:");
    let steps: [(&str, Option<&[u8]>, _); 4] = [
        ("write \"red\"", Some(b"red"), written),
        ("delete", None, deleted),
        (
            "write \"older\", stamped before the delete",
            Some(b"older"),
            older,
        ),
        (
            "write \"newer\", stamped after the delete",
            Some(b"newer"),
            newer,
        ),
    ];
    for (what, value, stamp) in steps {
        let won = table.put(key, value, stamp).await?;
        let row = table.get(key).await?.ok_or("the row is missing")?;
        let held = match row.value {
            Some(v) => format!("{:?}", String::from_utf8_lossy(&v)),
            None => "NULL, a tombstone".to_owned(),
        };
        let result = if won { "won " } else { "lost" };
        println!("  {what:<42} {result}  the row holds {held}");
    }
    Ok(())
}

fn one_line(sql: &str) -> String {
    let line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    line.replace("( ", "(").replace(" )", ")")
}
