//! The packed 64-bit hybrid timestamp.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::datetime;
use crate::error::{ParseError, RangeError};

/// Bits of the logical counter, in the low end of a [`Timestamp`].
pub const LOGICAL_BITS: u32 = 12;
/// The largest logical counter; one more carries into the physical part.
pub const MAX_LOGICAL: u16 = (1 << LOGICAL_BITS) - 1;
/// The largest physical part: 2^52 - 1 microseconds after the Unix epoch (in 2112).
pub const MAX_PHYSICAL_MICROS: u64 = (1 << (64 - LOGICAL_BITS)) - 1;

/// A hybrid logical clock timestamp: microseconds since the Unix epoch in the high 52 bits,
/// a logical counter in the low 12 bits.
///
/// The integer order is the HLC order, so comparing, sorting and storing as `u64` all agree.
///
/// ```
/// use hlc_core::Timestamp;
///
/// let t = Timestamp::from_parts(1_700_000_000_000_000, 3)?;
/// assert_eq!((t.physical_micros(), t.logical()), (1_700_000_000_000_000, 3));
/// assert!(t < Timestamp::from_parts(1_700_000_000_000_000, 4)?);
/// assert_eq!(t.to_string(), "2023-11-14T22:13:20.000000Z#3");
/// assert_eq!(t.to_string().parse::<Timestamp>()?, t);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// There is no arithmetic on timestamps: only a clock makes new ones, so none can be nudged
/// past another by hand.
///
/// ```compile_fail
/// let later = hlc_core::Timestamp::ZERO + 1;
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch with logical count zero; no clock ever returns it.
    pub const ZERO: Timestamp = Timestamp(0);
    /// The largest timestamp.
    pub const MAX: Timestamp = Timestamp(u64::MAX);

    /// Builds a timestamp from its physical part (µs since the Unix epoch) and logical count.
    ///
    /// # Errors
    /// [`RangeError::AfterMax`] when `physical_micros` exceeds [`MAX_PHYSICAL_MICROS`]; a
    /// logical count above [`MAX_LOGICAL`] is [`ParseError::Logical`].
    pub fn from_parts(physical_micros: u64, logical: u16) -> Result<Self, ParseError> {
        if physical_micros > MAX_PHYSICAL_MICROS {
            return Err(RangeError::AfterMax.into());
        }
        if logical > MAX_LOGICAL {
            return Err(ParseError::Logical);
        }
        Ok(Self((physical_micros << LOGICAL_BITS) | u64::from(logical)))
    }

    /// The timestamp at a physical time with logical count zero, saturating at the maximum.
    pub const fn from_physical_micros(physical_micros: u64) -> Self {
        let clamped = if physical_micros > MAX_PHYSICAL_MICROS {
            MAX_PHYSICAL_MICROS
        } else {
            physical_micros
        };
        Self(clamped << LOGICAL_BITS)
    }

    /// The timestamp whose packed representation is `raw`. Every `u64` is a valid timestamp.
    pub const fn from_u64(raw: u64) -> Self {
        Self(raw)
    }

    /// The packed representation; its integer order is the timestamp order.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// Microseconds since the Unix epoch.
    pub const fn physical_micros(self) -> u64 {
        self.0 >> LOGICAL_BITS
    }

    /// The logical counter, 0 to [`MAX_LOGICAL`].
    pub const fn logical(self) -> u16 {
        (self.0 & MAX_LOGICAL as u64) as u16
    }

    /// The physical part as a wall-clock time (the logical count is dropped).
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.physical_micros())
    }

    /// The timestamp at `time`, truncated to the microsecond, logical count zero.
    ///
    /// # Errors
    /// [`RangeError`] when `time` is before the Unix epoch or after 2112.
    pub fn from_system_time(time: SystemTime) -> Result<Self, RangeError> {
        let since = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| RangeError::BeforeEpoch)?;
        let micros = u64::try_from(since.as_micros()).map_err(|_| RangeError::AfterMax)?;
        if micros > MAX_PHYSICAL_MICROS {
            return Err(RangeError::AfterMax);
        }
        Ok(Self::from_physical_micros(micros))
    }
}

impl TryFrom<SystemTime> for Timestamp {
    type Error = RangeError;

    fn try_from(time: SystemTime) -> Result<Self, RangeError> {
        Self::from_system_time(time)
    }
}

impl From<Timestamp> for SystemTime {
    fn from(ts: Timestamp) -> SystemTime {
        ts.to_system_time()
    }
}

/// RFC 3339 in UTC with six fractional digits, then `#` and the logical count:
/// `2023-11-14T22:13:20.000000Z#3`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; datetime::RFC3339_MICROS_LEN];
        let text = datetime::format_micros(self.physical_micros(), &mut buf);
        write!(f, "{text}#{}", self.logical())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

/// Parses exactly the [`Display`](fmt::Display) form; anything else is an error.
impl FromStr for Timestamp {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bytes = s.as_bytes();
        let len = datetime::RFC3339_MICROS_LEN;
        if bytes.len() < len + 2 || bytes.len() > len + 5 {
            return Err(ParseError::Length {
                expected: len + 2,
                actual: bytes.len(),
            });
        }
        let micros = datetime::parse_micros(&bytes[..len])?;
        if bytes[len] != b'#' {
            return Err(ParseError::Separator {
                expected: '#',
                at: len,
            });
        }
        let logical = parse_logical(&bytes[len + 1..])?;
        Self::from_parts(micros, logical)
    }
}

fn parse_logical(digits: &[u8]) -> Result<u16, ParseError> {
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(ParseError::Logical);
    }
    let mut value: u16 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(ParseError::Logical);
        }
        value = value * 10 + u16::from(d - b'0');
    }
    if value > MAX_LOGICAL {
        return Err(ParseError::Logical);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_and_order_is_integer_order() {
        let a = Timestamp::from_parts(10, MAX_LOGICAL).unwrap();
        let b = Timestamp::from_parts(11, 0).unwrap();
        assert_eq!(a.as_u64() + 1, b.as_u64());
        assert!(a < b);
        assert_eq!((b.physical_micros(), b.logical()), (11, 0));
    }

    #[test]
    fn from_parts_rejects_out_of_range() {
        assert_eq!(
            Timestamp::from_parts(MAX_PHYSICAL_MICROS + 1, 0),
            Err(ParseError::Range(RangeError::AfterMax))
        );
        assert_eq!(
            Timestamp::from_parts(0, MAX_LOGICAL + 1),
            Err(ParseError::Logical)
        );
        assert_eq!(
            Timestamp::from_parts(MAX_PHYSICAL_MICROS, MAX_LOGICAL).unwrap(),
            Timestamp::MAX
        );
    }

    #[test]
    fn system_time_conversions() {
        let t = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let ts = Timestamp::from_system_time(t).unwrap();
        assert_eq!(ts.physical_micros(), 1_700_000_000_123_456);
        assert_eq!(
            SystemTime::from(ts),
            UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456)
        );
        assert_eq!(
            Timestamp::try_from(UNIX_EPOCH - Duration::from_secs(1)),
            Err(RangeError::BeforeEpoch)
        );
        let too_late = UNIX_EPOCH + Duration::from_micros(MAX_PHYSICAL_MICROS + 1);
        assert_eq!(Timestamp::try_from(too_late), Err(RangeError::AfterMax));
    }

    #[test]
    fn display_and_parse() {
        let ts = Timestamp::from_parts(1_700_000_000_123_456, 4095).unwrap();
        assert_eq!(ts.to_string(), "2023-11-14T22:13:20.123456Z#4095");
        assert_eq!("2023-11-14T22:13:20.123456Z#4095".parse(), Ok(ts));
        assert_eq!(Timestamp::ZERO.to_string(), "1970-01-01T00:00:00.000000Z#0");
        assert_eq!(Timestamp::MAX.to_string().parse(), Ok(Timestamp::MAX));
    }

    #[test]
    fn parse_rejects_malformed_text() {
        for bad in [
            "",
            "2023-11-14T22:13:20.123456Z",
            "2023-11-14T22:13:20.123456Z#",
            "2023-11-14T22:13:20.123456Z#4096",
            "2023-11-14T22:13:20.123456Z#01",
            "2023-11-14T22:13:20.123456Z#-1",
            "2023-11-14T22:13:20.123456Z#12345",
            "2023-11-14T22:13:20.123456z#1",
            "2023-11-14t22:13:20.123456Z#1",
            "2023-11-14T22:13:20.12345Z#12",
            "2023-11-14T22:13:20,123456Z#1",
            "2023-11-14 22:13:20.123456Z#1",
            "2023-13-14T22:13:20.123456Z#1",
            "2023-02-29T22:13:20.123456Z#1",
            "2023-11-00T22:13:20.123456Z#1",
            "2023-11-14T24:13:20.123456Z#1",
            "2023-11-14T22:60:20.123456Z#1",
            "2023-11-14T22:13:60.123456Z#1",
            "1969-12-31T23:59:59.999999Z#1",
            "2113-01-01T00:00:00.000000Z#1",
            "+023-11-14T22:13:20.123456Z#1",
            "2023-11-14T22:13:20.123456Z 1",
            "２023-11-14T22:13:20.123456Z#",
        ] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad:?} was accepted");
        }
        assert!("2024-02-29T00:00:00.000000Z#0".parse::<Timestamp>().is_ok());
    }
}
