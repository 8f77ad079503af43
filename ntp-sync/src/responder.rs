//! An NTP server (responder) in-process: it answers client requests from a given clock, with
//! optional injected faults. The demo cluster's embedded time source, and the honest or
//! lying servers of the tests.

use std::any::TypeId;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hlc_core::{PhysicalClock, SystemClock};
use tokio::net::{ToSocketAddrs, UdpSocket};
use tokio::task::JoinHandle;

use crate::lock::lock;
use crate::proto::answer::answer;
use crate::proto::fault::{Behaviour, Fault};
use crate::readings::{local_nanos, realtime_nanos};
use crate::stamped_socket::{enable_receive_stamps, recv_stamped};

/// A running NTP responder. It serves until dropped or [`shut down`](Self::shutdown).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use ntp_sync::Responder;
///
/// let honest = Responder::bind("127.0.0.1:0").await?;
/// let liar = Responder::builder().offset(Duration::from_secs(2)).bind("127.0.0.1:0").await?;
/// assert_eq!(liar.behaviour().offset_nanos, 2_000_000_000);
/// assert_ne!(honest.local_addr(), liar.local_addr());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Responder {
    local_addr: SocketAddr,
    shared: Arc<ResponderShared>,
    task: JoinHandle<()>,
}

struct ResponderShared {
    clock: Arc<dyn PhysicalClock>,
    /// Whether `clock` is the system clock: then the kernel's receive timestamps are its
    /// readings, to the nanosecond.
    realtime: bool,
    behaviour: Mutex<(Behaviour, i64)>,
    answered: AtomicU64,
}

impl std::fmt::Debug for ResponderShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponderShared")
            .field("behaviour", &lock(&self.behaviour).0)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Responder`].
pub struct ResponderBuilder {
    clock: Arc<dyn PhysicalClock>,
    realtime: bool,
    behaviour: Behaviour,
}

impl std::fmt::Debug for ResponderBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponderBuilder")
            .field("behaviour", &self.behaviour)
            .finish_non_exhaustive()
    }
}

impl ResponderBuilder {
    /// The clock to answer from (default the system clock). On the system clock the
    /// receive timestamp is the kernel's, taken when the request arrived; on any other clock
    /// it is read when the responder gets to the request.
    pub fn clock<C: PhysicalClock + 'static>(mut self, clock: C) -> Self {
        self.realtime = TypeId::of::<C>() == TypeId::of::<SystemClock>();
        self.clock = Arc::new(clock);
        self
    }

    /// Adds a fault; faults stack in order.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.behaviour = self.behaviour.with(fault);
        self
    }

    /// Answers `offset` ahead of its clock, as `ntp-sync serve --offset SECONDS` does: a
    /// [`Fault::Offset`], stacking with the other faults. Saturates at `i64::MAX`
    /// nanoseconds (292 years).
    pub fn offset(self, offset: Duration) -> Self {
        self.fault(Fault::Offset {
            nanos: saturating_nanos(offset),
        })
    }

    /// Answers `offset` behind its clock (a negative `--offset`); see [`offset`](Self::offset).
    pub fn offset_behind(self, offset: Duration) -> Self {
        self.fault(Fault::Offset {
            nanos: -saturating_nanos(offset),
        })
    }

    /// Binds `address` (port 0 for any free port) and starts answering.
    ///
    /// # Errors
    ///
    /// The socket could not be bound; outside a tokio runtime, an error of kind `Other`.
    pub async fn bind(self, address: impl ToSocketAddrs) -> io::Result<Responder> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let socket = UdpSocket::bind(address).await?;
        enable_receive_stamps(&socket);
        let local_addr = socket.local_addr()?;
        let start = local_nanos(&*self.clock);
        let shared = Arc::new(ResponderShared {
            clock: self.clock,
            realtime: self.realtime,
            behaviour: Mutex::new((self.behaviour, start)),
            answered: AtomicU64::new(0),
        });
        let task = runtime.spawn(serve(socket, Arc::clone(&shared)));
        Ok(Responder {
            local_addr,
            shared,
            task,
        })
    }
}

impl Responder {
    /// A builder, for a clock of your own or injected faults.
    pub fn builder() -> ResponderBuilder {
        ResponderBuilder {
            clock: Arc::new(SystemClock),
            realtime: true,
            behaviour: Behaviour::default(),
        }
    }

    /// An honest responder on the system clock, bound to `address`.
    ///
    /// # Errors
    ///
    /// The socket could not be bound.
    pub async fn bind(address: impl ToSocketAddrs) -> io::Result<Self> {
        Self::builder().bind(address).await
    }

    /// The address it answers on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Replaces the behaviour at once (e.g. to turn a fault on mid-demo); drift restarts from
    /// now.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        let now = local_nanos(&*self.shared.clock);
        *lock(&self.shared.behaviour) = (behaviour, now);
    }

    /// The behaviour in force.
    pub fn behaviour(&self) -> Behaviour {
        lock(&self.shared.behaviour).0
    }

    /// How many requests it has answered.
    pub fn answered(&self) -> u64 {
        self.shared.answered.load(Ordering::Relaxed)
    }

    /// Stops answering and releases the port.
    pub async fn shutdown(self) {
        self.task.abort();
        let _ = (&mut { self }.task).await;
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(socket: UdpSocket, shared: Arc<ResponderShared>) {
    let mut buffer = [0u8; 1_024];
    loop {
        // A receive error (e.g. an ICMP error reported on the socket) concerns one datagram
        // only: keep serving.
        let Ok(datagram) = recv_stamped(&socket, &mut buffer).await else {
            continue;
        };
        let receive = shared.receive_nanos(datagram.stamp_nanos);
        let (behaviour, _) = *lock(&shared.behaviour);
        if behaviour.silent {
            continue;
        }
        let request = &buffer[..datagram.len];
        if respond(&socket, &shared, request, receive, datagram.from).await {
            shared.answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Answers `request`, reading the transmit time last: once the socket is writable, right
/// before the call that sends. Whether an answer went out.
async fn respond(
    socket: &UdpSocket,
    shared: &ResponderShared,
    request: &[u8],
    receive: i64,
    to: SocketAddr,
) -> bool {
    loop {
        if socket.writable().await.is_err() {
            return false;
        }
        let (behaviour, _) = *lock(&shared.behaviour);
        let transmit = shared.server_nanos();
        let Some(response) = answer(request, receive, transmit, &behaviour.params) else {
            return false;
        };
        match socket.try_send_to(&response, to) {
            Ok(_) => return true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => return false,
        }
    }
}

/// `duration` in nanoseconds, `i64::MAX` beyond (`-i64::MAX` then still negates).
fn saturating_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

impl ResponderShared {
    /// The responder's time: its clock, plus offset, plus drift since the behaviour was set.
    fn server_nanos(&self) -> i64 {
        self.server_nanos_at(self.clock_nanos())
    }

    /// The responder's time when its clock read `clock_nanos`.
    fn server_nanos_at(&self, clock_nanos: i64) -> i64 {
        let (behaviour, since) = *lock(&self.behaviour);
        behaviour.clock_at(clock_nanos, since)
    }

    /// The responder's time when a request arrived: the kernel's receive timestamp `stamp`
    /// where that is a reading of its clock, else its clock now.
    fn receive_nanos(&self, stamp: Option<i64>) -> i64 {
        match stamp.filter(|_| self.realtime) {
            Some(stamp) => self.server_nanos_at(stamp),
            None => self.server_nanos(),
        }
    }

    /// The clock, to the nanosecond when it is the system clock.
    fn clock_nanos(&self) -> i64 {
        match self.realtime {
            true => realtime_nanos(),
            false => local_nanos(&*self.clock),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_the_offset_fault_in_nanoseconds_and_stack() {
        let builder = Responder::builder()
            .offset(Duration::from_millis(1_500))
            .offset_behind(Duration::from_millis(250));
        assert_eq!(builder.behaviour.offset_nanos, 1_250_000_000);
        let behind = Responder::builder().offset_behind(Duration::from_secs(2));
        assert_eq!(behind.behaviour.offset_nanos, -2_000_000_000);
        let far = Responder::builder().offset_behind(Duration::MAX);
        assert_eq!(far.behaviour.offset_nanos, -i64::MAX);
    }
}
