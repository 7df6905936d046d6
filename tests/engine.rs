//! The evaluation engine through the public API: one test per semantic of the
//! "Evaluation order" on `Engine`, each asserting the exact plan (actions in order with
//! their rules and resolved content, net changes, timers, overrides, suppressions, the
//! cascade limit, counters, the new state and the trace).
//!
//! `now()` is Monday 2024-05-20 09:00 UTC. A host carries the state between calls: it
//! replaces its stored state with `plan.state` when the plan has one, and applies
//! `plan.changes` to its customer record; [`Host`] does the same here.

use chrono::{DateTime, Duration as Span, Utc};
use crm_rules::{
    ActionKey, CascadeLimit, Context, CustomerState, Engine, Event, Input, Outcome, Overridden,
    Plan, Record, RuleSet, Schema, Suppressed, Timer, Value, Warning, DEFAULT_CASCADE_DEPTH,
};
use serde_json::{json, Value as Json};

use crate::common::{at, crm, fnv, mix, now, record, word_pair};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// An engine over the common CRM schema for a JSON list of rules.
fn engine(rules: Json) -> Engine {
    engine_with(crm(), json!({ "rules": rules }), DEFAULT_CASCADE_DEPTH)
}

/// An engine for a schema, a JSON rule set and a cascade depth.
fn engine_with(schema: Schema, rules: Json, depth: usize) -> Engine {
    let rules = RuleSet::from_json(&rules.to_string()).unwrap_or_else(|e| panic!("{e}"));
    Engine::builder(schema)
        .rules(rules)
        .cascade_depth(depth)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A customer of the engine's schema from JSON.
fn customer(engine: &Engine, json: Json) -> Record {
    record(engine.schema(), json)
}

/// Evaluates an event for customer `C001` with a fresh state at `now()`.
fn run(engine: &Engine, customer: &Record, event: &Event) -> Plan {
    let state = CustomerState::new();
    engine.evaluate(&Input::new("C001", customer, &state, event, now()))
}

/// As [`run`], with the trace on.
fn explain(engine: &Engine, customer: &Record, event: &Event) -> Plan {
    let state = CustomerState::new();
    engine.evaluate(&Input::new("C001", customer, &state, event, now()).explain(true))
}

/// An event at `now()`.
fn event(kind: &str, id: &str) -> Event {
    Event::new(kind, id, now())
}

/// The actions of a plan as `{"rule_id", "action"}` objects (keys and names left out).
fn actions(plan: &Plan) -> Json {
    Json::Array(
        plan.actions
            .iter()
            .map(|a| json!({"rule_id": &*a.rule_id, "action": serde_json::to_value(&a.action).unwrap()}))
            .collect(),
    )
}

/// The ids of the rules of a plan's actions, one per action.
fn action_rules(plan: &Plan) -> Vec<String> {
    plan.actions.iter().map(|a| a.rule_id.to_string()).collect()
}

/// The net changes of a plan as JSON.
fn changes(plan: &Plan) -> Json {
    serde_json::to_value(&plan.changes).unwrap()
}

/// The trace as (rule id, round, outcome JSON) triples.
fn outcomes(plan: &Plan) -> Vec<(String, usize, Json)> {
    plan.trace
        .as_ref()
        .expect("a trace")
        .iter()
        .map(|t| {
            (
                t.rule_id.to_string(),
                t.round,
                serde_json::to_value(&t.outcome).unwrap(),
            )
        })
        .collect()
}

fn outcome(name: &str) -> Json {
    json!({ "outcome": name })
}

/// A host: one customer's record and state, carried from plan to plan.
struct Host<'e> {
    engine: &'e Engine,
    record: Record,
    state: CustomerState,
}

impl<'e> Host<'e> {
    fn new(engine: &'e Engine, customer: Json) -> Host<'e> {
        Host {
            engine,
            record: record(engine.schema(), customer),
            state: CustomerState::new(),
        }
    }

    /// Evaluates an event at `now`, then stores the new state and applies the changes.
    fn send(&mut self, event: &Event, now: DateTime<Utc>) -> Plan {
        let plan = self
            .engine
            .evaluate(&Input::new("C001", &self.record, &self.state, event, now).explain(true));
        if let Some(state) = &plan.state {
            self.state = state.clone();
        }
        for change in &plan.changes {
            let id = self.engine.schema().field_id(&change.field).unwrap();
            self.record.set(id, change.new.clone());
        }
        plan
    }
}

/// The key `ActionKey` documents, computed here independently of the crate.
fn expected_key(
    customer: &str,
    event: &str,
    rule: &str,
    round: u64,
    position: u64,
    path: &str,
) -> String {
    let nested = if path.is_empty() { 0 } else { fnv(&[path]) };
    let key = mix(word_pair(customer.as_bytes(), event.as_bytes())
        ^ mix(fnv(&[rule]) ^ mix((round << 32) ^ position) ^ nested));
    format!("{key:016x}")
}

fn task(title: &str) -> Json {
    json!({"type": "create_task", "title": title})
}

fn resolved_task(title: &str, assignee: Json) -> Json {
    json!({"type": "create_task", "title": title, "assignee": assignee, "priority": "normal"})
}

fn tag(t: &str) -> Json {
    json!({"type": "add_tag", "tag": t})
}

fn resolved_tag(t: &str) -> Json {
    json!({"type": "add_tag", "field": "标签", "tag": t})
}

// ---------------------------------------------------------------------------------------
// Triggers
// ---------------------------------------------------------------------------------------

#[test]
fn event_trigger_fires_only_for_its_kind_and_where_filter() {
    let e = engine(json!([
        {"id": "expo", "name": "展会线索", "trigger": {"type": "event", "event": "lead_created",
            "where": {"event": "source", "op": "eq", "value": "展会"}},
         "actions": [tag("展会线索")]},
        {"id": "web-big", "name": "官网大单", "trigger": {"type": "event", "event": "lead_created",
            "where": {"all": [{"event": "source", "op": "eq", "value": "官网表单"},
                              {"event": "amount", "op": "gte", "value": 1000}]}},
         "actions": [tag("官网大单")]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为"}));

    let plan = run(
        &e,
        &c,
        &event("lead_created", "e1").attribute("source", "展会"),
    );
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "expo", "action": resolved_tag("展会线索")}])
    );
    assert_eq!(
        changes(&plan),
        json!([{"field": "标签", "old": null, "new": ["展会线索"]}])
    );

    let small = event("lead_created", "e2")
        .attribute("source", "官网表单")
        .attribute("amount", 500);
    assert!(run(&e, &c, &small).is_empty());
    let big = event("lead_created", "e3")
        .attribute("source", "官网表单")
        .attribute("amount", 5000);
    assert_eq!(action_rules(&run(&e, &c, &big)), ["web-big"]);

    // Another kind with the same attributes concerns no rule.
    let other = event("email_opened", "e4").attribute("source", "展会");
    assert!(run(&e, &c, &other).is_empty());

    // The trace shows the filter that decided, with the attribute's value.
    let plan = explain(&e, &c, &small);
    let trace = plan.trace.as_ref().unwrap();
    assert_eq!(trace.len(), 2);
    assert_eq!(trace[0].outcome, Outcome::FilterFalse);
    assert_eq!(
        serde_json::to_value(&trace[0].condition).unwrap(),
        json!({"condition": "event source eq \"展会\"", "result": "false", "actual": "\"官网表单\""})
    );
    assert_eq!(
        serde_json::to_value(&trace[1].condition).unwrap(),
        json!({"condition": "all", "result": "false", "children": [
            {"condition": "event source eq \"官网表单\"", "result": "true", "actual": "\"官网表单\""},
            {"condition": "event amount gte 1000", "result": "false", "actual": "500"}
        ]})
    );
}

/// Text comparisons give the same answers for texts held exactly by their key (up to 15
/// bytes) and longer ones, and for `in` lists too long for the fast scan (over 255).
#[test]
fn long_texts_and_long_lists_compare_as_short_ones() {
    let names: Vec<String> = (0..300).map(|i| format!("客户{i:03}")).collect();
    let e = engine(json!([
        {"id": "long-eq", "name": "长名称", "trigger": {"type": "event", "event": "login"},
         "when": {"field": "客户名称", "op": "eq", "value": "华为技术有限公司深圳分公司"},
         "actions": [tag("长")]},
        {"id": "short-eq", "name": "短名称", "trigger": {"type": "event", "event": "login"},
         "when": {"field": "客户名称", "op": "eq", "value": "华为"},
         "actions": [tag("短")]},
        {"id": "long-list", "name": "长列表", "trigger": {"type": "event", "event": "login"},
         "when": {"field": "客户名称", "op": "in", "value": names}, "actions": [tag("列表")]},
        {"id": "ne-long", "name": "不等长名称", "trigger": {"type": "event", "event": "login"},
         "when": {"field": "客户名称", "op": "ne", "value": "华为技术有限公司深圳分公司"},
         "actions": [tag("不等")]}
    ]));
    let fired = |name: &str| -> Vec<String> {
        let plan = run(
            &e,
            &customer(&e, json!({"客户名称": name})),
            &event("login", "e1"),
        );
        plan.actions.iter().map(|a| a.rule_id.to_string()).collect()
    };
    assert_eq!(fired("华为技术有限公司深圳分公司"), ["long-eq"]);
    assert_eq!(fired("华为技术有限公司广州分公司"), ["ne-long"]);
    assert_eq!(fired("华为"), ["short-eq", "ne-long"]);
    assert_eq!(fired("客户299"), ["long-list", "ne-long"]);
    assert_eq!(fired("客户300"), ["ne-long"]);
}

#[test]
fn field_changed_matches_from_and_to_and_reads_old_and_new() {
    let e = engine(json!([
        {"id": "to-negotiation", "name": "进入商务谈判",
         "trigger": {"type": "field_changed", "field": "跟进阶段", "to": "商务谈判"},
         "actions": [{"type": "notify", "channel": "in_app", "to": ["owner"],
                      "template": "{{客户名称}} 从 {{跟进阶段}} 阶段开始谈判"}]},
        {"id": "confirm-to-negotiation", "name": "需求确认推进到商务谈判",
         "trigger": {"type": "field_changed", "field": "跟进阶段", "from": "需求确认", "to": "商务谈判"},
         "actions": [tag("推进")]},
        {"id": "regression", "name": "阶段回退",
         "trigger": {"type": "field_changed", "field": "跟进阶段"},
         "when": {"all": [{"old": "跟进阶段", "op": "eq", "value": "商务谈判"},
                          {"new": "跟进阶段", "op": "in", "value": ["线索获取", "需求确认"]}]},
         "actions": [tag("回退")]}
    ]));
    let stage = |from: &str| {
        customer(
            &e,
            json!({"客户名称": "华为", "负责人": "li.wei", "跟进阶段": from}),
        )
    };
    let to = |value: &str| event("profile_updated", "e1").change("跟进阶段", value);

    // 需求确认 → 商务谈判: both rules, in rule-set order; the template reads the new value.
    let plan = run(&e, &stage("需求确认"), &to("商务谈判"));
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "to-negotiation", "action": {"type": "notify", "channel": "in_app",
                "to": [{"user": "li.wei"}], "message": "华为 从 商务谈判 阶段开始谈判"}},
            {"rule_id": "confirm-to-negotiation", "action": resolved_tag("推进")}
        ])
    );
    assert_eq!(
        changes(&plan),
        json!([
            {"field": "跟进阶段", "old": "需求确认", "new": "商务谈判"},
            {"field": "标签", "old": null, "new": ["推进"]}
        ])
    );

    // 线索获取 → 商务谈判: `from` does not match.
    let plan = run(&e, &stage("线索获取"), &to("商务谈判"));
    assert_eq!(action_rules(&plan), ["to-negotiation"]);

    // 商务谈判 → 需求确认: only the rule that reads old and new.
    let plan = run(&e, &stage("商务谈判"), &to("需求确认"));
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "regression", "action": resolved_tag("回退")}])
    );

    // Setting the value it already has is no change: nothing fires, the plan is empty.
    assert!(run(&e, &stage("商务谈判"), &to("商务谈判")).is_empty());

    // From an empty stage: `old` reads absent.
    let plan = run(
        &e,
        &customer(&e, json!({"客户名称": "华为"})),
        &to("商务谈判"),
    );
    assert_eq!(action_rules(&plan), ["to-negotiation"]);
    assert_eq!(
        actions(&plan)[0]["action"]["to"],
        json!([{"unassigned": "负责人"}])
    );
}

// ---------------------------------------------------------------------------------------
// Fire modes, priorities, overrides, groups
// ---------------------------------------------------------------------------------------

#[test]
fn every_time_fires_while_true_when_becomes_true_fires_on_each_transition() {
    let e = engine(json!([
        {"id": "big-every", "name": "大预算（每次）", "trigger": {"type": "event", "event": "profile_updated"},
         "when": {"field": "预算", "op": "gte", "value": 500000},
         "actions": [task("每次")]},
        {"id": "big-once", "name": "大预算（变为真时）", "trigger": {"type": "event", "event": "profile_updated"},
         "when": {"field": "预算", "op": "gte", "value": 500000}, "fire": "when_becomes_true",
         "actions": [task("变为真")]}
    ]));
    let mut host = Host::new(&e, json!({"客户名称": "华为", "预算": 1000}));
    let mut budget = |id: &str, value: i64| {
        let plan = host.send(&event("profile_updated", id).change("预算", value), now());
        let once = outcomes(&plan)
            .into_iter()
            .find(|(r, _, _)| r == "big-once")
            .map(|(_, _, o)| o["outcome"].as_str().unwrap().to_owned())
            .unwrap();
        (action_rules(&plan), once)
    };
    let none: Vec<String> = Vec::new();
    // false → false.
    assert_eq!(
        budget("e1", 100_000),
        (none.clone(), "condition_false".into())
    );
    // false → true: both.
    assert_eq!(
        budget("e2", 600_000),
        (vec!["big-every".into(), "big-once".into()], "fired".into())
    );
    // stays true: only every_time.
    assert_eq!(
        budget("e3", 700_000),
        (vec!["big-every".into()], "already_true".into())
    );
    // true → false.
    assert_eq!(budget("e4", 100), (none, "condition_false".into()));
    // false → true again: fires again.
    assert_eq!(
        budget("e5", 800_000),
        (vec!["big-every".into(), "big-once".into()], "fired".into())
    );
}

#[test]
fn when_becomes_true_the_first_time_compares_with_the_customer_before_the_event() {
    let e = engine(json!([
        {"id": "vip", "name": "成为VIP", "trigger": {"type": "event", "event": "profile_updated"},
         "when": {"field": "VIP", "op": "eq", "value": true}, "fire": "when_becomes_true",
         "actions": [task("VIP")]}
    ]));
    // Already VIP before the event, no state: the condition did not become true.
    let vip = customer(&e, json!({"客户名称": "华为", "VIP": true}));
    let plan = explain(&e, &vip, &event("profile_updated", "e1"));
    assert!(plan.actions.is_empty());
    assert_eq!(
        outcomes(&plan),
        [("vip".into(), 0, outcome("already_true"))]
    );
    // Made VIP by the event itself: it became true.
    let plain = customer(&e, json!({"客户名称": "华为", "VIP": false}));
    let plan = run(
        &e,
        &plain,
        &event("profile_updated", "e2").change("VIP", true),
    );
    assert_eq!(action_rules(&plan), ["vip"]);
}

#[test]
fn candidates_run_by_priority_then_position() {
    let rule = |id: &str, priority: i32| {
        json!({"id": id, "name": id, "trigger": {"type": "event", "event": "login"},
               "priority": priority, "actions": [task(id)]})
    };
    let e = engine(json!([
        rule("low", 0),
        rule("high-1", 10),
        rule("high-2", 10),
        rule("negative", -5),
        rule("mid", 5),
        rule("high-3", 10)
    ]));
    let c = customer(&e, json!({"客户名称": "华为", "负责人": "li.wei"}));
    let plan = run(&e, &c, &event("login", "e1"));
    assert_eq!(
        action_rules(&plan),
        ["high-1", "high-2", "high-3", "mid", "low", "negative"]
    );
    assert_eq!(
        actions(&plan)[0]["action"],
        resolved_task("high-1", json!({"user": "li.wei"}))
    );
}

#[test]
fn two_writes_to_one_field_higher_priority_wins_and_the_other_is_overridden() {
    let e = engine(json!([
        // Earlier in the set but lower priority: its write loses.
        {"id": "status-low", "name": "低优先级状态", "trigger": {"type": "event", "event": "order_placed"},
         "priority": 1,
         "actions": [{"type": "set_field", "field": "客户状态", "value": "成交客户"},
                     {"type": "increment", "field": "跟进次数", "by": 2}, tag("低")]},
        {"id": "status-high", "name": "高优先级状态", "trigger": {"type": "event", "event": "order_placed"},
         "priority": 10,
         "actions": [{"type": "set_field", "field": "客户状态", "value": "意向客户"},
                     {"type": "increment", "field": "跟进次数"},
                     {"type": "assign_owner", "strategy": {"type": "fixed", "user": "wang"}}]},
        // The same value as the winner: no conflict.
        {"id": "status-same", "name": "同值", "trigger": {"type": "event", "event": "order_placed"},
         "actions": [{"type": "set_field", "field": "客户状态", "value": "意向客户"},
                     {"type": "assign_owner", "strategy": {"type": "fixed", "user": "zhao"}}]}
    ]));
    let c = customer(
        &e,
        json!({"客户名称": "华为", "客户状态": "新客户", "跟进次数": 3}),
    );
    let plan = explain(&e, &c, &event("order_placed", "e1"));
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "status-high", "action": {"type": "set_field", "field": "客户状态", "value": "意向客户"}},
            {"rule_id": "status-high", "action": {"type": "increment", "field": "跟进次数", "by": 1, "value": 4}},
            {"rule_id": "status-high", "action": {"type": "assign_owner", "field": "负责人", "user": "wang", "strategy": "fixed"}},
            {"rule_id": "status-low", "action": {"type": "increment", "field": "跟进次数", "by": 2, "value": 6}},
            {"rule_id": "status-low", "action": resolved_tag("低")},
            {"rule_id": "status-same", "action": {"type": "set_field", "field": "客户状态", "value": "意向客户"}}
        ])
    );
    assert_eq!(
        plan.overridden,
        [
            Overridden {
                rule_id: "status-low".into(),
                field: "客户状态".into(),
                value: Value::from("成交客户"),
                by_rule: "status-high".into(),
            },
            Overridden {
                rule_id: "status-same".into(),
                field: "负责人".into(),
                value: Value::from("zhao"),
                by_rule: "status-high".into(),
            },
        ]
    );
    assert_eq!(
        changes(&plan),
        json!([
            {"field": "客户状态", "old": "新客户", "new": "意向客户"},
            {"field": "跟进次数", "old": 3, "new": 6},
            {"field": "负责人", "old": null, "new": "wang"},
            {"field": "标签", "old": null, "new": ["低"]}
        ])
    );
    // The trace puts each lost write on the rule that lost it.
    let trace = plan.trace.unwrap();
    let lost: Vec<(&str, usize)> = trace
        .iter()
        .map(|t| (&*t.rule_id, t.overridden.len()))
        .collect();
    assert_eq!(
        lost,
        [("status-high", 0), ("status-low", 1), ("status-same", 1)]
    );
    assert_eq!(trace[1].overridden[0], plan.overridden[0]);
}

#[test]
fn exclusive_group_fires_the_first_matching_rule_by_priority_and_suppresses_the_rest() {
    let assign =
        |user: &str| json!([{"type": "assign_owner", "strategy": {"type": "fixed", "user": user}}]);
    let e = engine(json!([
        {"id": "default", "name": "默认分配", "trigger": {"type": "event", "event": "lead_created"},
         "group": "新线索分配", "priority": 10, "actions": assign("pool.admin")},
        {"id": "expo", "name": "展会分配", "trigger": {"type": "event", "event": "lead_created",
            "where": {"event": "source", "op": "eq", "value": "展会"}},
         "group": "新线索分配", "priority": 30, "actions": assign("zhang")},
        {"id": "big", "name": "大客户分配", "trigger": {"type": "event", "event": "lead_created"},
         "when": {"field": "预算", "op": "gte", "value": 500000},
         "group": "新线索分配", "priority": 20, "actions": assign("chen")},
        {"id": "notify", "name": "不在组内", "trigger": {"type": "event", "event": "lead_created"},
         "actions": [{"type": "notify", "channel": "in_app", "to": ["owner"], "template": "新线索 {{客户名称}}"}]}
    ]));
    let lead = |budget: i64, source: &str, id: &str| {
        let c = customer(&e, json!({"客户名称": "华为", "预算": budget}));
        explain(
            &e,
            &c,
            &event("lead_created", id).attribute("source", source),
        )
    };
    let suppressed = |rule: &str, by: &str| Suppressed {
        rule_id: rule.into(),
        group: "新线索分配".into(),
        by_rule: by.into(),
    };

    let plan = lead(600_000, "展会", "e1");
    assert_eq!(action_rules(&plan), ["expo", "notify"]);
    assert_eq!(
        actions(&plan)[1]["action"]["to"],
        json!([{"user": "zhang"}])
    );
    assert_eq!(
        plan.suppressed,
        [suppressed("big", "expo"), suppressed("default", "expo")]
    );
    assert_eq!(
        outcomes(&plan)[1],
        (
            "big".into(),
            0,
            json!({"outcome": "suppressed", "group": "新线索分配", "by_rule": "expo"})
        )
    );

    let plan = lead(600_000, "官网表单", "e2");
    assert_eq!(action_rules(&plan), ["big", "notify"]);
    assert_eq!(plan.suppressed, [suppressed("default", "big")]);

    // A rule whose condition fails is not suppressed, it just does not match.
    let plan = lead(100, "展会", "e3");
    assert_eq!(action_rules(&plan), ["expo", "notify"]);
    assert_eq!(plan.suppressed, [suppressed("default", "expo")]);

    let plan = lead(100, "官网表单", "e4");
    assert_eq!(action_rules(&plan), ["default", "notify"]);
    assert!(plan.suppressed.is_empty());
}

// ---------------------------------------------------------------------------------------
// Expiry: validity, stop condition, max fires, cooldown, disabled
// ---------------------------------------------------------------------------------------

#[test]
fn valid_from_and_valid_until_are_checked_against_the_event_time() {
    let e = engine(json!([
        {"id": "may", "name": "五月活动", "trigger": {"type": "event", "event": "form_submitted"},
         "expiry": {"valid_from": "2024-05-01T00:00:00+08:00", "valid_until": "2024-06-01T00:00:00+08:00"},
         "actions": [tag("五月活动")]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为"}));
    let state = CustomerState::new();
    // `now` stays 2024-05-20 throughout; only the event's time decides.
    let at_time = |t: DateTime<Utc>| {
        let ev = Event::new("form_submitted", "e1", t);
        e.evaluate(&Input::new("C001", &c, &state, &ev, now()).explain(true))
    };
    let valid_from = at(2024, 4, 30, 16, 0, 0);
    let valid_until = at(2024, 5, 31, 16, 0, 0);

    let plan = at_time(valid_from - Span::seconds(1));
    assert!(plan.actions.is_empty());
    assert_eq!(
        outcomes(&plan),
        [(
            "may".into(),
            0,
            json!({"outcome": "not_yet_valid", "valid_from": "2024-04-30T16:00:00Z"})
        )]
    );
    assert_eq!(action_rules(&at_time(valid_from)), ["may"]);
    assert_eq!(
        action_rules(&at_time(valid_until - Span::seconds(1))),
        ["may"]
    );
    let plan = at_time(valid_until);
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.trace.unwrap()[0].outcome,
        Outcome::Expired { valid_until }
    );
}

#[test]
fn stop_when_stops_the_rule_cancels_its_timers_and_it_stays_stopped() {
    let e = engine(json!([
        {"id": "nurture", "name": "新客户培育", "trigger": {"type": "event", "event": "email_opened"},
         "expiry": {"stop_when": {"field": "客户状态", "op": "eq", "value": "成交客户"}},
         "actions": [{"type": "start_sequence", "sequence": "nurture-seq",
                      "steps": [{"after": "3d", "actions": [task("培育跟进")]}]}]}
    ]));
    let mut host = Host::new(&e, json!({"客户名称": "华为", "客户状态": "新客户"}));

    let plan = host.send(&event("email_opened", "e1"), now());
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "nurture", "action": {"type": "start_sequence", "sequence": "nurture-seq",
            "first_due": "2024-05-23T09:00:00Z"}}])
    );
    assert_eq!(
        plan.timers,
        [Timer::Set {
            key: "seq:nurture-seq".into(),
            at: at(2024, 5, 23, 9, 0, 0)
        }]
    );
    let sequences: Vec<_> = host.state.sequences().collect();
    assert_eq!(sequences, [("nurture-seq", 0, at(2024, 5, 23, 9, 0, 0))]);
    assert!(!host.state.is_stopped("nurture"));

    // The event makes the customer 成交客户: the stop condition holds after its changes.
    let later = now() + Span::days(1);
    let won = Event::new("email_opened", "e2", later).change("客户状态", "成交客户");
    let plan = host.send(&won, later);
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.timers,
        [
            Timer::Cancel {
                key: "rule:nurture".into()
            },
            Timer::Cancel {
                key: "seq:nurture-seq".into()
            }
        ]
    );
    assert_eq!(
        changes(&plan),
        json!([{"field": "客户状态", "old": "新客户", "new": "成交客户"}])
    );
    assert_eq!(outcomes(&plan), [("nurture".into(), 0, outcome("stopped"))]);
    assert!(host.state.is_stopped("nurture"));
    assert_eq!(host.state.sequences().count(), 0);
    assert_eq!(
        serde_json::to_value(&host.state).unwrap(),
        json!({"rules": {"nurture": {"stopped": true}}})
    );

    // Back to 意向客户: the rule stays stopped, and nothing more is cancelled.
    let again = Event::new("email_opened", "e3", later).change("客户状态", "意向客户");
    let plan = host.send(&again, later);
    assert!(plan.actions.is_empty());
    assert!(plan.timers.is_empty());
    assert!(plan.state.is_none());
    assert_eq!(outcomes(&plan), [("nurture".into(), 0, outcome("stopped"))]);
    let plan = host.send(&Event::new("email_opened", "e4", later), later);
    assert!(plan.is_empty());
}

#[test]
fn a_stop_condition_made_true_by_another_event_cancels_the_rule_s_sequences() {
    let e = engine(json!([
        {"id": "nurture", "name": "新客户培育", "trigger": {"type": "event", "event": "email_opened"},
         "expiry": {"stop_when": {"field": "客户状态", "op": "eq", "value": "成交客户"}},
         "actions": [{"type": "start_sequence", "sequence": "nurture-seq",
                      "steps": [{"after": "3d", "actions": [task("培育跟进")]}]}]}
    ]));
    let mut host = Host::new(&e, json!({"客户名称": "华为", "客户状态": "新客户"}));
    host.send(&event("email_opened", "e1"), now());
    assert_eq!(host.state.sequences().count(), 1);

    // An order (not the rule's trigger) makes the customer 成交客户: the plan cancels the
    // rule's pending steps at once, not at the next tick.
    let later = now() + Span::days(1);
    let won = Event::new("order_placed", "o1", later).change("客户状态", "成交客户");
    let plan = host.send(&won, later);
    assert_eq!(
        plan.timers,
        [
            Timer::Cancel {
                key: "rule:nurture".into()
            },
            Timer::Cancel {
                key: "seq:nurture-seq".into()
            }
        ]
    );
    assert!(host.state.is_stopped("nurture"));
    assert_eq!(host.state.sequences().count(), 0);
}

#[test]
fn a_higher_priority_write_in_a_later_round_wins_over_an_earlier_lower_one() {
    // 意向 (priority 1) is written in round 0; the change triggers 成交 (priority 10), which
    // writes the same field in round 1: the higher-priority write stands, the earlier one
    // is withdrawn from the actions and reported overridden.
    let e = engine(json!([
        {"id": "intent", "name": "打开邮件转意向", "priority": 1,
         "trigger": {"type": "event", "event": "email_opened"},
         "actions": [{"type": "set_field", "field": "客户状态", "value": "意向客户"}]},
        {"id": "vip-won", "name": "VIP意向即成交", "priority": 10,
         "trigger": {"type": "field_changed", "field": "客户状态", "to": "意向客户"},
         "when": {"field": "VIP", "op": "eq", "value": true},
         "actions": [{"type": "set_field", "field": "客户状态", "value": "成交客户"}, tag("VIP成交")]}
    ]));
    let c = customer(
        &e,
        json!({"客户名称": "华为", "客户状态": "新客户", "VIP": true}),
    );
    let plan = run(&e, &c, &event("email_opened", "e1"));
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "vip-won", "action": {"type": "set_field", "field": "客户状态", "value": "成交客户"}},
            {"rule_id": "vip-won", "action": resolved_tag("VIP成交")}
        ])
    );
    assert_eq!(
        plan.overridden,
        [Overridden {
            rule_id: "intent".into(),
            field: "客户状态".into(),
            value: Value::from("意向客户"),
            by_rule: "vip-won".into(),
        }]
    );
    assert_eq!(
        changes(&plan),
        json!([
            {"field": "客户状态", "old": "新客户", "new": "成交客户"},
            {"field": "标签", "old": null, "new": ["VIP成交"]}
        ])
    );

    // The other way round (the later round's rule ranks lower), the later write is dropped.
    let e = engine(json!([
        {"id": "intent", "name": "打开邮件转意向", "priority": 10,
         "trigger": {"type": "event", "event": "email_opened"},
         "actions": [{"type": "set_field", "field": "客户状态", "value": "意向客户"}]},
        {"id": "vip-won", "name": "VIP意向即成交", "priority": 1,
         "trigger": {"type": "field_changed", "field": "客户状态", "to": "意向客户"},
         "actions": [{"type": "set_field", "field": "客户状态", "value": "成交客户"}]}
    ]));
    let plan = run(&e, &c, &event("email_opened", "e1"));
    assert_eq!(action_rules(&plan), ["intent"]);
    assert_eq!(plan.overridden[0].rule_id.as_ref(), "vip-won");
    assert_eq!(plan.overridden[0].by_rule.as_ref(), "intent");
}

#[test]
fn the_trace_names_field_changed_rules_whose_from_or_to_did_not_match() {
    let e = engine(json!([
        {"id": "to-negotiation", "name": "进入商务谈判", "trigger": {"type": "field_changed", "field": "跟进阶段", "to": "商务谈判"},
         "actions": [tag("谈判中")]},
        {"id": "from-confirm", "name": "离开需求确认", "trigger": {"type": "field_changed", "field": "跟进阶段", "from": "需求确认"},
         "actions": [tag("推进")]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为", "跟进阶段": "线索获取"}));
    let update = event("profile_updated", "e1").change("跟进阶段", "需求确认");
    let plan = explain(&e, &c, &update);
    assert!(plan.actions.is_empty());
    let mismatch = |_: &str| json!({"outcome": "trigger_mismatch", "field": "跟进阶段", "old": "线索获取", "new": "需求确认"});
    assert_eq!(
        outcomes(&plan),
        [
            ("to-negotiation".into(), 0, mismatch("to")),
            ("from-confirm".into(), 0, mismatch("from")),
        ]
    );
}

#[test]
fn max_fires_limits_how_often_a_rule_fires_per_customer() {
    let e = engine(json!([
        {"id": "twice", "name": "最多两次", "trigger": {"type": "event", "event": "call_failed"},
         "expiry": {"max_fires": 2}, "actions": [{"type": "increment", "field": "跟进次数"}]}
    ]));
    let mut host = Host::new(&e, json!({"客户名称": "华为"}));
    let first = host.send(&event("call_failed", "e1"), now());
    assert_eq!(
        actions(&first),
        json!([{"rule_id": "twice", "action": {"type": "increment", "field": "跟进次数", "by": 1, "value": 1}}])
    );
    assert_eq!(host.state.fires("twice"), 1);
    let second = host.send(&event("call_failed", "e2"), now());
    assert_eq!(actions(&second)[0]["action"]["value"], json!(2));
    assert_eq!(host.state.fires("twice"), 2);
    let third = host.send(&event("call_failed", "e3"), now());
    assert!(third.is_empty());
    assert_eq!(
        outcomes(&third),
        [(
            "twice".into(),
            0,
            json!({"outcome": "max_fires", "max_fires": 2})
        )]
    );
    assert_eq!(host.state.fires("twice"), 2);
    // Another customer has its own count.
    assert_eq!(
        action_rules(&run(&e, &host.record, &event("call_failed", "e4"))),
        ["twice"]
    );
}

#[test]
fn cooldown_blocks_fires_until_it_passes() {
    let e = engine(json!([
        {"id": "remind", "name": "7天内最多提醒一次", "trigger": {"type": "event", "event": "page_visited"},
         "expiry": {"cooldown": "7d"},
         "actions": [{"type": "notify", "channel": "in_app", "to": ["owner"], "template": "{{客户名称}} 又来了"}]}
    ]));
    let mut host = Host::new(&e, json!({"客户名称": "华为", "负责人": "li.wei"}));
    let plan = host.send(&event("page_visited", "e1"), now());
    assert_eq!(action_rules(&plan), ["remind"]);
    assert_eq!(host.state.last_fired("remind"), Some(now()));
    assert_eq!(
        serde_json::to_value(plan.state.as_ref().unwrap()).unwrap(),
        json!({"rules": {"remind": {"fires": 1, "last_fired": "2024-05-20T09:00:00Z"}}})
    );

    let until = now() + Span::days(7);
    let day6 = now() + Span::days(6);
    let plan = host.send(&Event::new("page_visited", "e2", day6), day6);
    assert!(plan.is_empty());
    assert_eq!(
        outcomes(&plan),
        [(
            "remind".into(),
            0,
            json!({"outcome": "cooling_down", "until": "2024-05-27T09:00:00Z"})
        )]
    );
    assert_eq!(
        plan.trace.unwrap()[0].outcome,
        Outcome::CoolingDown { until }
    );
    let just_before = until - Span::seconds(1);
    assert!(host
        .send(&Event::new("page_visited", "e3", just_before), just_before)
        .actions
        .is_empty());

    let plan = host.send(&Event::new("page_visited", "e4", until), until);
    assert_eq!(action_rules(&plan), ["remind"]);
    assert_eq!(host.state.last_fired("remind"), Some(until));
    assert_eq!(host.state.fires("remind"), 2);
}

#[test]
fn disabled_rules_never_fire_suppress_or_override() {
    let e = engine(json!([
        {"id": "off", "name": "停用", "enabled": false, "trigger": {"type": "event", "event": "login"},
         "group": "g", "priority": 100,
         "actions": [{"type": "set_field", "field": "客户状态", "value": "流失客户"}]},
        {"id": "on", "name": "启用", "trigger": {"type": "event", "event": "login"}, "group": "g",
         "actions": [{"type": "set_field", "field": "客户状态", "value": "意向客户"}]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为"}));
    let plan = explain(&e, &c, &event("login", "e1"));
    assert_eq!(action_rules(&plan), ["on"]);
    assert!(plan.overridden.is_empty() && plan.suppressed.is_empty());
    assert_eq!(
        outcomes(&plan),
        [
            ("off".into(), 0, outcome("disabled")),
            ("on".into(), 0, outcome("fired"))
        ]
    );
    assert_eq!(e.rules().summary().enabled, 1);
}

#[test]
fn scope_limits_the_customers_a_rule_applies_to() {
    let e = engine(json!([
        {"id": "vip-only", "name": "VIP专属", "trigger": {"type": "event", "event": "login"},
         "scope": {"field": "标签", "op": "has_tag", "value": "VIP"}, "actions": [task("VIP 登录")]}
    ]));
    let vip = customer(&e, json!({"客户名称": "华为", "标签": ["VIP"]}));
    assert_eq!(
        action_rules(&run(&e, &vip, &event("login", "e1"))),
        ["vip-only"]
    );
    let other = customer(&e, json!({"客户名称": "小米", "标签": ["展会"]}));
    let plan = explain(&e, &other, &event("login", "e1"));
    assert!(plan.is_empty());
    assert_eq!(
        outcomes(&plan),
        [("vip-only".into(), 0, outcome("out_of_scope"))]
    );
    assert_eq!(
        serde_json::to_value(&plan.trace.unwrap()[0].condition).unwrap(),
        json!({"condition": "标签 has_tag \"VIP\"", "result": "false", "actual": "展会"})
    );
}

// ---------------------------------------------------------------------------------------
// Cascades
// ---------------------------------------------------------------------------------------

#[test]
fn cascade_follows_field_changes_made_by_rules_breadth_first() {
    let e = engine(json!([
        // Higher priority, but triggered only in round 1.
        {"id": "won-tag", "name": "成交打标签", "priority": 50,
         "trigger": {"type": "field_changed", "field": "客户状态", "to": "成交客户"},
         "actions": [tag("已成交")]},
        {"id": "order", "name": "下单即成交", "trigger": {"type": "event", "event": "order_placed"},
         "actions": [{"type": "set_field", "field": "客户状态", "value": "成交客户"}]},
        {"id": "tag-count", "name": "标签变化计数",
         "trigger": {"type": "field_changed", "field": "标签"},
         "actions": [{"type": "increment", "field": "跟进次数"}]}
    ]));
    assert!(e.warnings().is_empty());
    let c = customer(&e, json!({"客户名称": "华为", "客户状态": "意向客户"}));
    let ev = event("order_placed", "e1");
    let plan = explain(&e, &c, &ev);
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "order", "action": {"type": "set_field", "field": "客户状态", "value": "成交客户"}},
            {"rule_id": "won-tag", "action": resolved_tag("已成交")},
            {"rule_id": "tag-count", "action": {"type": "increment", "field": "跟进次数", "by": 1, "value": 1}}
        ])
    );
    assert_eq!(
        outcomes(&plan),
        [
            ("order".into(), 0, outcome("fired")),
            ("won-tag".into(), 1, outcome("fired")),
            ("tag-count".into(), 2, outcome("fired"))
        ]
    );
    assert_eq!(
        changes(&plan),
        json!([
            {"field": "客户状态", "old": "意向客户", "new": "成交客户"},
            {"field": "标签", "old": null, "new": ["已成交"]},
            {"field": "跟进次数", "old": null, "new": 1}
        ])
    );
    assert!(plan.cascade_limit.is_none());
    // Each action's key carries the round its rule fired in.
    let keys: Vec<String> = plan.actions.iter().map(|a| a.key.to_string()).collect();
    assert_eq!(
        keys,
        [
            expected_key("C001", "e1", "order", 0, 0, ""),
            expected_key("C001", "e1", "won-tag", 1, 0, ""),
            expected_key("C001", "e1", "tag-count", 2, 0, ""),
        ]
    );
}

/// Two rules that trigger each other through increments, forever.
fn cycle(repeat: bool) -> Json {
    json!([
        {"id": "budget-up", "name": "次数变化加预算", "repeat_in_cascade": repeat,
         "trigger": {"type": "field_changed", "field": "跟进次数"},
         "actions": [{"type": "increment", "field": "预算"}]},
        {"id": "count-up", "name": "预算变化加次数", "repeat_in_cascade": repeat,
         "trigger": {"type": "field_changed", "field": "预算"},
         "actions": [{"type": "increment", "field": "跟进次数"}]}
    ])
}

#[test]
fn a_cycle_stops_at_the_cascade_depth_keeping_the_work_done() {
    let e = engine(cycle(true));
    assert_eq!(
        e.warnings(),
        [Warning {
            rules: vec!["budget-up".into(), "count-up".into()],
            fields: vec!["预算".into(), "跟进次数".into()],
        }]
    );
    assert_eq!(
        e.warnings()[0].to_string(),
        "possible cycle between rules budget-up, count-up through fields 预算, 跟进次数"
    );
    let c = customer(&e, json!({"客户名称": "华为", "预算": 0, "跟进次数": 0}));
    let ev = event("profile_updated", "e1").change("跟进次数", 1);
    let started = std::time::Instant::now();
    let plan = explain(&e, &c, &ev);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // Round 0 (the event's change) and rounds 1..=8, alternating.
    assert_eq!(
        action_rules(&plan),
        [
            "budget-up",
            "count-up",
            "budget-up",
            "count-up",
            "budget-up",
            "count-up",
            "budget-up",
            "count-up",
            "budget-up"
        ]
    );
    assert_eq!(
        plan.cascade_limit,
        Some(CascadeLimit {
            depth: 8,
            fields: vec!["预算".into()],
            rules: vec!["count-up".into()],
        })
    );
    assert_eq!(
        changes(&plan),
        json!([
            {"field": "跟进次数", "old": 0, "new": 5},
            {"field": "预算", "old": 0, "new": 5}
        ])
    );
    let trace = outcomes(&plan);
    assert_eq!(trace.len(), 10);
    assert_eq!(trace[8], ("budget-up".into(), 8, outcome("fired")));
    assert_eq!(trace[9], ("count-up".into(), 9, outcome("cascade_limit")));

    // A smaller limit cuts sooner.
    let shallow = engine_with(crm(), json!({ "rules": cycle(true) }), 2);
    let plan = run(&shallow, &c, &ev);
    assert_eq!(action_rules(&plan), ["budget-up", "count-up", "budget-up"]);
    let limit = plan.cascade_limit.unwrap();
    assert_eq!((limit.depth, &*limit.rules[0]), (2, "count-up"));
}

#[test]
fn without_repeat_in_cascade_a_rule_fires_once_per_evaluation() {
    let e = engine(cycle(false));
    let c = customer(&e, json!({"客户名称": "华为", "预算": 0, "跟进次数": 0}));
    let plan = explain(
        &e,
        &c,
        &event("profile_updated", "e1").change("跟进次数", 1),
    );
    assert_eq!(action_rules(&plan), ["budget-up", "count-up"]);
    assert!(plan.cascade_limit.is_none());
    assert_eq!(
        outcomes(&plan),
        [
            ("budget-up".into(), 0, outcome("fired")),
            ("count-up".into(), 1, outcome("fired")),
            ("budget-up".into(), 2, outcome("already_fired"))
        ]
    );
    assert_eq!(
        changes(&plan),
        json!([
            {"field": "跟进次数", "old": 0, "new": 2},
            {"field": "预算", "old": 0, "new": 1}
        ])
    );
}

// ---------------------------------------------------------------------------------------
// Behaviour counts
// ---------------------------------------------------------------------------------------

#[test]
fn behaviour_count_holds_from_the_third_event_in_the_window_until_it_lapses() {
    let e = engine(json!([
        {"id": "hot", "name": "7天内3次浏览产品页", "trigger": {"type": "event", "event": "page_visited"},
         "when": {"count": "page_visited", "at_least": 3, "within": "7d",
                  "where": {"event": "page", "op": "starts_with", "value": "/product"}},
         "actions": [tag("高意向")]}
    ]));
    let mut host = Host::new(&e, json!({"客户名称": "华为"}));
    let visit = |host: &mut Host, id: &str, page: &str, t: DateTime<Utc>| {
        let plan = host.send(
            &Event::new("page_visited", id, t).attribute("page", page),
            t,
        );
        let actual = plan.trace.as_ref().unwrap()[0]
            .condition
            .as_ref()
            .unwrap()
            .actual
            .clone();
        (action_rules(&plan), actual.unwrap())
    };
    let none: Vec<String> = Vec::new();
    let day = |d: i64| now() + Span::days(d);
    assert_eq!(
        visit(&mut host, "e1", "/product/crm", day(0)),
        (none.clone(), "1".into())
    );
    // Another page does not count.
    assert_eq!(
        visit(&mut host, "e2", "/blog", day(1)),
        (none.clone(), "1".into())
    );
    assert_eq!(
        visit(&mut host, "e3", "/product/bi", day(1)),
        (none.clone(), "2".into())
    );
    assert_eq!(
        visit(&mut host, "e4", "/product/erp", day(2)),
        (vec!["hot".to_owned()], "3".into())
    );
    assert_eq!(
        serde_json::to_value(&host.state).unwrap(),
        json!({"counters": {"hot#0": [
            "2024-05-20T09:00:00Z", "2024-05-21T09:00:00Z", "2024-05-22T09:00:00Z"
        ]}})
    );
    // Day 8: the visit of day 0 is out of the window (day 1 is exactly 7 days back).
    assert_eq!(
        visit(&mut host, "e5", "/product/crm", day(8)),
        (vec!["hot".to_owned()], "3".into())
    );
    // Day 20: only this visit is in the window.
    assert_eq!(
        visit(&mut host, "e6", "/product/crm", day(20)),
        (none, "1".into())
    );
    assert_eq!(
        serde_json::to_value(&host.state).unwrap(),
        json!({"counters": {"hot#0": ["2024-06-09T09:00:00Z"]}})
    );
}

#[test]
fn behaviour_counters_are_stored_in_priority_order_whatever_the_rule_positions() {
    // Regression: counters were recorded in rule-set order, so two rule sets differing
    // only in the position of rules with distinct priorities returned states whose JSON
    // differed in the order of the counters.
    let a = json!({"id": "a", "name": "A", "priority": 1, "trigger": {"type": "event", "event": "k1"},
        "when": {"count": "k1", "at_least": 2, "within": "1d"}, "actions": [tag("a")]});
    let b = json!({"id": "b", "name": "B", "priority": 2, "trigger": {"type": "event", "event": "k2"},
        "when": {"count": "k1", "at_least": 2, "within": "1d"}, "actions": [tag("b")]});
    let c = customer(&engine(json!([])), json!({"客户名称": "华为"}));
    let expected = json!({"actions": [], "changes": [], "state": {"counters": {
        "b#0": ["2024-05-20T09:00:00Z"], "a#0": ["2024-05-20T09:00:00Z"]}}});
    for rules in [json!([a.clone(), b.clone()]), json!([b, a])] {
        let plan = run(&engine(rules), &c, &event("k1", "e1"));
        assert_eq!(plan.to_json(), serde_json::to_string(&expected).unwrap());
    }
}

// ---------------------------------------------------------------------------------------
// Assignment
// ---------------------------------------------------------------------------------------

fn assign_rule(id: &str, strategy: Json) -> Json {
    json!({"id": id, "name": id, "trigger": {"type": "event", "event": "lead_created"},
           "actions": [{"type": "assign_owner", "strategy": strategy}]})
}

fn assigned(plan: &Plan) -> Vec<(String, String)> {
    plan.actions
        .iter()
        .map(|a| {
            let j = serde_json::to_value(&a.action).unwrap();
            (
                j["user"].as_str().unwrap().to_owned(),
                j["strategy"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(user: &str, strategy: &str) -> (String, String) {
    (user.to_owned(), strategy.to_owned())
}

#[test]
fn fixed_assignment_writes_the_owner_field() {
    let e = engine(json!([assign_rule(
        "fixed",
        json!({"type": "fixed", "user": "wang"})
    )]));
    let c = customer(&e, json!({"客户名称": "华为", "负责人": "li"}));
    let plan = run(&e, &c, &event("lead_created", "e1"));
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "fixed", "action": {"type": "assign_owner", "field": "负责人", "user": "wang", "strategy": "fixed"}}])
    );
    assert_eq!(
        changes(&plan),
        json!([{"field": "负责人", "old": "li", "new": "wang"}])
    );
}

#[test]
fn table_assignment_looks_up_the_field_with_a_default() {
    let e = engine(json!([assign_rule(
        "by-region",
        json!({"type": "table", "field": "区域", "map": {"华东": "wang", "华南": "li"}, "default": "pool.admin"})
    )]));
    let region = |r: Option<&str>| {
        let c = match r {
            Some(r) => customer(&e, json!({"客户名称": "华为", "区域": r})),
            None => customer(&e, json!({"客户名称": "华为"})),
        };
        assigned(&run(&e, &c, &event("lead_created", "e1")))
    };
    assert_eq!(region(Some("华东")), [pair("wang", "table")]);
    assert_eq!(region(Some("华南")), [pair("li", "table")]);
    assert_eq!(region(Some("西北")), [pair("pool.admin", "table")]);
    assert_eq!(region(None), [pair("pool.admin", "table")]);
}

#[test]
fn round_robin_reads_and_advances_the_context_counter() {
    let pool = json!({"type": "round_robin", "pool": ["wang", "li", "zhao"]});
    let e = engine(json!([assign_rule("rr", pool.clone())]));
    let c = customer(&e, json!({"客户名称": "华为"}));
    let ev = event("lead_created", "e1");
    let state = CustomerState::new();

    // No counter yet: the first user, and the counter becomes 1.
    let plan = run(&e, &c, &ev);
    assert_eq!(assigned(&plan), [pair("wang", "round_robin")]);
    assert_eq!(plan.counters, [("wang,li,zhao".to_owned(), 1)]);

    let ctx = Context::default().counter("wang,li,zhao", 7);
    let plan = e.evaluate(&Input::new("C001", &c, &state, &ev, now()).context(&ctx));
    assert_eq!(assigned(&plan), [pair("li", "round_robin")]);
    assert_eq!(plan.counters, [("wang,li,zhao".to_owned(), 8)]);
    assert_eq!(
        serde_json::to_value(&plan).unwrap()["counters"],
        json!([["wang,li,zhao", 8]])
    );

    // Two assignments from one pool in one plan take turns.
    let two = engine(json!([
        assign_rule("rr", pool.clone()),
        {"id": "rr-manager", "name": "rr-manager", "trigger": {"type": "event", "event": "lead_created"},
         "actions": [{"type": "assign_owner", "field": "客户经理", "strategy": pool}]}
    ]));
    let plan = two.evaluate(&Input::new("C001", &c, &state, &ev, now()).context(&ctx));
    assert_eq!(
        assigned(&plan),
        [pair("li", "round_robin"), pair("zhao", "round_robin")]
    );
    assert_eq!(plan.counters, [("wang,li,zhao".to_owned(), 9)]);
}

#[test]
fn least_loaded_assignment_uses_context_loads_and_ties_go_to_pool_order() {
    let pool = json!({"type": "least_loaded", "pool": ["wang", "li", "zhao"]});
    let e = engine(json!([
        assign_rule("owner", pool.clone()),
        {"id": "manager", "name": "manager", "trigger": {"type": "event", "event": "lead_created"},
         "actions": [{"type": "assign_owner", "field": "客户经理", "strategy": pool}]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为"}));
    let ev = event("lead_created", "e1");
    let state = CustomerState::new();
    let with = |ctx: &Context| {
        assigned(&e.evaluate(&Input::new("C001", &c, &state, &ev, now()).context(ctx)))
    };
    // li and zhao tie at 2: li is first in the pool; then li has 3 and zhao wins.
    let ctx = Context::default()
        .load("wang", 5)
        .load("li", 2)
        .load("zhao", 2);
    assert_eq!(
        with(&ctx),
        [pair("li", "least_loaded"), pair("zhao", "least_loaded")]
    );
    // No loads: all 0, pool order; the first assignment counts for the second.
    assert_eq!(
        with(&Context::default()),
        [pair("wang", "least_loaded"), pair("li", "least_loaded")]
    );
    // Unknown users in the context are ignored; missing pool users count 0.
    let ctx = Context::default().load("wang", 1).load("someone", 0);
    assert_eq!(
        with(&ctx),
        [pair("li", "least_loaded"), pair("zhao", "least_loaded")]
    );
    // Least loaded keeps no counters.
    let plan = e.evaluate(&Input::new("C001", &c, &state, &ev, now()));
    assert!(plan.counters.is_empty());
}

#[test]
fn hash_assignment_is_stable_per_customer_and_spreads_customers() {
    let users = ["wang", "li", "zhao"];
    let e = engine(json!([assign_rule(
        "hash",
        json!({"type": "hash", "pool": users})
    )]));
    let c = customer(&e, json!({"客户名称": "华为"}));
    let state = CustomerState::new();
    let mut seen = Vec::new();
    for n in 0..30 {
        let id = format!("CUST2024052000{n:02}");
        let pick = |event_id: &str| {
            let ev = event("lead_created", event_id);
            assigned(&e.evaluate(&Input::new(&id, &c, &state, &ev, now())))
        };
        let first = pick("e1");
        assert_eq!(first, pick("e2"), "{id}");
        // The documented bucket: mix(fnv(customer id, pool joined by commas)) % pool size.
        let bucket = (mix(fnv(&[&id, "wang,li,zhao"])) % 3) as usize;
        assert_eq!(first, [pair(users[bucket], "hash")], "{id}");
        seen.push(first[0].0.clone());
    }
    for u in users {
        assert!(seen.iter().any(|s| s == u), "{u} never chosen: {seen:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Actions: templates, recipients, writes, sync, approval, sequences, A/B splits
// ---------------------------------------------------------------------------------------

#[test]
fn templates_render_with_sensitive_fields_masked() {
    let e = engine(json!([
        {"id": "call", "name": "回访", "trigger": {"type": "event", "event": "call_failed"},
         "actions": [
            {"type": "create_task", "title": "回访 {{客户名称}}",
             "description": "电话 {{手机号}}，邮箱 {{ 邮箱 }}，预算 {{预算}}，备注「{{备注}}」",
             "due_in": "1d12h", "priority": "urgent", "assignee": {"user": "li"}},
            {"type": "notify", "channel": "email", "to": [{"contact": "邮箱"}],
             "subject": "致 {{客户名称}}", "template": "您好，我们未能接通 {{手机号}}。"}
         ]}
    ]));
    let c = customer(
        &e,
        json!({"客户名称": "华为", "手机号": "13812345678", "邮箱": "li.wei@huawei.com", "预算": 500000.5}),
    );
    let plan = run(&e, &c, &event("call_failed", "e1"));
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "call", "action": {"type": "create_task", "title": "回访 华为",
                "description": "电话 138****5678，邮箱 l***@huawei.com，预算 500000.5，备注「」",
                "assignee": {"user": "li"}, "due": "2024-05-21T21:00:00Z", "priority": "urgent"}},
            {"rule_id": "call", "action": {"type": "notify", "channel": "email",
                "to": [{"contact": "邮箱"}], "subject": "致 华为",
                "message": "您好，我们未能接通 138****5678。"}}
        ])
    );
    let text = plan.to_json();
    assert!(!text.contains("13812345678") && !text.contains("li.wei@"));
}

#[test]
fn recipients_resolve_owner_member_fields_roles_users_and_contacts() {
    let e = engine(json!([
        // Runs before the assignment: the owner is not known yet.
        {"id": "early", "name": "分配前", "priority": 10, "trigger": {"type": "event", "event": "lead_created"},
         "actions": [{"type": "notify", "channel": "in_app", "to": ["owner"], "template": "新线索"}]},
        {"id": "assign", "name": "分配并通知", "trigger": {"type": "event", "event": "lead_created"},
         "actions": [
            {"type": "assign_owner", "strategy": {"type": "fixed", "user": "wang"}},
            {"type": "notify", "channel": "sms", "to": ["owner"],
             "cc": [{"field": "客户经理"}, {"role": "销售总监"}, {"contact": "手机号"}, {"user": "zhang"}],
             "template": "{{负责人}} 负责 {{客户名称}}"},
            {"type": "create_task", "title": "经理复核", "assignee": {"field": "客户经理"}}
         ]}
    ]));
    let with_manager = customer(&e, json!({"客户名称": "华为", "客户经理": "zhao.min"}));
    let plan = run(&e, &with_manager, &event("lead_created", "e1"));
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "early", "action": {"type": "notify", "channel": "in_app",
                "to": [{"unassigned": "负责人"}], "message": "新线索"}},
            {"rule_id": "assign", "action": {"type": "assign_owner", "field": "负责人", "user": "wang", "strategy": "fixed"}},
            {"rule_id": "assign", "action": {"type": "notify", "channel": "sms", "to": [{"user": "wang"}],
                "cc": [{"user": "zhao.min"}, {"role": "销售总监"}, {"contact": "手机号"}, {"user": "zhang"}],
                "message": "wang 负责 华为"}},
            {"rule_id": "assign", "action": resolved_task("经理复核", json!({"user": "zhao.min"}))}
        ])
    );
    // An empty member field is left to the host.
    let without = customer(&e, json!({"客户名称": "华为", "客户经理": ""}));
    let plan = run(&e, &without, &event("lead_created", "e1"));
    assert_eq!(
        actions(&plan)[3]["action"]["assignee"],
        json!({"unassigned": "客户经理"})
    );
    assert_eq!(
        actions(&plan)[2]["action"]["cc"][0],
        json!({"unassigned": "客户经理"})
    );
}

#[test]
fn set_field_from_now_and_from_event_and_increment_by_and_by_event() {
    let e = engine_with(
        crm(),
        json!({"time_zone": "Asia/Shanghai", "rules": [
            {"id": "order", "name": "下单", "trigger": {"type": "event", "event": "order_placed"},
             "actions": [
                {"type": "set_field", "field": "最近跟进时间", "from_now": "0s"},
                {"type": "set_field", "field": "创建时间", "from_now": "1d"},
                {"type": "set_field", "field": "合同到期日", "from_now": "30d"},
                {"type": "set_field", "field": "评分", "from_event": "stars"},
                {"type": "increment", "field": "跟进次数", "by": 2},
                {"type": "increment", "field": "预算", "by": -0.5},
                {"type": "increment", "field": "预算", "by_event": "amount"}
             ]}
        ]}),
        DEFAULT_CASCADE_DEPTH,
    );
    let c = customer(&e, json!({"客户名称": "华为", "跟进次数": 3, "预算": 1000}));
    // 20:00 UTC is 04:00 the next day in Shanghai: dates are taken in the rule set's zone.
    let late = at(2024, 5, 20, 20, 0, 0);
    let state = CustomerState::new();
    let ev = Event::new("order_placed", "e1", late)
        .attribute("stars", 4)
        .attribute("amount", 2500);
    let plan = e.evaluate(&Input::new("C001", &c, &state, &ev, late));
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "order", "action": {"type": "set_field", "field": "最近跟进时间", "value": "2024-05-20T20:00:00Z"}},
            {"rule_id": "order", "action": {"type": "set_field", "field": "创建时间", "value": "2024-05-21T20:00:00Z"}},
            {"rule_id": "order", "action": {"type": "set_field", "field": "合同到期日", "value": "2024-06-20"}},
            {"rule_id": "order", "action": {"type": "set_field", "field": "评分", "value": 4}},
            {"rule_id": "order", "action": {"type": "increment", "field": "跟进次数", "by": 2, "value": 5}},
            {"rule_id": "order", "action": {"type": "increment", "field": "预算", "by": -0.5, "value": 999.5}},
            {"rule_id": "order", "action": {"type": "increment", "field": "预算", "by": 2500, "value": 3499.5}}
        ])
    );
    assert_eq!(
        changes(&plan),
        json!([
            {"field": "最近跟进时间", "old": null, "new": "2024-05-20T20:00:00Z"},
            {"field": "创建时间", "old": null, "new": "2024-05-21T20:00:00Z"},
            {"field": "合同到期日", "old": null, "new": "2024-06-20"},
            {"field": "评分", "old": null, "new": 4},
            {"field": "跟进次数", "old": 3, "new": 5},
            {"field": "预算", "old": 1000, "new": 3499.5}
        ])
    );
    assert!(plan.warnings.is_empty());

    // A missing `by_event` attribute adds nothing; attributes of the wrong type are
    // skipped with a warning.
    let ev = Event::new("order_placed", "e2", late).attribute("stars", "五星");
    let plan = e.evaluate(&Input::new("C001", &c, &state, &ev, late));
    assert_eq!(plan.actions.len(), 5);
    assert_eq!(
        plan.warnings,
        ["rule order: event attribute \"stars\" is a text, not a value for 评分: skipped"]
    );
    let ev = Event::new("order_placed", "e3", late)
        .attribute("stars", 5)
        .attribute("amount", "很多");
    let plan = e.evaluate(&Input::new("C001", &c, &state, &ev, late));
    assert_eq!(plan.actions.len(), 6);
    assert_eq!(
        plan.warnings,
        ["rule order: event attribute \"amount\" is a text, not a number: skipped"]
    );
}

#[test]
fn local_dates_at_the_end_of_time_do_not_panic() {
    // Regression: a date written `from_now` (and a sequence step's `at`) took the local
    // date with `DateTime::date_naive`, which panics when the instant plus the zone's
    // offset passes the end of the calendar (`now` near `DateTime::MAX_UTC`, Shanghai).
    let e = engine_with(
        crm(),
        json!({"time_zone": "Asia/Shanghai", "rules": [
            {"id": "late", "name": "很晚", "trigger": {"type": "event", "event": "login"},
             "actions": [
                {"type": "set_field", "field": "合同到期日", "from_now": "1d"},
                {"type": "start_sequence", "sequence": "late", "steps": [
                    {"after": "1d", "at": "10:00", "actions": [task("跟进")]}]}
             ]}
        ]}),
        DEFAULT_CASCADE_DEPTH,
    );
    let c = customer(&e, json!({"客户名称": "华为"}));
    let state = CustomerState::new();
    let end = DateTime::<Utc>::MAX_UTC;
    let ev = Event::new("login", "e1", end);
    let plan = e.evaluate(&Input::new("C001", &c, &state, &ev, end - Span::hours(1)));
    // The due time saturates at the end; past it there is no local date, so the date is
    // the UTC one and the sequence keeps its unmoved due time.
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "late", "action": {"type": "set_field", "field": "合同到期日", "value": "+262142-12-31"}},
            {"rule_id": "late", "action": {"type": "start_sequence", "sequence": "late", "first_due": "+262142-12-31T23:59:59.999999999Z"}}
        ])
    );
}

#[test]
fn sync_sends_mapped_fields_with_sensitive_values_masked() {
    let e = engine(json!([
        {"id": "sync", "name": "同步ERP", "trigger": {"type": "event", "event": "profile_updated"},
         "actions": [{"type": "sync", "target": "erp",
                      "mapping": {"客户名称": "公司名称", "手机号": "mobile", "邮箱": "mail", "预算": "budget", "标签": "tags"}}]}
    ]));
    let c = customer(
        &e,
        json!({"客户名称": "华为", "手机号": "13812345678", "预算": 300000, "标签": ["VIP"]}),
    );
    // The event's own change is what the sync sends.
    let ev = event("profile_updated", "e1").change("邮箱", "li.wei@huawei.com");
    let plan = run(&e, &c, &ev);
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "sync", "action": {"type": "sync", "target": "erp", "fields": [
            {"field": "客户名称", "target": "公司名称", "value": "华为"},
            {"field": "手机号", "target": "mobile", "value": "138****5678", "masked": true},
            {"field": "邮箱", "target": "mail", "value": "l***@huawei.com", "masked": true},
            {"field": "预算", "target": "budget", "value": 300000},
            {"field": "标签", "target": "tags", "value": ["VIP"]}
        ]}}])
    );
}

#[test]
fn request_approval_plans_the_request_without_applying_the_change() {
    let e = engine(json!([
        {"id": "churn", "name": "流失需审批", "trigger": {"type": "event", "event": "inactive_90d"},
         "actions": [{"type": "request_approval", "field": "客户状态", "value": "流失客户",
                      "approver": {"role": "部门经理"}, "reason": "{{客户名称}} 90天无互动"}]},
        {"id": "watch", "name": "状态变化", "trigger": {"type": "field_changed", "field": "客户状态"},
         "actions": [task("不应触发")]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为", "客户状态": "意向客户"}));
    let plan = run(&e, &c, &event("inactive_90d", "e1"));
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "churn", "action": {"type": "request_approval", "field": "客户状态",
            "value": "流失客户", "approver": {"role": "部门经理"}, "reason": "华为 90天无互动"}}])
    );
    assert!(plan.changes.is_empty());
    assert!(plan.state.is_none());
}

#[test]
fn start_sequence_records_the_sequence_and_sets_a_timer_for_its_first_step() {
    let e = engine_with(
        crm(),
        json!({"time_zone": "Asia/Shanghai", "rules": [
            {"id": "onboard", "name": "签约后服务序列",
             "trigger": {"type": "field_changed", "field": "客户状态", "to": "成交客户"},
             "actions": [{"type": "start_sequence", "sequence": "onboarding", "steps": [
                {"after": "3d", "at": "10:00", "actions": [task("发送使用指南")]},
                {"after": "1w", "actions": [task("上线回访")]}
             ]}]},
            {"id": "plain", "name": "无时刻", "trigger": {"type": "field_changed", "field": "客户状态", "to": "成交客户"},
             "actions": [{"type": "start_sequence", "sequence": "plain", "steps": [
                {"after": "1d12h", "actions": [task("跟进")]}
             ]}]}
        ]}),
        DEFAULT_CASCADE_DEPTH,
    );
    let c = customer(&e, json!({"客户名称": "华为", "客户状态": "意向客户"}));
    let plan = run(
        &e,
        &c,
        &event("profile_updated", "e1").change("客户状态", "成交客户"),
    );
    // 3 days after 2024-05-20 09:00 UTC is 2024-05-23 17:00 in Shanghai; the step's
    // `at` moves it to 10:00 Shanghai that day, 02:00 UTC.
    let first = at(2024, 5, 23, 2, 0, 0);
    let plain = at(2024, 5, 21, 21, 0, 0);
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "onboard", "action": {"type": "start_sequence", "sequence": "onboarding", "first_due": "2024-05-23T02:00:00Z"}},
            {"rule_id": "plain", "action": {"type": "start_sequence", "sequence": "plain", "first_due": "2024-05-21T21:00:00Z"}}
        ])
    );
    assert_eq!(
        plan.timers,
        [
            Timer::Set {
                key: "seq:onboarding".into(),
                at: first
            },
            Timer::Set {
                key: "seq:plain".into(),
                at: plain
            }
        ]
    );
    let state = plan.state.unwrap();
    let sequences: Vec<_> = state.sequences().collect();
    assert_eq!(sequences, [("onboarding", 0, first), ("plain", 0, plain)]);
}

#[test]
fn ab_split_picks_a_stable_variant_per_customer_and_records_it() {
    let variants = json!([
        {"name": "A", "weight": 1, "actions": [{"type": "notify", "channel": "sms", "to": [{"contact": "手机号"}], "template": "版本A"}]},
        {"name": "B", "weight": 3, "actions": [{"type": "notify", "channel": "sms", "to": [{"contact": "手机号"}], "template": "版本B"}]}
    ]);
    let e = engine(json!([
        {"id": "welcome", "name": "欢迎短信AB", "trigger": {"type": "event", "event": "lead_created"},
         "actions": [tag("欢迎"), {"type": "ab_split", "experiment": "welcome-sms", "variants": variants}]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为", "手机号": "13812345678"}));
    let mut chosen = Vec::new();
    for n in 0..40 {
        let id = format!("C{n:03}");
        // The documented split: bucket = mix(fnv(customer id, experiment)) % total weight,
        // then the variant whose weight range holds the bucket.
        let bucket = mix(fnv(&[&id, "welcome-sms"])) % 4;
        let expected = if bucket < 1 { "A" } else { "B" };
        let state = CustomerState::new();
        let ev = event("lead_created", "e1");
        let plan = e.evaluate(&Input::new(&id, &c, &state, &ev, now()));
        assert_eq!(
            actions(&plan),
            json!([
                {"rule_id": "welcome", "action": resolved_tag("欢迎")},
                {"rule_id": "welcome", "action": {"type": "ab_split", "experiment": "welcome-sms", "variant": expected}},
                {"rule_id": "welcome", "action": {"type": "notify", "channel": "sms", "to": [{"contact": "手机号"}],
                    "message": format!("版本{expected}")}}
            ]),
            "{id}"
        );
        let state = plan.state.clone().unwrap();
        assert_eq!(state.variant("welcome-sms"), Some(expected));
        // The nested action's key is placed under `1/variant:NAME/`.
        assert_eq!(
            plan.actions[2].key.to_string(),
            expected_key(
                &id,
                "e1",
                "welcome",
                0,
                0,
                &format!("1/variant:{expected}/")
            )
        );
        // Again with the recorded state: the same variant, and the state is unchanged.
        let ev = event("lead_created", "e2");
        let again = e.evaluate(&Input::new(&id, &c, &state, &ev, now()));
        assert_eq!(again.actions[1].action, plan.actions[1].action);
        assert!(again.state.is_none());
        chosen.push(expected);
    }
    assert!(chosen.contains(&"A") && chosen.contains(&"B"));

    // A recorded variant wins over the hash.
    let state: CustomerState =
        serde_json::from_value(json!({"experiments": {"welcome-sms": "A"}})).unwrap();
    let ev = event("lead_created", "e3");
    let plan = e.evaluate(&Input::new("C001", &c, &state, &ev, now()));
    assert_eq!(
        serde_json::to_value(&plan.actions[1].action).unwrap()["variant"],
        json!("A")
    );
    let state: CustomerState =
        serde_json::from_value(json!({"experiments": {"welcome-sms": "B"}})).unwrap();
    let plan = e.evaluate(&Input::new("C001", &c, &state, &ev, now()));
    assert_eq!(
        serde_json::to_value(&plan.actions[1].action).unwrap()["variant"],
        json!("B")
    );
}

// ---------------------------------------------------------------------------------------
// Idempotency keys, trace, empty plans, warnings, JSON
// ---------------------------------------------------------------------------------------

#[test]
fn idempotency_keys_are_stable_across_runs_and_engines_and_differ_per_event() {
    let rules = json!([
        {"id": "a", "name": "A", "trigger": {"type": "event", "event": "order_placed"},
         "actions": [tag("已下单"), {"type": "increment", "field": "跟进次数"}]},
        {"id": "b", "name": "B", "priority": 5, "trigger": {"type": "event", "event": "order_placed"},
         "actions": [task("确认订单")]}
    ]);
    let one = engine(rules.clone());
    let two = engine(rules);
    let c = customer(&one, json!({"客户名称": "华为"}));
    let keys = |e: &Engine, customer_id: &str, event_id: &str| -> Vec<ActionKey> {
        let state = CustomerState::new();
        let ev = event("order_placed", event_id);
        e.evaluate(&Input::new(customer_id, &c, &state, &ev, now()))
            .actions
            .iter()
            .map(|a| a.key)
            .collect()
    };
    let first = keys(&one, "C001", "e1");
    assert_eq!(first.len(), 3);
    assert_eq!(first, keys(&one, "C001", "e1"));
    assert_eq!(first, keys(&two, "C001", "e1"));
    let printed: Vec<String> = first.iter().map(ToString::to_string).collect();
    assert_eq!(
        printed,
        [
            expected_key("C001", "e1", "b", 0, 0, ""),
            expected_key("C001", "e1", "a", 0, 0, ""),
            expected_key("C001", "e1", "a", 0, 1, ""),
        ]
    );
    let mut distinct = first.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3);
    let other_event = keys(&one, "C001", "e2");
    let other_customer = keys(&one, "C002", "e1");
    for (i, k) in first.iter().enumerate() {
        assert_ne!(*k, other_event[i]);
        assert_ne!(*k, other_customer[i]);
    }
}

#[test]
fn the_trace_shows_every_sub_condition_with_skipped_ones_and_actual_values() {
    let e = engine(json!([
        {"id": "key-lead", "name": "重点线索", "trigger": {"type": "event", "event": "lead_created"},
         "when": {"all": [
            {"field": "预算", "op": "gte", "value": 500000},
            {"any": [{"field": "客户状态", "op": "eq", "value": "新客户"},
                     {"field": "标签", "op": "has_tag", "value": "VIP"}]},
            {"not": {"field": "手机号", "op": "is_empty"}}
         ]},
         "actions": [task("重点跟进")]}
    ]));
    let condition = |budget: i64| {
        let c = customer(
            &e,
            json!({"客户名称": "华为", "预算": budget, "客户状态": "新客户", "手机号": "13812345678"}),
        );
        let plan = explain(&e, &c, &event("lead_created", "e1"));
        let t = &plan.trace.as_ref().unwrap()[0];
        (
            serde_json::to_value(&t.outcome).unwrap(),
            serde_json::to_value(&t.condition).unwrap(),
        )
    };
    // The first test fails: everything after it is skipped, nested ones included.
    assert_eq!(
        condition(100),
        (
            outcome("condition_false"),
            json!({"condition": "all", "result": "false", "children": [
                {"condition": "预算 gte 500000", "result": "false", "actual": "100"},
                {"condition": "any", "result": "skipped", "children": [
                    {"condition": "客户状态 eq \"新客户\"", "result": "skipped"},
                    {"condition": "标签 has_tag \"VIP\"", "result": "skipped"}
                ]},
                {"condition": "not", "result": "skipped", "children": [
                    {"condition": "手机号 is_empty", "result": "skipped"}
                ]}
            ]})
        )
    );
    // All hold: `any` stops at its first true child; sensitive values are masked.
    assert_eq!(
        condition(600_000),
        (
            outcome("fired"),
            json!({"condition": "all", "result": "true", "children": [
                {"condition": "预算 gte 500000", "result": "true", "actual": "600000"},
                {"condition": "any", "result": "true", "children": [
                    {"condition": "客户状态 eq \"新客户\"", "result": "true", "actual": "\"新客户\""},
                    {"condition": "标签 has_tag \"VIP\"", "result": "skipped"}
                ]},
                {"condition": "not", "result": "true", "children": [
                    {"condition": "手机号 is_empty", "result": "false", "actual": "138****5678"}
                ]}
            ]})
        )
    );
    // Without `explain` there is no trace.
    let c = customer(&e, json!({"客户名称": "华为"}));
    assert!(run(&e, &c, &event("lead_created", "e1")).trace.is_none());
}

#[test]
fn an_event_that_matches_nothing_gives_an_empty_plan() {
    let e = engine(json!([
        {"id": "a", "name": "A", "trigger": {"type": "event", "event": "order_placed"},
         "when": {"field": "预算", "op": "gt", "value": 0}, "actions": [tag("x")]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为"}));
    for ev in [event("order_placed", "e1"), event("unknown_kind", "e2")] {
        let plan = run(&e, &c, &ev);
        assert!(plan.is_empty(), "{}", plan.to_json());
        assert_eq!(plan, Plan::default());
        assert_eq!(plan.to_json(), r#"{"actions":[],"changes":[]}"#);
    }
    // The trace of an empty plan still says why.
    let plan = explain(&e, &c, &event("order_placed", "e1"));
    assert!(plan.is_empty());
    assert_eq!(
        outcomes(&plan),
        [("a".into(), 0, outcome("condition_false"))]
    );
}

#[test]
fn unknown_fields_and_wrong_types_in_event_changes_are_skipped_with_warnings() {
    let e = engine(json!([
        {"id": "budget", "name": "预算变化", "trigger": {"type": "field_changed", "field": "预算"},
         "actions": [tag("预算变化")]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为", "预算": 100}));
    let ev = event("profile_updated", "e1")
        .change("不存在的字段", "x")
        .change("预算", "很多")
        .change("客户状态", "意向客户");
    let plan = run(&e, &c, &ev);
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.warnings,
        [
            "unknown field \"不存在的字段\" in the event's changes: skipped",
            "预算: a text is the wrong type for the field: skipped",
        ]
    );
    assert_eq!(
        changes(&plan),
        json!([{"field": "客户状态", "old": null, "new": "意向客户"}])
    );
}

#[test]
fn a_plan_serializes_to_json() {
    let e = engine(json!([
        {"id": "won", "name": "成交", "trigger": {"type": "event", "event": "order_placed"},
         "actions": [{"type": "set_field", "field": "客户状态", "value": "成交客户"}]}
    ]));
    let c = customer(&e, json!({"客户名称": "华为", "客户状态": "意向客户"}));
    let plan = run(&e, &c, &event("order_placed", "e1"));
    let key = expected_key("C001", "e1", "won", 0, 0, "");
    assert_eq!(
        serde_json::to_value(&plan).unwrap(),
        json!({
            "actions": [{"rule_id": "won", "rule_name": "成交", "key": key,
                         "action": {"type": "set_field", "field": "客户状态", "value": "成交客户"}}],
            "changes": [{"field": "客户状态", "old": "意向客户", "new": "成交客户"}]
        })
    );
    assert_eq!(
        plan.to_json(),
        format!(
            r#"{{"actions":[{{"rule_id":"won","rule_name":"成交","key":"{key}","action":{{"type":"set_field","field":"客户状态","value":"成交客户"}}}}],"changes":[{{"field":"客户状态","old":"意向客户","new":"成交客户"}}]}}"#
        )
    );
}

/// A custom action's payload reaches the plan as written, `null` when the rule gives
/// none, on the direct path (plain rules) and on the full one (a rule with a cooldown).
#[test]
fn custom_payloads_are_planned_as_written() {
    let e = engine(json!([
        {"id": "hook", "name": "Webhook", "trigger": {"type": "event", "event": "lead_created"},
         "actions": [{"type": "custom", "kind": "webhook"},
                     {"type": "custom", "kind": "sms", "payload": {"template": "WELCOME", "n": 2}}]},
        {"id": "cool", "name": "Cooled", "trigger": {"type": "event", "event": "lead_created"},
         "expiry": {"cooldown": "1d"}, "actions": [{"type": "custom", "kind": "audit", "payload": [1, "x"]}]}
    ]));
    let c = customer(&e, json!({}));
    let plan = run(&e, &c, &event("lead_created", "E1"));
    let got: Vec<(String, Json)> = plan
        .actions
        .iter()
        .map(|a| match &a.action {
            crm_rules::ResolvedAction::Custom { kind, payload } => {
                (kind.to_string(), payload.as_value().clone())
            }
            other => panic!("not a custom action: {other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("webhook".to_owned(), json!(null)),
            ("sms".to_owned(), json!({"template": "WELCOME", "n": 2})),
            ("audit".to_owned(), json!([1, "x"])),
        ]
    );
    let text = serde_json::to_value(&plan.actions).unwrap_or_default();
    assert_eq!(text[0]["action"]["payload"], json!(null));
    assert_eq!(text[1]["action"]["payload"]["template"], json!("WELCOME"));
    assert_eq!(text[2]["action"]["payload"], json!([1, "x"]));
}
