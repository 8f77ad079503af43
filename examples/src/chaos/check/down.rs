//! When each node was down: from a `kill -9` to its next start, from `SIGSTOP` to `SIGCONT`,
//! widened by a grace on both sides.
//!
//! A request fails for a node's downtime when its interval `[sent_us, received_us]` overlaps
//! the widened window. The start of the window moves back by [`FAULT_LEAD_US`]: the harness
//! reads its clock after the signal is sent, and on a loaded machine the load generator may
//! see the failure first. The end moves on by [`RECOVERY_GRACE_US`]: a restarted node's
//! listening socket is the same (`--listen-stdin`), so requests on connections pooled to the
//! dead process fail after the new one answers, and a resumed node works through the backlog
//! of a three-second pause. A request sent before the fault and failed after it overlaps the
//! window whatever its timeout, so the harness's request timeout needs no constant here.

use std::collections::BTreeMap;

use crate::chaos::history::{Fault, Record};

/// How long before a kill or stop (as the history times it) a failure still counts as caused
/// by it: 1 s.
pub const FAULT_LEAD_US: i64 = 1_000_000;

/// How long after a restarted node's first answer, or a `SIGCONT`, a request may still be sent
/// and fail for the downtime: 5 s.
pub const RECOVERY_GRACE_US: i64 = 5_000_000;

/// The windows in which each node was down, widened by the graces.
#[derive(Debug, Default)]
pub struct DownWindows {
    by_node: BTreeMap<u64, Vec<(i64, i64)>>,
}

/// What starts or ends a node's downtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Kill,
    Stop,
    Cont,
    Started,
}

impl DownWindows {
    /// The windows of `history`'s `Kill`/`Started` and `Stop`/`Cont` pairs; a window that never
    /// ends (the node never came back) runs to the end of time.
    pub fn new(history: &[Record]) -> Self {
        let mut changes = BTreeMap::<u64, Vec<(i64, Change)>>::new();
        for record in history {
            let (node, at_us, change) = match record {
                Record::Started { at_us, node, .. } => (*node, *at_us, Change::Started),
                Record::Fault { at_us, fault } => match fault {
                    Fault::Kill { node } => (*node, *at_us, Change::Kill),
                    Fault::Stop { node } => (*node, *at_us, Change::Stop),
                    Fault::Cont { node } => (*node, *at_us, Change::Cont),
                    _ => continue,
                },
                _ => continue,
            };
            changes.entry(node).or_default().push((at_us, change));
        }
        let by_node = changes
            .into_iter()
            .map(|(node, mut changes)| {
                changes.sort_by_key(|&(at_us, _)| at_us);
                (node, windows(&changes))
            })
            .collect();
        Self { by_node }
    }

    /// Whether a request to `node` over `[sent_us, received_us]` overlaps a window of it.
    pub fn covers(&self, node: u64, sent_us: i64, received_us: i64) -> bool {
        self.by_node.get(&node).is_some_and(|windows| {
            windows
                .iter()
                .any(|&(start, end)| received_us >= start && sent_us <= end)
        })
    }
}

/// One node's windows from its changes in time order. A kill ends only at a start (a stopped
/// node that is killed stays down until it starts again); a stop ends at `SIGCONT` or a start.
fn windows(changes: &[(i64, Change)]) -> Vec<(i64, i64)> {
    let mut windows = Vec::new();
    let mut open: Option<(i64, Change)> = None;
    for &(at_us, change) in changes {
        match (open, change) {
            (None, Change::Kill | Change::Stop) => open = Some((at_us, change)),
            (Some((since, Change::Stop)), Change::Kill) => open = Some((since, Change::Kill)),
            (Some((since, Change::Stop)), Change::Cont) | (Some((since, _)), Change::Started) => {
                windows.push(widen(since, at_us));
                open = None;
            }
            _ => {}
        }
    }
    if let Some((since, _)) = open {
        windows.push((since.saturating_sub(FAULT_LEAD_US), i64::MAX));
    }
    windows
}

fn widen(since: i64, until: i64) -> (i64, i64) {
    (
        since.saturating_sub(FAULT_LEAD_US),
        until.saturating_add(RECOVERY_GRACE_US),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{fault, started};
    use super::*;

    #[test]
    fn a_kill_lasts_until_the_next_start_with_the_graces() {
        let history = [
            started(0, 1, 0),
            fault(10_000_000, Fault::Kill { node: 1 }),
            fault(
                10_100_000,
                Fault::Restart {
                    node: 1,
                    clock_offset_ms: -10_000,
                },
            ),
            started(12_000_000, 1, 1),
        ];
        let down = DownWindows::new(&history);
        // In flight at the kill, whatever its timeout.
        assert!(down.covers(1, 2_000_000, 10_000_000 - FAULT_LEAD_US));
        assert!(!down.covers(1, 2_000_000, 10_000_000 - FAULT_LEAD_US - 1));
        // Sent within the grace after the start.
        assert!(down.covers(1, 12_000_000 + RECOVERY_GRACE_US, 30_000_000));
        assert!(!down.covers(1, 12_000_000 + RECOVERY_GRACE_US + 1, 30_000_000));
        // Another node was not down.
        assert!(!down.covers(2, 11_000_000, 11_000_100));
    }

    #[test]
    fn a_stop_ends_at_cont_and_a_stop_then_kill_at_the_start() {
        let history = [
            fault(10_000_000, Fault::Stop { node: 2 }),
            fault(13_000_000, Fault::Cont { node: 2 }),
            fault(30_000_000, Fault::Stop { node: 2 }),
            fault(31_000_000, Fault::Kill { node: 2 }),
            fault(32_000_000, Fault::Cont { node: 2 }),
            started(50_000_000, 2, 1),
        ];
        let down = DownWindows::new(&history);
        assert!(down.covers(2, 18_000_000, 19_000_000));
        assert!(!down.covers(2, 18_000_001, 19_000_000));
        // The stray SIGCONT to a killed node does not end its downtime.
        assert!(down.covers(2, 40_000_000, 40_000_100));
        assert!(!down.covers(2, 55_000_001, 55_000_100));
    }

    #[test]
    fn a_node_that_never_came_back_stays_down() {
        let down = DownWindows::new(&[fault(10_000_000, Fault::Kill { node: 3 })]);
        assert!(down.covers(3, i64::MAX - 1, i64::MAX));
    }
}
