//! Causality along every chain a 2xx answer shows: each stamp above the one that caused it.
//!
//! `/time`: request < body < = header. The server layer merges the request's stamp before the
//! handler stamps the body, and stamps the answer after. `/relay`: request < peer < local <=
//! header: the node merges the request, sends its own stamp to the peer (which merges it before
//! stamping its `/time` body), merges the peer's answer into `local`, and stamps its own answer
//! last. The last link allows equality, which the code never makes but which breaks no promise.
//! Stamps of different nodes are compared by timestamp alone: a merge makes it strictly greater.

use hlc_core::NodeTimestamp;

use super::parse::{path, Answer, Parsed};
use super::{Invariant, Violation};
use crate::chaos::history::Route;

/// The name of the header's link: the last of every chain, the only one that may be equal.
const HEADER: &str = "the hlc header";

pub(super) fn check(requests: &[Parsed<'_>], violations: &mut Vec<Violation>) {
    for request in requests {
        if let Some(answer) = request.success() {
            check_answer(request, &answer, violations);
        }
    }
}

fn check_answer(request: &Parsed<'_>, answer: &Answer, violations: &mut Vec<Violation>) {
    let record = request.record;
    let mut missing = |what: &str| {
        violations.push(Violation::new(
            Invariant::Causality,
            format!(
                "request {}: {} answered {} without {what}",
                record.id,
                path(record.route),
                answer.status
            ),
        ));
    };
    // The chain in the order its stamps were made.
    let mut chain: Vec<(&str, NodeTimestamp)> = Vec::with_capacity(4);
    chain.extend(
        request
            .stamp_sent
            .map(|stamp| ("the request's stamp", stamp)),
    );
    if record.route == Route::Relay {
        match answer.peer {
            Some((_, peer)) => chain.push(("the peer's stamp", peer)),
            None => missing("the peer's stamp"),
        }
    }
    match answer.body {
        Some(body) => chain.push(("the body stamp", body)),
        None => missing("a body stamp"),
    }
    match answer.header {
        Some(header) => chain.push((HEADER, header)),
        None => missing("an hlc header"),
    }
    for pair in chain.windows(2) {
        let [(cause_name, cause), (effect_name, effect)] = pair else {
            continue;
        };
        let held = if *effect_name == HEADER {
            cause.timestamp <= effect.timestamp
        } else {
            cause.timestamp < effect.timestamp
        };
        if !held {
            violations.push(Violation::new(
                Invariant::Causality,
                format!(
                    "request {}: {} {effect} is not above {} {cause}",
                    record.id, effect_name, cause_name,
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::{check, Invariant};
    use crate::chaos::history::{Outcome, Record};

    #[test]
    fn a_header_stamp_not_above_the_requests_is_found() {
        let mut answer = time_ok(1, 3, 1_000, 2_000, stamp(3, 1_500, 0));
        set_stamp_sent(&mut answer, stamp(0x99, 1_600, 0));
        let report = check(&[run(), answer]);
        // Both the body and the header sit below the request's stamp; the first link names it.
        assert_eq!(invariants(&report), [Invariant::Causality], "{report}");
        assert!(
            report.violations[0].detail.contains("the request's stamp"),
            "{report}"
        );
    }

    #[test]
    fn a_header_above_the_request_passes() {
        let mut answer = time_ok(1, 3, 1_000, 2_000, stamp(3, 1_500, 1));
        set_stamp_sent(&mut answer, stamp(0x99, 1_500, 0)); // same µs, lower logical count
        let report = check(&[run(), answer]);
        assert!(report.violations.is_empty(), "{report}");
    }

    #[test]
    fn a_relay_whose_peer_stamp_is_not_above_the_request_is_found() {
        let mut answer = relay_ok(1, 4, 1_000, 3_000, stamp(2, 1_500, 0), stamp(4, 2_000, 0));
        set_stamp_sent(&mut answer, stamp(0x99, 1_500, 0));
        let report = check(&[run(), answer]);
        assert_eq!(invariants(&report), [Invariant::Causality], "{report}");
        assert!(
            report.violations[0].detail.contains("the peer's stamp"),
            "{report}"
        );
    }

    #[test]
    fn a_relay_whose_local_stamp_is_not_above_its_peers_is_found() {
        let answer = relay_ok(1, 4, 1_000, 3_000, stamp(2, 2_000, 0), stamp(4, 2_000, 0));
        let report = check(&[run(), answer]);
        assert_eq!(invariants(&report), [Invariant::Causality], "{report}");
        assert!(
            report.violations[0].detail.contains("the body stamp"),
            "{report}"
        );
    }

    #[test]
    fn a_relay_chain_in_order_passes_with_the_header_equal_to_local() {
        let mut answer = relay_ok(1, 4, 1_000, 3_000, stamp(2, 1_500, 1), stamp(4, 2_000, 0));
        set_stamp_sent(&mut answer, stamp(0x99, 1_500, 0));
        set_header(&mut answer, stamp(4, 2_000, 0));
        let report = check(&[run(), answer]);
        assert!(report.violations.is_empty(), "{report}");
    }

    #[test]
    fn a_2xx_without_its_header_is_found() {
        let mut answer = time_ok(1, 3, 1_000, 2_000, stamp(3, 1_500, 0));
        if let Record::Request(request) = &mut answer {
            if let Outcome::Answered { stamp, .. } = &mut request.outcome {
                *stamp = None;
            }
        }
        let report = check(&[run(), answer]);
        assert_eq!(invariants(&report), [Invariant::Causality], "{report}");
        assert!(
            report.violations[0]
                .detail
                .contains("without an hlc header"),
            "{report}"
        );
    }
}
