//! A `502` of `/relay`, judged by its cause ([`RelayFailure`]): allowed only when its peer
//! refused for a reason the design allows, the relaying node's client layer refused for one,
//! or the peer could not be reached while it was down.
//!
//! - **The peer answered** other than `200`: allowed when that answer, had the load generator
//!   received it directly, would have been (a `503` [`CLOCK_UNTRUSTED`], a `400`
//!   [`TOO_FAR_AHEAD`]: see [`super::outcomes`]); counted as [`Allowed::RelayPeerRefused`].
//! - **The client layer refused** (`hlc_middleware::Refusal::kind`): allowed for
//!   [`CLIENT_TOO_FAR_AHEAD`] (the peer's answer led the relaying node's clock by more than max
//!   offset: a stepped peer) and [`CLIENT_CLOCK_UNTRUSTED`] (the relaying node's own clock
//!   untrusted; the node in fact reports that as *not sent*, below, but the kind is the
//!   design's); counted as [`Allowed::RelayRefused`]. A signature or header refusal is a bug:
//!   the chaos cluster signs nothing and every node sends well-formed headers.
//! - **Not sent**: the relaying node's client layer sent nothing because the node's own clock
//!   was untrusted (`ClientError::ClockUntrusted`, which the node names in its body's `not_sent`):
//!   the design's "client refuses to send" while unhealthy. Seen when the relaying node was
//!   stopped after its server layer let the request in: on `SIGCONT` its clock is disrupted
//!   before the handler calls the peer. Counted as [`Allowed::RelayNotSent`].
//! - **Transport**: allowed only when the *peer* was down ([`DownWindows::covers`] over the
//!   request's interval, which holds the relay's call to the peer); counted as
//!   [`Allowed::RelayPeerDown`]. A peer that was up and still could not be reached is a bug.
//!
//! [`CLOCK_UNTRUSTED`]: super::outcomes::CLOCK_UNTRUSTED
//! [`TOO_FAR_AHEAD`]: super::outcomes::TOO_FAR_AHEAD

use super::down::DownWindows;
use super::outcomes::refusal;
use super::Allowed;
use crate::chaos::history::{RelayFailure, RequestRecord};

/// `hlc_middleware::Refusal::kind` of a message whose stamp leads the local clock by more than
/// max offset.
pub const CLIENT_TOO_FAR_AHEAD: &str = "hlc.too_far_ahead";

/// `hlc_middleware::Refusal::kind` of a refusal because the local clock is untrusted.
pub const CLIENT_CLOCK_UNTRUSTED: &str = "hlc.clock_untrusted";

/// The allowed kind of `record`'s `502`, caused by `failure`, or what was unexpected about it.
pub(super) fn judge(
    record: &RequestRecord,
    failure: &RelayFailure,
    down: &DownWindows,
) -> Result<Allowed, String> {
    match failure {
        RelayFailure::PeerAnswered {
            peer,
            status,
            problem_type,
            reason,
        } => refusal(*status, problem_type.as_deref(), reason.as_deref())
            .map(|kind| Allowed::RelayPeerRefused(Box::new(kind)))
            .ok_or_else(|| {
                format!(
                    "/relay: peer {peer} answered {status} ({})",
                    problem_type.as_deref().unwrap_or("no problem type")
                )
            }),
        RelayFailure::Refused { peer, kind } => match kind.as_str() {
            CLIENT_TOO_FAR_AHEAD | CLIENT_CLOCK_UNTRUSTED => {
                Ok(Allowed::RelayRefused(kind.clone()))
            }
            _ => Err(format!(
                "/relay: node {}'s client layer refused its call to peer {peer}: {kind}",
                record.node
            )),
        },
        RelayFailure::NotSent { .. } => Ok(Allowed::RelayNotSent),
        RelayFailure::Transport { peer, error } => {
            if down.covers(*peer, record.sent_us, record.received_us) {
                Ok(Allowed::RelayPeerDown)
            } else {
                Err(format!(
                    "/relay: transport to peer {peer} failed while it was up: {error}"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::outcomes::{CLOCK_UNTRUSTED, TOO_FAR_AHEAD};
    use super::super::{check, Allowed, RECOVERY_GRACE_US};
    use super::*;
    use crate::chaos::history::Fault;
    use hlc_core::health::UnhealthyReason;
    use hlc_core::{Hlc, ManualClock, NodeId, Timestamp};
    use hlc_middleware::Refusal;

    fn peer_answered(
        peer: u64,
        status: u16,
        problem: Option<&str>,
        reason: Option<&str>,
    ) -> RelayFailure {
        RelayFailure::PeerAnswered {
            peer,
            status,
            problem_type: problem.map(Into::into),
            reason: reason.map(Into::into),
        }
    }

    fn refused_by_client(peer: u64, kind: &str) -> RelayFailure {
        RelayFailure::Refused {
            peer,
            kind: kind.into(),
        }
    }

    fn transport(peer: u64) -> RelayFailure {
        RelayFailure::Transport {
            peer,
            error: "client error (Connect)".into(),
        }
    }

    #[test]
    fn the_allowed_client_kinds_are_the_middlewares() {
        let untrusted = Refusal::ClockUntrusted(UnhealthyReason::Disrupted);
        assert_eq!(untrusted.kind(), CLIENT_CLOCK_UNTRUSTED);
        // A real too-far-ahead refusal, from a clock at 0 shown a stamp 10 s ahead.
        let hlc = Hlc::builder()
            .clock(ManualClock::new(0))
            .node_id(NodeId::new(1))
            .build()
            .unwrap();
        let ahead = Timestamp::from_parts(10_000_000, 0).unwrap();
        let error = hlc.update(ahead).unwrap_err();
        let peer = hlc_core::NodeTimestamp::new(ahead, NodeId::new(2));
        let too_far = Refusal::TooFarAhead { peer, error };
        assert_eq!(too_far.kind(), CLIENT_TOO_FAR_AHEAD);
    }

    #[test]
    fn each_allowed_cause_is_counted_by_kind() {
        let history = [
            run(),
            relay_failed(
                1,
                1,
                1_000,
                1_100,
                peer_answered(2, 503, Some(CLOCK_UNTRUSTED), Some("fenced")),
            ),
            relay_failed(
                2,
                1,
                1_000,
                1_100,
                peer_answered(2, 503, Some(CLOCK_UNTRUSTED), Some("fenced")),
            ),
            relay_failed(
                3,
                2,
                1_000,
                1_100,
                peer_answered(3, 400, Some(TOO_FAR_AHEAD), None),
            ),
            relay_failed(
                4,
                3,
                1_000,
                1_100,
                refused_by_client(4, CLIENT_TOO_FAR_AHEAD),
            ),
            relay_failed(
                5,
                3,
                1_000,
                1_100,
                refused_by_client(4, CLIENT_CLOCK_UNTRUSTED),
            ),
            relay_failed(
                8,
                3,
                1_000,
                1_100,
                RelayFailure::NotSent {
                    peer: 4,
                    reason: "clock disrupted (suspend, pause or step)".into(),
                },
            ),
            fault(2_000, Fault::Stop { node: 5 }),
            // Node 4 relays to 5, which was stopped.
            relay_failed(6, 4, 2_100, 2_200, transport(5)),
            fault(3_000, Fault::Cont { node: 5 }),
            // A history written before the cause was recorded.
            refused(
                7,
                1,
                crate::chaos::history::Route::Relay,
                4_000,
                4_100,
                502,
                None,
            ),
        ];
        let report = check(&history);
        assert!(report.passed(), "{report}");
        let count = |kind: Allowed| report.allowed.get(&kind).copied();
        let peer = |kind: Allowed| Allowed::RelayPeerRefused(Box::new(kind));
        assert_eq!(count(peer(Allowed::Untrusted("fenced".into()))), Some(2));
        assert_eq!(count(peer(Allowed::TooFarAhead)), Some(1));
        assert_eq!(
            count(Allowed::RelayRefused(CLIENT_TOO_FAR_AHEAD.into())),
            Some(1)
        );
        assert_eq!(
            count(Allowed::RelayRefused(CLIENT_CLOCK_UNTRUSTED.into())),
            Some(1)
        );
        assert_eq!(count(Allowed::RelayPeerDown), Some(1));
        assert_eq!(count(Allowed::RelayNotSent), Some(1));
        assert_eq!(count(Allowed::RelayPeer), Some(1));
        let shown = report.to_string();
        for line in [
            "502 from /relay, its peer refused: 503 clock untrusted (fenced): 2",
            "502 from /relay, its client layer refused: hlc.too_far_ahead: 1",
            "502 from /relay, its peer down: 1",
            "502 from /relay, not sent on its own untrusted clock: 1",
        ] {
            assert!(shown.contains(line), "{line:?} not in {shown}");
        }
    }

    #[test]
    fn other_causes_are_unexpected_and_say_what_happened() {
        let history = [
            run(),
            relay_failed(1, 3, 1_000, 1_100, peer_answered(4, 500, None, None)),
            relay_failed(2, 3, 1_000, 1_100, peer_answered(4, 503, None, None)),
            relay_failed(
                3,
                3,
                1_000,
                1_100,
                peer_answered(4, 401, Some("urn:hlc:signature"), None),
            ),
            relay_failed(
                4,
                2,
                1_000,
                1_100,
                refused_by_client(3, "hlc.signature_invalid"),
            ),
            // The relaying node itself, not its peer, was down: no excuse for its peer call.
            fault(2_000, Fault::Kill { node: 1 }),
            started(3_000, 1, 1),
            relay_failed(5, 1, 2_100, 2_200, transport(2)),
            // Peer 2 was down, but long before.
            fault(10_000_000, Fault::Stop { node: 2 }),
            fault(13_000_000, Fault::Cont { node: 2 }),
            relay_failed(
                6,
                1,
                13_000_000 + RECOVERY_GRACE_US + 1,
                19_000_000,
                transport(2),
            ),
        ];
        let report = check(&history);
        assert!(!report.passed());
        assert!(report.allowed.is_empty(), "{report}");
        let kinds: Vec<&str> = report.unexpected.iter().map(|u| u.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "/relay: peer 4 answered 500 (no problem type)",
                "/relay: peer 4 answered 503 (no problem type)",
                "/relay: peer 4 answered 401 (urn:hlc:signature)",
                "/relay: node 2's client layer refused its call to peer 3: hlc.signature_invalid",
                "/relay: transport to peer 2 failed while it was up: client error (Connect)",
                "/relay: transport to peer 2 failed while it was up: client error (Connect)",
            ],
            "{report}"
        );
    }
}
