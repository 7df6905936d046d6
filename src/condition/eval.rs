//! Evaluating compiled conditions.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::{instant, Facts, Keyed, Node, Src, Test};
use crate::keys::same_text;
use crate::value::{Number, Value};

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

/// The answer of a test when the field's key alone decides it: a text's key differs
/// from the literal's, or equals it and is exact; a list's key lacks a tag's bit; an
/// integer compared with a number. `None` when the value must be read. Event attributes
/// have no keys.
#[inline(always)]
fn by_key(src: &Src, t: &Test, facts: &Facts<'_>) -> Option<bool> {
    let key = match src {
        Src::Field(id) => facts.record.key(*id),
        Src::Old(id) => facts.previous.unwrap_or(facts.record).key(*id),
        Src::Event(_) => return None,
    };
    let is = |l: &Keyed| {
        if l.key != key {
            Some(false)
        } else {
            l.key.is_exact().then_some(true)
        }
    };
    let any = |ls: &[Keyed]| {
        let mut all_differ = true;
        for l in ls {
            match is(l) {
                Some(true) => return Some(true),
                Some(false) => {}
                None => all_differ = false,
            }
        }
        all_differ.then_some(false)
    };
    // A number's key is an integer's or a decimal's; any other value is no number.
    let int = |n: &Number, accept: fn(Ordering) -> bool| match key.as_int() {
        Some(i) => Some(accept(Number::from(i).cmp(n))),
        None if key.is_decimal() => None,
        None => Some(false),
    };
    match t {
        Test::EqText(l) => is(l),
        Test::NeText(l) => is(l).map(|b| !b),
        Test::InText(ls) => any(ls),
        Test::NotInText(ls) => any(ls).map(|b| !b),
        Test::HasTag(_, bit) if key.tags() & bit == 0 => Some(false),
        Test::HasAny(_, mask) if key.tags() & mask == 0 => Some(false),
        Test::HasAll(_, mask) if key.tags() & mask != *mask => Some(false),
        Test::EqNum(n) => int(n, Ordering::is_eq),
        Test::NeNum(n) => int(n, Ordering::is_eq).map(|b| !b),
        Test::LtNum(n) => int(n, Ordering::is_lt),
        Test::LteNum(n) => int(n, Ordering::is_le),
        Test::GtNum(n) => int(n, Ordering::is_gt),
        Test::GteNum(n) => int(n, Ordering::is_ge),
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
