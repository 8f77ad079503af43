//! A lock that survives a panicked holder, for the shell's shared state.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, recovering the data if another thread panicked while holding it: every
/// update under these locks is complete or not made, so the state stays consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
