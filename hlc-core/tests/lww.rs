//! Property tests of the last-writer-wins register and map: merge laws, convergence under
//! reordered and duplicated delivery, and why the stamps must come from a hybrid clock.

use std::collections::BTreeMap;
use std::time::Duration;

use hlc_core::lww::{LwwMap, LwwRegister};
use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp, PhysicalClock, Timestamp};
use proptest::prelude::*;
use proptest::sample::subsequence;

type Map = LwwMap<u8, u16>;

/// One write: a key, a value (`None` deletes) and its stamp.
#[derive(Clone, Debug)]
struct Write {
    key: u8,
    value: Option<u16>,
    stamp: NodeTimestamp,
}

impl Write {
    fn register(&self) -> LwwRegister<u16> {
        match self.value {
            Some(value) => LwwRegister::new(value, self.stamp),
            None => LwwRegister::tombstone(self.stamp),
        }
    }

    fn apply_to(&self, map: &mut Map) {
        match self.value {
            Some(value) => map.insert(self.key, value, self.stamp),
            None => map.remove(self.key, self.stamp),
        };
    }
}

fn stamp(micros: u64, node: u64) -> NodeTimestamp {
    NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node))
}

/// Writes with distinct stamps (a stamp names one write), few keys and close stamps so that
/// conflicts and node-id ties are common.
fn writes(max: usize) -> impl Strategy<Value = Vec<Write>> {
    let write = (
        0u8..6,
        prop::option::weighted(0.8, any::<u16>()),
        0u64..40,
        0u64..4,
    )
        .prop_map(|(key, value, micros, node)| Write {
            key,
            value,
            stamp: stamp(micros, node),
        });
    prop::collection::vec(write, 0..max).prop_map(|mut writes| {
        let mut seen = std::collections::HashSet::new();
        writes.retain(|w| seen.insert(w.stamp));
        writes
    })
}

/// Three maps built from disjoint parts of one set of writes.
fn three_maps() -> impl Strategy<Value = (Map, Map, Map)> {
    (writes(60), prop::collection::vec(0usize..3, 60)).prop_map(|(writes, owners)| {
        let mut maps = [Map::new(), Map::new(), Map::new()];
        for (write, owner) in writes.iter().zip(owners) {
            write.apply_to(&mut maps[owner]);
        }
        let [a, b, c] = maps;
        (a, b, c)
    })
}

fn merged(mut left: Map, right: Map) -> Map {
    left.merge(right);
    left
}

/// What every replica must end with: the write with the greatest stamp per key.
fn expected_state(writes: &[Write]) -> BTreeMap<u8, (NodeTimestamp, Option<u16>)> {
    let mut state = BTreeMap::new();
    for w in writes {
        let slot = state.entry(w.key).or_insert((w.stamp, w.value));
        if w.stamp > slot.0 {
            *slot = (w.stamp, w.value);
        }
    }
    state
}

fn state_of(map: &Map) -> BTreeMap<u8, (NodeTimestamp, Option<u16>)> {
    map.registers()
        .map(|(key, r)| (*key, (r.stamp(), r.value().copied())))
        .collect()
}

proptest! {
    #[test]
    fn map_merge_is_commutative((a, b, _) in three_maps()) {
        prop_assert_eq!(merged(a.clone(), b.clone()), merged(b, a));
    }

    #[test]
    fn map_merge_is_associative((a, b, c) in three_maps()) {
        let left = merged(merged(a.clone(), b.clone()), c.clone());
        let right = merged(a, merged(b, c));
        prop_assert_eq!(left, right);
    }

    #[test]
    fn map_merge_is_idempotent((a, b, _) in three_maps()) {
        prop_assert_eq!(merged(a.clone(), a.clone()), a.clone());
        let ab = merged(a, b.clone());
        prop_assert_eq!(merged(ab.clone(), b), ab);
    }

    #[test]
    fn register_merge_keeps_the_greater_stamp(ws in writes(12)) {
        prop_assume!(ws.len() >= 3);
        let ws = &ws[..3];
        let (a, b, c) = (ws[0].register(), ws[1].register(), ws[2].register());
        let join = |mut x: LwwRegister<u16>, y: LwwRegister<u16>| { x.merge(y); x };
        prop_assert_eq!(join(a.clone(), b.clone()), join(b.clone(), a.clone()));
        prop_assert_eq!(join(join(a.clone(), b.clone()), c.clone()), join(a.clone(), join(b, c)));
        let winner = ws.iter().map(|w| w.stamp).max();
        prop_assert_eq!(Some(join(join(ws[0].register(), ws[1].register()), ws[2].register()).stamp()), winner);
        prop_assert_eq!(join(a.clone(), a.clone()), a);
    }

    #[test]
    fn replicas_converge_whatever_the_delivery_order(
        (writes, deliveries) in writes(40).prop_flat_map(|writes| {
            let n = writes.len();
            let delivery = (Just(writes.clone()), subsequence(writes.clone(), 0..=n))
                .prop_map(|(all, again)| all.into_iter().chain(again).collect::<Vec<_>>())
                .prop_shuffle();
            (Just(writes), prop::collection::vec(delivery, 3))
        })
    ) {
        let expected = expected_state(&writes);
        let mut replicas = Vec::new();
        for delivery in &deliveries {
            // One replica applies each write as it comes...
            let mut by_write = Map::new();
            delivery.iter().for_each(|w| w.apply_to(&mut by_write));
            // ...another takes them in batches, as whole maps.
            let mut by_batch = Map::new();
            for batch in delivery.chunks(3) {
                by_batch.merge(batch.iter().map(|w| (w.key, w.register())).collect());
            }
            replicas.push(by_write);
            replicas.push(by_batch);
        }
        let first_json = serde_json::to_string(&replicas[0]).unwrap();
        for replica in &replicas {
            prop_assert_eq!(&state_of(replica), &expected);
            prop_assert_eq!(replica, &replicas[0]);
            prop_assert_eq!(serde_json::to_string(replica).unwrap(), first_json.clone());
        }
    }

    #[test]
    fn maps_round_trip_through_serde((a, _, _) in three_maps()) {
        let json: Map = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        prop_assert_eq!(&json, &a);
        let binary: Map = bincode::deserialize(&bincode::serialize(&a).unwrap()).unwrap();
        prop_assert_eq!(&binary, &a);
        prop_assert_eq!((binary.len(), binary.tombstone_count()), (a.len(), a.tombstone_count()));
    }

    /// Node A writes; node B, whose clock is behind by up to the max offset, takes in A's
    /// write (merging its clock with `Hlc::update`) and then overwrites or deletes.
    #[test]
    fn a_causally_later_write_wins_with_hlc_stamps(scenario in causal_scenario()) {
        let (at_a, at_b) = scenario.run(Stamping::Hybrid);
        prop_assert_eq!(&at_a, &at_b);
        prop_assert_eq!(at_a.register(&KEY).map(|r| r.stamp().node), Some(scenario.node_b));
        prop_assert_eq!(at_a.get(&KEY).copied(), scenario.b_writes);
    }

    /// The same scenario stamped with each node's wall clock: B's write is silently lost,
    /// which is what the hybrid clock is for.
    #[test]
    fn the_same_write_is_lost_with_wall_clock_stamps(scenario in causal_scenario()) {
        let (at_a, at_b) = scenario.run(Stamping::WallClock);
        prop_assert_eq!(&at_a, &at_b);
        prop_assert_eq!(at_a.register(&KEY).map(|r| r.stamp().node), Some(scenario.node_a));
        prop_assert_eq!(at_a.get(&KEY).copied(), Some(A_VALUE));
    }
}

const KEY: u8 = 7;
const A_VALUE: u16 = 1;
const MAX_OFFSET: Duration = hlc_core::DEFAULT_MAX_OFFSET;

#[derive(Clone, Copy, Debug)]
enum Stamping {
    Hybrid,
    WallClock,
}

#[derive(Debug)]
struct CausalScenario {
    start_micros: u64,
    /// How far B's clock is behind A's: 1 µs to the max offset.
    skew_micros: u64,
    /// Real time between A's write and B's, shorter than the skew.
    elapsed_micros: u64,
    node_a: NodeId,
    node_b: NodeId,
    /// B's value, or `None` when B deletes.
    b_writes: Option<u16>,
}

fn causal_scenario() -> impl Strategy<Value = CausalScenario> {
    let max_skew = u64::try_from(MAX_OFFSET.as_micros()).unwrap();
    (
        1_600_000_000_000_000u64..1_900_000_000_000_000,
        1..=max_skew,
        any::<u64>(),
        any::<(u64, u64)>(),
        prop::option::of(2u16..),
    )
        .prop_map(
            |(start_micros, skew_micros, elapsed, (a, b), b_writes)| CausalScenario {
                start_micros,
                skew_micros,
                elapsed_micros: elapsed % skew_micros,
                node_a: NodeId::new(a),
                node_b: NodeId::new(b),
                b_writes,
            },
        )
}

impl CausalScenario {
    /// Returns both replicas after they have exchanged their maps.
    fn run(&self, stamping: Stamping) -> (Map, Map) {
        let clock_a = ManualClock::new(self.start_micros);
        let clock_b = ManualClock::new(self.start_micros - self.skew_micros);
        let hlc = |clock: &ManualClock, node| {
            Hlc::builder()
                .clock(clock.clone())
                .node_id(node)
                .max_offset(MAX_OFFSET)
                .build()
                .unwrap()
        };
        let (hlc_a, hlc_b) = (hlc(&clock_a, self.node_a), hlc(&clock_b, self.node_b));
        let stamp_with = |hlc: &Hlc<ManualClock>| match stamping {
            Stamping::Hybrid => hlc.now_with_node(),
            Stamping::WallClock => NodeTimestamp::new(
                Timestamp::from_physical_micros(hlc.clock().now_micros()),
                hlc.node_id(),
            ),
        };

        let mut at_a = Map::new();
        at_a.insert(KEY, A_VALUE, stamp_with(&hlc_a));
        let mut at_b = at_a.clone(); // B receives A's map, and merges A's clock
        hlc_b.update(at_a.max_stamp().unwrap().timestamp).unwrap();
        clock_b.advance(Duration::from_micros(self.elapsed_micros));
        let b_stamp = stamp_with(&hlc_b);
        match self.b_writes {
            Some(value) => at_b.insert(KEY, value, b_stamp),
            None => at_b.remove(KEY, b_stamp),
        };
        at_a.merge(at_b.clone());
        at_b.merge(at_a.clone());
        (at_a, at_b)
    }
}

#[test]
fn dropping_tombstones_too_early_brings_deleted_values_back() {
    let mut replica = Map::new();
    replica.insert(1, 10, stamp(100, 1));
    replica.remove(1, stamp(200, 2));
    // A write made before the delete, still on its way from a slow replica.
    let straggler: Map = [(1, LwwRegister::new(11, stamp(150, 3)))]
        .into_iter()
        .collect();

    let mut careful = replica.clone();
    assert_eq!(
        careful.drop_tombstones_before(Timestamp::from_physical_micros(150)),
        0
    );
    careful.merge(straggler.clone());
    assert_eq!(careful.get(&1), None);

    let mut hasty = replica;
    assert_eq!(
        hasty.drop_tombstones_before(Timestamp::from_physical_micros(201)),
        1
    );
    hasty.merge(straggler);
    assert_eq!(hasty.get(&1), Some(&11));
}
