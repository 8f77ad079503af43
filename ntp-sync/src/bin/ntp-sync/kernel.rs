//! The host kernel's view, as `query --kernel` and `watch --kernel` print it.

use ntp_sync::kernel::{KernelBound, KernelView};
use serde_json::{json, Value};

use crate::output::{rfc3339, seconds, signed_seconds};

/// `(earliest, latest)` true time, nanoseconds since the Unix epoch, or `None`.
fn bounds(view: &KernelView) -> Option<(i64, i64)> {
    match view.bound {
        KernelBound::Bounded {
            earliest_nanos,
            latest_nanos,
        } => Some((earliest_nanos, latest_nanos)),
        KernelBound::Unsynchronised(_) => None,
    }
}

/// The reason the kernel gives no bound, if it gives none.
pub(crate) fn unsynchronised(view: &KernelView) -> Option<String> {
    view.reading
        .unsynchronised()
        .map(|reason| reason.to_string())
}

/// The view as one JSON object; `earliest` and `latest` are null when unsynchronised.
pub(crate) fn to_json(view: &KernelView) -> Value {
    let r = &view.reading;
    let bounds = bounds(view);
    json!({
        "status": if bounds.is_some() { "synchronised" } else { "unsynchronised" },
        "reason": unsynchronised(view),
        "earliest": bounds.map(|b| rfc3339(b.0)),
        "latest": bounds.map(|b| rfc3339(b.1)),
        "maxerror_s": seconds(r.maxerror_micros.saturating_mul(1_000)),
        "esterror_s": seconds(r.esterror_micros.saturating_mul(1_000)),
        "offset_s": seconds(r.offset_nanos()),
        "frequency_ppm": r.frequency_ppm(),
        "flags": r.flags(),
        "clock_state": r.state,
        "time": rfc3339(r.time_nanos),
    })
}

/// The view on one line: the bound or why there is none, then the figures.
pub(crate) fn line(view: &KernelView) -> String {
    let r = &view.reading;
    let head = match (bounds(view), unsynchronised(view)) {
        (Some((earliest, latest)), _) => format!(
            "kernel: synchronised; true time in [{}, {}]",
            rfc3339(earliest),
            rfc3339(latest)
        ),
        (None, reason) => format!(
            "kernel: unsynchronised: {}",
            reason.unwrap_or_else(|| "no bound".to_owned())
        ),
    };
    format!(
        "{head}; maxerror {:.6}s esterror {:.6}s offset {}s frequency {:+.3}ppm flags {}",
        seconds(r.maxerror_micros.saturating_mul(1_000)),
        seconds(r.esterror_micros.saturating_mul(1_000)),
        signed_seconds(r.offset_nanos()),
        r.frequency_ppm(),
        match r.flags().is_empty() {
            true => "-".to_owned(),
            false => r.flags().join(","),
        }
    )
}
