//! The protocol without I/O: everything the client and the responder decide, as plain
//! functions and state machines of the bytes they receive and the clock readings they are
//! given. Nothing here uses tokio, reads a clock or touches a socket (the shape of ntpd-rs's
//! `ntp-proto` beside `ntpd`, and of quinn-proto beside quinn), so every behaviour is testable
//! in microseconds of virtual time; the crate root is the tokio shell around it.
//!
//! In the order a measurement flows through them:
//!
//! - [`packet`] and [`timestamp`]: the NTPv4 header and its era-safe 64- and 32-bit times.
//! - [`validate`]: the checks of RFC 5905 on a response, one error per check.
//! - [`kernel_stamp`]: the kernel's transmit and receive timestamps on the local clock.
//! - [`sample`]: one exchange turned into an offset, a delay and a worst-case radius.
//! - [`filter`], [`poll`], [`source`]: per server, the clock filter, the poll schedule and the
//!   reach register, kiss-o'-death included.
//! - [`select`] and [`engine`]: selection among the servers, and the estimate it agrees on.
//! - [`estimate`]: the estimate and how it ages; [`step`]: noticing a stepped local clock;
//!   [`step_guard`]: the corrected clock reading through a step not noticed yet.
//! - [`discipline`]: the corrected clock's correction; [`watchdog`]: suspends, pauses and
//!   system clock steps from readings of the host's clocks; [`tracking`]: what runs after
//!   every poll and heartbeat, step detection, disruptions and discipline included.
//! - [`bound`] and [`published_correction`]: the estimate and the correction as published to
//!   readers, and what they say at a given reading of the local clock.
//! - [`clock_health`]: the health of [`bound`] in hlc-core's terms, for its health board.
//! - [`kernel`] and [`combine`]: the host kernel's own bound, from the figures a read of
//!   `adjtimex` returned, and how it is combined with the network's.
//! - [`answer`] and [`fault`]: the responder's side, an answer to a request and the faults it
//!   can be told to inject.
//! - [`sim`]: a simulation of client, servers and clocks in virtual time, over all of it.

pub mod answer;
pub mod bound;
mod bound_display;
pub mod clock_health;
pub mod combine;
pub mod discipline;
pub mod engine;
pub mod estimate;
pub mod fault;
pub mod filter;
pub mod kernel;
pub mod kernel_stamp;
pub mod leap;
pub mod packet;
pub mod poll;
pub mod published_correction;
pub mod sample;
pub mod select;
mod seqlock;
pub mod sim;
pub mod source;
pub mod step;
pub mod step_guard;
pub mod timestamp;
pub mod tracking;
pub mod validate;
pub mod watchdog;
