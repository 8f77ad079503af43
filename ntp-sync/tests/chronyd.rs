//! Against a real chronyd (Debian package `chrony`) on loopback, run under `faketime` for a
//! known offset. Whole seconds only: chronyd takes receive timestamps from the kernel, which
//! faketime does not fake, and only drops them (falling back to its own, faked, clock) when
//! they disagree by much more than a second's fraction.
//!
//! Where chronyd listens: it cannot bind port 0 and tell us the port, so the test picks one,
//! and two things could take it first. Another process binding that port without sharing it
//! makes chronyd's bind fail; chronyd logs "Could not open NTP socket" and runs on without it
//! or exits, so the log is read and chronyd restarted on another port (a bounded number of
//! times). Another chronyd is worse: chronyd binds its socket for sharing, so a second one
//! given the same address and port binds it too, without an error, and either may answer. So
//! each test process serves on a loopback address of its own (127.0.0.0/8 is all loopback; the
//! address is derived from the process id, which no other live process has), and within the
//! process no port is handed out twice.
//!
//! The `faketime` wrapper forks chronyd and keeps a semaphore and shared memory named after its
//! own pid in /dev/shm, removed when chronyd has exited; a killed wrapper leaves them behind,
//! and a later wrapper given the same pid cannot start. So chronyd is stopped first and the
//! wrapper left to clean up, and an attempt that meets such a leftover starts afresh.
//!
//! These tests need `chronyd` and `faketime`; without them they fail, never pass silently.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use hlc_core::{PhysicalClock, SystemClock, Timestamp};
use ntp_sync::proto::engine::{SourceReport, SourceState, Unusable};
use ntp_sync::proto::source::PollFailure;
use ntp_sync::proto::validate::ResponseError;
use ntp_sync::query::{query, QueryOptions, QueryReport};
use ntp_sync::{NtpClient, Status};
use tokio::time::Instant;

const MISSING: &str = "install chrony and faketime, or run scripts/test";
const SECOND: i64 = 1_000_000_000;
/// Bounds a whole test: a chronyd that never answers fails it instead of hanging CI.
const TEST_LIMIT: Duration = Duration::from_secs(90);
/// How long a started chronyd may take to answer its first request, on a loaded machine.
const ANSWER_LIMIT: Duration = Duration::from_secs(20);
/// Starts on a fresh port after the chosen one was taken.
const START_ATTEMPTS: usize = 5;
/// What chronyd 4 logs when it cannot bind its NTP socket.
const BIND_FAILED: &str = "Could not open NTP socket";
/// What the `faketime` wrapper says when a killed wrapper with its pid left a semaphore.
const FAKETIME_LEFTOVER: &str = "sem_open: File exists";
/// How long chronyd and its wrapper get to exit cleanly when a test is done.
const EXIT_LIMIT: Duration = Duration::from_secs(5);

async fn bounded<T>(test: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("test still running after {TEST_LIMIT:?}"))
}

/// A chronyd serving on a loopback port; killed when dropped, whatever happens.
struct Chronyd {
    child: Child,
    address: SocketAddr,
    dir: tempfile::TempDir,
}

impl Drop for Chronyd {
    fn drop(&mut self) {
        // TERM to chronyd alone: the faketime wrapper, when there is one, then reaps it and
        // removes its semaphore and shared memory. Whatever is still running after that is
        // killed, with the process group the child leads.
        if let Some(chronyd) = self.chronyd_pid() {
            let _ = rustix::process::kill_process(chronyd, rustix::process::Signal::TERM);
            let deadline = std::time::Instant::now() + EXIT_LIMIT;
            while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let group = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let (Some(group), Ok(None)) = (group, self.child.try_wait()) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The parent of process `pid`, from the fourth field of `/proc/PID/stat` (after the command
/// name, which is in parentheses and may hold spaces).
fn parent_of(pid: i32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name.split_whitespace().nth(1)?.parse().ok()
}

fn find(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    // chronyd lives in /usr/sbin, which a user's PATH may not hold.
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/sbin".into()]);
    dirs.map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{program} not found: {MISSING}"))
}

/// This process's own loopback address: 127.0.0.0/8 holds 2^24 addresses, more than the
/// kernel's largest pid (2^22), and the network and broadcast addresses are left out.
fn own_loopback_address() -> Ipv4Addr {
    let host = 1 + std::process::id() % ((1 << 24) - 2);
    Ipv4Addr::from(0x7f00_0000 | host)
}

/// A port free on `ip` now and never handed out before by this process. The kernel picks it
/// (port 0); the socket is closed again, so chronyd can bind it.
fn fresh_port(ip: Ipv4Addr) -> u16 {
    static HANDED_OUT: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..100 {
        let socket = UdpSocket::bind((ip, 0)).unwrap();
        let port = socket.local_addr().unwrap().port();
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
    panic!("the kernel kept offering ports this process already handed out")
}

/// chronyd's configuration: NTP on `address` only, no command port nor command socket (every
/// chronyd would otherwise claim the one path /run/chrony/chronyd.sock), files under `dir`.
fn config(dir: &Path, address: SocketAddr, synchronised: bool) -> PathBuf {
    let local = if synchronised {
        "local stratum 3\n"
    } else {
        ""
    };
    let text = format!(
        "port {port}\nbindaddress {ip}\nallow 127.0.0.0/8\n{local}cmdport 0\nbindcmdaddress /\n\
         pidfile {dir}/chronyd.pid\ndriftfile {dir}/chronyd.drift\n",
        port = address.port(),
        ip = address.ip(),
        dir = dir.display()
    );
    let path = dir.join("chrony.conf");
    std::fs::write(&path, text).unwrap();
    path
}

impl Chronyd {
    /// Starts chronyd and waits until it answers (validly or not), moving to a fresh port
    /// when the chosen one was taken. Returns it with its first answer.
    async fn start(fake_offset: Option<&str>, synchronised: bool) -> (Self, QueryReport) {
        let ip = own_loopback_address();
        let mut logs = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let address = SocketAddr::from((ip, fresh_port(ip)));
            let mut chronyd = Self::spawn(address, fake_offset, synchronised);
            match chronyd.wait_until_answering().await {
                Some(report) => return (chronyd, report),
                None => logs.push(chronyd.log()),
            }
        }
        panic!(
            "chronyd did not start in {START_ATTEMPTS} attempts:\n{}",
            logs.join("\n")
        );
    }

    /// Starts chronyd on `address`, under `faketime -f OFFSET` when an offset is given.
    fn spawn(address: SocketAddr, fake_offset: Option<&str>, synchronised: bool) -> Self {
        let chronyd = find("chronyd");
        let dir = tempfile::tempdir().unwrap();
        // chronyd drops root privileges to its own user, which must still write here.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let conf = config(dir.path(), address, synchronised);
        let mut command = match fake_offset {
            Some(offset) => {
                let mut faketime = Command::new(find("faketime"));
                faketime.args(["-f", offset]).arg(&chronyd);
                faketime
            }
            None => Command::new(&chronyd),
        };
        let log = std::fs::File::create(dir.path().join("chronyd.log")).unwrap();
        let child = command
            .process_group(0)
            .args(["-x", "-d", "-f"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run chronyd ({e}): {MISSING}"));
        Self {
            child,
            address,
            dir,
        }
    }

    fn address(&self) -> String {
        self.address.to_string()
    }

    /// chronyd's pid, from its pidfile, while chronyd is our child or the wrapper's.
    fn chronyd_pid(&mut self) -> Option<rustix::process::Pid> {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return None;
        }
        let text = std::fs::read_to_string(self.dir.path().join("chronyd.pid")).ok()?;
        let pid: i32 = text.trim().parse().ok()?;
        let ours =
            pid == i32::try_from(self.child.id()).ok()? || parent_of(pid)? == self.child.id();
        ours.then(|| rustix::process::Pid::from_raw(pid)).flatten()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chronyd.log")).unwrap_or_default()
    }

    /// Polls until chronyd answers at all (valid or not); `None` when this attempt cannot
    /// serve: its log says the port was taken, or that the wrapper met a leftover.
    async fn wait_until_answering(&mut self) -> Option<QueryReport> {
        let options = QueryOptions {
            samples: 1,
            timeout: Duration::from_millis(100),
            ..QueryOptions::default()
        };
        let deadline = Instant::now() + ANSWER_LIMIT;
        while Instant::now() < deadline {
            // Without its NTP socket chronyd runs on or exits (having nothing else to do).
            let log = self.log();
            if log.contains(BIND_FAILED) || log.contains(FAKETIME_LEFTOVER) {
                return None;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chronyd exited with {status}:\n{log}");
            }
            let report = query(&[self.address()], options).await;
            let timed_out = matches!(
                &report.sources[0].state,
                SourceState::Unusable(Unusable::Failing(PollFailure::Timeout(_)))
            );
            if !timed_out {
                return Some(report);
            }
        }
        panic!(
            "chronyd never answered within {ANSWER_LIMIT:?}:\n{}",
            self.log()
        );
    }
}

/// Asserts that what the source's radius holds beyond half its round trip (chronyd's root
/// distance and the drift since the sample) stays below a millisecond. The round trip itself
/// stretches with the machine's load; this part does not.
fn assert_tight_beyond_the_round_trip(source: &SourceReport) {
    let (radius, delay) = (source.radius_nanos.unwrap(), source.delay_nanos.unwrap());
    assert!(
        radius - delay / 2 < 1_000_000,
        "radius {radius} ns, delay {delay} ns: {source:?}"
    );
}

/// Queries chronyd running `whole_seconds` ahead and checks the estimate against that truth.
async fn measures_a_known_offset(fake: &str, whole_seconds: i64) {
    let (chronyd, _) = Chronyd::start(Some(fake), true).await;
    let report = query(&[chronyd.address()], QueryOptions::default()).await;
    let estimate = report
        .evaluation
        .estimate()
        .unwrap_or_else(|| panic!("no estimate: {report:?}"));
    let error = estimate.offset_nanos - whole_seconds * SECOND;
    assert!(
        error.abs() <= estimate.radius_nanos,
        "interval misses the truth {whole_seconds} s: {estimate:?}"
    );
    let source = &report.sources[0];
    assert_tight_beyond_the_round_trip(source);
    assert_eq!(source.stratum, Some(3));
    assert_eq!(source.state, SourceState::Combined);
}

#[tokio::test]
async fn chronyd_three_seconds_ahead_is_measured_within_the_round_trip() {
    bounded(measures_a_known_offset("+3", 3)).await;
}

#[tokio::test]
async fn chronyd_two_seconds_behind_is_measured_within_the_round_trip() {
    bounded(measures_a_known_offset("-2", -2)).await;
}

#[tokio::test]
async fn the_client_bounds_true_time_against_chronyd() {
    bounded(async {
        let (chronyd, _) = Chronyd::start(Some("+3"), true).await;
        let client = NtpClient::builder()
            .server(chronyd.address())
            .burst(4, Duration::from_millis(20))
            .poll_interval(Duration::from_millis(100), Duration::from_secs(1))
            .timeout(Duration::from_millis(200))
            .start()
            .unwrap();
        tokio::time::timeout(ANSWER_LIMIT, client.wait_synced())
            .await
            .unwrap();
        let before = SystemClock.now_micros();
        let interval = client.now_interval();
        let after = SystemClock.now_micros();
        assert_eq!(interval.status, Status::Synchronised);
        // True time (chronyd's) was within [before, after] + 3 s while the interval was read.
        let truth_earliest = Timestamp::from_physical_micros(before + 3_000_000);
        let truth_latest = Timestamp::from_physical_micros(after + 3_000_000);
        assert!(
            interval.earliest <= truth_latest && truth_earliest <= interval.latest,
            "{interval:?}"
        );
        assert_tight_beyond_the_round_trip(&client.snapshot().sources[0]);
    })
    .await;
}

#[tokio::test]
async fn an_unsynchronised_chronyd_is_reported_unusable() {
    bounded(async {
        let (_chronyd, report) = Chronyd::start(None, false).await;
        let expected =
            Unusable::Failing(PollFailure::Response(ResponseError::ServerUnsynchronised));
        assert_eq!(report.sources[0].state, SourceState::Unusable(expected));
        assert_eq!(report.evaluation.estimate(), None);
    })
    .await;
}

#[tokio::test]
async fn a_port_chronyd_cannot_bind_is_seen_in_its_log() {
    bounded(async {
        // Hold the port without sharing it, as another program would.
        let ip = own_loopback_address();
        let holder = UdpSocket::bind((ip, fresh_port(ip))).unwrap();
        let mut chronyd = Chronyd::spawn(holder.local_addr().unwrap(), None, true);
        assert_eq!(
            chronyd.wait_until_answering().await,
            None,
            "{}",
            chronyd.log()
        );
    })
    .await;
}
