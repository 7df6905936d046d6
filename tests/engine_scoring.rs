//! Scoring models run by the engine: scores and grades written into fields, grade changes
//! firing rules, behaviour recorded from events, lapses due in ticks, build errors.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use crm_rules::scoring::Model;
use crm_rules::{
    CustomerState, Engine, Event, Input, Plan, Record, ResolvedAction, RuleSet, Schema, TickInput,
    Value,
};

const SCHEMA: &str = r#"{
  "owner_field": "负责人",
  "fields": [
    {"name": "客户名称", "type": "text"},
    {"name": "负责人", "type": "member"},
    {"name": "预算", "type": "number"},
    {"name": "预计成交周期", "type": "single_choice", "options": ["1个月内", "3个月内", "半年以上"]},
    {"name": "决策角色", "type": "single_choice", "options": ["部门经理", "业务骨干", "普通员工"]},
    {"name": "线索评分", "type": "integer", "min": 0, "max": 100},
    {"name": "线索等级", "type": "single_choice", "options": ["A", "B", "C"]},
    {"name": "活跃度", "type": "number"},
    {"name": "标签", "type": "tags"}
  ]
}"#;

/// The seed's model (budget 40 %, urgency 30 %, influence 30 %), writing its score and
/// grade, with "three product page views in 7 days → one grade up" and a negative signal.
const FIT: &str = r#"{
  "id": "fit", "name": "线索分级", "score_field": "线索评分", "grade_field": "线索等级",
  "dimensions": [
    {"id": "budget", "label": "预算匹配度", "weight": 40, "bands": [
      {"when": {"field": "预算", "op": "gte", "value": 500000}, "points": 100},
      {"when": {"field": "预算", "op": "gte", "value": 100000}, "points": 60}]},
    {"id": "urgency", "label": "需求紧急度", "weight": 30, "bands": [
      {"when": {"field": "预计成交周期", "op": "eq", "value": "1个月内"}, "points": 100},
      {"when": {"field": "预计成交周期", "op": "eq", "value": "3个月内"}, "points": 50}]},
    {"id": "influence", "label": "决策影响力", "weight": 30, "bands": [
      {"when": {"field": "决策角色", "op": "eq", "value": "部门经理"}, "points": 100},
      {"when": {"field": "决策角色", "op": "eq", "value": "业务骨干"}, "points": 50}]}
  ],
  "behaviour": [
    {"id": "views", "label": "浏览产品详情页3次", "event": "page_view",
     "where": {"event": "page", "op": "eq", "value": "产品详情"},
     "at_least": 3, "within": "7d", "grade": "up"},
    {"id": "price", "label": "反馈价格高", "event": "feedback",
     "where": {"event": "text", "op": "contains_any", "value": ["价格高", "考虑竞品"]},
     "within": "30d", "points": -10, "tag": "价格敏感"}
  ]
}"#;

/// "Grade becomes A → assign to a senior owner and create a call task due in 24 h".
const RULES: &str = r#"{"rules": [{
  "id": "grade-a", "name": "A级线索转资深销售",
  "trigger": {"type": "field_changed", "field": "线索等级", "to": "A"},
  "actions": [
    {"type": "assign_owner", "strategy": {"type": "fixed", "user": "senior-zhang"}},
    {"type": "create_task", "title": "电话联系 {{客户名称}}（{{线索等级}}级）", "due_in": "24h", "priority": "high"}
  ]
}, {
  "id": "confirm-budget", "name": "确认预算",
  "trigger": {"type": "event", "event": "budget_confirmed"},
  "actions": [{"type": "set_field", "field": "预算", "from_event": "amount"}]
}]}"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap()
}

fn engine() -> Engine {
    let schema = Schema::from_json(SCHEMA).expect("schema");
    Engine::builder(schema)
        .scoring(Model::from_json(FIT).expect("model"))
        .rules(RuleSet::from_json(RULES).expect("rules"))
        .build()
        .expect("engine")
}

/// A lead of 54 points (B): budget 200,000, closing within a month, no decision role.
fn lead(engine: &Engine) -> Record {
    engine
        .schema()
        .record([
            ("客户名称", Value::from("华为")),
            ("预算", Value::from(200_000)),
            ("预计成交周期", Value::from("1个月内")),
            ("线索评分", Value::from(54)),
            ("线索等级", Value::from("B")),
        ])
        .expect("lead")
}

/// Evaluates an event for customer `C1` with a fresh state at `now()`.
fn fresh(engine: &Engine, customer: &Record, event: &Event) -> Plan {
    engine.evaluate(&Input::new(
        "C1",
        customer,
        &CustomerState::new(),
        event,
        now(),
    ))
}

fn changes(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field, c.old, c.new))
        .collect()
}

fn rule_ids(plan: &Plan) -> Vec<&str> {
    plan.actions.iter().map(|a| &*a.rule_id).collect()
}

/// Applies a plan's changes to a record, as a host would.
fn apply(engine: &Engine, record: &Record, plan: &Plan) -> Record {
    let mut pairs: Vec<(String, Value)> = engine
        .schema()
        .fields()
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                record
                    .get(engine.schema().field_id(&f.name).unwrap())
                    .clone(),
            )
        })
        .collect();
    for c in &plan.changes {
        if let Some(p) = pairs.iter_mut().find(|(n, _)| *n == c.field) {
            p.1 = c.new.clone();
        }
    }
    engine
        .schema()
        .record(
            pairs
                .iter()
                .filter(|(_, v)| !v.is_absent())
                .map(|(n, v)| (n.as_str(), v.clone())),
        )
        .expect("applied record")
}

#[test]
fn a_grade_change_to_a_assigns_a_senior_owner_and_creates_a_call_task() {
    let engine = engine();
    let lead = lead(&engine);
    let update = Event::new("profile_updated", "e1", now())
        .change("预算", 600_000)
        .change("决策角色", "部门经理");
    let plan = fresh(&engine, &lead, &update);
    assert_eq!(
        changes(&plan),
        [
            "预算: 200000 → 600000",
            "决策角色: (empty) → 部门经理",
            "线索评分: 54 → 100",
            "线索等级: B → A",
            "负责人: (empty) → senior-zhang",
        ]
    );
    assert_eq!(plan.scores.len(), 1);
    let s = &plan.scores[0];
    assert_eq!(
        (
            s.model.as_str(),
            s.round,
            s.total,
            s.grade.as_str(),
            s.previous_grade.as_deref()
        ),
        ("fit", 0, 100.0, "A", Some("B"))
    );
    assert_eq!(rule_ids(&plan), ["grade-a", "grade-a"]);
    match &plan.actions[1].action {
        ResolvedAction::CreateTask { title, due, .. } => {
            assert_eq!(title, "电话联系 华为（A级）");
            assert_eq!(*due, Some(now() + TimeDelta::hours(24)));
        }
        other => panic!("unexpected {other:?}"),
    }
    // The grade is a field change of the event's own round: the rule fires in round 0.
    let plan = engine
        .evaluate(&Input::new("C1", &lead, &CustomerState::new(), &update, now()).explain(true));
    let trace = plan.trace.expect("trace");
    assert_eq!(trace[0].rule_id.as_ref(), "grade-a");
    assert_eq!(trace[0].round, 0);
}

#[test]
fn a_change_that_keeps_the_grade_rescores_without_firing_grade_rules() {
    let engine = engine();
    let lead = lead(&engine);
    let update = Event::new("profile_updated", "e1", now()).change("决策角色", "业务骨干");
    let plan = fresh(&engine, &lead, &update);
    assert_eq!(
        changes(&plan),
        ["决策角色: (empty) → 业务骨干", "线索评分: 54 → 69"]
    );
    assert_eq!(plan.scores[0].grade, "B");
    assert_eq!(plan.scores[0].previous_grade, None);
    assert!(plan.actions.is_empty());
}

#[test]
fn fields_the_model_does_not_read_do_not_rescore() {
    let engine = engine();
    let lead = lead(&engine);
    let update = Event::new("profile_updated", "e1", now()).change("客户名称", "华为技术");
    let plan = fresh(&engine, &lead, &update);
    assert!(plan.scores.is_empty());
    assert_eq!(changes(&plan), ["客户名称: 华为 → 华为技术"]);
}

#[test]
fn a_budget_set_by_a_rule_rescores_in_the_next_round_and_cascades() {
    let engine = engine();
    let lead = engine
        .schema()
        .record([
            ("客户名称", Value::from("华为")),
            ("预计成交周期", Value::from("1个月内")),
            ("决策角色", Value::from("部门经理")),
            ("线索等级", Value::from("B")),
        ])
        .expect("lead");
    let event = Event::new("budget_confirmed", "e2", now()).attribute("amount", 800_000);
    let plan = fresh(&engine, &lead, &event);
    assert_eq!(rule_ids(&plan), ["confirm-budget", "grade-a", "grade-a"]);
    assert_eq!(plan.scores.len(), 1);
    assert_eq!((plan.scores[0].round, plan.scores[0].total), (1, 100.0));
    assert_eq!(
        changes(&plan),
        [
            "预算: (empty) → 800000",
            "线索评分: (empty) → 100",
            "线索等级: B → A",
            "负责人: (empty) → senior-zhang",
        ]
    );
}

#[test]
fn three_product_views_raise_the_grade_and_the_lapse_lowers_it_in_a_tick() {
    let engine = engine();
    let mut lead = lead(&engine);
    let mut state = CustomerState::new();
    let times = [
        now(),
        now() + TimeDelta::hours(1),
        now() + TimeDelta::hours(2),
    ];
    let mut plans = Vec::new();
    for (i, t) in times.iter().enumerate() {
        let view = Event::new("page_view", format!("v{i}"), *t).attribute("page", "产品详情");
        let plan = engine.evaluate(&Input::new("C1", &lead, &state, &view, *t));
        lead = apply(&engine, &lead, &plan);
        state = plan.state.clone().unwrap_or(state);
        plans.push(plan);
    }
    // The first two views are recorded, the score unchanged; the third moves B → A.
    assert_eq!(plans[0].scores[0].grade, "B");
    assert!(plans[0].changes.is_empty() && plans[1].changes.is_empty());
    assert_eq!(
        changes(&plans[2]),
        ["线索等级: B → A", "负责人: (empty) → senior-zhang"]
    );
    assert_eq!(rule_ids(&plans[2]), ["grade-a", "grade-a"]);
    assert_eq!(
        state.behaviour("fit").map(|b| b.times("views").len()),
        Some(3)
    );

    // The adjustment holds while the first view is inside its 7-day window.
    let lapse = now() + TimeDelta::days(7) + TimeDelta::seconds(1);
    assert_eq!(engine.next_due(&lead, &state), Some(lapse));
    let early = engine.tick(&TickInput::new(
        "C1",
        &lead,
        &state,
        lapse - TimeDelta::seconds(2),
    ));
    assert!(early.changes.is_empty() && early.scores.is_empty());

    let tick = engine.tick(&TickInput::new("C1", &lead, &state, lapse));
    assert_eq!(changes(&tick), ["线索等级: A → B"]);
    assert_eq!(tick.scores[0].previous_grade.as_deref(), Some("A"));
    let state = tick.state.clone().unwrap_or(state);
    let lead = apply(&engine, &lead, &tick);
    assert_eq!(engine.next_due(&lead, &state), None);
    // Ticking again changes nothing.
    let again = engine.tick(&TickInput::new(
        "C1",
        &lead,
        &state,
        lapse + TimeDelta::hours(1),
    ));
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn negative_feedback_subtracts_points_and_tags_the_customer() {
    let engine = engine();
    let lead = lead(&engine);
    let feedback = Event::new("feedback", "f1", now()).attribute("text", "整体不错，但价格高");
    let plan = fresh(&engine, &lead, &feedback);
    assert_eq!(
        changes(&plan),
        [
            "线索评分: 54 → 44",
            "线索等级: B → C",
            "标签: (empty) → 价格敏感"
        ]
    );
    let neutral = Event::new("feedback", "f2", now()).attribute("text", "很满意");
    let plan = fresh(&engine, &lead, &neutral);
    assert!(plan.changes.is_empty());
    assert_eq!(plan.scores[0].total, 54.0);
}

#[test]
fn two_models_run_side_by_side() {
    let schema = Schema::from_json(SCHEMA).expect("schema");
    let engagement = Model::from_json(
        r#"{"id": "engagement", "name": "活跃度", "score_field": "活跃度",
        "grades": [{"label": "活跃", "min": 30}, {"label": "沉默", "min": 0}],
        "dimensions": [{"id": "base", "label": "基础", "weight": 100, "default": 0, "bands": [
          {"when": {"field": "预算", "op": "exists"}, "points": 10}]}],
        "behaviour": [{"id": "opened", "label": "打开邮件", "event": "email_opened",
          "within": "30d", "points": 25}]}"#,
    )
    .expect("engagement");
    let engine = Engine::builder(schema)
        .scoring(Model::from_json(FIT).expect("fit"))
        .scoring(engagement)
        .build()
        .expect("engine");
    assert_eq!(
        engine.scorers().iter().map(|s| s.id()).collect::<Vec<_>>(),
        ["fit", "engagement"]
    );
    let lead = lead(&engine);
    let opened = Event::new("email_opened", "o1", now());
    let plan = fresh(&engine, &lead, &opened);
    assert_eq!(changes(&plan), ["活跃度: (empty) → 35"]);
    assert_eq!(plan.scores.len(), 1);
    assert_eq!(plan.scores[0].grade, "活跃");
    let state = plan.state.expect("state");
    assert_eq!(
        serde_json::to_string(&state).expect("json"),
        r#"{"scores":{"engagement":{"behaviour":{"last_activity":"2024-05-20T09:00:00Z","events":{"opened":["2024-05-20T09:00:00Z"]}},"lapse":"2024-06-19T09:00:00Z"}}}"#
    );
    let back: CustomerState =
        serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    assert_eq!(back, state);
    let card = engine
        .card("engagement", &lead, &state, now())
        .expect("card");
    assert_eq!(card.total, 35.0);
    assert!(engine.card("nope", &lead, &state, now()).is_none());
}

#[test]
fn model_problems_are_build_errors_named_by_model() {
    let schema = Schema::from_json(SCHEMA).expect("schema");
    let bad = Model::from_json(
        r#"{"id": "fit", "name": "重复", "grade_field": "线索等级", "dimensions": [
          {"id": "d", "label": "预算", "weight": 90, "bands": []}]}"#,
    )
    .expect("loads");
    let typo = RuleSet::from_json(
        r#"{"rules": [{"id": "typo", "name": "拼错", "trigger": {"type": "event", "event": "x"},
          "when": {"field": "预箅", "op": "gt", "value": 1},
          "actions": [{"type": "add_tag", "tag": "t"}]}]}"#,
    )
    .expect("loads");
    let err = Engine::builder(schema)
        .rules(typo)
        .scoring(Model::from_json(FIT).expect("fit"))
        .scoring(bad)
        .build()
        .unwrap_err();
    let problems: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        [
            "rules[0] typo \"拼错\": when.field: unknown field \"预箅\"; did you mean \"预算\"?",
            "models[1] fit \"重复\": dimensions[0].bands: a dimension needs at least one band",
            "models[1] fit \"重复\": dimensions: the weights add up to 90, not 100 (预算 90); make them add up to 100 or set \"normalize\": true",
        ]
    );
    // A model that compiles, but shares an id and an output field with the first.
    let twin = Model::from_json(
        r#"{"id": "fit", "name": "重复", "grade_field": "线索等级", "dimensions": [
          {"id": "d", "label": "预算", "weight": 100, "bands": [
            {"when": {"field": "预算", "op": "gte", "value": 1}, "points": 100}]}]}"#,
    )
    .expect("loads");
    let err = Engine::builder(Schema::from_json(SCHEMA).expect("schema"))
        .scoring(Model::from_json(FIT).expect("fit"))
        .scoring(twin)
        .build()
        .unwrap_err();
    let problems: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        [
            "models[1] fit \"重复\": id: \"fit\" is also the id of models[0]",
            "models[1] fit \"重复\": grade_field: 线索等级 is also written by model fit",
        ]
    );
}
