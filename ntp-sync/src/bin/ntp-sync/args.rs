//! The command line.

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use ntp_sync::proto::poll::{DEFAULT_MAX_POLL, DEFAULT_MIN_POLL, MAX_POLL_LIMIT};
use ntp_sync::query::QueryOptions;
use ntp_sync::Fault;

/// `--timeout`'s default, in the flag's unit.
const DEFAULT_TIMEOUT_MS: u64 = ntp_sync::proto::poll::DEFAULT_TIMEOUT.as_millis() as u64;
/// `--min-poll`'s and `--max-poll`'s defaults and ceiling, in the flags' unit.
const DEFAULT_MIN_POLL_S: u64 = DEFAULT_MIN_POLL.as_secs();
const DEFAULT_MAX_POLL_S: u64 = DEFAULT_MAX_POLL.as_secs();
const MAX_POLL_LIMIT_S: u64 = MAX_POLL_LIMIT.as_secs();

/// Bound true time with NTP: query servers, serve time, or watch a client.
#[derive(Debug, Parser)]
#[command(name = "ntp-sync", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Query servers once and print each source and the combined estimate.
    Query(QueryArgs),
    /// Answer NTP requests, optionally with injected faults.
    Serve(ServeArgs),
    /// Run the client and print the estimate after each poll.
    Watch(WatchArgs),
}

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// Polls per server, in a burst.
    #[arg(long, default_value_t = QueryOptions::default().samples, value_parser = clap::value_parser!(u8).range(1..=64))]
    pub(crate) samples: u8,
    /// Wait for each response, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub(crate) timeout: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Also read the host kernel's own clock figures (kept by its chronyd or ntpd); with
    /// servers, their bounds are intersected.
    #[arg(long)]
    pub(crate) kernel: bool,
    /// Servers: host, host:port, or IP address (port 123 by default).
    #[arg(value_name = "SERVER", required_unless_present = "kernel")]
    pub(crate) servers: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to answer on, e.g. 127.0.0.1:1123.
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: String,
    /// Serve time this many seconds off the system clock (negative: behind).
    #[arg(
        long,
        value_name = "SECONDS",
        allow_negative_numbers = true,
        default_value_t = 0.0
    )]
    pub(crate) offset: f64,
    /// Stratum to advertise.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub(crate) stratum: u8,
    /// Inject a fault: offset:SECONDS, drift:PPM, stratum:N, leap:0-3, kod:CODE,
    /// spoof-origin or silence. Repeatable.
    #[arg(long, value_name = "KIND")]
    pub(crate) fault: Vec<Fault>,
}

impl Cli {
    /// The checks that span several flags, as clap's own errors (usage, exit status 1).
    ///
    /// # Errors
    ///
    /// The first check that fails.
    pub(crate) fn validate(&self) -> Result<(), clap::Error> {
        match &self.command {
            Command::Watch(watch) if watch.min_poll > watch.max_poll => {
                let message = format!(
                    "--min-poll ({} s) must not be above --max-poll ({} s)",
                    watch.min_poll, watch.max_poll
                );
                // The subcommand's own usage line, as clap gives for its other errors.
                let mut cli = Self::command();
                cli.build();
                let command = cli.find_subcommand_mut("watch").map(|c| c.clone());
                let mut command = command.unwrap_or(cli);
                Err(command.error(ErrorKind::ArgumentConflict, message))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Also follow the host kernel's own clock figures; with servers, their bounds are
    /// intersected.
    #[arg(long)]
    pub(crate) kernel: bool,
    /// Print one JSON object per update, one a line: `status`, `interval` (`earliest`,
    /// `latest`; null while unbounded), `offset_s`, `radius_s`, `combined`, `sources`,
    /// `polls`, `disruption` (the one in force) and `event` (set when the status changed or
    /// a disruption was seen: `status_from`, `status_to`, `disruption`), and with `--kernel`
    /// `kernel` (the kernel's view) and `conflict` (set while the two bounds do not meet).
    #[arg(long)]
    pub(crate) json: bool,
    /// Poll interval while a server answers, in seconds (RFC 5905 asks for 16 or more
    /// towards servers you do not run).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_MIN_POLL_S, value_parser = clap::value_parser!(u64).range(1..=MAX_POLL_LIMIT_S))]
    pub(crate) min_poll: u64,
    /// Ceiling of the back-off when a server fails, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_MAX_POLL_S, value_parser = clap::value_parser!(u64).range(1..=MAX_POLL_LIMIT_S))]
    pub(crate) max_poll: u64,
    /// Servers: host, host:port, or IP address (port 123 by default).
    #[arg(value_name = "SERVER", required_unless_present = "kernel")]
    pub(crate) servers: Vec<String>,
}
