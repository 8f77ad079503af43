//! `chaos`: five `hlc_node` processes under load while faults drawn from a seed hit them
//! (kills and restarts with the clock set back, pauses, clock steps, CPU load, NTP sources
//! lying or going silent); the history is checked against the cluster's promises.
//!
//! ```text
//! scripts/chaos [--seconds N] [--seed S]
//! chaos --check target/chaos/<seed>-<unix time>/history.jsonl
//! ```
//!
//! `scripts/chaos` builds `hlc_node` and this program (debug) and runs it. The run leaves
//! `target/chaos/<seed>-<unix time>/`: `history.jsonl` (one record a line, see
//! `hlc_examples::chaos::history`), `summary.txt` (the checker's report, its last line
//! `chaos: <requests> requests, ... <violations> violations`) and `node-N.log` (each node's
//! output, across its restarts). The exit code is 0 only when the check passed and every
//! fault was injected; 1 when not; 2 when the run could not be set up or overran its hard
//! limit (the load's seconds + [`HARD_LIMIT_MARGIN`]); 130 on Ctrl-C. Every node and
//! `stress-ng` is killed on every way out, and by the kernel when this program is killed.
//!
//! `--check HISTORY` runs nothing: it checks a history left by an earlier run (with the
//! checker of this build) and prints the report, exiting 0 when it passed, 1 when not, 2 when
//! the history cannot be read.
//!
//! Needs `stress-ng` (Debian package `stress-ng`).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use hlc_examples::chaos::check::check;
use hlc_examples::chaos::harness::{self, Options, DEFAULT_SECONDS, DEFAULT_SEED};
use hlc_examples::chaos::history::read_history;

/// How far past the load's end the whole run may go before it is cut short: the nodes'
/// first sync (up to [`harness::START_LIMIT`]), a fault episode in flight, the requests in
/// flight ([`harness::REQUEST_TIMEOUT`]) and the check.
const HARD_LIMIT_MARGIN: Duration = Duration::from_secs(120);

/// Five hlc_node processes under load and faults; the history checked at the end.
#[derive(Debug, Parser)]
#[command(name = "chaos")]
struct Args {
    /// How long the load runs, in seconds.
    #[arg(long, default_value_t = DEFAULT_SECONDS, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// The seed of the fault schedule.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// The hlc_node program (default: the one beside this program).
    #[arg(long, value_name = "PATH")]
    node_binary: Option<PathBuf>,
    /// Where the run's directory is made.
    #[arg(long, value_name = "DIR", default_value = "target/chaos")]
    out: PathBuf,
    /// Check this history of an earlier run instead of running: print its report.
    #[arg(long, value_name = "HISTORY")]
    check: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(history) = &args.check {
        return check_only(history);
    }
    let node_binary = match args
        .node_binary
        .map_or_else(harness::default_node_binary, Ok)
    {
        Ok(path) => path,
        Err(error) => return fail(&format!("where is hlc_node? {error}")),
    };
    if !node_binary.is_file() {
        return fail(&format!(
            "no hlc_node at {} (cargo build -p hlc-examples --example hlc_node)",
            node_binary.display()
        ));
    }
    let options = Options {
        seconds: args.seconds,
        seed: args.seed,
        node_binary,
        out_root: args.out,
    };
    let limit = Duration::from_secs(options.seconds) + HARD_LIMIT_MARGIN;
    eprintln!(
        "chaos: seed {}, {} s of load, hard limit {limit:?}",
        options.seed, options.seconds
    );
    tokio::select! {
        outcome = tokio::time::timeout(limit, harness::run(&options)) => match outcome {
            Ok(Ok(outcome)) => {
                report(&format!("{}", outcome.report));
                for error in &outcome.harness_errors {
                    report(&format!("harness error: {error}"));
                }
                eprintln!("chaos: history in {}", outcome.dir.display());
                if outcome.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
            }
            Ok(Err(error)) => fail(&error.to_string()),
            Err(_) => fail(&format!("the run overran its hard limit of {limit:?}")),
        },
        _ = tokio::signal::ctrl_c() => {
            eprintln!("chaos: interrupted; stopping every node");
            ExitCode::from(130)
        }
    }
}

/// Checks the history at `path` and prints the report.
fn check_only(path: &Path) -> ExitCode {
    let history = File::open(path).and_then(|file| read_history(BufReader::new(file)));
    match history {
        Ok(history) => {
            let report = check(&history);
            self::report(&report.to_string());
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => fail(&format!("{}: {error}", path.display())),
    }
}

/// The report goes to standard output: it is the program's result.
#[allow(clippy::print_stdout)]
fn report(text: &str) {
    println!("{text}");
}

fn fail(message: &str) -> ExitCode {
    eprintln!("chaos: {message}");
    ExitCode::from(2)
}
