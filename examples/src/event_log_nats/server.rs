//! A throwaway `nats-server -js` on loopback, in a temporary directory, on a port it picks
//! itself; killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::BoxError;

/// What to do when the server is not installed.
pub const MISSING: &str = "install the Debian package nats-server, or run scripts/test";
/// How long a started server may take to say where it listens, on a loaded machine.
pub const START_LIMIT: Duration = Duration::from_secs(30);

/// A running `nats-server`; dropping it kills it and waits for it, and removes its store.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts `nats-server` (found on PATH or in Debian's `/usr/sbin`) with JetStream on
    /// 127.0.0.1 and a port of its choosing (`-p -1`), its store in a fresh temporary
    /// directory; returns once it has written the URL it listens on.
    ///
    /// # Errors
    /// The binary is missing (the message says which package to install), it exits, or it
    /// names no port within [`START_LIMIT`] (the message holds its log).
    pub fn start() -> Result<Self, BoxError> {
        let program = find("nats-server").ok_or(format!("nats-server not found: {MISSING}"))?;
        let dir = tempfile::tempdir()?;
        let child = Command::new(program)
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(dir.path().join("store"))
            // It writes `{"nats": ["nats://127.0.0.1:<port>"]}` to nats-server_<pid>.ports.
            .arg("--ports_file_dir")
            .arg(dir.path())
            .arg("-l")
            .arg(dir.path().join("nats-server.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run nats-server ({e}): {MISSING}"))?;
        let mut server = Self {
            child,
            url: String::new(),
            dir,
        };
        server.url = server.wait_for_url()?;
        Ok(server)
    }

    /// The client URL, `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn wait_for_url(&mut self) -> Result<String, BoxError> {
        let ports = self
            .dir
            .path()
            .join(format!("nats-server_{}.ports", self.child.id()));
        let deadline = Instant::now() + START_LIMIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("nats-server exited with {status}:\n{}", self.log()).into());
            }
            // The file may be caught half-written: read again until it parses.
            if let Some(url) = read_url(&ports) {
                return Ok(url);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "nats-server named no port within {START_LIMIT:?}:\n{}",
            self.log()
        )
        .into())
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

/// The first client URL in a ports file.
fn read_url(ports: &Path) -> Option<String> {
    let text = std::fs::read_to_string(ports).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["nats"][0].as_str().map(str::to_owned)
}

/// `program` on PATH or in /usr/sbin, where Debian puts it and a user's PATH may not look.
fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/usr/bin".into()]);
    dirs.map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
