//! Peer pings over real hyper on loopback: ping services on manual clocks that differ by
//! known amounts, a prober measuring them through hyper-util's client, and the monitor's
//! verdict. The clocks stand still, so each round trip reads 0 µs on the local clock and the
//! offsets come out exact (uncertainty 0), however slow the machine.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{bounded, serve, START};
use hlc_core::health::{HealthBoard, UnhealthyReason};
use hlc_core::peers::{MonitorConfig, PeerMonitor, PeerVerdict, RoundVerdict};
use hlc_core::{ManualClock, NodeId};
use hlc_middleware::ping::{PingError, PingService, Prober};
use hlc_middleware::HlcServerLayer;
use http::{Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tower::{service_fn, ServiceBuilder};

type PlainClient = Client<HttpConnector, String>;

/// A ping service for `node` whose clock stands `offset_us` from [`START`].
async fn peer(node: u64, offset_us: i64) -> SocketAddr {
    let clock = ManualClock::new(START.saturating_add_signed(offset_us));
    serve(PingService::new(clock, NodeId::new(node))).await
}

fn prober(
    local: &ManualClock,
    peers: &[SocketAddr],
    board: &HealthBoard,
) -> Prober<PlainClient, ManualClock> {
    let monitor = PeerMonitor::new(MonitorConfig::new()).with_reporter(board.reporter("peers"));
    let client = Client::builder(TokioExecutor::new()).build_http();
    peers.iter().fold(
        Prober::new(client, local.clone(), Arc::new(Mutex::new(monitor))),
        |prober, address| {
            let url = format!("http://{address}");
            let ping = format!("{url}/ping").parse().unwrap();
            prober.target(url, ping)
        },
    )
}

#[tokio::test]
async fn the_prober_measures_each_peers_offset_and_names_the_far_one() {
    bounded(async {
        let offsets = [(2, 300), (3, -2_000), (4, 2_000_000)];
        let mut peers = Vec::new();
        for (node, offset) in offsets {
            peers.push(peer(node, offset).await);
        }
        let local = ManualClock::new(START);
        let board = HealthBoard::new();
        let prober = prober(&local, &peers, &board);
        let probed = prober.round(tokio::time::sleep).await;
        for ((label, outcome), (address, (node, offset))) in
            probed.pings.iter().zip(peers.iter().zip(offsets))
        {
            assert_eq!(label, &format!("http://{address}"));
            let (peer, measured) = outcome.as_ref().unwrap();
            assert_eq!(*peer, NodeId::new(node));
            assert!(measured.offset_us.abs_diff(offset) <= measured.uncertainty_us);
        }
        assert_eq!(probed.round.verdict, RoundVerdict::Agrees);
        assert_eq!(probed.round.far, [NodeId::new(4)]);
        assert!(board.is_healthy());
        let report = prober
            .monitor()
            .lock()
            .unwrap()
            .report(std::time::Instant::now());
        let verdicts: Vec<_> = report.peers.iter().map(|p| p.verdict).collect();
        assert_eq!(
            verdicts,
            [PeerVerdict::Ok, PeerVerdict::Ok, PeerVerdict::Far]
        );
    })
    .await;
}

#[tokio::test]
async fn a_node_most_peers_find_far_fences_itself() {
    bounded(async {
        // This node runs 2 s behind the two peers that agree with each other.
        let peers = [peer(2, 2_000_000).await, peer(3, 2_001_000).await];
        let local = ManualClock::new(START);
        let board = HealthBoard::new();
        let probed = prober(&local, &peers, &board)
            .round(tokio::time::sleep)
            .await;
        assert_eq!(probed.round.verdict, RoundVerdict::Disagrees);
        assert!(probed.round.fenced);
        assert!(matches!(
            board.health().reason(),
            Some(UnhealthyReason::Fenced {
                far: 2,
                fresh: 2,
                ..
            })
        ));
    })
    .await;
}

#[tokio::test]
async fn bad_answers_and_silence_measure_nothing() {
    bounded(async {
        let not_found = serve(service_fn(|_: Request<_>| async {
            let mut response = Response::new(String::new());
            *response.status_mut() = StatusCode::NOT_FOUND;
            Ok::<_, Infallible>(response)
        }))
        .await;
        let garbage = serve(service_fn(|_: Request<_>| async {
            Ok::<_, Infallible>(Response::new("{\"node_id\": 5}".to_owned()))
        }))
        .await;
        // Accepts connections and never answers: the ping must time out, not hang the round.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_address = silent.local_addr().unwrap();
        let local = ManualClock::new(START);
        let board = HealthBoard::new();
        let prober = prober(&local, &[not_found, garbage, silent_address], &board)
            .timeout(Duration::from_millis(300));
        let probed = prober.round(tokio::time::sleep).await;
        let errors: Vec<_> = probed
            .pings
            .iter()
            .map(|(_, outcome)| outcome.clone().unwrap_err())
            .collect();
        assert_eq!(errors[0], PingError::Status(StatusCode::NOT_FOUND));
        assert!(matches!(errors[1], PingError::Answer(_)), "{:?}", errors[1]);
        assert_eq!(errors[2], PingError::TimedOut(Duration::from_millis(300)));
        assert_eq!(probed.round.verdict, RoundVerdict::NoVerdict);
        assert!(prober
            .monitor()
            .lock()
            .unwrap()
            .report(std::time::Instant::now())
            .peers
            .is_empty());
        drop(silent);
    })
    .await;
}

#[tokio::test]
async fn a_fenced_node_keeps_answering_pings_and_recovers_once_its_clock_agrees() {
    bounded(async {
        // This node's clock starts 2 s behind its three peers.
        let local = ManualClock::new(START);
        let board = HealthBoard::new();
        let peers = [
            peer(2, 2_000_000).await,
            peer(3, 2_000_000).await,
            peer(4, 2_000_000).await,
        ];
        let prober = prober(&local, &peers, &board);
        assert!(prober.round(tokio::time::sleep).await.round.fenced);

        // Its own ping route, behind the server layer reading the same board and skipping
        // the route, still answers; any other route gets 503.
        let hlc = common::node(1, &local);
        let layer = HlcServerLayer::new(hlc)
            .health(board.clone())
            .skip_path("/ping");
        let own = serve(
            ServiceBuilder::new()
                .layer(layer)
                .service(PingService::new(local.clone(), NodeId::new(1))),
        )
        .await;
        let client: PlainClient = Client::builder(TokioExecutor::new()).build_http();
        for (path, status) in [
            ("/ping", StatusCode::OK),
            ("/other", StatusCode::SERVICE_UNAVAILABLE),
        ] {
            let request = Request::get(format!("http://{own}{path}"))
                .body(String::new())
                .unwrap();
            assert_eq!(
                client.request(request).await.unwrap().status(),
                status,
                "{path}"
            );
        }

        // Its clock is put right: it recovers after the configured run of agreeing rounds,
        // not before.
        local.set(START + 2_000_000);
        let needed = MonitorConfig::DEFAULT_RECOVERY_ROUNDS;
        for round in 1..needed {
            assert!(
                prober.round(tokio::time::sleep).await.round.fenced,
                "round {round}"
            );
            assert!(!board.is_healthy());
        }
        let last = prober.round(tokio::time::sleep).await.round;
        assert!(!last.fenced);
        assert!(board.is_healthy());
    })
    .await;
}
