//! The simulated cluster: three nodes with skewed clocks exchange messages over a network
//! with a fixed latency, each appending its sends and receipts to its own log.

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp, PhysicalClock};

use super::{Entry, Event};

/// The nodes: a name and a clock skew against true time, in milliseconds (at most 270 ms
/// apart, within the default max offset).
pub const NODES: [(&str, i64); 3] = [("alpha", 0), ("bravo", 120), ("charlie", -150)];
/// The messages, as (sender, receiver) indices into [`NODES`], numbered from 1.
pub const MESSAGES: [(usize, usize); 8] = [
    (0, 1),
    (1, 2),
    (2, 0),
    (1, 0),
    (0, 2),
    (2, 1),
    (1, 2),
    (0, 1),
];
/// Network latency: true time from a send to its receipt.
pub const LATENCY: Duration = Duration::from_millis(5);
/// True time between one receipt and the next send.
pub const GAP: Duration = Duration::from_millis(10);

/// 2024-01-01T00:00:00Z.
const START_MICROS: u64 = 1_704_067_200_000_000;

struct Node {
    name: &'static str,
    clock: ManualClock,
    hlc: Hlc<ManualClock>,
    log: BufWriter<File>,
}

impl Node {
    fn open(
        dir: &Path,
        index: usize,
        (name, skew_ms): (&'static str, i64),
    ) -> Result<Self, Box<dyn Error>> {
        let clock = ManualClock::new(
            START_MICROS
                .checked_add_signed(skew_ms * 1_000)
                .ok_or("skew")?,
        );
        let node_id = NodeId::new(u64::try_from(index)? + 1);
        let hlc = clock.hlc(node_id);
        let log = BufWriter::new(File::create(dir.join(format!("{name}.jsonl")))?);
        Ok(Self {
            name,
            clock,
            hlc,
            log,
        })
    }

    fn append(&mut self, hlc: NodeTimestamp, event: Event) -> Result<(), Box<dyn Error>> {
        let entry = Entry {
            hlc,
            wall_micros: self.clock.now_micros(),
            node: self.name.into(),
            event,
        };
        serde_json::to_writer(&mut self.log, &entry)?;
        self.log.write_all(b"\n")?;
        Ok(())
    }
}

/// Runs the cluster, writing one JSON-lines log per node into `dir`; returns their paths.
///
/// # Errors
/// An I/O error writing a log, or a refused clock merge (which the chosen skews never cause).
pub fn write_logs(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut nodes = NODES
        .into_iter()
        .enumerate()
        .map(|(i, spec)| Node::open(dir, i, spec))
        .collect::<Result<Vec<_>, _>>()?;
    let advance = |nodes: &[Node], by| nodes.iter().for_each(|n| n.clock.advance(by));
    for (number, (from, to)) in (1..).zip(MESSAGES) {
        advance(&nodes, GAP);
        let stamp = nodes[from].hlc.now_with_node();
        let header = stamp.to_string(); // what travels with the message
        let to_name = nodes[to].name.into();
        nodes[from].append(
            stamp,
            Event::Send {
                message: number,
                to: to_name,
            },
        )?;

        advance(&nodes, LATENCY);
        let receiver = &mut nodes[to];
        let received = receiver
            .hlc
            .update(header.parse::<NodeTimestamp>()?.timestamp)?;
        let stamp = NodeTimestamp::new(received, receiver.hlc.node_id());
        let from_name = NODES[from].0.into();
        receiver.append(
            stamp,
            Event::Receive {
                message: number,
                from: from_name,
            },
        )?;
    }
    let mut paths = Vec::new();
    for (node, (name, _)) in nodes.iter_mut().zip(NODES) {
        node.log.flush()?;
        paths.push(dir.join(format!("{name}.jsonl")));
    }
    Ok(paths)
}
