//! The one piece of the civil calendar a leap second needs: the midnight that ends the UTC
//! month a Unix time falls in. RFC 5905 §7.3 puts an announced leap at the end of the last
//! minute of the current month; Unix time counts 86 400 s a day, so whole days since the
//! epoch convert to dates by the proleptic Gregorian rules alone.

const SECONDS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of the first day of `month` (1-12) in `year`.
fn days_from_civil(year: i64, month: u32) -> i64 {
    // Count from 1 March so that February, with its leap day, ends the counting year.
    let (year, month) = match month {
        1 | 2 => (year - 1, i64::from(month) + 9),
        _ => (year, i64::from(month) - 3),
    };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * month + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 days separate 0000-03-01 from 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The year and month (1-12) of the day `days` after 1970-01-01.
fn civil_month(days: i64) -> (i64, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year, month as u32)
}

/// Unix seconds of 00:00:00 UTC on the first day of the month after the one `unix_secs`
/// falls in: the instant a leap announced during that month happens.
pub fn month_end_after(unix_secs: i64) -> i64 {
    let (year, month) = civil_month(unix_secs.div_euclid(SECONDS_PER_DAY));
    let (year, month) = match month {
        12 => (year + 1, 1),
        _ => (year, month + 1),
    };
    days_from_civil(year, month) * SECONDS_PER_DAY
}

/// The year and month (1-12) `unix_secs` falls in, and the day of the month.
pub fn civil_date(unix_secs: i64) -> (i64, u32, u32) {
    let days = unix_secs.div_euclid(SECONDS_PER_DAY);
    let (year, month) = civil_month(days);
    let day = days - days_from_civil(year, month) + 1;
    (year, month, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_end_of_real_leap_seconds() {
        // 2016-12-31 23:59:60 was inserted before 2017-01-01 (1 483 228 800): December to
        // January crosses the year.
        assert_eq!(month_end_after(1_483_228_799), 1_483_228_800);
        assert_eq!(month_end_after(1_480_550_400), 1_483_228_800); // 2016-12-01 00:00
                                                                   // 2015-06-30 23:59:60, before 2015-07-01 (1 435 708 800).
        assert_eq!(month_end_after(1_435_708_799), 1_435_708_800);
        // At the midnight itself, the month is the next one.
        assert_eq!(month_end_after(1_483_228_800), 1_485_907_200); // 2017-02-01
    }

    #[test]
    fn february_has_29_days_in_leap_years_only() {
        // 2016-02-15 -> 2016-03-01 (1 456 790 400); 2015-02-15 -> 2015-03-01.
        assert_eq!(month_end_after(1_455_494_400), 1_456_790_400);
        assert_eq!(month_end_after(1_423_958_400), 1_425_168_000);
        // 2000 is a leap year (divisible by 400), 2100 is not (by 100).
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        let march_2100 = month_end_after(4_105_123_200); // 2100-02-01
        assert_eq!(civil_date(march_2100 - 1), (2100, 2, 28));
        assert_eq!(civil_date(march_2100), (2100, 3, 1));
    }

    #[test]
    fn dates_round_trip_across_the_range() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(-1), (1969, 12, 31));
        let mut month_start = 0;
        for _ in 0..2_000 {
            let next = month_end_after(month_start);
            let (_, _, day) = civil_date(next);
            assert_eq!(day, 1, "{next}");
            let (_, _, last) = civil_date(next - 1);
            assert!((28..=31).contains(&last), "{next}: {last}");
            month_start = next;
        }
    }
}
