//! What a round of the peer monitor decided, and the monitor's state as a report.

use serde::{Deserialize, Serialize};

use super::OffsetDistribution;
use crate::NodeId;

/// One peer's standing in the last round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerVerdict {
    /// Fresh, and its clock is within the far threshold of this node's (or the uncertainty
    /// of the measurement covers the difference).
    Ok,
    /// Fresh, and its clock is beyond the far threshold of this node's even after
    /// subtracting the uncertainty.
    Far,
    /// No answer for longer than the stale limit: it has no vote.
    Stale,
}

/// What a round found about this node's clock against its fresh peers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundVerdict {
    /// Fewer fresh peers than a verdict needs: nothing is decided, and the fence stays as it
    /// is (also before the first round).
    #[default]
    NoVerdict,
    /// No strict majority of the fresh peers is far: this node's clock agrees with the
    /// cluster (the far ones, if any, are named).
    Agrees,
    /// A strict majority of the fresh peers is far: this node's clock is the one that is off.
    Disagrees,
}

/// Whether a round changed the fence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FenceChange {
    /// This node fenced itself.
    Fenced,
    /// This node recovered.
    Unfenced,
}

/// The outcome of one [`PeerMonitor::evaluate`](super::PeerMonitor::evaluate).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// What the round found.
    pub verdict: RoundVerdict,
    /// How many peers voted.
    pub fresh: usize,
    /// The fresh peers found far, in node id order: the minority to look at when the
    /// verdict is [`Agrees`](RoundVerdict::Agrees).
    pub far: Vec<NodeId>,
    /// Whether this node is fenced after the round.
    pub fenced: bool,
    /// Whether the round fenced or unfenced it.
    pub change: Option<FenceChange>,
}

/// One peer as a [`MonitorReport`] lists it; the field names are the JSON names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerReport {
    /// The peer.
    pub peer: NodeId,
    /// Its standing now.
    pub verdict: PeerVerdict,
    /// The last offset measured, in µs (peer minus this node).
    pub offset_us: i64,
    /// Its uncertainty, in µs.
    pub uncertainty_us: u64,
    /// Its round trip, in µs.
    pub rtt_us: u64,
    /// How long ago the last answer arrived, in whole milliseconds.
    pub last_seen_ms_ago: u64,
    /// The offsets over the window, if any sample is still in it.
    pub window: Option<OffsetDistribution>,
}

/// The monitor's state at one instant: the fence and every peer it knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorReport {
    /// Whether this node is fenced.
    pub fenced: bool,
    /// The last round's verdict.
    pub verdict: RoundVerdict,
    /// Consecutive rounds that agreed, counted towards recovery while fenced.
    pub healthy_rounds: u32,
    /// The far threshold, in µs.
    pub far_threshold_us: u64,
    /// Every peer, in node id order, with its standing now.
    pub peers: Vec<PeerReport>,
}

/// `ok`, `far` or `stale`: the serde names, for a log line.
impl std::fmt::Display for PeerVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ok => "ok",
            Self::Far => "far",
            Self::Stale => "stale",
        })
    }
}

/// `no verdict`, `agrees` or `disagrees`, for a log line.
impl std::fmt::Display for RoundVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NoVerdict => "no verdict",
            Self::Agrees => "agrees",
            Self::Disagrees => "disagrees",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_display_as_the_words_their_serde_form_uses() {
        for (verdict, text) in [
            (PeerVerdict::Ok, "ok"),
            (PeerVerdict::Far, "far"),
            (PeerVerdict::Stale, "stale"),
        ] {
            assert_eq!(verdict.to_string(), text);
            assert_eq!(
                serde_json::to_string(&verdict).unwrap(),
                format!("\"{text}\"")
            );
        }
        assert_eq!(RoundVerdict::NoVerdict.to_string(), "no verdict");
        assert_eq!(RoundVerdict::Agrees.to_string(), "agrees");
        assert_eq!(RoundVerdict::Disagrees.to_string(), "disagrees");
    }
}
