//! The chaos harness end to end, briefly: five real `hlc_node` processes (the example binary
//! `cargo test` builds) under load for a few seconds, too short for any fault; the history
//! holds the run, each node's start, requests, health and memory, the summary is written,
//! and every node process is gone afterwards. Needs `stress-ng` (Debian `stress-ng`).

mod common;

use std::fs::File;
use std::io::BufReader;
use std::time::Duration;

use hlc_examples::chaos::harness::{self, Options, HISTORY_FILE, NODES, SUMMARY_FILE};
use hlc_examples::chaos::history::{read_history, Outcome, Record, RssPhase};

/// Bounds the whole test: five nodes syncing and a few seconds of load, on a loaded machine.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// Shorter than the first fault ([`harness::schedule::FIRST_FAULT`]).
const SECONDS: u64 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_records_everything_and_leaves_no_node_behind() {
    if let Err(error) = harness::find_stress_ng() {
        panic!("{error}");
    }
    let out = tempfile::tempdir().unwrap();
    let options = Options {
        seconds: SECONDS,
        seed: 1,
        node_binary: common::example_binary("hlc_node"),
        out_root: out.path().to_owned(),
    };
    let outcome = tokio::time::timeout(TEST_LIMIT, harness::run(&options))
        .await
        .expect("the run ends within its limit")
        .unwrap();
    assert!(
        outcome.harness_errors.is_empty(),
        "{:?}",
        outcome.harness_errors
    );
    assert!(outcome.dir.join(SUMMARY_FILE).is_file());
    let history = read_history(BufReader::new(
        File::open(outcome.dir.join(HISTORY_FILE)).unwrap(),
    ))
    .unwrap();
    assert!(matches!(&history[0], Record::Run(run) if run.nodes.len() == 5 && run.seed == 1));
    let pids: Vec<u32> = history
        .iter()
        .filter_map(|r| match r {
            Record::Started { pid, life: 0, .. } => Some(*pid),
            _ => None,
        })
        .collect();
    assert_eq!(pids.len(), usize::try_from(NODES).unwrap());
    let answered = history
        .iter()
        .filter(|r| {
            matches!(r, Record::Request(q) if matches!(q.outcome, Outcome::Answered { status: 200, .. }))
        })
        .count();
    assert!(answered > 0, "no request answered");
    for node in 1..=NODES {
        let polled = |r: &&Record| matches!(r, Record::Health { node: n, status: Some(_), .. } if *n == node);
        assert!(
            history.iter().any(|r| polled(&r)),
            "node {node} never polled"
        );
        let ended = |r: &&Record| matches!(r, Record::Rss { node: n, phase: RssPhase::End, .. } if *n == node);
        assert!(
            history.iter().any(|r| ended(&r)),
            "node {node} has no end sample"
        );
    }
    assert!(!history.iter().any(|r| matches!(r, Record::Fault { .. })));
    for pid in pids {
        // Killed and reaped: no process, not even a zombie, under that pid (pids are not
        // reused this fast).
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "node pid {pid} still there"
        );
    }
}
