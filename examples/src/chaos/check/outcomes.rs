//! Refusals and failures: each either of a kind the design allows, counted, or unexpected.
//!
//! Allowed ([`Allowed`]):
//! - `503` with problem type [`CLOCK_UNTRUSTED`]: the node's clock is untrusted, counted by the
//!   problem's `reason` (`middleware/HEADER.md`, "A server whose own clock is untrusted");
//! - `400` with problem type [`TOO_FAR_AHEAD`]: the request's stamp led the node's clock by
//!   more than max offset (`middleware/src/refusal/problem.rs`);
//! - `502` from `/relay`, judged by its recorded cause (see [`relay`]): its peer
//!   refused it as above ([`Allowed::RelayPeerRefused`]), its client layer refused the peer's
//!   answer as too far ahead or refused to send on an untrusted clock
//!   ([`Allowed::RelayRefused`]), its client layer sent nothing on its own untrusted clock
//!   ([`Allowed::RelayNotSent`]), or the peer could not be reached while it was down
//!   ([`Allowed::RelayPeerDown`]). A `502` of a history written before the cause was recorded
//!   is allowed as [`Allowed::RelayPeer`], so that old histories still check;
//! - no answer while the node was down ([`DownWindows`]).
//!
//! Anything else (another status, a `503` without the problem type, a `/relay` `502` for any
//! other cause, a failure while the node was up) is [`Unexpected`].

use std::collections::BTreeMap;

use super::down::DownWindows;
use super::parse::{path, Parsed};
use super::{relay, Allowed, Unexpected};
use crate::chaos::history::{Outcome, Route};

/// The problem type of a `503` from a node whose clock is untrusted (`middleware/HEADER.md`).
pub const CLOCK_UNTRUSTED: &str = "urn:hlc:clock-untrusted";
/// The problem type of a `400` refusing a stamp too far ahead (`middleware/HEADER.md`).
pub const TOO_FAR_AHEAD: &str = "urn:hlc:too-far-ahead";

/// The requests sorted by outcome.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) answered_ok: usize,
    pub(super) allowed: BTreeMap<Allowed, usize>,
    pub(super) unexpected: Vec<Unexpected>,
}

pub(super) fn classify(requests: &[Parsed<'_>], down: &DownWindows) -> Tally {
    let mut tally = Tally::default();
    for request in requests {
        let record = request.record;
        let verdict = match &record.outcome {
            Outcome::Answered {
                status: 200..=299, ..
            } => {
                tally.answered_ok += 1;
                continue;
            }
            Outcome::Answered {
                status: 502,
                relay_failure: Some(failure),
                ..
            } if record.route == Route::Relay => relay::judge(record, failure, down),
            Outcome::Answered {
                status,
                problem_type,
                reason,
                ..
            } => answered(
                record.route,
                *status,
                problem_type.as_deref(),
                reason.as_deref(),
            ),
            Outcome::Failed { error } => {
                if down.covers(record.node, record.sent_us, record.received_us) {
                    Ok(Allowed::NodeDown)
                } else {
                    Err(format!(
                        "{} failed while node {} was up: {error}",
                        path(record.route),
                        record.node
                    ))
                }
            }
        };
        match verdict {
            Ok(kind) => *tally.allowed.entry(kind).or_default() += 1,
            Err(kind) => tally.unexpected.push(Unexpected {
                kind,
                record: record.clone(),
            }),
        }
    }
    tally
}

/// The allowed kind of a non-2xx answer, or what was unexpected about it.
fn answered(
    route: Route,
    status: u16,
    problem_type: Option<&str>,
    reason: Option<&str>,
) -> Result<Allowed, String> {
    if let Some(kind) = refusal(status, problem_type, reason) {
        return Ok(kind);
    }
    match (status, route) {
        // An older history: the cause of the 502 was not recorded (see `relay` for the rule
        // that judges it when it was).
        (502, Route::Relay) => Ok(Allowed::RelayPeer),
        _ => Err(format!(
            "{} answered {status} ({})",
            path(route),
            problem_type.unwrap_or("no problem type")
        )),
    }
}

/// The refusal a node's server layer may answer by design ([`Allowed::Untrusted`] or
/// [`Allowed::TooFarAhead`]), whoever received it; `None` for anything else.
pub(super) fn refusal(
    status: u16,
    problem_type: Option<&str>,
    reason: Option<&str>,
) -> Option<Allowed> {
    match (status, problem_type) {
        (503, Some(CLOCK_UNTRUSTED)) => Some(Allowed::Untrusted(reason.unwrap_or("").into())),
        (400, Some(TOO_FAR_AHEAD)) => Some(Allowed::TooFarAhead),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::{check, Allowed};
    use crate::chaos::history::{Fault, Route};

    #[test]
    fn each_allowed_kind_is_counted() {
        let history = [
            run(),
            untrusted(1, 3, 1_000, 1_100, "fenced"),
            untrusted(2, 3, 1_200, 1_300, "fenced"),
            untrusted(3, 4, 1_200, 1_300, "unsynchronised"),
            too_far_ahead(4, 2, 1_400, 1_500, stamp(2, 1_450, 0)),
            refused(5, 1, Route::Relay, 1_600, 1_700, 502, None),
            fault(2_000, Fault::Kill { node: 5 }),
            failed(6, 5, 2_100, 2_200),
            started(3_000, 5, 1),
        ];
        let report = check(&history);
        assert!(report.passed(), "{report}");
        let count = |kind: Allowed| report.allowed.get(&kind).copied();
        assert_eq!(count(Allowed::Untrusted("fenced".into())), Some(2));
        assert_eq!(count(Allowed::Untrusted("unsynchronised".into())), Some(1));
        assert_eq!(count(Allowed::TooFarAhead), Some(1));
        assert_eq!(count(Allowed::RelayPeer), Some(1));
        assert_eq!(count(Allowed::NodeDown), Some(1));
        assert!(
            report
                .to_string()
                .contains("503 clock untrusted (fenced): 2"),
            "{report}"
        );
    }

    #[test]
    fn other_refusals_and_failures_while_up_are_unexpected() {
        let history = [
            run(),
            refused(1, 1, Route::Time, 1_000, 1_100, 502, None),
            refused(2, 1, Route::Time, 1_000, 1_100, 503, None),
            refused(
                3,
                1,
                Route::Time,
                1_000,
                1_100,
                400,
                Some("urn:hlc:malformed-header"),
            ),
            refused(4, 1, Route::Time, 1_000, 1_100, 500, None),
            fault(2_000, Fault::Kill { node: 5 }),
            started(3_000, 5, 1),
            // Failed long after node 5 came back, and on a node never down.
            failed(5, 5, 3_000 + super::super::RECOVERY_GRACE_US + 1, 9_000_000),
            failed(6, 4, 2_100, 2_200),
        ];
        let report = check(&history);
        assert!(!report.passed());
        assert_eq!(report.unexpected.len(), 6, "{report}");
        assert!(report.allowed.is_empty(), "{report}");
        let shown = report.to_string();
        assert!(
            shown.contains("/time answered 400 (urn:hlc:malformed-header): 1"),
            "{shown}"
        );
        assert!(
            shown.contains("/time failed while node 4 was up: connection refused: 1"),
            "{shown}"
        );
        // The first few in full: the JSON line of the request.
        assert!(shown.contains(r#"{"event":"request","id":1,"#), "{shown}");
    }
}
