//! Evaluating compiled conditions.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::{instant, Facts, Node, Src, Test};
use crate::keys::same_text;
use crate::value::Value;

static ABSENT: Value = Value::Absent;

/// The value a comparison reads.
#[inline]
pub(crate) fn read<'f>(src: &Src, facts: &Facts<'f>) -> &'f Value {
    match src {
        Src::Field(id) => facts.record.get(*id),
        Src::Old(id) => facts.previous.unwrap_or(facts.record).get(*id),
        Src::Event(name) => facts.event.map_or(&ABSENT, |e| e.get(name)),
    }
}

/// Whether a node holds.
pub(crate) fn holds(node: &Node, facts: &Facts<'_>) -> bool {
    match node {
        Node::All(items) => items.iter().all(|n| leaf(n, facts)),
        Node::Any(items) => items.iter().any(|n| leaf(n, facts)),
        Node::Not(inner) => !holds(inner, facts),
        Node::Test { .. } => leaf(node, facts),
        Node::Count { slot, at_least } => {
            facts.counts.get(*slot as usize).copied().unwrap_or(0) >= *at_least
        }
    }
}

/// A child of `all`/`any`: comparisons (the usual case) tested in line, without a call.
#[inline(always)]
fn leaf(node: &Node, facts: &Facts<'_>) -> bool {
    match node {
        Node::Test { src, test: t } => {
            by_key(src, t, facts).unwrap_or_else(|| test(t, read(src, facts), facts))
        }
        other => holds(other, facts),
    }
}

/// The answer of a text or tag test when the field's key alone decides
/// it (the key differs from the literal's, or lacks a tag's bit); `None` when the value
/// must be read. Event attributes have no keys.
#[inline(always)]
fn by_key(src: &Src, t: &Test, facts: &Facts<'_>) -> Option<bool> {
    let key = match src {
        Src::Field(id) => facts.record.key(*id),
        Src::Old(id) => facts.previous.unwrap_or(facts.record).key(*id),
        Src::Event(_) => return None,
    };
    match t {
        Test::EqText(l) if l.key != key => Some(false),
        Test::NeText(l) if l.key != key => Some(true),
        Test::InText(ls) if ls.iter().all(|l| l.key != key) => Some(false),
        Test::NotInText(ls) if ls.iter().all(|l| l.key != key) => Some(true),
        Test::HasTag(_, bit) if key & bit == 0 => Some(false),
        Test::HasAny(_, mask) if key & mask == 0 => Some(false),
        Test::HasAll(_, mask) if key & mask != *mask => Some(false),
        _ => None,
    }
}

fn ordered(v: &Value, literal: &Value, accept: fn(Ordering) -> bool) -> bool {
    v.compare(literal).is_some_and(accept)
}

/// Whether a test holds for a value.
#[inline(always)]
pub(crate) fn test(t: &Test, v: &Value, facts: &Facts<'_>) -> bool {
    // Saturating bounds: a window reaching past the calendar's ends is cut there.
    let back = |s: i64| {
        facts
            .now
            .checked_sub_signed(chrono::TimeDelta::seconds(s))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    let ahead = |s: i64| {
        facts
            .now
            .checked_add_signed(chrono::TimeDelta::seconds(s))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    };
    match t {
        Test::Eq(l) => v.same(l),
        Test::Ne(l) => !v.same(l),
        Test::Lt(l) => ordered(v, l, Ordering::is_lt),
        Test::Lte(l) => ordered(v, l, Ordering::is_le),
        Test::Gt(l) => ordered(v, l, Ordering::is_gt),
        Test::Gte(l) => ordered(v, l, Ordering::is_ge),
        Test::In(ls) => ls.iter().any(|l| v.same(l)),
        Test::NotIn(ls) => !ls.iter().any(|l| v.same(l)),
        Test::Between(range) => {
            ordered(v, &range.0, Ordering::is_ge) && ordered(v, &range.1, Ordering::is_le)
        }
        Test::EqText(l) => matches!(v, Value::Text(t) if same_text(t, &l.text)),
        Test::NeText(l) => !matches!(v, Value::Text(t) if same_text(t, &l.text)),
        Test::InText(ls) => {
            matches!(v, Value::Text(t) if ls.iter().any(|l| same_text(t, &l.text)))
        }
        Test::NotInText(ls) => {
            !matches!(v, Value::Text(t) if ls.iter().any(|l| same_text(t, &l.text)))
        }
        Test::EqNum(l) => matches!(v, Value::Number(n) if n == l),
        Test::NeNum(l) => !matches!(v, Value::Number(n) if n == l),
        Test::LtNum(l) => matches!(v, Value::Number(n) if n < l),
        Test::LteNum(l) => matches!(v, Value::Number(n) if n <= l),
        Test::GtNum(l) => matches!(v, Value::Number(n) if n > l),
        Test::GteNum(l) => matches!(v, Value::Number(n) if n >= l),
        Test::HasTag(tag, _) => v.as_list().is_some_and(|l| l.iter().any(|x| x == tag)),
        Test::HasAny(tags, _) => v
            .as_list()
            .is_some_and(|l| tags.iter().any(|t| l.contains(t))),
        Test::HasAll(tags, _) => v
            .as_list()
            .is_some_and(|l| tags.iter().all(|t| l.contains(t))),
        Test::Contains(s) => v.as_text().is_some_and(|x| x.contains(s.as_str())),
        Test::StartsWith(s) => v.as_text().is_some_and(|x| x.starts_with(s.as_str())),
        Test::ContainsAny(words) => v
            .as_text()
            .is_some_and(|x| words.iter().any(|w| x.contains(w.as_str()))),
        Test::Exists => !v.is_empty(),
        Test::IsEmpty => v.is_empty(),
        Test::OlderThan(s) => instant(v).is_some_and(|t| t <= back(*s)),
        Test::WithinLast(s) => instant(v).is_some_and(|t| t >= back(*s) && t <= facts.now),
        Test::DueWithin(s) => instant(v).is_some_and(|t| t >= facts.now && t <= ahead(*s)),
    }
}
