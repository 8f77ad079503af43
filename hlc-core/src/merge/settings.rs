//! The settings, counters and refusals of the [`Reorderer`](super::Reorderer).

use std::time::Duration;

use crate::NodeTimestamp;

/// Settings of a [`Reorderer`](super::Reorderer): how long a silent source may hold the
/// order back, and how many events may wait.
///
/// ```
/// use std::time::Duration;
/// use hlc_core::merge::ReorderConfig;
///
/// let config = ReorderConfig::new().with_max_delay(Duration::from_millis(250)).with_capacity(1024);
/// assert_eq!(config.capacity(), 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReorderConfig {
    max_delay: Duration,
    capacity: usize,
}

impl ReorderConfig {
    /// The default max delay: one second.
    pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(1);
    /// The default capacity: 65,536 events.
    pub const DEFAULT_CAPACITY: usize = 1 << 16;

    /// The defaults.
    pub const fn new() -> Self {
        Self {
            max_delay: Self::DEFAULT_MAX_DELAY,
            capacity: Self::DEFAULT_CAPACITY,
        }
    }

    /// How long after its last arrival a source stops holding the watermark back.
    pub const fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// How many events may wait at most; 0 counts as 1.
    pub const fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = if capacity == 0 { 1 } else { capacity };
        self
    }

    /// How long after its last arrival a source stops holding the watermark back.
    pub const fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// How many events may wait at most.
    pub const fn capacity(&self) -> usize {
        self.capacity
    }
}

impl Default for ReorderConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// What a [`Reorderer`](super::Reorderer) has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReorderStats {
    /// Events released in order (by `pop` or `flush`).
    pub emitted: u64,
    /// Events refused as late: they arrived after the order had passed them.
    pub late: u64,
    /// Events released before the watermark passed them because the buffer was full.
    pub forced: u64,
}

/// Why [`Reorderer::push`](super::Reorderer::push) refused an event. The event is handed
/// back, never dropped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError<T> {
    /// The event is not after the last one released, so it cannot take its place in the
    /// order any more: its source was silent past the max delay, or the buffer overflowed.
    #[error("late event {stamp}: the merged order has already passed {frontier}")]
    Late {
        /// The refused event.
        event: T,
        /// Its stamp.
        stamp: NodeTimestamp,
        /// The last stamp released, which is not before `stamp`.
        frontier: NodeTimestamp,
    },
    /// The buffer holds `capacity` events: call `pop`, which releases the least of them
    /// when full, and push again.
    #[error("reorderer full with {capacity} events: pop before pushing more")]
    Full {
        /// The refused event.
        event: T,
        /// The configured capacity.
        capacity: usize,
    },
}

impl<T> PushError<T> {
    /// The refused event.
    pub fn event(&self) -> &T {
        match self {
            Self::Late { event, .. } | Self::Full { event, .. } => event,
        }
    }

    /// The refused event, by value.
    pub fn into_event(self) -> T {
        match self {
            Self::Late { event, .. } | Self::Full { event, .. } => event,
        }
    }
}
