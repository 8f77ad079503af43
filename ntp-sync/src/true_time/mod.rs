//! The read side of the client: the published estimate, read lock-free, in the shape of
//! Spanner's TrueTime (`now()` returns an interval that contains true time).

use std::sync::Arc;

use hlc_core::PhysicalClock;

use crate::corrected::CorrectedClock;
use crate::proto::bound::{Health, PublishedBound, ReadPolicy, TimeInterval};
use crate::proto::discipline::DisciplineError;
use crate::proto::estimate::Estimate;
use crate::proto::leap::LeapInForce;
use crate::proto::watchdog::DisruptionKind;
use crate::steady_clock::SteadyClock;

/// A cheap, cloneable handle on the published estimate. Reading it takes one clock read and a
/// few atomic loads; no lock, no allocation.
#[derive(Clone)]
pub struct TrueTime {
    shared: Arc<Shared>,
}

struct Shared {
    bound: PublishedBound,
    clock: Arc<dyn PhysicalClock>,
    /// `clock` is the [`SteadyClock`]: read it inline rather than through the trait object.
    steady_clock: bool,
    /// The clock whose distance from the bound [`TrueTime::health`] counts.
    corrected: Option<CorrectedClock>,
}

impl std::fmt::Debug for TrueTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrueTime")
            .field("interval", &self.now_interval())
            .finish_non_exhaustive()
    }
}

impl TrueTime {
    /// A handle with no estimate yet, reading local time from `clock`. The clock must not
    /// step, nor run off its true rate by more than the drift bound: the estimate is kept
    /// against it (see [`SteadyClock`]).
    pub fn new(clock: Arc<dyn PhysicalClock>, policy: ReadPolicy) -> Self {
        Self::build(clock, false, policy, None)
    }

    /// A handle with no estimate yet on the [`SteadyClock`], which it reads inline: the
    /// cheapest [`now_interval`](Self::now_interval).
    pub fn with_steady_clock(policy: ReadPolicy) -> Self {
        Self::build(Arc::new(SteadyClock), true, policy, None)
    }

    /// A handle on `corrected`'s local clock whose [`health`](Self::health) counts how far
    /// the corrected clock is from the bound: the clock an HLC reads is then healthy only
    /// when it is close to true time, not just when the estimate is. When `corrected` smears
    /// leap seconds, so does the interval: it bounds the smeared truth.
    pub fn following(corrected: CorrectedClock, policy: ReadPolicy) -> Self {
        let clock = Arc::clone(corrected.local_clock());
        Self::build(clock, false, policy, Some(corrected))
    }

    pub(crate) fn build(
        clock: Arc<dyn PhysicalClock>,
        steady_clock: bool,
        policy: ReadPolicy,
        corrected: Option<CorrectedClock>,
    ) -> Self {
        // The bound reports the timescale of the clock it judges.
        let smear = corrected.as_ref().is_some_and(CorrectedClock::smears_leaps);
        let shared = Shared {
            bound: PublishedBound::new(policy, clock.resolution()).with_leap_smear(smear),
            clock,
            steady_clock,
            corrected,
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Publishes a new estimate, or withdraws it with `None`.
    pub fn publish(&self, estimate: Option<Estimate>) {
        self.shared.bound.publish(estimate);
    }

    /// Publishes a new estimate with the leap second in force, if any; see
    /// [`PublishedBound::publish_with_leap`].
    pub fn publish_with_leap(&self, estimate: Option<Estimate>, leap: Option<LeapInForce>) {
        self.shared.bound.publish_with_leap(estimate, leap);
    }

    /// Withdraws the estimate because of a disruption: the interval is unbounded with status
    /// [`Disrupted`](crate::Status::Disrupted), and the health says why, until the next
    /// [`publish`](Self::publish).
    pub fn publish_disrupted(&self, kind: DisruptionKind) {
        self.shared.bound.publish_disrupted(kind);
    }

    /// The disruption the estimate is withdrawn for, if it is.
    pub fn disruption(&self) -> Option<DisruptionKind> {
        self.shared.bound.disruption()
    }

    /// Records that the corrected clock refuses the estimate (beyond the panic threshold), or
    /// follows it again with `None`; [`health`](Self::health) reports it.
    pub fn set_refused(&self, refused: Option<DisciplineError>) {
        self.shared.bound.set_refused(refused);
    }

    /// The estimate in force, if any (possibly void; see [`TrueTime::now_interval`]).
    pub fn estimate(&self) -> Option<Estimate> {
        self.shared.bound.estimate()
    }

    /// The local clock the estimate is relative to.
    pub fn local_clock(&self) -> &Arc<dyn PhysicalClock> {
        &self.shared.clock
    }

    /// The settings.
    pub fn policy(&self) -> &ReadPolicy {
        self.shared.bound.policy()
    }

    /// Local time in nanoseconds since the Unix epoch.
    pub fn local_nanos(&self) -> i64 {
        (self.local_micros() as i64).saturating_mul(1_000)
    }

    /// The local clock now; through a [`CorrectedClock`] it follows, as that clock reads it
    /// (a step of the local clock not noticed yet read as if it had not happened), so that
    /// the interval stays where the corrected clock's reading is.
    #[inline]
    fn local_micros(&self) -> u64 {
        match (self.shared.steady_clock, &self.shared.corrected) {
            (true, _) => SteadyClock.now_micros(),
            (false, Some(corrected)) => corrected.local_reading(),
            (false, None) => self.shared.clock.now_micros(),
        }
    }

    /// The interval that contains true time now: one clock read, four atomic loads and a
    /// little integer arithmetic, all in microseconds.
    #[inline]
    pub fn now_interval(&self) -> TimeInterval {
        self.shared.bound.interval_at(self.local_micros())
    }

    /// Whether the clock an HLC would read is close enough to true time; see [`Health`].
    ///
    /// Reads the local clock once and judges, at that one instant, the interval and (when
    /// this handle follows a [`CorrectedClock`]) the corrected clock's reading within it.
    pub fn health(&self) -> Health {
        let now = self.local_micros();
        let corrected = self.shared.corrected.as_ref().map(|c| c.reading_at(now));
        self.shared.bound.health_at(now, corrected)
    }
}

#[cfg(test)]
mod tests;
