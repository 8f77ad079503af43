//! Last-writer-wins in SQLite: four nodes with skewed clocks take turns updating one key,
//! each after reading the previous update. Stamped by wall clock, causally later updates are
//! silently lost; stamped by the hybrid logical clock, none is. Then two replicas, each a
//! database file, write apart and merge each other: both end with the same rows.
//!
//! Run with `cargo run -p hlc-examples --example lww_sqlite`.

// An example prints its results.
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use hlc_core::{Hlc, ManualClock, NodeId};
use hlc_examples::lww_store::scenario::{self, Stamping};
use hlc_examples::lww_store::{LwwStore, SCHEMA, UPSERT};

fn main() -> Result<(), Box<dyn Error>> {
    println!("schema: {SCHEMA}");
    println!(
        "upsert: {}\n",
        UPSERT.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    for stamping in [Stamping::WallClock, Stamping::Hybrid] {
        println!("{}\n", scenario::run(&scenario::TAKING_TURNS, stamping)?);
    }
    let dir = tempfile::tempdir()?;
    replicas(dir.path())
}

/// Two replicas on disk: written apart, closed, reopened and merged both ways.
fn replicas(dir: &Path) -> Result<(), Box<dyn Error>> {
    // One true time for both nodes, from 2024-01-01T00:00:00Z, a millisecond per write.
    let clock = ManualClock::new(1_704_067_200_000_000);
    let tick = || clock.advance(std::time::Duration::from_millis(1));
    let node = |id| {
        Hlc::builder()
            .clock(clock.clone())
            .node_id(NodeId::new(id))
            .build()
    };
    let (a, b) = (Arc::new(node(1)?), Arc::new(node(2)?));
    let (a_path, b_path) = (dir.join("replica-a.db"), dir.join("replica-b.db"));
    {
        let (a_store, b_store) = (LwwStore::open(&a_path)?, LwwStore::open(&b_path)?);
        a_store.put("colour", Some(b"red"), a.now_with_node())?;
        tick();
        b_store.put("colour", Some(b"blue"), b.now_with_node())?;
        tick();
        b_store.put("size", Some(b"large"), b.now_with_node())?;
        tick();
        a_store.put("size", None, a.now_with_node())?;
    }
    let (mut a_store, mut b_store) = (LwwStore::open(&a_path)?, LwwStore::open(&b_path)?);
    let a_won = b_store.merge_from(&a_store)?;
    let b_won = a_store.merge_from(&b_store)?;
    println!("replicas on disk, written apart, then merged both ways:");
    println!("  {a_won} of a's rows won in b, {b_won} of b's rows won in a");
    for (key, row) in a_store.rows()? {
        let value = row.value.map(|v| String::from_utf8_lossy(&v).into_owned());
        println!("  {key:<7} {:<14} {}", format!("{value:?}"), row.stamp);
    }
    let same = a_store.rows()? == b_store.rows()?;
    println!("  both replicas hold the same rows: {same}");
    Ok(())
}
