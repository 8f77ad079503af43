//! Arbitrary bytes into serde's two forms of hlc-core's value types: JSON (the text forms)
//! and bincode 1.3 (the integers and the 16 sortable bytes). The first byte picks the type
//! and the form, the rest is decoded.
//!
//! Nothing may panic. Whatever decodes encodes again, decodes to an equal value and encodes
//! to the same bytes (one spelling per value once re-encoded); it crosses to the other form
//! and back unchanged; and a decoded `LwwMap` counts its tombstones and live keys right.
#![no_main]

use std::fmt::Debug;

use hlc_core::lww::{LwwMap, LwwRegister};
use hlc_core::{NodeTimestamp, Timestamp};
use hlc_fuzz::tally;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;

type Register = LwwRegister<String>;
type Map = LwwMap<String, String>;

/// By the first byte's bit 0.
const FORMS: [Form; 2] = [Form::Json, Form::Bincode];

/// By the first byte's bits 1-2, then by form: the names the tally counts under.
const KINDS: [[&str; 2]; 4] = [
    ["json Timestamp", "bincode Timestamp"],
    ["json NodeTimestamp", "bincode NodeTimestamp"],
    ["json LwwRegister", "bincode LwwRegister"],
    ["json LwwMap", "bincode LwwMap"],
];

#[derive(Clone, Copy, Debug)]
enum Form {
    Json,
    Bincode,
}

impl Form {
    fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Option<T> {
        match self {
            Self::Json => serde_json::from_slice(bytes).ok(),
            Self::Bincode => bincode::deserialize(bytes).ok(),
        }
    }

    fn encode<T: Serialize + Debug>(self, value: &T) -> Vec<u8> {
        let encoded = match self {
            Self::Json => serde_json::to_vec(value).map_err(|e| e.to_string()),
            Self::Bincode => bincode::serialize(value).map_err(|e| e.to_string()),
        };
        encoded.unwrap_or_else(|error| panic!("{value:?} does not encode: {error}"))
    }

    fn other(self) -> Self {
        match self {
            Self::Json => Self::Bincode,
            Self::Bincode => Self::Json,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let (form, index) = (FORMS[usize::from(selector & 1)], selector >> 1 & 0b11);
    let kind = KINDS[usize::from(index)][usize::from(selector & 1)];
    match index {
        0 => check::<Timestamp>(kind, form, payload, nothing),
        1 => check::<NodeTimestamp>(kind, form, payload, nothing),
        2 => check::<Register>(kind, form, payload, nothing),
        _ => check::<Map>(kind, form, payload, check_counts),
    }
});

/// Decodes `payload`, counts the outcome, checks both round trips and then `invariant`.
fn check<T>(kind: &'static str, form: Form, payload: &[u8], invariant: impl Fn(&T))
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let decoded = form.decode::<T>(payload);
    tally::count(kind, decoded.is_some());
    let Some(value) = decoded else { return };
    let encoded = form.encode(&value);
    let again: T = form
        .decode(&encoded)
        .unwrap_or_else(|| panic!("{value:?} re-encoded as {encoded:?} does not decode"));
    assert_eq!(again, value);
    assert_eq!(form.encode(&again), encoded, "two encodings of one value");
    let other = form.other();
    let crossed: T = other
        .decode(&other.encode(&value))
        .unwrap_or_else(|| panic!("{value:?} does not cross to {other:?}"));
    assert_eq!(crossed, value, "{other:?} changed the value");
    invariant(&value);
}

/// No check beyond the round trips.
fn nothing<T>(_: &T) {}

/// The map's counters agree with its registers after decoding.
fn check_counts(map: &Map) {
    let registers = map.registers().count();
    let tombstones = map
        .registers()
        .filter(|(_, register)| register.is_tombstone())
        .count();
    assert_eq!(map.tombstone_count(), tombstones);
    assert_eq!(map.len(), registers - tombstones);
    assert_eq!(map.iter().count(), map.len());
    assert_eq!(
        map.max_stamp(),
        map.registers().map(|(_, register)| register.stamp()).max()
    );
}
