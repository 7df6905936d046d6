//! Compiling authoring conditions against the schema: fields resolved to positions,
//! literals typed by their field, every problem reported with its path.

use super::{CountSpec, Keyed, Node, Src, Test};
use crate::compile::{join, Compiler};
use crate::duration::Duration;
use crate::rule::{Condition, Op, Operand};
use crate::schema::{
    describe_json, not_an_option, parse_kind, EventDef, Field, FieldType, ValueKind,
};
use crate::value::Value;

/// Which event attributes a condition may read.
#[derive(Clone, Copy, Debug)]
pub(crate) enum EventScope<'a> {
    /// Attributes are not declared: any name, values typed as JSON gives them.
    Unchecked,
    /// The event kind is declared: only its attributes, typed by their definitions.
    Declared(&'a EventDef),
    /// There is no event (rules that run on time); the text says why.
    NoEvent(&'static str),
}

impl<'a> EventScope<'a> {
    /// The scope for rules triggered by events of `kind`.
    pub fn for_kind(compiler: &Compiler<'a>, kind: &str) -> EventScope<'a> {
        match compiler.schema.event(kind) {
            Some(def) => EventScope::Declared(def),
            None => EventScope::Unchecked,
        }
    }
}

/// A type to check literals against: a field or attribute definition, or none.
type Typing<'a> = Option<&'a Field>;

impl<'a> Compiler<'a> {
    /// Compiles a condition; `counts` collects the behaviour counts it uses.
    pub(crate) fn condition(
        &mut self,
        c: &Condition,
        path: &str,
        events: EventScope<'a>,
        counts: &mut Vec<CountSpec>,
        depth: usize,
    ) -> Option<Node> {
        if depth > self.limits.max_depth {
            self.problem(
                path,
                format!(
                    "conditions are nested deeper than {} levels",
                    self.limits.max_depth
                ),
            );
            return None;
        }
        match c {
            Condition::All(items) | Condition::Any(items) => {
                let key = if matches!(c, Condition::All(_)) {
                    "all"
                } else {
                    "any"
                };
                let at = join(path, key);
                if items.is_empty() {
                    self.problem(&at, format!("`{key}` needs at least one condition"));
                    return None;
                }
                if items.len() > self.limits.max_list_items {
                    self.problem(
                        &at,
                        format!("more than {} conditions", self.limits.max_list_items),
                    );
                    return None;
                }
                let nodes: Vec<Option<Node>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        self.condition(item, &format!("{at}[{i}]"), events, counts, depth + 1)
                    })
                    .collect();
                let nodes: Option<Vec<Node>> = nodes.into_iter().collect();
                let nodes = nodes?.into_boxed_slice();
                Some(if key == "all" {
                    Node::All(nodes)
                } else {
                    Node::Any(nodes)
                })
            }
            Condition::Not(inner) => {
                let node = self.condition(inner, &join(path, "not"), events, counts, depth + 1)?;
                Some(Node::Not(Box::new(node)))
            }
            Condition::Count(count) => {
                let at = join(path, "count");
                self.name(&count.event, &at, "event kind");
                if !self.schema.events().is_empty() && self.schema.event(&count.event).is_none() {
                    self.problem(&at, format!("unknown event kind {:?}", count.event));
                }
                let key = if count.days_in_a_row {
                    "days_in_a_row"
                } else {
                    "at_least"
                };
                if count.at_least > 1_000 {
                    self.problem(
                        &join(path, key),
                        "at most 1000 (the engine keeps that many event times per count)",
                    );
                }
                if count.at_least == 0 {
                    self.problem(
                        &join(path, key),
                        "must be at least 1 (a count of 0 always holds)",
                    );
                }
                if count.within.as_seconds() == 0 && !count.days_in_a_row {
                    self.problem(&join(path, "within"), "the window must be longer than 0");
                }
                let scope = EventScope::for_kind(self, &count.event);
                let filter = match &count.filter {
                    Some(f) => {
                        Some(self.condition(f, &join(path, "where"), scope, counts, depth + 1)?)
                    }
                    None => None,
                };
                let slot = counts.len() as u32;
                counts.push(CountSpec {
                    event: count.event.clone(),
                    at_least: count.at_least,
                    within: count.within,
                    filter,
                    days: count.days_in_a_row,
                });
                Some(Node::Count {
                    slot,
                    at_least: count.at_least,
                })
            }
            Condition::Compare { operand, op, value } => {
                self.compare(operand, *op, value.as_ref(), path, events)
            }
        }
    }

    fn operand(
        &mut self,
        operand: &Operand,
        path: &str,
        events: EventScope<'a>,
    ) -> Option<(Src, Typing<'a>)> {
        let at = join(path, operand.key());
        match operand {
            Operand::Field(name) | Operand::New(name) => self
                .field(name, &at)
                .map(|(id, f)| (Src::Field(id), Some(f))),
            Operand::Old(name) => {
                if let EventScope::NoEvent(why) = events {
                    self.problem(
                        &at,
                        format!("there is no earlier value of {name:?} to read: {why}"),
                    );
                    return None;
                }
                self.field(name, &at).map(|(id, f)| (Src::Old(id), Some(f)))
            }
            Operand::Event(name) => {
                let typing = self.event_attribute(name, &at, events)?;
                Some((Src::Event(name.clone().into_boxed_str()), typing))
            }
        }
    }

    /// An event attribute a rule reads: its definition when the event is declared, `None`
    /// inside when it is not; a problem when there is no event or no such attribute.
    pub(crate) fn event_attribute(
        &mut self,
        name: &str,
        at: &str,
        events: EventScope<'a>,
    ) -> Option<Typing<'a>> {
        match events {
            EventScope::NoEvent(why) => {
                self.problem(at, format!("no event to read {name:?} from: {why}"));
                None
            }
            EventScope::Unchecked => {
                self.name(name, at, "attribute name");
                Some(None)
            }
            EventScope::Declared(def) => match def.attributes.iter().find(|a| a.name == name) {
                Some(attr) => Some(Some(attr)),
                None => {
                    let names: Vec<&str> = def.attributes.iter().map(|a| a.name.as_str()).collect();
                    self.problem(
                        at,
                        format!(
                            "event {} has no attribute {name:?} (it has: {})",
                            def.kind,
                            names.join(", ")
                        ),
                    );
                    None
                }
            },
        }
    }

    fn compare(
        &mut self,
        operand: &Operand,
        op: Op,
        value: Option<&serde_json::Value>,
        path: &str,
        events: EventScope<'a>,
    ) -> Option<Node> {
        let (src, typing) = self.operand(operand, path, events)?;
        let at = join(path, "value");
        let kind = typing.map(|f| f.field_type.kind());
        let subject = format!("{:?}", operand.name());
        let test = match op {
            Op::Exists | Op::IsEmpty => {
                if value.is_some() {
                    self.problem(&at, format!("`{}` takes no value", op.name()));
                    return None;
                }
                if op == Op::Exists {
                    Test::Exists
                } else {
                    Test::IsEmpty
                }
            }
            Op::Eq | Op::Ne => {
                let v = self.literal(typing, value, &at, false)?;
                if op == Op::Eq {
                    Test::Eq(v)
                } else {
                    Test::Ne(v)
                }
            }
            Op::Lt | Op::Lte | Op::Gt | Op::Gte | Op::Between => {
                if !matches!(
                    kind,
                    None | Some(
                        ValueKind::Number
                            | ValueKind::Integer
                            | ValueKind::Date
                            | ValueKind::DateTime
                    )
                ) {
                    let t = typing.map_or("", |f| f.field_type.name());
                    self.problem(
                        &join(path, "op"),
                        format!(
                            "`{}` orders numbers, dates and date-times; {subject} is a {t} field",
                            op.name()
                        ),
                    );
                    return None;
                }
                if op == Op::Between {
                    let pair = match value {
                        Some(serde_json::Value::Array(items)) if items.len() == 2 => items,
                        other => {
                            let found = other.map_or("nothing".into(), describe_json);
                            self.problem(&at, format!("`between` needs a list of two values [low, high], found {found}"));
                            return None;
                        }
                    };
                    let low = self.literal(typing, Some(&pair[0]), &format!("{at}[0]"), true);
                    let high = self.literal(typing, Some(&pair[1]), &format!("{at}[1]"), true);
                    let (low, high) = (low?, high?);
                    match low.compare(&high) {
                        Some(o) if o.is_gt() => {
                            self.problem(
                                &at,
                                format!("the low end {low} is above the high end {high}"),
                            );
                            return None;
                        }
                        Some(_) => {}
                        // Untyped literals (event attributes) may be of two kinds.
                        None => {
                            self.problem(
                                &at,
                                format!(
                                    "`between` needs two numbers, dates or date-times of one kind, found {} and {}",
                                    low.kind_name(),
                                    high.kind_name()
                                ),
                            );
                            return None;
                        }
                    }
                    Test::Between(Box::new((low, high)))
                } else {
                    let v = self.literal(typing, value, &at, true)?;
                    match op {
                        Op::Lt => Test::Lt(v),
                        Op::Lte => Test::Lte(v),
                        Op::Gt => Test::Gt(v),
                        _ => Test::Gte(v),
                    }
                }
            }
            Op::In | Op::NotIn => {
                if kind == Some(ValueKind::List) {
                    self.problem(
                        &join(path, "op"),
                        format!("{subject} is a list; use has_any or has_all"),
                    );
                    return None;
                }
                let items = self.list(value, &at)?;
                let mut values = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    values.push(self.literal(typing, Some(item), &format!("{at}[{i}]"), false));
                }
                let values: Vec<Value> = values.into_iter().collect::<Option<_>>()?;
                if op == Op::In {
                    Test::In(values.into_boxed_slice())
                } else {
                    Test::NotIn(values.into_boxed_slice())
                }
            }
            Op::HasTag | Op::HasAny | Op::HasAll => {
                if !matches!(kind, None | Some(ValueKind::List)) {
                    self.problem(
                        &join(path, "op"),
                        format!("`{}` applies to tags and multiple choices; {subject} is not a list (use eq or in)", op.name()),
                    );
                    return None;
                }
                let tags = if op == Op::HasTag {
                    match value {
                        Some(serde_json::Value::String(s)) if !s.is_empty() => vec![s.clone()],
                        other => {
                            let found = other.map_or("nothing".into(), describe_json);
                            self.problem(&at, format!("expected a tag, found {found}"));
                            return None;
                        }
                    }
                } else {
                    self.texts(value, &at)?
                };
                if let Some(field) = typing.filter(|f| f.field_type == FieldType::MultipleChoice) {
                    let mut ok = true;
                    for (i, tag) in tags.iter().enumerate() {
                        if !field.options.contains(tag) {
                            let p = if op == Op::HasTag {
                                at.clone()
                            } else {
                                format!("{at}[{i}]")
                            };
                            self.problem(&p, not_an_option(field, tag));
                            ok = false;
                        }
                    }
                    if !ok {
                        return None;
                    }
                }
                match op {
                    Op::HasTag => {
                        let tag = tags.into_iter().next().unwrap_or_default();
                        let bit = crate::keys::tag_bit(&tag);
                        Test::HasTag(tag, bit)
                    }
                    Op::HasAny => {
                        let mask = tags_mask(&tags);
                        Test::HasAny(tags.into_boxed_slice(), mask)
                    }
                    _ => {
                        let mask = tags_mask(&tags);
                        Test::HasAll(tags.into_boxed_slice(), mask)
                    }
                }
            }
            Op::Contains | Op::StartsWith | Op::ContainsAny => {
                if !matches!(kind, None | Some(ValueKind::Text)) {
                    self.problem(
                        &join(path, "op"),
                        format!("`{}` applies to texts; {subject} is not a text", op.name()),
                    );
                    return None;
                }
                if op == Op::ContainsAny {
                    Test::ContainsAny(self.texts(value, &at)?.into_boxed_slice())
                } else {
                    let text = match value {
                        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
                        other => {
                            let found = other.map_or("nothing".into(), describe_json);
                            self.problem(&at, format!("expected a non-empty text, found {found}"));
                            return None;
                        }
                    };
                    self.text(&text, &at);
                    if op == Op::Contains {
                        Test::Contains(text)
                    } else {
                        Test::StartsWith(text)
                    }
                }
            }
            Op::OlderThan | Op::WithinLast | Op::DueWithin => {
                if !matches!(kind, None | Some(ValueKind::Date | ValueKind::DateTime)) {
                    self.problem(
                        &join(path, "op"),
                        format!(
                            "`{}` applies to dates and date-times; {subject} is not one",
                            op.name()
                        ),
                    );
                    return None;
                }
                let d = self.duration(value, &at)?.as_seconds();
                match op {
                    Op::OlderThan => Test::OlderThan(d),
                    Op::WithinLast => Test::WithinLast(d),
                    _ => Test::DueWithin(d),
                }
            }
        };
        Some(Node::Test {
            src,
            test: specialize(test),
        })
    }

    fn list<'j>(
        &mut self,
        value: Option<&'j serde_json::Value>,
        at: &str,
    ) -> Option<&'j Vec<serde_json::Value>> {
        match value {
            Some(serde_json::Value::Array(items))
                if !items.is_empty() && items.len() <= self.limits.max_list_items =>
            {
                Some(items)
            }
            Some(serde_json::Value::Array(items)) if items.is_empty() => {
                self.problem(at, "the list is empty");
                None
            }
            Some(serde_json::Value::Array(_)) => {
                self.problem(
                    at,
                    format!("more than {} items", self.limits.max_list_items),
                );
                None
            }
            other => {
                let found = other.map_or("nothing".into(), describe_json);
                self.problem(at, format!("expected a list of values, found {found}"));
                None
            }
        }
    }

    /// A duration literal: a text such as `3d`.
    pub(crate) fn duration(
        &mut self,
        value: Option<&serde_json::Value>,
        at: &str,
    ) -> Option<Duration> {
        match value {
            Some(serde_json::Value::String(s)) => match s.parse::<Duration>() {
                Ok(d) => Some(d),
                Err(e) => {
                    self.problem(at, e.to_string());
                    None
                }
            },
            other => {
                let found = other.map_or("nothing".into(), describe_json);
                self.problem(
                    at,
                    format!("expected a duration such as \"3d\", found {found}"),
                );
                None
            }
        }
    }

    /// A literal a field could hold: typed, within the options, and within every rule of
    /// the field (range, length, format) except "not before today", which depends on when.
    pub(crate) fn checked_value(
        &mut self,
        def: &'a Field,
        json: &serde_json::Value,
        at: &str,
    ) -> Option<Value> {
        let v = self.literal(Some(def), Some(json), at, false)?;
        let broken = crate::schema::check_value(def, &v, chrono::NaiveDate::MIN);
        for message in &broken {
            self.problem(at, format!("{} {message}", def.name));
        }
        broken.is_empty().then_some(v)
    }

    /// A value an action writes into a field: as [`Compiler::checked_value`], and `null`
    /// clears the field unless it is required.
    pub(crate) fn stored_value(
        &mut self,
        def: &'a Field,
        json: &serde_json::Value,
        at: &str,
    ) -> Option<Value> {
        if !json.is_null() {
            return self.checked_value(def, json, at);
        }
        if def.required {
            self.problem(
                at,
                format!("{:?} is required and cannot be cleared", def.name),
            );
            return None;
        }
        Some(Value::Absent)
    }

    /// A literal for a field (typed and checked against its options) or, untyped, as JSON
    /// gives it. `ordering` accepts decimals for integer fields (`评分 > 3.5`).
    pub(crate) fn literal(
        &mut self,
        typing: Typing<'a>,
        value: Option<&serde_json::Value>,
        at: &str,
        ordering: bool,
    ) -> Option<Value> {
        let Some(json) = value else {
            self.problem(at, "a value is needed");
            return None;
        };
        if json.is_null() {
            self.problem(
                at,
                "null is not a value; use the is_empty or exists operators",
            );
            return None;
        }
        if let Some(s) = json.as_str() {
            self.text(s, at);
        }
        let Some(field) = typing else {
            return match Value::from_json_untyped(json) {
                Some(v) => Some(v),
                None => {
                    self.problem(
                        at,
                        format!(
                            "expected a text, number, boolean or list of texts, found {}",
                            describe_json(json)
                        ),
                    );
                    None
                }
            };
        };
        let mut kind = field.field_type.kind();
        if ordering && kind == ValueKind::Integer {
            kind = ValueKind::Number;
        }
        match parse_kind(kind, json) {
            Err(message) => {
                let hint = if kind == ValueKind::List && json.is_string() {
                    " (use has_tag for one tag)"
                } else {
                    ""
                };
                self.problem(at, format!("{message}{hint}"));
                None
            }
            Ok(v) => {
                let bad: Vec<&String> = match &v {
                    Value::Text(t) if field.field_type == FieldType::SingleChoice => {
                        (!field.options.contains(t))
                            .then_some(t)
                            .into_iter()
                            .collect()
                    }
                    Value::List(items) if field.field_type == FieldType::MultipleChoice => items
                        .iter()
                        .filter(|i| !field.options.contains(i))
                        .collect(),
                    _ => Vec::new(),
                };
                for item in &bad {
                    self.problem(at, not_an_option(field, item));
                }
                bad.is_empty().then_some(v)
            }
        }
    }
}

/// The union of the tags' [bits](crate::keys::tag_bit).
fn tags_mask(tags: &[String]) -> u64 {
    tags.iter().fold(0, |m, t| m | crate::keys::tag_bit(t))
}

/// The specialized form of a test, where its literal allows one.
fn specialize(test: Test) -> Test {
    let text = |v: &Value| v.as_text().map(|t| Keyed::new(t.into()));
    let texts = |vs: &[Value]| vs.iter().map(text).collect::<Option<Box<[Keyed]>>>();
    match test {
        Test::Eq(Value::Text(t)) => Test::EqText(Keyed::new(t.into_boxed_str())),
        Test::Ne(Value::Text(t)) => Test::NeText(Keyed::new(t.into_boxed_str())),
        Test::Eq(Value::Number(n)) => Test::EqNum(n),
        Test::Ne(Value::Number(n)) => Test::NeNum(n),
        Test::Lt(Value::Number(n)) => Test::LtNum(n),
        Test::Lte(Value::Number(n)) => Test::LteNum(n),
        Test::Gt(Value::Number(n)) => Test::GtNum(n),
        Test::Gte(Value::Number(n)) => Test::GteNum(n),
        Test::In(vs) => match texts(&vs) {
            Some(ts) => Test::InText(ts),
            None => Test::In(vs),
        },
        Test::NotIn(vs) => match texts(&vs) {
            Some(ts) => Test::NotInText(ts),
            None => Test::NotIn(vs),
        },
        other => other,
    }
}
