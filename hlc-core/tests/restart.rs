//! Restart monotonicity through a real file, with the system clock set 10 s back in between.

use std::time::Duration;

use hlc_core::{FileUpperBound, Hlc, ManualClock, PhysicalClock, Timestamp};

const T0: u64 = 1_700_000_000_000_000;

fn start(clock: &ManualClock, path: &std::path::Path) -> Hlc<ManualClock> {
    Hlc::builder()
        .clock(clock.clone())
        .persist_upper_bound(FileUpperBound::new(path), Duration::from_millis(20))
        .build()
        .unwrap()
}

#[test]
fn a_restarted_clock_set_back_ten_seconds_stamps_above_everything_before() {
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
    let hlc = start(&clock, &path);
    let first = hlc.now();
    assert!(first > highest, "{first:?} <= {highest:?}");
    assert!(first.physical_micros() <= highest.physical_micros() + 20_000 + 1);
    assert!(first.physical_micros() > clock.now_micros());
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
