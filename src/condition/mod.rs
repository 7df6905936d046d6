//! Compiled conditions: fields read by position, literals typed once, evaluation that
//! cannot fail.

mod compile;
pub(crate) mod eval;
mod facts;
pub(crate) mod flat;

use chrono::{DateTime, Utc};

pub(crate) use compile::EventScope;
pub use facts::{Event, Facts};

use crate::compile::Compiler;
use crate::duration::Duration;
use crate::error::BuildError;
use crate::limits::Limits;
use crate::rule::Condition;
use crate::schema::{FieldId, Schema};
use crate::value::{Number, Value};

/// Where a comparison reads its value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Src {
    /// A field of the customer as it is now.
    Field(FieldId),
    /// A field of the customer before the event.
    Old(FieldId),
    /// An attribute of the event.
    Event(Box<str>),
}

/// A compiled test on one value; literals are typed for the field they compare with.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Test {
    Eq(Value),
    Ne(Value),
    Lt(Value),
    Lte(Value),
    Gt(Value),
    Gte(Value),
    In(Box<[Value]>),
    NotIn(Box<[Value]>),
    Between(Box<(Value, Value)>),
    // Specialized forms of the above for the common literal kinds, chosen when compiling:
    // text equality by `==` (length first), numbers without the generic value dispatch.
    EqText(Keyed),
    NeText(Keyed),
    InText(Box<[Keyed]>),
    NotInText(Box<[Keyed]>),
    EqNum(Number),
    NeNum(Number),
    LtNum(Number),
    LteNum(Number),
    GtNum(Number),
    GteNum(Number),
    /// The tag and its [bit](crate::keys::tag_bit).
    HasTag(String, u64),
    /// The tags and the union of their bits.
    HasAny(Box<[String]>, u64),
    /// The tags and the union of their bits.
    HasAll(Box<[String]>, u64),
    Contains(String),
    StartsWith(String),
    ContainsAny(Box<[String]>),
    Exists,
    IsEmpty,
    /// Seconds.
    OlderThan(i64),
    /// Seconds.
    WithinLast(i64),
    /// Seconds.
    DueWithin(i64),
}

/// A text literal with its [key](crate::keys::Key): a value whose key differs is not
/// equal to it, and one whose key is equal is when the key is exact (a short text),
/// both found without reading the value's text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Keyed {
    pub text: Box<str>,
    pub key: crate::keys::Key,
}

impl Keyed {
    pub fn new(text: Box<str>) -> Keyed {
        Keyed {
            key: crate::keys::Key::text(&text),
            text,
        }
    }
}

/// A compiled condition tree.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    All(Box<[Node]>),
    Any(Box<[Node]>),
    Not(Box<Node>),
    Test {
        src: Src,
        test: Test,
    },
    /// A behaviour count, read from the facts' counts at `slot`.
    Count {
        slot: u32,
        at_least: u32,
    },
}

/// A behaviour count a condition needs: events of a kind within a window, optionally
/// filtered on their attributes. The engine keeps the counters.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CountSpec {
    pub event: String,
    pub at_least: u32,
    pub within: Duration,
    pub filter: Option<Node>,
    /// Count consecutive local days with an event, ending today (`at_least` days).
    pub days: bool,
}

/// A condition compiled against a schema: every field resolved to its position, every
/// literal typed and checked. Evaluating it cannot fail.
///
/// Semantics, exactly:
/// - a missing value (absent field, absent attribute) equals nothing: `eq`, `in`,
///   ordering, `between`, `has_*`, text and time operators are false on it; `ne` and
///   `not_in` are true; `exists` is false and `is_empty` true (as for blank text and an
///   empty list);
/// - numbers compare across integers and decimals; a date compares with a date-time at the
///   start of its day in UTC;
/// - `older_than d`: the time is at or before `now - d`; `within_last d`: between `now - d`
///   and `now`; `due_within d`: between `now` and `now + d` (ends included; dates count
///   from their start in UTC);
/// - a behaviour count is false unless the engine supplies counts.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::{Condition, Facts, Field, FieldType, Schema, Value};
/// let schema = Schema::new([
///     Field::new("预算", FieldType::Number),
///     Field::new("客户状态", FieldType::SingleChoice).options(["新客户", "成交客户"]),
/// ])?;
/// let rich_new = Condition::all([
///     Condition::field("预算").gte(500_000),
///     Condition::field("客户状态").eq("新客户"),
/// ])
/// .compile(&schema)?;
/// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
/// let customer = schema.record([("预算", Value::from(600_000)), ("客户状态", Value::from("新客户"))])?;
/// assert!(rich_new.evaluate(&Facts::new(&customer, now)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledCondition {
    node: Node,
    counts: Vec<CountSpec>,
}

impl Condition {
    /// Compiles the condition against a schema with the default [`Limits`].
    ///
    /// Event attributes are not checked (there is no trigger to say which event).
    ///
    /// # Errors
    /// Every problem, each with its path from the condition's root (`all[1].value`):
    /// unknown fields, literals of the wrong type or outside a choice's options, operators
    /// that do not apply to the field's type, empty `all`/`any`, bad durations, nesting
    /// deeper than the limit.
    pub fn compile(&self, schema: &Schema) -> Result<CompiledCondition, BuildError> {
        let limits = Limits::default();
        let mut compiler = Compiler::new(schema, &limits);
        let mut counts = Vec::new();
        let node = compiler.condition(self, "", EventScope::Unchecked, &mut counts, 0);
        match node {
            Some(node) if compiler.problems.is_empty() => Ok(CompiledCondition { node, counts }),
            _ => Err(BuildError::new(compiler.problems)),
        }
    }
}

impl CompiledCondition {
    /// Whether the condition holds for the facts.
    #[inline]
    pub fn evaluate(&self, facts: &Facts<'_>) -> bool {
        eval::holds(&self.node, facts)
    }

    /// How many behaviour counts the condition reads.
    pub fn count_slots(&self) -> usize {
        self.counts.len()
    }
}

/// The instant a date or date-time value stands for (a date: its start in UTC).
pub(crate) fn instant(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::DateTime(t) => Some(*t),
        Value::Date(d) => Some(crate::value::date_start(*d)),
        _ => None,
    }
}
