//! Injecting the scheduled faults, one episode at a time (so that never more than one node is
//! down and a majority stays), each recorded as it takes effect.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use rustix::process::Signal;
use tokio::time::Instant;

use super::cluster::{lock, wait_answering, Cluster};
use super::http::HttpClient;
use super::ntp::{NtpSources, LIE};
use super::process::ChildGuard;
use super::recorder::{now_us, Recorder};
use super::schedule::{Episode, Planned};
use crate::chaos::history::{Fault, NodeInfo, Record};

/// How far a restarted node's clock is set back, in ms.
pub const RESTART_OFFSET_MS: i64 = -10_000;

/// How long a node stays stopped (`SIGSTOP` to `SIGCONT`).
pub const PAUSE: Duration = Duration::from_secs(3);

/// The run-time step of a node's simulated clock, in ms (ahead).
pub const STEP_MS: i64 = 2_000;

/// How long `stress-ng` loads the CPUs (its own `--timeout`).
pub const CPU_LOAD: Duration = Duration::from_secs(5);

/// How long past its own timeout `stress-ng` may take before it is killed.
const CPU_LOAD_GRACE: Duration = Duration::from_secs(10);

/// How long the step route may take to answer.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Where Debian installs `stress-ng`.
const STRESS_NG_DEBIAN: &str = "/usr/bin/stress-ng";

/// `stress-ng` on `PATH` or at Debian's path.
///
/// # Errors
/// [`io::ErrorKind::NotFound`], naming the Debian package to install.
pub fn find_stress_ng() -> io::Result<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("stress-ng"))
            .find(|candidate| candidate.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from(STRESS_NG_DEBIAN)).filter(|p| p.is_file()))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "MISSING stress-ng: install the Debian package stress-ng (apt-get install stress-ng)",
            )
        })
}

/// What the injector works on.
#[derive(Debug)]
pub(super) struct Injector {
    pub(super) cluster: Arc<Mutex<Cluster>>,
    pub(super) nodes: Vec<NodeInfo>,
    pub(super) ntp: NtpSources,
    pub(super) client: HttpClient,
    pub(super) recorder: Recorder,
    pub(super) stress_ng: PathBuf,
}

impl Injector {
    /// Runs `plan` from `load_start`, each episode at its time or as soon as the one before
    /// it has ended; returns what failed (the run goes on without that episode's rest).
    pub(super) async fn run(&self, plan: &[Planned], load_start: Instant) -> Vec<String> {
        let mut errors = Vec::new();
        for planned in plan {
            tokio::time::sleep_until(load_start + planned.at).await;
            if let Err(error) = self.episode(planned.episode).await {
                let error = format!("{:?}: {error}", planned.episode);
                eprintln!("chaos: fault failed: {error}");
                errors.push(error);
            }
        }
        errors
    }

    async fn episode(&self, episode: Episode) -> io::Result<()> {
        match episode {
            Episode::KillRestart { node, down } => self.kill_restart(node, down).await,
            Episode::Pause { node } => self.pause(node).await,
            Episode::Step { node } => self.step(node).await,
            Episode::CpuLoad => self.cpu_load().await,
            Episode::NtpLie { responder } => {
                self.ntp.lie(responder);
                let offset_ms = i64::try_from(LIE.as_millis()).unwrap_or(i64::MAX);
                self.fault(Fault::NtpLie {
                    responder,
                    offset_ms,
                });
                Ok(())
            }
            Episode::NtpSilent { responder } => {
                self.ntp.silence(responder);
                self.fault(Fault::NtpSilent { responder });
                Ok(())
            }
        }
    }

    fn fault(&self, fault: Fault) {
        self.recorder.record(Record::Fault {
            at_us: now_us(),
            fault,
        });
    }

    async fn kill_restart(&self, node: u64, down: Duration) -> io::Result<()> {
        lock(&self.cluster).kill(node)?;
        self.fault(Fault::Kill { node });
        tokio::time::sleep(down).await;
        start(
            &self.cluster,
            &self.client,
            &self.recorder,
            node,
            RESTART_OFFSET_MS,
        )
        .await
    }

    async fn pause(&self, node: u64) -> io::Result<()> {
        lock(&self.cluster).signal(node, Signal::STOP)?;
        self.fault(Fault::Stop { node });
        tokio::time::sleep(PAUSE).await;
        lock(&self.cluster).signal(node, Signal::CONT)?;
        self.fault(Fault::Cont { node });
        Ok(())
    }

    async fn step(&self, node: u64) -> io::Result<()> {
        let url = self
            .nodes
            .iter()
            .find(|n| n.node == node)
            .map(|n| format!("{}/admin/step?ms={STEP_MS}", n.url))
            .ok_or_else(|| io::Error::other(format!("no node {node}")))?;
        let answer = self
            .client
            .send(Method::POST, &url, None, ADMIN_TIMEOUT)
            .await
            .map_err(io::Error::other)?;
        if !answer.status.is_success() {
            return Err(io::Error::other(format!(
                "{url} answered {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            )));
        }
        self.fault(Fault::Step { node, ms: STEP_MS });
        Ok(())
    }

    async fn cpu_load(&self) -> io::Result<()> {
        let stress = stress_ng(&self.stress_ng)?;
        self.fault(Fault::CpuLoadStart);
        let exited = stress.wait_or_kill(CPU_LOAD + CPU_LOAD_GRACE).await;
        self.fault(Fault::CpuLoadEnd);
        match exited? {
            true => Ok(()),
            false => Err(io::Error::other("stress-ng overran its timeout; killed")),
        }
    }
}

/// `stress-ng` on every CPU for [`CPU_LOAD`], bounded by its own `--timeout`.
fn stress_ng(binary: &Path) -> io::Result<ChildGuard> {
    let mut command = Command::new(binary);
    command
        .args(["--cpu", "0", "--quiet", "--timeout"])
        .arg(format!("{}s", CPU_LOAD.as_secs()))
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    ChildGuard::spawn(command)
}

/// Starts node `node` with its clock `clock_offset_ms` off (a restart when it ran before,
/// recorded as [`Fault::Restart`]), waits until it answers and records it as started.
///
/// # Errors
/// When it cannot be spawned, or does not answer in time.
pub(super) async fn start(
    cluster: &Mutex<Cluster>,
    client: &HttpClient,
    recorder: &Recorder,
    node: u64,
    clock_offset_ms: i64,
) -> io::Result<()> {
    let (current, url) = {
        let mut cluster = lock(cluster);
        let current = cluster.spawn(node, clock_offset_ms)?;
        let url = cluster.nodes().into_iter().find(|n| n.node == node);
        (current, url.map(|n| n.url).unwrap_or_default())
    };
    if current.life > 0 {
        recorder.record(Record::Fault {
            at_us: now_us(),
            fault: Fault::Restart {
                node,
                clock_offset_ms,
            },
        });
    }
    let at_us = wait_answering(client, &url).await?;
    lock(cluster).mark_answering(node);
    recorder.record(Record::Started {
        at_us,
        node,
        pid: current.pid,
        life: current.life,
        clock_offset_ms,
    });
    Ok(())
}
