//! Model-checks the lock-free state machine under every interleaving loom can find.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p hlc-core --release --test loom`
//! (`scripts/test` adds `LOOM_MAX_PREEMPTIONS=3`, which keeps the three-thread model to
//! seconds and still fails every test when the CAS is replaced by a plain load and store).
#![cfg(loom)]

use std::sync::Arc;

use hlc_core::{Hlc, ManualClock, NodeId, Timestamp};
use loom::thread;

const T0: u64 = 1_700_000_000_000_000;

#[derive(Clone, Copy)]
enum Op {
    Now,
    /// Merge a remote stamp this many µs ahead of T0.
    Update(u64),
    /// Move the shared physical clock forwards (positive) or backwards (negative).
    Tick(i64),
}

/// Runs one thread per script on one shared clock and checks: every timestamp is distinct,
/// each thread's are increasing, and each update's result exceeds its remote.
fn check(scripts: &'static [&'static [Op]]) {
    loom::model(move || {
        let clock = ManualClock::new(T0);
        let hlc = Arc::new(
            Hlc::builder()
                .clock(clock.clone())
                .node_id(NodeId::new(1))
                .build()
                .unwrap(),
        );
        let handles: Vec<_> = scripts
            .iter()
            .map(|script| {
                let (hlc, clock) = (Arc::clone(&hlc), clock.clone());
                thread::spawn(move || run(&hlc, &clock, script))
            })
            .collect();
        let mut all: Vec<Timestamp> = Vec::new();
        for handle in handles {
            let stamps = handle.join().unwrap();
            assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
            all.extend(stamps);
        }
        let count = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count, "duplicate timestamps");
        assert_eq!(hlc.last(), *all.last().unwrap());
    });
}

fn run(hlc: &Hlc<ManualClock>, clock: &ManualClock, script: &[Op]) -> Vec<Timestamp> {
    let mut stamps = Vec::new();
    for op in script {
        match *op {
            Op::Now => stamps.push(hlc.now()),
            Op::Update(lead) => {
                let remote = Timestamp::from_parts(T0 + lead, 4095).unwrap();
                let merged = hlc.update(remote).unwrap();
                assert!(merged > remote);
                stamps.push(merged);
            }
            Op::Tick(by) if by >= 0 => clock.advance(std::time::Duration::from_micros(by as u64)),
            Op::Tick(by) => clock.rewind(std::time::Duration::from_micros(by.unsigned_abs())),
        }
    }
    stamps
}

#[test]
fn two_threads_stamping() {
    check(&[&[Op::Now, Op::Now], &[Op::Now, Op::Now]]);
}

#[test]
fn two_threads_mixing_now_and_update() {
    check(&[
        &[Op::Now, Op::Update(3), Op::Now],
        &[Op::Update(1), Op::Now],
    ]);
}

#[test]
fn two_threads_with_the_physical_clock_moving_both_ways() {
    check(&[
        &[Op::Now, Op::Tick(5), Op::Now],
        &[Op::Now, Op::Tick(-10), Op::Now],
    ]);
}

#[test]
fn three_threads_mixing_now_and_update() {
    check(&[
        &[Op::Now, Op::Now],
        &[Op::Update(2), Op::Now],
        &[Op::Now, Op::Update(1)],
    ]);
}
