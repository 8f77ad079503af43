//! Arbitrary text as an OpenTelemetry carrier through `HlcPropagator::extract_with_context`:
//! up to eight lines, each `name:value` (split at the first `:`; a line without one is a
//! name with an empty value). Names match case-insensitively, as HTTP field names do, in
//! `get`, `get_all` and `keys` alike.
//!
//! Nothing may panic; extracting only parses (the clock does not move) and keeps what the
//! parent context held; and a peer stamp comes out exactly when the carrier holds one `hlc`
//! field whose value is valid, that stamp's text form being the value. `HEADER.md`: two or
//! more `hlc` fields make the message malformed, so nothing is extracted from them.
#![no_main]

use std::sync::Arc;

use hlc_core::{ManualClock, NodeId, NodeTimestamp};
use hlc_fuzz::{tally, NOW_MICROS};
use hlc_middleware::opentelemetry::HlcPropagator;
use hlc_middleware::PeerTimestamp;
use libfuzzer_sys::fuzz_target;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::Context;

const MAX_FIELDS: usize = 8;

/// A carrier that keeps every field in order, duplicates included, as an HTTP header map or
/// message metadata does.
struct Fields<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Fields<'a> {
    fn parse(text: &'a str) -> Self {
        let fields = text
            .split('\n')
            .take(MAX_FIELDS)
            .map(|line| line.split_once(':').unwrap_or((line, "")))
            .collect();
        Self(fields)
    }

    fn values(&self, key: &str) -> Vec<&'a str> {
        let named = |(name, _): &&(&str, &str)| name.eq_ignore_ascii_case(key);
        self.0
            .iter()
            .filter(named)
            .map(|(_, value)| *value)
            .collect()
    }
}

impl Extractor for Fields<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.values(key).first().copied()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| *name).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        Some(self.values(key)).filter(|values| !values.is_empty())
    }
}

/// A value the parent context carries, which extracting must keep.
#[derive(Debug, PartialEq)]
struct Parent(usize);

fuzz_target!(|data: &[u8]| {
    // A text map carries strings: bytes that are not UTF-8 never reach a propagator.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let carrier = Fields::parse(text);
    let hlc = Arc::new(ManualClock::new(NOW_MICROS).hlc(NodeId::new(1)));
    let before = hlc.last();
    let propagator = HlcPropagator::new(Arc::clone(&hlc));
    let parent = Context::new().with_value(Parent(carrier.0.len()));
    let cx = propagator.extract_with_context(&parent, &carrier);

    assert_eq!(hlc.last(), before, "extracting moved the clock");
    assert_eq!(cx.get(), Some(&Parent(carrier.0.len())));
    let hlc_values = carrier.values("hlc");
    let extracted = cx.get::<PeerTimestamp>();
    tally::count("extracted", extracted.is_some());
    match (extracted, hlc_values.as_slice()) {
        (Some(PeerTimestamp(stamp)), [value]) => assert_eq!(stamp.to_string(), *value),
        (Some(PeerTimestamp(stamp)), values) => {
            panic!("{stamp} extracted from {} hlc fields", values.len())
        }
        (None, [value]) => assert!(
            NodeTimestamp::parse_text(value.as_bytes()).is_err(),
            "the one valid hlc field {value:?} was not extracted"
        ),
        (None, _) => {}
    }
});
