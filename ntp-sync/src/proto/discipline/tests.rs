use super::*;
use proptest::prelude::*;

const SECOND: i64 = 1_000_000_000;
const START: i64 = 1_700_000_000 * SECOND;

fn discipline() -> Discipline {
    Discipline::new(DEFAULT_PANIC_THRESHOLD)
}

/// Corrected time at `local`, or local time before the first estimate.
fn corrected(d: &Discipline, local: i64) -> i64 {
    local + d.correction().map_or(0, |c| c.at(local))
}

#[test]
fn the_first_estimate_is_stepped_in() {
    let mut d = discipline();
    assert_eq!(corrected(&d, START), START);
    let action = d.update(START, 3 * SECOND).unwrap();
    assert_eq!(
        action,
        DisciplineAction::Stepped {
            offset_nanos: 3 * SECOND
        }
    );
    assert_eq!(corrected(&d, START), START + 3 * SECOND);
}

#[test]
fn later_estimates_are_slewed_at_most_500_ppm() {
    let mut d = discipline();
    d.update(START, 0).unwrap();
    let action = d.update(START + SECOND, 10_000_000).unwrap();
    // 10 ms at 500 ppm takes 20 s.
    assert_eq!(
        action,
        DisciplineAction::Slewing {
            error_nanos: 10_000_000,
            over: Duration::from_secs(20)
        }
    );
    let at = |s: i64| d.correction().unwrap().at(START + SECOND + s * SECOND);
    assert_eq!(at(0), 0);
    assert_eq!(at(10), 5_000_000);
    assert_eq!(at(20), 10_000_000);
    assert_eq!(at(100), 10_000_000);
}

#[test]
fn a_backward_correction_never_makes_time_go_backwards() {
    let mut d = discipline();
    d.update(START, 0).unwrap();
    d.update(START + SECOND, -2 * SECOND).unwrap();
    let mut last = corrected(&d, START + SECOND);
    for step in 1..=5_000 {
        let now = corrected(&d, START + SECOND + step * SECOND);
        assert!(now > last, "went backwards at step {step}");
        assert!(now - last >= SECOND - SECOND / 2_000 - 1);
        last = now;
    }
    assert_eq!(
        d.correction().unwrap().at(START + 5_000 * SECOND),
        -2 * SECOND
    );
}

#[test]
fn offsets_beyond_the_panic_threshold_are_refused_and_change_nothing() {
    let mut d = discipline();
    let error = d.update(START, 1_001 * SECOND).unwrap_err();
    assert_eq!(
        error.to_string(),
        "offset 1001s ahead exceeds the panic threshold 1000s; not applied"
    );
    assert_eq!(d.correction(), None);
    d.update(START, 5 * SECOND).unwrap();
    let before = d.correction();
    assert!(d.update(START + SECOND, -2_000 * SECOND).is_err());
    assert_eq!(d.correction(), before);
}

#[test]
fn the_frequency_error_is_learned_from_successive_estimates() {
    // The local clock loses 20 µs per second: the true offset grows at 20 ppm.
    let mut d = discipline();
    for poll in 0..40 {
        let now = START + poll * 16 * SECOND;
        d.update(now, 20_000 * (now - START) / SECOND).unwrap();
    }
    let frequency = d.correction().unwrap().frequency_ppb;
    assert!((frequency - 20_000).abs() < 500, "{frequency}");
    // Between polls the corrected clock now stays within a few µs of the truth.
    let later = START + 39 * 16 * SECOND + 15 * SECOND;
    let truth_offset = 20_000 * (later - START) / SECOND;
    let error = d.correction().unwrap().at(later) - truth_offset;
    assert!(error.abs() < 50_000, "{error}");
}

#[test]
fn an_estimate_beyond_the_step_threshold_is_stepped_not_slewed() {
    // The local clock was stepped back by 5 s: slewing that at 500 ppm would take 2.8 h.
    let mut d = discipline();
    d.update(START, 0).unwrap();
    let later = START + 64 * SECOND;
    let action = d.update(later, 5 * SECOND).unwrap();
    assert_eq!(
        action,
        DisciplineAction::Stepped {
            offset_nanos: 5 * SECOND
        }
    );
    assert_eq!(corrected(&d, later), later + 5 * SECOND);
    // The jump taught the frequency nothing, and what follows slews again.
    assert_eq!(d.correction().unwrap().frequency_ppb, 0);
    let action = d
        .update(later + 64 * SECOND, 5 * SECOND + 3_000_000)
        .unwrap();
    assert!(
        matches!(action, DisciplineAction::Slewing { .. }),
        "{action:?}"
    );
    // Up to the threshold it slews; the threshold is configurable.
    let mut d = discipline().with_step_threshold(Duration::from_secs(1));
    d.update(START, 0).unwrap();
    let action = d.update(START + SECOND, 900_000_000).unwrap();
    assert!(
        matches!(action, DisciplineAction::Slewing { .. }),
        "{action:?}"
    );
    let at_threshold = DEFAULT_STEP_THRESHOLD.as_nanos() as i64;
    let mut d = discipline();
    d.update(START, 0).unwrap();
    let action = d.update(START + SECOND, at_threshold).unwrap();
    assert!(
        matches!(action, DisciplineAction::Slewing { .. }),
        "{action:?}"
    );
}

#[test]
fn a_stepped_local_clock_restarts_the_frequency_history() {
    let mut d = discipline();
    for poll in 0..4 {
        d.update(START + poll * 16 * SECOND, 0).unwrap();
    }
    // The local clock is stepped by 5 ms: across the step the offset moves 5 ms in 16 s,
    // which would read as a 312 ppm frequency error.
    d.clock_stepped();
    d.update(START + 64 * SECOND, 5_000_000).unwrap();
    d.update(START + 80 * SECOND, 5_000_000).unwrap();
    assert_eq!(d.correction().unwrap().frequency_ppb, 0);
}

#[test]
fn a_drift_faster_than_any_oscillator_is_not_learned() {
    let mut d = discipline();
    d.update(START, 0).unwrap();
    // 100 ms in 16 s is 6250 ppm: something moved, the oscillator did not.
    d.update(START + 16 * SECOND, 100_000_000).unwrap();
    d.update(START + 32 * SECOND, 100_000_000).unwrap();
    assert_eq!(d.correction().unwrap().frequency_ppb, 0);
}

proptest! {
    #[test]
    fn prop_corrected_time_is_rate_bounded_between_steps(
        first in -100 * SECOND..100 * SECOND,
        updates in proptest::collection::vec((1i64..120, -SECOND..SECOND), 1..20),
    ) {
        let threshold = DEFAULT_STEP_THRESHOLD.as_nanos() as i64;
        let mut d = discipline();
        d.update(START, first).unwrap();
        let mut now = START;
        let mut last = corrected(&d, now);
        for (gap_secs, offset) in updates {
            // Sample the corrected clock every 250 ms until the next update: monotonic, and
            // within 500 ppm of the local clock's rate.
            for _ in 0..gap_secs * 4 {
                now += SECOND / 4;
                let reading = corrected(&d, now);
                let elapsed = SECOND / 4;
                prop_assert!(reading > last);
                prop_assert!((reading - last - elapsed).abs() <= elapsed / 2_000 + 2);
                last = reading;
            }
            let before = corrected(&d, now);
            let action = d.update(now, first + offset).unwrap();
            last = corrected(&d, now);
            // Only a jump beyond the threshold is stepped; anything else starts a slew.
            match action {
                DisciplineAction::Stepped { .. } => {
                    prop_assert!((last - before).abs() > threshold);
                }
                DisciplineAction::Slewing { .. } => prop_assert_eq!(last, before),
            }
        }
    }

    #[test]
    fn prop_the_corrected_clock_is_never_further_than_the_step_threshold_from_an_estimate(
        updates in proptest::collection::vec((1i64..600, -10 * SECOND..10 * SECOND), 1..20),
    ) {
        let threshold = DEFAULT_STEP_THRESHOLD.as_nanos() as i64;
        let mut d = discipline();
        let mut now = START;
        for (gap_secs, offset) in updates {
            now += gap_secs * SECOND;
            d.update(now, offset).unwrap();
            let correction = d.correction().unwrap();
            prop_assert!((correction.at(now) - offset).abs() <= threshold);
            // And once the slew is done, it is on the estimate (frequency aside).
            let done = now + correction.slew_duration_nanos;
            let frequency = (correction.slew_duration_nanos as f64
                * correction.frequency_ppb as f64
                * 1e-9) as i64;
            prop_assert!((correction.at(done) - frequency - offset).abs() <= 1);
        }
    }
}

#[test]
fn a_step_keeps_the_frequency_learned_so_far() {
    // The local clock loses 20 µs per second; then it is stepped back by 5 s. The step moves
    // the offset, not the oscillator's rate.
    let mut d = discipline();
    let truth = |now: i64| 20_000 * (now - START) / SECOND;
    for poll in 0..40 {
        let now = START + poll * 16 * SECOND;
        d.update(now, truth(now)).unwrap();
    }
    let learned = d.correction().unwrap().frequency_ppb;
    assert!((learned - 20_000).abs() < 500, "{learned}");
    let later = START + 40 * 16 * SECOND;
    let action = d.update(later, truth(later) + 5 * SECOND).unwrap();
    assert!(
        matches!(action, DisciplineAction::Stepped { .. }),
        "{action:?}"
    );
    assert_eq!(d.correction().unwrap().frequency_ppb, learned);
}

#[test]
fn estimates_less_than_four_seconds_apart_teach_no_frequency() {
    // 100 µs in 1 s would read as 100 ppm: too short a span to tell drift from noise.
    let mut d = discipline();
    d.update(START, 0).unwrap();
    d.update(START + SECOND, 100_000).unwrap();
    assert_eq!(d.correction().unwrap().frequency_ppb, 0);
}

#[test]
fn estimates_four_seconds_apart_teach_a_frequency() {
    // 40 µs in 4 s is 10 ppm; the estimate moves a quarter of the way there.
    let mut d = discipline();
    d.update(START, 0).unwrap();
    d.update(START + 4 * SECOND, 40_000).unwrap();
    assert_eq!(d.correction().unwrap().frequency_ppb, 10_000 / 4);
}

#[test]
fn a_rate_of_exactly_the_kernel_slew_limit_is_learned_and_one_beyond_is_not() {
    // 2 ms in 4 s is 500 ppm, the most a kernel slews: still a rate a clock can have.
    let mut d = discipline();
    d.update(START, 0).unwrap();
    d.update(START + 4 * SECOND, 2_000_000).unwrap();
    assert_eq!(d.correction().unwrap().frequency_ppb, MAX_RATE_PPB / 4);
    // One nanosecond more per 4 s is beyond it: read as a step, not as drift.
    let mut d = discipline();
    d.update(START, 0).unwrap();
    d.update(START + 4 * SECOND, 2_000_004).unwrap();
    assert_eq!(d.correction().unwrap().frequency_ppb, 0);
}
