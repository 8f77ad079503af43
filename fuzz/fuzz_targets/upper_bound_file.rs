//! Arbitrary bytes as the file of a `FileUpperBound`, the bound a clock persists to stay
//! monotonic across restarts: load it, store it back, and restart a clock from it.
//!
//! Nothing may panic. The file loads exactly when it holds a decimal `u64` and at most one
//! trailing newline, and is otherwise an `InvalidData` error; a loaded value stores and loads
//! back unchanged, in the canonical form `<digits>\n`, without leaving a temporary file. A
//! clock restarted from a loaded bound stamps above it and persists a bound covering that
//! stamp, unless the bound leaves no stamp above it or leads the clock by more than the
//! configured limit: then the build fails saying so and the stored bound is left as it was.
//! From a corrupt file the clock refuses to build.
#![no_main]

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hlc_core::{
    BuildError, FileUpperBound, Hlc, ManualClock, UpperBoundStore, MAX_PHYSICAL_MICROS,
};
use hlc_fuzz::{tally, NOW_MICROS};
use libfuzzer_sys::fuzz_target;

const WINDOW: Duration = Duration::from_millis(50);
/// How far a stored bound may lead the clock for a restart to start from it.
const STORED_LEAD: Duration = Duration::from_secs(1);

/// Where the temporary directories go: a RAM file system when there is one, so the fsyncs of
/// each store cost nothing, else the system's temporary directory.
fn scratch_base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// The bound the file format describes: decimal digits, optionally one newline.
fn expected_bound(data: &[u8]) -> Option<u64> {
    let digits = data.strip_suffix(b"\n").unwrap_or(data);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir_in(scratch_base()).expect("a temporary directory");
    let path = dir.path().join("hlc.bound");
    fs::write(&path, data).expect("the file is written");
    let store = FileUpperBound::new(&path);
    let loaded = store.load();
    tally::count("loaded", matches!(loaded, Ok(Some(_))));
    match (loaded, expected_bound(data)) {
        (Ok(Some(bound)), Some(expected)) => {
            assert_eq!(bound, expected);
            check_round_trip(&store, dir.path(), bound);
            fs::write(&path, data).expect("the file is written again");
            check_restart(&store, bound);
        }
        (Err(error), None) => {
            assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
            assert!(!error.to_string().is_empty());
            match Hlc::builder()
                .clock(ManualClock::new(NOW_MICROS))
                .persist_upper_bound(store, WINDOW)
                .build()
            {
                Err(BuildError::Persist(error)) => {
                    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
                }
                Err(error) => panic!("wrong error: {error}"),
                Ok(_) => panic!("a clock was built from a corrupt bound"),
            }
        }
        (loaded, expected) => panic!("{data:?} loaded as {loaded:?}, expected {expected:?}"),
    }
});

fn check_round_trip(store: &FileUpperBound, dir: &Path, bound: u64) {
    store.store(bound).expect("the bound is stored");
    assert_eq!(store.load().expect("the bound loads"), Some(bound));
    let text = fs::read_to_string(store.path()).expect("the file reads");
    assert_eq!(text, format!("{bound}\n"));
    let files = fs::read_dir(dir).expect("the directory lists").count();
    assert_eq!(files, 1, "a temporary file was left behind");
}

/// CockroachDB's restart rule, as hlc-core implements it: start above the persisted bound
/// and persist a new one before stamping beyond it; refuse a bound no stamp fits above, or
/// one leading the clock by more than the limit, and leave it stored as it was.
fn check_restart(store: &FileUpperBound, bound: u64) {
    let built = Hlc::builder()
        .clock(ManualClock::new(NOW_MICROS))
        .persist_upper_bound(store.clone(), WINDOW)
        .max_stored_lead(STORED_LEAD)
        .build();
    let lead = bound.saturating_sub(NOW_MICROS);
    let limit = u64::try_from(STORED_LEAD.as_micros()).expect("a small limit");
    tally::count("restarted", built.is_ok());
    let hlc = match built {
        Ok(hlc) => hlc,
        Err(BuildError::StoredBoundOutOfRange { stored_micros }) => {
            assert!(
                bound >= MAX_PHYSICAL_MICROS,
                "{bound} refused as out of range"
            );
            assert_eq!(stored_micros, bound);
            assert_eq!(store.load().expect("the bound loads"), Some(bound));
            return;
        }
        Err(BuildError::StoredBoundTooFarAhead {
            stored_micros,
            clock_micros,
            limit: refused_at,
        }) => {
            assert!(
                bound < MAX_PHYSICAL_MICROS && lead > limit,
                "{bound} refused"
            );
            assert_eq!((stored_micros, clock_micros), (bound, NOW_MICROS));
            assert_eq!(refused_at, STORED_LEAD);
            assert_eq!(store.load().expect("the bound loads"), Some(bound));
            return;
        }
        Err(error) => panic!("wrong error for {bound}: {error}"),
    };
    assert!(
        bound < MAX_PHYSICAL_MICROS && lead <= limit,
        "{bound} accepted"
    );
    let first = hlc.now();
    assert!(first.physical_micros() > bound, "{first} not above {bound}");
    assert!(first.physical_micros() >= NOW_MICROS);
    let persisted = store.load().expect("the new bound loads");
    assert!(
        persisted.is_some_and(|persisted| persisted >= first.physical_micros()),
        "{persisted:?} does not cover {first}"
    );
}
