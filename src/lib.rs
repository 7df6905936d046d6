//! crm-rules: the rules, scoring and decisions underneath a CRM's automation.
//!
//! A CRM backend links this crate, loads the schema of its customer fields and the rules
//! its administrators write (as JSON, usually from a UI), and checks them once against the
//! schema. The crate is pure: no I/O, no clock reading, no global state. Time comes in as
//! an argument.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use crm_rules::{CustomerState, Engine, Event, Input, ResolvedAction, RuleSet, Schema};
//!
//! let schema = Schema::from_json(r#"{
//!   "owner_field": "负责人",
//!   "fields": [
//!     {"name": "客户名称", "type": "text", "required": true},
//!     {"name": "负责人", "type": "member"},
//!     {"name": "客户状态", "type": "single_choice", "options": ["新客户", "意向客户", "成交客户"]},
//!     {"name": "跟进阶段", "type": "single_choice", "options": ["需求确认", "商务谈判"]}
//!   ]
//! }"#)?;
//! let rules = RuleSet::from_json(r#"{"rules": [{
//!   "id": "negotiation", "name": "进入商务谈判通知负责人",
//!   "trigger": {"type": "field_changed", "field": "跟进阶段", "to": "商务谈判"},
//!   "actions": [{"type": "notify", "channel": "in_app", "to": ["owner"], "cc": [{"role": "销售经理"}],
//!                "template": "{{客户名称}} 已进入商务谈判"}]
//! }]}"#)?;
//! let engine = Engine::builder(schema).rules(rules).build()?;
//!
//! let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
//! let customer = engine.schema().record([("客户名称", "华为"), ("负责人", "li"), ("跟进阶段", "需求确认")])?;
//! let update = Event::new("profile_updated", "evt-9", now).change("跟进阶段", "商务谈判");
//! let plan = engine.evaluate(&Input::new("C001", &customer, &CustomerState::new(), &update, now));
//!
//! assert_eq!(plan.changes[0].field, "跟进阶段");
//! assert!(matches!(&plan.actions[0].action,
//!     ResolvedAction::Notify { message, .. } if message == "华为 已进入商务谈判"));
//!
//! // A typo in a choice value is caught when compiling, with the rule and the path:
//! let typo = RuleSet::from_json(r#"{"rules": [{
//!   "id": "won", "name": "成交", "trigger": {"type": "event", "event": "order_placed"},
//!   "when": {"field": "客户状态", "op": "eq", "value": "成交客戶"},
//!   "actions": [{"type": "set_field", "field": "客户状态", "value": "成交客户"}]
//! }]}"#)?;
//! let err = typo.compile(engine.schema()).unwrap_err();
//! assert_eq!(
//!     err.problems()[0].to_string(),
//!     "rules[0] won \"成交\": when.value: \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layers
//!
//! Authoring types ([`Schema`] fields, [`RuleSet`], [`Rule`], [`Condition`], [`Action`],
//! [`Trigger`]) are plain serde types: what a UI writes and what Rust builders make. They
//! are checked and compiled once ([`RuleSet::compile`], [`Condition::compile`],
//! [`Template::compile`]) into forms that read customer fields by a pre-resolved position
//! ([`FieldId`]) and cannot fail when evaluated.
//!
//! # Values and schema
//!
//! A field holds a [`Value`]: text, number (exact integers or finite decimals; they compare
//! across the two), bool, date, date-time (a UTC instant; RFC 3339 in JSON), a list of
//! texts (tags, multiple choices), or nothing ([`Value::Absent`]). NaN and the infinities
//! never enter: JSON cannot express them and [`Number::decimal`] refuses them.
//!
//! A [`Schema`] lists the fields with their [`FieldType`], whether each is required or
//! sensitive, and its validation (options, min/max, lengths, phone digits, e-mail format,
//! "not before today"). [`Schema::validate`] returns every field error of a record at once.
//! Sensitive values are masked ([`mask`]: `138****5678`, `l***@example.com`) wherever the
//! crate shows a value: field errors, rendered templates.
//!
//! # Rule model
//!
//! A [`Rule`] has an id (unique in its set), a name, a description, `enabled`, a
//! [`Trigger`], an optional `scope` and `when` condition, [`Action`]s, a priority (higher
//! first; ties go to the earlier rule), an optional exclusive `group`, a [`FireMode`]
//! (every time, or only when the condition becomes true), an [`Expiry`] (valid from/until,
//! a stop condition, max fires per customer, cooldown), and `repeat_in_cascade`.
//!
//! | trigger `type` | fires |
//! |---|---|
//! | `event` | on an event of a kind, filtered by `where` on its attributes |
//! | `field_changed` | when a field changes, optionally `from` and/or `to` a value |
//! | `schedule` | every day, week (`days`) or month (`day_of_month`) `at` a local time |
//! | `relative` | `after` or `before` a date field by a duration, optionally `at` a time |
//! | `inactivity` | when no event of given kinds / no change of a field happened `for` a duration |
//! | `stage_time` | when a customer stays in a stage longer than that stage's limit |
//!
//! Actions: `set_field`, `increment`, `add_tag`, `remove_tag`, `assign_owner` (fixed, table
//! by field value, round robin, least loaded, stable hash), `create_task`, `notify`, `sync`,
//! `request_approval`, `start_sequence`, `ab_split`, `custom`. See [`Action`].
//!
//! # Conditions
//!
//! `{"all": [...]}`, `{"any": [...]}`, `{"not": ...}`, comparisons
//! `{"field" | "event" | "old" | "new": NAME, "op": OP, "value": ...}` with the operators of
//! [`Op`], and behaviour counts `{"count": KIND, "at_least": N, "within": "7d"}` or
//! `{"count": KIND, "days_in_a_row": N}`. Literals
//! are typed by the field they compare with when compiled; the exact semantics of absent
//! values, numbers and times are stated on [`CompiledCondition`].
//!
//! # Evaluation
//!
//! An [`Engine`] evaluates an [`Event`] for a customer ([`Input`]: the record before the
//! event, its [`CustomerState`], `now`, an optional [`Context`]) and returns a [`Plan`]:
//! the actions in execution order with idempotency keys, the net field changes, timers,
//! overridden writes, suppressed rules, whether a cascade hit its limit, and the new
//! state; with `explain`, a trace of every candidate rule. The exact order (priority,
//! ties, conflicts, groups, cascades) is specified on [`Engine`]. Evaluation never fails
//! and never reads the clock; an event that matches nothing gives an empty plan and
//! allocates nothing.
//!
//! # Errors
//!
//! Loading JSON gives a [`LoadError`]: syntax errors and unknown keys with line and column,
//! rule by rule so one broken rule does not hide another. Compiling gives a [`BuildError`]
//! with every [`Problem`], each naming the rule (position, id, name) and the path inside it:
//! `rules[3] new-3d "新客户3天未跟进提醒": when.all[1].value: expected a number, found "abc"`.
//! Record validation gives a [`ValidationError`] of [`FieldError`]s. Nothing panics on
//! input: sizes and nesting are bounded by [`Limits`].
//!
//! # Time
//!
//! Durations are written `30m`, `24h`, `3d`, `1w`, `1d12h` ([`Duration`]); times of day
//! `HH:MM` ([`TimeOfDay`]), in the rule's IANA time zone (the rule set's `time_zone`, UTC by
//! default). Functions that need the current time take `now`.
//!
//! The engine never sleeps and never reads the clock: the host asks it. For each customer
//! the host keeps one timer, at [`Engine::next_due`] — the earliest time a schedule,
//! relative time, inactivity or time-in-stage rule, or a sequence step, is due — and when
//! it rings calls [`Engine::tick`] ([`TickInput`]) with `now`, which fires everything due
//! exactly once, as of its due time. Late ticks still fire within a maximum lateness
//! (default 24 hours) and report older items as missed; occurrences of a schedule that
//! passed meanwhile coalesce into one fire with their count ([`Plan::occurrences`]).
//! Daylight-saving changes, month ends and leap days follow fixed rules, stated on
//! [`Engine::tick`]: a local time skipped by a change fires at the first instant after the
//! gap, one that happens twice fires once at the earlier instant, a monthly day past a
//! short month's end falls on its last day, and days count on the local calendar.
//! Notifications and tasks with an allowed window outside it carry the next allowed
//! instant ([`PlannedAction::not_before`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![deny(rustdoc::broken_intra_doc_links)]

mod bytes;
mod compile;
mod condition;
mod duration;
mod engine;
mod error;
mod keys;
mod limits;
mod name;
mod payload;
mod plan;
pub mod quality;
mod rule;
mod ruleset;
mod schedule;
mod schema;
pub mod scoring;
mod template;
mod time_of_day;
mod value;
mod value_map;

pub use condition::{CompiledCondition, Event, Facts};
pub use duration::{Duration, ParseDurationError};
pub use engine::{
    ConditionTrace, Context, CustomerState, Engine, EngineBuilder, Input, Outcome, TickInput,
    TraceEntry, Warning, DEFAULT_CASCADE_DEPTH,
};
pub use error::{BuildError, FieldError, LoadError, Problem, RuleRef, ValidationError};
pub use limits::Limits;
pub use name::Name;
pub use payload::Payload;
pub use plan::{
    ActionKey, CascadeLimit, FieldChange, Occurrence, OccurrenceStatus, Overridden, Plan,
    PlannedAction, ResolvedAction, ResolvedRecipient, ScoreUpdate, Suppressed, SyncField, Timer,
};
pub use rule::{
    Action, Assignment, Channel, CompareBuilder, Condition, Count, Every, Expiry, FireMode,
    Notification, Op, Operand, Recipient, Rule, RuleSet, Step, Task, TaskPriority, Trigger,
    Variant, Window,
};
pub use ruleset::{CompiledRules, Summary};
pub use schema::{
    mask, EventDef, Field, FieldId, FieldType, Record, Schema, ValueKind, DEFAULT_PHONE_DIGITS,
};
pub use template::Template;
pub use time_of_day::{ParseTimeOfDayError, TimeOfDay};
pub use value::{Number, Value};
pub use value_map::{Iter as ValueMapIter, ValueMap};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
