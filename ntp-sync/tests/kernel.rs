//! The client with the host kernel as a source, alone and beside the network. The kernel is
//! this machine's, whatever state it is in (only read, never set): every assertion follows
//! from what the kernel said in the same snapshot, so the tests hold on a host a daemon
//! disciplines as on one none does. Real sockets and real time: every wait is bounded.

use std::time::Duration;

use hlc_core::{PhysicalClock, SystemClock, Timestamp};
use ntp_sync::kernel::KernelBound;
use ntp_sync::proto::engine::SourceState;
use ntp_sync::{Fault, Health, NtpClient, Responder, Snapshot, Status, TimeSources};

const SECOND: i64 = 1_000_000_000;
/// Bounds each wait for a client to reach a state.
const LIMIT: Duration = Duration::from_secs(30);

async fn snapshot_where(client: &NtpClient, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let mut snapshots = client.subscribe();
    let wait = async {
        loop {
            let snapshot = snapshots.borrow_and_update().clone();
            if done(&snapshot) {
                return snapshot;
            }
            snapshots.changed().await.unwrap();
        }
    };
    tokio::time::timeout(LIMIT, wait)
        .await
        .unwrap_or_else(|_| panic!("no such snapshot within {LIMIT:?}: {:?}", client.snapshot()))
}

async fn responder(offset_nanos: i64) -> Responder {
    Responder::builder()
        .fault(Fault::Offset {
            nanos: offset_nanos,
        })
        .bind("127.0.0.1:0")
        .await
        .unwrap()
}

fn client(sources: TimeSources, servers: &[&Responder]) -> NtpClient {
    NtpClient::builder()
        .time_sources(sources)
        .servers(servers.iter().map(|r| r.local_addr().to_string()))
        .burst(3, Duration::from_millis(10))
        .poll_interval(Duration::from_millis(40), Duration::from_millis(400))
        .timeout(Duration::from_millis(200))
        .kernel_interval(Duration::from_millis(50))
        .start()
        .unwrap()
}

fn kernel_bounded(snapshot: &Snapshot) -> bool {
    let view = snapshot.kernel.expect("a kernel view");
    matches!(view.bound, KernelBound::Bounded { .. })
}

#[tokio::test]
async fn the_kernel_alone_publishes_its_bound_or_says_it_has_none() {
    let client = client(TimeSources::Kernel, &[]);
    let snapshot = snapshot_where(&client, |s| s.kernel.is_some()).await;
    assert!(snapshot.sources.is_empty());
    assert_eq!(snapshot.conflict, None);
    if kernel_bounded(&snapshot) {
        assert!(snapshot.estimate.is_some());
        assert_ne!(client.now_interval().status, Status::Unsynchronised);
    } else {
        // This machine's case: no daemon disciplines the kernel. No bound is invented.
        assert_eq!(snapshot.estimate, None);
        assert_eq!(snapshot.status, Status::Unsynchronised);
        assert_eq!(client.now_interval(), ntp_sync::TimeInterval::unbounded());
        assert_eq!(client.health(), Health::Unsynchronised);
    }
}

/// Asserts the interval contains system time + `offset_nanos` as it was while reading it.
fn assert_contains(client: &NtpClient, offset_nanos: i64) {
    let before = SystemClock.now_micros() as i64;
    let interval = client.now_interval();
    let after = SystemClock.now_micros() as i64;
    let at = |micros: i64| Timestamp::from_physical_micros((micros + offset_nanos / 1_000) as u64);
    assert!(
        interval.earliest <= at(after) && at(before) <= interval.latest,
        "{interval:?}"
    );
}

#[tokio::test]
async fn both_sources_agreeing_publish_a_bound_that_holds() {
    // The responder serves the system clock, which an honest kernel bounds too.
    let servers = [responder(0).await];
    let client = client(TimeSources::Both, &[&servers[0]]);
    let snapshot = snapshot_where(&client, |s| {
        s.kernel.is_some() && s.status == Status::Synchronised
    })
    .await;
    assert_eq!(snapshot.conflict, None);
    assert_contains(&client, 0);
}

#[tokio::test]
async fn a_network_far_from_a_synchronised_kernel_is_a_conflict_not_a_guess() {
    // Every server lies by 100 s: far beyond any bound a kernel may claim (16 s at most).
    let offset = 100 * SECOND;
    let servers = [responder(offset).await];
    let client = client(TimeSources::Both, &[&servers[0]]);
    let snapshot = snapshot_where(&client, |s| {
        s.kernel.is_some() && s.sources.iter().all(|s| s.state == SourceState::Combined)
    })
    .await;
    if kernel_bounded(&snapshot) {
        let conflict = snapshot.conflict.expect("a conflict");
        assert!(conflict.network.0 > conflict.kernel.1, "{conflict:?}");
        assert_eq!(snapshot.estimate, None);
        assert_eq!(client.now_interval(), ntp_sync::TimeInterval::unbounded());
        assert_eq!(client.health(), Health::Unsynchronised);
    } else {
        // An unsynchronised kernel has no bound to contradict: the network stands alone, as
        // it would without the kernel.
        assert_eq!(snapshot.conflict, None);
        let estimate = snapshot.estimate.expect("the network's estimate");
        assert!((estimate.offset_nanos - offset).abs() <= estimate.radius_nanos);
        assert_contains(&client, offset);
    }
}
