//! What the client's tasks share, and the step after every poll and every watchdog heartbeat
//! that saw a disruption: the [`Tracker`] decides, this publishes and tells the world
//! (snapshot channel and tracing) what changed, and wakes the pollers after a disruption.

use std::mem::discriminant;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hlc_core::PhysicalClock;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::corrected::CorrectedClock;
use crate::host_clocks::read_host_clocks;
use crate::kernel::{KernelError, LocalRead};
use crate::lock::lock;
use crate::proto::combine::Conflict;
use crate::proto::discipline::DisciplineError;
use crate::proto::engine::SourceReport;
use crate::proto::engine::{Engine, Outcome, SourceState};
use crate::proto::estimate::{Estimate, Status};
use crate::proto::kernel::KernelView;
use crate::proto::leap::Leap;
use crate::proto::tracking::{Readings, Tracker, Update};
use crate::proto::watchdog::Disruption;
use crate::readings::{duration_nanos, local_nanos};
use crate::true_time::TrueTime;

/// Everything known after the latest poll, as published on [`NtpClient::subscribe`].
///
/// [`NtpClient::subscribe`]: crate::NtpClient::subscribe
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
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
    /// The disruption the estimate is withdrawn for, while the status is
    /// [`Disrupted`](Status::Disrupted).
    pub disruption: Option<Disruption>,
    /// The latest disruption seen, of any kind (a step of the system clock included, which
    /// does not disrupt an estimate on the steady clock).
    pub last_disruption: Option<Disruption>,
    /// Disruptions seen so far.
    pub disruptions: u64,
    /// Polls completed so far, all sources together (reads of the kernel included).
    pub polls: u64,
    /// The kernel's view at its latest read, when the kernel is a source and could be read.
    pub kernel: Option<KernelView>,
    /// Set while the network's and the kernel's bounds do not meet: one of them lies, so
    /// nothing is published and the status is unsynchronised.
    pub conflict: Option<Conflict>,
    /// The leap second the majority of servers announced, while it is still ahead (as
    /// [`TimeInterval::leap`](crate::TimeInterval::leap) says when the snapshot was taken).
    #[serde(default)]
    pub leap: Option<Leap>,
}

impl Snapshot {
    pub(crate) fn initial() -> Self {
        Self {
            sources: Vec::new(),
            outcome: Outcome::Undecided,
            estimate: None,
            status: Status::Unsynchronised,
            refused: None,
            disruption: None,
            last_disruption: None,
            disruptions: 0,
            polls: 0,
            kernel: None,
            conflict: None,
            leap: None,
        }
    }
}

struct Published {
    tracker: Tracker,
    polls: u64,
    last_disruption: Option<Disruption>,
    disruptions: u64,
    last_status: Status,
    last_states: Vec<SourceState>,
    kernel: Option<KernelView>,
    last_kernel_reason: Option<String>,
    in_conflict: bool,
    last_leap: Option<Leap>,
}

pub(crate) struct Shared {
    pub(crate) engine: Mutex<Engine>,
    published: Mutex<Published>,
    pub(crate) true_time: TrueTime,
    pub(crate) corrected: CorrectedClock,
    pub(crate) clock: Arc<dyn PhysicalClock>,
    pub(crate) snapshot: watch::Sender<Snapshot>,
    /// Counts disruptions that withdrew the estimate; the pollers watch it to poll at once.
    pub(crate) resync: watch::Sender<u64>,
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
            last_disruption: None,
            disruptions: 0,
            last_status: Status::Unsynchronised,
            last_states: Vec::new(),
            kernel: None,
            last_kernel_reason: None,
            in_conflict: false,
            last_leap: None,
        };
        Self {
            engine: Mutex::new(engine),
            published: Mutex::new(published),
            clock: Arc::clone(true_time.local_clock()),
            true_time,
            corrected,
            snapshot: watch::Sender::new(Snapshot::initial()),
            resync: watch::Sender::new(0),
            monotonic_origin: Instant::now(),
        }
    }

    /// Takes in a read of the kernel (on the local clock), and publishes.
    pub(crate) fn kernel_read(&self, read: Result<LocalRead, KernelError>) {
        let mut published = lock(&self.published);
        let (view, reason) = match &read {
            Ok(read) => (
                Some(read.view),
                read.view.reading.unsynchronised().map(|r| r.to_string()),
            ),
            Err(error) => (None, Some(error.to_string())),
        };
        if reason != published.last_kernel_reason {
            match &reason {
                Some(reason) => {
                    tracing::warn!(target: "ntp_sync", %reason, "kernel gives no bound");
                }
                None => tracing::info!(target: "ntp_sync", "kernel gives a bound"),
            }
            published.last_kernel_reason = reason;
        }
        let estimate = read.ok().and_then(|read| read.estimate());
        published.tracker.set_kernel(estimate);
        published.kernel = view;
        drop(published);
        self.refresh(true);
    }

    /// The watchdog's settings, if it runs.
    pub(crate) fn watchdog_heartbeat(&self) -> Option<Duration> {
        lock(&self.published)
            .tracker
            .watchdog()
            .map(|c| c.heartbeat)
    }

    fn readings(&self, watchdog: bool) -> Readings {
        Readings {
            local_nanos: local_nanos(&*self.clock),
            monotonic_nanos: duration_nanos(self.monotonic_origin.elapsed()),
            host: watchdog.then(read_host_clocks),
        }
    }

    /// Re-evaluates after a poll (`polled`) or a timer, and publishes.
    pub(crate) fn refresh(&self, polled: bool) {
        let mut published = lock(&self.published);
        let readings = self.readings(published.tracker.watchdog().is_some());
        let mut engine = lock(&self.engine);
        let update = published.tracker.refresh(&mut engine, readings);
        let sources = engine.describe(&update.evaluation, readings.local_nanos);
        drop(engine);
        published.polls += u64::from(polled);
        self.publish(&mut published, update, sources);
    }

    /// A heartbeat of the watchdog, the next one `sleep` later; publishes only when it saw a
    /// disruption.
    pub(crate) fn heartbeat(&self, sleep: Duration) {
        let mut published = lock(&self.published);
        let readings = self.readings(true);
        let mut engine = lock(&self.engine);
        let Some(update) = published.tracker.heartbeat(&mut engine, readings, sleep) else {
            return;
        };
        let sources = engine.describe(&update.evaluation, readings.local_nanos);
        drop(engine);
        self.publish(&mut published, update, sources);
    }

    fn publish(&self, published: &mut Published, update: Update, mut sources: Vec<SourceReport>) {
        for &index in &update.probable_smear {
            if let Some(source) = sources.get_mut(index) {
                source.probable_smear = true;
            }
        }
        if let Some(disruption) = update.detected {
            self.disrupted(published, disruption);
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
        let leap = update.leap;
        if let Some(correction) = update.correction {
            self.corrected
                .publish_with_leap(correction, leap.map(|l| l.leap));
        }
        let refused = published.tracker.refused();
        self.true_time.set_refused(refused);
        match update.disruption {
            Some(disruption) => self.true_time.publish_disrupted(disruption.kind),
            None => self.true_time.publish_with_leap(update.published, leap),
        }
        let interval = self.true_time.now_interval();
        let status = interval.status;
        log_leap(published, interval.leap);
        log_changes(published, status, &sources);
        log_conflict(published, update.conflict.as_ref());
        self.snapshot.send_replace(Snapshot {
            sources,
            outcome: update.evaluation.outcome,
            estimate: update.published,
            status,
            refused,
            disruption: update.disruption,
            last_disruption: published.last_disruption,
            disruptions: published.disruptions,
            polls: published.polls,
            kernel: published.kernel,
            conflict: update.conflict,
            leap: interval.leap,
        });
    }

    /// Tells the world about a disruption, and wakes the pollers when it withdrew the
    /// estimate.
    fn disrupted(&self, published: &mut Published, disruption: Disruption) {
        published.last_disruption = Some(disruption);
        published.disruptions += 1;
        let (kind, gap_seconds) = (disruption.kind, disruption.gap_nanos as f64 / 1e9);
        if disruption.kind.invalidates_estimate() {
            tracing::warn!(target: "ntp_sync", %kind, gap_seconds, "clock disrupted; samples dropped, estimate withdrawn, polling every server at once");
            self.resync.send_modify(|count| *count += 1);
        } else {
            tracing::warn!(target: "ntp_sync", %kind, gap_seconds, "system clock stepped; the estimate, kept on another clock, still holds");
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
            SourceState::Falseticker if source.probable_smear => {
                tracing::warn!(target: "ntp_sync", server = %source.server, "source disagrees by about a leap smear: probably a smearing server among stepping ones (or the other way round); do not mix them");
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

fn log_conflict(published: &mut Published, conflict: Option<&Conflict>) {
    if let (Some(conflict), false) = (conflict, published.in_conflict) {
        tracing::warn!(
            target: "ntp_sync",
            network = ?conflict.network,
            kernel = ?conflict.kernel,
            "network and kernel bounds do not meet: one of them lies; no bound published"
        );
    }
    published.in_conflict = conflict.is_some();
}

fn log_leap(published: &mut Published, leap: Option<Leap>) {
    if leap == published.last_leap {
        return;
    }
    match (leap, published.last_leap) {
        (Some(leap), _) => {
            tracing::info!(target: "ntp_sync", %leap, "leap second pending");
        }
        (None, Some(passed)) => {
            tracing::info!(target: "ntp_sync", leap = %passed, "leap second passed");
        }
        (None, None) => {}
    }
    published.last_leap = leap;
}
