//! Duplicates: match keys of records, and groups of records that share keys.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use super::checker::Inner;
use super::text;
use super::Checker;
use crate::schema::{FieldId, FieldType, Record, Schema, DEFAULT_PHONE_DIGITS};
use crate::value::{format_instant, Value};

/// Separates the parts of a key of several fields; key forms never hold a control
/// character, so two different part lists never give the same key.
const SEPARATOR: char = '\u{1F}';

/// One match key, compiled: its fields and how each one's key form is made.
#[derive(Clone, Debug)]
pub(crate) struct KeyDef {
    pub(crate) fields: Vec<(FieldId, FieldType, u8)>,
    pub(crate) label: String,
}

impl KeyDef {
    pub(crate) fn new(schema: &Schema, ids: Vec<FieldId>) -> KeyDef {
        let mut names = Vec::with_capacity(ids.len());
        let mut fields = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(f) = schema.field(id) {
                names.push(f.name.as_str());
                fields.push((
                    id,
                    f.field_type,
                    f.phone_digits.unwrap_or(DEFAULT_PHONE_DIGITS),
                ));
            }
        }
        KeyDef {
            label: names.join("+"),
            fields,
        }
    }
}

impl Inner {
    /// The key form of one field's value, or `None` when the value is empty or flagged
    /// as implausible (a placeholder phone number must not make strangers duplicates).
    fn key_part<'a>(
        &self,
        (id, t, digits): (FieldId, FieldType, u8),
        value: &'a Value,
    ) -> Option<Cow<'a, str>> {
        let part = match value {
            Value::Text(s) => match t {
                FieldType::Phone => text::phone(s, digits),
                FieldType::Email => text::email(s),
                _ => text::key_text(s),
            },
            Value::Number(n) => Cow::Owned(n.to_string()),
            Value::Date(d) => Cow::Owned(d.format("%Y-%m-%d").to_string()),
            Value::DateTime(t) => Cow::Owned(format_instant(*t)),
            Value::Absent | Value::Bool(_) | Value::List(_) => return None,
        };
        // Key forms hold no white space or full-width letters: names need no normalizing.
        if part.is_empty() || self.flags.check_text(id, &part, true).is_some() {
            return None;
        }
        Some(part)
    }

    /// The key of a record under a match key, or `None` when a field of the key is empty
    /// or flagged.
    pub(crate) fn key<'a>(&self, def: &KeyDef, record: &'a Record) -> Option<Cow<'a, str>> {
        if let [only] = def.fields.as_slice() {
            return self.key_part(*only, record.get(only.0));
        }
        let mut key = String::new();
        for (i, field) in def.fields.iter().enumerate() {
            if i > 0 {
                key.push(SEPARATOR);
            }
            key.push_str(&self.key_part(*field, record.get(field.0))?);
        }
        Some(Cow::Owned(key))
    }

    /// A hash of the key of a record under a match key, computed from borrowed parts
    /// (no allocation for data already in key form); `None` as for [`Inner::key`].
    fn key_hash(&self, def: &KeyDef, record: &Record) -> Option<u64> {
        let mut hash = KeyHash::default();
        for field in &def.fields {
            hash.write(self.key_part(*field, record.get(field.0))?.as_bytes());
        }
        Some(hash.finish())
    }

    /// A record's values of a key's fields as shown to people: `华为技术有限公司 + 张伟`.
    fn show_key(&self, def: &KeyDef, record: &Record) -> String {
        def.fields
            .iter()
            .map(|(id, _, _)| self.schema.show(*id, record.get(*id)))
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// The key of a record under one match key, for a host that keeps its own index of
/// keys (a database column): two records are duplicates when they share a `value` for
/// the same `key`.
///
/// The value is the key form, unmasked: store it, do not show it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchKey {
    /// The match key, its fields' names joined by `+`: `手机号`, `公司名称+联系人`.
    pub key: String,
    /// The record's key.
    pub value: String,
}

/// Records that are duplicates of each other: every record shares a match key with
/// another record of the group, directly or through others.
///
/// Its text reads `records 0, 3, 7: 手机号 138****5678 (0, 3); 邮箱 l***@qq.com (3, 7)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuplicateGroup {
    /// The records, as positions in the slice given, ascending.
    pub records: Vec<usize>,
    /// Why: each key value shared by two or more of the records, by match key in the
    /// schema's order, then by first record.
    pub matches: Vec<KeyMatch>,
}

/// Records that share one value of one match key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyMatch {
    /// The match key, its fields' names joined by `+`: `手机号`, `公司名称+联系人`.
    pub key: String,
    /// The shared value as shown to people (masked if a field is sensitive), from the
    /// first of the records.
    pub value: String,
    /// The records that share it, ascending.
    pub records: Vec<usize>,
}

impl DuplicateGroup {
    /// The group's records, picked from the slice that was searched (positions outside
    /// it are skipped), in the group's order: what [`Checker::merge_plan`] takes.
    pub fn pick<'a>(&self, records: &'a [Record]) -> Vec<&'a Record> {
        self.records
            .iter()
            .filter_map(|&i| records.get(i))
            .collect()
    }
}

fn list(positions: &[usize]) -> String {
    positions
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for DuplicateGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "records {}:", list(&self.records))?;
        for (i, m) in self.matches.iter().enumerate() {
            let sep = if i == 0 { " " } else { "; " };
            write!(f, "{sep}{} {} ({})", m.key, m.value, list(&m.records))?;
        }
        Ok(())
    }
}

/// A fast deterministic 64-bit hash of key parts (word at a time, then a final mix).
/// Equal hashes are only candidates: the keys themselves are compared before records
/// are joined, so a collision costs time, never a wrong group.
#[derive(Default)]
struct KeyHash(u64);

impl KeyHash {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }

    /// Adds one part; its length goes in too, so parts never run into each other.
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(word));
        self.mix(bytes.len() as u64);
    }

    /// The murmur3 finalizer, so that every bit of the state reaches every bit.
    fn finish(self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Disjoint sets of record positions, with path halving and union by size.
struct Sets {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl Sets {
    fn new(n: usize) -> Sets {
        Sets {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
    }
}

impl Checker {
    /// The keys of a record under each match key of the schema, skipping keys with an
    /// empty or flagged field: for a host that indexes keys in its own storage.
    ///
    /// ```
    /// use crm_rules::{quality::Checker, Schema};
    /// let schema = Schema::from_json(r#"{"fields": [
    ///     {"name": "手机号", "type": "phone"}, {"name": "邮箱", "type": "email"}
    /// ]}"#)?;
    /// let record = schema.record([("手机号", "+86 139 5286 7341"), ("邮箱", "Li@QQ.com")])?;
    /// let keys = Checker::new(&schema).match_keys(&record);
    /// assert_eq!(keys.iter().map(|k| (k.key.as_str(), k.value.as_str())).collect::<Vec<_>>(),
    ///            [("手机号", "13952867341"), ("邮箱", "li@qq.com")]);
    ///
    /// // A placeholder number is no key.
    /// let fake = schema.record([("手机号", "13800000000")])?;
    /// assert!(Checker::new(&schema).match_keys(&fake).is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn match_keys(&self, record: &Record) -> Vec<MatchKey> {
        let inner = &self.inner;
        inner
            .keys
            .iter()
            .filter_map(|def| {
                Some(MatchKey {
                    key: def.label.clone(),
                    value: inner.key(def, record)?.into_owned(),
                })
            })
            .collect()
    }

    /// Groups the records that share a match key, transitively: when A and B share a
    /// phone number and B and C an e-mail address, A, B and C form one group.
    ///
    /// Groups are ordered by their first record; records that match nothing are in no
    /// group. The grouping depends only on the records, not on their order.
    ///
    /// Cost: O(n log n) for n records per match key (the first 2³² − 1 records are
    /// considered). Each record's key is hashed from
    /// its borrowed values, the (hash, record) pairs are sorted, and only records with
    /// equal hashes have their keys compared; records that share a key are joined with a
    /// union-find.
    ///
    /// ```
    /// use crm_rules::{quality::Checker, Schema};
    /// let schema = Schema::from_json(r#"{"fields": [
    ///     {"name": "客户名称", "type": "text"},
    ///     {"name": "手机号", "type": "phone", "sensitive": true},
    ///     {"name": "邮箱", "type": "email"}
    /// ]}"#)?;
    /// let records = [
    ///     schema.record([("客户名称", "王芳"), ("手机号", "13952867341")])?,
    ///     schema.record([("客户名称", "王芳"), ("手机号", "+86 139-5286-7341"), ("邮箱", "wf@163.com")])?,
    ///     schema.record([("客户名称", "李雷"), ("手机号", "13700001111")])?,
    ///     schema.record([("客户名称", "王芳（新）"), ("邮箱", "WF@163.com")])?,
    /// ];
    /// let groups = Checker::new(&schema).find_duplicates(&records);
    /// assert_eq!(groups.len(), 1);
    /// assert_eq!(groups[0].records, [0, 1, 3]);
    /// assert_eq!(groups[0].to_string(), "records 0, 1, 3: 手机号 139****7341 (0, 1); 邮箱 wf@163.com (1, 3)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_duplicates(&self, records: &[Record]) -> Vec<DuplicateGroup> {
        let inner = &self.inner;
        let n = records.len().min(u32::MAX as usize);
        let records = &records[..n];
        let mut sets = Sets::new(n);
        // (match key, records sharing one key value, ascending)
        let mut runs: Vec<(usize, Vec<u32>)> = Vec::new();
        let mut hashed: Vec<(u64, u32)> = Vec::with_capacity(n);
        let mut keyed: Vec<(Cow<'_, str>, u32)> = Vec::new();
        for (k, def) in inner.keys.iter().enumerate() {
            hashed.clear();
            hashed.extend(
                records
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| Some((inner.key_hash(def, r)?, i as u32))),
            );
            hashed.sort_unstable();
            for candidates in hashed.chunk_by(|a, b| a.0 == b.0) {
                if candidates.len() < 2 {
                    continue;
                }
                keyed.clear();
                keyed.extend(
                    candidates
                        .iter()
                        .filter_map(|&(_, i)| Some((inner.key(def, &records[i as usize])?, i))),
                );
                keyed.sort_unstable();
                for run in keyed.chunk_by(|a, b| a.0 == b.0) {
                    if run.len() < 2 {
                        continue;
                    }
                    for pair in run.windows(2) {
                        sets.union(pair[0].1, pair[1].1);
                    }
                    runs.push((k, run.iter().map(|(_, i)| *i).collect()));
                }
            }
        }
        let mut group_of = vec![u32::MAX; n];
        let mut groups: Vec<DuplicateGroup> = Vec::new();
        for i in 0..n as u32 {
            let root = sets.find(i);
            if sets.size[root as usize] < 2 {
                continue;
            }
            let slot = &mut group_of[root as usize];
            if *slot == u32::MAX {
                *slot = groups.len() as u32;
                groups.push(DuplicateGroup {
                    records: Vec::new(),
                    matches: Vec::new(),
                });
            }
            groups[*slot as usize].records.push(i as usize);
        }
        runs.sort_unstable_by_key(|(k, members)| (*k, members[0]));
        for (k, members) in runs {
            let root = sets.find(members[0]);
            let def = &inner.keys[k];
            if let Some(group) = groups.get_mut(group_of[root as usize] as usize) {
                group.matches.push(KeyMatch {
                    key: def.label.clone(),
                    value: inner.show_key(def, &records[members[0] as usize]),
                    records: members.into_iter().map(|i| i as usize).collect(),
                });
            }
        }
        groups
    }
}
