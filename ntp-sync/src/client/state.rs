//! What the client's tasks share, and the step after every poll: select, discipline, publish,
//! and tell the world (snapshot channel and tracing) what changed.

use std::mem::discriminant;
use std::sync::{Arc, Mutex};

use hlc_core::PhysicalClock;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::corrected::CorrectedClock;
use crate::discipline::DisciplineError;
use crate::engine::{Engine, Outcome, SourceState};
use crate::estimate::{Estimate, Status, StepDetector};
use crate::net::{duration_nanos, local_nanos, lock};
use crate::report::SourceReport;
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
    estimate: Option<Estimate>,
    applied_sample_nanos: i64,
    step: StepDetector,
    refused: Option<DisciplineError>,
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
    pub(crate) fn new(engine: Engine, true_time: TrueTime, corrected: CorrectedClock) -> Self {
        let published = Published {
            estimate: None,
            applied_sample_nanos: i64::MIN,
            step: StepDetector::default(),
            refused: None,
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
        let now = local_nanos(&*self.clock);
        let monotonic = duration_nanos(self.monotonic_origin.elapsed());
        let mut engine = lock(&self.engine);
        if published.step.stepped(now, monotonic) {
            tracing::warn!(target: "ntp_sync", "local clock stepped; samples dropped, estimate withdrawn");
            engine.forget_samples();
            published.estimate = None;
        }
        let (evaluation, sources) = engine.report(now);
        drop(engine);
        if let Outcome::Agreed(estimate) = evaluation.outcome {
            self.discipline(&mut published, estimate);
        }
        published.estimate = evaluation.next_published(published.estimate);
        published.polls += u64::from(polled);
        self.true_time.publish(published.estimate);
        let status = self.true_time.now_interval().status;
        log_changes(&mut published, status, &sources);
        self.snapshot.send_replace(Snapshot {
            sources,
            outcome: evaluation.outcome,
            estimate: published.estimate,
            status,
            refused: published.refused,
            polls: published.polls,
        });
    }

    /// Feeds the corrected clock, once per new sample (re-applying an estimate made from the
    /// same samples would fool the frequency estimate into seeing no drift).
    fn discipline(&self, published: &mut Published, estimate: Estimate) {
        if estimate.newest_sample_nanos <= published.applied_sample_nanos {
            return;
        }
        published.applied_sample_nanos = estimate.newest_sample_nanos;
        match self
            .corrected
            .apply(estimate.at_nanos, estimate.offset_nanos)
        {
            Ok(action) => {
                tracing::debug!(target: "ntp_sync", ?action, "corrected clock updated");
                published.refused = None;
            }
            Err(error) => {
                tracing::error!(target: "ntp_sync", %error, "corrected clock refused the estimate");
                published.refused = Some(error);
            }
        }
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
