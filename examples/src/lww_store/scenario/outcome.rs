//! What a run of a [`Plan`](super::Plan) did, and how to tell a lost update.

use std::collections::BTreeMap;
use std::fmt;

use hlc_core::NodeTimestamp;

use super::Stamping;

/// One update and whether the database kept it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// The round it was made in.
    pub round: usize,
    /// The key it updated.
    pub key: String,
    /// The writer that made it.
    pub writer: &'static str,
    /// That writer's clock skew in milliseconds.
    pub skew_ms: i64,
    /// The value written.
    pub value: String,
    /// Its stamp.
    pub stamp: NodeTimestamp,
    /// Whether the upsert stored it (it was the latest update of its key, so it should have).
    pub stored: bool,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// How the updates were stamped.
    pub stamping: Stamping,
    /// Every update, by round and then key: per key, the (causal) order they were made in.
    pub updates: Vec<Update>,
    /// Every key and the value the database holds for it at the end, in key order.
    pub final_values: Vec<(String, Option<String>)>,
}

impl Outcome {
    /// The outcome of `updates` (in any order), with the database's `final_values` as bytes.
    pub fn new(
        stamping: Stamping,
        mut updates: Vec<Update>,
        final_values: Vec<(String, Option<Vec<u8>>)>,
    ) -> Self {
        updates.sort_by(|a, b| (a.round, &a.key).cmp(&(b.round, &b.key)));
        let mut final_values: Vec<_> = final_values
            .into_iter()
            .map(|(key, value)| (key, value.map(|v| String::from_utf8_lossy(&v).into_owned())))
            .collect();
        final_values.sort();
        Self {
            stamping,
            updates,
            final_values,
        }
    }

    /// How many updates the database silently dropped: each was causally after the update it
    /// lost to.
    pub fn lost(&self) -> usize {
        self.updates.iter().filter(|u| !u.stored).count()
    }

    /// The keys whose final value is not their last update's.
    pub fn stale_keys(&self) -> Vec<&str> {
        let last = self.last_written();
        self.final_values
            .iter()
            .filter(|(key, value)| last.get(key.as_str()).copied() != value.as_deref())
            .map(|(key, _)| key.as_str())
            .collect()
    }

    /// The updates whose `stored` disagrees with last-writer-wins by stamp: an update must be
    /// stored exactly when its stamp is greater than every earlier stamp of its key. Empty
    /// when the database decided every write right, whatever the stamps.
    pub fn misjudged(&self) -> Vec<&Update> {
        let mut greatest: BTreeMap<&str, NodeTimestamp> = BTreeMap::new();
        let mut wrong = Vec::new();
        for update in &self.updates {
            let held = greatest.get(update.key.as_str()).copied();
            if update.stored != (Some(update.stamp) > held) {
                wrong.push(update);
            }
            if Some(update.stamp) > held {
                greatest.insert(&update.key, update.stamp);
            }
        }
        wrong
    }

    /// Each key's last update's value.
    fn last_written(&self) -> BTreeMap<&str, &str> {
        self.updates
            .iter()
            .map(|u| (u.key.as_str(), u.value.as_str()))
            .collect()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let title = match self.stamping {
            Stamping::WallClock => "wall-clock stamps (each writer's physical clock)",
            Stamping::Hybrid => "hybrid logical clock stamps",
        };
        writeln!(f, "{title}:")?;
        writeln!(
            f,
            "  {:<22} {:>7}  {:<31} result",
            "update", "skew", "stamp"
        )?;
        for u in &self.updates {
            let result = if u.stored {
                "stored"
            } else {
                "LOST: an older update kept"
            };
            let skew = format!("{:+}ms", u.skew_ms);
            let stamp = u.stamp.timestamp.to_string();
            writeln!(f, "  {:<22} {skew:>7}  {stamp:<31} {result}", u.value)?;
        }
        let last = self.last_written();
        for (key, value) in &self.final_values {
            let held = value.as_deref().unwrap_or("nothing");
            let last = last.get(key.as_str()).copied().unwrap_or("nothing");
            writeln!(f, "  {key} holds {held:?}; its last update was {last:?}")?;
        }
        write!(
            f,
            "  {} of {} causally later updates silently lost",
            self.lost(),
            self.updates.len()
        )
    }
}
