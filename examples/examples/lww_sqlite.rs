//! Last-writer-wins in SQLite: four nodes with skewed clocks take turns updating one key,
//! each after reading the previous update. Stamped by wall clock, causally later updates are
//! silently lost; stamped by the hybrid logical clock, none is.
//!
//! Run with `cargo run -p hlc-examples --example lww_sqlite`.

// An example prints its results.
#![allow(clippy::print_stdout)]

use std::error::Error;

use hlc_examples::lww_store::scenario::{self, Stamping};
use hlc_examples::lww_store::{SCHEMA, UPSERT};

fn main() -> Result<(), Box<dyn Error>> {
    println!("schema: {SCHEMA}");
    println!(
        "upsert: {}\n",
        UPSERT.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    for stamping in [Stamping::WallClock, Stamping::Hybrid] {
        println!("{}\n", scenario::run(stamping)?);
    }
    Ok(())
}
