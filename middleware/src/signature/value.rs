//! The `hlc-signature` value, `v1=<key id>:<64 lowercase hex>`: its strict parser and writer.

use super::hex;
use super::key_id::{KeyId, KeyIdError, MAX_KEY_ID_LEN};

/// The version prefix every value starts with.
pub const VERSION_PREFIX: &str = "v1=";
/// The length of an HMAC-SHA256 tag, in bytes.
pub const MAC_LEN: usize = 32;
/// The longest valid value, in bytes: the prefix, the longest key id, `:` and the tag in hex.
pub const MAX_VALUE_LEN: usize = VERSION_PREFIX.len() + MAX_KEY_ID_LEN + 1 + 2 * MAC_LEN;

/// Why an `hlc-signature` value is malformed. The message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedSignature {
    /// The value does not start with [`VERSION_PREFIX`] (an unknown version, or none).
    #[error("expected the value to start with {VERSION_PREFIX}")]
    Version,
    /// No `:` separates the key id from the tag.
    #[error("expected a ':' between the key id and the signature")]
    Separator,
    /// The key id is empty, too long or outside its alphabet.
    #[error("{0}")]
    KeyId(#[from] KeyIdError),
    /// The tag is not exactly 64 hex digits.
    #[error("expected {} hex digits after the key id, got {actual}", 2 * MAC_LEN)]
    Length {
        /// How many bytes follow the `:`.
        actual: usize,
    },
    /// The tag holds a byte that is not a lowercase hex digit.
    #[error("the signature's byte at {position} is not a lowercase hex digit")]
    Digit {
        /// Its position among the 64 digits, from 0.
        position: usize,
    },
}

/// A well-formed value: the key id's bytes (checked against the alphabet) and the tag.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Parsed<'a> {
    pub(crate) key_id: &'a [u8],
    pub(crate) mac: [u8; MAC_LEN],
}

/// Parses a value strictly; nothing is allocated.
pub(crate) fn parse(value: &[u8]) -> Result<Parsed<'_>, MalformedSignature> {
    let rest = value
        .strip_prefix(VERSION_PREFIX.as_bytes())
        .ok_or(MalformedSignature::Version)?;
    // The id's alphabet has no ':', so the first one is the separator.
    let colon = rest
        .iter()
        .position(|&byte| byte == b':')
        .ok_or(MalformedSignature::Separator)?;
    let (key_id, tag) = (&rest[..colon], &rest[colon + 1..]);
    KeyId::check(key_id)?;
    if tag.len() != 2 * MAC_LEN {
        return Err(MalformedSignature::Length { actual: tag.len() });
    }
    let mut mac = [0; MAC_LEN];
    hex::decode(tag, false, &mut mac).map_err(|position| MalformedSignature::Digit { position })?;
    Ok(Parsed { key_id, mac })
}

/// The value's prefix for one key, `v1=<key id>:`, written once when the key is loaded.
pub(crate) fn prefix(key_id: &KeyId) -> Box<[u8]> {
    [VERSION_PREFIX, key_id.as_str(), ":"]
        .concat()
        .into_bytes()
        .into()
}

/// Writes `prefix` and `mac` in hex into `out`; returns the length written.
pub(crate) fn write(prefix: &[u8], mac: &[u8; MAC_LEN], out: &mut [u8; MAX_VALUE_LEN]) -> usize {
    let end = prefix.len() + 2 * MAC_LEN;
    out[..prefix.len()].copy_from_slice(prefix);
    hex::encode_lower(mac, &mut out[prefix.len()..end]);
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn a_value_written_parses_back() {
        let id: KeyId = "k-1".parse().unwrap();
        let mac: [u8; MAC_LEN] = std::array::from_fn(|i| (i * 7) as u8);
        let mut out = [0; MAX_VALUE_LEN];
        let len = write(&prefix(&id), &mac, &mut out);
        let parsed = parse(&out[..len]).unwrap();
        assert_eq!(parsed.key_id, b"k-1");
        assert_eq!(parsed.mac, mac);
        let longest: KeyId = "x".repeat(MAX_KEY_ID_LEN).parse().unwrap();
        assert_eq!(write(&prefix(&longest), &mac, &mut out), MAX_VALUE_LEN);
    }

    #[test]
    fn every_deviation_is_named() {
        let malformed = |value: String| parse(value.as_bytes()).unwrap_err();
        assert_eq!(
            malformed(format!("v2=k:{TAG}")),
            MalformedSignature::Version
        );
        assert_eq!(
            malformed(format!(" v1=k:{TAG}")),
            MalformedSignature::Version
        );
        assert_eq!(
            malformed(format!("v1=k{TAG}")),
            MalformedSignature::Separator
        );
        assert!(matches!(
            malformed(format!("v1=:{TAG}")),
            MalformedSignature::KeyId(KeyIdError::Length(0))
        ));
        assert!(matches!(
            malformed(format!("v1=a b:{TAG}")),
            MalformedSignature::KeyId(KeyIdError::Byte { position: 1, .. })
        ));
        assert_eq!(
            malformed(format!("v1=k:{TAG} ")),
            MalformedSignature::Length { actual: 65 }
        );
        assert_eq!(
            malformed(format!("v1=k:{}", &TAG[..63])),
            MalformedSignature::Length { actual: 63 }
        );
        let upper = format!("v1=k:{}F", &TAG[..63]);
        assert_eq!(malformed(upper), MalformedSignature::Digit { position: 63 });
        assert_eq!(
            malformed(format!("v1=k:{TAG}:{TAG}")).to_string(),
            "expected 64 hex digits after the key id, got 129"
        );
    }
}
