//! Arbitrary bytes into every text parser of hlc-core: the `00-<ts>-<node>` header form, the
//! human `Timestamp` form and the `NodeId` form. None may panic, and since each form has
//! exactly one spelling per value, whatever parses must encode back to exactly the input.
//! The counts are per candidate: the input itself and its edits of each template.
#![no_main]

use hlc_core::{wire, NodeId, NodeTimestamp, Timestamp};
use hlc_fuzz::tally;
use libfuzzer_sys::fuzz_target;

/// Valid spellings to edit. Random bytes alone almost never spell a date or a header, so each
/// input is also applied as edits to these, which takes the fuzzer past the length and
/// separator checks into the field checks (days per month, leap years, logical counter, hex).
const TEMPLATES: [&str; 3] = [
    "00-0006412b3c4d5003-00000000000000a1",
    "2024-02-29T23:59:59.999999Z#4095",
    "00000000000000a1",
];

fuzz_target!(|data: &[u8]| {
    check(data);
    for template in TEMPLATES {
        check(&edited(template, data));
    }
});

fn check(data: &[u8]) {
    check_header(data);
    // `str` parsers see only UTF-8; a header arrives as raw bytes, so it is checked above.
    if let Ok(text) = std::str::from_utf8(data) {
        check_str(text);
    }
}

/// `template` with each pair of `edits` bytes applied as (position, new byte), and a trailing
/// odd byte cutting up to 7 bytes off the end (the logical counter has 1 to 4 digits).
fn edited(template: &str, edits: &[u8]) -> Vec<u8> {
    let mut bytes = template.as_bytes().to_vec();
    let pairs = edits.chunks_exact(2);
    let cut = pairs
        .remainder()
        .first()
        .map_or(0, |&cut| usize::from(cut % 8));
    for edit in pairs {
        let at = usize::from(edit[0]) % bytes.len();
        bytes[at] = edit[1];
    }
    bytes.truncate(bytes.len() - cut);
    bytes
}

fn check_header(data: &[u8]) {
    let parsed = NodeTimestamp::parse_text(data);
    tally::count("header", parsed.is_ok());
    match parsed {
        Ok(stamp) => {
            let mut buf = [0u8; wire::TEXT_LEN];
            assert_eq!(stamp.encode_text(&mut buf).as_bytes(), data);
            assert_eq!(stamp.to_string().as_bytes(), data);
        }
        // Error messages are built from the input too: they must not panic either.
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

fn check_str(text: &str) {
    assert_eq!(
        text.parse::<NodeTimestamp>(),
        NodeTimestamp::parse_text(text.as_bytes()),
        "FromStr and parse_text disagree"
    );
    let timestamp = text.parse::<Timestamp>();
    tally::count("timestamp", timestamp.is_ok());
    match timestamp {
        Ok(timestamp) => assert_eq!(timestamp.to_string(), text),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    let node = text.parse::<NodeId>();
    tally::count("node id", node.is_ok());
    match node {
        Ok(id) => assert_eq!(id.to_string(), text),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}
