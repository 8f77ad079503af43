//! The demo's lanes, in the order the timeline draws them: callers on the left, time on the
//! right, so that every message crosses to a neighbour.

use hlc_core::NodeId;

use super::recording::{Lane, LaneId, LaneKind};
use super::BETA_SKEW_MS;

// Lane 0 is the client that stamps its request to alpha by hand; the taps find it by its
// node id, [`CLIENT_NODE`].

/// Alpha, on true time.
pub(crate) const ALPHA: LaneId = 1;
/// Beta, skewed; after its restart, the same node on an NTP-corrected clock.
pub(crate) const BETA: LaneId = 2;
/// The NTP responder embedded in the demo.
pub(crate) const NTP: LaneId = 3;

/// The client's node id.
pub(crate) const CLIENT_NODE: NodeId = NodeId::new(0xc1);

/// The lanes, indexed by the constants above.
pub(crate) fn all() -> Vec<Lane> {
    let node = |name: &str, id: u64, note: String| Lane {
        name: name.to_owned(),
        kind: LaneKind::Node(NodeId::new(id)),
        note,
    };
    vec![
        node(
            "client",
            CLIENT_NODE.as_u64(),
            "own clock, on time".to_owned(),
        ),
        node("alpha", 1, "clock +0 ms".to_owned()),
        node("beta", 2, format!("clock +{BETA_SKEW_MS} ms")),
        Lane {
            name: "NTP responder".to_owned(),
            kind: LaneKind::TimeSource,
            note: "ntp-sync, serving the system clock".to_owned(),
        },
    ]
}
