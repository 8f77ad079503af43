//! Arbitrary bytes as a server's response: decode, validate against a pending request, and
//! when accepted turn into a sample and select over it. Nothing may panic, and whatever is
//! accepted must have passed every check and yield a sample with a non-negative delay and
//! radius.
#![no_main]

use std::net::SocketAddr;

use hlc_fuzz::tally;
use libfuzzer_sys::fuzz_target;
use ntp_sync::proto::packet::{Packet, MODE_SERVER};
use ntp_sync::proto::sample::{LocalTimes, Sample, SampleParams};
use ntp_sync::proto::select::{select, Candidate};
use ntp_sync::proto::timestamp::NtpTimestamp;
use ntp_sync::proto::validate::{validate_response, Expected};

const SERVER: ([u8; 4], u16) = ([127, 0, 0, 1], 123);
const LOCAL_NANOS: i64 = 1_700_000_000_000_000_000;

fuzz_target!(|data: &[u8]| {
    let server = SocketAddr::from(SERVER);
    // The origin the request carried: the input's own origin field for inputs starting with
    // an even byte (so the fuzzer reaches the checks after the origin check), another value
    // for odd ones (so the origin check itself is exercised).
    let echoed = data
        .get(24..32)
        .map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap_or_default()));
    let origin = echoed ^ u64::from(data.first().is_some_and(|b| b % 2 == 1));
    let expected = Expected {
        server,
        origin: NtpTimestamp::from_bits(origin),
        last_transmit: None,
    };
    let validated = validate_response(data, server, &expected);
    tally::count("validated", validated.is_ok());
    let Ok(packet) = validated else {
        return;
    };
    assert_eq!(Packet::decode(data).map(|p| p.origin.to_bits()), Ok(origin));
    assert_eq!(packet.mode, MODE_SERVER);
    assert!(packet.stratum > 0 && packet.stratum < 16);
    let local = LocalTimes {
        sent_nanos: LOCAL_NANOS,
        received_nanos: LOCAL_NANOS + 1_000_000,
    };
    let sample = Sample::from_exchange(local, &packet, &SampleParams::default());
    assert!(
        sample.delay_nanos >= 0 && sample.radius_nanos > 0,
        "{sample:?}"
    );
    let candidate = Candidate::around(sample.offset_nanos, sample.radius_nanos);
    assert!(select(&[candidate]).combined.is_some());
});
