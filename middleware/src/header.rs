#![doc = include_str!("../HEADER.md")]
//!
//! # In Rust
//!
//! ```
//! use hlc_core::{NodeId, NodeTimestamp, Timestamp};
//! use hlc_middleware::header::{decode, encode, HLC};
//!
//! let stamp = NodeTimestamp::new(Timestamp::from_u64(0x60a2418202240003), NodeId::new(0xa1));
//! let mut headers = http::HeaderMap::new();
//! headers.insert(HLC, encode(stamp));
//! assert_eq!(headers[HLC], "00-60a2418202240003-00000000000000a1");
//! assert_eq!(decode(&headers)?, Some(stamp));
//! # Ok::<(), hlc_middleware::HeaderError>(())
//! ```

use hlc_core::wire::TEXT_LEN;
use hlc_core::{NodeTimestamp, ParseError};
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// The header name, `hlc`.
pub const HLC: HeaderName = HeaderName::from_static("hlc");

/// Why an `hlc` header could not be used. The message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The message carries the header more than once.
    #[error("the hlc header appears {count} times, expected once")]
    Duplicate {
        /// How many `hlc` fields the message has.
        count: usize,
    },
    /// The value is not the version 00 text form.
    #[error("malformed hlc header: {0}")]
    Malformed(#[from] ParseError),
}

/// Encodes a stamp as a header value, formatting it on the stack. It cannot fail: every
/// stamp has a text form, and the text form is always a valid header value.
pub fn encode(stamp: NodeTimestamp) -> HeaderValue {
    let mut buf = [0u8; TEXT_LEN];
    stamp.write_text(&mut buf);
    // `http` offers no safe infallible constructor for bytes known to be valid, and a checked
    // one would need a fallback for an error that cannot happen (an empty value, silently
    // wrong). Debug builds, tests and fuzzing included, still check the bytes here.
    #[allow(unsafe_code)]
    // SAFETY: `write_text` writes only `0`-`9`, `a`-`f` and `-` (pinned by
    // `the_text_form_is_always_a_valid_header_value` below), all visible ASCII: valid UTF-8
    // and valid header value bytes, which is what the unchecked constructor requires.
    unsafe {
        HeaderValue::from_maybe_shared_unchecked(buf)
    }
}

/// Reads the `hlc` header of a message: `None` when absent.
///
/// # Errors
/// [`HeaderError::Duplicate`] when the header appears more than once, and
/// [`HeaderError::Malformed`] when its value is not the version 00 text form.
pub fn decode(headers: &HeaderMap) -> Result<Option<NodeTimestamp>, HeaderError> {
    decode_fields(headers.get_all(HLC).iter().map(HeaderValue::as_bytes))
}

/// The rule for the `hlc` fields of one message, whatever carries them (an HTTP header map,
/// an OpenTelemetry carrier): none is `None`, one is parsed, two or more are
/// [`HeaderError::Duplicate`] whether or not they agree.
#[inline]
pub(crate) fn decode_fields<'a>(
    mut fields: impl Iterator<Item = &'a [u8]>,
) -> Result<Option<NodeTimestamp>, HeaderError> {
    let Some(first) = fields.next() else {
        return Ok(None);
    };
    if fields.next().is_some() {
        return Err(duplicate(fields));
    }
    Ok(Some(NodeTimestamp::parse_text(first)?))
}

/// `rest` holds the fields after the first two.
#[cold]
fn duplicate<'a>(rest: impl Iterator<Item = &'a [u8]>) -> HeaderError {
    HeaderError::Duplicate {
        count: 2 + rest.count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hlc_core::{NodeId, Timestamp};

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(HLC, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    #[test]
    fn the_spec_test_vectors_hold() {
        let ok = |text: &str, ts: u64, node: u64| {
            let decoded = decode(&headers(&[text.as_bytes()])).unwrap();
            assert_eq!(
                decoded,
                Some(NodeTimestamp::new(
                    Timestamp::from_u64(ts),
                    NodeId::new(node)
                ))
            );
        };
        ok(
            "00-0006412b3c4d5003-00000000000000a1",
            0x0006_412b_3c4d_5003,
            0xa1,
        );
        ok(
            "00-60a2418202240003-00000000000000a1",
            0x60a2_4182_0224_0003,
            0xa1,
        );
        ok("00-0000000000000000-0000000000000000", 0, 0);
        let stamp = Timestamp::from_u64(0x60a2_4182_0224_0003);
        assert_eq!(stamp.physical_micros(), 1_700_000_000_123_456);
        assert_eq!(stamp.logical(), 3);
        for bad in [
            "00-0006412B3C4D5003-00000000000000a1",
            "01-0006412b3c4d5003-00000000000000a1",
            " 00-0006412b3c4d5003-00000000000000a1",
            "00-0006412b3c4d5003_00000000000000a1",
        ] {
            assert!(decode(&headers(&[bad.as_bytes()])).is_err(), "{bad}");
        }
    }

    #[test]
    fn absent_is_none_and_duplicates_are_counted() {
        assert_eq!(decode(&HeaderMap::new()), Ok(None));
        let one = b"00-0006412b3c4d5003-00000000000000a1".as_slice();
        assert_eq!(
            decode(&headers(&[one, one, one])),
            Err(HeaderError::Duplicate { count: 3 })
        );
    }

    #[test]
    fn the_text_form_is_always_a_valid_header_value() {
        // Every hex digit at every digit position, in both fields: the bytes `encode` hands
        // over unchecked are always from the alphabet, and the checked constructor agrees.
        for position in 0..16 {
            for nibble in 0..16u64 {
                let value = nibble << (4 * position);
                let stamp = NodeTimestamp::new(Timestamp::from_u64(value), NodeId::new(!value));
                let mut buf = [0u8; TEXT_LEN];
                stamp.write_text(&mut buf);
                assert!(buf.iter().all(|b| b"0123456789abcdef-".contains(b)));
                assert_eq!(HeaderValue::from_bytes(&buf).unwrap(), encode(stamp));
            }
        }
    }

    #[test]
    fn encode_round_trips_and_messages_name_the_problem() {
        let stamp = NodeTimestamp::new(Timestamp::from_u64(u64::MAX), NodeId::new(1));
        let mut map = HeaderMap::new();
        map.insert(HLC, encode(stamp));
        assert_eq!(decode(&map), Ok(Some(stamp)));
        let err = decode(&headers(&[b"00-x"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed hlc header: expected 36 bytes, got 4"
        );
    }
}
