//! The ping answer's body: a node id and a physical clock reading.

use hlc_core::NodeId;
use serde_json::{json, Value};

/// What a [`PingService`](super::PingService) answers: `{"node_id": "<16 hex>",
/// "physical_us": N}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingAnswer {
    /// The answering node.
    pub node_id: NodeId,
    /// Its physical clock when it answered, in µs since the Unix epoch.
    pub physical_us: u64,
}

/// Why a ping answer's body was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PingAnswerError {
    /// The body is not JSON.
    #[error("ping answer is not json: {0}")]
    NotJson(String),
    /// A member is missing or has the wrong type.
    #[error("ping answer has no valid `{0}`")]
    Member(&'static str),
}

impl PingAnswer {
    /// The JSON body.
    pub fn to_json(&self) -> String {
        json!({
            "node_id": self.node_id.to_string(),
            "physical_us": self.physical_us,
        })
        .to_string()
    }

    /// Reads a body written by [`to_json`](Self::to_json) (or by any peer following
    /// `HEADER.md`); other members are ignored.
    ///
    /// # Errors
    ///
    /// [`PingAnswerError`] when the body is not JSON or a member is missing or malformed.
    pub fn parse(body: &[u8]) -> Result<Self, PingAnswerError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| PingAnswerError::NotJson(e.to_string()))?;
        let node_id = value["node_id"]
            .as_str()
            .filter(|text| text.len() == 16)
            .and_then(|text| text.parse::<NodeId>().ok())
            .ok_or(PingAnswerError::Member("node_id"))?;
        let physical_us = value["physical_us"]
            .as_u64()
            .ok_or(PingAnswerError::Member("physical_us"))?;
        Ok(Self {
            node_id,
            physical_us,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_bad_bodies() {
        let answer = PingAnswer {
            node_id: NodeId::new(0xa1),
            physical_us: 42,
        };
        let text = answer.to_json();
        assert!(text.contains("\"node_id\":\"00000000000000a1\""), "{text}");
        assert_eq!(PingAnswer::parse(text.as_bytes()), Ok(answer));
        for (bad, error) in [
            (&b"nope"[..], "ping answer is not json"),
            (br#"{"physical_us": 1}"#, "no valid `node_id`"),
            (
                br#"{"node_id": "a1", "physical_us": 1}"#,
                "no valid `node_id`",
            ),
            (
                br#"{"node_id": "00000000000000a1", "physical_us": -1}"#,
                "`physical_us`",
            ),
        ] {
            let message = PingAnswer::parse(bad).unwrap_err().to_string();
            assert!(message.contains(error), "{message}");
        }
    }
}
