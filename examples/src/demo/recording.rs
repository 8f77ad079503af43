//! What the demo did, as plain data: the lanes (nodes and time sources), the stamped messages
//! between them, the refusals, and the marks (a restart, NTP polls, the NTP correction,
//! fencing), each at a time since the demo started. The demo fills one as it runs and
//! [`timeline`](super::timeline) draws it; nothing here reads a clock or does I/O, so a test
//! can build one by hand.

use hlc_core::{NodeId, NodeTimestamp};

/// An index into [`Recording::lanes`].
pub type LaneId = usize;

/// Everything the demo recorded, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recording {
    /// The system clock at the start, in microseconds since the Unix epoch: where a stamp's
    /// physical part falls on the time axis.
    pub start_unix_us: u64,
    /// One lane per node and per time source.
    pub lanes: Vec<Lane>,
    /// The stamped messages between lanes.
    pub messages: Vec<Message>,
    /// Stamps a lane refused.
    pub refusals: Vec<Refusal>,
    /// Things that happened on a lane: a restart, an NTP poll or correction, fencing.
    pub marks: Vec<Mark>,
    /// Where each step of the demo's story starts.
    pub steps: Vec<Step>,
}

impl Recording {
    /// The lanes that are nodes, with their ids.
    pub fn nodes(&self) -> impl Iterator<Item = (LaneId, NodeId)> + '_ {
        self.lanes
            .iter()
            .enumerate()
            .filter_map(|(id, lane)| match lane.kind {
                LaneKind::Node(node) => Some((id, node)),
                LaneKind::TimeSource => None,
            })
    }

    /// The lane of node `node`, if it has one.
    pub fn lane_of(&self, node: NodeId) -> Option<LaneId> {
        self.nodes()
            .find_map(|(lane, id)| (id == node).then_some(lane))
    }
}

/// A participant drawn as one lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// A short name: `alpha`, `NTP responder`.
    pub name: String,
    /// A node or a time source.
    pub kind: LaneKind,
    /// One line about it: its clock's skew, its address.
    pub note: String,
}

/// What a lane stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneKind {
    /// A node stamping with its own hybrid logical clock.
    Node(NodeId),
    /// A source of time the nodes correct their clocks against.
    TimeSource,
}

/// One stamped message, seen on the wire between two lanes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The sender's lane.
    pub from: LaneId,
    /// The receiver's lane.
    pub to: LaneId,
    /// When it left, in microseconds since the start.
    pub sent_us: u64,
    /// When it arrived, in microseconds since the start.
    pub received_us: u64,
    /// What it was: `GET /time`, `200 OK`.
    pub what: String,
    /// The stamp it carried in its `hlc` header, if any.
    pub stamp: Option<NodeTimestamp>,
}

/// A stamp a lane refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The refusing lane.
    pub lane: LaneId,
    /// When, in microseconds since the start.
    pub at_us: u64,
    /// The refused message, when it was recorded.
    pub message: Option<usize>,
    /// The refusal's kind: `urn:hlc:too-far-ahead`, `hlc.too_far_ahead`.
    pub kind: String,
    /// Why, in full: the refusal's detail, naming both times and the bound.
    pub reason: String,
}

/// Something that happened on a lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// The lane it happened on.
    pub lane: LaneId,
    /// When, in microseconds since the start.
    pub at_us: u64,
    /// What it was.
    pub kind: MarkKind,
    /// A short label drawn beside it.
    pub label: String,
    /// More, shown on hover.
    pub detail: String,
}

/// The kinds of [`Mark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// The node restarted.
    Restart,
    /// The node's NTP client completed a poll of the time source on lane `source`.
    NtpPoll {
        /// The time source's lane.
        source: LaneId,
    },
    /// The node's clock was corrected by what it measured against its time sources.
    NtpCorrection,
    /// The node fenced itself: its peers found its clock far off.
    Fenced,
    /// The node lifted its fence.
    Unfenced,
}

/// The start of a step of the demo's story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When, in microseconds since the start.
    pub at_us: u64,
    /// What the step shows.
    pub title: String,
}
