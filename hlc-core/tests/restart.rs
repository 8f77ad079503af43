//! Restart monotonicity through a real file: clocks set back, restarts without a stamp in
//! between, stamps at the very top of the persisted bound, and stored bounds no healthy node
//! could have left behind.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hlc_core::{BuildError, FileUpperBound, Hlc, HlcEvent, ManualClock, PhysicalClock, Timestamp};
use hlc_core::{UpperBoundStore, MAX_LOGICAL, MAX_PHYSICAL_MICROS};

const T0: u64 = 1_700_000_000_000_000;
const WINDOW: Duration = Duration::from_millis(20);
const WINDOW_MICROS: u64 = 20_000;

fn start(clock: &ManualClock, path: &Path) -> Hlc<ManualClock> {
    try_start(clock, path).unwrap()
}

fn try_start(clock: &ManualClock, path: &Path) -> Result<Hlc<ManualClock>, BuildError> {
    Hlc::builder()
        .clock(clock.clone())
        .persist_upper_bound(FileUpperBound::new(path), WINDOW)
        .build()
}

fn stored(path: &Path) -> u64 {
    FileUpperBound::new(path).load().unwrap().unwrap()
}

#[test]
fn a_restarted_clock_set_back_ten_seconds_refuses_or_stamps_above_everything_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hlc.bound");
    let clock = ManualClock::new(T0);
    let mut highest = Timestamp::ZERO;
    {
        let hlc = start(&clock, &path);
        for _ in 0..500 {
            clock.advance(Duration::from_micros(137));
            highest = highest.max(hlc.now());
        }
    }
    clock.rewind(Duration::from_secs(10));
    // Ten seconds is far beyond max offset + window: by default the clock does not start.
    let refused = try_start(&clock, &path).unwrap_err();
    assert!(
        matches!(refused, BuildError::StoredBoundTooFarAhead { .. }),
        "{refused:?}"
    );
    // Allowed to lead that far, it starts above every earlier stamp without waiting.
    let hlc = Hlc::builder()
        .clock(clock.clone())
        .persist_upper_bound(FileUpperBound::new(&path), WINDOW)
        .max_stored_lead(Duration::from_secs(11))
        .build()
        .unwrap();
    let first = hlc.now();
    assert!(first > highest, "{first:?} <= {highest:?}");
    assert!(first.physical_micros() <= highest.physical_micros() + WINDOW_MICROS + 1);
    assert!(first.physical_micros() > clock.now_micros());
}

#[test]
fn stamps_counted_up_at_the_bound_itself_stay_below_the_restarted_clock() {
    // The clock reaches the persisted bound exactly and stamps there on its logical counter:
    // those stamps are covered by the bound, so no new one is written, and the restarted clock
    // must start above the whole microsecond, not inside it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hlc.bound");
    let clock = ManualClock::new(T0);
    let hlc = start(&clock, &path);
    let bound = stored(&path);
    clock.set(bound);
    let at_bound: Vec<_> = (0..3).map(|_| hlc.now()).collect();
    assert_eq!(at_bound[2], Timestamp::from_parts(bound, 2).unwrap());
    assert_eq!(
        stored(&path),
        bound,
        "a stamp at the bound needs no new bound"
    );
    drop(hlc);

    clock.rewind(Duration::from_millis(100));
    let restarted = start(&clock, &path);
    let first = restarted.now();
    assert!(first > at_bound[2], "{first:?} <= {:?}", at_bound[2]);
}

#[test]
fn restarts_that_stamp_nothing_never_lower_the_stored_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hlc.bound");
    let clock = ManualClock::new(T0);
    let highest = {
        let hlc = start(&clock, &path);
        clock.advance(Duration::from_millis(15));
        hlc.now()
    };
    // Set back, restarted twice without a stamp in between: the second restart knows only
    // what the first one stored.
    clock.rewind(Duration::from_millis(100));
    let loaded = stored(&path);
    drop(start(&clock, &path));
    assert!(stored(&path) > loaded, "{} <= {loaded}", stored(&path));
    let hlc = start(&clock, &path);
    let first = hlc.now();
    assert!(first > highest, "{first:?} <= {highest:?}");
}

#[test]
fn the_first_stamps_after_a_build_report_no_forward_leap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hlc.bound");
    let clock = ManualClock::new(T0);
    let events = Arc::new(Mutex::new(Vec::new()));
    let build = |events: &Arc<Mutex<Vec<String>>>| {
        let sink = Arc::clone(events);
        Hlc::builder()
            .clock(clock.clone())
            .forward_leap_threshold(Duration::from_secs(1))
            .observer(move |e: &HlcEvent<'_>| sink.lock().unwrap().push(format!("{e:?}")))
            .persist_upper_bound(FileUpperBound::new(&path), WINDOW)
            .build()
            .unwrap()
    };
    // A fresh store: the clock starts from nothing, which is no leap from 1970.
    let hlc = build(&events);
    hlc.now();
    hlc.now();
    assert_eq!(hlc.stats().forward_leaps, 0, "{:?}", events.lock().unwrap());
    drop(hlc);
    // A restart an hour later: the downtime is no leap either, as no stamp preceded it.
    clock.advance(Duration::from_secs(3600));
    let hlc = build(&events);
    hlc.now();
    assert_eq!(hlc.stats().forward_leaps, 0, "{:?}", events.lock().unwrap());
    assert_eq!(*events.lock().unwrap(), Vec::<String>::new());
    // A leap while running is still reported.
    clock.advance(Duration::from_secs(2));
    hlc.now();
    assert_eq!(hlc.stats().forward_leaps, 1);
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].starts_with("ForwardLeap"), "{}", events[0]);
}

#[test]
fn a_stored_bound_a_day_ahead_refuses_to_build_and_says_how_far() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hlc.bound");
    let day = 86_400_000_000;
    FileUpperBound::new(&path).store(T0 + day).unwrap();
    let clock = ManualClock::new(T0);
    let err = try_start(&clock, &path).unwrap_err().to_string();
    assert!(err.contains("2023-11-15T22:13:20.000000Z"), "{err}");
    assert!(err.contains("2023-11-14T22:13:20.000000Z"), "{err}");
    assert!(err.contains("86400000000us ahead"), "{err}");
    // The refusal stores nothing: the bound is still there once the clock has caught up.
    assert_eq!(stored(&path), T0 + day);
    clock.advance(Duration::from_micros(day));
    let hlc = start(&clock, &path);
    assert!(hlc.now() > Timestamp::from_parts(T0 + day, MAX_LOGICAL).unwrap());
}

#[test]
fn a_node_restarting_at_once_after_merging_at_the_max_offset_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hlc.bound");
    let clock = ManualClock::new(T0);
    let hlc = start(&clock, &path);
    // The furthest a healthy node's stamps get: a remote at the max offset with a full counter.
    let max_offset = hlc_core::DEFAULT_MAX_OFFSET.as_micros() as u64;
    let remote = Timestamp::from_parts(T0 + max_offset, MAX_LOGICAL).unwrap();
    let merged = hlc.update(remote).unwrap();
    assert_eq!(stored(&path), merged.physical_micros() + WINDOW_MICROS);
    drop(hlc);
    // A coarse clock may read a tick earlier after the restart.
    clock.rewind(Duration::from_millis(4));
    let restarted = start(&clock, &path);
    let first = restarted.now();
    assert!(first > merged, "{first:?} <= {merged:?}");
}

#[test]
fn the_stored_lead_limit_is_inclusive_to_the_microsecond() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hlc.bound");
    let clock = ManualClock::new(T0);
    let build = |lead: Option<Duration>| {
        let mut builder = Hlc::builder()
            .clock(clock.clone())
            .max_offset(Duration::from_millis(100))
            .persist_upper_bound(FileUpperBound::new(&path), WINDOW);
        if let Some(lead) = lead {
            builder = builder.max_stored_lead(lead);
        }
        builder.build().map(drop)
    };
    let store = FileUpperBound::new(&path);
    // Default: max offset 100 ms + window 20 ms + 10 ms.
    store.store(T0 + 130_000).unwrap();
    build(None).unwrap();
    store.store(T0 + 130_001).unwrap();
    let err = build(None).unwrap_err();
    let BuildError::StoredBoundTooFarAhead {
        stored_micros,
        clock_micros,
        limit,
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        (stored_micros, clock_micros, limit),
        (T0 + 130_001, T0, Duration::from_millis(130))
    );
    // Configured: exactly that lead, whatever max offset and window are.
    let lead = Duration::from_secs(2);
    store.store(T0 + 2_000_000).unwrap();
    build(Some(lead)).unwrap();
    store.store(T0 + 2_000_001).unwrap();
    let err = build(Some(lead)).unwrap_err().to_string();
    assert!(err.contains("2000001us ahead"), "{err}");
    assert!(err.contains("beyond the limit of 2000000us"), "{err}");
}

#[test]
fn a_stored_bound_with_no_stamp_left_above_it_refuses_to_build() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hlc.bound");
    // The clock itself reads the last representable microsecond, so only the range refuses.
    let clock = ManualClock::new(MAX_PHYSICAL_MICROS);
    for bound in [MAX_PHYSICAL_MICROS, MAX_PHYSICAL_MICROS + 1, u64::MAX] {
        FileUpperBound::new(&path).store(bound).unwrap();
        let result = try_start(&clock, &path);
        let Err(err) = result else {
            let hlc = result.unwrap();
            panic!("built on {bound}: {:?} then {:?}", hlc.now(), hlc.now());
        };
        assert!(err.to_string().contains(&bound.to_string()), "{err}");
    }
}

#[test]
fn a_corrupt_bound_file_fails_the_build_instead_of_starting_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hlc.bound");
    std::fs::write(&path, "not a number\n").unwrap();
    let result = Hlc::builder()
        .persist_upper_bound(FileUpperBound::new(&path), Duration::from_secs(1))
        .build();
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("does not hold a decimal microsecond bound"),
        "{err}"
    );
}
