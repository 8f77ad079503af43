//! Conversions to and from `chrono::DateTime<Utc>` (feature `chrono`, on by default).

use chrono::{DateTime, Utc};

use crate::error::RangeError;
use crate::Timestamp;

/// The physical part as a `DateTime<Utc>`; the logical count is dropped.
#[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
impl From<Timestamp> for DateTime<Utc> {
    fn from(ts: Timestamp) -> Self {
        DateTime::<Utc>::from(ts.to_system_time())
    }
}

/// Truncates to the microsecond; the logical count is zero.
#[cfg_attr(docsrs, doc(cfg(feature = "chrono")))]
impl TryFrom<DateTime<Utc>> for Timestamp {
    type Error = RangeError;

    fn try_from(time: DateTime<Utc>) -> Result<Self, RangeError> {
        let micros = u64::try_from(time.timestamp_micros()).map_err(|_| RangeError::BeforeEpoch)?;
        if micros > crate::timestamp::MAX_PHYSICAL_MICROS {
            return Err(RangeError::AfterMax);
        }
        Ok(Timestamp::from_physical_micros(micros))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_chrono() {
        let ts = Timestamp::from_parts(1_700_000_000_123_456, 9).unwrap();
        let dt = DateTime::<Utc>::from(ts);
        assert_eq!(dt.to_rfc3339(), "2023-11-14T22:13:20.123456+00:00");
        assert_eq!(
            Timestamp::try_from(dt).unwrap(),
            Timestamp::from_parts(1_700_000_000_123_456, 0).unwrap()
        );
        let before = DateTime::<Utc>::from_timestamp(-1, 0).unwrap();
        assert_eq!(Timestamp::try_from(before), Err(RangeError::BeforeEpoch));
        let after = DateTime::<Utc>::from_timestamp(5_000_000_000, 0).unwrap();
        assert_eq!(Timestamp::try_from(after), Err(RangeError::AfterMax));
    }
}
