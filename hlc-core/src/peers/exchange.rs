//! One ping exchange, and the offset and uncertainty it measures.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::NodeId;

/// One ping to a peer and its answer: two readings of this node's physical clock around one
/// reading of the peer's, all in microseconds since the Unix epoch (what
/// [`PhysicalClock::now_micros`](crate::PhysicalClock::now_micros) returns).
///
/// The readings are physical clocks, never HLC stamps: a stamp's physical part may run ahead
/// of its node's clock after merges, and would hide the very offset this measures.
///
/// ```
/// use hlc_core::peers::PingExchange;
/// use hlc_core::NodeId;
///
/// // Sent at 1_000, answered at 1_300 by a peer whose clock read 1_650 in between.
/// let exchange = PingExchange {
///     peer: NodeId::new(2),
///     sent_local: 1_000,
///     received_local: 1_300,
///     peer_physical: 1_650,
/// };
/// let m = exchange.measure()?;
/// assert_eq!((m.offset_us, m.uncertainty_us, m.rtt_us), (500, 150, 300));
/// # Ok::<(), hlc_core::peers::ExchangeError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PingExchange {
    /// The peer that answered.
    pub peer: NodeId,
    /// This node's physical clock when the ping was sent.
    pub sent_local: u64,
    /// This node's physical clock when the answer arrived.
    pub received_local: u64,
    /// The peer's physical clock, read while it answered.
    pub peer_physical: u64,
}

/// What one exchange measures about a peer's clock relative to this node's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Measurement {
    /// The peer's clock minus this node's, in µs: positive when the peer runs ahead.
    pub offset_us: i64,
    /// How far the true offset may be from `offset_us`, in µs: half the round trip.
    pub uncertainty_us: u64,
    /// The round trip, in µs.
    pub rtt_us: u64,
}

/// Why an exchange measures nothing. The monitor is left unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// The answer arrived before the ping was sent by this node's clock: the clock stepped
    /// back in between, so the round trip is unknown.
    #[error("answer from {peer} received at {received} µs, before the ping was sent at {sent} µs")]
    ReceivedBeforeSent {
        /// The peer.
        peer: NodeId,
        /// When the ping was sent.
        sent: u64,
        /// When the answer arrived.
        received: u64,
    },
}

impl PingExchange {
    /// The offset and its uncertainty.
    ///
    /// The peer read its clock at some instant between sending and receiving, so the true
    /// offset lies within half the round trip of the peer's reading minus the midpoint
    /// (Cristian, "Probabilistic clock synchronization", Distributed Computing 3, 1989). The
    /// midpoint is rounded down and the uncertainty up, so that `offset_us ± uncertainty_us`
    /// covers every offset the exchange allows.
    ///
    /// # Errors
    ///
    /// [`ExchangeError::ReceivedBeforeSent`] when `received_local < sent_local`.
    pub fn measure(&self) -> Result<Measurement, ExchangeError> {
        let Some(rtt) = self.received_local.checked_sub(self.sent_local) else {
            return Err(ExchangeError::ReceivedBeforeSent {
                peer: self.peer,
                sent: self.sent_local,
                received: self.received_local,
            });
        };
        let midpoint = self.sent_local + rtt / 2;
        let offset = i128::from(self.peer_physical) - i128::from(midpoint);
        Ok(Measurement {
            // Only a peer reading centuries away from ours saturates; it is far either way.
            offset_us: offset.clamp(i64::MIN.into(), i64::MAX.into()) as i64,
            uncertainty_us: rtt.div_ceil(2),
            rtt_us: rtt,
        })
    }
}

impl Measurement {
    /// How far beyond its uncertainty the offset lies, in µs: `|offset| − uncertainty`, or 0
    /// when the uncertainty covers the whole offset.
    pub const fn certain_offset_us(&self) -> u64 {
        self.offset_us
            .unsigned_abs()
            .saturating_sub(self.uncertainty_us)
    }
}

impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "offset {} µs ± {} µs (round trip {} µs)",
            self.offset_us, self.uncertainty_us, self.rtt_us
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn exchange(sent: u64, received: u64, peer: u64) -> PingExchange {
        PingExchange {
            peer: NodeId::new(9),
            sent_local: sent,
            received_local: received,
            peer_physical: peer,
        }
    }

    #[test]
    fn an_odd_round_trip_rounds_the_uncertainty_up() {
        let m = exchange(1_000, 1_003, 1_001).measure().unwrap();
        assert_eq!((m.offset_us, m.uncertainty_us, m.rtt_us), (0, 2, 3));
        assert_eq!(m.to_string(), "offset 0 µs ± 2 µs (round trip 3 µs)");
    }

    #[test]
    fn a_peer_behind_has_a_negative_offset() {
        let m = exchange(10_000, 10_200, 9_000).measure().unwrap();
        assert_eq!(m.offset_us, -1_100);
        assert_eq!(m.certain_offset_us(), 1_000);
    }

    #[test]
    fn an_answer_before_the_ping_is_an_error() {
        let err = exchange(2_000, 1_999, 5).measure().unwrap_err();
        assert_eq!(
            err.to_string(),
            "answer from 0000000000000009 received at 1999 µs, before the ping was sent at 2000 µs"
        );
    }

    #[test]
    fn extreme_readings_saturate_rather_than_panic() {
        let m = exchange(0, u64::MAX, 0).measure().unwrap();
        assert_eq!(m.uncertainty_us, u64::MAX.div_ceil(2));
        assert_eq!(m.certain_offset_us(), 0);
        let far = exchange(u64::MAX, u64::MAX, 0).measure().unwrap();
        assert_eq!(far.offset_us, i64::MIN);
    }

    proptest! {
        /// Whenever within the round trip the peer read its clock, the interval covers the
        /// true offset.
        #[test]
        fn the_interval_covers_the_true_offset(
            sent in 0u64..1 << 50,
            rtt in 0u64..10_000_000,
            read_at in 0.0f64..=1.0,
            true_offset in -10_000_000i64..10_000_000,
        ) {
            let at = sent + (rtt as f64 * read_at) as u64;
            let peer = at.checked_add_signed(true_offset).unwrap_or(0);
            prop_assume!(peer > 0);
            let m = exchange(sent, sent + rtt, peer).measure().unwrap();
            let error = m.offset_us.abs_diff(true_offset);
            prop_assert!(error <= m.uncertainty_us, "{m} vs {true_offset}");
        }
    }
}
