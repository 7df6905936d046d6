//! The engine allocates nothing for an event where nothing fires. A binary of its own,
//! because it installs a counting allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chrono::{TimeZone, Utc};
use crm_rules::{CustomerState, Engine, Event, Input, RuleSet, Schema, TickInput};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const KINDS: [&str; 2] = ["lead_created", "email_opened"];

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn no_allocation_for_an_event_where_nothing_fires() {
    let schema = Schema::from_json(
        r#"{"fields": [
          {"name": "客户状态", "type": "single_choice", "options": ["新客户", "成交客户"]},
          {"name": "预算", "type": "number"},
          {"name": "标签", "type": "tags"}]}"#,
    )
    .unwrap();
    let mut rules = Vec::new();
    for i in 0..200 {
        rules.push(serde_json::json!({
            "id": format!("r{i}"), "name": format!("规则{i}"), "priority": i % 7,
            "trigger": {"type": "event", "event": KINDS[i % 2]},
            "when": {"all": [
                {"field": "客户状态", "op": "eq", "value": "成交客户"},
                {"field": "预算", "op": "gte", "value": i * 1000},
                {"field": "标签", "op": "has_tag", "value": "VIP"}]},
            "actions": [{"type": "add_tag", "tag": "x"}]
        }));
    }
    let rules = RuleSet::from_json(&serde_json::json!({ "rules": rules }).to_string()).unwrap();
    let engine = Engine::builder(schema).rules(rules).build().unwrap();
    let customer = engine.schema().record([("客户状态", "新客户")]).unwrap();
    let state = CustomerState::new();
    let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap();
    let events = [
        Event::new("lead_created", "e1", now),
        Event::new("email_opened", "e2", now),
        Event::new("page_visited", "e3", now),
    ];
    // Warm up once (lazily initialized statics).
    let warm = engine.evaluate(&Input::new("C1", &customer, &state, &events[0], now));
    assert!(warm.is_empty());
    let before = allocations();
    for event in &events {
        let plan = engine.evaluate(&Input::new("C1", &customer, &state, event, now));
        assert!(plan.is_empty());
    }
    assert_eq!(
        allocations() - before,
        0,
        "evaluations where nothing fires allocated"
    );

    // The counter counts: a firing event does allocate (its plan has actions).
    let vip = engine
        .schema()
        .record([
            ("客户状态", crm_rules::Value::from("成交客户")),
            ("预算", 5_000_000.into()),
            ("标签", vec!["VIP"].into()),
        ])
        .unwrap();
    let before = allocations();
    let plan = engine.evaluate(&Input::new("C2", &vip, &state, &events[0], now));
    assert_eq!(plan.actions.len(), 100);
    assert!(allocations() > before);
}

#[test]
fn no_allocation_for_stateful_rules_that_do_not_fire() {
    let schema = Schema::from_json(
        r#"{"fields": [
          {"name": "客户状态", "type": "single_choice", "options": ["新客户", "成交客户"]},
          {"name": "标签", "type": "tags"}]}"#,
    )
    .unwrap();
    // Cooldowns, fire limits, stop conditions, scopes, groups and behaviour counts: each
    // rule is considered gate by gate, and none fires.
    let rules = serde_json::json!({"rules": [
        {"id": "cool", "name": "冷却", "trigger": {"type": "event", "event": "page_view"},
         "expiry": {"cooldown": "1d", "max_fires": 3, "stop_when": {"field": "客户状态", "op": "eq", "value": "成交客户"}},
         "when": {"field": "标签", "op": "has_tag", "value": "VIP"},
         "actions": [{"type": "add_tag", "tag": "x"}]},
        {"id": "scoped", "name": "范围", "group": "g", "trigger": {"type": "event", "event": "page_view"},
         "scope": {"field": "标签", "op": "has_tag", "value": "重点"},
         "actions": [{"type": "add_tag", "tag": "y"}]},
        {"id": "counted", "name": "计数", "fire": "when_becomes_true", "trigger": {"type": "event", "event": "page_view"},
         "when": {"all": [{"count": "login", "at_least": 5, "within": "7d"},
                          {"count": "call_failed", "days_in_a_row": 3}]},
         "actions": [{"type": "add_tag", "tag": "z"}]}
    ]});
    let rules = RuleSet::from_json(&rules.to_string()).unwrap();
    let engine = Engine::builder(schema).rules(rules).build().unwrap();
    let customer = engine.schema().record([("客户状态", "新客户")]).unwrap();
    let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap();
    // A state that already holds what the rules keep (the condition's last result).
    let first = Event::new("page_view", "v0", now);
    let state = engine
        .evaluate(&Input::new(
            "C1",
            &customer,
            &CustomerState::new(),
            &first,
            now,
        ))
        .state
        .unwrap();
    assert!(!state.is_stopped("cool"));
    // Every rule is a candidate and is refused by a gate: nothing to allocate.
    let event = Event::new("page_view", "v1", now);
    let before = allocations();
    for _ in 0..2 {
        let plan = engine.evaluate(&Input::new("C1", &customer, &state, &event, now));
        assert!(plan.is_empty(), "{plan:?}");
    }
    assert_eq!(allocations(), before);
}

#[test]
fn no_allocation_for_a_tick_where_nothing_is_due() {
    let schema = Schema::from_json(
        r#"{"fields": [
          {"name": "客户状态", "type": "single_choice", "options": ["新客户", "成交客户"]},
          {"name": "创建时间", "type": "date_time"},
          {"name": "标签", "type": "tags"}]}"#,
    )
    .unwrap();
    // A schedule, a relative time, inactivity and time in stage.
    let tag = serde_json::json!([{"type": "add_tag", "tag": "x"}]);
    let rules = serde_json::json!({"time_zone": "Asia/Shanghai", "rules": [
        {"id": "daily", "name": "每日", "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
         "actions": tag},
        {"id": "new-3d", "name": "新客户3天", "trigger": {"type": "relative", "field": "创建时间", "after": "3d"},
         "actions": tag},
        {"id": "quiet", "name": "7天未登录", "trigger": {"type": "inactivity", "events": ["login"], "for": "7d"},
         "actions": tag},
        {"id": "stage", "name": "新客户停留", "trigger": {"type": "stage_time", "field": "客户状态", "limits": {"新客户": "5d"}},
         "actions": tag}
    ]});
    let rules = RuleSet::from_json(&rules.to_string()).unwrap();
    let engine = Engine::builder(schema).rules(rules).build().unwrap();
    let created = Utc.with_ymd_and_hms(2024, 5, 20, 1, 0, 0).unwrap();
    let customer = engine
        .schema()
        .record([
            ("客户状态", crm_rules::Value::from("新客户")),
            ("创建时间", crm_rules::Value::DateTime(created)),
        ])
        .unwrap();
    // The first tick starts the customer's clock and marks the stage.
    let first = Utc.with_ymd_and_hms(2024, 5, 20, 2, 0, 0).unwrap();
    let state = engine
        .tick(&TickInput::new(
            "C1",
            &customer,
            &CustomerState::new(),
            first,
        ))
        .state
        .unwrap();
    // The next due time is 09:00 Shanghai the next day (01:00 UTC).
    let next = Utc.with_ymd_and_hms(2024, 5, 21, 1, 0, 0).unwrap();
    assert_eq!(engine.next_due(&customer, &state), Some(next));
    let now = Utc.with_ymd_and_hms(2024, 5, 20, 12, 0, 0).unwrap();
    let before = allocations();
    for _ in 0..2 {
        let plan = engine.tick(&TickInput::new("C1", &customer, &state, now));
        assert!(plan.is_empty() && plan.occurrences.is_empty(), "{plan:?}");
        assert_eq!(engine.next_due(&customer, &state), Some(next));
    }
    assert_eq!(allocations(), before, "ticks with nothing due allocated");
    // Due: the tick fires and allocates its plan.
    let plan = engine.tick(&TickInput::new("C1", &customer, &state, next));
    assert_eq!(plan.occurrences.len(), 1);
    assert!(allocations() > before);
}
