//! Memory: each node life's RSS at the end at most [`MEMORY_GROWTH_PERCENT`] above its RSS
//! after warm-up.
//!
//! "Within 10 %" is read as growth only: a leak grows, and an allocator that hands pages back
//! to the kernel is no broken promise. A life is one process (a restart starts another); one
//! without both a warmed-up and an end sample (killed before the end, started after the
//! warm-up) is skipped and counted. Of several samples of a phase, the first warmed-up and the
//! last end sample are compared.

use std::collections::BTreeMap;

use super::{Invariant, RssTotals, Violation};
use crate::chaos::history::{Record, RssPhase};

/// How far a node's RSS may grow from warm-up to the end, in percent: 10.
pub const MEMORY_GROWTH_PERCENT: u64 = 10;

/// The first warmed-up and the last end sample of one life, in KiB.
#[derive(Debug, Default, Clone, Copy)]
struct Samples {
    warmed_up: Option<(i64, u64)>,
    end: Option<(i64, u64)>,
}

pub(super) fn check(history: &[Record], violations: &mut Vec<Violation>) -> RssTotals {
    let mut lives = BTreeMap::<(u64, u32), Samples>::new();
    for record in history {
        let Record::Rss {
            at_us,
            node,
            life,
            rss_kib,
            phase,
        } = record
        else {
            continue;
        };
        let samples = lives.entry((*node, *life)).or_default();
        let sample = Some((*at_us, *rss_kib));
        match phase {
            RssPhase::WarmedUp if samples.warmed_up.is_none_or(|(at, _)| *at_us < at) => {
                samples.warmed_up = sample;
            }
            RssPhase::End if samples.end.is_none_or(|(at, _)| *at_us >= at) => samples.end = sample,
            _ => {}
        }
    }
    let mut totals = RssTotals::default();
    for ((node, life), samples) in lives {
        let (Some((_, warmed_up)), Some((_, end))) = (samples.warmed_up, samples.end) else {
            totals.lives_skipped += 1;
            continue;
        };
        totals.lives_checked += 1;
        totals.warmed_up_kib = totals.warmed_up_kib.saturating_add(warmed_up);
        totals.end_kib = totals.end_kib.saturating_add(end);
        let limit = u128::from(warmed_up) * u128::from(100 + MEMORY_GROWTH_PERCENT);
        if u128::from(end) * 100 > limit {
            violations.push(Violation::new(
                Invariant::Memory,
                format!(
                    "node {node} life {life}: {end} KiB at the end, more than \
                     {MEMORY_GROWTH_PERCENT} % above {warmed_up} KiB after warm-up"
                ),
            ));
        }
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::super::{check, Invariant};
    use crate::chaos::history::RssPhase;

    #[test]
    fn growth_beyond_ten_percent_is_found() {
        let history = [
            run(),
            rss(1, 0, RssPhase::WarmedUp, 10_000),
            rss(1, 0, RssPhase::During, 50_000),
            rss(1, 0, RssPhase::End, 11_001),
        ];
        let report = check(&history);
        assert_eq!(invariants(&report), [Invariant::Memory], "{report}");
        assert!(
            report.violations[0].detail.contains("node 1 life 0"),
            "{report}"
        );
    }

    #[test]
    fn ten_percent_or_a_shrink_passes_and_lives_without_both_samples_are_skipped() {
        let history = [
            run(),
            rss(1, 0, RssPhase::WarmedUp, 10_240),
            rss(1, 0, RssPhase::End, 11_264), // exactly 10 % more
            rss(2, 0, RssPhase::WarmedUp, 20_480),
            rss(2, 0, RssPhase::End, 10_240),
            rss(3, 0, RssPhase::WarmedUp, 9_000), // killed later: no end sample
            rss(3, 1, RssPhase::End, 99_000),     // its next life: no warmed-up sample
        ];
        let report = check(&history);
        assert!(report.violations.is_empty(), "{report}");
        assert_eq!((report.rss.lives_checked, report.rss.lives_skipped), (2, 2));
        // 10 + 20 MB after warm-up, 11 + 10 MB at the end.
        assert!(
            report.summary_line().contains("rss 30.0->21.0 MB"),
            "{report}"
        );
    }
}
