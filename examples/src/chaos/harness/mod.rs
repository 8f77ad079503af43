//! The chaos harness: five `hlc_node` processes on `127.0.0.1` to `127.0.0.5`, correcting
//! their clocks against five NTP responders in this process, under load from a few workers,
//! while faults drawn from a seed hit them; every request, health reading, fault and start is
//! written to the history as it happens, and the history is checked at the end.
//!
//! Each node serves on a listening socket the harness binds (port 0) and passes as its
//! standard input (`--listen-stdin`): its port survives restarts, and every node knows its
//! peers' URLs at start. It runs with `--node-id N` (1 to 5), a `--peer` for each other node
//! (the next one first: `/relay` calls it), `--probe-interval` [`PROBE_INTERVAL_MS`],
//! `--upper-bound-file` in a temporary directory, `--ntp` for each responder, `--wait-synced`
//! (so ntp-sync's health reaches the node's board) and `--chaos-admin` (for the clock step).
//!
//! The faults ([`schedule`]): a `kill -9` and restart (at once, or after [`KILL_DOWN`]) with
//! the clock set back ([`RESTART_OFFSET_MS`]), a `SIGSTOP` for [`PAUSE`], a step of the
//! node's simulated clock by [`STEP_MS`], CPU load from `stress-ng` (Debian `stress-ng`) for
//! [`CPU_LOAD`], and the NTP sources going bad (one lies by [`LIE`], one goes silent). One
//! episode at a time, so that never more than one node is down; node [`NEVER_KILLED`] is
//! never killed, so that one life spans the whole run for the memory check.
//!
//! The load generator's stamps carry node id [`LOAD_NODE_ID`], outside 1 to 5. Each request
//! may take [`REQUEST_TIMEOUT`].
//!
//! Everything is stopped on every way out: the nodes and `stress-ng` are killed and reaped
//! when their guards drop, which a Ctrl-C or the hard limit of `examples/chaos.rs` does too.
//! A harness killed outright takes them with it: each asks the kernel for `SIGKILL` when its
//! parent dies (see `process.rs` for why one long-lived thread forks them all).
//!
//! The load generator knows which peer each node's `/relay` calls (the first `--peer`), and
//! records it with the cause of every `502` ([`RelayFailure`](super::history::RelayFailure)).

mod cluster;
mod faults;
mod http;
mod load;
mod ntp;
mod observe;
mod process;
mod recorder;
pub mod schedule;

use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::check::{check, Report};
use super::history::{read_history, NodeInfo, Record, RunInfo};
use cluster::{lock, Cluster};
use faults::Injector;
use http::HttpClient;
use load::Load;
use ntp::NtpSources;
use recorder::now_us;

pub use cluster::{PROBE_INTERVAL_MS, START_LIMIT, SYNC_LIMIT_S};
pub use faults::{find_stress_ng, CPU_LOAD, PAUSE, RESTART_OFFSET_MS, STEP_MS};
pub use load::{REQUEST_TIMEOUT, WORKERS, WORKER_PACE};
pub use ntp::LIE;
pub use observe::{HEALTH_EVERY, HEALTH_TIMEOUT, RESTARTED_WARM_UP, RSS_EVERY};
pub use schedule::{KILL_DOWN, NEVER_KILLED};

/// How long the load runs unless told otherwise, in seconds.
pub const DEFAULT_SECONDS: u64 = 60;

/// The seed unless told otherwise: CI runs this one, so that its faults are always the same.
pub const DEFAULT_SEED: u64 = 15;

/// The number of nodes.
pub const NODES: u64 = 5;

/// The node id of the load generator's own clock, outside the nodes' 1 to 5.
pub const LOAD_NODE_ID: u64 = 0x99;

/// The history's file name in the run's directory.
pub const HISTORY_FILE: &str = "history.jsonl";

/// The summary's file name in the run's directory.
pub const SUMMARY_FILE: &str = "summary.txt";

/// What the harness is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long the load runs, in seconds.
    pub seconds: u64,
    /// The seed of the fault schedule.
    pub seed: u64,
    /// The `hlc_node` program.
    pub node_binary: PathBuf,
    /// Where the run's directory is made (`target/chaos`).
    pub out_root: PathBuf,
}

/// What a run left.
#[derive(Debug)]
pub struct RunOutcome {
    /// The run's directory: the history, the summary and the nodes' logs.
    pub dir: PathBuf,
    /// What the checker found.
    pub report: Report,
    /// Faults the harness failed to inject (a node that did not come back, ...).
    pub harness_errors: Vec<String>,
}

impl RunOutcome {
    /// Whether the run passed: the checker passed and every fault was injected.
    pub fn passed(&self) -> bool {
        self.report.passed() && self.harness_errors.is_empty()
    }
}

/// Runs the cluster under load and faults for `options.seconds`, then checks the history.
///
/// # Errors
/// When the run cannot be set up (no `stress-ng`, a socket, a node that does not start) or
/// the history cannot be written or read back.
pub async fn run(options: &Options) -> io::Result<RunOutcome> {
    let stress_ng = find_stress_ng()?;
    let started_us = now_us();
    let dir = options
        .out_root
        .join(format!("{}-{}", options.seed, started_us / 1_000_000));
    fs::create_dir_all(&dir)?;
    let (recorder, writer) = recorder::create(&dir.join(HISTORY_FILE))?;
    let ntp = NtpSources::start().await?;
    let cluster = Cluster::bind(&options.node_binary, &dir, ntp.addresses())?;
    let nodes = cluster.nodes();
    recorder.record(Record::Run(RunInfo {
        seed: options.seed,
        seconds: options.seconds,
        max_offset_us: u64::try_from(hlc_core::DEFAULT_MAX_OFFSET.as_micros()).unwrap_or(u64::MAX),
        nodes: nodes.clone(),
        started_us,
    }));
    let cluster = Arc::new(Mutex::new(cluster));
    let client = HttpClient::new();
    let injector = Injector {
        cluster: Arc::clone(&cluster),
        nodes: nodes.clone(),
        ntp,
        client: client.clone(),
        recorder: recorder.clone(),
        stress_ng,
    };
    let result = drive(options, &injector, &nodes).await;
    observe::sample_end(&cluster, &recorder);
    lock(&cluster).stop_all();
    // The writer ends once every recorder is gone, the injector's too.
    let Injector {
        ntp,
        recorder: injector_recorder,
        ..
    } = injector;
    drop((recorder, injector_recorder));
    ntp.shutdown().await;
    writer.finish().await?;
    let harness_errors = result?;
    let history = read_history(BufReader::new(File::open(dir.join(HISTORY_FILE))?))?;
    let report = check(&history);
    fs::write(dir.join(SUMMARY_FILE), format!("{report}\n"))?;
    Ok(RunOutcome {
        dir,
        report,
        harness_errors,
    })
}

/// Starts the nodes, then runs the load, the observers and the faults until the end of the
/// load; returns the faults that failed.
async fn drive(
    options: &Options,
    injector: &Injector,
    nodes: &[NodeInfo],
) -> io::Result<Vec<String>> {
    start_nodes(injector).await?;
    let load_start = Instant::now();
    let until = load_start + Duration::from_secs(options.seconds);
    let mut tasks = JoinSet::new();
    let relay_peers = lock(&injector.cluster).relay_peers();
    let load = Arc::new(Load::new(
        injector.client.clone(),
        nodes.to_vec(),
        relay_peers,
        injector.recorder.clone(),
    )?);
    for worker in 0..WORKERS {
        let seed = options.seed.wrapping_mul(1_000).wrapping_add(worker);
        tasks.spawn(Arc::clone(&load).worker(seed, until));
    }
    for node in nodes {
        let poll = observe::poll_health(
            injector.client.clone(),
            node.clone(),
            injector.recorder.clone(),
            until,
        );
        tasks.spawn(poll);
    }
    tasks.spawn(observe::sample_rss(
        Arc::clone(&injector.cluster),
        injector.recorder.clone(),
        load_start,
        Duration::from_secs(options.seconds / 3),
        until,
    ));
    let plan = schedule::schedule(options.seed, options.seconds);
    let errors = injector.run(&plan, load_start).await;
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(io::Error::other)?;
    }
    Ok(errors)
}

/// Starts every node at once, then waits for each to answer.
async fn start_nodes(injector: &Injector) -> io::Result<()> {
    let mut starting = JoinSet::new();
    for node in 1..=NODES {
        let cluster = Arc::clone(&injector.cluster);
        let client = injector.client.clone();
        let recorder = injector.recorder.clone();
        starting.spawn(async move { faults::start(&cluster, &client, &recorder, node, 0).await });
    }
    while let Some(started) = starting.join_next().await {
        started.map_err(io::Error::other)??;
    }
    Ok(())
}

/// `hlc_node` beside the running program (cargo puts both examples in one directory).
///
/// # Errors
/// When the running program's path is unknown.
pub fn default_node_binary() -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("hlc_node{}", std::env::consts::EXE_SUFFIX)))
}
