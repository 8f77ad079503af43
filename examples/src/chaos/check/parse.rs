//! The requests of a history with their stamps parsed, once, for every check to share.

use hlc_core::NodeTimestamp;

use super::{Invariant, Violation};
use crate::chaos::history::{Outcome, Record, RequestRecord, Route};

/// A request with its stamps parsed; a stamp that does not parse is reported and left out.
#[derive(Debug)]
pub(super) struct Parsed<'a> {
    pub(super) record: &'a RequestRecord,
    /// The load generator's stamp the request carried.
    pub(super) stamp_sent: Option<NodeTimestamp>,
    /// `None` when the request failed.
    pub(super) answer: Option<Answer>,
}

/// The stamps of an HTTP answer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Answer {
    pub(super) status: u16,
    /// The `hlc` header.
    pub(super) header: Option<NodeTimestamp>,
    /// A `/time` body's stamp, or a `/relay` body's `local` one.
    pub(super) body: Option<NodeTimestamp>,
    /// A `/relay` body's `peer` stamp, with the node the harness says gave it.
    pub(super) peer: Option<(u64, NodeTimestamp)>,
}

impl Answer {
    pub(super) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Parsed<'_> {
    /// Every stamp of the answer: header, body, and a relay's peer stamp.
    pub(super) fn answer_stamps(&self) -> impl Iterator<Item = NodeTimestamp> {
        let answer = self.answer;
        let own = answer.into_iter().flat_map(|a| [a.header, a.body]);
        let peer = answer.and_then(|a| a.peer).map(|(_, stamp)| stamp);
        own.chain([peer]).flatten()
    }

    /// The answer, when it is a 2xx.
    pub(super) fn success(&self) -> Option<Answer> {
        self.answer.filter(Answer::is_success)
    }
}

/// Every `Request` record of `history`, in history order, its stamps parsed; each stamp that
/// does not parse is a violation.
pub(super) fn requests<'a>(
    history: &'a [Record],
    violations: &mut Vec<Violation>,
) -> Vec<Parsed<'a>> {
    history
        .iter()
        .filter_map(|record| match record {
            Record::Request(request) => Some(parse(request, violations)),
            _ => None,
        })
        .collect()
}

fn parse<'a>(record: &'a RequestRecord, violations: &mut Vec<Violation>) -> Parsed<'a> {
    let mut stamp = |field: &str, text: Option<&String>| {
        let text = text?;
        text.parse::<NodeTimestamp>()
            .map_err(|error| {
                violations.push(Violation::new(
                    Invariant::UnparsableStamp,
                    format!("request {}: {field} {text:?}: {error}", record.id),
                ));
            })
            .ok()
    };
    let stamp_sent = stamp("stamp_sent", record.stamp_sent.as_ref());
    let answer = match &record.outcome {
        Outcome::Answered {
            status,
            stamp: header,
            body_stamp,
            relay_peer,
            ..
        } => Some(Answer {
            status: *status,
            header: stamp("hlc header", header.as_ref()),
            body: stamp("body stamp", body_stamp.as_ref()),
            peer: relay_peer.as_ref().and_then(|peer| {
                stamp("relay peer stamp", Some(&peer.stamp)).map(|parsed| (peer.node, parsed))
            }),
        }),
        Outcome::Failed { .. } => None,
    };
    Parsed {
        record,
        stamp_sent,
        answer,
    }
}

/// The route's path, as a reader knows it.
pub(super) fn path(route: Route) -> &'static str {
    match route {
        Route::Time => "/time",
        Route::Relay => "/relay",
    }
}
