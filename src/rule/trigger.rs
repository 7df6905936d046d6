//! What makes a rule run: an event, a field change, a schedule, or a time.

use chrono::Weekday;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::condition::Condition;
use crate::duration::Duration;
use crate::time_of_day::TimeOfDay;

/// How often a schedule repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Every {
    /// Every day.
    Day,
    /// Every week, on the `days` given.
    Week,
    /// Every month, on `day_of_month`.
    Month,
}

/// What makes a rule run. JSON: an object with `"type"` naming the variant.
///
/// ```
/// use crm_rules::Trigger;
/// let t: Trigger = serde_json::from_str(
///     r#"{"type": "event", "event": "lead_created", "where": {"event": "source", "op": "eq", "value": "展会"}}"#,
/// )?;
/// assert!(matches!(t, Trigger::Event { ref event, .. } if event == "lead_created"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Trigger {
    /// An event of a kind arrives (`lead_created`, `email_opened`, `order_placed`), and its
    /// attributes satisfy `where` (`source = 展会`).
    Event {
        /// The event kind.
        event: String,
        /// A condition on the event (its attributes, and the customer).
        #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
        filter: Option<Condition>,
    },
    /// A field changes, optionally from a given value and/or to a given value
    /// ("跟进阶段 changes to 商务谈判").
    FieldChanged {
        /// The field.
        field: String,
        /// The value before the change, if it matters (`null`: it was empty).
        #[serde(
            default,
            deserialize_with = "super::present",
            skip_serializing_if = "Option::is_none"
        )]
        from: Option<serde_json::Value>,
        /// The value after the change, if it matters (`null`: it was cleared).
        #[serde(
            default,
            deserialize_with = "super::present",
            skip_serializing_if = "Option::is_none"
        )]
        to: Option<serde_json::Value>,
    },
    /// A calendar schedule at a local time: every day, every week on some days, or every
    /// month on a day (a day past a short month's end falls on its last day).
    Schedule {
        /// How often.
        every: Every,
        /// For weekly schedules: the days (`["Mon", "Thu"]`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        days: Vec<Weekday>,
        /// For monthly schedules: the day of the month, 1–31.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        day_of_month: Option<u8>,
        /// The local time.
        at: TimeOfDay,
        /// The IANA time zone (`Asia/Shanghai`); the rule set's when not given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_zone: Option<String>,
    },
    /// A time relative to a date field: `after` or `before` it by a duration
    /// ("3 days after 创建时间", "60 days before 合同到期日"), optionally moved to a local
    /// time of day on that date ("the 7th day after the first order, at 10:00").
    Relative {
        /// The date or date-time field.
        field: String,
        /// How long after the field's time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<Duration>,
        /// How long before the field's time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<Duration>,
        /// The local time of day to fire at, on the day reached.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<TimeOfDay>,
        /// The IANA time zone of `at` and of date fields; the rule set's when not given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_zone: Option<String>,
    },
    /// No event of the given kinds, or no change of a field, for a duration
    /// ("no login for 30 days"; "no follow-up for 7 days").
    Inactivity {
        /// The event kinds whose absence counts (any of them resets the clock).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        events: Vec<String>,
        /// A field whose lack of change counts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        /// How long.
        #[serde(rename = "for")]
        duration: Duration,
    },
    /// A customer stays in a stage longer than that stage's limit
    /// ("stuck in 商务谈判 over 15 days").
    StageTime {
        /// The single-choice stage field.
        field: String,
        /// The limit per stage; stages not listed have none.
        #[serde(deserialize_with = "super::unique_keys")]
        limits: IndexMap<String, Duration>,
    },
}

impl Trigger {
    /// An event trigger with no filter.
    pub fn event(kind: impl Into<String>) -> Trigger {
        Trigger::Event {
            event: kind.into(),
            filter: None,
        }
    }

    /// A field-changed trigger with optional from and to values.
    pub fn field_changed(
        field: impl Into<String>,
        from: Option<serde_json::Value>,
        to: Option<serde_json::Value>,
    ) -> Trigger {
        Trigger::FieldChanged {
            field: field.into(),
            from,
            to,
        }
    }

    /// A time `d` after a date field.
    pub fn after(field: impl Into<String>, d: Duration) -> Trigger {
        Trigger::Relative {
            field: field.into(),
            after: Some(d),
            before: None,
            at: None,
            time_zone: None,
        }
    }

    /// A time `d` before a date field.
    pub fn before(field: impl Into<String>, d: Duration) -> Trigger {
        Trigger::Relative {
            field: field.into(),
            after: None,
            before: Some(d),
            at: None,
            time_zone: None,
        }
    }

    /// A daily schedule at a local time.
    pub fn daily(at: TimeOfDay) -> Trigger {
        Trigger::Schedule {
            every: Every::Day,
            days: Vec::new(),
            day_of_month: None,
            at,
            time_zone: None,
        }
    }

    /// A weekly schedule on some days at a local time.
    pub fn weekly(days: impl IntoIterator<Item = Weekday>, at: TimeOfDay) -> Trigger {
        Trigger::Schedule {
            every: Every::Week,
            days: days.into_iter().collect(),
            day_of_month: None,
            at,
            time_zone: None,
        }
    }

    /// A monthly schedule on a day of the month at a local time.
    pub fn monthly(day_of_month: u8, at: TimeOfDay) -> Trigger {
        Trigger::Schedule {
            every: Every::Month,
            days: Vec::new(),
            day_of_month: Some(day_of_month),
            at,
            time_zone: None,
        }
    }

    /// The name of the trigger kind, as summaries use it (`"event"`, `"schedule"`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Trigger::Event { .. } => "event",
            Trigger::FieldChanged { .. } => "field_changed",
            Trigger::Schedule { .. } => "schedule",
            Trigger::Relative { .. } => "relative",
            Trigger::Inactivity { .. } => "inactivity",
            Trigger::StageTime { .. } => "stage_time",
        }
    }

    /// Whether the trigger fires on time rather than on events.
    pub fn is_time_based(&self) -> bool {
        !matches!(self, Trigger::Event { .. } | Trigger::FieldChanged { .. })
    }
}
