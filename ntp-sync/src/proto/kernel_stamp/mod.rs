//! When a datagram left or arrived, on the local clock, from the kernel's timestamps.
//!
//! A task reads a datagram only once the scheduler runs it, tens of microseconds or more
//! after it arrived, and sends one some microseconds before the kernel has sent it; read
//! then, t4 is late, t1 early, and the offset off by half of each. The kernel stamps
//! datagrams as they arrive (`SO_TIMESTAMPNS`) and as they leave (`SO_TIMESTAMPING`'s
//! software transmit stamps), socket(7) and the kernel's
//! Documentation/networking/timestamping.rst, but on `CLOCK_REALTIME`, while the local clock
//! may be another (the [`SteadyClock`](crate::SteadyClock) counts `CLOCK_MONOTONIC_RAW`). So
//! a stamp is carried over by its distance from a reading: read the realtime clock and the
//! local clock together just before sending and just after receiving; the datagram arrived
//! `realtime − stamp` before the second reading, and left `stamp − realtime` after the
//! first, and so on the local clock too.
//!
//! What can make that wrong, and what is done about it:
//!
//! - The two clocks run at different rates over that distance. Between `CLOCK_REALTIME` and
//!   the raw oscillator the kernel allows at most [`KERNEL_SLEW_BOUND_PPB`], so the distance
//!   may be off by [`AGE_ERROR_PPB`] of itself: that goes into the sample's radius.
//! - The realtime clock is stepped during the exchange. `CLOCK_MONOTONIC` runs at exactly
//!   realtime's rate (one timekeeper, clock_gettime(2)) but is never stepped, so their
//!   difference changes only by a step: the stamps are refused when it changed by more than
//!   the reads' own spread.
//! - The local clock is no clock that follows the kernel's (a paused test clock, a clock
//!   stepped mid-exchange): the stamps are refused when it did not keep pace with the
//!   monotonic clock over the exchange, within the same rate bound.
//!
//! Refused, the caller falls back to the times it read around the send and the receive,
//! which are early and late, never the other way round, so the interval still holds the truth.

use serde::{Deserialize, Serialize};

use crate::proto::sample::drift_growth;

/// The largest rate, in ppb, at which the kernel slews `CLOCK_REALTIME` (and
/// `CLOCK_MONOTONIC`) away from the raw oscillator: 25 %. adjtimex(2) lets a time daemon set
/// the tick to ±10 % of nominal, the frequency to ±500 ppm and an adjtime(3) slew of
/// 500 ppm; the kernel's phase-locked loop (kernel/time/ntp.c, `ntp_offset_chunk`) slews out
/// an offset of at most 0.5 s by at most a quarter of it a second, 12.5 %. chronyd's default
/// `maxslewrate` (83 333 ppm) is within. Not covered: the PPS discipline of a kernel fed a
/// pulse-per-second signal, which may slew half a second in one.
pub const KERNEL_SLEW_BOUND_PPB: i64 = 250_000_000;

/// The largest rate difference, in ppb of the realtime clock's elapsed time, between it and
/// a clock that follows the raw oscillator: realtime slewed down by
/// [`KERNEL_SLEW_BOUND_PPB`] makes the raw clock run 1/3 faster than it (1/0.75 − 1). A
/// stamp's distance from the readings it is carried from, microseconds, is multiplied by it.
pub const AGE_ERROR_PPB: i64 =
    KERNEL_SLEW_BOUND_PPB * 1_000_000_000 / (1_000_000_000 - KERNEL_SLEW_BOUND_PPB) + 1;

/// How far the difference between the realtime and monotonic clocks may move across an
/// exchange, beyond the reads' spread, before it counts as a step of the realtime clock.
/// Both clocks come from one timekeeper, so only nanosecond rounding moves it otherwise.
pub const STEP_SLACK_NANOS: i64 = 1_000;

/// The clocks read together, in this order: `CLOCK_REALTIME`, the local clock,
/// `CLOCK_MONOTONIC`, `CLOCK_REALTIME` again. Nanoseconds; the local clock's since the Unix
/// epoch, truncated to its resolution.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ClockReadings {
    /// `CLOCK_REALTIME`, first.
    pub realtime_before: i64,
    /// The local clock.
    pub local: i64,
    /// `CLOCK_MONOTONIC`.
    pub monotonic: i64,
    /// `CLOCK_REALTIME`, last: the readings between were taken within `[before, after]`.
    pub realtime_after: i64,
}

impl ClockReadings {
    /// The realtime clock at the readings: the midpoint of its two reads.
    pub fn realtime(&self) -> i64 {
        self.realtime_before / 2 + self.realtime_after / 2
    }

    /// How long the readings took, on the realtime clock: how far apart in time any two of
    /// them may be.
    pub fn spread(&self) -> i64 {
        self.realtime_after
            .saturating_sub(self.realtime_before)
            .max(0)
    }
}

/// A kernel timestamp on the local clock and how far from the truth it may be.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct MappedStamp {
    /// The local clock's reading when the kernel stamped the datagram, nanoseconds since the
    /// Unix epoch: t1 of a request, t4 of a response.
    pub local_nanos: i64,
    /// The local clock read within `local_nanos ± error_nanos` (beyond its resolution)
    /// when the datagram left or arrived.
    pub error_nanos: i64,
}

/// Why a kernel timestamp was not carried onto the local clock.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Unmapped {
    /// The datagram came without a timestamp (the socket option is unavailable, or the
    /// transmit stamp had not come back yet).
    #[error("no kernel timestamp")]
    NoStamp,
    /// The timestamp is not between the readings before the request was sent and after the
    /// response was received.
    #[error("kernel timestamp outside the exchange")]
    OutsideExchange,
    /// The realtime clock was stepped during the exchange.
    #[error("realtime clock stepped during the exchange")]
    RealtimeStepped,
    /// The local clock did not keep pace with the kernel's clocks.
    #[error("local clock does not follow the kernel's clocks")]
    LocalOffPace,
}

/// Carries the kernel's receive timestamp `stamp_nanos` (`CLOCK_REALTIME`) of a response
/// onto the local clock, given the readings taken just before the request was sent and just
/// after the response was received. `local_resolution_nanos` is the local clock's resolution.
///
/// # Errors
///
/// Why the stamp cannot be used; the caller then takes the time it read the response at
/// as t4 instead.
pub fn map_receive(
    stamp_nanos: Option<i64>,
    sent: &ClockReadings,
    received: &ClockReadings,
    local_resolution_nanos: i64,
) -> Result<MappedStamp, Unmapped> {
    let stamp = check(stamp_nanos, sent, received, local_resolution_nanos)?;
    Ok(carry(stamp, received, sent, received))
}

/// Carries the kernel's transmit timestamp `stamp_nanos` of a request onto the local clock,
/// like [`map_receive`].
///
/// # Errors
///
/// Why the stamp cannot be used; the caller then takes the time it read before sending as
/// t1 instead.
pub fn map_transmit(
    stamp_nanos: Option<i64>,
    sent: &ClockReadings,
    received: &ClockReadings,
    local_resolution_nanos: i64,
) -> Result<MappedStamp, Unmapped> {
    let stamp = check(stamp_nanos, sent, received, local_resolution_nanos)?;
    Ok(carry(stamp, sent, sent, received))
}

/// The stamp, if it lies within the exchange and the clocks behaved.
fn check(
    stamp_nanos: Option<i64>,
    sent: &ClockReadings,
    received: &ClockReadings,
    local_resolution_nanos: i64,
) -> Result<i64, Unmapped> {
    let stamp = stamp_nanos.ok_or(Unmapped::NoStamp)?;
    // The request left after the first readings; the response was taken before the second.
    if stamp < sent.realtime_before || stamp > received.realtime_before {
        return Err(Unmapped::OutsideExchange);
    }
    let realtime_less_monotonic = |r: &ClockReadings| r.realtime().saturating_sub(r.monotonic);
    let moved = realtime_less_monotonic(received).saturating_sub(realtime_less_monotonic(sent));
    if moved.abs() > step_tolerance(sent, received) {
        return Err(Unmapped::RealtimeStepped);
    }
    if !keeps_pace(sent, received, local_resolution_nanos) {
        return Err(Unmapped::LocalOffPace);
    }
    Ok(stamp)
}

/// `stamp` on the local clock, carried from the readings `from` (one of `sent` and
/// `received`) by its distance from them.
fn carry(
    stamp: i64,
    from: &ClockReadings,
    sent: &ClockReadings,
    received: &ClockReadings,
) -> MappedStamp {
    let distance = stamp.saturating_sub(from.realtime());
    // What the reads' spreads and an undetected step (within the tolerance) may add to the
    // distance as measured, and to the time between the local reading and the realtime ones.
    let slack = step_tolerance(sent, received)
        .saturating_add(sent.spread().saturating_mul(2))
        .saturating_add(received.spread().saturating_mul(2));
    let error = drift_growth(
        distance.saturating_abs().saturating_add(slack),
        AGE_ERROR_PPB,
    )
    .saturating_add(slack);
    MappedStamp {
        local_nanos: from.local.saturating_add(distance),
        error_nanos: error,
    }
}

/// The move of realtime − monotonic that is not a step: the reads' spreads and rounding.
fn step_tolerance(sent: &ClockReadings, received: &ClockReadings) -> i64 {
    sent.spread()
        .saturating_add(received.spread())
        .saturating_add(STEP_SLACK_NANOS)
}

/// Whether the local clock advanced like the monotonic clock between the readings, within
/// the kernel's rate bound, both readings' resolution and the reads' spreads.
fn keeps_pace(sent: &ClockReadings, received: &ClockReadings, resolution_nanos: i64) -> bool {
    let local = received.local.saturating_sub(sent.local);
    let monotonic = received.monotonic.saturating_sub(sent.monotonic);
    let tolerance = drift_growth(monotonic, AGE_ERROR_PPB)
        .saturating_add(resolution_nanos.max(0).saturating_mul(2))
        .saturating_add(step_tolerance(sent, received));
    monotonic >= 0 && local.saturating_sub(monotonic).abs() <= tolerance
}

#[cfg(test)]
mod tests;
