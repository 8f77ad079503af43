//! A real `nats-server -js` on loopback for one test, in a temporary directory, on a port it
//! picks itself; killed when dropped, even when the test fails.
// Each test file uses a different subset.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MISSING: &str = "install the Debian package nats-server, or run scripts/test";
/// How long a started server may take to say where it listens, on a loaded machine.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The running server; dropping it kills it and waits for it.
pub struct NatsServer {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts `nats-server` with JetStream on 127.0.0.1, a port of its choosing (`-p -1`)
    /// and its store in a fresh temporary directory; returns once it names its port.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let child = Command::new(find("nats-server"))
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(dir.path().join("store"))
            // It writes the URL it listens on into `nats-server_<pid>.ports` here.
            .arg("--ports_file_dir")
            .arg(dir.path())
            .arg("-l")
            .arg(dir.path().join("nats-server.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run nats-server ({e}): {MISSING}"));
        let mut server = Self {
            child,
            url: String::new(),
            dir,
        };
        server.url = server.wait_for_url();
        server
    }

    /// The client URL, `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn wait_for_url(&mut self) -> String {
        let ports = self
            .dir
            .path()
            .join(format!("nats-server_{}.ports", self.child.id()));
        let deadline = Instant::now() + START_LIMIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("nats-server status") {
                panic!("nats-server exited with {status}:\n{}", self.log());
            }
            // The file may be caught half-written: read again until it parses.
            if let Some(url) = read_url(&ports) {
                return url;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "nats-server named no port within {START_LIMIT:?}:\n{}",
            self.log()
        );
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nats-server.log")).unwrap_or_default()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first client URL in a ports file: `{"nats": ["nats://127.0.0.1:PORT"], ...}`.
fn read_url(ports: &Path) -> Option<String> {
    let text = std::fs::read_to_string(ports).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["nats"][0].as_str().map(str::to_owned)
}

/// `program` on PATH or in Debian's /usr/sbin, where the package puts it.
fn find(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/usr/bin".into()]);
    dirs.map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{program} not found: {MISSING}"))
}
