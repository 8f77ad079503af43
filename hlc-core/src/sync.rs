//! The one place that chooses between std atomics and loom's model-checked ones.
//!
//! Everything in this crate that is shared between threads takes its types from here, so
//! `RUSTFLAGS="--cfg loom"` swaps them all at once (the shape of tokio-util's `loom.rs`).
//! The few that loom cannot or need not model come from [`unmodelled`], by name, so that
//! the choice is made here too.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Atomics that stay std's under loom: a `static` (loom's atomics are not `const`), and state
/// that a plain std thread writes (the cached clock's refresher), which loom cannot run.
/// Neither takes part in the HLC's compare-and-swap that the loom models check.
pub(crate) mod unmodelled {
    pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
}
