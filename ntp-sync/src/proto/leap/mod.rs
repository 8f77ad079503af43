//! Leap seconds: which one the servers announce, and what it does to the bound and to the
//! corrected clock.
//!
//! **The announcement.** RFC 5905 §7.3 gives every response a leap indicator: 1 announces
//! that the last minute of the current UTC month has 61 seconds (23:59:60 inserted), 2 that
//! it has 59 (23:59:59 deleted); §9 applies it at the end of that month. Servers announce it
//! during the month, many a day ahead, some all month. The client honours an announcement
//! only when a strict majority of the survivors of selection make the same one
//! ([`majority`]), the rule that decides the time itself; the month is the one the estimate
//! says it is, refused while the estimate straddles a month's end.
//!
//! **Two numberings.** The bound counts Unix time, and Unix time (POSIX) has no number for
//! 23:59:60: at an inserted leap a kernel, and an NTP server's clock, step back one second,
//! at a deleted one forward. The local clock the estimate is kept on does not step. So the
//! client counts in the *continuous* numbering, Unix time as it read before the leap,
//! carried on without the step, from the announcement until the leap is behind it:
//! samples taken before the step measure it directly, and those after it are moved back
//! by the step ([`Leap::shift_nanos`]). What a read reports is mapped from it:
//!
//! - before the step, the continuous reading itself;
//! - in the second after the step, either reading: servers (and kernels) differ on whether
//!   the repeated second shows the old or the new number, so the interval covers both;
//! - after that, the continuous reading moved by the step, but only once an estimate from
//!   samples taken after the step is in force. Until then the estimate in force was measured
//!   before the step: the interval covers both readings, widened by a second on the side the
//!   step moves to, so that a majority announcing a leap that does not come cannot make it
//!   lie. (Health then says the radius is too large: a caller should stop stamping, as for
//!   any bound too wide for its max offset, until the first estimate after the leap.)
//!
//! **Smear.** Opt-in ([`DEFAULT_LEAP_SMEAR`]): instead of stepping, the reported time moves
//! by the step linearly over [`SMEAR_WINDOW`] centred on the leap, from noon before to noon
//! after: the convention of the large public time services that smear (they slow or speed
//! their clocks by about 11.6 ppm over those 24 hours rather than repeat a second). The
//! reported time then never repeats or jumps, and the interval is in the smeared timescale,
//! the one the corrected clock reports: it contains the smeared truth. Never mix smeared and
//! unsmeared sources: they disagree by up to half a second during the window;
//! [`expected_disagreement`] lets selection say so when it sees it.

mod calendar;
mod follow;
#[cfg(test)]
mod tests;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use calendar::{civil_date, month_end_after};
pub use follow::{Followed, LeapFollower};

use crate::proto::packet::LeapIndicator;

const SECOND: i64 = 1_000_000_000;

/// Whether the corrected clock and the bound smear leap seconds unless told otherwise: they
/// do not, so that they report what unsmeared servers (most of them) report.
pub const DEFAULT_LEAP_SMEAR: bool = false;

/// The length of a smear, centred on the leap: 24 hours, noon to noon UTC.
pub const SMEAR_WINDOW: Duration = Duration::from_secs(86_400);

/// How close to the leap, at the latest the truth may be, the client stops taking in samples
/// until the step is certainly behind it: RFC 5905's MAXDISP (16 s), the largest error a
/// valid server may admit, so that no sample from a server that may already have stepped
/// (early by its own error) is combined with one from a server that has not.
pub const LEAP_GUARD: Duration = Duration::from_secs(16);

/// How long after a leap new announcements are ignored: a server that still announces the
/// leap just passed would otherwise announce one at the end of the new month.
pub const LEAP_COOLDOWN: Duration = Duration::from_secs(86_400);

/// Which way the leap goes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum LeapKind {
    /// 23:59:60 is inserted (leap indicator 1).
    Insert,
    /// 23:59:59 is deleted (leap indicator 2); it never happened so far.
    Delete,
}

impl LeapKind {
    /// The leap an indicator announces, if any.
    pub fn from_indicator(indicator: LeapIndicator) -> Option<Self> {
        match indicator {
            LeapIndicator::InsertSecond => Some(Self::Insert),
            LeapIndicator::DeleteSecond => Some(Self::Delete),
            LeapIndicator::NoWarning | LeapIndicator::Unsynchronised => None,
        }
    }

    /// How far Unix time moves at the step, in nanoseconds: back a second for an inserted
    /// leap, forward a second for a deleted one.
    pub fn shift_nanos(self) -> i64 {
        match self {
            Self::Insert => -SECOND,
            Self::Delete => SECOND,
        }
    }

    fn code(self) -> u64 {
        match self {
            Self::Insert => 1,
            Self::Delete => 2,
        }
    }
}

/// A leap second: which way, and the midnight it ends a month at.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Leap {
    /// Inserted or deleted.
    pub kind: LeapKind,
    /// Unix seconds of 00:00:00 UTC on the first day of the month after the leap.
    pub midnight_unix_secs: i64,
}

impl std::fmt::Display for Leap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (year, month, day) = civil_date(self.midnight_unix_secs - 1);
        let what = match self.kind {
            LeapKind::Insert => "inserted",
            LeapKind::Delete => "deleted",
        };
        write!(
            f,
            "leap second {what} at the end of {year:04}-{month:02}-{day:02} UTC"
        )
    }
}

impl Leap {
    /// The leap `kind` at the end of the UTC month that Unix time `unix_nanos` falls in.
    pub fn at_month_end(kind: LeapKind, unix_nanos: i64) -> Self {
        Self {
            kind,
            midnight_unix_secs: month_end_after(unix_nanos.div_euclid(SECOND)),
        }
    }

    /// When Unix time steps, in the continuous numbering, in nanoseconds: at the midnight for
    /// an inserted second (the clock goes back to 23:59:59), a second before it for a
    /// deleted one (23:59:59 is skipped).
    pub fn step_nanos(&self) -> i64 {
        let midnight = self.midnight_unix_secs.saturating_mul(SECOND);
        match self.kind {
            LeapKind::Insert => midnight,
            LeapKind::Delete => midnight - SECOND,
        }
    }

    /// How far Unix time moves at the step; see [`LeapKind::shift_nanos`].
    pub fn shift_nanos(&self) -> i64 {
        self.kind.shift_nanos()
    }

    /// Every Unix reading of continuous time `u` (nanoseconds), as `(low, high)`: one before
    /// the step, both in the second after it, the moved one after that.
    pub fn readings(&self, u: i64) -> (i64, i64) {
        let (step, shift) = (self.step_nanos(), self.shift_nanos());
        match u - step {
            before if before < 0 => (u, u),
            during if during < SECOND => (u.min(u + shift), u.max(u + shift)),
            _ => (u + shift, u + shift),
        }
    }

    /// How far the smeared time is from continuous time `u`: the shift, taken in linearly
    /// over [`SMEAR_WINDOW`] centred on the step; none before the window, all of it after.
    pub fn smear_nanos(&self, u: i64) -> i64 {
        let window = i128::from(SMEAR_WINDOW.as_secs()) * i128::from(SECOND);
        let start = i128::from(self.step_nanos()) - window / 2;
        let into = (i128::from(u) - start).clamp(0, window);
        // Truncation moves the fraction towards zero by under a nanosecond, so the smeared
        // time stays monotonic: it gains under 1 ns of offset per nanosecond.
        (i128::from(self.shift_nanos()) * into / window) as i64
    }

    /// The smeared reading of continuous time `u`.
    pub fn smeared(&self, u: i64) -> i64 {
        u.saturating_add(self.smear_nanos(u))
    }

    /// `(code, step_nanos)` for the published words; code 0 is no leap.
    pub(crate) fn to_words(leap: Option<Self>) -> (u64, i64) {
        leap.map_or((0, 0), |l| (l.kind.code(), l.step_nanos()))
    }

    /// The leap published as `(code, step_nanos)`.
    pub(crate) fn from_words(code: u64, step_nanos: i64) -> Option<Self> {
        let kind = match code & 3 {
            1 => LeapKind::Insert,
            2 => LeapKind::Delete,
            _ => return None,
        };
        let midnight = match kind {
            LeapKind::Insert => step_nanos,
            LeapKind::Delete => step_nanos + SECOND,
        };
        Some(Self {
            kind,
            midnight_unix_secs: midnight.div_euclid(SECOND),
        })
    }
}

/// A leap in force, as the read side needs it: the leap, and whether the estimate published
/// with it was measured after the step (on samples all taken after it) or before.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LeapInForce {
    /// The leap.
    pub leap: Leap,
    /// The estimate was measured after the step, and moved into the continuous numbering.
    pub measured_after: bool,
}

impl LeapInForce {
    /// The interval of reported times, in nanoseconds, for the interval `[low, high]` of
    /// continuous times; see the module docs. With `smear`, the smeared timescale.
    pub fn report(&self, low: i64, high: i64, smear: bool) -> (i64, i64) {
        let leap = &self.leap;
        if smear {
            // The smear is monotonic: the ends map to the ends.
            return (leap.smeared(low), leap.smeared(high));
        }
        let (step, shift) = (leap.step_nanos(), leap.shift_nanos());
        if high < step {
            (low, high)
        } else if self.measured_after && low >= step + SECOND {
            (low + shift, high + shift)
        } else {
            (low.min(low + shift), high.max(high + shift))
        }
    }

    /// Whether a read whose continuous interval starts at `low` may be before the end of the
    /// second after the step: the leap is then still pending for it.
    pub fn pending_at(&self, low: i64) -> bool {
        low < self.leap.step_nanos() + SECOND
    }

    pub(crate) fn code(&self) -> u64 {
        Leap::to_words(Some(self.leap)).0 | (u64::from(self.measured_after) << 2)
    }
}

/// The indicator a strict majority of `indicators` share, if any: the announcement the
/// survivors of selection make together, or `None` when they are split.
pub fn majority(indicators: &[LeapIndicator]) -> Option<LeapIndicator> {
    let candidates = [
        LeapIndicator::NoWarning,
        LeapIndicator::InsertSecond,
        LeapIndicator::DeleteSecond,
    ];
    candidates.into_iter().find(|candidate| {
        let votes = indicators.iter().filter(|i| *i == candidate).count();
        votes * 2 > indicators.len()
    })
}

/// The disagreement, in nanoseconds and either way round, that a source smearing `leap`
/// shows at continuous time `u` against sources that step (or the other way round): the
/// smear so far before the step, what is left of it after. Selection names a falseticker
/// whose offset differs from the estimate by this much, within the radii, a probable
/// smearing source.
pub fn expected_disagreement(leap: &Leap, u: i64) -> [i64; 2] {
    let smear = leap.smear_nanos(u);
    let disagreement = match u < leap.step_nanos() {
        true => smear,
        false => smear - leap.shift_nanos(),
    };
    [disagreement, -disagreement]
}
