//! Scoring customers with a lead scoring model.
//!
//! `cargo bench --bench scoring`. The bar: a model of 3 dimensions with 4 bands each
//! scores at least 5,000,000 customers per second on one core through the batch API.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use crm_rules::scoring::{Adjustment, Band, BehaviourState, Decay, Dimension, GradeStep, Model};
use crm_rules::{Condition, Duration, Event, Field, FieldType, Record, Schema, Value};

const STAGES: [&str; 4] = ["1个月内", "3个月内", "半年内", "半年以上"];
const ROLES: [&str; 4] = ["总经理", "部门经理", "业务骨干", "普通员工"];

fn schema() -> Schema {
    let mut fields = vec![
        Field::new("客户名称", FieldType::Text),
        Field::new("预算", FieldType::Number),
        Field::new("预计成交周期", FieldType::SingleChoice).options(STAGES),
        Field::new("决策角色", FieldType::SingleChoice).options(ROLES),
        Field::new("标签", FieldType::Tags),
    ];
    for i in 0..10 {
        fields.push(Field::new(format!("扩展{i}"), FieldType::Text));
    }
    Schema::new(fields).expect("valid schema")
}

/// The seed's model: budget 40 %, urgency 30 %, influence 30 %, 4 bands each.
fn model() -> Model {
    Model::new("fit", "客户画像评分")
        .dimension(
            Dimension::new("budget", "预算匹配度", 40)
                .band(Band::new(Condition::field("预算").gte(500_000), 100))
                .band(Band::new(Condition::field("预算").gte(200_000), 70))
                .band(Band::new(Condition::field("预算").gte(50_000), 40))
                .band(Band::new(Condition::field("预算").gt(0), 10)),
        )
        .dimension(
            Dimension::new("urgency", "需求紧急度", 30)
                .band(Band::new(
                    Condition::field("预计成交周期").eq(STAGES[0]),
                    100,
                ))
                .band(Band::new(
                    Condition::field("预计成交周期").eq(STAGES[1]),
                    60,
                ))
                .band(Band::new(
                    Condition::field("预计成交周期").eq(STAGES[2]),
                    30,
                ))
                .band(Band::new(
                    Condition::field("预计成交周期").eq(STAGES[3]),
                    10,
                )),
        )
        .dimension(
            Dimension::new("influence", "决策影响力", 30)
                .band(Band::new(Condition::field("决策角色").eq(ROLES[0]), 100))
                .band(Band::new(Condition::field("决策角色").eq(ROLES[1]), 100))
                .band(Band::new(Condition::field("决策角色").eq(ROLES[2]), 50))
                .band(Band::new(Condition::field("决策角色").eq(ROLES[3]), 20)),
        )
}

fn with_behaviour(model: Model) -> Model {
    let week = Duration::days(7).expect("range");
    model
        .adjustment(
            Adjustment::new("product-page", "浏览产品详情页3次", "page_view", week)
                .filter(Condition::event("page").eq("产品详情"))
                .at_least(3)
                .points(10)
                .grade(GradeStep::Up),
        )
        .adjustment(
            Adjustment::new(
                "price",
                "反馈价格高",
                "feedback",
                Duration::days(90).expect("range"),
            )
            .keywords("content", ["价格高", "考虑竞品"])
            .points(-10)
            .tag("价格敏感"),
        )
        .decay(Decay::HalfLife {
            half_life: Duration::days(14).expect("range"),
        })
}

/// Customers spread over every band (and the defaults) of every dimension.
fn customers(schema: &Schema, n: usize) -> Vec<Record> {
    (0..n as i64)
        .map(|i| {
            let mut pairs = vec![
                ("客户名称", Value::from(format!("客户{i}"))),
                ("预算", Value::from((i * 7919) % 800_000)),
            ];
            if i % 5 != 0 {
                pairs.push(("预计成交周期", Value::from(STAGES[(i % 4) as usize])));
            }
            if i % 7 != 0 {
                pairs.push(("决策角色", Value::from(ROLES[(i % 4) as usize])));
            }
            schema.record(pairs).expect("valid record")
        })
        .collect()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap()
}

fn bench(c: &mut Criterion) {
    let schema = schema();
    let now = now();

    let mut group = c.benchmark_group("build");
    let m = with_behaviour(model());
    group.bench_function("compile_3x4_with_behaviour", |b| {
        b.iter(|| black_box(&m).compile(&schema).expect("compiles"))
    });
    let json = m.to_json();
    group.bench_function("from_json_and_compile", |b| {
        b.iter(|| {
            Model::from_json(black_box(&json))
                .expect("reads")
                .compile(&schema)
                .expect("compiles")
        })
    });
    group.finish();

    let scorer = model().compile(&schema).expect("compiles");
    let mut group = c.benchmark_group("evaluate");
    let people = customers(&schema, 1024);
    let empty = BehaviourState::new();
    group.throughput(Throughput::Elements(people.len() as u64));
    group.bench_function("score_3x4", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for p in &people {
                sum += scorer.score(black_box(p), &empty, now).total;
            }
            sum
        })
    });
    // With two adjustments, decay, and every customer having recorded behaviour.
    let busy = with_behaviour(model()).compile(&schema).expect("compiles");
    let states: Vec<BehaviourState> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut s = BehaviourState::new();
            for k in 0..(i % 4) {
                let e = Event::new(
                    "page_view",
                    format!("v{k}"),
                    now - TimeDelta::hours(k as i64 * 20),
                )
                .attribute("page", "产品详情");
                s.record(&busy, p, &e);
            }
            if i % 3 == 0 {
                let e = Event::new("feedback", "f", now - TimeDelta::days(3))
                    .attribute("content", "价格高了点");
                s.record(&busy, p, &e);
            }
            s
        })
        .collect();
    let mut out = Vec::with_capacity(people.len());
    group.bench_function("score_batch_with_behaviour_and_decay", |b| {
        b.iter(|| {
            busy.score_batch_with(black_box(&people).iter().zip(&states), now, &mut out);
            out.len()
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("card_3x4", |b| {
        b.iter(|| busy.card(black_box(&people[3]), &states[3], now))
    });
    group.finish();

    let mut group = c.benchmark_group("batch");
    for n in [1_000usize, 10_000, 100_000] {
        let people = customers(&schema, n);
        let mut out = Vec::with_capacity(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::new("score_batch_3x4", n),
            &people,
            |b, people| {
                b.iter(|| {
                    scorer.score_batch(black_box(people), now, &mut out);
                    out.len()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
