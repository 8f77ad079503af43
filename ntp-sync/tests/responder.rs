//! The client and `query` against the crate's own responder on loopback: sub-second offsets,
//! each fault kind, liars, silence and kisses. Real sockets, so real time: every wait is
//! bounded, every test as a whole too, and no assertion depends on how fast the machine is
//! (a loaded machine only makes the bounded waits longer).

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hlc_core::{ManualClock, PhysicalClock, SystemClock, Timestamp};
use ntp_sync::proto::engine::{Outcome, SourceState, Unusable};
use ntp_sync::proto::packet::LeapIndicator;
use ntp_sync::proto::source::PollFailure;
use ntp_sync::proto::validate::{KissCode, ResponseError};
use ntp_sync::query::{query, query_with_clock, QueryOptions, QueryReport};
use ntp_sync::{Fault, Health, NtpClient, NtpClientBuilder, Responder, Snapshot, Status};

const MS: i64 = 1_000_000;
/// Bounds each wait for a client to reach a state.
const LIMIT: Duration = Duration::from_secs(30);
/// Bounds a whole test: a socket that never answers fails it instead of hanging CI.
const TEST_LIMIT: Duration = Duration::from_secs(90);
/// A one-sample query's wait for its answer: loopback answers in microseconds, but a loaded
/// machine may not run the responder for a while.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

async fn bounded<T>(test: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("test still running after {TEST_LIMIT:?}"))
}

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
        .unwrap_or_else(|_| panic!("no such snapshot within {LIMIT:?}: {:?}", client.snapshot()))
}

fn one_sample() -> QueryOptions {
    QueryOptions {
        samples: 1,
        timeout: ANSWER_TIMEOUT,
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
    bounded(async {
        for offset in [250 * MS, -400 * MS, 3 * MS] {
            let servers = [
                responder(&[Fault::Offset { nanos: offset }]).await,
                responder(&[Fault::Offset { nanos: offset }]).await,
                responder(&[Fault::Offset { nanos: offset }]).await,
            ];
            let client = fast_client(&servers.iter().collect::<Vec<_>>());
            // Load stretches round trips and with them the radius; the filter keeps the
            // quickest exchange, so waiting (bounded) for a tight bound cannot race.
            let snapshot = snapshot_where(&client, |s| {
                s.estimate.is_some_and(|e| e.radius_nanos < 20 * MS)
            })
            .await;
            let estimate = snapshot.estimate.unwrap();
            assert!(
                (estimate.offset_nanos - offset).abs() <= estimate.radius_nanos,
                "{estimate:?} vs {offset}"
            );
            assert_contains_truth(&client, offset);
            assert!(client.health().is_healthy(), "{:?}", client.health());
        }
    })
    .await;
}

#[tokio::test]
async fn five_servers_two_liars_the_estimate_stays_with_the_honest_three() {
    bounded(async {
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
    })
    .await;
}

#[tokio::test]
async fn all_silent_is_unsynchronised_not_a_guess() {
    bounded(async {
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
    })
    .await;
}

#[tokio::test]
async fn deny_drops_the_server() {
    bounded(async {
        let honest = [responder(&[]).await, responder(&[]).await];
        let denying = responder(&[Fault::KissOfDeath(KissCode::Deny)]).await;
        let client = fast_client(&[&honest[0], &honest[1], &denying]);
        let refused_state = SourceState::Unusable(Unusable::Refused(KissCode::Deny));
        let at_refusal = snapshot_where(&client, |s| {
            s.sources.len() == 3 && s.sources[2].state == refused_state
        })
        .await;
        assert_eq!(at_refusal.sources[2].next_poll, None);
        // Every request sent before the refusal was answered by then (one poll in flight at
        // a time); on a loaded machine a late kiss can make that more than one.
        let answered = denying.answered();
        let snapshot = snapshot_where(&client, |s| s.polls >= at_refusal.polls + 12).await;
        assert_eq!(snapshot.sources[2].state, refused_state);
        assert_eq!(
            denying.answered(),
            answered,
            "polled again after the refusal"
        );
        assert!(
            snapshot.estimate.is_some(),
            "the two honest servers still agree"
        );
    })
    .await;
}

#[tokio::test]
async fn rate_makes_the_client_poll_that_server_less_often() {
    bounded(async {
        let honest = responder(&[]).await;
        let limiting = responder(&[Fault::KissOfDeath(KissCode::Rate)]).await;
        let client = fast_client(&[&honest, &limiting]);
        let kissed_state = SourceState::Unusable(Unusable::Failing(PollFailure::Response(
            ResponseError::KissOfDeath(KissCode::Rate),
        )));
        // The honest server answered its last three polls: its burst is over and it has no
        // failure to back off from, so it is polled at the 40 ms floor whatever the load.
        let snapshot = snapshot_where(&client, |s| {
            s.sources.len() == 2
                && s.sources[0].reach & 0b111 == 0b111
                && s.sources[1].state == kissed_state
        })
        .await;
        let kissed = snapshot.sources[1].next_poll.unwrap();
        let normal = snapshot.sources[0].next_poll.unwrap();
        assert_eq!(normal, Duration::from_millis(40), "{snapshot:?}");
        assert!(
            kissed >= Duration::from_millis(80),
            "RATE doubles the 40 ms floor: {kissed:?}"
        );
        assert!(kissed > normal, "{kissed:?} vs {normal:?}");
    })
    .await;
}

#[tokio::test]
async fn each_packet_fault_is_reported_with_its_reason() {
    bounded(async {
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
            (Fault::Silence, PollFailure::Timeout(ANSWER_TIMEOUT)),
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
    })
    .await;
}

#[tokio::test]
async fn the_offset_fault_and_an_honest_stratum_are_measured() {
    bounded(async {
        let server = responder(&[Fault::Offset { nanos: -150 * MS }, Fault::Stratum(5)]).await;
        let report = query_one(&server).await;
        let source = &report.sources[0];
        assert_eq!(
            (source.stratum, source.state.clone()),
            (Some(5), SourceState::Combined)
        );
        assert!((source.offset_nanos.unwrap() + 150 * MS).abs() <= source.radius_nanos.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_drifting_server_drifts_away() {
    bounded(async {
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
    })
    .await;
}

#[tokio::test]
async fn a_fault_can_be_switched_on_while_serving() {
    bounded(async {
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
    })
    .await;
}

/// A client of `server` that polls it once and then not for a minute.
fn one_poll_client(server: &Responder) -> NtpClientBuilder {
    NtpClient::builder()
        .server(server.local_addr().to_string())
        .burst(1, Duration::from_millis(10))
        .poll_interval(Duration::from_secs(60), Duration::from_secs(120))
        .timeout(ANSWER_TIMEOUT)
}

/// Starts the client and waits (bounded) for its first estimate.
async fn synced_once(builder: NtpClientBuilder) -> NtpClient {
    let client = builder.start().unwrap();
    tokio::time::timeout(LIMIT, client.wait_synced())
        .await
        .unwrap();
    client
}

#[tokio::test]
async fn the_corrected_clock_follows_the_servers_and_never_goes_back() {
    bounded(async {
        let server = responder(&[Fault::Offset { nanos: 2_000 * MS }]).await;
        // One poll and no other for a minute: one estimate, which the clock steps to.
        let client = synced_once(one_poll_client(&server)).await;
        let clock = client.corrected_clock();
        let before = SystemClock.now_micros() as i64;
        let corrected = clock.now_micros() as i64;
        let after = SystemClock.now_micros() as i64;
        let radius = client.now_interval().radius().as_micros() as i64 + 1;
        // True time (system + 2 s) was in [before, after] + 2 s when the corrected clock was
        // read; the estimate it follows holds the truth within its radius.
        assert!(
            before + 2_000_000 - radius <= corrected && corrected <= after + 2_000_000 + radius,
            "corrected {corrected}, system {before}..{after}, radius {radius} us"
        );
        let mut last = clock.now_micros();
        for _ in 0..1_000 {
            let now = clock.now_micros();
            assert!(now >= last);
            last = now;
        }
    })
    .await;
}

/// The system clock plus an offset that a test can step while the client runs: a supplied
/// local clock that someone steps between two polls.
#[derive(Clone, Default)]
struct SteppableClock(Arc<std::sync::atomic::AtomicI64>);

impl SteppableClock {
    fn step(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap();
        self.0
            .fetch_add(micros, std::sync::atomic::Ordering::Relaxed);
    }
}

impl PhysicalClock for SteppableClock {
    fn now_micros(&self) -> u64 {
        let offset = self.0.load(std::sync::atomic::Ordering::Relaxed);
        SystemClock.now_micros().saturating_add_signed(offset)
    }
}

#[tokio::test]
async fn the_corrected_clock_keeps_to_true_time_when_its_local_clock_is_stepped_between_polls() {
    bounded(async {
        let server = responder(&[]).await;
        let local = SteppableClock::default();
        // One poll and no other for a minute: the step comes between two polls.
        let client = synced_once(one_poll_client(&server).clock(local.clone())).await;
        let clock = client.corrected_clock();
        let radius = client.now_interval().radius().as_micros() as i64 + 1;
        local.step(Duration::from_secs(2));
        // The responder serves the system clock: true time here.
        let before = SystemClock.now_micros() as i64;
        let corrected = clock.now_micros() as i64;
        let after = SystemClock.now_micros() as i64;
        assert!(
            before - radius <= corrected && corrected <= after + radius,
            "corrected {corrected}, true {before}..{after}, radius {radius} us: the local \
             clock's step came through"
        );
        // The published interval reads through the step too.
        let interval = client.now_interval();
        let now = SystemClock.now_micros();
        let (earliest, latest) = (
            interval.earliest.physical_micros(),
            interval.latest.physical_micros(),
        );
        assert!(
            earliest <= now + 1 && before as u64 <= latest,
            "interval {earliest}..{latest} misses true time {before}..{now}"
        );
    })
    .await;
}

/// A responder on every address `name` resolves to, all on one port, so the client finds one
/// whichever address it tries first. A port taken on one of the addresses means another try.
async fn responders_on_every_address_of(name: &str) -> Vec<Responder> {
    let mut ips: Vec<IpAddr> = tokio::net::lookup_host((name, 0))
        .await
        .unwrap()
        .map(|address| address.ip())
        .collect();
    ips.sort_unstable();
    ips.dedup();
    assert!(ips.iter().all(IpAddr::is_loopback), "{name}: {ips:?}");
    'attempt: for _ in 0..20 {
        let first = Responder::bind((ips[0], 0)).await.unwrap();
        let port = first.local_addr().port();
        let mut all = vec![first];
        for ip in &ips[1..] {
            match Responder::bind((*ip, port)).await {
                Ok(responder) => all.push(responder),
                // The address is not configured here (IPv6 off): no one can reach it.
                Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => {}
                Err(_) => continue 'attempt,
            }
        }
        return all;
    }
    panic!("no port free on every address of {name}: {ips:?}");
}

#[tokio::test]
async fn servers_given_by_name_are_resolved() {
    bounded(async {
        // `localhost` comes from the hosts file, not from DNS.
        let responders = responders_on_every_address_of("localhost").await;
        let name = format!("localhost:{}", responders[0].local_addr().port());
        let report = query(&[name], one_sample()).await;
        assert_eq!(report.sources[0].state, SourceState::Combined);
        let address = report.sources[0].address.unwrap();
        let answered: Vec<u64> = responders.iter().map(Responder::answered).collect();
        let asked = responders
            .iter()
            .position(|r| r.local_addr() == address)
            .unwrap_or_else(|| panic!("{address} is none of ours"));
        assert_eq!(answered[asked], 1, "{answered:?}");
    })
    .await;
}

#[tokio::test]
async fn an_offset_beyond_the_panic_threshold_is_refused_and_reported() {
    bounded(async {
        let servers = [responder(&[Fault::Offset {
            nanos: 30 * 1_000 * MS,
        }])
        .await];
        let client = NtpClient::builder()
            .server(servers[0].local_addr().to_string())
            .burst(2, Duration::from_millis(10))
            .timeout(ANSWER_TIMEOUT)
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
    })
    .await;
}

/// The responder's receive and transmit times, minus its offset, against the system clock
/// read before the request was sent and after the response came: the kernel's receive stamp
/// cannot be before the send, the transmit time (read last) not after the response arrived,
/// and receive comes before transmit.
#[tokio::test]
async fn the_responder_stamps_within_the_exchange_in_order() {
    use ntp_sync::proto::packet::Packet;
    use ntp_sync::proto::timestamp::NtpTimestamp;

    bounded(async {
        let offset = 250 * MS;
        let responder = responder(&[Fault::Offset { nanos: offset }]).await;
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for origin in 1..=20u64 {
            let request = Packet::client_request(NtpTimestamp::from_bits(origin)).encode();
            let before = NtpTimestamp::from_unix_nanos(system_nanos() + offset);
            socket
                .send_to(&request, responder.local_addr())
                .await
                .unwrap();
            let mut buffer = [0u8; 128];
            let received = tokio::time::timeout(ANSWER_TIMEOUT, socket.recv(&mut buffer));
            let len = received.await.unwrap().unwrap();
            let after = NtpTimestamp::from_unix_nanos(system_nanos() + offset);
            let response = Packet::decode(&buffer[..len]).unwrap();
            assert_eq!(response.origin.to_bits(), origin);
            // NTP's 32-bit fraction truncates by up to a quarter of a nanosecond.
            assert!(response.receive.nanos_since(before) >= -1, "{response:?}");
            assert!(response.transmit.nanos_since(response.receive) >= 0);
            assert!(after.nanos_since(response.transmit) >= -1, "{response:?}");
        }
    })
    .await;
}

fn system_nanos() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_nanos()).unwrap()
}

#[tokio::test]
async fn a_reporting_client_is_unhealthy_on_the_board_until_it_has_a_bound() {
    use hlc_core::health::{HealthBoard, UnhealthyReason};
    bounded(async {
        let silent = responder(&[Fault::Silence]).await;
        let board = HealthBoard::new();
        let mut client = fast_client(&[&silent]);
        client.report_health(board.reporter("ntp"));
        // At once, before any task ran: a client without a bound never looks healthy.
        assert_eq!(board.health(), UnhealthyReason::Unsynchronised.into());

        let server = responder(&[]).await;
        let board = HealthBoard::new();
        let mut client = fast_client(&[&server]);
        client.report_health(board.reporter("ntp"));
        // Load stretches round trips and with them the radius; wait (bounded) for the
        // board to follow the client, whatever the first polls measured.
        tokio::time::timeout(LIMIT, async {
            while !board.is_healthy() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("board {:?}, client {:?}", board.health(), client.health()));
        assert!(client.health().is_healthy(), "{:?}", client.health());
    })
    .await;
}
