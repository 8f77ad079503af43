//! The client's tasks: one per server, polling on the engine's schedule (and at once after a
//! disruption), one that refreshes the status when it changes with time alone
//! (free-running, then void), and the disruption watchdog's heartbeat.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

use super::state::Shared;
use crate::lock::lock;
use crate::net::{poll_once, resolve, socket_for};
use crate::proto::source::PollFailure;

/// Polls source `index` until its server refuses us (DENY/RSTR) or the client is dropped.
pub(crate) async fn poll_source(shared: Arc<Shared>, index: usize) {
    let mut socket: Option<UdpSocket> = None;
    let mut first = true;
    let mut resync = shared.resync.subscribe();
    loop {
        // Seen before the wait is read: a disruption after this wakes the sleep below.
        resync.borrow_and_update();
        let wait = lock(&shared.engine).next_poll_in(index);
        let Some(wait) = wait else {
            tracing::warn!(target: "ntp_sync", index, "server refused us; no more polls");
            return;
        };
        if !first {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                // The schedule says "now" after a disruption: read it again.
                changed = resync.changed() => match changed {
                    Ok(()) => continue,
                    Err(_) => return,
                },
            }
        }
        first = false;
        poll(&shared, index, &mut socket).await;
        shared.refresh(true);
    }
}

async fn poll(shared: &Shared, index: usize, socket: &mut Option<UdpSocket>) {
    let timeout = lock(&shared.engine).config().poll.timeout;
    let address = match address(shared, index).await {
        Ok(address) => address,
        Err(failure) => return fail(shared, index, failure),
    };
    let socket = match bound(socket, address).await {
        Ok(socket) => socket,
        Err(failure) => return fail(shared, index, failure),
    };
    let clock = &*shared.clock;
    if let Err(failure) = poll_once(socket, &shared.engine, index, address, clock, timeout).await {
        tracing::debug!(target: "ntp_sync", %address, %failure, "poll failed");
    }
}

/// The source's address, resolving its name when it has none: the first time, and after
/// every failed poll (see [`Source::set_address`](crate::Source::set_address)).
async fn address(shared: &Shared, index: usize) -> Result<SocketAddr, PollFailure> {
    let (name, known) = {
        let engine = lock(&shared.engine);
        let source = &engine.sources()[index];
        (source.name().to_owned(), source.address())
    };
    if let Some(address) = known {
        return Ok(address);
    }
    let address = resolve(&name).await?;
    lock(&shared.engine).source_mut(index).set_address(address);
    Ok(address)
}

/// The source's socket, bound on first use, and again when the server's name resolved to
/// an address of the other family.
async fn bound(
    socket: &mut Option<UdpSocket>,
    server: SocketAddr,
) -> Result<&UdpSocket, PollFailure> {
    let same_family = socket
        .as_ref()
        .and_then(|s| s.local_addr().ok())
        .is_some_and(|local| local.is_ipv4() == server.is_ipv4());
    if !same_family {
        *socket = Some(socket_for(server).await?);
    }
    socket
        .as_ref()
        .ok_or_else(|| PollFailure::Io("socket unavailable".to_owned()))
}

fn fail(shared: &Shared, index: usize, failure: PollFailure) {
    let mut engine = lock(&shared.engine);
    engine.begin_poll(index, 0);
    engine.on_failure(index, failure);
}

/// Reads the host kernel's figures every `interval` until the client is dropped.
pub(crate) async fn poll_kernel(shared: Arc<Shared>, interval: Duration) {
    loop {
        let read = crate::kernel::read_with(&*shared.clock);
        shared.kernel_read(read);
        tokio::time::sleep(interval).await;
    }
}

/// Wakes when the status would change with time alone and refreshes the snapshot, so status
/// changes are seen (and traced) even while every server is silent.
pub(crate) async fn watch_status(shared: Arc<Shared>) {
    let mut changes = shared.snapshot.subscribe();
    loop {
        let wait = until_next_transition(&shared);
        tokio::select! {
            () = tokio::time::sleep(wait) => shared.refresh(false),
            changed = changes.changed() => if changed.is_err() { return },
        }
    }
}

/// The disruption watchdog's heartbeat: reads the host clocks every `every` and, when they
/// show a suspend, a pause or a step, has the client say so and resynchronise.
pub(crate) async fn heartbeat(shared: Arc<Shared>, every: Duration) {
    loop {
        shared.heartbeat(every);
        tokio::time::sleep(every).await;
    }
}

fn until_next_transition(shared: &Shared) -> Duration {
    const IDLE: Duration = Duration::from_secs(3_600);
    let Some(estimate) = shared.true_time.estimate() else {
        return IDLE;
    };
    let policy = shared.true_time.policy().status;
    let age = shared
        .true_time
        .local_nanos()
        .saturating_sub(estimate.newest_sample_nanos);
    let age = Duration::from_nanos(age.max(0) as u64);
    [policy.free_running_after, policy.void_after]
        .into_iter()
        .filter(|limit| *limit > age)
        .map(|limit| limit - age + Duration::from_millis(1))
        .min()
        .unwrap_or(IDLE)
}
