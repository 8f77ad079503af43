//! Signed stamps: an `hlc-signature` header, HMAC-SHA256 over the exact `hlc` value, so that
//! a caller without the key cannot move a node's clock.
//!
//! Any client that can reach a service can otherwise push its clock up to the max offset
//! ahead; MongoDB signs its cluster time for the same reason. The wire form, the key file and
//! the test vectors are specified in [`header`](crate::header) (`HEADER.md`):
//!
//! ```text
//! hlc: 00-60a2418202240003-00000000000000a1
//! hlc-signature: v1=<key id>:<HMAC-SHA256(key, hlc value) in 64 lowercase hex>
//! ```
//!
//! [`SigningKeys`] holds the keys of a key file (one `<key id> <key as hex>` a line; the first
//! signs, all verify, so keys roll without downtime: add the new key second, roll, move it
//! first, roll, drop the old one). Both layers take them with `signing_keys`; then every
//! message they stamp is signed, and a received stamp is merged only when its signature
//! verifies. An unsigned or badly signed stamp is handled by [`UnsignedPolicy`]: ignored
//! (served, not merged; the default) or refused (`401`, gRPC `UNAUTHENTICATED`).
//!
//! ```
//! use std::sync::Arc;
//! use hlc_middleware::signature::SigningKeys;
//! use hlc_middleware::{HlcClientLayer, HlcServerLayer, UnsignedPolicy};
//!
//! // In production: SigningKeys::load("/etc/hlc/keys")?
//! let keys = SigningKeys::parse(&format!("k1 {}\n", "5e".repeat(32)))?;
//! let hlc = Arc::new(hlc_core::Hlc::new());
//! let server = HlcServerLayer::new(hlc.clone())
//!     .signing_keys(keys.clone())
//!     .unsigned(UnsignedPolicy::Refuse);
//! let client = HlcClientLayer::new(hlc).signing_keys(keys);
//! # let _ = (server, client);
//! # Ok::<(), hlc_middleware::signature::KeyFileError>(())
//! ```
//!
//! The signature is checked before the max-offset rule: a stamp that does not verify is no
//! evidence about the peer's clock, so it is never merged, never refused as too far ahead and
//! never reported to an observer as a merge.

mod error;
mod hex;
mod key_file;
mod key_id;
mod keys;
mod value;

use http::header::HeaderName;

pub use crate::policy::UnsignedPolicy;
pub use error::{KeyFileError, SignatureError};
pub use key_id::{KeyId, KeyIdError, MAX_KEY_ID_LEN};
pub use keys::{SigningKeys, MIN_KEY_LEN};
pub use value::{MalformedSignature, MAC_LEN, MAX_VALUE_LEN, VERSION_PREFIX};

/// The header name, `hlc-signature`.
pub const HLC_SIGNATURE: HeaderName = HeaderName::from_static("hlc-signature");

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of `HEADER.md`: key id, key in hex, `hlc` value, `hlc-signature`.
    const VECTORS: [(&str, &str, &str, &str); 3] = [
        (
            "k1",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "00-60a2418202240003-00000000000000a1",
            "v1=k1:22e4d78b09ef14cfd7c069f91a47c93184d58b6a01ff88f977363ebd51276edf",
        ),
        (
            "2026-11.b",
            "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
            "00-0006412b3c4d5003-00000000000000a1",
            "v1=2026-11.b:8cebe80f970ec841404007b615dbfa3f5cbea12fabe060ed2b8de5470a1c7c47",
        ),
        (
            "long_key",
            "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\
             404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f78",
            "00-0000000000000000-0000000000000000",
            "v1=long_key:6c25e6cba2934488ece6540b792d8054fedc9cbe440413f33c461853e8e106ac",
        ),
    ];

    fn keys(text: &str) -> SigningKeys {
        SigningKeys::parse(text).unwrap()
    }

    #[test]
    fn the_spec_test_vectors_hold() {
        let spec = include_str!("../../HEADER.md");
        for (id, key, hlc, signature) in VECTORS {
            let keys = keys(&format!("{id} {key}"));
            assert_eq!(keys.sign(hlc.as_bytes()), signature, "{id}");
            assert_eq!(
                keys.verify(signature.as_bytes(), hlc.as_bytes())
                    .unwrap()
                    .as_str(),
                id
            );
            for cell in [id, hlc, signature] {
                assert!(
                    spec.contains(&format!("`{cell}`")),
                    "{cell} not in HEADER.md"
                );
            }
            assert!(
                spec.contains(&format!("`{key}`")),
                "{id}'s key not in HEADER.md"
            );
        }
    }

    #[test]
    fn the_spec_counter_examples_are_refused_for_the_reason_given() {
        let spec = include_str!("../../HEADER.md");
        let (id, key, hlc, signature) = VECTORS[0];
        let keys = keys(&format!("{id} {key}"));
        let tag = &signature[signature.len() - 2 * MAC_LEN..];
        let cases = [
            (format!("v1=k1:{}e", &tag[..63]), "mismatch"),
            (format!("v1=K1:{tag}"), "unknown key"),
            (format!("v1=k1:{}", tag.to_uppercase()), "malformed"),
            (format!("v2=k1:{tag}"), "malformed"),
            (format!("v1=k1{tag}"), "malformed"),
        ];
        for (value, why) in cases {
            assert!(
                spec.contains(&format!("| `{value}` | {why}")),
                "{value} not in HEADER.md"
            );
            let refused = keys.verify(value.as_bytes(), hlc.as_bytes()).unwrap_err();
            let matches = match why {
                "mismatch" => matches!(refused, SignatureError::Mismatch(_)),
                "unknown key" => matches!(refused, SignatureError::UnknownKey(_)),
                _ => matches!(refused, SignatureError::Malformed(_)),
            };
            assert!(matches, "{value}: {refused:?}");
        }
    }

    #[test]
    fn a_flipped_bit_in_the_stamp_or_the_tag_fails() {
        let (id, key, hlc, signature) = VECTORS[0];
        let keys = keys(&format!("{id} {key}"));
        for position in 0..hlc.len() {
            let mut stamp = hlc.as_bytes().to_vec();
            stamp[position] ^= 1;
            let refused = keys.verify(signature.as_bytes(), &stamp);
            assert!(
                matches!(refused, Err(SignatureError::Mismatch(_))),
                "{position}"
            );
        }
        let tag_start = signature.len() - 2 * MAC_LEN;
        for position in tag_start..signature.len() {
            let mut flipped = signature.as_bytes().to_vec();
            // '0'..'9' <-> other digits and 'a'..'f' within the alphabet: still well-formed.
            flipped[position] = if flipped[position] == b'0' {
                b'1'
            } else {
                b'0'
            };
            let refused = keys.verify(&flipped, hlc.as_bytes());
            assert!(
                matches!(refused, Err(SignatureError::Mismatch(_))),
                "{position}"
            );
        }
    }

    #[test]
    fn every_key_verifies_but_only_the_first_signs() {
        let (old_id, old_key, hlc, by_old) = VECTORS[0];
        let (new_id, new_key, ..) = VECTORS[1];
        let rolled = keys(&format!("{new_id} {new_key}\n{old_id} {old_key}\n"));
        assert_eq!(
            rolled
                .verify(by_old.as_bytes(), hlc.as_bytes())
                .unwrap()
                .as_str(),
            old_id
        );
        let by_new = rolled.sign(hlc.as_bytes());
        assert!(by_new.to_str().unwrap().starts_with("v1=2026-11.b:"));
        let old_only = keys(&format!("{old_id} {old_key}"));
        assert_eq!(
            old_only.verify(by_new.as_bytes(), hlc.as_bytes()),
            Err(SignatureError::UnknownKey("2026-11.b".parse().unwrap()))
        );
    }

    #[test]
    fn the_key_id_chooses_the_key() {
        let (id, key, hlc, signature) = VECTORS[0];
        // Here "k1" is another key, and the vector's key is called "other".
        let swapped = keys(&format!("k1 {}\nother {key}", "77".repeat(32)));
        assert_eq!(
            swapped.verify(signature.as_bytes(), hlc.as_bytes()),
            Err(SignatureError::Mismatch(id.parse().unwrap()))
        );
        let relabelled = signature.replacen("v1=k1:", "v1=other:", 1);
        let verified = swapped.verify(relabelled.as_bytes(), hlc.as_bytes());
        assert_eq!(verified.unwrap().as_str(), "other");
    }

    #[test]
    fn signatures_are_valid_header_values_for_every_id_byte() {
        let alphabet: Vec<u8> = (0..=u8::MAX)
            .filter(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(byte))
            .collect();
        for id in alphabet.chunks(MAX_KEY_ID_LEN) {
            let id = std::str::from_utf8(id).unwrap();
            let keys = keys(&format!("{id} {}", "42".repeat(32)));
            let value = keys.sign(b"00-0000000000000000-0000000000000000");
            assert_eq!(
                value.len(),
                VERSION_PREFIX.len() + id.len() + 1 + 2 * MAC_LEN
            );
            assert!(keys
                .verify(value.as_bytes(), b"00-0000000000000000-0000000000000000")
                .is_ok());
        }
    }
}
