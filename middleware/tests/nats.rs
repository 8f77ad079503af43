//! `HlcNats` against a real nats-server on loopback: stamps travel in NATS headers, through
//! core NATS and through a JetStream stream, and are refused by the rules of the HTTP layers.

mod common;
#[path = "common/nats_server.rs"]
mod nats_server;

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream};
use async_nats::HeaderMap;
use common::{bounded, node, START};
use futures_util::StreamExt;
use hlc_core::ManualClock;
use hlc_middleware::nats::{HlcNats, HLC_HEADER, HLC_SIGNATURE_HEADER};
use hlc_middleware::{HlcClientLayer, Refusal, SigningKeys, UnsignedPolicy};
use nats_server::NatsServer;

/// Bounds each wait for a message; generous for a loaded machine.
const WAIT: Duration = Duration::from_secs(20);

async fn next<T>(messages: &mut (impl futures_util::Stream<Item = T> + Unpin)) -> T {
    tokio::time::timeout(WAIT, messages.next())
        .await
        .expect("a message within the wait")
        .expect("the subscription still open")
}

fn nats_at(id: u64, micros: u64) -> (HlcNats<ManualClock>, ManualClock) {
    let clock = ManualClock::new(micros);
    (HlcNats::new(node(id, &clock)), clock)
}

#[tokio::test]
async fn a_stamp_crosses_core_nats_and_merges_after_the_send() {
    bounded(async {
        let server = NatsServer::start();
        let client = async_nats::connect(server.url()).await.expect("connect");
        let mut subscription = client.subscribe("orders").await.expect("subscribe");
        let (publisher, _) = nats_at(1, START + 200_000);
        let (subscriber, _) = nats_at(2, START);

        let mut headers = HeaderMap::new();
        let sent = publisher
            .stamp(&mut headers)
            .expect("a healthy clock stamps");
        client
            .publish_with_headers("orders", headers, "paid".into())
            .await
            .expect("publish");
        let message = next(&mut subscription).await;
        assert_eq!(
            message
                .headers
                .as_ref()
                .unwrap()
                .get(HLC_HEADER)
                .unwrap()
                .as_str(),
            sent.to_string(),
            "the header text form of HEADER.md"
        );
        let receipt = subscriber.receive_message(&message).expect("merged");
        assert_eq!(receipt.peer, Some(sent));
        assert!(receipt.merged > sent.timestamp);
        assert_eq!(subscriber.hlc().last(), receipt.merged);
    })
    .await;
}

/// One stream, three messages: far ahead, malformed, and valid. The first two are refused
/// and leave the consumer's clock as it was; the third merges.
#[tokio::test]
async fn jetstream_refuses_a_far_future_or_malformed_stamp_and_keeps_the_clock() {
    bounded(async {
        let server = NatsServer::start();
        let client = async_nats::connect(server.url()).await.expect("connect");
        let js = jetstream::new(client);
        let events = js
            .create_stream(stream::Config {
                name: "EVENTS".into(),
                subjects: vec!["events.>".into()],
                ..Default::default()
            })
            .await
            .expect("create the stream");

        let (future, _) = nats_at(9, START + 3_600_000_000); // an hour ahead
        let (publisher, _) = nats_at(1, START);
        let mut far = HeaderMap::new();
        future.stamp(&mut far).unwrap();
        let mut malformed = HeaderMap::new();
        malformed.insert(HLC_HEADER, "00-0006412b3c4d5003");
        let mut valid = HeaderMap::new();
        let sent = publisher.stamp(&mut valid).unwrap();
        for (subject, headers) in [
            ("events.far", far),
            ("events.bad", malformed),
            ("events.ok", valid),
        ] {
            js.publish_with_headers(subject, headers, "event".into())
                .await
                .expect("publish")
                .await
                .expect("the stream's ack");
        }

        let consumer = events
            .create_consumer(pull::Config::default())
            .await
            .expect("a consumer");
        let mut messages = consumer.messages().await.expect("messages");
        let (reader, _) = nats_at(2, START);
        let before = reader.hlc().now();

        let far = next(&mut messages).await.expect("a message");
        let refusal = reader.receive_message(&far).unwrap_err();
        assert!(matches!(refusal, Refusal::TooFarAhead { .. }), "{refusal}");
        assert!(refusal.to_string().contains("max offset"), "{refusal}");
        assert_eq!(reader.hlc().last(), before, "a refused stamp moves nothing");

        let bad = next(&mut messages).await.expect("a message");
        let refusal = reader.receive_message(&bad).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "malformed hlc header: expected 36 bytes, got 19"
        );
        assert_eq!(reader.hlc().last(), before);

        let ok = next(&mut messages).await.expect("a message");
        let receipt = reader.receive_message(&ok).expect("merged");
        assert_eq!(receipt.peer, Some(sent));
        assert!(receipt.merged > before);
    })
    .await;
}

#[tokio::test]
async fn a_signed_stamp_crosses_nats_and_an_unsigned_one_is_refused() {
    bounded(async {
        let server = NatsServer::start();
        let client = async_nats::connect(server.url()).await.expect("connect");
        let mut subscription = client.subscribe("signed.*").await.expect("subscribe");
        let keys = SigningKeys::parse(&format!("k1 {}", "5e".repeat(32))).unwrap();
        let clock = ManualClock::new(START);
        let signer =
            HlcNats::from_layer(&HlcClientLayer::new(node(1, &clock)).signing_keys(keys.clone()));
        let (stranger, _) = nats_at(3, START);
        let verifier = HlcNats::from_layer(
            &HlcClientLayer::new(node(2, &clock))
                .signing_keys(keys)
                .unsigned(UnsignedPolicy::Refuse),
        );

        for (subject, nats) in [("signed.yes", &signer), ("signed.no", &stranger)] {
            let mut headers = HeaderMap::new();
            nats.stamp(&mut headers).unwrap();
            client
                .publish_with_headers(subject, headers, "event".into())
                .await
                .expect("publish");
        }
        let signed = next(&mut subscription).await;
        let headers = signed.headers.as_ref().unwrap();
        assert!(headers
            .get(HLC_SIGNATURE_HEADER)
            .unwrap()
            .as_str()
            .starts_with("v1=k1:"));
        assert!(verifier.receive_message(&signed).unwrap().peer.is_some());
        let before = verifier.hlc().last();
        let unsigned = next(&mut subscription).await;
        let refusal = verifier.receive_message(&unsigned).unwrap_err();
        assert_eq!(refusal.kind(), "hlc.signature_missing");
        assert_eq!(verifier.hlc().last(), before);
    })
    .await;
}
