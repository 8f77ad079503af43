//! [`crate::lww_store::scenario`]'s plans in PostgreSQL: every writer on its own connection,
//! all writing at once.
//!
//! Each writer runs as a task. In a round it reads each key the plan gives it, stamps an
//! update after what it read and upserts it; then it waits for the other writers to finish
//! the round, so that the next round reads what this one wrote. Within a round the writers
//! update different keys at the same time; each key's updates are causally ordered, one
//! round to the next. The stamps are those of the SQLite run of the same plan, and so is the
//! [`Outcome`], when both databases decide every write alike.

use std::error::Error;
use std::sync::Arc;

use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::lww_store::scenario::{Outcome, Plan, Stamping, Update, Writer};

use super::LwwTable;

/// An error a writer task can hand back.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// Runs `plan` against the database at `config` (see [`LwwTable::connect`]), with every key
/// stored under `key_prefix`: keys already updated with the same prefix make another run's
/// stamps the ones to beat, so each run takes a prefix of its own.
///
/// # Errors
/// The first error of any writer (the others are then stopped): a PostgreSQL error, or a
/// refused clock merge (which a plan within the max offset never causes).
pub async fn run(
    config: &str,
    key_prefix: &str,
    plan: Plan,
    stamping: Stamping,
) -> Result<Outcome, BoxError> {
    // Connections one after another: the first creates the table, and the others find it.
    let reader = LwwTable::connect(config).await?;
    let barrier = Arc::new(Barrier::new(plan.writers.len()));
    let mut writers = JoinSet::new();
    for (index, writer) in plan.clocks()?.into_iter().enumerate() {
        let task = WriterTask {
            plan,
            index,
            writer,
            table: LwwTable::connect(config).await?,
            key_prefix: key_prefix.to_owned(),
            stamping,
        };
        writers.spawn(task.run(Arc::clone(&barrier)));
    }
    let mut updates = Vec::new();
    // A writer that fails never reaches the next barrier, where the others would wait for it
    // for ever: returning on the first error drops the set, which aborts them.
    while let Some(done) = writers.join_next().await {
        updates.extend(done??);
    }
    let mut finals = Vec::new();
    for key in plan.keys() {
        let row = reader.get(&format!("{key_prefix}{key}")).await?;
        finals.push((key, row.and_then(|row| row.value)));
    }
    Ok(Outcome::new(stamping, updates, finals))
}

/// One writer and its connection.
struct WriterTask {
    plan: Plan,
    index: usize,
    writer: Writer,
    table: LwwTable,
    key_prefix: String,
    stamping: Stamping,
}

impl WriterTask {
    async fn run(self, barrier: Arc<Barrier>) -> Result<Vec<Update>, BoxError> {
        let mut updates = Vec::new();
        for round in 0..self.plan.rounds {
            self.writer.enter_round(round);
            for turn in self.plan.turns(round).filter(|t| t.writer == self.index) {
                let key = format!("{}{}", self.key_prefix, turn.key);
                let read = self.table.get(&key).await?.map(|row| row.stamp);
                let stamp = self.writer.stamp_after(read, self.stamping)?;
                let stored = self
                    .table
                    .put(&key, Some(turn.value.as_bytes()), stamp)
                    .await?;
                updates.push(self.writer.update(turn, stamp, stored));
            }
            barrier.wait().await;
        }
        Ok(updates)
    }
}
