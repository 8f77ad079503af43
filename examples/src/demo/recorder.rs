//! The demo's shared notebook: stamps what happens with the time since the start, on the
//! monotonic clock (so the axis never runs backwards), into a [`Recording`].

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::recording::{Lane, LaneId, Mark, MarkKind, Message, Recording, Refusal, Step};

/// A handle on one recording; clones write into the same one.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    start: Instant,
    recording: Arc<Mutex<Recording>>,
}

impl Recorder {
    /// Starts the clock, with `lanes` to record on.
    pub(crate) fn start(lanes: Vec<Lane>) -> Self {
        let start_unix_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| saturating_micros(since.as_micros()));
        Self {
            start: Instant::now(),
            recording: Arc::new(Mutex::new(Recording {
                start_unix_us,
                lanes,
                ..Recording::default()
            })),
        }
    }

    /// Microseconds since the start.
    pub(crate) fn now_us(&self) -> u64 {
        saturating_micros(self.start.elapsed().as_micros())
    }

    /// The lane of `node`, when it has one.
    pub(crate) fn lane_of(&self, node: hlc_core::NodeId) -> Option<LaneId> {
        self.lock().lane_of(node)
    }

    /// Records `message`; its index.
    pub(crate) fn message(&self, message: Message) -> usize {
        let mut recording = self.lock();
        recording.messages.push(message);
        recording.messages.len() - 1
    }

    /// The latest message from `from` to `to`, with its index.
    pub(crate) fn last_message(&self, from: LaneId, to: LaneId) -> Option<(usize, Message)> {
        let recording = self.lock();
        let found = recording
            .messages
            .iter()
            .enumerate()
            .rev()
            .find(|(_, m)| m.from == from && m.to == to);
        found.map(|(index, message)| (index, message.clone()))
    }

    pub(crate) fn refusal(&self, refusal: Refusal) {
        self.lock().refusals.push(refusal);
    }

    /// Records a mark on `lane` now.
    pub(crate) fn mark(&self, lane: LaneId, kind: MarkKind, label: String, detail: String) {
        let at_us = self.now_us();
        self.lock().marks.push(Mark {
            lane,
            at_us,
            kind,
            label,
            detail,
        });
    }

    /// Records that step `title` starts now.
    pub(crate) fn step(&self, title: &str) {
        let at_us = self.now_us();
        self.lock().steps.push(Step {
            at_us,
            title: title.to_owned(),
        });
    }

    /// What was recorded so far.
    pub(crate) fn recording(&self) -> Recording {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Recording> {
        // A panic elsewhere while holding the lock leaves whole entries behind: keep going.
        self.recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn saturating_micros(micros: u128) -> u64 {
    u64::try_from(micros).unwrap_or(u64::MAX)
}
