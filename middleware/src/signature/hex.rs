//! Hex digits for the signature and the key file: not cryptography, only its spelling.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as lowercase hex into `out`, which holds exactly twice as many bytes.
pub(super) fn encode_lower(bytes: &[u8], out: &mut [u8]) {
    debug_assert_eq!(out.len(), 2 * bytes.len());
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

/// The value of one hex digit; uppercase only when `upper` allows it.
pub(super) fn digit(byte: u8, upper: bool) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' if upper => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes pairs of digits from `hex` into `out` (half its length); `Err` holds the position
/// of the first byte that is not a digit.
pub(super) fn decode(hex: &[u8], upper: bool, out: &mut [u8]) -> Result<(), usize> {
    debug_assert_eq!(hex.len(), 2 * out.len());
    for (index, (pair, byte)) in hex.chunks_exact(2).zip(out.iter_mut()).enumerate() {
        let high = digit(pair[0], upper).ok_or(2 * index)?;
        let low = digit(pair[1], upper).ok_or(2 * index + 1)?;
        *byte = high << 4 | low;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips_and_case_is_a_choice() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut hex = vec![0; 512];
        encode_lower(&bytes, &mut hex);
        assert!(hex.iter().all(|b| b"0123456789abcdef".contains(b)));
        let mut back = vec![0; 256];
        decode(&hex, false, &mut back).unwrap();
        assert_eq!(back, bytes);
        let mut one = [0u8];
        assert_eq!(decode(b"aF", false, &mut one), Err(1));
        decode(b"aF", true, &mut one).unwrap();
        assert_eq!(one, [0xaf]);
        assert_eq!(decode(b"g0", true, &mut one), Err(0));
    }
}
