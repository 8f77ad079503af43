//! Step 4: beta, as skewed as before, corrects its clock through `ntp-sync` and is accepted.

use std::io;
use std::time::Duration;

use http::StatusCode;
use ntp_sync::{Health, Responder};

use super::{bind, config, post_json, HttpClient, BETA_SKEW_MS};
use crate::node::{NodeConfig, RunningNode};

/// How long beta may take to synchronise: the initial burst takes about two seconds.
const SYNC_LIMIT: Duration = Duration::from_secs(15);

/// What beta measured and how alpha took its call afterwards.
#[derive(Debug, Clone)]
pub struct NtpStep {
    /// The embedded responder's address.
    pub server: String,
    /// How far true time is from beta's skewed physical clock (about −2 s).
    pub measured_offset: f64,
    /// Half the width of the interval that bounds true time, in seconds.
    pub radius: f64,
    /// Whether the bound honours the max offset.
    pub health: Health,
    /// `POST beta/relay` with the corrected clock: alpha accepts the call.
    pub beta_to_alpha: (StatusCode, serde_json::Value),
}

/// Starts an NTP responder on loopback serving the system clock, restarts beta with the same
/// skew but on a clock corrected against it, and has beta call alpha again.
pub(super) async fn beta_on_ntp(client: &HttpClient, alpha_url: &str) -> io::Result<NtpStep> {
    let responder = Responder::bind("127.0.0.1:0").await?;
    let server = responder.local_addr().to_string();
    let listener = bind().await?;
    let beta = RunningNode::spawn(
        listener,
        NodeConfig {
            ntp_servers: vec![server.clone()],
            ..config(2, BETA_SKEW_MS, alpha_url)
        },
    )?;
    beta.node().wait_synced(SYNC_LIMIT).await?;
    let ntp = beta
        .node()
        .ntp()
        .ok_or_else(|| io::Error::other("beta was configured with an ntp server"))?;
    let estimate = ntp
        .snapshot()
        .estimate
        .ok_or_else(|| io::Error::other("synchronised without an estimate"))?;
    let health = ntp.health();
    let beta_to_alpha = post_json(client, &format!("{}/relay", beta.url())).await?;
    beta.stop().await?;
    responder.shutdown().await;
    Ok(NtpStep {
        server,
        measured_offset: seconds(estimate.offset_nanos),
        radius: seconds(estimate.radius_nanos),
        health,
        beta_to_alpha,
    })
}

fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}
