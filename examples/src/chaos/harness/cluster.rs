//! The five `hlc_node` processes: their listening sockets (held by the harness, so that a
//! port survives its node's restarts and every node knows its peers' URLs at start), their
//! processes, lives and logs.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http::Method;
use rustix::process::Signal;
use tempfile::TempDir;
use tokio::time::Instant;

use super::http::HttpClient;
use super::process::ChildGuard;
use super::recorder::now_us;
use super::NODES;
use crate::chaos::history::NodeInfo;

/// How often the nodes ping their peers (`--probe-interval`, ms): a paused or stepped node
/// is seen within a second.
pub const PROBE_INTERVAL_MS: u64 = 200;

/// How long a node may take to synchronise before it serves (`--wait-synced`, seconds).
pub const SYNC_LIMIT_S: u64 = 30;

/// How long a (re)started node may take to answer its first request: its NTP sync, on a
/// loaded machine, with room to spare.
pub const START_LIMIT: Duration = Duration::from_secs(60);

/// How long one of the probes that wait for a starting node may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// One node's place in the cluster.
#[derive(Debug)]
struct Slot {
    node: u64,
    listener: TcpListener,
    url: String,
    process: Option<ChildGuard>,
    /// The life of the process running now (lives counted from 0).
    life: u32,
    /// How many processes were started here.
    starts: u32,
    /// When the process running now answered its first request.
    answering_since: Option<Instant>,
}

/// The nodes; shared behind a mutex by the fault injector and the samplers.
#[derive(Debug)]
pub(super) struct Cluster {
    slots: Vec<Slot>,
    binary: PathBuf,
    logs: PathBuf,
    bounds: TempDir,
    ntp: Vec<String>,
}

/// What runs in a node's slot now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Current {
    pub(super) pid: u32,
    pub(super) life: u32,
    pub(super) answering_since: Option<Instant>,
}

/// Locks `cluster`; a panic elsewhere leaves the processes as they were, still worth using.
pub(super) fn lock(cluster: &Mutex<Cluster>) -> MutexGuard<'_, Cluster> {
    cluster.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Cluster {
    /// Binds node N's socket on `127.0.0.N`, port 0; logs go to `logs`, NTP to `ntp`.
    pub(super) fn bind(binary: &Path, logs: &Path, ntp: Vec<String>) -> io::Result<Self> {
        let mut slots = Vec::new();
        for node in 1..=NODES {
            let listener = TcpListener::bind(("127.0.0.".to_owned() + &node.to_string(), 0))?;
            let url = format!("http://{}", listener.local_addr()?);
            slots.push(Slot {
                node,
                listener,
                url,
                process: None,
                life: 0,
                starts: 0,
                answering_since: None,
            });
        }
        Ok(Self {
            slots,
            binary: binary.to_owned(),
            logs: logs.to_owned(),
            bounds: tempfile::Builder::new().prefix("chaos-bounds").tempdir()?,
            ntp,
        })
    }

    /// Every node and its base URL.
    pub(super) fn nodes(&self) -> Vec<NodeInfo> {
        self.slots
            .iter()
            .map(|s| NodeInfo {
                node: s.node,
                url: s.url.clone(),
            })
            .collect()
    }

    fn slot(&mut self, node: u64) -> io::Result<&mut Slot> {
        self.slots
            .iter_mut()
            .find(|s| s.node == node)
            .ok_or_else(|| io::Error::other(format!("no node {node}")))
    }

    /// Starts node `node` with its clock `clock_offset_ms` off; returns its pid and life.
    pub(super) fn spawn(&mut self, node: u64, clock_offset_ms: i64) -> io::Result<Current> {
        let mut command = self.command(node, clock_offset_ms)?;
        let slot = self.slot(node)?;
        let fd = OwnedFd::from(slot.listener.try_clone()?);
        command.stdin(Stdio::from(fd));
        let child = ChildGuard::spawn(command)?;
        slot.life = slot.starts;
        slot.starts += 1;
        slot.answering_since = None;
        let current = Current {
            pid: child.pid(),
            life: slot.life,
            answering_since: None,
        };
        slot.process = Some(child);
        Ok(current)
    }

    fn command(&self, node: u64, clock_offset_ms: i64) -> io::Result<Command> {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("node-{node}.log")))?;
        // One log across the node's lives: each starts under a line saying which it is.
        let life = self
            .slots
            .iter()
            .find(|s| s.node == node)
            .map_or(0, |s| s.starts);
        writeln!(
            log,
            "--- chaos: node {node} life {life}, clock offset {clock_offset_ms} ms, at {} us",
            now_us()
        )?;
        let mut command = Command::new(&self.binary);
        command
            .arg("--listen-stdin")
            .args(["--node-id", &node.to_string()])
            .args(["--clock-offset", &clock_offset_ms.to_string()])
            .args(["--probe-interval", &PROBE_INTERVAL_MS.to_string()])
            .args(["--wait-synced", &SYNC_LIMIT_S.to_string()])
            .arg("--upper-bound-file")
            .arg(self.bounds.path().join(format!("node-{node}.bound")))
            .arg("--chaos-admin")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        for peer in self.peers(node) {
            command.args(["--peer", &peer.url]);
        }
        for server in &self.ntp {
            command.args(["--ntp", server]);
        }
        Ok(command)
    }

    /// Node `node`'s peers in its `--peer` order: the others, from the next one round. The
    /// first is the one its `/relay` calls, so relays go round.
    fn peers(&self, node: u64) -> impl Iterator<Item = &Slot> {
        let count = self.slots.len();
        let own = self.slots.iter().position(|s| s.node == node).unwrap_or(0);
        (1..count).map(move |step| &self.slots[(own + step) % count])
    }

    /// For every node, the node its `/relay` calls (its first `--peer`).
    pub(super) fn relay_peers(&self) -> BTreeMap<u64, u64> {
        self.slots
            .iter()
            .filter_map(|s| Some((s.node, self.peers(s.node).next()?.node)))
            .collect()
    }

    /// Notes that node `node`'s process answers.
    pub(super) fn mark_answering(&mut self, node: u64) {
        if let Ok(slot) = self.slot(node) {
            slot.answering_since = Some(Instant::now());
        }
    }

    /// What runs in node `node`'s slot, if anything.
    pub(super) fn current(&self, node: u64) -> Option<Current> {
        let slot = self.slots.iter().find(|s| s.node == node)?;
        slot.process.as_ref().map(|p| Current {
            pid: p.pid(),
            life: slot.life,
            answering_since: slot.answering_since,
        })
    }

    /// `kill -9` of node `node`.
    pub(super) fn kill(&mut self, node: u64) -> io::Result<()> {
        match self.slot(node)?.process.take() {
            Some(process) => process.kill(),
            None => Err(io::Error::other(format!("node {node} is not running"))),
        }
    }

    /// Sends `signal` to node `node`.
    pub(super) fn signal(&mut self, node: u64, signal: Signal) -> io::Result<()> {
        match &self.slot(node)?.process {
            Some(process) => process.signal(signal),
            None => Err(io::Error::other(format!("node {node} is not running"))),
        }
    }

    /// Kills every node.
    pub(super) fn stop_all(&mut self) {
        for slot in &mut self.slots {
            drop(slot.process.take());
        }
    }
}

/// Waits until `url` answers `GET /health` with any status; returns when, on the harness's
/// clock.
///
/// # Errors
/// [`io::ErrorKind::TimedOut`] after [`START_LIMIT`].
pub(super) async fn wait_answering(client: &HttpClient, url: &str) -> io::Result<i64> {
    let deadline = Instant::now() + START_LIMIT;
    let health = format!("{url}/health");
    let mut last = String::new();
    while Instant::now() < deadline {
        match client.send(Method::GET, &health, None, PROBE_TIMEOUT).await {
            Ok(_) => return Ok(now_us()),
            Err(error) => last = error,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("{url} did not answer within {START_LIMIT:?}: {last}"),
    ))
}

/// The resident set size of process `pid`, in KiB (`VmRSS` in `/proc/<pid>/status`).
///
/// # Errors
/// When the file cannot be read or has no such line (the process is gone).
pub(super) fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no VmRSS for pid {pid}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_node_relays_to_the_next_one_round() {
        let logs = tempfile::tempdir().unwrap();
        let cluster = Cluster::bind(Path::new("hlc_node"), logs.path(), Vec::new()).unwrap();
        let peers: Vec<(u64, u64)> = cluster.relay_peers().into_iter().collect();
        assert_eq!(peers, [(1, 2), (2, 3), (3, 4), (4, 5), (5, 1)]);
        // The first --peer of a node's command line is its relay peer's URL.
        let command = cluster.command(5, 0).unwrap();
        let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy()).collect();
        let first = args.iter().position(|a| a == "--peer").unwrap() + 1;
        assert_eq!(args[first], cluster.nodes()[0].url);
    }

    #[test]
    fn the_rss_of_a_live_process_is_read_and_a_gone_one_is_an_error() {
        assert!(rss_kib(std::process::id()).unwrap() > 0);
        // Pids are below 2^22 on Linux: this one never runs.
        assert!(rss_kib(u32::MAX).is_err());
    }
}
