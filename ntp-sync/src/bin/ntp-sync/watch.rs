//! `ntp-sync watch`: run the client and print the estimate after each poll, until killed.

use std::process::ExitCode;

use ntp_sync::proto::engine::SourceState;
use ntp_sync::{NtpClient, Snapshot, Status};

use crate::args::WatchArgs;
use crate::output::{out, rfc3339, signed_seconds};

pub(crate) async fn run(args: WatchArgs) -> ExitCode {
    let client = match NtpClient::builder().servers(args.servers).start() {
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
            out(&line(&client, &snapshot));
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
            let reason = snapshot.outcome.failure_reason().unwrap_or("estimate void");
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
