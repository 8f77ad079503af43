//! The last-writer-wins store on a real SQLite file: written, closed, reopened and merged
//! with a replica; and a writer killed (SIGKILL) between the statements of a batch, after
//! which the reopened file holds every row of the batch as it was, or every row as written.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::{env, fs, thread};

use hlc_core::{NodeId, NodeTimestamp, Timestamp};
use hlc_examples::lww_store::{LwwStore, Row};

fn stamp(micros: u64, node: u64) -> NodeTimestamp {
    NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node))
}

fn row(value: Option<&[u8]>, stamp: NodeTimestamp) -> Row {
    Row {
        value: value.map(<[u8]>::to_vec),
        stamp,
    }
}

#[test]
fn a_store_file_is_written_closed_reopened_and_merged() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, b_path) = (dir.path().join("a.db"), dir.path().join("b.db"));
    {
        let a = LwwStore::open(&a_path).unwrap();
        a.put("colour", Some(b"red"), stamp(10, 1)).unwrap();
        a.put("size", Some(b"large"), stamp(12, 1)).unwrap();
        a.put("gone", Some(b"soon"), stamp(5, 1)).unwrap();
        a.put("gone", None, stamp(6, 1)).unwrap();
    }
    {
        let b = LwwStore::open(&b_path).unwrap();
        b.put("colour", Some(b"blue"), stamp(11, 2)).unwrap();
        b.put("size", Some(b"small"), stamp(9, 2)).unwrap();
        b.put("gone", Some(b"back"), stamp(5, 2)).unwrap();
    }

    let mut a = LwwStore::open(&a_path).unwrap();
    assert_eq!(
        a.rows().unwrap(),
        [
            ("colour".to_owned(), row(Some(b"red"), stamp(10, 1))),
            ("gone".to_owned(), row(None, stamp(6, 1))),
            ("size".to_owned(), row(Some(b"large"), stamp(12, 1))),
        ]
    );
    // After the reopen the stored stamps still decide: an older write loses.
    assert!(!a.put("colour", Some(b"stale"), stamp(9, 7)).unwrap());

    let mut b = LwwStore::open(&b_path).unwrap();
    assert_eq!(a.merge_from(&b).unwrap(), 1, "only b's colour is later");
    assert_eq!(
        b.merge_from(&a).unwrap(),
        2,
        "a's size and tombstone are later"
    );
    drop((a, b));

    let (a, b) = (
        LwwStore::open(&a_path).unwrap(),
        LwwStore::open(&b_path).unwrap(),
    );
    let expected = [
        ("colour".to_owned(), row(Some(b"blue"), stamp(11, 2))),
        ("gone".to_owned(), row(None, stamp(6, 1))),
        ("size".to_owned(), row(Some(b"large"), stamp(12, 1))),
    ];
    assert_eq!(a.rows().unwrap(), expected);
    assert_eq!(b.rows().unwrap(), expected);
}

// --- A writer killed between statements ---

/// Set in the re-invoked test binary: the database file the writer opens.
const WRITER_DB: &str = "HLC_EXAMPLES_LWW_WRITER_DB";
/// Set in the re-invoked test binary: after how many statements of the batch the writer
/// stops, or `commit` to stop after committing.
const WRITER_STOP: &str = "HLC_EXAMPLES_LWW_WRITER_STOP";
/// The line the writer prints once it has stopped at the chosen point.
const STOPPED: &str = "lww-writer-stopped";
/// Bound on waiting for the writer: generous, so that a loaded machine cannot fail the test.
const DEADLINE: Duration = Duration::from_secs(120);

/// Keys the batch rewrites.
const KEYS: [&str; 4] = ["k0", "k1", "k2", "k3"];
/// Large enough that the batch outgrows SQLite's page cache (2 MiB by default), which then
/// writes changed pages into the database file before the commit: the interrupted batch is
/// really in the file, and only the rollback journal takes it out again.
const VALUE_LEN: usize = 768 * 1024;

fn old_row(i: usize) -> Row {
    Row {
        value: Some(vec![b'o'; VALUE_LEN]),
        stamp: stamp(100, i as u64),
    }
}

fn new_row(i: usize) -> Row {
    // A value that differs from the old one in every byte, and from key to key.
    Row {
        value: Some(vec![b'a' + i as u8; VALUE_LEN]),
        stamp: stamp(200, i as u64),
    }
}

/// The writer (in the re-invoked test binary): writes the new rows in one batch, stops after
/// `stop` statements (or after the commit), says so, and waits to be killed.
fn writer(db: &str, stop: &str) -> ! {
    let statements = stop.parse().unwrap_or(KEYS.len());
    let mut store = LwwStore::open(db).unwrap();
    let batch = store.batch().unwrap();
    for (i, key) in KEYS.iter().enumerate().take(statements) {
        let row = new_row(i);
        assert!(batch.put(key, row.value.as_deref(), row.stamp).unwrap());
    }
    let _uncommitted = if stop == "commit" {
        batch.commit().unwrap();
        None
    } else {
        Some(batch)
    };
    let mut stdout = std::io::stdout();
    // On a line of its own: libtest has printed "test <name> ... " without a newline.
    writeln!(stdout, "\n{STOPPED}").unwrap();
    stdout.flush().unwrap();
    // Blocks until killed; returns only if the test process died and closed the pipe. `exit`
    // runs no destructor: nothing rolls the batch back on the way out.
    let _ = std::io::stdin().read(&mut [0]);
    std::process::exit(3)
}

/// Runs the writer in a child process until it reports it has stopped, then kills it with
/// SIGKILL.
fn kill_writer_at(db: &Path, stop: &str) {
    let mut child = Command::new(env::current_exe().unwrap())
        .args([
            "a_writer_killed_between_statements_leaves_nothing_half_applied",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_DB, db)
        .env(WRITER_STOP, stop)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, reported) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + DEADLINE;
    let outcome = loop {
        match reported.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Ok(line)) if line == STOPPED => break Ok(()),
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => break Err(format!("reading the writer: {e}")),
            Err(e) => break Err(format!("the writer did not stop at {stop}: {e}")),
        }
    };
    // `Child::kill` sends SIGKILL: no destructor, no rollback, no atexit handler runs.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    drop(child.stdin.take());
    reader.join().unwrap();
    outcome.unwrap();
    assert_eq!(
        status.signal(),
        Some(9), // SIGKILL
        "the writer ended otherwise: {status}"
    );
}

fn prepare(db: &Path) {
    let store = LwwStore::open(db).unwrap();
    for (i, key) in KEYS.iter().enumerate() {
        let row = old_row(i);
        assert!(store.put(key, row.value.as_deref(), row.stamp).unwrap());
    }
}

/// Every row of the batch as it was (`false`) or every row as written (`true`); panics on
/// anything else, a row whose value and stamp come from different writes included.
fn all_old_or_all_new(store: &LwwStore) -> bool {
    let rows = store.rows().unwrap();
    assert_eq!(rows.len(), KEYS.len());
    let new: Vec<bool> = rows
        .iter()
        .enumerate()
        .map(|(i, (key, row))| {
            assert_eq!(key, KEYS[i]);
            let (old, new) = (old_row(i), new_row(i));
            assert!(
                row == &old || row == &new,
                "{key} is half applied: {:?}",
                row.stamp
            );
            row == &new
        })
        .collect();
    assert!(
        new.iter().all(|&n| n == new[0]),
        "batch half applied: {new:?}"
    );
    new[0]
}

#[test]
fn a_writer_killed_between_statements_leaves_nothing_half_applied() {
    if let (Ok(db), Ok(stop)) = (env::var(WRITER_DB), env::var(WRITER_STOP)) {
        writer(&db, &stop);
    }
    let dir = tempfile::tempdir().unwrap();
    let stops = (0..=KEYS.len()).map(|n| n.to_string());
    for stop in stops.chain(["commit".to_owned()]) {
        let db = dir.path().join(format!("stop-{stop}.db"));
        prepare(&db);
        let before = fs::read(&db).unwrap();
        kill_writer_at(&db, &stop);
        // Read before the reopen below rolls the journal back and deletes it.
        let journal_left = dir.path().join(format!("stop-{stop}.db-journal")).exists();
        let file_changed = fs::read(&db).unwrap() != before;

        let store = LwwStore::open(&db).unwrap();
        let integrity: String = store
            .connection()
            .query_row("PRAGMA integrity_check", (), |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "after a kill at {stop}");
        assert_eq!(all_old_or_all_new(&store), stop == "commit", "at {stop}");

        // What the killed writer had left shows the reopen had something to undo: a journal
        // whenever a statement of the open batch had run (SQLite's default rollback journal),
        // and, once the whole batch had outgrown the page cache, new pages in the file itself.
        let in_flight = stop != "0" && stop != "commit";
        assert_eq!(journal_left, in_flight, "journal after a kill at {stop}");
        if stop == KEYS.len().to_string() {
            assert!(file_changed, "the uncommitted batch never reached the file");
        }
    }
}
