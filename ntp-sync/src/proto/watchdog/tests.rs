use super::*;

const MS: i64 = 1_000_000;
const SECOND: i64 = 1_000 * MS;
const BEAT: Duration = DEFAULT_HEARTBEAT;

/// A host whose clocks start apart, as real ones do, and move as the kernel moves them.
#[derive(Clone, Copy)]
struct Host {
    boottime: i64,
    monotonic: i64,
    raw: i64,
    realtime: i64,
}

impl Host {
    fn new() -> Self {
        Self {
            boottime: 5_000 * SECOND,
            monotonic: 4_000 * SECOND,
            raw: 3_999 * SECOND,
            realtime: 1_700_000_000 * SECOND,
        }
    }

    /// Time passes while the machine runs, the system clock slewed at `slew_ppb` (the kernel
    /// slews `CLOCK_MONOTONIC` and `CLOCK_BOOTTIME` with it; not the raw clock).
    fn run(&mut self, nanos: i64, slew_ppb: i64) {
        let slewed = nanos + nanos * slew_ppb / 1_000_000_000;
        self.boottime += slewed;
        self.monotonic += slewed;
        self.raw += nanos;
        self.realtime += slewed;
    }

    /// The machine sleeps: only `CLOCK_BOOTTIME` and the system clock count it.
    fn suspend(&mut self, nanos: i64) {
        self.boottime += nanos;
        self.realtime += nanos;
    }

    fn read(&self, spread: i64) -> HostClocks {
        HostClocks {
            boottime_nanos: self.boottime,
            monotonic_nanos: self.monotonic,
            monotonic_raw_nanos: self.raw,
            realtime_nanos: self.realtime,
            spread_nanos: spread,
        }
    }
}

fn started() -> (Host, Watchdog) {
    let host = Host::new();
    let mut watchdog = Watchdog::new(WatchdogConfig::default());
    assert_eq!(watchdog.heartbeat(host.read(1_000), BEAT), None);
    (host, watchdog)
}

#[test]
fn a_suspend_is_boottime_outrunning_monotonic() {
    let (mut host, mut watchdog) = started();
    host.run(200 * MS, 0);
    host.suspend(30 * SECOND);
    host.run(300 * MS, 0);
    let seen = watchdog.heartbeat(host.read(1_000), BEAT);
    assert_eq!(
        seen,
        Some(Disruption {
            kind: DisruptionKind::Suspend,
            gap_nanos: 30 * SECOND
        })
    );
    assert_eq!(seen.unwrap().to_string(), "suspend, 30.00 s");
    // The system clock moved with the suspend: that alone is no step afterwards.
    host.run(500 * MS, 0);
    assert_eq!(watchdog.heartbeat(host.read(1_000), BEAT), None);
}

#[test]
fn a_pause_is_a_heartbeat_far_later_than_it_slept() {
    let (mut host, mut watchdog) = started();
    // SIGSTOP for 3 s in the middle of a 500 ms sleep: every clock keeps running.
    host.run(3_500 * MS, 0);
    let seen = watchdog.heartbeat(host.read(1_000), BEAT).unwrap();
    assert_eq!(seen.kind, DisruptionKind::Pause);
    assert_eq!(seen.gap_nanos, 3 * SECOND);
    assert_eq!(seen.to_string(), "pause, 3.00 s");
}

#[test]
fn a_pause_where_only_the_raw_clock_kept_counting_is_still_a_pause() {
    // A hypervisor that froze the slewed clocks but not the oscillator's counter.
    let (mut host, mut watchdog) = started();
    host.run(BEAT.as_nanos() as i64, 0);
    host.raw += 5 * SECOND;
    let seen = watchdog.heartbeat(host.read(1_000), BEAT).unwrap();
    assert_eq!(
        (seen.kind, seen.gap_nanos),
        (DisruptionKind::Pause, 5 * SECOND)
    );
}

#[test]
fn an_overdue_heartbeat_is_a_pause_to_a_check_between_heartbeats() {
    let (mut host, mut watchdog) = started();
    // A refresh 200 ms after the heartbeat: nothing; 4 s later the heartbeat is 3.3 s overdue.
    host.run(200 * MS, 0);
    assert_eq!(watchdog.check_between(host.read(1_000)), None);
    host.run(4 * SECOND, 0);
    let seen = watchdog.check_between(host.read(1_000)).unwrap();
    assert_eq!(
        (seen.kind, seen.gap_nanos),
        (DisruptionKind::Pause, 3_700 * MS)
    );
    // The heartbeat that follows at once is not reported again.
    host.run(MS, 0);
    assert_eq!(watchdog.heartbeat(host.read(1_000), BEAT), None);
}

#[test]
fn a_step_of_the_system_clock_is_reported_with_its_size() {
    let (mut host, mut watchdog) = started();
    host.run(500 * MS, 0);
    host.realtime -= 2 * SECOND;
    let seen = watchdog.heartbeat(host.read(1_000), BEAT).unwrap();
    assert_eq!(
        (seen.kind, seen.gap_nanos),
        (DisruptionKind::SystemClockStep, -2 * SECOND)
    );
    assert_eq!(seen.to_string(), "system clock step, -2.000 s");
    assert!(!seen.kind.invalidates_estimate());
    host.run(500 * MS, 0);
    assert_eq!(watchdog.heartbeat(host.read(1_000), BEAT), None);
}

#[test]
fn a_busy_but_undisturbed_process_never_trips_it() {
    // A loaded two-core machine: heartbeats late by up to 800 ms, reads preempted for up to
    // 50 ms, the system clock slewed at chronyd's fastest (83 333 ppm) and back, an hour of it.
    let (mut host, mut watchdog) = started();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = |below: i64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as i64
    };
    for beat in 0..7_200 {
        let late = random(800 * MS);
        let slew = if beat % 600 < 300 {
            83_333_000
        } else {
            -83_333_000
        };
        host.run(BEAT.as_nanos() as i64 + late, slew);
        let spread = random(50 * MS);
        // The clocks were read `spread` apart: boottime first, realtime last.
        let mut clocks = host.read(spread);
        clocks.realtime_nanos += spread;
        clocks.monotonic_nanos += spread / 2;
        assert_eq!(watchdog.heartbeat(clocks, BEAT), None, "beat {beat}");
        if beat % 7 == 0 {
            host.run(random(100 * MS), slew);
            assert_eq!(watchdog.check_between(host.read(1_000)), None);
        }
    }
}

#[test]
fn thresholds_are_configurable() {
    let config = WatchdogConfig {
        pause_threshold: Duration::from_secs(10),
        ..WatchdogConfig::default()
    };
    let mut host = Host::new();
    let mut watchdog = Watchdog::new(config);
    assert_eq!(watchdog.config(), &config);
    watchdog.heartbeat(host.read(0), BEAT);
    host.run(5 * SECOND, 0);
    assert_eq!(watchdog.heartbeat(host.read(0), BEAT), None);
    host.run(15 * SECOND, 0);
    assert!(watchdog.heartbeat(host.read(0), BEAT).is_some());
}

#[test]
fn disruptions_serialise_in_kebab_case() {
    let disruption = Disruption {
        kind: DisruptionKind::SystemClockStep,
        gap_nanos: 1,
    };
    let json = serde_json::to_string(&disruption).unwrap();
    assert_eq!(json, r#"{"kind":"system-clock-step","gap_nanos":1}"#);
}
