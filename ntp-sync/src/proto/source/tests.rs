use super::*;
use crate::proto::answer::{answer, ServerParams};

const NOW: i64 = 1_700_000_000_000_000_000;
const MS: i64 = 1_000_000;

fn addr() -> SocketAddr {
    "127.0.0.1:123".parse().unwrap()
}

fn source() -> Source {
    Source::new("test", Some(addr()), &PollConfig::default())
}

fn local() -> LocalTimes {
    LocalTimes {
        sent_nanos: NOW,
        received_nanos: NOW + 2 * MS,
    }
}

/// Polls `source` once against a server `offset` ahead that answers with `params`.
fn poll(
    source: &mut Source,
    random: u64,
    offset: i64,
    params: &ServerParams,
) -> Result<Sample, ResponseError> {
    let request = source.begin_poll(random);
    let at = NOW + MS + offset;
    let response = answer(&request, at, at, params).unwrap();
    source.on_response(&response, addr(), local(), &SampleParams::default())
}

#[test]
fn reach_shifts_per_poll_and_marks_answers() {
    let mut s = source();
    let params = ServerParams::default();
    poll(&mut s, 1, 0, &params).unwrap();
    s.begin_poll(2);
    s.on_failure(PollFailure::Timeout(Duration::from_secs(1)));
    // A later answer carries a later transmit timestamp (an equal one is a duplicate).
    poll(&mut s, 3, 1_000, &params).unwrap();
    assert_eq!(s.reach(), 0b101);
    assert_eq!(s.filter().samples().count(), 2);
    assert_eq!(s.stratum(), Some(2));
}

#[test]
fn the_measured_offset_lands_in_the_filter() {
    let mut s = source();
    let sample = poll(&mut s, 9, 250 * MS, &ServerParams::default()).unwrap();
    assert!((sample.offset_nanos - 250 * MS).abs() <= 2);
    assert_eq!(s.filter().best(), Some(&sample));
    assert!(s.last_failure().is_none());
}

#[test]
fn a_second_answer_to_the_same_poll_is_refused() {
    let mut s = source();
    let request = s.begin_poll(4);
    let response = answer(&request, NOW + MS, NOW + MS, &ServerParams::default()).unwrap();
    let params = SampleParams::default();
    assert!(s.on_response(&response, addr(), local(), &params).is_ok());
    assert_eq!(
        s.on_response(&response, addr(), local(), &params),
        Err(ResponseError::Duplicate)
    );
}

#[test]
fn an_invalid_answer_leaves_the_poll_open_for_the_real_one() {
    let mut s = source();
    let request = s.begin_poll(4);
    let spoofed = ServerParams {
        spoof_origin: true,
        ..ServerParams::default()
    };
    let bad = answer(&request, NOW + MS, NOW + MS, &spoofed).unwrap();
    let good = answer(&request, NOW + MS, NOW + MS, &ServerParams::default()).unwrap();
    let params = SampleParams::default();
    assert_eq!(
        s.on_response(&bad, addr(), local(), &params),
        Err(ResponseError::BogusOrigin)
    );
    assert!(s.on_response(&good, addr(), local(), &params).is_ok());
}

#[test]
fn deny_and_restrict_stop_polling() {
    for code in [KissCode::Deny, KissCode::Restrict] {
        let mut s = source();
        let kiss = ServerParams {
            kiss: Some(code),
            ..ServerParams::default()
        };
        assert_eq!(
            poll(&mut s, 1, 0, &kiss),
            Err(ResponseError::KissOfDeath(code))
        );
        assert_eq!(s.refused(), Some(code));
        assert_eq!(s.next_poll_in(&PollConfig::default()), None);
    }
}

#[test]
fn rate_makes_the_source_poll_less_often() {
    let mut s = source();
    let config = PollConfig::default();
    let before = s.next_poll_in(&config).unwrap();
    let kiss = ServerParams {
        kiss: Some(KissCode::Rate),
        ..ServerParams::default()
    };
    assert!(poll(&mut s, 1, 0, &kiss).is_err());
    let after = s.next_poll_in(&config).unwrap();
    assert!(
        after > before && after >= config.min_interval * 2,
        "{before:?} -> {after:?}"
    );
    assert!(
        s.filter().best().is_none(),
        "kiss timestamps are never used"
    );
}

#[test]
fn unknown_kiss_codes_are_ignored() {
    let mut s = source();
    let kiss = ServerParams {
        kiss: Some(KissCode::Other(*b"ACST")),
        ..ServerParams::default()
    };
    let request = s.begin_poll(1);
    let response = answer(&request, NOW + MS, NOW + MS, &kiss).unwrap();
    let error = s.on_response(&response, addr(), local(), &SampleParams::default());
    assert_eq!(error, Err(ResponseError::ServerUnsynchronised));
    assert_eq!(s.refused(), None);
    assert_eq!(
        s.next_poll_in(&PollConfig::default()),
        Some(Duration::from_secs(2))
    );
}

#[test]
fn an_unknown_kiss_code_from_a_synchronised_server_is_ignored_too() {
    // A stratum-0 answer that does not say it is unsynchronised: still a kiss, but with a
    // code RFC 5905 §7.4 gives no meaning, so the source neither stops nor slows down.
    let mut s = source();
    let kiss = ServerParams {
        kiss: Some(KissCode::Other(*b"ACST")),
        ..ServerParams::default()
    };
    let request = s.begin_poll(1);
    let response = answer(&request, NOW + MS, NOW + MS, &kiss).unwrap();
    let mut packet = Packet::decode(&response).unwrap();
    packet.leap = crate::proto::packet::LeapIndicator::NoWarning;
    let error = s.on_response(&packet.encode(), addr(), local(), &SampleParams::default());
    assert_eq!(
        error,
        Err(ResponseError::KissOfDeath(KissCode::Other(*b"ACST")))
    );
    assert_eq!(s.refused(), None);
    assert_eq!(
        s.next_poll_in(&PollConfig::default()),
        Some(Duration::from_secs(2))
    );
}

#[test]
fn a_resolved_name_is_resolved_again_after_a_failure() {
    let mut named = Source::new("ntp.example", None, &PollConfig::default());
    named.set_address(addr());
    named.begin_poll(1);
    named.on_failure(PollFailure::Timeout(Duration::from_secs(1)));
    assert_eq!(
        named.address(),
        None,
        "the next poll resolves the name again"
    );
    // An address given as such is kept: there is nothing to resolve.
    let mut literal = source();
    literal.begin_poll(1);
    literal.on_failure(PollFailure::Timeout(Duration::from_secs(1)));
    assert_eq!(literal.address(), Some(addr()));
}

#[test]
fn after_a_disruption_the_answer_in_flight_is_refused_and_the_source_polls_at_once() {
    let mut s = source();
    let params = ServerParams::default();
    poll(&mut s, 1, 0, &params).unwrap();
    let request = s.begin_poll(2);
    s.resynchronise(&PollConfig::default());
    assert_eq!(s.filter().samples().count(), 0);
    assert!(!s.is_polling());
    assert_eq!(s.next_poll_in(&PollConfig::default()), Some(Duration::ZERO));
    // The answer to the poll sent before the gap would be a sample taken across it.
    let at = NOW + 2 * MS;
    let response = answer(&request, at, at, &params).unwrap();
    let refused = s.on_response(&response, addr(), local(), &SampleParams::default());
    assert_eq!(refused, Err(ResponseError::Duplicate));
    assert_eq!(s.filter().samples().count(), 0);
    // The next poll starts a new burst.
    s.begin_poll(3);
    assert_eq!(
        s.next_poll_in(&PollConfig::default()),
        Some(crate::proto::poll::DEFAULT_BURST_INTERVAL)
    );
}
