//! Compiled triggers.

use chrono::Weekday;
use chrono_tz::Tz;

use crate::compile::{join, Compiler};
use crate::condition::{CountSpec, EventScope, Node};
use crate::duration::Duration;
use crate::rule::{Every, Trigger};
use crate::schema::{FieldId, FieldType, ValueKind};
use crate::time_of_day::TimeOfDay;
use crate::value::Value;

/// A trigger with fields resolved, literals typed and time zones parsed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CompiledTrigger {
    Event {
        kind: String,
        filter: Option<Node>,
    },
    FieldChanged {
        field: FieldId,
        from: Option<Value>,
        to: Option<Value>,
    },
    Schedule {
        every: Every,
        days: Vec<Weekday>,
        day_of_month: Option<u8>,
        at: TimeOfDay,
        time_zone: Tz,
    },
    Relative {
        field: FieldId,
        /// Seconds after the field's time (negative: before).
        offset: i64,
        at: Option<TimeOfDay>,
        time_zone: Tz,
    },
    Inactivity {
        events: Vec<String>,
        field: Option<FieldId>,
        duration: Duration,
    },
    StageTime {
        field: FieldId,
        limits: Vec<(String, Duration)>,
    },
}

impl<'a> Compiler<'a> {
    /// A time zone by IANA name, or `default` when none is given.
    pub(crate) fn time_zone(&mut self, name: Option<&String>, default: Tz, path: &str) -> Tz {
        match name {
            None => default,
            Some(n) => n.parse::<Tz>().unwrap_or_else(|_| {
                self.problem(
                    path,
                    format!(
                        "unknown time zone {n:?} (expected an IANA name such as Asia/Shanghai)"
                    ),
                );
                default
            }),
        }
    }

    /// An event kind: named, and declared when the schema declares events.
    pub(crate) fn event_kind(&mut self, kind: &str, path: &str) {
        self.name(kind, path, "event kind");
        let schema = self.schema;
        if !schema.events().is_empty() && schema.event(kind).is_none() {
            let kinds: Vec<String> = schema.events().iter().map(|e| e.kind.clone()).collect();
            let hint = crate::schema::nearest_option(&kinds, kind)
                .map(|k| format!("; did you mean {k:?}?"))
                .unwrap_or_default();
            self.problem(path, format!("unknown event kind {kind:?}{hint}"));
        }
    }

    /// The event attributes the rule's conditions may read.
    pub(crate) fn event_scope(&self, trigger: &Trigger) -> EventScope<'a> {
        match trigger {
            Trigger::Event { event, .. } => EventScope::for_kind(self, event),
            Trigger::FieldChanged { .. } => EventScope::Unchecked,
            _ => EventScope::NoEvent("the rule is triggered by time, not by an event"),
        }
    }

    pub(crate) fn trigger(
        &mut self,
        t: &Trigger,
        path: &str,
        tz: Tz,
        counts: &mut Vec<CountSpec>,
    ) -> Option<CompiledTrigger> {
        match t {
            Trigger::Event { event, filter } => {
                self.event_kind(event, &join(path, "event"));
                let scope = self.event_scope(t);
                let filter = match filter {
                    Some(f) => Some(self.condition(f, &join(path, "where"), scope, counts, 0)?),
                    None => None,
                };
                Some(CompiledTrigger::Event {
                    kind: event.clone(),
                    filter,
                })
            }
            Trigger::FieldChanged { field, from, to } => {
                let (id, def) = self.field(field, &join(path, "field"))?;
                let literal = |c: &mut Self, v: &Option<serde_json::Value>, key: &str| match v {
                    None => Some(None),
                    Some(serde_json::Value::Null) => Some(Some(Value::Absent)),
                    Some(json) => c
                        .literal(Some(def), Some(json), &join(path, key), false)
                        .map(Some),
                };
                let from = literal(self, from, "from");
                let to = literal(self, to, "to");
                let (from, to) = (from?, to?);
                if from.is_some() && from == to {
                    self.problem(
                        &join(path, "to"),
                        "`from` and `to` are the same value, so the trigger can never fire",
                    );
                }
                Some(CompiledTrigger::FieldChanged {
                    field: id,
                    from,
                    to,
                })
            }
            Trigger::Schedule {
                every,
                days,
                day_of_month,
                at,
                time_zone,
            } => {
                let time_zone = self.time_zone(time_zone.as_ref(), tz, &join(path, "time_zone"));
                match every {
                    Every::Week if days.is_empty() => {
                        self.problem(&join(path, "days"), "a weekly schedule needs days")
                    }
                    Every::Day | Every::Month if !days.is_empty() => {
                        self.problem(&join(path, "days"), "days apply only to weekly schedules");
                    }
                    _ => {}
                }
                match (every, day_of_month) {
                    (Every::Month, None) => self.problem(
                        &join(path, "day_of_month"),
                        "a monthly schedule needs day_of_month",
                    ),
                    (Every::Month, Some(d)) if !(1..=31).contains(d) => {
                        self.problem(
                            &join(path, "day_of_month"),
                            format!("{d} is not a day of the month (1-31)"),
                        );
                    }
                    (Every::Day | Every::Week, Some(_)) => {
                        self.problem(
                            &join(path, "day_of_month"),
                            "day_of_month applies only to monthly schedules",
                        );
                    }
                    _ => {}
                }
                self.no_duplicates(days, &join(path, "days"));
                Some(CompiledTrigger::Schedule {
                    every: *every,
                    days: days.clone(),
                    day_of_month: *day_of_month,
                    at: *at,
                    time_zone,
                })
            }
            Trigger::Relative {
                field,
                after,
                before,
                at,
                time_zone,
            } => {
                let time_zone = self.time_zone(time_zone.as_ref(), tz, &join(path, "time_zone"));
                let (id, def) = self.field(field, &join(path, "field"))?;
                if !matches!(def.field_type.kind(), ValueKind::Date | ValueKind::DateTime) {
                    self.problem(
                        &join(path, "field"),
                        format!("{field:?} is not a date or date-time field"),
                    );
                }
                let offset = match (after, before) {
                    (Some(d), None) => d.as_seconds(),
                    (None, Some(d)) => -d.as_seconds(),
                    _ => {
                        self.problem(
                            path,
                            "a relative trigger needs exactly one of `after` and `before`",
                        );
                        return None;
                    }
                };
                Some(CompiledTrigger::Relative {
                    field: id,
                    offset,
                    at: *at,
                    time_zone,
                })
            }
            Trigger::Inactivity {
                events,
                field,
                duration,
            } => {
                if events.is_empty() && field.is_none() {
                    self.problem(
                        path,
                        "an inactivity trigger needs `events`, `field` or both",
                    );
                }
                for (i, e) in events.iter().enumerate() {
                    self.event_kind(e, &format!("{}[{i}]", join(path, "events")));
                }
                let field = match field {
                    Some(f) => Some(self.field(f, &join(path, "field"))?.0),
                    None => None,
                };
                if duration.as_seconds() == 0 {
                    self.problem(&join(path, "for"), "the duration must be longer than 0");
                }
                Some(CompiledTrigger::Inactivity {
                    events: events.clone(),
                    field,
                    duration: *duration,
                })
            }
            Trigger::StageTime { field, limits } => {
                let (id, def) = self.field(field, &join(path, "field"))?;
                if def.field_type != FieldType::SingleChoice {
                    self.problem(
                        &join(path, "field"),
                        format!("{field:?} is not a single-choice stage field"),
                    );
                    return None;
                }
                if limits.is_empty() {
                    self.problem(&join(path, "limits"), "no stage has a limit");
                }
                for (stage, d) in limits {
                    let at = format!("{}.{stage}", join(path, "limits"));
                    if !def.options.contains(stage) {
                        self.problem(&at, crate::schema::not_an_option(def, stage));
                    }
                    if d.as_seconds() == 0 {
                        self.problem(&at, "the limit must be longer than 0");
                    }
                }
                Some(CompiledTrigger::StageTime {
                    field: id,
                    limits: limits.iter().map(|(s, d)| (s.clone(), *d)).collect(),
                })
            }
        }
    }
}
