//! Arbitrary bytes as the file of a `FileUpperBound`, the bound a clock persists to stay
//! monotonic across restarts: load it, store it back, and restart a clock from it.
//!
//! Nothing may panic. The file loads exactly when it holds a decimal `u64` and at most one
//! trailing newline, and is otherwise an `InvalidData` error; a loaded value stores and loads
//! back unchanged, in the canonical form `<digits>\n`, without leaving a temporary file. A
//! clock restarted from a loaded bound stamps above it and persists a bound covering that
//! stamp; from a corrupt file it refuses to build.
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
/// and persist a new one before stamping beyond it.
fn check_restart(store: &FileUpperBound, bound: u64) {
    let hlc = Hlc::builder()
        .clock(ManualClock::new(NOW_MICROS))
        .persist_upper_bound(store.clone(), WINDOW)
        .build()
        .expect("a clock builds from a valid bound");
    let first = hlc.now();
    if bound < MAX_PHYSICAL_MICROS {
        assert!(first.physical_micros() > bound, "{first} not above {bound}");
    }
    assert!(first.physical_micros() >= NOW_MICROS.min(MAX_PHYSICAL_MICROS));
    let persisted = store.load().expect("the new bound loads");
    assert!(
        persisted.is_some_and(|persisted| persisted >= first.physical_micros()),
        "{persisted:?} does not cover {first}"
    );
}
