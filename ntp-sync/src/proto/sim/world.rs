//! The simulated world: true time, the host's oscillator and system clock, and the servers.

use std::time::Duration;

use super::gap::{asleep_by, Gap};
use crate::proto::engine::EngineConfig;
use crate::proto::fault::{Behaviour, Fault};
use crate::proto::leap::Leap;
use crate::proto::packet::LeapIndicator;
use crate::proto::poll::PollConfig;
use crate::proto::watchdog::HostClocks;

/// A uniformly random one-way delay in `[min_nanos, max_nanos]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DelayRange {
    /// Shortest delay.
    pub min_nanos: i64,
    /// Longest delay.
    pub max_nanos: i64,
}

/// One simulated server: a [`Behaviour`] (the fault model the [`Responder`](crate::Responder)
/// takes too) and a network path to it.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct SimServer {
    /// Its clock's error and what it says about itself; its drift counts from the start.
    pub behaviour: Behaviour,
    /// Delay of requests to it.
    pub outbound: DelayRange,
    /// Delay of its responses.
    pub inbound: DelayRange,
    /// Probability that an exchange is lost, 0 to 1.
    pub loss: f64,
    /// What it does about the scenario's leap second, if there is one.
    pub leap: ServerLeap,
}

/// How a simulated server keeps a leap second.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ServerLeap {
    /// It announces the leap (leap indicator 1 or 2) from `announce_nanos` before the step,
    /// and steps its clock at it, as an NTP server on a POSIX kernel does.
    Step {
        /// How long before the step it announces.
        announce_nanos: i64,
    },
    /// It smears the leap over the 24 hours around it and announces nothing, as the public
    /// smearing services do.
    Smear,
}

/// The default announcement: a day ahead, as many servers do.
pub const DEFAULT_ANNOUNCE_NANOS: i64 = 86_400_000_000_000;

impl ServerLeap {
    /// The server's Unix time at continuous time `u` around `leap`, and its leap indicator.
    pub(super) fn reading(&self, leap: Option<&Leap>, u: i64) -> (i64, LeapIndicator) {
        let Some(leap) = leap else {
            return (u, LeapIndicator::NoWarning);
        };
        let step = leap.step_nanos();
        match *self {
            Self::Smear => (leap.smeared(u), LeapIndicator::NoWarning),
            Self::Step { announce_nanos } if u < step => {
                let indicator = match (step - u <= announce_nanos, leap.kind) {
                    (false, _) => LeapIndicator::NoWarning,
                    (true, crate::proto::leap::LeapKind::Insert) => LeapIndicator::InsertSecond,
                    (true, crate::proto::leap::LeapKind::Delete) => LeapIndicator::DeleteSecond,
                };
                (u, indicator)
            }
            Self::Step { .. } => (u + leap.shift_nanos(), LeapIndicator::NoWarning),
        }
    }
}

impl SimServer {
    /// A server `offset_nanos` off that claims a root dispersion of 1 ms (honest while the
    /// offset stays within it), 1 to 20 ms away each way.
    pub fn honest(offset_nanos: i64) -> Self {
        let path = DelayRange {
            min_nanos: 1_000_000,
            max_nanos: 20_000_000,
        };
        Self {
            behaviour: Behaviour::default().with(Fault::Offset {
                nanos: offset_nanos,
            }),
            outbound: path,
            inbound: path,
            loss: 0.0,
            leap: ServerLeap::Step {
                announce_nanos: DEFAULT_ANNOUNCE_NANOS,
            },
        }
    }

    /// A server `offset_nanos` off that claims to be within 1 ms: a liar when the offset is
    /// larger.
    pub fn liar(offset_nanos: i64) -> Self {
        Self::honest(offset_nanos)
    }

    /// The same server with `fault` added to its behaviour.
    pub fn with(mut self, fault: Fault) -> Self {
        self.behaviour = self.behaviour.with(fault);
        self
    }

    /// How far the server claims its clock may be off (root delay / 2 + root dispersion).
    pub fn claimed_nanos(&self) -> i64 {
        let params = &self.behaviour.params;
        params.root_delay_nanos / 2 + params.root_dispersion_nanos
    }

    /// Whether its clock stays within its claim for `duration_nanos` from the start.
    pub fn is_honest_for(&self, duration_nanos: i64) -> bool {
        // A drift of 1 ppb moves the clock 1 ns per second.
        let drifted = self
            .behaviour
            .drift_ppb
            .abs()
            .saturating_mul(duration_nanos / 1_000_000_000 + 1);
        let offset = self.behaviour.offset_nanos.abs();
        offset.saturating_add(drifted) <= self.claimed_nanos()
    }
}

/// What happens to the host's system clock: an administrator, or the host's own time daemon.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WallEvent {
    /// A step by `by_nanos` at true time `at_nanos` (`date -s`, chronyd's `makestep`).
    Step {
        /// When, in true time.
        at_nanos: i64,
        /// How far, either way.
        by_nanos: i64,
    },
    /// A slew at `ppb` from true time `from_nanos` for `for_nanos` (a daemon correcting an
    /// offset: chronyd slews at up to 83 333 ppm by default, the kernel's `adjtime` at 500).
    Slew {
        /// When it starts, in true time.
        from_nanos: i64,
        /// How long it lasts.
        for_nanos: i64,
        /// The rate, either way.
        ppb: i64,
    },
}

impl WallEvent {
    /// How far the event has moved the system clock by true time `true_nanos`.
    fn moved_by(&self, true_nanos: i64) -> i64 {
        match *self {
            Self::Step { at_nanos, by_nanos } => match true_nanos >= at_nanos {
                true => by_nanos,
                false => 0,
            },
            Self::Slew {
                from_nanos,
                for_nanos,
                ppb,
            } => {
                let slewing = (true_nanos - from_nanos).clamp(0, for_nanos.max(0));
                scaled(slewing, ppb)
            }
        }
    }
}

/// Which of the host's clocks the client reads as its local clock.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ClientClock {
    /// The oscillator, as [`SteadyClock`](crate::SteadyClock) reads it: it drifts by the
    /// scenario's drift and nothing else. What a client gets by default.
    #[default]
    Steady,
    /// The system clock: the oscillator plus every [`WallEvent`]. What a client gets when it
    /// is handed the system clock, against the advice of its docs.
    System,
}

/// A whole simulated world.
#[derive(Clone, PartialEq, Debug)]
pub struct Scenario {
    /// Seed of the deterministic random source: a scenario replays exactly.
    pub seed: u64,
    /// True time at the start, nanoseconds since the Unix epoch.
    pub start_nanos: i64,
    /// The host's oscillator minus true time at the start.
    pub local_offset_nanos: i64,
    /// The oscillator's drift in ppb; keep it within the engine's drift bound for the
    /// guarantee.
    pub local_drift_ppb: i64,
    /// Steps and slews of the host's system clock.
    pub wall_events: Vec<WallEvent>,
    /// Which clock the client reads.
    pub client_clock: ClientClock,
    /// The servers.
    pub servers: Vec<SimServer>,
    /// The client's configuration.
    pub config: EngineConfig,
    /// The widest error that is still healthy (half the default max offset, as the client's).
    pub health_limit: Duration,
    /// Reads of the interval, health and corrected clock between two polls, at random
    /// instants.
    pub reads_per_poll: u32,
    /// Suspends and pauses of the client.
    pub gaps: Vec<Gap>,
    /// The watchdog's heartbeat; `None` runs no watchdog.
    pub heartbeat: Option<Duration>,
    /// A leap second at the end of a month: true time counts the continuous numbering (see
    /// [`crate::proto::leap`]) and the servers keep the leap as each one's
    /// [`ServerLeap`] says.
    pub leap: Option<Leap>,
    /// Whether the client smears leap seconds: its truth is then the smeared time.
    pub leap_smear: bool,
}

impl Scenario {
    /// No servers, a perfect oscillator, a system clock nobody touches, the client on the
    /// steady clock, polling every 16 s after a 4-poll burst, and two reads per poll.
    pub fn new(seed: u64) -> Self {
        let poll = PollConfig {
            min_interval: Duration::from_secs(16),
            ..PollConfig::default()
        };
        Self {
            seed,
            start_nanos: 1_700_000_000_000_000_000,
            local_offset_nanos: 0,
            local_drift_ppb: 0,
            wall_events: Vec::new(),
            client_clock: ClientClock::Steady,
            servers: Vec::new(),
            config: EngineConfig {
                poll,
                ..EngineConfig::default()
            },
            health_limit: hlc_core::DEFAULT_MAX_OFFSET / 2,
            reads_per_poll: 2,
            gaps: Vec::new(),
            heartbeat: None,
            leap: None,
            leap_smear: crate::proto::leap::DEFAULT_LEAP_SMEAR,
        }
    }

    /// The oscillator when true time is `true_nanos`: it stands still while suspended.
    pub fn oscillator_at(&self, true_nanos: i64) -> i64 {
        let elapsed = true_nanos - self.start_nanos;
        let asleep = asleep_by(&self.gaps, true_nanos);
        true_nanos + self.local_offset_nanos + scaled(elapsed, self.local_drift_ppb) - asleep
    }

    /// The host's system clock when true time is `true_nanos`: the oscillator, moved by
    /// every step and slew, and moved on by the time asleep on every resume.
    pub fn system_clock_at(&self, true_nanos: i64) -> i64 {
        let moved: i64 = self
            .wall_events
            .iter()
            .map(|e| e.moved_by(true_nanos))
            .sum();
        self.oscillator_at(true_nanos) + moved + asleep_by(&self.gaps, true_nanos)
    }

    /// The host's four clocks when true time is `true_nanos`, as the kernel keeps them: the
    /// slews move `CLOCK_MONOTONIC` and `CLOCK_BOOTTIME` with the system clock, the steps
    /// only the system clock; `CLOCK_BOOTTIME` counts the time asleep.
    pub fn host_clocks_at(&self, true_nanos: i64) -> HostClocks {
        let slewed: i64 = self
            .wall_events
            .iter()
            .filter(|e| matches!(e, WallEvent::Slew { .. }))
            .map(|e| e.moved_by(true_nanos))
            .sum();
        let raw = self.oscillator_at(true_nanos);
        HostClocks {
            boottime_nanos: raw + slewed + asleep_by(&self.gaps, true_nanos),
            monotonic_nanos: raw + slewed,
            monotonic_raw_nanos: raw,
            realtime_nanos: self.system_clock_at(true_nanos),
            spread_nanos: 0,
        }
    }

    /// Every Unix time the client may report at true (continuous) time `true_nanos`, as
    /// `(low, high)`: two in the second after an unsmeared leap's step, one otherwise.
    pub fn truths_at(&self, true_nanos: i64) -> (i64, i64) {
        match (self.leap, self.leap_smear) {
            (None, _) => (true_nanos, true_nanos),
            (Some(leap), true) => {
                let smeared = leap.smeared(true_nanos);
                (smeared, smeared)
            }
            (Some(leap), false) => leap.readings(true_nanos),
        }
    }

    /// The client's local clock when true time is `true_nanos`.
    pub fn client_clock_at(&self, true_nanos: i64) -> i64 {
        match self.client_clock {
            ClientClock::Steady => self.oscillator_at(true_nanos),
            ClientClock::System => self.system_clock_at(true_nanos),
        }
    }
}

/// `nanos * ppb / 10^9`, exactly.
pub(super) fn scaled(nanos: i64, ppb: i64) -> i64 {
    (i128::from(nanos) * i128::from(ppb) / 1_000_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    #[test]
    fn the_system_clock_is_the_oscillator_plus_steps_and_slews() {
        let mut world = Scenario::new(1);
        let start = world.start_nanos;
        world.local_drift_ppb = 10_000;
        world.wall_events = vec![
            WallEvent::Step {
                at_nanos: start + 10 * SECOND,
                by_nanos: -5 * SECOND,
            },
            WallEvent::Slew {
                from_nanos: start + 20 * SECOND,
                for_nanos: 100 * SECOND,
                ppb: 500_000,
            },
        ];
        let at = |s: i64| start + s * SECOND;
        assert_eq!(world.oscillator_at(at(100)), at(100) + 1_000_000);
        assert_eq!(world.system_clock_at(at(9)), world.oscillator_at(at(9)));
        assert_eq!(
            world.system_clock_at(at(10)),
            world.oscillator_at(at(10)) - 5 * SECOND
        );
        // 50 s into the slew: 25 ms; after it, 50 ms for good.
        let moved = |s| world.system_clock_at(at(s)) - world.oscillator_at(at(s)) + 5 * SECOND;
        assert_eq!(moved(70), 25_000_000);
        assert_eq!(moved(500), 50_000_000);
        world.client_clock = ClientClock::System;
        assert_eq!(
            world.client_clock_at(at(500)),
            world.system_clock_at(at(500))
        );
    }
}
