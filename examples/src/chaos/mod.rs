//! The chaos harness of `scripts/chaos`: five `hlc_node` processes under load while faults
//! are injected, every request recorded in a [`history`], and the history checked against the
//! cluster's promises.

pub mod check;
pub mod harness;
pub mod history;
