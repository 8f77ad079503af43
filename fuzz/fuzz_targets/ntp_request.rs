//! Arbitrary bytes as a request to the NTP responder, which `ntp-sync serve` runs: both
//! answer every datagram through `server::answer`. The first [`SETUP_LEN`] bytes choose what
//! the responder is configured with (its faults, as `--fault` and `--stratum` set them, and
//! its receive and transmit times, any `i64` since the responder's offsets and drift
//! saturate); the rest is the datagram.
//!
//! Nothing may panic; a datagram is answered exactly when it is an NTP client request
//! (48 bytes or more, mode 3, version 1 to 4); the answer echoes the request's version, poll
//! and transmit timestamp and carries the configured times and faults; and an answer without
//! faults to a version 3 or 4 request passes this crate's own client checks.
#![no_main]

use std::net::SocketAddr;

use hlc_fuzz::tally;
use libfuzzer_sys::fuzz_target;
use ntp_sync::proto::answer::{answer, ServerParams};
use ntp_sync::proto::packet::{LeapIndicator, Packet, HEADER_LEN, MODE_CLIENT, MODE_SERVER};
use ntp_sync::proto::timestamp::{NtpShort, NtpTimestamp};
use ntp_sync::proto::validate::{validate_response, Expected, KissCode, ResponseError};

/// Bytes of responder configuration in front of the datagram.
const SETUP_LEN: usize = 39;
/// The address the client queried, and the answer comes from.
const SERVER: ([u8; 4], u16) = ([127, 0, 0, 1], 123);
const NANOS_PER_SEC: i64 = 1_000_000_000;

/// What the responder is configured with.
struct Setup {
    params: ServerParams,
    receive_nanos: i64,
    transmit_nanos: i64,
}

/// Byte 0: bit 0 spoofs the origin, bits 1-2 the leap indicator, bits 3-5 the kiss code
/// (4 DENY, 5 RSTR, 6 RATE, 7 the reference id, below 4 none); byte 1 stratum; byte 2
/// precision; bytes 3-6 reference id; then root delay, root dispersion, receive and transmit
/// nanoseconds as big-endian `i64`.
fn setup(bytes: &[u8; SETUP_LEN]) -> Setup {
    let flags = bytes[0];
    let reference_id = [bytes[3], bytes[4], bytes[5], bytes[6]];
    let leap = match flags >> 1 & 0b11 {
        0 => LeapIndicator::NoWarning,
        1 => LeapIndicator::InsertSecond,
        2 => LeapIndicator::DeleteSecond,
        _ => LeapIndicator::Unsynchronised,
    };
    let kiss = match flags >> 3 & 0b111 {
        4 => Some(KissCode::Deny),
        5 => Some(KissCode::Restrict),
        6 => Some(KissCode::Rate),
        7 => Some(KissCode::from_reference_id(reference_id)),
        _ => None,
    };
    let i64_at = |at: usize| i64::from_be_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    Setup {
        params: ServerParams {
            stratum: bytes[1],
            leap,
            precision: bytes[2] as i8,
            root_delay_nanos: i64_at(7),
            root_dispersion_nanos: i64_at(15),
            reference_id,
            kiss,
            spoof_origin: flags & 1 == 1,
        },
        receive_nanos: i64_at(23),
        transmit_nanos: i64_at(31),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((config, request)) = data.split_first_chunk::<SETUP_LEN>() else {
        return;
    };
    let setup = setup(config);
    let response = answer(
        request,
        setup.receive_nanos,
        setup.transmit_nanos,
        &setup.params,
    );
    tally::count("answered", response.is_some());
    assert_eq!(response.is_some(), is_client_request(request));
    let Some(bytes) = response else { return };
    let request = Packet::decode(request).expect("an answered request decodes");
    let response = Packet::decode(&bytes).expect("an answer decodes");
    check_answer(&request, &response, &setup);
    check_client_verdict(&request, &bytes, &response, &setup);
});

/// The rule a responder must follow (RFC 5905 §9.2: answer mode 3 with mode 4), read from the
/// raw first byte rather than through the decoder.
fn is_client_request(request: &[u8]) -> bool {
    let Some(&first) = request.first() else {
        return false;
    };
    let version = first >> 3 & 0b111;
    request.len() >= HEADER_LEN && first & 0b111 == MODE_CLIENT && (1..=4).contains(&version)
}

fn check_answer(request: &Packet, response: &Packet, setup: &Setup) {
    let params = &setup.params;
    assert_eq!(response.mode, MODE_SERVER);
    assert_eq!(response.version, request.version);
    assert_eq!(response.poll, request.poll);
    assert_eq!(response.precision, params.precision);
    let spoof_mask = if params.spoof_origin { u64::MAX } else { 0 };
    assert_eq!(
        response.origin.to_bits(),
        request.transmit.to_bits() ^ spoof_mask
    );
    assert_eq!(
        response.receive,
        NtpTimestamp::from_unix_nanos(setup.receive_nanos)
    );
    assert_eq!(
        response.transmit,
        NtpTimestamp::from_unix_nanos(setup.transmit_nanos)
    );
    assert_eq!(
        response.root_delay,
        NtpShort::from_nanos(params.root_delay_nanos)
    );
    assert_eq!(
        response.root_dispersion,
        NtpShort::from_nanos(params.root_dispersion_nanos)
    );
    match params.kiss {
        // RFC 5905 §7.4: a kiss-o'-death is stratum 0 with the code as reference id.
        Some(code) => {
            assert_eq!(response.stratum, 0);
            assert_eq!(response.reference_id, code.to_reference_id());
            assert_eq!(response.leap, LeapIndicator::Unsynchronised);
        }
        None => {
            assert_eq!(response.stratum, params.stratum);
            assert_eq!(response.reference_id, params.reference_id);
            assert_eq!(response.leap, params.leap);
        }
    }
}

/// What this crate's client makes of the answer: faults are caught by the check meant for
/// them, and an answer without faults, at plausible times, is accepted.
fn check_client_verdict(request: &Packet, bytes: &[u8], response: &Packet, setup: &Setup) {
    if !matches!(request.version, 3 | 4) {
        return;
    }
    let server = SocketAddr::from(SERVER);
    let expected = Expected {
        server,
        origin: request.transmit,
        last_transmit: None,
    };
    let verdict = validate_response(bytes, server, &expected);
    let params = &setup.params;
    if params.spoof_origin {
        assert_eq!(verdict, Err(ResponseError::BogusOrigin));
    } else if let Some(code) = params.kiss {
        // A code that demands nothing, with leap 3, reads as chronyd's "no reference yet".
        let reason = if code.demands_action() {
            ResponseError::KissOfDeath(code)
        } else {
            ResponseError::ServerUnsynchronised
        };
        assert_eq!(verdict, Err(reason), "{code:?}");
    } else if honest(response, setup) {
        tally::count("accepted by the client", verdict.is_ok());
        assert!(verdict.is_ok(), "{verdict:?}");
    }
}

/// Synchronised, with a root distance well below 16 s (RFC 5905's MAXDISP), non-zero times
/// and a transmit time at most a second after the receive time.
fn honest(response: &Packet, setup: &Setup) -> bool {
    let params = &setup.params;
    let root_distance = params.root_delay_nanos.clamp(0, 30 * NANOS_PER_SEC) / 2
        + params.root_dispersion_nanos.clamp(0, 30 * NANOS_PER_SEC);
    let turnaround = setup.transmit_nanos.checked_sub(setup.receive_nanos);
    (1..16).contains(&params.stratum)
        && params.leap != LeapIndicator::Unsynchronised
        && root_distance < 15 * NANOS_PER_SEC
        && !response.receive.is_zero()
        && !response.transmit.is_zero()
        && turnaround.is_some_and(|nanos| (0..=NANOS_PER_SEC).contains(&nanos))
}
