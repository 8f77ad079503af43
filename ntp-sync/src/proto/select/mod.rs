//! Source selection: intersect the sources' intervals, Marzullo-style, and keep what a strict
//! majority agrees on (Marzullo 1984; the intersection algorithm of RFC 5905 §11.2.1).
//!
//! Each candidate says "the true offset is in `[low, high]`". If more than half of them are
//! right (honest, and their radius holds), the truth is covered by more than half of the
//! intervals. So the answer is the span from the lowest to the highest point that a strict
//! majority of intervals cover: it contains the truth whenever a majority is honest, however
//! the others lie. When no point is covered by a strict majority (two against two, one against
//! one) there is no answer at all, never a guess. Candidates that miss the answer entirely are
//! falsetickers. Survivors combine into the midpoint and half-width of the answer, the smallest
//! single interval that is still guaranteed.
//!
//! The rule differs from plain Marzullo (the region of *maximum* overlap) on purpose: two
//! liars that agree with each other and overlap part of a wide honest interval can raise the
//! overlap there above the overlap at the truth, and the maximum region would then miss it.

use serde::{Deserialize, Serialize};

/// One source's claim: the true offset lies in `[low, high]`, in nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Candidate {
    /// Lower end.
    pub low: i64,
    /// Upper end.
    pub high: i64,
}

impl Candidate {
    /// The interval `offset ± radius`.
    pub fn around(offset: i64, radius: i64) -> Self {
        Self {
            low: offset.saturating_sub(radius),
            high: offset.saturating_add(radius),
        }
    }

    fn overlaps(&self, low: i64, high: i64) -> bool {
        self.low <= high && low <= self.high
    }
}

/// The combined estimate: true time = local time + `offset_nanos` ± `radius_nanos`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Combined {
    /// Midpoint of the agreed interval.
    pub offset_nanos: i64,
    /// Half-width of the agreed interval.
    pub radius_nanos: i64,
}

/// What selection made of one candidate.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Verdict {
    /// Agrees with the majority and is part of the estimate.
    Survivor,
    /// Disagrees with the majority.
    Falseticker,
}

/// The outcome of [`select`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Selection {
    /// The estimate, or `None` when no strict majority agrees.
    pub combined: Option<Combined>,
    /// One verdict per candidate, in input order; all falsetickers when there is no estimate.
    pub verdicts: Vec<Verdict>,
}

/// Selects among `candidates`; see the module docs for the rule.
pub fn select(candidates: &[Candidate]) -> Selection {
    select_with_undecided(candidates, 0)
}

/// Like [`select`], with `undecided` more voters that have not answered yet.
///
/// They count towards the majority needed but support no interval, so the first server to
/// answer cannot decide alone while the others are still being asked. And since any of them
/// may be honest, the truth is only known to be covered by `needed - undecided` of the
/// candidates: the answer spans every point covered by that many, which is wider until the
/// undecided voters answer, but still contains the truth whenever most of all the voters are
/// honest.
pub fn select_with_undecided(candidates: &[Candidate], undecided: usize) -> Selection {
    let needed = (candidates.len() + undecided) / 2 + 1;
    let covered_by = needed.saturating_sub(undecided).max(1);
    let agreed = majority_span(candidates, needed).is_some();
    let Some((low, high)) = majority_span(candidates, covered_by).filter(|_| agreed) else {
        return Selection {
            combined: None,
            verdicts: vec![Verdict::Falseticker; candidates.len()],
        };
    };
    let verdicts = candidates
        .iter()
        .map(|c| match c.overlaps(low, high) {
            true => Verdict::Survivor,
            false => Verdict::Falseticker,
        })
        .collect();
    // Half the width, rounded up so the interval still covers both ends.
    let radius = ((i128::from(high) - i128::from(low) + 1) / 2) as i64;
    let offset = (i128::from(low) + i128::from(radius)) as i64;
    Selection {
        combined: Some(Combined {
            offset_nanos: offset,
            radius_nanos: radius,
        }),
        verdicts,
    }
}

/// The lowest and highest points covered by at least `needed` of the intervals.
fn majority_span(candidates: &[Candidate], needed: usize) -> Option<(i64, i64)> {
    // Starts sort before ends at the same point: touching closed intervals overlap.
    let mut edges: Vec<(i64, i32)> = Vec::with_capacity(candidates.len() * 2);
    for c in candidates.iter().filter(|c| c.low <= c.high) {
        edges.push((c.low, -1));
        edges.push((c.high, 1));
    }
    edges.sort_unstable();
    let mut covering = 0usize;
    let (mut first, mut last) = (None, None);
    for (point, kind) in edges {
        if kind < 0 {
            covering += 1;
            if covering >= needed && first.is_none() {
                first = Some(point);
            }
        } else {
            if covering >= needed {
                last = Some(point);
            }
            covering -= 1;
        }
    }
    first.zip(last)
}

#[cfg(test)]
mod tests;
