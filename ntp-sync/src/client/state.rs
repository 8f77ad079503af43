//! What the client's tasks share, and the step after every poll: the [`Tracker`] decides,
//! this publishes and tells the world (snapshot channel and tracing) what changed.

use std::mem::discriminant;
use std::sync::{Arc, Mutex};

use hlc_core::PhysicalClock;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::corrected::CorrectedClock;
use crate::lock::lock;
use crate::proto::discipline::DisciplineError;
use crate::proto::engine::SourceReport;
use crate::proto::engine::{Engine, Outcome, SourceState};
use crate::proto::estimate::{Estimate, Status};
use crate::proto::tracking::{Readings, Tracker};
use crate::readings::{duration_nanos, local_nanos};
use crate::true_time::TrueTime;

/// Everything known after the latest poll, as published on [`NtpClient::subscribe`].
///
/// [`NtpClient::subscribe`]: crate::NtpClient::subscribe
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// Every source and what selection made of it.
    pub sources: Vec<SourceReport>,
    /// The outcome of the latest selection.
    pub outcome: Outcome,
    /// The estimate in force (possibly older than this selection).
    pub estimate: Option<Estimate>,
    /// The status when the snapshot was taken.
    pub status: Status,
    /// Set while the corrected clock refuses the estimate (beyond the panic threshold).
    pub refused: Option<DisciplineError>,
    /// Polls completed so far, all sources together.
    pub polls: u64,
}

impl Snapshot {
    pub(crate) fn initial() -> Self {
        Self {
            sources: Vec::new(),
            outcome: Outcome::Undecided,
            estimate: None,
            status: Status::Unsynchronised,
            refused: None,
            polls: 0,
        }
    }
}

struct Published {
    tracker: Tracker,
    polls: u64,
    last_status: Status,
    last_states: Vec<SourceState>,
}

pub(crate) struct Shared {
    pub(crate) engine: Mutex<Engine>,
    published: Mutex<Published>,
    pub(crate) true_time: TrueTime,
    pub(crate) corrected: CorrectedClock,
    pub(crate) clock: Arc<dyn PhysicalClock>,
    pub(crate) snapshot: watch::Sender<Snapshot>,
    monotonic_origin: Instant,
}

impl Shared {
    pub(crate) fn new(
        engine: Engine,
        tracker: Tracker,
        true_time: TrueTime,
        corrected: CorrectedClock,
    ) -> Self {
        let published = Published {
            tracker,
            polls: 0,
            last_status: Status::Unsynchronised,
            last_states: Vec::new(),
        };
        Self {
            engine: Mutex::new(engine),
            published: Mutex::new(published),
            clock: Arc::clone(true_time.local_clock()),
            true_time,
            corrected,
            snapshot: watch::Sender::new(Snapshot::initial()),
            monotonic_origin: Instant::now(),
        }
    }

    /// Re-evaluates after a poll (`polled`) or a timer, and publishes.
    pub(crate) fn refresh(&self, polled: bool) {
        let mut published = lock(&self.published);
        let readings = Readings {
            local_nanos: local_nanos(&*self.clock),
            monotonic_nanos: duration_nanos(self.monotonic_origin.elapsed()),
        };
        let mut engine = lock(&self.engine);
        let update = published.tracker.refresh(&mut engine, readings);
        let sources = engine.describe(&update.evaluation, readings.local_nanos);
        drop(engine);
        if update.stepped {
            tracing::warn!(target: "ntp_sync", "local clock stepped; samples dropped, estimate withdrawn");
        }
        match update.action {
            Some(Ok(action)) => {
                tracing::debug!(target: "ntp_sync", ?action, "corrected clock updated");
            }
            Some(Err(error)) => {
                tracing::error!(target: "ntp_sync", %error, "corrected clock refused the estimate");
            }
            None => {}
        }
        if let Some(correction) = update.correction {
            self.corrected.publish(correction);
        }
        let refused = published.tracker.refused();
        self.true_time.set_refused(refused);
        self.true_time.publish(update.published);
        published.polls += u64::from(polled);
        let status = self.true_time.now_interval().status;
        log_changes(&mut published, status, &sources);
        self.snapshot.send_replace(Snapshot {
            sources,
            outcome: update.evaluation.outcome,
            estimate: update.published,
            status,
            refused,
            polls: published.polls,
        });
    }
}

fn log_changes(published: &mut Published, status: Status, sources: &[SourceReport]) {
    if status != published.last_status {
        tracing::info!(target: "ntp_sync", from = %published.last_status, to = %status, "status changed");
        published.last_status = status;
    }
    for (index, source) in sources.iter().enumerate() {
        let before = published.last_states.get(index);
        if before.is_some_and(|b| discriminant(b) == discriminant(&source.state)) {
            continue;
        }
        match &source.state {
            SourceState::Combined => {
                tracing::info!(target: "ntp_sync", server = %source.server, "source combined");
            }
            SourceState::Falseticker => {
                tracing::warn!(target: "ntp_sync", server = %source.server, "source is a falseticker");
            }
            SourceState::Unusable(reason) => {
                tracing::warn!(target: "ntp_sync", server = %source.server, %reason, "source unusable");
            }
        }
    }
    published.last_states = sources.iter().map(|s| s.state.clone()).collect();
}
