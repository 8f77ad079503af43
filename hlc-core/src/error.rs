//! Errors of this crate: refused remote timestamps, malformed wire input, out-of-range times,
//! clocks that cannot be built.

use std::fmt;
use std::time::Duration;

use crate::datetime::{format_micros, RFC3339_MICROS_LEN};
use crate::timestamp::MAX_PHYSICAL_MICROS;
use crate::Timestamp;

/// Why [`Hlc::update`](crate::Hlc::update) refused a remote timestamp.
///
/// A refusal leaves the clock exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The remote physical time is further ahead of the local physical clock than the
    /// configured max offset: the sender's clock (or ours) is badly skewed, and merging it
    /// would drag this clock into the future.
    #[error(
        "remote timestamp {remote} is {}us ahead of local physical time {local}, beyond the max offset of {}us",
        remote.physical_micros().saturating_sub(local.physical_micros()),
        max_offset.as_micros()
    )]
    TooFarAhead {
        /// The remote timestamp that was refused.
        remote: Timestamp,
        /// The local physical time (logical part zero) it was compared against.
        local: Timestamp,
        /// The bound it exceeded.
        max_offset: Duration,
    },
}

/// A malformed timestamp, node id or wire form. Parsers never panic; they return this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input has the wrong length for the form being parsed.
    #[error("expected {expected} bytes, got {actual}")]
    Length {
        /// The exact length the form has.
        expected: usize,
        /// The length of the input.
        actual: usize,
    },
    /// The text form starts with a version this library does not know.
    #[error("unknown version {found:?}, expected \"00\"")]
    UnknownVersion {
        /// The first two bytes of the input, lossily decoded.
        found: String,
    },
    /// A separator is missing or in the wrong place.
    #[error("expected '{expected}' at byte {at}")]
    Separator {
        /// The separator the form requires there.
        expected: char,
        /// Byte offset in the input.
        at: usize,
    },
    /// A byte that is not a lowercase hexadecimal digit where one is required.
    #[error("invalid hex digit at byte {at}: only 0-9 and a-f are allowed")]
    Hex {
        /// Byte offset in the input.
        at: usize,
    },
    /// A byte that is not a decimal digit where one is required.
    #[error("invalid decimal digit at byte {at}")]
    Digit {
        /// Byte offset in the input.
        at: usize,
    },
    /// A date or time field is out of its range (month 13, February 30th, hour 24, ...).
    #[error("invalid {field} in date-time")]
    Field {
        /// The field that is out of range.
        field: &'static str,
    },
    /// The logical counter does not fit its 12 bits or has leading zeros.
    #[error("invalid logical counter: expected 0 to 4095 without leading zeros")]
    Logical,
    /// The time is not representable (see [`RangeError`]).
    #[error(transparent)]
    Range(#[from] RangeError),
}

/// A wall-clock time outside what a [`Timestamp`] can hold: the Unix epoch up to the end of
/// its 52 bits of microseconds (in the year 2112).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    /// Before 1970-01-01T00:00:00Z.
    #[error("time is before the unix epoch")]
    BeforeEpoch,
    /// After the last representable microsecond.
    #[error("time is after the last representable timestamp (2^52 - 1 microseconds after the unix epoch)")]
    AfterMax,
}

/// Why [`HlcBuilder::build`](crate::HlcBuilder::build) could not build a clock: a builder
/// setting that cannot work, or a persisted bound that could not be read, written or trusted.
/// The clock's own error; ntp-sync's client reports its start-up failures as
/// `ntp_sync::StartError`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Reading or writing the persisted upper bound failed.
    #[error("persisted upper bound: {0}")]
    Persist(#[from] std::io::Error),
    /// The persistence window must be longer than zero.
    #[error("the persistence window must be longer than zero")]
    ZeroWindow,
    /// The stored upper bound leads the physical clock by more than the limit
    /// ([`HlcBuilder::max_stored_lead`](crate::HlcBuilder::max_stored_lead)). Starting from it
    /// would make every stamp lead the clock as far, and peers refuse stamps beyond their max
    /// offset. Nothing was stored: a build succeeds once the clock has caught up.
    #[error(
        "stored upper bound {} is {}us ahead of the physical clock at {}, beyond the limit of {}us",
        Micros(*stored_micros),
        stored_micros.saturating_sub(*clock_micros),
        Micros(*clock_micros),
        limit.as_micros()
    )]
    StoredBoundTooFarAhead {
        /// The stored bound, in µs since the Unix epoch.
        stored_micros: u64,
        /// The physical clock's reading when the bound was loaded, in µs since the Unix epoch.
        clock_micros: u64,
        /// The lead it exceeded.
        limit: Duration,
    },
    /// The stored upper bound leaves no representable timestamp above it: a clock started
    /// from it could only repeat one stamp.
    #[error(
        "stored upper bound {stored_micros}us since the unix epoch is at or beyond the last representable timestamp ({}us)",
        MAX_PHYSICAL_MICROS
    )]
    StoredBoundOutOfRange {
        /// The stored bound, in µs since the Unix epoch.
        stored_micros: u64,
    },
}

/// Shows µs since the epoch as an RFC 3339 date-time, or as a number when out of range.
struct Micros(u64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > MAX_PHYSICAL_MICROS {
            return write!(f, "{}us since the unix epoch", self.0);
        }
        let mut buf = [0u8; RFC3339_MICROS_LEN];
        f.write_str(format_micros(self.0, &mut buf))
    }
}
