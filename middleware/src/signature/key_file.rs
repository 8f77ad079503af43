//! The key file: one key a line, `<key id> <key as hex>`, the first line's key signs.
//!
//! Parsing is a pure function of the text ([`SigningKeys::parse`]); reading the file is
//! [`SigningKeys::load`]. Blank lines and lines whose first non-blank byte is `#` are skipped,
//! so a key can carry a note; the fields are separated by spaces or tabs, and the key's hex
//! may be in either case. Errors name the line and never quote the key.

use std::path::Path;

use super::error::KeyFileError;
use super::hex;
use super::key_id::KeyId;
use super::keys::{SigningKeys, MIN_KEY_LEN};

impl SigningKeys {
    /// Keys from the text of a key file.
    ///
    /// # Errors
    /// A [`KeyFileError`] naming the first bad line: not two fields, a bad key id, a key that
    /// is not hex, shorter than [`MIN_KEY_LEN`] bytes, or an id already used; or
    /// [`KeyFileError::Empty`] when no line holds a key.
    pub fn parse(text: &str) -> Result<Self, KeyFileError> {
        let mut keys: Vec<(usize, KeyId, Vec<u8>)> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let Some((id, key)) = parse_line(line_number, line)? else {
                continue;
            };
            if let Some((first, ..)) = keys.iter().find(|(_, known, _)| *known == id) {
                return Err(KeyFileError::Duplicate {
                    line: line_number,
                    first: *first,
                    id,
                });
            }
            keys.push((line_number, id, key));
        }
        if keys.is_empty() {
            return Err(KeyFileError::Empty);
        }
        Ok(Self::from_checked(
            keys.into_iter().map(|(_, id, key)| (id, key)).collect(),
        ))
    }

    /// Keys from the key file at `path` (see [`parse`](Self::parse)). Read once: to roll
    /// keys, load the file again and build new layers.
    ///
    /// # Errors
    /// [`KeyFileError::Read`] when the file cannot be read as UTF-8 text, and the errors of
    /// [`parse`](Self::parse).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, KeyFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text)
    }
}

impl std::str::FromStr for SigningKeys {
    type Err = KeyFileError;

    fn from_str(text: &str) -> Result<Self, KeyFileError> {
        Self::parse(text)
    }
}

/// One line: `None` for a blank or comment line.
fn parse_line(line: usize, text: &str) -> Result<Option<(KeyId, Vec<u8>)>, KeyFileError> {
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    let [id, key] = fields[..] else {
        return Err(KeyFileError::Fields {
            line,
            fields: fields.len(),
        });
    };
    let id = id
        .parse::<KeyId>()
        .map_err(|error| KeyFileError::KeyId { line, error })?;
    Ok(Some((id, parse_key(line, key.as_bytes())?)))
}

fn parse_key(line: usize, hex_key: &[u8]) -> Result<Vec<u8>, KeyFileError> {
    if !hex_key.len().is_multiple_of(2) {
        return Err(KeyFileError::OddLength { line });
    }
    let mut key = vec![0; hex_key.len() / 2];
    hex::decode(hex_key, true, &mut key)
        .map_err(|position| KeyFileError::Digit { line, position })?;
    if key.len() < MIN_KEY_LEN {
        return Err(KeyFileError::KeyLength {
            line,
            bytes: key.len(),
        });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: &str) -> String {
        byte.repeat(MIN_KEY_LEN)
    }

    fn ids(keys: &SigningKeys) -> Vec<&str> {
        keys.key_ids().map(KeyId::as_str).collect()
    }

    #[test]
    fn one_key_signs_and_is_the_only_id() {
        let keys = SigningKeys::parse(&format!("k1 {}", key("ab"))).unwrap();
        assert_eq!(keys.signing_key_id().as_str(), "k1");
        assert_eq!(ids(&keys), ["k1"]);
    }

    #[test]
    fn rotation_keeps_the_file_order_and_skips_notes() {
        let text = format!(
            "# rolled 2026-11-30\n\nnew\t{}\r\n  old   {}  \n# end\n",
            key("AB"),
            key("cd")
        );
        let keys: SigningKeys = text.parse().unwrap();
        assert_eq!(keys.signing_key_id().as_str(), "new");
        assert_eq!(ids(&keys), ["new", "old"]);
        let debug = format!("{keys:?}");
        assert!(
            debug.contains("\"new\"") && !debug.contains("ab"),
            "{debug}"
        );
    }

    #[test]
    fn errors_name_the_line_and_never_the_key() {
        let error = |text: String| SigningKeys::parse(&text).unwrap_err();
        assert!(matches!(error(String::new()), KeyFileError::Empty));
        assert!(matches!(
            error("# only a note\n".into()),
            KeyFileError::Empty
        ));
        let fields = error(format!("# note\nk1 {} extra", key("00")));
        assert!(matches!(
            fields,
            KeyFileError::Fields { line: 2, fields: 3 }
        ));
        assert!(matches!(
            error("k1".into()),
            KeyFileError::Fields { line: 1, fields: 1 }
        ));
        let id = error(format!("k:1 {}", key("00")));
        assert!(matches!(id, KeyFileError::KeyId { line: 1, .. }));
        let odd = error(format!("k1 {}0", key("00")));
        assert!(matches!(odd, KeyFileError::OddLength { line: 1 }));
        let secret = format!("{}zz", &key("5e")[..62]);
        let digit = error(format!("k1 {secret}"));
        assert!(matches!(
            digit,
            KeyFileError::Digit {
                line: 1,
                position: 62
            }
        ));
        assert!(!digit.to_string().contains("5e5e"), "{digit}");
        let short = error(format!("k1 {}", "00".repeat(MIN_KEY_LEN - 1)));
        assert_eq!(
            short.to_string(),
            "line 1: the key is 31 bytes, at least 32 are required"
        );
        let duplicate = error(format!(
            "a {}\nb {}\n\na {}",
            key("01"),
            key("02"),
            key("03")
        ));
        assert_eq!(
            duplicate.to_string(),
            "line 4: key id a is already on line 1"
        );
    }

    #[test]
    fn load_reads_the_file_and_names_it_when_it_cannot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, format!("k1 {}\n", key("0f"))).unwrap();
        assert_eq!(ids(&SigningKeys::load(&path).unwrap()), ["k1"]);
        let missing = SigningKeys::load(dir.path().join("absent")).unwrap_err();
        assert!(matches!(missing, KeyFileError::Read { .. }));
        assert!(missing.to_string().contains("absent"), "{missing}");
    }
}
