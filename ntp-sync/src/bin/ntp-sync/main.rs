//! `ntp-sync`: query NTP servers for a bound on true time, serve time, or watch a client.
//!
//! Exit status: 0 with an estimate, 2 when no majority of servers agrees or none is usable,
//! 1 on usage errors.

use std::process::ExitCode;

use clap::Parser;

mod args;
mod kernel;
mod output;
mod query;
mod serve;
mod watch;

use args::{Cli, Command};

fn main() -> ExitCode {
    // Whatever happens, one line on stderr, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("ntp-sync: internal error: {info}");
    }));
    let cli = match Cli::try_parse().and_then(|cli| cli.validate().map(|()| cli)) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 1 } else { 0 });
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ntp-sync: cannot start the runtime: {error}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Query(args) => query::run(args).await,
            Command::Serve(args) => serve::run(args).await,
            Command::Watch(args) => watch::run(args).await,
        }
    })
}

/// `RUST_LOG` picks what to log (default warnings), always to stderr; colours only when
/// stderr is a terminal, so that a log file or a pipe gets plain text.
fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
