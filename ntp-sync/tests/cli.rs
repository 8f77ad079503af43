//! The `ntp-sync` binary end to end: query (table, JSON, exit codes), serve and watch, and
//! hostile servers. Child processes are killed on drop; every wait is bounded, and so is every
//! test as a whole.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use hlc_core::{PhysicalClock, SystemClock};
use ntp_sync::{Fault, Responder};
use serde_json::Value;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_ntp-sync");
/// Bounds a whole test: a child or a socket that never answers fails it instead of hanging CI.
const TEST_LIMIT: Duration = Duration::from_secs(90);
/// Bounds one run of the binary, and the wait for a line from one that keeps running.
const CHILD_LIMIT: Duration = Duration::from_secs(30);
/// The line `ntp-sync serve` writes to stderr once it listens; the bound address follows.
const SERVING: &str = "ntp-sync: serving ntp on ";

async fn bounded<T>(test: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("test still running after {TEST_LIMIT:?}"))
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads `pipe` to its end on a thread of its own, so a chatty child never blocks on it.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs `ntp-sync` with `args` to its end; one still running after [`CHILD_LIMIT`] is killed
/// and fails the test. Waiting polls the child rather than blocking a thread on it, so a
/// timeout never leaves a thread the runtime would wait for.
async fn run(args: &[&str]) -> Output {
    let mut child = Killed(
        Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = drain(child.0.stdout.take().unwrap());
    let stderr = drain(child.0.stderr.take().unwrap());
    let deadline = Instant::now() + CHILD_LIMIT;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "ntp-sync {args:?} still running after {CHILD_LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn assert_no_panic(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

async fn responder(offset_ms: i64) -> Responder {
    let fault = Fault::Offset {
        nanos: offset_ms * 1_000_000,
    };
    Responder::builder()
        .fault(fault)
        .bind("127.0.0.1:0")
        .await
        .unwrap()
}

#[tokio::test]
async fn query_json_names_every_field_and_exits_0() {
    bounded(async {
        let servers = [
            responder(100).await,
            responder(100).await,
            responder(-3_000).await,
        ];
        let addresses: Vec<String> = servers.iter().map(|s| s.local_addr().to_string()).collect();
        // Four tries of a second each: a loaded machine may miss one, never all.
        let mut args = vec!["query", "--json", "--samples", "4", "--timeout", "1000"];
        args.extend(addresses.iter().map(String::as_str));
        let output = run(&args).await;
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        let sources = json["sources"].as_array().unwrap();
        assert_eq!(sources.len(), 3);
        for field in [
            "server", "stratum", "offset_s", "delay_s", "radius_s", "state", "reason",
        ] {
            assert!(sources[0].get(field).is_some(), "missing {field}");
        }
        assert_eq!(sources[0]["state"], "combined");
        assert_eq!(sources[2]["state"], "falseticker");
        assert_eq!(sources[0]["server"], addresses[0].as_str());
        let estimate = &json["estimate"];
        let error = estimate["offset_s"].as_f64().unwrap() - 0.1;
        assert!(
            error.abs() <= estimate["radius_s"].as_f64().unwrap(),
            "{estimate}"
        );
        assert_eq!(estimate["status"], "synchronised");
        let earliest = estimate["earliest"].as_str().unwrap();
        assert!(
            earliest.ends_with('Z') && earliest.len() == 27,
            "{earliest}"
        );
        assert!(estimate["earliest"].as_str() < estimate["latest"].as_str());
    })
    .await;
}

#[tokio::test]
async fn query_prints_a_table_with_the_estimate() {
    bounded(async {
        let server = responder(0).await;
        let address = server.local_addr().to_string();
        let output = run(&["query", "--samples", "4", &address]).await;
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.starts_with("SERVER"), "{stdout}");
        assert!(
            stdout.contains(&address) && stdout.contains("combined"),
            "{stdout}"
        );
        assert!(stdout.contains("estimate: offset"), "{stdout}");
    })
    .await;
}

#[tokio::test]
async fn no_majority_exits_2_with_a_message_and_a_null_estimate() {
    bounded(async {
        let servers = [responder(0).await, responder(5_000).await];
        let (a, b) = (
            servers[0].local_addr().to_string(),
            servers[1].local_addr().to_string(),
        );
        // Both must answer for this to be a disagreement rather than too few answers.
        let output = run(&["query", "--json", "--samples", "4", &a, &b]).await;
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(json["estimate"].is_null());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains("no majority of the servers agree"),
            "{stderr}"
        );
    })
    .await;
}

#[tokio::test]
async fn nothing_usable_exits_2() {
    bounded(async {
        let silent = Responder::builder()
            .fault(Fault::Silence)
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let output = run(&[
            "query",
            "--samples",
            "1",
            "--timeout",
            "100",
            &silent.local_addr().to_string(),
        ])
        .await;
        assert_eq!(output.status.code(), Some(2));
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            stdout.contains("unusable: no response within 100ms"),
            "{stdout}"
        );
        assert!(String::from_utf8(output.stderr)
            .unwrap()
            .contains("no usable server"));
    })
    .await;
}

#[tokio::test]
async fn usage_errors_exit_1_without_a_panic() {
    bounded(async {
        for args in [
            &["query"][..],
            &["query", "--samples", "0", "127.0.0.1"],
            &["query", "--timeout", "soon", "127.0.0.1"],
            &["query", "--frobnicate", "127.0.0.1"],
            &["serve"],
            &["serve", "--listen", "127.0.0.1:0", "--fault", "loud"],
            &["frobnicate"],
            &["watch", "--min-poll", "0", "127.0.0.1"],
            &["watch", "--max-poll", "999999", "127.0.0.1"],
        ] {
            let output = run(args).await;
            assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
            assert_no_panic(&output);
        }
        // Flags that disagree with each other: clap's usage error, naming both.
        let output = run(&["watch", "--min-poll", "64", "--max-poll", "16", "127.0.0.1"]).await;
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--min-poll (64 s) must not be above --max-poll (16 s)")
                && stderr.contains("Usage: ntp-sync watch"),
            "{stderr}"
        );
        assert_eq!(run(&["--help"]).await.status.code(), Some(0));
    })
    .await;
}

/// Builds the reply to a request from the request and the round number.
type Reply = fn(&[u8], usize) -> Vec<u8>;

/// A "server" that answers every request with `reply(request, round)`, on its own thread.
fn hostile_server(reply: Reply) -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap().to_string();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 512];
        for round in 0..64 {
            let Ok((len, from)) = socket.recv_from(&mut buffer) else {
                return;
            };
            let _ = socket.send_to(&reply(&buffer[..len], round), from);
        }
    });
    address
}

#[tokio::test]
async fn hostile_replies_never_crash_the_query() {
    bounded(async {
        let garbage: [Reply; 4] = [
            |_, _| Vec::new(),
            |_, round| vec![0xff; round % 60],
            |request, _| request.to_vec(),
            |request, round| {
                // The right origin, everything else scrambled.
                let mut reply: Vec<u8> = (0..48).map(|i| (i * 37 + round * 11) as u8).collect();
                reply[24..32].copy_from_slice(&request[40..48]);
                reply
            },
        ];
        let mut queries = tokio::task::JoinSet::new();
        for reply in garbage {
            let address = hostile_server(reply);
            queries.spawn(async move {
                run(&[
                    "query",
                    "--json",
                    "--samples",
                    "2",
                    "--timeout",
                    "100",
                    &address,
                ])
                .await
            });
        }
        while let Some(output) = queries.join_next().await {
            let output = output.unwrap();
            assert_eq!(output.status.code(), Some(2), "{output:?}");
            assert_no_panic(&output);
            let json: Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(json["sources"][0]["state"], "unusable");
        }
    })
    .await;
}

/// A running `ntp-sync` and its output, line by line.
struct Running {
    _child: Killed,
    stdout: UnboundedReceiver<String>,
    stderr: UnboundedReceiver<String>,
}

impl Running {
    fn pid(&self) -> rustix::process::Pid {
        rustix::process::Pid::from_child(&self._child.0)
    }
}

/// Starts `ntp-sync` with `args`; it runs until dropped.
fn spawn(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    Running {
        _child: Killed(child),
        stdout,
        stderr,
    }
}

/// The lines of `pipe`, read on a thread of their own.
fn lines(pipe: impl Read + Send + 'static) -> UnboundedReceiver<String> {
    let (sender, receiver) = unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

/// The first line of `lines` that `wanted` accepts, within [`CHILD_LIMIT`].
async fn line_where(
    lines: &mut UnboundedReceiver<String>,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let mut seen = Vec::new();
    let wait = async {
        while let Some(line) = lines.recv().await {
            if wanted(&line) {
                return Some(line);
            }
            seen.push(line);
        }
        None
    };
    match tokio::time::timeout(CHILD_LIMIT, wait).await {
        Ok(Some(line)) => line,
        Ok(None) => panic!("ntp-sync ended without the line; it wrote {seen:?}"),
        Err(_) => panic!("no such line within {CHILD_LIMIT:?}; got {seen:?}"),
    }
}

#[tokio::test]
async fn serve_answers_with_its_offset_and_stratum() {
    bounded(async {
        // Port 0: the child binds a free port itself and names it, so no other test can take
        // it in between.
        let mut server = spawn(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--offset",
            "-0.5",
            "--stratum",
            "4",
        ]);
        let line = line_where(&mut server.stderr, |l| l.starts_with(SERVING)).await;
        let address: SocketAddr = line[SERVING.len()..].parse().unwrap();
        assert!(address.ip().is_loopback() && address.port() != 0, "{line}");
        let options = ntp_sync::query::QueryOptions {
            samples: 4,
            timeout: Duration::from_secs(1),
            ..Default::default()
        };
        let report = ntp_sync::query::query(&[address.to_string()], options).await;
        let source = &report.sources[0];
        let offset = source.offset_nanos.unwrap_or_else(|| panic!("{report:?}"));
        assert!(
            (offset + 500_000_000).abs() <= source.radius_nanos.unwrap(),
            "{report:?}"
        );
        assert_eq!(source.stratum, Some(4));
    })
    .await;
}

/// What `ntp-sync watch` prints for a synchronised client, parsed.
#[derive(Debug)]
struct WatchLine {
    offset_micros: i64,
    radius_micros: i64,
    earliest_micros: i64,
    latest_micros: i64,
    sources: String,
}

/// Parses `synchronised offset +0.040001s ± 0.000125s true time in [EARLIEST, LATEST]
/// (1/1 combined)`: seconds with six decimals, times in RFC 3339 with microseconds.
fn parse_watch_line(line: &str) -> Option<WatchLine> {
    let rest = line.strip_prefix("synchronised offset ")?;
    let (offset, rest) = rest.split_once("s ± ")?;
    let (radius, rest) = rest.split_once("s true time in [")?;
    let (earliest, rest) = rest.split_once(", ")?;
    let (latest, rest) = rest.split_once("] (")?;
    let micros_since_epoch = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_micros())
    };
    Some(WatchLine {
        offset_micros: seconds_as_micros(offset)?,
        radius_micros: seconds_as_micros(radius)?,
        earliest_micros: micros_since_epoch(earliest)?,
        latest_micros: micros_since_epoch(latest)?,
        sources: rest.strip_suffix(')')?.to_owned(),
    })
}

/// `+0.040001` (an optional sign, exactly six decimals) as microseconds.
fn seconds_as_micros(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.')?;
    if fraction.len() != 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    format!("{whole}{fraction}").parse().ok()
}

#[test]
fn the_watch_line_parser_reads_every_field() {
    let line = "synchronised offset -0.040001s ± 0.000125s true time in \
                [2026-11-29T14:31:42.000000Z, 2026-11-29T14:31:42.000250Z] (1/1 combined)";
    let parsed = parse_watch_line(line).unwrap();
    assert_eq!((parsed.offset_micros, parsed.radius_micros), (-40_001, 125));
    assert_eq!(parsed.latest_micros - parsed.earliest_micros, 250);
    assert_eq!(parsed.earliest_micros, 1_795_962_702_000_000);
    assert_eq!(parsed.sources, "1/1 combined");
    assert!(parse_watch_line("synchronised offset +0.04s ± 0.000125s").is_none());
}

#[tokio::test]
async fn watch_prints_the_estimate_after_polls() {
    bounded(async {
        const TRUTH_MICROS: i64 = 40_000;
        let server = responder(TRUTH_MICROS / 1_000).await;
        let started = SystemClock.now_micros() as i64;
        let mut watch = spawn(&["watch", &server.local_addr().to_string()]);
        let line = line_where(&mut watch.stdout, |l| l.starts_with("synchronised")).await;
        let printed = SystemClock.now_micros() as i64;
        let parsed = parse_watch_line(&line).unwrap_or_else(|| panic!("unparsed: {line}"));
        // The printed offset and radius are rounded to the microsecond: one each way.
        assert!(
            (parsed.offset_micros - TRUTH_MICROS).abs() <= parsed.radius_micros + 1,
            "{line}"
        );
        // True time was the responder's (system time + 40 ms) at some instant between the
        // start and the line's arrival; the printed interval held it then.
        assert!(
            parsed.earliest_micros <= printed + TRUTH_MICROS
                && started + TRUTH_MICROS <= parsed.latest_micros,
            "{line}"
        );
        let width = parsed.latest_micros - parsed.earliest_micros;
        assert!((width - 2 * parsed.radius_micros).abs() <= 2, "{line}");
        assert_eq!(parsed.sources, "1/1 combined", "{line}");
    })
    .await;
}

/// RFC 3339 as microseconds since the epoch.
fn rfc3339_micros(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_micros()
}

/// Whatever state this machine's kernel is in, the printed view must follow from its own
/// figures: no bound when they say unsynchronised, a bound at least `maxerror` wide each side
/// of the kernel's reading of the time otherwise.
fn assert_kernel_json_consistent(kernel: &Value) {
    let maxerror_micros = (kernel["maxerror_s"].as_f64().unwrap() * 1e6).round() as i64;
    let flags: Vec<&str> = kernel["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let unsynchronised = flags.contains(&"UNSYNC")
        || flags.contains(&"CLOCKERR")
        || kernel["clock_state"] == 5
        || maxerror_micros >= 16_000_000;
    assert!(kernel["esterror_s"].is_f64() && kernel["frequency_ppm"].is_f64());
    assert!(kernel["offset_s"].is_f64(), "{kernel}");
    if unsynchronised {
        assert_eq!(kernel["status"], "unsynchronised", "{kernel}");
        assert!(kernel["earliest"].is_null() && kernel["latest"].is_null());
        assert!(kernel["reason"].is_string(), "{kernel}");
    } else {
        assert_eq!(kernel["status"], "synchronised", "{kernel}");
        let time = rfc3339_micros(&kernel["time"]);
        assert!(rfc3339_micros(&kernel["earliest"]) <= time - maxerror_micros);
        assert!(rfc3339_micros(&kernel["latest"]) >= time + maxerror_micros);
    }
}

#[tokio::test]
async fn query_kernel_prints_the_kernels_view_as_json() {
    bounded(async {
        let output = run(&["query", "--kernel", "--json"]).await;
        assert_no_panic(&output);
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        let kernel = &json["kernel"];
        assert_kernel_json_consistent(kernel);
        assert_eq!(json["sources"].as_array().map(Vec::len), Some(0));
        // Exit 0 with a bound, 2 without: this machine's unsynchronised kernel gives none.
        let expected = if kernel["status"] == "synchronised" {
            0
        } else {
            2
        };
        assert_eq!(output.status.code(), Some(expected), "{output:?}");
    })
    .await;
}

#[tokio::test]
async fn query_kernel_prints_the_kernels_view_as_text() {
    bounded(async {
        let output = run(&["query", "--kernel"]).await;
        let stdout = String::from_utf8(output.stdout.clone()).unwrap();
        assert!(stdout.starts_with("kernel: "), "{stdout}");
        assert!(
            stdout.contains("maxerror") && stdout.contains("flags"),
            "{stdout}"
        );
        if stdout.starts_with("kernel: unsynchronised") {
            assert_eq!(output.status.code(), Some(2), "{output:?}");
            let stderr = String::from_utf8(output.stderr).unwrap();
            assert!(stderr.contains("no estimate: kernel"), "{stderr}");
        } else {
            assert!(stdout.starts_with("kernel: synchronised; true time in ["));
            assert_eq!(output.status.code(), Some(0), "{output:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn query_kernel_with_a_server_intersects_the_two() {
    bounded(async {
        // The responder serves the system clock, which an honest kernel bounds too.
        let server = responder(0).await;
        let address = server.local_addr().to_string();
        let args = ["query", "--kernel", "--json", "--timeout", "1000", &address];
        let output = run(&args).await;
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_kernel_json_consistent(&json["kernel"]);
        let combined = &json["combined"];
        assert!(combined["conflict"].is_null(), "{combined}");
        let (earliest, latest) = (
            rfc3339_micros(&combined["bound"]["earliest"]),
            rfc3339_micros(&combined["bound"]["latest"]),
        );
        let network = &json["estimate"];
        // Never wider than the network's bound (but for the nanosecond reading a bound rounds
        // out by, which may carry into the next printed microsecond); exactly it while the
        // kernel has none.
        assert!(
            rfc3339_micros(&network["earliest"]) - 1 <= earliest,
            "{json}"
        );
        assert!(latest <= rfc3339_micros(&network["latest"]) + 1, "{json}");
        if json["kernel"]["status"] == "unsynchronised" {
            assert_eq!(combined["bound"]["earliest"], network["earliest"]);
            assert_eq!(combined["bound"]["latest"], network["latest"]);
        }
    })
    .await;
}

#[tokio::test]
async fn watch_kernel_follows_the_kernel() {
    bounded(async {
        let mut watch = spawn(&["watch", "--kernel"]);
        let line = line_where(&mut watch.stdout, |l| l.contains("; kernel: ")).await;
        let (head, kernel) = line.split_once("; kernel: ").unwrap();
        if kernel.starts_with("unsynchronised") {
            assert_eq!(head, "unsynchronised: kernel gives no bound (0/0 combined)");
        } else {
            assert!(kernel.starts_with("synchronised; true time in ["), "{line}");
            assert!(head.starts_with("synchronised offset "), "{line}");
        }
        // A second read follows the first.
        line_where(&mut watch.stdout, |l| l.contains("; kernel: ")).await;
    })
    .await;
}

/// The `status` of a `watch --json` line, and whether it reports a disruption of `kind`.
fn json_status(line: &str) -> Option<(String, Option<String>)> {
    let json: Value = serde_json::from_str(line).ok()?;
    let status = json["status"].as_str()?.to_owned();
    let kind = json["event"]["disruption"]["kind"]
        .as_str()
        .map(str::to_owned);
    Some((status, kind))
}

#[tokio::test]
async fn watch_reports_a_pause_and_resynchronises() {
    bounded(async {
        let mut server = spawn(&["serve", "--listen", "127.0.0.1:0"]);
        let line = line_where(&mut server.stderr, |l| l.starts_with(SERVING)).await;
        let address = line[SERVING.len()..].to_owned();
        let mut watch = spawn(&["watch", "--json", "--min-poll", "16", &address]);
        let synced = |l: &str| json_status(l).is_some_and(|(s, _)| s == "synchronised");
        line_where(&mut watch.stdout, synced).await;
        let pid = watch.pid();
        rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
        // The one real sleep: the pause under test.
        tokio::time::sleep(Duration::from_secs(3)).await;
        rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
        let disrupted = line_where(&mut watch.stdout, |l| {
            json_status(l)
                .is_some_and(|(s, kind)| s == "disrupted" && kind.as_deref() == Some("pause"))
        })
        .await;
        let json: Value = serde_json::from_str(&disrupted).unwrap();
        assert_eq!(json["interval"], Value::Null, "{disrupted}");
        assert_eq!(json["event"]["status_to"], "disrupted", "{disrupted}");
        // Paused 3 s within a 0.5 s heartbeat: at least 2.5 s late, well over the threshold.
        let gap = json["disruption"]["gap_nanos"].as_i64().unwrap();
        assert!(gap >= 2_000_000_000, "{disrupted}");
        let again = line_where(&mut watch.stdout, synced).await;
        let json: Value = serde_json::from_str(&again).unwrap();
        assert_eq!(json["event"]["status_from"], "disrupted", "{again}");
        // The warning reaches stderr, a pipe here: plain text, no colour codes.
        let warning = line_where(&mut watch.stderr, |l| l.contains("clock disrupted")).await;
        assert!(!warning.contains('\u{1b}'), "{warning:?}");
        assert!(json["interval"]["earliest"].is_string(), "{again}");
    })
    .await;
}
