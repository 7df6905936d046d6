//! The authoring form of conditions: what rule files and builders write.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::duration::Duration;

/// What a comparison reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A customer field, as it is after the event's changes (`"field": "预算"`).
    Field(String),
    /// An attribute of the triggering event (`"event": "source"`).
    Event(String),
    /// A customer field as it was before the event changed it (`"old": "跟进阶段"`).
    Old(String),
    /// A customer field as the event left it (`"new": "跟进阶段"`); the same as `Field`,
    /// written for symmetry with `old`.
    New(String),
}

impl Operand {
    /// The key the operand is written under in JSON.
    pub fn key(&self) -> &'static str {
        match self {
            Operand::Field(_) => "field",
            Operand::Event(_) => "event",
            Operand::Old(_) => "old",
            Operand::New(_) => "new",
        }
    }

    /// The field or attribute name.
    pub fn name(&self) -> &str {
        match self {
            Operand::Field(n) | Operand::Event(n) | Operand::Old(n) | Operand::New(n) => n,
        }
    }
}

/// A comparison operator, written in JSON as `"op"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    /// Equal (`=`).
    Eq,
    /// Not equal (`≠`); holds for an absent value.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// One of a list of values.
    In,
    /// None of a list of values; holds for an absent value.
    NotIn,
    /// Between two values, both included: `"value": [10000, 50000]`.
    Between,
    /// A tag or multiple-choice list holds the value.
    HasTag,
    /// The list holds at least one of the values.
    HasAny,
    /// The list holds all of the values.
    HasAll,
    /// The text contains the value.
    Contains,
    /// The text starts with the value.
    StartsWith,
    /// The text contains at least one of the keywords (`["价格高", "考虑竞品"]`).
    ContainsAny,
    /// The value is present and not empty (no value needed).
    Exists,
    /// The value is absent, blank text or an empty list (no value needed).
    IsEmpty,
    /// A date or date-time at least the duration before now (`"value": "3d"`).
    OlderThan,
    /// A date or date-time in the last duration, up to now (`"value": "7d"`).
    WithinLast,
    /// A date or date-time from now to at most the duration ahead (`"value": "3d"`).
    DueWithin,
}

impl Op {
    /// The name rule files use (`"gte"`).
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Between => "between",
            Op::HasTag => "has_tag",
            Op::HasAny => "has_any",
            Op::HasAll => "has_all",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::ContainsAny => "contains_any",
            Op::Exists => "exists",
            Op::IsEmpty => "is_empty",
            Op::OlderThan => "older_than",
            Op::WithinLast => "within_last",
            Op::DueWithin => "due_within",
        }
    }
}

/// A behaviour count: the customer had at least `at_least` events of a kind within the
/// last `within`, optionally only those whose attributes match `where`.
///
/// JSON: `{"count": "page_view", "at_least": 3, "within": "7d", "where": {...}}`.
///
/// With `days_in_a_row` it counts days, not events: `{"count": "call_failed",
/// "days_in_a_row": 3}` holds when a counted event happened on each of the last 3 local
/// calendar days, the last of them the day of `now` (in the rule set's time zone): "the
/// call failed 3 days running". Several events on one day count as that one day; a day
/// without one breaks the run. `at_least` is then the number of days and `within` that
/// many days.
#[derive(Clone, Debug, PartialEq)]
pub struct Count {
    /// The event kind counted.
    pub event: String,
    /// The fewest events for the condition to hold (at least 1).
    pub at_least: u32,
    /// The window, ending now.
    pub within: Duration,
    /// A condition on the counted events' attributes.
    pub filter: Option<Box<Condition>>,
    /// Count consecutive local days with an event, ending today, instead of events.
    pub days_in_a_row: bool,
}

/// A condition on a customer, its triggering event and the event's changes.
///
/// JSON forms, one key deciding which:
/// - `{"all": [c, …]}`, `{"any": [c, …]}`, `{"not": c}`;
/// - `{"field": "预算", "op": "gte", "value": 500000}`, and likewise with `"event"`,
///   `"old"` or `"new"` in place of `"field"` ([`Operand`]; operators in [`Op`]);
/// - `{"count": "page_view", "at_least": 3, "within": "7d"}` ([`Count`]).
///
/// Unknown keys, and keys of two forms at once, are errors.
///
/// ```
/// use crm_rules::{Condition, Duration};
/// let c = Condition::all([
///     Condition::field("客户状态").eq("新客户"),
///     Condition::field("最近跟进时间").older_than(Duration::days(3).ok_or("range")?),
/// ]);
/// let json = serde_json::to_string(&c)?;
/// assert_eq!(json, r#"{"all":[{"field":"客户状态","op":"eq","value":"新客户"},{"field":"最近跟进时间","op":"older_than","value":"3d"}]}"#);
/// assert_eq!(serde_json::from_str::<Condition>(&json)?, c);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// Every condition holds (at least one must be given).
    All(Vec<Condition>),
    /// At least one condition holds (at least one must be given).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// A comparison of an operand with a literal.
    Compare {
        /// What is read.
        operand: Operand,
        /// The operator.
        op: Op,
        /// The literal, as JSON; checked against the operand's type when compiled.
        /// `None` for operators that take none (`exists`, `is_empty`).
        value: Option<serde_json::Value>,
    },
    /// A behaviour count.
    Count(Count),
}

/// Starts a comparison on an operand; see [`Condition::field`].
#[derive(Clone, Debug)]
pub struct CompareBuilder {
    operand: Operand,
}

impl CompareBuilder {
    fn with(self, op: Op, value: Option<serde_json::Value>) -> Condition {
        Condition::Compare {
            operand: self.operand,
            op,
            value,
        }
    }

    fn list<I, V>(values: I) -> Option<serde_json::Value>
    where
        I: IntoIterator<Item = V>,
        V: Into<serde_json::Value>,
    {
        Some(serde_json::Value::Array(
            values.into_iter().map(Into::into).collect(),
        ))
    }

    /// Equal to the value.
    pub fn eq(self, value: impl Into<serde_json::Value>) -> Condition {
        self.with(Op::Eq, Some(value.into()))
    }
    /// Not equal to the value.
    pub fn ne(self, value: impl Into<serde_json::Value>) -> Condition {
        self.with(Op::Ne, Some(value.into()))
    }
    /// Less than the value.
    pub fn lt(self, value: impl Into<serde_json::Value>) -> Condition {
        self.with(Op::Lt, Some(value.into()))
    }
    /// Less than or equal to the value.
    pub fn lte(self, value: impl Into<serde_json::Value>) -> Condition {
        self.with(Op::Lte, Some(value.into()))
    }
    /// Greater than the value.
    pub fn gt(self, value: impl Into<serde_json::Value>) -> Condition {
        self.with(Op::Gt, Some(value.into()))
    }
    /// Greater than or equal to the value.
    pub fn gte(self, value: impl Into<serde_json::Value>) -> Condition {
        self.with(Op::Gte, Some(value.into()))
    }
    /// One of the values.
    pub fn is_in<I: IntoIterator<Item = V>, V: Into<serde_json::Value>>(
        self,
        values: I,
    ) -> Condition {
        self.with(Op::In, Self::list(values))
    }
    /// None of the values.
    pub fn not_in<I: IntoIterator<Item = V>, V: Into<serde_json::Value>>(
        self,
        values: I,
    ) -> Condition {
        self.with(Op::NotIn, Self::list(values))
    }
    /// Between the two values, both included.
    pub fn between(
        self,
        low: impl Into<serde_json::Value>,
        high: impl Into<serde_json::Value>,
    ) -> Condition {
        self.with(
            Op::Between,
            Some(serde_json::Value::Array(vec![low.into(), high.into()])),
        )
    }
    /// The list holds the tag.
    pub fn has_tag(self, tag: impl Into<String>) -> Condition {
        self.with(Op::HasTag, Some(serde_json::Value::String(tag.into())))
    }
    /// The list holds at least one of the tags.
    pub fn has_any<I: IntoIterator<Item = V>, V: Into<serde_json::Value>>(
        self,
        tags: I,
    ) -> Condition {
        self.with(Op::HasAny, Self::list(tags))
    }
    /// The list holds all of the tags.
    pub fn has_all<I: IntoIterator<Item = V>, V: Into<serde_json::Value>>(
        self,
        tags: I,
    ) -> Condition {
        self.with(Op::HasAll, Self::list(tags))
    }
    /// The text contains the value.
    pub fn contains(self, text: impl Into<String>) -> Condition {
        self.with(Op::Contains, Some(serde_json::Value::String(text.into())))
    }
    /// The text starts with the value.
    pub fn starts_with(self, text: impl Into<String>) -> Condition {
        self.with(Op::StartsWith, Some(serde_json::Value::String(text.into())))
    }
    /// The text contains at least one of the keywords.
    pub fn contains_any<I: IntoIterator<Item = V>, V: Into<serde_json::Value>>(
        self,
        keywords: I,
    ) -> Condition {
        self.with(Op::ContainsAny, Self::list(keywords))
    }
    /// The value is present and not empty.
    pub fn exists(self) -> Condition {
        self.with(Op::Exists, None)
    }
    /// The value is absent or empty.
    pub fn is_empty(self) -> Condition {
        self.with(Op::IsEmpty, None)
    }
    /// The date is at least `d` before now.
    pub fn older_than(self, d: Duration) -> Condition {
        self.with(
            Op::OlderThan,
            Some(serde_json::Value::String(d.to_string())),
        )
    }
    /// The date is within the last `d`, up to now.
    pub fn within_last(self, d: Duration) -> Condition {
        self.with(
            Op::WithinLast,
            Some(serde_json::Value::String(d.to_string())),
        )
    }
    /// The date is from now to at most `d` ahead.
    pub fn due_within(self, d: Duration) -> Condition {
        self.with(
            Op::DueWithin,
            Some(serde_json::Value::String(d.to_string())),
        )
    }
}

impl Condition {
    /// Every condition holds.
    pub fn all(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::All(conditions.into_iter().collect())
    }

    /// At least one condition holds.
    pub fn any(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::Any(conditions.into_iter().collect())
    }

    /// The condition does not hold.
    pub fn negate(condition: Condition) -> Condition {
        Condition::Not(Box::new(condition))
    }

    /// A comparison on a customer field.
    pub fn field(name: impl Into<String>) -> CompareBuilder {
        CompareBuilder {
            operand: Operand::Field(name.into()),
        }
    }

    /// A comparison on an attribute of the triggering event.
    pub fn event(name: impl Into<String>) -> CompareBuilder {
        CompareBuilder {
            operand: Operand::Event(name.into()),
        }
    }

    /// A comparison on a field's value before the event changed it.
    pub fn old_value(name: impl Into<String>) -> CompareBuilder {
        CompareBuilder {
            operand: Operand::Old(name.into()),
        }
    }

    /// A comparison on a field's value after the event changed it.
    pub fn new_value(name: impl Into<String>) -> CompareBuilder {
        CompareBuilder {
            operand: Operand::New(name.into()),
        }
    }

    /// At least `at_least` events of `kind` within the last `within`.
    pub fn count(kind: impl Into<String>, at_least: u32, within: Duration) -> Condition {
        Condition::Count(Count {
            event: kind.into(),
            at_least,
            within,
            filter: None,
            days_in_a_row: false,
        })
    }

    /// An event of `kind` on each of the last `days` local calendar days, today included
    /// ("the call failed 3 days running").
    ///
    /// ```
    /// use crm_rules::Condition;
    /// let c = Condition::days_in_a_row("call_failed", 3);
    /// assert_eq!(serde_json::to_string(&c)?, r#"{"count":"call_failed","days_in_a_row":3}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn days_in_a_row(kind: impl Into<String>, days: u32) -> Condition {
        Condition::Count(Count {
            event: kind.into(),
            at_least: days,
            within: Duration::days(i64::from(days)).unwrap_or_default(),
            filter: None,
            days_in_a_row: true,
        })
    }
}

/// The flat JSON form every condition is read through, so that unknown keys are errors
/// with a line and column, and the deciding key picks the variant.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    all: Option<Vec<Condition>>,
    any: Option<Vec<Condition>>,
    not: Option<Box<Condition>>,
    field: Option<String>,
    event: Option<String>,
    old: Option<String>,
    new: Option<String>,
    op: Option<Op>,
    #[serde(default, deserialize_with = "super::present")]
    value: Option<serde_json::Value>,
    count: Option<String>,
    at_least: Option<u32>,
    within: Option<Duration>,
    days_in_a_row: Option<u32>,
    #[serde(rename = "where")]
    filter: Option<Box<Condition>>,
}

const FORMS: &str = "all, any, not, field, event, old, new or count";

impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> Result<Condition, String> {
        let mut forms = Vec::new();
        for (present, key) in [
            (raw.all.is_some(), "all"),
            (raw.any.is_some(), "any"),
            (raw.not.is_some(), "not"),
            (raw.field.is_some(), "field"),
            (raw.event.is_some(), "event"),
            (raw.old.is_some(), "old"),
            (raw.new.is_some(), "new"),
            (raw.count.is_some(), "count"),
        ] {
            if present {
                forms.push(key);
            }
        }
        let [form] = forms[..] else {
            return Err(if forms.is_empty() {
                format!("a condition needs one of the keys {FORMS}")
            } else {
                format!(
                    "a condition takes only one of {FORMS}; found {}",
                    forms.join(" and ")
                )
            });
        };
        let compare_keys = raw.op.is_some() || raw.value.is_some();
        let count_keys = raw.at_least.is_some()
            || raw.within.is_some()
            || raw.filter.is_some()
            || raw.days_in_a_row.is_some();
        let refuse = |keys: &str| {
            Err(format!(
                "`{keys}` do not belong in a condition with `{form}`"
            ))
        };
        match form {
            "all" | "any" | "not" if compare_keys || count_keys => {
                refuse("op, value, at_least, within, days_in_a_row and where")
            }
            "all" => Ok(Condition::All(raw.all.unwrap_or_default())),
            "any" => Ok(Condition::Any(raw.any.unwrap_or_default())),
            "not" => raw.not.map(Condition::Not).ok_or_default(),
            "count" => {
                if compare_keys {
                    return refuse("op and value");
                }
                if let Some(days) = raw.days_in_a_row {
                    if raw.at_least.is_some() || raw.within.is_some() {
                        return Err(
                            "a count takes `days_in_a_row`, or `at_least` and `within`, not both"
                                .to_owned(),
                        );
                    }
                    return Ok(Condition::Count(Count {
                        filter: raw.filter,
                        ..match Condition::days_in_a_row(raw.count.unwrap_or_default(), days) {
                            Condition::Count(c) => c,
                            _ => return Err("a count needs `days_in_a_row`".to_owned()),
                        }
                    }));
                }
                Ok(Condition::Count(Count {
                    event: raw.count.unwrap_or_default(),
                    at_least: raw.at_least.ok_or("a count needs `at_least`")?,
                    within: raw
                        .within
                        .ok_or("a count needs `within`, a duration such as 7d")?,
                    filter: raw.filter,
                    days_in_a_row: false,
                }))
            }
            _ => {
                if count_keys {
                    return refuse("at_least, within, days_in_a_row and where");
                }
                let operand = match (raw.field, raw.event, raw.old, raw.new) {
                    (Some(n), ..) => Operand::Field(n),
                    (_, Some(n), ..) => Operand::Event(n),
                    (_, _, Some(n), _) => Operand::Old(n),
                    (.., Some(n)) => Operand::New(n),
                    _ => return Err(format!("a condition needs one of the keys {FORMS}")),
                };
                let op = raw
                    .op
                    .ok_or_else(|| format!("a comparison on `{form}` needs `op`"))?;
                Ok(Condition::Compare {
                    operand,
                    op,
                    value: raw.value,
                })
            }
        }
    }
}

trait OkOrDefault<T> {
    fn ok_or_default(self) -> Result<T, String>;
}

impl<T> OkOrDefault<T> for Option<T> {
    fn ok_or_default(self) -> Result<T, String> {
        self.ok_or_else(|| format!("a condition needs one of the keys {FORMS}"))
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Condition, D::Error> {
        let raw = RawCondition::deserialize(deserializer)?;
        Condition::try_from(raw).map_err(serde::de::Error::custom)
    }
}

/// The deepest condition nesting written out: deeper trees could not be read back
/// (JSON readers stop at 128 levels) and would exhaust the stack while being written.
const MAX_WRITE_DEPTH: usize = 60;

/// A condition at a nesting depth, so that writing refuses trees too deep to read back.
struct AtDepth<'a>(&'a Condition, usize);

/// A list of conditions at a nesting depth.
struct ListAtDepth<'a>(&'a [Condition], usize);

impl Serialize for ListAtDepth<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|c| AtDepth(c, self.1)))
    }
}

impl Serialize for AtDepth<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let AtDepth(condition, depth) = *self;
        if depth > MAX_WRITE_DEPTH {
            return Err(serde::ser::Error::custom(format!(
                "conditions are nested deeper than {MAX_WRITE_DEPTH} levels"
            )));
        }
        let mut map = serializer.serialize_map(None)?;
        match condition {
            Condition::All(items) => map.serialize_entry("all", &ListAtDepth(items, depth + 1))?,
            Condition::Any(items) => map.serialize_entry("any", &ListAtDepth(items, depth + 1))?,
            Condition::Not(inner) => map.serialize_entry("not", &AtDepth(inner, depth + 1))?,
            Condition::Compare { operand, op, value } => {
                map.serialize_entry(operand.key(), operand.name())?;
                map.serialize_entry("op", op)?;
                if let Some(value) = value {
                    map.serialize_entry("value", value)?;
                }
            }
            Condition::Count(count) => {
                map.serialize_entry("count", &count.event)?;
                if count.days_in_a_row {
                    map.serialize_entry("days_in_a_row", &count.at_least)?;
                } else {
                    map.serialize_entry("at_least", &count.at_least)?;
                    map.serialize_entry("within", &count.within)?;
                }
                if let Some(filter) = &count.filter {
                    map.serialize_entry("where", &AtDepth(filter, depth + 1))?;
                }
            }
        }
        map.end()
    }
}

impl Serialize for Condition {
    /// Writes the JSON form; fails (rather than exhausting the stack) on conditions nested
    /// deeper than 60 levels, which no reader would accept back.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        AtDepth(self, 0).serialize(serializer)
    }
}
