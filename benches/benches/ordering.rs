//! Benches of the ordering tools: LWW map merge, k-way merge and the live reorderer.
//!
//! Ids: `ordering/lww_map_merge_10k` (merge two maps of 10,000 entries; throughput per
//! entry), `ordering/kway_8x10k` (merge 8 streams of 10,000 events; per event) and
//! `ordering/reorder_8x10k` (the reorderer on the same events arriving interleaved).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput,
};
use hlc_core::lww::LwwMap;
use hlc_core::merge::{KWayMerge, ReorderConfig, Reorderer};
use hlc_core::{NodeId, NodeTimestamp, Timestamp};

const STREAMS: usize = 8;
const PER_STREAM: usize = 10_000;
const EVENTS: usize = STREAMS * PER_STREAM;
const MAP_ENTRIES: usize = 10_000;
/// 2024-01-01T00:00:00Z.
const START_MICROS: u64 = 1_704_067_200_000_000;

type Event = (NodeTimestamp, u64);

/// A fixed pseudo-random sequence (xorshift64), so every run benches the same input.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn stamp(micros: u64, logical: u16, node: u64) -> NodeTimestamp {
    let timestamp = Timestamp::from_parts(micros, logical).expect("in range");
    NodeTimestamp::new(timestamp, NodeId::new(node))
}

/// Eight per-node streams, each in order, stepping 1-199 µs at a time so they interleave.
fn streams() -> Vec<Vec<Event>> {
    let mut random = Xorshift(0x9e37_79b9_7f4a_7c15);
    (0..STREAMS as u64)
        .map(|node| {
            let mut micros = START_MICROS;
            (0..PER_STREAM as u64)
                .map(|i| {
                    micros += 1 + random.below(199);
                    (stamp(micros, (i % 4) as u16, node), i)
                })
                .collect()
        })
        .collect()
}

/// The same events in arrival order: each node's events reach the merger after that node's
/// own network delay (0 to 2.1 ms), so arrivals interleave out of global order.
fn arrivals(streams: &[Vec<Event>], start: Instant) -> Vec<(Event, Instant)> {
    let mut arrivals: Vec<(Event, Instant)> = streams
        .iter()
        .enumerate()
        .flat_map(|(node, events)| {
            let delay = 300 * node as u64;
            events.iter().map(move |&event| {
                let sent = event.0.timestamp.physical_micros() - START_MICROS;
                (event, start + Duration::from_micros(sent + delay))
            })
        })
        .collect();
    arrivals.sort_by_key(|&(event, at)| (at, event.0));
    arrivals
}

fn kway(group: &mut BenchmarkGroup<'_, WallTime>, streams: &[Vec<Event>]) {
    let sorted = {
        let mut all = streams.concat();
        all.sort();
        all
    };
    let merged: Vec<Event> = KWayMerge::new(streams.iter().map(|s| s.iter().copied())).collect();
    assert_eq!(merged, sorted, "k-way merge output is the sorted union");
    let last = *sorted.last().expect("events");

    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("kway_8x10k", |b| {
        b.iter(|| {
            let merge = KWayMerge::new(streams.iter().map(|s| s.iter()));
            let (count, final_event) =
                merge.fold((0, None), |(n, _), e| (n + 1, Some(*black_box(e))));
            assert_eq!((count, final_event), (EVENTS, Some(last)));
        });
    });
}

fn reorder_all(arrivals: &[(Event, Instant)], start: Instant) -> (usize, Option<Event>) {
    let nodes = (0..STREAMS as u64).map(NodeId::new);
    let mut reorderer = Reorderer::new(ReorderConfig::new(), nodes, start);
    let (mut count, mut last) = (0, None);
    for &(ref event, at) in arrivals {
        reorderer
            .push(event, at)
            .expect("no event is late or refused");
        while let Some(e) = reorderer.pop(at) {
            count += 1;
            last = Some(*black_box(e));
        }
    }
    for e in reorderer.flush() {
        count += 1;
        last = Some(*black_box(e));
    }
    assert_eq!(reorderer.stats().late, 0);
    (count, last)
}

fn reorder(group: &mut BenchmarkGroup<'_, WallTime>, streams: &[Vec<Event>]) {
    let start = Instant::now();
    let arrivals = arrivals(streams, start);
    let last = streams.iter().filter_map(|s| s.last()).max().copied();

    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("reorder_8x10k", |b| {
        b.iter(|| assert_eq!(reorder_all(&arrivals, start), (EVENTS, last)));
    });
}

/// Two replicas of the same 10,000 keys, each holding the later write for about half, and the
/// value a merge must keep under each key, worked out from the raw (microseconds, node) pairs
/// rather than through the crate's ordering.
fn replicas() -> (LwwMap<u64, u64>, LwwMap<u64, u64>, Vec<u64>) {
    let mut random = Xorshift(0x2545_f491_4f6c_dd1d);
    let (mut a, mut b) = (LwwMap::new(), LwwMap::new());
    let mut winners = Vec::with_capacity(MAP_ENTRIES);
    for key in 0..MAP_ENTRIES as u64 {
        let (micros_a, micros_b) = (random.below(1_000_000), random.below(1_000_000));
        a.insert(key, key, stamp(START_MICROS + micros_a, 0, 1));
        b.insert(key, key + 1, stamp(START_MICROS + micros_b, 0, 2));
        // The later write wins; in the same microsecond, the greater node id (b's 2).
        winners.push(if micros_b >= micros_a { key + 1 } else { key });
    }
    (a, b, winners)
}

/// Merges `theirs` into `mine` and checks that every key kept the value in `winners`, so that
/// a merge keeping the earlier write, or either side wholesale, fails.
fn assert_merge_keeps_winners(
    mut mine: LwwMap<u64, u64>,
    theirs: LwwMap<u64, u64>,
    winners: &[u64],
) {
    mine.merge(theirs);
    let kept: Vec<u64> = mine.iter().map(|(_, value)| *value).collect();
    assert_eq!(kept.len(), winners.len(), "every key survives the merge");
    let wrong = kept
        .iter()
        .zip(winners)
        .position(|(kept, winner)| kept != winner);
    assert_eq!(wrong, None, "the first key that kept the earlier write");
}

fn lww_merge(group: &mut BenchmarkGroup<'_, WallTime>) {
    let (a, b, winners) = replicas();
    let b_wins = (0..MAP_ENTRIES as u64)
        .filter(|&k| winners[k as usize] == k + 1)
        .count();
    assert!(
        (MAP_ENTRIES / 3..MAP_ENTRIES * 2 / 3).contains(&b_wins),
        "about half conflict each way"
    );
    // Both ways round: the bench merges b into a, and merging is commutative.
    assert_merge_keeps_winners(a.clone(), b.clone(), &winners);
    assert_merge_keeps_winners(b.clone(), a.clone(), &winners);

    group.throughput(Throughput::Elements(MAP_ENTRIES as u64));
    group.bench_function("lww_map_merge_10k", |bench| {
        bench.iter_batched(
            || (a.clone(), b.clone()),
            |(mut mine, theirs)| {
                mine.merge(theirs);
                assert_eq!(mine.len(), MAP_ENTRIES);
                mine
            },
            BatchSize::LargeInput,
        );
    });
}

fn define(c: &mut Criterion) {
    let streams = streams();
    let mut group = c.benchmark_group("ordering");
    lww_merge(&mut group);
    kway(&mut group, &streams);
    reorder(&mut group, &streams);
    group.finish();
}

criterion_group!(benches, define);
criterion_main!(benches);
