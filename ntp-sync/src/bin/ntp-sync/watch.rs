//! `ntp-sync watch`: run the client and print the estimate after each poll, until killed.

use std::process::ExitCode;

use ntp_sync::proto::engine::SourceState;
use ntp_sync::{NtpClient, Snapshot, Status, TimeSources};

use crate::args::WatchArgs;
use crate::output::{out, rfc3339, signed_seconds};

pub(crate) async fn run(args: WatchArgs) -> ExitCode {
    let sources = match (args.kernel, args.servers.is_empty()) {
        (false, _) => TimeSources::Network,
        (true, true) => TimeSources::Kernel,
        (true, false) => TimeSources::Both,
    };
    let builder = NtpClient::builder().time_sources(sources);
    let client = match builder.servers(args.servers).start() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("ntp-sync: {error}");
            return ExitCode::from(1);
        }
    };
    let mut snapshots = client.subscribe();
    let mut printed_polls = 0;
    while snapshots.changed().await.is_ok() {
        let snapshot = snapshots.borrow_and_update().clone();
        if snapshot.polls > printed_polls {
            printed_polls = snapshot.polls;
            out(&with_kernel(line(&client, &snapshot), &snapshot));
        }
    }
    ExitCode::SUCCESS
}

fn line(client: &NtpClient, snapshot: &Snapshot) -> String {
    let interval = client.now_interval();
    let combined = snapshot
        .sources
        .iter()
        .filter(|s| s.state == SourceState::Combined)
        .count();
    let sources = format!("{combined}/{} combined", snapshot.sources.len());
    match (interval.status, snapshot.estimate) {
        (Status::Unsynchronised, _) | (_, None) => {
            let reason = kernel_reason(snapshot)
                .unwrap_or_else(|| snapshot.outcome.failure_reason().unwrap_or("estimate void"));
            format!("unsynchronised: {reason} ({sources})")
        }
        (status, Some(estimate)) => {
            let to_nanos = |t: hlc_core::Timestamp| t.physical_micros() as i64 * 1_000;
            format!(
                "{status} offset {}s ± {:.6}s true time in [{}, {}] ({sources})",
                signed_seconds(estimate.offset_nanos),
                interval.radius().as_secs_f64(),
                rfc3339(to_nanos(interval.earliest)),
                rfc3339(to_nanos(interval.latest)),
            )
        }
    }
}

/// Why nothing is published, when the kernel is the reason: a conflict, or the only source.
fn kernel_reason(snapshot: &Snapshot) -> Option<&'static str> {
    match (&snapshot.conflict, &snapshot.kernel) {
        (Some(_), _) => Some("network and kernel bounds do not meet"),
        (None, Some(_)) if snapshot.sources.is_empty() => Some("kernel gives no bound"),
        _ => None,
    }
}

/// `line`, then the kernel's view when it is a source.
fn with_kernel(line: String, snapshot: &Snapshot) -> String {
    match &snapshot.kernel {
        Some(view) => format!("{line}; {}", crate::kernel::line(view)),
        None => line,
    }
}
