//! The checker: the cluster's promises, judged over a whole [`history`](super::history).
//!
//! [`check`] is pure (no I/O, no clock): it reads the records, parses every stamp once, and
//! returns a [`Report`]. Times are the harness's clock, standing for true time; stamps are
//! compared in the HLC order of [`hlc_core::NodeTimestamp`]. The harness observes the nodes
//! from outside, on a loaded machine, so every rule below is written so that a race between
//! an observation and a node's state can never look like a broken promise:
//!
//! 1. **Monotonic stamps.** Per node, across its whole life, restarts included: for two
//!    requests whose intervals do not overlap (`r1.received_us < r2.sent_us`), every stamp the
//!    node issued in `r1`'s answer is below every stamp it issued in `r2`'s. A stamp belongs to
//!    the node its node-id field names (the `hlc` header, a `/time` body, a `/relay` body's
//!    `local` and `peer` stamps), whatever node was called, and answers of every status count.
//!    Overlapping requests are not compared: the node may have served them in either order.
//! 2. **Causality.** A 2xx answer's `hlc` header stamp is above the request's own stamp; a
//!    `/time` body stamp lies between the two (the server merges the request before the
//!    handler runs, and stamps the answer after it); for `/relay`, request < peer's stamp <
//!    `local` stamp ≤ header stamp (the node merges the request before calling its peer, and
//!    the peer's answer before answering). Across nodes only the timestamp is compared (a
//!    merge makes it strictly greater; the node id only breaks ties between equal ones).
//! 3. **No 2xx while untrusted**, judged from the `/health` polls: see [`health`] for the
//!    bracket and why it is sound.
//! 4. **Lead.** Every stamp in a 2xx answer: its physical part minus the answer's
//!    `received_us` is at most [`RunInfo::max_offset_us`](super::history::RunInfo). The stamp
//!    was made before the answer was read, so the lead is never overstated.
//! 5. **Refusals and failures** only for reasons the design allows, counted by [`Allowed`]
//!    kind (see [`outcomes`], [`relay`] for a `/relay`'s `502` by its cause, and [`down`] for
//!    the grace around a node's downtime); anything else is an [`Unexpected`] error.
//! 6. **Memory.** Per node life, the RSS at the end at most [`MEMORY_GROWTH_PERCENT`] above
//!    its sample after warm-up (see [`memory`]).
//!
//! A malformed stamp in the history is itself a violation (`unparsable stamp`), as is a
//! history without its run record; neither panics.
//!
//! ```
//! use hlc_examples::chaos::check::check;
//! use hlc_examples::chaos::history::{Record, RunInfo};
//!
//! let run = RunInfo {
//!     seed: 1,
//!     seconds: 60,
//!     max_offset_us: 500_000,
//!     nodes: vec![],
//!     started_us: 0,
//! };
//! let report = check(&[Record::Run(run)]);
//! assert!(report.passed());
//! assert_eq!(
//!     report.summary_line(),
//!     "chaos: 0 requests, 0 unexpected errors, 0 fencings, max lead 0 ms, 0 restarts, \
//!      rss 0.0->0.0 MB, 0 violations"
//! );
//! ```

use super::history::{Fault, Record, RunInfo};

mod causality;
pub mod down;
pub mod health;
mod lead;
pub mod memory;
mod monotonic;
pub mod outcomes;
mod parse;
pub mod relay;
mod report;

#[cfg(test)]
mod fixture;

pub use down::{FAULT_LEAD_US, RECOVERY_GRACE_US};
pub use memory::MEMORY_GROWTH_PERCENT;
pub use report::{
    Allowed, Invariant, Report, RssTotals, Unexpected, Violation, UNEXPECTED_SHOWN,
    VIOLATIONS_SHOWN,
};

/// Checks a whole history; pure (no I/O, no clock).
pub fn check(history: &[Record]) -> Report {
    let mut violations = Vec::new();
    let run = run_info(history);
    if run.is_none() {
        violations.push(Violation::new(
            Invariant::History,
            "no run record: the max offset is unknown, so no lead was judged",
        ));
    }
    let requests = parse::requests(history, &mut violations);
    monotonic::check(&requests, &mut violations);
    causality::check(&requests, &mut violations);
    let polls = health::Polls::new(history);
    polls.check(&requests, &mut violations);
    let max_lead_us = lead::check(&requests, run.map(|run| run.max_offset_us), &mut violations);
    let tally = outcomes::classify(&requests, &down::DownWindows::new(history));
    let rss = memory::check(history, &mut violations);
    Report {
        requests: requests.len(),
        answered_ok: tally.answered_ok,
        allowed: tally.allowed,
        unexpected: tally.unexpected,
        fencings: polls.fencings(),
        restarts: restarts(history),
        max_lead_us,
        rss,
        violations,
    }
}

fn run_info(history: &[Record]) -> Option<&RunInfo> {
    history.iter().find_map(|record| match record {
        Record::Run(info) => Some(info),
        _ => None,
    })
}

fn restarts(history: &[Record]) -> usize {
    history
        .iter()
        .filter(|record| {
            matches!(
                record,
                Record::Fault {
                    fault: Fault::Restart { .. },
                    ..
                }
            )
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;
    use crate::chaos::history::Outcome;

    #[test]
    fn a_malformed_stamp_is_a_violation_not_a_panic() {
        let mut answer = time_ok(1, 3, 1_000, 2_000, stamp(3, 1_500, 0));
        set_header(&mut answer, "00-0006412B3C4D5003-0000000000000003".into());
        set_stamp_sent(&mut answer, "nonsense".into());
        let report = check(&[run(), answer]);
        assert_eq!(
            invariants(&report),
            [
                Invariant::UnparsableStamp,
                Invariant::UnparsableStamp,
                Invariant::Causality
            ],
            "{report}"
        );
        assert!(
            report.to_string().contains("unparsable stamp: 2"),
            "{report}"
        );
    }

    #[test]
    fn a_history_without_its_run_record_fails() {
        let report = check(&[time_ok(1, 3, 1_000, 2_000, stamp(3, 1_500, 0))]);
        assert_eq!(invariants(&report), [Invariant::History], "{report}");
        assert!(!report.passed());
    }

    #[test]
    fn a_quiet_run_passes_and_counts() {
        let mut failed_record = failed(3, 9, 5_000, 4_000); // read before it was sent: odd
        if let Record::Request(request) = &mut failed_record {
            request.outcome = Outcome::Failed {
                error: String::new(),
            };
        }
        let history = [
            run(),
            health(3, 0, 100, 200, None),
            time_ok(1, 3, 1_000, 2_000, stamp(3, 1_500, 0)),
            fault(2_500, Fault::Kill { node: 9 }),
            fault(
                2_600,
                Fault::Restart {
                    node: 9,
                    clock_offset_ms: -10_000,
                },
            ),
            started(3_000, 9, 1),
            failed_record,
            health(3, 3_000, 3_100, 503, Some("fenced")),
        ];
        let report = check(&history);
        assert!(report.passed(), "{report}");
        assert_eq!((report.requests, report.answered_ok), (2, 1));
        assert_eq!((report.restarts, report.fencings), (1, 1));
        let shown = report.to_string();
        assert!(shown.ends_with(&report.summary_line()), "{shown}");
        assert!(
            shown.contains("failed while the node was down: 1"),
            "{shown}"
        );
    }
}
