use proptest::prelude::*;

use super::*;

const SECOND: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;
const NOW: i64 = 1_700_000_000 * SECOND;

fn at() -> CombineAt {
    CombineAt {
        now_nanos: NOW,
        drift_ppb: 0,
        policy: StatusPolicy::default(),
    }
}

/// An estimate made now: true time in `offset ± radius` of the local clock.
fn estimate(offset_ms: i64, radius_ms: i64) -> Estimate {
    Estimate {
        offset_nanos: offset_ms * MS,
        radius_nanos: radius_ms * MS,
        at_nanos: NOW,
        newest_sample_nanos: NOW,
    }
}

fn both(network: Estimate, kernel: Estimate) -> Combined {
    combine(TimeSources::Both, Some(network), Some(kernel), &at())
}

fn bounds(combined: &Combined) -> (i64, i64) {
    combined.estimate().unwrap().true_time_at(NOW, 0)
}

/// `actual` is `expected` widened by the nanosecond each reading of a bound rounds up by
/// (once for the inputs, once for the combination), and by no more.
fn assert_widened(actual: (i64, i64), expected: (i64, i64)) {
    let (low, high) = (expected.0 - actual.0, actual.1 - expected.1);
    assert!(
        (0..=2).contains(&low) && (0..=2).contains(&high),
        "{actual:?} vs {expected:?}"
    );
}

#[test]
fn overlapping_bounds_give_their_intersection() {
    // Network [−10, +10] ms, kernel [+5, +25] ms: true time in [+5, +10] ms.
    let combined = both(estimate(0, 10), estimate(15, 10));
    assert!(matches!(combined, Combined::Intersection(_)));
    assert_widened(bounds(&combined), (NOW + 5 * MS, NOW + 10 * MS));
    assert_eq!(combined.conflict(), None);
}

#[test]
fn a_bound_inside_the_other_is_kept_whole() {
    let combined = both(estimate(3, 50), estimate(1, 2));
    assert_widened(bounds(&combined), (NOW - MS, NOW + 3 * MS));
    let combined = both(estimate(1, 2), estimate(3, 50));
    assert_widened(bounds(&combined), (NOW - MS, NOW + 3 * MS));
}

#[test]
fn bounds_that_do_not_meet_publish_nothing_and_name_both() {
    let combined = both(estimate(0, 10), estimate(30, 10));
    assert_eq!(combined.estimate(), None);
    let conflict = combined.conflict().unwrap();
    assert_widened(conflict.network, (NOW - 10 * MS, NOW + 10 * MS));
    assert_widened(conflict.kernel, (NOW + 20 * MS, NOW + 40 * MS));
    assert!(conflict.to_string().contains("do not meet"));
    // Touching ends still meet: the truth can be that one instant.
    let touching = both(estimate(0, 10), estimate(20, 10));
    assert_widened(bounds(&touching), (NOW + 10 * MS, NOW + 10 * MS));
}

#[test]
fn with_one_side_silent_the_other_is_published_as_it_would_be_alone() {
    let n = estimate(1, 5);
    let k = estimate(2, 7);
    let sources = TimeSources::Both;
    assert_eq!(combine(sources, Some(n), None, &at()), Combined::Network(n));
    assert_eq!(combine(sources, None, Some(k), &at()), Combined::Kernel(k));
    assert_eq!(combine(sources, None, None, &at()), Combined::Neither);
    // A void estimate is silence: an hour-old network estimate does not veto the kernel.
    let void = Estimate {
        at_nanos: NOW - 2 * 3_600 * SECOND,
        newest_sample_nanos: NOW - 2 * 3_600 * SECOND,
        ..estimate(900, 1)
    };
    assert_eq!(
        combine(sources, Some(void), Some(k), &at()),
        Combined::Kernel(k)
    );
}

#[test]
fn one_configured_source_passes_unchanged_and_the_other_is_ignored() {
    let n = estimate(0, 10);
    let k = estimate(500, 1);
    let network = combine(TimeSources::Network, Some(n), Some(k), &at());
    assert_eq!(network, Combined::Network(n));
    let kernel = combine(TimeSources::Kernel, Some(n), Some(k), &at());
    assert_eq!(kernel, Combined::Kernel(k));
    assert_eq!(
        combine(TimeSources::Kernel, Some(n), None, &at()),
        Combined::Neither
    );
    assert!(TimeSources::default().network() && !TimeSources::default().kernel());
    assert!(TimeSources::Both.network() && TimeSources::Both.kernel());
}

#[test]
fn estimates_are_compared_at_now_grown_by_their_age() {
    // Made 100 s ago at 15 ppm: each radius has grown by 1.5 ms, enough to meet.
    let old = |offset_ms, radius_ms| Estimate {
        at_nanos: NOW - 100 * SECOND,
        newest_sample_nanos: NOW - 100 * SECOND,
        ..estimate(offset_ms, radius_ms)
    };
    let at = CombineAt {
        drift_ppb: 15_000,
        ..at()
    };
    let combined = combine(TimeSources::Both, Some(old(0, 1)), Some(old(4, 1)), &at);
    let (low, high) = combined.estimate().unwrap().true_time_at(NOW, 0);
    assert!(low <= NOW + 2 * MS && NOW + 2 * MS <= high);
    assert_eq!(
        combine(
            TimeSources::Both,
            Some(old(0, 1)),
            Some(old(4, 1)),
            &CombineAt { drift_ppb: 0, ..at }
        )
        .estimate(),
        None
    );
}

proptest! {
    /// Whenever both bounds hold the truth, the combination holds it too and is no wider
    /// than either; it is never a conflict.
    #[test]
    fn prop_a_truth_inside_both_is_inside_the_combination(
        truth in -100_000i64..100_000,
        n_low in 0i64..50_000, n_high in 0i64..50_000,
        k_low in 0i64..50_000, k_high in 0i64..50_000,
    ) {
        let span = |low: i64, high: i64| {
            Estimate::covering((truth - low) * 1_000, (truth + high) * 1_000, NOW, NOW)
        };
        let (n, k) = (span(n_low, n_high), span(k_low, k_high));
        let combined = combine(TimeSources::Both, Some(n), Some(k), &at());
        let e = combined.estimate().unwrap();
        let (low, high) = e.true_time_at(NOW, 0);
        prop_assert!(low <= NOW + truth * 1_000 && NOW + truth * 1_000 <= high);
        prop_assert!(e.radius_nanos <= n.radius_nanos.min(k.radius_nanos) + 1);
    }
}
