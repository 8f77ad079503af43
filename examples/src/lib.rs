//! Shared code of the runnable examples, kept in a library so that tests can drive it.

pub mod chaos;
pub mod event_log;
pub mod event_log_nats;
pub mod lww_postgres;
pub mod lww_store;

pub mod demo;
pub mod node;
