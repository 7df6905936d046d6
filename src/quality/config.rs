//! The `quality` section of a schema: flags, match keys, merge policy, time zone.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::flags::Flags;
use super::merge::MergePolicy;
use crate::error::Problem;
use crate::schema::{Field, FieldId, FieldType};

/// The most match keys a schema may define (each costs one sort of the records).
pub(crate) const MAX_MATCH_KEYS: usize = 32;

/// The data quality configuration of a schema: its optional `quality` section.
///
/// ```json
/// "quality": {
///   "time_zone": "Asia/Shanghai",
///   "flags": {"email_domains": ["example.com", "test.com"], "names": ["测试", "test"]},
///   "match_keys": [["手机号"], ["邮箱"], ["公司名称", "联系人"]],
///   "merge": {"survivor": "first", "recency_field": "更新时间", "fields": {"客户状态": "primary"}}
/// }
/// ```
///
/// Every key is optional; unknown keys are errors.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `time_zone` | `UTC` | the IANA zone in which imported date-times without an offset (`2024-03-15 10:30`) are read |
/// | `flags` | see [`Flags`] | the lists of implausible values that are flagged, not rejected |
/// | `match_keys` | one key per `phone` field and one per `email` field | the field combinations that make two records duplicates |
/// | `merge` | see [`MergePolicy`] | which record survives a merge and which value each field keeps |
///
/// A match key is a list of fields; two records share the key when every one of its
/// fields has a value and the values are equal in key form (see the
/// [module documentation](crate::quality#match-keys)). Match keys take text, choice,
/// phone, e-mail, member, number and date fields; not tags, multiple choices or booleans.
/// An empty list (`"match_keys": []`) turns duplicate detection off.
///
/// The schema checks the section when it is built and reports every problem with its
/// path: `quality.match_keys[2][1]: unknown field 联系人`, `quality.time_zone: unknown time
/// zone "Asia/Beijing"`.
///
/// ```
/// use crm_rules::Schema;
/// let err = Schema::from_json(r#"{
///   "fields": [{"name": "手机号", "type": "phone"}, {"name": "标签", "type": "tags"}],
///   "quality": {"match_keys": [["手机号"], ["标签"], ["联系人"]]}
/// }"#).unwrap_err();
/// let problems: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
/// assert_eq!(problems, [
///     "quality.match_keys[1][0]: 标签 is a tags field; match keys take texts, choices, phones, e-mails, members, numbers and dates",
///     "quality.match_keys[2][0]: unknown field 联系人",
/// ]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// The IANA time zone of imported date-times that carry no offset (UTC when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The invalid-data flags.
    #[serde(default, skip_serializing_if = "Flags::is_default")]
    pub flags: Flags,
    /// The match keys, each a list of field names; `None` for the default (one key per
    /// phone field and one per e-mail field, in schema order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_keys: Option<Vec<Vec<String>>>,
    /// The merge policy.
    #[serde(default, skip_serializing_if = "MergePolicy::is_default")]
    pub merge: MergePolicy,
}

impl Config {
    /// Sets the time zone of imported date-times without an offset (`"Asia/Shanghai"`).
    pub fn time_zone(mut self, zone: impl Into<String>) -> Config {
        self.time_zone = Some(zone.into());
        self
    }

    /// Sets the flags.
    pub fn flags(mut self, flags: Flags) -> Config {
        self.flags = flags;
        self
    }

    /// Sets the match keys, each a list of field names.
    pub fn match_keys<K, F, S>(mut self, keys: K) -> Config
    where
        K: IntoIterator<Item = F>,
        F: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.match_keys = Some(
            keys.into_iter()
                .map(|k| k.into_iter().map(Into::into).collect())
                .collect(),
        );
        self
    }

    /// Sets the merge policy.
    pub fn merge(mut self, merge: MergePolicy) -> Config {
        self.merge = merge;
        self
    }

    pub(crate) fn is_default(&self) -> bool {
        *self == Config::default()
    }

    /// Checks the section against the schema's fields, adding every problem found.
    pub(crate) fn check(
        &self,
        fields: &[Field],
        by_name: &HashMap<String, FieldId>,
        problems: &mut Vec<Problem>,
    ) {
        let mut problem = |path: String, message: String| {
            problems.push(Problem::new(None, format!("quality.{path}"), message));
        };
        if let Some(zone) = &self.time_zone {
            if zone.parse::<chrono_tz::Tz>().is_err() {
                problem("time_zone".into(), format!("unknown time zone {zone:?}"));
            }
        }
        self.flags.check(fields, by_name, &mut problem);
        if let Some(keys) = &self.match_keys {
            check_match_keys(keys, fields, by_name, &mut problem);
        }
        self.merge.check(fields, by_name, &mut problem);
    }

    /// The match keys in effect: the configured ones, or one per phone and e-mail field.
    /// Only called on a checked configuration, so unknown names are skipped silently.
    pub(crate) fn effective_match_keys(
        &self,
        fields: &[Field],
        by_name: impl Fn(&str) -> Option<FieldId>,
    ) -> Vec<Vec<FieldId>> {
        match &self.match_keys {
            Some(keys) => keys
                .iter()
                .map(|k| k.iter().filter_map(|name| by_name(name)).collect())
                .collect(),
            None => fields
                .iter()
                .enumerate()
                .filter(|(_, f)| matches!(f.field_type, FieldType::Phone | FieldType::Email))
                .map(|(i, _)| vec![FieldId(i as u32)])
                .collect(),
        }
    }
}

/// Whether a field type can be part of a match key.
fn can_match(t: FieldType) -> bool {
    !matches!(
        t,
        FieldType::Tags | FieldType::MultipleChoice | FieldType::Bool
    )
}

fn check_match_keys(
    keys: &[Vec<String>],
    fields: &[Field],
    by_name: &HashMap<String, FieldId>,
    problem: &mut impl FnMut(String, String),
) {
    if keys.len() > MAX_MATCH_KEYS {
        problem(
            "match_keys".into(),
            format!("more than {MAX_MATCH_KEYS} match keys"),
        );
    }
    for (i, key) in keys.iter().enumerate() {
        let path = format!("match_keys[{i}]");
        if key.is_empty() {
            problem(path.clone(), "a match key needs at least one field".into());
        }
        if keys[..i].contains(key) {
            problem(path.clone(), "duplicate match key".into());
        }
        for (j, name) in key.iter().enumerate() {
            let at = format!("{path}[{j}]");
            match by_name.get(name) {
                None => problem(at, format!("unknown field {name}")),
                Some(id) => {
                    let t = fields[id.index()].field_type;
                    if !can_match(t) {
                        problem(
                            at,
                            format!(
                                "{name} is a {} field; match keys take texts, choices, phones, \
                                 e-mails, members, numbers and dates",
                                t.name()
                            ),
                        );
                    } else if key[..j].contains(name) {
                        problem(at, format!("{name} is given twice in the key"));
                    }
                }
            }
        }
    }
}
