//! Lead scoring: exact score cards for the seed's model, every build error, behaviour
//! windows and decay at exact times, history reports, the engine hooks, and properties.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use crm_rules::scoring::{
    Adjustment, Band, BehaviourState, Decay, Dimension, Grade, GradeStep, Model, Outcome, Score,
    Scorer,
};
use crm_rules::{Condition, Duration, Event, Field, FieldType, Number, Record, Schema, Value};
use proptest::prelude::*;
use serde_json::json;

// ---- fixtures ------------------------------------------------------------------------

const SCHEMA: &str = r#"{
  "fields": [
    {"name": "客户名称", "type": "text"},
    {"name": "预算", "type": "number"},
    {"name": "预计成交周期", "type": "single_choice", "options": ["1个月内", "3个月内", "半年内", "暂无计划"]},
    {"name": "决策角色", "type": "single_choice", "options": ["总经理", "部门经理", "业务骨干", "普通员工"]},
    {"name": "线索评分", "type": "number"},
    {"name": "评分整数", "type": "integer"},
    {"name": "满意度", "type": "number", "min": 0, "max": 10},
    {"name": "线索等级", "type": "single_choice", "options": ["A", "B", "C"]},
    {"name": "等级文本", "type": "text", "max_length": 1},
    {"name": "评级", "type": "rating"},
    {"name": "标签", "type": "tags"},
    {"name": "最近互动时间", "type": "date_time"}
  ],
  "events": [
    {"kind": "page_view", "attributes": [
      {"name": "page", "type": "single_choice", "options": ["产品详情", "价格页", "博客"]}]},
    {"kind": "support_contact", "attributes": [
      {"name": "initiated_by", "type": "single_choice", "options": ["客户", "客服"]}]},
    {"kind": "feedback", "attributes": [{"name": "content", "type": "long_text"}]},
    {"kind": "login"}
  ]
}"#;

fn schema() -> Schema {
    Schema::from_json(SCHEMA).expect("the schema is valid")
}

/// Monday 2024-05-20 09:00 UTC.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap()
}

fn days(n: i64) -> Duration {
    Duration::days(n).expect("in range")
}

/// The seed's model (001 二): budget 40 %, urgency 30 %, influence 30 %.
fn seed_json() -> serde_json::Value {
    json!({
      "id": "fit", "name": "客户画像评分",
      "dimensions": [
        {"id": "budget", "label": "预算匹配度", "weight": 40, "bands": [
          {"label": "明确预算50万以上", "when": {"field": "预算", "op": "gte", "value": 500000}, "points": 100},
          {"when": {"field": "预算", "op": "gte", "value": 200000}, "points": 60},
          {"when": {"field": "预算", "op": "gte", "value": 50000}, "points": 30}
        ]},
        {"id": "urgency", "label": "需求紧急度", "weight": 30, "bands": [
          {"label": "需1个月内成交", "when": {"field": "预计成交周期", "op": "eq", "value": "1个月内"}, "points": 100},
          {"when": {"field": "预计成交周期", "op": "eq", "value": "3个月内"}, "points": 60}
        ]},
        {"id": "influence", "label": "决策影响力", "weight": 30, "bands": [
          {"label": "决策人为部门经理", "when": {"field": "决策角色", "op": "in", "value": ["总经理", "部门经理"]}, "points": 100},
          {"when": {"field": "决策角色", "op": "eq", "value": "业务骨干"}, "points": 50}
        ]}
      ],
      "score_field": "线索评分",
      "grade_field": "线索等级"
    })
}

fn seed_model() -> Model {
    Model::from_json(&seed_json().to_string()).expect("the seed model reads")
}

fn compile(model: &Model) -> Scorer {
    model
        .compile(&schema())
        .unwrap_or_else(|e| panic!("model {} should compile: {e}", model.id))
}

fn seed() -> Scorer {
    compile(&seed_model())
}

fn lead(budget: i64, close: Option<&str>, role: Option<&str>) -> Record {
    let schema = schema();
    let mut pairs = vec![("预算", Value::from(budget))];
    if let Some(c) = close {
        pairs.push(("预计成交周期", Value::from(c)));
    }
    if let Some(r) = role {
        pairs.push(("决策角色", Value::from(r)));
    }
    schema.record(pairs).expect("a valid lead")
}

fn empty() -> BehaviourState {
    BehaviourState::new()
}

/// The problems of a model that must fail to compile, as text.
fn problems(model: &Model) -> Vec<String> {
    match model.compile(&schema()) {
        Ok(_) => panic!("model {} compiled, but should not", model.id),
        Err(e) => e.problems().iter().map(ToString::to_string).collect(),
    }
}

/// The problems of the seed model changed by a JSON edit.
fn problems_with(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<String> {
    let mut json = seed_json();
    edit(&mut json);
    let model = Model::from_json(&json.to_string()).expect("the edited model reads");
    problems(&model)
}

/// A one-dimension model reading 预算 whose total is the budget band's points, with
/// behaviour adjustments.
fn behaviour_model(adjustments: Vec<Adjustment>) -> Model {
    let mut m = Model::new("b", "行为").dimension(
        Dimension::new("budget", "预算", 100)
            .band(Band::new(Condition::field("预算").gte(500_000), 100))
            .band(Band::new(Condition::field("预算").gte(1), 40)),
    );
    for a in adjustments {
        m = m.adjustment(a);
    }
    m
}

fn product_views() -> Adjustment {
    Adjustment::new("views", "浏览产品详情页3次", "page_view", days(7))
        .filter(Condition::event("page").eq("产品详情"))
        .at_least(3)
        .points(10)
}

fn view(at: DateTime<Utc>, page: &str) -> Event {
    Event::new("page_view", format!("v-{}", at.timestamp()), at).attribute("page", page)
}

// ---- exact score cards -----------------------------------------------------------------

#[test]
fn the_seeds_ideal_lead_scores_full_marks() {
    let scorer = seed();
    let card = scorer.card(
        &lead(600_000, Some("1个月内"), Some("部门经理")),
        &empty(),
        now(),
    );
    assert_eq!(
        serde_json::to_value(&card).unwrap(),
        json!({
          "model": "fit", "name": "客户画像评分", "at": "2024-05-20T09:00:00Z",
          "total": 100.0, "grade": "A", "description": "重点跟进", "grade_by_score": "A",
          "profile": 100.0, "behaviour": 0.0,
          "dimensions": [
            {"id": "budget", "label": "预算匹配度", "weight": 40.0, "points": 100.0, "score": 40.0,
             "band": 0, "matched": "明确预算50万以上"},
            {"id": "urgency", "label": "需求紧急度", "weight": 30.0, "points": 100.0, "score": 30.0,
             "band": 0, "matched": "需1个月内成交"},
            {"id": "influence", "label": "决策影响力", "weight": 30.0, "points": 100.0, "score": 30.0,
             "band": 0, "matched": "决策人为部门经理"}
          ]
        })
    );
}

#[test]
fn the_seeds_points_per_dimension_are_its_weights() {
    // "预算50万以上 得40分, 需1个月内成交 得30分, 决策人为部门经理 得30分": each alone.
    let scorer = seed();
    for (record, total) in [
        (lead(600_000, None, None), 40.0),
        (lead(0, Some("1个月内"), None), 30.0),
        (lead(0, None, Some("部门经理")), 30.0),
        (lead(0, None, None), 0.0),
    ] {
        assert_eq!(scorer.score(&record, &empty(), now()).total, total);
    }
}

#[test]
fn a_b_lead_gets_the_gap_and_the_bands_that_close_it() {
    let scorer = seed();
    let card = scorer.card(
        &lead(300_000, Some("1个月内"), Some("业务骨干")),
        &empty(),
        now(),
    );
    assert_eq!(
        serde_json::to_value(&card).unwrap(),
        json!({
          "model": "fit", "name": "客户画像评分", "at": "2024-05-20T09:00:00Z",
          "total": 69.0, "grade": "B", "description": "常规跟进", "grade_by_score": "B",
          "profile": 69.0, "behaviour": 0.0,
          "dimensions": [
            {"id": "budget", "label": "预算匹配度", "weight": 40.0, "points": 60.0, "score": 24.0,
             "band": 1, "matched": "预算 ≥ 200,000"},
            {"id": "urgency", "label": "需求紧急度", "weight": 30.0, "points": 100.0, "score": 30.0,
             "band": 0, "matched": "需1个月内成交"},
            {"id": "influence", "label": "决策影响力", "weight": 30.0, "points": 50.0, "score": 15.0,
             "band": 1, "matched": "决策角色 = 业务骨干"}
          ],
          "next_grade": {"grade": "A", "min": 80.0, "gap": 11.0, "improvements": [
            {"dimension": "budget", "label": "预算匹配度", "band": 0, "band_label": "明确预算50万以上",
             "adds": 16.0, "total": 85.0, "reaches": "A", "closes_gap": true},
            {"dimension": "influence", "label": "决策影响力", "band": 0, "band_label": "决策人为部门经理",
             "adds": 15.0, "total": 84.0, "reaches": "A", "closes_gap": true}
          ]}
        })
    );
    let hints: Vec<String> = card
        .next_grade
        .unwrap()
        .improvements
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        hints,
        [
            "预算匹配度: 明确预算50万以上 would add 16 points and reach A (85)",
            "决策影响力: 决策人为部门经理 would add 15 points and reach A (84)",
        ]
    );
}

#[test]
fn an_unlabelled_band_is_named_by_its_condition() {
    // The issue's example: "budget ≥ 500,000 would add 16 points and reach A".
    let mut json = seed_json();
    json["dimensions"][0]["bands"][0]
        .as_object_mut()
        .unwrap()
        .remove("label");
    let scorer = compile(&Model::from_json(&json.to_string()).unwrap());
    let card = scorer.card(
        &lead(300_000, Some("1个月内"), Some("业务骨干")),
        &empty(),
        now(),
    );
    assert_eq!(
        card.next_grade.unwrap().improvements[0].to_string(),
        "预算匹配度: 预算 ≥ 500,000 would add 16 points and reach A (85)"
    );
}

#[test]
fn the_improvement_that_closes_the_gap_with_fewest_points_is_offered() {
    // 80,000 → 30 points; both ≥ 200,000 (+12 → 84) and ≥ 500,000 (+28 → 100) reach A.
    let scorer = seed();
    let card = scorer.card(
        &lead(80_000, Some("1个月内"), Some("部门经理")),
        &empty(),
        now(),
    );
    let next = card.next_grade.unwrap();
    assert_eq!((next.grade.as_str(), next.gap), ("A", 8.0));
    assert_eq!(
        next.improvements[0].to_string(),
        "预算匹配度: 预算 ≥ 200,000 would add 12 points and reach A (84)"
    );
    // A C lead: no single change reaches B, so each dimension offers its best band.
    let card = scorer.card(&lead(0, None, None), &empty(), now());
    let hints: Vec<String> = card
        .next_grade
        .unwrap()
        .improvements
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        hints,
        [
            "预算匹配度: 明确预算50万以上 would add 40 points (40, still C)",
            "需求紧急度: 需1个月内成交 would add 30 points (30, still C)",
            "决策影响力: 决策人为部门经理 would add 30 points (30, still C)",
        ]
    );
}

#[test]
fn a_card_with_behaviour_reads_as_text() {
    let model = seed_model()
        .adjustment(product_views().grade(GradeStep::Up))
        .adjustment(
            Adjustment::new("price", "反馈价格高", "feedback", days(90))
                .keywords("content", ["价格高", "考虑竞品"])
                .points(-10)
                .tag("价格敏感"),
        )
        .decay(Decay::HalfLife {
            half_life: days(14),
        });
    let scorer = compile(&model);
    let customer = lead(300_000, Some("3个月内"), Some("业务骨干"));
    let mut state = empty();
    for hours in [100, 50, 24] {
        state.record(
            &scorer,
            &customer,
            &view(now() - TimeDelta::hours(hours), "产品详情"),
        );
    }
    let complaint = Event::new("feedback", "f1", now() - TimeDelta::days(3))
        .attribute("content", "价格高于预期");
    state.record(&scorer, &customer, &complaint);
    let card = scorer.card(&customer, &state, now());
    // 24 + 18 + 15 = 57; +10 decayed over 1 day of a 14-day half-life = 9.5169…; -10.
    assert_eq!(
        card.to_string(),
        "\
客户画像评分 (fit) at 2024-05-20T09:00:00Z: 56.5 A 重点跟进 (by score B)
  预算匹配度 40% × 60 = 24 (预算 ≥ 200,000)
  需求紧急度 30% × 60 = 18 (预计成交周期 = 3个月内)
  决策影响力 30% × 50 = 15 (决策角色 = 业务骨干)
  浏览产品详情页3次: +10 points, grade up (3 of 3 within 1w, until 2024-05-23T05:00:00Z)
  反馈价格高: -10 points, tag 价格敏感 (1 of 1 within 90d, until 2024-08-15T09:00:00Z)
  decay (half-life 2w, idle since 2024-05-19T09:00:00Z): 10 → 9.5
  tags: 价格敏感
  A from 80: 23.5 to go
    预算匹配度: 明确预算50万以上 would add 16 points (72.5, still B)
    需求紧急度: 需1个月内成交 would add 12 points (68.5, still B)
    决策影响力: 决策人为部门经理 would add 15 points (71.5, still B)
"
    );
    let json = card.to_json();
    assert_eq!(json["behaviour"], json!(-0.5));
    assert_eq!(
        json["decay"],
        json!({"type": "half_life", "half_life": "2w", "since": "2024-05-19T09:00:00Z",
               "before": 10.0, "after": 9.5})
    );
    assert_eq!(
        json["adjustments"][1],
        json!({"id": "price", "label": "反馈价格高", "count": 1, "at_least": 1, "within": "90d",
               "points": -10.0, "tag": "价格敏感", "until": "2024-08-15T09:00:00Z"})
    );
}

#[test]
fn totals_round_half_away_from_zero_to_one_decimal() {
    let schema = schema();
    let two = |w: i64, p: i64| {
        Model::new("r", "舍入")
            .dimension(
                Dimension::new("a", "甲", w).band(Band::new(Condition::field("预算").gte(0), p)),
            )
            .dimension(
                Dimension::new("b", "乙", 100 - w)
                    .band(Band::new(Condition::field("预算").lt(0), 100)),
            )
            .compile(&schema)
            .unwrap()
    };
    let customer = lead(1, None, None);
    for (w, p, total) in [
        (1, 5, 0.1),  // 0.05 → 0.1
        (1, 4, 0.0),  // 0.04 → 0.0
        (3, 15, 0.5), // 0.45 → 0.5
        (30, 55, 16.5),
        (33, 33, 10.9), // 10.89
        (99, 99, 98.0), // 98.01
    ] {
        assert_eq!(
            two(w, p).score(&customer, &empty(), now()).total,
            total,
            "{w} × {p}"
        );
    }
}

#[test]
fn totals_are_clamped_to_the_scale() {
    let scorer = compile(&behaviour_model(vec![
        Adjustment::new("up", "加分", "login", days(1)).points(100),
        Adjustment::new("down", "扣分", "feedback", days(1)).points(-100),
    ]));
    let rich = lead(600_000, None, None);
    let poor = lead(0, None, None);
    let mut up = empty();
    up.record(&scorer, &rich, &Event::new("login", "l", now()));
    let mut down = empty();
    down.record(&scorer, &poor, &Event::new("feedback", "f", now()));
    assert_eq!(scorer.score(&rich, &up, now()).total, 100.0);
    assert_eq!(scorer.score(&poor, &down, now()).total, 0.0);
    assert_eq!(scorer.card(&poor, &down, now()).behaviour, -100.0);
}

#[test]
fn a_custom_value_ladder_grades_by_spend_and_inactivity() {
    // Seed 004: 高价值 ≥ 5万 in 6 months, 中价值 1万-5万, 普通价值 < 1万, 流失 3 months silent.
    let schema = Schema::new([
        Field::new("近6个月消费", FieldType::Number),
        Field::new("最近互动时间", FieldType::DateTime),
        Field::new("客户价值", FieldType::SingleChoice).options([
            "高价值",
            "中价值",
            "普通价值",
            "流失",
        ]),
    ])
    .unwrap();
    let model = Model::from_json(
        &json!({
          "id": "value", "name": "客户价值分层",
          "dimensions": [{"id": "spend", "label": "近6个月消费", "weight": 100, "bands": [
            {"label": "3个月无互动", "when": {"field": "最近互动时间", "op": "older_than", "value": "90d"}, "points": 0},
            {"when": {"field": "近6个月消费", "op": "gte", "value": 50000}, "points": 100},
            {"when": {"field": "近6个月消费", "op": "gte", "value": 10000}, "points": 60}
          ], "default": 30}],
          "grades": [
            {"label": "高价值", "min": 80}, {"label": "中价值", "min": 50},
            {"label": "普通价值", "min": 10}, {"label": "流失", "min": 0}
          ],
          "grade_field": "客户价值"
        })
        .to_string(),
    )
    .unwrap();
    let scorer = model.compile(&schema).unwrap();
    assert!(scorer.reads_time());
    let grade = |spend: i64, silent_days: i64| {
        let r = schema
            .record([
                ("近6个月消费", Value::from(spend)),
                (
                    "最近互动时间",
                    Value::from(now() - TimeDelta::days(silent_days)),
                ),
            ])
            .unwrap();
        let s = scorer.score(&r, &empty(), now());
        scorer.grades()[s.grade].label.clone()
    };
    assert_eq!(grade(50_000, 10), "高价值");
    assert_eq!(grade(49_999, 10), "中价值");
    assert_eq!(grade(10_000, 89), "中价值");
    assert_eq!(grade(9_999, 90), "流失"); // older_than includes the 90th day
    assert_eq!(grade(9_999, 30), "普通价值");
    assert_eq!(grade(200_000, 91), "流失");
}

// ---- build errors ----------------------------------------------------------------------

#[test]
fn the_seed_model_compiles_and_round_trips() {
    let model = seed_model();
    assert_eq!(Model::from_json(&model.to_json()).unwrap(), model);
    let scorer = compile(&model);
    assert_eq!(scorer.id(), "fit");
    assert_eq!(scorer.name(), "客户画像评分");
    let labels: Vec<&str> = scorer.grades().iter().map(|g| g.label.as_str()).collect();
    assert_eq!(labels, ["A", "B", "C"]);
}

#[test]
fn weights_must_add_up_to_100_naming_the_model_and_dimensions() {
    assert_eq!(
        problems_with(|m| m["dimensions"][2]["weight"] = json!(20)),
        ["models[0] fit \"客户画像评分\": dimensions: the weights add up to 90, not 100 \
          (预算匹配度 40, 需求紧急度 30, 决策影响力 20); make them add up to 100 or set \"normalize\": true"]
    );
    assert_eq!(
        problems_with(|m| {
            m["dimensions"][0]["weight"] = json!(33.3);
            m["dimensions"][1]["weight"] = json!(33.3);
            m["dimensions"][2]["weight"] = json!(33.3);
        }),
        ["models[0] fit \"客户画像评分\": dimensions: the weights add up to 99.9, not 100 \
          (预算匹配度 33.3, 需求紧急度 33.3, 决策影响力 33.3); make them add up to 100 or set \"normalize\": true"]
    );
    // 33.4 + 33.3 + 33.3 is 100 up to float noise.
    let mut json = seed_json();
    json["dimensions"][0]["weight"] = json!(33.4);
    json["dimensions"][1]["weight"] = json!(33.3);
    json["dimensions"][2]["weight"] = json!(33.3);
    compile(&Model::from_json(&json.to_string()).unwrap());
    // With normalize, any positive weights do.
    json["dimensions"][2]["weight"] = json!(1);
    json["normalize"] = json!(true);
    compile(&Model::from_json(&json.to_string()).unwrap());
}

#[test]
fn weights_must_be_positive() {
    assert_eq!(
        problems_with(|m| {
            m["dimensions"][1]["weight"] = json!(0);
            m["dimensions"][2]["weight"] = json!(-30);
            m["normalize"] = json!(true);
        }),
        [
            "models[0] fit \"客户画像评分\": dimensions[1].weight: a weight must be more than 0, found 0",
            "models[0] fit \"客户画像评分\": dimensions[2].weight: a weight must be more than 0, found -30",
        ]
    );
}

#[test]
fn dimensions_and_bands_are_checked() {
    assert_eq!(
        problems(&Model::new("empty", "空")),
        ["models[0] empty \"空\": dimensions: a model needs at least one dimension"]
    );
    assert_eq!(
        problems_with(|m| {
            m["dimensions"][1]["id"] = json!("budget");
            m["dimensions"][2]["bands"] = json!([]);
            m["dimensions"][0]["bands"][1]["points"] = json!(120);
            m["dimensions"][0]["default"] = json!(-5);
            m["dimensions"][1]["label"] = json!(" ");
        }),
        [
            "models[0] fit \"客户画像评分\": dimensions[0].default: points must be from 0 to 100, found -5",
            "models[0] fit \"客户画像评分\": dimensions[0].bands[1].points: points must be from 0 to 100, found 120",
            "models[0] fit \"客户画像评分\": dimensions[1].label: the dimension label is empty",
            "models[0] fit \"客户画像评分\": dimensions[2].bands: a dimension needs at least one band",
            "models[0] fit \"客户画像评分\": dimensions[1].id: dimension id \"budget\" is used twice (first at dimensions[0].id)",
        ]
    );
}

#[test]
fn band_conditions_are_checked_against_the_schema() {
    assert_eq!(
        problems_with(|m| {
            m["dimensions"][0]["bands"][0]["when"] = json!({"field": "预 算", "op": "gte", "value": 1});
            m["dimensions"][0]["bands"][1]["when"] = json!({"field": "预算", "op": "gte", "value": "abc"});
            m["dimensions"][1]["bands"][0]["when"] = json!({"field": "预计成交周期", "op": "eq", "value": "一个月内"});
            m["dimensions"][2]["bands"][0]["when"] = json!({"event": "page", "op": "eq", "value": "产品详情"});
            m["dimensions"][2]["bands"][1]["when"] = json!({"count": "page_view", "at_least": 3, "within": "7d"});
        }),
        [
            "models[0] fit \"客户画像评分\": dimensions[0].bands[0].when.field: unknown field \"预 算\"; did you mean \"预算\"?",
            "models[0] fit \"客户画像评分\": dimensions[0].bands[1].when.value: expected a number, found \"abc\"",
            "models[0] fit \"客户画像评分\": dimensions[1].bands[0].when.value: \"一个月内\" is not an option of 预计成交周期; did you mean \"1个月内\"?",
            "models[0] fit \"客户画像评分\": dimensions[2].bands[0].when.event: no event to read \"page\" from: bands read customer fields; count events with behaviour adjustments",
            "models[0] fit \"客户画像评分\": dimensions[2].bands[1].when: `count` conditions are not available in bands; use a behaviour adjustment",
        ]
    );
}

#[test]
fn grade_ladders_must_be_ordered_and_cover_the_scale() {
    let ladder = |grades: serde_json::Value| problems_with(|m| m["grades"] = grades);
    assert_eq!(
        ladder(json!([{"label": "A", "min": 60}, {"label": "B", "min": 80}, {"label": "C", "min": 0}])),
        ["models[0] fit \"客户画像评分\": grades[1].min: 80 is not below 60, the min of grade A; list grades best first with strictly decreasing min"]
    );
    assert_eq!(
        ladder(json!([{"label": "A", "min": 80}, {"label": "B", "min": 80}, {"label": "C", "min": 0}])),
        ["models[0] fit \"客户画像评分\": grades[1].min: 80 is not below 80, the min of grade A; list grades best first with strictly decreasing min"]
    );
    assert_eq!(
        ladder(json!([{"label": "A", "min": 80}, {"label": "B", "min": 50}, {"label": "C", "min": 10}])),
        ["models[0] fit \"客户画像评分\": grades[2].min: the lowest grade C starts at 10, so totals below it have no grade; it must start at 0"]
    );
    assert_eq!(
        ladder(json!([{"label": "A", "min": 101}, {"label": "A", "min": 50.25}, {"label": "", "min": 0}])),
        [
            "models[0] fit \"客户画像评分\": grades[0].min: a threshold must be from 0 to 100, found 101",
            "models[0] fit \"客户画像评分\": grades[1].min: a threshold has at most one decimal, as totals do, found 50.25",
            "models[0] fit \"客户画像评分\": grades[2].label: the grade label is empty",
            "models[0] fit \"客户画像评分\": grades[1].label: grade label \"A\" is used twice (first at grades[0].label)",
        ]
    );
    assert_eq!(
        ladder(json!([])),
        ["models[0] fit \"客户画像评分\": grades: the ladder is empty; leave `grades` out for the default A/B/C ladder"]
    );
    // One decimal is fine, and so is a ladder of one grade.
    let mut json = seed_json();
    json["grades"] =
        json!([{"label": "A", "min": 79.5}, {"label": "B", "min": 0.1}, {"label": "C", "min": 0}]);
    compile(&Model::from_json(&json.to_string()).unwrap());
    json["grades"] = json!([{"label": "A", "min": 0}]);
    json.as_object_mut().unwrap().remove("grade_field");
    compile(&Model::from_json(&json.to_string()).unwrap());
}

#[test]
fn adjustments_are_checked() {
    let m = seed_model()
        .adjustment(Adjustment::new("a", "无效果", "page_view", days(7)))
        .adjustment(
            Adjustment::new("b", "次数为零", "page_view", Duration::default())
                .at_least(0)
                .points(150),
        )
        .adjustment(Adjustment::new("c", "未知事件", "page_veiw", days(7)).points(5))
        .adjustment(
            Adjustment::new("a", "未知属性", "page_view", days(7))
                .filter(Condition::event("pages").eq("产品详情"))
                .points(5),
        )
        .adjustment(
            Adjustment::new("d", "错误选项", "page_view", days(7))
                .filter(Condition::event("page").eq("产品页"))
                .tag(""),
        )
        .adjustment(
            Adjustment::new("e", "嵌套计数", "page_view", days(7))
                .filter(Condition::count("login", 2, days(1)))
                .at_least(1_001)
                .grade(GradeStep::Down),
        );
    assert_eq!(
        problems(&m),
        [
            "models[0] fit \"客户画像评分\": behaviour[0]: an adjustment needs points, a grade step or a tag",
            "models[0] fit \"客户画像评分\": behaviour[1].at_least: must be from 1 to 1000, found 0",
            "models[0] fit \"客户画像评分\": behaviour[1].within: the window must be longer than 0",
            "models[0] fit \"客户画像评分\": behaviour[1].points: points must be from -100 to 100, found 150",
            "models[0] fit \"客户画像评分\": behaviour[2].event: unknown event kind \"page_veiw\" (the schema declares: page_view, support_contact, feedback, login)",
            "models[0] fit \"客户画像评分\": behaviour[3].where.event: event page_view has no attribute \"pages\" (it has: page)",
            "models[0] fit \"客户画像评分\": behaviour[4].tag: the tag is empty",
            "models[0] fit \"客户画像评分\": behaviour[4].where.value: \"产品页\" is not an option of page (options: 产品详情, 价格页, 博客)",
            "models[0] fit \"客户画像评分\": behaviour[5].at_least: must be from 1 to 1000, found 1001",
            "models[0] fit \"客户画像评分\": behaviour[5].where: `count` conditions are not available here; use `at_least` and `within`",
            "models[0] fit \"客户画像评分\": behaviour[3].id: adjustment id \"a\" is used twice (first at behaviour[0].id)",
        ]
    );
}

#[test]
fn decay_is_checked() {
    let with = |decay: Decay, adjustment: Adjustment| {
        problems(&seed_model().adjustment(adjustment).decay(decay))
    };
    let gain = product_views();
    assert_eq!(
        with(
            Decay::HalfLife {
                half_life: Duration::default()
            },
            gain.clone()
        ),
        ["models[0] fit \"客户画像评分\": decay.half_life: the half-life must be longer than 0"]
    );
    assert_eq!(
        with(Decay::Linear { points: 0.into(), every: Duration::default() }, gain),
        [
            "models[0] fit \"客户画像评分\": decay.every: the period must be longer than 0",
            "models[0] fit \"客户画像评分\": decay.points: the points taken off per period must be more than 0 and at most 100, found 0",
        ]
    );
    let penalty = Adjustment::new("p", "扣分", "feedback", days(30)).points(-10);
    assert_eq!(
        with(Decay::HalfLife { half_life: days(14) }, penalty),
        ["models[0] fit \"客户画像评分\": decay: no behaviour adjustment gives positive points, so there is nothing to decay"]
    );
}

#[test]
fn output_fields_are_checked() {
    let fields = |score: &str, grade: &str| {
        problems_with(|m| {
            m["score_field"] = json!(score);
            m["grade_field"] = json!(grade);
        })
    };
    assert_eq!(
        fields("线索分数", "预算"),
        [
            "models[0] fit \"客户画像评分\": score_field: unknown field \"线索分数\"",
            "models[0] fit \"客户画像评分\": grade_field: 预算 is a number field; the grade is written to a text or single_choice field",
        ]
    );
    assert_eq!(
        fields("评级", "等级文本"),
        [
            "models[0] fit \"客户画像评分\": score_field: 评级 is a rating field; the total is written to a number or integer field",
        ]
    );
    assert_eq!(
        fields("满意度", "线索等级"),
        ["models[0] fit \"客户画像评分\": score_field: 满意度 allows 0 to 10, but totals run from 0 to 100"]
    );
    // A ladder whose labels are not options of the grade field, or too long for it.
    let custom =
        json!([{"label": "A", "min": 80}, {"label": "B+", "min": 60}, {"label": "D", "min": 0}]);
    assert_eq!(
        problems_with(|m| m["grades"] = custom.clone()),
        [
            "models[0] fit \"客户画像评分\": grade_field: grade \"B+\": \"B+\" is not an option of 线索等级; did you mean \"B\"?",
            "models[0] fit \"客户画像评分\": grade_field: grade \"D\": \"D\" is not an option of 线索等级; did you mean \"A\"?",
        ]
    );
    let text = problems_with(|m| {
        m["grades"] = custom.clone();
        m["grade_field"] = json!("等级文本");
    });
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(
        text[0].starts_with("models[0] fit \"客户画像评分\": grade_field: grade \"B+\": "),
        "{text:?}"
    );
}

#[test]
fn activity_kinds_and_names_are_checked() {
    let m = Model::new("", "")
        .dimension(
            Dimension::new("d", "维度", 100).band(Band::new(Condition::field("预算").gte(1), 100)),
        )
        .activity("login")
        .activity("logn")
        .activity("login");
    assert_eq!(
        problems(&m),
        [
            "models[0]: id: the model id is empty",
            "models[0]: name: the model name is empty",
            "models[0]: activity[1]: unknown event kind \"logn\" (the schema declares: page_view, support_contact, feedback, login)",
            "models[0]: activity[2]: \"login\" is listed twice",
        ]
    );
}

#[test]
fn sizes_are_limited() {
    let mut many = Model::new("big", "大").normalize(true);
    for i in 0..101 {
        many = many.dimension(
            Dimension::new(format!("d{i}"), "维度", 1)
                .band(Band::new(Condition::field("预算").gte(i), 100)),
        );
    }
    assert_eq!(
        problems(&many),
        ["models[0] big \"大\": dimensions: more than 100 dimensions"]
    );
    let mut wide = Dimension::new("d", "维度", 100);
    for i in 0..101 {
        wide = wide.band(Band::new(Condition::field("预算").gte(i), 100));
    }
    assert_eq!(
        problems(&Model::new("wide", "宽").dimension(wide)),
        ["models[0] wide \"宽\": dimensions[0].bands: more than 100 bands"]
    );
}

#[test]
fn loading_reports_line_and_column() {
    let err = Model::from_json("{\"id\": \"fit\", \"name\": \"画像\",\n \"dimensions\": [{\"id\": \"d\", \"label\": \"维度\", \"weight\": \"40\", \"bands\": []}]}")
        .unwrap_err();
    let text: Vec<String> = err.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        ["line 2, column 57: dimensions[0].weight: invalid type: string \"40\", expected a JSON number"]
    );
    assert!(err
        .to_string()
        .starts_with("cannot load scoring model: 1 problem"));
    let err = Model::from_json(r#"{"id": "fit", "name": "画像", "dimensions": [], "decay": {"type": "half_life", "halflife": "7d"}}"#)
        .unwrap_err();
    assert!(
        err.problems()[0]
            .message
            .contains("unknown field `halflife`"),
        "{err}"
    );
}

// ---- behaviour windows and decay at exact times ------------------------------------------

#[test]
fn behaviour_applies_from_the_nth_event_until_the_window_passes() {
    let scorer = compile(&behaviour_model(vec![product_views()]));
    let customer = lead(0, None, None);
    let t1 = now();
    let t2 = t1 + TimeDelta::days(2);
    let t3 = t1 + TimeDelta::days(5);
    let mut state = empty();
    state.record(&scorer, &customer, &view(t1, "产品详情"));
    state.record(&scorer, &customer, &view(t2, "产品详情"));
    // A view of another page is activity but does not count.
    assert!(state.record(&scorer, &customer, &view(t2, "博客")));
    assert_eq!(state.times("views"), [t1, t2]);
    assert_eq!(state.last_activity(), Some(t2));
    assert_eq!(
        scorer
            .score(&customer, &state, t2 + TimeDelta::days(1))
            .total,
        0.0
    );
    state.record(&scorer, &customer, &view(t3, "产品详情"));
    let at = |t: DateTime<Utc>| scorer.score(&customer, &state, t).total;
    assert_eq!(at(t3 - TimeDelta::seconds(1)), 0.0); // before the third view
    assert_eq!(at(t3), 10.0);
    let lapse = t1 + TimeDelta::days(7);
    assert_eq!(scorer.next_lapse(&state, t3), Some(lapse));
    assert_eq!(
        scorer.card(&customer, &state, t3).adjustments[0].until,
        lapse
    );
    assert_eq!(at(lapse), 10.0); // the window includes both ends
    assert_eq!(at(lapse + TimeDelta::seconds(1)), 0.0);
    assert_eq!(
        scorer.next_lapse(&state, lapse + TimeDelta::seconds(1)),
        None
    );
    // A fourth view renews it: the window then needs t2, t3 and t4.
    let t4 = lapse + TimeDelta::hours(1);
    state.record(&scorer, &customer, &view(t4, "产品详情"));
    assert_eq!(state.times("views"), [t2, t3, t4]);
    assert_eq!(scorer.score(&customer, &state, t4).total, 10.0);
    assert_eq!(scorer.next_lapse(&state, t4), Some(t2 + TimeDelta::days(7)));
}

#[test]
fn behaviour_memory_is_bounded_and_follows_the_model() {
    let scorer = compile(&behaviour_model(vec![
        product_views(),
        Adjustment::new("support", "主动联系客服", "support_contact", days(14)).points(5),
    ]));
    let customer = lead(0, None, None);
    let mut state = empty();
    // Out of order, and more than at_least.
    for h in [5, 1, 9, 3, 7, 2, 8] {
        state.record(
            &scorer,
            &customer,
            &view(now() + TimeDelta::hours(h), "产品详情"),
        );
    }
    let hour = |h| now() + TimeDelta::hours(h);
    assert_eq!(state.times("views"), [hour(7), hour(8), hour(9)]);
    // An event long before the window of the latest is dropped at once.
    state.record(
        &scorer,
        &customer,
        &view(now() - TimeDelta::days(30), "产品详情"),
    );
    assert_eq!(state.times("views"), [hour(7), hour(8), hour(9)]);
    assert_eq!(state.last_activity(), Some(hour(9)));
    // Kinds the model does not listen to change nothing.
    assert!(!state.record(
        &scorer,
        &customer,
        &Event::new("order_placed", "o", hour(10))
    ));
    assert_eq!(state.last_activity(), Some(hour(9)));
    state.record(
        &scorer,
        &customer,
        &Event::new("support_contact", "s", hour(1)),
    );
    assert_eq!(
        serde_json::to_value(&state).unwrap(),
        json!({"last_activity": "2024-05-20T18:00:00Z", "events": {
            "views": ["2024-05-20T16:00:00Z", "2024-05-20T17:00:00Z", "2024-05-20T18:00:00Z"],
            "support": ["2024-05-20T10:00:00Z"]}})
    );
    // The model drops the support adjustment: its times go with the next event.
    let smaller = compile(&behaviour_model(vec![product_views()]));
    state.record(&smaller, &customer, &view(hour(11), "博客"));
    assert_eq!(state.times("support"), [] as [DateTime<Utc>; 0]);
    let back: BehaviourState =
        serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
    assert_eq!(back, state);
    assert_eq!(serde_json::to_string(&BehaviourState::new()).unwrap(), "{}");
    assert!(serde_json::from_str::<BehaviourState>(r#"{"counts": {}}"#).is_err());
}

#[test]
fn grade_steps_add_up_and_stay_on_the_ladder() {
    let scorer = compile(&behaviour_model(vec![
        Adjustment::new("up1", "浏览", "page_view", days(7)).grade(GradeStep::Up),
        Adjustment::new("up2", "客服", "support_contact", days(7)).grade(GradeStep::Up),
        Adjustment::new("down", "竞品", "feedback", days(7)).grade(GradeStep::Down),
    ]));
    let grade = |budget: i64, kinds: &[&str]| {
        let customer = lead(budget, None, None);
        let mut state = empty();
        for (i, kind) in kinds.iter().enumerate() {
            state.record(
                &scorer,
                &customer,
                &Event::new(*kind, format!("e{i}"), now()),
            );
        }
        let s = scorer.score(&customer, &state, now());
        (
            scorer.grades()[s.grade_by_score].label.as_str().to_owned(),
            scorer.grades()[s.grade].label.clone(),
        )
    };
    let g = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(grade(0, &["page_view"]), g("C", "B"));
    assert_eq!(grade(0, &["page_view", "support_contact"]), g("C", "A"));
    assert_eq!(
        grade(600_000, &["page_view", "support_contact"]),
        g("A", "A")
    );
    assert_eq!(grade(600_000, &["feedback"]), g("A", "B"));
    assert_eq!(grade(0, &["feedback"]), g("C", "C"));
    assert_eq!(grade(100, &["page_view", "feedback"]), g("C", "C"));
}

#[test]
fn negative_signals_subtract_points_and_tag_while_they_last() {
    let scorer = compile(&behaviour_model(vec![
        Adjustment::new("price", "反馈价格高", "feedback", days(90))
            .keywords("content", ["价格高", "太贵"])
            .points(-10)
            .tag("价格敏感"),
        Adjustment::new("rival", "考虑竞品", "feedback", days(30))
            .keywords("content", ["考虑竞品"])
            .points(-15)
            .tag("竞品风险"),
        Adjustment::new("gap", "功能不足", "feedback", days(30))
            .keywords("content", ["功能不足"])
            .tag("价格敏感"),
    ]));
    let customer = lead(600_000, None, None);
    let mut state = empty();
    let say = |text: &str, at| Event::new("feedback", "f", at).attribute("content", text);
    state.record(
        &scorer,
        &customer,
        &say("这个价格高了,我们在考虑竞品", now()),
    );
    state.record(&scorer, &customer, &say("功能不足", now()));
    state.record(&scorer, &customer, &say("很满意", now()));
    assert_eq!(scorer.score(&customer, &state, now()).total, 75.0);
    assert_eq!(scorer.active_tags(&state, now()), ["价格敏感", "竞品风险"]);
    let card = scorer.card(&customer, &state, now());
    assert_eq!(card.tags, ["价格敏感", "竞品风险"]);
    assert_eq!(card.adjustments.len(), 3);
    // 31 days on, only the price signal is left; 91 days on, nothing.
    let later = now() + TimeDelta::days(31);
    assert_eq!(scorer.score(&customer, &state, later).total, 90.0);
    assert_eq!(scorer.active_tags(&state, later), ["价格敏感"]);
    assert_eq!(
        scorer
            .score(&customer, &state, now() + TimeDelta::days(91))
            .total,
        100.0
    );
}

#[test]
fn half_life_decay_at_exact_times() {
    let model = behaviour_model(vec![
        Adjustment::new("support", "主动联系客服", "support_contact", days(60)).points(20),
        Adjustment::new("rival", "考虑竞品", "feedback", days(60)).points(-10),
    ])
    .decay(Decay::HalfLife {
        half_life: days(14),
    });
    let scorer = compile(&model);
    let customer = lead(1, None, None); // 40 points
    let mut state = empty();
    state.record(
        &scorer,
        &customer,
        &Event::new("support_contact", "s", now()),
    );
    state.record(&scorer, &customer, &Event::new("feedback", "f", now()));
    let at = |d: i64| {
        scorer
            .score(&customer, &state, now() + TimeDelta::days(d))
            .total
    };
    // 40 + 20 × 2^(-d/14) - 10: penalties do not decay.
    assert_eq!(at(0), 50.0);
    assert_eq!(at(14), 40.0);
    assert_eq!(at(28), 35.0);
    assert_eq!(at(7), 44.1); // 20 / √2 = 14.142…
    assert_eq!(at(-1), 40.0); // read before the events: they have not happened yet
                              // Activity of any listened kind restarts the clock; a filtered-out event counts too.
    let model = model.activity("login");
    let scorer = compile(&model);
    let mut state = empty();
    state.record(
        &scorer,
        &customer,
        &Event::new("support_contact", "s", now()),
    );
    state.record(
        &scorer,
        &customer,
        &Event::new("login", "l", now() + TimeDelta::days(14)),
    );
    let card = scorer.card(&customer, &state, now() + TimeDelta::days(28));
    assert_eq!(card.total, 50.0);
    let decay = card.decay.unwrap();
    assert_eq!((decay.before, decay.after), (20.0, 10.0));
    assert_eq!(decay.since, now() + TimeDelta::days(14));
}

#[test]
fn linear_decay_at_exact_times() {
    let scorer = compile(
        &behaviour_model(vec![Adjustment::new(
            "support",
            "主动联系客服",
            "support_contact",
            days(60),
        )
        .points(12)])
        .decay(Decay::Linear {
            points: 5.into(),
            every: days(7),
        }),
    );
    let customer = lead(0, None, None);
    let mut state = empty();
    state.record(
        &scorer,
        &customer,
        &Event::new("support_contact", "s", now()),
    );
    let at = |t: DateTime<Utc>| scorer.score(&customer, &state, t).total;
    let week = |n: i64| now() + TimeDelta::days(7 * n);
    assert_eq!(at(week(1) - TimeDelta::seconds(1)), 12.0);
    assert_eq!(at(week(1)), 7.0);
    assert_eq!(at(week(2)), 2.0);
    assert_eq!(at(week(3)), 0.0);
    assert_eq!(at(week(8)), 0.0); // lapsed as well
}

#[test]
fn a_state_edited_by_the_host_is_read_as_it_is() {
    // Times out of order, more than at_least, and an adjustment the model does not have.
    let scorer = compile(&behaviour_model(vec![product_views()]));
    let customer = lead(0, None, None);
    let state: BehaviourState = serde_json::from_value(json!({"events": {
        "views": ["2024-05-19T00:00:00Z", "2024-05-13T09:00:00Z", "2024-05-20T08:00:00Z",
                  "2024-05-18T00:00:00Z", "2030-01-01T00:00:00Z"],
        "gone": ["2024-05-19T00:00:00Z"]
    }}))
    .unwrap();
    let card = scorer.card(&customer, &state, now());
    assert_eq!(card.total, 10.0);
    assert_eq!(card.adjustments[0].count, 4); // the one in 2030 has not happened yet
                                              // The window must keep 3 of the 4: it lapses when 2024-05-18 leaves it.
    assert_eq!(
        card.adjustments[0].until,
        Utc.with_ymd_and_hms(2024, 5, 25, 0, 0, 0).unwrap()
    );
    assert_eq!(state.last_activity(), None);
}

#[test]
fn a_score_read_later_needs_no_saving() {
    let scorer = compile(
        &behaviour_model(vec![product_views()]).decay(Decay::HalfLife { half_life: days(1) }),
    );
    let customer = lead(0, None, None);
    let mut state = empty();
    for h in [0, 1, 2] {
        state.record(
            &scorer,
            &customer,
            &view(now() + TimeDelta::hours(h), "产品详情"),
        );
    }
    let saved = serde_json::to_string(&state).unwrap();
    let restored: BehaviourState = serde_json::from_str(&saved).unwrap();
    let later = now() + TimeDelta::hours(26);
    assert_eq!(scorer.score(&customer, &restored, later).total, 5.0);
    assert_eq!(
        scorer.score(&customer, &restored, later),
        scorer.score(&customer, &state, later)
    );
}

// ---- batch, hooks, outputs --------------------------------------------------------------

#[test]
fn batches_agree_with_single_scores() {
    let scorer = compile(&seed_model().adjustment(product_views()));
    let customers: Vec<Record> = (0..100)
        .map(|i| {
            lead(
                i * 10_000,
                [Some("1个月内"), Some("3个月内"), None][i as usize % 3],
                [Some("部门经理"), Some("业务骨干"), Some("普通员工"), None][i as usize % 4],
            )
        })
        .collect();
    let states: Vec<BehaviourState> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut s = empty();
            for h in 0..(i % 5) as i64 {
                s.record(&scorer, c, &view(now() - TimeDelta::hours(h), "产品详情"));
            }
            s
        })
        .collect();
    let mut out = vec![Score::default(); 3];
    scorer.score_batch(&customers, now(), &mut out);
    let single: Vec<Score> = customers
        .iter()
        .map(|c| scorer.score(c, &empty(), now()))
        .collect();
    assert_eq!(out, single);
    scorer.score_batch_with(customers.iter().zip(&states), now(), &mut out);
    let single: Vec<Score> = customers
        .iter()
        .zip(&states)
        .map(|(c, s)| scorer.score(c, s, now()))
        .collect();
    assert_eq!(out, single);
    // Customers with 3 or 4 recent views (i % 5 ≥ 3) got the adjustment.
    assert_eq!(
        out[3].total,
        scorer.score(&customers[3], &empty(), now()).total + 10.0
    );
    assert_eq!(out[2], scorer.score(&customers[2], &empty(), now()));
    scorer.score_batch(&[], now(), &mut out);
    assert!(out.is_empty());
}

#[test]
fn the_engine_hooks_describe_the_model() {
    let schema = schema();
    let scorer = compile(
        &seed_model()
            .adjustment(product_views())
            .adjustment(Adjustment::new("price", "价格高", "feedback", days(30)).points(-5))
            .adjustment(Adjustment::new("more", "再看", "page_view", days(30)).points(1))
            .activity("login"),
    );
    let names: Vec<&str> = scorer
        .fields()
        .iter()
        .map(|id| schema.field(*id).unwrap().name.as_str())
        .collect();
    assert_eq!(names, ["预算", "预计成交周期", "决策角色"]);
    assert_eq!(scorer.event_kinds(), ["page_view", "feedback", "login"]);
    assert!(scorer.listens_to("login") && !scorer.listens_to("order_placed"));
    assert!(scorer.reads_time());
    assert!(!seed().reads_time());
    assert_eq!(scorer.score_field(), schema.field_id("线索评分"));
    assert_eq!(scorer.grade_field(), schema.field_id("线索等级"));
    let score = scorer.score(&lead(300_000, Some("3个月内"), None), &empty(), now());
    assert_eq!(
        scorer.field_values(score),
        [
            (schema.field_id("线索评分").unwrap(), Value::from(42)),
            (schema.field_id("线索等级").unwrap(), Value::from("C")),
        ]
    );
}

#[test]
fn the_score_field_gets_a_decimal_or_a_rounded_integer() {
    let schema = schema();
    let model = |field: &str| {
        Model::new("s", "分")
            .dimension(Dimension::new("a", "甲", 100).band(Band::new(
                Condition::field("预算").gte(0),
                Number::decimal(72.5).unwrap(),
            )))
            .score_field(field)
            .compile(&schema)
            .unwrap()
    };
    let customer = lead(1, None, None);
    let decimal = model("线索评分");
    let s = decimal.score(&customer, &empty(), now());
    assert_eq!(
        decimal.field_values(s)[0].1,
        Value::from(Number::decimal(72.5).unwrap())
    );
    let integer = model("评分整数");
    assert_eq!(integer.field_values(s)[0].1, Value::from(73));
    assert_eq!(seed().field_values(Score::default()).len(), 2);
    // Scores made by hand cannot make it panic.
    let odd = Score {
        total: f64::NAN,
        grade: 99,
        grade_by_score: 0,
    };
    assert_eq!(integer.field_values(odd)[0].1, Value::from(0));
    let huge = Score {
        total: 1e300,
        grade: 0,
        grade_by_score: 0,
    };
    assert_eq!(integer.field_values(huge)[0].1, Value::from(100));
    let bare = compile(&behaviour_model(vec![]));
    assert!(bare.field_values(s).is_empty());
}

// ---- history ---------------------------------------------------------------------------

#[test]
fn the_history_report_counts_exactly() {
    let scorer = seed();
    let history = [
        (
            lead(600_000, Some("1个月内"), Some("部门经理")),
            Outcome::Won,
        ), // 100 A
        (
            lead(600_000, Some("1个月内"), Some("部门经理")),
            Outcome::Lost,
        ), // 100 A
        (
            lead(300_000, Some("1个月内"), Some("业务骨干")),
            Outcome::Won,
        ), // 69 B
        (lead(300_000, Some("3个月内"), None), Outcome::Lost), // 42 C
        (lead(0, None, None), Outcome::Won),                   // 0 C
        (lead(0, None, None), Outcome::Lost),                  // 0 C
    ];
    let report = scorer.report(history.iter().map(|(r, o)| (r, *o)), now());
    // Won {100, 69, 0} vs lost {100, 42, 0}: 100: 0.5 + 1 + 1; 69: 0 + 1 + 1; 0: 0.5 → 5/9.
    assert_eq!(report.auc, Some(5.0 / 9.0));
    assert_eq!(
        (report.customers, report.won, report.win_rate),
        (6, 3, Some(0.5))
    );
    assert_eq!(
        serde_json::to_value(&report.grades).unwrap(),
        json!([
          {"grade": "A", "min": 80.0, "customers": 2, "won": 1, "win_rate": 0.5},
          {"grade": "B", "min": 50.0, "customers": 1, "won": 1, "win_rate": 1.0},
          {"grade": "C", "min": 0.0, "customers": 3, "won": 1, "win_rate": 1.0 / 3.0}
        ])
    );
    assert_eq!(
        serde_json::to_value(&report.dimensions[1]).unwrap(),
        json!({"id": "urgency", "label": "需求紧急度", "weight": 30.0, "bands": [
          {"band": 0, "label": "需1个月内成交", "points": 100.0, "customers": 3, "won": 2, "win_rate": 2.0 / 3.0},
          {"band": 1, "label": "预计成交周期 = 3个月内", "points": 60.0, "customers": 1, "won": 0, "win_rate": 0.0},
          {"band": null, "label": "default", "points": 0.0, "customers": 2, "won": 1, "win_rate": 0.5}
        ]})
    );
    assert_eq!(report.dimensions[0].bands[2].win_rate, None); // 预算 ≥ 50,000: nobody
    let text = report.to_string();
    assert!(text.starts_with("客户画像评分 (fit): 6 customers, 3 won (50.0%), AUC 0.556\n  grade A (≥ 80): 2 customers, 1 won (50.0%)\n"), "{text}");
    assert!(
        text.contains("    预算 ≥ 50,000 (30 points): 0 customers, 0 won (-)\n"),
        "{text}"
    );
}

#[test]
fn auc_is_undefined_without_both_outcomes_and_extreme_when_separated() {
    let scorer = seed();
    let won = lead(600_000, Some("1个月内"), None);
    let lost = lead(0, None, None);
    let none = scorer.report(std::iter::empty(), now());
    assert_eq!((none.auc, none.win_rate, none.customers), (None, None, 0));
    let one_sided = scorer.report([(&won, Outcome::Won)], now());
    assert_eq!(one_sided.auc, None);
    let perfect = scorer.report([(&won, Outcome::Won), (&lost, Outcome::Lost)], now());
    assert_eq!(perfect.auc, Some(1.0));
    let backwards = scorer.report([(&won, Outcome::Lost), (&lost, Outcome::Won)], now());
    assert_eq!(backwards.auc, Some(0.0));
    let tie = scorer.report([(&lost, Outcome::Lost), (&lost, Outcome::Won)], now());
    assert_eq!(tie.auc, Some(0.5));
}

// ---- properties --------------------------------------------------------------------------

const FIELDS: [&str; 4] = ["f0", "f1", "f2", "f3"];

fn number_schema() -> Schema {
    Schema::with_events(
        FIELDS.iter().map(|f| Field::new(*f, FieldType::Number)),
        None,
        [],
    )
    .unwrap()
}

/// A dimension on `field` with bands on decreasing thresholds; `points` in band order.
fn dimension(
    i: usize,
    weight: Number,
    thresholds: &[i64],
    points: &[i64],
    default: i64,
) -> Dimension {
    let mut d = Dimension::new(format!("d{i}"), format!("维度{i}"), weight).default_points(default);
    for (t, p) in thresholds.iter().zip(points) {
        d = d.band(Band::new(Condition::field(FIELDS[i]).gte(*t), *p));
    }
    d
}

#[derive(Clone, Debug)]
struct Spec {
    weights: Vec<i64>,
    thresholds: Vec<Vec<i64>>,
    points: Vec<Vec<i64>>,
    defaults: Vec<i64>,
    adjustments: Vec<(i64, u32, i64, Option<GradeStep>)>,
    decay: Option<i64>,
}

/// Weights adding up to 100 over 1 to 4 dimensions, 1 to 4 bands each.
fn spec(monotone: bool) -> impl Strategy<Value = Spec> {
    (1usize..=4)
        .prop_flat_map(move |k| {
            let weights = proptest::collection::vec(1i64..=100, k).prop_map(|raw| {
                // Scale to 100 exactly, each at least 1.
                let sum: i64 = raw.iter().sum();
                let mut w: Vec<i64> = raw.iter().map(|x| (x * 100 / sum).max(1)).collect();
                let diff = 100 - w.iter().sum::<i64>();
                let top = w
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, x)| **x)
                    .map_or(0, |(i, _)| i);
                w[top] += diff;
                w
            });
            let bands = proptest::collection::vec(
                (
                    proptest::collection::btree_set(0i64..1_000, 1..=4),
                    proptest::collection::vec(0i64..=100, 5),
                ),
                k,
            );
            let adjustments = proptest::collection::vec(
                (
                    -100i64..=100,
                    1u32..=3,
                    1i64..=10,
                    prop_oneof![
                        Just(None),
                        Just(Some(GradeStep::Up)),
                        Just(Some(GradeStep::Down))
                    ],
                ),
                0..=3,
            );
            let decay = proptest::option::of(1i64..=30);
            (weights, bands, adjustments, decay)
        })
        .prop_filter("weights must stay positive", |(w, ..)| {
            w.iter().all(|x| *x > 0)
        })
        .prop_map(move |(weights, bands, adjustments, decay)| {
            let mut thresholds = Vec::new();
            let mut points = Vec::new();
            let mut defaults = Vec::new();
            for (set, mut p) in bands {
                let t: Vec<i64> = set.into_iter().rev().collect();
                if monotone {
                    p.sort_unstable_by(|a, b| b.cmp(a));
                }
                defaults.push(p[t.len()]);
                p.truncate(t.len());
                thresholds.push(t);
                points.push(p);
            }
            Spec {
                weights,
                thresholds,
                points,
                defaults,
                adjustments,
                decay,
            }
        })
}

fn model_of(spec: &Spec, scale: Option<Number>, grades: Option<Vec<Grade>>) -> Model {
    let mut m = Model::new("p", "性质");
    for i in 0..spec.weights.len() {
        let w = match scale {
            None => Number::from(spec.weights[i]),
            Some(c) => Number::decimal(spec.weights[i] as f64 * c.as_f64()).unwrap(),
        };
        m = m.dimension(dimension(
            i,
            w,
            &spec.thresholds[i],
            &spec.points[i],
            spec.defaults[i],
        ));
    }
    if scale.is_some() {
        m = m.normalize(true);
    }
    for (j, (points, at_least, within, step)) in spec.adjustments.iter().enumerate() {
        let mut a = Adjustment::new(
            format!("a{j}"),
            format!("行为{j}"),
            format!("e{}", j % 2),
            days(*within),
        )
        .at_least(*at_least)
        .points(*points);
        if let Some(s) = step {
            a = a.grade(*s);
        }
        m = m.adjustment(a);
    }
    if let Some(h) = spec.decay {
        if spec.adjustments.iter().any(|a| a.0 > 0) {
            m = m.decay(Decay::HalfLife { half_life: days(h) });
        }
    }
    if let Some(g) = grades {
        m = m.grades(g);
    }
    m
}

fn record_of(schema: &Schema, values: &[i64]) -> Record {
    schema
        .record(
            FIELDS
                .iter()
                .zip(values)
                .map(|(f, v)| (*f, Value::from(*v))),
        )
        .unwrap()
}

/// Events of kinds e0/e1 at hours before now.
fn state_of(scorer: &Scorer, customer: &Record, events: &[(bool, i64)]) -> BehaviourState {
    let mut s = BehaviourState::new();
    for (i, (kind, hours)) in events.iter().enumerate() {
        let kind = if *kind { "e1" } else { "e0" };
        s.record(
            scorer,
            customer,
            &Event::new(kind, format!("x{i}"), now() - TimeDelta::hours(*hours)),
        );
    }
    s
}

fn values() -> impl Strategy<Value = Vec<i64>> {
    proptest::collection::vec(-10i64..1_100, 4)
}

fn events() -> impl Strategy<Value = Vec<(bool, i64)>> {
    proptest::collection::vec((any::<bool>(), 0i64..24 * 40), 0..8)
}

/// A random ladder: 1 to 6 grades, strictly decreasing mins in tenths, the last 0.
fn ladder() -> impl Strategy<Value = Vec<Grade>> {
    proptest::collection::btree_set(1i64..=1000, 0..=5).prop_map(|mins| {
        let mut grades: Vec<Grade> = mins
            .into_iter()
            .rev()
            .enumerate()
            .map(|(i, t)| {
                Grade::new(
                    format!("G{i}"),
                    Number::decimal(t as f64 / 10.0).unwrap(),
                    "",
                )
            })
            .collect();
        grades.push(Grade::new("last", 0, ""));
        grades
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scores_stay_within_0_and_100(spec in spec(false), v in values(), e in events(), later in 0i64..24 * 60) {
        let schema = number_schema();
        let scorer = model_of(&spec, None, None).compile(&schema).unwrap();
        let customer = record_of(&schema, &v);
        let state = state_of(&scorer, &customer, &e);
        let t = now() + TimeDelta::hours(later);
        let s = scorer.score(&customer, &state, t);
        prop_assert!((0.0..=100.0).contains(&s.total), "{s:?}");
        prop_assert_eq!((s.total * 10.0).round() / 10.0, s.total);
        let card = scorer.card(&customer, &state, t);
        prop_assert_eq!(card.total, s.total);
        prop_assert_eq!(&card.grade, &scorer.grades()[s.grade].label);
        prop_assert!(serde_json::to_string(&card).is_ok());
    }

    #[test]
    fn improving_one_dimension_never_lowers_the_total(
        spec in spec(true), v in values(), e in events(), which in 0usize..4, by in 0i64..1_200,
    ) {
        let schema = number_schema();
        let scorer = model_of(&spec, None, None).compile(&schema).unwrap();
        let before = record_of(&schema, &v);
        let mut better = v.clone();
        better[which] += by;
        let after = record_of(&schema, &better);
        let state = state_of(&scorer, &before, &e);
        let (a, b) = (scorer.score(&before, &state, now()), scorer.score(&after, &state, now()));
        prop_assert!(b.total >= a.total, "{a:?} → {b:?}");
        prop_assert!(b.grade_by_score <= a.grade_by_score);
    }

    #[test]
    fn the_grade_agrees_with_the_thresholds(spec in spec(false), grades in ladder(), v in values(), e in events()) {
        let schema = number_schema();
        let scorer = model_of(&spec, None, Some(grades.clone())).compile(&schema).unwrap();
        let customer = record_of(&schema, &v);
        let state = state_of(&scorer, &customer, &e);
        let s = scorer.score(&customer, &state, now());
        let expected = grades
            .iter()
            .position(|g| s.total >= g.min.as_f64() - 1e-9)
            .unwrap();
        prop_assert_eq!(s.grade_by_score, expected);
        let steps: i64 = scorer
            .card(&customer, &state, now())
            .adjustments
            .iter()
            .map(|a| match a.grade { Some(GradeStep::Up) => 1, Some(GradeStep::Down) => -1, None => 0 })
            .sum();
        let moved = (expected as i64 - steps).clamp(0, grades.len() as i64 - 1) as usize;
        prop_assert_eq!(s.grade, moved);
    }

    #[test]
    fn scaled_weights_with_normalize_give_the_same_scores(
        spec in spec(false),
        scale in prop_oneof![1i64..=10, Just(1000)].prop_map(Number::from)
            .boxed()
            .prop_union(prop_oneof![Just(0.5), Just(0.25), Just(1.5), Just(2.5), Just(0.125)]
                .prop_map(|x| Number::decimal(x).unwrap()).boxed()),
        v in values(), e in events(),
    ) {
        let schema = number_schema();
        let plain = model_of(&spec, None, None).compile(&schema).unwrap();
        let scaled = model_of(&spec, Some(scale), None).compile(&schema).unwrap();
        let customer = record_of(&schema, &v);
        let state = state_of(&plain, &customer, &e);
        prop_assert_eq!(plain.score(&customer, &state, now()), scaled.score(&customer, &state, now()));
    }

    #[test]
    fn models_round_trip_through_json(spec in spec(false), grades in ladder()) {
        let model = model_of(&spec, None, Some(grades));
        let again = Model::from_json(&model.to_json()).unwrap();
        prop_assert_eq!(again, model);
    }
}
