//! The NTPv4 packet header codec (RFC 5905 §7.3): 48 bytes, big-endian.
//!
//! Decoding reads the fixed header and ignores what follows it: extension fields (RFC 7822)
//! and a MAC are tolerated and skipped, since this client uses neither.

use serde::{Deserialize, Serialize};

use crate::proto::timestamp::{NtpShort, NtpTimestamp};

/// Length of the fixed NTP header in bytes.
pub const HEADER_LEN: usize = 48;

/// The two-bit leap indicator.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum LeapIndicator {
    /// No leap second pending.
    NoWarning,
    /// The last minute of the day has 61 seconds.
    InsertSecond,
    /// The last minute of the day has 59 seconds.
    DeleteSecond,
    /// The clock is unsynchronised (the "alarm" condition).
    Unsynchronised,
}

impl LeapIndicator {
    fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0 => Self::NoWarning,
            1 => Self::InsertSecond,
            2 => Self::DeleteSecond,
            _ => Self::Unsynchronised,
        }
    }

    fn to_bits(self) -> u8 {
        match self {
            Self::NoWarning => 0,
            Self::InsertSecond => 1,
            Self::DeleteSecond => 2,
            Self::Unsynchronised => 3,
        }
    }
}

/// Association mode 3: a client request.
pub const MODE_CLIENT: u8 = 3;
/// Association mode 4: a server response.
pub const MODE_SERVER: u8 = 4;

/// A decoded NTP header. Field names follow RFC 5905 §7.3.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Packet {
    /// Leap indicator.
    pub leap: LeapIndicator,
    /// Version number (3 bits).
    pub version: u8,
    /// Association mode (3 bits): 3 client, 4 server.
    pub mode: u8,
    /// Stratum: 0 kiss-o'-death, 1 primary, 2 to 15 secondary, 16 unsynchronised.
    pub stratum: u8,
    /// Log2 of the poll interval in seconds.
    pub poll: i8,
    /// Log2 of the clock's precision in seconds.
    pub precision: i8,
    /// Round-trip delay to the reference clock.
    pub root_delay: NtpShort,
    /// Dispersion (error bound) relative to the reference clock.
    pub root_dispersion: NtpShort,
    /// Reference identifier, or the kiss code when the stratum is 0.
    pub reference_id: [u8; 4],
    /// When the server's clock was last set.
    pub reference: NtpTimestamp,
    /// The client's transmit timestamp, echoed back.
    pub origin: NtpTimestamp,
    /// When the server received the request.
    pub receive: NtpTimestamp,
    /// When the server sent the response (or the client its request).
    pub transmit: NtpTimestamp,
}

/// The input is too short to hold an NTP header.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("packet of {len} bytes is shorter than the 48-byte ntp header")]
pub struct TooShort {
    /// The length received.
    pub len: usize,
}

impl Packet {
    /// A client request (version 4, mode 3) carrying `transmit`, which the server echoes in
    /// its origin field. Send a random value rather than the time (RFC 9109, data
    /// minimisation): the reply then also proves the server saw this very request.
    pub fn client_request(transmit: NtpTimestamp) -> Self {
        Self {
            leap: LeapIndicator::NoWarning,
            version: 4,
            mode: MODE_CLIENT,
            stratum: 0,
            poll: 0,
            precision: 0,
            root_delay: NtpShort::default(),
            root_dispersion: NtpShort::default(),
            reference_id: [0; 4],
            reference: NtpTimestamp::ZERO,
            origin: NtpTimestamp::ZERO,
            receive: NtpTimestamp::ZERO,
            transmit,
        }
    }

    /// Decodes the header at the start of `bytes`; anything after it is ignored.
    ///
    /// # Errors
    ///
    /// [`TooShort`] when `bytes` holds fewer than 48 bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, TooShort> {
        let header: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(TooShort { len: bytes.len() })?;
        Ok(Self {
            leap: LeapIndicator::from_bits(header[0] >> 6),
            version: header[0] >> 3 & 0b111,
            mode: header[0] & 0b111,
            stratum: header[1],
            poll: header[2] as i8,
            precision: header[3] as i8,
            root_delay: NtpShort::from_bits(be32(header, 4)),
            root_dispersion: NtpShort::from_bits(be32(header, 8)),
            reference_id: [header[12], header[13], header[14], header[15]],
            reference: NtpTimestamp::from_bits(be64(header, 16)),
            origin: NtpTimestamp::from_bits(be64(header, 24)),
            receive: NtpTimestamp::from_bits(be64(header, 32)),
            transmit: NtpTimestamp::from_bits(be64(header, 40)),
        })
    }

    /// The 48-byte wire form. Version and mode are masked to their 3 bits.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0] = self.leap.to_bits() << 6 | (self.version & 0b111) << 3 | self.mode & 0b111;
        out[1] = self.stratum;
        out[2] = self.poll as u8;
        out[3] = self.precision as u8;
        out[4..8].copy_from_slice(&self.root_delay.to_bits().to_be_bytes());
        out[8..12].copy_from_slice(&self.root_dispersion.to_bits().to_be_bytes());
        out[12..16].copy_from_slice(&self.reference_id);
        let stamps = [self.reference, self.origin, self.receive, self.transmit];
        for (slot, stamp) in out[16..].chunks_exact_mut(8).zip(stamps) {
            slot.copy_from_slice(&stamp.to_bits().to_be_bytes());
        }
        out
    }
}

fn be32(header: &[u8; HEADER_LEN], at: usize) -> u32 {
    u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
}

fn be64(header: &[u8; HEADER_LEN], at: usize) -> u64 {
    (u64::from(be32(header, at)) << 32) | u64::from(be32(header, at + 4))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn arb_packet() -> impl Strategy<Value = Packet> {
        (any::<[u8; HEADER_LEN]>()).prop_map(|bytes| Packet::decode(&bytes).unwrap())
    }

    #[test]
    fn decodes_a_chrony_response_captured_on_loopback() {
        // chronyd 4.3 answering while unsynchronised: LI 3, stratum 0, empty reference id.
        let hex = "e40000e600010000000100000000000000000000000000001234567890abcdef\
                   eeac28a831685993eeac28a8316e2a9a";
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let packet = Packet::decode(&bytes).unwrap();
        assert_eq!(packet.leap, LeapIndicator::Unsynchronised);
        assert_eq!((packet.version, packet.mode, packet.stratum), (4, 4, 0));
        assert_eq!(packet.precision, -26);
        assert_eq!(packet.root_delay.to_bits(), 0x0001_0000);
        assert_eq!(packet.origin.to_bits(), 0x1234_5678_90ab_cdef);
        assert_eq!(packet.encode().as_slice(), bytes.as_slice());
    }

    #[test]
    fn short_input_is_refused() {
        assert_eq!(Packet::decode(&[0u8; 47]), Err(TooShort { len: 47 }));
        assert_eq!(
            Packet::decode(&[]).unwrap_err().to_string(),
            "packet of 0 bytes is shorter than the 48-byte ntp header"
        );
    }

    #[test]
    fn extension_fields_after_the_header_are_skipped() {
        let request = Packet::client_request(NtpTimestamp::from_bits(42));
        let mut bytes = request.encode().to_vec();
        // An RFC 7822 extension field: type 0x0104, length 16, then padding.
        bytes.extend_from_slice(&[0x01, 0x04, 0x00, 0x10]);
        bytes.extend_from_slice(&[0u8; 12]);
        assert_eq!(Packet::decode(&bytes), Ok(request));
    }

    #[test]
    fn client_request_is_version_4_mode_3() {
        let bytes = Packet::client_request(NtpTimestamp::from_bits(7)).encode();
        assert_eq!(bytes[0], 0b00_100_011);
        assert_eq!(&bytes[40..], &7u64.to_be_bytes());
    }

    proptest! {
        #[test]
        fn prop_bytes_round_trip(bytes in any::<[u8; HEADER_LEN]>()) {
            prop_assert_eq!(Packet::decode(&bytes).unwrap().encode(), bytes);
        }

        #[test]
        fn prop_packets_round_trip(packet in arb_packet()) {
            prop_assert_eq!(Packet::decode(&packet.encode()).unwrap(), packet);
        }
    }
}
