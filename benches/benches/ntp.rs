//! Criterion benches for ntp-sync: checking one server response, selecting among 8 and 32
//! sources, and reading the bound.
//!
//! The ids are an interface (issue 3, section 5): `ntp/decode_validate`, `ntp/select_8`,
//! `ntp/select_32` and `ntp/now_interval`. Every bench checks its result: the response is
//! accepted, the estimate exists and names the liars, the interval is synchronised. Compare
//! `ntp/now_interval` with `hlc/system_time_now` (bench target `hlc`), its baseline.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ntp_sync::server::{answer, ServerParams};
use ntp_sync::{
    validate_response, Engine, EngineConfig, Estimate, Expected, LocalTimes, NtpTimestamp, Packet,
    ReadPolicy, SourceState, Status, StatusPolicy, TrueTime, HEADER_LEN,
};

const NOW: i64 = 1_700_000_000_000_000_000;
const MS: i64 = 1_000_000;

fn server(index: usize) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 10_000 + index as u16))
}

/// One valid 48-byte response and what the client expects of it.
fn response() -> ([u8; HEADER_LEN], Expected) {
    let origin = NtpTimestamp::from_bits(0x1234_5678_9abc_def0);
    let request = Packet::client_request(origin).encode();
    let bytes =
        answer(&request, NOW, NOW + 20_000, &ServerParams::default()).expect("a client request");
    let expected = Expected {
        server: server(0),
        origin,
        last_transmit: None,
    };
    (bytes, expected)
}

fn decode_validate(c: &mut Criterion) {
    let (bytes, expected) = response();
    c.bench_function("ntp/decode_validate", |b| {
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

fn select(c: &mut Criterion) {
    for sources in [8, 32] {
        let engine = engine(sources);
        let now = NOW + 8 * 16_000 * MS;
        c.bench_function(&format!("ntp/select_{sources}"), |b| {
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

fn now_interval(c: &mut Criterion) {
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
    c.bench_function("ntp/now_interval", |b| {
        b.iter(|| {
            let interval = black_box(&true_time).now_interval();
            assert_eq!(interval.status, Status::Synchronised);
            assert!(interval.earliest < interval.latest);
            interval
        });
    });
}

criterion_group!(benches, decode_validate, select, now_interval);
criterion_main!(benches);
