//! Fixed-width lowercase hexadecimal, the digits of the wire text form.

use crate::error::ParseError;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes `value` as 16 lowercase hex digits into `buf`.
pub(crate) fn encode_u64(value: u64, buf: &mut [u8; 16]) -> &str {
    write_u64(value, buf);
    // Only ASCII hex digits were written.
    std::str::from_utf8(buf).unwrap_or_default()
}

/// Writes `value` as 16 lowercase hex digits into the first 16 bytes of `out`.
pub(crate) fn write_u64(value: u64, out: &mut [u8]) {
    for (i, slot) in out.iter_mut().take(16).enumerate() {
        let nibble = (value >> (60 - 4 * i)) & 0xf;
        *slot = DIGITS[nibble as usize];
    }
}

/// Reads 16 lowercase hex digits; `offset` is where they start in the whole input, for errors.
pub(crate) fn decode_u64(digits: &[u8], offset: usize) -> Result<u64, ParseError> {
    let mut value = 0u64;
    for (i, &b) in digits.iter().enumerate() {
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return Err(ParseError::Hex { at: offset + i }),
        };
        value = (value << 4) | u64::from(nibble);
    }
    Ok(value)
}
