//! RFC 3339 (UTC, microseconds) formatting and strict parsing without a date library.
//!
//! Days are converted to civil dates with the proleptic Gregorian arithmetic described by
//! Howard Hinnant in "chrono-Compatible Low-Level Date Algorithms" (eras of 400 years).

use crate::error::{ParseError, RangeError};

/// Length of `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub(crate) const RFC3339_MICROS_LEN: usize = 27;

const MICROS_PER_SEC: u64 = 1_000_000;
const SECS_PER_DAY: u64 = 86_400;

/// Writes `micros` since the epoch as `YYYY-MM-DDTHH:MM:SS.ffffffZ` into `buf`.
pub(crate) fn format_micros(micros: u64, buf: &mut [u8; RFC3339_MICROS_LEN]) -> &str {
    let secs = micros / MICROS_PER_SEC;
    let (year, month, day) = civil_from_days(secs / SECS_PER_DAY);
    let in_day = secs % SECS_PER_DAY;
    let fields: [(usize, u64, usize); 7] = [
        (0, year, 4),
        (5, month, 2),
        (8, day, 2),
        (11, in_day / 3600, 2),
        (14, in_day / 60 % 60, 2),
        (17, in_day % 60, 2),
        (20, micros % MICROS_PER_SEC, 6),
    ];
    *buf = *b"0000-00-00T00:00:00.000000Z";
    for (at, mut value, width) in fields {
        for slot in buf[at..at + width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    // Only ASCII digits and separators were written.
    std::str::from_utf8(buf).unwrap_or_default()
}

/// Parses exactly `YYYY-MM-DDTHH:MM:SS.ffffffZ` into microseconds since the epoch, any year
/// from 1970 to 9999.
pub(crate) fn parse_micros(text: &[u8]) -> Result<u64, ParseError> {
    if text.len() != RFC3339_MICROS_LEN {
        return Err(ParseError::Length {
            expected: RFC3339_MICROS_LEN,
            actual: text.len(),
        });
    }
    for (at, expected) in [
        (4, '-'),
        (7, '-'),
        (10, 'T'),
        (13, ':'),
        (16, ':'),
        (19, '.'),
        (26, 'Z'),
    ] {
        if text[at] != expected as u8 {
            return Err(ParseError::Separator { expected, at });
        }
    }
    let year = digits(text, 0, 4)?;
    let month = digits(text, 5, 2)?;
    let day = digits(text, 8, 2)?;
    let hour = digits(text, 11, 2)?;
    let minute = digits(text, 14, 2)?;
    let second = digits(text, 17, 2)?;
    let fraction = digits(text, 20, 6)?;
    if year < 1970 {
        return Err(RangeError::BeforeEpoch.into());
    }
    check(month, 1, 12, "month")?;
    check(day, 1, days_in_month(year, month), "day")?;
    check(hour, 0, 23, "hour")?;
    check(minute, 0, 59, "minute")?;
    // Unix time has no leap seconds, so 60 is never a valid second here.
    check(second, 0, 59, "second")?;
    let days = days_from_civil(year, month, day);
    let secs = days * SECS_PER_DAY + hour * 3600 + minute * 60 + second;
    // At most year 9999: about 2^58 µs, no overflow. Whether a timestamp can hold it is the
    // caller's question.
    Ok(secs * MICROS_PER_SEC + fraction)
}

fn digits(text: &[u8], at: usize, width: usize) -> Result<u64, ParseError> {
    let mut value = 0u64;
    for (i, &b) in text[at..at + width].iter().enumerate() {
        if !b.is_ascii_digit() {
            return Err(ParseError::Digit { at: at + i });
        }
        value = value * 10 + u64::from(b - b'0');
    }
    Ok(value)
}

fn check(value: u64, min: u64, max: u64, field: &'static str) -> Result<(), ParseError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ParseError::Field { field })
    }
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date on or after it.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    // Shift the year to start in March so that the leap day is the last of the year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let year_of_era = y % 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719_468 days separate 0000-03-01 from 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The civil date `days` after 1970-01-01.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_the_whole_range() {
        // The last day a timestamp's 52-bit physical part reaches (in 2112), and some more.
        let last_day = ((1u64 << 52) - 1) / MICROS_PER_SEC / SECS_PER_DAY + 1_000;
        for days in (0..=last_day).step_by(7).chain([last_day]) {
            let (y, m, d) = civil_from_days(days);
            assert!(d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn known_instants() {
        let mut buf = [0; RFC3339_MICROS_LEN];
        assert_eq!(
            format_micros(951_782_400_000_001, &mut buf),
            "2000-02-29T00:00:00.000001Z"
        );
        assert_eq!(
            parse_micros(b"2000-02-29T00:00:00.000001Z"),
            Ok(951_782_400_000_001)
        );
    }
}
