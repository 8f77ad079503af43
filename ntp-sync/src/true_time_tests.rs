use super::*;
use hlc_core::ManualClock;

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
    assert_eq!(
        interval.latest.physical_micros(),
        START_MICROS + 3_000_000 + 2_001
    );
    assert_eq!(interval.radius(), Duration::from_micros(2_001));
    assert_eq!(
        tt.health(),
        Health::Healthy {
            radius: Duration::from_micros(2_001)
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
    assert_eq!(interval.radius(), Duration::from_micros(7_001));
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
            radius: Duration::from_micros(300_001),
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
fn clones_share_the_estimate() {
    let (_, tt) = true_time();
    let reader = tt.clone();
    tt.publish(Some(estimate(0, MS)));
    assert_eq!(reader.now_interval().status, Status::Synchronised);
    assert!(format!("{reader:?}").contains("Synchronised"));
}
