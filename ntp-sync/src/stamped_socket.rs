//! Datagrams with the kernel's timestamps, on a tokio UDP socket (socket(7), the kernel's
//! Documentation/networking/timestamping.rst): `SO_TIMESTAMPNS` stamps what arrives, and a
//! receive returns the `SCM_TIMESTAMPNS` control message beside the bytes; `SO_TIMESTAMPING`'s
//! software transmit stamps come back on the socket's error queue once a datagram has left.
//! Where an option is missing (another system, an old kernel) there is no stamp and the
//! callers read the time in user space; that is logged once.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::UdpSocket;

/// One datagram received.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Datagram {
    /// Its length (cut to the buffer's).
    pub(crate) len: usize,
    /// Where it came from.
    pub(crate) from: SocketAddr,
    /// `CLOCK_REALTIME` in nanoseconds since the Unix epoch when the kernel received it, if
    /// it said.
    pub(crate) stamp_nanos: Option<i64>,
}

/// Asks the kernel to stamp every datagram `socket` receives; logs once per process when it
/// cannot (the receive times then come from user space).
pub(crate) fn enable_receive_stamps(socket: &UdpSocket) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if let Err(error) = platform::enable_receive(socket) {
        warn_once(&WARNED, "receive", &error);
    }
}

/// Asks the kernel to stamp every datagram `socket` sends, for [`take_transmit_stamp`]; logs
/// once per process when it cannot (the transmit times then come from user space). Only for
/// sockets whose error queue is drained: the stamps wait there until read.
pub(crate) fn enable_transmit_stamps(socket: &UdpSocket) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if let Err(error) = platform::enable_transmit(socket) {
        warn_once(&WARNED, "transmit", &error);
    }
}

fn warn_once(warned: &AtomicBool, which: &str, error: &io::Error) {
    if !warned.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            target: "ntp_sync",
            %error,
            "no kernel {which} timestamps; reading those times in user space"
        );
    }
}

/// Drains the transmit stamps waiting on `socket`'s error queue, without waiting, and returns
/// the last (`CLOCK_REALTIME`, nanoseconds since the Unix epoch): the stamp of the datagram
/// sent last, once the kernel has sent it. Which send a stamp belongs to is for the caller to
/// judge by its time.
pub(crate) fn take_transmit_stamp(socket: &UdpSocket) -> Option<i64> {
    platform::take_transmit_stamp(socket)
}

/// Receives one datagram into `buffer`, with the kernel's receive timestamp when there is one.
///
/// # Errors
///
/// The socket's error, as `recv_from` would return it.
pub(crate) async fn recv_stamped(socket: &UdpSocket, buffer: &mut [u8]) -> io::Result<Datagram> {
    platform::recv(socket, buffer).await
}

#[cfg(target_os = "linux")]
mod platform {
    use std::io::{self, IoSliceMut};
    use std::net::SocketAddr;
    use std::os::fd::AsRawFd;

    use nix::sys::socket::{
        recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage,
        TimestampingFlag,
    };
    use nix::sys::time::TimeSpec;
    use tokio::io::Interest;
    use tokio::net::UdpSocket;

    use super::Datagram;

    /// Stamps on the error queue drained at once; more are old ones.
    const TRANSMIT_STAMPS_DRAINED: usize = 16;

    /// Room for every control message a datagram may come with: a stamp in each form
    /// (`SCM_TIMESTAMPNS`, `SCM_TIMESTAMPING`) and, on the error queue, the extended error
    /// with an address. Messages that do not fit are cut (MSG_CTRUNC), and then none is read.
    fn control_buffer() -> Vec<u8> {
        nix::cmsg_space!([TimeSpec; 16])
    }

    pub(super) fn enable_receive(socket: &UdpSocket) -> io::Result<()> {
        setsockopt(socket, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)
    }

    pub(super) fn enable_transmit(socket: &UdpSocket) -> io::Result<()> {
        // Software stamps taken as the datagram leaves, reported without the datagram's
        // bytes (OPT_TSONLY). Receive stamps keep coming through SO_TIMESTAMPNS.
        let flags = TimestampingFlag::SOF_TIMESTAMPING_TX_SOFTWARE
            | TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
            | TimestampingFlag::SOF_TIMESTAMPING_OPT_TSONLY;
        setsockopt(socket, sockopt::Timestamping, &flags).map_err(io::Error::from)
    }

    pub(super) fn take_transmit_stamp(socket: &UdpSocket) -> Option<i64> {
        let mut last = None;
        for _ in 0..TRANSMIT_STAMPS_DRAINED {
            let mut bytes = [0u8; 64];
            let mut iov = [IoSliceMut::new(&mut bytes)];
            let mut control = control_buffer();
            let flags = MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT;
            let fd = socket.as_raw_fd();
            // An empty queue answers EAGAIN: the loop ends there.
            let Ok(message) = recvmsg::<()>(fd, &mut iov, Some(&mut control), flags) else {
                break;
            };
            last = message.cmsgs().ok().and_then(stamp_nanos).or(last);
        }
        last
    }

    pub(super) async fn recv(socket: &UdpSocket, buffer: &mut [u8]) -> io::Result<Datagram> {
        socket
            .async_io(Interest::READABLE, || receive_now(socket, &mut *buffer))
            .await
    }

    /// One `recvmsg`; `WouldBlock` when nothing is queued, which `async_io` waits out.
    fn receive_now(socket: &UdpSocket, buffer: &mut [u8]) -> io::Result<Datagram> {
        let mut iov = [IoSliceMut::new(buffer)];
        let mut control = control_buffer();
        let flags = MsgFlags::MSG_DONTWAIT;
        let fd = socket.as_raw_fd();
        let message = recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut control), flags)
            .map_err(io::Error::from)?;
        let from = message.address.as_ref().and_then(socket_address);
        let from = from.ok_or_else(|| io::Error::other("datagram from no inet address"))?;
        // Control messages cut short (MSG_CTRUNC) are not read: no stamp then.
        let stamp_nanos = message.cmsgs().ok().and_then(stamp_nanos);
        Ok(Datagram {
            len: message.bytes,
            from,
            stamp_nanos,
        })
    }

    fn socket_address(address: &SockaddrStorage) -> Option<SocketAddr> {
        let v4 = address.as_sockaddr_in().map(|v4| SocketAddr::from(*v4));
        v4.or_else(|| address.as_sockaddr_in6().map(|v6| SocketAddr::from(*v6)))
    }

    /// The software timestamp among a datagram's control messages, in nanoseconds:
    /// `SCM_TIMESTAMPNS`, or the software field of `SCM_TIMESTAMPING` (which transmit stamps
    /// come in, and receive stamps too while both options are on).
    pub(super) fn stamp_nanos(
        messages: impl IntoIterator<Item = ControlMessageOwned>,
    ) -> Option<i64> {
        messages.into_iter().find_map(|message| match message {
            ControlMessageOwned::ScmTimestampns(time) => nanos(time),
            ControlMessageOwned::ScmTimestampsns(times) => nanos(times.system),
            _ => None,
        })
    }

    /// Nanoseconds since the Unix epoch; `None` for no time (zero, what the kernel leaves
    /// in an unused field) or one beyond 2262.
    // `time_t` and `c_long` are 32 bits wide on some targets; on this one the conversions
    // change nothing.
    #[allow(clippy::useless_conversion)]
    fn nanos(time: TimeSpec) -> Option<i64> {
        let secs = i64::try_from(time.tv_sec()).ok()?;
        let nanos = i64::try_from(time.tv_nsec()).ok()?;
        let total = secs.checked_mul(1_000_000_000)?.checked_add(nanos)?;
        (total != 0).then_some(total)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_stamp_is_read_from_its_control_message() {
            let stamp = ControlMessageOwned::ScmTimestampns(TimeSpec::new(1_700_000_000, 5));
            let other = || ControlMessageOwned::ScmTimestamp(nix::sys::time::TimeVal::new(9, 9));
            assert_eq!(
                stamp_nanos([other(), stamp]),
                Some(1_700_000_000_000_000_005)
            );
            assert_eq!(stamp_nanos([other()]), None);
            assert_eq!(stamp_nanos([]), None);
        }

        #[test]
        fn a_timestamping_message_gives_its_software_stamp() {
            let zero = TimeSpec::new(0, 0);
            let times = nix::sys::socket::Timestamps {
                system: TimeSpec::new(1_700_000_000, 7),
                hw_trans: zero,
                hw_raw: zero,
            };
            let message = ControlMessageOwned::ScmTimestampsns(times);
            assert_eq!(stamp_nanos([message]), Some(1_700_000_000_000_000_007));
            let empty = nix::sys::socket::Timestamps {
                system: zero,
                ..times
            };
            let message = ControlMessageOwned::ScmTimestampsns(empty);
            assert_eq!(stamp_nanos([message]), None);
        }

        #[test]
        fn a_stamp_beyond_the_nanosecond_range_is_no_stamp() {
            let far = ControlMessageOwned::ScmTimestampns(TimeSpec::new(i64::MAX / 10, 0));
            assert_eq!(stamp_nanos([far]), None);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use std::io;

    use tokio::net::UdpSocket;

    use super::Datagram;

    pub(super) fn enable_receive(_: &UdpSocket) -> io::Result<()> {
        Err(unsupported())
    }

    pub(super) fn enable_transmit(_: &UdpSocket) -> io::Result<()> {
        Err(unsupported())
    }

    pub(super) fn take_transmit_stamp(_: &UdpSocket) -> Option<i64> {
        None
    }

    fn unsupported() -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "kernel timestamps are read on Linux only",
        )
    }

    pub(super) async fn recv(socket: &UdpSocket, buffer: &mut [u8]) -> io::Result<Datagram> {
        let (len, from) = socket.recv_from(buffer).await?;
        Ok(Datagram {
            len,
            from,
            stamp_nanos: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::readings::realtime_nanos;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_loopback_datagram_carries_a_stamp_between_its_sending_and_its_reading() {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        enable_receive_stamps(&receiver);
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let before = realtime_nanos();
        sender
            .send_to(b"hello", receiver.local_addr().unwrap())
            .await
            .unwrap();
        let mut buffer = [0u8; 16];
        let received = tokio::time::timeout(
            Duration::from_secs(10),
            recv_stamped(&receiver, &mut buffer),
        );
        let datagram = received.await.unwrap().unwrap();
        let after = realtime_nanos();
        assert_eq!(&buffer[..datagram.len], b"hello");
        assert_eq!(datagram.from, sender.local_addr().unwrap());
        let stamp = datagram
            .stamp_nanos
            .expect("Linux stamps loopback datagrams");
        assert!(
            before <= stamp && stamp <= after,
            "{before} {stamp} {after}"
        );
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_sent_datagram_leaves_a_stamp_between_the_reads_around_the_send() {
        // As the client's sockets: both options on, bound to the wildcard address.
        let sender = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        enable_receive_stamps(&sender);
        enable_transmit_stamps(&sender);
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let before = realtime_nanos();
        let to = receiver.local_addr().unwrap();
        sender.send_to(b"out", to).await.unwrap();
        // The stamp comes back once the datagram has left: once it can be received.
        let mut buffer = [0u8; 16];
        let received = tokio::time::timeout(Duration::from_secs(10), receiver.recv(&mut buffer));
        received.await.unwrap().unwrap();
        let after = realtime_nanos();
        let stamp = take_transmit_stamp(&sender).expect("Linux stamps loopback sends");
        assert!(
            before <= stamp && stamp <= after,
            "{before} {stamp} {after}"
        );
        // Taken: the queue is empty now.
        assert_eq!(take_transmit_stamp(&sender), None);
    }

    #[tokio::test]
    async fn without_the_option_datagrams_come_unstamped() {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sender
            .send_to(b"x", receiver.local_addr().unwrap())
            .await
            .unwrap();
        let mut buffer = [0u8; 16];
        let received = tokio::time::timeout(
            Duration::from_secs(10),
            recv_stamped(&receiver, &mut buffer),
        );
        let datagram = received.await.unwrap().unwrap();
        assert_eq!((datagram.len, datagram.stamp_nanos), (1, None));
        assert_eq!(take_transmit_stamp(&sender), None);
    }
}
