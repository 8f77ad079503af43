//! serde for the value types: human-readable formats (JSON, TOML) get the text forms,
//! binary formats (bincode, postcard) the integers or the 16 sortable bytes.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::wire::{BINARY_LEN, TEXT_LEN};
use crate::{NodeId, NodeTimestamp, Timestamp};

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_u64(self.as_u64())
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(FromStrVisitor::new("an RFC 3339 timestamp with #logical"))
        } else {
            u64::deserialize(deserializer).map(Timestamp::from_u64)
        }
    }
}

impl Serialize for NodeId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_u64(self.as_u64())
        }
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(FromStrVisitor::new("16 lowercase hex digits"))
        } else {
            u64::deserialize(deserializer).map(NodeId::new)
        }
    }
}

impl Serialize for NodeTimestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            let mut buf = [0u8; TEXT_LEN];
            serializer.serialize_str(self.encode_text(&mut buf))
        } else {
            serializer.serialize_bytes(&self.to_bytes())
        }
    }
}

impl<'de> Deserialize<'de> for NodeTimestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(FromStrVisitor::new("a 00-<hex>-<hex> node timestamp"))
        } else {
            deserializer.deserialize_bytes(BytesVisitor)
        }
    }
}

/// Accepts a string and parses it with `T::from_str`.
struct FromStrVisitor<T> {
    expecting: &'static str,
    target: PhantomData<T>,
}

impl<T> FromStrVisitor<T> {
    fn new(expecting: &'static str) -> Self {
        Self {
            expecting,
            target: PhantomData,
        }
    }
}

impl<T: FromStr<Err: fmt::Display>> Visitor<'_> for FromStrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

/// Accepts exactly 16 bytes, as a byte string or as a sequence.
struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = NodeTimestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{BINARY_LEN} bytes")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<NodeTimestamp, E> {
        NodeTimestamp::from_bytes(v).map_err(E::custom)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<NodeTimestamp, A::Error> {
        let mut bytes = [0u8; BINARY_LEN];
        for (i, slot) in bytes.iter_mut().enumerate() {
            *slot = seq
                .next_element()?
                .ok_or_else(|| de::Error::invalid_length(i, &self))?;
        }
        if seq.next_element::<u8>()?.is_some() {
            return Err(de::Error::invalid_length(BINARY_LEN + 1, &self));
        }
        Ok(NodeTimestamp::from(bytes))
    }
}
