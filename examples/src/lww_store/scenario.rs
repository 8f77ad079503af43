//! Several nodes with skewed clocks take turns updating one key in the store, each after
//! reading what the previous writer wrote: every update is causally after the one before.
//!
//! Stamped with each node's wall clock, an update from a node whose clock is behind loses to
//! the older update it has just read, and the database reports nothing wrong. Stamped with a
//! hybrid clock that merged the stamp it read ([`Hlc::update`]), every update wins.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp, PhysicalClock, Timestamp};

use super::LwwStore;

/// The nodes: a name and a clock skew against true time, in milliseconds. They differ by
/// at most 400 ms, within the default max offset.
pub const NODES: [(&str, i64); 4] = [
    ("node-a", 0),
    ("node-b", -200),
    ("node-c", 150),
    ("node-d", -250),
];
/// How many times each node writes, in turn.
pub const ROUNDS: usize = 3;
/// True time between two writes.
pub const STEP: Duration = Duration::from_millis(20);

const KEY: &str = "config";
/// 2024-01-01T00:00:00Z: true time at the first write.
const START_MICROS: u64 = 1_704_067_200_000_000;

/// Where the stamps come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamping {
    /// Each node's physical clock, as most stores do.
    WallClock,
    /// Each node's hybrid logical clock.
    Hybrid,
}

/// One update and whether the database kept it.
#[derive(Clone, Debug)]
pub struct Update {
    /// The node that wrote it.
    pub writer: &'static str,
    /// That node's clock skew in milliseconds.
    pub skew_ms: i64,
    /// The value written.
    pub value: String,
    /// Its stamp.
    pub stamp: NodeTimestamp,
    /// Whether the upsert stored it (it was the latest write, so it should have).
    pub stored: bool,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How the updates were stamped.
    pub stamping: Stamping,
    /// Every update, in the (causal) order they were made.
    pub updates: Vec<Update>,
    /// The value the database holds at the end.
    pub final_value: Option<String>,
}

impl Outcome {
    /// How many updates the database silently dropped.
    pub fn lost(&self) -> usize {
        self.updates.iter().filter(|u| !u.stored).count()
    }

    /// The value of the last update made, which the database should hold.
    pub fn last_written(&self) -> Option<&str> {
        self.updates.last().map(|u| u.value.as_str())
    }
}

struct Node {
    name: &'static str,
    skew_ms: i64,
    clock: ManualClock,
    hlc: Hlc<ManualClock>,
}

impl Node {
    fn new(index: usize, (name, skew_ms): (&'static str, i64)) -> Result<Self, Box<dyn Error>> {
        let clock = ManualClock::new(
            START_MICROS
                .checked_add_signed(skew_ms * 1_000)
                .ok_or("skew")?,
        );
        let node_id = NodeId::new(u64::try_from(index)? + 1);
        let hlc = clock.hlc(node_id);
        Ok(Self {
            name,
            skew_ms,
            clock,
            hlc,
        })
    }

    fn stamp(&self, stamping: Stamping) -> NodeTimestamp {
        match stamping {
            Stamping::Hybrid => self.hlc.now_with_node(),
            Stamping::WallClock => {
                let wall = Timestamp::from_physical_micros(self.clock.now_micros());
                NodeTimestamp::new(wall, self.hlc.node_id())
            }
        }
    }
}

/// Runs the nodes' updates against a fresh in-memory store.
///
/// # Errors
/// A SQLite error, or a refused clock merge (which the chosen skews never cause).
pub fn run(stamping: Stamping) -> Result<Outcome, Box<dyn Error>> {
    let store = LwwStore::open_in_memory()?;
    let nodes = NODES
        .into_iter()
        .enumerate()
        .map(|(i, spec)| Node::new(i, spec))
        .collect::<Result<Vec<_>, _>>()?;
    let mut updates = Vec::new();
    for (turn, node) in nodes.iter().cycle().take(ROUNDS * nodes.len()).enumerate() {
        // Read the previous update and merge its stamp: ours is causally after it.
        if let Some(previous) = store.get(KEY)? {
            node.hlc.update(previous.stamp.timestamp)?;
        }
        let value = format!("update {} by {}", turn + 1, node.name);
        let stamp = node.stamp(stamping);
        let stored = store.put(KEY, Some(value.as_bytes()), stamp)?;
        updates.push(Update {
            writer: node.name,
            skew_ms: node.skew_ms,
            value,
            stamp,
            stored,
        });
        nodes.iter().for_each(|n| n.clock.advance(STEP));
    }
    let final_value = store.get(KEY)?.and_then(|row| row.value);
    let final_value = final_value.map(|v| String::from_utf8_lossy(&v).into_owned());
    Ok(Outcome {
        stamping,
        updates,
        final_value,
    })
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let title = match self.stamping {
            Stamping::WallClock => "wall-clock stamps (each node's physical clock)",
            Stamping::Hybrid => "hybrid logical clock stamps",
        };
        writeln!(f, "{title}:")?;
        writeln!(
            f,
            "  {:<20} {:>7}  {:<31} result",
            "update", "skew", "stamp"
        )?;
        for u in &self.updates {
            let result = if u.stored {
                "stored"
            } else {
                "LOST: an older update kept"
            };
            let skew = format!("{:+}ms", u.skew_ms);
            writeln!(
                f,
                "  {:<20} {skew:>7}  {:<31} {result}",
                u.value,
                u.stamp.timestamp.to_string()
            )?;
        }
        let stored = self.final_value.as_deref().unwrap_or("nothing");
        let last = self.last_written().unwrap_or("nothing");
        writeln!(
            f,
            "  database holds {stored:?}; the last update was {last:?}"
        )?;
        write!(
            f,
            "  {} of {} causally later updates silently lost",
            self.lost(),
            self.updates.len()
        )
    }
}
