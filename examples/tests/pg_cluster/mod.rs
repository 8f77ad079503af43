//! A throwaway PostgreSQL cluster for a test run: `initdb` in a temporary directory, the
//! server listening only on a unix socket in that directory (no TCP port, so no port to race
//! for), stopped with `pg_ctl stop -m immediate` when dropped, whatever happened. The tests
//! running at the same time share one cluster ([`Cluster::shared`]), each in a database of
//! its own ([`Cluster::database`]), since a start costs seconds on a loaded machine.
//!
//! PostgreSQL's `initdb` and `postgres` refuse to run as root. Run as root (as CI runs), the
//! directory is handed to the `postgres` user that Debian's package creates, and both run
//! through `runuser -u postgres --`; the test itself connects as root over the socket, which
//! postgres makes writable by all.
//!
//! Needs PostgreSQL 15's server binaries: `initdb` and `pg_ctl` on PATH or in Debian's
//! `/usr/lib/postgresql/15/bin`; without them the test fails, never passes silently.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

const MISSING: &str = "PostgreSQL 15's initdb and pg_ctl are missing: install the Debian \
                       package postgresql (apt-get install postgresql), or run scripts/test";
/// Where Debian's `postgresql-15` puts the server binaries, off PATH.
const DEBIAN_BIN: &str = "/usr/lib/postgresql/15/bin";
/// The unprivileged user the server runs as when the test runs as root.
const SERVER_USER: &str = "postgres";
/// The superuser `initdb` creates, whom the test connects as (trusted over the socket).
const SUPERUSER: &str = "postgres";
/// Names the socket file (`.s.PGSQL.<port>`) in the cluster's own directory; no TCP.
const PORT: u16 = 5432;
/// Bounds `initdb` and `pg_ctl start` (about a second each when idle) on a loaded machine.
const START_LIMIT: Duration = Duration::from_secs(60);
/// Bounds `pg_ctl stop -m immediate`; after it the postmaster is killed.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// The cluster the running tests share; stopped when the last of them lets go of it.
static SHARED: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());

/// A running cluster; stopped when dropped.
pub(crate) struct Cluster {
    bin: PathBuf,
    run_as: Option<&'static str>,
    // Dropped after `drop` has stopped the server.
    dir: tempfile::TempDir,
}

impl Cluster {
    /// The cluster of the tests running now, started if there is none.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub(crate) fn shared() -> Arc<Self> {
        // A test that panicked while starting one poisons nothing the next cannot redo.
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cluster) = shared.upgrade() {
            return cluster;
        }
        let cluster = Arc::new(Self::start());
        *shared = Arc::downgrade(&cluster);
        cluster
    }

    /// Creates and starts a cluster.
    ///
    /// # Panics
    /// When the binaries are missing, or `initdb` or `pg_ctl start` fails or takes longer
    /// than [`START_LIMIT`]: the message holds their output and the server's log.
    fn start() -> Self {
        let bin = server_binaries().expect(MISSING);
        let dir = tempfile::Builder::new()
            .prefix("hlc-pg-")
            .tempdir()
            .expect("a temporary directory");
        let run_as = rustix::process::geteuid().is_root().then_some(SERVER_USER);
        if let Some(user) = run_as {
            let owner = format!("{user}:");
            let status = Command::new("chown").arg(&owner).arg(dir.path()).status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "chown {owner} {}: the Debian package postgresql creates that user",
                dir.path().display()
            );
        }
        // The guard exists before the server can: a failed start is stopped too.
        let cluster = Self { bin, run_as, dir };
        let data = cluster.data().display().to_string();
        let initdb = ["-D", &data, "-A", "trust", "-U", SUPERUSER, "--no-sync"];
        let plain = ["--no-instructions", "-E", "UTF8", "--locale=C"];
        cluster.run("initdb", &[&initdb[..], &plain[..]].concat(), START_LIMIT);
        let log = cluster.dir.path().join("server.log").display().to_string();
        // Only the socket in our directory; fsync off: nothing here outlives the test.
        let options = format!(
            "-p {PORT} -k {} -c listen_addresses='' -c fsync=off",
            cluster.dir.path().display()
        );
        let limit = START_LIMIT.as_secs().to_string();
        let start = [
            "-D", &data, "-l", &log, "-o", &options, "-w", "-t", &limit, "start",
        ];
        cluster.run("pg_ctl", &start, START_LIMIT);
        cluster
    }

    /// Creates the database `name` and returns its libpq connection string, over the socket.
    ///
    /// # Panics
    /// When the database cannot be created (one of that name exists, say).
    pub(crate) async fn database(&self, name: &str) -> String {
        let (client, connection) = tokio_postgres::connect(&self.config("postgres"), NoTls)
            .await
            .expect("a connection to the cluster");
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e:?}"));
        drop(client);
        let _ = connection.await;
        self.config(name)
    }

    fn config(&self, database: &str) -> String {
        format!(
            "host={} port={PORT} user={SUPERUSER} dbname={database} connect_timeout=10",
            self.dir.path().display()
        )
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs `program` from the server binaries, as the server user; panics on failure.
    fn run(&self, program: &str, args: &[&str], limit: Duration) {
        if let Err(failure) = self.try_run(program, args, limit) {
            let log = fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!("{failure}\nserver log:\n{log}");
        }
    }

    fn try_run(&self, program: &str, args: &[&str], limit: Duration) -> Result<(), String> {
        let binary = self.bin.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut runuser = Command::new("runuser");
                runuser.args(["-u", user, "--"]).arg(&binary);
                runuser
            }
            None => Command::new(&binary),
        };
        let output_path = self.dir.path().join(format!("{program}.out"));
        let output = File::create(&output_path).map_err(|e| format!("{program}: {e}"))?;
        let mut child = command
            .args(args)
            // The server user may not enter the test's working directory.
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(output.try_clone().map_err(|e| e.to_string())?)
            .stderr(output)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let deadline = Instant::now() + limit;
        let status = loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) => break Some(status),
                None if Instant::now() >= deadline => break None,
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        let said = || fs::read_to_string(&output_path).unwrap_or_default();
        match status {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(format!("{program} {args:?}: {status}\n{}", said())),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "{program} {args:?}: still running after {limit:?}\n{}",
                    said()
                ))
            }
        }
    }

    /// Kills the postmaster named in `postmaster.pid`, if any: the last resort.
    fn kill_postmaster(&self) {
        let pid_file = fs::read_to_string(self.data().join("postmaster.pid")).unwrap_or_default();
        let pid = pid_file
            .lines()
            .next()
            .and_then(|line| line.trim().parse().ok());
        if let Some(pid) = pid.and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Immediate: no checkpoint, the data is thrown away.
        let data = self.data().display().to_string();
        let limit = STOP_LIMIT.as_secs().to_string();
        let stop = ["-D", &data, "-m", "immediate", "-w", "-t", &limit, "stop"];
        if self.try_run("pg_ctl", &stop, STOP_LIMIT).is_err() {
            self.kill_postmaster();
        }
    }
}

/// The directory holding `initdb` and `pg_ctl`: on PATH, else Debian's.
fn server_binaries() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from(DEBIAN_BIN)])
        .find(|dir| has_server_binaries(dir))
}

fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl"].iter().all(|p| dir.join(p).is_file())
}
