//! Arbitrary bytes into the 16-byte binary form of a `NodeTimestamp`: it parses exactly when
//! the input is 16 bytes long, encodes back to the same bytes, and byte order equals the
//! pairs' order (the property that makes the bytes a sortable datastore key).
#![no_main]

use hlc_core::{wire, NodeTimestamp};
use hlc_fuzz::tally;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = NodeTimestamp::from_bytes(data);
    tally::count("16 bytes", whole.is_ok());
    assert_eq!(whole.is_ok(), data.len() == wire::BINARY_LEN);
    if let Err(error) = &whole {
        assert!(!error.to_string().is_empty());
    }
    // Every consecutive pair of 16-byte chunks is two parsed inputs to compare, so one input
    // checks the order law on many pairs.
    let chunks: Vec<&[u8]> = data.chunks_exact(wire::BINARY_LEN).collect();
    for chunk in &chunks {
        check_round_trip(chunk);
    }
    for pair in chunks.windows(2) {
        let (a, b) = (parse(pair[0]), parse(pair[1]));
        assert_eq!(
            a.cmp(&b),
            pair[0].cmp(pair[1]),
            "byte order differs from Ord"
        );
    }
});

fn parse(bytes: &[u8]) -> NodeTimestamp {
    NodeTimestamp::from_bytes(bytes).expect("16 bytes always parse")
}

fn check_round_trip(bytes: &[u8]) {
    let stamp = parse(bytes);
    assert_eq!(stamp.to_bytes().as_slice(), bytes);
    let array: [u8; wire::BINARY_LEN] = bytes.try_into().expect("a 16-byte chunk");
    assert_eq!(NodeTimestamp::from(array), stamp);
}
