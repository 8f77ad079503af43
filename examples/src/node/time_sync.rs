//! Correcting a node's clock through `ntp-sync`: the wiring between the two libraries.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hlc_core::health::HealthBoard;
use ntp_sync::{NtpClient, SteadyClock, DEFAULT_HEALTH_SHARE};

use super::{ClockStep, NodeClock, NodeConfig, OffsetClock, SteppedClock};

/// Polls in the initial burst, and their spacing: a node is ready in about two seconds.
const BURST: (u8, Duration) = (4, Duration::from_millis(500));

/// The node's clock: `skewed` plus `step` as it is without NTP servers, else the clock an
/// [`NtpClient`] corrects, measuring the same skew and step over ntp-sync's [`SteadyClock`]
/// (which nobody steps but `step`) against the servers. The client must stay alive with the
/// node: it keeps polling and the corrected clock follows it.
pub(super) fn node_clock(
    skewed: OffsetClock,
    step: ClockStep,
    config: &NodeConfig,
) -> io::Result<(NodeClock, Option<NtpClient>)> {
    if config.ntp_servers.is_empty() {
        return Ok((Arc::new(SteppedClock::new(skewed, step)), None));
    }
    let client = NtpClient::builder()
        .servers(config.ntp_servers.iter().cloned())
        .clock(SteppedClock::new(skewed.over(SteadyClock), step))
        .burst(BURST.0, BURST.1)
        .health_limit(config.max_offset, DEFAULT_HEALTH_SHARE)
        .start()
        .map_err(io::Error::other)?;
    Ok((Arc::new(client.corrected_clock()), Some(client)))
}

/// Waits for a synchronised estimate, at most `limit`.
pub(super) async fn wait_synced(ntp: &NtpClient, limit: Duration) -> io::Result<()> {
    tokio::time::timeout(limit, ntp.wait_synced())
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no majority of the ntp servers agreed within {limit:?}"),
            )
        })
}

/// A board that `ntp` reports its health into (unsynchronised until its first bound).
pub(super) fn health_board(ntp: &mut NtpClient) -> HealthBoard {
    let board = HealthBoard::new();
    ntp.report_health(board.reporter("ntp"));
    board
}
