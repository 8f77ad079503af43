//! Fencing on the timeline: whether a node's peer monitor fenced it, read between the steps.
//! With two nodes each has one peer, and one peer cannot show which clock is wrong
//! ([`hlc_core::peers`]), so the demo never fences; the watch records it if that changes.

use super::recorder::Recorder;
use super::recording::{LaneId, MarkKind};
use crate::node::RunningNode;

/// The nodes to watch and whether each was fenced at the last look.
pub(super) struct FenceWatch<'a, const N: usize> {
    recorder: &'a Recorder,
    nodes: [(LaneId, &'a RunningNode, bool); N],
}

impl<'a, const N: usize> FenceWatch<'a, N> {
    /// Watches `nodes`, each on its lane; none fenced yet.
    pub(super) fn new(recorder: &'a Recorder, nodes: [(LaneId, &'a RunningNode); N]) -> Self {
        Self {
            recorder,
            nodes: nodes.map(|(lane, node)| (lane, node, false)),
        }
    }

    /// Marks each node whose fence went up or came down since the last look.
    pub(super) fn check(&mut self) {
        for (lane, node, was_fenced) in &mut self.nodes {
            let answer = node.node().peers();
            if answer.fenced == *was_fenced {
                continue;
            }
            *was_fenced = answer.fenced;
            let (kind, label) = if answer.fenced {
                (MarkKind::Fenced, "fenced: its peers find its clock far off")
            } else {
                (MarkKind::Unfenced, "fence lifted")
            };
            let detail = serde_json::to_string(&answer).unwrap_or_default();
            self.recorder.mark(*lane, kind, label.to_owned(), detail);
        }
    }
}
