//! Formatting shared by the commands; every line to stdout goes through [`out`].

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use ntp_sync::proto::engine::SourceState;

/// Writes one line to stdout; a closed pipe (`| head`) is not an error worth reporting.
pub(crate) fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
}

/// Nanoseconds as signed seconds, e.g. `+0.000123`.
pub(crate) fn signed_seconds(nanos: i64) -> String {
    format!("{:+.6}", seconds(nanos))
}

/// Nanoseconds as seconds.
pub(crate) fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

/// Nanoseconds since the Unix epoch as RFC 3339 in UTC with microseconds.
pub(crate) fn rfc3339(nanos: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(nanos).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `combined`, `falseticker` or `unusable`, and the reason when unusable.
pub(crate) fn state(state: &SourceState) -> (&'static str, Option<String>) {
    match state {
        SourceState::Combined => ("combined", None),
        SourceState::Falseticker => ("falseticker", None),
        SourceState::Unusable(reason) => ("unusable", Some(reason.to_string())),
    }
}
