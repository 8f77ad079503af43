//! Checks a server's response before any of its timestamps are used (RFC 5905 §8 and §13,
//! RFC 4330 §5, and the sanity tests chrony applies).
//!
//! Every failed check is its own [`ResponseError`] variant, so the reason a server is unusable
//! can be shown per source. The origin check comes before the kiss-o'-death check: a KoD whose
//! origin does not match our request could be forged by anyone on the path (RFC 5905 §7.4).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::proto::packet::{LeapIndicator, Packet, TooShort, MODE_SERVER};
use crate::proto::timestamp::NtpTimestamp;

/// RFC 5905's MAXDISP: a root distance (root delay / 2 + root dispersion) at or beyond 16 s
/// means the server's time is worthless.
pub const MAX_ROOT_DISTANCE_NANOS: i64 = 16_000_000_000;

/// A kiss-o'-death code: the reference id of a stratum-0 response (RFC 5905 §7.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum KissCode {
    /// `DENY`: access denied; stop using this server.
    Deny,
    /// `RSTR`: access restricted; stop using this server.
    Restrict,
    /// `RATE`: polling too fast; poll less often.
    Rate,
    /// Any other code; RFC 5905 says to ignore it (no action), though the response is
    /// unusable.
    Other([u8; 4]),
}

impl KissCode {
    /// The code in a reference id.
    pub fn from_reference_id(id: [u8; 4]) -> Self {
        match &id {
            b"DENY" => Self::Deny,
            b"RSTR" => Self::Restrict,
            b"RATE" => Self::Rate,
            _ => Self::Other(id),
        }
    }

    /// Whether the client must act on the code: DENY, RSTR and RATE.
    pub fn demands_action(self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The four bytes on the wire.
    pub fn to_reference_id(self) -> [u8; 4] {
        match self {
            Self::Deny => *b"DENY",
            Self::Restrict => *b"RSTR",
            Self::Rate => *b"RATE",
            Self::Other(id) => id,
        }
    }
}

impl std::fmt::Display for KissCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.to_reference_id() {
            let shown = if byte.is_ascii_graphic() {
                byte as char
            } else {
                '.'
            };
            write!(f, "{shown}")?;
        }
        Ok(())
    }
}

/// Why a response was not used. Each check of the response has its own variant.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ResponseError {
    /// Fewer than 48 bytes.
    #[error("response of {len} bytes is shorter than the 48-byte ntp header")]
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// The response came from another address than the one queried.
    #[error("response came from {actual}, not from the server queried at {expected}")]
    WrongSource {
        /// The address queried.
        expected: SocketAddr,
        /// The address the response came from.
        actual: SocketAddr,
    },
    /// Version other than 3 or 4.
    #[error("unsupported ntp version {0}")]
    BadVersion(u8),
    /// Mode other than 4 (server).
    #[error("mode {0} is not a server response")]
    BadMode(u8),
    /// The origin timestamp is not the transmit value of our request: a stale, spoofed or
    /// misrouted response.
    #[error("origin timestamp does not match the request")]
    BogusOrigin,
    /// The same response (same transmit timestamp) was seen before.
    #[error("duplicate response")]
    Duplicate,
    /// A kiss-o'-death (stratum 0) with its code.
    #[error("kiss-o'-death {0}")]
    KissOfDeath(KissCode),
    /// Leap indicator 3: the server says its clock is unsynchronised.
    #[error("server unsynchronised (leap indicator 3)")]
    ServerUnsynchronised,
    /// Stratum 16 or more: the server is unsynchronised.
    #[error("server unsynchronised (stratum {0})")]
    StratumTooHigh(u8),
    /// The receive timestamp is zero.
    #[error("receive timestamp is zero")]
    ZeroReceive,
    /// The transmit timestamp is zero.
    #[error("transmit timestamp is zero")]
    ZeroTransmit,
    /// The server claims its clock was set after it sent the response.
    #[error("reference timestamp is after the transmit timestamp")]
    ReferenceAfterTransmit,
    /// Root delay / 2 + root dispersion is 16 s or more.
    #[error("root distance {nanos} ns is not below 16 s")]
    RootDistanceTooLarge {
        /// The root distance in nanoseconds.
        nanos: i64,
    },
}

impl From<TooShort> for ResponseError {
    fn from(short: TooShort) -> Self {
        Self::TooShort { len: short.len }
    }
}

/// What the client knows about the request a response should answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Expected {
    /// The address the request was sent to.
    pub server: SocketAddr,
    /// The (random) transmit value the request carried.
    pub origin: NtpTimestamp,
    /// The transmit timestamp of the last response accepted from this server, if any.
    pub last_transmit: Option<NtpTimestamp>,
}

/// Decodes `bytes` received from `from` and checks them against the request; a response that
/// passes can be turned into a [`Sample`](crate::proto::sample::Sample).
///
/// # Errors
///
/// The first check that fails, as a [`ResponseError`].
pub fn validate_response(
    bytes: &[u8],
    from: SocketAddr,
    expected: &Expected,
) -> Result<Packet, ResponseError> {
    let packet = Packet::decode(bytes)?;
    if from != expected.server {
        return Err(ResponseError::WrongSource {
            expected: expected.server,
            actual: from,
        });
    }
    check_header(&packet)?;
    check_request_match(&packet, expected)?;
    check_kiss(&packet)?;
    check_synchronised(&packet)?;
    check_timestamps(&packet)?;
    check_root_distance(&packet)?;
    Ok(packet)
}

fn check_header(packet: &Packet) -> Result<(), ResponseError> {
    if !matches!(packet.version, 3 | 4) {
        return Err(ResponseError::BadVersion(packet.version));
    }
    if packet.mode != MODE_SERVER {
        return Err(ResponseError::BadMode(packet.mode));
    }
    Ok(())
}

fn check_request_match(packet: &Packet, expected: &Expected) -> Result<(), ResponseError> {
    if packet.origin != expected.origin {
        return Err(ResponseError::BogusOrigin);
    }
    if expected.last_transmit == Some(packet.transmit) {
        return Err(ResponseError::Duplicate);
    }
    Ok(())
}

fn check_kiss(packet: &Packet) -> Result<(), ResponseError> {
    if packet.stratum != 0 {
        return Ok(());
    }
    match KissCode::from_reference_id(packet.reference_id) {
        // chronyd answers this way while it has no reference: report what it means.
        KissCode::Other(_) if packet.leap == LeapIndicator::Unsynchronised => {
            Err(ResponseError::ServerUnsynchronised)
        }
        code => Err(ResponseError::KissOfDeath(code)),
    }
}

fn check_synchronised(packet: &Packet) -> Result<(), ResponseError> {
    if packet.leap == LeapIndicator::Unsynchronised {
        return Err(ResponseError::ServerUnsynchronised);
    }
    if packet.stratum >= 16 {
        return Err(ResponseError::StratumTooHigh(packet.stratum));
    }
    Ok(())
}

fn check_timestamps(packet: &Packet) -> Result<(), ResponseError> {
    if packet.receive.is_zero() {
        return Err(ResponseError::ZeroReceive);
    }
    if packet.transmit.is_zero() {
        return Err(ResponseError::ZeroTransmit);
    }
    // A zero reference means "never set" (RFC 5905 §7.3), not a time to compare.
    let reference_known = !packet.reference.is_zero();
    if reference_known && packet.transmit.nanos_since(packet.reference) < 0 {
        return Err(ResponseError::ReferenceAfterTransmit);
    }
    Ok(())
}

fn check_root_distance(packet: &Packet) -> Result<(), ResponseError> {
    let nanos = root_distance_nanos(packet);
    if nanos >= MAX_ROOT_DISTANCE_NANOS {
        return Err(ResponseError::RootDistanceTooLarge { nanos });
    }
    Ok(())
}

/// Root delay / 2 + root dispersion: how far the server's clock may be from true time.
pub(crate) fn root_distance_nanos(packet: &Packet) -> i64 {
    packet.root_delay.to_nanos() / 2 + packet.root_dispersion.to_nanos()
}

#[cfg(test)]
mod tests;
