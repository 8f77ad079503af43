//! `ntp-sync serve`: answer NTP requests until killed.
//!
//! Once it listens it writes one line to stderr, `ntp-sync: serving ntp on ADDR`, ADDR being
//! the bound socket address. With `--listen 127.0.0.1:0` the system picks a free port and
//! that line is how a caller (a test, a script) learns it: the format is kept stable.

use std::process::ExitCode;

use ntp_sync::{Fault, Responder};

use crate::args::ServeArgs;

pub(crate) async fn run(args: ServeArgs) -> ExitCode {
    if !args.offset.is_finite() || args.offset.abs() >= 1e9 {
        eprintln!("ntp-sync: --offset must be a number of seconds below 1e9");
        return ExitCode::from(1);
    }
    let mut builder = Responder::builder()
        .fault(Fault::Offset {
            nanos: (args.offset * 1e9) as i64,
        })
        .fault(Fault::Stratum(args.stratum));
    for fault in args.fault {
        builder = builder.fault(fault);
    }
    let responder = match builder.bind(args.listen.as_str()).await {
        Ok(responder) => responder,
        Err(error) => {
            eprintln!("ntp-sync: cannot listen on {}: {error}", args.listen);
            return ExitCode::from(1);
        }
    };
    eprintln!("ntp-sync: serving ntp on {}", responder.local_addr());
    // Serves until the process is stopped; the responder answers on its own task.
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
