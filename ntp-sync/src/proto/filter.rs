//! The clock filter (RFC 5905 §10): keep a source's last eight samples and trust the one with
//! the least delay, since queueing only ever adds delay and with it offset error.

use crate::proto::sample::Sample;

/// How many samples the filter keeps.
pub const FILTER_LEN: usize = 8;

/// The last [`FILTER_LEN`] samples of one source.
#[derive(Clone, Debug, Default)]
pub struct ClockFilter {
    samples: [Option<Sample>; FILTER_LEN],
    next: usize,
}

impl ClockFilter {
    /// Adds a sample, replacing the oldest once the filter is full.
    pub fn push(&mut self, sample: Sample) {
        self.samples[self.next] = Some(sample);
        self.next = (self.next + 1) % FILTER_LEN;
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Forgets the samples `keep` refuses.
    pub fn retain(&mut self, keep: impl Fn(&Sample) -> bool) {
        for slot in &mut self.samples {
            if slot.as_ref().is_some_and(|s| !keep(s)) {
                *slot = None;
            }
        }
    }

    /// The samples held, in no particular order.
    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().flatten()
    }

    /// The sample with the least delay; among equal delays, the newest.
    pub fn best(&self) -> Option<&Sample> {
        self.samples()
            .min_by_key(|s| (s.delay_nanos, std::cmp::Reverse(s.taken_at_nanos)))
    }

    /// The sample taken last: how fresh the source's answers are, whichever sample is best.
    pub fn newest(&self) -> Option<&Sample> {
        self.samples().max_by_key(|s| s.taken_at_nanos)
    }

    /// RMS of the other samples' offsets from the best one's (RFC 5905 §10, eq. for ψ), in
    /// nanoseconds; 0 with fewer than two samples. A measure of noise, not part of the bound.
    pub fn jitter_nanos(&self) -> i64 {
        let Some(best) = self.best() else { return 0 };
        let others: Vec<f64> = self
            .samples()
            .filter(|s| !std::ptr::eq(*s, best))
            .map(|s| (s.offset_nanos - best.offset_nanos) as f64)
            .collect();
        if others.is_empty() {
            return 0;
        }
        let mean_square = others.iter().map(|d| d * d).sum::<f64>() / others.len() as f64;
        mean_square.sqrt() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(offset: i64, delay: i64, at: i64) -> Sample {
        Sample {
            offset_nanos: offset,
            delay_nanos: delay,
            radius_nanos: delay / 2,
            taken_at_nanos: at,
            stratum: 2,
        }
    }

    #[test]
    fn least_delay_wins() {
        let mut filter = ClockFilter::default();
        for (i, delay) in [50, 20, 90, 30].into_iter().enumerate() {
            filter.push(sample(delay * 10, delay, i as i64));
        }
        assert_eq!(filter.best().map(|s| s.delay_nanos), Some(20));
    }

    #[test]
    fn ties_go_to_the_newest() {
        let mut filter = ClockFilter::default();
        filter.push(sample(1, 10, 1));
        filter.push(sample(2, 10, 2));
        assert_eq!(filter.best().map(|s| s.offset_nanos), Some(2));
    }

    #[test]
    fn the_newest_is_the_last_taken_whatever_its_delay() {
        let mut filter = ClockFilter::default();
        assert!(filter.newest().is_none());
        filter.push(sample(1, 10, 5));
        filter.push(sample(2, 90, 7));
        filter.push(sample(3, 50, 6));
        assert_eq!(filter.newest().map(|s| s.offset_nanos), Some(2));
        assert_eq!(filter.best().map(|s| s.offset_nanos), Some(1));
    }

    #[test]
    fn keeps_only_the_last_eight() {
        let mut filter = ClockFilter::default();
        filter.push(sample(0, 1, 0)); // the best, until it is pushed out
        for i in 1..=8 {
            filter.push(sample(i, 100 + i, i));
        }
        assert_eq!(filter.samples().count(), FILTER_LEN);
        assert_eq!(filter.best().map(|s| s.delay_nanos), Some(101));
    }

    #[test]
    fn jitter_is_the_rms_of_offset_differences() {
        let mut filter = ClockFilter::default();
        assert_eq!(filter.jitter_nanos(), 0);
        filter.push(sample(100, 1, 0));
        assert_eq!(filter.jitter_nanos(), 0);
        filter.push(sample(103, 5, 1));
        filter.push(sample(96, 5, 2));
        // Differences 3 and -4: sqrt((9 + 16) / 2) = 3.53.
        assert_eq!(filter.jitter_nanos(), 3);
        filter.clear();
        assert!(filter.best().is_none());
    }

    #[test]
    fn retain_forgets_the_samples_refused() {
        let mut filter = ClockFilter::default();
        for at in 0..5 {
            filter.push(sample(at, 10 + at, at));
        }
        filter.retain(|s| s.taken_at_nanos >= 3);
        let mut kept: Vec<i64> = filter.samples().map(|s| s.taken_at_nanos).collect();
        kept.sort_unstable();
        assert_eq!(kept, [3, 4]);
        assert_eq!(filter.best().map(|s| s.taken_at_nanos), Some(3));
        filter.push(sample(9, 1, 9));
        assert_eq!(filter.samples().count(), 3);
    }
}
