//! NTP's two time formats and the era-safe arithmetic on them (RFC 5905 §6).
//!
//! A 64-bit NTP timestamp counts seconds since 1900 in 32 bits, so it wraps every 2^32 s
//! (136 years); the first wrap is on 2036-02-07T06:28:16Z. RFC 5905 resolves the era by doing
//! all arithmetic as wrapping 64-bit differences read as signed: two timestamps less than 68
//! years apart always subtract correctly, whichever eras they are in.

use serde::{Deserialize, Serialize};

/// Seconds from 1900-01-01 (the NTP prime epoch) to 1970-01-01 (the Unix epoch).
pub const NTP_UNIX_OFFSET_SECS: i64 = 2_208_988_800;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A 64-bit NTP timestamp: 32 bits of seconds (modulo 2^32) and 32 bits of fraction.
///
/// The era is not stored: compare timestamps only through [`NtpTimestamp::nanos_since`], and
/// convert to Unix time with [`NtpTimestamp::to_unix_nanos_near`], which picks the era closest
/// to a pivot you know to be within 68 years.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct NtpTimestamp(u64);

impl NtpTimestamp {
    /// The all-zero timestamp, which RFC 5905 uses for "unknown".
    pub const ZERO: Self = Self(0);

    /// The timestamp with these 64 bits as sent on the wire.
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The 64 bits as sent on the wire.
    pub const fn to_bits(self) -> u64 {
        self.0
    }

    /// Whether this is the "unknown" timestamp 0.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The NTP timestamp of `unix_nanos` nanoseconds since the Unix epoch (negative for
    /// earlier), wrapped into its era; the fraction is truncated to 2^-32 s.
    pub fn from_unix_nanos(unix_nanos: i64) -> Self {
        let secs = unix_nanos.div_euclid(NANOS_PER_SEC) + NTP_UNIX_OFFSET_SECS;
        let sub_nanos = unix_nanos.rem_euclid(NANOS_PER_SEC) as u64;
        // Wrapping into the era is the point: keep the low 32 bits of the seconds.
        let era_secs = secs as u64 & 0xffff_ffff;
        let fraction = (sub_nanos << 32) / NANOS_PER_SEC as u64;
        Self(era_secs << 32 | fraction)
    }

    /// Nanoseconds from `earlier` to `self`, negative when `self` is before it; correct across
    /// era boundaries as long as the two are less than 68 years apart.
    pub fn nanos_since(self, earlier: Self) -> i64 {
        // Two's complement reading of the wrapped difference: RFC 5905 §6.
        let difference = self.0.wrapping_sub(earlier.0) as i64;
        fixed_32_32_to_nanos(difference)
    }

    /// Nanoseconds since the Unix epoch, in the era that puts the result closest to
    /// `pivot_unix_nanos` (for example the local time the packet was exchanged at).
    pub fn to_unix_nanos_near(self, pivot_unix_nanos: i64) -> i64 {
        let pivot = Self::from_unix_nanos(pivot_unix_nanos);
        pivot_unix_nanos.saturating_add(self.nanos_since(pivot))
    }
}

impl std::fmt::Debug for NtpTimestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NtpTimestamp({:#018x})", self.0)
    }
}

/// A 32-bit NTP short: 16 bits of seconds and 16 bits of fraction, used for root delay and
/// root dispersion.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug, Serialize, Deserialize)]
pub struct NtpShort(u32);

impl NtpShort {
    /// The short with these 32 bits as sent on the wire.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// The 32 bits as sent on the wire.
    pub const fn to_bits(self) -> u32 {
        self.0
    }

    /// The value in nanoseconds (at most 65536 s), rounded up so a bound built on it never
    /// shrinks.
    pub fn to_nanos(self) -> i64 {
        let scaled = u64::from(self.0) * NANOS_PER_SEC as u64;
        scaled.div_ceil(1 << 16) as i64
    }

    /// The short nearest above `nanos`, saturating at the format's range (0 to 65536 s).
    pub fn from_nanos(nanos: i64) -> Self {
        let clamped = nanos.clamp(0, 65_535 * NANOS_PER_SEC) as u64;
        let bits = (clamped << 16).div_ceil(NANOS_PER_SEC as u64);
        Self(u32::try_from(bits).unwrap_or(u32::MAX))
    }
}

/// A signed 32.32 fixed-point number of seconds as nanoseconds, truncated toward zero.
fn fixed_32_32_to_nanos(fixed: i64) -> i64 {
    let nanos = (i128::from(fixed) * i128::from(NANOS_PER_SEC)) >> 32;
    nanos as i64
}

/// 2^precision seconds (the packet's precision field) in nanoseconds, rounded up.
pub(crate) fn precision_to_nanos(log2_seconds: i8) -> i64 {
    match log2_seconds {
        p if p >= 31 => i64::MAX / 4,
        p if p >= 0 => NANOS_PER_SEC << p,
        p if p <= -31 => 1,
        p => (NANOS_PER_SEC >> -p).max(1) + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 2036-02-07T06:28:16Z, where NTP era 0 ends.
    const ERA_ROLLOVER_UNIX_SECS: i64 = (1 << 32) - NTP_UNIX_OFFSET_SECS;

    #[test]
    fn unix_epoch_is_ntp_second_2208988800() {
        let ts = NtpTimestamp::from_unix_nanos(0);
        assert_eq!(ts.to_bits() >> 32, 2_208_988_800);
        assert_eq!(ts.to_bits() & 0xffff_ffff, 0);
    }

    #[test]
    fn half_a_second_is_half_the_fraction() {
        let ts = NtpTimestamp::from_unix_nanos(500_000_000);
        assert_eq!(ts.to_bits() & 0xffff_ffff, 1 << 31);
    }

    #[test]
    fn era_rollover_wraps_to_zero_seconds() {
        let ts = NtpTimestamp::from_unix_nanos(ERA_ROLLOVER_UNIX_SECS * NANOS_PER_SEC);
        assert_eq!(ts.to_bits(), 0);
    }

    #[test]
    fn differences_across_the_2036_rollover_are_small() {
        let before =
            NtpTimestamp::from_unix_nanos(ERA_ROLLOVER_UNIX_SECS * NANOS_PER_SEC - 1_500_000_000);
        let after =
            NtpTimestamp::from_unix_nanos(ERA_ROLLOVER_UNIX_SECS * NANOS_PER_SEC + 500_000_000);
        assert!(after.to_bits() < before.to_bits(), "the raw bits wrap");
        let diff = after.nanos_since(before);
        assert!((diff - 2_000_000_000).abs() <= 1, "{diff}");
        assert!((before.nanos_since(after) + 2_000_000_000).abs() <= 1);
    }

    #[test]
    fn conversion_back_picks_the_era_of_the_pivot() {
        let after_rollover = ERA_ROLLOVER_UNIX_SECS * NANOS_PER_SEC + 7 * NANOS_PER_SEC;
        let ts = NtpTimestamp::from_unix_nanos(after_rollover);
        let back = ts.to_unix_nanos_near(after_rollover - 3_600 * NANOS_PER_SEC);
        assert!(
            (back - after_rollover).abs() <= 1,
            "{back} vs {after_rollover}"
        );
    }

    #[test]
    fn short_format_is_sixteen_dot_sixteen() {
        assert_eq!(NtpShort::from_bits(1 << 16).to_nanos(), NANOS_PER_SEC);
        assert_eq!(NtpShort::from_bits(1 << 15).to_nanos(), NANOS_PER_SEC / 2);
        assert_eq!(NtpShort::from_nanos(NANOS_PER_SEC).to_bits(), 1 << 16);
        assert_eq!(NtpShort::from_nanos(i64::MAX).to_bits(), 65_535 << 16);
        assert_eq!(NtpShort::from_nanos(-5).to_bits(), 0);
    }

    #[test]
    fn precision_is_a_power_of_two_seconds() {
        assert_eq!(precision_to_nanos(0), NANOS_PER_SEC);
        assert_eq!(precision_to_nanos(-1), NANOS_PER_SEC / 2 + 1);
        assert!(precision_to_nanos(-20) >= 953 && precision_to_nanos(-20) <= 955);
        assert_eq!(precision_to_nanos(-128), 1);
        assert!(precision_to_nanos(127) > 0);
    }

    proptest! {
        #[test]
        fn prop_unix_round_trip_within_a_nanosecond(
            unix in -2_000_000_000i64 * NANOS_PER_SEC..4_000_000_000i64 * NANOS_PER_SEC,
            pivot_shift in -1_000_000_000i64 * NANOS_PER_SEC..1_000_000_000i64 * NANOS_PER_SEC,
        ) {
            let ts = NtpTimestamp::from_unix_nanos(unix);
            let back = ts.to_unix_nanos_near(unix + pivot_shift);
            prop_assert!(back <= unix && unix - back <= 1, "{} -> {}", unix, back);
        }

        #[test]
        fn prop_differences_are_exact_within_an_era_span(
            a in 0i64..4_000_000_000i64 * NANOS_PER_SEC,
            delta in -60i64 * 365 * 86_400 * NANOS_PER_SEC..60i64 * 365 * 86_400 * NANOS_PER_SEC,
        ) {
            let (x, y) = (NtpTimestamp::from_unix_nanos(a + delta), NtpTimestamp::from_unix_nanos(a));
            prop_assert!((x.nanos_since(y) - delta).abs() <= 1);
        }

        #[test]
        fn prop_short_round_trip_never_shrinks(nanos in 0i64..65_535 * NANOS_PER_SEC) {
            let back = NtpShort::from_nanos(nanos).to_nanos();
            prop_assert!(back >= nanos && back - nanos <= 16_000);
        }
    }
}
