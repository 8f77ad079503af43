//! [`SigningKeys`]: the keys one side signs and verifies with, and the two operations.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use http::header::HeaderValue;
use sha2::Sha256;

use super::error::SignatureError;
use super::key_id::KeyId;
use super::value::{self, MAX_VALUE_LEN};

type HmacSha256 = Hmac<Sha256>;

/// The shortest key accepted, in bytes: the output length of SHA-256, below which RFC 2104
/// (section 3) calls a key "strongly discouraged".
pub const MIN_KEY_LEN: usize = 32;

/// The keys of one side: the first signs, every one verifies.
///
/// Built from a key file ([`parse`](Self::parse), [`load`](Self::load)); cloning shares the
/// keys. `Debug` shows the key ids, never key material.
///
/// ```
/// use hlc_middleware::signature::SigningKeys;
///
/// let keys = SigningKeys::parse(&format!("new {}\nold {}\n", "11".repeat(32), "22".repeat(32)))?;
/// let value = b"00-60a2418202240003-00000000000000a1";
/// let signature = keys.sign(value);
/// assert!(signature.to_str()?.starts_with("v1=new:"));
/// assert_eq!(keys.verify(signature.as_bytes(), value)?.as_str(), "new");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SigningKeys {
    // An `Arc`: every layer and response future holding the keys shares one copy.
    keys: Arc<[SigningKey]>,
}

/// One key: its id, the value prefix `v1=<id>:` and the HMAC state already keyed, so that
/// signing a stamp costs the two final compressions and no key schedule.
struct SigningKey {
    id: KeyId,
    prefix: Box<[u8]>,
    mac: HmacSha256,
}

impl SigningKeys {
    /// Keys from `(id, key bytes)` pairs whose ids are unique, the signing key first; the
    /// caller (the key file parser) has checked the ids, the lengths and that there is one.
    pub(super) fn from_checked(keys: Vec<(KeyId, Vec<u8>)>) -> Self {
        let keys = keys
            .into_iter()
            .map(|(id, key)| SigningKey {
                prefix: value::prefix(&id),
                mac: keyed(&key),
                id,
            })
            .collect();
        Self { keys }
    }

    /// The id of the key that signs (the first in the file).
    pub fn signing_key_id(&self) -> &KeyId {
        &self.keys[0].id
    }

    /// Every key id, the signing key's first.
    pub fn key_ids(&self) -> impl Iterator<Item = &KeyId> {
        self.keys.iter().map(|key| &key.id)
    }

    /// The `hlc-signature` value for an `hlc` value: `v1=<signing key id>:<HMAC-SHA256 of
    /// hlc_value in lowercase hex>`.
    pub fn sign(&self, hlc_value: &[u8]) -> HeaderValue {
        let key = &self.keys[0];
        let tag = key
            .mac
            .clone()
            .chain_update(hlc_value)
            .finalize()
            .into_bytes();
        let mut out = [0; MAX_VALUE_LEN];
        let len = value::write(&key.prefix, &tag.into(), &mut out);
        header_value(&out[..len])
    }

    /// Checks an `hlc-signature` value against the `hlc` value it signs; returns the id of
    /// the key that signed it. The tag is compared in constant time (`hmac`'s
    /// `verify_slice`); nothing is allocated unless the signature is refused.
    ///
    /// # Errors
    /// [`SignatureError::Malformed`] when `signature` is not the `v1` form,
    /// [`SignatureError::UnknownKey`] when it names a key not held here, and
    /// [`SignatureError::Mismatch`] when the tag is wrong.
    pub fn verify(&self, signature: &[u8], hlc_value: &[u8]) -> Result<&KeyId, SignatureError> {
        let parsed = value::parse(signature)?;
        // Key ids are public; only the tag needs a constant-time comparison.
        let Some(key) = self
            .keys
            .iter()
            .find(|key| key.id.as_str().as_bytes() == parsed.key_id)
        else {
            return Err(SignatureError::UnknownKey(KeyId::from_checked(
                parsed.key_id,
            )));
        };
        match key
            .mac
            .clone()
            .chain_update(hlc_value)
            .verify_slice(&parsed.mac)
        {
            Ok(()) => Ok(&key.id),
            Err(_) => Err(SignatureError::Mismatch(key.id.clone())),
        }
    }

    /// Checks the `hlc-signature` fields of a message, whatever carries them (an HTTP header
    /// map, NATS headers), against its `hlc` value.
    pub(crate) fn verify_fields<'a>(
        &self,
        mut fields: impl Iterator<Item = &'a [u8]>,
        hlc_value: &[u8],
    ) -> Result<&KeyId, SignatureError> {
        let Some(signature) = fields.next() else {
            return Err(SignatureError::Missing);
        };
        if fields.next().is_some() {
            return Err(SignatureError::Duplicate {
                count: 2 + fields.count(),
            });
        }
        self.verify(signature, hlc_value)
    }
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (RFC 2104, section 2: longer ones are hashed first);
    // `hmac` says so too, yet returns a `Result` for the generic `KeyInit` interface.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// The value as a header value. Its bytes are `v1=`, a key id (alphabet checked when the key
/// was loaded), `:` and lowercase hex: visible ASCII, which `from_bytes` always accepts
/// (pinned by `signatures_are_valid_header_values_for_every_id_byte`).
fn header_value(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(bytes).expect("signature values are visible ASCII")
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeys")
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
