//! The demo: two `hlc_node`s in one process, one skewed beyond the max offset; prints the
//! causal stamps across them and the refusals, stops both and exits.
//!
//! ```text
//! cargo run -p hlc-examples --example demo
//! ```

use std::io::Write;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let report = hlc_examples::demo::run().await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{report}")?;
    writeln!(out, "Both nodes stopped.")?;
    Ok(())
}
