//! What both layers do with the clock: stamp outgoing messages, merge incoming ones.
//!
//! Kept apart from the services so that the rules (policies, refusal, extensions) are plain
//! functions of a clock and a header map.

use std::fmt;
use std::sync::Arc;

use hlc_core::health::{ClockHealth, HealthBoard, UnhealthyReason};
use hlc_core::{Hlc, NodeTimestamp, PhysicalClock, Timestamp};
use http::{Extensions, HeaderMap, HeaderValue};

use crate::extension::{MergedTimestamp, PeerTimestamp};
use crate::header::{self, HLC};
use crate::observer::{LayerObserver, Side};
use crate::policy::{HealthMode, Policy, UnsignedPolicy};
use crate::refusal::Refusal;
use crate::signature::{SignatureError, SigningKeys, HLC_SIGNATURE};

/// The clock of one layer, with its policies and observer.
pub(crate) struct Exchange<C> {
    pub(crate) hlc: Arc<Hlc<C>>,
    pub(crate) side: Side,
    pub(crate) on_missing: Policy,
    pub(crate) on_malformed: Policy,
    pub(crate) on_too_far_ahead: Policy,
    pub(crate) observer: Option<Arc<dyn LayerObserver>>,
    /// With keys, stamps are signed and a received stamp is merged only once verified.
    pub(crate) signing_keys: Option<SigningKeys>,
    pub(crate) on_unsigned: UnsignedPolicy,
    /// With a board, an unhealthy local clock refuses (or, observing only, reports) messages.
    pub(crate) health: Option<HealthBoard>,
    pub(crate) health_mode: HealthMode,
}

/// A message that may go on: the peer's stamp (when one was merged) and the receive stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Received {
    pub(crate) peer: Option<NodeTimestamp>,
    pub(crate) merged: Timestamp,
}

impl Received {
    pub(crate) fn insert_into(self, extensions: &mut Extensions) {
        if let Some(peer) = self.peer {
            extensions.insert(PeerTimestamp(peer));
        }
        extensions.insert(MergedTimestamp(self.merged));
    }
}

impl<C: PhysicalClock> Exchange<C> {
    /// Defaults: pass a missing header, refuse a malformed one or one too far ahead.
    pub(crate) fn new(hlc: Arc<Hlc<C>>, side: Side) -> Self {
        Self {
            hlc,
            side,
            on_missing: Policy::Pass,
            on_malformed: Policy::Refuse,
            on_too_far_ahead: Policy::Refuse,
            observer: None,
            signing_keys: None,
            on_unsigned: UnsignedPolicy::default(),
            health: None,
            health_mode: HealthMode::default(),
        }
    }

    /// Whether the local clock may serve and stamp: `Err` when a board is set, it reads
    /// unhealthy, and the mode enforces. One relaxed atomic load when a board is set, nothing
    /// otherwise.
    #[inline]
    pub(crate) fn check_health(&self) -> Result<(), UnhealthyReason> {
        let Some(board) = &self.health else {
            return Ok(());
        };
        match board.health() {
            ClockHealth::Healthy => Ok(()),
            ClockHealth::Unhealthy(reason) => self.untrusted(reason),
        }
    }

    #[cold]
    fn untrusted(&self, reason: UnhealthyReason) -> Result<(), UnhealthyReason> {
        let refusal = Refusal::ClockUntrusted(reason);
        match self.health_mode {
            HealthMode::Enforce => {
                if let Some(observer) = &self.observer {
                    observer.refused(self.side, &refusal);
                }
                Err(reason)
            }
            HealthMode::ObserveOnly => {
                if let Some(observer) = &self.observer {
                    observer.ignored(self.side, &refusal);
                }
                Ok(())
            }
        }
    }

    /// Stamps an outgoing message with a fresh `now()`, replacing any `hlc` header it had,
    /// and signs it (replacing any `hlc-signature`) when keys are set. Without keys the
    /// signature header is not touched, so a keyless layer costs what it did before signing.
    #[inline]
    pub(crate) fn stamp(&self, headers: &mut HeaderMap) -> NodeTimestamp {
        let stamp = self.hlc.now_with_node();
        let value = header::encode(stamp);
        if let Some(keys) = &self.signing_keys {
            headers.insert(HLC_SIGNATURE, keys.sign(value.as_bytes()));
        }
        headers.insert(HLC, value);
        if let Some(observer) = &self.observer {
            observer.stamped(self.side, stamp);
        }
        stamp
    }

    /// Merges an incoming message's header under the policies. On `Err` nothing was merged
    /// and the clock was not touched.
    #[inline]
    pub(crate) fn receive(&self, headers: &HeaderMap) -> Result<Received, Refusal> {
        self.receive_fields(
            || headers.get_all(HLC).iter().map(HeaderValue::as_bytes),
            || {
                headers
                    .get_all(HLC_SIGNATURE)
                    .iter()
                    .map(HeaderValue::as_bytes)
            },
        )
    }

    /// [`receive`](Self::receive) for any carrier of header fields (an HTTP header map, NATS
    /// headers): `hlc` lists the message's `hlc` fields, each time it is called, and
    /// `signatures` its `hlc-signature` fields.
    ///
    /// The signature is checked before the max offset: an unverified stamp says nothing
    /// about the peer's clock, so it must not reach the rule (or the observer) as if trusted.
    #[inline]
    pub(crate) fn receive_fields<'a, H, S>(
        &self,
        hlc: impl Fn() -> H,
        signatures: impl FnOnce() -> S,
    ) -> Result<Received, Refusal>
    where
        H: Iterator<Item = &'a [u8]>,
        S: Iterator<Item = &'a [u8]>,
    {
        match header::decode_fields(hlc()) {
            Ok(Some(peer)) => match self.authenticate(hlc().next(), signatures) {
                Ok(()) => self.merge(peer),
                Err(error) => self.unmerged(Refusal::Signature(error), self.unsigned_policy()),
            },
            Ok(None) => self.unmerged(Refusal::Missing, self.on_missing),
            Err(error) => self.unmerged(Refusal::Header(error), self.on_malformed),
        }
    }

    /// Verifies the signature over the one `hlc` value `decode_fields` accepted; passes
    /// without keys.
    #[inline]
    fn authenticate<'a, S: Iterator<Item = &'a [u8]>>(
        &self,
        hlc_value: Option<&[u8]>,
        signatures: impl FnOnce() -> S,
    ) -> Result<(), SignatureError> {
        let (Some(keys), Some(value)) = (&self.signing_keys, hlc_value) else {
            return Ok(());
        };
        keys.verify_fields(signatures(), value).map(drop)
    }

    fn unsigned_policy(&self) -> Policy {
        match self.on_unsigned {
            UnsignedPolicy::Refuse => Policy::Refuse,
            UnsignedPolicy::Ignore => Policy::Pass,
        }
    }

    #[inline]
    fn merge(&self, peer: NodeTimestamp) -> Result<Received, Refusal> {
        match self.hlc.update(peer.timestamp) {
            Ok(merged) => {
                if let Some(observer) = &self.observer {
                    let local = self.hlc.clock().now_micros();
                    observer.merged(self.side, peer, merged, local);
                }
                Ok(Received {
                    peer: Some(peer),
                    merged,
                })
            }
            Err(error) => {
                self.unmerged(Refusal::TooFarAhead { peer, error }, self.on_too_far_ahead)
            }
        }
    }

    /// A header that cannot be merged: refused, or let through with a local receive stamp.
    #[cold]
    fn unmerged(&self, refusal: Refusal, policy: Policy) -> Result<Received, Refusal> {
        let missing = matches!(refusal, Refusal::Missing);
        match policy {
            Policy::Refuse => {
                if let Some(observer) = &self.observer {
                    observer.refused(self.side, &refusal);
                }
                Err(refusal)
            }
            Policy::Pass => {
                if let (Some(observer), false) = (&self.observer, missing) {
                    observer.ignored(self.side, &refusal);
                }
                Ok(Received {
                    peer: None,
                    merged: self.hlc.now(),
                })
            }
        }
    }
}

// Manual impls: deriving would demand `C: Clone` and `C: Debug` for an `Arc<Hlc<C>>`.
impl<C> Clone for Exchange<C> {
    fn clone(&self) -> Self {
        Self {
            hlc: Arc::clone(&self.hlc),
            side: self.side,
            on_missing: self.on_missing,
            on_malformed: self.on_malformed,
            on_too_far_ahead: self.on_too_far_ahead,
            observer: self.observer.clone(),
            signing_keys: self.signing_keys.clone(),
            on_unsigned: self.on_unsigned,
            health: self.health.clone(),
            health_mode: self.health_mode,
        }
    }
}

impl<C> fmt::Debug for Exchange<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("hlc", &self.hlc)
            .field("side", &self.side)
            .field("on_missing", &self.on_missing)
            .field("on_malformed", &self.on_malformed)
            .field("on_too_far_ahead", &self.on_too_far_ahead)
            .field("observer", &self.observer.is_some())
            .field("signing_keys", &self.signing_keys)
            .field("on_unsigned", &self.on_unsigned)
            .field("health", &self.health)
            .field("health_mode", &self.health_mode)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlc_core::{ManualClock, NodeId};
    use std::time::Duration;

    const START: u64 = 1_700_000_000_000_000;

    fn exchange() -> (Exchange<ManualClock>, ManualClock) {
        let clock = ManualClock::new(START);
        let hlc = Hlc::builder()
            .clock(clock.clone())
            .node_id(NodeId::new(1))
            .build()
            .unwrap();
        (Exchange::new(Arc::new(hlc), Side::Server), clock)
    }

    fn with_header(stamp: NodeTimestamp) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HLC, header::encode(stamp));
        headers
    }

    #[test]
    fn a_merged_stamp_exceeds_the_peer_and_fills_both_extensions() {
        let (exchange, _) = exchange();
        let peer = NodeTimestamp::new(Timestamp::from_physical_micros(START + 10), NodeId::new(2));
        let received = exchange.receive(&with_header(peer)).unwrap();
        assert!(received.merged > peer.timestamp);
        let mut extensions = Extensions::new();
        received.insert_into(&mut extensions);
        assert_eq!(extensions.get(), Some(&PeerTimestamp(peer)));
        assert_eq!(extensions.get(), Some(&MergedTimestamp(received.merged)));
    }

    #[test]
    fn policies_decide_missing_and_malformed_headers() {
        let (mut exchange, _) = exchange();
        let missing = exchange.receive(&HeaderMap::new()).unwrap();
        assert_eq!(missing.peer, None);
        exchange.on_missing = Policy::Refuse;
        assert_eq!(exchange.receive(&HeaderMap::new()), Err(Refusal::Missing));
        let mut garbled = HeaderMap::new();
        garbled.insert(HLC, HeaderValue::from_static("00-nope"));
        assert!(matches!(
            exchange.receive(&garbled),
            Err(Refusal::Header(_))
        ));
        exchange.on_malformed = Policy::Pass;
        assert_eq!(exchange.receive(&garbled).unwrap().peer, None);
    }

    #[test]
    fn a_refusal_leaves_the_clock_untouched() {
        let (exchange, clock) = exchange();
        let before = exchange.hlc.now();
        let ahead = START + 500_001;
        let peer = NodeTimestamp::new(Timestamp::from_physical_micros(ahead), NodeId::new(2));
        let refusal = exchange.receive(&with_header(peer)).unwrap_err();
        assert!(matches!(refusal, Refusal::TooFarAhead { .. }));
        assert_eq!(exchange.hlc.last(), before);
        clock.advance(Duration::from_micros(1));
        assert!(exchange.receive(&with_header(peer)).is_ok());
    }

    #[test]
    fn debug_output_shows_the_side_and_each_policy() {
        let (mut exchange, _) = exchange();
        exchange.on_too_far_ahead = Policy::Pass;
        let printed = format!("{exchange:?}");
        for field in [
            "side: Server",
            "on_missing: Pass",
            "on_malformed: Refuse",
            "on_too_far_ahead: Pass",
            "observer: false",
        ] {
            assert!(printed.contains(field), "{field} not in {printed}");
        }
    }
}
