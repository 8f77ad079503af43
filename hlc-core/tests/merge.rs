//! Property tests of the k-way merge and the live reorderer: the output is the sorted union
//! of the inputs, nothing is lost or duplicated, and late events are reported.

use std::cell::Cell;
use std::time::{Duration, Instant};

use hlc_core::merge::{KWayMerge, PushError, ReorderConfig, Reorderer};
use hlc_core::{NodeId, NodeTimestamp, Timestamp};
use proptest::prelude::*;

const DELAY: Duration = Duration::from_millis(100);

/// Per-node streams, each strictly increasing; stream `i` is node `i`.
fn streams() -> impl Strategy<Value = Vec<Vec<NodeTimestamp>>> {
    let micros = prop::collection::btree_set(0u64..300, 0..40);
    prop::collection::vec(micros, 1..7).prop_map(|streams| {
        let stamp = |node: usize, micros| {
            NodeTimestamp::new(
                Timestamp::from_physical_micros(micros),
                NodeId::new(node as u64),
            )
        };
        streams
            .into_iter()
            .enumerate()
            .map(|(node, set)| set.into_iter().map(|m| stamp(node, m)).collect())
            .collect()
    })
}

fn sorted_union(streams: &[Vec<NodeTimestamp>]) -> Vec<NodeTimestamp> {
    let mut all: Vec<_> = streams.concat();
    all.sort();
    all
}

/// An arrival order: events interleaved across streams, each stream's own order kept; each
/// arrival comes `gap` after the one before.
fn interleave(
    streams: &[Vec<NodeTimestamp>],
    picks: &[(u8, u8)],
    gap_unit: Duration,
) -> Vec<(NodeTimestamp, Duration)> {
    let mut next = vec![0; streams.len()];
    let mut arrivals = Vec::new();
    let mut at = Duration::ZERO;
    let mut picks = picks.iter().cycle();
    while arrivals.len() < streams.iter().map(Vec::len).sum() {
        let (pick, gap) = picks.next().copied().unwrap_or((0, 0));
        let live: Vec<usize> = (0..streams.len())
            .filter(|&s| next[s] < streams[s].len())
            .collect();
        let source = live[usize::from(pick) % live.len()];
        at += gap_unit * u32::from(gap);
        arrivals.push((streams[source][next[source]], at));
        next[source] += 1;
    }
    arrivals
}

/// The longest time any source went without sending, before one of its arrivals.
fn longest_silence(arrivals: &[(NodeTimestamp, Duration)]) -> Duration {
    let mut heard = std::collections::HashMap::new();
    let mut longest = Duration::ZERO;
    for &(event, at) in arrivals {
        let before = heard.insert(event.node, at).unwrap_or(Duration::ZERO);
        longest = longest.max(at - before);
    }
    longest
}

struct Outcome {
    released: Vec<NodeTimestamp>,
    late: Vec<NodeTimestamp>,
    forced: u64,
}

/// Pushes every arrival, pops after each, then flushes.
fn reorder(
    streams: &[Vec<NodeTimestamp>],
    arrivals: &[(NodeTimestamp, Duration)],
    capacity: usize,
) -> Outcome {
    let start = Instant::now();
    let config = ReorderConfig::new()
        .with_max_delay(DELAY)
        .with_capacity(capacity);
    let nodes = (0..streams.len() as u64).map(NodeId::new);
    let mut reorderer = Reorderer::new(config, nodes, start);
    let (mut released, mut late) = (Vec::new(), Vec::new());
    for &(event, offset) in arrivals {
        // What a timer firing at `deadline()` would have released before this arrival.
        released.extend(std::iter::from_fn(|| reorderer.pop(start + offset)));
        match reorderer.push(event, start + offset) {
            Ok(()) => {}
            Err(PushError::Late {
                event, frontier, ..
            }) => {
                assert!(event <= frontier && released.last() == Some(&frontier));
                late.push(event);
            }
            Err(other) => panic!("popping after every push keeps room: {other}"),
        }
        released.extend(std::iter::from_fn(|| reorderer.pop(start + offset)));
    }
    released.extend(reorderer.flush());
    let stats = reorderer.stats();
    assert_eq!(
        (stats.emitted, stats.late),
        (released.len() as u64, late.len() as u64)
    );
    Outcome {
        released,
        late,
        forced: stats.forced,
    }
}

proptest! {
    #[test]
    fn kway_output_is_the_sorted_union(streams in streams()) {
        let merged: Vec<_> = KWayMerge::new(streams.clone()).collect();
        prop_assert_eq!(merged, sorted_union(&streams));
    }

    #[test]
    fn kway_pulls_no_more_than_one_head_per_stream_ahead(streams in streams(), take in 0usize..100) {
        let pulls = Cell::new(0usize);
        let counted = streams.iter().map(|s| s.iter().inspect(|_| pulls.set(pulls.get() + 1)));
        let merged: Vec<_> = KWayMerge::new(counted).take(take).copied().collect();
        let expected: Vec<_> = sorted_union(&streams).into_iter().take(take).collect();
        prop_assert_eq!(&merged, &expected);
        prop_assert!(pulls.get() <= merged.len() + streams.len());
    }

    /// Sources that all keep talking, and room enough: nothing is late, and the output is
    /// exactly the sorted union.
    #[test]
    fn reorderer_output_is_the_sorted_union(
        streams in streams(),
        picks in prop::collection::vec(any::<(u8, u8)>(), 1..50),
    ) {
        let arrivals = interleave(&streams, &picks, Duration::ZERO);
        let outcome = reorder(&streams, &arrivals, 1 << 16);
        prop_assert_eq!(outcome.late, vec![]);
        prop_assert_eq!(outcome.forced, 0);
        prop_assert_eq!(outcome.released, sorted_union(&streams));
    }

    /// Silences past the delay and a small buffer: the output stays in order, and every
    /// event is either released exactly once or reported late.
    #[test]
    fn reorderer_loses_and_duplicates_nothing(
        streams in streams(),
        picks in prop::collection::vec(any::<(u8, u8)>(), 1..50),
        capacity in 1usize..10,
    ) {
        let arrivals = interleave(&streams, &picks, DELAY / 64);
        let outcome = reorder(&streams, &arrivals, capacity);
        prop_assert!(outcome.released.windows(2).all(|w| w[0] < w[1]));
        let mut accounted: Vec<_> = outcome.released.iter().chain(&outcome.late).copied().collect();
        accounted.sort();
        prop_assert_eq!(accounted, sorted_union(&streams));
        // Lateness needs a cause: a source silent for longer than the delay, or a full buffer.
        if longest_silence(&arrivals) <= DELAY && outcome.forced == 0 {
            prop_assert_eq!(outcome.late, vec![]);
        }
    }

    /// One node is partitioned: the others go on without it after the delay, and what it
    /// sends once it is back is released if the order has not passed it, late otherwise.
    #[test]
    fn a_partitioned_node_is_reported_late(streams in streams()) {
        let (others, partitioned) = streams.split_at(streams.len() - 1);
        prop_assume!(!others.is_empty());
        let mut arrivals: Vec<_> = KWayMerge::new(others.to_vec()).map(|e| (e, Duration::ZERO)).collect();
        arrivals.extend(partitioned[0].iter().map(|&e| (e, 2 * DELAY)));
        let outcome = reorder(&streams, &arrivals, 1 << 16);
        let passed = others.iter().flatten().max().copied();
        let expected_late: Vec<_> = partitioned[0].iter().copied().filter(|&e| Some(e) <= passed).collect();
        prop_assert_eq!(outcome.late, expected_late);
        prop_assert!(outcome.released.windows(2).all(|w| w[0] < w[1]));
    }
}
