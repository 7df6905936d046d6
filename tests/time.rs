//! Time-based automation through the public API: exact due times (`Engine::next_due`)
//! and plans (`Engine::tick`) for every trigger kind, late and repeated ticks, coalesced
//! and missed occurrences, sequences (steps, exceptions, stops), quiet hours, A/B splits,
//! daylight-saving changes, month ends and leap days.
//!
//! A [`Host`] carries a customer as a CRM backend would: it applies each plan's changes
//! and state, and asks `next_due` for the one timer it keeps per customer.

use chrono::{DateTime, Utc};
use crm_rules::{
    CustomerState, Duration, Engine, Event, Input, Occurrence, OccurrenceStatus, Outcome, Plan,
    Record, RuleSet, Schema, TickInput, Timer, Value,
};
use serde_json::{json, Value as Json};

use crate::common::{at, fnv, mix, record, word_pair};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const SCHEMA: &str = r#"{
  "owner_field": "负责人",
  "fields": [
    {"name": "客户名称", "type": "text"},
    {"name": "负责人", "type": "member"},
    {"name": "销售经理", "type": "member"},
    {"name": "客服专员", "type": "member"},
    {"name": "客户状态", "type": "single_choice", "options": ["新客户", "已联系", "意向客户", "成交客户", "流失客户"]},
    {"name": "跟进阶段", "type": "single_choice", "options": ["需求确认", "方案提交", "商务谈判", "合同签订"]},
    {"name": "标签", "type": "tags"},
    {"name": "手机号", "type": "phone", "sensitive": true},
    {"name": "创建时间", "type": "date_time"},
    {"name": "最近跟进时间", "type": "date_time"},
    {"name": "首次下单时间", "type": "date_time"},
    {"name": "合同到期日", "type": "date"},
    {"name": "上线日期", "type": "date"}
  ]
}"#;

fn schema() -> Schema {
    Schema::from_json(SCHEMA).unwrap()
}

fn engine(rules: Json) -> Engine {
    engine_with(rules, None)
}

fn engine_with(rules: Json, max_lateness: Option<&str>) -> Engine {
    let rules = RuleSet::from_json(&rules.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let mut b = Engine::builder(schema()).rules(rules);
    if let Some(l) = max_lateness {
        b = b.max_lateness(l.parse::<Duration>().unwrap());
    }
    b.build().unwrap_or_else(|e| panic!("{e}"))
}

/// A rule set in Shanghai time.
fn shanghai(rules: Json) -> Json {
    json!({"time_zone": "Asia/Shanghai", "rules": rules})
}

/// A customer with its state, as a host keeps them.
struct Host<'e> {
    engine: &'e Engine,
    record: Record,
    state: CustomerState,
}

impl<'e> Host<'e> {
    fn new(engine: &'e Engine, fields: Json) -> Host<'e> {
        Host {
            engine,
            record: record(engine.schema(), fields),
            state: CustomerState::new(),
        }
    }

    fn apply(&mut self, plan: &Plan) {
        for c in &plan.changes {
            let id = self.engine.schema().field_id(&c.field).unwrap();
            self.record.set(id, c.new.clone());
        }
        if let Some(s) = &plan.state {
            self.state = s.clone();
        }
    }

    fn tick(&mut self, now: DateTime<Utc>) -> Plan {
        let plan = self
            .engine
            .tick(&TickInput::new("C001", &self.record, &self.state, now).explain(true));
        self.apply(&plan);
        plan
    }

    fn send(&mut self, event: &Event, now: DateTime<Utc>) -> Plan {
        let plan = self
            .engine
            .evaluate(&Input::new("C001", &self.record, &self.state, event, now));
        self.apply(&plan);
        plan
    }

    /// Changes a field directly, without telling the engine.
    fn set(&mut self, field: &str, value: Value) {
        let id = self.engine.schema().field_id(field).unwrap();
        self.record.set(id, value);
    }

    fn next_due(&self) -> Option<DateTime<Utc>> {
        self.engine.next_due(&self.record, &self.state)
    }

    fn tags(&self) -> Vec<String> {
        let id = self.engine.schema().field_id("标签").unwrap();
        self.record
            .get(id)
            .as_list()
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    }
}

/// The actions of a plan as `{"rule_id", "action"}` objects, with `not_before` when set.
fn actions(plan: &Plan) -> Json {
    Json::Array(
        plan.actions
            .iter()
            .map(|a| {
                let mut o = json!({"rule_id": &*a.rule_id, "action": serde_json::to_value(&a.action).unwrap()});
                if let Some(t) = a.not_before {
                    o["not_before"] = json!(t);
                }
                o
            })
            .collect(),
    )
}

/// The occurrences of a plan as JSON.
fn occurrences(plan: &Plan) -> Json {
    serde_json::to_value(&plan.occurrences).unwrap()
}

fn occurrence(rule: &str, due: DateTime<Utc>, count: u32, status: OccurrenceStatus) -> Occurrence {
    Occurrence {
        rule_id: rule.into(),
        sequence: None,
        step: None,
        due,
        count,
        status,
    }
}

fn step(
    rule: &str,
    sequence: &str,
    n: usize,
    due: DateTime<Utc>,
    status: OccurrenceStatus,
) -> Occurrence {
    Occurrence {
        rule_id: rule.into(),
        sequence: Some(sequence.into()),
        step: Some(n),
        due,
        count: 1,
        status,
    }
}

use OccurrenceStatus::{Fired, Missed, NotFired, Skipped, Stopped};

fn task(title: &str) -> Json {
    json!({"type": "create_task", "title": title})
}

fn tag(t: &str) -> Json {
    json!({"type": "add_tag", "tag": t})
}

/// A daily 09:00 schedule that tags the customer, in Shanghai.
fn daily_nine() -> Engine {
    engine(shanghai(json!([
        {"id": "daily", "name": "每日09:00跟进提醒",
         "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
         "actions": [{"type": "create_task", "title": "今日跟进 {{客户名称}}", "due_in": "8h"}]}
    ])))
}

// ---------------------------------------------------------------------------------------
// Schedules
// ---------------------------------------------------------------------------------------

#[test]
fn a_customer_never_seen_is_due_at_once_and_its_first_tick_starts_the_clock() {
    let e = daily_nine();
    let mut host = Host::new(&e, json!({"客户名称": "华为"}));
    assert_eq!(host.next_due(), Some(DateTime::UNIX_EPOCH));
    // 08:30 Shanghai: nothing due yet; the clock starts now.
    let plan = host.tick(at(2024, 5, 20, 0, 30, 0));
    assert!(plan.actions.is_empty());
    assert!(plan.occurrences.is_empty());
    assert_eq!(host.state.since(), Some(at(2024, 5, 20, 0, 30, 0)));
    assert_eq!(host.next_due(), Some(at(2024, 5, 20, 1, 0, 0)));
}

#[test]
fn a_daily_schedule_fires_at_its_local_time_exactly_once() {
    let e = daily_nine();
    let mut host = Host::new(&e, json!({"客户名称": "华为", "负责人": "li"}));
    host.tick(at(2024, 5, 20, 0, 0, 0));
    // One second early: nothing.
    let plan = host.tick(at(2024, 5, 20, 0, 59, 59));
    assert!(plan.actions.is_empty());
    // 09:00 Shanghai is 01:00 UTC.
    let plan = host.tick(at(2024, 5, 20, 1, 0, 0));
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "daily", "action": {"type": "create_task", "title": "今日跟进 华为",
            "assignee": {"user": "li"}, "due": "2024-05-20T09:00:00Z", "priority": "normal"}}])
    );
    assert_eq!(
        plan.occurrences,
        [occurrence("daily", at(2024, 5, 20, 1, 0, 0), 1, Fired)]
    );
    assert_eq!(host.state.ticked(), Some(at(2024, 5, 20, 1, 0, 0)));
    assert_eq!(host.next_due(), Some(at(2024, 5, 21, 1, 0, 0)));
    // Ticking again, at the same time or later the same day, fires nothing.
    for now in [
        at(2024, 5, 20, 1, 0, 0),
        at(2024, 5, 20, 15, 0, 0),
        at(2024, 5, 21, 0, 59, 0),
    ] {
        let plan = host.tick(now);
        assert!(plan.actions.is_empty(), "{now}");
        assert!(plan.occurrences.is_empty(), "{now}");
        assert!(plan.state.is_none(), "{now}");
    }
    let plan = host.tick(at(2024, 5, 21, 1, 0, 0));
    assert_eq!(plan.actions.len(), 1);
}

#[test]
fn a_weekly_schedule_fires_on_its_days() {
    let e = engine(shanghai(json!([
        {"id": "mon-thu", "name": "每周一、周四催收",
         "trigger": {"type": "schedule", "every": "week", "days": ["Mon", "Thu"], "at": "10:00"},
         "actions": [tag("催收")]}
    ])));
    let mut host = Host::new(&e, json!({}));
    // Tuesday 2024-05-21.
    host.tick(at(2024, 5, 21, 4, 0, 0));
    let mut seen = Vec::new();
    for _ in 0..4 {
        let due = host.next_due().unwrap();
        seen.push(due);
        let plan = host.tick(due);
        assert_eq!(plan.occurrences, [occurrence("mon-thu", due, 1, Fired)]);
    }
    // Thursday 23rd, Monday 27th, Thursday 30th, Monday 3 June, 10:00 Shanghai.
    assert_eq!(
        seen,
        [
            at(2024, 5, 23, 2, 0, 0),
            at(2024, 5, 27, 2, 0, 0),
            at(2024, 5, 30, 2, 0, 0),
            at(2024, 6, 3, 2, 0, 0)
        ]
    );
}

#[test]
fn a_monthly_31st_falls_on_the_last_day_of_short_months_and_on_leap_days() {
    let e = engine(json!({"rules": [
        {"id": "month-end", "name": "每月31日对账",
         "trigger": {"type": "schedule", "every": "month", "day_of_month": 31, "at": "08:00"},
         "actions": [tag("对账")]}
    ]}));
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 1, 1, 0, 0, 0));
    let mut seen = Vec::new();
    for _ in 0..6 {
        let due = host.next_due().unwrap();
        seen.push(due);
        assert_eq!(host.tick(due).actions.len(), 1);
    }
    assert_eq!(
        seen,
        [
            at(2024, 1, 31, 8, 0, 0),
            at(2024, 2, 29, 8, 0, 0), // leap year
            at(2024, 3, 31, 8, 0, 0),
            at(2024, 4, 30, 8, 0, 0),
            at(2024, 5, 31, 8, 0, 0),
            at(2024, 6, 30, 8, 0, 0)
        ]
    );
    // A 29th in a common year: 28 February.
    let e = engine(json!({"rules": [
        {"id": "day-29", "name": "每月29日",
         "trigger": {"type": "schedule", "every": "month", "day_of_month": 29, "at": "08:00"},
         "actions": [tag("x")]}
    ]}));
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2023, 2, 1, 0, 0, 0));
    assert_eq!(host.next_due(), Some(at(2023, 2, 28, 8, 0, 0)));
}

#[test]
fn a_local_time_skipped_by_daylight_saving_fires_once_at_the_end_of_the_gap() {
    // New York, 2024-03-10: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
    let e = engine(json!({"time_zone": "America/New_York", "rules": [
        {"id": "nightly", "name": "夜间同步", "trigger": {"type": "schedule", "every": "day", "at": "02:30"},
         "actions": [tag("x")]}
    ]}));
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 3, 9, 12, 0, 0));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let due = host.next_due().unwrap();
        seen.push(due);
        assert_eq!(
            host.tick(due).occurrences,
            [occurrence("nightly", due, 1, Fired)]
        );
    }
    assert_eq!(
        seen,
        [
            at(2024, 3, 10, 7, 0, 0),  // 03:00 EDT, the first instant after the gap
            at(2024, 3, 11, 6, 30, 0), // 02:30 EDT
            at(2024, 3, 12, 6, 30, 0)
        ]
    );
}

#[test]
fn a_local_time_that_happens_twice_fires_once_at_the_earlier_instant() {
    // New York, 2024-11-03: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    let e = engine(json!({"time_zone": "America/New_York", "rules": [
        {"id": "nightly", "name": "夜间同步", "trigger": {"type": "schedule", "every": "day", "at": "01:30"},
         "actions": [tag("x")]}
    ]}));
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 11, 2, 12, 0, 0));
    assert_eq!(host.next_due(), Some(at(2024, 11, 3, 5, 30, 0)));
    assert_eq!(host.tick(at(2024, 11, 3, 5, 30, 0)).actions.len(), 1);
    // The second 01:30 fires nothing.
    let plan = host.tick(at(2024, 11, 3, 6, 30, 0));
    assert!(plan.actions.is_empty());
    assert_eq!(host.next_due(), Some(at(2024, 11, 4, 6, 30, 0)));
}

#[test]
fn a_0230_schedule_on_the_day_0230_happens_twice_fires_once_at_the_earlier_instant() {
    // Berlin, 2024-10-27: clocks go back from 03:00 CEST to 02:00 CET, so 02:30 happens at
    // 00:30 UTC and again at 01:30 UTC.
    let e = engine(json!({"time_zone": "Europe/Berlin", "rules": [
        {"id": "night", "name": "夜间批处理", "trigger": {"type": "schedule", "every": "day", "at": "02:30"},
         "actions": [tag("x")]}
    ]}));
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 10, 26, 12, 0, 0));
    assert_eq!(host.next_due(), Some(at(2024, 10, 27, 0, 30, 0)));
    let plan = host.tick(at(2024, 10, 27, 0, 30, 0));
    assert_eq!(
        plan.occurrences,
        [occurrence("night", at(2024, 10, 27, 0, 30, 0), 1, Fired)]
    );
    // The second 02:30 fires nothing; the next is 02:30 CET on the 28th.
    assert!(host.tick(at(2024, 10, 27, 1, 30, 0)).actions.is_empty());
    assert_eq!(host.next_due(), Some(at(2024, 10, 28, 1, 30, 0)));
}

#[test]
fn a_0230_schedule_on_the_day_0230_does_not_exist_fires_at_0300() {
    // Berlin, 2024-03-31: clocks go from 02:00 CET to 03:00 CEST; 02:30 does not exist and
    // the occurrence fires at 03:00 CEST (01:00 UTC).
    let e = engine(json!({"time_zone": "Europe/Berlin", "rules": [
        {"id": "night", "name": "夜间批处理", "trigger": {"type": "schedule", "every": "day", "at": "02:30"},
         "actions": [tag("x")]}
    ]}));
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 3, 30, 12, 0, 0));
    assert_eq!(host.next_due(), Some(at(2024, 3, 31, 1, 0, 0)));
    assert_eq!(host.tick(at(2024, 3, 31, 1, 0, 0)).actions.len(), 1);
    assert_eq!(host.next_due(), Some(at(2024, 4, 1, 0, 30, 0)));
}

#[test]
fn late_ticks_coalesce_occurrences_into_one_fire_with_their_count() {
    let e = engine_with(
        shanghai(json!([
            {"id": "daily", "name": "每日提醒", "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
             "actions": [tag("今日跟进")]}
        ])),
        Some("7d"),
    );
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 5, 20, 0, 0, 0));
    // The host was away for three days: 20th, 21st, 22nd and 23rd, one fire.
    let plan = host.tick(at(2024, 5, 23, 2, 0, 0));
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(
        plan.occurrences,
        [occurrence("daily", at(2024, 5, 23, 1, 0, 0), 4, Fired)]
    );
    assert_eq!(
        occurrences(&plan),
        json!([{"rule_id": "daily", "due": "2024-05-23T01:00:00Z", "count": 4, "status": "fired"}])
    );
    assert!(host.tick(at(2024, 5, 23, 2, 0, 0)).actions.is_empty());
}

#[test]
fn occurrences_later_than_the_maximum_lateness_are_reported_missed() {
    let e = engine(shanghai(json!([
        {"id": "daily", "name": "每日提醒", "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
         "actions": [tag("今日跟进")]}
    ])));
    assert_eq!(e.max_lateness().to_string(), "1d");
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 5, 20, 0, 0, 0));
    // Three days and an hour later: the 23rd is an hour late and fires; the 20th to the
    // 22nd are more than a day late: one missed report with their count.
    let plan = host.tick(at(2024, 5, 23, 2, 0, 0));
    assert_eq!(
        plan.occurrences,
        [
            occurrence("daily", at(2024, 5, 22, 1, 0, 0), 3, Missed),
            occurrence("daily", at(2024, 5, 23, 1, 0, 0), 1, Fired)
        ]
    );
    assert_eq!(plan.actions.len(), 1);
    let trace = plan.trace.unwrap();
    assert_eq!(
        trace.iter().map(|t| t.outcome.clone()).collect::<Vec<_>>(),
        [
            Outcome::Missed {
                due: at(2024, 5, 22, 1, 0, 0),
                count: 3
            },
            Outcome::Fired
        ]
    );
    // Exactly a day late still fires; a second more is missed.
    let e = engine_with(
        shanghai(json!([
            {"id": "daily", "name": "每日提醒", "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
             "actions": [tag("今日跟进")]}
        ])),
        Some("1h"),
    );
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 5, 20, 0, 0, 0));
    assert_eq!(
        host.tick(at(2024, 5, 20, 2, 0, 0)).occurrences,
        [occurrence("daily", at(2024, 5, 20, 1, 0, 0), 1, Fired)]
    );
    let plan = host.tick(at(2024, 5, 21, 2, 0, 1));
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.occurrences,
        [occurrence("daily", at(2024, 5, 21, 1, 0, 0), 1, Missed)]
    );
    assert_eq!(host.state.ticked(), Some(at(2024, 5, 21, 2, 0, 1)));
}

#[test]
fn a_late_tick_gives_the_same_plan_and_keys_as_one_on_time() {
    let e = daily_nine();
    let record = record(e.schema(), json!({"客户名称": "华为", "负责人": "li"}));
    let start = e
        .tick(&TickInput::new(
            "C001",
            &record,
            &CustomerState::new(),
            at(2024, 5, 20, 0, 0, 0),
        ))
        .state
        .unwrap();
    let on_time = e.tick(&TickInput::new(
        "C001",
        &record,
        &start,
        at(2024, 5, 20, 1, 0, 0),
    ));
    let late = e.tick(&TickInput::new(
        "C001",
        &record,
        &start,
        at(2024, 5, 20, 7, 0, 0),
    ));
    assert_eq!(on_time.actions, late.actions);
    // The states differ only in the time of the latest tick.
    let (a, b) = (on_time.state.clone().unwrap(), late.state.clone().unwrap());
    assert_eq!(a.ticked(), Some(at(2024, 5, 20, 1, 0, 0)));
    assert_eq!(b.ticked(), Some(at(2024, 5, 20, 7, 0, 0)));
    let mut a = serde_json::to_value(&a).unwrap();
    let mut b = serde_json::to_value(&b).unwrap();
    a["ticked"] = Json::Null;
    b["ticked"] = Json::Null;
    assert_eq!(a, b);
    // The task is due 8 hours after the due time, not after the tick.
    assert_eq!(
        actions(&late)[0]["action"]["due"],
        json!("2024-05-20T09:00:00Z")
    );
    // Another customer, other keys.
    let other = e.tick(&TickInput::new(
        "C002",
        &record,
        &start,
        at(2024, 5, 20, 1, 0, 0),
    ));
    assert_ne!(other.actions[0].key, on_time.actions[0].key);
    // The key `ActionKey` documents for a due item: the due time stands for the event.
    let mut due = b"due".to_vec();
    due.extend(at(2024, 5, 20, 1, 0, 0).timestamp().to_le_bytes());
    let key = mix(word_pair(b"C001", &due) ^ mix(fnv(&["daily"]) ^ mix(0)));
    assert_eq!(on_time.actions[0].key.to_string(), format!("{key:016x}"));
}

#[test]
fn a_schedule_counts_only_within_its_validity_period() {
    let e = engine(shanghai(json!([
        {"id": "campaign", "name": "活动期每日提醒", "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
         "expiry": {"valid_from": "2024-05-22T00:00:00Z", "valid_until": "2024-05-24T00:00:00Z"},
         "actions": [tag("活动")]}
    ])));
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 5, 20, 0, 0, 0));
    assert_eq!(host.next_due(), Some(at(2024, 5, 22, 1, 0, 0)));
    assert_eq!(host.tick(at(2024, 5, 22, 1, 0, 0)).actions.len(), 1);
    assert_eq!(host.next_due(), Some(at(2024, 5, 23, 1, 0, 0)));
    assert_eq!(host.tick(at(2024, 5, 23, 1, 0, 0)).actions.len(), 1);
    assert_eq!(host.next_due(), None);
    assert!(host.tick(at(2024, 5, 25, 1, 0, 0)).occurrences.is_empty());
}

#[test]
fn disabled_and_stopped_rules_are_never_due() {
    let e = engine(shanghai(json!([
        {"id": "off", "name": "停用", "enabled": false,
         "trigger": {"type": "schedule", "every": "day", "at": "09:00"}, "actions": [tag("x")]},
        {"id": "until-won", "name": "成交前每日提醒",
         "trigger": {"type": "schedule", "every": "day", "at": "10:00"},
         "expiry": {"stop_when": {"field": "客户状态", "op": "eq", "value": "成交客户"}},
         "actions": [tag("y")]}
    ])));
    let mut host = Host::new(&e, json!({"客户状态": "意向客户"}));
    host.tick(at(2024, 5, 20, 0, 0, 0));
    assert_eq!(host.next_due(), Some(at(2024, 5, 20, 2, 0, 0)));
    host.set("客户状态", Value::from("成交客户"));
    let plan = host.tick(at(2024, 5, 20, 2, 0, 0));
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.occurrences,
        [occurrence(
            "until-won",
            at(2024, 5, 20, 2, 0, 0),
            1,
            NotFired
        )]
    );
    assert_eq!(plan.trace.unwrap()[0].outcome, Outcome::Stopped);
    assert!(host.state.is_stopped("until-won"));
    assert_eq!(host.next_due(), None);
}

#[test]
fn a_when_becomes_true_schedule_fires_the_first_time_its_condition_holds() {
    let e = engine(shanghai(json!([
        {"id": "vip", "name": "新晋VIP提醒", "fire": "when_becomes_true",
         "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
         "when": {"field": "标签", "op": "has_tag", "value": "VIP"},
         "actions": [task("维护VIP客户")]}
    ])));
    let mut host = Host::new(&e, json!({"标签": ["VIP"]}));
    host.tick(at(2024, 5, 20, 0, 0, 0));
    let fired = |host: &mut Host, d: u32| host.tick(at(2024, 5, d, 1, 0, 0)).actions.len();
    assert_eq!(fired(&mut host, 20), 1);
    assert_eq!(fired(&mut host, 21), 0);
    host.set("标签", Value::List(vec![]));
    assert_eq!(fired(&mut host, 22), 0);
    host.set("标签", Value::from(vec!["VIP"]));
    assert_eq!(fired(&mut host, 23), 1);
}

// ---------------------------------------------------------------------------------------
// Relative times
// ---------------------------------------------------------------------------------------

/// Seed 000: 新客户3天未跟进提醒, with its stop condition.
fn new_customer_3d() -> Engine {
    engine(shanghai(json!([
        {"id": "new-3d", "name": "新客户3天未跟进提醒",
         "trigger": {"type": "relative", "field": "创建时间", "after": "3d"},
         "when": {"field": "客户状态", "op": "eq", "value": "新客户"},
         "expiry": {"stop_when": {"field": "客户状态", "op": "eq", "value": "成交客户"}},
         "actions": [
           {"type": "notify", "channel": "in_app", "to": ["owner"], "template": "新客户 {{客户名称}} 创建已满3天仍未跟进（{{手机号}}）"},
           {"type": "create_task", "title": "首次联系 {{客户名称}}", "due_in": "1d", "priority": "high"}
         ]}
    ])))
}

#[test]
fn three_days_after_creation_still_new_fires_once_with_the_exact_plan() {
    let e = new_customer_3d();
    let mut host = Host::new(
        &e,
        json!({"客户名称": "华为", "负责人": "li", "客户状态": "新客户", "手机号": "13812345678",
               "创建时间": "2024-05-20T09:00:00Z"}),
    );
    assert_eq!(host.next_due(), Some(at(2024, 5, 23, 9, 0, 0)));
    assert!(host.tick(at(2024, 5, 23, 8, 59, 59)).actions.is_empty());
    let plan = host.tick(at(2024, 5, 23, 9, 0, 0));
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "new-3d", "action": {"type": "notify", "channel": "in_app", "to": [{"user": "li"}],
                "message": "新客户 华为 创建已满3天仍未跟进（138****5678）"}},
            {"rule_id": "new-3d", "action": {"type": "create_task", "title": "首次联系 华为",
                "assignee": {"user": "li"}, "due": "2024-05-24T09:00:00Z", "priority": "high"}}
        ])
    );
    assert_eq!(
        plan.occurrences,
        [occurrence("new-3d", at(2024, 5, 23, 9, 0, 0), 1, Fired)]
    );
    assert_eq!(host.next_due(), None);
    assert!(host.tick(at(2024, 5, 30, 0, 0, 0)).actions.is_empty());
}

#[test]
fn a_relative_rule_whose_condition_is_false_at_its_due_time_does_not_fire_later() {
    let e = new_customer_3d();
    let mut host = Host::new(
        &e,
        json!({"客户名称": "华为", "客户状态": "已联系", "创建时间": "2024-05-20T09:00:00Z"}),
    );
    let plan = host.tick(at(2024, 5, 23, 9, 0, 0));
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.occurrences,
        [occurrence("new-3d", at(2024, 5, 23, 9, 0, 0), 1, NotFired)]
    );
    assert_eq!(plan.trace.unwrap()[0].outcome, Outcome::ConditionFalse);
    host.set("客户状态", Value::from("新客户"));
    assert_eq!(host.next_due(), None);
    assert!(host.tick(at(2024, 5, 24, 0, 0, 0)).actions.is_empty());
}

#[test]
fn the_stop_condition_stops_a_relative_rule_for_good() {
    let e = new_customer_3d();
    let mut host = Host::new(
        &e,
        json!({"客户名称": "华为", "客户状态": "成交客户", "创建时间": "2024-05-20T09:00:00Z"}),
    );
    let plan = host.tick(at(2024, 5, 23, 9, 0, 0));
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.timers,
        [Timer::Cancel {
            key: "rule:new-3d".into()
        }]
    );
    assert!(host.state.is_stopped("new-3d"));
    // A later creation time would be due again, but the rule has stopped.
    host.set("创建时间", Value::DateTime(at(2024, 6, 1, 0, 0, 0)));
    host.set("客户状态", Value::from("新客户"));
    assert_eq!(host.next_due(), None);
}

#[test]
fn a_new_value_of_the_field_moves_the_due_time() {
    let e = engine(shanghai(json!([
        {"id": "revisit", "name": "跟进7天后回访",
         "trigger": {"type": "relative", "field": "最近跟进时间", "after": "7d"},
         "actions": [task("回访")]}
    ])));
    let mut host = Host::new(&e, json!({"最近跟进时间": "2024-05-20T09:00:00Z"}));
    assert_eq!(host.next_due(), Some(at(2024, 5, 27, 9, 0, 0)));
    host.set("最近跟进时间", Value::DateTime(at(2024, 5, 22, 3, 0, 0)));
    assert_eq!(host.next_due(), Some(at(2024, 5, 29, 3, 0, 0)));
    assert_eq!(host.tick(at(2024, 5, 29, 3, 0, 0)).actions.len(), 1);
    assert_eq!(host.next_due(), None);
    // A later follow-up: due again; an earlier one than handled: not.
    host.set("最近跟进时间", Value::DateTime(at(2024, 6, 1, 0, 0, 0)));
    assert_eq!(host.next_due(), Some(at(2024, 6, 8, 0, 0, 0)));
    host.set("最近跟进时间", Value::DateTime(at(2024, 5, 21, 0, 0, 0)));
    assert_eq!(host.next_due(), None);
    // An absent field has no due time.
    host.set("最近跟进时间", Value::Absent);
    assert_eq!(host.next_due(), None);
}

#[test]
fn the_seventh_day_after_the_first_order_at_ten() {
    let e = engine(shanghai(json!([
        {"id": "day7", "name": "首次下单第7天10点回访",
         "trigger": {"type": "relative", "field": "首次下单时间", "after": "7d", "at": "10:00"},
         "actions": [task("首单7日回访")]}
    ])));
    // Ordered at 23:30 Shanghai on the 20th (15:30 UTC): the 27th at 10:00 Shanghai.
    let host = Host::new(&e, json!({"首次下单时间": "2024-05-20T15:30:00Z"}));
    assert_eq!(host.next_due(), Some(at(2024, 5, 27, 2, 0, 0)));
}

#[test]
fn sixty_and_thirty_days_before_the_contract_ends() {
    let e = engine(shanghai(json!([
        {"id": "renew-60", "name": "合同到期前60天续约提醒",
         "trigger": {"type": "relative", "field": "合同到期日", "before": "60d", "at": "09:00"},
         "actions": [task("续约沟通（60天）")]},
        {"id": "renew-30", "name": "合同到期前30天续约提醒",
         "trigger": {"type": "relative", "field": "合同到期日", "before": "30d", "at": "09:00"},
         "actions": [task("续约沟通（30天）")]}
    ])));
    let mut host = Host::new(&e, json!({"合同到期日": "2024-12-31"}));
    // 2024-11-01 and 2024-12-01 at 09:00 Shanghai.
    assert_eq!(host.next_due(), Some(at(2024, 11, 1, 1, 0, 0)));
    let plan = host.tick(at(2024, 11, 1, 1, 0, 0));
    assert_eq!(
        plan.occurrences,
        [occurrence("renew-60", at(2024, 11, 1, 1, 0, 0), 1, Fired)]
    );
    assert_eq!(host.next_due(), Some(at(2024, 12, 1, 1, 0, 0)));
    let plan = host.tick(at(2024, 12, 1, 1, 0, 0));
    assert_eq!(
        plan.occurrences,
        [occurrence("renew-30", at(2024, 12, 1, 1, 0, 0), 1, Fired)]
    );
    assert_eq!(host.next_due(), None);
    // Renewed for a year: both are due again.
    host.set("合同到期日", Value::Date(crate::common::date(2025, 12, 31)));
    assert_eq!(host.next_due(), Some(at(2025, 11, 1, 1, 0, 0)));
}

#[test]
fn days_before_a_date_are_calendar_days_across_daylight_saving() {
    let e = engine(json!({"time_zone": "America/New_York", "rules": [
        {"id": "renew-60", "name": "续约提醒",
         "trigger": {"type": "relative", "field": "合同到期日", "before": "60d", "at": "09:00"},
         "actions": [task("续约")]},
        {"id": "day3", "name": "创建3天后",
         "trigger": {"type": "relative", "field": "创建时间", "after": "3d"},
         "actions": [task("跟进")]}
    ]}));
    // 60 days before 2024-04-15 crosses the March change: 2024-02-15 09:00 EST.
    let host = Host::new(&e, json!({"合同到期日": "2024-04-15"}));
    assert_eq!(host.next_due(), Some(at(2024, 2, 15, 14, 0, 0)));
    // 3 days after 10:00 EST on 8 March is 10:00 EDT on 11 March.
    let host = Host::new(&e, json!({"创建时间": "2024-03-08T15:00:00Z"}));
    assert_eq!(host.next_due(), Some(at(2024, 3, 11, 14, 0, 0)));
}

#[test]
fn a_day_before_the_first_of_march_is_the_leap_day() {
    let e = engine(json!({"rules": [
        {"id": "eve", "name": "到期前一天",
         "trigger": {"type": "relative", "field": "合同到期日", "before": "1d", "at": "09:00"},
         "actions": [task("明日到期")]}
    ]}));
    let host = Host::new(&e, json!({"合同到期日": "2024-03-01"}));
    assert_eq!(host.next_due(), Some(at(2024, 2, 29, 9, 0, 0)));
    let host = Host::new(&e, json!({"合同到期日": "2023-03-01"}));
    assert_eq!(host.next_due(), Some(at(2023, 2, 28, 9, 0, 0)));
}

#[test]
fn a_relative_due_time_long_past_is_reported_missed() {
    let e = new_customer_3d();
    let mut host = Host::new(
        &e,
        json!({"客户名称": "华为", "客户状态": "新客户", "创建时间": "2023-01-01T00:00:00Z"}),
    );
    assert_eq!(host.next_due(), Some(at(2023, 1, 4, 0, 0, 0)));
    let plan = host.tick(at(2024, 5, 20, 9, 0, 0));
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.occurrences,
        [occurrence("new-3d", at(2023, 1, 4, 0, 0, 0), 1, Missed)]
    );
    assert_eq!(host.next_due(), None);
}

// ---------------------------------------------------------------------------------------
// Inactivity and time in stage
// ---------------------------------------------------------------------------------------

#[test]
fn no_login_for_thirty_days_fires_once_per_quiet_spell() {
    let e = engine(shanghai(json!([
        {"id": "no-login", "name": "30天未登录客户提醒",
         "trigger": {"type": "inactivity", "events": ["login"], "for": "30d"},
         "actions": [tag("沉默客户")]}
    ])));
    let mut host = Host::new(&e, json!({}));
    // The engine first sees the customer with its lead.
    let t0 = at(2024, 5, 1, 0, 0, 0);
    host.send(&Event::new("lead_created", "e1", t0), t0);
    assert_eq!(host.state.since(), Some(t0));
    assert_eq!(host.next_due(), Some(at(2024, 5, 31, 0, 0, 0)));
    // A login moves it.
    let login = at(2024, 5, 10, 8, 0, 0);
    host.send(&Event::new("login", "e2", login), login);
    assert_eq!(host.state.last_event("login"), Some(login));
    assert_eq!(host.next_due(), Some(at(2024, 6, 9, 8, 0, 0)));
    let plan = host.tick(at(2024, 6, 9, 8, 0, 0));
    assert_eq!(
        plan.occurrences,
        [occurrence("no-login", at(2024, 6, 9, 8, 0, 0), 1, Fired)]
    );
    assert_eq!(host.tags(), ["沉默客户"]);
    // Still no login: nothing more.
    assert_eq!(host.next_due(), None);
    assert!(host.tick(at(2024, 7, 20, 0, 0, 0)).actions.is_empty());
    // A login starts a new spell.
    let back = at(2024, 7, 21, 0, 0, 0);
    host.send(&Event::new("login", "e3", back), back);
    assert_eq!(host.next_due(), Some(at(2024, 8, 20, 0, 0, 0)));
}

#[test]
fn no_change_of_a_field_for_seven_days_and_changes_the_engine_was_not_shown() {
    let e = engine(shanghai(json!([
        {"id": "intent-7d", "name": "意向客户7天未回访提醒",
         "trigger": {"type": "inactivity", "field": "最近跟进时间", "for": "7d"},
         "scope": {"field": "客户状态", "op": "eq", "value": "意向客户"},
         "actions": [task("回访意向客户 {{客户名称}}")]}
    ])));
    let mut host = Host::new(&e, json!({"客户名称": "华为", "客户状态": "意向客户"}));
    let t0 = at(2024, 5, 20, 9, 0, 0);
    host.send(
        &Event::new("follow_up_logged", "e1", t0).change("最近跟进时间", Value::DateTime(t0)),
        t0,
    );
    assert_eq!(host.state.last_change("最近跟进时间"), Some(t0));
    assert_eq!(host.next_due(), Some(at(2024, 5, 27, 9, 0, 0)));
    // The host writes the field itself: due at once (the mark's time) so a tick looks.
    host.set("最近跟进时间", Value::DateTime(at(2024, 5, 22, 9, 0, 0)));
    assert_eq!(host.next_due(), Some(t0));
    let plan = host.tick(at(2024, 5, 22, 10, 0, 0));
    assert!(plan.actions.is_empty());
    assert_eq!(
        host.state.last_change("最近跟进时间"),
        Some(at(2024, 5, 22, 10, 0, 0))
    );
    assert_eq!(host.next_due(), Some(at(2024, 5, 29, 10, 0, 0)));
    let plan = host.tick(at(2024, 5, 29, 10, 0, 0));
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "intent-7d", "action": {"type": "create_task", "title": "回访意向客户 华为",
            "assignee": {"unassigned": "负责人"}, "priority": "normal"}}])
    );
}

#[test]
fn stuck_in_a_stage_over_its_limit() {
    let e = engine(shanghai(json!([
        {"id": "stuck", "name": "阶段停留超时预警",
         "trigger": {"type": "stage_time", "field": "跟进阶段", "limits": {"商务谈判": "15d", "方案提交": "10d"}},
         "actions": [tag("阶段停滞")]}
    ])));
    let mut host = Host::new(&e, json!({"跟进阶段": "需求确认"}));
    let t0 = at(2024, 5, 1, 2, 0, 0);
    host.send(&Event::new("profile_updated", "e1", t0), t0);
    // No limit for 需求确认.
    assert_eq!(host.next_due(), None);
    let t1 = at(2024, 5, 3, 2, 0, 0);
    host.send(
        &Event::new("profile_updated", "e2", t1).change("跟进阶段", "商务谈判"),
        t1,
    );
    assert_eq!(host.next_due(), Some(at(2024, 5, 18, 2, 0, 0)));
    let plan = host.tick(at(2024, 5, 18, 2, 0, 0));
    assert_eq!(
        plan.occurrences,
        [occurrence("stuck", at(2024, 5, 18, 2, 0, 0), 1, Fired)]
    );
    assert_eq!(host.tags(), ["阶段停滞"]);
    assert_eq!(host.next_due(), None);
    // Into 方案提交: a new stay, with its own limit.
    let t2 = at(2024, 5, 20, 2, 0, 0);
    host.send(
        &Event::new("profile_updated", "e3", t2).change("跟进阶段", "方案提交"),
        t2,
    );
    assert_eq!(host.next_due(), Some(at(2024, 5, 30, 2, 0, 0)));
}

#[test]
fn stages_longer_than_a_short_text_find_their_own_limits() {
    // Stages of 30 bytes sharing their first 24: told apart by their whole text, as the
    // short 谈判 is by its key.
    let schema = Schema::from_json(
        r#"{"fields": [{"name": "合同阶段", "type": "single_choice",
            "options": ["谈判", "等待客户确认合同条款", "等待客户确认合同金额", "等待客户确认合同付款"]},
            {"name": "标签", "type": "tags"}]}"#,
    )
    .unwrap();
    let rules = shanghai(json!([
        {"id": "stuck", "name": "合同阶段停留",
         "trigger": {"type": "stage_time", "field": "合同阶段",
           "limits": {"谈判": "2d", "等待客户确认合同条款": "3d", "等待客户确认合同金额": "5d"}},
         "actions": [tag("合同停滞")]}
    ]));
    let e = Engine::builder(schema)
        .rules(RuleSet::from_json(&rules.to_string()).unwrap())
        .build()
        .unwrap();
    let t0 = at(2024, 5, 1, 2, 0, 0);
    let due = |stage: &str| {
        let record = record(e.schema(), json!({"合同阶段": stage}));
        let event = Event::new("profile_updated", "e1", t0);
        let plan = e.evaluate(&Input::new(
            "C1",
            &record,
            &CustomerState::new(),
            &event,
            t0,
        ));
        let state = plan.state.unwrap_or_default();
        e.next_due(&record, &state)
    };
    assert_eq!(due("谈判"), Some(at(2024, 5, 3, 2, 0, 0)));
    assert_eq!(due("等待客户确认合同条款"), Some(at(2024, 5, 4, 2, 0, 0)));
    assert_eq!(due("等待客户确认合同金额"), Some(at(2024, 5, 6, 2, 0, 0)));
    assert_eq!(due("等待客户确认合同付款"), None);
}

// ---------------------------------------------------------------------------------------
// Sequences
// ---------------------------------------------------------------------------------------

/// Seed 004: 3 days after signing the guide → a week later the go-live call → the quarter
/// end survey and renewal offer → no answer in 24 h, a second reminder.
fn post_signing() -> Engine {
    engine(shanghai(json!([
        {"id": "signed", "name": "签约后服务序列",
         "trigger": {"type": "field_changed", "field": "跟进阶段", "to": "合同签订"},
         "actions": [{"type": "start_sequence", "sequence": "post-signing",
           "stop_when": {"field": "客户状态", "op": "eq", "value": "流失客户"},
           "steps": [
             {"after": "3d", "at": "10:00",
              "actions": [{"type": "notify", "channel": "email", "to": [{"field": "客服专员"}], "template": "请向 {{客户名称}} 发送使用指南"}]},
             {"after": "1w", "at": "10:00", "skip_when": {"field": "上线日期", "op": "is_empty"},
              "actions": [{"type": "create_task", "title": "上线一周回访 {{客户名称}}", "assignee": {"field": "客服专员"}, "due_in": "1d"}]},
             {"after": "11w", "at": "09:30",
              "actions": [{"type": "custom", "kind": "send_survey", "payload": {"survey": "季度满意度"}},
                          {"type": "custom", "kind": "renewal_offer", "payload": {}}]},
             {"after": "24h", "unless_event": ["survey_answered"],
              "actions": [{"type": "custom", "kind": "send_survey", "payload": {"reminder": true}}, tag("问卷未回复")]}
           ]}]}
    ])))
}

fn signed(host: &mut Host, now: DateTime<Utc>) -> Plan {
    host.send(
        &Event::new("profile_updated", "sign", now).change("跟进阶段", "合同签订"),
        now,
    )
}

#[test]
fn a_sequence_runs_its_steps_at_their_times_and_skips_the_reminder_after_an_answer() {
    let e = post_signing();
    let mut host = Host::new(&e, json!({"客户名称": "华为", "客服专员": "zhao"}));
    // Signed Monday 2024-05-20 09:00 UTC (17:00 Shanghai).
    let plan = signed(&mut host, at(2024, 5, 20, 9, 0, 0));
    let step0 = at(2024, 5, 23, 2, 0, 0); // the 23rd, 10:00 Shanghai
    assert_eq!(
        plan.timers,
        [Timer::Set {
            key: "seq:post-signing".into(),
            at: step0
        }]
    );
    assert_eq!(host.next_due(), Some(step0));

    let plan = host.tick(step0);
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "signed", "action": {"type": "notify", "channel": "email",
            "to": [{"user": "zhao"}], "message": "请向 华为 发送使用指南"}}])
    );
    assert_eq!(
        plan.occurrences,
        [step("signed", "post-signing", 0, step0, Fired)]
    );
    let step1 = at(2024, 5, 30, 2, 0, 0);
    assert_eq!(
        plan.timers,
        [Timer::Set {
            key: "seq:post-signing".into(),
            at: step1
        }]
    );
    assert_eq!(
        host.state.sequences().collect::<Vec<_>>(),
        [("post-signing", 1, step1)]
    );

    host.set("上线日期", Value::Date(crate::common::date(2024, 5, 25)));
    let plan = host.tick(step1);
    assert_eq!(
        actions(&plan),
        json!([{"rule_id": "signed", "action": {"type": "create_task", "title": "上线一周回访 华为",
            "assignee": {"user": "zhao"}, "due": "2024-05-31T02:00:00Z", "priority": "normal"}}])
    );
    // 11 weeks after the 30th, 09:30 Shanghai: 15 August.
    let step2 = at(2024, 8, 15, 1, 30, 0);
    assert_eq!(host.next_due(), Some(step2));
    let plan = host.tick(step2);
    assert_eq!(plan.actions.len(), 2);

    // The survey is answered within the day: the reminder is not needed.
    let answered = at(2024, 8, 15, 6, 0, 0);
    host.send(&Event::new("survey_answered", "s1", answered), answered);
    let step3 = at(2024, 8, 16, 1, 30, 0);
    assert_eq!(host.next_due(), Some(step3));
    let plan = host.tick(step3);
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.occurrences,
        [step("signed", "post-signing", 3, step3, Skipped)]
    );
    assert_eq!(
        plan.timers,
        [Timer::Cancel {
            key: "seq:post-signing".into()
        }]
    );
    assert_eq!(host.state.sequences().count(), 0);
    assert_eq!(host.next_due(), None);
}

#[test]
fn no_answer_within_24_hours_sends_the_second_reminder() {
    let e = post_signing();
    let mut host = Host::new(&e, json!({"客户名称": "华为", "上线日期": "2024-05-25"}));
    signed(&mut host, at(2024, 5, 20, 9, 0, 0));
    for _ in 0..2 {
        let due = host.next_due().unwrap();
        host.tick(due);
    }
    // An answer to an earlier survey, before the previous step, does not count.
    let earlier = at(2024, 8, 14, 0, 0, 0);
    host.send(&Event::new("survey_answered", "old", earlier), earlier);
    let plan = host.tick(at(2024, 8, 15, 1, 30, 0));
    assert_eq!(plan.actions.len(), 2);
    let plan = host.tick(at(2024, 8, 16, 1, 30, 0));
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "signed", "action": {"type": "custom", "kind": "send_survey", "payload": {"reminder": true}}},
            {"rule_id": "signed", "action": {"type": "add_tag", "field": "标签", "tag": "问卷未回复"}}
        ])
    );
    assert_eq!(host.tags(), ["问卷未回复"]);
}

#[test]
fn a_skip_condition_skips_a_step_and_the_sequence_goes_on() {
    let e = post_signing();
    let mut host = Host::new(&e, json!({"客户名称": "华为"}));
    signed(&mut host, at(2024, 5, 20, 9, 0, 0));
    host.tick(at(2024, 5, 23, 2, 0, 0));
    // No go-live date yet: the call is skipped.
    let plan = host.tick(at(2024, 5, 30, 2, 0, 0));
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.occurrences,
        [step(
            "signed",
            "post-signing",
            1,
            at(2024, 5, 30, 2, 0, 0),
            Skipped
        )]
    );
    assert_eq!(host.next_due(), Some(at(2024, 8, 15, 1, 30, 0)));
}

#[test]
fn the_stop_condition_cancels_the_remaining_steps_as_soon_as_it_holds() {
    let e = post_signing();
    let mut host = Host::new(&e, json!({"客户名称": "华为", "客户状态": "成交客户"}));
    signed(&mut host, at(2024, 5, 20, 9, 0, 0));
    host.tick(at(2024, 5, 23, 2, 0, 0));
    // The customer churns: the evaluation cancels the sequence's timer.
    let t = at(2024, 5, 25, 0, 0, 0);
    let plan = host.send(
        &Event::new("profile_updated", "churn", t).change("客户状态", "流失客户"),
        t,
    );
    assert_eq!(
        plan.timers,
        [Timer::Cancel {
            key: "seq:post-signing".into()
        }]
    );
    assert_eq!(host.state.sequences().count(), 0);
    assert_eq!(host.next_due(), None);
    assert!(host.tick(at(2024, 12, 31, 0, 0, 0)).actions.is_empty());
}

#[test]
fn a_stop_condition_found_at_a_step_is_reported() {
    let e = post_signing();
    let mut host = Host::new(&e, json!({"客户名称": "华为"}));
    signed(&mut host, at(2024, 5, 20, 9, 0, 0));
    // Churned without an evaluation: found when the first step comes due.
    host.set("客户状态", Value::from("流失客户"));
    let plan = host.tick(at(2024, 5, 23, 2, 0, 0));
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.occurrences,
        [step(
            "signed",
            "post-signing",
            0,
            at(2024, 5, 23, 2, 0, 0),
            Stopped
        )]
    );
    assert_eq!(
        plan.timers,
        [Timer::Cancel {
            key: "seq:post-signing".into()
        }]
    );
    assert_eq!(host.state.sequences().count(), 0);
}

#[test]
fn a_late_tick_runs_each_due_step_once_and_misses_those_too_late() {
    let e = post_signing();
    let mut host = Host::new(&e, json!({"客户名称": "华为", "上线日期": "2024-05-25"}));
    signed(&mut host, at(2024, 5, 20, 9, 0, 0));
    // A week late for the first step, an hour late for the second.
    let plan = host.tick(at(2024, 5, 30, 3, 0, 0));
    assert_eq!(
        plan.occurrences,
        [
            step(
                "signed",
                "post-signing",
                0,
                at(2024, 5, 23, 2, 0, 0),
                Missed
            ),
            step("signed", "post-signing", 1, at(2024, 5, 30, 2, 0, 0), Fired)
        ]
    );
    assert_eq!(plan.actions.len(), 1);
    // The next step counts from the second step's due time, not from the tick.
    assert_eq!(
        plan.timers,
        [Timer::Set {
            key: "seq:post-signing".into(),
            at: at(2024, 8, 15, 1, 30, 0)
        }]
    );
    assert!(host.tick(at(2024, 5, 30, 3, 0, 0)).occurrences.is_empty());
}

#[test]
fn three_days_without_an_answered_call_flags_manual_follow_up_for_the_manager() {
    // Seed 004: 若同一客户连续3天未接通，标记“需人工跟进”并推送至经理.
    let e = engine(shanghai(json!([
        {"id": "call-streak", "name": "连续3天未接通转人工",
         "trigger": {"type": "event", "event": "call_failed"},
         "when": {"not": {"field": "标签", "op": "has_any", "value": ["外呼跟进中", "需人工跟进"]}},
         "actions": [tag("外呼跟进中"), {"type": "start_sequence", "sequence": "call-streak", "steps": [
           {"after": "2d", "at": "20:00", "unless_event": ["call_connected"],
            "skip_when": {"not": {"count": "call_failed", "days_in_a_row": 3}},
            "actions": [tag("需人工跟进"),
                        {"type": "notify", "channel": "in_app", "to": [{"field": "销售经理"}], "cc": ["owner"],
                         "template": "{{客户名称}} 连续3天电话未接通，请安排人工跟进"}]},
           {"after": "0s", "actions": [{"type": "remove_tag", "tag": "外呼跟进中"}]}
         ]}]}
    ])));
    let call = |host: &mut Host, kind: &str, day: u32| {
        let t = at(2024, 5, day, 2, 0, 0); // 10:00 Shanghai
        host.send(&Event::new(kind, format!("{kind}-{day}"), t), t)
    };
    let mut host = Host::new(
        &e,
        json!({"客户名称": "华为", "负责人": "li", "销售经理": "wang"}),
    );
    call(&mut host, "call_failed", 20);
    call(&mut host, "call_failed", 21);
    call(&mut host, "call_failed", 22);
    // The 22nd at 20:00 Shanghai.
    let due = at(2024, 5, 22, 12, 0, 0);
    assert_eq!(host.next_due(), Some(due));
    let plan = host.tick(due);
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "call-streak", "action": {"type": "add_tag", "field": "标签", "tag": "需人工跟进"}},
            {"rule_id": "call-streak", "action": {"type": "notify", "channel": "in_app",
                "to": [{"user": "wang"}], "cc": [{"user": "li"}], "message": "华为 连续3天电话未接通，请安排人工跟进"}},
            {"rule_id": "call-streak", "action": {"type": "remove_tag", "field": "标签", "tag": "外呼跟进中"}}
        ])
    );
    assert_eq!(host.tags(), ["需人工跟进"]);

    // Answered on the second day: no flag, and the streak ends.
    let mut host = Host::new(
        &e,
        json!({"客户名称": "华为", "负责人": "li", "销售经理": "wang"}),
    );
    call(&mut host, "call_failed", 20);
    call(&mut host, "call_connected", 21);
    call(&mut host, "call_failed", 22);
    let plan = host.tick(due);
    assert_eq!(
        plan.occurrences,
        [
            step("call-streak", "call-streak", 0, due, Skipped),
            step("call-streak", "call-streak", 1, due, Fired)
        ]
    );
    assert!(host.tags().is_empty());

    // Three failures on one day are not three days running.
    let mut host = Host::new(
        &e,
        json!({"客户名称": "华为", "负责人": "li", "销售经理": "wang"}),
    );
    for hour in [1, 3, 5] {
        let t = at(2024, 5, 20, hour, 0, 0);
        host.send(&Event::new("call_failed", format!("f{hour}"), t), t);
    }
    let plan = host.tick(due);
    assert_eq!(
        plan.occurrences,
        [
            step("call-streak", "call-streak", 0, due, Skipped),
            step("call-streak", "call-streak", 1, due, Fired)
        ]
    );
    assert!(host.tags().is_empty());
}

#[test]
fn days_in_a_row_count_local_calendar_days_ending_today() {
    // Shanghai days: 23:30 on the 20th and 00:30 on the 21st are two days; a day without a
    // failure breaks the run; several failures on one day are that one day.
    let e = engine(shanghai(json!([
        {"id": "streak", "name": "连续3天未接通",
         "trigger": {"type": "event", "event": "call_failed"},
         "when": {"count": "call_failed", "days_in_a_row": 3},
         "actions": [tag("需人工跟进")]}
    ])));
    let run = |times: &[DateTime<Utc>]| {
        let mut host = Host::new(&e, json!({"客户名称": "华为"}));
        let mut fired = Vec::new();
        for (i, t) in times.iter().enumerate() {
            let plan = host.send(&Event::new("call_failed", format!("f{i}"), *t), *t);
            fired.push(!plan.actions.is_empty());
        }
        fired
    };
    // 20th 23:30, 21st 00:30, 22nd 10:00 Shanghai: three local days.
    assert_eq!(
        run(&[
            at(2024, 5, 20, 15, 30, 0),
            at(2024, 5, 20, 16, 30, 0),
            at(2024, 5, 22, 2, 0, 0)
        ]),
        [false, false, true]
    );
    // 20th, 20th, 21st, 23rd: the 22nd breaks the run.
    assert_eq!(
        run(&[
            at(2024, 5, 20, 2, 0, 0),
            at(2024, 5, 20, 6, 0, 0),
            at(2024, 5, 21, 2, 0, 0),
            at(2024, 5, 23, 2, 0, 0)
        ]),
        [false, false, false, false]
    );
    // Four days running: the third and the fourth both hold.
    assert_eq!(
        run(&[
            at(2024, 5, 20, 2, 0, 0),
            at(2024, 5, 21, 2, 0, 0),
            at(2024, 5, 22, 2, 0, 0),
            at(2024, 5, 23, 2, 0, 0)
        ]),
        [false, false, true, true]
    );
}

// ---------------------------------------------------------------------------------------
// Quiet hours
// ---------------------------------------------------------------------------------------

#[test]
fn notifications_and_tasks_outside_their_window_move_to_the_next_allowed_instant() {
    let e = engine(shanghai(json!([
        {"id": "lead", "name": "新线索通知",
         "trigger": {"type": "event", "event": "lead_created"},
         "actions": [
           {"type": "notify", "channel": "sms", "to": ["owner"], "template": "新线索 {{客户名称}}",
            "window": {"start": "09:00", "end": "20:00", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}},
           {"type": "create_task", "title": "联系 {{客户名称}}", "due_in": "1d",
            "window": {"start": "09:00", "end": "18:00", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]}},
           {"type": "notify", "channel": "in_app", "to": ["owner"], "template": "无限制"}
         ]}
    ])));
    let customer = record(e.schema(), json!({"客户名称": "华为", "负责人": "li"}));
    let state = CustomerState::new();
    // Friday 2024-05-24 21:00 Shanghai: after hours before the weekend.
    let friday_night = at(2024, 5, 24, 13, 0, 0);
    let event = Event::new("lead_created", "e1", friday_night);
    let plan = e.evaluate(&Input::new("C001", &customer, &state, &event, friday_night));
    let monday_nine = "2024-05-27T01:00:00Z";
    assert_eq!(
        actions(&plan),
        json!([
            {"rule_id": "lead", "action": {"type": "notify", "channel": "sms", "to": [{"user": "li"}], "message": "新线索 华为"},
             "not_before": monday_nine},
            {"rule_id": "lead", "action": {"type": "create_task", "title": "联系 华为", "assignee": {"user": "li"},
              "due": monday_nine, "priority": "normal"}, "not_before": monday_nine},
            {"rule_id": "lead", "action": {"type": "notify", "channel": "in_app", "to": [{"user": "li"}], "message": "无限制"}}
        ])
    );
    // Tuesday 10:00: inside both windows; the task is due Wednesday 10:00.
    let tuesday = at(2024, 5, 21, 2, 0, 0);
    let event = Event::new("lead_created", "e2", tuesday);
    let plan = e.evaluate(&Input::new("C001", &customer, &state, &event, tuesday));
    assert!(plan.actions.iter().all(|a| a.not_before.is_none()));
    assert_eq!(
        actions(&plan)[1]["action"]["due"],
        json!("2024-05-22T02:00:00Z")
    );
    let json = plan.to_json();
    assert!(!json.contains("not_before"), "{json}");
}

#[test]
fn a_step_due_in_quiet_hours_is_delivered_when_they_end() {
    let e = engine(shanghai(json!([
        {"id": "nurture", "name": "培育序列", "trigger": {"type": "event", "event": "lead_created"},
         "actions": [{"type": "start_sequence", "sequence": "nurture", "steps": [
           {"after": "1d", "actions": [{"type": "notify", "channel": "sms", "to": [{"user": "li"}], "template": "您好",
             "window": {"start": "09:00", "end": "20:00"}}]}
         ]}]}
    ])));
    let mut host = Host::new(&e, json!({}));
    // Started at 23:00 Shanghai; the step is due at 23:00 the next day.
    let t = at(2024, 5, 20, 15, 0, 0);
    host.send(&Event::new("lead_created", "e1", t), t);
    let plan = host.tick(at(2024, 5, 21, 15, 0, 0));
    assert_eq!(plan.actions[0].not_before, Some(at(2024, 5, 22, 1, 0, 0)));
}

// ---------------------------------------------------------------------------------------
// A/B splits
// ---------------------------------------------------------------------------------------

#[test]
fn a_scheduled_ab_split_names_the_variant_and_keeps_it() {
    let e = engine(shanghai(json!([
        {"id": "renewal-ab", "name": "续约优惠短信A/B测试",
         "trigger": {"type": "schedule", "every": "week", "days": ["Wed"], "at": "10:00"},
         "actions": [{"type": "ab_split", "experiment": "renewal-offer", "variants": [
           {"name": "续约立减", "weight": 70, "actions": [{"type": "custom", "kind": "sms", "payload": {"code": "DISCOUNT"}}]},
           {"name": "赠送服务月", "weight": 30, "actions": [{"type": "custom", "kind": "sms", "payload": {"code": "BONUS"}}]}
         ]}]}
    ])));
    let mut variants = Vec::new();
    for c in ["C001", "C002", "C003", "C004", "C005", "C006"] {
        let record = record(e.schema(), json!({}));
        let start = e
            .tick(&TickInput::new(
                c,
                &record,
                &CustomerState::new(),
                at(2024, 5, 20, 0, 0, 0),
            ))
            .state
            .unwrap();
        let plan = e.tick(&TickInput::new(
            c,
            &record,
            &start,
            at(2024, 5, 22, 2, 0, 0),
        ));
        let variant = plan.actions[0].action.clone();
        let state = plan.state.unwrap();
        let name = state.variant("renewal-offer").unwrap().to_owned();
        assert_eq!(
            serde_json::to_value(&variant).unwrap(),
            json!({"type": "ab_split", "experiment": "renewal-offer", "variant": name})
        );
        // The next week: the same variant.
        let plan = e.tick(&TickInput::new(
            c,
            &record,
            &state,
            at(2024, 5, 29, 2, 0, 0),
        ));
        assert_eq!(
            serde_json::to_value(&plan.actions[0].action).unwrap()["variant"],
            json!(name)
        );
        variants.push(name);
    }
    assert!(variants.iter().any(|v| v == "续约立减"));
}

// ---------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------

#[test]
fn states_written_before_time_bookkeeping_still_load_and_the_new_entries_round_trip() {
    let old: CustomerState =
        serde_json::from_str(r#"{"rules": {"r": {"fires": 2}}, "experiments": {"x": "A"}}"#)
            .unwrap();
    assert_eq!(old.fires("r"), 2);
    assert_eq!(old.ticked(), None);
    assert_eq!(old.since(), None);

    let e = engine(shanghai(json!([
        {"id": "no-login", "name": "30天未登录", "trigger": {"type": "inactivity", "events": ["login"], "for": "30d"},
         "actions": [tag("沉默客户")]},
        {"id": "stuck", "name": "阶段超时", "trigger": {"type": "stage_time", "field": "跟进阶段", "limits": {"商务谈判": "15d"}},
         "actions": [tag("阶段停滞")]}
    ])));
    let mut host = Host::new(&e, json!({"跟进阶段": "商务谈判"}));
    let t = at(2024, 5, 20, 9, 0, 0);
    host.send(&Event::new("login", "e1", t), t);
    host.tick(at(2024, 6, 19, 9, 0, 0));
    let json = serde_json::to_value(&host.state).unwrap();
    assert_eq!(
        json,
        json!({
            "since": "2024-05-20T09:00:00Z",
            "ticked": "2024-06-19T09:00:00Z",
            "last_events": {"login": "2024-05-20T09:00:00Z"},
            "last_changes": {"跟进阶段": {"at": "2024-05-20T09:00:00Z", "value": json["last_changes"]["跟进阶段"]["value"]}}
        })
    );
    let back: CustomerState = serde_json::from_value(json).unwrap();
    assert_eq!(back, host.state);
}

#[test]
fn a_tick_with_nothing_due_changes_nothing() {
    let e = daily_nine();
    let mut host = Host::new(&e, json!({}));
    host.tick(at(2024, 5, 20, 0, 0, 0));
    let plan = host.tick(at(2024, 5, 20, 0, 30, 0));
    assert!(plan.is_empty());
    assert!(plan.occurrences.is_empty());
}
