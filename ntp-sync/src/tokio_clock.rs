//! A wall clock driven by tokio's clock, for tests on paused time.

use hlc_core::PhysicalClock;
use tokio::time::Instant;

/// A [`PhysicalClock`] that starts at a given time and advances with tokio's clock: under
/// `#[tokio::test(start_paused = true)]` it moves exactly as far as `sleep` and timeouts
/// advance paused time, so client, responder and test all agree on time without real waits.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use hlc_core::PhysicalClock;
/// use ntp_sync::TokioClock;
///
/// let clock = TokioClock::starting_at(1_700_000_000_000_000);
/// tokio::time::sleep(std::time::Duration::from_secs(3)).await;
/// assert_eq!(clock.now_micros(), 1_700_000_003_000_000);
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TokioClock {
    start_micros: u64,
    origin: Instant,
}

impl TokioClock {
    /// A clock reading `start_micros` (since the Unix epoch) now. Call within a runtime.
    pub fn starting_at(start_micros: u64) -> Self {
        Self {
            start_micros,
            origin: Instant::now(),
        }
    }
}

impl PhysicalClock for TokioClock {
    fn now_micros(&self) -> u64 {
        let elapsed = u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.start_micros.saturating_add(elapsed)
    }
}
