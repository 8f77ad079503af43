//! The history of a chaos run: one [`Record`] a line (JSON lines), written by the harness as
//! things happen and read back by the checker.
//!
//! Every time in it (`*_us`) is read from the harness's own clock, the host's system clock, in
//! microseconds since the Unix epoch: it stands for true time. The nodes' clocks are that clock
//! plus their simulated offsets and steps, corrected by ntp-sync; stamps are in the `hlc`
//! header's text form (`00-<16 hex timestamp>-<16 hex node id>`).

use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};

/// One line of the history, tagged by its `"event"` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Record {
    /// The run's parameters: the first line.
    Run(RunInfo),
    /// A node process started: the first start, or a restart after a kill.
    Started {
        /// When the node answered its first request after the start.
        at_us: i64,
        /// The node (1 to 5).
        node: u64,
        /// Its process id.
        pid: u32,
        /// 0 for the first start, then one more for each restart.
        life: u32,
        /// The simulated offset of its clock at the start, in ms.
        clock_offset_ms: i64,
    },
    /// A fault the harness injected, or lifted.
    Fault {
        /// When it took effect (after the signal was sent or the route answered).
        at_us: i64,
        /// The fault.
        fault: Fault,
    },
    /// A request of the load generator, and what came of it.
    Request(RequestRecord),
    /// What `GET /health` of a node said (the harness polls it).
    Health {
        /// When the answer was read.
        at_us: i64,
        /// The node.
        node: u64,
        /// 200, or 503 with a reason; `None` when the node did not answer.
        status: Option<u16>,
        /// The problem details' `reason` (`fenced`, `unsynchronised`, ...), when 503.
        reason: Option<String>,
        /// When the poll was sent: the node judged its health between this and `at_us`. The
        /// checker needs it to tell a 2xx answered after the poll from one answered before.
        #[serde(default)]
        sent_us: Option<i64>,
    },
    /// A node's resident set size.
    Rss {
        /// When it was read (`/proc/<pid>/status`, `VmRSS`).
        at_us: i64,
        /// The node.
        node: u64,
        /// Its life (see [`Record::Started`]): a restart starts a new process.
        life: u32,
        /// Resident set size, in KiB.
        rss_kib: u64,
        /// Where in the run the sample was taken.
        phase: RssPhase,
    },
}

/// The parameters of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The seed the fault schedule was drawn from.
    pub seed: u64,
    /// How long the load ran, in seconds.
    pub seconds: u64,
    /// The nodes' max offset, in microseconds: no stamp may lead true time by more.
    pub max_offset_us: u64,
    /// The nodes: id, base URL, and node id in hex.
    pub nodes: Vec<NodeInfo>,
    /// When the run started.
    pub started_us: i64,
}

/// One node of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The harness's number for it, 1 to 5 (also its node id).
    pub node: u64,
    /// Its base URL, `http://127.0.0.N:PORT`.
    pub url: String,
}

/// A fault, with the node it hit where it hit one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// `kill -9` of a node.
    Kill {
        /// The node.
        node: u64,
    },
    /// A node restarted after a kill, its clock set back by `clock_offset_ms` (negative).
    Restart {
        /// The node.
        node: u64,
        /// Its simulated clock offset on restart, in ms.
        clock_offset_ms: i64,
    },
    /// `SIGSTOP` to a node.
    Stop {
        /// The node.
        node: u64,
    },
    /// `SIGCONT` to a stopped node.
    Cont {
        /// The node.
        node: u64,
    },
    /// A step of a node's simulated clock at run time.
    Step {
        /// The node.
        node: u64,
        /// The step, in ms (positive: ahead).
        ms: i64,
    },
    /// CPU load on the machine began (`stress-ng`).
    CpuLoadStart,
    /// It ended.
    CpuLoadEnd,
    /// An NTP responder began to lie by this much.
    NtpLie {
        /// Which responder (0-based).
        responder: usize,
        /// By how much, in ms.
        offset_ms: i64,
    },
    /// An NTP responder went silent.
    NtpSilent {
        /// Which responder (0-based).
        responder: usize,
    },
}

/// The route a request called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `GET /time`: the node's stamp.
    Time,
    /// `POST /relay`: the node calls its first peer's `/time` and answers with both stamps.
    Relay,
}

/// A request of the load generator and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Unique in the run.
    pub id: u64,
    /// The node called.
    pub node: u64,
    /// The route called.
    pub route: Route,
    /// Read just before the request was sent.
    pub sent_us: i64,
    /// Read just after the whole answer was read, or the request failed.
    pub received_us: i64,
    /// The `hlc` header the request carried: the load generator's own stamp.
    pub stamp_sent: Option<String>,
    /// What came back.
    pub outcome: Outcome,
}

/// What came of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// An HTTP answer.
    Answered {
        /// Its status.
        status: u16,
        /// Its `hlc` header, when it had one.
        stamp: Option<String>,
        /// The stamp in a `/time` body, or the `local` stamp of a `/relay` body.
        body_stamp: Option<String>,
        /// A `/relay` body's `peer` stamp, and the node that gave it.
        relay_peer: Option<RelayPeer>,
        /// The problem details' `type` of a refusal (`urn:hlc:clock-untrusted`, ...).
        problem_type: Option<String>,
        /// The problem details' `reason` (`fenced`, ...), when it has one.
        reason: Option<String>,
        /// Why a `/relay` answered `502`, and which peer it called; `None` for every other
        /// answer, and in histories written before the harness recorded it. Boxed: rare, and
        /// it would make every record of the history larger.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        relay_failure: Option<Box<RelayFailure>>,
    },
    /// No answer: the connection was refused or reset, or the request timed out.
    Failed {
        /// What failed, as the client said it.
        error: String,
    },
}

/// The peer's half of a `/relay` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayPeer {
    /// The peer's node (1 to 5).
    pub node: u64,
    /// The stamp of the peer's `/time` answer.
    pub stamp: String,
}

/// Why a `/relay` answered `502`: the three ways `examples/src/node/routes.rs` answers it.
///
/// `peer` is the node the relaying node calls (its first `--peer`), as the harness that gave
/// it its peers knows it; the `502` body does not say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum RelayFailure {
    /// The peer answered other than `200` (the body's `peer_status` and `peer_body`).
    PeerAnswered {
        /// The peer's node (1 to 5).
        peer: u64,
        /// The peer's status.
        status: u16,
        /// The peer's problem details' `type`, when it had one.
        problem_type: Option<String>,
        /// The peer's problem details' `reason`, when it had one.
        reason: Option<String>,
    },
    /// The relaying node's client layer refused the peer's answer, or refused to send (the
    /// body's `kind`, from `hlc_middleware::Refusal::kind`).
    Refused {
        /// The peer's node.
        peer: u64,
        /// The refusal's kind (`hlc.too_far_ahead`, `hlc.clock_untrusted`, ...).
        kind: String,
    },
    /// The relaying node's client layer sent nothing because the node's own clock was
    /// untrusted (`hlc_middleware::ClientError::ClockUntrusted`; the node's `502` body names
    /// the reason in `not_sent`).
    NotSent {
        /// The peer's node.
        peer: u64,
        /// Why the clock was untrusted, as the error says it.
        reason: String,
    },
    /// No usable answer from the peer: connecting or talking to it failed (the body's
    /// `error` alone). The node's own `502` for a `200` whose body is not the expected JSON
    /// has the same shape, so it lands here too.
    Transport {
        /// The peer's node.
        peer: u64,
        /// The body's `error`, or the whole body when it has none.
        error: String,
    },
}

impl RelayFailure {
    /// The peer the relaying node called.
    pub fn peer(&self) -> u64 {
        match self {
            Self::PeerAnswered { peer, .. }
            | Self::Refused { peer, .. }
            | Self::NotSent { peer, .. }
            | Self::Transport { peer, .. } => *peer,
        }
    }
}

/// Where in a run an RSS sample was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RssPhase {
    /// After the warm-up: the reference.
    WarmedUp,
    /// During the run.
    During,
    /// At the end, before the nodes are stopped.
    End,
}

/// Writes `record` as one line.
///
/// # Errors
/// What writing to `out` fails with.
pub fn write_record(out: &mut impl Write, record: &Record) -> io::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")
}

/// Reads a whole history, one record a line; blank lines are skipped.
///
/// # Errors
/// A line that is not a record, naming its number, or what reading failed with.
pub fn read_history(input: impl BufRead) -> io::Result<Vec<Record>> {
    let mut records = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("history line {}: {error}", index + 1),
            )
        })?;
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_one_a_line() {
        let records = vec![
            Record::Run(RunInfo {
                seed: 7,
                seconds: 60,
                max_offset_us: 500_000,
                nodes: vec![NodeInfo {
                    node: 1,
                    url: "http://127.0.0.1:8080".into(),
                }],
                started_us: 1_700_000_000_000_000,
            }),
            Record::Fault {
                at_us: 1_700_000_000_100_000,
                fault: Fault::Step { node: 1, ms: 2000 },
            },
            Record::Request(RequestRecord {
                id: 1,
                node: 1,
                route: Route::Time,
                sent_us: 1_700_000_000_200_000,
                received_us: 1_700_000_000_201_000,
                stamp_sent: Some("00-6170203eb82d0000-0000000000000099".into()),
                outcome: Outcome::Failed {
                    error: "connection refused".into(),
                },
            }),
        ];
        let mut text = Vec::new();
        for record in &records {
            write_record(&mut text, record).unwrap();
        }
        assert_eq!(text.iter().filter(|&&b| b == b'\n').count(), records.len());
        assert!(String::from_utf8_lossy(&text).contains(r#""event":"fault""#));
        assert_eq!(read_history(text.as_slice()).unwrap(), records);
    }

    #[test]
    fn a_relay_failure_round_trips_and_an_older_answer_without_one_still_reads() {
        let failed = Record::Request(RequestRecord {
            id: 2,
            node: 1,
            route: Route::Relay,
            sent_us: 10,
            received_us: 20,
            stamp_sent: None,
            outcome: Outcome::Answered {
                status: 502,
                stamp: None,
                body_stamp: None,
                relay_peer: None,
                problem_type: None,
                reason: None,
                relay_failure: Some(Box::new(RelayFailure::Transport {
                    peer: 2,
                    error: "client error (Connect)".into(),
                })),
            },
        });
        let mut text = Vec::new();
        write_record(&mut text, &failed).unwrap();
        assert!(String::from_utf8_lossy(&text).contains(r#""cause":"transport","peer":2"#));
        assert_eq!(read_history(text.as_slice()).unwrap(), [failed]);
        // As the harness wrote it before it recorded the cause.
        let older = r#"{"event":"request","id":1,"node":1,"route":"relay","sent_us":1,
            "received_us":2,"stamp_sent":null,"outcome":{"kind":"answered","status":502,
            "stamp":null,"body_stamp":null,"relay_peer":null,"problem_type":null,"reason":null}}"#;
        let records = read_history(older.replace('\n', "").as_bytes()).unwrap();
        assert!(matches!(
            &records[..],
            [Record::Request(RequestRecord {
                outcome: Outcome::Answered {
                    status: 502,
                    relay_failure: None,
                    ..
                },
                ..
            })]
        ));
    }

    #[test]
    fn a_bad_line_is_named() {
        let error = read_history("\n{\"event\":\"nope\"}\n".as_bytes()).unwrap_err();
        assert!(error.to_string().contains("history line 2"), "{error}");
    }
}
