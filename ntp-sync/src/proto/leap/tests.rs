use super::*;

const HOUR: i64 = 3_600 * SECOND;
/// 2017-01-01 00:00:00 UTC, after the inserted 2016-12-31 23:59:60.
const MIDNIGHT: i64 = 1_483_228_800;

fn leap(kind: LeapKind) -> Leap {
    Leap {
        kind,
        midnight_unix_secs: MIDNIGHT,
    }
}

#[test]
fn an_announcement_is_for_the_end_of_the_current_month() {
    let december = (MIDNIGHT - 20 * 86_400) * SECOND;
    assert_eq!(
        Leap::at_month_end(LeapKind::Insert, december),
        leap(LeapKind::Insert)
    );
    assert_eq!(
        leap(LeapKind::Insert).to_string(),
        "leap second inserted at the end of 2016-12-31 UTC"
    );
    assert_eq!(leap(LeapKind::Insert).step_nanos(), MIDNIGHT * SECOND);
    assert_eq!(leap(LeapKind::Delete).step_nanos(), (MIDNIGHT - 1) * SECOND);
}

#[test]
fn readings_are_ambiguous_for_one_second_after_the_step() {
    let insert = leap(LeapKind::Insert);
    let step = insert.step_nanos();
    assert_eq!(insert.readings(step - 1), (step - 1, step - 1));
    // 23:59:60.5 reads 23:59:59.5 on a clock that repeated the second, 00:00:00.5 on one
    // that has not stepped yet.
    let half = SECOND / 2;
    assert_eq!(insert.readings(step + half), (step - half, step + half));
    assert_eq!(insert.readings(step + SECOND), (step, step));
    let delete = leap(LeapKind::Delete);
    let step = delete.step_nanos();
    assert_eq!(delete.readings(step - 1), (step - 1, step - 1));
    assert_eq!(delete.readings(step), (step, step + SECOND));
    assert_eq!(
        delete.readings(step + SECOND),
        (step + 2 * SECOND, step + 2 * SECOND)
    );
}

#[test]
fn the_smear_is_zero_before_half_at_the_centre_and_whole_after() {
    for kind in [LeapKind::Insert, LeapKind::Delete] {
        let l = leap(kind);
        let (step, shift) = (l.step_nanos(), l.shift_nanos());
        assert_eq!(l.smear_nanos(step - 12 * HOUR), 0);
        assert_eq!(l.smear_nanos(step - 13 * HOUR), 0);
        assert_eq!(l.smear_nanos(step), shift / 2);
        assert_eq!(l.smear_nanos(step + 12 * HOUR), shift);
        assert_eq!(l.smear_nanos(step + 100 * HOUR), shift);
        // A quarter of the way in, a quarter of the shift.
        assert_eq!(l.smear_nanos(step - 6 * HOUR), shift / 4);
        // Never backwards at the finest grain, where truncation could bite.
        for u in [step - 12 * HOUR, step - 1, step, step + 12 * HOUR - 1] {
            assert!(l.smeared(u + 1) >= l.smeared(u), "{kind:?} at {u}");
            assert!(l.smeared(u + 1_000) > l.smeared(u), "{kind:?} at {u}");
        }
    }
}

#[test]
fn a_strict_majority_of_survivors_decides_the_announcement() {
    use LeapIndicator::{DeleteSecond as Del, InsertSecond as Ins, NoWarning as No};
    assert_eq!(majority(&[Ins, Ins, No]), Some(Ins));
    assert_eq!(majority(&[Ins, No]), None);
    assert_eq!(majority(&[Ins, Del, No]), None);
    assert_eq!(majority(&[Del, Del, Del, Ins, No]), Some(Del));
    assert_eq!(majority(&[No, No, Ins]), Some(No));
    assert_eq!(majority(&[]), None);
}

#[test]
fn the_report_covers_both_readings_around_the_step() {
    let insert = LeapInForce {
        leap: leap(LeapKind::Insert),
        measured_after: false,
    };
    let step = insert.leap.step_nanos();
    // Wholly before the step: unchanged.
    assert_eq!(
        insert.report(step - 10, step - 1, false),
        (step - 10, step - 1)
    );
    // Touching it, measured before: a second lower too, whenever (the leap may not come).
    assert_eq!(
        insert.report(step - 5, step + 5, false),
        (step - 5 - SECOND, step + 5)
    );
    let later = step + 10 * SECOND;
    assert_eq!(
        insert.report(later, later + 5, false),
        (later - SECOND, later + 5)
    );
    // Measured after, past the ambiguous second: moved.
    let after = LeapInForce {
        measured_after: true,
        ..insert
    };
    assert_eq!(
        after.report(later, later + 5, false),
        (later - SECOND, later + 5 - SECOND)
    );
    assert!(after.pending_at(step + SECOND - 1));
    assert!(!after.pending_at(step + SECOND));
    // Smeared: the smear's reading of each end.
    let (low, high) = insert.report(step, step + 10, true);
    assert_eq!((low, high), (step - SECOND / 2, step + 10 - SECOND / 2));
    let code = insert.code();
    assert_eq!(Leap::from_words(code, step), Some(insert.leap));
    assert_eq!(Leap::from_words(after.code(), step), Some(insert.leap));
    assert_eq!(Leap::from_words(0, 0), None);
}

#[test]
fn a_smearing_source_disagrees_by_the_smear_before_the_step_and_the_rest_after() {
    let l = leap(LeapKind::Insert);
    let step = l.step_nanos();
    assert_eq!(
        expected_disagreement(&l, step - 6 * HOUR),
        [-SECOND / 4, SECOND / 4]
    );
    // After the step the others moved back a whole second; the smear a half.
    assert_eq!(
        expected_disagreement(&l, step + 1),
        [SECOND / 2, -SECOND / 2]
    );
}
