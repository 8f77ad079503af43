//! Node identities.

use crate::sync::unmodelled::{AtomicU64, Ordering};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;

use crate::error::ParseError;
use crate::hex;

/// The identity of a node: what breaks ties between equal timestamps from different nodes.
///
/// It sits beside a [`Timestamp`](crate::Timestamp), never inside it. Displayed and parsed as
/// 16 lowercase hexadecimal digits.
///
/// ```
/// use hlc_core::NodeId;
///
/// let id = NodeId::new(0xa1);
/// assert_eq!(id.to_string(), "00000000000000a1");
/// assert_eq!("00000000000000a1".parse::<NodeId>()?, id);
/// assert_ne!(NodeId::random(), NodeId::random());
/// # Ok::<(), hlc_core::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NodeId(u64);

impl NodeId {
    /// The node id `id`.
    pub const fn new(id: u64) -> Self {
        Self(id)
    }

    /// A random node id, different on every call.
    ///
    /// Drawn from the standard library's per-process random hash keys mixed with a counter:
    /// unpredictable enough to keep independently started nodes apart, not cryptographic.
    pub fn random() -> Self {
        static CALLS: AtomicU64 = AtomicU64::new(0);
        let mut hasher = std::hash::RandomState::new().build_hasher();
        hasher.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
        hasher.write_u32(std::process::id());
        Self(hasher.finish())
    }

    /// The id as an integer.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl From<u64> for NodeId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 16];
        f.write_str(hex::encode_u64(self.0, &mut buf))
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({self})")
    }
}

/// Exactly 16 lowercase hexadecimal digits.
impl FromStr for NodeId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bytes = s.as_bytes();
        if bytes.len() != 16 {
            return Err(ParseError::Length {
                expected: 16,
                actual: bytes.len(),
            });
        }
        hex::decode_u64(bytes, 0).map(Self)
    }
}
