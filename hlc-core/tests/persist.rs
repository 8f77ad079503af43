//! The persisting path on an in-memory store: one write per window, failing writes, and
//! threads stamping across the bound while it advances, with a restart in between.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hlc_core::{BuildError, Hlc, ManualClock, PhysicalClock, Timestamp, UpperBoundStore};

const T0: u64 = 1_700_000_000_000_000;

/// A store in memory that counts its writes and can be told to fail.
#[derive(Default, Clone)]
struct MemoryStore(Arc<Mutex<Stored>>);

#[derive(Default)]
struct Stored {
    bound: Option<u64>,
    writes: u32,
    failing: bool,
}

impl MemoryStore {
    fn bound(&self) -> Option<u64> {
        self.0.lock().unwrap().bound
    }

    fn writes(&self) -> u32 {
        self.0.lock().unwrap().writes
    }

    fn fail(&self, failing: bool) {
        self.0.lock().unwrap().failing = failing;
    }
}

impl UpperBoundStore for MemoryStore {
    fn load(&self) -> std::io::Result<Option<u64>> {
        Ok(self.bound())
    }

    fn store(&self, bound: u64) -> std::io::Result<()> {
        // A real write takes a while: give other stampers the chance to run meanwhile.
        std::thread::yield_now();
        let mut stored = self.0.lock().unwrap();
        if stored.failing {
            return Err(std::io::Error::other("disk full"));
        }
        stored.writes += 1;
        stored.bound = Some(bound);
        Ok(())
    }
}

fn persisted(clock: &ManualClock, store: &MemoryStore, window: Duration) -> Hlc<ManualClock> {
    Hlc::builder()
        .clock(clock.clone())
        .persist_upper_bound(store.clone(), window)
        .build()
        .unwrap()
}

#[test]
fn restart_with_the_clock_set_back_never_stamps_below_earlier_stamps() {
    let store = MemoryStore::default();
    let clock = ManualClock::new(T0);
    let first = persisted(&clock, &store, Duration::from_millis(50));
    let mut issued = Vec::new();
    for _ in 0..100 {
        clock.advance(Duration::from_millis(1));
        issued.push(first.now());
    }
    let highest = *issued.iter().max().unwrap();
    assert!(store.bound().unwrap() >= highest.physical_micros());
    drop(first);

    // Set back by less than max offset: the stored bound is accepted.
    clock.rewind(Duration::from_millis(300));
    let restarted = persisted(&clock, &store, Duration::from_millis(50));
    let next = restarted.now();
    assert!(next > highest, "{next:?} <= {highest:?}");
    // It started from the bound without waiting: it leads the physical clock for now.
    assert!(next.physical_micros() > clock.now_micros());
}

#[test]
fn the_bound_is_written_once_per_window_not_per_stamp() {
    let store = MemoryStore::default();
    let clock = ManualClock::new(T0);
    let hlc = persisted(&clock, &store, Duration::from_millis(50));
    assert_eq!(store.writes(), 1);
    for _ in 0..1_000 {
        clock.advance(Duration::from_micros(100));
        hlc.now();
    }
    // 100 ms of stamping: the bound written at build covers the first 50 ms, one more write
    // covers the rest; not a write per stamp.
    assert_eq!(store.writes(), 2);
}

#[test]
fn a_failing_store_is_counted_and_reported_but_stamping_goes_on() {
    let store = MemoryStore::default();
    let clock = ManualClock::new(T0);
    let hlc = persisted(&clock, &store, Duration::from_millis(50));
    store.fail(true);
    clock.advance(Duration::from_secs(1));
    let a = hlc.now();
    let b = hlc.now();
    assert!(a < b);
    assert_eq!(hlc.stats().persist_failures, 1);
}

#[test]
fn build_errors_are_reported() {
    let store = MemoryStore::default();
    let zero = Hlc::builder()
        .persist_upper_bound(store.clone(), Duration::ZERO)
        .build();
    assert!(matches!(zero, Err(BuildError::ZeroWindow)));
    store.fail(true);
    let failing = Hlc::builder()
        .persist_upper_bound(store, Duration::from_secs(1))
        .build();
    assert!(matches!(failing, Err(BuildError::Persist(_))));
}

const THREADS: u64 = 4;
const STAMPS: u64 = 5_000;
/// The clock moves this much every 16 stamps of each thread: 8.75 ms per run of all threads.
const TICK: Duration = Duration::from_micros(7);
const WINDOW: Duration = Duration::from_micros(100);

#[test]
fn threads_stamping_across_a_restart_never_go_back_or_repeat() {
    let store = MemoryStore::default();
    let clock = ManualClock::new(T0);
    let before = stamp_concurrently(&persisted(&clock, &store, WINDOW), &clock, &store);
    let writes = store.writes();
    // At least 8.75 ms of clock over steps of at most the window plus 0.08 ms: over 48 writes.
    assert!(writes > 40, "the bound advanced only {writes} times");

    // Set back by less than the first run advanced: the restarted clock first counts above
    // the loaded bound, then the physical clock passes it and the bound advances again.
    clock.rewind(Duration::from_millis(2));
    let after = stamp_concurrently(&persisted(&clock, &store, WINDOW), &clock, &store);
    // The clock ends over 6 ms past the loaded bound: over 30 more writes.
    assert!(store.writes() > writes + 20, "{} writes", store.writes());

    let highest_before = *before.iter().max().unwrap();
    let lowest_after = *after.iter().min().unwrap();
    assert!(
        lowest_after > highest_before,
        "{lowest_after:?} <= {highest_before:?}"
    );
    let mut all: Vec<_> = before.into_iter().chain(after).collect();
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), count, "duplicate timestamps");
}

/// Every thread stamps, now and then moves the shared clock or merges a remote stamp a little
/// ahead, and checks that each stamp it got is covered by the stored bound.
fn stamp_concurrently(
    hlc: &Hlc<ManualClock>,
    clock: &ManualClock,
    store: &MemoryStore,
) -> Vec<Timestamp> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|i| scope.spawn(move || stamp_alone(hlc, clock, store, i)))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    })
}

fn stamp_alone(
    hlc: &Hlc<ManualClock>,
    clock: &ManualClock,
    store: &MemoryStore,
    thread: u64,
) -> Vec<Timestamp> {
    let mut stamps = Vec::with_capacity(STAMPS as usize);
    for n in 0..STAMPS {
        if n % 16 == thread {
            clock.advance(TICK);
        }
        let stamp = if n % 5 == thread {
            let remote = Timestamp::from_physical_micros(clock.now_micros() + 50);
            hlc.update(remote).unwrap()
        } else {
            hlc.now()
        };
        let bound = store.bound().unwrap();
        assert!(
            stamp.physical_micros() <= bound,
            "{stamp:?} handed out above the stored bound {bound}"
        );
        stamps.push(stamp);
    }
    assert!(stamps.windows(2).all(|w| w[0] < w[1]));
    stamps
}
