//! Three nodes exchanging messages and appending to JSON-lines logs, merged into one order.
//!
//! Each node appends one line per event to its own log, with its hybrid timestamp and its
//! wall-clock reading ([`cluster::write_logs`]). Each log is in order by either key, since a
//! node's clocks only move forwards, so [`merge_logs`] merges them lazily with
//! [`KWayMerge`] by either key. Sorted by wall clock, a message from a node whose clock runs
//! ahead can appear to be received before it was sent; sorted by hybrid timestamp, never.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use hlc_core::merge::{KWayMerge, Stamped};
use hlc_core::{NodeTimestamp, Timestamp};
use serde::{Deserialize, Serialize};

pub mod cluster;

/// One line of a node's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The event's hybrid timestamp, with the node's id.
    pub hlc: NodeTimestamp,
    /// The node's physical clock at the event, in microseconds since the Unix epoch.
    pub wall_micros: u64,
    /// The node's name.
    pub node: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// What a node logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The node sent message `message` to `to`.
    Send {
        /// The message number, unique in the cluster.
        message: u32,
        /// The receiver's name.
        to: String,
    },
    /// The node received message `message` from `from`.
    Receive {
        /// The message number.
        message: u32,
        /// The sender's name.
        from: String,
    },
}

/// Which stamp orders the merged log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Hybrid timestamp, then node id.
    Hlc,
    /// Wall-clock reading, then node id.
    WallClock,
}

impl Order {
    /// The key this order sorts `entry` by: its stamp, or its wall-clock reading with the
    /// node's id.
    pub fn key(self, entry: &Entry) -> NodeTimestamp {
        match self {
            Order::Hlc => entry.hlc,
            Order::WallClock => NodeTimestamp::new(
                Timestamp::from_physical_micros(entry.wall_micros),
                entry.hlc.node,
            ),
        }
    }
}

/// A log line with the key it is merged by. A line that does not parse gets the least key,
/// so that the merge yields its error as soon as it reads it.
struct Keyed {
    key: NodeTimestamp,
    line: io::Result<Entry>,
}

impl Stamped for Keyed {
    fn stamp(&self) -> NodeTimestamp {
        self.key
    }
}

fn read_log(path: &Path, order: Order) -> io::Result<impl Iterator<Item = Keyed>> {
    let lines = BufReader::new(File::open(path)?).lines();
    let name = path.display().to_string();
    Ok(lines.enumerate().map(move |(index, line)| {
        let entry = line.and_then(|text| {
            serde_json::from_str::<Entry>(&text).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{name}:{}: {e}", index + 1),
                )
            })
        });
        let key = entry
            .as_ref()
            .map_or(NodeTimestamp::default(), |e| order.key(e));
        Keyed { key, line: entry }
    }))
}

/// Merges the logs at `paths` into one stream in `order`, reading them lazily, line by line.
///
/// # Errors
/// Opening a log fails; or, as an item, a line that cannot be read or parsed (named by file
/// and line number).
pub fn merge_logs<P: AsRef<Path>>(
    paths: &[P],
    order: Order,
) -> io::Result<impl Iterator<Item = io::Result<Entry>>> {
    let logs = paths
        .iter()
        .map(|path| read_log(path.as_ref(), order))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(KWayMerge::new(logs).map(|keyed| keyed.line))
}

/// The messages that appear received before they were sent, in the order they appear.
pub fn causal_violations<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<u32> {
    let mut sent = HashSet::new();
    let mut violations = Vec::new();
    for entry in entries {
        match entry.event {
            Event::Send { message, .. } => {
                sent.insert(message);
            }
            Event::Receive { message, .. } if !sent.contains(&message) => violations.push(message),
            Event::Receive { .. } => {}
        }
    }
    violations
}

/// The merged log as a table, marking receipts that come before their sending.
pub fn render(entries: &[Entry], order: Order) -> String {
    let mut sent = HashSet::new();
    let mut out = String::new();
    for entry in entries {
        let shown = match order {
            Order::Hlc => entry.hlc.timestamp,
            Order::WallClock => Timestamp::from_physical_micros(entry.wall_micros),
        };
        let (what, violation) = match &entry.event {
            Event::Send { message, to } => {
                sent.insert(*message);
                (format!("sends message {message} to {to}"), false)
            }
            Event::Receive { message, from } => (
                format!("receives message {message} from {from}"),
                !sent.contains(message),
            ),
        };
        let mark = if violation {
            "  <- before it was sent"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {:<31} {:<8} {what}{mark}",
            shown.to_string(),
            entry.node
        );
    }
    out
}
