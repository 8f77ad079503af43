//! Two hybrid logical clocks exchanging messages, one of them skewed, and a refused timestamp.
//!
//! `cargo run -p hlc-examples --example two_clocks`

// An example's output is the point of it.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use hlc_core::{Hlc, ManualClock, NodeId, NodeTimestamp, PhysicalClock, SystemClock, Timestamp};

fn main() {
    let now = SystemClock.now_micros();
    // Node b's physical clock runs 200 ms behind node a's: within the default max offset.
    let clock_a = ManualClock::new(now);
    let clock_b = ManualClock::new(now - 200_000);
    let a = clock(&clock_a, 0xa);
    let b = clock(&clock_b, 0xb);

    let sent = a.now_with_node();
    println!("a sends        {sent}  ({})", sent.timestamp);
    let header = sent.to_string();
    let received: NodeTimestamp = header.parse().expect("a well-formed header");
    clock_b.advance(Duration::from_micros(300));
    let merged = b.update(received.timestamp).expect("within max offset");
    println!(
        "b receives     {}  ({merged})",
        NodeTimestamp::new(merged, b.node_id())
    );
    println!(
        "b's reply is causally after a's message although b's clock is 200 ms behind: {}",
        merged > sent.timestamp
    );

    let far_future = Timestamp::from_physical_micros(now + 3_600_000_000);
    match b.update(far_future) {
        Ok(t) => println!("unexpectedly accepted {t}"),
        Err(refusal) => println!("b refuses      {far_future}: {refusal}"),
    }
    println!("b's clock is unchanged by the refusal: last = {}", b.last());
}

fn clock(physical: &ManualClock, id: u64) -> Hlc<ManualClock> {
    Hlc::builder()
        .clock(physical.clone())
        .node_id(NodeId::new(id))
        .build()
        .expect("no persistence configured, so building cannot fail")
}
