//! The tokio client: polls its servers in the background and publishes the bound.

mod builder;
mod health_task;
mod poller;
mod state;

use std::sync::Arc;

use hlc_core::health::HealthReporter;
use hlc_core::Timestamp;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use builder::{NtpClientBuilder, StartError};
pub use health_task::HEALTH_REPORT_INTERVAL;
pub use state::Snapshot;

use crate::commit_wait::CommitWaitError;
use crate::corrected::CorrectedClock;
use crate::proto::bound::{Health, TimeInterval};
use crate::proto::estimate::Status;
use crate::true_time::TrueTime;
use state::Shared;

/// An NTP client that polls several servers, rejects falsetickers and bounds true time.
///
/// It runs as tokio tasks from [`NtpClientBuilder::start`] until it is dropped. Reading the
/// bound ([`now_interval`](Self::now_interval), [`health`](Self::health), the
/// [`corrected_clock`](Self::corrected_clock)) is lock-free and never waits for the network.
pub struct NtpClient {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for NtpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtpClient")
            .field("interval", &self.now_interval())
            .finish_non_exhaustive()
    }
}

impl NtpClient {
    /// A builder; add servers, then [`start`](NtpClientBuilder::start).
    pub fn builder() -> NtpClientBuilder {
        NtpClientBuilder::default()
    }

    /// The interval that contains true time now (TrueTime's `now()`).
    pub fn now_interval(&self) -> TimeInterval {
        self.shared.true_time.now_interval()
    }

    /// A cheap cloneable handle on the bound, to hand to other tasks or threads.
    pub fn true_time(&self) -> TrueTime {
        self.shared.true_time.clone()
    }

    /// Whether the [`corrected_clock`](Self::corrected_clock) is close enough to true time to
    /// honour the HLC's max offset: the bound is tight, and the corrected clock lies close to
    /// it (not still slewing towards it, nor refusing it); see [`Health`].
    pub fn health(&self) -> Health {
        self.shared.true_time.health()
    }

    /// Keeps `reporter` saying what [`health`](Self::health) says, in hlc-core's terms (see
    /// [`proto::clock_health`](crate::proto::clock_health) for the mapping), so that the
    /// layers of `hlc-middleware` reading its [`HealthBoard`](hlc_core::health::HealthBoard)
    /// refuse to serve while this client's clock is untrusted.
    ///
    /// Reports before it returns (unsynchronised, before the first poll), then after every poll and
    /// every [`HEALTH_REPORT_INTERVAL`], on a task that stops with the client; the last
    /// report then stands, as a dropped reporter's does.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let board = hlc_core::health::HealthBoard::new();
    /// let mut client = ntp_sync::NtpClient::builder().server("pool.ntp.org:123").start()?;
    /// client.report_health(board.reporter("ntp"));
    /// # Ok(()) }
    /// ```
    pub fn report_health(&mut self, reporter: HealthReporter) {
        let first = health_task::first_report(&self.shared, &reporter);
        let task = health_task::report_health(Arc::clone(&self.shared), reporter, first);
        self.tasks.push(tokio::spawn(task));
    }

    /// The software-disciplined clock, for `Hlc::with_clock`.
    pub fn corrected_clock(&self) -> CorrectedClock {
        self.shared.corrected.clone()
    }

    /// Resolves once the status is [`Status::Synchronised`]; at once if it already is. Wrap it
    /// in `tokio::time::timeout`: with unreachable or disagreeing servers it waits forever.
    pub async fn wait_synced(&self) {
        let mut changes = self.shared.snapshot.subscribe();
        while self.now_interval().status != Status::Synchronised {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Waits until true time is certainly past `ts`; see [`TrueTime::commit_wait`].
    ///
    /// # Errors
    ///
    /// [`CommitWaitError::Unsynchronised`] when there is no bound.
    pub async fn commit_wait(&self, ts: Timestamp) -> Result<TimeInterval, CommitWaitError> {
        self.shared.true_time.commit_wait(ts).await
    }

    /// The latest snapshot of sources and estimate.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.snapshot.borrow().clone()
    }

    /// A channel that sees a new [`Snapshot`] after every poll.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.shared.snapshot.subscribe()
    }
}

impl Drop for NtpClient {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
