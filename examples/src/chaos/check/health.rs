//! No 2xx answer from a node while it was fenced or its clock untrusted, judged from the
//! harness's `/health` polls; and the count of fencings.
//!
//! # The bracket
//!
//! A 2xx answer of node N (the node called, or a relay's peer) is a violation when two
//! consecutive polls of N both said `503` (any reason, no other poll of N between them), the
//! first was read before the request was sent, and the second was sent after its answer was
//! read. N judged its health for each poll somewhere between the poll's sending and the
//! reading of its answer, so it was untrusted at an instant before it served the request and
//! at an instant after: a race between the polls and the request cannot fake this. Without a
//! poll's `sent_us` (older histories) its `at_us` stands in, which is weaker: N may have judged
//! before it served the request.
//!
//! # Why it is sound, and its limit
//!
//! It stays sound as long as N cannot be healthy for a stretch shorter than the gap between
//! two polls, for only then could a healthy stretch, and a 2xx in it, hide between two `503`
//! polls. A fenced node recovers only after
//! [`MonitorConfig::DEFAULT_RECOVERY_ROUNDS`](hlc_core::peers::MonitorConfig::DEFAULT_RECOVERY_ROUNDS)
//! consecutive agreeing peer rounds, and is fenced again at the earliest one round later, so
//! it stays healthy for at least a probe interval; the time sync reasons (`unsynchronised`,
//! `radius_too_large`, `disrupted`) change at time sync polls, seconds apart. The limit: when
//! the harness polls health less often than the nodes probe their peers, or a poll is held up
//! by load long enough, a real healthy stretch can fall between two `503` polls and its 2xx
//! answers are reported. The violation names both polls, so a reader can tell.

use std::collections::BTreeMap;

use super::parse::Parsed;
use super::{Invariant, Violation};
use crate::chaos::history::Record;

/// The `/health` polls of a history, per node, in the order their answers were read.
#[derive(Debug, Default)]
pub struct Polls<'a> {
    by_node: BTreeMap<u64, Vec<Poll<'a>>>,
}

#[derive(Debug, Clone, Copy)]
struct Poll<'a> {
    /// When it was sent: `sent_us`, or `at_us` when the history lacks it.
    sent_us: i64,
    at_us: i64,
    status: Option<u16>,
    reason: Option<&'a str>,
}

impl Poll<'_> {
    fn untrusted(&self) -> bool {
        self.status == Some(503)
    }

    fn reason(&self) -> &str {
        self.reason.unwrap_or("no reason")
    }
}

impl<'a> Polls<'a> {
    /// Gathers the `Health` records of `history`.
    pub fn new(history: &'a [Record]) -> Self {
        let mut by_node = BTreeMap::<u64, Vec<Poll<'a>>>::new();
        for record in history {
            if let Record::Health {
                at_us,
                node,
                status,
                reason,
                sent_us,
            } = record
            {
                by_node.entry(*node).or_default().push(Poll {
                    sent_us: sent_us.unwrap_or(*at_us),
                    at_us: *at_us,
                    status: *status,
                    reason: reason.as_deref(),
                });
            }
        }
        for polls in by_node.values_mut() {
            polls.sort_by_key(|poll| poll.at_us);
        }
        Self { by_node }
    }

    /// How often a node's health went from `200` to `503` with reason `fenced`; polls the
    /// node did not answer (stopped, killed) are skipped, so a node fenced while it was
    /// stopped counts once it answers.
    pub fn fencings(&self) -> usize {
        let mut fencings = 0;
        for polls in self.by_node.values() {
            let mut last_status = None;
            for poll in polls.iter().filter(|poll| poll.status.is_some()) {
                if last_status == Some(200) && poll.untrusted() && poll.reason == Some("fenced") {
                    fencings += 1;
                }
                last_status = poll.status;
            }
        }
        fencings
    }

    pub(super) fn check(&self, requests: &[Parsed<'_>], violations: &mut Vec<Violation>) {
        for request in requests {
            let Some(answer) = request.success() else {
                continue;
            };
            let peer = answer.peer.map(|(node, _)| node);
            for node in [Some(request.record.node), peer].into_iter().flatten() {
                if let Some(detail) = self.bracket(node, request) {
                    violations.push(Violation::new(Invariant::UntrustedAnswer, detail));
                }
            }
        }
    }

    /// Why `node`'s 2xx for `request` lies between two `503` polls of it, if it does.
    fn bracket(&self, node: u64, request: &Parsed<'_>) -> Option<String> {
        let record = request.record;
        let polls = self.by_node.get(&node)?;
        let after = polls.partition_point(|poll| poll.at_us < record.sent_us);
        let before = polls.get(after.checked_sub(1)?)?;
        let next = polls.get(after)?;
        let bracketed = before.untrusted() && next.untrusted() && record.received_us < next.sent_us;
        bracketed.then(|| {
            format!(
                "node {node} served request {} ({} answered, sent at {}, read at {}) between two \
                 503 polls: {} read at {}, {} sent at {}",
                record.id,
                request.success().map_or(0, |answer| answer.status),
                record.sent_us,
                record.received_us,
                before.reason(),
                before.at_us,
                next.reason(),
                next.sent_us,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::{check, Invariant};

    fn fenced_around(request_sent: i64, request_read: i64) -> [crate::chaos::history::Record; 4] {
        [
            run(),
            health(3, 900, 1_000, 503, Some("fenced")),
            time_ok(1, 3, request_sent, request_read, stamp(3, 1_500, 0)),
            health(3, 2_100, 2_200, 503, Some("disrupted")),
        ]
    }

    #[test]
    fn a_2xx_between_two_503_polls_is_found() {
        let report = check(&fenced_around(1_100, 2_000));
        assert_eq!(
            invariants(&report),
            [Invariant::UntrustedAnswer],
            "{report}"
        );
        assert!(
            report.violations[0].detail.contains("fenced read at 1000"),
            "{report}"
        );
    }

    #[test]
    fn a_2xx_overlapping_a_poll_passes() {
        // Read after the second poll was sent: the node may have judged before serving it.
        assert!(check(&fenced_around(1_100, 2_150)).violations.is_empty());
        // Sent before the first poll's answer was read.
        assert!(check(&fenced_around(950, 2_000)).violations.is_empty());
    }

    #[test]
    fn a_healthy_poll_between_lifts_the_bracket() {
        let history = [
            run(),
            health(3, 900, 1_000, 503, Some("fenced")),
            health(3, 1_200, 1_300, 200, None),
            time_ok(1, 3, 1_400, 1_500, stamp(3, 1_450, 0)),
            health(3, 2_100, 2_200, 503, Some("fenced")),
        ];
        let report = check(&history);
        assert!(report.violations.is_empty(), "{report}");
        assert_eq!(report.fencings, 1);
    }

    #[test]
    fn a_relays_peer_is_judged_too() {
        let history = [
            run(),
            health(2, 900, 1_000, 503, Some("unsynchronised")),
            relay_ok(1, 4, 1_100, 2_000, stamp(2, 1_500, 0), stamp(4, 1_600, 0)),
            health(2, 2_100, 2_200, 503, Some("unsynchronised")),
        ];
        let report = check(&history);
        assert_eq!(
            invariants(&report),
            [Invariant::UntrustedAnswer],
            "{report}"
        );
        assert!(report.violations[0].detail.contains("node 2"), "{report}");
    }

    #[test]
    fn fencings_count_200_to_fenced_across_unanswered_polls_only() {
        let history = [
            run(),
            health(1, 0, 100, 200, None),
            health(1, 200, 300, 503, Some("fenced")),
            health(1, 400, 500, 503, Some("fenced")),
            health(2, 0, 100, 200, None),
            health_none(2, 200, 300),
            health(2, 400, 500, 503, Some("fenced")),
            health(3, 0, 100, 200, None),
            health(3, 200, 300, 503, Some("disrupted")),
            health(3, 400, 500, 503, Some("fenced")),
        ];
        assert_eq!(check(&history).fencings, 2);
    }
}
