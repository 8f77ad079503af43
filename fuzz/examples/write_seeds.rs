//! Writes the seed corpus under `fuzz/seeds/<target>/`: a few inputs per target, at least one
//! reaching its accepted branch, built with the crates' own encoders so they stay valid.
//!
//! Run from `fuzz/`: `cargo run --example write_seeds`. The input layouts are described at
//! the top of each target.

use std::fs;
use std::io;
use std::path::Path;

use hlc_core::lww::{LwwMap, LwwRegister};
use hlc_core::{NodeId, NodeTimestamp, Timestamp, LOGICAL_BITS};
use hlc_fuzz::signing::signer;
use hlc_fuzz::{MAX_OFFSET_MICROS, NOW_MICROS};
use ntp_sync::proto::packet::{LeapIndicator, Packet, MODE_SERVER};
use ntp_sync::proto::timestamp::{NtpShort, NtpTimestamp};

const NOW_NANOS: i64 = NOW_MICROS as i64 * 1_000;

/// One target's seeds: file name and contents.
type Seeds = Vec<(&'static str, Vec<u8>)>;

fn main() -> io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let targets: [(&str, Seeds); 11] = [
        ("ntp_request", ntp_request()),
        ("ntp_packet", ntp_packet()),
        ("client_response_header", client_response_header()),
        ("grpc_refusal", grpc_refusal()),
        ("header_server_layer", header_server_layer()),
        ("signature_header", signature_header()),
        ("otel_extract", otel_extract()),
        ("upper_bound_file", upper_bound_file()),
        ("serde_forms", serde_forms()),
        ("timestamp_text", timestamp_text()),
        ("timestamp_binary", timestamp_binary()),
    ];
    for (target, seeds) in targets {
        let dir = root.join(target);
        fs::create_dir_all(&dir)?;
        for (name, bytes) in seeds {
            fs::write(dir.join(name), bytes)?;
        }
    }
    Ok(())
}

/// A stamp the targets' clocks accept: logical 3 at their fixed time.
fn valid() -> NodeTimestamp {
    stamp((NOW_MICROS << LOGICAL_BITS) | 3, 0xa1)
}

/// A stamp a microsecond beyond the max offset.
fn too_far_ahead() -> NodeTimestamp {
    stamp((NOW_MICROS + MAX_OFFSET_MICROS + 1) << LOGICAL_BITS, 0xb2)
}

fn stamp(raw: u64, node: u64) -> NodeTimestamp {
    NodeTimestamp::new(Timestamp::from_u64(raw), NodeId::new(node))
}

fn text(parts: &[&str]) -> Vec<u8> {
    parts.concat().into_bytes()
}

/// The responder's configuration bytes (see the `ntp_request` target) and a request.
fn ntp_setup(flags: u8, reference_id: [u8; 4], receive: i64, transmit: i64) -> Vec<u8> {
    let mut bytes = vec![flags, 2, (-20i8) as u8];
    bytes.extend(reference_id);
    bytes.extend(0i64.to_be_bytes());
    bytes.extend(1_000_000i64.to_be_bytes());
    bytes.extend(receive.to_be_bytes());
    bytes.extend(transmit.to_be_bytes());
    bytes
}

fn client_request(version: u8) -> Vec<u8> {
    let mut request = Packet::client_request(NtpTimestamp::from_bits(0x5eed_0000_1234_5678));
    request.version = version;
    request.encode().to_vec()
}

fn ntp_request() -> Seeds {
    let honest = ntp_setup(0, *b"LOCL", NOW_NANOS, NOW_NANOS + 50_000);
    let kiss = |code: u8, id: &[u8; 4]| ntp_setup(code << 3, *id, NOW_NANOS, NOW_NANOS);
    let mut server_mode = client_request(4);
    server_mode[0] = 0b00_100_100;
    vec![
        ("honest_v4", [honest.clone(), client_request(4)].concat()),
        ("honest_v3", [honest.clone(), client_request(3)].concat()),
        (
            "kiss_rate_v4",
            [kiss(6, b"RATE"), client_request(4)].concat(),
        ),
        (
            "kiss_other_code",
            [kiss(7, b"ACST"), client_request(4)].concat(),
        ),
        (
            "spoofed_origin",
            [
                ntp_setup(1, *b"LOCL", NOW_NANOS, NOW_NANOS),
                client_request(4),
            ]
            .concat(),
        ),
        ("not_a_request", [honest, server_mode].concat()),
        // Responder offsets saturate, so its clock can read i64::MIN.
        (
            "receive_at_i64_min",
            [
                ntp_setup(0, *b"LOCL", i64::MIN, i64::MIN),
                client_request(4),
            ]
            .concat(),
        ),
    ]
}

fn ntp_packet() -> Seeds {
    let response = |stratum: u8, reference_id: [u8; 4]| Packet {
        leap: LeapIndicator::NoWarning,
        version: 4,
        mode: MODE_SERVER,
        stratum,
        poll: 6,
        precision: -20,
        root_delay: NtpShort::from_nanos(0),
        root_dispersion: NtpShort::from_nanos(1_000_000),
        reference_id,
        reference: NtpTimestamp::from_unix_nanos(NOW_NANOS - 1_000_000_000),
        // The target echoes the input's own origin back for an even first byte.
        origin: NtpTimestamp::from_bits(0x5eed_0000_1234_5678),
        receive: NtpTimestamp::from_unix_nanos(NOW_NANOS + 400_000),
        transmit: NtpTimestamp::from_unix_nanos(NOW_NANOS + 450_000),
    };
    vec![
        ("server_response", response(2, *b"LOCL").encode().to_vec()),
        ("kiss_deny", response(0, *b"DENY").encode().to_vec()),
    ]
}

fn client_response_header() -> Seeds {
    let (valid, far) = (valid().to_string(), too_far_ahead().to_string());
    vec![
        ("valid", [&[0][..], valid.as_bytes()].concat()),
        ("too_far_ahead_refused", [&[0][..], far.as_bytes()].concat()),
        (
            "too_far_ahead_passed",
            [&[0b100][..], far.as_bytes()].concat(),
        ),
        (
            "duplicate",
            [&[0][..], text(&[&valid, "\n", &valid]).as_slice()].concat(),
        ),
        (
            "uppercase_passed",
            [&[0b010][..], valid.to_uppercase().as_bytes()].concat(),
        ),
        ("missing_refused", vec![0]),
    ]
}

fn grpc_refusal() -> Seeds {
    let (valid, far) = (valid().to_string(), too_far_ahead().to_string());
    vec![
        ("valid", text(&["+proto\n", &valid])),
        ("missing", Vec::new()),
        ("too_far_ahead", text(&["\n", &far])),
        ("unknown_version", text(&["-web\n01", &valid[2..]])),
        ("duplicate", text(&["+json\n", &valid, "\n", &valid])),
    ]
}

fn header_server_layer() -> Seeds {
    let (valid, far) = (valid().to_string(), too_far_ahead().to_string());
    vec![
        ("valid", text(&[&valid])),
        ("too_far_ahead", text(&[&far])),
        ("duplicate", text(&[&valid, "\n", &valid])),
    ]
}

/// Flags byte, then the `hlc` value and the `hlc-signature` values (see the target).
fn signature_header() -> Seeds {
    let (valid, far) = (valid().to_string(), too_far_ahead().to_string());
    let signed = |flags: u8, stamp: &str, id: &str| {
        let signature = signer(id).sign(stamp.as_bytes());
        let signature = signature.to_str().expect("signatures are ASCII");
        [&[flags][..], text(&[stamp, "\n", signature]).as_slice()].concat()
    };
    let mut mismatch = signed(0, &valid, "k1");
    let last = mismatch.len() - 1;
    mismatch[last] = if mismatch[last] == b'0' { b'1' } else { b'0' };
    vec![
        ("signed_k1", signed(0, &valid, "k1")),
        ("signed_k2_ignore", signed(1, &valid, "k2")),
        ("signed_too_far_ahead", signed(0, &far, "k1")),
        ("mismatch_refused", mismatch),
        ("unsigned_ignored", [&[1][..], valid.as_bytes()].concat()),
        (
            "malformed_signature",
            [&[0][..], text(&[&valid, "\nv1=k1:zz"]).as_slice()].concat(),
        ),
        ("no_hlc_header", text(&["\u{2}", &valid])),
    ]
}

fn otel_extract() -> Seeds {
    let valid = valid().to_string();
    let traceparent = "traceparent:00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    vec![
        ("one_field", text(&["hlc:", &valid])),
        (
            "among_others",
            text(&[traceparent, "\nHLC:", &valid, "\nbaggage:k=v"]),
        ),
        // HEADER.md: two fields make the message malformed, whatever their values.
        (
            "two_fields",
            text(&["hlc:", &valid, "\nhlc:", &too_far_ahead().to_string()]),
        ),
        ("uppercase_value", text(&["hlc:", &valid.to_uppercase()])),
    ]
}

fn upper_bound_file() -> Seeds {
    vec![
        ("now", format!("{NOW_MICROS}\n").into_bytes()),
        // Beyond how far ahead a restart accepts a stored bound.
        (
            "a_day_ahead",
            format!("{}\n", NOW_MICROS + 86_400_000_000).into_bytes(),
        ),
        ("leading_zeros", b"0007".to_vec()),
        (
            "max_physical",
            format!("{}\n", hlc_core::MAX_PHYSICAL_MICROS).into_bytes(),
        ),
        ("u64_max", u64::MAX.to_string().into_bytes()),
        ("not_a_number", b"12a\n".to_vec()),
    ]
}

fn serde_forms() -> Seeds {
    let stamp = valid();
    let register = LwwRegister::new("red".to_owned(), stamp);
    let mut map = LwwMap::new();
    map.insert("colour".to_owned(), "blue \u{e9}\"".to_owned(), stamp);
    map.remove("size".to_owned(), too_far_ahead());
    let json = |selector: u8, value: serde_json::Result<Vec<u8>>| {
        [vec![selector], value.expect("json encodes")].concat()
    };
    let bincode = |selector: u8, value: bincode::Result<Vec<u8>>| {
        [vec![selector], value.expect("bincode encodes")].concat()
    };
    vec![
        (
            "json_timestamp",
            json(0, serde_json::to_vec(&stamp.timestamp)),
        ),
        (
            "bincode_timestamp",
            bincode(1, bincode::serialize(&stamp.timestamp)),
        ),
        ("json_node_timestamp", json(2, serde_json::to_vec(&stamp))),
        (
            "bincode_node_timestamp",
            bincode(3, bincode::serialize(&stamp)),
        ),
        ("json_register", json(4, serde_json::to_vec(&register))),
        (
            "bincode_register",
            bincode(5, bincode::serialize(&register)),
        ),
        ("json_map", json(6, serde_json::to_vec(&map))),
        ("bincode_map", bincode(7, bincode::serialize(&map))),
    ]
}

fn timestamp_text() -> Seeds {
    vec![
        ("header", valid().to_string().into_bytes()),
        ("timestamp", valid().timestamp.to_string().into_bytes()),
        ("node_id", valid().node.to_string().into_bytes()),
    ]
}

fn timestamp_binary() -> Seeds {
    vec![
        ("one_stamp", valid().to_bytes().to_vec()),
        (
            "two_stamps",
            [valid().to_bytes(), too_far_ahead().to_bytes()].concat(),
        ),
    ]
}
