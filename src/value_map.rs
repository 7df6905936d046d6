//! [`ValueMap`]: named values in insertion order, one pointer wide while empty.

use indexmap::IndexMap;

use crate::value::{Value, ABSENT};

/// Named values in the order they were first inserted: an event's attributes and its
/// field changes.
///
/// Most events carry none, so an empty map is a single null pointer and costs no
/// allocation; an [`Event`](crate::Event) stays small enough that a host's queue of them
/// streams through the cache quickly. Inserting a name again replaces its value and keeps
/// its place. Two maps are equal when they hold the same names with equal values, in any
/// order.
///
/// ```
/// use crm_rules::{Value, ValueMap};
/// let mut m = ValueMap::new();
/// assert!(m.is_empty());
/// m.insert("source", "展会");
/// m.insert("budget", 600_000);
/// assert_eq!(m.insert("source", "官网"), Some(Value::from("展会")));
/// let names: Vec<&str> = m.keys().collect();
/// assert_eq!(names, ["source", "budget"]);
/// assert_eq!(m["source"], Value::from("官网"));
/// assert!(m.get("campaign").is_none());
/// ```
#[derive(Clone, Default)]
pub struct ValueMap(Option<Box<IndexMap<String, Value>>>);

impl ValueMap {
    /// An empty map (no allocation).
    pub const fn new() -> ValueMap {
        ValueMap(None)
    }

    /// How many names it holds.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |m| m.len())
    }

    /// Whether it holds none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of a name, if present.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.as_ref().and_then(|m| m.get(name))
    }

    /// Whether it holds a name.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets a name's value: a new name goes last, a known one keeps its place. Returns
    /// the value it replaced.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        self.0
            .get_or_insert_with(Default::default)
            .insert(name.into(), value.into())
    }

    /// Removes a name, keeping the others in order. Returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.0.as_mut().and_then(|m| m.shift_remove(name))
    }

    /// The names and values, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.0.as_ref().map(|m| m.iter()))
    }

    /// The names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(name, _)| name)
    }
}

impl PartialEq for ValueMap {
    fn eq(&self, other: &ValueMap) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl std::fmt::Debug for ValueMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for ValueMap {
    type Output = Value;

    /// The value of a name; [`Value::Absent`] when the map does not hold it (as a record
    /// reads a field it has no value for). [`ValueMap::get`] tells the two apart.
    ///
    /// ```
    /// use crm_rules::{Value, ValueMap};
    /// let m: ValueMap = [("source", "展会")].into_iter().collect();
    /// assert_eq!(m["source"], Value::from("展会"));
    /// assert_eq!(m["campaign"], Value::Absent);
    /// assert_eq!(m.get("campaign"), None);
    /// ```
    fn index(&self, name: &str) -> &Value {
        self.get(name).unwrap_or(&ABSENT)
    }
}

impl<K: Into<String>, V: Into<Value>> FromIterator<(K, V)> for ValueMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> ValueMap {
        let mut m = ValueMap::new();
        m.extend(iter);
        m
    }
}

impl<K: Into<String>, V: Into<Value>> Extend<(K, V)> for ValueMap {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<'a> IntoIterator for &'a ValueMap {
    type Item = (&'a str, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The names and values of a [`ValueMap`], in order.
#[derive(Clone, Debug)]
pub struct Iter<'a>(Option<indexmap::map::Iter<'a, String, Value>>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a Value);

    #[inline]
    fn next(&mut self) -> Option<(&'a str, &'a Value)> {
        self.0.as_mut()?.next().map(|(k, v)| (k.as_str(), v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.as_ref().map_or((0, Some(0)), |i| i.size_hint())
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_map_is_one_pointer_and_equals_one_emptied() {
        assert_eq!(std::mem::size_of::<ValueMap>(), 8);
        let mut m = ValueMap::new();
        m.insert("a", 1);
        assert_eq!(m.remove("a"), Some(Value::from(1)));
        assert_eq!(m, ValueMap::new());
        assert_eq!(m.iter().len(), 0);
    }

    #[test]
    fn equality_ignores_order_but_iteration_keeps_it() {
        let a: ValueMap = [("x", 1), ("y", 2)].into_iter().collect();
        let b: ValueMap = [("y", 2), ("x", 1)].into_iter().collect();
        assert_eq!(a, b);
        assert_eq!(a.keys().collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(b.keys().collect::<Vec<_>>(), ["y", "x"]);
        let c: ValueMap = [("x", 1), ("y", 3)].into_iter().collect();
        assert_ne!(a, c);
        let t: ValueMap = [("来源", "展会")].into_iter().collect();
        assert_eq!(format!("{t:?}"), r#"{"来源": Text("展会")}"#);
    }
}
