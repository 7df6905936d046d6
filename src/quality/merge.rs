//! Merging duplicates: which record survives, and which value each field keeps.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::Checker;
use crate::schema::{Field, FieldId, FieldType, Record};
use crate::value::{date_start, Value};

/// Which record of a group survives a merge (the others are merged into it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Survivor {
    /// The first record of the group (the oldest, when the host lists records by
    /// creation, as [`Checker::find_duplicates`] keeps their order).
    #[default]
    First,
    /// The least recent record: the original customer, when recency is a creation or
    /// update time (see [`MergePolicy`] for how recency is decided).
    Oldest,
    /// The most recent record.
    MostRecent,
    /// The record with the most non-empty fields; ties go to the earlier record.
    MostComplete,
}

/// Which value a field keeps when records are merged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldPolicy {
    /// The value of the most recent record that has one (empty values never win).
    #[default]
    MostRecent,
    /// The surviving record's value; when it has none, the most recent non-empty one.
    Primary,
    /// Tags and multiple choices only: every item of every record, once each, the
    /// survivor's items first, then the others' in group order.
    Union,
}

impl FieldPolicy {
    fn name(self) -> &'static str {
        match self {
            FieldPolicy::MostRecent => "most recent",
            FieldPolicy::Primary => "primary",
            FieldPolicy::Union => "union",
        }
    }
}

/// The merge policy of a schema: the `merge` key of its `quality` section.
///
/// ```json
/// "merge": {
///   "survivor": "first",
///   "recency_field": "更新时间",
///   "default": "most_recent",
///   "fields": {"客户状态": "primary", "负责人": "primary"}
/// }
/// ```
///
/// | key | default | meaning |
/// |---|---|---|
/// | `survivor` | `first` | the record that survives: `first`, `oldest`, `most_recent` or `most_complete` ([`Survivor`]) |
/// | `recency_field` | none | a `date` or `date_time` field that orders records by recency; a record without a value is the oldest, ties go to the later record. Without it, a later record in the group is more recent |
/// | `default` | `most_recent` | the policy of every field not named in `fields`, except tags and multiple choices: `most_recent` or `primary` ([`FieldPolicy`]) |
/// | `fields` | none | per-field policies; tags and multiple-choice fields not named take `union` |
///
/// ```
/// use crm_rules::quality::{FieldPolicy, MergePolicy, Survivor};
/// let policy = MergePolicy::default()
///     .survivor(Survivor::MostComplete)
///     .field("客户状态", FieldPolicy::Primary);
/// assert_eq!(policy.fields["客户状态"], FieldPolicy::Primary);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MergePolicy {
    /// Which record survives.
    #[serde(default)]
    pub survivor: Survivor,
    /// The date or date-time field that orders records by recency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recency_field: Option<String>,
    /// The policy of fields not named in `fields` (tags and multiple choices excepted).
    #[serde(default)]
    pub default: FieldPolicy,
    /// Per-field policies.
    #[serde(
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::rule::unique_keys"
    )]
    pub fields: IndexMap<String, FieldPolicy>,
}

impl MergePolicy {
    /// Sets which record survives.
    pub fn survivor(mut self, survivor: Survivor) -> MergePolicy {
        self.survivor = survivor;
        self
    }

    /// Sets the field that orders records by recency.
    pub fn recency_field(mut self, field: impl Into<String>) -> MergePolicy {
        self.recency_field = Some(field.into());
        self
    }

    /// Sets the policy of fields not named otherwise.
    pub fn default_policy(mut self, policy: FieldPolicy) -> MergePolicy {
        self.default = policy;
        self
    }

    /// Sets the policy of one field.
    pub fn field(mut self, field: impl Into<String>, policy: FieldPolicy) -> MergePolicy {
        self.fields.insert(field.into(), policy);
        self
    }

    pub(crate) fn is_default(&self) -> bool {
        *self == MergePolicy::default()
    }

    pub(crate) fn check(
        &self,
        fields: &[Field],
        by_name: &HashMap<String, FieldId>,
        problem: &mut impl FnMut(String, String),
    ) {
        if let Some(name) = &self.recency_field {
            match by_name.get(name) {
                None => problem(
                    "merge.recency_field".into(),
                    format!("unknown field {name}"),
                ),
                Some(id) => {
                    let t = fields[id.index()].field_type;
                    if !matches!(t, FieldType::Date | FieldType::DateTime) {
                        problem(
                            "merge.recency_field".into(),
                            format!("{name} is a {} field, not a date or date_time", t.name()),
                        );
                    }
                }
            }
        }
        if self.default == FieldPolicy::Union {
            problem(
                "merge.default".into(),
                "union applies only to tags and multiple_choice fields, which take it by \
                 default"
                    .into(),
            );
        }
        for (name, policy) in &self.fields {
            let path = format!("merge.fields.{name}");
            match by_name.get(name) {
                None => problem(path, format!("unknown field {name}")),
                Some(id) => {
                    let t = fields[id.index()].field_type;
                    if *policy == FieldPolicy::Union && !is_list(t) {
                        problem(
                            path,
                            format!(
                                "union applies only to tags and multiple_choice fields, not to {}",
                                t.name()
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn is_list(t: FieldType) -> bool {
    matches!(t, FieldType::Tags | FieldType::MultipleChoice)
}

/// The merge policy compiled against a schema: one policy per field.
#[derive(Clone, Debug)]
pub(crate) struct MergeRules {
    survivor: Survivor,
    recency: Option<FieldId>,
    per_field: Vec<FieldPolicy>,
}

impl MergeRules {
    pub(crate) fn new(
        policy: &MergePolicy,
        fields: &[Field],
        by_name: impl Fn(&str) -> Option<FieldId>,
    ) -> MergeRules {
        let per_field = fields
            .iter()
            .map(|f| match policy.fields.get(&f.name) {
                Some(p) => *p,
                None if is_list(f.field_type) => FieldPolicy::Union,
                None => policy.default,
            })
            .collect();
        MergeRules {
            survivor: policy.survivor,
            recency: policy.recency_field.as_deref().and_then(by_name),
            per_field,
        }
    }
}

/// A merge that cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// The group holds no record.
    #[error("cannot merge an empty group")]
    EmptyGroup,
    /// The survivor named is not a position in the group.
    #[error("survivor {survivor} is not in the group of {len} records")]
    SurvivorOutOfRange {
        /// The position given.
        survivor: usize,
        /// The size of the group.
        len: usize,
    },
}

/// What a merge does with one field: the value kept, where it came from, and what was
/// discarded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldDecision {
    /// The field's name.
    pub field: String,
    /// The policy applied.
    pub policy: FieldPolicy,
    /// The value kept, as shown to people (masked if the field is sensitive).
    pub value: String,
    /// The records (positions in the group) the kept value comes from: one record, or
    /// for a union every record that added an item.
    pub from: Vec<usize>,
    /// The kept value differs from the survivor's own: the survivor must be updated.
    pub changed: bool,
    /// The records held two or more different non-empty values: a conflict resolved.
    pub conflict: bool,
    /// The other values, not kept, each with the first record that held it (empty for a
    /// union, which keeps everything).
    pub discarded: Vec<Discarded>,
}

/// A value a merge did not keep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Discarded {
    /// The first record (position in the group) that held it.
    pub record: usize,
    /// The value, as shown to people (masked if the field is sensitive).
    pub value: String,
}

/// A proposed merge of duplicate records: the survivor, the records merged into it, the
/// merged record, and a decision for every field that has a value in any record.
///
/// The merged [`record`](MergePlan::record) holds real values, for the host to store as
/// the survivor. The decisions, the text and the JSON form show values masked where the
/// field is sensitive: they are for people to review.
///
/// Its text reads:
/// ```text
/// merge records 1, 2 into record 0; 1 conflict resolved
///   客户状态 (most recent): kept 意向客户 from record 2; discarded 新客户 (record 0)
///   手机号 (most recent): kept 139****7341 from record 1
///   标签 (union): kept VIP, 展会, 官网 from records 0, 1
/// ```
/// listing the fields in conflict and the fields whose value the survivor gets from
/// another record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MergePlan {
    /// The surviving record, as a position in the group.
    pub survivor: usize,
    /// The records merged into it, ascending.
    pub absorbed: Vec<usize>,
    /// The merged record: the survivor's new values.
    #[serde(skip)]
    pub record: Record,
    /// One decision per field that has a value in some record, in schema order.
    pub fields: Vec<FieldDecision>,
}

impl MergePlan {
    /// The decisions that resolved a conflict (records with different values).
    pub fn conflicts(&self) -> impl Iterator<Item = &FieldDecision> {
        self.fields.iter().filter(|d| d.conflict)
    }
}

fn positions(list: &[usize]) -> String {
    list.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for MergePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.absorbed.is_empty() {
            write!(f, "nothing to merge into record {}", self.survivor)?;
        } else {
            write!(
                f,
                "merge record{} {} into record {}",
                if self.absorbed.len() == 1 { "" } else { "s" },
                positions(&self.absorbed),
                self.survivor
            )?;
        }
        let n = self.conflicts().count();
        write!(
            f,
            "; {n} conflict{} resolved",
            if n == 1 { "" } else { "s" }
        )?;
        for d in self.fields.iter().filter(|d| d.conflict || d.changed) {
            write!(
                f,
                "\n  {} ({}): kept {} from record{} {}",
                d.field,
                d.policy.name(),
                d.value,
                if d.from.len() == 1 { "" } else { "s" },
                positions(&d.from)
            )?;
            if !d.discarded.is_empty() {
                let discarded: Vec<String> = d
                    .discarded
                    .iter()
                    .map(|x| format!("{} (record {})", x.value, x.record))
                    .collect();
                write!(f, "; discarded {}", discarded.join(", "))?;
            }
        }
        Ok(())
    }
}

/// A record's recency: the value of the recency field, as an instant.
fn recency(record: &Record, field: Option<FieldId>) -> Option<DateTime<Utc>> {
    match record.get(field?) {
        Value::DateTime(t) => Some(*t),
        Value::Date(d) => Some(date_start(*d)),
        _ => None,
    }
}

impl Checker {
    /// Proposes how to merge a group of duplicate records under the schema's merge policy
    /// ([`MergePolicy`]): the survivor it names, and per field the value to keep.
    ///
    /// ```
    /// use crm_rules::{quality::Checker, Schema, Value};
    /// let schema = Schema::from_json(r#"{"fields": [
    ///     {"name": "客户名称", "type": "text"},
    ///     {"name": "手机号", "type": "phone", "sensitive": true},
    ///     {"name": "客户状态", "type": "single_choice", "options": ["新客户", "意向客户"]},
    ///     {"name": "标签", "type": "tags"}
    /// ]}"#)?;
    /// let a = schema.record([("客户名称", Value::from("王芳")), ("客户状态", "新客户".into()), ("标签", vec!["VIP", "展会"].into())])?;
    /// let b = schema.record([("客户名称", Value::from("王芳")), ("手机号", "13952867341".into()), ("标签", vec!["官网"].into())])?;
    /// let c = schema.record([("客户名称", Value::from("王芳")), ("客户状态", "意向客户".into())])?;
    /// let plan = Checker::new(&schema).merge_plan(&[&a, &b, &c])?;
    /// assert_eq!(plan.to_string(), "merge records 1, 2 into record 0; 2 conflicts resolved
    ///   手机号 (most recent): kept 139****7341 from record 1
    ///   客户状态 (most recent): kept 意向客户 from record 2; discarded 新客户 (record 0)
    ///   标签 (union): kept VIP, 展会, 官网 from records 0, 1");
    /// let status = schema.field_id("客户状态").ok_or("no field")?;
    /// assert_eq!(plan.record.get(status), &Value::from("意向客户"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`MergeError::EmptyGroup`] for an empty group.
    pub fn merge_plan(&self, group: &[&Record]) -> Result<MergePlan, MergeError> {
        let rules = &self.inner.merge;
        let order = self.recency_order(group);
        let survivor = match rules.survivor {
            Survivor::First => 0,
            Survivor::Oldest => order.first().copied().unwrap_or(0),
            Survivor::MostRecent => order.last().copied().unwrap_or(0),
            Survivor::MostComplete => group
                .iter()
                .enumerate()
                .map(|(i, r)| (r.values().iter().filter(|v| !v.is_empty()).count(), i))
                // The most fields; of equals, the earliest record.
                .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
                .map_or(0, |(_, i)| i),
        };
        self.merge_plan_into(group, survivor)
    }

    /// As [`Checker::merge_plan`], with the survivor chosen by the caller (a person who
    /// picked "merge into this one"), as a position in the group.
    ///
    /// # Errors
    /// [`MergeError::EmptyGroup`] for an empty group, and
    /// [`MergeError::SurvivorOutOfRange`] for a survivor outside it.
    pub fn merge_plan_into(
        &self,
        group: &[&Record],
        survivor: usize,
    ) -> Result<MergePlan, MergeError> {
        if group.is_empty() {
            return Err(MergeError::EmptyGroup);
        }
        if survivor >= group.len() {
            return Err(MergeError::SurvivorOutOfRange {
                survivor,
                len: group.len(),
            });
        }
        let inner = &self.inner;
        let schema = &inner.schema;
        // Most recent first.
        let mut recent = self.recency_order(group);
        recent.reverse();
        let mut record = group[survivor].clone();
        let mut fields = Vec::new();
        for (i, field) in schema.fields().iter().enumerate() {
            let id = FieldId(i as u32);
            if group.iter().all(|r| r.get(id).is_empty()) {
                continue;
            }
            let policy = inner.merge.per_field.get(i).copied().unwrap_or_default();
            let own = group[survivor].get(id);
            let most_recent = || {
                recent
                    .iter()
                    .copied()
                    .find(|&p| !group[p].get(id).is_empty())
                    .unwrap_or(survivor)
            };
            let union = match (policy, own) {
                (FieldPolicy::Union, Value::List(_) | Value::Absent) => union(group, id, survivor),
                _ => None,
            };
            let (kept, from) = match union {
                Some((items, from)) => (Value::List(items), from),
                None => {
                    let source = if policy == FieldPolicy::Primary && !own.is_empty() {
                        survivor
                    } else {
                        most_recent()
                    };
                    (group[source].get(id).clone(), vec![source])
                }
            };
            // Distinct non-empty values, each with the first record holding it.
            let mut distinct: Vec<(usize, &Value)> = Vec::new();
            for (p, r) in group.iter().enumerate() {
                let v = r.get(id);
                if !v.is_empty() && !distinct.iter().any(|(_, d)| *d == v) {
                    distinct.push((p, v));
                }
            }
            let discarded = if policy == FieldPolicy::Union && matches!(kept, Value::List(_)) {
                Vec::new()
            } else {
                distinct
                    .iter()
                    .filter(|(_, v)| **v != kept)
                    .map(|(p, v)| Discarded {
                        record: *p,
                        value: schema.show(id, v),
                    })
                    .collect()
            };
            fields.push(FieldDecision {
                field: field.name.clone(),
                policy,
                value: schema.show(id, &kept),
                from,
                changed: kept != *own,
                conflict: distinct.len() > 1,
                discarded,
            });
            record.set(id, kept);
        }
        Ok(MergePlan {
            survivor,
            absorbed: (0..group.len()).filter(|&p| p != survivor).collect(),
            record,
            fields,
        })
    }

    /// The group's positions from the oldest to the most recent.
    fn recency_order(&self, group: &[&Record]) -> Vec<usize> {
        let field = self.inner.merge.recency;
        let mut order: Vec<usize> = (0..group.len()).collect();
        // Stable: of equal recency, the later record counts as more recent.
        order.sort_by_key(|&p| recency(group[p], field));
        order
    }
}

/// The union of a list field over a group: the survivor's items first, then the others'
/// in group order, once each; with the records that added an item. `None` when a record
/// holds something other than a list there.
fn union(group: &[&Record], id: FieldId, survivor: usize) -> Option<(Vec<String>, Vec<usize>)> {
    let mut items: Vec<String> = Vec::new();
    // An ordered set (no hashing): lists of any length cost O(n log n).
    let mut seen = std::collections::BTreeSet::new();
    let mut from = Vec::new();
    let order = std::iter::once(survivor).chain((0..group.len()).filter(|&p| p != survivor));
    for p in order {
        let list = match group[p].get(id) {
            Value::List(l) => l.as_slice(),
            Value::Absent => continue,
            _ => return None,
        };
        let before = seen.len();
        for item in list {
            if seen.insert(item.as_str()) {
                items.push(item.clone());
            }
        }
        if seen.len() > before {
            from.push(p);
        }
    }
    from.sort_unstable();
    Some((items, from))
}
