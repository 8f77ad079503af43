//! A plain-data picture of the sources and the estimate, for display (the `query` table, the
//! JSON output, `watch`) and for the client's snapshot channel.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::proto::engine::{Engine, Evaluation, Outcome, SourceState};

/// One source as seen at one instant.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SourceReport {
    /// The server as the user named it.
    pub server: String,
    /// Its resolved address.
    pub address: Option<SocketAddr>,
    /// Stratum of its latest valid response.
    pub stratum: Option<u8>,
    /// Reach register (bit 0: the latest poll got a valid response).
    pub reach: u8,
    /// Offset of the filter's best sample, in nanoseconds (true time − local time).
    pub offset_nanos: Option<i64>,
    /// Its round-trip delay in nanoseconds.
    pub delay_nanos: Option<i64>,
    /// Its radius now, in nanoseconds.
    pub radius_nanos: Option<i64>,
    /// RMS offset noise across the filter, in nanoseconds.
    pub jitter_nanos: i64,
    /// The wait before its next poll; `None` once it refused us.
    pub next_poll: Option<Duration>,
    /// What selection made of it.
    pub state: SourceState,
    /// A falseticker during the 24 hours around a leap second whose disagreement is the size
    /// a leap smear explains: probably a server that smears among servers that step (or the
    /// other way round), not a liar. Do not mix them.
    #[serde(default)]
    pub probable_smear: bool,
}

impl Engine {
    /// Evaluates at local time `now_nanos` and describes every source.
    pub fn report(&self, now_nanos: i64) -> (Evaluation, Vec<SourceReport>) {
        let evaluation = self.evaluate(now_nanos);
        let reports = self.describe(&evaluation, now_nanos);
        (evaluation, reports)
    }

    /// Describes every source as `evaluation`, made at local time `now_nanos`, judged it.
    pub fn describe(&self, evaluation: &Evaluation, now_nanos: i64) -> Vec<SourceReport> {
        let drift = self.config().drift_ppb;
        self.sources()
            .iter()
            .zip(&evaluation.states)
            .enumerate()
            .map(|(index, (source, state))| {
                let best = source.filter().best();
                SourceReport {
                    server: source.name().to_owned(),
                    address: source.address(),
                    stratum: source.stratum(),
                    reach: source.reach(),
                    offset_nanos: best.map(|s| s.offset_nanos),
                    delay_nanos: best.map(|s| s.delay_nanos),
                    radius_nanos: best.map(|s| s.radius_at(now_nanos, drift)),
                    jitter_nanos: source.filter().jitter_nanos(),
                    next_poll: self.next_poll_in(index),
                    state: state.clone(),
                    probable_smear: false,
                }
            })
            .collect()
    }
}

impl Outcome {
    /// Why there is no estimate, in words; `None` when there is one.
    pub fn failure_reason(&self) -> Option<&'static str> {
        match self {
            Self::Agreed(_) => None,
            Self::NoMajority => Some("no majority of the servers agree"),
            Self::Undecided => Some("not enough servers answered to form a majority"),
            Self::NoSources => Some("no usable server"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::answer::{answer, ServerParams};
    use crate::proto::engine::{EngineConfig, Unusable};
    use crate::proto::sample::LocalTimes;

    const NOW: i64 = 1_700_000_000_000_000_000;

    #[test]
    fn describes_each_source_with_its_state() {
        let mut engine = Engine::new(EngineConfig::default());
        let address = SocketAddr::from(([127, 0, 0, 1], 123));
        engine.add_source("a", Some(address));
        engine.add_source("b", None);
        let request = engine.begin_poll(0, 1);
        let response = answer(
            &request,
            NOW + 1_000_000,
            NOW + 1_000_000,
            &ServerParams::default(),
        )
        .unwrap();
        let local = LocalTimes {
            sent_nanos: NOW,
            received_nanos: NOW + 2_000_000,
        };
        engine.on_response(0, &response, address, local).unwrap();
        let (evaluation, reports) = engine.report(NOW + 2_000_000);
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0].server, "a");
        assert_eq!((reports[0].stratum, reports[0].reach), (Some(2), 1));
        assert!(reports[0].offset_nanos.unwrap().abs() < 10);
        assert_eq!(
            reports[1].state,
            SourceState::Unusable(Unusable::NoResponseYet)
        );
        assert_eq!(evaluation.outcome, Outcome::Undecided);
        assert_eq!(
            evaluation.outcome.failure_reason(),
            Some("not enough servers answered to form a majority")
        );
    }
}
