//! Lead scoring and grading, end to end.
//!
//! `cargo run --example lead_scoring`
//!
//! 1. The lead grading model of the operating guide (线索分级): budget fit 40 %, urgency
//!    30 %, decision influence 30 %, graded A (重点跟进) / B (常规跟进) / C (长期培育);
//!    behaviour raises a lead (product page viewed 3 times, support contacted on the
//!    customer's own initiative), negative feedback lowers it and tags it, and behaviour
//!    points decay. Each lead's score card is printed.
//! 2. The value ladder of the follow-up guide (客户分层): 高价值 / 中价值 / 普通价值 / 流失 by
//!    spend in the last 6 months and 3 months without interaction.
//! 3. A history report on generated past leads: does the score predict who was won?

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use crm_rules::scoring::{BehaviourState, Model, Outcome};
use crm_rules::{Event, Record, Schema, Value};

const SCHEMA: &str = r#"{
  "fields": [
    {"name": "客户名称", "type": "text", "required": true},
    {"name": "预算", "type": "number", "min": 0},
    {"name": "预计成交周期", "type": "single_choice", "options": ["1个月内", "3个月内", "半年内", "暂无计划"]},
    {"name": "决策角色", "type": "single_choice", "options": ["总经理", "部门经理", "业务骨干", "普通员工"]},
    {"name": "线索评分", "type": "number"},
    {"name": "线索等级", "type": "single_choice", "options": ["A", "B", "C"]},
    {"name": "近6个月消费", "type": "number", "min": 0},
    {"name": "最近互动时间", "type": "date_time"},
    {"name": "客户价值", "type": "single_choice", "options": ["高价值", "中价值", "普通价值", "流失"]}
  ],
  "events": [
    {"kind": "page_view", "attributes": [
      {"name": "page", "type": "single_choice", "options": ["产品详情", "价格页", "博客"]}]},
    {"kind": "support_contact", "attributes": [
      {"name": "initiated_by", "type": "single_choice", "options": ["客户", "客服"]}]},
    {"kind": "feedback", "attributes": [{"name": "content", "type": "long_text"}]}
  ]
}"#;

/// 线索分级: the seed's model, as an administrator would write it.
const LEAD_MODEL: &str = r#"{
  "id": "lead-fit",
  "name": "线索分级",
  "dimensions": [
    {"id": "budget", "label": "预算匹配度", "weight": 40, "bands": [
      {"label": "明确预算50万以上", "when": {"field": "预算", "op": "gte", "value": 500000}, "points": 100},
      {"label": "预算20-50万", "when": {"field": "预算", "op": "gte", "value": 200000}, "points": 60},
      {"label": "预算5-20万", "when": {"field": "预算", "op": "gte", "value": 50000}, "points": 30}
    ]},
    {"id": "urgency", "label": "需求紧急度", "weight": 30, "bands": [
      {"label": "需1个月内成交", "when": {"field": "预计成交周期", "op": "eq", "value": "1个月内"}, "points": 100},
      {"label": "3个月内成交", "when": {"field": "预计成交周期", "op": "eq", "value": "3个月内"}, "points": 60},
      {"label": "半年内成交", "when": {"field": "预计成交周期", "op": "eq", "value": "半年内"}, "points": 30}
    ]},
    {"id": "influence", "label": "决策影响力", "weight": 30, "bands": [
      {"label": "决策人为部门经理或以上", "when": {"field": "决策角色", "op": "in", "value": ["总经理", "部门经理"]}, "points": 100},
      {"label": "业务骨干", "when": {"field": "决策角色", "op": "eq", "value": "业务骨干"}, "points": 50}
    ]}
  ],
  "behaviour": [
    {"id": "product-page", "label": "浏览产品详情页3次", "event": "page_view",
     "where": {"event": "page", "op": "eq", "value": "产品详情"},
     "at_least": 3, "within": "7d", "grade": "up"},
    {"id": "support", "label": "主动联系客服", "event": "support_contact",
     "where": {"event": "initiated_by", "op": "eq", "value": "客户"},
     "within": "14d", "points": 10},
    {"id": "price", "label": "反馈价格高", "event": "feedback",
     "where": {"event": "content", "op": "contains_any", "value": ["价格高", "太贵"]},
     "within": "90d", "points": -10, "tag": "价格敏感"},
    {"id": "features", "label": "反馈功能不足", "event": "feedback",
     "where": {"event": "content", "op": "contains", "value": "功能不足"},
     "within": "90d", "points": -10, "tag": "功能缺口"},
    {"id": "competitor", "label": "考虑竞品", "event": "feedback",
     "where": {"event": "content", "op": "contains", "value": "考虑竞品"},
     "within": "90d", "points": -15, "grade": "down", "tag": "竞品风险"}
  ],
  "decay": {"type": "half_life", "half_life": "14d"},
  "score_field": "线索评分",
  "grade_field": "线索等级"
}"#;

/// 客户分层: the value ladder, recomputed monthly.
const VALUE_MODEL: &str = r#"{
  "id": "value-tier",
  "name": "客户价值分层",
  "dimensions": [
    {"id": "spend", "label": "近6个月消费", "weight": 100, "bands": [
      {"label": "3个月无互动", "when": {"field": "最近互动时间", "op": "older_than", "value": "90d"}, "points": 0},
      {"label": "近6个月消费≥5万元", "when": {"field": "近6个月消费", "op": "gte", "value": 50000}, "points": 100},
      {"label": "近6个月消费1万-5万元", "when": {"field": "近6个月消费", "op": "gte", "value": 10000}, "points": 60}
    ], "default": 30}
  ],
  "grades": [
    {"label": "高价值", "min": 80, "description": "每月1次电话回访+专属礼品"},
    {"label": "中价值", "min": 50, "description": "季度回访"},
    {"label": "普通价值", "min": 10, "description": "常规回访"},
    {"label": "流失", "min": 0, "description": "每2个月推送回归优惠"}
  ],
  "grade_field": "客户价值"
}"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schema = Schema::from_json(SCHEMA)?;
    let now = Utc
        .with_ymd_and_hms(2024, 5, 20, 9, 0, 0)
        .single()
        .ok_or("bad date")?;

    // 1. Lead grading.
    let leads = Model::from_json(LEAD_MODEL)?.compile(&schema)?;
    println!("== 线索分级 ==\n");
    let batch = [
        lead(&schema, "华为", 600_000, "1个月内", "部门经理")?,
        lead(&schema, "小米", 300_000, "1个月内", "业务骨干")?,
        lead(&schema, "比亚迪", 80_000, "3个月内", "普通员工")?,
        lead(&schema, "宁德时代", 300_000, "半年内", "业务骨干")?,
        lead(&schema, "蔚来", 550_000, "3个月内", "总经理")?,
    ];
    let ago = |hours: i64| now - TimeDelta::hours(hours);
    // What each lead did, as the host's event stream delivers it.
    let events: [Vec<Event>; 5] = [
        vec![],
        vec![],
        vec![
            page_view("e1", ago(70), "产品详情"),
            page_view("e2", ago(30), "价格页"),
            page_view("e3", ago(26), "产品详情"),
            page_view("e4", ago(3), "产品详情"),
        ],
        vec![
            support("e5", ago(24 * 5), "客户"),
            feedback("e6", ago(24 * 4), "整体不错,但价格高于预算"),
        ],
        vec![
            support("e7", ago(24 * 12), "客户"),
            feedback("e8", ago(24 * 2), "我们也在考虑竞品的方案"),
        ],
    ];
    let mut states = Vec::new();
    for (customer, stream) in batch.iter().zip(&events) {
        let mut state = BehaviourState::new();
        for event in stream {
            state.record(&leads, customer, event);
        }
        states.push(state);
    }
    for (customer, state) in batch.iter().zip(&states) {
        let name = customer
            .values()
            .first()
            .map(Value::to_string)
            .unwrap_or_default();
        println!("【{name}】");
        print!("{}", leads.card(customer, state, now));
        let writes: Vec<String> = leads
            .field_values(leads.score(customer, state, now))
            .into_iter()
            .filter_map(|(id, v)| schema.field(id).map(|f| format!("{} = {v}", f.name)))
            .collect();
        println!("  writes: {}\n", writes.join(", "));
    }
    println!(
        "One card as JSON:\n{}\n",
        serde_json::to_string_pretty(&leads.card(&batch[1], &states[1], now))?
    );

    // A score read later is right without being saved again: decay and lapses come from `now`.
    let later = now + TimeDelta::days(10);
    println!("蔚来 ten days later:");
    print!("{}", leads.card(&batch[4], &states[4], later));

    let mut scores = Vec::new();
    leads.score_batch_with(batch.iter().zip(&states), now, &mut scores);
    let line: Vec<String> = scores
        .iter()
        .map(|s| format!("{} {}", s.total, leads.grades()[s.grade].label))
        .collect();
    println!("\nBatch: {}\n", line.join(" | "));

    // 2. The value ladder.
    let tiers = Model::from_json(VALUE_MODEL)?.compile(&schema)?;
    println!("== 客户价值分层 ==\n");
    let customers = [
        ("老客户甲", 86_000, 10),
        ("老客户乙", 23_000, 40),
        ("老客户丙", 4_500, 20),
        ("老客户丁", 120_000, 100),
    ];
    for (name, spend, days) in customers {
        let record = schema.record([
            ("客户名称", Value::from(name)),
            ("近6个月消费", Value::from(spend)),
            ("最近互动时间", Value::from(now - TimeDelta::days(days))),
        ])?;
        let card = tiers.card(&record, &BehaviourState::new(), now);
        println!(
            "{name}: 消费 {spend}, {days} 天前互动 → {} ({}), by {}",
            card.grade, card.description, card.dimensions[0].matched
        );
    }

    // 3. Against history.
    println!("\n== 历史验证 ==\n");
    let history = generated_history(&schema, 2_000)?;
    let report = leads.report(history.iter().map(|(r, o)| (r, *o)), now);
    print!("{report}");
    Ok(())
}

fn lead(
    schema: &Schema,
    name: &str,
    budget: i64,
    close: &str,
    role: &str,
) -> Result<Record, Box<dyn std::error::Error>> {
    Ok(schema.record([
        ("客户名称", Value::from(name)),
        ("预算", Value::from(budget)),
        ("预计成交周期", Value::from(close)),
        ("决策角色", Value::from(role)),
    ])?)
}

fn page_view(id: &str, at: DateTime<Utc>, page: &str) -> Event {
    Event::new("page_view", id, at).attribute("page", page)
}

fn support(id: &str, at: DateTime<Utc>, by: &str) -> Event {
    Event::new("support_contact", id, at).attribute("initiated_by", by)
}

fn feedback(id: &str, at: DateTime<Utc>, text: &str) -> Event {
    Event::new("feedback", id, at).attribute("content", text)
}

/// Past leads whose chance of being won grows with budget and urgency and the buyer's
/// role, with noise: a fixed pseudo-random sequence, so the report is the same every run.
fn generated_history(
    schema: &Schema,
    n: usize,
) -> Result<Vec<(Record, Outcome)>, Box<dyn std::error::Error>> {
    let closes = ["1个月内", "3个月内", "半年内", "暂无计划"];
    let roles = ["总经理", "部门经理", "业务骨干", "普通员工"];
    let mut seed: u64 = 20_240_520;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as f64 / f64::from(1u32 << 31)
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let budget = (next() * 900_000.0) as i64;
        let close = (next() * 4.0) as usize % 4;
        let role = (next() * 4.0) as usize % 4;
        let chance = 0.05
            + 0.35 * (budget as f64 / 900_000.0)
            + 0.25 * (3 - close) as f64 / 3.0
            + 0.15 * (3 - role) as f64 / 3.0;
        let outcome = if next() < chance {
            Outcome::Won
        } else {
            Outcome::Lost
        };
        out.push((
            lead(
                schema,
                &format!("历史客户{i}"),
                budget,
                closes[close],
                roles[role],
            )?,
            outcome,
        ));
    }
    Ok(out)
}
