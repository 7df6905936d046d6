//! The compiled data quality checker of a schema.

use std::sync::Arc;

use chrono_tz::Tz;

use super::duplicates::KeyDef;
use super::flags::{Flag, FlagChecks};
use super::merge::MergeRules;
use super::normalize::Plan;
use super::recheck::Recheck;
use crate::schema::{FieldId, Record, Schema};

/// The data quality decisions of a schema, compiled once: how each field is normalized,
/// which values are flagged, the match keys of duplicates and the merge policy.
///
/// Build it once per schema with [`Checker::new`] (it cannot fail: the schema checked its
/// `quality` section when it was built) and use it for every row, record and batch.
/// Cloning is cheap (the compiled data is shared).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::{quality::Checker, Schema};
/// use serde_json::json;
///
/// let schema = Schema::from_json(r#"{"fields": [
///     {"name": "客户名称", "type": "text", "required": true},
///     {"name": "手机号", "type": "phone", "sensitive": true},
///     {"name": "邮箱", "type": "email", "sensitive": true}
/// ]}"#)?;
/// let checker = Checker::new(&schema);
/// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
///
/// // An intake form: normalize and validate one row, then look at its flags.
/// let record = checker.check_row(&json!({"客户名称": " 华为 ", "手机号": "+86 138 0000 0000"}), now)?;
/// assert_eq!(schema.record_to_json(&record), json!({"客户名称": "华为", "手机号": "13800000000"}));
/// let flags: Vec<String> = checker.flags(&record).iter().map(|f| f.to_string()).collect();
/// assert_eq!(flags, ["手机号 (138****0000): is a placeholder phone number"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Checker {
    pub(crate) inner: Arc<Inner>,
}

/// What a checker holds.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) schema: Schema,
    pub(crate) plans: Vec<Plan>,
    /// Per field: what a normalized value can still break.
    pub(crate) checks: Vec<Recheck>,
    pub(crate) zone: Tz,
    pub(crate) flags: FlagChecks,
    pub(crate) keys: Vec<KeyDef>,
    pub(crate) merge: MergeRules,
}

impl Checker {
    /// Compiles the data quality decisions of a schema.
    pub fn new(schema: &Schema) -> Checker {
        let config = schema.quality();
        let fields = schema.fields();
        let by_name = |name: &str| schema.field_id(name);
        let zone = config
            .time_zone
            .as_deref()
            .and_then(|z| z.parse::<Tz>().ok())
            .unwrap_or(Tz::UTC);
        let keys = config
            .effective_match_keys(fields, by_name)
            .into_iter()
            .filter(|k| !k.is_empty())
            .map(|ids| KeyDef::new(schema, ids))
            .collect();
        Checker {
            inner: Arc::new(Inner {
                plans: fields.iter().map(Plan::new).collect(),
                checks: fields.iter().map(Recheck::new).collect(),
                zone,
                flags: FlagChecks::new(&config.flags, fields, by_name),
                keys,
                merge: MergeRules::new(&config.merge, fields, by_name),
                schema: schema.clone(),
            }),
        }
    }

    /// The schema the checker was compiled from.
    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    /// The flags of a record: its well-formed but implausible values, in schema order, at
    /// most one per field. See [`Flags`](crate::quality::Flags) for what is flagged.
    ///
    /// ```
    /// use crm_rules::{quality::Checker, Schema};
    /// let schema = Schema::from_json(r#"{"fields": [
    ///     {"name": "客户名称", "type": "text"},
    ///     {"name": "手机号", "type": "phone"},
    ///     {"name": "邮箱", "type": "email"}
    /// ]}"#)?;
    /// let record = schema.record([("客户名称", "测试"), ("手机号", "13952867341"), ("邮箱", "wang@test.com")])?;
    /// let flags: Vec<String> = Checker::new(&schema).flags(&record).iter().map(|f| f.to_string()).collect();
    /// assert_eq!(flags, [
    ///     "客户名称 (测试): looks like test data",
    ///     "邮箱 (wang@test.com): uses the test domain test.com",
    /// ]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flags(&self, record: &Record) -> Vec<Flag> {
        self.inner.flags_where(record, false, |_| true)
    }
}

impl Inner {
    /// The flags of the fields of a record that `include` accepts; `normal`: the record
    /// came out of this module's normalization.
    pub(crate) fn flags_where(
        &self,
        record: &Record,
        normal: bool,
        include: impl Fn(FieldId) -> bool,
    ) -> Vec<Flag> {
        let mut flags = Vec::new();
        for (i, value) in record.values().iter().enumerate() {
            let id = FieldId(i as u32);
            if !self.flags.applies(id) || !include(id) {
                continue;
            }
            let Some(field) = self.schema.fields().get(i) else {
                break;
            };
            if let Some((kind, message)) = self.flags.check(id, value, normal) {
                flags.push(Flag {
                    field: field.name.clone(),
                    value: self.schema.show(id, value),
                    kind,
                    message,
                });
            }
        }
        flags
    }
}
