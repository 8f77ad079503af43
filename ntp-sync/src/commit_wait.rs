//! Commit wait, Spanner's rule (Corbett et al., "Spanner: Google's globally-distributed
//! database", OSDI 2012, §4.1.2): after choosing commit timestamp `ts`, do not make the write
//! visible until true time is certainly past `ts`, that is until `earliest > ts`. Then any
//! transaction that starts afterwards, anywhere, gets a later timestamp from a clock within
//! the bound.

use std::time::Duration;

use hlc_core::Timestamp;

use crate::proto::bound::TimeInterval;
use crate::true_time::TrueTime;

/// Why commit wait could not finish.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommitWaitError {
    /// There is no bound on true time (unsynchronised or disrupted), so no wait would be long
    /// enough to be sure.
    #[error("cannot commit-wait for {ts}: true time is unbounded (unsynchronised)")]
    Unsynchronised {
        /// The timestamp waited for.
        ts: Timestamp,
    },
}

impl TrueTime {
    /// Waits until the earliest possible true time is after `ts` (its physical part), and
    /// returns the interval that proved it. Sleeps on tokio's clock; wrap it in
    /// `tokio::time::timeout` to bound the wait.
    ///
    /// # Errors
    ///
    /// [`CommitWaitError::Unsynchronised`] when there is no bound, at the start or at any
    /// point during the wait.
    pub async fn commit_wait(&self, ts: Timestamp) -> Result<TimeInterval, CommitWaitError> {
        loop {
            let interval = self.now_interval();
            if !interval.status.bounds_true_time() {
                return Err(CommitWaitError::Unsynchronised { ts });
            }
            let earliest = interval.earliest.physical_micros();
            if earliest > ts.physical_micros() {
                return Ok(interval);
            }
            tokio::time::sleep(self.time_to_pass(ts.physical_micros() - earliest)).await;
        }
    }

    /// Local time for `earliest` to move `gap_micros` and one more: earliest advances slower
    /// than the local clock by the drift bound, so ask for that much more.
    fn time_to_pass(&self, gap_micros: u64) -> Duration {
        let drift_ppb = u64::try_from(self.policy().drift_ppb).unwrap_or(0);
        let margin = gap_micros.saturating_mul(drift_ppb) / 1_000_000_000;
        Duration::from_micros(gap_micros.saturating_add(margin).saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::bound::ReadPolicy;
    use crate::proto::estimate::{Estimate, StatusPolicy};
    use crate::TokioClock;
    use std::sync::Arc;
    use tokio::time::Instant;

    const START_MICROS: u64 = 1_700_000_000_000_000;

    fn true_time() -> TrueTime {
        let policy = ReadPolicy {
            drift_ppb: crate::proto::sample::DEFAULT_DRIFT_BOUND_PPB,
            status: StatusPolicy::default(),
            health_limit: Duration::from_millis(250),
        };
        TrueTime::new(Arc::new(TokioClock::starting_at(START_MICROS)), policy)
    }

    fn publish(tt: &TrueTime, radius_ms: i64) {
        let now = tt.local_nanos();
        tt.publish(Some(Estimate {
            offset_nanos: 0,
            radius_nanos: radius_ms * 1_000_000,
            at_nanos: now,
            newest_sample_nanos: now,
        }));
    }

    #[tokio::test(start_paused = true)]
    async fn waits_out_the_uncertainty_then_resolves() {
        let tt = true_time();
        publish(&tt, 7);
        let ts = Timestamp::from_physical_micros(START_MICROS);
        let started = Instant::now();
        let interval = tt.commit_wait(ts).await.unwrap();
        let waited = started.elapsed();
        assert!(interval.earliest.physical_micros() > START_MICROS);
        // Earliest is now − 7 ms (and a little drift), so about 7 ms pass.
        assert!(waited >= Duration::from_millis(7), "{waited:?}");
        // tokio timers tick in whole milliseconds.
        assert!(waited <= Duration::from_millis(8), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_timestamp_already_past_needs_no_wait() {
        let tt = true_time();
        publish(&tt, 1);
        let ts = Timestamp::from_physical_micros(START_MICROS - 5_000);
        let started = Instant::now();
        tt.commit_wait(ts).await.unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn unsynchronised_is_an_error_not_a_guess() {
        let tt = true_time();
        let ts = Timestamp::from_physical_micros(START_MICROS);
        let error = tt.commit_wait(ts).await.unwrap_err();
        assert_eq!(error, CommitWaitError::Unsynchronised { ts });
        assert!(error
            .to_string()
            .starts_with("cannot commit-wait for 2023-11-14T22:13:20.000000Z#0"));
    }

    #[tokio::test(start_paused = true)]
    async fn losing_the_bound_mid_wait_is_an_error() {
        let tt = true_time();
        publish(&tt, 10);
        let withdraw = {
            let tt = tt.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                tt.publish(None);
            })
        };
        // Far enough ahead that the wait is still going when the bound is withdrawn.
        let ts = Timestamp::from_physical_micros(START_MICROS + 1_000_000);
        assert!(tt.commit_wait(ts).await.is_err());
        withdraw.await.unwrap();
    }
}
