//! The client without I/O: a set of [`Source`]s and the selection over them. The tokio
//! client, the `query` command and the simulation all drive this one engine, passing in every
//! time reading and every received datagram.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::proto::estimate::{Estimate, StatusPolicy};
use crate::proto::packet::LeapIndicator;
use crate::proto::poll::PollConfig;
use crate::proto::sample::{LocalTimes, Sample, SampleParams};
use crate::proto::select::{select_with_undecided, Candidate, Verdict};
use crate::proto::source::{PollFailure, Source};
use crate::proto::validate::{KissCode, ResponseError};
use ballot::Ballot;

mod ballot;
mod report;
#[cfg(test)]
mod tests;

pub use report::SourceReport;

/// Everything the engine needs to know besides the servers.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct EngineConfig {
    /// When and how often to poll.
    pub poll: PollConfig,
    /// Drift bound and local clock precision.
    pub drift_ppb: i64,
    /// The local clock's resolution in nanoseconds.
    pub local_precision_nanos: i64,
    /// Freshness and void-after limits.
    pub status: StatusPolicy,
    /// Fewest usable sources for an estimate (default 1). A strict majority of the usable
    /// sources must agree in any case.
    pub min_sources: usize,
    /// How many first polls a server that never answered keeps its place in the majority
    /// count (default 4, the initial burst): long enough that a lost packet cannot hand the
    /// vote to the others, short enough that a dead server does not hold up synchronisation.
    pub undecided_polls: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        let sample = SampleParams::default();
        Self {
            poll: PollConfig::default(),
            drift_ppb: sample.drift_ppb,
            local_precision_nanos: sample.local_precision_nanos,
            status: StatusPolicy::default(),
            min_sources: 1,
            undecided_polls: 4,
        }
    }
}

impl EngineConfig {
    /// Counts a local clock's resolution into every sample: a coarse clock's readings lag by
    /// up to a tick, so its precision is no finer than that.
    pub fn with_clock_resolution(mut self, resolution: Duration) -> Self {
        let nanos = i64::try_from(resolution.as_nanos()).unwrap_or(i64::MAX);
        self.local_precision_nanos = self.local_precision_nanos.max(nanos);
        self
    }

    fn sample_params(&self) -> SampleParams {
        SampleParams {
            drift_ppb: self.drift_ppb,
            local_precision_nanos: self.local_precision_nanos,
            timestamp_error_nanos: 0,
        }
    }
}

/// Why a source takes no part in selection.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Unusable {
    /// No poll has completed yet.
    #[error("no response yet")]
    NoResponseYet,
    /// Never answered validly, but still within its first polls: it may yet answer, so it
    /// still counts towards the majority needed.
    #[error("no valid response yet: {0}")]
    NotYetAnswered(PollFailure),
    /// The server sent DENY or RSTR; it is not polled any more.
    #[error("refused by kiss-o'-death {0}")]
    Refused(KissCode),
    /// No valid response in the last eight polls, or none ever in the first polls; the
    /// reason is the latest failure.
    #[error("{0}")]
    Failing(PollFailure),
    /// No response for so long that its last sample is void.
    #[error("last sample is void")]
    Stale,
}

impl Unusable {
    /// Whether the source still counts towards the majority needed.
    pub fn is_undecided(&self) -> bool {
        matches!(self, Self::NoResponseYet | Self::NotYetAnswered(_))
    }
}

/// What selection made of one source.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum SourceState {
    /// Part of the combined estimate.
    Combined,
    /// Disagrees with the majority (or no majority agreed at all).
    Falseticker,
    /// Takes no part; the reason says why.
    Unusable(Unusable),
}

/// What the sources said, taken together.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Outcome {
    /// A strict majority agreed on this estimate.
    Agreed(Estimate),
    /// Sources disagree and no strict majority agrees: there is no time, never a guess.
    NoMajority,
    /// Too few usable sources yet (or, with sources still to answer, no majority yet).
    Undecided,
    /// No source is usable any more (all unreachable, refused or stale).
    NoSources,
}

/// The outcome of a selection at one instant.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Evaluation {
    /// The combined result.
    pub outcome: Outcome,
    /// One state per source, in the engine's order.
    pub states: Vec<SourceState>,
}

impl Evaluation {
    /// The agreed estimate, if any.
    pub fn estimate(&self) -> Option<Estimate> {
        match self.outcome {
            Outcome::Agreed(estimate) => Some(estimate),
            _ => None,
        }
    }

    /// The estimate to publish next, given the one published so far: a new agreement replaces
    /// it; a disagreement withdraws it; silence keeps it, to age into free-running and void.
    pub fn next_published(&self, current: Option<Estimate>) -> Option<Estimate> {
        match self.outcome {
            Outcome::Agreed(estimate) => Some(estimate),
            Outcome::NoMajority => None,
            Outcome::Undecided | Outcome::NoSources => current,
        }
    }
}

/// The sources of one client and the selection over them.
#[derive(Clone, Debug)]
pub struct Engine {
    config: EngineConfig,
    sources: Vec<Source>,
}

impl Engine {
    /// An engine with no sources.
    pub fn new(config: EngineConfig) -> Self {
        Self {
            config,
            sources: Vec::new(),
        }
    }

    /// Adds a server named `name` (at `address` once known); returns its index.
    pub fn add_source(&mut self, name: impl Into<String>, address: Option<SocketAddr>) -> usize {
        self.sources
            .push(Source::new(name, address, &self.config.poll));
        self.sources.len() - 1
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The sources, in the order they were added.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// One source, to resolve or inspect it. Panics on a bad index, like slice indexing.
    pub fn source_mut(&mut self, index: usize) -> &mut Source {
        &mut self.sources[index]
    }

    /// Starts a poll of source `index`; see [`Source::begin_poll`].
    pub fn begin_poll(
        &mut self,
        index: usize,
        random: u64,
    ) -> [u8; crate::proto::packet::HEADER_LEN] {
        self.sources[index].begin_poll(random)
    }

    /// Feeds a datagram received from `from` for source `index`; see [`Source::on_response`].
    ///
    /// # Errors
    ///
    /// The check the response failed.
    pub fn on_response(
        &mut self,
        index: usize,
        bytes: &[u8],
        from: SocketAddr,
        local: LocalTimes,
    ) -> Result<Sample, ResponseError> {
        self.on_response_within(index, bytes, from, local, 0)
    }

    /// Like [`on_response`](Self::on_response), for an exchange whose t1 and t4 are known
    /// within `± timestamp_error_nanos` only (kernel timestamps carried onto the local
    /// clock, [`kernel_stamp`](crate::proto::kernel_stamp)): the sample's radius grows by
    /// that much.
    ///
    /// # Errors
    ///
    /// The check the response failed.
    pub fn on_response_within(
        &mut self,
        index: usize,
        bytes: &[u8],
        from: SocketAddr,
        local: LocalTimes,
        timestamp_error_nanos: i64,
    ) -> Result<Sample, ResponseError> {
        let params = SampleParams {
            timestamp_error_nanos,
            ..self.config.sample_params()
        };
        self.sources[index].on_response(bytes, from, local, &params)
    }

    /// Ends the poll of source `index` without a sample.
    pub fn on_failure(&mut self, index: usize, failure: PollFailure) {
        self.sources[index].on_failure(failure);
    }

    /// How long source `index` waits before its next poll; `None` once it refused us.
    pub fn next_poll_in(&self, index: usize) -> Option<Duration> {
        self.sources[index].next_poll_in(&self.config.poll)
    }

    /// Drops every sample of every source (after the local clock was stepped).
    pub fn forget_samples(&mut self) {
        self.sources.iter_mut().for_each(Source::forget_samples);
    }

    /// Keeps, in every source, only the samples `keep` accepts; see
    /// [`Source::retain_samples`].
    pub fn retain_samples(&mut self, keep: impl Fn(&Sample) -> bool) {
        self.sources
            .iter_mut()
            .for_each(|source| source.retain_samples(&keep));
    }

    /// The leap indicator a strict majority of the survivors of `evaluation` announce in
    /// their latest responses (see [`leap::majority`](crate::proto::leap::majority)); `None`
    /// without an agreement, or when the survivors are split.
    pub fn announced_leap(&self, evaluation: &Evaluation) -> Option<LeapIndicator> {
        evaluation.estimate()?;
        let indicators: Vec<LeapIndicator> = self
            .sources
            .iter()
            .zip(&evaluation.states)
            .filter(|(_, state)| **state == SourceState::Combined)
            .map(|(source, _)| source.leap_indicator().unwrap_or(LeapIndicator::NoWarning))
            .collect();
        crate::proto::leap::majority(&indicators)
    }

    /// Starts every source over after a disruption; see [`Source::resynchronise`]. Samples
    /// from before the gap are never combined with samples after it.
    pub fn resynchronise(&mut self) {
        let poll = self.config.poll;
        self.sources
            .iter_mut()
            .for_each(|source| source.resynchronise(&poll));
    }

    /// Selects among the sources at local time `now_nanos` and combines the survivors.
    pub fn evaluate(&self, now_nanos: i64) -> Evaluation {
        let mut ballot = self.ballot(now_nanos);
        let outcome = match ballot.candidates.len() {
            0 if ballot.undecided == 0 => Outcome::NoSources,
            n if n < self.config.min_sources.max(1) => Outcome::Undecided,
            _ => self.combine(&mut ballot, now_nanos),
        };
        Evaluation {
            outcome,
            states: ballot.states,
        }
    }

    /// Every source's vote: its interval, or why it has none.
    fn ballot(&self, now_nanos: i64) -> Ballot {
        let mut ballot = Ballot::with_capacity(self.sources.len());
        for (index, source) in self.sources.iter().enumerate() {
            match self.candidate(source, now_nanos) {
                Ok(candidate) => {
                    ballot.source_of.push(index);
                    ballot.candidates.push(candidate);
                    ballot.states.push(SourceState::Falseticker);
                }
                Err(reason) => {
                    ballot.undecided += usize::from(reason.is_undecided());
                    ballot.states.push(SourceState::Unusable(reason));
                }
            }
        }
        ballot
    }

    fn combine(&self, ballot: &mut Ballot, now_nanos: i64) -> Outcome {
        let selection = select_with_undecided(&ballot.candidates, ballot.undecided);
        let Some(combined) = selection.combined else {
            return match ballot.undecided {
                0 => Outcome::NoMajority,
                _ => Outcome::Undecided,
            };
        };
        let mut newest_sample_nanos = i64::MIN;
        for (verdict, &index) in selection.verdicts.iter().zip(&ballot.source_of) {
            if *verdict == Verdict::Survivor {
                ballot.states[index] = SourceState::Combined;
                // Freshness is how recently the source answered, not how old its best
                // (least-delay) sample is: that one may be seven polls old.
                let newest = self.sources[index].filter().newest();
                newest_sample_nanos =
                    newest_sample_nanos.max(newest.map_or(i64::MIN, |s| s.taken_at_nanos));
            }
        }
        Outcome::Agreed(Estimate {
            offset_nanos: combined.offset_nanos,
            radius_nanos: combined.radius_nanos,
            at_nanos: now_nanos,
            newest_sample_nanos,
        })
    }

    fn no_sample_reason(&self, source: &Source) -> Unusable {
        let first_polls = source.consecutive_failures() < self.config.undecided_polls;
        let still_trying = !source.has_answered() && first_polls;
        match source.last_failure() {
            None => Unusable::NoResponseYet,
            Some(failure) if still_trying => Unusable::NotYetAnswered(failure.clone()),
            Some(failure) => Unusable::Failing(failure.clone()),
        }
    }

    fn candidate(&self, source: &Source, now_nanos: i64) -> Result<Candidate, Unusable> {
        if let Some(code) = source.refused() {
            return Err(Unusable::Refused(code));
        }
        let Some(best) = source.filter().best() else {
            return Err(self.no_sample_reason(source));
        };
        // RFC 5905 §11.2: a source that has not answered in eight polls has no vote.
        if source.reach() == 0 {
            let failure = source.last_failure().cloned();
            return Err(failure.map_or(Unusable::Stale, Unusable::Failing));
        }
        let newest = source
            .filter()
            .newest()
            .map_or(best.taken_at_nanos, |s| s.taken_at_nanos);
        let age = now_nanos.saturating_sub(newest).max(0) as u64;
        if Duration::from_nanos(age) >= self.config.status.void_after {
            return Err(Unusable::Stale);
        }
        let radius = best.radius_at(now_nanos, self.config.drift_ppb);
        Ok(Candidate::around(best.offset_nanos, radius))
    }
}
