//! tonic on loopback: the health service behind the server layer, a `Channel` behind the
//! client layer, and refusals as FAILED_PRECONDITION both ways.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::{bounded, node, serve_grpc_health, START};
use hlc_core::{Hlc, ManualClock, NodeTimestamp};
use hlc_middleware::HlcServerLayer;
use tonic::transport::{Channel, Endpoint};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

type StampedChannel = tower::util::MapErr<
    hlc_middleware::HlcClient<Channel, ManualClock>,
    fn(hlc_middleware::ClientError<tonic::transport::Error>) -> tonic::Status,
>;

async fn client(hlc: Arc<Hlc<ManualClock>>, address: SocketAddr) -> HealthClient<StampedChannel> {
    let channel = Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let stamped = tower::ServiceBuilder::new()
        .layer(hlc_middleware::tonic::client_layer(hlc))
        .service(channel);
    HealthClient::new(stamped)
}

fn check() -> HealthCheckRequest {
    HealthCheckRequest {
        service: String::new(),
    }
}

#[tokio::test]
async fn health_checks_carry_stamps_both_ways() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let alice = node(1, &ManualClock::new(START + 100_000));
        let mut client = client(
            alice.clone(),
            serve_grpc_health(HlcServerLayer::new(server.clone())).await,
        )
        .await;
        let response = client.check(check()).await.unwrap();
        assert_eq!(response.get_ref().status(), ServingStatus::Serving);
        let answered = stamp_in(response.metadata());
        assert_eq!(answered.node, server.node_id());
        assert_eq!(answered.timestamp, server.last());
        // The server merged Alice's stamp (100 ms ahead of its clock), and Alice merged its answer.
        assert!(answered.timestamp.physical_micros() >= START + 100_000);
        assert!(alice.last() > answered.timestamp);
    })
    .await;
}

#[tokio::test]
async fn a_skewed_client_gets_failed_precondition_and_the_server_clock_stays() {
    bounded(async {
        let server = node(2, &ManualClock::new(START));
        let skewed = node(1, &ManualClock::new(START + 2_000_000));
        let mut client = client(
            skewed,
            serve_grpc_health(HlcServerLayer::new(server.clone())).await,
        )
        .await;
        let status = client.check(check()).await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert!(
            status.message().contains(&format!(
                "beyond the max offset of {}us",
                common::MAX_OFFSET_MICROS
            )),
            "{status:?}"
        );
        let refusal_stamp = stamp_in(status.metadata());
        assert_eq!(refusal_stamp.timestamp.physical_micros(), START);
        assert_eq!(server.last(), refusal_stamp.timestamp);
    })
    .await;
}

#[tokio::test]
async fn a_skewed_server_is_refused_by_the_client_as_failed_precondition() {
    bounded(async {
        let server = node(2, &ManualClock::new(START + 2_000_000));
        let alice = node(1, &ManualClock::new(START));
        let mut client = client(
            alice.clone(),
            serve_grpc_health(HlcServerLayer::new(server)).await,
        )
        .await;
        let status = client.check(check()).await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert!(
            status
                .message()
                .starts_with("response refused: remote timestamp"),
            "{status:?}"
        );
        assert_eq!(
            alice.last().physical_micros(),
            START,
            "the refused answer moved the clock"
        );
    })
    .await;
}

/// The `hlc` stamp that a response or a refusal carries.
fn stamp_in(metadata: &tonic::metadata::MetadataMap) -> NodeTimestamp {
    metadata
        .get("hlc")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}
