//! NATS: [`HlcNats`] stamps the headers of messages published with `async-nats` and merges
//! the stamps of messages received, under the rules of the HTTP layers.
//!
//! A message carries the `hlc` header of [`header`](crate::header) (`HEADER.md`) as a NATS
//! header (the `NATS/1.0` header block), with `hlc-signature` beside it once
//! [signing keys](crate::signature) are set. NATS header names are case-sensitive (NATS
//! ADR-4), so both names are written, and read, in lowercase exactly. `HEADER.md` (section
//! "Message brokers") specifies this for any client, and the same header on Kafka.
//!
//! ```
//! use std::sync::Arc;
//! use hlc_core::Hlc;
//! use hlc_middleware::nats::HlcNats;
//!
//! let (publisher, subscriber) = (HlcNats::new(Arc::new(Hlc::new())), HlcNats::new(Arc::new(Hlc::new())));
//! let mut headers = async_nats::HeaderMap::new();
//! let sent = publisher.stamp(&mut headers)?; // a send event
//! // client.publish_with_headers("orders.paid", headers, payload).await?, and on the other side
//! // subscriber.receive_message(&message)?, or with the headers alone:
//! let receipt = subscriber.receive(Some(&headers))?;
//! assert_eq!(receipt.peer, Some(sent));
//! assert!(receipt.merged > sent.timestamp); // handled after it was sent
//! # Ok::<(), hlc_middleware::Refusal>(())
//! ```
//!
//! # Refusals
//!
//! [`HlcNats::receive`] refuses what the server layer refuses, through the same code: a stamp
//! more than max offset ahead of the local clock ([`Refusal::TooFarAhead`], naming both
//! times and the bound), a malformed or repeated `hlc` header ([`Refusal::Header`]), and
//! with keys an unsigned or badly signed stamp when the policy says so. A refused stamp is
//! not merged and the clock is left as it was. What to do with the message is the caller's
//! choice: with JetStream, leave it unacknowledged (or `nak` it with a delay) to have it
//! redelivered, since a stamp too far ahead is accepted once the local clock has come within
//! max offset of it; a malformed one never will be.
//!
//! Every party to NATS is a client of its server: [`HlcNats::from_layer`] takes its
//! policies, keys, health board and observer from an [`HlcClientLayer`], and reports to the
//! observer as [`Side::Client`](crate::Side::Client). With a health board, an unhealthy
//! local clock neither stamps nor merges: both calls return [`Refusal::ClockUntrusted`].

use std::fmt;
use std::sync::Arc;

use async_nats::{HeaderMap, HeaderName, Message};
use hlc_core::{Hlc, NodeTimestamp, PhysicalClock, SystemClock, Timestamp};

use crate::client::HlcClientLayer;
use crate::exchange::Exchange;
use crate::refusal::Refusal;

/// The NATS header holding the stamp: [`header::HLC`](crate::header::HLC), `hlc`.
pub const HLC_HEADER: HeaderName = HeaderName::from_static("hlc");
/// The NATS header holding the stamp's signature:
/// [`signature::HLC_SIGNATURE`](crate::signature::HLC_SIGNATURE), `hlc-signature`.
pub const HLC_SIGNATURE_HEADER: HeaderName = HeaderName::from_static("hlc-signature");

/// Stamps outgoing NATS messages and merges incoming ones into one clock. Cheap to clone.
pub struct HlcNats<C = SystemClock> {
    exchange: Arc<Exchange<C>>,
}

/// What [`HlcNats::receive`] made of a message that may be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The sender's stamp, when it was merged; `None` when the message carried none, or when
    /// a [`Policy::Pass`](crate::Policy::Pass) let an unusable one through unmerged.
    pub peer: Option<NodeTimestamp>,
    /// The receive event's stamp: after the sender's, so handling the message is ordered
    /// after sending it.
    pub merged: Timestamp,
}

impl<C: PhysicalClock> HlcNats<C> {
    /// Stamps from and merges into `hlc`, with the defaults of [`HlcClientLayer::new`]: a
    /// message without a stamp passes, a malformed one or one too far ahead is refused.
    pub fn new(hlc: Arc<Hlc<C>>) -> Self {
        Self::from_layer(&HlcClientLayer::new(hlc))
    }

    /// With the clock, policies, signing keys, health board and observer of a configured
    /// client layer.
    pub fn from_layer(layer: &HlcClientLayer<C>) -> Self {
        Self {
            exchange: layer.exchange(),
        }
    }

    /// The clock it stamps from and merges into.
    pub fn hlc(&self) -> &Arc<Hlc<C>> {
        &self.exchange.hlc
    }

    /// Stamps a message to publish (a send event), replacing any `hlc` header, and signs the
    /// stamp when keys are set; returns the stamp.
    ///
    /// # Errors
    /// [`Refusal::ClockUntrusted`] while a health board says the local clock is unhealthy:
    /// nothing is stamped, and the message should not be sent.
    pub fn stamp(&self, headers: &mut HeaderMap) -> Result<NodeTimestamp, Refusal> {
        self.exchange
            .check_health()
            .map_err(Refusal::ClockUntrusted)?;
        // The exchange writes `http` headers; its one or two fields are copied across, so
        // that the stamping rules (and the signature) stay in one place.
        let mut fields = http::HeaderMap::new();
        let stamp = self.exchange.stamp(&mut fields);
        for (name, value) in &fields {
            // The exchange writes visible ASCII only (`header::encode`, `SigningKeys::sign`),
            // never the CR or LF that async-nats refuses with a panic.
            headers.insert(
                name.as_str(),
                String::from_utf8_lossy(value.as_bytes()).as_ref(),
            );
        }
        Ok(stamp)
    }

    /// Merges the stamp of a received message, given its headers (`message.headers`), under
    /// the policies; see [refusals](self#refusals).
    ///
    /// # Errors
    /// The [`Refusal`] when the stamp is refused: nothing was merged and the clock was not
    /// touched. [`Refusal::ClockUntrusted`] while the local clock is unhealthy (see
    /// [`HlcClientLayer::health`]), before the headers are read.
    pub fn receive(&self, headers: Option<&HeaderMap>) -> Result<Receipt, Refusal> {
        self.exchange
            .check_health()
            .map_err(Refusal::ClockUntrusted)?;
        let fields = |name: HeaderName| {
            headers
                .into_iter()
                .flat_map(move |headers| headers.get_all(name.clone()))
                .map(|value| value.as_str().as_bytes())
        };
        let received = self
            .exchange
            .receive_fields(|| fields(HLC_HEADER), || fields(HLC_SIGNATURE_HEADER))?;
        Ok(Receipt {
            peer: received.peer,
            merged: received.merged,
        })
    }

    /// [`receive`](Self::receive) on a core NATS message; a JetStream message derefs to one.
    ///
    /// # Errors
    /// As [`receive`](Self::receive).
    pub fn receive_message(&self, message: &Message) -> Result<Receipt, Refusal> {
        self.receive(message.headers.as_ref())
    }
}

impl<C> Clone for HlcNats<C> {
    fn clone(&self) -> Self {
        Self {
            exchange: Arc::clone(&self.exchange),
        }
    }
}

impl<C> fmt::Debug for HlcNats<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HlcNats")
            .field("exchange", &self.exchange)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{HeaderError, HLC};
    use crate::signature::{SignatureError, HLC_SIGNATURE};
    use crate::{Policy, SigningKeys, UnsignedPolicy};
    use hlc_core::health::{HealthBoard, UnhealthyReason};
    use hlc_core::{ManualClock, NodeId, ParseError};
    use std::time::Duration;

    const START: u64 = 1_700_000_000_000_000;

    fn node(id: u64, micros: u64) -> (Arc<Hlc<ManualClock>>, ManualClock) {
        let clock = ManualClock::new(micros);
        (Arc::new(clock.hlc(NodeId::new(id))), clock)
    }

    fn stamped_by(nats: &HlcNats<ManualClock>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        nats.stamp(&mut headers).unwrap();
        headers
    }

    #[test]
    fn the_header_names_are_the_http_ones() {
        assert_eq!(HLC_HEADER.as_ref() as &str, HLC.as_str());
        assert_eq!(
            HLC_SIGNATURE_HEADER.as_ref() as &str,
            HLC_SIGNATURE.as_str()
        );
    }

    #[test]
    fn a_stamp_is_the_text_form_and_merges_after_the_send() {
        let (sender, _) = node(1, START);
        let publisher = HlcNats::new(sender);
        let mut headers = HeaderMap::new();
        headers.insert(HLC_HEADER, "00-stale");
        let sent = publisher.stamp(&mut headers).unwrap();
        assert_eq!(headers.get_all(HLC_HEADER).count(), 1);
        assert_eq!(headers.get(HLC_HEADER).unwrap().as_str(), sent.to_string());
        let (receiver, _) = node(2, START - 1_000);
        let receipt = HlcNats::new(receiver).receive(Some(&headers)).unwrap();
        assert_eq!(receipt.peer, Some(sent));
        assert!(receipt.merged > sent.timestamp);
    }

    #[test]
    fn a_stamp_too_far_ahead_is_refused_and_the_clock_untouched() {
        let (ahead, _) = node(1, START + 500_001);
        let headers = stamped_by(&HlcNats::new(ahead));
        let (hlc, clock) = node(2, START);
        let receiver = HlcNats::new(hlc.clone());
        let before = hlc.now();
        let refusal = receiver.receive(Some(&headers)).unwrap_err();
        assert!(matches!(refusal, Refusal::TooFarAhead { .. }), "{refusal}");
        assert_eq!(hlc.last(), before);
        clock.advance(Duration::from_micros(1)); // exactly at the bound is accepted
        assert!(receiver.receive(Some(&headers)).is_ok());
    }

    #[test]
    fn a_malformed_or_repeated_stamp_gets_a_clear_error() {
        let (hlc, _) = node(2, START);
        let receiver = HlcNats::new(hlc.clone());
        let before = hlc.now();
        let mut headers = HeaderMap::new();
        headers.insert(HLC_HEADER, "00-0006412B3C4D5003-00000000000000a1");
        let refusal = receiver.receive(Some(&headers)).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::Header(HeaderError::Malformed(ParseError::Hex { at: 10 }))
        );
        assert_eq!(
            refusal.to_string(),
            "malformed hlc header: invalid hex digit at byte 10: only 0-9 and a-f are allowed"
        );
        headers.insert(HLC_HEADER, "00-0006412b3c4d5003-00000000000000a1");
        headers.append(HLC_HEADER, "00-0006412b3c4d5003-00000000000000a1");
        let refusal = receiver.receive(Some(&headers)).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "the hlc header appears 2 times, expected once"
        );
        assert_eq!(hlc.last(), before);
    }

    #[test]
    fn only_the_lowercase_name_is_read() {
        let (hlc, _) = node(2, START);
        let receiver = HlcNats::from_layer(&HlcClientLayer::new(hlc).on_missing(Policy::Refuse));
        let mut headers = HeaderMap::new();
        headers.insert("Hlc", "00-0006412b3c4d5003-00000000000000a1");
        assert_eq!(receiver.receive(Some(&headers)), Err(Refusal::Missing));
        assert_eq!(receiver.receive(None), Err(Refusal::Missing));
    }

    #[test]
    fn a_message_without_a_stamp_passes_with_a_local_receive_stamp() {
        let (hlc, _) = node(2, START);
        let receipt = HlcNats::new(hlc.clone()).receive(None).unwrap();
        assert_eq!(receipt.peer, None);
        assert_eq!(receipt.merged, hlc.last());
    }

    #[test]
    fn signed_stamps_verify_and_unsigned_ones_are_refused_under_refuse() {
        let keys = SigningKeys::parse(&format!("k1 {}", "5e".repeat(32))).unwrap();
        let (sender, _) = node(1, START);
        let signer = HlcNats::from_layer(&HlcClientLayer::new(sender).signing_keys(keys.clone()));
        let headers = stamped_by(&signer);
        assert!(headers
            .get(HLC_SIGNATURE_HEADER)
            .unwrap()
            .as_str()
            .starts_with("v1=k1:"));
        let (hlc, _) = node(2, START);
        let layer = HlcClientLayer::new(hlc.clone())
            .signing_keys(keys)
            .unsigned(UnsignedPolicy::Refuse);
        let receiver = HlcNats::from_layer(&layer);
        assert!(receiver.receive(Some(&headers)).unwrap().peer.is_some());

        let before = hlc.now();
        let unsigned = stamped_by(&HlcNats::new(node(3, START).0));
        let refusal = receiver.receive(Some(&unsigned)).unwrap_err();
        assert_eq!(refusal, Refusal::Signature(SignatureError::Missing));
        let mut forged = headers.clone();
        forged.insert(HLC_HEADER, unsigned.get(HLC_HEADER).unwrap().clone());
        let refusal = receiver.receive(Some(&forged)).unwrap_err();
        assert!(matches!(
            refusal,
            Refusal::Signature(SignatureError::Mismatch(_))
        ));
        assert_eq!(hlc.last(), before);
    }

    #[test]
    fn an_unhealthy_clock_neither_stamps_nor_merges() {
        let board = HealthBoard::new();
        let (hlc, _) = node(1, START);
        let nats = HlcNats::from_layer(&HlcClientLayer::new(hlc.clone()).health(board.clone()));
        let headers = stamped_by(&nats);
        let time_sync = board.reporter("ntp");
        time_sync.report(UnhealthyReason::Unsynchronised.into());
        let before = hlc.last();
        let untrusted = Refusal::ClockUntrusted(UnhealthyReason::Unsynchronised);
        let mut fresh = HeaderMap::new();
        assert_eq!(nats.stamp(&mut fresh), Err(untrusted.clone()));
        assert!(fresh.is_empty());
        assert_eq!(nats.receive(Some(&headers)), Err(untrusted));
        assert_eq!(hlc.last(), before);
    }
}
