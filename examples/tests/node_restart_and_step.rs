//! `hlc_node`'s chaos hooks, driven through the examples library on loopback: a node that
//! persists its upper bound comes back after a restart with its clock set back and stamps
//! above its last stamp, and `--chaos-admin`'s `POST /admin/step` steps its clock. Every
//! test is bounded in time, and no assertion depends on how fast the machine is.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hlc_core::{NodeId, NodeTimestamp};
use hlc_examples::node::{Node, NodeConfig, RunningNode, TimeAnswer};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Bounds a whole test: an NTP sync that never comes fails it instead of hanging CI.
const TEST_LIMIT: Duration = Duration::from_secs(90);

/// How long a node may take to synchronise on a loaded machine.
const SYNC_LIMIT: Duration = Duration::from_secs(30);

/// How far the restarted node's clock is set back, as the chaos harness does.
const SET_BACK_MS: i64 = -10_000;

async fn bounded<T>(test: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("test still running after {TEST_LIMIT:?}"))
}

fn config(clock_offset_ms: i64) -> NodeConfig {
    NodeConfig {
        clock_offset_ms,
        ..NodeConfig::new(NodeId::new(7))
    }
}

fn now_micros() -> u64 {
    let since = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
    u64::try_from(since.unwrap().as_micros()).unwrap()
}

#[tokio::test]
async fn a_node_restarted_with_its_clock_set_back_stamps_above_its_last_stamp() {
    bounded(async {
        let server = ntp_sync::Responder::bind("127.0.0.1:0").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let persisted = |clock_offset_ms| NodeConfig {
            ntp_servers: vec![server.local_addr().to_string()],
            upper_bound_file: Some(dir.path().join("hlc.bound")),
            ..config(clock_offset_ms)
        };
        let first = Node::start(persisted(0), SYNC_LIMIT).await.unwrap();
        let mut last = first.hlc().now();
        for _ in 0..1_000 {
            last = first.hlc().now();
        }
        // The process dies: nothing is written on the way out, the bound is already stored.
        drop(first);
        let restarted = Node::start(persisted(SET_BACK_MS), SYNC_LIMIT)
            .await
            .expect("the restarted node comes back though the bound leads its clock by 10 s");
        let next = restarted.hlc().now();
        assert!(
            next > last,
            "first stamp {next:?} after the restart, last before {last:?}"
        );
        // On the corrected clock, not 10 s behind: the stamp stays close to true time.
        let behind = i128::from(now_micros()) - i128::from(next.physical_micros());
        assert!(
            behind < 5_000_000,
            "the restarted node stamps {behind} us behind"
        );
    })
    .await;
}

#[tokio::test]
async fn without_ntp_a_bound_far_ahead_of_the_set_back_clock_fails_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let persisted = |clock_offset_ms| NodeConfig {
        upper_bound_file: Some(dir.path().join("hlc.bound")),
        ..config(clock_offset_ms)
    };
    let first = Node::new(persisted(0)).unwrap();
    let _ = first.hlc().now();
    drop(first);
    let error = Node::new(persisted(SET_BACK_MS)).unwrap_err();
    assert!(error.to_string().contains("ahead"), "{error}");
    // Built at once with NTP servers, the clock would be checked before any correction.
    let with_ntp = NodeConfig {
        ntp_servers: vec!["127.0.0.1:9".to_owned()],
        ..persisted(0)
    };
    let error = Node::new(with_ntp).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
}

async fn post(url: String) -> (StatusCode, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

async fn stamp(node: &RunningNode) -> NodeTimestamp {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = client
        .get(format!("{}/time", node.url()).parse().unwrap())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let answer: TimeAnswer = serde_json::from_slice(&body).unwrap();
    answer.timestamp.parse().unwrap()
}

#[tokio::test]
async fn the_admin_route_steps_the_clock_and_is_off_by_default() {
    bounded(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hooked = NodeConfig {
            chaos_admin: true,
            ..config(0)
        };
        let node = RunningNode::spawn(listener, hooked).unwrap();
        let (status, body) = post(format!("{}/admin/step?ms=2000", node.url())).await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(answer["total_step_ms"], 2000);
        let before = now_micros();
        let stepped = stamp(&node).await.timestamp.physical_micros();
        let after = now_micros();
        // Read between `before` and `after`, two seconds ahead (the HLC merged nothing).
        assert!((before + 2_000_000..=after + 2_000_000).contains(&stepped));
        let (status, _) = post(format!("{}/admin/step?ms=soon", node.url())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        node.stop().await.unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let plain = RunningNode::spawn(listener, config(0)).unwrap();
        let (status, _) = post(format!("{}/admin/step?ms=2000", plain.url())).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        plain.stop().await.unwrap();
    })
    .await;
}
