//! The wire forms of a timestamp with its node: a text header value and a sortable binary key.
//!
//! # Text form, version 00
//!
//! ```text
//! 00-<timestamp: 16 lowercase hex digits>-<node id: 16 lowercase hex digits>
//! 00-0006412b3c4d5003-00000000000000a1
//! ```
//!
//! Exactly 36 ASCII bytes. The timestamp is the packed 64-bit value (µs since the Unix epoch
//! shifted left by 12, plus the logical count). Parsers reject anything else: another length,
//! uppercase digits, a missing dash, a version other than `00`.
//!
//! # Binary form
//!
//! 16 bytes: the timestamp big-endian, then the node id big-endian. Comparing two encodings
//! byte by byte gives the same order as comparing the pairs, so the bytes can serve as a sorted
//! key in a datastore.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;
use crate::{hex, NodeId, Timestamp};

/// Length of the text form.
pub const TEXT_LEN: usize = 36;
/// Length of the binary form.
pub const BINARY_LEN: usize = 16;

/// A timestamp with the node that made it, ordered by timestamp and then node id: a total
/// order across nodes, as last-writer-wins and merged logs need.
///
/// It displays as the wire form (a header value, not for people); its [`Timestamp`] displays
/// as RFC 3339 with the logical count after `#` (see [the two forms](crate#two-text-forms)).
///
/// ```
/// use hlc_core::{NodeId, NodeTimestamp, Timestamp};
///
/// let stamp = NodeTimestamp::new(Timestamp::from_u64(0x0006412b3c4d5003), NodeId::new(0xa1));
/// assert_eq!(stamp.to_string(), "00-0006412b3c4d5003-00000000000000a1");
/// assert_eq!("00-0006412b3c4d5003-00000000000000a1".parse::<NodeTimestamp>()?, stamp);
/// assert_eq!(NodeTimestamp::from_bytes(&stamp.to_bytes())?, stamp);
/// # Ok::<(), hlc_core::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct NodeTimestamp {
    /// The hybrid timestamp; compared first.
    pub timestamp: Timestamp,
    /// The node that made it; breaks ties.
    pub node: NodeId,
}

impl NodeTimestamp {
    /// Pairs a timestamp with its node.
    pub const fn new(timestamp: Timestamp, node: NodeId) -> Self {
        Self { timestamp, node }
    }

    /// Writes the text form into `buf` and returns it as a `str`, without allocating.
    pub fn encode_text<'b>(&self, buf: &'b mut [u8; TEXT_LEN]) -> &'b str {
        self.write_text(buf);
        // Only ASCII was written.
        std::str::from_utf8(buf).unwrap_or_default()
    }

    /// Writes the text form into `buf` as bytes: for callers that hand the bytes on (an HTTP
    /// header value, say), so they skip the UTF-8 check of [`encode_text`](Self::encode_text).
    /// Only `0`-`9`, `a`-`f` and `-` are ever written: callers may rely on it.
    #[inline]
    pub fn write_text(&self, buf: &mut [u8; TEXT_LEN]) {
        buf[..3].copy_from_slice(b"00-");
        buf[19] = b'-';
        buf[3..19].copy_from_slice(&hex::digits(self.timestamp.as_u64()));
        buf[20..].copy_from_slice(&hex::digits(self.node.as_u64()));
    }

    /// Parses the text form from raw bytes (an HTTP header value, say).
    ///
    /// # Errors
    /// A [`ParseError`] saying what is wrong: length, version, separator or digit.
    #[inline]
    pub fn parse_text(text: &[u8]) -> Result<Self, ParseError> {
        match <&[u8; TEXT_LEN]>::try_from(text)
            .ok()
            .and_then(Self::parse_valid)
        {
            Some(stamp) => Ok(stamp),
            None => Self::parse_text_checked(text),
        }
    }

    /// The fast path: the text form when it is valid, with no account of why it is not.
    #[inline]
    fn parse_valid(text: &[u8; TEXT_LEN]) -> Option<Self> {
        let (head, rest) = text.split_at(3);
        let (timestamp, rest) = rest.split_at(16);
        let (separator, node) = rest.split_at(1);
        if head != b"00-" || separator != b"-" {
            return None;
        }
        let timestamp = hex::value_of(timestamp.try_into().ok()?)?;
        let node = hex::value_of(node.try_into().ok()?)?;
        Some(Self::new(Timestamp::from_u64(timestamp), NodeId::new(node)))
    }

    /// Checks in the order a reader would (length, version, separators, digits) and names the
    /// first problem, a byte at a time: `parse_text` comes here only for text its fast path
    /// refused, and the tests hold the fast path to this reading.
    #[cold]
    fn parse_text_checked(text: &[u8]) -> Result<Self, ParseError> {
        if text.len() != TEXT_LEN {
            return Err(ParseError::Length {
                expected: TEXT_LEN,
                actual: text.len(),
            });
        }
        if &text[..2] != b"00" {
            return Err(ParseError::UnknownVersion {
                found: String::from_utf8_lossy(&text[..2]).into_owned(),
            });
        }
        for at in [2, 19] {
            if text[at] != b'-' {
                return Err(ParseError::Separator { expected: '-', at });
            }
        }
        let timestamp = hex::decode_u64_slow(&text[3..19], 3)?;
        let node = hex::decode_u64_slow(&text[20..], 20)?;
        Ok(Self::new(Timestamp::from_u64(timestamp), NodeId::new(node)))
    }

    /// The 16-byte binary form, whose byte order is the pair's order.
    pub fn to_bytes(&self) -> [u8; BINARY_LEN] {
        let mut out = [0u8; BINARY_LEN];
        out[..8].copy_from_slice(&self.timestamp.as_u64().to_be_bytes());
        out[8..].copy_from_slice(&self.node.as_u64().to_be_bytes());
        out
    }

    /// Decodes the binary form.
    ///
    /// # Errors
    /// [`ParseError::Length`] unless `bytes` is exactly 16 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ParseError> {
        let array: [u8; BINARY_LEN] = bytes.try_into().map_err(|_| ParseError::Length {
            expected: BINARY_LEN,
            actual: bytes.len(),
        })?;
        Ok(Self::from(array))
    }
}

impl From<[u8; BINARY_LEN]> for NodeTimestamp {
    fn from(bytes: [u8; BINARY_LEN]) -> Self {
        let [t0, t1, t2, t3, t4, t5, t6, t7, n0, n1, n2, n3, n4, n5, n6, n7] = bytes;
        let timestamp = u64::from_be_bytes([t0, t1, t2, t3, t4, t5, t6, t7]);
        let node = u64::from_be_bytes([n0, n1, n2, n3, n4, n5, n6, n7]);
        Self::new(Timestamp::from_u64(timestamp), NodeId::new(node))
    }
}

/// The text form.
impl fmt::Display for NodeTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; TEXT_LEN];
        f.write_str(self.encode_text(&mut buf))
    }
}

/// Parses the text form.
impl FromStr for NodeTimestamp {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::parse_text(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "00-0006412b3c4d5003-00000000000000a1";

    #[test]
    fn text_form_matches_the_spec_example() {
        let stamp: NodeTimestamp = SAMPLE.parse().unwrap();
        assert_eq!(stamp.timestamp.as_u64(), 0x0006_412b_3c4d_5003);
        assert_eq!(stamp.node, NodeId::new(0xa1));
        let mut buf = [0; TEXT_LEN];
        assert_eq!(stamp.encode_text(&mut buf), SAMPLE);
        let mut bytes = [0; TEXT_LEN];
        stamp.write_text(&mut bytes);
        assert_eq!(&bytes, SAMPLE.as_bytes());
    }

    #[test]
    fn text_errors_say_what_is_wrong() {
        let err = |s: &str| NodeTimestamp::parse_text(s.as_bytes()).unwrap_err();
        assert_eq!(
            err(""),
            ParseError::Length {
                expected: 36,
                actual: 0
            }
        );
        assert_eq!(
            err("01-0006412b3c4d5003-00000000000000a1"),
            ParseError::UnknownVersion { found: "01".into() }
        );
        assert_eq!(
            err("00_0006412b3c4d5003-00000000000000a1"),
            ParseError::Separator {
                expected: '-',
                at: 2
            }
        );
        assert_eq!(
            err("00-0006412B3c4d5003-00000000000000a1"),
            ParseError::Hex { at: 10 }
        );
        assert_eq!(
            err("00-0006412b3c4d5003-00000000000000aG"),
            ParseError::Hex { at: 35 }
        );
    }

    #[test]
    fn malformed_inputs_never_parse() {
        let mut cases: Vec<Vec<u8>> = vec![
            SAMPLE.to_uppercase().into_bytes(),
            format!(" {SAMPLE}").into_bytes(),
            format!("{SAMPLE} ").into_bytes(),
            SAMPLE.as_bytes()[..35].to_vec(),
            format!("{SAMPLE},{SAMPLE}").into_bytes(),
            SAMPLE.replace('-', "").into_bytes(),
            SAMPLE.replacen('-', "+", 1).into_bytes(),
            "00-0006412b3c4d5003-00000000000000é".as_bytes().to_vec(),
            "00-0006412b3c4d5003-00000000000000\u{0}1"
                .as_bytes()
                .to_vec(),
            "00-0x06412b3c4d5003-00000000000000a1".as_bytes().to_vec(),
            "ff-0006412b3c4d5003-00000000000000a1".as_bytes().to_vec(),
            vec![0xff; 36],
        ];
        for (i, byte) in SAMPLE.bytes().enumerate() {
            let mut flipped = SAMPLE.as_bytes().to_vec();
            flipped[i] = if byte == b'g' { b'h' } else { b'g' };
            cases.push(flipped);
        }
        for case in cases {
            assert!(
                NodeTimestamp::parse_text(&case).is_err(),
                "{:?} was accepted",
                String::from_utf8_lossy(&case)
            );
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_checked_one_on_every_single_byte_change() {
        for position in 0..TEXT_LEN {
            for byte in 0..=255u8 {
                let mut text: [u8; TEXT_LEN] = SAMPLE.as_bytes().try_into().unwrap();
                text[position] = byte;
                assert_eq!(
                    NodeTimestamp::parse_text(&text),
                    NodeTimestamp::parse_text_checked(&text),
                    "{byte:#x} at {position}"
                );
            }
        }
    }

    #[test]
    fn binary_form_is_big_endian_and_strict() {
        let stamp = NodeTimestamp::new(Timestamp::from_u64(0x0102), NodeId::new(0x0304));
        let bytes = stamp.to_bytes();
        assert_eq!(bytes[6..8], [1, 2]);
        assert_eq!(bytes[14..], [3, 4]);
        assert_eq!(NodeTimestamp::from_bytes(&bytes), Ok(stamp));
        for len in [0, 15, 17, 32] {
            assert_eq!(
                NodeTimestamp::from_bytes(&vec![0; len]),
                Err(ParseError::Length {
                    expected: 16,
                    actual: len
                })
            );
        }
    }
}
