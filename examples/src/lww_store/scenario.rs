//! Writers with skewed clocks update keys in a store, each update after reading what its key
//! holds: every update is causally after the update of its key before it.
//!
//! Stamped with each writer's wall clock, an update from a writer whose clock is behind loses
//! to the older update it has just read, and the database reports nothing wrong. Stamped with
//! a hybrid clock that merged the stamp it read ([`Hlc::update`]), every update wins.
//!
//! The [`Plan`] and the stamps are pure: each writer's clock is a [`ManualClock`] set from the
//! round, so any store runs the same updates with the same stamps. [`run`] runs a plan in
//! SQLite, one update after another; [`crate::lww_postgres::scenario`] runs it in PostgreSQL,
//! every writer on its own connection at once, and both report an [`Outcome`].

use std::error::Error;
use std::time::Duration;

use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp, PhysicalClock, Timestamp, UpdateError};

use super::LwwStore;

mod outcome;

pub use outcome::{Outcome, Update};

/// Who updates which key when. In round `r`, key `k` is updated by writer `(k + r) mod
/// writers`, so a key passes to another writer every round, and with as many keys as writers
/// every writer updates one key a round.
///
/// The skews must differ by less than [`hlc_core::DEFAULT_MAX_OFFSET`], or a writer refuses
/// the stamp it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The writers: a name and a clock skew against true time, in milliseconds.
    pub writers: &'static [(&'static str, i64)],
    /// How many keys are updated.
    pub keys: usize,
    /// How many rounds: every key is updated once a round, [`STEP`] of true time apart.
    pub rounds: usize,
}

/// Four nodes take turns updating one key, three times each; their skews differ by at most
/// 400 ms. The [`run`] of `lww_sqlite`.
pub const TAKING_TURNS: Plan = Plan {
    writers: &[
        ("node-a", 0),
        ("node-b", -200),
        ("node-c", 150),
        ("node-d", -250),
    ],
    keys: 1,
    rounds: 12,
};

/// Three writers, one 300 ms ahead, update three keys, each writer one key a round, so all
/// three write at once; every key passes through each writer three times.
pub const THREE_WRITERS: Plan = Plan {
    writers: &[("writer-a", 0), ("writer-b", 300), ("writer-c", -100)],
    keys: 3,
    rounds: 9,
};

/// True time between two rounds.
pub const STEP: Duration = Duration::from_millis(20);

/// 2024-01-01T00:00:00Z: true time at the first round.
const START_MICROS: u64 = 1_704_067_200_000_000;

/// Where the stamps come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamping {
    /// Each writer's physical clock, as most stores do.
    WallClock,
    /// Each writer's hybrid logical clock.
    Hybrid,
}

/// One update a plan asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    /// The round it belongs to.
    pub round: usize,
    /// The key it updates.
    pub key: String,
    /// The index of its writer in [`Plan::writers`].
    pub writer: usize,
    /// The value it writes.
    pub value: String,
}

impl Plan {
    /// How many updates the plan makes.
    pub fn writes(&self) -> usize {
        self.keys * self.rounds
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = String> {
        (0..self.keys).map(|k| format!("k{k}"))
    }

    /// The updates of `round`, in key order.
    pub fn turns(&self, round: usize) -> impl Iterator<Item = Turn> + '_ {
        self.keys().enumerate().map(move |(k, key)| {
            let writer = (k + round) % self.writers.len();
            let value = format!("{key} #{} by {}", round + 1, self.writers[writer].0);
            Turn {
                round,
                key,
                writer,
                value,
            }
        })
    }

    /// The writers' clocks, standing before the first round. Node ids count from 1.
    ///
    /// # Errors
    /// A plan with more writers than node ids (never).
    pub fn clocks(&self) -> Result<Vec<Writer>, std::num::TryFromIntError> {
        (1..)
            .zip(self.writers)
            .map(|(id, &(name, skew_ms))| {
                let clock = ManualClock::new(START_MICROS);
                let hlc = clock.hlc(NodeId::new(u64::try_from(id)?));
                Ok(Writer {
                    name,
                    skew_ms,
                    clock,
                    hlc,
                })
            })
            .collect()
    }
}

/// One writer's clocks: a skewed physical clock and a hybrid clock on it.
#[derive(Debug)]
pub struct Writer {
    name: &'static str,
    skew_ms: i64,
    clock: ManualClock,
    hlc: Hlc<ManualClock>,
}

impl Writer {
    /// Sets the physical clock to true time at `round`, plus the skew.
    pub fn enter_round(&self, round: usize) {
        let since_start = STEP.as_micros().saturating_mul(round as u128);
        let truth = START_MICROS.saturating_add(u64::try_from(since_start).unwrap_or(u64::MAX));
        self.clock
            .set(truth.saturating_add_signed(self.skew_ms.saturating_mul(1_000)));
    }

    /// The stamp of an update made after reading `read`, the stamp its key held (if any).
    ///
    /// # Errors
    /// [`UpdateError`] when `read` is further ahead than the hybrid clock's max offset.
    pub fn stamp_after(
        &self,
        read: Option<NodeTimestamp>,
        stamping: Stamping,
    ) -> Result<NodeTimestamp, UpdateError> {
        // Reading the key is receiving its stamp: the update is causally after it.
        if let Some(read) = read {
            self.hlc.update(read.timestamp)?;
        }
        Ok(match stamping {
            Stamping::Hybrid => self.hlc.now_with_node(),
            Stamping::WallClock => {
                let wall = Timestamp::from_physical_micros(self.clock.now_micros());
                NodeTimestamp::new(wall, self.hlc.node_id())
            }
        })
    }

    /// What the update of `turn`, stamped `stamp`, did.
    pub fn update(&self, turn: Turn, stamp: NodeTimestamp, stored: bool) -> Update {
        Update {
            round: turn.round,
            key: turn.key,
            writer: self.name,
            skew_ms: self.skew_ms,
            value: turn.value,
            stamp,
            stored,
        }
    }
}

/// Runs `plan` against a fresh in-memory store, one update after another.
///
/// # Errors
/// A SQLite error, or a refused clock merge (which a plan within the max offset never causes).
pub fn run(plan: &Plan, stamping: Stamping) -> Result<Outcome, Box<dyn Error>> {
    let store = LwwStore::open_in_memory()?;
    let writers = plan.clocks()?;
    let mut updates = Vec::new();
    for round in 0..plan.rounds {
        writers.iter().for_each(|w| w.enter_round(round));
        for turn in plan.turns(round) {
            let writer = &writers[turn.writer];
            let read = store.get(&turn.key)?.map(|row| row.stamp);
            let stamp = writer.stamp_after(read, stamping)?;
            let stored = store.put(&turn.key, Some(turn.value.as_bytes()), stamp)?;
            updates.push(writer.update(turn, stamp, stored));
        }
    }
    let mut finals = Vec::new();
    for key in plan.keys() {
        let value = store.get(&key)?.and_then(|row| row.value);
        finals.push((key, value));
    }
    Ok(Outcome::new(stamping, updates, finals))
}
