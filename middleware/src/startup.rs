//! Start-up gating: wait until the local clock is healthy before serving or sending.
//!
//! A node that starts before time sync has measured its clock would answer every request
//! with `503` (or refuse every call) until it has; [`wait_healthy`] lets it hold back instead,
//! for a bounded time. It polls the [`HealthBoard`] (one atomic load a poll) and sleeps
//! through whatever sleep the caller's runtime provides, so this crate needs no runtime:
//!
//! ```
//! use std::time::Duration;
//! use hlc_core::health::{HealthBoard, UnhealthyReason};
//! use hlc_middleware::startup::wait_healthy;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let board = HealthBoard::new();
//! let time_sync = board.reporter("ntp");
//! time_sync.report(UnhealthyReason::Unsynchronised.into());
//! let waited = wait_healthy(&board, Duration::from_secs(5), tokio::time::sleep).await;
//! let error = waited.unwrap_err();
//! assert_eq!(error.reason, UnhealthyReason::Unsynchronised);
//! assert_eq!(error.to_string(), "clock still unhealthy after 5s: no time sync bound");
//! # }
//! ```

use std::future::Future;
use std::time::Duration;

use hlc_core::health::{ClockHealth, HealthBoard, UnhealthyReason};

/// How often [`wait_healthy`] reads the board: far finer than any source reports (a time
/// sync poll, a peer round), so waiting adds little to the moment the clock turns healthy.
pub const HEALTH_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The clock was still unhealthy when [`wait_healthy`] gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("clock still unhealthy after {waited:?}: {reason}")]
pub struct StillUnhealthy {
    /// The board's reason at the last read.
    pub reason: UnhealthyReason,
    /// How long it waited: the sum of its sleeps.
    pub waited: Duration,
}

/// Resolves once `board` reads healthy (at once if it already does), reading it every
/// [`HEALTH_POLL_INTERVAL`] and sleeping in between with `sleep` (`tokio::time::sleep`, or
/// any runtime's sleep).
///
/// Time is counted as the sum of the sleeps asked for, so it never gives up early, and with
/// a paused or virtual clock it waits in virtual time.
///
/// # Errors
///
/// [`StillUnhealthy`], naming the last reason, when the board is still unhealthy after
/// `timeout`.
pub async fn wait_healthy<S, F>(
    board: &HealthBoard,
    timeout: Duration,
    mut sleep: S,
) -> Result<(), StillUnhealthy>
where
    S: FnMut(Duration) -> F,
    F: Future<Output = ()>,
{
    let mut waited = Duration::ZERO;
    loop {
        let reason = match board.health() {
            ClockHealth::Healthy => return Ok(()),
            ClockHealth::Unhealthy(reason) => reason,
        };
        if waited >= timeout {
            return Err(StillUnhealthy { reason, waited });
        }
        let nap = HEALTH_POLL_INTERVAL.min(timeout - waited);
        sleep(nap).await;
        waited += nap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISRUPTED: ClockHealth = ClockHealth::Unhealthy(UnhealthyReason::Disrupted);

    #[tokio::test(start_paused = true)]
    async fn returns_at_once_when_healthy() {
        let board = HealthBoard::new();
        let start = tokio::time::Instant::now();
        wait_healthy(&board, Duration::from_secs(1), tokio::time::sleep)
            .await
            .unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn returns_within_a_poll_of_turning_healthy() {
        let board = HealthBoard::new();
        let reporter = board.reporter("ntp");
        reporter.report(DISRUPTED);
        let start = tokio::time::Instant::now();
        let turn = Duration::from_millis(2_350);
        tokio::spawn(async move {
            tokio::time::sleep(turn).await;
            reporter.report(ClockHealth::Healthy);
        });
        wait_healthy(&board, Duration::from_secs(10), tokio::time::sleep)
            .await
            .unwrap();
        let elapsed = start.elapsed();
        assert!(elapsed >= turn, "{elapsed:?}");
        assert!(elapsed <= turn + HEALTH_POLL_INTERVAL, "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_timeout_naming_the_last_reason() {
        let board = HealthBoard::new();
        let reporter = board.reporter("ntp");
        reporter.report(UnhealthyReason::Unsynchronised.into());
        let board_clone = board.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            reporter.report(DISRUPTED);
            drop(board_clone);
        });
        let start = tokio::time::Instant::now();
        let timeout = Duration::from_millis(1_250);
        let error = wait_healthy(&board, timeout, tokio::time::sleep)
            .await
            .unwrap_err();
        assert_eq!(error.reason, UnhealthyReason::Disrupted);
        assert_eq!(error.waited, timeout);
        assert_eq!(start.elapsed(), timeout);
    }
}
