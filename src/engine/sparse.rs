//! An ordered map of the customer state that holds no memory until it has an entry: a
//! state keeps several maps that are empty for most customers (behaviour counters,
//! running sequences, experiments, scoring models), and each empty one is a pointer, not
//! a map's worth of bytes. States are read and copied on every tick; the fewer cache
//! lines one spans, the less a tick waits on memory.

use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;

use indexmap::map::Entry;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Keys → values in insertion order, as an [`IndexMap`], boxed once it has held an entry.
/// Equal as maps (an emptied map equals one never filled). JSON: an object.
pub(crate) struct Sparse<K, V>(Option<Box<IndexMap<K, V>>>);

impl<K, V> Default for Sparse<K, V> {
    fn default() -> Sparse<K, V> {
        Sparse(None)
    }
}

impl<K: Hash + Eq, V> Sparse<K, V> {
    /// The map, when it has one.
    fn map(&self) -> Option<&IndexMap<K, V>> {
        self.0.as_deref()
    }

    /// The map, made when it has none.
    fn map_mut(&mut self) -> &mut IndexMap<K, V> {
        self.0.get_or_insert_with(Box::default)
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.map().map_or(0, IndexMap::len)
    }

    /// Whether it has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of a key.
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map()?.get(key)
    }

    /// The value of a key, to change.
    pub fn get_mut<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.0.as_deref_mut()?.get_mut(key)
    }

    /// Whether it has a key.
    pub fn contains_key<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.get(key).is_some()
    }

    /// Sets the value of a key (in its place when present, else last); returns the old.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.map_mut().insert(key, value)
    }

    /// The entry of a key, to read or fill in place.
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        self.map_mut().entry(key)
    }

    /// Removes a key, keeping the order of the rest; returns its value.
    pub fn shift_remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.0.as_deref_mut()?.shift_remove(key)
    }

    /// Keeps the entries `keep` passes, in order.
    pub fn retain(&mut self, keep: impl FnMut(&K, &mut V) -> bool) {
        if let Some(map) = self.0.as_deref_mut() {
            map.retain(keep);
        }
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map().into_iter().flatten()
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    /// Every value, in order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
}

impl<K: Clone, V: Clone> Clone for Sparse<K, V> {
    fn clone(&self) -> Sparse<K, V> {
        match self.0.as_deref() {
            Some(map) if !map.is_empty() => Sparse(Some(Box::new(map.clone()))),
            _ => Sparse(None),
        }
    }

    /// A copy into this map's memory: an empty source clears it (keeping its memory for
    /// the next copy, as a reused state's maps do).
    fn clone_from(&mut self, source: &Sparse<K, V>) {
        match (self.0.as_deref_mut(), source.0.as_deref()) {
            (Some(to), Some(from)) if !from.is_empty() => to.clone_from(from),
            (Some(to), _) => to.clear(),
            (None, Some(from)) if !from.is_empty() => self.0 = Some(Box::new(from.clone())),
            (None, _) => {}
        }
    }
}

impl<K: Hash + Eq, V: PartialEq> PartialEq for Sparse<K, V> {
    fn eq(&self, other: &Sparse<K, V>) -> bool {
        match (self.map(), other.map()) {
            (Some(a), Some(b)) => a == b,
            (Some(m), None) | (None, Some(m)) => m.is_empty(),
            (None, None) => true,
        }
    }
}

impl<K: Hash + Eq, V: Eq> Eq for Sparse<K, V> {}

impl<K: fmt::Debug + Hash + Eq, V: fmt::Debug> fmt::Debug for Sparse<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Serialize + Hash + Eq, V: Serialize> Serialize for Sparse<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, K, V> Deserialize<'de> for Sparse<K, V>
where
    K: Deserialize<'de> + Hash + Eq,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Sparse<K, V>, D::Error> {
        let map = IndexMap::<K, V>::deserialize(deserializer)?;
        Ok(Sparse((!map.is_empty()).then(|| Box::new(map))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_nothing_until_filled_and_equals_as_a_map() {
        let mut m: Sparse<String, u32> = Sparse::default();
        assert!(m.0.is_none());
        assert_eq!(m.get("a"), None);
        assert_eq!(m.insert("b".into(), 2), None);
        assert_eq!(m.insert("a".into(), 1), None);
        *m.entry("c".into()).or_default() += 3;
        assert_eq!(m.keys().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(m.shift_remove("b"), Some(2));
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [1, 3]);
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":1,"c":3}"#);
        m.retain(|_, _| false);
        assert!(m.is_empty());
        // Emptied, it keeps its memory and equals a map never filled.
        assert!(m.0.is_some());
        assert_eq!(m, Sparse::default());
        let back: Sparse<String, u32> = serde_json::from_str("{}").unwrap();
        assert!(back.0.is_none());
    }

    #[test]
    fn copies_into_its_memory_and_drops_nothing_it_can_reuse() {
        let mut full: Sparse<String, u32> = Sparse::default();
        full.insert("a".into(), 1);
        let empty: Sparse<String, u32> = Sparse::default();
        let mut to = full.clone();
        to.clone_from(&empty);
        assert!(to.is_empty() && to.0.is_some());
        to.clone_from(&full);
        assert_eq!(to, full);
        let mut fresh: Sparse<String, u32> = Sparse::default();
        fresh.clone_from(&empty);
        assert!(fresh.0.is_none());
        assert!(empty.clone().0.is_none());
    }
}
