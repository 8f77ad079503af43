//! [`ClockHealth`] packed into one `u64`, so that the request path reads it with one atomic
//! load, and packed so that integer order is severity order (worst = `max`).
//!
//! Layout, from the most significant bit: a 4-bit tag (the severity rank), then 60 bits of
//! payload laid out in the order of the fields' comparison:
//!
//! - `RadiusTooLarge`: radius, then limit, 30 bits of microseconds each, saturating.
//! - `Fenced`: far (16 bits), fresh (16 bits), then the offset in milliseconds in 28 bits,
//!   biased by 2²⁷ so that unsigned order is signed order, saturating.

use std::time::Duration;

use super::{ClockHealth, UnhealthyReason};

const TAG_SHIFT: u32 = 60;
const HEALTHY: u64 = 0;
const RADIUS: u64 = 1;
const UNSYNCHRONISED: u64 = 2;
const DISRUPTED: u64 = 3;
const FENCED: u64 = 4;

const DURATION_BITS: u32 = 30;
pub(super) const MAX_MICROS: u64 = (1 << DURATION_BITS) - 1;
const OFFSET_BITS: u32 = 28;
const OFFSET_BIAS: i64 = 1 << (OFFSET_BITS - 1);
pub(super) const MAX_OFFSET_MS: i32 = (1 << (OFFSET_BITS - 1)) - 1;

/// `health` as one word; durations and offsets beyond their fields saturate.
pub(super) fn pack(health: ClockHealth) -> u64 {
    let Some(reason) = health.reason() else {
        return HEALTHY << TAG_SHIFT;
    };
    match reason {
        UnhealthyReason::RadiusTooLarge { radius, limit } => {
            (RADIUS << TAG_SHIFT) | (micros(radius) << DURATION_BITS) | micros(limit)
        }
        UnhealthyReason::Unsynchronised => UNSYNCHRONISED << TAG_SHIFT,
        UnhealthyReason::Disrupted => DISRUPTED << TAG_SHIFT,
        UnhealthyReason::Fenced {
            far,
            fresh,
            offset_ms,
        } => {
            let offset = i64::from(offset_ms.clamp(-MAX_OFFSET_MS, MAX_OFFSET_MS));
            // In range by the clamp: bias + offset lies in [1, 2^28 - 1].
            let biased = (OFFSET_BIAS + offset) as u64;
            (FENCED << TAG_SHIFT)
                | (u64::from(far) << (OFFSET_BITS + 16))
                | (u64::from(fresh) << OFFSET_BITS)
                | biased
        }
    }
}

/// The health a word from [`pack`] stands for.
pub(super) fn unpack(word: u64) -> ClockHealth {
    let reason = match word >> TAG_SHIFT {
        HEALTHY => return ClockHealth::Healthy,
        RADIUS => UnhealthyReason::RadiusTooLarge {
            radius: Duration::from_micros((word >> DURATION_BITS) & MAX_MICROS),
            limit: Duration::from_micros(word & MAX_MICROS),
        },
        DISRUPTED => UnhealthyReason::Disrupted,
        FENCED => {
            let field = |shift: u32| ((word >> shift) & 0xffff) as u16;
            let biased = (word & ((1 << OFFSET_BITS) - 1)) as i64;
            UnhealthyReason::Fenced {
                far: field(OFFSET_BITS + 16),
                fresh: field(OFFSET_BITS),
                // Within ±(2^27 - 1) by construction, so it fits an i32.
                offset_ms: (biased - OFFSET_BIAS) as i32,
            }
        }
        // `pack` writes no other tag; a word it did not write knows nothing.
        _ => UnhealthyReason::Unsynchronised,
    };
    ClockHealth::Unhealthy(reason)
}

/// Whole microseconds, rounded up so that a non-zero radius never packs to zero; saturating.
fn micros(d: Duration) -> u64 {
    let whole = d.as_nanos().div_ceil(1_000);
    u64::try_from(whole).unwrap_or(u64::MAX).min(MAX_MICROS)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn any_health() -> impl Strategy<Value = ClockHealth> {
        let micros = 0..=MAX_MICROS;
        prop_oneof![
            Just(ClockHealth::Healthy),
            (micros.clone(), micros).prop_map(|(r, l)| UnhealthyReason::RadiusTooLarge {
                radius: Duration::from_micros(r),
                limit: Duration::from_micros(l),
            }
            .into()),
            Just(UnhealthyReason::Unsynchronised.into()),
            Just(UnhealthyReason::Disrupted.into()),
            (any::<u16>(), any::<u16>(), -MAX_OFFSET_MS..=MAX_OFFSET_MS).prop_map(
                |(far, fresh, offset_ms)| UnhealthyReason::Fenced {
                    far,
                    fresh,
                    offset_ms
                }
                .into()
            ),
        ]
    }

    proptest! {
        #[test]
        fn round_trips_in_range(health in any_health()) {
            prop_assert_eq!(unpack(pack(health)), health);
        }

        #[test]
        fn integer_order_is_severity_order(a in any_health(), b in any_health()) {
            prop_assert_eq!(pack(a).cmp(&pack(b)), a.cmp(&b));
        }
    }

    #[test]
    fn out_of_range_values_saturate_and_stay_unhealthy() {
        let huge = UnhealthyReason::RadiusTooLarge {
            radius: Duration::from_secs(3600),
            limit: Duration::from_nanos(1),
        };
        let back = UnhealthyReason::RadiusTooLarge {
            radius: Duration::from_micros(MAX_MICROS),
            limit: Duration::from_micros(1),
        };
        assert_eq!(unpack(pack(huge.into())), back.into());
        for offset_ms in [i32::MIN, i32::MAX] {
            let fenced = UnhealthyReason::Fenced {
                far: 3,
                fresh: 4,
                offset_ms,
            };
            let ClockHealth::Unhealthy(UnhealthyReason::Fenced { offset_ms: got, .. }) =
                unpack(pack(fenced.into()))
            else {
                panic!("not fenced");
            };
            assert_eq!(got, offset_ms.signum() * MAX_OFFSET_MS);
        }
    }

    #[test]
    fn a_word_with_an_unknown_tag_reads_as_unsynchronised() {
        assert_eq!(unpack(u64::MAX), UnhealthyReason::Unsynchronised.into());
    }
}
