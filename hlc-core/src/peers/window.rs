//! A peer's offsets over the last window of time, and their distribution.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The distribution of one peer's offsets over the window, in µs (peer minus this node).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OffsetDistribution {
    /// The least offset.
    pub min_us: i64,
    /// The median offset (the lower of the two middle ones when the count is even, so that
    /// it is always an offset that was measured).
    pub median_us: i64,
    /// The greatest offset.
    pub max_us: i64,
    /// How many offsets the window holds.
    pub count: usize,
}

/// Offsets stamped with the monotonic instant they were recorded at, oldest first.
#[derive(Clone, Debug, Default)]
pub(super) struct OffsetWindow {
    samples: VecDeque<(Instant, i64)>,
}

impl OffsetWindow {
    /// Adds an offset, then drops samples older than `span` before `now` and the oldest ones
    /// beyond `capacity` (at least 1), so that a peer's memory stays bounded.
    pub(super) fn push(&mut self, now: Instant, offset_us: i64, span: Duration, capacity: usize) {
        self.samples.push_back((now, offset_us));
        while self.samples.len() > capacity.max(1) {
            self.samples.pop_front();
        }
        while let Some(&(at, _)) = self.samples.front() {
            if now.saturating_duration_since(at) <= span {
                break;
            }
            self.samples.pop_front();
        }
    }

    /// The distribution of the samples no older than `span` at `now`, if there are any.
    pub(super) fn distribution(&self, now: Instant, span: Duration) -> Option<OffsetDistribution> {
        let mut within: Vec<i64> = self
            .samples
            .iter()
            .filter(|&&(at, _)| now.saturating_duration_since(at) <= span)
            .map(|&(_, offset)| offset)
            .collect();
        within.sort_unstable();
        let (&min_us, &max_us) = (within.first()?, within.last()?);
        Some(OffsetDistribution {
            min_us,
            median_us: within[(within.len() - 1) / 2],
            max_us,
            count: within.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPAN: Duration = Duration::from_secs(10);

    #[test]
    fn the_distribution_covers_only_the_span() {
        let t0 = Instant::now();
        let mut window = OffsetWindow::default();
        for (s, offset) in [(0, 900), (5, -20), (8, 40), (12, 10)] {
            window.push(t0 + Duration::from_secs(s), offset, SPAN, 100);
        }
        // At 12 s the sample from 0 s has left; at 16 s the one from 5 s has too.
        let at_12 = window
            .distribution(t0 + Duration::from_secs(12), SPAN)
            .unwrap();
        let expected = OffsetDistribution {
            min_us: -20,
            median_us: 10,
            max_us: 40,
            count: 3,
        };
        assert_eq!(at_12, expected);
        let at_16 = window
            .distribution(t0 + Duration::from_secs(16), SPAN)
            .unwrap();
        assert_eq!((at_16.min_us, at_16.median_us, at_16.count), (10, 10, 2));
        assert_eq!(
            window.distribution(t0 + Duration::from_secs(60), SPAN),
            None
        );
    }

    #[test]
    fn the_capacity_drops_the_oldest() {
        let t0 = Instant::now();
        let mut window = OffsetWindow::default();
        for i in 0..10 {
            window.push(t0, i, SPAN, 4);
        }
        let d = window.distribution(t0, SPAN).unwrap();
        assert_eq!((d.min_us, d.median_us, d.max_us, d.count), (6, 7, 9, 4));
    }
}
