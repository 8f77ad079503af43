//! [`KeyId`]: the name of a signing key, as it appears in the key file and on the wire.

use std::fmt;
use std::sync::Arc;

/// The longest key id, in bytes.
pub const MAX_KEY_ID_LEN: usize = 64;

/// The name of a signing key: 1 to [`MAX_KEY_ID_LEN`] bytes of `A`-`Z`, `a`-`z`, `0`-`9`,
/// `.`, `_` and `-`.
///
/// The alphabet keeps the id free of the header value's own separators (`=`, `:`) and of
/// whitespace, so the key file and the `hlc-signature` value split without quoting. Cloning
/// shares the text.
///
/// ```
/// use hlc_middleware::signature::KeyId;
///
/// let id: KeyId = "2026-11.a".parse()?;
/// assert_eq!(id.as_str(), "2026-11.a");
/// assert!("two words".parse::<KeyId>().is_err());
/// # Ok::<(), hlc_middleware::signature::KeyIdError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Arc<str>);

/// Why a text is not a [`KeyId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyIdError {
    /// The id is empty or longer than [`MAX_KEY_ID_LEN`].
    #[error("a key id is 1 to {MAX_KEY_ID_LEN} bytes long, got {0}")]
    Length(usize),
    /// The id holds a byte outside its alphabet.
    #[error("a key id holds only A-Z a-z 0-9 . _ -, got byte {byte:#04x} at {position}")]
    Byte {
        /// The offending byte.
        byte: u8,
        /// Its position in the id, from 0.
        position: usize,
    },
}

impl KeyId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks `bytes` against the alphabet and length, without building an id.
    pub(crate) fn check(bytes: &[u8]) -> Result<(), KeyIdError> {
        if bytes.is_empty() || bytes.len() > MAX_KEY_ID_LEN {
            return Err(KeyIdError::Length(bytes.len()));
        }
        match bytes.iter().position(|&byte| !is_id_byte(byte)) {
            Some(position) => Err(KeyIdError::Byte {
                byte: bytes[position],
                position,
            }),
            None => Ok(()),
        }
    }

    /// An id from bytes that passed [`check`](Self::check).
    pub(crate) fn from_checked(bytes: &[u8]) -> Self {
        Self(String::from_utf8_lossy(bytes).into())
    }
}

fn is_id_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-')
}

impl std::str::FromStr for KeyId {
    type Err = KeyIdError;

    fn from_str(text: &str) -> Result<Self, KeyIdError> {
        Self::check(text.as_bytes())?;
        Ok(Self(text.into()))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({:?})", &*self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_and_the_length_are_enforced() {
        for good in ["a", "K1", "2026-11.a_b", &"x".repeat(MAX_KEY_ID_LEN)] {
            assert_eq!(good.parse::<KeyId>().unwrap().as_str(), good);
        }
        assert_eq!("".parse::<KeyId>(), Err(KeyIdError::Length(0)));
        let long = "x".repeat(MAX_KEY_ID_LEN + 1);
        assert_eq!(long.parse::<KeyId>(), Err(KeyIdError::Length(65)));
        for (bad, byte, position) in [("a:b", b':', 1), ("a=b", b'=', 1), ("é", 0xc3, 0)] {
            assert_eq!(
                bad.parse::<KeyId>(),
                Err(KeyIdError::Byte { byte, position }),
                "{bad}"
            );
        }
        assert_eq!(
            "a b".parse::<KeyId>().unwrap_err().to_string(),
            "a key id holds only A-Z a-z 0-9 . _ -, got byte 0x20 at 1"
        );
    }
}
