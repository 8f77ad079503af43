//! An input as a list of header values: one value per `\n`-separated line.

use http::HeaderValue;

/// The most header values taken from one input: enough for duplicates, few enough that the
/// fuzzer spends its time inside the values.
pub const MAX_VALUES: usize = 4;

/// `data` split at `\n` into at most [`MAX_VALUES`] header values; no value at all for empty
/// input, so a missing header is one of the cases. `None` when a line holds bytes HTTP cannot
/// carry in a header (such a message never reaches a layer).
pub fn header_values(data: &[u8]) -> Option<Vec<HeaderValue>> {
    if data.is_empty() {
        return Some(Vec::new());
    }
    data.split(|byte| *byte == b'\n')
        .take(MAX_VALUES)
        .map(|line| HeaderValue::from_bytes(line).ok())
        .collect()
}
