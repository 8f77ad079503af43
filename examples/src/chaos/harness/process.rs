//! Child processes the harness starts (nodes, `stress-ng`): each in its own process group, so
//! that a Ctrl-C in the terminal reaches the harness alone, killed and reaped when its guard
//! drops, on every way out of the run, and killed by the kernel when the harness dies without
//! a way out (`kill -9`, a crash): each child asks for `SIGKILL` on its parent's death
//! (`PR_SET_PDEATHSIG`, prctl(2)) before it runs the program.
//!
//! The kernel sends that signal when the *thread* that forked the child ends, not the process
//! (prctl(2): "the 'parent' in this case is considered to be the thread that created this
//! process"). The harness forks from async tasks that move between tokio's worker threads,
//! and a tokio thread can end before the run does (the blocking pool's threads exit when
//! idle; a worker handed off by `block_in_place` becomes one; a test's runtime stops with the
//! test), so a node restarted late in a run could be killed by a thread's end, not the
//! harness's. Every child is therefore forked by [one thread](spawner) that lives as long as
//! the process.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::Duration;

use rustix::process::{getppid, kill_process, set_parent_process_death_signal, Pid, Signal};

/// How often a bounded wait looks whether the child has exited.
const EXIT_POLL: Duration = Duration::from_millis(50);

/// A running child, killed (`SIGKILL`) and waited for on drop.
#[derive(Debug)]
pub(super) struct ChildGuard {
    child: Child,
}

impl ChildGuard {
    /// Spawns `command` in a process group of its own, from the [spawner] thread, the child
    /// killed by the kernel when this process ends.
    pub(super) fn spawn(mut command: Command) -> io::Result<Self> {
        command.process_group(0);
        dies_with_parent(&mut command);
        let child = spawner(command)?;
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

/// A command to fork, and where to send the child.
type Job = (Command, mpsc::SyncSender<io::Result<Child>>);

/// Spawns `command` from the one thread that forks every child: started on first use, it
/// waits for commands until the process ends (its sender is never dropped), so the kernel
/// never takes its end for the harness's.
pub(super) fn spawner(command: Command) -> io::Result<Child> {
    static JOBS: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (jobs, received) = mpsc::channel::<Job>();
        let forker = thread::Builder::new().name("chaos-spawner".into());
        // If the thread cannot start, every `send` below fails and says so.
        let _ = forker.spawn(move || {
            for (mut command, answer) in received {
                let _ = answer.send(command.spawn());
            }
        });
        Mutex::new(jobs)
    });
    let (answer, child) = mpsc::sync_channel(1);
    let gone = || io::Error::other("the spawner thread is gone");
    jobs.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .send((command, answer))
        .map_err(|_| gone())?;
    child.recv().map_err(|_| gone())?
}

/// Makes the child ask for `SIGKILL` when its parent (the [spawner] thread) ends, and give up
/// if the parent is already gone: a parent dying between the fork and the `prctl` would
/// otherwise leave it running (prctl(2) advises this check).
fn dies_with_parent(command: &mut Command) {
    let parent = i32::try_from(std::process::id())
        .ok()
        .and_then(Pid::from_raw);
    let ask = move || {
        set_parent_process_death_signal(Some(Signal::KILL))?;
        if getppid() != parent {
            return Err(rustix::io::Errno::SRCH.into());
        }
        Ok(())
    };
    // SAFETY: the closure runs in the forked child before `exec`, where only
    // async-signal-safe calls are sound. It makes two raw system calls through rustix
    // (`prctl`, `getppid`), touches no lock, and allocates nothing: `Pid` is a plain integer
    // copied in (`Option<Pid>`), and an `io::Error` made from an errno is an integer too.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(ask);
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // SIGKILL also ends a stopped process; an exited one makes kill fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child that would live far beyond the test on its own.
    fn long_sleep() -> Command {
        let mut command = Command::new("sleep");
        command.arg("600");
        command
    }

    #[test]
    fn a_child_outlives_the_thread_that_asked_for_it() {
        // Asked for from a thread that ends at once, as a tokio thread may: the spawner thread
        // forks it, so its parent-death signal waits for the process's end.
        let asker = thread::spawn(|| ChildGuard::spawn(long_sleep()));
        let mut guard = asker.join().unwrap().unwrap();
        // Were the asking thread its parent, SIGKILL would already be on its way; give it
        // time to land (a slow machine could only make this pass, never fail wrongly).
        thread::sleep(Duration::from_millis(300));
        assert!(guard.child.try_wait().unwrap().is_none(), "the child died");
        guard.kill().unwrap();
    }
}
