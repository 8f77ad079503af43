//! The published bound, without a clock: the estimate in a sequence lock, and what it says at
//! a given reading of the local clock (the interval, and whether the clock an HLC reads is
//! healthy). [`TrueTime`](crate::TrueTime) reads the local clock and asks this; the
//! simulation asks it at the readings it chooses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hlc_core::Timestamp;
use serde::{Deserialize, Serialize};

use super::discipline::DisciplineError;
use super::estimate::{Estimate, Status, StatusPolicy};
use super::leap::{Leap, LeapInForce};
use super::seqlock::SeqCell;
use super::watchdog::DisruptionKind;

/// True time at one instant: it lies in `[earliest, latest]`, unless `status` is
/// [`Status::Unsynchronised`] or [`Status::Disrupted`], in which case the interval is
/// unbounded (`earliest` is the epoch and `latest` the largest timestamp) and says nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TimeInterval {
    /// True time is not before this (rounded down to the microsecond).
    pub earliest: Timestamp,
    /// True time is not after this (rounded up to the microsecond).
    pub latest: Timestamp,
    /// Whether the bound holds, and how fresh it is.
    pub status: Status,
    /// A leap second the majority of servers announced, while it may still be ahead of this
    /// read (until the second after its step is certainly past); `None` otherwise. The
    /// interval already covers it (see [`crate::proto::leap`]): nothing to do but expect the
    /// corrected clock to repeat or skip a second at it, or to smear it when told to.
    pub leap: Option<Leap>,
}

impl TimeInterval {
    /// The interval that says nothing.
    pub fn unbounded() -> Self {
        Self {
            earliest: Timestamp::from_physical_micros(0),
            latest: Timestamp::from_physical_micros(hlc_core::MAX_PHYSICAL_MICROS),
            status: Status::Unsynchronised,
            leap: None,
        }
    }

    /// The interval that says nothing because of a disruption.
    pub fn disrupted() -> Self {
        Self {
            status: Status::Disrupted,
            ..Self::unbounded()
        }
    }

    /// Whether `ts` (its physical part) lies within the interval.
    pub fn contains(&self, ts: Timestamp) -> bool {
        let micros = ts.physical_micros();
        self.earliest.physical_micros() <= micros && micros <= self.latest.physical_micros()
    }

    /// Half the interval's width: the worst-case error of its midpoint.
    pub fn radius(&self) -> Duration {
        let width = self.latest.physical_micros() - self.earliest.physical_micros();
        Duration::from_micros(width.div_ceil(2))
    }

    /// The worst-case error of a clock reading `micros`: its distance to the far end of the
    /// interval (beyond the width when the reading lies outside).
    pub fn worst_error(&self, micros: u64) -> Duration {
        let below = micros.saturating_sub(self.earliest.physical_micros());
        let above = self.latest.physical_micros().saturating_sub(micros);
        Duration::from_micros(below.max(above))
    }
}

/// Whether the clock an HLC reads is close enough to true time to honour its max offset.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Health {
    /// The bound holds (synchronised or free-running) and the clock is within the limit of
    /// true time.
    Healthy {
        /// How far the clock may be from true time: when a corrected clock's reading is
        /// judged (an [`NtpClient`](crate::NtpClient)'s health does), its worst-case error,
        /// from the reading to the far end of the interval; otherwise the interval's radius.
        radius: Duration,
    },
    /// No bound at all.
    Unsynchronised,
    /// No bound since a disruption (a suspend, a pause, a step of the local clock): the
    /// corrected clock may be off by the whole gap until the client has resynchronised.
    Disrupted {
        /// What happened.
        kind: DisruptionKind,
    },
    /// A bound, but too wide: two nodes each this far off could be twice as far apart.
    RadiusTooLarge {
        /// The current radius.
        radius: Duration,
        /// The configured limit (a share of max-offset).
        limit: Duration,
    },
    /// The bound is tight, but the corrected clock is not yet close to it: it is slewing
    /// towards a new estimate, or holding still after a backward step, and may be `error`
    /// away from true time.
    Converging {
        /// The corrected clock's worst-case error now.
        error: Duration,
        /// The configured limit.
        limit: Duration,
    },
    /// The bound is fine, but the corrected clock refused to follow it (the offset is beyond
    /// the panic threshold), so stamps from that clock are far from true time.
    CorrectionRefused {
        /// How far true time is from the local clock.
        offset: Duration,
    },
}

impl Health {
    /// Whether the node may keep stamping with its clock.
    pub fn is_healthy(&self) -> bool {
        matches!(self, Self::Healthy { .. })
    }
}

/// Settings of the read side.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ReadPolicy {
    /// Drift bound in ppb; the radius grows at this rate with the estimate's age.
    pub drift_ppb: i64,
    /// Freshness and void-after limits.
    pub status: StatusPolicy,
    /// Largest radius that is still healthy.
    pub health_limit: Duration,
}

/// The default share of max offset that a clock's worst-case error may use and stay healthy:
/// hlc-core's rule, [`HealthPolicy::DEFAULT_RADIUS_LIMIT`](hlc_core::health::HealthPolicy::DEFAULT_RADIUS_LIMIT)
/// as a share of [`DEFAULT_MAX_OFFSET`](hlc_core::DEFAULT_MAX_OFFSET) (a half: two nodes
/// each within half of max offset of true time are within max offset of each other).
#[allow(clippy::cast_precision_loss)] // Both are far below 2^53 ns: exact in an f64.
pub const DEFAULT_HEALTH_SHARE: f64 = hlc_core::health::HealthPolicy::DEFAULT_RADIUS_LIMIT
    .as_nanos() as f64
    / hlc_core::DEFAULT_MAX_OFFSET.as_nanos() as f64;

/// The estimate as published, and the arithmetic of reading it: lock-free, allocation-free.
#[derive(Debug)]
pub struct PublishedBound {
    /// The read path, in microseconds: `[at, earliest_offset, latest_offset, newest_sample,
    /// disruption, leap, leap_step]` with the offsets already rounded outwards; `at == 0`
    /// means no estimate, and a non-zero `disruption` (a [`DisruptionKind`]'s code) that
    /// there is none because of a disruption; a non-zero `leap` (a [`LeapInForce`]'s code)
    /// that the estimate counts the continuous numbering of the leap stepping at `leap_step`
    /// (in nanoseconds).
    bounds: SeqCell<7>,
    /// The estimate as published, in nanoseconds, for [`PublishedBound::estimate`].
    estimate: SeqCell<5>,
    /// How far a reading of the local clock may lag the time it stands for, in whole
    /// microseconds.
    resolution_micros: i64,
    /// The drift bound as a 32.32 fixed-point fraction, rounded up.
    drift_per_micro_q32: u64,
    free_running_after_micros: i64,
    void_after_micros: i64,
    policy: ReadPolicy,
    /// The size of the offset the corrected clock refused, in nanoseconds; 0 when none.
    refused_nanos: AtomicU64,
    /// Report the smeared timescale around a leap second.
    smear: bool,
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

impl PublishedBound {
    /// No estimate yet, for a local clock of `resolution` (see
    /// [`PhysicalClock::resolution`](hlc_core::PhysicalClock::resolution)).
    pub fn new(policy: ReadPolicy, resolution: Duration) -> Self {
        Self {
            bounds: SeqCell::new([0; 7]),
            estimate: SeqCell::new([0; 5]),
            resolution_micros: micros(resolution).max(1),
            drift_per_micro_q32: drift_q32(policy.drift_ppb),
            free_running_after_micros: micros(policy.status.free_running_after),
            void_after_micros: micros(policy.status.void_after),
            policy,
            refused_nanos: AtomicU64::new(0),
            smear: crate::proto::leap::DEFAULT_LEAP_SMEAR,
        }
    }

    /// The same bound, reporting the smeared timescale around a leap second when `smear` is
    /// set (default [`DEFAULT_LEAP_SMEAR`](crate::proto::leap::DEFAULT_LEAP_SMEAR)): the
    /// timescale of a corrected clock that smears.
    pub fn with_leap_smear(mut self, smear: bool) -> Self {
        self.smear = smear;
        self
    }

    /// Whether the bound reports the smeared timescale around a leap second.
    pub fn smears_leaps(&self) -> bool {
        self.smear
    }

    /// Withdraws the estimate because of a disruption: the interval is unbounded with status
    /// [`Status::Disrupted`] until the next [`publish`](Self::publish).
    pub fn publish_disrupted(&self, kind: DisruptionKind) {
        self.bounds.store([0, 0, 0, 0, kind.code(), 0, 0]);
        self.estimate.store([0; 5]);
    }

    /// The disruption the estimate is withdrawn for, if it is.
    pub fn disruption(&self) -> Option<DisruptionKind> {
        DisruptionKind::from_code(self.bounds.load()[4])
    }

    /// Publishes a new estimate, or withdraws it with `None`.
    pub fn publish(&self, estimate: Option<Estimate>) {
        self.publish_with_leap(estimate, None);
    }

    /// Publishes a new estimate with the leap second in force, if any: the estimate then
    /// counts the leap's continuous numbering, and reads report Unix time around it (see
    /// [`crate::proto::leap`]).
    pub fn publish_with_leap(&self, estimate: Option<Estimate>, leap: Option<LeapInForce>) {
        let Some(e) = estimate else {
            self.bounds.store([0; 7]);
            self.estimate.store([0; 5]);
            return;
        };
        let low = e
            .offset_nanos
            .saturating_sub(e.radius_nanos)
            .div_euclid(1_000);
        let high = e
            .offset_nanos
            .saturating_add(e.radius_nanos)
            .saturating_add(999)
            .div_euclid(1_000);
        // The anchor rounds down, so the interval only ever grows with the rounding.
        let at = e.at_nanos.div_euclid(1_000).max(1);
        let newest = e.newest_sample_nanos.div_euclid(1_000);
        let (leap_code, leap_step) = leap.map_or((0, 0), |l| (l.code(), l.leap.step_nanos()));
        let bounds = [at, low, high, newest, 0, leap_code as i64, leap_step];
        self.bounds.store(bounds.map(|word| word as u64));
        let (at, offset, radius, newest) = (
            e.at_nanos,
            e.offset_nanos,
            e.radius_nanos,
            e.newest_sample_nanos,
        );
        let words = [1, at, offset, radius, newest];
        self.estimate.store(words.map(|word| word as u64));
    }

    /// Records that the corrected clock refuses the estimate (beyond the panic threshold), or
    /// follows it again with `None`; [`health_at`](Self::health_at) reports it.
    pub fn set_refused(&self, refused: Option<DisciplineError>) {
        let nanos = match refused {
            Some(DisciplineError::PanicThreshold { offset, .. }) => {
                u64::try_from(offset.as_nanos()).unwrap_or(u64::MAX).max(1)
            }
            None => 0,
        };
        self.refused_nanos.store(nanos, Ordering::Relaxed);
    }

    /// The estimate in force, if any (possibly void; see [`PublishedBound::interval_at`]).
    pub fn estimate(&self) -> Option<Estimate> {
        let [has, at, offset, radius, newest] = self.estimate.load();
        (has == 1).then_some(Estimate {
            at_nanos: at as i64,
            offset_nanos: offset as i64,
            radius_nanos: radius as i64,
            newest_sample_nanos: newest as i64,
        })
    }

    /// The settings.
    pub fn policy(&self) -> &ReadPolicy {
        &self.policy
    }

    /// The interval when the local clock reads `local_micros`.
    #[inline]
    pub fn interval_at(&self, local_micros: u64) -> TimeInterval {
        let shared = self;
        let now = local_micros as i64;
        let [at, low, high, newest, disruption, leap, leap_step] =
            shared.bounds.load().map(|word| word as i64);
        if disruption != 0 {
            return TimeInterval::disrupted();
        }
        let freshness = now.saturating_sub(newest);
        if at == 0 || freshness >= shared.void_after_micros {
            return TimeInterval::unbounded();
        }
        // The bound widens at the drift bound with the estimate's age, rounded up; a multiply
        // and a shift rather than a division, since this is the hot path.
        let age = (now - at).max(0) as u64;
        let growth = (age.saturating_mul(shared.drift_per_micro_q32) >> 32) as i64 + 1;
        let status = match freshness >= shared.free_running_after_micros {
            true => Status::FreeRunning,
            false => Status::Synchronised,
        };
        // Microseconds since 1970 plus offsets within ±2^62: no overflow. The reading may
        // lag the local time it stands for by the clock's resolution, so only the upper end
        // moves by it.
        let earliest = now + low - growth;
        let latest = now + high + growth + shared.resolution_micros;
        // Built inside the branch that returns it, the interval is written where the caller
        // reads it. Built before a `match` on `leap` and returned from it, it was assembled
        // on the stack and copied out, and the copy read its one-byte status back as part of
        // a wider word before the store had landed (a store-forwarding stall): 15 ns for this
        // read instead of 9 (measured with criterion, and perf's annotation of the stall).
        if leap == 0 {
            return TimeInterval {
                earliest: micros_timestamp(earliest),
                latest: micros_timestamp(latest),
                status,
                leap: None,
            };
        }
        self.around_leap((earliest, latest), status, leap as u64, leap_step)
    }

    /// The interval whose ends `(earliest, latest)` count the continuous numbering of the
    /// leap published as `code` and `step`, in Unix time as reported.
    #[cold]
    fn around_leap(
        &self,
        (earliest, latest): (i64, i64),
        status: Status,
        code: u64,
        step: i64,
    ) -> TimeInterval {
        let Some(leap) = Leap::from_words(code, step) else {
            return TimeInterval {
                earliest: micros_timestamp(earliest),
                latest: micros_timestamp(latest),
                status,
                leap: None,
            };
        };
        let in_force = LeapInForce {
            leap,
            measured_after: code & 4 != 0,
        };
        let (low, high) = (earliest * 1_000, latest * 1_000);
        let (low, high) = in_force.report(low, high, self.smear);
        // The smear's arithmetic is in nanoseconds, on ends that stand for whole
        // microseconds: a microsecond more either way covers every nanosecond within them.
        let slack = i64::from(self.smear) * 1_000;
        let (low, high) = (low - slack, high + slack);
        TimeInterval {
            earliest: micros_timestamp(low.div_euclid(1_000)),
            latest: micros_timestamp((high + 999).div_euclid(1_000)),
            status,
            leap: in_force.pending_at(earliest * 1_000).then_some(leap),
        }
    }

    /// Whether the clock an HLC reads is close enough to true time, at one reading of the
    /// local clock; see [`Health`]. `corrected` is what the corrected clock reads at that
    /// same local reading, when there is one to judge (without it, the interval's radius is
    /// judged alone).
    pub fn health_at(&self, local_micros: u64, corrected: Option<u64>) -> Health {
        if let Some(kind) = self.disruption() {
            return Health::Disrupted { kind };
        }
        let refused = self.refused_nanos.load(Ordering::Relaxed);
        if refused != 0 {
            let offset = Duration::from_nanos(refused);
            return Health::CorrectionRefused { offset };
        }
        let interval = self.interval_at(local_micros);
        if !interval.status.bounds_true_time() {
            return Health::Unsynchronised;
        }
        let radius = interval.radius();
        let limit = self.policy.health_limit;
        if radius > limit {
            return Health::RadiusTooLarge { radius, limit };
        }
        let Some(reading) = corrected else {
            return Health::Healthy { radius };
        };
        let error = interval.worst_error(reading);
        match error <= limit {
            true => Health::Healthy { radius: error },
            false => Health::Converging { error, limit },
        }
    }
}

/// `ppb / 10^9` as a 32.32 fixed-point number, rounded up.
fn drift_q32(ppb: i64) -> u64 {
    let ppb = u64::try_from(ppb).unwrap_or(0).min(1_000_000_000);
    (ppb << 32).div_ceil(1_000_000_000)
}

#[inline]
fn micros_timestamp(micros: i64) -> Timestamp {
    Timestamp::from_physical_micros(micros.max(0) as u64)
}
