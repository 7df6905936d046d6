//! A small map from names to values for the customer state: the times of watched event
//! kinds and the marks of watched fields. A handful of entries, read on every due-time
//! computation and copied into every new state, so it is a vector shared between copies
//! (cloning copies nothing until one changes), with shared names and a hash of each name
//! beside it (searching reads no text).

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::schedule::Ts;

/// A stable 64-bit hash of a name, part of no stored data (it is recomputed on loading).
pub(crate) fn name_hash(name: &str) -> u64 {
    super::hash::mix(super::hash::fnv1a(&[name.as_bytes()]))
}

/// A value with an instant that due-time computations read: kept beside the value as a
/// [`Ts`], so that reading it does no calendar arithmetic (the state is read on every
/// tick and written far less often).
pub(crate) trait Stamp {
    /// The instant of the value.
    fn stamp(&self) -> Ts;
}

impl Stamp for DateTime<Utc> {
    fn stamp(&self) -> Ts {
        Ts::of(*self)
    }
}

/// One entry: the name, its hash, the value, the value's instant.
type Entry<V> = (Arc<str>, u64, V, Ts);

/// Names → values, in insertion order. JSON: an object.
///
/// The entries are shared between copies (a state copied to write one time into it
/// copies no entries) and copied when a shared one is changed or a name is added; an
/// empty map holds none. One allocation holds the counts and the entries, so reading
/// them follows one pointer, as a vector's would.
#[derive(Clone)]
pub(crate) struct Named<V> {
    /// `None` when empty (never an empty list).
    entries: Option<Arc<[Entry<V>]>>,
}

impl<V> Default for Named<V> {
    fn default() -> Named<V> {
        Named { entries: None }
    }
}

impl<V: PartialEq> PartialEq for Named<V> {
    fn eq(&self, other: &Named<V>) -> bool {
        match (&self.entries, &other.entries) {
            (Some(a), Some(b)) if Arc::ptr_eq(a, b) => true,
            _ => self.entries() == other.entries(),
        }
    }
}

impl<V: Eq> Eq for Named<V> {}

impl<V: fmt::Debug> fmt::Debug for Named<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries().iter().map(|(k, _, v, _)| (k, v)))
            .finish()
    }
}

impl<V> Named<V> {
    fn entries(&self) -> &[Entry<V>] {
        self.entries.as_deref().unwrap_or(&[])
    }

    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// The value of a name.
    pub fn get(&self, name: &str) -> Option<&V> {
        let hash = name_hash(name);
        self.entries()
            .iter()
            .find(|(k, h, _, _)| *h == hash && &**k == name)
            .map(|(_, _, v, _)| v)
    }

    /// The value of the name with this hash ([`name_hash`]), when the names searched for
    /// have distinct hashes (the engine checks that of the names it watches).
    pub fn get_hashed(&self, hash: u64) -> Option<&V> {
        self.entries()
            .iter()
            .find(|(_, h, _, _)| *h == hash)
            .map(|(_, _, v, _)| v)
    }

    /// Every entry's name hash and value, in order.
    pub fn hashed(&self) -> impl Iterator<Item = (u64, &V)> {
        self.entries().iter().map(|(_, h, v, _)| (*h, v))
    }

    /// Every entry's name hash and the instant of its value, in order.
    pub fn stamps(&self) -> impl Iterator<Item = (u64, Ts)> + '_ {
        self.entries().iter().map(|(_, h, _, t)| (*h, *t))
    }

    /// The value and its instant of the name with this hash (as [`Named::get_hashed`]).
    pub fn get_hashed_stamped(&self, hash: u64) -> Option<(&V, Ts)> {
        self.entries()
            .iter()
            .find(|(_, h, _, _)| *h == hash)
            .map(|(_, _, v, t)| (v, *t))
    }

    /// The `i`th entry's name hash, value and the value's instant.
    pub fn get_index_stamped(&self, i: usize) -> Option<(u64, &V, Ts)> {
        self.entries().get(i).map(|(_, h, v, t)| (*h, v, *t))
    }

    /// The `i`th entry's name hash and value.
    pub fn get_index(&self, i: usize) -> Option<(u64, &V)> {
        self.entries().get(i).map(|(_, h, v, _)| (*h, v))
    }
}

impl<V: Clone + Stamp> Named<V> {
    /// Sets the value of a name (shared with the caller), keeping its place when present.
    pub fn insert(&mut self, name: &Arc<str>, hash: u64, value: V) {
        let place = self
            .entries()
            .iter()
            .position(|(k, h, _, _)| *h == hash && **k == **name);
        let stamp = value.stamp();
        let Some(i) = place else {
            let added = (Arc::clone(name), hash, value, stamp);
            let entries = self.entries().iter().cloned().chain([added]);
            self.entries = Some(entries.collect());
            return;
        };
        if let Some(entry) = self
            .entries
            .as_mut()
            .and_then(Arc::get_mut)
            .and_then(|e| e.get_mut(i))
        {
            entry.2 = value;
            entry.3 = stamp;
            return;
        }
        // Shared: a copy with the new value.
        let entries = self
            .entries()
            .iter()
            .enumerate()
            .map(|(j, e)| match j == i {
                true => (Arc::clone(&e.0), e.1, value.clone(), stamp),
                false => e.clone(),
            });
        self.entries = Some(entries.collect());
    }

    /// Keeps the entries whose name hash passes `keep` (asked once or twice per entry);
    /// the entries are copied only when one goes.
    pub fn retain(&mut self, mut keep: impl FnMut(u64) -> bool) {
        if self.entries().iter().all(|(_, h, _, _)| keep(*h)) {
            return;
        }
        let kept: Vec<Entry<V>> = self
            .entries()
            .iter()
            .filter(|(_, h, _, _)| keep(*h))
            .cloned()
            .collect();
        self.entries = (!kept.is_empty()).then(|| Arc::from(kept));
    }
}

impl<V: Serialize> Serialize for Named<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries().len()))?;
        for (k, _, v, _) in self.entries() {
            map.serialize_entry(&**k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de> + Clone + Stamp> Deserialize<'de> for Named<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Named<V>, D::Error> {
        struct Entries<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de> + Clone + Stamp> Visitor<'de> for Entries<V> {
            type Value = Named<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Named<V>, A::Error> {
                let mut named = Named::default();
                while let Some((name, value)) = access.next_entry::<String, V>()? {
                    let name: Arc<str> = Arc::from(name);
                    named.insert(&name, name_hash(&name), value);
                }
                Ok(named)
            }
        }

        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Stamp for u32 {
        fn stamp(&self) -> Ts {
            Ts::new(i64::from(*self), 0)
        }
    }

    #[test]
    fn reads_writes_and_round_trips_as_an_object() {
        let mut m: Named<u32> = Named::default();
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("跟进阶段"), Arc::from("login"));
        m.insert(&a, name_hash(&a), 1);
        m.insert(&b, name_hash(&b), 2);
        m.insert(&a, name_hash(&a), 3);
        assert_eq!(m.get("跟进阶段"), Some(&3));
        assert_eq!(m.get_hashed(name_hash("login")), Some(&2));
        assert_eq!(m.get("other"), None);
        assert_eq!(m.get_index(0), Some((name_hash("跟进阶段"), &3)));
        assert_eq!(
            m.get_index_stamped(1),
            Some((name_hash("login"), &2, Ts::new(2, 0)))
        );
        let stamps: Vec<(u64, Ts)> = m.stamps().collect();
        assert_eq!(
            stamps,
            [
                (name_hash("跟进阶段"), Ts::new(3, 0)),
                (name_hash("login"), Ts::new(2, 0))
            ]
        );
        assert_eq!(
            m.get_hashed_stamped(name_hash("跟进阶段")),
            Some((&3, Ts::new(3, 0)))
        );
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"跟进阶段":3,"login":2}"#);
        let back: Named<u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        m.retain(|h| h != name_hash("login"));
        assert_eq!(m.get("login"), None);
        assert_eq!(m.get("跟进阶段"), Some(&3));
        assert!(serde_json::from_str::<Named<u32>>("[1]").is_err());
    }

    #[test]
    fn copies_share_entries_until_one_changes() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("login"), Arc::from("跟进阶段"));
        let mut m: Named<u32> = Named::default();
        m.insert(&a, name_hash(&a), 1);
        let mut copy = m.clone();
        copy.retain(|_| true);
        assert_eq!(copy, m);
        copy.insert(&b, name_hash(&b), 2);
        copy.insert(&a, name_hash(&a), 5);
        assert_eq!(m.get("login"), Some(&1));
        assert_eq!(m.get("跟进阶段"), None);
        assert_eq!(copy.get("login"), Some(&5));
        assert_ne!(copy, m);
        let mut emptied = copy.clone();
        emptied.retain(|_| false);
        assert!(emptied.is_empty());
        assert_eq!(emptied, Named::default());
        assert_eq!(serde_json::to_string(&emptied).unwrap(), "{}");
        assert_eq!(copy.get("login"), Some(&5));
    }
}
