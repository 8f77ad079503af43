//! serde for [`LwwMap`]: a map from key to register, tombstones included, so that a replica
//! can ship its whole state and the receiver can merge it.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{LwwMap, LwwRegister};

impl<K: Serialize, V: Serialize> Serialize for LwwMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries().serialize(serializer)
    }
}

impl<'de, K, V> Deserialize<'de> for LwwMap<K, V>
where
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = BTreeMap::<K, LwwRegister<V>>::deserialize(deserializer)?;
        Ok(entries.into_iter().collect())
    }
}
