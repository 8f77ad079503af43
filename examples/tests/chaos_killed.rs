//! A chaos harness killed with `SIGKILL` (no way out runs, no guard drops) leaves no node
//! behind: the kernel kills each `hlc_node` it started (`PR_SET_PDEATHSIG`). Runs the real
//! `chaos` and `hlc_node` example binaries that `cargo test` builds. Needs `stress-ng` (Debian
//! `stress-ng`), which the harness looks for before it starts anything.

mod common;

use std::fs;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use hlc_examples::chaos::harness::{self, NODES};
use rustix::process::{kill_process, Pid, Signal};

/// How long the harness may take to start its five nodes (they are spawned before they
/// sync, so this is mostly the harness's own start on a loaded machine).
const SPAWN_LIMIT: Duration = Duration::from_secs(60);

/// How long the nodes may take to die once the harness is gone.
const DEATH_LIMIT: Duration = Duration::from_secs(30);

/// How often the waits look again.
const POLL: Duration = Duration::from_millis(50);

/// The harness process, and the nodes it started: every one killed at the end, even when
/// the test fails.
struct Processes {
    harness: Child,
    nodes: Vec<u32>,
}

impl Drop for Processes {
    fn drop(&mut self) {
        let _ = self.harness.kill();
        let _ = self.harness.wait();
        for &pid in &self.nodes {
            if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                let _ = kill_process(pid, Signal::KILL);
            }
        }
    }
}

/// A process's command name and state, and its parent (`/proc/<pid>/stat`); `None` when it
/// is gone.
fn stat(pid: u32) -> Option<(String, char, u32)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`; comm may hold spaces and parentheses, so split at the last.
    let (head, rest) = text.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_owned();
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((comm, state, ppid))
}

/// The `hlc_node` children of `parent`.
fn node_children(parent: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            matches!(stat(pid), Some((comm, _, ppid)) if ppid == parent && comm == "hlc_node")
        })
        .collect()
}

/// Gone, or a zombie nobody has reaped yet (a container's init may never reap it): either
/// way it runs no more.
fn dead(pid: u32) -> bool {
    stat(pid).is_none_or(|(_, state, _)| state == 'Z')
}

#[test]
fn a_harness_killed_with_sigkill_leaves_no_node_running() {
    if let Err(error) = harness::find_stress_ng() {
        panic!("{error}");
    }
    let out = tempfile::tempdir().unwrap();
    let harness = Command::new(common::example_binary("chaos"))
        .args(["--seconds", "60", "--seed", "1", "--node-binary"])
        .arg(common::example_binary("hlc_node"))
        .arg("--out")
        .arg(out.path())
        // Its temporary directories too: killed, it cannot remove them itself.
        .env("TMPDIR", out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut processes = Processes {
        harness,
        nodes: Vec::new(),
    };
    let harness_pid = processes.harness.id();
    let deadline = Instant::now() + SPAWN_LIMIT;
    while processes.nodes.len() < usize::try_from(NODES).unwrap() {
        assert!(
            Instant::now() < deadline,
            "the harness started {} of {NODES} nodes within {SPAWN_LIMIT:?}",
            processes.nodes.len()
        );
        assert!(
            processes.harness.try_wait().unwrap().is_none(),
            "the harness ended before it started its nodes"
        );
        thread::sleep(POLL);
        processes.nodes = node_children(harness_pid);
    }
    // SIGKILL: the harness gets no chance to stop anything itself.
    processes.harness.kill().unwrap();
    processes.harness.wait().unwrap();
    let deadline = Instant::now() + DEATH_LIMIT;
    loop {
        let alive: Vec<u32> = processes
            .nodes
            .iter()
            .copied()
            .filter(|&pid| !dead(pid))
            .collect();
        if alive.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nodes {alive:?} still run {DEATH_LIMIT:?} after the harness was killed"
        );
        thread::sleep(POLL);
    }
}
