//! Hand-made history records for the checker's tests. Times are small numbers of µs; the run's
//! max offset is 500 ms.

use hlc_core::{NodeId, NodeTimestamp, Timestamp};

use super::{Invariant, Report};
use crate::chaos::history::{
    Fault, Outcome, Record, RelayFailure, RelayPeer, RequestRecord, Route, RssPhase, RunInfo,
};

pub(super) fn run() -> Record {
    Record::Run(RunInfo {
        seed: 1,
        seconds: 60,
        max_offset_us: 500_000,
        nodes: Vec::new(),
        started_us: 0,
    })
}

/// A stamp of `node` in the header's text form.
pub(super) fn stamp(node: u64, micros: u64, logical: u16) -> String {
    let timestamp = Timestamp::from_parts(micros, logical).expect("a test stamp in range");
    NodeTimestamp::new(timestamp, NodeId::new(node)).to_string()
}

/// One logical count above `stamp`: the header a node puts on the answer it stamped `stamp` in.
fn next(stamp: &str) -> String {
    let parsed: NodeTimestamp = stamp.parse().expect("a test stamp");
    NodeTimestamp::new(
        Timestamp::from_u64(parsed.timestamp.as_u64() + 1),
        parsed.node,
    )
    .to_string()
}

fn request(
    id: u64,
    node: u64,
    route: Route,
    sent_us: i64,
    received_us: i64,
    outcome: Outcome,
) -> Record {
    Record::Request(RequestRecord {
        id,
        node,
        route,
        sent_us,
        received_us,
        stamp_sent: None,
        outcome,
    })
}

fn answered(status: u16, stamp: Option<String>, body_stamp: Option<String>) -> Outcome {
    Outcome::Answered {
        status,
        stamp,
        body_stamp,
        relay_peer: None,
        problem_type: None,
        reason: None,
        relay_failure: None,
    }
}

/// A `/time` answered 200 with `body` in the body and the next stamp in the header.
pub(super) fn time_ok(id: u64, node: u64, sent_us: i64, received_us: i64, body: String) -> Record {
    let outcome = answered(200, Some(next(&body)), Some(body));
    request(id, node, Route::Time, sent_us, received_us, outcome)
}

/// A `/relay` answered 200: the peer (named by its stamp) said `peer`, the node `local`, and
/// the header is the next stamp after `local`.
pub(super) fn relay_ok(
    id: u64,
    node: u64,
    sent_us: i64,
    received_us: i64,
    peer: String,
    local: String,
) -> Record {
    let peer_node = peer
        .parse::<NodeTimestamp>()
        .expect("a test stamp")
        .node
        .as_u64();
    let mut outcome = answered(200, Some(next(&local)), Some(local));
    if let Outcome::Answered { relay_peer, .. } = &mut outcome {
        *relay_peer = Some(RelayPeer {
            node: peer_node,
            stamp: peer,
        });
    }
    request(id, node, Route::Relay, sent_us, received_us, outcome)
}

/// A non-2xx answer without stamps.
pub(super) fn refused(
    id: u64,
    node: u64,
    route: Route,
    sent_us: i64,
    received_us: i64,
    status: u16,
    problem_type: Option<&str>,
) -> Record {
    let mut outcome = answered(status, None, None);
    if let Outcome::Answered {
        problem_type: kind, ..
    } = &mut outcome
    {
        *kind = problem_type.map(Into::into);
    }
    request(id, node, route, sent_us, received_us, outcome)
}

/// A `/relay` of `node` answered `502` for `failure`.
pub(super) fn relay_failed(
    id: u64,
    node: u64,
    sent_us: i64,
    received_us: i64,
    failure: RelayFailure,
) -> Record {
    let mut outcome = answered(502, None, None);
    if let Outcome::Answered { relay_failure, .. } = &mut outcome {
        *relay_failure = Some(Box::new(failure));
    }
    request(id, node, Route::Relay, sent_us, received_us, outcome)
}

/// A `503` of a node whose clock is untrusted for `reason`.
pub(super) fn untrusted(
    id: u64,
    node: u64,
    sent_us: i64,
    received_us: i64,
    reason: &str,
) -> Record {
    let mut record = refused(id, node, Route::Time, sent_us, received_us, 503, None);
    if let Record::Request(RequestRecord {
        outcome:
            Outcome::Answered {
                problem_type,
                reason: why,
                ..
            },
        ..
    }) = &mut record
    {
        *problem_type = Some(super::outcomes::CLOCK_UNTRUSTED.into());
        *why = Some(reason.into());
    }
    record
}

/// A `400` refusing the request's stamp as too far ahead, stamped with `header`.
pub(super) fn too_far_ahead(
    id: u64,
    node: u64,
    sent_us: i64,
    received_us: i64,
    header: String,
) -> Record {
    let mut outcome = answered(400, Some(header), None);
    if let Outcome::Answered { problem_type, .. } = &mut outcome {
        *problem_type = Some(super::outcomes::TOO_FAR_AHEAD.into());
    }
    request(id, node, Route::Time, sent_us, received_us, outcome)
}

/// A `/time` that got no answer.
pub(super) fn failed(id: u64, node: u64, sent_us: i64, received_us: i64) -> Record {
    let outcome = Outcome::Failed {
        error: "connection refused".into(),
    };
    request(id, node, Route::Time, sent_us, received_us, outcome)
}

pub(super) fn set_stamp_sent(record: &mut Record, stamp: String) {
    if let Record::Request(request) = record {
        request.stamp_sent = Some(stamp);
    }
}

pub(super) fn set_header(record: &mut Record, header: String) {
    if let Record::Request(RequestRecord {
        outcome: Outcome::Answered { stamp, .. },
        ..
    }) = record
    {
        *stamp = Some(header);
    }
}

pub(super) fn fault(at_us: i64, fault: Fault) -> Record {
    Record::Fault { at_us, fault }
}

pub(super) fn started(at_us: i64, node: u64, life: u32) -> Record {
    Record::Started {
        at_us,
        node,
        pid: 100 + life,
        life,
        clock_offset_ms: 0,
    }
}

/// A `/health` poll sent at `sent_us` and answered `status` at `at_us`.
pub(super) fn health(
    node: u64,
    sent_us: i64,
    at_us: i64,
    status: u16,
    reason: Option<&str>,
) -> Record {
    Record::Health {
        at_us,
        node,
        status: Some(status),
        reason: reason.map(Into::into),
        sent_us: Some(sent_us),
    }
}

/// A `/health` poll the node did not answer.
pub(super) fn health_none(node: u64, sent_us: i64, at_us: i64) -> Record {
    Record::Health {
        at_us,
        node,
        status: None,
        reason: None,
        sent_us: Some(sent_us),
    }
}

pub(super) fn rss(node: u64, life: u32, phase: RssPhase, rss_kib: u64) -> Record {
    Record::Rss {
        at_us: match phase {
            RssPhase::WarmedUp => 1_000,
            RssPhase::During => 2_000,
            RssPhase::End => 3_000,
        },
        node,
        life,
        rss_kib,
        phase,
    }
}

/// The invariants of the report's violations, in order.
pub(super) fn invariants(report: &Report) -> Vec<Invariant> {
    report
        .violations
        .iter()
        .map(|violation| violation.invariant)
        .collect()
}
