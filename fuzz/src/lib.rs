//! What the fuzz targets share: the counts of accepted and rejected inputs, the fixed time
//! their clocks stand at, the split of an input into header values and the signing keys.

pub mod lines;
pub mod signing;
pub mod tally;

/// 2023-11-14T22:13:20Z in µs since the epoch: where every target's manual clock stands. It
/// never moves during an input, so every tick a layer makes is visible.
pub const NOW_MICROS: u64 = 1_700_000_000_000_000;

/// The max offset of the targets' clocks (the library's default), in µs.
pub const MAX_OFFSET_MICROS: u64 = hlc_core::DEFAULT_MAX_OFFSET.as_micros() as u64;
