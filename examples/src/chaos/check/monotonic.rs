//! Per node, stamps strictly increase across its whole life, restarts included.
//!
//! For two requests whose intervals do not overlap (the first answer was read before the
//! second request was sent), the node served the first before the second, so every stamp it
//! issued in the first answer must be below every stamp it issued in the second. Overlapping
//! requests say nothing about the order the node served them in, and are not compared.

use std::collections::BTreeMap;

use hlc_core::NodeTimestamp;

use super::parse::Parsed;
use super::{Invariant, Violation};

/// The stamps one node issued in one answer: the least and the greatest.
#[derive(Debug, Clone, Copy)]
struct Issued {
    id: u64,
    sent_us: i64,
    received_us: i64,
    least: NodeTimestamp,
    greatest: NodeTimestamp,
}

pub(super) fn check(requests: &[Parsed<'_>], violations: &mut Vec<Violation>) {
    let mut by_node = BTreeMap::<u64, Vec<Issued>>::new();
    for request in requests {
        let mut in_answer = BTreeMap::<u64, Issued>::new();
        for stamp in request.answer_stamps() {
            let issued = in_answer.entry(stamp.node.as_u64()).or_insert(Issued {
                id: request.record.id,
                sent_us: request.record.sent_us,
                received_us: request.record.received_us,
                least: stamp,
                greatest: stamp,
            });
            issued.least = issued.least.min(stamp);
            issued.greatest = issued.greatest.max(stamp);
        }
        for (node, issued) in in_answer {
            by_node.entry(node).or_default().push(issued);
        }
    }
    for (node, issued) in by_node {
        check_node(node, &issued, violations);
    }
}

/// A sweep in O(n log n): the requests in the order they were sent, against the greatest stamp
/// of all the answers read before each was sent.
fn check_node(node: u64, issued: &[Issued], violations: &mut Vec<Violation>) {
    let mut by_sent: Vec<&Issued> = issued.iter().collect();
    by_sent.sort_by_key(|issued| issued.sent_us);
    let mut by_received = by_sent.clone();
    by_received.sort_by_key(|issued| issued.received_us);
    let mut read = by_received.into_iter().peekable();
    let mut highest: Option<&Issued> = None;
    for later in by_sent {
        while let Some(earlier) = read.next_if(|earlier| earlier.received_us < later.sent_us) {
            if highest.is_none_or(|highest| earlier.greatest > highest.greatest) {
                highest = Some(earlier);
            }
        }
        // An answer read before its request was sent (a broken record) is not compared with
        // itself.
        let Some(earlier) = highest.filter(|earlier| earlier.id != later.id) else {
            continue;
        };
        if earlier.greatest >= later.least {
            violations.push(Violation::new(
                Invariant::Monotonic,
                format!(
                    "node {node}: {} in the answer to request {} (read at {}) is not below {} \
                     in the answer to request {} (sent later, at {})",
                    earlier.greatest,
                    earlier.id,
                    earlier.received_us,
                    later.least,
                    later.id,
                    later.sent_us
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::{check, Invariant};
    use crate::chaos::history::Fault;

    #[test]
    fn a_stamp_below_an_earlier_answers_is_found_across_a_restart() {
        let history = [
            run(),
            time_ok(1, 3, 1_000, 2_000, stamp(3, 1_500, 0)),
            fault(3_000, Fault::Kill { node: 3 }),
            started(5_000, 3, 1),
            // Answered after the restart, with a stamp below the one before the kill.
            time_ok(2, 3, 10_000, 11_000, stamp(3, 1_400, 0)),
        ];
        let report = check(&history);
        assert_eq!(invariants(&report), [Invariant::Monotonic]);
        assert!(report.violations[0].detail.contains("node 3"), "{report}");
        assert!(
            report.violations[0].detail.contains("request 2"),
            "{report}"
        );
    }

    #[test]
    fn an_equal_stamp_is_not_an_increase() {
        let history = [
            run(),
            time_ok(1, 3, 1_000, 2_000, stamp(3, 1_500, 0)),
            // Overlaps request 1 and is read after it, with lower stamps: it must not hide 1.
            time_ok(2, 3, 1_500, 2_500, stamp(3, 1_000, 0)),
            // Its body equals the header of request 1 (body plus one logical count).
            time_ok(3, 3, 3_000, 4_000, stamp(3, 1_500, 1)),
        ];
        assert_eq!(invariants(&check(&history)), [Invariant::Monotonic]);
    }

    #[test]
    fn increasing_stamps_and_overlapping_requests_in_any_order_pass() {
        let history = [
            run(),
            time_ok(1, 3, 1_000, 2_000, stamp(3, 1_500, 0)),
            fault(3_000, Fault::Kill { node: 3 }),
            started(5_000, 3, 1),
            // Above the header of request 1 (its body stamp plus one logical count).
            time_ok(2, 3, 10_000, 11_000, stamp(3, 1_500, 2)),
            // 3 and 4 overlap: the node served 4 first.
            time_ok(3, 3, 12_000, 15_000, stamp(3, 14_000, 0)),
            time_ok(4, 3, 12_500, 13_500, stamp(3, 13_000, 0)),
            // Another node's stamps are judged apart.
            time_ok(5, 2, 16_000, 17_000, stamp(2, 1_000, 0)),
        ];
        let report = check(&history);
        assert!(report.violations.is_empty(), "{report}");
    }

    #[test]
    fn a_relays_peer_stamp_is_judged_under_the_peer() {
        let history = [
            run(),
            time_ok(1, 2, 1_000, 2_000, stamp(2, 1_500, 0)),
            // Node 4 relays to node 2, which answers below its own earlier stamp.
            relay_ok(2, 4, 3_000, 4_000, stamp(2, 1_200, 0), stamp(4, 3_500, 0)),
        ];
        let report = check(&history);
        assert_eq!(invariants(&report), [Invariant::Monotonic], "{report}");
        assert!(report.violations[0].detail.contains("node 2"), "{report}");
    }
}
