//! Fixed-width lowercase hexadecimal, the digits of the wire text form.
//!
//! Every HTTP request through the middleware parses one text form and writes one, so both
//! directions work on eight digits at a time inside a `u64` ("SIMD within a register") instead
//! of a digit at a time: no table, no branch per digit. The byte-wise comparisons below never
//! carry from one byte into the next, which is what makes them exact: each is explained where
//! it is made. [`decode_u64_slow`] is the plain digit-by-digit reading; it finds the position
//! of a bad digit for the error, and the tests check the fast path against it for every byte
//! value at every position.

use crate::error::ParseError;

/// `byte` repeated in all eight bytes of a `u64`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The high bit of every byte.
const HIGH_BITS: u64 = splat(0x80);

/// Writes `value` as 16 lowercase hex digits into `buf` and returns them as text.
pub(crate) fn encode_u64(value: u64, buf: &mut [u8; 16]) -> &str {
    *buf = digits(value);
    // Only ASCII hex digits were written.
    std::str::from_utf8(buf).unwrap_or_default()
}

/// `value` as 16 lowercase hex digits, most significant first.
#[inline]
pub(crate) fn digits(value: u64) -> [u8; 16] {
    let high = ascii_digits((value >> 32) as u32).to_be_bytes();
    let low = ascii_digits(value as u32).to_be_bytes();
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&high);
    out[8..].copy_from_slice(&low);
    out
}

/// The eight hex digits of `value` as ASCII bytes of a `u64`, most significant digit in the
/// most significant byte.
#[inline]
fn ascii_digits(value: u32) -> u64 {
    // Spread the nibbles one per byte: halves into 32-bit lanes, then bytes into 16-bit
    // lanes, then nibbles into bytes. Nibble k (counting from the least significant) ends in
    // byte k.
    let mut v = u64::from(value);
    v = (v | (v << 16)) & 0x0000_ffff_0000_ffff;
    v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff;
    v = (v | (v << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // A nibble n > 9 is exactly one whose n + 6 reaches 16, setting bit 4 of its byte; no byte
    // exceeds 15 + 6, so nothing carries.
    let above_nine = ((v + splat(6)) >> 4) & splat(1);
    // '0' is 0x30 and 'a' is 0x30 + 10 + 0x27. The largest result, 0x66, carries nowhere.
    v + splat(b'0') + above_nine * 0x27
}

/// Reads 16 lowercase hex digits; `offset` is where they start in the whole input, for the
/// error.
#[inline]
pub(crate) fn decode_u64(digits: &[u8], offset: usize) -> Result<u64, ParseError> {
    match <&[u8; 16]>::try_from(digits).ok().and_then(value_of) {
        Some(value) => Ok(value),
        None => decode_u64_slow(digits, offset),
    }
}

/// The value of 16 lowercase hex digits, or `None` if any byte is not one.
#[inline]
pub(crate) fn value_of(digits: &[u8; 16]) -> Option<u64> {
    let (high, low) = digits.split_at(8);
    let (high, low) = (value_of_digits(high)?, value_of_digits(low)?);
    Some((u64::from(high) << 32) | u64::from(low))
}

/// The value of eight lowercase hex digits, or `None` if any byte is not one.
#[inline]
fn value_of_digits(eight: &[u8]) -> Option<u32> {
    let x = u64::from_be_bytes(eight.try_into().ok()?);
    if x & HIGH_BITS != 0 {
        return None;
    }
    // With every byte below 0x80, adding up to 0x80 to each byte carries into no other byte,
    // so the high bit of each byte of `at_least(lo)` says whether that byte is >= lo.
    let at_least = |lo: u8| (x + splat(0x80 - lo)) & HIGH_BITS;
    let digit = at_least(b'0') & !at_least(b'9' + 1);
    let letter = at_least(b'a') & !at_least(b'f' + 1);
    if digit | letter != HIGH_BITS {
        return None;
    }
    // '0'..'9' have bit 6 clear and their value in the low nibble; 'a'..'f' have bit 6 set
    // and a low nibble of 1..6, nine short of their value.
    let mut v = (x & splat(0x0f)) + ((x >> 6) & splat(1)) * 9;
    // Gather the nibbles, most significant byte first: pairs into bytes, bytes into 16 bits,
    // 16 bits into 32.
    v = (v | (v >> 4)) & 0x00ff_00ff_00ff_00ff;
    v = (v | (v >> 8)) & 0x0000_ffff_0000_ffff;
    v = (v | (v >> 16)) & 0x0000_0000_ffff_ffff;
    Some(v as u32)
}

/// Digit-by-digit reading, for errors and other lengths: names the first byte that is not a lowercase hex digit.
#[cold]
pub(crate) fn decode_u64_slow(digits: &[u8], offset: usize) -> Result<u64, ParseError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: [u64; 6] = [
        0,
        u64::MAX,
        0x0123_4567_89ab_cdef,
        0xfedc_ba98_7654_3210,
        0x60a2_4182_0224_0003,
        0x8000_0000_0000_0001,
    ];

    #[test]
    fn digits_match_the_standard_formatter() {
        for value in SAMPLES
            .into_iter()
            .chain((0..64).map(|shift| 1u64 << shift))
        {
            let expected = format!("{value:016x}");
            assert_eq!(digits(value), expected.as_bytes(), "{value:#x}");
            assert_eq!(decode_u64(expected.as_bytes(), 0), Ok(value));
        }
    }

    #[test]
    fn every_nibble_encodes_and_decodes_at_every_position() {
        for position in 0..16 {
            for nibble in 0..16u64 {
                let value = nibble << (4 * (15 - position));
                let text = digits(value);
                assert_eq!(text[position], b"0123456789abcdef"[nibble as usize]);
                assert_eq!(decode_u64(&text, 0), Ok(value));
            }
        }
    }

    #[test]
    fn every_byte_value_at_every_position_agrees_with_the_slow_reading() {
        let base = digits(0x0123_4567_89ab_cdef);
        for position in 0..16 {
            for byte in 0..=255u8 {
                let mut text = base;
                text[position] = byte;
                let fast = decode_u64(&text, 3);
                assert_eq!(fast, decode_u64_slow(&text, 3), "{byte:#x} at {position}");
                if !byte.is_ascii_digit() && !(b'a'..=b'f').contains(&byte) {
                    assert_eq!(fast, Err(ParseError::Hex { at: 3 + position }));
                }
            }
        }
    }

    #[test]
    fn other_lengths_take_the_slow_reading() {
        assert_eq!(decode_u64(b"ff", 0), Ok(0xff));
        assert_eq!(decode_u64(b"fg", 7), Err(ParseError::Hex { at: 8 }));
    }
}
