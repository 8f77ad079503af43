//! Counts of accepted and rejected inputs, printed when the fuzzer exits.
//!
//! A run that never reaches a target's accepted branch tests only its error paths; the counts
//! show which branches a run reached. libFuzzer ends a `-max_total_time` or `-runs` run with
//! C `exit`, which runs `atexit` handlers but no Rust destructor, so the counts are printed
//! from such a handler, registered on the first count. Each line reads
//! `tally <kind>: accepted <n>, rejected <n>`.

use std::collections::BTreeMap;
use std::os::raw::c_int;
use std::sync::{Mutex, Once};

static COUNTS: Mutex<BTreeMap<&'static str, [u64; 2]>> = Mutex::new(BTreeMap::new());
static REGISTER: Once = Once::new();

/// Counts one input of `kind` (a parser, a form, a layer) as accepted or rejected.
pub fn count(kind: &'static str, accepted: bool) {
    REGISTER.call_once(register_report);
    let mut counts = COUNTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    counts.entry(kind).or_default()[usize::from(!accepted)] += 1;
}

extern "C" {
    fn atexit(callback: extern "C" fn()) -> c_int;
}

// The one exception to the workspace's `unsafe_code` rule here: std has no `atexit`, and
// libFuzzer's exit runs no Rust code otherwise.
#[allow(unsafe_code)]
fn register_report() {
    // SAFETY: `report` takes no arguments and returns nothing, as `atexit` requires, and
    // stays valid for the life of the process (it is a plain function).
    let registered = unsafe { atexit(report) };
    if registered != 0 {
        eprintln!("tally: cannot register the report at exit");
    }
}

extern "C" fn report() {
    // `try_lock`: a thread that exits while another holds the lock must not hang.
    let Ok(counts) = COUNTS.try_lock() else {
        eprintln!("tally: counts busy at exit");
        return;
    };
    for (kind, [accepted, rejected]) in counts.iter() {
        eprintln!("tally {kind}: accepted {accepted}, rejected {rejected}");
    }
}
