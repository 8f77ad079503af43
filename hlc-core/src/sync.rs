//! The one place that chooses between std atomics and loom's model-checked ones.
//!
//! Everything in this crate that is shared between threads takes its types from here, so
//! `RUSTFLAGS="--cfg loom"` swaps them all at once (the shape of tokio-util's `loom.rs`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::Mutex;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::Mutex;
