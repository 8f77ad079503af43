//! The one place the client touches the network: resolving a server and running one
//! request/response exchange over UDP.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use hlc_core::PhysicalClock;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::lock::lock;
use crate::proto::engine::Engine;
use crate::proto::sample::{LocalTimes, Sample};
use crate::proto::source::PollFailure;
use crate::readings::{duration_nanos, local_nanos};

/// The NTP port.
pub const NTP_PORT: u16 = 123;

/// Room for a header with extension fields; anything longer is cut, which is harmless since
/// only the 48-byte header is read.
const RECEIVE_BUFFER: usize = 1_024;

/// Resolves `server` (`host`, `host:port`, an IP address or a socket address; port 123 when
/// none is given) to its first address.
///
/// # Errors
///
/// [`PollFailure::Resolve`] when the name does not resolve.
pub(crate) async fn resolve(server: &str) -> Result<SocketAddr, PollFailure> {
    if let Ok(address) = server.parse::<SocketAddr>() {
        return Ok(address);
    }
    if let Ok(ip) = server.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, NTP_PORT));
    }
    let has_port = server
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    let found = match has_port {
        true => tokio::net::lookup_host(server).await.map(|mut a| a.next()),
        false => tokio::net::lookup_host((server, NTP_PORT))
            .await
            .map(|mut a| a.next()),
    };
    let first = found.map_err(|e| PollFailure::Resolve(format!("{server}: {e}")))?;
    first.ok_or_else(|| PollFailure::Resolve(format!("{server}: no address")))
}

/// A socket of the right family for talking to `server`.
pub(crate) async fn socket_for(server: SocketAddr) -> Result<UdpSocket, PollFailure> {
    let any: SocketAddr = match server {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    };
    UdpSocket::bind(any)
        .await
        .map_err(|e| PollFailure::Io(e.to_string()))
}

/// Polls source `index` of `engine` once over `socket`: sends a request with a random
/// transmit value and feeds every datagram that arrives to the engine until one is a valid
/// response, a kiss-o'-death ends the poll, or `timeout` passes.
///
/// # Errors
///
/// Why no sample came: the last invalid response, or a timeout, or a socket error. The
/// engine has recorded it already.
pub(crate) async fn poll_once(
    socket: &UdpSocket,
    engine: &Mutex<Engine>,
    index: usize,
    server: SocketAddr,
    clock: &dyn PhysicalClock,
    timeout: Duration,
) -> Result<Sample, PollFailure> {
    let request = lock(engine).begin_poll(index, rand::random());
    let sent_nanos = local_nanos(clock);
    // The exchange's duration comes from the monotonic clock: a step of the wall clock
    // mid-exchange cannot distort the delay.
    let sent_at = Instant::now();
    let outcome = match socket.send_to(&request, server).await {
        Ok(_) => receive(socket, engine, index, sent_nanos, sent_at, timeout).await,
        Err(e) => Err(PollFailure::Io(e.to_string())),
    };
    if let Err(failure) = &outcome {
        let mut engine = lock(engine);
        if engine.sources()[index].is_polling() {
            engine.on_failure(index, failure.clone());
        }
    }
    outcome
}

async fn receive(
    socket: &UdpSocket,
    engine: &Mutex<Engine>,
    index: usize,
    sent_nanos: i64,
    sent_at: Instant,
    timeout: Duration,
) -> Result<Sample, PollFailure> {
    let mut buffer = [0u8; RECEIVE_BUFFER];
    let mut last_invalid = None;
    let deadline = sent_at + timeout;
    while let Ok(received) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buffer)).await
    {
        let (len, from) = received.map_err(|e| PollFailure::Io(e.to_string()))?;
        let received_nanos = sent_nanos.saturating_add(duration_nanos(sent_at.elapsed()));
        let local = LocalTimes {
            sent_nanos,
            received_nanos,
        };
        let mut engine = lock(engine);
        match engine.on_response(index, &buffer[..len], from, local) {
            Ok(sample) => return Ok(sample),
            Err(invalid) if !engine.sources()[index].is_polling() => return Err(invalid.into()),
            Err(invalid) => last_invalid = Some(invalid),
        }
    }
    Err(last_invalid.map_or(PollFailure::Timeout(timeout), PollFailure::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_addresses_and_names_with_the_default_port() {
        assert_eq!(
            resolve("127.0.0.1:9").await.unwrap(),
            "127.0.0.1:9".parse().unwrap()
        );
        assert_eq!(
            resolve("127.0.0.1").await.unwrap(),
            "127.0.0.1:123".parse().unwrap()
        );
        assert_eq!(
            resolve("[::1]").await.unwrap(),
            "[::1]:123".parse().unwrap()
        );
        assert_eq!(resolve("localhost:1234").await.unwrap().port(), 1234);
        assert_eq!(resolve("localhost").await.unwrap().port(), 123);
    }

    #[tokio::test]
    async fn a_name_that_cannot_be_looked_up_is_a_resolve_failure() {
        // A NUL byte fails the lookup before any resolver runs: no DNS, no network, the same
        // answer on every machine. A real name that does not exist would ask real DNS.
        for server in ["no-such-host\0.invalid", "no-such-host\0.invalid:123"] {
            let failure = resolve(server).await.unwrap_err();
            assert!(matches!(failure, PollFailure::Resolve(_)), "{failure}");
            let expected = format!("cannot resolve server: {server}: ");
            assert!(failure.to_string().starts_with(&expected), "{failure}");
        }
    }
}
