//! The one place the watchdog's clocks are read: the host's four clocks, close together.

use rustix::time::{clock_gettime, ClockId, Timespec};

use crate::proto::watchdog::HostClocks;

/// Reads bracketed by the raw clock further apart than this were probably preempted; read
/// again, up to [`ATTEMPTS`] times, and keep the tightest. The spread is passed on either way
/// and the watchdog allows for it.
const TIGHT_NANOS: i64 = 100_000;
const ATTEMPTS: usize = 3;

/// The host's clocks now.
pub(crate) fn read_host_clocks() -> HostClocks {
    let mut best = read_once();
    for _ in 1..ATTEMPTS {
        if best.spread_nanos <= TIGHT_NANOS {
            break;
        }
        let next = read_once();
        if next.spread_nanos < best.spread_nanos {
            best = next;
        }
    }
    best
}

fn read_once() -> HostClocks {
    let before = nanos(clock_gettime(ClockId::MonotonicRaw));
    let boottime = nanos(clock_gettime(ClockId::Boottime));
    let monotonic = nanos(clock_gettime(ClockId::Monotonic));
    let realtime = nanos(clock_gettime(ClockId::Realtime));
    let after = nanos(clock_gettime(ClockId::MonotonicRaw));
    HostClocks {
        boottime_nanos: boottime,
        monotonic_nanos: monotonic,
        monotonic_raw_nanos: before,
        realtime_nanos: realtime,
        spread_nanos: after.saturating_sub(before),
    }
}

fn nanos(ts: Timespec) -> i64 {
    ts.tv_sec
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clocks_move_together_while_nothing_happens() {
        let first = read_host_clocks();
        let second = read_host_clocks();
        assert!(first.spread_nanos >= 0 && second.spread_nanos >= 0);
        for (a, b) in [
            (first.boottime_nanos, second.boottime_nanos),
            (first.monotonic_nanos, second.monotonic_nanos),
            (first.monotonic_raw_nanos, second.monotonic_raw_nanos),
        ] {
            assert!(b >= a, "a monotonic clock went backwards");
        }
        // Boot time counts suspends on top of monotonic time: never less.
        assert!(first.boottime_nanos >= first.monotonic_nanos - first.spread_nanos);
    }
}
