//! One last-writer-wins value.

use serde::{Deserialize, Serialize};

use crate::NodeTimestamp;

/// A value, or a deletion (a tombstone), with the stamp of the write that made it. Merging
/// keeps the write with the greater stamp.
///
/// Stamps compare by timestamp and then by node id, so two nodes that write at the same
/// timestamp are still ordered, the same way on every replica. A stamp names one write: a
/// clock never issues the same timestamp twice, so two different values under one stamp
/// mean the stamp was forged or reused, and merging then keeps whichever value it holds.
///
/// ```
/// use hlc_core::lww::LwwRegister;
/// use hlc_core::{NodeId, NodeTimestamp, Timestamp};
///
/// let stamp = |micros, node| NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node));
/// let mut register = LwwRegister::new("old", stamp(10, 1));
/// assert!(register.set("new", stamp(20, 1)));
/// assert!(!register.set("stale", stamp(15, 2)));  // older write: ignored
/// assert!(register.delete(stamp(20, 2)));         // same time, greater node: wins
/// assert!(register.is_tombstone());
/// assert_eq!(register.value(), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LwwRegister<T> {
    stamp: NodeTimestamp,
    /// `None` for a tombstone.
    value: Option<T>,
}

impl<T> LwwRegister<T> {
    /// A register holding `value`, written at `stamp`.
    pub const fn new(value: T, stamp: NodeTimestamp) -> Self {
        Self {
            stamp,
            value: Some(value),
        }
    }

    /// A tombstone: the value was deleted at `stamp`. It wins over older writes like any
    /// write does, which is why a deletion must be kept rather than forgotten.
    pub const fn tombstone(stamp: NodeTimestamp) -> Self {
        Self { stamp, value: None }
    }

    /// The value, or `None` for a tombstone.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The value, or `None` for a tombstone.
    pub fn into_value(self) -> Option<T> {
        self.value
    }

    /// The stamp of the write this register holds.
    pub const fn stamp(&self) -> NodeTimestamp {
        self.stamp
    }

    /// Whether this register holds a deletion.
    pub const fn is_tombstone(&self) -> bool {
        self.value.is_none()
    }

    /// Writes `value` at `stamp` if that stamp is greater than the current one; returns
    /// whether it did.
    pub fn set(&mut self, value: T, stamp: NodeTimestamp) -> bool {
        self.merge(Self::new(value, stamp))
    }

    /// Deletes the value at `stamp` if that stamp is greater than the current one; returns
    /// whether it did.
    pub fn delete(&mut self, stamp: NodeTimestamp) -> bool {
        self.merge(Self::tombstone(stamp))
    }

    /// Keeps whichever of the two writes has the greater stamp; returns whether `other` won.
    ///
    /// Commutative, associative and idempotent (a join in the sense of state-based CRDTs,
    /// Shapiro et al., "Conflict-free Replicated Data Types", SSS 2011), so replicas that
    /// receive the same writes in any order, any number of times, end up identical.
    pub fn merge(&mut self, other: Self) -> bool {
        let wins = other.stamp > self.stamp;
        if wins {
            *self = other;
        }
        wins
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NodeId, Timestamp};

    fn stamp(micros: u64, node: u64) -> NodeTimestamp {
        NodeTimestamp::new(Timestamp::from_physical_micros(micros), NodeId::new(node))
    }

    #[test]
    fn greater_stamp_wins_and_node_breaks_ties() {
        let mut register = LwwRegister::new(1, stamp(5, 2));
        assert!(!register.merge(LwwRegister::new(2, stamp(5, 1))));
        assert_eq!(register.value(), Some(&1));
        assert!(register.merge(LwwRegister::new(3, stamp(5, 3))));
        assert_eq!(register.value(), Some(&3));
        assert_eq!(register.stamp(), stamp(5, 3));
    }

    #[test]
    fn tombstone_is_a_write_like_any_other() {
        let mut register = LwwRegister::tombstone(stamp(9, 1));
        assert!(!register.set("late", stamp(8, 1)));
        assert!(register.is_tombstone());
        assert!(register.set("revived", stamp(10, 1)));
        assert_eq!(register.into_value(), Some("revived"));
    }

    #[test]
    fn equal_stamp_keeps_the_current_write() {
        let mut register = LwwRegister::new("kept", stamp(7, 7));
        assert!(!register.set("forged", stamp(7, 7)));
        assert_eq!(register.value(), Some(&"kept"));
    }
}
