//! Step 4: beta, as skewed as before, corrects its clock through `ntp-sync` and is accepted.

use std::io;
use std::time::Duration;

use http::StatusCode;
use ntp_sync::{Health, NtpClient, Responder, Snapshot};
use tokio::task::JoinHandle;

use super::recorder::Recorder;
use super::recording::MarkKind;
use super::{bind, config, lanes, post_json, HttpClient, BETA_SKEW_MS};
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
/// skew but on a clock corrected against it, and has beta call alpha (at `alpha_url`, its
/// tap) again. The restart, every poll and the correction go into `recorder`.
pub(super) async fn beta_on_ntp(
    client: &HttpClient,
    alpha_url: &str,
    recorder: &Recorder,
) -> io::Result<NtpStep> {
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
    let ntp = beta
        .node()
        .ntp()
        .ok_or_else(|| io::Error::other("beta was configured with an ntp server"))?;
    recorder.mark(
        lanes::BETA,
        MarkKind::Restart,
        format!("restart on ntp-sync, clock +{BETA_SKEW_MS} ms"),
        format!(
            "beta restarts at {}, polling the responder at {server}",
            beta.url()
        ),
    );
    let polls = record_polls(ntp, recorder.clone());
    beta.node().wait_synced(SYNC_LIMIT).await?;
    let estimate = ntp
        .snapshot()
        .estimate
        .ok_or_else(|| io::Error::other("synchronised without an estimate"))?;
    let (measured_offset, radius) = (
        seconds(estimate.offset_nanos),
        seconds(estimate.radius_nanos),
    );
    recorder.mark(
        lanes::BETA,
        MarkKind::NtpCorrection,
        format!(
            "clock corrected by {:+.3} ms ± {:.3} ms",
            measured_offset * 1e3,
            radius * 1e3
        ),
        format!(
            "synchronised: true time lies within {:+.6} s ± {:.6} s of beta's clock",
            measured_offset, radius
        ),
    );
    let health = ntp.health();
    let beta_to_alpha = post_json(client, &format!("{}/relay", beta.url())).await?;
    polls.abort();
    beta.stop().await?;
    responder.shutdown().await;
    Ok(NtpStep {
        server,
        measured_offset,
        radius,
        health,
        beta_to_alpha,
    })
}

/// Marks every poll beta's NTP client completes, with what its best sample says so far,
/// until aborted or the client stops.
fn record_polls(ntp: &NtpClient, recorder: Recorder) -> JoinHandle<()> {
    let mut snapshots = ntp.subscribe();
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let (polls, detail) = {
                let snapshot = snapshots.borrow_and_update();
                (snapshot.polls, describe(&snapshot))
            };
            if polls > seen {
                seen = polls;
                let kind = MarkKind::NtpPoll { source: lanes::NTP };
                recorder.mark(lanes::BETA, kind, format!("NTP poll {polls}"), detail);
            }
            if snapshots.changed().await.is_err() {
                return;
            }
        }
    })
}

/// The responder's best sample so far and the client's status.
fn describe(snapshot: &Snapshot) -> String {
    let ms = |nanos: Option<i64>| {
        nanos.map_or("none".to_owned(), |n| format!("{:.3} ms", n as f64 / 1e6))
    };
    let source = snapshot.sources.first();
    format!(
        "best sample so far: offset {}, round trip {}; status {:?}",
        ms(source.and_then(|s| s.offset_nanos)),
        ms(source.and_then(|s| s.delay_nanos)),
        snapshot.status
    )
}

fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}
