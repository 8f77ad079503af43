//! Model-checks the lock-free state machine under every interleaving loom can find.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p hlc-core --release --test loom`
//! (`scripts/test` adds `LOOM_MAX_PREEMPTIONS=3`, which keeps the three-thread model to
//! seconds and still fails every test when the CAS is replaced by a plain load and store).
//! The persisted models fail when the bound is published before it is stored, or published
//! with `Relaxed` ordering. The health board's model fails when a reporter publishes the
//! worst report outside the lock on the slots.
#![cfg(loom)]

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hlc_core::{Hlc, ManualClock, NodeId, Timestamp, UpperBoundStore};
use loom::sync::atomic::{AtomicU64, Ordering};
use loom::thread;

const T0: u64 = 1_700_000_000_000_000;
/// The persistence window of the persisted models, in µs: the bound stored at build is
/// `T0 + WINDOW`, so a tick of more than that makes the next stamp cross it.
const WINDOW: u64 = 10;

#[derive(Clone, Copy)]
enum Op {
    Now,
    /// Merge a remote stamp this many µs ahead of T0.
    Update(u64),
    /// Move the shared physical clock forwards (positive) or backwards (negative).
    Tick(i64),
}

/// A bound store whose "disk" is one model-checked word, so loom sees every write to it.
struct Durable(Arc<AtomicU64>);

impl UpperBoundStore for Durable {
    fn load(&self) -> io::Result<Option<u64>> {
        Ok(Some(self.0.load(Ordering::Relaxed)).filter(|&b| b != 0))
    }

    fn store(&self, bound_micros: u64) -> io::Result<()> {
        self.0.store(bound_micros, Ordering::Relaxed);
        Ok(())
    }
}

/// Runs one thread per script on one shared clock and checks: every timestamp is distinct,
/// each thread's are increasing, and each update's result exceeds its remote.
fn check(scripts: &'static [&'static [Op]]) {
    model(scripts, false);
}

/// [`check`] on a clock that persists its upper bound, and also: no stamp is handed out before
/// a bound covering it is durable. The thread that got the stamp reads the durable word after
/// the stamp returns; if the write happened before the return, it cannot read an older value.
fn check_persisted(scripts: &'static [&'static [Op]]) {
    model(scripts, true);
}

fn model(scripts: &'static [&'static [Op]], persisted: bool) {
    loom::model(move || {
        let clock = ManualClock::new(T0);
        let durable = Arc::new(AtomicU64::new(0));
        let mut builder = Hlc::builder().clock(clock.clone()).node_id(NodeId::new(1));
        if persisted {
            let store = Durable(Arc::clone(&durable));
            builder = builder.persist_upper_bound(store, Duration::from_micros(WINDOW));
        }
        let hlc = Arc::new(builder.build().unwrap());
        let durable = persisted.then_some(durable);
        let handles: Vec<_> = scripts
            .iter()
            .map(|script| {
                let (hlc, clock, durable) = (Arc::clone(&hlc), clock.clone(), durable.clone());
                thread::spawn(move || run(&hlc, &clock, script, durable.as_deref()))
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

fn run(
    hlc: &Hlc<ManualClock>,
    clock: &ManualClock,
    script: &[Op],
    durable: Option<&AtomicU64>,
) -> Vec<Timestamp> {
    let mut stamps = Vec::new();
    for op in script {
        let stamp = match *op {
            Op::Now => hlc.now(),
            Op::Update(lead) => {
                let remote = Timestamp::from_parts(T0 + lead, 4095).unwrap();
                let merged = hlc.update(remote).unwrap();
                assert!(merged > remote);
                merged
            }
            Op::Tick(by) => {
                if by >= 0 {
                    clock.advance(Duration::from_micros(by.unsigned_abs()));
                } else {
                    clock.rewind(Duration::from_micros(by.unsigned_abs()));
                }
                continue;
            }
        };
        if let Some(durable) = durable {
            let bound = durable.load(Ordering::Relaxed);
            assert!(
                stamp.physical_micros() <= bound,
                "{stamp:?} handed out above the durable bound {bound}"
            );
        }
        stamps.push(stamp);
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

#[test]
fn two_threads_crossing_the_persisted_bound() {
    check_persisted(&[&[Op::Tick(15), Op::Now], &[Op::Now, Op::Now]]);
}

#[test]
fn a_merge_and_a_stamp_crossing_the_persisted_bound_together() {
    check_persisted(&[&[Op::Tick(25), Op::Now], &[Op::Update(12), Op::Now]]);
}

/// Two sources report at once while a reader reads: once both are done, the board holds the
/// worst of their last reports. Fails when a reporter publishes the worst after releasing the
/// slots' lock (the older set of slots can then be published last).
#[test]
fn two_health_reporters_leave_the_worst_of_their_last_reports() {
    use hlc_core::health::{ClockHealth, HealthBoard, UnhealthyReason};

    const DISRUPTED: ClockHealth = ClockHealth::Unhealthy(UnhealthyReason::Disrupted);
    const UNSYNC: ClockHealth = ClockHealth::Unhealthy(UnhealthyReason::Unsynchronised);
    loom::model(|| {
        let board = HealthBoard::new();
        let (ntp, watchdog) = (board.reporter("ntp"), board.reporter("watchdog"));
        let recovering = thread::spawn(move || {
            watchdog.report(DISRUPTED);
            watchdog.report(ClockHealth::Healthy);
        });
        let losing_sync = thread::spawn(move || ntp.report(UNSYNC));
        let reader = board.clone();
        let reading = thread::spawn(move || reader.health());
        recovering.join().unwrap();
        losing_sync.join().unwrap();
        let seen = reading.join().unwrap();
        assert!(
            [ClockHealth::Healthy, DISRUPTED, UNSYNC].contains(&seen),
            "{seen:?}"
        );
        assert_eq!(board.health(), UNSYNC);
    });
}
