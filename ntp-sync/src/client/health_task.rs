//! The task behind [`NtpClient::report_health`](super::NtpClient::report_health): keeps a
//! [`HealthReporter`] saying what [`NtpClient::health`](super::NtpClient::health) says.

use std::sync::Arc;
use std::time::Duration;

use hlc_core::health::{ClockHealth, HealthReporter};
use tokio::time::MissedTickBehavior;

use super::state::Shared;

/// How often a reporting client re-reads its health between polls: the radius grows with
/// the estimate's age and a converging clock closes in on its bound without a new snapshot,
/// so waiting for snapshots alone could leave a stale report for a whole poll interval.
pub const HEALTH_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Reports now, before the caller goes on: a reporter counts as healthy until its first
/// report, and a client that has not polled yet must not look healthy for a moment.
pub(super) fn first_report(shared: &Shared, reporter: &HealthReporter) -> ClockHealth {
    let health = ClockHealth::from(shared.true_time.health());
    reporter.report(health);
    health
}

/// Reports after every snapshot and every [`HEALTH_REPORT_INTERVAL`]; a report that would
/// not change the reporter's word (`last`) is skipped, since reporting takes a lock.
pub(super) async fn report_health(
    shared: Arc<Shared>,
    reporter: HealthReporter,
    mut last: ClockHealth,
) {
    let mut changes = shared.snapshot.subscribe();
    let mut tick = tokio::time::interval(HEALTH_REPORT_INTERVAL);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let health = ClockHealth::from(shared.true_time.health());
        if last != health {
            reporter.report(health);
            last = health;
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tick.tick() => {}
        }
    }
}
