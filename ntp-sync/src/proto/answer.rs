//! The server side of an exchange, without I/O: turn a client request into a response from
//! given receive and transmit times. The tokio [`Responder`](crate::Responder) and the
//! [simulation](crate::proto::sim) both answer through it.

use serde::{Deserialize, Serialize};

use crate::proto::packet::{LeapIndicator, Packet, HEADER_LEN, MODE_CLIENT, MODE_SERVER};
use crate::proto::timestamp::{NtpShort, NtpTimestamp};
use crate::proto::validate::KissCode;

/// How a server describes itself in its responses, and the faults it may inject.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ServerParams {
    /// Stratum (1 to 15 for a synchronised server).
    pub stratum: u8,
    /// Leap indicator; `Unsynchronised` makes every response unusable.
    pub leap: LeapIndicator,
    /// Log2 of the clock's precision in seconds.
    pub precision: i8,
    /// Root delay in nanoseconds.
    pub root_delay_nanos: i64,
    /// Root dispersion in nanoseconds: how far the server admits its clock may be off.
    pub root_dispersion_nanos: i64,
    /// Reference id (ignored when `kiss` is set).
    pub reference_id: [u8; 4],
    /// Answer every request with this kiss-o'-death instead of the time.
    pub kiss: Option<KissCode>,
    /// Echo a wrong origin timestamp, as a spoofed or misrouted response would.
    pub spoof_origin: bool,
}

impl Default for ServerParams {
    fn default() -> Self {
        Self {
            stratum: 2,
            leap: LeapIndicator::NoWarning,
            precision: -20,
            root_delay_nanos: 0,
            root_dispersion_nanos: 1_000_000,
            reference_id: *b"LOCL",
            kiss: None,
            spoof_origin: false,
        }
    }
}

/// The response to `request`, received at `receive_nanos` and answered at `transmit_nanos`
/// (server clock, nanoseconds since the Unix epoch), or `None` when `request` is not an NTP
/// client request (too short, wrong mode or version), which a server must not answer.
pub fn answer(
    request: &[u8],
    receive_nanos: i64,
    transmit_nanos: i64,
    params: &ServerParams,
) -> Option<[u8; HEADER_LEN]> {
    let request = Packet::decode(request).ok()?;
    if request.mode != MODE_CLIENT || !(1..=4).contains(&request.version) {
        return None;
    }
    let mut response = response_to(&request, receive_nanos, transmit_nanos, params);
    if let Some(code) = params.kiss {
        // RFC 5905 §7.4: stratum 0 and the code in the reference id; LI 3 as chrony sends.
        response.stratum = 0;
        response.leap = LeapIndicator::Unsynchronised;
        response.reference_id = code.to_reference_id();
    }
    Some(response.encode())
}

fn response_to(
    request: &Packet,
    receive_nanos: i64,
    transmit_nanos: i64,
    params: &ServerParams,
) -> Packet {
    let origin = match params.spoof_origin {
        true => NtpTimestamp::from_bits(!request.transmit.to_bits()),
        false => request.transmit,
    };
    Packet {
        leap: params.leap,
        version: request.version,
        mode: MODE_SERVER,
        stratum: params.stratum,
        poll: request.poll,
        precision: params.precision,
        root_delay: NtpShort::from_nanos(params.root_delay_nanos),
        root_dispersion: NtpShort::from_nanos(params.root_dispersion_nanos),
        reference_id: params.reference_id,
        // The clock was "set" a second before; only its order against transmit matters.
        reference: NtpTimestamp::from_unix_nanos(receive_nanos.saturating_sub(1_000_000_000)),
        origin,
        receive: NtpTimestamp::from_unix_nanos(receive_nanos),
        transmit: NtpTimestamp::from_unix_nanos(transmit_nanos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000_000_000;

    fn request(transmit: u64) -> [u8; HEADER_LEN] {
        Packet::client_request(NtpTimestamp::from_bits(transmit)).encode()
    }

    #[test]
    fn answers_a_client_request_with_its_times() {
        let bytes = answer(&request(77), NOW, NOW + 5, &ServerParams::default()).unwrap();
        let response = Packet::decode(&bytes).unwrap();
        assert_eq!(response.mode, MODE_SERVER);
        assert_eq!(response.origin.to_bits(), 77);
        assert_eq!(response.receive, NtpTimestamp::from_unix_nanos(NOW));
        assert_eq!(response.transmit, NtpTimestamp::from_unix_nanos(NOW + 5));
        assert_eq!(response.stratum, 2);
    }

    #[test]
    fn a_clock_at_the_end_of_its_range_is_answered_without_overflow() {
        // A responder's clock saturates at the ends of i64 under extreme offsets or drifts.
        for at in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let bytes = answer(&request(1), at, at, &ServerParams::default()).unwrap();
            let response = Packet::decode(&bytes).unwrap();
            assert_eq!(response.receive, NtpTimestamp::from_unix_nanos(at));
        }
    }

    #[test]
    fn ignores_what_is_not_a_client_request() {
        let params = ServerParams::default();
        assert!(answer(&[0u8; 20], NOW, NOW, &params).is_none());
        let mut server_mode = request(1);
        server_mode[0] = 0b00_100_100;
        assert!(answer(&server_mode, NOW, NOW, &params).is_none());
        let mut version_zero = request(1);
        version_zero[0] = 0b00_000_011;
        assert!(answer(&version_zero, NOW, NOW, &params).is_none());
    }

    #[test]
    fn kisses_and_spoofs_on_request() {
        let params = ServerParams {
            kiss: Some(KissCode::Rate),
            spoof_origin: true,
            ..ServerParams::default()
        };
        let response = Packet::decode(&answer(&request(5), NOW, NOW, &params).unwrap()).unwrap();
        assert_eq!((response.stratum, response.reference_id), (0, *b"RATE"));
        assert_ne!(response.origin.to_bits(), 5);
    }
}
