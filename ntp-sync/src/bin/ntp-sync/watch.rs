//! `ntp-sync watch`: run the client and print the estimate after each poll, and every status
//! change and disruption, until killed.

use std::process::ExitCode;
use std::time::Duration;

use ntp_sync::proto::engine::SourceState;
use ntp_sync::proto::leap::Leap;
use ntp_sync::{Disruption, NtpClient, Snapshot, Status, TimeInterval, TimeSources};
use serde_json::{json, Value};

use crate::args::WatchArgs;
use crate::output::{out, rfc3339, seconds, signed_seconds};

pub(crate) async fn run(args: WatchArgs) -> ExitCode {
    let sources = match (args.kernel, args.servers.is_empty()) {
        (false, _) => TimeSources::Network,
        (true, true) => TimeSources::Kernel,
        (true, false) => TimeSources::Both,
    };
    let client = NtpClient::builder()
        .time_sources(sources)
        .servers(args.servers)
        .poll_interval(
            Duration::from_secs(args.min_poll),
            Duration::from_secs(args.max_poll),
        )
        .start();
    let client = match client {
        Ok(client) => client,
        Err(error) => {
            eprintln!("ntp-sync: {error}");
            return ExitCode::from(1);
        }
    };
    let mut snapshots = client.subscribe();
    let mut printed = snapshots.borrow_and_update().clone();
    while snapshots.changed().await.is_ok() {
        let snapshot = snapshots.borrow_and_update().clone();
        for update in Update::between(&printed, &snapshot) {
            let interval = match update.to {
                Status::Disrupted if update.missed => TimeInterval::disrupted(),
                _ => client.now_interval(),
            };
            match args.json {
                true => out(&to_json(&snapshot, &interval, &update).to_string()),
                false => print_text(&snapshot, &interval, &update),
            }
        }
        printed = snapshot;
    }
    ExitCode::SUCCESS
}

/// One thing to print: what changed since the snapshot printed last.
struct Update {
    /// A poll completed.
    polled: bool,
    /// The status printed last, and the status now.
    from: Status,
    to: Status,
    /// A disruption seen since.
    disruption: Option<Disruption>,
    /// The client was disrupted and had resynchronised before this snapshot was read (the
    /// snapshot channel keeps the latest only): this update stands for the disrupted one.
    missed: bool,
    /// The leap second pending when the snapshot printed last, and now.
    leap_from: Option<Leap>,
    leap_to: Option<Leap>,
}

impl Update {
    /// What to print for `now`, the snapshot after `printed`: nothing, one update, or two
    /// when a disruption came and went between them.
    fn between(printed: &Snapshot, now: &Snapshot) -> Vec<Self> {
        let disruption = now
            .last_disruption
            .filter(|_| now.disruptions > printed.disruptions);
        let current = Self {
            polled: now.polls > printed.polls,
            from: printed.status,
            to: now.status,
            disruption,
            missed: false,
            leap_from: printed.leap,
            leap_to: now.leap,
        };
        let missed = disruption.is_some_and(|d| d.kind.invalidates_estimate())
            && now.status != Status::Disrupted
            && printed.status != Status::Disrupted;
        if missed {
            let disrupted = Self {
                polled: false,
                to: Status::Disrupted,
                missed: true,
                ..current
            };
            let resynchronised = Self {
                from: Status::Disrupted,
                disruption: None,
                ..current
            };
            return vec![disrupted, resynchronised];
        }
        let news = current.polled
            || current.from != current.to
            || disruption.is_some()
            || current.leap_changed();
        match news {
            true => vec![current],
            false => Vec::new(),
        }
    }

    fn status_changed(&self) -> bool {
        self.from != self.to
    }

    fn leap_changed(&self) -> bool {
        self.leap_from != self.leap_to
    }

    fn leap_event(&self) -> Option<(&'static str, Leap)> {
        leap_event(self.leap_from, self.leap_to)
    }
}

/// The leap's change from `from` to `to` in words: `pending` or `passed` (a withdrawn
/// announcement reads the same: it no longer applies), with the leap it is about.
fn leap_event(from: Option<Leap>, to: Option<Leap>) -> Option<(&'static str, Leap)> {
    match (from, to) {
        (from, Some(to)) if from != Some(to) => Some(("pending", to)),
        (Some(from), None) => Some(("passed", from)),
        _ => None,
    }
}

fn print_text(snapshot: &Snapshot, interval: &TimeInterval, update: &Update) {
    let (from, to) = (update.from, update.to);
    match (update.status_changed(), update.disruption) {
        (true, Some(disruption)) => out(&format!("status: {from} -> {to} ({disruption})")),
        (true, None) => out(&format!("status: {from} -> {to}")),
        (false, Some(disruption)) => out(&format!("disruption: {disruption}")),
        (false, None) => {}
    }
    if let Some((what, leap)) = update.leap_event() {
        out(&format!("leap: {leap} {what}"));
    }
    if update.polled {
        out(&with_kernel(line(snapshot, interval), snapshot));
    }
}

fn combined(snapshot: &Snapshot) -> usize {
    snapshot
        .sources
        .iter()
        .filter(|s| s.state == SourceState::Combined)
        .count()
}

fn line(snapshot: &Snapshot, interval: &TimeInterval) -> String {
    let sources = format!("{}/{} combined", combined(snapshot), snapshot.sources.len());
    match (interval.status.bounds_true_time(), snapshot.estimate) {
        (true, Some(estimate)) => format!(
            "{} offset {}s ± {:.6}s true time in [{}, {}] ({sources})",
            interval.status,
            signed_seconds(estimate.offset_nanos),
            interval.radius().as_secs_f64(),
            rfc3339(micros_as_nanos(interval.earliest)),
            rfc3339(micros_as_nanos(interval.latest)),
        ),
        _ if interval.status == Status::Disrupted => {
            let why = snapshot
                .disruption
                .map_or_else(|| "a disruption".to_owned(), |d| d.to_string());
            format!("disrupted: {why}; resynchronising ({sources})")
        }
        _ => {
            let reason = kernel_reason(snapshot)
                .unwrap_or_else(|| snapshot.outcome.failure_reason().unwrap_or("estimate void"));
            format!("unsynchronised: {reason} ({sources})")
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

fn micros_as_nanos(t: hlc_core::Timestamp) -> i64 {
    t.physical_micros() as i64 * 1_000
}

fn to_json(snapshot: &Snapshot, interval: &TimeInterval, update: &Update) -> Value {
    let bounded = interval.status.bounds_true_time();
    let estimate = snapshot.estimate.filter(|_| bounded);
    let changed = update.status_changed();
    let leap_event = update.leap_event();
    let event = match (changed, update.disruption, leap_event) {
        (false, None, None) => Value::Null,
        (_, disruption, _) => json!({
            "status_from": changed.then(|| update.from.to_string()),
            "status_to": changed.then(|| update.to.to_string()),
            "disruption": disruption,
            "leap": leap_event.map(|(what, leap)| json!({"change": what, "leap": leap_json(&leap)})),
        }),
    };
    let in_force = match update.missed {
        true => update.disruption,
        false => snapshot.disruption,
    };
    json!({
        "status": interval.status.to_string(),
        "interval": bounded.then(|| json!({
            "earliest": rfc3339(micros_as_nanos(interval.earliest)),
            "latest": rfc3339(micros_as_nanos(interval.latest)),
        })),
        "offset_s": estimate.map(|e| seconds(e.offset_nanos)),
        "radius_s": bounded.then(|| interval.radius().as_secs_f64()),
        "combined": combined(snapshot),
        "sources": snapshot.sources.len(),
        "polls": snapshot.polls,
        "disruption": in_force,
        "event": event,
        "kernel": snapshot.kernel.as_ref().map(crate::kernel::to_json),
        "conflict": snapshot.conflict,
        "leap": snapshot.leap.as_ref().map(leap_json),
    })
}

/// A leap second as JSON: its kind, the midnight it ends a month at, and in words.
fn leap_json(leap: &Leap) -> Value {
    json!({
        "kind": leap.kind,
        "midnight": rfc3339(leap.midnight_unix_secs.saturating_mul(1_000_000_000)),
        "text": leap.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ntp_sync::proto::leap::LeapKind;

    #[test]
    fn a_leap_is_printed_when_it_becomes_pending_and_when_it_passes() {
        let leap = Leap {
            kind: LeapKind::Insert,
            midnight_unix_secs: 1_483_228_800,
        };
        assert_eq!(leap_event(None, Some(leap)), Some(("pending", leap)));
        assert_eq!(leap_event(Some(leap), Some(leap)), None);
        assert_eq!(leap_event(Some(leap), None), Some(("passed", leap)));
        assert_eq!(leap_event(None, None), None);
        let json = leap_json(&leap);
        assert_eq!(json["kind"], "Insert");
        assert_eq!(json["midnight"], "2017-01-01T00:00:00.000000Z");
    }
}
