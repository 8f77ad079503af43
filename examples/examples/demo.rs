//! The demo: two `hlc_node`s in one process, one skewed beyond the max offset; prints the
//! causal stamps across them and the refusals, stops both and exits. It also writes what
//! happened as a picture, `target/hlc-demo/timeline.html` (see `--help`).
//!
//! ```text
//! cargo run -p hlc-examples --example demo
//! ```

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use hlc_examples::demo::{output, timeline};

/// Runs the demo cluster and writes its timeline.
#[derive(Debug, Parser)]
struct Args {
    /// Where to write the timeline page [default: target/hlc-demo/timeline.html under the
    /// workspace, or $CARGO_TARGET_DIR, or $HLC_DEMO_TIMELINE when set].
    #[arg(long, value_name = "PATH")]
    timeline: Option<PathBuf>,
    /// Also write the picture alone as an SVG file (scripts/timeline refreshes
    /// docs/timeline.svg this way).
    #[arg(long, value_name = "PATH")]
    svg: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let report = hlc_examples::demo::run().await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{report}")?;
    writeln!(out, "Both nodes stopped.")?;
    let page = args.timeline.unwrap_or_else(output::default_timeline_path);
    output::write(&page, &timeline::page(&report.timeline))?;
    writeln!(out)?;
    writeln!(
        out,
        "Timeline ({}): {}",
        timeline::summary(&report.timeline),
        page.display()
    )?;
    if let Some(svg) = args.svg {
        output::write(&svg, &timeline::svg(&report.timeline))?;
        writeln!(out, "Picture alone: {}", svg.display())?;
    }
    Ok(())
}
