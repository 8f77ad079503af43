//! The ordering examples: last-writer-wins in SQLite and merged event logs, each run under
//! wall-clock and hybrid stamps.

use std::fs;
use std::io::Write;

use hlc_examples::event_log::{self, cluster, Entry, Order};
use hlc_examples::lww_store::scenario::{self, Stamping};

#[test]
fn wall_clock_stamps_silently_lose_causally_later_updates() {
    for plan in [scenario::TAKING_TURNS, scenario::THREE_WRITERS] {
        let outcome = scenario::run(&plan, Stamping::WallClock).unwrap();
        assert!(outcome.lost() > 0, "{outcome}");
        assert!(!outcome.stale_keys().is_empty(), "{outcome}");
        // An update is lost exactly when its writer's clock read earlier than the stored stamp.
        assert_eq!(outcome.misjudged(), Vec::<&scenario::Update>::new());
    }
}

#[test]
fn hybrid_stamps_lose_no_update() {
    for plan in [scenario::TAKING_TURNS, scenario::THREE_WRITERS] {
        let outcome = scenario::run(&plan, Stamping::Hybrid).unwrap();
        assert_eq!(outcome.lost(), 0, "{outcome}");
        assert_eq!(outcome.stale_keys(), Vec::<&str>::new(), "{outcome}");
        assert_eq!(outcome.updates.len(), plan.writes());
        assert_eq!(outcome.misjudged(), Vec::<&scenario::Update>::new());
    }
}

#[test]
fn misjudged_names_an_update_the_store_decided_wrong() {
    let mut outcome = scenario::run(&scenario::THREE_WRITERS, Stamping::WallClock).unwrap();
    let lost = outcome.updates.iter().position(|u| !u.stored).unwrap();
    outcome.updates[lost].stored = true;
    assert_eq!(outcome.misjudged(), vec![&outcome.updates[lost]]);
}

fn merged(logs: &[std::path::PathBuf], order: Order) -> Vec<Entry> {
    event_log::merge_logs(logs, order)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn merged_logs_break_causality_by_wall_clock_and_never_by_hlc() {
    let dir = tempfile::tempdir().unwrap();
    let logs = cluster::write_logs(dir.path()).unwrap();
    let by_wall = merged(&logs, Order::WallClock);
    let by_hlc = merged(&logs, Order::Hlc);

    // A message looks received before it was sent exactly when its sender's clock leads the
    // receiver's by more than the network latency.
    let latency_ms = i64::try_from(cluster::LATENCY.as_millis()).unwrap();
    let expected: Vec<u32> = (1..)
        .zip(cluster::MESSAGES)
        .filter(|(_, (from, to))| cluster::NODES[*from].1 - cluster::NODES[*to].1 > latency_ms)
        .map(|(number, _)| number)
        .collect();
    let mut wall_violations = event_log::causal_violations(&by_wall);
    wall_violations.sort_unstable();
    assert!(!wall_violations.is_empty());
    assert_eq!(wall_violations, expected);
    assert_eq!(event_log::causal_violations(&by_hlc), Vec::<u32>::new());

    // Both orders hold every line once, in order of their key.
    assert_eq!(by_hlc.len(), 2 * cluster::MESSAGES.len());
    assert!(by_hlc.windows(2).all(|w| w[0].hlc < w[1].hlc));
    let mut same = by_wall.clone();
    same.sort_by_key(|e| e.hlc);
    assert_eq!(same, by_hlc);
    assert!(event_log::render(&by_wall, Order::WallClock).contains("<- before it was sent"));
    assert!(!event_log::render(&by_hlc, Order::Hlc).contains("<- before it was sent"));
}

#[test]
fn a_corrupt_log_line_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let logs = cluster::write_logs(dir.path()).unwrap();
    fs::OpenOptions::new()
        .append(true)
        .open(&logs[1])
        .unwrap()
        .write_all(b"{\"hlc\": \"00-not-a-stamp\"}\n")
        .unwrap();
    let result: Result<Vec<Entry>, _> = event_log::merge_logs(&logs, Order::Hlc).unwrap().collect();
    let err = result.unwrap_err().to_string();
    let bravo_lines = cluster::MESSAGES
        .iter()
        .filter(|(from, to)| *from == 1 || *to == 1)
        .count();
    assert!(
        err.contains(&format!("bravo.jsonl:{}: ", bravo_lines + 1)),
        "{err}"
    );
}
