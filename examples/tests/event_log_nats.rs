//! The event_log_nats example against a real `nats-server -js` on loopback: merged by wall
//! clock the log shows receipts before their sending, merged by hybrid timestamp none; no
//! event is lost, and a message with a refused stamp is reported rather than merged.

// The test prints the merged log and the counts, as the example does.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use async_nats::jetstream;
use async_nats::HeaderMap;
use hlc_core::{Hlc, ManualClock, NodeId};
use hlc_examples::event_log::cluster::{MESSAGES, NODES};
use hlc_examples::event_log::Order;
use hlc_examples::event_log_nats::cluster::{self, START_MICROS};
use hlc_examples::event_log_nats::server::NatsServer;
use hlc_examples::event_log_nats::{self, reader, subject};
use hlc_middleware::nats::HlcNats;

/// Bounds the whole test: a server that never answers fails it instead of hanging CI.
const TEST_LIMIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn wall_clock_order_breaks_causality_and_hlc_order_does_not() {
    let server = NatsServer::start().expect("nats-server starts");
    let log = tokio::time::timeout(TEST_LIMIT, async {
        let client = async_nats::connect(server.url()).await.expect("connect");
        let js = jetstream::new(client);
        let stream = event_log_nats::create_stream(&js).await.expect("stream");
        let truth = cluster::run(&js, &stream).await.expect("the cluster runs");
        // A stranger an hour ahead publishes on alpha's subject: its stamp must be refused.
        let rogue = HlcNats::new(std::sync::Arc::new(Hlc::with_clock(ManualClock::new(
            START_MICROS + 3_600_000_000,
        ))));
        let mut headers = HeaderMap::new();
        rogue.stamp(&mut headers).expect("stamped");
        js.publish_with_headers(subject(NODES[0].0), headers, "{}".into())
            .await
            .expect("publish")
            .await
            .expect("acked");
        reader::read(&stream, truth).await.expect("read back")
    })
    .await
    .unwrap_or_else(|_| panic!("still running after {TEST_LIMIT:?}"));
    print!("{}", event_log_nats::render(&log));

    let merged = &log.merged;
    let wall = merged.causal_violations(Order::WallClock);
    let hlc = merged.causal_violations(Order::Hlc);
    println!(
        "causal violations: wall clock {}, HLC {}",
        wall.len(),
        hlc.len()
    );
    assert!(!wall.is_empty(), "skewed wall clocks put a receipt first");
    assert_eq!(hlc, Vec::<u32>::new());
    for order in [Order::WallClock, Order::Hlc] {
        let placed = merged.entries(order).len() + merged.late_for(order).count();
        assert_eq!(
            placed,
            2 * MESSAGES.len(),
            "every send and receipt, {order:?}"
        );
    }
    assert_eq!(log.unusable.len(), 1, "{:?}", log.unusable);
    assert_eq!(log.unusable[0].subject, "events.alpha");
    assert!(
        log.unusable[0].reason.contains("max offset"),
        "{}",
        log.unusable[0].reason
    );
    let ids: Vec<NodeId> = merged.hlc.iter().map(|e| e.hlc.node).collect();
    assert!(cluster::node_ids().all(|id| ids.contains(&id)));
}
