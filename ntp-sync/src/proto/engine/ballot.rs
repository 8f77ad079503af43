//! The votes of one evaluation, gathered source by source before selection.

use super::SourceState;
use crate::proto::select::Candidate;

/// The votes of one evaluation: the candidates' intervals, which source each came from, how
/// many sources are still undecided, and every source's state so far.
pub(super) struct Ballot {
    pub(super) candidates: Vec<Candidate>,
    pub(super) source_of: Vec<usize>,
    pub(super) undecided: usize,
    pub(super) states: Vec<SourceState>,
}

impl Ballot {
    pub(super) fn with_capacity(sources: usize) -> Self {
        Self {
            candidates: Vec::with_capacity(sources),
            source_of: Vec::with_capacity(sources),
            undecided: 0,
            states: Vec::with_capacity(sources),
        }
    }
}
