//! The client and `query` against the crate's own responder on loopback: sub-second offsets,
//! each fault kind, liars, silence and kisses. Real sockets, so real time; every wait is
//! bounded by a timeout of a few seconds and the poll intervals are milliseconds.

use std::sync::Arc;
use std::time::Duration;

use hlc_core::{ManualClock, PhysicalClock, SystemClock, Timestamp};
use ntp_sync::query::{query, query_with_clock, QueryOptions, QueryReport};
use ntp_sync::{
    Fault, Health, KissCode, LeapIndicator, NtpClient, Outcome, PollFailure, Responder,
    ResponseError, Snapshot, SourceState, Status, Unusable,
};

const MS: i64 = 1_000_000;
const LIMIT: Duration = Duration::from_secs(5);

async fn responder(faults: &[Fault]) -> Responder {
    let builder = faults.iter().fold(Responder::builder(), |b, f| b.fault(*f));
    builder.bind("127.0.0.1:0").await.unwrap()
}

fn fast_client(servers: &[&Responder]) -> NtpClient {
    NtpClient::builder()
        .servers(servers.iter().map(|r| r.local_addr().to_string()))
        .burst(3, Duration::from_millis(10))
        .poll_interval(Duration::from_millis(40), Duration::from_millis(400))
        .timeout(Duration::from_millis(100))
        .start()
        .unwrap()
}

/// Waits (bounded) for a snapshot that satisfies `done`.
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
        .expect("no such snapshot within 5 s")
}

fn one_sample() -> QueryOptions {
    QueryOptions {
        samples: 1,
        timeout: Duration::from_millis(150),
        ..QueryOptions::default()
    }
}

async fn query_one(responder: &Responder) -> QueryReport {
    query(&[responder.local_addr().to_string()], one_sample()).await
}

/// Asserts the interval contains system time + `offset_nanos` as it was while reading it.
fn assert_contains_truth(client: &NtpClient, offset_nanos: i64) {
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
async fn sub_second_offsets_are_measured_and_bounded() {
    for offset in [250 * MS, -400 * MS, 3 * MS] {
        let servers = [
            responder(&[Fault::Offset { nanos: offset }]).await,
            responder(&[Fault::Offset { nanos: offset }]).await,
            responder(&[Fault::Offset { nanos: offset }]).await,
        ];
        let client = fast_client(&servers.iter().collect::<Vec<_>>());
        tokio::time::timeout(LIMIT, client.wait_synced())
            .await
            .unwrap();
        let estimate = client.snapshot().estimate.unwrap();
        // On a loaded machine the delay, and with it the radius, can reach milliseconds.
        assert!(
            (estimate.offset_nanos - offset).abs() <= estimate.radius_nanos,
            "{estimate:?} vs {offset}"
        );
        assert!(estimate.radius_nanos < 20 * MS, "{estimate:?}");
        assert_contains_truth(&client, offset);
        assert!(client.health().is_healthy(), "{:?}", client.health());
    }
}

#[tokio::test]
async fn five_servers_two_liars_the_estimate_stays_with_the_honest_three() {
    let servers = [
        responder(&[]).await,
        responder(&[]).await,
        responder(&[]).await,
        responder(&[Fault::Offset { nanos: 700 * MS }]).await,
        responder(&[Fault::Offset { nanos: -700 * MS }]).await,
    ];
    let client = fast_client(&servers.iter().collect::<Vec<_>>());
    let snapshot = snapshot_where(&client, |s| {
        s.sources
            .iter()
            .filter(|source| source.state == SourceState::Falseticker)
            .count()
            == 2
    })
    .await;
    let states: Vec<_> = snapshot.sources.iter().map(|s| s.state.clone()).collect();
    assert_eq!(
        &states[..3],
        &[
            SourceState::Combined,
            SourceState::Combined,
            SourceState::Combined
        ]
    );
    let estimate = snapshot.estimate.unwrap();
    assert!(
        estimate.offset_nanos.abs() <= estimate.radius_nanos,
        "{estimate:?}"
    );
    assert_contains_truth(&client, 0);
}

#[tokio::test]
async fn all_silent_is_unsynchronised_not_a_guess() {
    let servers = [
        responder(&[Fault::Silence]).await,
        responder(&[Fault::Silence]).await,
        responder(&[Fault::Silence]).await,
    ];
    let client = fast_client(&servers.iter().collect::<Vec<_>>());
    let snapshot = snapshot_where(&client, |s| s.polls >= 12).await;
    assert_eq!(snapshot.estimate, None);
    assert_eq!(snapshot.outcome, Outcome::NoSources);
    assert_eq!(client.now_interval().status, Status::Unsynchronised);
    assert_eq!(client.health(), Health::Unsynchronised);
    let now = Timestamp::from_physical_micros(SystemClock.now_micros());
    assert!(client.commit_wait(now).await.is_err());
}

#[tokio::test]
async fn deny_drops_the_server() {
    let honest = [responder(&[]).await, responder(&[]).await];
    let denying = responder(&[Fault::KissOfDeath(KissCode::Deny)]).await;
    let client = fast_client(&[&honest[0], &honest[1], &denying]);
    let snapshot = snapshot_where(&client, |s| s.polls >= 12).await;
    let refused = &snapshot.sources[2];
    assert_eq!(
        refused.state,
        SourceState::Unusable(Unusable::Refused(KissCode::Deny))
    );
    assert_eq!(refused.next_poll, None);
    assert_eq!(denying.answered(), 1, "polled once, never again");
    assert!(
        snapshot.estimate.is_some(),
        "the two honest servers still agree"
    );
}

#[tokio::test]
async fn rate_makes_the_client_poll_that_server_less_often() {
    let honest = responder(&[]).await;
    let limiting = responder(&[Fault::KissOfDeath(KissCode::Rate)]).await;
    let client = fast_client(&[&honest, &limiting]);
    let snapshot = snapshot_where(&client, |s| {
        s.sources.len() == 2 && s.sources[1].reach == 0 && s.polls >= 4
    })
    .await;
    let kissed = snapshot.sources[1].next_poll.unwrap();
    let normal = snapshot.sources[0].next_poll.unwrap();
    assert!(
        kissed >= Duration::from_millis(80),
        "RATE doubles the 40 ms floor: {kissed:?}"
    );
    assert!(kissed > normal, "{kissed:?} vs {normal:?}");
}

#[tokio::test]
async fn each_packet_fault_is_reported_with_its_reason() {
    let cases = [
        (
            Fault::Stratum(16),
            PollFailure::Response(ResponseError::StratumTooHigh(16)),
        ),
        (
            Fault::Leap(LeapIndicator::Unsynchronised),
            PollFailure::Response(ResponseError::ServerUnsynchronised),
        ),
        (
            Fault::SpoofedOrigin,
            PollFailure::Response(ResponseError::BogusOrigin),
        ),
        (
            Fault::Silence,
            PollFailure::Timeout(Duration::from_millis(150)),
        ),
        (
            Fault::KissOfDeath(KissCode::Rate),
            PollFailure::Response(ResponseError::KissOfDeath(KissCode::Rate)),
        ),
    ];
    for (fault, failure) in cases {
        let server = responder(&[fault]).await;
        let report = query_one(&server).await;
        assert_eq!(
            report.sources[0].state,
            SourceState::Unusable(Unusable::Failing(failure)),
            "{fault:?}"
        );
        assert_eq!(report.evaluation.estimate(), None);
    }
    let denying = responder(&[Fault::KissOfDeath(KissCode::Restrict)]).await;
    let report = query_one(&denying).await;
    assert_eq!(
        report.sources[0].state,
        SourceState::Unusable(Unusable::Refused(KissCode::Restrict))
    );
}

#[tokio::test]
async fn the_offset_fault_and_an_honest_stratum_are_measured() {
    let server = responder(&[Fault::Offset { nanos: -150 * MS }, Fault::Stratum(5)]).await;
    let report = query_one(&server).await;
    let source = &report.sources[0];
    assert_eq!(
        (source.stratum, source.state.clone()),
        (Some(5), SourceState::Combined)
    );
    assert!((source.offset_nanos.unwrap() + 150 * MS).abs() <= source.radius_nanos.unwrap());
}

#[tokio::test]
async fn a_drifting_server_drifts_away() {
    // Both ends read one manual clock, so only the drift fault separates them.
    let clock = ManualClock::new(1_700_000_000_000_000);
    let server = Responder::builder()
        .clock(clock.clone())
        .fault(Fault::Drift { ppb: 100_000 })
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let servers = [server.local_addr().to_string()];
    let local: Arc<dyn PhysicalClock> = Arc::new(clock.clone());
    let before = query_with_clock(&servers, one_sample(), Arc::clone(&local)).await;
    clock.advance(Duration::from_secs(100));
    let after = query_with_clock(&servers, one_sample(), local).await;
    let error = |r: &QueryReport, truth: i64| {
        let source = &r.sources[0];
        (source.offset_nanos.unwrap() - truth).abs() <= source.radius_nanos.unwrap()
    };
    // 100 ppm over 100 s: 10 ms.
    assert!(error(&before, 0), "{before:?}");
    assert!(error(&after, 10 * MS), "{after:?}");
}

#[tokio::test]
async fn a_fault_can_be_switched_on_while_serving() {
    let server = responder(&[]).await;
    assert_eq!(
        query_one(&server).await.sources[0].state,
        SourceState::Combined
    );
    server.set_behaviour(server.behaviour().with(Fault::Silence));
    let report = query_one(&server).await;
    assert!(matches!(
        report.sources[0].state,
        SourceState::Unusable(Unusable::Failing(PollFailure::Timeout(_)))
    ));
    let answered = server.answered();
    server.shutdown().await;
    assert_eq!(answered, 1);
}

#[tokio::test]
async fn the_corrected_clock_follows_the_servers_and_never_goes_back() {
    let servers = [
        responder(&[Fault::Offset { nanos: 2_000 * MS }]).await,
        responder(&[Fault::Offset { nanos: 2_000 * MS }]).await,
    ];
    let client = fast_client(&servers.iter().collect::<Vec<_>>());
    tokio::time::timeout(LIMIT, client.wait_synced())
        .await
        .unwrap();
    let clock = client.corrected_clock();
    let corrected = clock.now_micros() as i64;
    let system = SystemClock.now_micros() as i64;
    // Stepped to the servers at the first sync (within the bound, which load may widen).
    assert!(
        (corrected - system - 2_000_000).abs() < 20_000,
        "{corrected} vs {system}"
    );
    let mut last = clock.now_micros();
    for _ in 0..1_000 {
        let now = clock.now_micros();
        assert!(now >= last);
        last = now;
    }
}

#[tokio::test]
async fn servers_given_by_name_are_resolved() {
    // Bind where the name points first, be that 127.0.0.1 or ::1.
    let local = tokio::net::lookup_host("localhost:0")
        .await
        .unwrap()
        .next()
        .unwrap();
    let server = Responder::bind(local).await.unwrap();
    let name = format!("localhost:{}", server.local_addr().port());
    let report = query(&[name], one_sample()).await;
    assert_eq!(report.sources[0].state, SourceState::Combined);
}

#[tokio::test]
async fn an_offset_beyond_the_panic_threshold_is_refused_and_reported() {
    let servers = [responder(&[Fault::Offset {
        nanos: 30 * 1_000 * MS,
    }])
    .await];
    let client = NtpClient::builder()
        .server(servers[0].local_addr().to_string())
        .burst(2, Duration::from_millis(10))
        .timeout(Duration::from_millis(100))
        .panic_threshold(Duration::from_secs(10))
        .start()
        .unwrap();
    tokio::time::timeout(LIMIT, client.wait_synced())
        .await
        .unwrap();
    let snapshot = snapshot_where(&client, |s| s.refused.is_some()).await;
    let refused = snapshot.refused.unwrap().to_string();
    assert!(
        refused.contains("exceeds the panic threshold 10s"),
        "{refused}"
    );
    assert!(
        matches!(client.health(), Health::CorrectionRefused { .. }),
        "{:?}",
        client.health()
    );
    // The bound itself still holds; the corrected clock stays on local time.
    assert_contains_truth(&client, 30 * 1_000 * MS);
    let corrected = client.corrected_clock().now_micros() as i64;
    assert!((corrected - SystemClock.now_micros() as i64).abs() < 1_000_000);
}
