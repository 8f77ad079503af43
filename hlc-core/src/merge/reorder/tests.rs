use std::time::{Duration, Instant};

use super::*;

const DELAY: Duration = Duration::from_millis(100);

fn at(micros: u64, node: u64) -> NodeTimestamp {
    NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node))
}

fn nodes(ids: &[u64]) -> Vec<NodeId> {
    ids.iter().copied().map(NodeId::new).collect()
}

fn reorderer(ids: &[u64], capacity: usize, start: Instant) -> Reorderer<NodeTimestamp> {
    let config = ReorderConfig::new()
        .with_max_delay(DELAY)
        .with_capacity(capacity);
    Reorderer::new(config, nodes(ids), start)
}

fn drain(r: &mut Reorderer<NodeTimestamp>, now: Instant) -> Vec<NodeTimestamp> {
    std::iter::from_fn(|| r.pop(now)).take(1_000).collect()
}

#[test]
fn waits_until_every_source_has_passed_an_event() {
    let t0 = Instant::now();
    let mut r = reorderer(&[1, 2, 3], 16, t0);
    r.push(at(10, 1), t0).unwrap();
    r.push(at(5, 2), t0).unwrap();
    assert_eq!(drain(&mut r, t0), []); // node 3 has said nothing yet
    r.push(at(7, 3), t0).unwrap();
    assert_eq!(drain(&mut r, t0), [at(5, 2)]);
    r.push(at(12, 2), t0).unwrap();
    assert_eq!(drain(&mut r, t0), [at(7, 3)]); // node 1 is at 10, node 3 at 7
    r.push(at(20, 3), t0).unwrap();
    assert_eq!(drain(&mut r, t0), [at(10, 1)]);
    assert_eq!(r.flush().collect::<Vec<_>>(), [at(12, 2), at(20, 3)]);
    assert_eq!(r.stats().emitted, 5);
}

#[test]
fn a_silent_source_holds_the_order_back_only_for_the_delay() {
    let t0 = Instant::now();
    let mut r = reorderer(&[1, 2], 16, t0);
    r.push(at(1, 2), t0).unwrap();
    r.push(at(10, 1), t0 + DELAY / 2).unwrap();
    assert_eq!(drain(&mut r, t0 + DELAY / 2), [at(1, 2)]);
    assert_eq!(r.deadline(), Some(t0 + DELAY));
    assert_eq!(drain(&mut r, t0 + DELAY), []); // exactly the delay: still waiting
    let after = t0 + DELAY + Duration::from_millis(1);
    assert_eq!(drain(&mut r, after), [at(10, 1)]);
    // Node 2 speaks again with something the order has passed: reported, not dropped.
    let late = r.push(at(9, 2), after).unwrap_err();
    assert_eq!(
        late,
        PushError::Late {
            event: at(9, 2),
            stamp: at(9, 2),
            frontier: at(10, 1)
        }
    );
    assert_eq!(r.stats().late, 1);
    assert!(late.to_string().starts_with("late event 00-"));
    r.push(at(11, 2), after).unwrap();
    r.push(at(12, 1), after).unwrap();
    assert_eq!(drain(&mut r, after), [at(11, 2)]);
}

#[test]
fn a_full_buffer_releases_early_and_refuses_pushes() {
    let t0 = Instant::now();
    let mut r = reorderer(&[1, 2], 2, t0);
    r.push(at(5, 1), t0).unwrap();
    r.push(at(6, 1), t0).unwrap();
    let full = r.push(at(7, 1), t0).unwrap_err();
    assert!(matches!(full, PushError::Full { capacity: 2, .. }));
    assert_eq!(full.into_event(), at(7, 1));
    assert_eq!(r.pop(t0), Some(at(5, 1))); // node 2 is silent, but the buffer is full
    assert_eq!(r.pop(t0), None);
    assert_eq!(r.stats().forced, 1);
    assert!(r
        .push(at(4, 2), t0)
        .is_err_and(|e| matches!(e, PushError::Late { .. })));
}

#[test]
fn an_unknown_node_joins_and_then_holds_the_order() {
    let t0 = Instant::now();
    let mut r = reorderer(&[1], 16, t0);
    r.push(at(10, 1), t0).unwrap();
    assert_eq!(drain(&mut r, t0), [at(10, 1)]);
    r.push(at(20, 1), t0).unwrap();
    r.push(at(15, 9), t0).unwrap();
    assert_eq!(drain(&mut r, t0), [at(15, 9)]);
    assert_eq!(r.len(), 1);
    assert_eq!(r.frontier(), Some(at(15, 9)));
}

#[test]
fn time_never_runs_backwards() {
    let t0 = Instant::now();
    let mut r = reorderer(&[1, 2], 16, t0);
    r.push(at(1, 1), t0).unwrap();
    let later = t0 + 2 * DELAY;
    assert_eq!(drain(&mut r, later), [at(1, 1)]); // both silent by then
                                                  // An earlier `now` counts as `later`: node 1 was heard at `later`, not before.
    r.push(at(5, 1), t0 + DELAY / 2).unwrap();
    r.push(at(9, 2), later).unwrap();
    assert_eq!(drain(&mut r, later + DELAY / 2), [at(5, 1)]);
    assert_eq!(drain(&mut r, later + 2 * DELAY), [at(9, 2)]);
}

#[test]
fn a_source_out_of_its_own_order_is_still_released_in_order() {
    let t0 = Instant::now();
    let mut r = reorderer(&[1, 2], 16, t0);
    r.push(at(5, 1), t0).unwrap();
    r.push(at(3, 1), t0).unwrap();
    r.push(at(1, 1), t0).unwrap();
    r.push(at(4, 2), t0).unwrap();
    assert_eq!(drain(&mut r, t0), [at(1, 1), at(3, 1), at(4, 2)]);
    assert_eq!(r.flush().collect::<Vec<_>>(), [at(5, 1)]);
}

#[test]
fn silent_sources_are_forgotten_and_can_come_back() {
    let t0 = Instant::now();
    let mut r = reorderer(&[1, 2, 3], 16, t0);
    let mut now = t0;
    for round in 1..=5 {
        // Each round a different pair of nodes talks; the third is silent past the delay.
        now += 2 * DELAY;
        let quiet = round % 3 + 1;
        for node in (1..=3).filter(|&n| n != quiet) {
            r.push(at(100 * round + node, node), now).unwrap();
        }
        let released = drain(&mut r, now + DELAY + Duration::from_millis(1));
        assert_eq!(released.len(), 2, "round {round}: {released:?}");
    }
    assert!(r.is_empty());
    assert_eq!(r.stats().late, 0);
}
