use std::{sync::Arc, time::Duration, time::SystemTime};

use axum::{routing::get, Router};
use hlc_core::Hlc;
use hlc_middleware::reqwest::HlcMiddleware;
use hlc_middleware::{HlcServerLayer, MergedTimestamp, PeerTimestamp};
use ntp_sync::{NtpClient, Responder};

async fn hello(MergedTimestamp(at): MergedTimestamp, peer: Option<PeerTimestamp>) -> String {
    let from = peer.map(|PeerTimestamp(p)| p.node.to_string());
    format!("received at {at} from node {}", from.unwrap_or_default())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Time sync: the library's own NTP responder, 2 s ahead of this machine's clock, stands
    // in for the 3 to 5 real servers a deployment lists; both nodes' clocks follow it.
    let truth = Responder::builder()
        .offset(Duration::from_secs(2))
        .bind("127.0.0.1:0")
        .await?;
    let ntp = NtpClient::builder()
        .server(truth.local_addr().to_string())
        .start()?;
    tokio::time::timeout(Duration::from_secs(30), ntp.wait_synced()).await?;
    println!("ntp-sync: {}; {}", ntp.now_interval(), ntp.health());

    // A server node: axum with the server layer, which merges each request's `hlc` header.
    let server = Arc::new(Hlc::with_clock(ntp.corrected_clock()));
    let app = Router::new()
        .route("/hello", get(hello))
        .layer(HlcServerLayer::new(server.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hello", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // A client node: reqwest with the client middleware, which stamps and merges.
    let client = Arc::new(Hlc::with_clock(ntp.corrected_clock()));
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(HlcMiddleware::new(client.clone()))
        .build();
    let before = SystemTime::now();
    let response = http.get(&url).send().await?.error_for_status()?;
    let MergedTimestamp(received) = *response.extensions().get().ok_or("no merged stamp")?;
    println!("server: {}", response.text().await?);
    println!("client: answer received at {received}");

    // What it shows: the answer happened before the client received it; both clocks follow
    // true time as ntp-sync bounds it (2 s ahead), not this machine's clock.
    assert!(ntp.health().is_healthy());
    assert!(received > server.last() && client.last() == received);
    assert!(received.to_system_time() > before + Duration::from_secs(1));
    Ok(())
}
