//! What a condition is evaluated against: a customer, an optional event, and now.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;

use crate::schema::Record;
use crate::value::Value;

static ABSENT: Value = Value::Absent;

/// A customer event: its kind, id, time and attributes.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::{Event, Value};
/// let at = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap();
/// let e = Event::new("lead_created", "evt-1", at).attribute("source", "展会");
/// assert_eq!(e.get("source"), &Value::from("展会"));
/// assert!(e.get("campaign").is_absent());
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
    pub attributes: IndexMap<String, Value>,
    /// For profile updates: the customer fields the event changes, with their new values.
    /// The record passed with the event is the customer before the change; the engine
    /// applies these, and the values before stay readable through `old` operands.
    pub changes: IndexMap<String, Value>,
}

impl Event {
    /// An event with no attributes.
    pub fn new(kind: impl Into<String>, id: impl Into<String>, time: DateTime<Utc>) -> Event {
        Event {
            kind: kind.into(),
            id: id.into(),
            time,
            attributes: IndexMap::new(),
            changes: IndexMap::new(),
        }
    }

    /// Adds a field change (a profile update: the field's new value).
    pub fn change(mut self, field: impl Into<String>, value: impl Into<Value>) -> Event {
        self.changes.insert(field.into(), value.into());
        self
    }

    /// Adds an attribute.
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<Value>) -> Event {
        self.attributes.insert(name.into(), value.into());
        self
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
/// let facts = Facts::new(&record, Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap());
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
