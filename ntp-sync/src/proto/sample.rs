//! One measurement of the local clock against a server: offset, delay and a worst-case radius.
//!
//! With t1 (request sent, local clock), t2 (request received, server clock), t3 (response
//! sent, server clock) and t4 (response received, local clock), RFC 5905 §8 gives the offset
//! θ = ((t2 − t1) + (t3 − t4)) / 2 and the round-trip delay δ = (t4 − t1) − (t3 − t2).
//! Whatever the split of δ between the two directions, the server's clock at the moment it
//! answered differs from θ by at most δ/2; the server's clock in turn is within its root
//! distance (root delay / 2 + root dispersion) of true time. So the true offset of the local
//! clock lies in θ ± radius with
//!
//! radius = δ/2 + root delay/2 + root dispersion + both clocks' precision + drift during δ
//!          + how far t1 or t4 may be off (kernel timestamps carried onto the local clock,
//!            [`kernel_stamp`](crate::proto::kernel_stamp)),
//!
//! and the radius grows with the sample's age at the drift bound (RFC 5905's PHI), because the
//! local clock may run fast or slow by that much since.

use serde::{Deserialize, Serialize};

use crate::proto::packet::Packet;
use crate::proto::timestamp::{precision_to_nanos, NtpTimestamp};
use crate::proto::validate::root_distance_nanos;

/// RFC 5905's PHI, in ppb: the frequency tolerance assumed of an undisciplined oscillator.
pub const DEFAULT_DRIFT_BOUND_PPB: i64 = 15_000;

/// How fast the radius of an estimate grows: `age * drift_ppb / 10^9`, rounded up. The
/// product is taken in 128 bits: in 64 it would saturate after a week at RFC 5905's PHI.
pub(crate) fn drift_growth(age_nanos: i64, drift_ppb: i64) -> i64 {
    let product = i128::from(age_nanos.max(0)) * i128::from(drift_ppb.max(0));
    i64::try_from(product / 1_000_000_000 + 1).unwrap_or(i64::MAX)
}

/// `(a + b) / 2`, within half a nanosecond, without the sum overflowing: RFC 5905 §8's
/// offset θ = ((T2 − T1) + (T3 − T4)) / 2 on two differences each near the i64 range when the
/// clocks are 68 years apart.
fn half_sum(a: i64, b: i64) -> i64 {
    a / 2 + b / 2 + (a % 2 + b % 2) / 2
}

/// One offset measurement against one server.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Sample {
    /// θ: how far true time (per the server) is ahead of the local clock, in nanoseconds.
    pub offset_nanos: i64,
    /// δ: the round-trip delay, clamped at zero, in nanoseconds.
    pub delay_nanos: i64,
    /// The radius of the interval around θ that holds the true offset, at `taken_at_nanos`.
    pub radius_nanos: i64,
    /// Local time (nanoseconds since the Unix epoch on the local clock) of the response.
    pub taken_at_nanos: i64,
    /// The server's stratum.
    pub stratum: u8,
}

/// The local side of one exchange: when the request left and the response arrived, on the
/// local clock, in nanoseconds since the Unix epoch. Measure `received - sent` on a monotonic
/// clock so a step of the wall clock during the exchange cannot distort the delay.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LocalTimes {
    /// t1.
    pub sent_nanos: i64,
    /// t4.
    pub received_nanos: i64,
}

/// Parameters that turn an exchange into a sample.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SampleParams {
    /// The drift bound in parts per billion (default [`DEFAULT_DRIFT_BOUND_PPB`]).
    pub drift_ppb: i64,
    /// The resolution of the local clock in nanoseconds (1 µs for a microsecond clock).
    pub local_precision_nanos: i64,
    /// How far t1 or t4 may be from the local clock's reading when the request left or the
    /// response arrived, beyond its resolution: 0 for readings taken around the send and the
    /// receive (early and late, never the other way round), else the larger
    /// [`error_nanos`](crate::proto::kernel_stamp::MappedStamp::error_nanos) of the kernel
    /// timestamps carried onto the local clock. t1 off by e moves the interval's upper end
    /// by at most e, t4 its lower end, so the larger error covers both.
    pub timestamp_error_nanos: i64,
}

impl Default for SampleParams {
    fn default() -> Self {
        Self {
            drift_ppb: DEFAULT_DRIFT_BOUND_PPB,
            local_precision_nanos: 1_000,
            timestamp_error_nanos: 0,
        }
    }
}

impl Sample {
    /// The sample from a validated response and the local times of its exchange.
    pub fn from_exchange(local: LocalTimes, response: &Packet, params: &SampleParams) -> Self {
        let t1 = NtpTimestamp::from_unix_nanos(local.sent_nanos);
        let t4 = NtpTimestamp::from_unix_nanos(local.received_nanos);
        let outbound = response.receive.nanos_since(t1);
        let inbound = response.transmit.nanos_since(t4);
        let round_trip = local.received_nanos.saturating_sub(local.sent_nanos);
        let server_hold = response.transmit.nanos_since(response.receive);
        // RFC 5905 §8: a negative delay (server hold longer than the round trip) is clamped.
        let delay = round_trip.saturating_sub(server_hold).max(0);
        let radius = (delay / 2 + 1)
            .saturating_add(root_distance_nanos(response))
            .saturating_add(precision_to_nanos(response.precision))
            .saturating_add(params.local_precision_nanos)
            .saturating_add(params.timestamp_error_nanos.max(0))
            .saturating_add(drift_growth(round_trip, params.drift_ppb));
        Self {
            offset_nanos: half_sum(outbound, inbound),
            delay_nanos: delay,
            radius_nanos: radius,
            taken_at_nanos: local.received_nanos,
            stratum: response.stratum,
        }
    }

    /// The radius at local time `now_nanos`, grown by the drift bound since the sample.
    pub fn radius_at(&self, now_nanos: i64, drift_ppb: i64) -> i64 {
        let age = now_nanos.saturating_sub(self.taken_at_nanos);
        self.radius_nanos
            .saturating_add(drift_growth(age, drift_ppb))
    }

    /// The interval of true offsets `(low, high)` at local time `now_nanos`.
    pub fn interval_at(&self, now_nanos: i64, drift_ppb: i64) -> (i64, i64) {
        let radius = self.radius_at(now_nanos, drift_ppb);
        (
            self.offset_nanos.saturating_sub(radius),
            self.offset_nanos.saturating_add(radius),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::packet::{LeapIndicator, MODE_SERVER};
    use crate::proto::timestamp::NtpShort;
    use proptest::prelude::*;

    const SECOND: i64 = 1_000_000_000;
    const MS: i64 = 1_000_000;

    fn response(t2: i64, t3: i64) -> Packet {
        Packet {
            leap: LeapIndicator::NoWarning,
            version: 4,
            mode: MODE_SERVER,
            stratum: 2,
            poll: 4,
            precision: -30,
            root_delay: NtpShort::from_nanos(0),
            root_dispersion: NtpShort::from_nanos(0),
            reference_id: [0; 4],
            reference: NtpTimestamp::ZERO,
            origin: NtpTimestamp::ZERO,
            receive: NtpTimestamp::from_unix_nanos(t2),
            transmit: NtpTimestamp::from_unix_nanos(t3),
        }
    }

    fn exchange(t1: i64, t2: i64, t3: i64, t4: i64) -> Sample {
        let local = LocalTimes {
            sent_nanos: t1,
            received_nanos: t4,
        };
        Sample::from_exchange(local, &response(t2, t3), &SampleParams::default())
    }

    #[test]
    fn symmetric_paths_give_the_exact_offset() {
        let base = 1_700_000_000 * SECOND;
        // Server 3 s ahead, 10 ms each way, 1 ms hold.
        let s = exchange(
            base,
            base + 3 * SECOND + 10 * MS,
            base + 3 * SECOND + 11 * MS,
            base + 21 * MS,
        );
        assert!((s.offset_nanos - 3 * SECOND).abs() <= 2, "{s:?}");
        assert!((s.delay_nanos - 20 * MS).abs() <= 2);
        assert!(s.radius_nanos >= 10 * MS && s.radius_nanos < 10 * MS + 10_000);
    }

    #[test]
    fn asymmetric_paths_stay_within_the_radius() {
        let base = 1_700_000_000 * SECOND;
        // True offset -2 s; 1 ms out, 39 ms back.
        let s = exchange(
            base,
            base - 2 * SECOND + MS,
            base - 2 * SECOND + MS,
            base + 40 * MS,
        );
        let (low, high) = s.interval_at(s.taken_at_nanos, DEFAULT_DRIFT_BOUND_PPB);
        assert!(low <= -2 * SECOND && -2 * SECOND <= high, "{s:?}");
        assert!((s.offset_nanos - (-2 * SECOND - 19 * MS)).abs() <= 2);
    }

    #[test]
    fn exchanges_across_the_2036_rollover_measure_correctly() {
        let rollover = ((1i64 << 32) - crate::proto::timestamp::NTP_UNIX_OFFSET_SECS) * SECOND;
        // The client is 500 ms behind, its request leaves just before the wrap.
        let t1 = rollover - 600 * MS;
        let s = exchange(t1, t1 + 505 * MS, t1 + 506 * MS, t1 + 11 * MS);
        assert!((s.offset_nanos - 500 * MS).abs() <= 2, "{s:?}");
        assert!((s.delay_nanos - 10 * MS).abs() <= 2);
    }

    #[test]
    fn negative_delay_is_clamped_to_zero() {
        let base = 1_700_000_000 * SECOND;
        let s = exchange(base, base, base + 50 * MS, base + 10 * MS);
        assert_eq!(s.delay_nanos, 0);
        assert!(s.radius_nanos > 0);
    }

    #[test]
    fn root_distance_and_precision_widen_the_radius() {
        let base = 1_700_000_000 * SECOND;
        let mut packet = response(base + 5 * MS, base + 5 * MS);
        packet.root_delay = NtpShort::from_nanos(4 * MS);
        packet.root_dispersion = NtpShort::from_nanos(3 * MS);
        packet.precision = -10; // about 1 ms
        let local = LocalTimes {
            sent_nanos: base,
            received_nanos: base + 10 * MS,
        };
        let s = Sample::from_exchange(local, &packet, &SampleParams::default());
        let expected = 5 * MS + 2 * MS + 3 * MS + SECOND / 1024;
        // Each short rounds up by at most 2^-16 s.
        assert!(
            s.radius_nanos >= expected && s.radius_nanos < expected + 40_000,
            "{s:?}"
        );
    }

    #[test]
    fn timestamp_errors_widen_the_radius_and_leave_the_offset() {
        let base = 1_700_000_000 * SECOND;
        let local = LocalTimes {
            sent_nanos: base,
            received_nanos: base + 10 * MS,
        };
        let packet = response(base + 5 * MS, base + 5 * MS);
        let exact = Sample::from_exchange(local, &packet, &SampleParams::default());
        let params = SampleParams {
            timestamp_error_nanos: 7_000,
            ..SampleParams::default()
        };
        let stamped = Sample::from_exchange(local, &packet, &params);
        assert_eq!(stamped.radius_nanos - exact.radius_nanos, 7_000);
        assert_eq!(stamped.offset_nanos, exact.offset_nanos);
    }

    #[test]
    fn radius_grows_at_the_drift_bound() {
        let base = 1_700_000_000 * SECOND;
        let s = exchange(base, base, base, base);
        let later = s.radius_at(base + 1_000 * SECOND, DEFAULT_DRIFT_BOUND_PPB);
        assert_eq!(later - s.radius_nanos, 15 * MS + 1);
        assert_eq!(s.radius_at(base + 1_000 * SECOND, 0) - s.radius_nanos, 1);
    }

    #[test]
    fn drift_growth_keeps_growing_past_a_week() {
        // 30 days at 15 ppm: 38.88 s (a 64-bit product saturated near 9.2 s).
        let month = 30 * 86_400 * SECOND;
        assert_eq!(drift_growth(month, DEFAULT_DRIFT_BOUND_PPB), 38_880_000_001);
        assert_eq!(drift_growth(i64::MAX, 500_000), i64::MAX / 2_000 + 1);
        assert_eq!(drift_growth(-SECOND, DEFAULT_DRIFT_BOUND_PPB), 1);
    }

    #[test]
    fn half_sum_is_within_half_a_nanosecond_and_never_overflows() {
        let edges = [
            i64::MIN,
            i64::MIN + 1,
            -3,
            -2,
            -1,
            0,
            1,
            2,
            3,
            i64::MAX - 1,
            i64::MAX,
        ];
        for a in edges {
            for b in edges {
                let twice = 2 * i128::from(half_sum(a, b));
                let sum = i128::from(a) + i128::from(b);
                assert!((twice - sum).abs() <= 1, "{a} {b}: {}", half_sum(a, b));
            }
        }
    }

    proptest! {
        #[test]
        fn prop_truth_is_always_inside_the_interval(
            true_offset in -100 * SECOND..100 * SECOND,
            out_delay in 0i64..200 * MS,
            back_delay in 0i64..200 * MS,
            hold in 0i64..5 * MS,
        ) {
            let t1 = 1_700_000_000 * SECOND;
            let t2 = t1 + true_offset + out_delay;
            let t3 = t2 + hold;
            let t4 = t3 - true_offset + back_delay;
            let s = exchange(t1, t2, t3, t4);
            let (low, high) = s.interval_at(t4, DEFAULT_DRIFT_BOUND_PPB);
            prop_assert!(low <= true_offset && true_offset <= high, "{:?} {}", s, true_offset);
        }

        /// The radius with nothing but the path in it (a perfect server, no local precision,
        /// no drift, all the delay on one side, the offset halved towards zero) still holds
        /// the truth.
        #[test]
        fn prop_a_radius_of_the_path_alone_holds_the_truth(
            true_offset in -100 * SECOND..100 * SECOND,
            delay in 0i64..1_000,
            outbound in any::<bool>(),
        ) {
            let t1 = 1_700_000_000 * SECOND;
            let (out_delay, back_delay) = if outbound { (delay, 0) } else { (0, delay) };
            let t2 = t1 + true_offset + out_delay;
            let t4 = t2 - true_offset + back_delay;
            let mut packet = response(t2, t2);
            packet.precision = -32;
            let local = LocalTimes { sent_nanos: t1, received_nanos: t4 };
            let exact = SampleParams { drift_ppb: 0, local_precision_nanos: 0, timestamp_error_nanos: 0 };
            let s = Sample::from_exchange(local, &packet, &exact);
            let (low, high) = s.interval_at(t4, 0);
            prop_assert!(low <= true_offset && true_offset <= high, "{:?} {}", s, true_offset);
        }
    }
}
