//! The trace of an evaluation: every candidate rule, its outcome, and every
//! sub-condition with the value it read.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::condition::{eval, CountSpec, Facts, Node, Src, Test};
use crate::name::Name;
use crate::plan::Overridden;
use crate::schema::Schema;
use crate::value::Value;

/// Why a candidate rule fired or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The rule fired.
    Fired,
    /// The rule is disabled.
    Disabled,
    /// The event is before the rule's `valid_from`.
    NotYetValid {
        /// The rule's start.
        valid_from: DateTime<Utc>,
    },
    /// The event is at or after the rule's `valid_until`.
    Expired {
        /// The rule's end.
        valid_until: DateTime<Utc>,
    },
    /// The trigger's `where` filter on the event did not hold.
    FilterFalse,
    /// The rule already fired in this evaluation (the cascade guard).
    AlreadyFired,
    /// The rule's stop condition held for this customer (now or earlier).
    Stopped,
    /// The rule fired its `max_fires` times for this customer.
    MaxFires {
        /// The limit.
        max_fires: u32,
    },
    /// The rule's cooldown for this customer has not passed.
    CoolingDown {
        /// When it may fire again.
        until: DateTime<Utc>,
    },
    /// The customer is outside the rule's scope.
    OutOfScope,
    /// The condition did not hold.
    ConditionFalse,
    /// `when_becomes_true`: the condition holds but already held before.
    AlreadyTrue,
    /// Another rule of the exclusive group fired first.
    Suppressed {
        /// The group.
        group: String,
        /// The rule that fired.
        by_rule: Name,
    },
    /// The field the rule's `field_changed` trigger names changed, but not from its
    /// `from` or not to its `to` value. Values as shown (masked if sensitive).
    TriggerMismatch {
        /// The field.
        field: String,
        /// Its value before the change.
        old: String,
        /// Its value after the change.
        new: String,
    },
    /// The field change that would trigger the rule came after the cascade depth limit.
    CascadeLimit,
    /// A time-based rule came due, but the tick came later than the engine's maximum
    /// lateness after the due time: not fired.
    Missed {
        /// The due time (of the latest occurrence, when several were missed).
        due: DateTime<Utc>,
        /// How many occurrences were missed.
        count: u32,
    },
}

/// The evaluation of one sub-condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConditionTrace {
    /// The condition, as text (`预算 gte 500000`, `all`).
    pub condition: String,
    /// `true`, `false`, or `skipped` when short-circuiting made it unnecessary.
    pub result: &'static str,
    /// The value the comparison read (masked if sensitive); absent for `all`/`any`/`not`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The sub-conditions of `all`, `any` and `not`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ConditionTrace>,
}

/// One candidate rule in a trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEntry {
    /// The rule's id.
    pub rule_id: Name,
    /// The rule's name.
    pub rule_name: Name,
    /// The cascade round (0: the event itself).
    pub round: usize,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The trigger filter, scope or condition that decided, sub-condition by sub-condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionTrace>,
    /// The rule's writes that lost to higher-priority writes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<Overridden>,
}

fn test_text(test: &Test) -> (&'static str, String) {
    let list = |vs: &[Value]| {
        format!(
            "[{}]",
            vs.iter().map(literal).collect::<Vec<_>>().join(", ")
        )
    };
    let texts = |vs: &[String]| {
        format!(
            "[{}]",
            vs.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let secs = |s: &i64| {
        crate::duration::Duration::seconds(*s).map_or_else(|| format!("{s}s"), |d| d.to_string())
    };
    match test {
        Test::Eq(v) => ("eq", literal(v)),
        Test::Ne(v) => ("ne", literal(v)),
        Test::Lt(v) => ("lt", literal(v)),
        Test::Lte(v) => ("lte", literal(v)),
        Test::Gt(v) => ("gt", literal(v)),
        Test::Gte(v) => ("gte", literal(v)),
        Test::In(vs) => ("in", list(vs)),
        Test::NotIn(vs) => ("not_in", list(vs)),
        Test::Between(range) => (
            "between",
            format!("[{}, {}]", literal(&range.0), literal(&range.1)),
        ),
        Test::EqText(t) => ("eq", format!("{:?}", t.text)),
        Test::NeText(t) => ("ne", format!("{:?}", t.text)),
        Test::InText(ts) | Test::NotInText(ts) => {
            let op = if matches!(test, Test::InText(_)) {
                "in"
            } else {
                "not_in"
            };
            (
                op,
                format!(
                    "[{}]",
                    ts.iter()
                        .map(|t| format!("{:?}", t.text))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        }
        Test::EqNum(n) => ("eq", n.to_string()),
        Test::NeNum(n) => ("ne", n.to_string()),
        Test::LtNum(n) => ("lt", n.to_string()),
        Test::LteNum(n) => ("lte", n.to_string()),
        Test::GtNum(n) => ("gt", n.to_string()),
        Test::GteNum(n) => ("gte", n.to_string()),
        Test::HasTag(t, _) => ("has_tag", format!("{t:?}")),
        Test::HasAny(ts, _) => ("has_any", texts(ts)),
        Test::HasAll(ts, _) => ("has_all", texts(ts)),
        Test::Contains(t) => ("contains", format!("{t:?}")),
        Test::StartsWith(t) => ("starts_with", format!("{t:?}")),
        Test::ContainsAny(ts) => ("contains_any", texts(ts)),
        Test::Exists => ("exists", String::new()),
        Test::IsEmpty => ("is_empty", String::new()),
        Test::OlderThan(s) => ("older_than", secs(s)),
        Test::WithinLast(s) => ("within_last", secs(s)),
        Test::DueWithin(s) => ("due_within", secs(s)),
    }
}

fn literal(v: &Value) -> String {
    match v {
        Value::Text(t) => format!("{t:?}"),
        other => other.to_string(),
    }
}

fn source_text(src: &Src, schema: &Schema) -> (String, bool) {
    match src {
        Src::Field(id) | Src::Old(id) => {
            let f = schema.field(*id);
            let name = f.map_or("?", |f| f.name.as_str());
            let sensitive = f.is_some_and(|f| f.sensitive);
            let text = if matches!(src, Src::Old(_)) {
                format!("old {name}")
            } else {
                name.to_owned()
            };
            (text, sensitive)
        }
        Src::Event(name) => (format!("event {name}"), false),
    }
}

/// A sub-condition not evaluated because short-circuiting decided its parent.
fn skipped(condition: String) -> ConditionTrace {
    ConditionTrace {
        condition,
        result: "skipped",
        actual: None,
        children: Vec::new(),
    }
}

/// Evaluates a node as [`eval::holds`] does, recording every sub-condition; once the
/// result of an `all`/`any` is decided, the rest are recorded as skipped.
pub(crate) fn explain(
    node: &Node,
    facts: &Facts<'_>,
    schema: &Schema,
    specs: &[CountSpec],
    skip: bool,
) -> (bool, ConditionTrace) {
    let mark = |skip: bool, r: bool| {
        if skip {
            "skipped"
        } else if r {
            "true"
        } else {
            "false"
        }
    };
    match node {
        Node::All(items) | Node::Any(items) => {
            let is_all = matches!(node, Node::All(_));
            let mut decided = skip;
            let mut result = is_all;
            let mut children = Vec::with_capacity(items.len());
            for item in items.iter() {
                let (r, t) = explain(item, facts, schema, specs, decided);
                if !decided && r != is_all {
                    result = !is_all;
                    decided = true;
                }
                children.push(t);
            }
            let condition = if is_all { "all" } else { "any" }.to_owned();
            (
                result,
                ConditionTrace {
                    condition,
                    result: mark(skip, result),
                    actual: None,
                    children,
                },
            )
        }
        Node::Not(inner) => {
            let (r, t) = explain(inner, facts, schema, specs, skip);
            (
                !r,
                ConditionTrace {
                    condition: "not".into(),
                    result: mark(skip, !r),
                    actual: None,
                    children: vec![t],
                },
            )
        }
        Node::Test { src, test } => {
            let (name, sensitive) = source_text(src, schema);
            let (op, lit) = test_text(test);
            let condition = if lit.is_empty() {
                format!("{name} {op}")
            } else {
                format!("{name} {op} {lit}")
            };
            if skip {
                return (false, skipped(condition));
            }
            let v = eval::read(src, facts);
            let r = eval::test(test, v, facts);
            let actual = if sensitive {
                crate::schema::mask(v)
            } else if v.is_absent() {
                "(absent)".into()
            } else {
                literal(v)
            };
            (
                r,
                ConditionTrace {
                    condition,
                    result: mark(false, r),
                    actual: Some(actual),
                    children: Vec::new(),
                },
            )
        }
        Node::Count { slot, at_least } => {
            let n = facts.counts.get(*slot as usize).copied().unwrap_or(0);
            let r = n >= *at_least;
            let condition = match specs.get(*slot as usize) {
                Some(spec) if spec.days => {
                    format!("count {} days_in_a_row {at_least}", spec.event)
                }
                Some(spec) => format!(
                    "count {} within {} at_least {at_least}",
                    spec.event, spec.within
                ),
                None => format!("count at_least {at_least}"),
            };
            if skip {
                return (false, skipped(condition));
            }
            (
                r,
                ConditionTrace {
                    condition,
                    result: mark(false, r),
                    actual: Some(n.to_string()),
                    children: Vec::new(),
                },
            )
        }
    }
}
