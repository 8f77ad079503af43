//! Child processes the harness starts (nodes, `stress-ng`): each in its own process group, so
//! that a Ctrl-C in the terminal reaches the harness alone, and killed and reaped when its
//! guard drops, on every way out of the run.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::Duration;

use rustix::process::{kill_process, Pid, Signal};

/// How often a bounded wait looks whether the child has exited.
const EXIT_POLL: Duration = Duration::from_millis(50);

/// A running child, killed (`SIGKILL`) and waited for on drop.
#[derive(Debug)]
pub(super) struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    /// Spawns `command` in a process group of its own.
    pub(super) fn spawn(command: &mut Command) -> io::Result<Self> {
        let child = command.process_group(0).spawn()?;
        Ok(Self { child })
    }

    /// Its process id.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`SIGSTOP`, `SIGCONT`, ...).
    pub(super) fn signal(&self, signal: Signal) -> io::Result<()> {
        let pid = i32::try_from(self.pid())
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| io::Error::other(format!("pid {} out of range", self.pid())))?;
        kill_process(pid, signal).map_err(io::Error::from)
    }

    /// `kill -9`, then reaps it.
    pub(super) fn kill(mut self) -> io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(drop)
    }

    /// Waits at most `limit` for it to exit on its own, then kills it; true when it exited.
    pub(super) async fn wait_or_kill(mut self, limit: Duration) -> io::Result<bool> {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(true);
            }
            tokio::time::sleep(EXIT_POLL).await;
        }
        self.kill().map(|()| false)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // SIGKILL also ends a stopped process; an exited one makes kill fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
