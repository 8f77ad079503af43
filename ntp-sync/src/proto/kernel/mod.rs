//! The host kernel's view of its own clock, without the system call: what a read of
//! `adjtimex(2)` (`ntp_adjtime(3)`) returned, turned into a bound on true time with its own
//! status. The shell's [`kernel`](crate::kernel) module makes the read.
//!
//! # What the kernel says (RFC 1589, RFC 5905 §§ 12–13, `man 2 adjtimex`)
//!
//! A time daemon (chronyd, ntpd) that disciplines the system clock hands the kernel its error
//! figures after each update: `maxerror`, the maximum error of `CLOCK_REALTIME` (root delay/2
//! plus root dispersion, in the daemon's reckoning), and `esterror`, its estimated (typical,
//! not worst-case) error. Between updates the kernel grows `maxerror` by itself, by
//! [`MAXERROR_GROWTH_PPM`] (its `MAXFREQ`, the largest frequency error it admits) once a
//! second; past [`MAXERROR_LIMIT`] (`NTP_PHASE_LIMIT`) it clamps it and sets `STA_UNSYNC`.
//! `STA_UNSYNC` set, `STA_CLOCKERR` set, or the call returning `TIME_ERROR` all mean the
//! clock is not synchronised: then the view says so and no bound is invented.
//!
//! # The bound
//!
//! Only `maxerror` bounds the error; `esterror` is reported, never used. Three allowances are
//! added, each because the figures alone would undercount:
//!
//! - The kernel grows `maxerror` at second boundaries, on its timekeeping update: a value read
//!   may lag the instant of the read by up to [`MAXERROR_READ_LAG`], so that much growth is
//!   added.
//! - `offset` is the phase correction the kernel's PLL still has to slew in (RFC 1589's
//!   `time_offset`): under ntpd's kernel discipline the daemon's `maxerror` bounds the error
//!   around `CLOCK_REALTIME + offset`, while a daemon that slews by frequency alone (chronyd)
//!   leaves `offset` at zero. Which one a daemon meant is not in the figures, so the bound is
//!   the hull of both readings: widened by `|offset|` on the side it points to.
//! - Without `STA_NANO` the reading of `CLOCK_REALTIME` is truncated to the microsecond, so
//!   the upper end moves by one microsecond.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::bound::TimeInterval;
use super::estimate::{Estimate, Status};

/// `STA_UNSYNC`: the clock is not synchronised (`include/uapi/linux/timex.h`).
pub const STA_UNSYNC: i32 = 0x0040;
/// `STA_CLOCKERR`: the clock hardware reports a fault.
pub const STA_CLOCKERR: i32 = 0x1000;
/// `STA_NANO`: `offset` and the time read are in nanoseconds, not microseconds.
pub const STA_NANO: i32 = 0x2000;
/// `TIME_ERROR`: the return value of a read while the clock is not synchronised.
pub const TIME_ERROR: i32 = 5;

/// How fast the kernel grows `maxerror` between updates: its `MAXFREQ`, 500 ppm.
pub const MAXERROR_GROWTH_PPM: u64 = 500;
/// The kernel's cap on `maxerror` (`NTP_PHASE_LIMIT`, 16 s): reaching it sets `STA_UNSYNC`.
pub const MAXERROR_LIMIT: Duration = Duration::from_secs(16);
/// How far behind the instant of a read the kernel may have last grown `maxerror`: it grows
/// it once per second boundary crossed, when its timekeeping is updated (every tick of a
/// busy CPU), so one second plus a generous allowance for a late update.
pub const MAXERROR_READ_LAG: Duration = Duration::from_secs(2);

/// How often a client that uses the kernel as a source reads it: the kernel's own figures
/// change once a second.
pub const DEFAULT_KERNEL_INTERVAL: Duration = Duration::from_secs(1);

/// The status bits and their names, in the order `adjtimex(2)` lists them.
const FLAG_NAMES: [(i32, &str); 16] = [
    (0x0001, "PLL"),
    (0x0002, "PPSFREQ"),
    (0x0004, "PPSTIME"),
    (0x0008, "FLL"),
    (0x0010, "INS"),
    (0x0020, "DEL"),
    (STA_UNSYNC, "UNSYNC"),
    (0x0080, "FREQHOLD"),
    (0x0100, "PPSSIGNAL"),
    (0x0200, "PPSJITTER"),
    (0x0400, "PPSWANDER"),
    (0x0800, "PPSERROR"),
    (STA_CLOCKERR, "CLOCKERR"),
    (STA_NANO, "NANO"),
    (0x4000, "MODE"),
    (0x8000, "CLK"),
];

/// The fields of one read-only `adjtimex` call, as the kernel returned them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct KernelReading {
    /// The call's return value: the clock state (`TIME_OK` 0 to `TIME_ERROR` 5).
    pub state: i32,
    /// The `status` bits (`STA_*`).
    pub status: i32,
    /// `maxerror`, microseconds.
    pub maxerror_micros: i64,
    /// `esterror`, microseconds.
    pub esterror_micros: i64,
    /// `offset`: nanoseconds with [`STA_NANO`], microseconds without.
    pub offset: i64,
    /// `freq`: parts per million with a 16-bit fraction (`65536` is 1 ppm).
    pub freq: i64,
    /// `CLOCK_REALTIME` at the read (`time`), in nanoseconds since the Unix epoch, truncated
    /// to the microsecond without [`STA_NANO`].
    pub time_nanos: i64,
}

impl KernelReading {
    /// The pending phase correction in nanoseconds, whatever the unit it was read in.
    pub fn offset_nanos(&self) -> i64 {
        match self.status & STA_NANO != 0 {
            true => self.offset,
            false => self.offset.saturating_mul(1_000),
        }
    }

    /// The frequency correction in ppm.
    pub fn frequency_ppm(&self) -> f64 {
        self.freq as f64 / 65_536.0
    }

    /// The names of the status bits set, e.g. `["PLL", "UNSYNC"]`.
    pub fn flags(&self) -> Vec<&'static str> {
        FLAG_NAMES
            .iter()
            .filter(|(bit, _)| self.status & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }

    /// Why the clock is not synchronised, or `None` when the figures bound it.
    pub fn unsynchronised(&self) -> Option<Unsynchronised> {
        let limit = i64::try_from(MAXERROR_LIMIT.as_micros()).unwrap_or(i64::MAX);
        if self.status & STA_UNSYNC != 0 {
            Some(Unsynchronised::Unsync)
        } else if self.status & STA_CLOCKERR != 0 {
            Some(Unsynchronised::ClockError)
        } else if self.state == TIME_ERROR {
            Some(Unsynchronised::TimeError)
        } else if !(0..limit).contains(&self.maxerror_micros) {
            Some(Unsynchronised::MaxErrorAtLimit)
        } else {
            None
        }
    }

    /// The view: a bound on true time, or why there is none.
    pub fn view(&self) -> KernelView {
        let bound = match self.unsynchronised() {
            Some(reason) => KernelBound::Unsynchronised(reason),
            None => self.bounded(),
        };
        KernelView {
            reading: *self,
            bound,
        }
    }

    fn bounded(&self) -> KernelBound {
        let lag = micros_nanos(MAXERROR_READ_LAG.as_micros() as i64);
        let growth = lag.saturating_mul(MAXERROR_GROWTH_PPM as i64) / 1_000_000;
        let error = micros_nanos(self.maxerror_micros).saturating_add(growth);
        let offset = self.offset_nanos();
        let truncation = match self.status & STA_NANO != 0 {
            true => 0,
            false => 1_000,
        };
        KernelBound::Bounded {
            earliest_nanos: self
                .time_nanos
                .saturating_sub(error)
                .saturating_add(offset.min(0)),
            latest_nanos: self
                .time_nanos
                .saturating_add(truncation)
                .saturating_add(error)
                .saturating_add(offset.max(0)),
        }
    }
}

fn micros_nanos(micros: i64) -> i64 {
    micros.saturating_mul(1_000)
}

/// Why the kernel's clock is not synchronised.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Unsynchronised {
    /// `STA_UNSYNC` is set: no daemon disciplines the clock, or it gave up.
    Unsync,
    /// `STA_CLOCKERR` is set: the clock hardware reports a fault.
    ClockError,
    /// The read returned `TIME_ERROR` (e.g. a PPS signal lost while the kernel follows it).
    TimeError,
    /// `maxerror` is at the kernel's cap ([`MAXERROR_LIMIT`]) or out of range.
    MaxErrorAtLimit,
}

impl std::fmt::Display for Unsynchronised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unsync => "STA_UNSYNC set",
            Self::ClockError => "STA_CLOCKERR set",
            Self::TimeError => "clock state TIME_ERROR",
            Self::MaxErrorAtLimit => "maxerror at the kernel's limit",
        })
    }
}

/// What the kernel's figures say about true time.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum KernelBound {
    /// True time, at the instant of the read, lies within these, in nanoseconds since the
    /// Unix epoch.
    Bounded {
        /// True time is not before this.
        earliest_nanos: i64,
        /// True time is not after this.
        latest_nanos: i64,
    },
    /// No bound.
    Unsynchronised(Unsynchronised),
}

/// One read of the kernel and what it says.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct KernelView {
    /// The figures as read.
    pub reading: KernelReading,
    /// The bound they give, or why there is none.
    pub bound: KernelBound,
}

impl KernelView {
    /// The bound as an interval at the instant of the read, rounded outwards to the
    /// microsecond; unbounded and [`Status::Unsynchronised`] when the kernel is.
    pub fn interval(&self) -> TimeInterval {
        match self.bound {
            KernelBound::Bounded {
                earliest_nanos,
                latest_nanos,
            } => TimeInterval {
                earliest: hlc_core::Timestamp::from_physical_micros(
                    earliest_nanos.div_euclid(1_000).max(0) as u64,
                ),
                latest: hlc_core::Timestamp::from_physical_micros(
                    (latest_nanos.saturating_add(999).div_euclid(1_000)).max(0) as u64,
                ),
                status: Status::Synchronised,
                leap: None,
            },
            KernelBound::Unsynchronised(_) => TimeInterval::unbounded(),
        }
    }

    /// The bound relative to a local clock that read `before_nanos` just before the call and
    /// `after_nanos` just after it, as an [`Estimate`] at `before_nanos`; `None` when the
    /// kernel is not synchronised.
    ///
    /// The read happened at some local time in `[before, after]`, so the offset of true time
    /// from the local clock lies in `[earliest − after, latest − before]`: the wait between
    /// the two readings widens the bound, never shifts it. Anchoring at `before` counts the
    /// longest possible age from then on.
    pub fn estimate(&self, before_nanos: i64, after_nanos: i64) -> Option<Estimate> {
        let KernelBound::Bounded {
            earliest_nanos,
            latest_nanos,
        } = self.bound
        else {
            return None;
        };
        let after = after_nanos.max(before_nanos);
        let low = earliest_nanos.saturating_sub(after);
        let high = latest_nanos.saturating_sub(before_nanos);
        Some(Estimate::covering(low, high, before_nanos, before_nanos))
    }
}

#[cfg(test)]
mod tests;
