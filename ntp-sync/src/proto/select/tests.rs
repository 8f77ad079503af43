use super::*;
use proptest::prelude::*;

fn c(low: i64, high: i64) -> Candidate {
    Candidate { low, high }
}

fn contains(combined: Combined, point: i64) -> bool {
    let Combined {
        offset_nanos,
        radius_nanos,
    } = combined;
    offset_nanos - radius_nanos <= point && point <= offset_nanos + radius_nanos
}

#[test]
fn agreeing_sources_give_their_intersection_hull() {
    let selection = select(&[c(-10, 10), c(-5, 15), c(-2, 20)]);
    // Points covered by at least two of three: [-5, 15].
    assert_eq!(
        selection.combined,
        Some(Combined {
            offset_nanos: 5,
            radius_nanos: 10
        })
    );
    assert_eq!(selection.verdicts, vec![Verdict::Survivor; 3]);
}

#[test]
fn an_odd_width_rounds_the_radius_up_to_cover_both_ends() {
    // [0, 3] has no integer centre: offset 2 ± 2 covers it, 1 ± 1 would leave 3 out.
    let combined = select(&[c(0, 3)]).combined.unwrap();
    assert!(
        contains(combined, 0) && contains(combined, 3),
        "{combined:?}"
    );
    let combined = select(&[c(-7, 0), c(-7, 0)]).combined.unwrap();
    assert!(
        contains(combined, -7) && contains(combined, 0),
        "{combined:?}"
    );
}

#[test]
fn one_source_alone_is_a_majority_of_one() {
    let selection = select(&[c(100, 110)]);
    assert_eq!(
        selection.combined,
        Some(Combined {
            offset_nanos: 105,
            radius_nanos: 5
        })
    );
}

#[test]
fn no_candidates_no_estimate() {
    assert_eq!(select(&[]).combined, None);
}

#[test]
fn one_against_one_is_no_majority() {
    let selection = select(&[c(0, 10), c(100, 110)]);
    assert_eq!(selection.combined, None);
    assert_eq!(selection.verdicts, vec![Verdict::Falseticker; 2]);
}

#[test]
fn two_against_two_is_no_majority() {
    let selection = select(&[c(0, 10), c(2, 12), c(100, 110), c(102, 112)]);
    assert_eq!(selection.combined, None);
}

#[test]
fn two_of_five_liars_are_named() {
    let candidates = [
        c(-3, 3),
        c(-2, 4),
        c(-4, 2),
        c(1_000, 1_010),
        c(-1_010, -1_000),
    ];
    let selection = select(&candidates);
    let combined = selection.combined.unwrap();
    assert!(contains(combined, 0));
    // Points covered by three of five: [-2, 2].
    assert_eq!(
        combined,
        Combined {
            offset_nanos: 0,
            radius_nanos: 2
        }
    );
    assert_eq!(
        selection.verdicts,
        [
            Verdict::Survivor,
            Verdict::Survivor,
            Verdict::Survivor,
            Verdict::Falseticker,
            Verdict::Falseticker
        ]
    );
}

#[test]
fn undecided_voters_raise_the_majority_needed() {
    let agreeing = [c(0, 10), c(5, 15)];
    assert!(
        select_with_undecided(&agreeing, 1).combined.is_some(),
        "two of three"
    );
    assert_eq!(
        select_with_undecided(&agreeing, 2).combined,
        None,
        "two of four"
    );
    assert_eq!(
        select_with_undecided(&[c(0, 10)], 1).combined,
        None,
        "one of two"
    );
}

#[test]
fn while_voters_are_undecided_the_answer_covers_what_they_might_confirm() {
    // Truth 0: honest [-40, 40] and a liar [30, 50] agree; an honest voter has not answered.
    let candidates = [c(-40, 40), c(30, 50)];
    let combined = select_with_undecided(&candidates, 1).combined.unwrap();
    assert!(contains(combined, 0), "{combined:?}");
    assert_eq!(
        combined,
        Combined {
            offset_nanos: 5,
            radius_nanos: 45
        }
    );
    // Once every voter is decided, only what a majority covers remains.
    let decided = select_with_undecided(&[c(-40, 40), c(30, 50), c(-1, 1)], 0)
        .combined
        .unwrap();
    assert!(contains(decided, 0));
}

#[test]
fn touching_intervals_agree() {
    let selection = select(&[c(0, 10), c(10, 20)]);
    assert_eq!(
        selection.combined,
        Some(Combined {
            offset_nanos: 10,
            radius_nanos: 0
        })
    );
}

#[test]
fn colluding_liars_cannot_drag_the_estimate_off_the_truth() {
    // Truth 5: honest [0,10], [0,10], [4,6]; two liars agree on [8,9], where four overlap.
    let candidates = [c(0, 10), c(0, 10), c(4, 6), c(8, 9), c(8, 9)];
    let combined = select(&candidates).combined.unwrap();
    assert!(contains(combined, 5), "{combined:?}");
}

fn scenario() -> impl Strategy<Value = (i64, Vec<Candidate>, Vec<Candidate>)> {
    (1usize..12).prop_flat_map(|honest| {
        let liars = 0..honest; // strictly fewer liars than honest sources
        let truth = -1_000_000i64..1_000_000;
        (truth, Just(honest), liars).prop_flat_map(|(truth, honest, liars)| {
            let honest_one = (0i64..50_000, 0i64..50_000)
                .prop_map(move |(below, above)| c(truth - below, truth + above));
            let liar =
                (-2_000_000i64..2_000_000, 0i64..100_000).prop_map(|(at, r)| c(at - r, at + r));
            (
                Just(truth),
                proptest::collection::vec(honest_one, honest),
                proptest::collection::vec(liar, liars),
            )
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn prop_an_honest_majority_always_bounds_the_truth((truth, honest, liars) in scenario()) {
        let mut all = honest.clone();
        all.extend(liars.iter().copied());
        let selection = select(&all);
        let combined = selection.combined.expect("an honest majority always agrees");
        prop_assert!(contains(combined, truth), "{:?} misses {}", combined, truth);
        // No honest source is ever called a falseticker.
        for verdict in &selection.verdicts[..honest.len()] {
            prop_assert_eq!(*verdict, Verdict::Survivor);
        }
    }

    #[test]
    fn prop_estimate_lies_within_the_candidates_span(
        candidates in proptest::collection::vec((-1_000i64..1_000, 0i64..500), 0..10)
    ) {
        let candidates: Vec<_> = candidates.into_iter().map(|(o, r)| Candidate::around(o, r)).collect();
        if let Some(combined) = select(&candidates).combined {
            let lowest = candidates.iter().map(|c| c.low).min().unwrap();
            let highest = candidates.iter().map(|c| c.high).max().unwrap();
            prop_assert!(combined.offset_nanos - combined.radius_nanos >= lowest);
            prop_assert!(combined.offset_nanos + combined.radius_nanos <= highest + 1);
        }
    }

    #[test]
    fn prop_undecided_voters_never_cost_the_guarantee(
        (truth, honest, liars) in scenario(),
        undecided_share in 0.0f64..1.0,
    ) {
        // Some honest servers have not answered yet: they are the undecided voters.
        let undecided = ((honest.len() as f64) * undecided_share) as usize;
        let mut candidates: Vec<Candidate> = honest[undecided..].to_vec();
        candidates.extend(liars.iter().copied());
        if let Some(combined) = select_with_undecided(&candidates, undecided).combined {
            prop_assert!(contains(combined, truth), "{:?} misses {}", combined, truth);
        }
    }
}
