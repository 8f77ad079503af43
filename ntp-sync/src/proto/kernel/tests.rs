use proptest::prelude::*;

use super::*;

const SECOND: i64 = 1_000_000_000;
const T: i64 = 1_700_000_000 * SECOND + 123_456_000;
/// `MAXERROR_READ_LAG` at `MAXERROR_GROWTH_PPM`: 2 s at 500 ppm.
const LAG_GROWTH: i64 = 1_000_000;
const PLL: i32 = 0x0001;

/// Figures of the shape a daemon disciplining the clock through the kernel PLL leaves, in
/// microseconds (no `STA_NANO`): 12 ms maxerror, 250 µs still to slew in, −50 ppm.
fn synchronised_micro() -> KernelReading {
    KernelReading {
        state: 0,
        status: PLL,
        maxerror_micros: 12_000,
        esterror_micros: 500,
        offset: 250,
        freq: -50 * 65_536,
        time_nanos: T,
    }
}

/// The figures this machine's kernel returned (no daemon disciplines it): `STA_UNSYNC`,
/// `TIME_ERROR`, maxerror at the kernel's cap.
fn this_machine() -> KernelReading {
    KernelReading {
        state: TIME_ERROR,
        status: STA_UNSYNC,
        maxerror_micros: 16_000_000,
        esterror_micros: 16_000_000,
        offset: 0,
        freq: 0,
        time_nanos: T,
    }
}

fn bounds(view: &KernelView) -> (i64, i64) {
    match view.bound {
        KernelBound::Bounded {
            earliest_nanos,
            latest_nanos,
        } => (earliest_nanos, latest_nanos),
        KernelBound::Unsynchronised(reason) => panic!("unsynchronised: {reason}"),
    }
}

#[test]
fn a_synchronised_kernel_bounds_true_time_by_maxerror_and_the_pending_offset() {
    let reading = synchronised_micro();
    let (earliest, latest) = bounds(&reading.view());
    let error = 12_000_000 + LAG_GROWTH;
    assert_eq!(earliest, T - error);
    // The time read is truncated to the microsecond; the offset still to slew in is ahead.
    assert_eq!(latest, T + 1_000 + error + 250_000);
    assert_eq!(reading.offset_nanos(), 250_000);
    assert_eq!(reading.frequency_ppm(), -50.0);
    assert_eq!(reading.flags(), ["PLL"]);
    let interval = reading.view().interval();
    assert_eq!(interval.status, Status::Synchronised);
    assert_eq!(interval.earliest.physical_micros() as i64, earliest / 1_000);
    assert_eq!(interval.latest.physical_micros() as i64, latest / 1_000);
}

#[test]
fn with_sta_nano_the_offset_and_time_are_nanoseconds() {
    let reading = KernelReading {
        status: PLL | STA_NANO,
        offset: -40_000,
        time_nanos: T + 789,
        ..synchronised_micro()
    };
    assert_eq!(reading.offset_nanos(), -40_000);
    assert_eq!(reading.flags(), ["PLL", "NANO"]);
    let (earliest, latest) = bounds(&reading.view());
    let error = 12_000_000 + LAG_GROWTH;
    assert_eq!(earliest, T + 789 - error - 40_000);
    assert_eq!(latest, T + 789 + error);
}

#[test]
fn an_unsynchronised_kernel_gives_no_bound_whatever_its_figures() {
    let view = this_machine().view();
    assert_eq!(
        view.bound,
        KernelBound::Unsynchronised(Unsynchronised::Unsync)
    );
    assert_eq!(view.interval(), TimeInterval::unbounded());
    assert_eq!(view.estimate(T, T), None);
    assert_eq!(this_machine().flags(), ["UNSYNC"]);
    // Each sign alone is enough, even with small figures beside it.
    let small = synchronised_micro();
    let cases = [
        (
            KernelReading {
                status: STA_UNSYNC,
                ..small
            },
            Unsynchronised::Unsync,
        ),
        (
            KernelReading {
                status: STA_CLOCKERR,
                ..small
            },
            Unsynchronised::ClockError,
        ),
        (
            KernelReading {
                state: TIME_ERROR,
                ..small
            },
            Unsynchronised::TimeError,
        ),
    ];
    for (reading, reason) in cases {
        assert_eq!(reading.view().bound, KernelBound::Unsynchronised(reason));
    }
}

#[test]
fn maxerror_at_the_cap_or_negative_is_unsynchronised() {
    let cap = MAXERROR_LIMIT.as_micros() as i64;
    for maxerror_micros in [cap, cap + 1, -1] {
        let reading = KernelReading {
            maxerror_micros,
            ..synchronised_micro()
        };
        assert_eq!(
            reading.unsynchronised(),
            Some(Unsynchronised::MaxErrorAtLimit)
        );
    }
    let just_below = KernelReading {
        maxerror_micros: cap - 1,
        ..synchronised_micro()
    };
    assert_eq!(just_below.unsynchronised(), None);
}

#[test]
fn a_growing_maxerror_widens_the_bound_and_keeps_the_truth() {
    // Ten seconds without an update: the kernel has grown maxerror by 10 × 500 µs.
    let first = synchronised_micro();
    let later = KernelReading {
        maxerror_micros: first.maxerror_micros + 5_000,
        time_nanos: T + 10 * SECOND,
        ..first
    };
    let (e1, l1) = bounds(&first.view());
    let (e2, l2) = bounds(&later.view());
    assert_eq!((l2 - e2) - (l1 - e1), 10_000_000);
    // Whatever the truth was within the first bound, ten seconds later at most 500 ppm off
    // the clock's count it lies within the second.
    for truth in [e1, (e1 + l1) / 2, l1] {
        for elapsed in [10 * SECOND - 5_000_000, 10 * SECOND + 5_000_000] {
            let now = truth + elapsed;
            assert!(e2 <= now && now <= l2, "{now} outside [{e2}, {l2}]");
        }
    }
}

#[test]
fn the_local_estimate_widens_by_the_wait_around_the_read() {
    let view = synchronised_micro().view();
    let (earliest, latest) = bounds(&view);
    let before = T - 3 * SECOND;
    let estimate = view.estimate(before, before + 50_000).unwrap();
    let (low, high) = estimate.true_time_at(before, 0);
    assert_eq!(estimate.at_nanos, before);
    assert_eq!(estimate.newest_sample_nanos, before);
    // At `before` the read may still be 50 µs ahead: the truth then is 50 µs short of it.
    assert!(low <= earliest - 50_000);
    assert!(high >= latest);
    // Reading an estimate rounds each end out by a nanosecond.
    assert!(high - low <= (latest - earliest) + 50_000 + 3);
}

proptest! {
    /// Wherever the read fell between the two local readings and wherever the truth lay
    /// within the kernel's bound, the local estimate contains it at that instant.
    #[test]
    fn prop_the_local_estimate_contains_every_truth_the_kernel_allows(
        maxerror in 0i64..16_000_000,
        offset in -500_000i64..500_000,
        shift in -SECOND * 100..SECOND * 100,
        wait in 0i64..10_000_000,
        read_at in 0.0f64..=1.0,
        truth_at in 0.0f64..=1.0,
    ) {
        let reading = KernelReading {
            maxerror_micros: maxerror,
            offset,
            ..synchronised_micro()
        };
        let view = reading.view();
        let (earliest, latest) = bounds(&view);
        let before = T + shift;
        let local = before + (wait as f64 * read_at) as i64;
        let truth = earliest + ((latest - earliest) as f64 * truth_at) as i64;
        let estimate = view.estimate(before, before + wait).unwrap();
        let (low, high) = estimate.true_time_at(local, 0);
        prop_assert!(low <= truth && truth <= high, "{truth} outside [{low}, {high}]");
        prop_assert!(earliest <= T - maxerror * 1_000 && T + maxerror * 1_000 <= latest);
    }
}
