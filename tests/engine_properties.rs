//! Properties of the evaluation engine, over generated rule sets, customers and events:
//!
//! - the same input twice (and through two engines built from the same rules) gives the
//!   identical plan, byte for byte;
//! - shuffling rules that have distinct priorities does not change any plan;
//! - random events (any kind, attributes and changes, unknown fields and wrong types,
//!   extreme times) and customers holding values of any kind never make it panic;
//! - rules with nothing to check but a condition of comparisons under one `all`/`any`
//!   (which an untraced evaluation runs as flat checks) fire exactly as the traced
//!   evaluation of their condition trees says, for customers holding values of any kind;
//! - cascades always terminate: the work of rounds up to the depth limit is kept,
//!   `plan.cascade_limit` is set exactly when a deeper limit would have gone further, and
//!   a plan without it is the plan of an unlimited engine.

use chrono::{DateTime, Duration as Span, NaiveDate, TimeZone, Utc};
use crm_rules::{
    Context, CustomerState, Engine, Event, Input, Number, Plan, Record, RuleSet, Schema, Value,
};
use proptest::prelude::*;
use serde_json::{json, Value as Json};

const CASES: u32 = 96;

const SCHEMA: &str = r#"{
  "owner_field": "负责人",
  "fields": [
    {"name": "名称", "type": "text"},
    {"name": "负责人", "type": "member"},
    {"name": "经理", "type": "member"},
    {"name": "状态", "type": "single_choice", "options": ["新", "旧", "成交"]},
    {"name": "数量", "type": "integer"},
    {"name": "金额", "type": "number"},
    {"name": "标签", "type": "tags"},
    {"name": "手机", "type": "phone", "sensitive": true},
    {"name": "日期", "type": "date"},
    {"name": "时间", "type": "date_time"},
    {"name": "VIP", "type": "bool"}
  ]
}"#;

const FIELDS: [&str; 11] = [
    "名称",
    "负责人",
    "经理",
    "状态",
    "数量",
    "金额",
    "标签",
    "手机",
    "日期",
    "时间",
    "VIP",
];

const KINDS: [&str; 3] = ["k1", "k2", "k3"];

fn schema() -> Schema {
    Schema::from_json(SCHEMA).expect("the property schema is valid")
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap()
}

fn engine(rules: &[Json], depth: usize) -> Engine {
    let set = json!({"time_zone": "Asia/Shanghai", "rules": rules});
    let rules = RuleSet::from_json(&set.to_string()).unwrap_or_else(|e| panic!("{e}\n{set}"));
    Engine::builder(schema())
        .rules(rules)
        .cascade_depth(depth)
        .build()
        .unwrap_or_else(|e| panic!("{e}\n{set:#}"))
}

// ---------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------

/// Comparisons on the customer, valid in every part of a rule.
fn customer_leaf() -> BoxedStrategy<Json> {
    let count = (
        prop::sample::select(KINDS.to_vec()),
        1u32..4,
        prop::sample::select(vec!["1h", "1d", "7d"]),
    )
        .prop_map(|(k, n, w)| json!({"count": k, "at_least": n, "within": w}));
    prop_oneof![
        4 => count,
        12 => comparison(),
    ]
    .boxed()
}

fn comparison() -> BoxedStrategy<Json> {
    prop_oneof![
        (0i64..5).prop_map(|n| json!({"field": "数量", "op": "gte", "value": n})),
        Just(json!({"field": "状态", "op": "eq", "value": "新"})),
        Just(json!({"field": "状态", "op": "in", "value": ["旧", "成交"]})),
        Just(json!({"field": "标签", "op": "has_tag", "value": "t1"})),
        Just(json!({"field": "标签", "op": "has_any", "value": ["t2", "t3"]})),
        Just(json!({"field": "VIP", "op": "eq", "value": true})),
        Just(json!({"field": "金额", "op": "between", "value": [10, 1000]})),
        Just(json!({"field": "名称", "op": "contains_any", "value": ["价格高", "竞品"]})),
        Just(json!({"field": "手机", "op": "exists"})),
        Just(json!({"field": "时间", "op": "older_than", "value": "3d"})),
        Just(json!({"field": "日期", "op": "due_within", "value": "7d"})),
        Just(json!({"field": "负责人", "op": "is_empty"})),
    ]
    .boxed()
}

/// Comparisons that need an event: its attributes, and old values.
fn event_leaf() -> BoxedStrategy<Json> {
    prop_oneof![
        (0i64..200).prop_map(|n| json!({"event": "amount", "op": "gte", "value": n})),
        Just(json!({"event": "source", "op": "eq", "value": "展会"})),
        Just(json!({"event": "source", "op": "exists"})),
        Just(json!({"old": "状态", "op": "ne", "value": "成交"})),
        Just(json!({"new": "数量", "op": "gt", "value": 2})),
    ]
    .boxed()
}

fn tree(leaf: BoxedStrategy<Json>) -> BoxedStrategy<Json> {
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"all": v})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"any": v})),
            inner.prop_map(|c| json!({"not": c})),
        ]
    })
    .boxed()
}

fn customer_condition() -> BoxedStrategy<Json> {
    tree(customer_leaf())
}

fn event_condition() -> BoxedStrategy<Json> {
    tree(prop_oneof![customer_leaf(), event_leaf()].boxed())
}

// ---------------------------------------------------------------------------------------
// Actions and rules
// ---------------------------------------------------------------------------------------

/// Writes to fields: the actions through which rules trigger each other.
fn write_action() -> BoxedStrategy<Json> {
    prop_oneof![
        prop::sample::select(vec!["新", "旧", "成交"])
            .prop_map(|v| json!({"type": "set_field", "field": "状态", "value": v})),
        Just(json!({"type": "set_field", "field": "状态", "value": null})),
        (0i64..5).prop_map(|n| json!({"type": "set_field", "field": "数量", "value": n})),
        any::<bool>().prop_map(|b| json!({"type": "set_field", "field": "VIP", "value": b})),
        Just(json!({"type": "set_field", "field": "时间", "from_now": "1d"})),
        Just(json!({"type": "set_field", "field": "日期", "from_now": "2d"})),
        (-2i64..3).prop_map(|n| json!({"type": "increment", "field": "数量", "by": n})),
        Just(json!({"type": "increment", "field": "金额", "by": 2.5})),
        prop::sample::select(vec!["t1", "t2", "t3"])
            .prop_map(|t| json!({"type": "add_tag", "tag": t})),
        prop::sample::select(vec!["t1", "t2", "t3"])
            .prop_map(|t| json!({"type": "remove_tag", "tag": t})),
    ]
    .boxed()
}

fn assignment() -> BoxedStrategy<Json> {
    prop_oneof![
        Just(json!({"type": "fixed", "user": "wang"})),
        Just(json!({"type": "table", "field": "状态", "map": {"新": "li", "成交": "zhao"}, "default": "pool"})),
        Just(json!({"type": "round_robin", "pool": ["wang", "li", "zhao"]})),
        Just(json!({"type": "least_loaded", "pool": ["wang", "li", "zhao"]})),
        Just(json!({"type": "hash", "pool": ["wang", "li"]})),
    ]
    .boxed()
}

/// Any action a rule triggered by an event may take; `i` makes ids unique in the set.
fn action(i: usize) -> BoxedStrategy<Json> {
    let task = json!({"type": "create_task", "title": "跟进 {{名称}} {{手机}}", "due_in": "1d"});
    prop_oneof![
        4 => write_action(),
        1 => Just(json!({"type": "set_field", "field": "金额", "from_event": "amount"})),
        1 => Just(json!({"type": "increment", "field": "金额", "by_event": "amount"})),
        2 => (assignment(), any::<bool>()).prop_map(|(s, manager)| if manager {
            json!({"type": "assign_owner", "field": "经理", "strategy": s})
        } else {
            json!({"type": "assign_owner", "strategy": s})
        }),
        1 => Just(task.clone()),
        1 => Just(json!({"type": "create_task", "title": "复核", "assignee": {"field": "经理"}, "priority": "high"})),
        1 => Just(json!({"type": "notify", "channel": "sms", "to": ["owner"],
                          "cc": [{"contact": "手机"}, {"role": "主管"}], "subject": "{{名称}}",
                          "template": "{{名称}}（{{手机}}）金额 {{金额}} 时间 {{时间}}"})),
        1 => Just(json!({"type": "sync", "target": "erp", "mapping": {"名称": "name", "手机": "phone", "金额": "amount"}})),
        1 => Just(json!({"type": "request_approval", "field": "状态", "value": "成交",
                          "approver": {"role": "经理"}, "reason": "{{名称}}"})),
        1 => Just(json!({"type": "start_sequence", "sequence": format!("seq{i}"),
                          "steps": [{"after": "1d", "at": "10:00", "actions": [task.clone()]},
                                    {"after": "2d", "actions": [task]}]})),
        1 => (write_action(), write_action()).prop_map(move |(a, b)| json!({
            "type": "ab_split", "experiment": format!("exp{i}"),
            "variants": [{"name": "A", "weight": 1, "actions": [a]},
                         {"name": "B", "weight": 2, "actions": [b]}]})),
        1 => Just(json!({"type": "custom", "kind": "audit", "payload": {"n": 1}})),
    ]
    .boxed()
}

fn trigger() -> BoxedStrategy<Json> {
    prop_oneof![
        (
            prop::sample::select(KINDS.to_vec()),
            prop::option::of(event_condition())
        )
            .prop_map(|(k, w)| match w {
                Some(w) => json!({"type": "event", "event": k, "where": w}),
                None => json!({"type": "event", "event": k}),
            }),
        prop::sample::select(vec![
            json!({"type": "field_changed", "field": "状态"}),
            json!({"type": "field_changed", "field": "状态", "to": "成交"}),
            json!({"type": "field_changed", "field": "状态", "from": "新"}),
            json!({"type": "field_changed", "field": "数量"}),
            json!({"type": "field_changed", "field": "金额"}),
            json!({"type": "field_changed", "field": "标签"}),
            json!({"type": "field_changed", "field": "负责人"}),
            json!({"type": "field_changed", "field": "VIP", "to": true}),
        ]),
    ]
    .boxed()
}

fn expiry() -> BoxedStrategy<Json> {
    (
        prop::option::of(prop::sample::select(vec!["1h", "1d", "7d"])),
        prop::option::of(1u32..3),
        prop::option::of(customer_condition()),
        prop::option::of(-48i64..48),
    )
        .prop_map(|(cooldown, max_fires, stop_when, until)| {
            let mut e = serde_json::Map::new();
            if let Some(c) = cooldown {
                e.insert("cooldown".into(), json!(c));
            }
            if let Some(m) = max_fires {
                e.insert("max_fires".into(), json!(m));
            }
            if let Some(s) = stop_when {
                e.insert("stop_when".into(), s);
            }
            if let Some(h) = until {
                let t = base() + Span::hours(h);
                e.insert("valid_until".into(), json!(t.to_rfc3339()));
            }
            Json::Object(e)
        })
        .boxed()
}

/// A rule with index `i` (id `r{i}`) and priority 0; callers set priorities.
fn rule(i: usize) -> BoxedStrategy<Json> {
    (
        trigger(),
        prop::option::of(event_condition()),
        prop::option::of(customer_condition()),
        (1usize..4).prop_flat_map(move |k| (0..k).map(|j| action(i * 10 + j)).collect::<Vec<_>>()),
        prop::option::of(prop::sample::select(vec!["g1", "g2"])),
        any::<bool>(),
        prop::option::weighted(0.3, expiry()),
        any::<bool>(),
        prop::bool::weighted(0.9),
    )
        .prop_map(
            move |(trigger, when, scope, actions, group, becomes, expiry, repeat, enabled)| {
                let mut r = json!({"id": format!("r{i}"), "name": format!("规则{i}"),
                                   "trigger": trigger, "actions": actions});
                let o = r.as_object_mut().unwrap();
                if becomes && when.is_some() {
                    o.insert("fire".into(), json!("when_becomes_true"));
                }
                if let Some(w) = when {
                    o.insert("when".into(), w);
                }
                if let Some(s) = scope {
                    o.insert("scope".into(), s);
                }
                if let Some(g) = group {
                    o.insert("group".into(), json!(g));
                }
                if let Some(e) = expiry {
                    o.insert("expiry".into(), e);
                }
                if repeat {
                    o.insert("repeat_in_cascade".into(), json!(true));
                }
                if !enabled {
                    o.insert("enabled".into(), json!(false));
                }
                r
            },
        )
        .boxed()
}

/// 1 to 7 rules with given priorities (`distinct`: all different; else from 0..3).
fn rules(distinct: bool) -> BoxedStrategy<Vec<Json>> {
    (1usize..8)
        .prop_flat_map(move |n| {
            let rules: Vec<BoxedStrategy<Json>> = (0..n).map(rule).collect();
            let priorities = if distinct {
                Just((0..n as i32).map(|p| p * 10 - 20).collect::<Vec<_>>())
                    .prop_shuffle()
                    .boxed()
            } else {
                prop::collection::vec(0i32..3, n).boxed()
            };
            (rules, priorities)
        })
        .prop_map(|(mut rules, priorities)| {
            for (r, p) in rules.iter_mut().zip(priorities) {
                r["priority"] = json!(p);
            }
            rules
        })
        .boxed()
}

/// Names the flat comparisons use (the first seven) and near misses of them, around the
/// 15 bytes up to which a text's key holds the text itself.
const NAMES: [&str; 12] = [
    "",
    "a",
    "甲公司",
    "甲公司甲公",
    "abcdefghijklmno",
    "abcdefghijklmnop",
    "abcdefghijklmnopq",
    "b",
    "甲公司甲乙",
    "abcdefghijklmnn",
    "abcdefghijklmnoq",
    "abcdefghijklmnopr",
];

/// Comparisons of every operator a flat check supports, with literals that match and
/// literals that do not (decimals and other operators keep the tree).
fn flat_comparison() -> BoxedStrategy<Json> {
    let choice = prop::sample::select(vec!["新", "旧", "成交"]);
    let tag = prop::sample::select(vec!["t1", "t2", "t3", "t4"]);
    let name = prop::sample::select(NAMES[..7].to_vec());
    let int_op = prop::sample::select(vec!["eq", "ne", "lt", "lte", "gt", "gte"]);
    prop_oneof![
        1 => (prop::sample::select(vec!["eq", "ne"]), choice.clone())
            .prop_map(|(op, v)| json!({"field": "状态", "op": op, "value": v})),
        1 => (
            prop::sample::select(vec!["in", "not_in"]),
            prop::collection::vec(choice, 1..4)
        )
            .prop_map(|(op, v)| json!({"field": "状态", "op": op, "value": v})),
        1 => (prop::sample::select(vec!["eq", "ne"]), name.clone())
            .prop_map(|(op, v)| json!({"field": "名称", "op": op, "value": v})),
        1 => prop::collection::vec(name, 1..4)
            .prop_map(|v| json!({"field": "名称", "op": "in", "value": v})),
        1 => tag.prop_map(|t| json!({"field": "标签", "op": "has_tag", "value": t})),
        3 => (int_op.clone(), -1i64..2)
            .prop_map(|(op, n)| json!({"field": "数量", "op": op, "value": n})),
        3 => (int_op.clone(), -1i64..2)
            .prop_map(|(op, n)| json!({"field": "金额", "op": op, "value": n})),
        1 => (int_op, -1i64..2)
            .prop_map(|(op, n)| json!({"field": "金额", "op": op, "value": n as f64 + 0.5})),
        1 => Just(json!({"field": "手机", "op": "exists"})),
    ]
    .boxed()
}

/// Plain rules (an event trigger and a condition, nothing else to check) whose
/// conditions are mostly flat: one comparison, or comparisons under one `all`/`any`.
fn flat_rules() -> BoxedStrategy<Vec<Json>> {
    rules_of_flat_conditions(1..12, false)
}

/// As [`flat_rules`], `count` of them; with `writes`, a third of them also set 状态 or
/// add a tag, which the rules after them see.
fn rules_of_flat_conditions(
    count: std::ops::Range<usize>,
    writes: bool,
) -> BoxedStrategy<Vec<Json>> {
    let condition = prop_oneof![
        3 => flat_comparison(),
        4 => prop::collection::vec(flat_comparison(), 1..5).prop_map(|v| json!({"all": v})),
        3 => prop::collection::vec(flat_comparison(), 1..5).prop_map(|v| json!({"any": v})),
        1 => tree(flat_comparison()),
    ];
    let write = prop_oneof![
        prop::sample::select(vec!["新", "旧", "成交"])
            .prop_map(|v| json!({"type": "set_field", "field": "状态", "value": v})),
        prop::sample::select(vec!["t1", "t2", "t3", "t4"])
            .prop_map(|t| json!({"type": "add_tag", "tag": t})),
    ];
    let write = if writes {
        prop::option::weighted(0.33, write).boxed()
    } else {
        Just(None).boxed()
    };
    let rule = (
        prop::option::weighted(0.9, condition),
        0i32..3,
        prop::sample::select(KINDS.to_vec()),
        any::<bool>(),
        write,
    );
    prop::collection::vec(rule, count)
        .prop_map(|rules| {
            rules
                .into_iter()
                .enumerate()
                .map(|(i, (when, priority, kind, two, write))| {
                    let mut actions = vec![json!({"type": "custom", "kind": format!("a{i}")})];
                    if two {
                        actions.push(json!({"type": "custom", "kind": "audit", "payload": {"rule": i}}));
                    }
                    actions.extend(write);
                    let mut r = json!({"id": format!("r{i}"), "name": format!("规则{i}"), "priority": priority,
                                       "trigger": {"type": "event", "event": kind},
                                       "actions": actions});
                    if let Some(w) = when {
                        r["when"] = w;
                    }
                    r
                })
                .collect()
        })
        .boxed()
}

/// A customer whose fields hold values of their kind (numbers near the literals of
/// [`flat_comparison`]), or of any kind.
fn any_customer() -> BoxedStrategy<Vec<(&'static str, Value)>> {
    let near = |f: &str| match f {
        "数量" => (-1i64..2).prop_map(Value::from).boxed(),
        "名称" => prop::sample::select(NAMES.to_vec())
            .prop_map(Value::from)
            .boxed(),
        "金额" => prop::sample::select(vec![-1.0, 0.0, 0.5, 1.0, 1.5])
            .prop_map(|d| Value::Number(Number::decimal(d).unwrap_or(Number::from(0))))
            .boxed(),
        _ => value_for(f),
    };
    customer_of(|f| prop_oneof![3 => near(f), 1 => value()].boxed())
}

// ---------------------------------------------------------------------------------------
// Customers, events, contexts
// ---------------------------------------------------------------------------------------

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(vec![
            "新",
            "旧",
            "成交",
            "价格高",
            "",
            "  ",
            "13812345678",
            "wang",
            "t1",
            "展会"
        ])
        .prop_map(str::to_owned),
        "\\PC{0,8}",
    ]
    .boxed()
}

fn date() -> BoxedStrategy<NaiveDate> {
    prop_oneof![
        (-400i64..400).prop_map(|d| base().date_naive() + Span::days(d)),
        Just(NaiveDate::MIN),
        Just(NaiveDate::MAX),
    ]
    .boxed()
}

fn instant() -> BoxedStrategy<DateTime<Utc>> {
    prop_oneof![
        8 => (-10_000i64..10_000).prop_map(|h| base() + Span::hours(h)),
        1 => Just(DateTime::<Utc>::MIN_UTC),
        1 => Just(DateTime::<Utc>::MAX_UTC),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        (-1000i32..1000).prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::decimal),
    ]
    .boxed()
}

/// A value of any kind.
fn value() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Absent),
        text().prop_map(Value::Text),
        number().prop_map(Value::Number),
        any::<bool>().prop_map(Value::Bool),
        date().prop_map(Value::Date),
        instant().prop_map(Value::DateTime),
        prop::collection::vec(text(), 0..3).prop_map(Value::List),
    ]
    .boxed()
}

/// A value of the kind a field holds.
fn value_for(field: &str) -> BoxedStrategy<Value> {
    match field {
        "状态" => prop::sample::select(vec!["新", "旧", "成交"])
            .prop_map(Value::from)
            .boxed(),
        "数量" => (-3i64..6).prop_map(Value::from).boxed(),
        "金额" => number().prop_map(Value::Number).boxed(),
        "标签" => prop::collection::vec(
            prop::sample::select(vec!["t1", "t2", "t3"]).prop_map(str::to_owned),
            0..3,
        )
        .prop_map(Value::List)
        .boxed(),
        "日期" => date().prop_map(Value::Date).boxed(),
        "时间" => instant().prop_map(Value::DateTime).boxed(),
        "VIP" => any::<bool>().prop_map(Value::Bool).boxed(),
        _ => text().prop_map(Value::Text).boxed(),
    }
}

/// A customer: each field absent or holding a value of its kind.
fn customer() -> BoxedStrategy<Vec<(&'static str, Value)>> {
    customer_of(value_for)
}

/// A customer: each field absent or holding a value drawn for it by `value`.
fn customer_of(
    value: impl Fn(&str) -> BoxedStrategy<Value>,
) -> BoxedStrategy<Vec<(&'static str, Value)>> {
    let fields: Vec<BoxedStrategy<Option<(&'static str, Value)>>> = FIELDS
        .iter()
        .map(|f| prop::option::of(value(f).prop_map(move |v| (*f, v))).boxed())
        .collect();
    fields
        .prop_map(|v| v.into_iter().flatten().collect())
        .boxed()
}

fn record_of(schema: &Schema, fields: &[(&str, Value)]) -> Record {
    let mut record = Record::new(schema);
    for (name, v) in fields {
        record.set(schema.field_id(name).unwrap(), v.clone());
    }
    record
}

#[derive(Clone, Debug)]
struct EventSpec {
    kind: String,
    id: String,
    time: DateTime<Utc>,
    attributes: Vec<(String, Value)>,
    changes: Vec<(String, Value)>,
}

impl EventSpec {
    fn event(&self) -> Event {
        let mut e = Event::new(self.kind.clone(), self.id.clone(), self.time);
        for (k, v) in &self.attributes {
            e = e.attribute(k.clone(), v.clone());
        }
        for (k, v) in &self.changes {
            e = e.change(k.clone(), v.clone());
        }
        e
    }
}

fn name_of(known: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(known).prop_map(str::to_owned),
        1 => "\\PC{0,6}",
    ]
    .boxed()
}

/// A well-formed event: known kinds, typed changes, mostly plausible attributes.
fn plausible_event() -> BoxedStrategy<EventSpec> {
    let change = prop::sample::select(FIELDS.to_vec())
        .prop_flat_map(|f| value_for(f).prop_map(move |v| (f.to_owned(), v)));
    (
        prop::sample::select(KINDS.to_vec()),
        "[a-z0-9]{1,6}",
        (-72i64..72).prop_map(|h| base() + Span::hours(h)),
        prop::option::of((0i64..300).prop_map(Value::from)),
        prop::option::of(prop::sample::select(vec!["展会", "官网"])),
        prop::collection::vec(change, 0..3),
    )
        .prop_map(|(kind, id, time, amount, source, changes)| {
            let mut attributes = Vec::new();
            if let Some(a) = amount {
                attributes.push(("amount".to_owned(), a));
            }
            if let Some(s) = source {
                attributes.push(("source".to_owned(), Value::from(s)));
            }
            EventSpec {
                kind: kind.to_owned(),
                id,
                time,
                attributes,
                changes,
            }
        })
        .boxed()
}

/// Any event: any kind, attributes and changes of any kind, unknown fields, any time.
fn wild_event() -> BoxedStrategy<EventSpec> {
    const KIND_NAMES: &[&str] = &["k1", "k2", "k3", "zzz", ""];
    const ATTRS: &[&str] = &["amount", "source", "x"];
    const CHANGE_NAMES: &[&str] = &[
        "名称",
        "负责人",
        "经理",
        "状态",
        "数量",
        "金额",
        "标签",
        "手机",
        "日期",
        "时间",
        "VIP",
        "未知字段",
    ];
    (
        name_of(KIND_NAMES),
        "\\PC{0,6}",
        instant(),
        prop::collection::vec((name_of(ATTRS), value()), 0..4),
        prop::collection::vec((name_of(CHANGE_NAMES), value()), 0..4),
    )
        .prop_map(|(kind, id, time, attributes, changes)| EventSpec {
            kind,
            id,
            time,
            attributes,
            changes,
        })
        .boxed()
}

fn context() -> BoxedStrategy<Context> {
    (
        prop::option::of(any::<u64>()),
        prop::collection::vec(
            (
                prop::sample::select(vec!["wang", "li", "zhao", "x"]),
                any::<u32>(),
            ),
            0..4,
        ),
    )
        .prop_map(|(counter, loads)| {
            let mut c = Context::default();
            if let Some(n) = counter {
                c = c.counter("wang,li,zhao", n);
            }
            for (u, n) in loads {
                c = c.load(u, n);
            }
            c
        })
        .boxed()
}

/// Runs events one after another as a host does (state replaced, changes applied),
/// returning every plan.
fn host_run(
    engine: &Engine,
    customer: &[(&str, Value)],
    events: &[EventSpec],
    ctx: &Context,
    explain: bool,
) -> Vec<Plan> {
    let schema = engine.schema();
    let mut record = record_of(schema, customer);
    let mut state = CustomerState::new();
    let mut plans = Vec::new();
    for (n, spec) in events.iter().enumerate() {
        let event = spec.event();
        let now = spec
            .time
            .checked_add_signed(Span::minutes(n as i64))
            .unwrap_or(spec.time);
        let plan = engine.evaluate(
            &Input::new("CUST001", &record, &state, &event, now)
                .context(ctx)
                .explain(explain),
        );
        if let Some(s) = &plan.state {
            state = s.clone();
        }
        for c in &plan.changes {
            if let Some(id) = schema.field_id(&c.field) {
                // Sensitive fields show their old value masked; the new one is real.
                record.set(id, c.new.clone());
            }
        }
        plans.push(plan);
    }
    plans
}

fn json_of(plans: &[Plan]) -> Vec<String> {
    plans.iter().map(Plan::to_json).collect()
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// The same input twice gives the identical plan, and so does a second engine built
    /// from the same rules; the state a plan returns reads back as the same state; one
    /// plan reused for every evaluation (`evaluate_into`, each new state swapped in) is
    /// each time the plan `evaluate` returns.
    #[test]
    fn the_same_input_gives_the_identical_plan(
        rules in rules(false),
        customer in customer(),
        events in prop::collection::vec(plausible_event(), 1..4),
        ctx in context(),
        explain in any::<bool>(),
    ) {
        let one = engine(&rules, 8);
        let two = engine(&rules, 8);
        let first = json_of(&host_run(&one, &customer, &events, &ctx, explain));
        prop_assert_eq!(&first, &json_of(&host_run(&one, &customer, &events, &ctx, explain)));
        prop_assert_eq!(&first, &json_of(&host_run(&two, &customer, &events, &ctx, explain)));
        // Each single evaluation is repeatable too, and states round-trip through JSON.
        let schema = one.schema();
        let record = record_of(schema, &customer);
        let mut state = CustomerState::new();
        // The reused plan's host swaps each new state in: the next state is written into
        // the memory of the one before.
        let (mut reused, mut swapped) = (crm_rules::Plan::default(), CustomerState::new());
        for spec in &events {
            let event = spec.event();
            let input = Input::new("CUST001", &record, &state, &event, spec.time)
                .context(&ctx)
                .explain(explain);
            let plan = one.evaluate(&input);
            prop_assert_eq!(plan.to_json(), one.evaluate(&input).to_json());
            let host = Input { state: &swapped, ..input };
            one.evaluate_into(&host, &mut reused);
            prop_assert_eq!(&reused, &plan);
            if let Some(new) = &mut reused.state {
                std::mem::swap(&mut swapped, new);
            }
            prop_assert_eq!(&swapped, plan.state.as_ref().unwrap_or(&state));
            if let Some(s) = plan.state {
                let back: CustomerState =
                    serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
                prop_assert_eq!(&back, &s);
                state = back;
            }
        }
    }

    /// Asking for the trace changes nothing else in the plan (the untraced evaluation
    /// takes a faster path for plain rules).
    #[test]
    fn the_trace_does_not_change_the_plan(
        rules in rules(false),
        customer in customer(),
        events in prop::collection::vec(plausible_event(), 1..4),
        ctx in context(),
    ) {
        let e = engine(&rules, 8);
        let plain = host_run(&e, &customer, &events, &ctx, false);
        let traced = host_run(&e, &customer, &events, &ctx, true);
        for (p, mut t) in plain.into_iter().zip(traced) {
            prop_assert!(p.trace.is_none() && t.trace.is_some());
            t.trace = None;
            prop_assert_eq!(p.to_json(), t.to_json());
        }
    }

    /// With distinct priorities, the order of the rules in the set does not matter.
    #[test]
    fn shuffling_rules_with_distinct_priorities_keeps_every_plan(
        (rules, shuffled) in rules(true).prop_flat_map(|r| {
            let copy = r.clone();
            (Just(r), Just(copy).prop_shuffle())
        }),
        customer in customer(),
        events in prop::collection::vec(plausible_event(), 1..4),
        ctx in context(),
    ) {
        let a = engine(&rules, 8);
        let b = engine(&shuffled, 8);
        let pa = json_of(&host_run(&a, &customer, &events, &ctx, true));
        let pb = json_of(&host_run(&b, &customer, &events, &ctx, true));
        for (x, y) in pa.iter().zip(&pb) {
            prop_assert_eq!(x, y);
        }
    }

    /// Nothing a host can pass makes evaluation panic: events of any kind with any
    /// attributes and changes (unknown fields, wrong types), any times, customers whose
    /// fields hold values of any kind, any counters and loads.
    #[test]
    fn random_events_never_panic(
        rules in rules(false),
        customer in prop::collection::vec((prop::sample::select(FIELDS.to_vec()), value()), 0..8),
        events in prop::collection::vec(wild_event(), 1..4),
        ctx in context(),
        depth in 0usize..4,
    ) {
        let e = engine(&rules, depth);
        for plan in host_run(&e, &customer, &events, &ctx, true) {
            // Every field change names a field of the schema and really changes it.
            for c in &plan.changes {
                prop_assert!(FIELDS.contains(&c.field.as_str()), "{}", c.field);
            }
            prop_assert!(plan.trace.is_some());
            let _ = plan.to_json();
        }
    }

    /// Cascades terminate; rounds never pass the depth; the limit is reported exactly
    /// when a deeper engine goes on; the work done before the limit is kept (except writes
    /// that a deeper round's higher-priority write withdraws).
    #[test]
    fn cascades_always_terminate_within_the_depth(
        rules in (1usize..7).prop_flat_map(|n| {
            let rules: Vec<BoxedStrategy<Json>> = (0..n).map(cascade_rule).collect();
            rules
        }),
        customer in customer(),
        event in plausible_event(),
        depth in 0usize..6,
    ) {
        let shallow = engine(&rules, depth);
        let deep = engine(&rules, 64);
        let run = |e: &Engine| {
            let record = record_of(e.schema(), &customer);
            let state = CustomerState::new();
            let ev = event.event();
            e.evaluate(&Input::new("CUST001", &record, &state, &ev, event.time).explain(true))
        };
        let plan = run(&shallow);
        let full = run(&deep);
        let trace = plan.trace.as_ref().unwrap();
        let full_trace = full.trace.as_ref().unwrap();
        for t in trace {
            let limit = matches!(t.outcome, crm_rules::Outcome::CascadeLimit);
            if limit {
                prop_assert_eq!(t.round, depth + 1);
            } else {
                prop_assert!(t.round <= depth, "round {} past depth {}", t.round, depth);
            }
        }
        // Rules whose trigger's from/to did not match are traced but were no candidates.
        let went_deeper = full_trace.iter().any(|t| {
            t.round > depth && !matches!(t.outcome, crm_rules::Outcome::TriggerMismatch { .. })
        });
        prop_assert_eq!(plan.cascade_limit.is_some(), went_deeper);
        match &plan.cascade_limit {
            Some(limit) => {
                prop_assert_eq!(limit.depth, depth);
                prop_assert!(!limit.rules.is_empty() && !limit.fields.is_empty());
                // The work of rounds up to the limit is what the deep engine did first,
                // but for writes a higher-priority rule of a deeper round overrode there.
                let withdrawn = |a: &crm_rules::PlannedAction| {
                    full.overridden.iter().any(|o| {
                        o.rule_id == a.rule_id
                            && matches!(&a.action, crm_rules::ResolvedAction::SetField { field, value }
                                if *field == o.field && *value == o.value)
                    })
                };
                let kept: Vec<_> = plan.actions.iter().filter(|a| !withdrawn(a)).cloned().collect();
                prop_assert!(kept.len() <= full.actions.len());
                prop_assert_eq!(&kept[..], &full.actions[..kept.len()]);
            }
            None => {
                let mut full = full.clone();
                if let Some(t) = &mut full.trace {
                    t.retain(|t| t.round <= depth);
                }
                prop_assert_eq!(plan.to_json(), full.to_json())
            }
        }
    }
}

/// A rule triggered by a field change (or an event) that writes fields: the stuff of
/// cascades and cycles.
fn cascade_rule(i: usize) -> BoxedStrategy<Json> {
    (
        trigger(),
        prop::option::weighted(0.3, customer_condition()),
        prop::collection::vec(write_action(), 1..3),
        any::<bool>(),
        0i32..3,
    )
        .prop_map(move |(trigger, when, actions, repeat, priority)| {
            let mut r = json!({"id": format!("c{i}"), "name": format!("级联{i}"),
                               "trigger": trigger, "actions": actions, "priority": priority,
                               "repeat_in_cascade": repeat});
            if let Some(w) = when {
                r["when"] = w;
            }
            r
        })
        .boxed()
}

/// The plan of an event of `kind` for the customer, without and with a trace.
fn plain_and_traced(
    rules: &[Json],
    customer: &[(&'static str, Value)],
    kind: &str,
) -> (Plan, Plan) {
    let e = engine(rules, 8);
    let record = record_of(e.schema(), customer);
    let state = CustomerState::new();
    let event = Event::new(kind, "E1", base());
    let input = Input::new("C1", &record, &state, &event, base());
    (e.evaluate(&input), e.evaluate(&input.explain(true)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Plain rules fire exactly when the traced evaluation (which walks each condition's
    /// tree and reports it) says their condition holds.
    #[test]
    fn flat_checks_agree_with_condition_trees(
        rules in flat_rules(),
        customer in any_customer(),
        kind in prop::sample::select(KINDS.to_vec()),
    ) {
        let (plain, traced) = plain_and_traced(&rules, &customer, kind);
        let fired: Vec<&str> = traced
            .trace
            .iter()
            .flatten()
            .filter(|t| t.outcome == crm_rules::Outcome::Fired)
            .map(|t| &*t.rule_id)
            .collect();
        let mut planned: Vec<&str> = plain.actions.iter().map(|a| &*a.rule_id).collect();
        // A rule's actions are planned together.
        planned.dedup();
        prop_assert_eq!(planned, fired);
        let mut traced = traced.clone();
        traced.trace = None;
        prop_assert_eq!(plain.to_json(), traced.to_json());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// With many candidates per event kind, some writing fields the rules after them
    /// read, the scan of the kind's checks gives the plan of the traced evaluation.
    #[test]
    fn long_scans_agree_with_condition_trees(
        rules in rules_of_flat_conditions(40..100, true),
        customer in any_customer(),
        kind in prop::sample::select(KINDS.to_vec()),
    ) {
        let (plain, mut traced) = plain_and_traced(&rules, &customer, kind);
        traced.trace = None;
        prop_assert_eq!(plain.to_json(), traced.to_json());
    }
}
