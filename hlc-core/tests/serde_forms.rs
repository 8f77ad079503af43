//! serde: text forms for human-readable formats, integers and bytes for binary ones.

use hlc_core::{NodeId, NodeTimestamp, Timestamp};

fn sample() -> NodeTimestamp {
    NodeTimestamp::new(
        Timestamp::from_u64(0x0006_412b_3c4d_5003),
        NodeId::new(0xa1),
    )
}

#[test]
fn json_uses_the_text_forms() {
    let stamp = sample();
    assert_eq!(
        serde_json::to_string(&stamp).unwrap(),
        "\"00-0006412b3c4d5003-00000000000000a1\""
    );
    assert_eq!(
        serde_json::to_string(&stamp.node).unwrap(),
        "\"00000000000000a1\""
    );
    let ts_json = serde_json::to_string(&stamp.timestamp).unwrap();
    assert_eq!(ts_json, format!("\"{}\"", stamp.timestamp));
    let back: NodeTimestamp =
        serde_json::from_str(&serde_json::to_string(&stamp).unwrap()).unwrap();
    assert_eq!(back, stamp);
    assert_eq!(
        serde_json::from_str::<Timestamp>(&ts_json).unwrap(),
        stamp.timestamp
    );
}

#[test]
fn json_rejects_malformed_text_with_the_parser_message() {
    let err = serde_json::from_str::<NodeTimestamp>("\"00-0006412B3c4d5003-00000000000000a1\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid hex digit at byte 10"), "{err}");
    assert!(serde_json::from_str::<NodeId>("\"a1\"").is_err());
    assert!(serde_json::from_str::<Timestamp>("12").is_err());
}

#[test]
fn bincode_1_3_round_trips_with_the_compact_forms() {
    let stamp = sample();
    let bytes = bincode::serialize(&stamp).unwrap();
    // A length prefix (u64) and the 16 sortable bytes.
    assert_eq!(bytes.len(), 8 + 16);
    assert_eq!(&bytes[8..], &stamp.to_bytes());
    assert_eq!(
        bincode::deserialize::<NodeTimestamp>(&bytes).unwrap(),
        stamp
    );
    let ts_bytes = bincode::serialize(&stamp.timestamp).unwrap();
    assert_eq!(ts_bytes, stamp.timestamp.as_u64().to_le_bytes());
    assert_eq!(
        bincode::deserialize::<Timestamp>(&ts_bytes).unwrap(),
        stamp.timestamp
    );
    let node_bytes = bincode::serialize(&stamp.node).unwrap();
    assert_eq!(
        bincode::deserialize::<NodeId>(&node_bytes).unwrap(),
        stamp.node
    );
}

#[test]
fn bincode_rejects_a_wrong_length() {
    let mut bytes = bincode::serialize(&sample()).unwrap();
    bytes[0] = 15;
    bytes.pop();
    assert!(bincode::deserialize::<NodeTimestamp>(&bytes).is_err());
}
