//! A tour of the foundation, on the example schema and rule files:
//! load and check rules, validate an intake form, segment customers with compiled
//! conditions, and render a message with sensitive fields masked.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```

use std::error::Error;
use std::path::Path;

use chrono::{TimeZone, Utc};
use crm_rules::{Condition, Duration, Facts, RuleSet, Schema, Template};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules");
    let schema = Schema::from_json(&std::fs::read_to_string(dir.join("schema.json"))?)?;
    println!(
        "schema: {} fields, {} event kinds",
        schema.fields().len(),
        schema.events().len()
    );

    // 1. Every rule file, loaded and checked against the schema.
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("schema.json"))
        .collect();
    files.sort();
    println!("\n== rule files");
    for path in &files {
        let rules = RuleSet::from_json(&std::fs::read_to_string(path)?)?;
        let compiled = rules.compile(&schema)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        println!("{name:<22} {}", compiled.summary());
    }

    // 2. An intake form with mistakes: every error at once, sensitive values masked.
    let now = Utc
        .with_ymd_and_hms(2024, 5, 20, 9, 0, 0)
        .single()
        .ok_or("bad time")?;
    let form = serde_json::json!({
        "手机号": "138-1234-5678",
        "邮箱": "li@example",
        "客户状态": "成交客戶",
        "预算": -5,
    });
    println!("\n== intake form");
    match schema.validate_json(&form, now) {
        Ok(_) => println!("valid"),
        Err(e) => println!("{e}"),
    }

    // 3. Segments as compiled conditions, evaluated on customers.
    let customers = [
        serde_json::json!({"客户名称": "华为", "客户状态": "新客户", "客户等级": "A", "预算": 800000,
                           "创建时间": "2024-05-15T10:00:00+08:00", "标签": ["展会"]}),
        serde_json::json!({"客户名称": "小米", "客户状态": "意向客户", "客户等级": "B", "预算": 120000,
                           "最近跟进时间": "2024-05-01T09:00:00+08:00", "客户反馈": "价格高，在考虑竞品"}),
        serde_json::json!({"客户名称": "美的", "客户状态": "成交客户", "客户等级": "A", "预算": 2000000,
                           "最近跟进时间": "2024-05-19T16:00:00+08:00", "标签": ["VIP"]}),
    ];
    let records = customers
        .iter()
        .map(|c| schema.record_from_json(c))
        .collect::<Result<Vec<_>, _>>()?;
    let days = |n| Duration::days(n).ok_or("duration out of range");
    let segments = [
        (
            "A级高预算未成交",
            Condition::all([
                Condition::field("客户等级").eq("A"),
                Condition::field("预算").gte(500_000),
                Condition::field("客户状态").ne("成交客户"),
            ]),
        ),
        (
            "负面反馈",
            Condition::field("客户反馈").contains_any(["价格高", "功能不足", "考虑竞品"]),
        ),
        (
            "7天未跟进",
            Condition::field("最近跟进时间").older_than(days(7)?),
        ),
        (
            "近7天新建",
            Condition::field("创建时间").within_last(days(7)?),
        ),
    ];
    println!("\n== segments at {now}");
    for (name, condition) in segments {
        let compiled = condition.compile(&schema)?;
        let names: Vec<String> = records
            .iter()
            .filter(|r| compiled.evaluate(&Facts::new(r, now)))
            .map(|r| {
                r.get(
                    schema
                        .field_id("客户名称")
                        .unwrap_or_else(|| unreachable!()),
                )
                .to_string()
            })
            .collect();
        println!(
            "{name:<12} {}",
            if names.is_empty() {
                "-".to_owned()
            } else {
                names.join(", ")
            }
        );
    }

    // 4. A message template, the phone number masked because the field is sensitive.
    let message = Template::compile(
        "请今天回访 {{客户名称}}，电话 {{手机号}}，邮箱 {{邮箱}}",
        &schema,
    )?;
    let customer = schema.record([
        ("客户名称", "华为"),
        ("手机号", "13812345678"),
        ("邮箱", "li@huawei.com"),
    ])?;
    println!("\n== message\n{}", message.render(&customer));
    Ok(())
}
