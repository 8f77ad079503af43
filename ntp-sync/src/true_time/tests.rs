use std::time::Duration;

use super::*;
use crate::corrected::CorrectedClock;
use crate::proto::estimate::{Status, StatusPolicy};
use hlc_core::ManualClock;
use hlc_core::Timestamp;

const START_MICROS: u64 = 1_700_000_000_000_000;
const MS: i64 = 1_000_000;

fn policy() -> ReadPolicy {
    ReadPolicy {
        drift_ppb: 15_000,
        status: StatusPolicy::default(),
        health_limit: Duration::from_millis(250),
    }
}

fn true_time() -> (ManualClock, TrueTime) {
    let clock = ManualClock::new(START_MICROS);
    (clock.clone(), TrueTime::new(Arc::new(clock), policy()))
}

fn estimate(offset: i64, radius: i64) -> Estimate {
    Estimate {
        offset_nanos: offset,
        radius_nanos: radius,
        at_nanos: START_MICROS as i64 * 1_000,
        newest_sample_nanos: START_MICROS as i64 * 1_000,
    }
}

#[test]
fn without_an_estimate_the_interval_is_unbounded() {
    let (_, tt) = true_time();
    let interval = tt.now_interval();
    assert_eq!(interval, TimeInterval::unbounded());
    assert!(interval.contains(Timestamp::from_physical_micros(START_MICROS)));
    assert_eq!(tt.health(), Health::Unsynchronised);
    assert!(!tt.health().is_healthy());
}

#[test]
fn the_interval_is_local_time_plus_offset_within_the_radius() {
    let (_, tt) = true_time();
    tt.publish(Some(estimate(3_000 * MS, 2 * MS)));
    let interval = tt.now_interval();
    assert_eq!(interval.status, Status::Synchronised);
    assert_eq!(
        interval.earliest.physical_micros(),
        START_MICROS + 3_000_000 - 2_001
    );
    // The upper end also covers the reading's resolution: the local clock may be up to
    // 1 µs past what it read.
    assert_eq!(
        interval.latest.physical_micros(),
        START_MICROS + 3_000_000 + 2_002
    );
    assert_eq!(interval.radius(), Duration::from_micros(2_002));
    assert_eq!(
        tt.health(),
        Health::Healthy {
            radius: Duration::from_micros(2_002)
        }
    );
    assert_eq!(tt.estimate(), Some(estimate(3_000 * MS, 2 * MS)));
}

#[test]
fn the_interval_widens_and_then_goes_void() {
    let (clock, tt) = true_time();
    tt.publish(Some(estimate(0, MS)));
    clock.advance(Duration::from_secs(400));
    let interval = tt.now_interval();
    assert_eq!(interval.status, Status::FreeRunning);
    // 400 s at 15 ppm: 6 ms more.
    assert_eq!(interval.radius(), Duration::from_micros(7_002));
    clock.advance(Duration::from_secs(3_600));
    assert_eq!(tt.now_interval(), TimeInterval::unbounded());
}

#[test]
fn a_radius_beyond_the_limit_is_unhealthy() {
    let (_, tt) = true_time();
    tt.publish(Some(estimate(0, 300 * MS)));
    assert_eq!(
        tt.health(),
        Health::RadiusTooLarge {
            radius: Duration::from_micros(300_002),
            limit: Duration::from_millis(250)
        }
    );
}

#[test]
fn withdrawing_the_estimate_unsynchronises() {
    let (_, tt) = true_time();
    tt.publish(Some(estimate(0, MS)));
    tt.publish(None);
    assert_eq!(tt.now_interval().status, Status::Unsynchronised);
    assert_eq!(tt.estimate(), None);
}

#[test]
fn a_disruption_withdraws_the_estimate_until_the_next_one_is_published() {
    use crate::proto::watchdog::DisruptionKind;
    let (_, tt) = true_time();
    tt.publish(Some(estimate(0, MS)));
    tt.publish_disrupted(DisruptionKind::Pause);
    let interval = tt.now_interval();
    assert_eq!(interval, TimeInterval::disrupted());
    assert_eq!(interval.status, Status::Disrupted);
    assert_eq!(interval.earliest, TimeInterval::unbounded().earliest);
    assert_eq!(interval.latest, TimeInterval::unbounded().latest);
    assert_eq!(tt.estimate(), None);
    assert_eq!(tt.disruption(), Some(DisruptionKind::Pause));
    let health = tt.health();
    assert_eq!(
        health,
        Health::Disrupted {
            kind: DisruptionKind::Pause
        }
    );
    assert!(!health.is_healthy());
    tt.publish(Some(estimate(0, MS)));
    assert_eq!(tt.now_interval().status, Status::Synchronised);
    assert_eq!(tt.disruption(), None);
    assert!(tt.health().is_healthy());
}

#[test]
fn clones_share_the_estimate() {
    let (_, tt) = true_time();
    let reader = tt.clone();
    tt.publish(Some(estimate(0, MS)));
    assert_eq!(reader.now_interval().status, Status::Synchronised);
    assert!(format!("{reader:?}").contains("Synchronised"));
}

/// A clock that ticks every 4 ms, reading the tick it is in, like `CLOCK_REALTIME_COARSE`.
struct Coarse(ManualClock);

impl PhysicalClock for Coarse {
    fn now_micros(&self) -> u64 {
        self.0.now_micros() / 4_000 * 4_000
    }

    fn resolution(&self) -> Duration {
        Duration::from_millis(4)
    }
}

#[test]
fn a_coarse_clock_widens_the_interval_by_its_tick() {
    let fine = ManualClock::new(START_MICROS);
    let tt = TrueTime::new(Arc::new(Coarse(fine.clone())), policy());
    tt.publish(Some(estimate(0, MS)));
    // 3.9 ms into a tick, the coarse clock still reads its start; true time (offset 0) is
    // the fine clock.
    fine.advance(Duration::from_micros(3_900));
    let interval = tt.now_interval();
    let truth = Timestamp::from_physical_micros(fine.now_micros());
    assert!(interval.contains(truth), "{interval:?} {truth:?}");
    assert_eq!(
        interval.latest.physical_micros(),
        START_MICROS + 1_001 + 4_000
    );
}

#[test]
fn the_worst_error_of_a_reading_is_its_distance_to_the_far_end() {
    let interval = TimeInterval {
        earliest: Timestamp::from_physical_micros(1_000),
        latest: Timestamp::from_physical_micros(1_100),
        status: Status::Synchronised,
        leap: None,
    };
    assert_eq!(interval.worst_error(1_050), Duration::from_micros(50));
    assert_eq!(interval.worst_error(1_010), Duration::from_micros(90));
    assert_eq!(interval.worst_error(900), Duration::from_micros(200));
    assert_eq!(interval.worst_error(5_000), Duration::from_micros(4_000));
}

#[test]
fn health_counts_how_far_the_corrected_clock_is_from_the_bound() {
    use crate::proto::discipline::{Discipline, DEFAULT_PANIC_THRESHOLD};
    let clock = ManualClock::new(START_MICROS);
    let corrected = CorrectedClock::new(Arc::new(clock.clone()));
    let tt = TrueTime::following(corrected.clone(), policy());
    let now = START_MICROS as i64 * 1_000;
    let mut discipline = Discipline::new(DEFAULT_PANIC_THRESHOLD);
    discipline.update(now, 0).unwrap();
    corrected.publish(discipline.correction().unwrap());
    // The estimate moved 100 ms: within the step threshold, so the corrected clock slews and
    // is 100 ms off at first, though the interval is 1 ms wide.
    tt.publish(Some(estimate(100 * MS, MS)));
    discipline.update(now, 100 * MS).unwrap();
    corrected.publish(discipline.correction().unwrap());
    let error = Duration::from_micros(101_002);
    assert_eq!(tt.health(), Health::Healthy { radius: error });
    let strict = ReadPolicy {
        health_limit: Duration::from_millis(50),
        ..policy()
    };
    let tt = TrueTime::following(corrected, strict);
    tt.publish(Some(estimate(100 * MS, MS)));
    assert_eq!(
        tt.health(),
        Health::Converging {
            error,
            limit: Duration::from_millis(50)
        }
    );
    // 100 ms at 500 ppm: the slew is done after 200 s, and the clock is healthy again.
    clock.advance(Duration::from_secs(200));
    tt.publish(Some(Estimate {
        at_nanos: clock.now_micros() as i64 * 1_000,
        newest_sample_nanos: clock.now_micros() as i64 * 1_000,
        ..estimate(100 * MS, MS)
    }));
    assert!(tt.health().is_healthy(), "{:?}", tt.health());
}

#[test]
fn a_refused_correction_is_unhealthy_until_cleared() {
    let (_, tt) = true_time();
    tt.publish(Some(estimate(0, MS)));
    let refused = crate::proto::discipline::DisciplineError::PanicThreshold {
        offset: Duration::from_secs(2_000),
        ahead: true,
        threshold: Duration::from_secs(1_000),
    };
    tt.set_refused(Some(refused));
    assert_eq!(
        tt.health(),
        Health::CorrectionRefused {
            offset: Duration::from_secs(2_000)
        }
    );
    tt.set_refused(None);
    assert!(tt.health().is_healthy());
}
