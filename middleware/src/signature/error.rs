//! Why a signature or a key file was not accepted.

use std::path::PathBuf;

use super::key_id::{KeyId, KeyIdError};
use super::keys::MIN_KEY_LEN;
use super::value::MalformedSignature;

/// Why a message's signature was not accepted. The message names the problem and never
/// holds key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The message carries an `hlc` header but no `hlc-signature`.
    #[error("the message carries no hlc-signature header")]
    Missing,
    /// The message carries `hlc-signature` more than once.
    #[error("the hlc-signature header appears {count} times, expected once")]
    Duplicate {
        /// How many `hlc-signature` fields the message has.
        count: usize,
    },
    /// The value is not `v1=<key id>:<64 lowercase hex>`.
    #[error("malformed hlc-signature header: {0}")]
    Malformed(#[from] MalformedSignature),
    /// The value names a key this side does not hold.
    #[error("the hlc signature names key {0}, which is not configured")]
    UnknownKey(KeyId),
    /// The tag is not HMAC-SHA256 of the `hlc` value under the named key.
    #[error("the hlc signature by key {0} does not match the hlc value")]
    Mismatch(KeyId),
}

impl SignatureError {
    /// Whether the message was unsigned rather than signed badly.
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Missing)
    }
}

/// Why a key file was not accepted. Lines count from 1, blank and comment lines included;
/// the message never holds key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("cannot read key file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The reason.
        source: std::io::Error,
    },
    /// The file holds no key line.
    #[error("the key file holds no key")]
    Empty,
    /// A line is not two fields separated by whitespace.
    #[error("line {line}: expected `<key id> <key as hex>`, got {fields} fields")]
    Fields {
        /// The line.
        line: usize,
        /// How many whitespace-separated fields it has.
        fields: usize,
    },
    /// The key id is not a valid [`KeyId`].
    #[error("line {line}: {error}")]
    KeyId {
        /// The line.
        line: usize,
        /// What is wrong with the id.
        error: KeyIdError,
    },
    /// The key is not an even number of hex digits.
    #[error("line {line}: the key has an odd number of hex digits")]
    OddLength {
        /// The line.
        line: usize,
    },
    /// The key holds a byte that is not a hex digit.
    #[error("line {line}: the key's byte at {position} is not a hex digit")]
    Digit {
        /// The line.
        line: usize,
        /// The position of the byte within the key's hex, from 0.
        position: usize,
    },
    /// The key is shorter than [`MIN_KEY_LEN`] bytes.
    #[error("line {line}: the key is {bytes} bytes, at least {MIN_KEY_LEN} are required")]
    KeyLength {
        /// The line.
        line: usize,
        /// The key's length in bytes.
        bytes: usize,
    },
    /// A key id appears on two lines.
    #[error("line {line}: key id {id} is already on line {first}")]
    Duplicate {
        /// The later line.
        line: usize,
        /// The line that first named the id.
        first: usize,
        /// The id.
        id: KeyId,
    },
}
