//! An index of the match keys of existing records, to check one incoming record cheaply.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Checker;
use crate::schema::Record;

/// The match keys of existing customers, each pointing to the ids that hold it: an
/// intake form checks one new record against it in O(k log n) for k match keys.
///
/// The ids are the host's (`I` is any ordered id type: a number, a string). The index
/// keeps keys and ids only, not records. It is ordered (no hashing), so results depend
/// only on its content, never on the order of the calls that built it.
///
/// ```
/// use crm_rules::{quality::{Checker, KeyIndex}, Schema};
/// let schema = Schema::from_json(r#"{"fields": [
///     {"name": "客户名称", "type": "text"},
///     {"name": "手机号", "type": "phone"},
///     {"name": "邮箱", "type": "email"}
/// ]}"#)?;
/// let checker = Checker::new(&schema);
/// let mut index = KeyIndex::new(&checker);
/// index.insert("C001", &schema.record([("手机号", "13952867341"), ("邮箱", "wf@163.com")])?);
/// index.insert("C002", &schema.record([("手机号", "13700001111")])?);
///
/// let form = schema.record([("客户名称", "王芳"), ("邮箱", "WF@163.com")])?;
/// let found = index.matches(&form);
/// assert_eq!(found.len(), 1);
/// assert_eq!((found[0].id, found[0].keys.as_slice()), ("C001", ["邮箱".to_owned()].as_slice()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeyIndex<I> {
    checker: Checker,
    /// Per match key: key value → ids.
    maps: Vec<BTreeMap<String, BTreeSet<I>>>,
}

/// An existing record an incoming one shares match keys with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Match<I> {
    /// The existing record's id.
    pub id: I,
    /// The match keys it shares, in the schema's order: `手机号`, `公司名称+联系人`.
    pub keys: Vec<String>,
}

impl<I: Clone + Ord> KeyIndex<I> {
    /// An empty index for the checker's match keys.
    pub fn new(checker: &Checker) -> KeyIndex<I> {
        KeyIndex {
            checker: checker.clone(),
            maps: vec![BTreeMap::new(); checker.inner.keys.len()],
        }
    }

    /// Adds a record's keys under its id.
    pub fn insert(&mut self, id: I, record: &Record) {
        let inner = &self.checker.inner;
        for (def, map) in inner.keys.iter().zip(&mut self.maps) {
            if let Some(key) = inner.key(def, record) {
                map.entry(key.into_owned()).or_default().insert(id.clone());
            }
        }
    }

    /// Removes a record's keys from under its id: pass the record as it was inserted
    /// (before it changed), then insert it again to update it.
    pub fn remove(&mut self, id: &I, record: &Record) {
        let inner = &self.checker.inner;
        for (def, map) in inner.keys.iter().zip(&mut self.maps) {
            let Some(key) = inner.key(def, record) else {
                continue;
            };
            if let Some(ids) = map.get_mut(key.as_ref()) {
                ids.remove(id);
                if ids.is_empty() {
                    map.remove(key.as_ref());
                }
            }
        }
    }

    /// The indexed records that share a match key with `record`, each once with every
    /// key it shares; ordered by the first key shared, then by id. A record that is
    /// itself in the index finds its own id too.
    pub fn matches(&self, record: &Record) -> Vec<Match<I>> {
        let inner = &self.checker.inner;
        let mut found: Vec<Match<I>> = Vec::new();
        let mut position: BTreeMap<&I, usize> = BTreeMap::new();
        for (def, map) in inner.keys.iter().zip(&self.maps) {
            let Some(ids) = inner.key(def, record).and_then(|k| map.get(k.as_ref())) else {
                continue;
            };
            for id in ids {
                match position.get(id) {
                    Some(&at) => found[at].keys.push(def.label.clone()),
                    None => {
                        position.insert(id, found.len());
                        found.push(Match {
                            id: id.clone(),
                            keys: vec![def.label.clone()],
                        });
                    }
                }
            }
        }
        found
    }

    /// How many key values the index holds, over all match keys.
    pub fn len(&self) -> usize {
        self.maps.iter().map(BTreeMap::len).sum()
    }

    /// Whether the index holds no key.
    pub fn is_empty(&self) -> bool {
        self.maps.iter().all(BTreeMap::is_empty)
    }
}
