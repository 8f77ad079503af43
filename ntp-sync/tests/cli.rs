//! The `ntp-sync` binary end to end: query (table, JSON, exit codes), serve and watch, and
//! hostile servers. Child processes are killed on drop; every wait is bounded.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ntp_sync::{Fault, Responder};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ntp-sync");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn run(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).output());
    output.await.unwrap().unwrap()
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
    let servers = [
        responder(100).await,
        responder(100).await,
        responder(-3_000).await,
    ];
    let addresses: Vec<String> = servers.iter().map(|s| s.local_addr().to_string()).collect();
    let mut args = vec!["query", "--json", "--samples", "2", "--timeout", "300"];
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
}

#[tokio::test]
async fn query_prints_a_table_with_the_estimate() {
    let server = responder(0).await;
    let address = server.local_addr().to_string();
    let output = run(&["query", "--samples", "1", &address]).await;
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("SERVER"), "{stdout}");
    assert!(
        stdout.contains(&address) && stdout.contains("combined"),
        "{stdout}"
    );
    assert!(stdout.contains("estimate: offset"), "{stdout}");
}

#[tokio::test]
async fn no_majority_exits_2_with_a_message_and_a_null_estimate() {
    let servers = [responder(0).await, responder(5_000).await];
    let (a, b) = (
        servers[0].local_addr().to_string(),
        servers[1].local_addr().to_string(),
    );
    let output = run(&["query", "--json", "--samples", "1", &a, &b]).await;
    assert_eq!(output.status.code(), Some(2));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["estimate"].is_null());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("no majority of the servers agree"),
        "{stderr}"
    );
}

#[tokio::test]
async fn nothing_usable_exits_2() {
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
}

#[tokio::test]
async fn usage_errors_exit_1_without_a_panic() {
    for args in [
        &["query"][..],
        &["query", "--samples", "0", "127.0.0.1"],
        &["query", "--timeout", "soon", "127.0.0.1"],
        &["query", "--frobnicate", "127.0.0.1"],
        &["serve"],
        &["serve", "--listen", "127.0.0.1:0", "--fault", "loud"],
        &["frobnicate"],
    ] {
        let output = run(args).await;
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        assert_no_panic(&output);
    }
    assert_eq!(run(&["--help"]).await.status.code(), Some(0));
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
}

/// Starts `ntp-sync` with `args` and returns it with a channel of its stdout lines.
fn spawn(args: &[&str]) -> (Killed, mpsc::Receiver<String>) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    (Killed(child), receiver)
}

#[tokio::test]
async fn serve_answers_with_its_offset_and_stratum() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let _server = spawn(&[
        "serve",
        "--listen",
        &listen,
        "--offset",
        "-0.5",
        "--stratum",
        "4",
    ]);
    let options = ntp_sync::query::QueryOptions {
        samples: 1,
        timeout: Duration::from_millis(100),
        ..Default::default()
    };
    // The child needs a moment to bind: up to 50 attempts.
    for _ in 0..50 {
        let report = ntp_sync::query::query(std::slice::from_ref(&listen), options).await;
        if let Some(offset) = report.sources[0].offset_nanos {
            assert!(
                (offset + 500_000_000).abs() <= report.sources[0].radius_nanos.unwrap(),
                "{report:?}"
            );
            assert_eq!(report.sources[0].stratum, Some(4));
            return;
        }
    }
    panic!("ntp-sync serve never answered");
}

#[tokio::test]
async fn watch_prints_the_estimate_after_polls() {
    let server = responder(40).await;
    let (_watch, lines) = spawn(&["watch", &server.local_addr().to_string()]);
    let line = tokio::task::spawn_blocking(move || lines.recv_timeout(Duration::from_secs(5)))
        .await
        .unwrap()
        .expect("a line within 5 s");
    assert!(line.starts_with("synchronised offset +0.04"), "{line}");
    assert!(line.ends_with("(1/1 combined)"), "{line}");
}
