//! The schema of customer fields, customer records, and record validation.

mod check;
mod field;
mod mask;
mod record;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(crate) use check::{
    check_value, describe_json, describe_json_kind, is_of_kind, nearest_option, not_an_option,
    parse_date_time, parse_kind, parse_kind_masked, truncate,
};
pub use field::{EventDef, Field, FieldType, ValueKind, DEFAULT_PHONE_DIGITS};
pub use mask::mask;
pub use record::Record;

use crate::error::{json_problem, BuildError, FieldError, LoadError, Problem, ValidationError};
use crate::limits::Limits;
use crate::quality;
use crate::value::Value;

/// The position of a field in its schema; records are read by it, not by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldId(pub(crate) u32);

impl FieldId {
    /// The position, from 0, in the schema's field list.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The JSON form of a schema.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner_field: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    events: Vec<EventDef>,
    #[serde(default, skip_serializing_if = "quality::Config::is_default")]
    quality: quality::Config,
}

/// The customer fields a tenant defines, checked once when built.
///
/// Rules, templates and records are checked against it: a rule naming an unknown field,
/// a literal of the wrong type or a choice value outside the options is a build error.
///
/// JSON form: `{"fields": [...], "owner_field": "负责人", "events": [...], "quality": {...}}`,
/// where `owner_field` names the member field that owner assignment writes to, `events`
/// optionally declares the event kinds and their attributes ([`EventDef`]), and `quality`
/// optionally configures data quality: invalid-data flags, duplicate match keys and merge
/// policy ([`quality::Config`](crate::quality::Config)).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::{Schema, Value};
/// let schema = Schema::from_json(r#"{"fields": [
///     {"name": "客户名称", "type": "text", "required": true},
///     {"name": "手机号", "type": "phone", "sensitive": true},
///     {"name": "客户状态", "type": "single_choice", "options": ["新客户", "成交客户"]}
/// ]}"#)?;
/// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
/// let form = serde_json::json!({"手机号": "1381234567", "客户状态": "成交客戶"});
/// let err = schema.validate_json(&form, now).unwrap_err();
/// let messages: Vec<String> = err.errors().iter().map(|e| e.to_string()).collect();
/// assert_eq!(messages, [
///     "客户名称: is required",
///     "手机号 (138***4567): must be 11 digits",
///     "客户状态 (成交客戶): \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?",
/// ]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Schema {
    fields: Vec<Field>,
    by_name: HashMap<String, FieldId>,
    owner_field: Option<String>,
    owner: Option<FieldId>,
    events: Vec<EventDef>,
    events_by_kind: HashMap<String, usize>,
    quality: quality::Config,
}

impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        self.fields == other.fields
            && self.owner_field == other.owner_field
            && self.events == other.events
            && self.quality == other.quality
    }
}

impl Schema {
    /// Builds a schema from field definitions.
    ///
    /// # Errors
    /// Every problem at once: duplicate or empty names, a choice field without options
    /// or options on another type, duplicate options, `min` above `max`, `min_length`
    /// above `max_length`, settings that do not apply to the type, and size limits.
    pub fn new(fields: impl IntoIterator<Item = Field>) -> Result<Schema, BuildError> {
        Schema::build(
            fields.into_iter().collect(),
            None,
            Vec::new(),
            quality::Config::default(),
        )
    }

    /// Builds a schema with an owner field and declared event kinds.
    ///
    /// # Errors
    /// As [`Schema::new`], plus an owner field that is unknown or not a `member` field,
    /// and duplicate event kinds or attributes.
    pub fn with_events(
        fields: impl IntoIterator<Item = Field>,
        owner_field: Option<&str>,
        events: impl IntoIterator<Item = EventDef>,
    ) -> Result<Schema, BuildError> {
        Schema::build(
            fields.into_iter().collect(),
            owner_field.map(str::to_owned),
            events.into_iter().collect(),
            quality::Config::default(),
        )
    }

    /// The same schema with a data quality configuration (the `quality` section of the
    /// JSON form), checked against the fields.
    ///
    /// ```
    /// use crm_rules::{quality, Field, FieldType, Schema};
    /// let schema = Schema::new([
    ///     Field::new("公司名称", FieldType::Text),
    ///     Field::new("联系人", FieldType::Text),
    ///     Field::new("手机号", FieldType::Phone),
    /// ])?
    /// .with_quality(quality::Config::default().match_keys([vec!["手机号"], vec!["公司名称", "联系人"]]))?;
    /// assert_eq!(schema.quality().match_keys.as_ref().map(Vec::len), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Every problem of the configuration, with its path (`quality.match_keys[1][0]`):
    /// unknown fields, fields of the wrong type, an unknown time zone, bad flag lists and
    /// merge policies (see [`quality::Config`](crate::quality::Config)).
    pub fn with_quality(self, quality: quality::Config) -> Result<Schema, BuildError> {
        Schema::build(self.fields, self.owner_field, self.events, quality)
    }

    /// The data quality configuration (defaults when the schema gives none).
    pub fn quality(&self) -> &quality::Config {
        &self.quality
    }

    /// Reads and builds a schema from its JSON form.
    ///
    /// # Errors
    /// A [`LoadError`] with the line and column of a JSON syntax error, an unknown key or a
    /// value of the wrong type, or with every problem [`Schema::new`] finds.
    pub fn from_json(text: &str) -> Result<Schema, LoadError> {
        crate::error::precheck(text, "schema", r#"{"fields": [...]}"#)?;
        let file: SchemaFile = serde_json::from_str(text)
            .map_err(|e| LoadError::new("schema", vec![json_problem(&e, None, text, 0)]))?;
        Ok(Schema::build(
            file.fields,
            file.owner_field,
            file.events,
            file.quality,
        )?)
    }

    /// The schema's JSON form.
    pub fn to_json(&self) -> String {
        let file = SchemaFile {
            fields: self.fields.clone(),
            owner_field: self.owner_field.clone(),
            events: self.events.clone(),
            quality: self.quality.clone(),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    fn build(
        fields: Vec<Field>,
        owner_field: Option<String>,
        events: Vec<EventDef>,
        quality: quality::Config,
    ) -> Result<Schema, BuildError> {
        let limits = Limits::default();
        let mut problems = Vec::new();
        if fields.len() > limits.max_fields {
            problems.push(Problem::new(
                None,
                "fields",
                format!("more than {} fields", limits.max_fields),
            ));
        }
        let by_name = check_fields(&fields, "fields", &limits, &mut problems);
        let owner = owner_field
            .as_ref()
            .and_then(|name| match by_name.get(name) {
                Some(id) if fields[id.index()].field_type == FieldType::Member => Some(*id),
                Some(_) => {
                    problems.push(Problem::new(
                        None,
                        "owner_field",
                        format!("{name} is not a member field"),
                    ));
                    None
                }
                None => {
                    problems.push(Problem::new(
                        None,
                        "owner_field",
                        format!("unknown field {name}"),
                    ));
                    None
                }
            });
        let mut events_by_kind = HashMap::new();
        for (i, event) in events.iter().enumerate() {
            let path = format!("events[{i}]");
            if event.kind.is_empty() {
                problems.push(Problem::new(
                    None,
                    format!("{path}.kind"),
                    "the event kind is empty",
                ));
            }
            if events_by_kind.insert(event.kind.clone(), i).is_some() {
                problems.push(Problem::new(
                    None,
                    format!("{path}.kind"),
                    format!("duplicate event kind {}", event.kind),
                ));
            }
            check_fields(
                &event.attributes,
                &format!("{path}.attributes"),
                &limits,
                &mut problems,
            );
        }
        quality.check(&fields, &by_name, &mut problems);
        if !problems.is_empty() {
            return Err(BuildError::new(problems));
        }
        Ok(Schema {
            fields,
            by_name,
            owner_field,
            owner,
            events,
            events_by_kind,
            quality,
        })
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The id of a field by name.
    pub fn field_id(&self, name: &str) -> Option<FieldId> {
        self.by_name.get(name).copied()
    }

    /// The field with an id, if the id belongs to this schema.
    pub fn field(&self, id: FieldId) -> Option<&Field> {
        self.fields.get(id.index())
    }

    /// The member field owner assignment writes to, if the schema names one.
    pub fn owner_field(&self) -> Option<FieldId> {
        self.owner
    }

    /// The declared event kinds (empty when the schema declares none).
    pub fn events(&self) -> &[EventDef] {
        &self.events
    }

    /// A declared event kind.
    pub fn event(&self, kind: &str) -> Option<&EventDef> {
        self.events_by_kind.get(kind).map(|i| &self.events[*i])
    }

    /// The only `tags` field, which tag actions use when they name no field.
    pub fn default_tags_field(&self) -> Option<FieldId> {
        let mut tags = self
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.field_type == FieldType::Tags);
        match (tags.next(), tags.next()) {
            (Some((i, _)), None) => Some(FieldId(i as u32)),
            _ => None,
        }
    }

    /// A record of this schema from name-value pairs.
    ///
    /// # Errors
    /// Unknown field names and values of the wrong kind for their field, all at once.
    /// Other rules (required, formats, ranges) are checked by [`Schema::validate`].
    pub fn record<'a, I, V>(&self, pairs: I) -> Result<Record, ValidationError>
    where
        I: IntoIterator<Item = (&'a str, V)>,
        V: Into<Value>,
    {
        let mut record = Record::new(self);
        let mut errors = Vec::new();
        for (name, value) in pairs {
            let value = value.into();
            match self.field_id(name) {
                None => errors.push(unknown_field(name)),
                Some(id) => {
                    let field = &self.fields[id.index()];
                    if is_of_kind(field.field_type.kind(), &value) {
                        record.set(id, value);
                    } else {
                        errors.push(FieldError {
                            field: name.to_owned(),
                            value: self.show(id, &value),
                            message: format!(
                                "expected a value of type {}, found {}",
                                field.field_type.name(),
                                value.kind_name()
                            ),
                        });
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(record)
        } else {
            Err(ValidationError::new(errors))
        }
    }

    /// A record of this schema from a JSON object of field names to values.
    ///
    /// Values are read by field type: dates as `YYYY-MM-DD`, date-times as RFC 3339 (held
    /// in UTC), lists as arrays of strings, `null` as absent.
    ///
    /// # Errors
    /// A non-object, unknown field names and values of the wrong type, all at once.
    pub fn record_from_json(&self, json: &serde_json::Value) -> Result<Record, ValidationError> {
        let Some(object) = json.as_object() else {
            return Err(ValidationError::new(vec![FieldError {
                field: String::new(),
                value: String::new(),
                message: format!(
                    "expected an object of field values, found {}",
                    describe_json(json)
                ),
            }]));
        };
        let mut record = Record::new(self);
        let mut errors = Vec::new();
        for (name, value) in object {
            let Some(id) = self.field_id(name) else {
                errors.push(unknown_field(name));
                continue;
            };
            let field = &self.fields[id.index()];
            let read = if field.sensitive {
                check::parse_kind_masked(field.field_type.kind(), value)
            } else {
                parse_kind(field.field_type.kind(), value)
            };
            match read {
                Ok(v) => {
                    record.set(id, v);
                }
                Err(message) => errors.push(FieldError {
                    field: name.clone(),
                    value: if field.sensitive {
                        "(masked)".into()
                    } else {
                        String::new()
                    },
                    message,
                }),
            }
        }
        if errors.is_empty() {
            Ok(record)
        } else {
            errors.sort_by_key(|e| self.field_id(&e.field).map_or(usize::MAX, FieldId::index));
            Err(ValidationError::new(errors))
        }
    }

    /// Checks a record against every rule of the schema, as a form does on submit:
    /// required fields, types, choice options, phone and e-mail formats, number ranges,
    /// text lengths and "not before today" (today is the UTC date of `now`).
    ///
    /// # Errors
    /// Every field error of the record at once, in schema order.
    pub fn validate(&self, record: &Record, now: DateTime<Utc>) -> Result<(), ValidationError> {
        let today = now.date_naive();
        let mut errors = Vec::new();
        for (i, field) in self.fields.iter().enumerate() {
            let id = FieldId(i as u32);
            let value = record.get(id);
            if value.is_empty() {
                if field.required {
                    errors.push(FieldError {
                        field: field.name.clone(),
                        value: String::new(),
                        message: "is required".into(),
                    });
                }
                continue;
            }
            for message in check::check_value(field, value, today) {
                errors.push(FieldError {
                    field: field.name.clone(),
                    value: self.show(id, value),
                    message,
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationError::new(errors))
        }
    }

    /// Reads a JSON object into a record and validates it: every error at once, from
    /// reading and from [`Schema::validate`].
    ///
    /// # Errors
    /// As [`Schema::record_from_json`] and [`Schema::validate`], merged in schema order.
    pub fn validate_json(
        &self,
        json: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<Record, ValidationError> {
        match self.record_from_json(json) {
            Ok(record) => self.validate(&record, now).map(|()| record),
            Err(read) => {
                // Validate what could be read; fields that failed to read are reported once.
                let mut partial = Record::new(self);
                if let Some(object) = json.as_object() {
                    for (name, value) in object {
                        if let Some(id) = self.field_id(name) {
                            if let Ok(v) =
                                parse_kind(self.fields[id.index()].field_type.kind(), value)
                            {
                                partial.set(id, v);
                            }
                        }
                    }
                }
                let mut errors = read.errors().to_vec();
                if let Err(more) = self.validate(&partial, now) {
                    errors.extend(
                        more.errors()
                            .iter()
                            .filter(|e| {
                                // A field that could not be read was reported already.
                                !(e.message == "is required"
                                    && read.errors().iter().any(|r| r.field == e.field))
                            })
                            .cloned(),
                    );
                }
                errors.sort_by_key(|e| self.field_id(&e.field).map_or(usize::MAX, FieldId::index));
                Err(ValidationError::new(errors))
            }
        }
    }

    /// A value of a field as shown to people: masked when the field is sensitive.
    pub fn show(&self, id: FieldId, value: &Value) -> String {
        match self.field(id) {
            Some(f) if f.sensitive => mask(value),
            _ => value.to_string(),
        }
    }

    /// A record as a JSON object (unmasked, absent fields left out), in schema order.
    pub fn record_to_json(&self, record: &Record) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        for (i, field) in self.fields.iter().enumerate() {
            let value = record.get(FieldId(i as u32));
            if !value.is_absent() {
                object.insert(field.name.clone(), value.to_json());
            }
        }
        serde_json::Value::Object(object)
    }
}

fn unknown_field(name: &str) -> FieldError {
    FieldError {
        field: name.to_owned(),
        value: String::new(),
        message: "unknown field".into(),
    }
}

/// Checks a list of field definitions; returns the name index.
fn check_fields(
    fields: &[Field],
    at: &str,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> HashMap<String, FieldId> {
    let mut by_name = HashMap::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        let path = format!("{at}[{i}]");
        let mut problem = |key: &str, message: String| {
            problems.push(Problem::new(None, format!("{path}.{key}"), message));
        };
        let t = field.field_type;
        if field.name.trim().is_empty() {
            problem("name", "the field name is empty".into());
        } else if field.name.chars().count() > limits.max_name_chars {
            problem(
                "name",
                format!("longer than {} characters", limits.max_name_chars),
            );
        }
        if by_name
            .insert(field.name.clone(), FieldId(i as u32))
            .is_some()
        {
            problem("name", format!("duplicate field name {}", field.name));
        }
        if t.has_options() && field.options.is_empty() {
            problem("options", format!("a {} field needs options", t.name()));
        }
        if !t.has_options() && !field.options.is_empty() {
            problem(
                "options",
                format!("options apply only to choice fields, not to {}", t.name()),
            );
        }
        if field.options.len() > limits.max_list_items {
            problem(
                "options",
                format!("more than {} options", limits.max_list_items),
            );
        }
        for (j, option) in field.options.iter().enumerate() {
            if option.is_empty() {
                problem(&format!("options[{j}]"), "the option is empty".into());
            }
            if field.options[..j].contains(option) {
                problem(
                    &format!("options[{j}]"),
                    format!("duplicate option {option}"),
                );
            }
        }
        let numeric = matches!(t.kind(), ValueKind::Number | ValueKind::Integer);
        if (field.min.is_some() || field.max.is_some()) && !numeric {
            problem(
                "min",
                format!("min and max apply only to numbers, not to {}", t.name()),
            );
        }
        if let (Some(min), Some(max)) = (field.min, field.max) {
            if min > max {
                problem("min", format!("min {min} is above max {max}"));
            }
        }
        let lengthy = matches!(t.kind(), ValueKind::Text | ValueKind::List);
        if (field.min_length.is_some() || field.max_length.is_some()) && !lengthy {
            problem(
                "max_length",
                format!("lengths apply only to texts and lists, not to {}", t.name()),
            );
        }
        if let (Some(min), Some(max)) = (field.min_length, field.max_length) {
            if min > max {
                problem(
                    "min_length",
                    format!("min_length {min} is above max_length {max}"),
                );
            }
        }
        if field.not_before_today && !matches!(t, FieldType::Date | FieldType::DateTime) {
            problem(
                "not_before_today",
                format!("applies only to dates, not to {}", t.name()),
            );
        }
        match field.phone_digits {
            Some(_) if t != FieldType::Phone => {
                problem(
                    "phone_digits",
                    format!("applies only to phone fields, not to {}", t.name()),
                );
            }
            Some(d) if !(3..=20).contains(&d) => {
                problem("phone_digits", format!("{d} is not between 3 and 20"))
            }
            _ => {}
        }
    }
    by_name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_round_trips_through_json() {
        let schema = Schema::with_events(
            [
                Field::new("负责人", FieldType::Member),
                Field::new("阶段", FieldType::SingleChoice)
                    .options(["线索获取", "商务谈判"])
                    .required(),
            ],
            Some("负责人"),
            [EventDef::new("lead_created")],
        )
        .unwrap();
        let again = Schema::from_json(&schema.to_json()).unwrap();
        assert_eq!(schema, again);
        assert_eq!(again.owner_field(), Some(FieldId(0)));
    }
}
