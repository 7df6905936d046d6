//! Properties: rule sets round-trip through JSON; conditions agree with a plain reference
//! evaluator; no input makes loading, compiling, reading records or evaluating panic.

use chrono::{DateTime, TimeZone, Utc, Weekday};
use crm_rules::{
    Action, Assignment, Channel, Condition, Count, Duration, Event, Every, Expiry, Facts, FireMode,
    Limits, Number, Op, Operand, Recipient, Rule, RuleSet, Schema, Step, Task, TaskPriority,
    Template, TimeOfDay, Trigger, Value, Variant, Window,
};
use indexmap::IndexMap;
use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::{json, Value as Json};

use crate::common::{crm, crm_with_events, now};

const CASES: u32 = 256;

const OPS: [Op; 20] = [
    Op::Eq,
    Op::Ne,
    Op::Lt,
    Op::Lte,
    Op::Gt,
    Op::Gte,
    Op::In,
    Op::NotIn,
    Op::Between,
    Op::HasTag,
    Op::HasAny,
    Op::HasAll,
    Op::Contains,
    Op::StartsWith,
    Op::ContainsAny,
    Op::Exists,
    Op::IsEmpty,
    Op::OlderThan,
    Op::WithinLast,
    Op::DueWithin,
];

// ---------------------------------------------------------------------------------------
// Strategies for authoring values, parametrized by how names, texts and literals are made.
// ---------------------------------------------------------------------------------------

/// How the parts of generated rules are made.
#[derive(Clone)]
struct Gen {
    /// Ids, field names, event kinds, users.
    name: BoxedStrategy<String>,
    /// Templates, descriptions.
    text: BoxedStrategy<String>,
    /// Literals in conditions, triggers and actions.
    lit: BoxedStrategy<Json>,
    /// Payloads of custom actions.
    payload: BoxedStrategy<Json>,
}

fn any_text(max: usize) -> BoxedStrategy<String> {
    prop::collection::vec(any::<char>(), 0..=max)
        .prop_map(String::from_iter)
        .boxed()
}

/// Literals that JSON gives back exactly: texts, integers, booleans, lists of texts, null.
fn exact_literal() -> BoxedStrategy<Json> {
    prop_oneof![
        any_text(6).prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<bool>().prop_map(Json::from),
        prop::collection::vec(any_text(4), 0..3).prop_map(Json::from),
        Just(Json::Null),
    ]
    .boxed()
}

/// Any JSON value without decimals (which serde_json may not read back bit for bit).
fn exact_json() -> BoxedStrategy<Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any_text(6).prop_map(Json::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec((any_text(4), inner), 0..4)
                .prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

fn round_trip_gen() -> Gen {
    Gen {
        name: any_text(6),
        text: any_text(12),
        lit: exact_literal(),
        payload: exact_json(),
    }
}

fn duration() -> BoxedStrategy<Duration> {
    prop_oneof![
        (0i64..=36_500 * 86_400).prop_map(|s| Duration::seconds(s).expect("in range")),
        (0i64..=30).prop_map(|d| Duration::days(d).expect("in range")),
    ]
    .boxed()
}

fn time_of_day() -> BoxedStrategy<TimeOfDay> {
    (0u32..24, 0u32..60)
        .prop_map(|(h, m)| TimeOfDay::new(h, m).expect("valid"))
        .boxed()
}

fn instant() -> BoxedStrategy<DateTime<Utc>> {
    (0i64..4_102_444_800)
        .prop_map(|s| Utc.timestamp_opt(s, 0).single().expect("valid"))
        .boxed()
}

fn weekday() -> BoxedStrategy<Weekday> {
    (0u8..7)
        .prop_map(|d| Weekday::try_from(d).expect("valid"))
        .boxed()
}

fn number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        (-4_000i64..4_000).prop_map(|q| Number::decimal(q as f64 / 4.0).expect("finite")),
    ]
    .boxed()
}

fn names(g: &Gen, max: usize) -> BoxedStrategy<Vec<String>> {
    prop::collection::vec(g.name.clone(), 0..=max).boxed()
}

fn name_map(g: &Gen) -> BoxedStrategy<IndexMap<String, String>> {
    prop::collection::vec((g.name.clone(), g.name.clone()), 0..3)
        .prop_map(|kv| kv.into_iter().collect())
        .boxed()
}

fn compare(g: &Gen) -> BoxedStrategy<Condition> {
    let operand = prop_oneof![
        g.name.clone().prop_map(Operand::Field),
        g.name.clone().prop_map(Operand::Event),
        g.name.clone().prop_map(Operand::Old),
        g.name.clone().prop_map(Operand::New),
    ];
    (
        operand,
        prop::sample::select(OPS.to_vec()),
        prop::option::of(g.lit.clone()),
    )
        .prop_map(|(operand, op, value)| Condition::Compare { operand, op, value })
        .boxed()
}

fn condition(g: &Gen) -> BoxedStrategy<Condition> {
    let count = (
        g.name.clone(),
        0u32..5,
        duration(),
        prop::option::of(compare(g)),
    )
        .prop_map(|(event, at_least, within, filter)| {
            Condition::Count(Count {
                event,
                at_least,
                within,
                filter: filter.map(Box::new),
                days_in_a_row: false,
            })
        });
    let run = (g.name.clone(), 0u32..5, prop::option::of(compare(g))).prop_map(
        |(event, days, filter)| match Condition::days_in_a_row(event, days) {
            Condition::Count(c) => Condition::Count(Count {
                filter: filter.map(Box::new),
                ..c
            }),
            other => other,
        },
    );
    let count = prop_oneof![3 => count, 1 => run];
    let leaf = prop_oneof![4 => compare(g), 1 => count];
    leaf.prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Condition::All),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Condition::Any),
            inner.prop_map(Condition::negate),
        ]
    })
    .boxed()
}

fn recipient(g: &Gen) -> BoxedStrategy<Recipient> {
    prop_oneof![
        Just(Recipient::Owner),
        g.name.clone().prop_map(Recipient::User),
        g.name.clone().prop_map(Recipient::Role),
        g.name.clone().prop_map(Recipient::Field),
        g.name.clone().prop_map(Recipient::Contact),
    ]
    .boxed()
}

fn window(g: &Gen) -> BoxedStrategy<Window> {
    (
        time_of_day(),
        time_of_day(),
        prop::collection::vec(weekday(), 0..3),
        prop::option::of(g.name.clone()),
    )
        .prop_map(|(start, end, days, time_zone)| Window {
            start,
            end,
            days,
            time_zone,
        })
        .boxed()
}

fn assignment(g: &Gen) -> BoxedStrategy<Assignment> {
    prop_oneof![
        g.name.clone().prop_map(|user| Assignment::Fixed { user }),
        (g.name.clone(), name_map(g), g.name.clone()).prop_map(|(field, map, default)| {
            Assignment::Table {
                field,
                map,
                default,
            }
        }),
        names(g, 3).prop_map(|pool| Assignment::RoundRobin { pool }),
        names(g, 3).prop_map(|pool| Assignment::LeastLoaded { pool }),
        names(g, 3).prop_map(|pool| Assignment::Hash { pool }),
    ]
    .boxed()
}

fn task(g: &Gen) -> BoxedStrategy<Task> {
    (
        g.text.clone(),
        prop::option::of(g.text.clone()),
        recipient(g),
        prop::option::of(duration()),
        prop::sample::select(vec![
            TaskPriority::Low,
            TaskPriority::Normal,
            TaskPriority::High,
            TaskPriority::Urgent,
        ]),
        prop::option::of(window(g)),
    )
        .prop_map(|(title, description, assignee, due_in, priority, window)| {
            let mut t = Action::task(title).assignee(assignee).priority(priority);
            t.description = description;
            t.due_in = due_in;
            t.window = window;
            t
        })
        .boxed()
}

fn notification(g: &Gen) -> BoxedStrategy<Action> {
    let channel = prop_oneof![
        Just(Channel::InApp),
        Just(Channel::Sms),
        Just(Channel::Email),
        g.name.clone().prop_map(Channel::Custom),
    ];
    (
        channel,
        prop::collection::vec(recipient(g), 0..3),
        prop::collection::vec(recipient(g), 0..2),
        prop::option::of(g.text.clone()),
        g.text.clone(),
        prop::option::of(window(g)),
    )
        .prop_map(|(channel, to, cc, subject, template, window)| {
            let mut n = Action::notify(channel, to, template).cc(cc);
            n.subject = subject;
            n.window = window;
            Action::from(n)
        })
        .boxed()
}

fn leaf_action(g: &Gen) -> BoxedStrategy<Action> {
    let arms: Vec<BoxedStrategy<Action>> = vec![
        (
            g.name.clone(),
            prop::option::of(g.lit.clone()),
            prop::option::of(duration()),
            prop::option::of(g.name.clone()),
        )
            .prop_map(|(field, value, from_now, from_event)| Action::SetField {
                field,
                value,
                from_now,
                from_event,
            })
            .boxed(),
        (
            g.name.clone(),
            prop::option::of(number()),
            prop::option::of(g.name.clone()),
        )
            .prop_map(|(field, by, by_event)| Action::Increment {
                field,
                by,
                by_event,
            })
            .boxed(),
        (prop::option::of(g.name.clone()), g.name.clone())
            .prop_map(|(field, tag)| Action::AddTag { field, tag })
            .boxed(),
        (prop::option::of(g.name.clone()), g.name.clone())
            .prop_map(|(field, tag)| Action::RemoveTag { field, tag })
            .boxed(),
        (prop::option::of(g.name.clone()), assignment(g))
            .prop_map(|(field, strategy)| Action::AssignOwner { field, strategy })
            .boxed(),
        task(g).prop_map(Action::from).boxed(),
        notification(g),
        (g.name.clone(), name_map(g))
            .prop_map(|(target, mapping)| Action::Sync { target, mapping })
            .boxed(),
        (
            g.name.clone(),
            g.lit.clone(),
            recipient(g),
            prop::option::of(g.text.clone()),
        )
            .prop_map(|(field, value, approver, reason)| Action::RequestApproval {
                field,
                value,
                approver,
                reason,
            })
            .boxed(),
        (g.name.clone(), g.payload.clone())
            .prop_map(|(kind, payload)| Action::Custom { kind, payload })
            .boxed(),
    ];
    Union::new(arms).boxed()
}

fn action(g: &Gen) -> BoxedStrategy<Action> {
    let g2 = g.clone();
    leaf_action(g)
        .prop_recursive(2, 12, 2, move |inner| {
            let step = (
                duration(),
                prop::option::of(time_of_day()),
                prop::option::of(condition(&g2)),
                names(&g2, 2),
                prop::collection::vec(inner.clone(), 0..3),
            )
                .prop_map(|(after, at, skip_when, unless_event, actions)| Step {
                    after,
                    at,
                    skip_when,
                    unless_event,
                    actions,
                });
            let variant = (
                g2.name.clone(),
                any::<u32>(),
                prop::collection::vec(inner, 0..3),
            )
                .prop_map(|(name, weight, actions)| Variant {
                    name,
                    weight,
                    actions,
                });
            prop_oneof![
                (
                    g2.name.clone(),
                    prop::collection::vec(step, 0..3),
                    prop::option::of(condition(&g2)),
                )
                    .prop_map(|(sequence, steps, stop_when)| {
                        Action::StartSequence {
                            sequence,
                            steps,
                            stop_when,
                        }
                    }),
                (g2.name.clone(), prop::collection::vec(variant, 0..3)).prop_map(
                    |(experiment, variants)| Action::AbSplit {
                        experiment,
                        variants,
                    }
                ),
            ]
        })
        .boxed()
}

fn trigger(g: &Gen) -> BoxedStrategy<Trigger> {
    let arms: Vec<BoxedStrategy<Trigger>> = vec![
        (g.name.clone(), prop::option::of(condition(g)))
            .prop_map(|(event, filter)| Trigger::Event { event, filter })
            .boxed(),
        (
            g.name.clone(),
            prop::option::of(g.lit.clone()),
            prop::option::of(g.lit.clone()),
        )
            .prop_map(|(field, from, to)| Trigger::field_changed(field, from, to))
            .boxed(),
        (
            prop::sample::select(vec![Every::Day, Every::Week, Every::Month]),
            prop::collection::vec(weekday(), 0..3),
            prop::option::of(any::<u8>()),
            time_of_day(),
            prop::option::of(g.name.clone()),
        )
            .prop_map(
                |(every, days, day_of_month, at, time_zone)| Trigger::Schedule {
                    every,
                    days,
                    day_of_month,
                    at,
                    time_zone,
                },
            )
            .boxed(),
        (
            g.name.clone(),
            prop::option::of(duration()),
            prop::option::of(duration()),
            prop::option::of(time_of_day()),
            prop::option::of(g.name.clone()),
        )
            .prop_map(|(field, after, before, at, time_zone)| Trigger::Relative {
                field,
                after,
                before,
                at,
                time_zone,
            })
            .boxed(),
        (names(g, 2), prop::option::of(g.name.clone()), duration())
            .prop_map(|(events, field, duration)| Trigger::Inactivity {
                events,
                field,
                duration,
            })
            .boxed(),
        (
            g.name.clone(),
            prop::collection::vec((g.name.clone(), duration()), 0..3),
        )
            .prop_map(|(field, limits)| Trigger::StageTime {
                field,
                limits: limits.into_iter().collect(),
            })
            .boxed(),
    ];
    Union::new(arms).boxed()
}

fn expiry(g: &Gen) -> BoxedStrategy<Expiry> {
    (
        prop::option::of(instant()),
        prop::option::of(instant()),
        prop::option::of(condition(g)),
        prop::option::of(0u32..5),
        prop::option::of(duration()),
    )
        .prop_map(
            |(valid_from, valid_until, stop_when, max_fires, cooldown)| Expiry {
                valid_from,
                valid_until,
                stop_when,
                max_fires,
                cooldown,
            },
        )
        .boxed()
}

fn rule(g: &Gen) -> BoxedStrategy<Rule> {
    let head = (
        g.name.clone(),
        g.name.clone(),
        g.text.clone(),
        any::<bool>(),
        trigger(g),
        prop::option::of(condition(g)),
        prop::option::of(condition(g)),
    );
    let tail = (
        prop::collection::vec(action(g), 0..3),
        any::<i32>(),
        prop::option::of(g.name.clone()),
        any::<bool>(),
        expiry(g),
        any::<bool>(),
    );
    (head, tail)
        .prop_map(
            |(
                (id, name, description, enabled, trigger, scope, when),
                (actions, priority, group, becomes_true, expiry, repeat_in_cascade),
            )| {
                let mut r = Rule::new(id, name, trigger)
                    .description(description)
                    .priority(priority)
                    .fire(if becomes_true {
                        FireMode::WhenBecomesTrue
                    } else {
                        FireMode::EveryTime
                    });
                r.enabled = enabled;
                r.scope = scope;
                r.when = when;
                r.actions = actions;
                r.group = group;
                r.expiry = expiry;
                r.repeat_in_cascade = repeat_in_cascade;
                r
            },
        )
        .boxed()
}

fn rule_set(g: &Gen) -> BoxedStrategy<RuleSet> {
    (
        prop::option::of(g.name.clone()),
        prop::collection::vec(rule(g), 0..4),
    )
        .prop_map(|(time_zone, rules)| RuleSet { time_zone, rules })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// (a) Any rule set, written as JSON and read back, is the same rule set.
    #[test]
    fn rule_sets_round_trip_through_json(set in rule_set(&round_trip_gen())) {
        let text = set.to_json().unwrap();
        let again = RuleSet::from_json(&text);
        prop_assert_eq!(again.as_ref(), Ok(&set), "{}", text);
        // And the text is stable: writing the read set gives the same text.
        prop_assert_eq!(again.unwrap().to_json().unwrap(), text);
    }

    /// Conditions alone round-trip through serde too.
    #[test]
    fn conditions_round_trip_through_json(c in condition(&round_trip_gen())) {
        let json = serde_json::to_string(&c).unwrap();
        let again: Condition = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(again, c);
    }
}

// ---------------------------------------------------------------------------------------
// (b) A reference evaluator over a small fixed schema.
// ---------------------------------------------------------------------------------------

/// n: number, s: single choice a/b/c, t: text, g: tags, d: date-time.
fn small_schema() -> Schema {
    Schema::from_json(
        r#"{"fields": [
          {"name": "n", "type": "number"},
          {"name": "s", "type": "single_choice", "options": ["a", "b", "c"]},
          {"name": "t", "type": "text"},
          {"name": "g", "type": "tags"},
          {"name": "d", "type": "date_time"}
        ]}"#,
    )
    .expect("valid")
}

/// A customer of the small schema, as plain Rust values.
#[derive(Clone, Debug)]
struct Customer {
    /// A number, in quarters (so that decimals are exact).
    n: Option<i64>,
    s: Option<String>,
    t: Option<String>,
    g: Option<Vec<String>>,
    /// Hours from now.
    d: Option<i64>,
    /// `s` before the event.
    s_before: Option<String>,
    /// The event's `src` attribute.
    src: Option<String>,
}

impl Customer {
    fn record(&self, schema: &Schema) -> crm_rules::Record {
        let mut pairs: Vec<(&str, Value)> = Vec::new();
        if let Some(q) = self.n {
            let v = if q % 4 == 0 {
                Value::from(q / 4)
            } else {
                Value::from(Number::decimal(q as f64 / 4.0).expect("finite"))
            };
            pairs.push(("n", v));
        }
        if let Some(s) = &self.s {
            pairs.push(("s", Value::from(s.as_str())));
        }
        if let Some(t) = &self.t {
            pairs.push(("t", Value::from(t.as_str())));
        }
        if let Some(g) = &self.g {
            pairs.push(("g", Value::from(g.clone())));
        }
        if let Some(h) = self.d {
            pairs.push(("d", Value::from(now() + chrono::TimeDelta::hours(h))));
        }
        schema.record(pairs).expect("typed values")
    }

    fn before(&self, schema: &Schema) -> crm_rules::Record {
        let mut r = self.record(schema);
        let s = schema.field_id("s").expect("s");
        r.set(s, self.s_before.clone().map_or(Value::Absent, Value::from));
        r
    }

    fn event(&self) -> Event {
        let e = Event::new("e", "evt", now());
        match &self.src {
            Some(src) => e.attribute("src", src.as_str()),
            None => e,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Ord6 {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Clone, Copy, Debug)]
enum When {
    OlderThan,
    WithinLast,
    DueWithin,
}

/// A condition the reference evaluator understands.
#[derive(Clone, Debug)]
enum Spec {
    All(Vec<Spec>),
    Any(Vec<Spec>),
    Not(Box<Spec>),
    /// `n op literal`, the literal an integer.
    Num(Ord6, i64),
    /// `n in` / `n not_in`.
    NumIn(bool, Vec<i64>),
    /// `n between [lo, hi]`, lo ≤ hi, in quarters.
    NumBetween(i64, i64),
    /// `s eq` / `s ne`.
    Choice(bool, String),
    /// `s in` / `s not_in`.
    ChoiceIn(bool, Vec<String>),
    /// `old s eq`.
    OldChoice(String),
    /// `event src eq` / `ne`.
    Src(bool, String),
    /// `t contains` / `t starts_with`.
    Text(bool, String),
    TextAny(Vec<String>),
    HasTag(String),
    HasAny(Vec<String>),
    HasAll(Vec<String>),
    /// `exists` (true) or `is_empty` (false) on field n, s, t, g or d.
    Present(bool, &'static str),
    /// A time operator on d with a number of hours.
    Time(When, i64),
}

fn quarters(q: i64) -> Json {
    if q % 4 == 0 {
        json!(q / 4)
    } else {
        json!(q as f64 / 4.0)
    }
}

impl Spec {
    fn condition(&self) -> Condition {
        match self {
            Spec::All(items) => Condition::all(items.iter().map(Spec::condition)),
            Spec::Any(items) => Condition::any(items.iter().map(Spec::condition)),
            Spec::Not(inner) => Condition::negate(inner.condition()),
            Spec::Num(op, l) => {
                let f = Condition::field("n");
                match op {
                    Ord6::Eq => f.eq(*l),
                    Ord6::Ne => f.ne(*l),
                    Ord6::Lt => f.lt(*l),
                    Ord6::Lte => f.lte(*l),
                    Ord6::Gt => f.gt(*l),
                    Ord6::Gte => f.gte(*l),
                }
            }
            Spec::NumIn(false, ls) => Condition::field("n").is_in(ls.iter().copied()),
            Spec::NumIn(true, ls) => Condition::field("n").not_in(ls.iter().copied()),
            Spec::NumBetween(lo, hi) => Condition::field("n").between(quarters(*lo), quarters(*hi)),
            Spec::Choice(false, v) => Condition::field("s").eq(v.as_str()),
            Spec::Choice(true, v) => Condition::field("s").ne(v.as_str()),
            Spec::ChoiceIn(false, vs) => Condition::field("s").is_in(vs.iter().map(String::as_str)),
            Spec::ChoiceIn(true, vs) => Condition::field("s").not_in(vs.iter().map(String::as_str)),
            Spec::OldChoice(v) => Condition::old_value("s").eq(v.as_str()),
            Spec::Src(false, v) => Condition::event("src").eq(v.as_str()),
            Spec::Src(true, v) => Condition::event("src").ne(v.as_str()),
            Spec::Text(false, v) => Condition::field("t").contains(v.as_str()),
            Spec::Text(true, v) => Condition::field("t").starts_with(v.as_str()),
            Spec::TextAny(vs) => Condition::field("t").contains_any(vs.iter().map(String::as_str)),
            Spec::HasTag(v) => Condition::field("g").has_tag(v.as_str()),
            Spec::HasAny(vs) => Condition::field("g").has_any(vs.iter().map(String::as_str)),
            Spec::HasAll(vs) => Condition::field("g").has_all(vs.iter().map(String::as_str)),
            Spec::Present(true, f) => Condition::field(*f).exists(),
            Spec::Present(false, f) => Condition::field(*f).is_empty(),
            Spec::Time(w, h) => {
                let d = Duration::hours(*h).expect("in range");
                let f = Condition::field("d");
                match w {
                    When::OlderThan => f.older_than(d),
                    When::WithinLast => f.within_last(d),
                    When::DueWithin => f.due_within(d),
                }
            }
        }
    }

    /// The plain reading of the documented semantics.
    fn holds(&self, c: &Customer) -> bool {
        match self {
            Spec::All(items) => items.iter().all(|i| i.holds(c)),
            Spec::Any(items) => items.iter().any(|i| i.holds(c)),
            Spec::Not(inner) => !inner.holds(c),
            Spec::Num(op, l) => match c.n {
                // Absent equals nothing and orders against nothing.
                None => matches!(op, Ord6::Ne),
                Some(q) => {
                    let (x, l) = (q, l * 4);
                    match op {
                        Ord6::Eq => x == l,
                        Ord6::Ne => x != l,
                        Ord6::Lt => x < l,
                        Ord6::Lte => x <= l,
                        Ord6::Gt => x > l,
                        Ord6::Gte => x >= l,
                    }
                }
            },
            Spec::NumIn(not, ls) => {
                let hit = c.n.is_some_and(|q| ls.iter().any(|l| l * 4 == q));
                hit != *not
            }
            Spec::NumBetween(lo, hi) => c.n.is_some_and(|q| *lo <= q && q <= *hi),
            Spec::Choice(ne, v) => (c.s.as_ref() == Some(v)) != *ne,
            Spec::ChoiceIn(not, vs) => c.s.as_ref().is_some_and(|s| vs.contains(s)) != *not,
            Spec::OldChoice(v) => c.s_before.as_ref() == Some(v),
            Spec::Src(ne, v) => (c.src.as_ref() == Some(v)) != *ne,
            Spec::Text(false, v) => c.t.as_ref().is_some_and(|t| t.contains(v.as_str())),
            Spec::Text(true, v) => c.t.as_ref().is_some_and(|t| t.starts_with(v.as_str())),
            Spec::TextAny(vs) => {
                c.t.as_ref()
                    .is_some_and(|t| vs.iter().any(|v| t.contains(v.as_str())))
            }
            Spec::HasTag(v) => c.g.as_ref().is_some_and(|g| g.contains(v)),
            Spec::HasAny(vs) => {
                c.g.as_ref()
                    .is_some_and(|g| vs.iter().any(|v| g.contains(v)))
            }
            Spec::HasAll(vs) => {
                c.g.as_ref()
                    .is_some_and(|g| vs.iter().all(|v| g.contains(v)))
            }
            Spec::Present(exists, f) => {
                let empty = match *f {
                    "n" => c.n.is_none(),
                    "s" => c.s.is_none(),
                    "t" => c.t.as_ref().is_none_or(|t| t.trim().is_empty()),
                    "g" => c.g.as_ref().is_none_or(Vec::is_empty),
                    _ => c.d.is_none(),
                };
                empty != *exists
            }
            Spec::Time(w, h) => c.d.is_some_and(|d| match w {
                When::OlderThan => d <= -h,
                When::WithinLast => -h <= d && d <= 0,
                When::DueWithin => 0 <= d && d <= *h,
            }),
        }
    }
}

fn choice() -> BoxedStrategy<String> {
    prop::sample::select(vec!["a", "b", "c"])
        .prop_map(str::to_owned)
        .boxed()
}

fn tag() -> BoxedStrategy<String> {
    prop::sample::select(vec!["x", "y", "z"])
        .prop_map(str::to_owned)
        .boxed()
}

fn small_text() -> BoxedStrategy<String> {
    "[ab ]{0,4}".boxed()
}

fn customer() -> impl Strategy<Value = Customer> {
    (
        prop::option::of(-24i64..=24),
        prop::option::of(choice()),
        prop::option::of(small_text()),
        prop::option::of(prop::collection::vec(tag(), 0..3)),
        prop::option::of(-8i64..=8),
        prop::option::of(choice()),
        prop::option::of(choice()),
    )
        .prop_map(|(n, s, t, g, d, s_before, src)| Customer {
            n,
            s,
            t,
            g,
            d,
            s_before,
            src,
        })
}

fn spec() -> impl Strategy<Value = Spec> {
    let ord = prop::sample::select(vec![
        Ord6::Eq,
        Ord6::Ne,
        Ord6::Lt,
        Ord6::Lte,
        Ord6::Gt,
        Ord6::Gte,
    ]);
    let when = prop::sample::select(vec![When::OlderThan, When::WithinLast, When::DueWithin]);
    let some = |s: BoxedStrategy<String>| prop::collection::vec(s, 1..3);
    let leaf = Union::new(vec![
        (ord, -6i64..=6).prop_map(|(o, l)| Spec::Num(o, l)).boxed(),
        (any::<bool>(), prop::collection::vec(-6i64..=6, 1..3))
            .prop_map(|(not, ls)| Spec::NumIn(not, ls))
            .boxed(),
        (-24i64..=24, 0i64..=12)
            .prop_map(|(lo, width)| Spec::NumBetween(lo, lo + width))
            .boxed(),
        (any::<bool>(), choice())
            .prop_map(|(ne, v)| Spec::Choice(ne, v))
            .boxed(),
        (any::<bool>(), some(choice()))
            .prop_map(|(not, vs)| Spec::ChoiceIn(not, vs))
            .boxed(),
        choice().prop_map(Spec::OldChoice).boxed(),
        (any::<bool>(), choice())
            .prop_map(|(ne, v)| Spec::Src(ne, v))
            .boxed(),
        (any::<bool>(), "[ab ]{1,2}")
            .prop_map(|(starts, v)| Spec::Text(starts, v))
            .boxed(),
        some("[ab]{1,2}".boxed()).prop_map(Spec::TextAny).boxed(),
        tag().prop_map(Spec::HasTag).boxed(),
        some(tag()).prop_map(Spec::HasAny).boxed(),
        some(tag()).prop_map(Spec::HasAll).boxed(),
        (
            any::<bool>(),
            prop::sample::select(vec!["n", "s", "t", "g", "d"]),
        )
            .prop_map(|(exists, f)| Spec::Present(exists, f))
            .boxed(),
        (when, 0i64..=8).prop_map(|(w, h)| Spec::Time(w, h)).boxed(),
    ]);
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Spec::All),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Spec::Any),
            inner.prop_map(|i| Spec::Not(Box::new(i))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// (b) Compiled conditions agree with the reference evaluator.
    #[test]
    fn conditions_agree_with_a_reference_evaluator(
        spec in spec(),
        customers in prop::collection::vec(customer(), 1..6),
    ) {
        let schema = small_schema();
        let condition = spec.condition();
        let compiled = condition
            .compile(&schema)
            .map_err(|e| TestCaseError::fail(format!("{condition:?}: {e}")))?;
        // The JSON form compiles to the same condition.
        let json = serde_json::to_string(&condition).unwrap();
        let from_json: Condition = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&from_json.compile(&schema).unwrap(), &compiled);
        for c in &customers {
            let record = c.record(&schema);
            let before = c.before(&schema);
            let event = c.event();
            let facts = Facts::new(&record, now()).with_previous(&before).with_event(&event);
            prop_assert_eq!(compiled.evaluate(&facts), spec.holds(c), "{:?} on {:?}", spec, c);
        }
    }
}

// ---------------------------------------------------------------------------------------
// (c) No input panics.
// ---------------------------------------------------------------------------------------

/// Names the CRM schema knows (fields, options, event kinds and attributes), near misses
/// and junk.
fn crm_name() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "客户名称", "负责人", "客户经理", "客户状态", "跟进阶段", "预算", "跟进次数", "评分",
            "VIP", "标签", "产品兴趣", "手机号", "邮箱", "备注", "区域", "创建时间",
            "最近跟进时间", "合同到期日", "新客户", "成交客户", "商务谈判", "CRM",
            "lead_created", "order_placed", "email_opened", "source", "amount", "展会活动",
            "Asia/Shanghai", "UTC", "li.wei",
        ])
        .prop_map(str::to_owned),
        1 => prop::sample::select(vec!["", " ", "客户装态", "成交客戶", "x", "Mars/Base"])
            .prop_map(str::to_owned),
        1 => any_text(4),
    ]
    .boxed()
}

/// Texts: templates with good, bad and unclosed placeholders, and junk.
fn crm_text() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "{{客户名称}}",
            "{{ 手机号 }}",
            "{{邮箱}}",
            "{{标签}}",
            "{{客户名}}",
            "{{",
            "}}",
            "{{}}",
            "回访 ",
            "{",
            "}",
        ])
        .prop_map(str::to_owned),
        any_text(3),
    ];
    prop::collection::vec(piece, 0..5)
        .prop_map(|p| p.concat())
        .boxed()
}

/// Literals of every JSON type, some of them right for some field.
fn crm_literal() -> BoxedStrategy<Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_map(Json::from),
        (-20i64..20).prop_map(Json::from),
        prop::sample::select(vec![
            "新客户",
            "成交客户",
            "成交客戶",
            "CRM",
            "ERP",
            "2024-05-20",
            "2024-05-20T09:00:00Z",
            "2024-05-20T09:00:00+08:00",
            "3d",
            "1d12h",
            "3x",
            "0s",
            "",
            "abc",
            "13812345678",
            "li@example.com",
            "展会活动",
            "{{客户名称}}",
        ])
        .prop_map(Json::from),
        crm_name().prop_map(Json::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Json::Array),
            prop::collection::vec((crm_name(), inner), 0..2)
                .prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

fn crm_gen() -> Gen {
    Gen {
        name: crm_name(),
        text: crm_text(),
        lit: crm_literal(),
        payload: crm_literal(),
    }
}

/// A customer of the CRM schema with values of the right kinds, as JSON.
fn crm_customer() -> BoxedStrategy<Json> {
    let text = prop_oneof![
        prop::sample::select(vec![
            "新客户",
            "成交客户",
            "商务谈判",
            "CRM",
            "华为",
            "",
            "  "
        ])
        .prop_map(str::to_owned),
        any_text(4),
    ];
    let texts = prop::collection::vec(text.clone(), 0..3);
    let number = prop_oneof![
        any::<i64>().prop_map(Json::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Json::from),
    ];
    let at = instant().prop_map(|t| Json::from(t.to_rfc3339()));
    let day = instant().prop_map(|t| Json::from(t.format("%Y-%m-%d").to_string()));
    (
        (
            prop::option::of(text.clone()),
            prop::option::of(text.clone()),
            prop::option::of(text.clone()),
            prop::option::of(text.clone()),
            prop::option::of(number),
            prop::option::of(any::<i64>()),
            prop::option::of(-3i64..9),
        ),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(texts.clone()),
            prop::option::of(texts),
            prop::option::of(text.clone()),
            prop::option::of(text),
            prop::option::of(at.clone()),
            prop::option::of(at),
            prop::option::of(day),
        ),
    )
        .prop_map(
            |(
                (name, owner, status, stage, budget, times, rating),
                (vip, tags, interest, phone, note, created, followed, due),
            )| {
                let mut o = serde_json::Map::new();
                let mut put = |k: &str, v: Option<Json>| {
                    if let Some(v) = v {
                        o.insert(k.to_owned(), v);
                    }
                };
                put("客户名称", name.map(Json::from));
                put("负责人", owner.map(Json::from));
                put("客户状态", status.map(Json::from));
                put("跟进阶段", stage.map(Json::from));
                put("预算", budget);
                put("跟进次数", times.map(Json::from));
                put("评分", rating.map(Json::from));
                put("VIP", vip.map(Json::from));
                put("标签", tags.map(Json::from));
                put("产品兴趣", interest.map(Json::from));
                put("手机号", phone.map(Json::from));
                put("备注", note.map(Json::from));
                put("创建时间", created);
                put("最近跟进时间", followed);
                put("合同到期日", due);
                Json::Object(o)
            },
        )
        .boxed()
}

fn crm_event() -> BoxedStrategy<Event> {
    (
        prop::sample::select(vec!["lead_created", "order_placed", "page_view"]),
        prop::collection::vec((crm_name(), crm_literal()), 0..3),
    )
        .prop_map(|(kind, attributes)| {
            attributes
                .into_iter()
                .filter_map(|(k, v)| Value::from_json_untyped(&v).map(|v| (k, v)))
                .fold(Event::new(kind, "evt", now()), |e, (k, v)| {
                    e.attribute(k, v)
                })
        })
        .boxed()
}

/// Tokens that JSON texts of schemas and rule sets are made of.
fn json_soup() -> BoxedStrategy<String> {
    let token = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\n",
        "\"",
        "\\",
        "null",
        "true",
        "false",
        "0",
        "-1",
        "1e400",
        "3.5",
        "\"rules\"",
        "\"fields\"",
        "\"id\"",
        "\"name\"",
        "\"type\"",
        "\"trigger\"",
        "\"event\"",
        "\"actions\"",
        "\"when\"",
        "\"field\"",
        "\"op\"",
        "\"value\"",
        "\"all\"",
        "\"not\"",
        "\"eq\"",
        "\"text\"",
        "\"number\"",
        "\"options\"",
        "\"add_tag\"",
        "\"tag\"",
        "\"客户状态\"",
        "\"新客户\"",
        "\"3d\"",
        "\"09:00\"",
    ]);
    prop::collection::vec(token, 0..60)
        .prop_map(|t| t.concat())
        .boxed()
}

const GOOD_RULES: &str = r#"{"time_zone": "Asia/Shanghai", "rules": [{
  "id": "new-3d", "name": "新客户3天未跟进提醒",
  "trigger": {"type": "relative", "field": "创建时间", "after": "3d", "at": "09:00"},
  "when": {"all": [{"field": "客户状态", "op": "eq", "value": "新客户"},
                   {"field": "预算", "op": "gte", "value": 100000}]},
  "actions": [{"type": "notify", "channel": "in_app", "to": ["owner"],
               "template": "{{客户名称}} 创建3天仍未跟进"},
              {"type": "ab_split", "experiment": "e", "variants": [
                 {"name": "A", "weight": 1, "actions": [{"type": "add_tag", "tag": "A"}]},
                 {"name": "B", "weight": 2, "actions": [{"type": "add_tag", "tag": "B"}]}]}],
  "expiry": {"stop_when": {"field": "客户状态", "op": "eq", "value": "成交客户"}, "cooldown": "1d"}
}]}"#;

/// Loads, compiles and (for conditions) evaluates whatever the text gives; nothing may panic.
fn exercise_text(text: &str) {
    let schema = crm_with_events();
    if let Ok(set) = RuleSet::from_json(text) {
        let _ = set.compile(&schema);
        let _ = set.compile(&crm());
    }
    if let Ok(s) = Schema::from_json(text) {
        let _ = RuleSet::from_json(GOOD_RULES).unwrap().compile(&s);
        let _ = s.validate_json(&json!({"客户名称": "华为"}), now());
    }
    if let Ok(json) = serde_json::from_str::<Json>(text) {
        let _ = schema.validate_json(&json, now());
        if let Ok(c) = serde_json::from_value::<Condition>(json) {
            if let Ok(compiled) = c.compile(&schema) {
                let r = crm_rules::Record::new(&schema);
                let _ = compiled.evaluate(&Facts::new(&r, now()));
            }
        }
    }
    let _ = Template::compile(text, &schema);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// (c) Random JSON-ish text never panics the loaders.
    #[test]
    fn random_json_text_never_panics(text in json_soup()) {
        exercise_text(&text);
    }

    /// Random bytes, read as text, never panic the loaders.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        exercise_text(&String::from_utf8_lossy(&bytes));
    }

    /// A valid rule set with a cut, an insertion or both never panics the loaders.
    #[test]
    fn mutated_rule_sets_never_panic(
        cut in 0..GOOD_RULES.len(),
        len in 0usize..20,
        insert in json_soup(),
    ) {
        let mut text = GOOD_RULES.to_owned();
        let at = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let end = (at + len..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
        text.replace_range(at..end, &insert);
        exercise_text(&text);
    }

    /// Random JSON values never panic schema loading, rule loading or record reading.
    #[test]
    fn random_json_values_never_panic(v in crm_literal(), w in exact_json()) {
        for json in [&v, &w] {
            exercise_text(&json.to_string());
            exercise_text(&json!({"rules": [json]}).to_string());
            exercise_text(&json!({"fields": [json]}).to_string());
            let schema = crm();
            let _ = schema.record_from_json(json);
            let _ = schema.validate_json(&json!({"客户名称": json, "预算": json, "标签": json, "创建时间": json}), now());
        }
    }

    /// Random rules over the CRM's names and literals never panic the compiler, with the
    /// default limits or tight ones.
    #[test]
    fn random_rules_never_panic_the_compiler(set in rule_set(&crm_gen())) {
        for schema in [crm(), crm_with_events()] {
            let _ = set.compile(&schema);
            let _ = set.compile_with(&schema, &Limits::default().max_depth(1).max_actions(2).max_text_chars(5));
        }
        let _ = RuleSet::from_json(&set.to_json().unwrap()).map(|s| s.compile(&crm()));
    }

    /// Random conditions that compile evaluate without panicking on random customers,
    /// events and previous values.
    #[test]
    fn compiled_conditions_never_panic_when_evaluated(
        c in condition(&crm_gen()),
        customer in crm_customer(),
        before in crm_customer(),
        event in crm_event(),
        hours in -1_000_000i64..1_000_000,
    ) {
        let schema = crm();
        let record = schema.record_from_json(&customer);
        prop_assert!(record.is_ok(), "{}: {:?}", customer, record);
        let record = record.unwrap();
        let before = schema.record_from_json(&before).unwrap();
        let _ = schema.validate(&record, now());
        let at = now() + chrono::TimeDelta::hours(hours);
        if let Ok(compiled) = c.compile(&schema) {
            let _ = compiled.evaluate(&Facts::new(&record, at));
            let _ = compiled.evaluate(&Facts::new(&record, at).with_event(&event).with_previous(&before));
        }
        let text = "{{客户名称}} {{手机号}} {{标签}} {{预算}} {{创建时间}}";
        let _ = Template::compile(text, &schema).unwrap().render(&record);
    }
}
