//! crm-rules
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![deny(rustdoc::broken_intra_doc_links)]

mod duration;
mod error;
mod limits;
mod schema;
mod time_of_day;
mod value;

pub use duration::{Duration, ParseDurationError};
pub use error::{BuildError, FieldError, LoadError, Problem, RuleRef, ValidationError};
pub use limits::Limits;
pub use schema::{
    mask, EventDef, Field, FieldId, FieldType, Record, Schema, ValueKind, DEFAULT_PHONE_DIGITS,
};
pub use time_of_day::{ParseTimeOfDayError, TimeOfDay};
pub use value::{Number, Value};
mod rule;
pub use rule::{
    Action, Assignment, Channel, CompareBuilder, Condition, Count, Every, Expiry, FireMode,
    Notification, Op, Operand, Recipient, Rule, RuleSet, Step, Task, TaskPriority, Trigger,
    Variant, Window,
};
mod compile;
mod condition;
pub use condition::{CompiledCondition, Event, Facts};
mod template;
pub use template::Template;
mod ruleset;
pub use ruleset::{CompiledRules, Summary};
