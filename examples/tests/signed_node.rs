//! `hlc_node` with a key file (`--hmac-key-file`), in process on loopback: a caller without
//! the key sends a stamp 400 ms ahead (within the max offset, so only the signature stands
//! in its way); with `--unsigned ignore` the node serves it but does not move its clock,
//! with `--unsigned refuse` it answers 401, and a validly signed stamp is merged.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use hlc_core::{NodeId, NodeTimestamp, PhysicalClock, SystemClock, Timestamp};
use hlc_examples::node::{NodeConfig, RunningNode, TimeAnswer};
use hlc_middleware::header::{self, HLC};
use hlc_middleware::signature::HLC_SIGNATURE;
use hlc_middleware::{SigningKeys, UnsignedPolicy};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const TEST_LIMIT: Duration = Duration::from_secs(60);
/// How far ahead the caller's stamp is: inside the default max offset (500 ms).
const AHEAD: Duration = Duration::from_millis(400);

fn key_file() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "k1 {}", "5e".repeat(32)).unwrap();
    file
}

async fn start(keys: &tempfile::NamedTempFile, unsigned: UnsignedPolicy) -> RunningNode {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = NodeConfig {
        hmac_key_file: Some(keys.path().to_path_buf()),
        unsigned,
        ..NodeConfig::new(NodeId::new(1))
    };
    RunningNode::spawn(listener, config).unwrap()
}

/// A stamp [`AHEAD`] of the system clock, from node 9.
fn ahead() -> NodeTimestamp {
    let micros = SystemClock.now_micros() + u64::try_from(AHEAD.as_micros()).unwrap();
    NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(9))
}

/// `GET /time` carrying `stamp`, signed with `keys` when given.
async fn time(
    node: &RunningNode,
    stamp: NodeTimestamp,
    keys: Option<&SigningKeys>,
) -> Response<Bytes> {
    let value = header::encode(stamp);
    let mut request = Request::get(format!("{}/time", node.url())).header(HLC, value.clone());
    if let Some(keys) = keys {
        request = request.header(HLC_SIGNATURE, keys.sign(value.as_bytes()));
    }
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = tokio::time::timeout(
        TEST_LIMIT,
        client.request(request.body(Empty::<Bytes>::new()).unwrap()),
    )
    .await
    .unwrap()
    .unwrap();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn only_signed_stamps_move_the_clock() {
    tokio::time::timeout(TEST_LIMIT, async {
        let file = key_file();
        let keys = SigningKeys::load(file.path()).unwrap();

        let ignoring = start(&file, UnsignedPolicy::Ignore).await;
        let unsigned = ahead();
        let response = time(&ignoring, unsigned, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let answer: TimeAnswer = serde_json::from_slice(response.body()).unwrap();
        let stamp: NodeTimestamp = answer.timestamp.parse().unwrap();
        assert!(
            stamp.timestamp < unsigned.timestamp,
            "the unsigned stamp was merged"
        );
        assert!(ignoring.node().hlc().last() < unsigned.timestamp);
        // The answer is signed with the node's key.
        let answered = response.headers()[HLC].as_bytes();
        keys.verify(response.headers()[HLC_SIGNATURE].as_bytes(), answered)
            .unwrap();

        let signed = ahead();
        let response = time(&ignoring, signed, Some(&keys)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            ignoring.node().hlc().last() > signed.timestamp,
            "the signed stamp was not merged"
        );
        ignoring.stop().await.unwrap();

        let refusing = start(&file, UnsignedPolicy::Refuse).await;
        let unsigned = ahead();
        let response = time(&refusing, unsigned, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(refusing.node().hlc().last() < unsigned.timestamp);
        let signed = ahead();
        let response = time(&refusing, signed, Some(&keys)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(refusing.node().hlc().last() > signed.timestamp);
        refusing.stop().await.unwrap();
    })
    .await
    .expect("test still running after its limit");
}
