//! Last-writer-wins registers and maps ordered by hybrid timestamps.
//!
//! ```
//! use hlc_core::lww::LwwMap;
//! use hlc_core::Hlc;
//!
//! let (alice, bob) = (Hlc::new(), Hlc::new());
//! let mut at_alice = LwwMap::new();
//! at_alice.insert("colour", "red", alice.now_with_node());
//!
//! // Bob takes in Alice's map and her clock, then overwrites: his write is causally later.
//! let mut at_bob = at_alice.clone();
//! bob.update(at_alice.max_stamp().unwrap().timestamp)?;
//! at_bob.insert("colour", "blue", bob.now_with_node());
//!
//! at_alice.merge(at_bob.clone());
//! assert_eq!(at_alice.get("colour"), Some(&"blue"));
//! assert_eq!(at_alice, at_bob); // converged
//! # Ok::<(), hlc_core::UpdateError>(())
//! ```
//!
//! # Why hybrid timestamps
//!
//! Every write carries a [`NodeTimestamp`](crate::NodeTimestamp) and the greater one wins,
//! with the node id breaking ties so that every replica picks the same winner. With
//! wall-clock stamps, a node whose clock runs behind loses its writes to older writes made
//! on a node whose clock runs ahead, even when it had seen them: the later write vanishes
//! without an error. A node that merges the stamps it receives with
//! [`Hlc::update`](crate::Hlc::update) before writing stamps its write after everything it
//! has seen, whatever its physical clock says, so a causally later write always wins
//! (Kulkarni et al., "Logical Physical Clocks", OPODIS 2014). Writes that are concurrent
//! (neither node saw the other's) are still decided by timestamp, which HLC keeps within the
//! clock skew of real time.
//!
//! # Deletes and the tombstone horizon
//!
//! A delete is a write of a tombstone with its own stamp, so that an older write arriving
//! later cannot bring the value back. Tombstones cost memory, and
//! [`LwwMap::drop_tombstones_before`] drops the ones older than a horizon. Dropping is safe
//! only if no replica will ever again deliver a write for that key stamped before the
//! tombstone; otherwise the key reappears with its old value.
//!
//! Only the caller can know such a horizon, because it depends on things outside the map:
//! which replicas exist, how long a message can sit in a queue or a partition, how long a
//! replica can stay offline and then sync, and whether backups get restored. A common
//! choice is the least timestamp up to which every replica has acknowledged receiving all
//! writes ("causal stability"); a simpler one is "now minus a retention period longer than
//! any replica may stay disconnected", as Cassandra's `gc_grace_seconds` does.
//!
//! # Merge laws
//!
//! [`LwwRegister::merge`] and [`LwwMap::merge`] are commutative, associative and idempotent
//! (`tests/lww.rs` checks them with proptest), so replicas may exchange writes or whole maps
//! in any order, any number of times, and still converge. Dropping tombstones is the one
//! operation outside these laws, hence the horizon above.

mod join;
mod map;
mod register;
mod serde_impls;

pub use map::LwwMap;
pub use register::LwwRegister;
