//! Merged event logs: three nodes with skewed clocks exchange messages, each appending to
//! its own JSON-lines log; the logs are merged into one order by wall clock and by hybrid
//! timestamp, counting the messages that appear received before they were sent.
//!
//! Run with `cargo run -p hlc-examples --example event_log`.

// An example prints its results.
#![allow(clippy::print_stdout)]

use std::error::Error;

use hlc_examples::event_log::{self, cluster, Entry, Order};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let logs = cluster::write_logs(dir.path())?;
    for path in &logs {
        println!("wrote {}", path.display());
    }
    for (order, title) in [
        (Order::WallClock, "wall-clock order"),
        (Order::Hlc, "HLC order"),
    ] {
        let merged = event_log::merge_logs(&logs, order)?.collect::<Result<Vec<Entry>, _>>()?;
        let violations = event_log::causal_violations(&merged);
        println!("\n{title}:\n{}", event_log::render(&merged, order));
        println!("  causal violations: {} {violations:?}", violations.len());
    }
    Ok(())
}
