//! Criterion benches for ntp-sync: checking one server response, selecting among 8 and 32
//! sources, and reading the bound.
//!
//! The ids are an interface: `ntp/decode_validate`, `ntp/select_8`,
//! `ntp/select_32` and `ntp/now_interval`. Every bench checks its result: the response decodes
//! to the fields the server wrote (checked field by field once, before timing; accepted on
//! every iteration), the estimate exists and names the liars, the interval is synchronised.
//! Compare `ntp/now_interval` with `hlc/system_time_now` (bench target `hlc`), its baseline.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use ntp_sync::proto::answer::{answer, ServerParams};
use ntp_sync::proto::engine::{Engine, EngineConfig, SourceState};
use ntp_sync::proto::estimate::{Estimate, Status, StatusPolicy};
use ntp_sync::proto::packet::{LeapIndicator, Packet, HEADER_LEN, MODE_SERVER};
use ntp_sync::proto::sample::LocalTimes;
use ntp_sync::proto::timestamp::{NtpShort, NtpTimestamp};
use ntp_sync::proto::validate::{validate_response, Expected};
use ntp_sync::{ReadPolicy, TrueTime};

const NOW: i64 = 1_700_000_000_000_000_000;
const MS: i64 = 1_000_000;

fn server(index: usize) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 10_000 + index as u16))
}

/// The client's transmit timestamp, which the server echoes as the origin.
const ORIGIN: u64 = 0x1234_5678_9abc_def0;
/// `NOW` in NTP seconds (since 1900): 1,700,000,000 s plus the 2,208,988,800 s from 1900 to
/// 1970, within the first era (below 2^32).
const NOW_NTP_SECS: u64 = 3_908_988_800;
/// 20 µs in 2^-32 s, truncated: 85,899.3 -> 85,899.
const TWENTY_MICROS_FRACTION: u64 = 85_899;

/// A valid 48-byte response, received at `NOW` and sent 20 µs later, as a server with
/// `ServerParams::default()` writes it, laid out by hand after RFC 5905 §7.3 (figure 8) rather
/// than by the crate's encoder, and what the client expects of it.
fn response() -> ([u8; HEADER_LEN], Expected) {
    let mut bytes = [0u8; HEADER_LEN];
    // LI 0, version 4, mode 4; stratum 2; poll 0; precision -20 (two's complement).
    bytes[..4].copy_from_slice(&[0b00_100_100, 2, 0, 0xec]);
    // Root delay 0, root dispersion 1 ms in 2^-16 s rounded up (65.536 -> 66), reference id.
    bytes[8..12].copy_from_slice(&66u32.to_be_bytes());
    bytes[12..16].copy_from_slice(b"LOCL");
    let stamps = [
        (NOW_NTP_SECS - 1) << 32,
        ORIGIN,
        NOW_NTP_SECS << 32,
        NOW_NTP_SECS << 32 | TWENTY_MICROS_FRACTION,
    ];
    for (slot, stamp) in bytes[16..].chunks_exact_mut(8).zip(stamps) {
        slot.copy_from_slice(&stamp.to_be_bytes());
    }
    let expected = Expected {
        server: server(0),
        origin: NtpTimestamp::from_bits(ORIGIN),
        last_transmit: None,
    };
    (bytes, expected)
}

/// What the response of [`response`] must decode to, field by field: a decoder that misreads
/// a field, or swaps two, gives another packet, and one that accepts it still passes
/// validation (reference before transmit, no zero stamps).
fn decoded() -> Packet {
    let at = |secs: u64, fraction: u64| NtpTimestamp::from_bits(secs << 32 | fraction);
    Packet {
        leap: LeapIndicator::NoWarning,
        version: 4,
        mode: MODE_SERVER,
        stratum: 2,
        poll: 0,
        precision: -20,
        root_delay: NtpShort::from_bits(0),
        root_dispersion: NtpShort::from_bits(66),
        reference_id: *b"LOCL",
        reference: at(NOW_NTP_SECS - 1, 0),
        origin: NtpTimestamp::from_bits(ORIGIN),
        receive: at(NOW_NTP_SECS, 0),
        transmit: at(NOW_NTP_SECS, TWENTY_MICROS_FRACTION),
    }
}

fn decode_validate(group: &mut BenchmarkGroup<'_, WallTime>) {
    let (bytes, expected) = response();
    // The same input as the server's own answer, so that figures compare across runs.
    let request = Packet::client_request(expected.origin).encode();
    let answered = answer(&request, NOW, NOW + 20_000, &ServerParams::default());
    assert_eq!(answered, Some(bytes), "the bytes are what a server sends");
    let packet = validate_response(&bytes, server(0), &expected);
    assert_eq!(
        packet,
        Ok(decoded()),
        "the response must decode to what was sent"
    );
    group.bench_function("decode_validate", |b| {
        b.iter(|| {
            let packet = validate_response(
                black_box(&bytes),
                black_box(server(0)),
                black_box(&expected),
            );
            assert!(packet.is_ok(), "the response must be accepted");
            packet
        });
    });
}

/// An engine with `sources` servers, each polled 8 times (a full filter); every fourth one
/// lies by a second.
fn engine(sources: usize) -> Engine {
    let mut engine = Engine::new(EngineConfig::default());
    for index in 0..sources {
        engine.add_source(format!("server-{index}"), Some(server(index)));
        let offset = if index % 4 == 3 {
            1_000 * MS
        } else {
            (index as i64 % 3) * 100_000
        };
        for poll in 0..8 {
            let sent = NOW + poll * 16_000 * MS;
            let at = sent + MS + offset;
            let request = engine.begin_poll(index, (index * 8) as u64 + poll as u64);
            let reply = answer(&request, at, at + 10_000, &ServerParams::default())
                .expect("a client request");
            let local = LocalTimes {
                sent_nanos: sent,
                received_nanos: sent + 2 * MS + poll * 1_000,
            };
            engine
                .on_response(index, &reply, server(index), local)
                .expect("a valid response");
        }
    }
    engine
}

fn select(group: &mut BenchmarkGroup<'_, WallTime>) {
    for sources in [8, 32] {
        let engine = engine(sources);
        let now = NOW + 8 * 16_000 * MS;
        group.bench_function(format!("select_{sources}"), |b| {
            b.iter(|| {
                let evaluation = black_box(&engine).evaluate(black_box(now));
                assert!(
                    evaluation.estimate().is_some(),
                    "the honest majority must agree"
                );
                assert_eq!(evaluation.states[3], SourceState::Falseticker);
                evaluation
            });
        });
    }
}

fn now_interval(group: &mut BenchmarkGroup<'_, WallTime>) {
    let policy = ReadPolicy {
        drift_ppb: 15_000,
        status: StatusPolicy::default(),
        health_limit: Duration::from_millis(250),
    };
    let true_time = TrueTime::with_steady_clock(policy);
    let now = true_time.local_nanos();
    true_time.publish(Some(Estimate {
        offset_nanos: 250_000,
        radius_nanos: 2 * MS,
        at_nanos: now,
        newest_sample_nanos: now,
    }));
    group.bench_function("now_interval", |b| {
        b.iter(|| {
            let interval = black_box(&true_time).now_interval();
            assert_eq!(interval.status, Status::Synchronised);
            assert!(interval.earliest < interval.latest);
            interval
        });
    });
}

/// One group, so that every figure lands in `target/criterion/ntp/<id>/`.
fn define(c: &mut Criterion) {
    let mut group = c.benchmark_group("ntp");
    decode_validate(&mut group);
    select(&mut group);
    now_interval(&mut group);
    group.finish();
}

criterion_group!(benches, define);
criterion_main!(benches);
