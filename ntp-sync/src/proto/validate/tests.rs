use super::*;
use crate::proto::timestamp::NtpShort;
use proptest::prelude::*;

const SERVER: &str = "127.0.0.1:123";
const ORIGIN: NtpTimestamp = NtpTimestamp::from_bits(0x0123_4567_89ab_cdef);

fn server() -> SocketAddr {
    SERVER.parse().unwrap()
}

fn expected() -> Expected {
    Expected {
        server: server(),
        origin: ORIGIN,
        last_transmit: None,
    }
}

pub(crate) fn good_response() -> Packet {
    let now = NtpTimestamp::from_unix_nanos(1_700_000_000_000_000_000);
    Packet {
        leap: LeapIndicator::NoWarning,
        version: 4,
        mode: MODE_SERVER,
        stratum: 2,
        poll: 4,
        precision: -20,
        root_delay: NtpShort::from_nanos(2_000_000),
        root_dispersion: NtpShort::from_nanos(1_000_000),
        reference_id: *b"GPS\0",
        reference: NtpTimestamp::from_unix_nanos(1_699_999_990_000_000_000),
        origin: ORIGIN,
        receive: now,
        transmit: now,
    }
}

fn check(packet: Packet) -> Result<Packet, ResponseError> {
    validate_response(&packet.encode(), server(), &expected())
}

#[test]
fn a_good_response_passes() {
    assert_eq!(check(good_response()), Ok(good_response()));
}

#[test]
fn a_reference_updated_at_the_transmit_instant_is_accepted() {
    // Only a reference after the transmit time is impossible; the same instant is not.
    let good = good_response();
    let same = Packet {
        reference: good.transmit,
        ..good
    };
    assert_eq!(check(same), Ok(same));
}

#[test]
fn version_3_is_accepted() {
    assert!(check(Packet {
        version: 3,
        ..good_response()
    })
    .is_ok());
}

#[test]
fn short_responses_are_refused() {
    let bytes = good_response().encode();
    let result = validate_response(&bytes[..40], server(), &expected());
    assert_eq!(result, Err(ResponseError::TooShort { len: 40 }));
}

#[test]
fn responses_from_another_address_are_refused() {
    let other: SocketAddr = "127.0.0.1:124".parse().unwrap();
    let result = validate_response(&good_response().encode(), other, &expected());
    assert_eq!(
        result,
        Err(ResponseError::WrongSource {
            expected: server(),
            actual: other
        })
    );
}

#[test]
fn each_bad_field_has_its_own_error() {
    let good = good_response();
    let cases = [
        (Packet { version: 2, ..good }, ResponseError::BadVersion(2)),
        (Packet { version: 5, ..good }, ResponseError::BadVersion(5)),
        (Packet { mode: 3, ..good }, ResponseError::BadMode(3)),
        (
            Packet {
                origin: NtpTimestamp::from_bits(1),
                ..good
            },
            ResponseError::BogusOrigin,
        ),
        (
            Packet {
                leap: LeapIndicator::Unsynchronised,
                ..good
            },
            ResponseError::ServerUnsynchronised,
        ),
        (
            Packet {
                stratum: 16,
                ..good
            },
            ResponseError::StratumTooHigh(16),
        ),
        (
            Packet {
                receive: NtpTimestamp::ZERO,
                ..good
            },
            ResponseError::ZeroReceive,
        ),
        (
            Packet {
                transmit: NtpTimestamp::ZERO,
                ..good
            },
            ResponseError::ZeroTransmit,
        ),
        (
            Packet {
                reference: NtpTimestamp::from_unix_nanos(1_700_000_001_000_000_000),
                ..good
            },
            ResponseError::ReferenceAfterTransmit,
        ),
    ];
    for (packet, error) in cases {
        assert_eq!(check(packet), Err(error), "{packet:?}");
    }
}

#[test]
fn a_repeated_transmit_timestamp_is_a_duplicate() {
    let good = good_response();
    let seen = Expected {
        last_transmit: Some(good.transmit),
        ..expected()
    };
    assert_eq!(
        validate_response(&good.encode(), server(), &seen),
        Err(ResponseError::Duplicate)
    );
}

#[test]
fn root_distance_of_16_seconds_is_refused() {
    let packet = Packet {
        root_delay: NtpShort::from_nanos(2_000_000_000),
        root_dispersion: NtpShort::from_nanos(15_000_000_000),
        ..good_response()
    };
    assert_eq!(
        check(packet),
        Err(ResponseError::RootDistanceTooLarge {
            nanos: 16_000_000_000
        })
    );
}

#[test]
fn kiss_codes_are_recognised() {
    for (id, code) in [
        (*b"DENY", KissCode::Deny),
        (*b"RSTR", KissCode::Restrict),
        (*b"RATE", KissCode::Rate),
        (*b"XYZ\0", KissCode::Other(*b"XYZ\0")),
    ] {
        let kod = Packet {
            stratum: 0,
            reference_id: id,
            ..good_response()
        };
        assert_eq!(check(kod), Err(ResponseError::KissOfDeath(code)));
        assert_eq!(code.to_reference_id(), id);
    }
    assert_eq!(KissCode::Other(*b"XYZ\0").to_string(), "XYZ.");
}

#[test]
fn a_kiss_with_a_wrong_origin_is_only_a_bogus_origin() {
    let forged = Packet {
        stratum: 0,
        reference_id: *b"DENY",
        origin: NtpTimestamp::from_bits(99),
        ..good_response()
    };
    assert_eq!(check(forged), Err(ResponseError::BogusOrigin));
}

#[test]
fn an_unsynchronised_chronyd_reads_as_unsynchronised_not_as_a_kiss() {
    let unsynced = Packet {
        stratum: 0,
        leap: LeapIndicator::Unsynchronised,
        reference_id: [0; 4],
        ..good_response()
    };
    assert_eq!(check(unsynced), Err(ResponseError::ServerUnsynchronised));
}

#[test]
fn a_zero_reference_timestamp_is_not_after_transmit() {
    let never_set = Packet {
        reference: NtpTimestamp::ZERO,
        ..good_response()
    };
    assert!(check(never_set).is_ok());
}

#[test]
fn error_messages_are_lowercase_without_a_trailing_period() {
    let errors = [
        ResponseError::BogusOrigin,
        ResponseError::KissOfDeath(KissCode::Rate),
        ResponseError::StratumTooHigh(16),
        ResponseError::RootDistanceTooLarge { nanos: 1 },
    ];
    for error in errors {
        let text = error.to_string();
        assert!(!text.ends_with('.'), "{text}");
        assert_eq!(
            text.chars().next().map(char::is_lowercase),
            Some(true),
            "{text}"
        );
    }
    assert_eq!(
        ResponseError::KissOfDeath(KissCode::Rate).to_string(),
        "kiss-o'-death RATE"
    );
}

proptest! {
    #[test]
    fn prop_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let result = validate_response(&bytes, server(), &expected());
        if bytes.len() < 48 {
            prop_assert_eq!(result, Err(ResponseError::TooShort { len: bytes.len() }));
        }
    }

    #[test]
    fn prop_accepted_responses_pass_every_check(packet in crate::proto::packet::tests::arb_packet()) {
        let with_origin = Packet { origin: ORIGIN, ..packet };
        if let Ok(accepted) = check(with_origin) {
            prop_assert_eq!(accepted.mode, MODE_SERVER);
            prop_assert!(accepted.stratum >= 1 && accepted.stratum < 16);
            prop_assert!(accepted.leap != LeapIndicator::Unsynchronised);
            prop_assert!(!accepted.receive.is_zero() && !accepted.transmit.is_zero());
            prop_assert!(root_distance_nanos(&accepted) < MAX_ROOT_DISTANCE_NANOS);
        }
    }
}
