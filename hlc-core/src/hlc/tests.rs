//! The rules of the clock, one test each, on a manual physical clock.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::sync::Ordering;
use crate::{
    Hlc, HlcEvent, ManualClock, NodeId, Timestamp, UpdateError, UpperBoundStore,
    DEFAULT_MAX_OFFSET, MAX_LOGICAL,
};

const T0: u64 = 1_700_000_000_000_000;

fn ts(physical: u64, logical: u16) -> Timestamp {
    Timestamp::from_parts(physical, logical).unwrap()
}

fn clock_at(micros: u64) -> (Hlc<ManualClock>, ManualClock) {
    let clock = ManualClock::new(micros);
    let hlc = Hlc::builder()
        .clock(clock.clone())
        .node_id(NodeId::new(1))
        .build()
        .unwrap();
    (hlc, clock)
}

#[test]
fn now_follows_the_physical_clock_and_counts_within_a_microsecond() {
    let (hlc, clock) = clock_at(T0);
    assert_eq!(hlc.now(), ts(T0, 0));
    assert_eq!(hlc.now(), ts(T0, 1));
    clock.advance(Duration::from_micros(3));
    assert_eq!(hlc.now(), ts(T0 + 3, 0));
}

#[test]
fn update_with_remote_ahead_takes_remote_plus_one() {
    let (hlc, _clock) = clock_at(T0);
    hlc.now();
    assert_eq!(hlc.update(ts(T0 + 100, 7)).unwrap(), ts(T0 + 100, 8));
    // The next local event stays above the merged remote time.
    assert_eq!(hlc.now(), ts(T0 + 100, 9));
}

#[test]
fn update_with_remote_behind_keeps_local_time() {
    let (hlc, _clock) = clock_at(T0);
    assert_eq!(hlc.update(ts(T0 - 5_000, 40)).unwrap(), ts(T0, 0));
    assert_eq!(hlc.update(ts(T0 - 5_000, 40)).unwrap(), ts(T0, 1));
}

#[test]
fn update_with_equal_physical_parts_takes_the_larger_counter_plus_one() {
    let (hlc, _clock) = clock_at(T0);
    hlc.now();
    hlc.now(); // (T0, 1)
    assert_eq!(hlc.update(ts(T0, 5)).unwrap(), ts(T0, 6));
    assert_eq!(hlc.update(ts(T0, 2)).unwrap(), ts(T0, 7));
}

#[test]
fn max_offset_boundary_is_inclusive_to_the_microsecond() {
    let (hlc, _clock) = clock_at(T0);
    let bound = DEFAULT_MAX_OFFSET.as_micros() as u64;
    assert_eq!(hlc.update(ts(T0 + bound, 0)).unwrap(), ts(T0 + bound, 1));
    let (hlc, _clock) = clock_at(T0);
    let err = hlc.update(ts(T0 + bound + 1, 0)).unwrap_err();
    assert_eq!(
        err,
        UpdateError::TooFarAhead {
            remote: ts(T0 + bound + 1, 0),
            local: ts(T0, 0),
            max_offset: DEFAULT_MAX_OFFSET,
        }
    );
    let message = err.to_string();
    let ahead = format!("{}us ahead", bound + 1);
    assert!(message.contains(&ahead), "{message}");
    assert!(
        message.contains("2023-11-14T22:13:20.000000Z#0"),
        "{message}"
    );
    assert!(message.contains("500000us"), "{message}");
}

#[test]
fn refusal_leaves_the_clock_unchanged() {
    let (hlc, clock) = clock_at(T0);
    let before = hlc.now();
    assert!(hlc.update(ts(T0 + 10_000_000, 0)).is_err());
    assert_eq!(hlc.last(), before);
    assert_eq!(hlc.stats().refused, 1);
    // The next stamp continues from where the clock was, as if nothing had been offered.
    assert_eq!(hlc.now(), ts(T0, 1));
    clock.advance(Duration::from_micros(1));
    assert_eq!(hlc.now(), ts(T0 + 1, 0));
}

#[test]
fn counter_overflow_carries_into_the_physical_part() {
    let (hlc, clock) = clock_at(T0);
    let mut last = hlc.now();
    for _ in 0..u32::from(MAX_LOGICAL) {
        last = hlc.now();
    }
    assert_eq!(last, ts(T0, MAX_LOGICAL));
    assert_eq!(hlc.stats().carries, 0);
    assert_eq!(hlc.now(), ts(T0 + 1, 0));
    assert_eq!(hlc.stats().carries, 1);
    // Once the physical clock passes the carried time, it takes over again.
    clock.advance(Duration::from_micros(2));
    assert_eq!(hlc.now(), ts(T0 + 2, 0));
}

#[test]
fn a_remote_at_the_top_of_its_counter_carries_too() {
    let (hlc, _clock) = clock_at(T0);
    assert_eq!(hlc.update(ts(T0 + 9, MAX_LOGICAL)).unwrap(), ts(T0 + 10, 0));
    assert_eq!(hlc.stats().carries, 1);
}

#[test]
fn physical_clock_going_backwards_keeps_the_clock_monotonic() {
    let (hlc, clock) = clock_at(T0);
    let before = hlc.now();
    clock.rewind(Duration::from_secs(10));
    let after: Vec<_> = (0..3).map(|_| hlc.now()).collect();
    assert!(before < after[0] && after[0] < after[1] && after[1] < after[2]);
    assert_eq!(after[2], ts(T0, 3));
}

#[test]
fn backward_jumps_beyond_the_threshold_are_reported_once_per_episode() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let clock = ManualClock::new(T0);
    let hlc = Hlc::builder()
        .clock(clock.clone())
        .backward_jump_threshold(Duration::from_millis(100))
        .observer(move |e: &HlcEvent<'_>| sink.lock().unwrap().push(format!("{e:?}")))
        .build()
        .unwrap();
    hlc.now();
    // Max offset + 100 ms threshold: a step back 50 ms short of it is not told apart from a
    // merge.
    clock.rewind(DEFAULT_MAX_OFFSET + Duration::from_millis(50));
    hlc.now();
    assert_eq!(hlc.stats().backward_jumps, 0);
    clock.rewind(Duration::from_millis(100));
    hlc.now();
    hlc.now();
    assert_eq!(hlc.stats().backward_jumps, 1);
    // Catching up ends the episode; the next step back is a new one.
    clock.advance(Duration::from_secs(1));
    hlc.now();
    clock.rewind(Duration::from_secs(5));
    hlc.now();
    assert_eq!(hlc.stats().backward_jumps, 2);
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0].starts_with("BackwardJump"), "{}", events[0]);
}

#[test]
fn forward_leaps_are_reported_only_when_enabled() {
    let clock = ManualClock::new(T0);
    let hlc = Hlc::builder()
        .clock(clock.clone())
        .forward_leap_threshold(Duration::from_secs(60))
        .build()
        .unwrap();
    hlc.now();
    clock.advance(Duration::from_secs(60));
    hlc.now();
    assert_eq!(hlc.stats().forward_leaps, 0);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(hlc.now(), ts(T0 + 3_660_000_000, 0));
    assert_eq!(hlc.stats().forward_leaps, 1);

    let (quiet, clock) = clock_at(T0);
    quiet.now();
    clock.advance(Duration::from_secs(3600));
    quiet.now();
    assert_eq!(quiet.stats().forward_leaps, 0);
}

#[test]
fn the_physical_part_saturates_instead_of_overflowing() {
    let (hlc, _clock) = clock_at(u64::MAX);
    assert_eq!(hlc.now().physical_micros(), crate::MAX_PHYSICAL_MICROS);
}

/// Records, at each durable write, the in-memory bound the clock had published meanwhile.
#[derive(Default, Clone)]
struct PeekingStore {
    hlc: Arc<Mutex<Weak<Hlc<ManualClock>>>>,
    writes: Arc<Mutex<Vec<(u64, u64)>>>,
}

impl UpperBoundStore for PeekingStore {
    fn load(&self) -> std::io::Result<Option<u64>> {
        Ok(None)
    }

    fn store(&self, bound: u64) -> std::io::Result<()> {
        if let Some(hlc) = self.hlc.lock().unwrap().upgrade() {
            let published = hlc.persisted_bound.load(Ordering::Relaxed);
            self.writes.lock().unwrap().push((bound, published));
        }
        Ok(())
    }
}

/// Other threads hand out every stamp up to the published bound without asking the store, so
/// the bound must not be published before the store holds it.
#[test]
fn the_bound_is_published_only_once_it_is_durable() {
    let store = PeekingStore::default();
    let clock = ManualClock::new(T0);
    let hlc = Arc::new(
        Hlc::builder()
            .clock(clock.clone())
            .persist_upper_bound(store.clone(), Duration::from_millis(50))
            .build()
            .unwrap(),
    );
    *store.hlc.lock().unwrap() = Arc::downgrade(&hlc);
    clock.advance(Duration::from_secs(1));
    let stamp = hlc.now();
    let writes = store.writes.lock().unwrap().clone();
    let new_bound = T0 + 1_050_000;
    assert_eq!(writes, [(new_bound, T0 + 50_000)]);
    assert!(stamp.physical_micros() <= new_bound);
    assert_eq!(hlc.persisted_bound.load(Ordering::Relaxed), new_bound);
}

#[test]
fn clocks_are_shareable_across_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Hlc>();
    shareable::<Hlc<ManualClock>>();
    shareable::<Hlc<std::sync::Arc<dyn crate::PhysicalClock>>>();
    shareable::<crate::CachedClock>();
}

#[test]
fn the_clock_reports_the_max_offset_it_was_built_with() {
    let hlc = Hlc::builder()
        .clock(ManualClock::new(T0))
        .max_offset(Duration::from_millis(250))
        .build()
        .unwrap();
    assert_eq!(hlc.max_offset(), Duration::from_millis(250));
    let default = Hlc::with_clock(ManualClock::new(T0));
    assert_eq!(default.max_offset(), crate::DEFAULT_MAX_OFFSET);
}

#[test]
fn a_lead_of_exactly_max_offset_plus_threshold_is_no_backward_jump() {
    let clock = ManualClock::new(T0);
    let hlc = Hlc::builder()
        .clock(clock.clone())
        .backward_jump_threshold(Duration::from_millis(100))
        .build()
        .unwrap();
    hlc.now();
    // The next stamp is (T0, 1): it leads the clock by 600 ms, the bound itself.
    clock.rewind(Duration::from_millis(600));
    hlc.now();
    assert_eq!(hlc.stats().backward_jumps, 0);
    clock.rewind(Duration::from_micros(1));
    hlc.now();
    assert_eq!(hlc.stats().backward_jumps, 1);
}

#[test]
fn debug_output_names_the_node_and_the_last_stamp() {
    let (hlc, _clock) = clock_at(T0);
    let stamp = hlc.now();
    let printed = format!("{hlc:?}");
    assert!(
        printed.contains(&format!("{:?}", NodeId::new(1))),
        "{printed}"
    );
    assert!(printed.contains(&format!("{stamp:?}")), "{printed}");
}

/// A store in memory that starts out holding `initial` and records every write.
#[derive(Clone)]
struct MemoryStore {
    initial: Option<u64>,
    writes: Arc<Mutex<Vec<u64>>>,
}

impl UpperBoundStore for MemoryStore {
    fn load(&self) -> std::io::Result<Option<u64>> {
        Ok(self.writes.lock().unwrap().last().copied().or(self.initial))
    }

    fn store(&self, bound: u64) -> std::io::Result<()> {
        self.writes.lock().unwrap().push(bound);
        Ok(())
    }
}

/// The bound written at a restart covers the first stamp of the new run by a whole window,
/// as every later bound covers its stamp.
#[test]
fn a_restart_stores_a_whole_window_above_its_first_stamp() {
    let loaded = T0 + 5_000;
    let store = MemoryStore {
        initial: Some(loaded),
        writes: Arc::default(),
    };
    let hlc = Hlc::builder()
        .clock(ManualClock::new(T0))
        .persist_upper_bound(store.clone(), Duration::from_millis(50))
        .build()
        .unwrap();
    let first = hlc.now();
    assert_eq!(first, ts(loaded + 1, 0));
    let writes = store.writes.lock().unwrap().clone();
    assert_eq!(writes, [first.physical_micros() + 50_000]);
}
