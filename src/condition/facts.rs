//! What a condition is evaluated against: a customer, an optional event, and now.

use chrono::{DateTime, Utc};

use crate::schema::Record;
use crate::value::Value;
use crate::value_map::ValueMap;

static ABSENT: Value = Value::Absent;

/// A customer event: its kind, id, time and attributes.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::{Event, Value};
/// let at = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
/// let e = Event::new("lead_created", "evt-1", at).attribute("source", "展会");
/// assert_eq!(e.get("source"), &Value::from("展会"));
/// assert!(e.get("campaign").is_absent());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The kind (`lead_created`, `email_opened`).
    pub kind: String,
    /// The host's id of the event, unique per customer; idempotency keys derive from it.
    pub id: String,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// Its attributes, in order.
    pub attributes: ValueMap,
    /// For profile updates: the customer fields the event changes, with their new values.
    /// The record passed with the event is the customer before the change; the engine
    /// applies these, and the values before stay readable through `old` operands.
    pub changes: ValueMap,
}

impl Event {
    /// An event with no attributes.
    pub fn new(kind: impl Into<String>, id: impl Into<String>, time: DateTime<Utc>) -> Event {
        Event {
            kind: kind.into(),
            id: id.into(),
            time,
            attributes: ValueMap::new(),
            changes: ValueMap::new(),
        }
    }

    /// Adds a field change (a profile update: the field's new value).
    pub fn change(mut self, field: impl Into<String>, value: impl Into<Value>) -> Event {
        self.changes.insert(field, value);
        self
    }

    /// Adds an attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<Value>) -> Event {
        self.attributes.insert(name, value);
        self
    }

    /// Reads an event from its JSON form, the one the `replay` example reads:
    /// `{"kind": "lead_created", "id": "e1", "time": "2024-05-20T09:00:00+08:00",
    /// "attributes": {...}, "changes": {...}}` (`attributes` and `changes` optional).
    ///
    /// Attributes of an event kind the schema declares are typed by their definitions (a
    /// declared date-time attribute is read as RFC 3339); others are read as JSON gives
    /// them. Changes are typed by their fields.
    ///
    /// ```
    /// use crm_rules::{Event, Field, FieldType, Schema, Value};
    /// let schema = Schema::new([Field::new("客户状态", FieldType::Text)])?;
    /// let e = Event::from_json(&serde_json::json!({
    ///     "kind": "profile_updated", "id": "e7", "time": "2024-05-20T09:00:00+08:00",
    ///     "attributes": {"by": "li"}, "changes": {"客户状态": "已联系"}
    /// }), &schema)?;
    /// assert_eq!(e.changes["客户状态"], Value::from("已联系"));
    /// assert_eq!(e.time.to_rfc3339(), "2024-05-20T01:00:00+00:00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Every problem at once: a missing or mistyped `kind`, `id` or `time`, unknown keys,
    /// attributes or changes of the wrong type, changes to unknown fields.
    pub fn from_json(
        json: &serde_json::Value,
        schema: &crate::Schema,
    ) -> Result<Event, crate::ValidationError> {
        use crate::error::FieldError;
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                value: String::new(),
                message,
            })
        };
        let Some(object) = json.as_object() else {
            fail(
                "",
                format!(
                    "expected an event object, found {}",
                    crate::schema::describe_json(json)
                ),
            );
            return Err(crate::ValidationError::new(errors));
        };
        for key in object.keys() {
            if !["kind", "id", "time", "attributes", "changes"].contains(&key.as_str()) {
                fail(
                    key,
                    "unknown key (expected kind, id, time, attributes, changes)".into(),
                );
            }
        }
        let text = |key: &str| {
            object
                .get(key)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let kind = text("kind").map(str::to_owned);
        if kind.is_none() {
            fail("kind", "expected the event kind, a non-empty text".into());
        }
        let id = text("id").map(str::to_owned);
        if id.is_none() {
            fail("id", "expected the event id, a non-empty text".into());
        }
        let time = text("time").and_then(crate::schema::parse_date_time);
        if time.is_none() {
            fail(
                "time",
                "expected an RFC 3339 date-time such as 2024-05-20T09:00:00+08:00".into(),
            );
        }
        let declared = kind.as_deref().and_then(|k| schema.event(k));
        let mut attributes = ValueMap::new();
        match object.get("attributes") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(attrs)) => {
                for (name, v) in attrs {
                    let def = declared.and_then(|d| d.attributes.iter().find(|a| &a.name == name));
                    let read = match def {
                        Some(def) => crate::schema::parse_kind(def.field_type.kind(), v),
                        None => Value::from_json_untyped(v).ok_or_else(|| {
                            format!(
                                "expected a text, number, boolean or list of texts, found {}",
                                crate::schema::describe_json(v)
                            )
                        }),
                    };
                    match read {
                        Ok(v) => {
                            attributes.insert(name.clone(), v);
                        }
                        Err(message) => fail(&format!("attributes.{name}"), message),
                    }
                }
            }
            Some(other) => fail(
                "attributes",
                format!(
                    "expected an object, found {}",
                    crate::schema::describe_json(other)
                ),
            ),
        }
        let mut changes = ValueMap::new();
        match object.get("changes") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(fields)) => {
                for (name, v) in fields {
                    let Some(def) = schema.field_id(name).and_then(|id| schema.field(id)) else {
                        fail(&format!("changes.{name}"), "unknown field".into());
                        continue;
                    };
                    let read = if def.sensitive {
                        crate::schema::parse_kind_masked(def.field_type.kind(), v)
                    } else {
                        crate::schema::parse_kind(def.field_type.kind(), v)
                    };
                    match read {
                        Ok(v) => {
                            changes.insert(name.clone(), v);
                        }
                        Err(message) => fail(&format!("changes.{name}"), message),
                    }
                }
            }
            Some(other) => fail(
                "changes",
                format!(
                    "expected an object, found {}",
                    crate::schema::describe_json(other)
                ),
            ),
        }
        match (kind, id, time) {
            (Some(kind), Some(id), Some(time)) if errors.is_empty() => Ok(Event {
                kind,
                id,
                time,
                attributes,
                changes,
            }),
            _ => Err(crate::ValidationError::new(errors)),
        }
    }

    /// An attribute's value; absent when the event does not carry it.
    pub fn get(&self, name: &str) -> &Value {
        self.attributes.get(name).unwrap_or(&ABSENT)
    }
}

/// What a compiled condition reads: the customer as it is now, optionally as it was
/// before the event (for `old` operands), the event (for `event` operands), and `now`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::{Facts, Field, FieldType, Schema};
/// let schema = Schema::new([Field::new("预算", FieldType::Number)])?;
/// let record = schema.record([("预算", 600_000)])?;
/// let facts = Facts::new(&record, Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?);
/// assert!(facts.event.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// The customer, after the event's changes.
    pub record: &'a Record,
    /// The customer before the event's changes; `old` operands read the current record
    /// when not given.
    pub previous: Option<&'a Record>,
    /// The triggering event; `event` operands read absent when not given.
    pub event: Option<&'a Event>,
    /// The current time.
    pub now: DateTime<Utc>,
    /// Behaviour counts, by the count slot the compiler assigned; 0 when missing.
    pub(crate) counts: &'a [u32],
}

impl<'a> Facts<'a> {
    /// Facts about a customer at `now`, with no event.
    pub fn new(record: &'a Record, now: DateTime<Utc>) -> Facts<'a> {
        Facts {
            record,
            previous: None,
            event: None,
            now,
            counts: &[],
        }
    }

    /// Adds the triggering event.
    pub fn with_event(mut self, event: &'a Event) -> Facts<'a> {
        self.event = Some(event);
        self
    }

    /// Adds the customer as it was before the event.
    pub fn with_previous(mut self, previous: &'a Record) -> Facts<'a> {
        self.previous = Some(previous);
        self
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_event_fits_in_80_bytes() {
        // Hosts stream events through the engine: their size is its memory traffic.
        assert!(std::mem::size_of::<super::Event>() <= 80);
    }
}
