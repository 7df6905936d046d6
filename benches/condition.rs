//! Evaluating one compiled condition against a customer.
//!
//! `cargo bench --bench condition`. The bar: a condition of 3 comparisons costs well
//! under 100 ns per customer.

use chrono::{TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use crm_rules::{Condition, Facts, Field, FieldType, Record, Schema, Value};

fn schema() -> Schema {
    let mut fields = vec![
        Field::new("客户名称", FieldType::Text),
        Field::new("预算", FieldType::Number),
        Field::new("客户状态", FieldType::SingleChoice).options([
            "新客户",
            "已联系",
            "意向客户",
            "成交客户",
            "流失客户",
        ]),
        Field::new("标签", FieldType::Tags),
        Field::new("区域", FieldType::SingleChoice).options(["华东", "华南", "华北", "西南"]),
        Field::new("最近跟进时间", FieldType::DateTime),
    ];
    for i in 0..10 {
        fields.push(Field::new(format!("扩展{i}"), FieldType::Text));
    }
    Schema::new(fields).expect("valid schema")
}

fn customers(schema: &Schema) -> Vec<Record> {
    let statuses = ["新客户", "已联系", "意向客户", "成交客户", "流失客户"];
    let regions = ["华东", "华南", "华北", "西南"];
    (0..1024i64)
        .map(|i| {
            let tags: Vec<&str> = if i % 3 == 0 {
                vec!["VIP", "展会"]
            } else {
                vec!["展会"]
            };
            schema
                .record([
                    ("客户名称", Value::from(format!("客户{i}"))),
                    ("预算", Value::from((i * 7919) % 1_000_000)),
                    ("客户状态", Value::from(statuses[(i % 5) as usize])),
                    ("标签", Value::from(tags)),
                    ("区域", Value::from(regions[(i % 4) as usize])),
                ])
                .expect("valid record")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let schema = schema();
    let customers = customers(&schema);
    let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap();
    let three = Condition::all([
        Condition::field("预算").gte(500_000),
        Condition::field("客户状态").is_in(["新客户", "意向客户"]),
        Condition::field("标签").has_tag("VIP"),
    ]);
    let any_three = Condition::any([
        Condition::field("区域").eq("西南"),
        Condition::field("预算").between(100_000, 200_000),
        Condition::field("客户状态").ne("成交客户"),
    ]);
    // Every comparison holds, so all three are evaluated: the worst case of `all`.
    let all_true = Condition::all([
        Condition::field("预算").gte(0),
        Condition::field("区域").is_in(["华东", "华南", "华北", "西南"]),
        Condition::field("标签").has_tag("展会"),
    ]);
    let mut group = c.benchmark_group("condition");
    for (name, condition) in [
        ("all_of_3", three),
        ("any_of_3", any_three),
        ("all_of_3_all_hold", all_true),
    ] {
        let compiled = condition.compile(&schema).expect("compiles");
        group.bench_with_input(
            BenchmarkId::new("evaluate", name),
            &compiled,
            |b, compiled| {
                let mut i = 0usize;
                b.iter(|| {
                    i = (i + 1) & 1023;
                    compiled.evaluate(black_box(&Facts::new(&customers[i], now)))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
