//! The disruption watchdog without I/O: from successive readings of the host's clocks, tell
//! whether the machine was suspended, the process (or its virtual machine) did not run for
//! longer than it meant to sleep, or the system clock was stepped. The shell reads the
//! clocks on a heartbeat and before every refresh; the [`Tracker`](super::tracking::Tracker)
//! acts on what this finds.
//!
//! Linux keeps four clocks that tell these apart (`clock_gettime(2)`, and the kernel's
//! timekeeping core, `kernel/time/timekeeping.c`):
//!
//! - `CLOCK_MONOTONIC` is slewed by time daemons, never stepped, and stops while the machine
//!   is suspended;
//! - `CLOCK_BOOTTIME` is `CLOCK_MONOTONIC` plus the time spent suspended: the difference of
//!   the two grows by exactly the length of each suspend and never otherwise, so a
//!   **suspend** is that difference growing;
//! - `CLOCK_MONOTONIC_RAW` is the oscillator unslewed (the [`SteadyClock`](crate::SteadyClock)
//!   the estimate is kept on by default), stopped while suspended too;
//! - `CLOCK_REALTIME` is slewed with `CLOCK_MONOTONIC` and moved forward with
//!   `CLOCK_BOOTTIME` on resume, but also set by `settimeofday`, `clock_settime`,
//!   `adjtimex(ADJ_SETOFFSET)` and leap seconds. Its difference from `CLOCK_BOOTTIME`
//!   changes only when it is set, so a **system clock step** is that difference changing.
//!   Checking it against `CLOCK_MONOTONIC_RAW` instead would have to allow for the slew
//!   (chronyd slews by up to 83 333 ppm), and steps smaller than that allowance would pass
//!   unseen; against `CLOCK_BOOTTIME` no allowance is needed.
//!
//! A **pause** (`SIGSTOP`, a virtual machine paused or migrated live) stops no clock the
//! process can see, or stops them and catches them up on resume, depending on the
//! hypervisor. From inside, it looks like a heartbeat that finds far more time passed than
//! it slept: the largest of the three monotonic clocks' advances beyond the intended sleep.
//! A pause during which every clock the guest can read stood still leaves no trace inside
//! and cannot be seen here.
//!
//! Every comparison allows for the time the readings took ([`HostClocks::spread_nanos`]):
//! a thread preempted between two reads sees clocks that seem to disagree by the delay.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::step::StepDetector;

#[cfg(test)]
mod tests;

/// The default wait between two heartbeats: a pause of three seconds is seen as at least
/// 2.5 s late, and four clock reads twice a second cost nothing measurable.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_millis(500);
/// The default lateness of a heartbeat that counts as a pause. A busy machine delays a
/// runnable thread by tens to hundreds of milliseconds (a parallel build on two cores keeps
/// every core's run queue several threads deep, each taking a time slice of a few
/// milliseconds, and page reclaim can stall a thread longer); a whole second beyond the
/// intended sleep is several times the worst of that, and still well below the few seconds
/// of a `SIGSTOP`, a VM pause or a live migration's stop-and-copy phase.
pub const DEFAULT_PAUSE_THRESHOLD: Duration = Duration::from_secs(1);
/// The default growth of `CLOCK_BOOTTIME − CLOCK_MONOTONIC` that counts as a suspend. The
/// difference moves only on resume, so any growth beyond the reads' spread is a suspend; the
/// millisecond keeps rounding out of it. The steady clock loses exactly the time asleep.
pub const DEFAULT_SUSPEND_THRESHOLD: Duration = Duration::from_millis(1);
/// The default change of `CLOCK_REALTIME − CLOCK_BOOTTIME` that counts as a step of the
/// system clock: that difference changes only when the system clock is set, so any change
/// beyond the reads' spread is a step.
pub const DEFAULT_SYSTEM_STEP_THRESHOLD: Duration = Duration::from_millis(1);

/// One reading of the host's clocks, taken together, in nanoseconds (each from its own
/// origin but `realtime_nanos`, which counts from the Unix epoch).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct HostClocks {
    /// `CLOCK_BOOTTIME`: counts time suspended.
    pub boottime_nanos: i64,
    /// `CLOCK_MONOTONIC`: slewed, stops while suspended.
    pub monotonic_nanos: i64,
    /// `CLOCK_MONOTONIC_RAW`: the oscillator, stops while suspended.
    pub monotonic_raw_nanos: i64,
    /// `CLOCK_REALTIME`: the system clock.
    pub realtime_nanos: i64,
    /// How long the reads took, from before the first to after the last: any two of the
    /// readings may be this far apart in time.
    pub spread_nanos: i64,
}

/// What kind of disruption was seen.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DisruptionKind {
    /// The machine was suspended: `CLOCK_BOOTTIME` advanced more than `CLOCK_MONOTONIC`.
    /// The steady clock did not count the time asleep.
    Suspend,
    /// The process or its virtual machine did not run for longer than it meant to sleep:
    /// `SIGSTOP`, a VM pause, a live migration. What the clocks did meanwhile is up to the
    /// hypervisor.
    Pause,
    /// The system clock (`CLOCK_REALTIME`) was stepped. The steady clock is not moved by it,
    /// so an estimate kept on it still holds.
    SystemClockStep,
    /// The client's own local clock was stepped (a clock handed to
    /// [`NtpClientBuilder::clock`](crate::NtpClientBuilder::clock) that can be).
    LocalClockStep,
}

impl DisruptionKind {
    /// Whether an estimate kept on the steady clock can be trusted across it: not across a
    /// suspend (the clock stopped) nor a pause (the clock may have stopped, and a migrated
    /// machine's oscillator is another one), nor a step of the clock itself.
    pub fn invalidates_estimate(self) -> bool {
        !matches!(self, Self::SystemClockStep)
    }
}

impl DisruptionKind {
    const ALL: [Self; 4] = [
        Self::Suspend,
        Self::Pause,
        Self::SystemClockStep,
        Self::LocalClockStep,
    ];

    /// A non-zero word for a lock-free cell.
    pub(crate) fn code(self) -> u64 {
        Self::ALL
            .iter()
            .position(|k| *k == self)
            .map_or(0, |i| i as u64 + 1)
    }

    /// The kind [`code`](Self::code) gave; `None` for 0.
    pub(crate) fn from_code(code: u64) -> Option<Self> {
        let index = usize::try_from(code).ok()?.checked_sub(1)?;
        Self::ALL.get(index).copied()
    }
}

impl std::fmt::Display for DisruptionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Suspend => "suspend",
            Self::Pause => "pause",
            Self::SystemClockStep => "system clock step",
            Self::LocalClockStep => "local clock step",
        })
    }
}

/// A disruption and its size.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Disruption {
    /// What happened.
    pub kind: DisruptionKind,
    /// How big a gap it left, in nanoseconds: the time asleep for a suspend; for a pause,
    /// how much longer than intended the process was away (at least the pause less one
    /// heartbeat); for a step, its size (positive: forwards).
    pub gap_nanos: i64,
}

impl std::fmt::Display for Disruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.gap_nanos as f64 / 1e9;
        match self.kind {
            DisruptionKind::Suspend | DisruptionKind::Pause => {
                write!(f, "{}, {seconds:.2} s", self.kind)
            }
            _ => write!(f, "{}, {seconds:+.3} s", self.kind),
        }
    }
}

/// The watchdog's settings. Every threshold is exceeded only when a disruption is larger
/// than it and the reads' spread together.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct WatchdogConfig {
    /// How long the shell sleeps between two heartbeats (default [`DEFAULT_HEARTBEAT`]).
    pub heartbeat: Duration,
    /// Lateness of a heartbeat that is a pause (default [`DEFAULT_PAUSE_THRESHOLD`]).
    pub pause_threshold: Duration,
    /// Time asleep that is a suspend (default [`DEFAULT_SUSPEND_THRESHOLD`]).
    pub suspend_threshold: Duration,
    /// Size of a system clock step worth reporting (default
    /// [`DEFAULT_SYSTEM_STEP_THRESHOLD`]).
    pub step_threshold: Duration,
}

impl Default for WatchdogConfig {
    fn default() -> Self {
        Self {
            heartbeat: DEFAULT_HEARTBEAT,
            pause_threshold: DEFAULT_PAUSE_THRESHOLD,
            suspend_threshold: DEFAULT_SUSPEND_THRESHOLD,
            step_threshold: DEFAULT_SYSTEM_STEP_THRESHOLD,
        }
    }
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// The watchdog's state: the previous reading and when the next heartbeat is due.
#[derive(Clone, Debug)]
pub struct Watchdog {
    config: WatchdogConfig,
    last: Option<HostClocks>,
    /// From `last`, how long until the heartbeat was meant to wake (on `CLOCK_MONOTONIC`,
    /// which tokio's timers sleep on).
    due_in_nanos: i64,
    system_clock: StepDetector,
}

impl Watchdog {
    /// A watchdog that has seen nothing yet.
    pub fn new(config: WatchdogConfig) -> Self {
        Self {
            config,
            last: None,
            due_in_nanos: 0,
            system_clock: StepDetector::new(0, nanos(config.step_threshold)),
        }
    }

    /// The settings.
    pub fn config(&self) -> &WatchdogConfig {
        &self.config
    }

    /// A heartbeat: checks `clocks` against the previous reading and expects the next
    /// heartbeat `sleep` from now.
    pub fn heartbeat(&mut self, clocks: HostClocks, sleep: Duration) -> Option<Disruption> {
        self.check(clocks, Some(sleep))
    }

    /// A check between heartbeats (before a refresh, say): a heartbeat overdue by more than
    /// the pause threshold is a pause here too, so a sample taken across a gap is caught
    /// before it is used, whichever task runs first after it.
    pub fn check_between(&mut self, clocks: HostClocks) -> Option<Disruption> {
        self.check(clocks, None)
    }

    fn check(&mut self, now: HostClocks, sleep: Option<Duration>) -> Option<Disruption> {
        let previous = self.last.replace(now);
        let due_in = self.due_in_nanos;
        let Some(last) = previous else {
            self.due_in_nanos = sleep.map_or(i64::MAX, nanos);
            self.system_clock
                .step(now.realtime_nanos, now.boottime_nanos, 0);
            return None;
        };
        let slack = last.spread_nanos.max(0) + now.spread_nanos.max(0);
        let boottime = now.boottime_nanos - last.boottime_nanos;
        let monotonic = now.monotonic_nanos - last.monotonic_nanos;
        let raw = now.monotonic_raw_nanos - last.monotonic_raw_nanos;
        self.due_in_nanos = match sleep {
            Some(sleep) => nanos(sleep),
            None => due_in.saturating_sub(monotonic).max(0),
        };
        let step = self
            .system_clock
            .step(now.realtime_nanos, now.boottime_nanos, slack);
        let asleep = boottime - monotonic;
        if asleep > nanos(self.config.suspend_threshold).saturating_add(slack) {
            return Some(disruption(DisruptionKind::Suspend, asleep));
        }
        let late = boottime.max(monotonic).max(raw).saturating_sub(due_in);
        if late > nanos(self.config.pause_threshold).saturating_add(slack) {
            return Some(disruption(DisruptionKind::Pause, late));
        }
        step.map(|gap| disruption(DisruptionKind::SystemClockStep, gap))
    }
}

fn disruption(kind: DisruptionKind, gap_nanos: i64) -> Disruption {
    Disruption { kind, gap_nanos }
}
