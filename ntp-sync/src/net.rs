//! The one place the client touches the network: resolving a server and running one
//! request/response exchange over UDP, t1 and t4 from the kernel's transmit and receive
//! timestamps ([`kernel_stamp`](crate::proto::kernel_stamp)) where it gives them.

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use hlc_core::PhysicalClock;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::lock::lock;
use crate::proto::engine::Engine;
use crate::proto::kernel_stamp::{map_receive, map_transmit, ClockReadings, MappedStamp, Unmapped};
use crate::proto::sample::{LocalTimes, Sample};
use crate::proto::source::PollFailure;
use crate::readings::{duration_nanos, read_clocks};
use crate::stamped_socket::{
    enable_receive_stamps, enable_transmit_stamps, recv_stamped, take_transmit_stamp,
};

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

/// A socket of the right family for talking to `server`, asking the kernel to stamp what it
/// sends and receives.
pub(crate) async fn socket_for(server: SocketAddr) -> Result<UdpSocket, PollFailure> {
    let any: SocketAddr = match server {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    };
    let socket = UdpSocket::bind(any)
        .await
        .map_err(|e| PollFailure::Io(e.to_string()))?;
    enable_receive_stamps(&socket);
    enable_transmit_stamps(&socket);
    Ok(socket)
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
    let outcome = match send(socket, &request, server, clock).await {
        Ok(sent) => receive(socket, engine, index, &sent, clock, timeout).await,
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

/// When a request left: the clocks, and the monotonic instant, read immediately before the
/// send call.
struct Sent {
    readings: ClockReadings,
    at: Instant,
}

/// Sends `request`, reading t1 as late as user space can: once the socket is writable,
/// right before the call that sends.
async fn send(
    socket: &UdpSocket,
    request: &[u8],
    server: SocketAddr,
    clock: &dyn PhysicalClock,
) -> io::Result<Sent> {
    loop {
        socket.writable().await?;
        // The instant first: a fallback t4 measured from it is late, never early.
        let at = Instant::now();
        let readings = read_clocks(clock);
        match socket.try_send_to(request, server) {
            Ok(_) => return Ok(Sent { readings, at }),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

async fn receive(
    socket: &UdpSocket,
    engine: &Mutex<Engine>,
    index: usize,
    sent: &Sent,
    clock: &dyn PhysicalClock,
    timeout: Duration,
) -> Result<Sample, PollFailure> {
    let mut buffer = [0u8; RECEIVE_BUFFER];
    let mut last_invalid = None;
    let deadline = sent.at + timeout;
    let resolution = duration_nanos(clock.resolution());
    while let Ok(received) =
        tokio::time::timeout_at(deadline, recv_stamped(socket, &mut buffer)).await
    {
        let datagram = received.map_err(|e| PollFailure::Io(e.to_string()))?;
        let readings = read_clocks(clock);
        let elapsed = sent.at.elapsed();
        let stamps = Stamps {
            transmit: take_transmit_stamp(socket),
            receive: datagram.stamp_nanos,
        };
        let (local, error) = local_times(sent, &readings, elapsed, stamps, resolution);
        let bytes = &buffer[..datagram.len];
        let mut engine = lock(engine);
        match engine.on_response_within(index, bytes, datagram.from, local, error) {
            Ok(sample) => return Ok(sample),
            Err(invalid) if !engine.sources()[index].is_polling() => return Err(invalid.into()),
            Err(invalid) => last_invalid = Some(invalid),
        }
    }
    Err(last_invalid.map_or(PollFailure::Timeout(timeout), PollFailure::from))
}

/// The kernel's timestamps of an exchange, where it gave them (`CLOCK_REALTIME`).
#[derive(Clone, Copy, Debug)]
struct Stamps {
    transmit: Option<i64>,
    receive: Option<i64>,
}

/// t1 and t4 of an exchange, and how far either may be off: the kernel's timestamps carried
/// onto the local clock where they can be, else the times read around the send and the
/// receive, early and late, never the other way round, which keeps the truth inside the
/// interval.
fn local_times(
    sent: &Sent,
    received: &ClockReadings,
    elapsed: Duration,
    stamps: Stamps,
    resolution_nanos: i64,
) -> (LocalTimes, i64) {
    let read_before_send = sent.readings.local;
    let mapped = |map: Map, stamp| match map(stamp, &sent.readings, received, resolution_nanos) {
        Ok(mapped) => Some(mapped),
        Err(Unmapped::NoStamp) => None,
        Err(unmapped) => {
            tracing::debug!(target: "ntp_sync", %unmapped, "kernel timestamp not used");
            None
        }
    };
    let transmit = mapped(map_transmit, stamps.transmit);
    let receive = mapped(map_receive, stamps.receive);
    let local = LocalTimes {
        sent_nanos: transmit.map_or(read_before_send, |t| t.local_nanos),
        // Read in user space, on the monotonic clock: a step of the wall clock cannot
        // distort the delay.
        received_nanos: receive.map_or_else(
            || read_before_send.saturating_add(duration_nanos(elapsed)),
            |r| r.local_nanos,
        ),
    };
    let error = [transmit, receive]
        .into_iter()
        .flatten()
        .map(|stamp| stamp.error_nanos)
        .max()
        .unwrap_or(0);
    (local, error)
}

type Map = fn(Option<i64>, &ClockReadings, &ClockReadings, i64) -> Result<MappedStamp, Unmapped>;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use hlc_core::SystemClock;

    use super::*;
    use crate::proto::answer::ServerParams;
    use crate::proto::engine::EngineConfig;
    use crate::proto::fault::Behaviour;
    use crate::readings::realtime_nanos;
    use crate::{Responder, SteadyClock};

    const MS: i64 = 1_000_000;
    const US: i64 = 1_000;
    /// The responder's known offset.
    const TRUTH: i64 = 250 * MS;
    /// Polls per clock: enough for the kernel's stamps to meet a loaded scheduler often.
    const POLLS: usize = 200;
    /// Bounds each poll's wait: loopback answers in microseconds, a loaded machine later.
    const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

    /// A responder on the system clock `TRUTH` ahead that claims no error of its own (root
    /// dispersion 0, nanosecond precision), so nothing but the exchange pads the radius.
    async fn exact_responder() -> Responder {
        let responder = Responder::bind("127.0.0.1:0").await.unwrap();
        let params = ServerParams {
            root_dispersion_nanos: 0,
            precision: -30,
            ..ServerParams::default()
        };
        responder.set_behaviour(Behaviour {
            offset_nanos: TRUTH,
            params,
            ..Behaviour::default()
        });
        responder
    }

    /// How far the system clock is ahead of `clock`, read twice around a read of `clock`:
    /// the true offset of `clock` against the responder is `TRUTH` plus this.
    fn system_ahead_of(clock: &dyn PhysicalClock) -> (i64, i64) {
        let before = realtime_nanos();
        let local = crate::readings::local_nanos(clock);
        let after = realtime_nanos();
        (before - local, after - local)
    }

    /// Polls the responder `POLLS` times from `clock` and checks each sample's interval
    /// against the truth, known within the system clock's distance from `clock` read around
    /// all the polls (the local reading lags by up to the clock's resolution, 1 µs).
    async fn every_sample_holds_the_truth(clock: Arc<dyn PhysicalClock>) {
        let responder = exact_responder().await;
        let server = responder.local_addr();
        let mut engine = Engine::new(EngineConfig::default());
        let index = engine.add_source(server.to_string(), Some(server));
        let engine = Mutex::new(engine);
        let socket = socket_for(server).await.unwrap();
        let (low_before, high_before) = system_ahead_of(&*clock);
        let mut samples = Vec::with_capacity(POLLS);
        for _ in 0..POLLS {
            let polled = poll_once(&socket, &engine, index, server, &*clock, ANSWER_TIMEOUT);
            samples.push(polled.await.unwrap());
        }
        let (low_after, high_after) = system_ahead_of(&*clock);
        let truth_low = TRUTH + low_before.min(low_after);
        let truth_high = TRUTH + high_before.max(high_after) + US;
        for sample in samples {
            let (low, high) = (
                sample.offset_nanos - sample.radius_nanos,
                sample.offset_nanos + sample.radius_nanos,
            );
            assert!(
                low <= truth_high && truth_low <= high,
                "{sample:?} misses the truth in [{truth_low}, {truth_high}]"
            );
        }
    }

    #[tokio::test]
    async fn samples_on_the_system_clock_hold_the_truth() {
        let check = every_sample_holds_the_truth(Arc::new(SystemClock));
        tokio::time::timeout(Duration::from_secs(120), check)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn samples_on_the_steady_clock_hold_the_truth() {
        let check = every_sample_holds_the_truth(Arc::new(SteadyClock));
        tokio::time::timeout(Duration::from_secs(120), check)
            .await
            .unwrap();
    }

    fn readings(realtime: i64, local: i64) -> ClockReadings {
        ClockReadings {
            realtime_before: realtime,
            local,
            monotonic: realtime - 1_000 * MS,
            realtime_after: realtime,
        }
    }

    #[test]
    fn kernel_stamps_replace_the_reads_around_the_exchange() {
        let base = 1_700_000_000_000 * MS;
        let sent = Sent {
            readings: readings(base, base + 7 * US),
            at: Instant::now(),
        };
        let received = readings(base + 100 * US, base + 107 * US);
        let stamps = Stamps {
            transmit: Some(base + 20 * US),
            receive: Some(base + 70 * US),
        };
        let elapsed = Duration::from_micros(100);
        let (local, error) = local_times(&sent, &received, elapsed, stamps, US);
        assert_eq!(local.sent_nanos, base + 27 * US);
        assert_eq!(local.received_nanos, base + 77 * US);
        // The larger of the two stamps' errors: a third of the receive stamp's 30 µs age.
        assert!((10 * US..12 * US).contains(&error), "{error}");
    }

    #[test]
    fn without_stamps_the_reads_around_the_exchange_stand() {
        let base = 1_700_000_000_000 * MS;
        let sent = Sent {
            readings: readings(base, base + 7 * US),
            at: Instant::now(),
        };
        let received = readings(base + 100 * US, base + 107 * US);
        let elapsed = Duration::from_micros(101);
        let none = Stamps {
            transmit: None,
            receive: None,
        };
        let (local, error) = local_times(&sent, &received, elapsed, none, US);
        assert_eq!(
            (local.sent_nanos, local.received_nanos, error),
            (base + 7 * US, base + 108 * US, 0)
        );
        // A receive stamp from before the request left is refused too.
        let stale = Stamps {
            transmit: None,
            receive: Some(base - 1),
        };
        let (local, error) = local_times(&sent, &received, elapsed, stale, US);
        assert_eq!((local.received_nanos, error), (base + 108 * US, 0));
    }

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
