//! Against a real chronyd (Debian package `chrony`) on loopback, run under `faketime` for a
//! known offset. Whole seconds only: chronyd takes receive timestamps from the kernel, which
//! faketime does not fake, and only drops them (falling back to its own, faked, clock) when
//! they disagree by much more than a second's fraction.
//!
//! These tests need `chronyd` and `faketime`; without them they fail, never pass silently.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hlc_core::{PhysicalClock, SystemClock, Timestamp};
use ntp_sync::query::{query, QueryOptions, QueryReport};
use ntp_sync::{NtpClient, PollFailure, ResponseError, SourceState, Status, Unusable};

const MISSING: &str = "install chrony and faketime, or run scripts/test";
const SECOND: i64 = 1_000_000_000;

/// A chronyd serving on a free loopback port; killed when dropped, whatever happens.
struct Chronyd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Chronyd {
    fn drop(&mut self) {
        // `faketime` forks chronyd: kill the whole process group the child leads.
        let group = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(group) = group {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    // chronyd lives in /usr/sbin, which a user's PATH may not hold.
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/sbin".into()]);
    dirs.map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{program} not found: {MISSING}"))
}

fn free_port() -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().port()
}

fn config(dir: &Path, port: u16, synchronised: bool) -> PathBuf {
    let local = if synchronised {
        "local stratum 3\n"
    } else {
        ""
    };
    let text = format!(
        "port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\n{local}cmdport 0\n\
         pidfile {dir}/chronyd.pid\ndriftfile {dir}/chronyd.drift\n",
        dir = dir.display()
    );
    let path = dir.join("chrony.conf");
    std::fs::write(&path, text).unwrap();
    path
}

impl Chronyd {
    /// Starts chronyd, under `faketime -f OFFSET` when an offset is given.
    fn start(fake_offset: Option<&str>, synchronised: bool) -> Self {
        let chronyd = find("chronyd");
        let dir = tempfile::tempdir().unwrap();
        // chronyd drops root privileges to its own user, which must still write here.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let port = free_port();
        let conf = config(dir.path(), port, synchronised);
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
        Self { child, port, dir }
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chronyd.log")).unwrap_or_default()
    }

    /// Polls until chronyd answers at all (valid or not): at most 50 attempts of 100 ms.
    async fn wait_until_answering(&mut self) -> QueryReport {
        let options = QueryOptions {
            samples: 1,
            timeout: Duration::from_millis(100),
            ..QueryOptions::default()
        };
        for _ in 0..50 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chronyd exited with {status}:\n{}", self.log());
            }
            let report = query(&[self.address()], options).await;
            let timed_out = matches!(
                &report.sources[0].state,
                SourceState::Unusable(Unusable::Failing(PollFailure::Timeout(_)))
            );
            if !timed_out {
                return report;
            }
        }
        panic!("chronyd never answered:\n{}", self.log());
    }
}

/// Queries chronyd running `whole_seconds` ahead and checks the estimate against that truth.
async fn measures_a_known_offset(fake: &str, whole_seconds: i64) {
    let mut chronyd = Chronyd::start(Some(fake), true);
    chronyd.wait_until_answering().await;
    let report = query(&[chronyd.address()], QueryOptions::default()).await;
    let estimate = report
        .evaluation
        .estimate()
        .unwrap_or_else(|| panic!("no estimate: {report:?}"));
    let error = estimate.offset_nanos - whole_seconds * SECOND;
    assert!(
        error.abs() <= 1_000_000,
        "offset {estimate:?} not within 1 ms of {whole_seconds} s"
    );
    assert!(
        error.abs() <= estimate.radius_nanos,
        "interval misses the truth: {estimate:?}"
    );
    assert_eq!(report.sources[0].stratum, Some(3));
    assert_eq!(report.sources[0].state, SourceState::Combined);
}

#[tokio::test]
async fn chronyd_three_seconds_ahead_is_measured_within_a_millisecond() {
    measures_a_known_offset("+3", 3).await;
}

#[tokio::test]
async fn chronyd_two_seconds_behind_is_measured_within_a_millisecond() {
    measures_a_known_offset("-2", -2).await;
}

#[tokio::test]
async fn the_client_bounds_true_time_against_chronyd() {
    let mut chronyd = Chronyd::start(Some("+3"), true);
    chronyd.wait_until_answering().await;
    let client = NtpClient::builder()
        .server(chronyd.address())
        .burst(4, Duration::from_millis(20))
        .poll_interval(Duration::from_millis(100), Duration::from_secs(1))
        .timeout(Duration::from_millis(200))
        .start()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), client.wait_synced())
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
    assert!(interval.radius() < Duration::from_millis(1), "{interval:?}");
}

#[tokio::test]
async fn an_unsynchronised_chronyd_is_reported_unusable() {
    let mut chronyd = Chronyd::start(None, false);
    let report = chronyd.wait_until_answering().await;
    let expected = Unusable::Failing(PollFailure::Response(ResponseError::ServerUnsynchronised));
    assert_eq!(report.sources[0].state, SourceState::Unusable(expected));
    assert_eq!(report.evaluation.estimate(), None);
}
