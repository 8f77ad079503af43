//! Last-writer-wins in a real PostgreSQL 15 (Debian package `postgresql`), in a throwaway
//! cluster that the tests share, each in a database of its own (see `pg_cluster`): writers
//! on separate connections at once, skewed clocks, tombstones, and the `lww_postgres`
//! example against the same server.

// The scenario test prints both lost-write counts.
#![allow(clippy::print_stdout)]

mod common;
mod pg_cluster;

use std::future::Future;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use hlc_core::{NodeId, NodeTimestamp, Timestamp};
use hlc_examples::lww_postgres::{scenario, Error, LwwTable};
use hlc_examples::lww_store::scenario::{self as plans, Stamping, THREE_WRITERS};
use hlc_examples::lww_store::Row;
use pg_cluster::Cluster;
use tokio::process::Command;

/// Bounds a test's work against the server, beyond starting it (which has its own bound).
const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Runs `test` with the connection string of a fresh database `name` in the shared cluster,
/// on a multi-threaded runtime (writers really run at once), within [`TEST_LIMIT`]. The
/// cluster stops after the last test, even on a panic.
fn with_database<F, Fut>(name: &str, test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let cluster = Cluster::shared();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(3)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let work = async { test(cluster.database(name).await).await };
        tokio::time::timeout(TEST_LIMIT, work)
            .await
            .unwrap_or_else(|_| panic!("test still running after {TEST_LIMIT:?}"));
    });
}

fn stamp(micros: u64, node: u64) -> NodeTimestamp {
    NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node))
}

#[test]
fn wall_clock_stamps_lose_causally_later_writes_and_hybrid_stamps_none() {
    with_database("scenario", |config| async move {
        let by_wall = scenario::run(&config, "wall/", THREE_WRITERS, Stamping::WallClock)
            .await
            .unwrap();
        let by_hlc = scenario::run(&config, "hlc/", THREE_WRITERS, Stamping::Hybrid)
            .await
            .unwrap();
        println!("{by_wall}\n\n{by_hlc}");
        println!(
            "PostgreSQL, {} writes: {} lost with wall-clock stamps, {} with HLC stamps",
            THREE_WRITERS.writes(),
            by_wall.lost(),
            by_hlc.lost()
        );
        assert!(by_wall.lost() > 0, "{by_wall}");
        assert!(!by_wall.stale_keys().is_empty(), "{by_wall}");
        assert_eq!(by_hlc.lost(), 0, "{by_hlc}");
        assert_eq!(by_hlc.stale_keys(), Vec::<&str>::new(), "{by_hlc}");
        for outcome in [&by_wall, &by_hlc] {
            assert_eq!(outcome.updates.len(), THREE_WRITERS.writes());
            // The server kept exactly the writes whose stamp beat every earlier one.
            assert_eq!(outcome.misjudged(), Vec::<&plans::Update>::new());
            // The same plan in SQLite, one write after another: the same stamps, decided alike.
            let sqlite = plans::run(&THREE_WRITERS, outcome.stamping).unwrap();
            assert_eq!(outcome, &sqlite);
        }
    });
}

#[test]
fn a_tombstone_wins_over_an_older_write_and_loses_to_a_newer_one() {
    with_database("tombstone", |config| async move {
        let table = LwwTable::connect(&config).await.unwrap();
        let row = |value: Option<&[u8]>, stamp| Row {
            value: value.map(<[u8]>::to_vec),
            stamp,
        };
        assert!(table.put("k", Some(b"one"), stamp(10, 2)).await.unwrap());
        assert!(table.put("k", None, stamp(20, 1)).await.unwrap());
        assert_eq!(table.get("k").await.unwrap(), Some(row(None, stamp(20, 1))));
        // Older, and equal in time but from a lower node: both lose to the tombstone.
        assert!(!table.put("k", Some(b"older"), stamp(15, 9)).await.unwrap());
        assert!(!table.put("k", Some(b"tie"), stamp(20, 0)).await.unwrap());
        assert_eq!(table.get("k").await.unwrap(), Some(row(None, stamp(20, 1))));
        // Newer: wins, in time or on the node id.
        assert!(table.put("k", Some(b"newer"), stamp(20, 3)).await.unwrap());
        assert!(!table.put("k", None, stamp(19, 7)).await.unwrap());
        let newer = row(Some(b"newer"), stamp(20, 3));
        assert_eq!(table.get("k").await.unwrap(), Some(newer.clone()));
        // Byte order is stamp order across a byte boundary too.
        assert!(table.put("j", None, stamp(0xff, 0xffff)).await.unwrap());
        assert!(table
            .put("j", Some(b"high"), stamp(0x100, 0))
            .await
            .unwrap());
        let rows = table.rows().await.unwrap();
        let keys: Vec<_> = rows.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["j", "k"]);
        assert_eq!(rows[1].1, newer);
        assert_eq!(table.get("absent").await.unwrap(), None);
    });
}

#[test]
fn concurrent_writes_to_one_key_leave_the_greatest_stamp() {
    const WRITERS: u64 = 3;
    const WRITES: u64 = 60;
    with_database("concurrent", |config| async move {
        let mut tasks = tokio::task::JoinSet::new();
        for node in 1..=WRITERS {
            let table = Arc::new(LwwTable::connect(&config).await.unwrap());
            tasks.spawn(async move {
                // Interleaved stamps, sent out of order: each writer's greatest comes first.
                for i in (0..WRITES).rev() {
                    let micros = 1_000 + i * WRITERS + node;
                    let value = format!("{micros} from {node}");
                    table
                        .put("hot", Some(value.as_bytes()), stamp(micros, node))
                        .await
                        .unwrap();
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        let greatest = 1_000 + (WRITES - 1) * WRITERS + WRITERS;
        let table = LwwTable::connect(&config).await.unwrap();
        let row = table.get("hot").await.unwrap().unwrap();
        assert_eq!(row.stamp, stamp(greatest, WRITERS));
        let value = format!("{greatest} from {WRITERS}");
        assert_eq!(row.value.as_deref(), Some(value.as_bytes()));
    });
}

#[test]
fn malformed_stamps_and_connection_strings_are_clear_errors() {
    with_database("malformed", |config| async move {
        let table = LwwTable::connect(&config).await.unwrap();
        table.put("k", Some(b"kept"), stamp(10, 1)).await.unwrap();
        let client = table.client();
        let short = "INSERT INTO lww VALUES ('k', NULL, '\\x0102') ON CONFLICT (key) \
                     DO UPDATE SET value = excluded.value, stamp = excluded.stamp";
        let refused = client.execute(short, &[]).await.unwrap_err();
        let detail = refused.as_db_error().map(|e| e.constraint());
        assert_eq!(detail, Some(Some("lww_stamp_check")), "{refused}");
        let kept = table.get("k").await.unwrap().unwrap();
        assert_eq!(kept.value.as_deref(), Some(&b"kept"[..]));

        // A table made without the check can hold one; reading it names the key.
        client
            .batch_execute(
                "ALTER TABLE lww DROP CONSTRAINT lww_stamp_check;
                 INSERT INTO lww VALUES ('bad', NULL, '\\x0102')",
            )
            .await
            .unwrap();
        let err = table.get("bad").await.unwrap_err();
        assert!(matches!(err, Error::Stamp { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("\"bad\""), "{message}");
        assert!(message.contains("expected 16 bytes, got 2"), "{message}");
        assert!(table.rows().await.is_err());

        let err = LwwTable::connect("port=not-a-port").await.unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("invalid value for option `port`"),
            "{message}"
        );
        // The server's own words reach the message too.
        let err = LwwTable::connect(&config.replace("dbname=malformed", "dbname=absent"))
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("database \"absent\" does not exist"),
            "{message}"
        );
    });
}

/// The counts in the example's "N of M causally later updates silently lost" lines.
fn lost_counts(output: &str) -> Vec<(usize, usize)> {
    output
        .lines()
        .filter(|line| line.ends_with("causally later updates silently lost"))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            (words[0].parse().unwrap(), words[2].parse().unwrap())
        })
        .collect()
}

#[test]
fn the_example_runs_against_a_database_given_by_flag() {
    with_database("example", |config| async move {
        let run = Command::new(common::example_binary("lww_postgres"))
            .args(["--database-url", &config])
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .output();
        let run = run.await.unwrap();
        let output = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "{}\n{output}", run.status);
        let writes = THREE_WRITERS.writes();
        let counts = lost_counts(&output);
        assert_eq!(counts.len(), 2, "{output}");
        let (wall, hlc) = (counts[0], counts[1]);
        assert!(wall.0 > 0 && wall.1 == writes, "{output}");
        assert_eq!(hlc, (0, writes), "{output}");
        assert!(
            output.contains("stamped before the delete   lost"),
            "{output}"
        );
        assert!(
            output.contains("stamped after the delete    won"),
            "{output}"
        );
    });
}
