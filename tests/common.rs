//! Shared fixtures: a CRM schema, a fixed `now`, and helpers to read problems as text.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use crm_rules::{BuildError, CompiledCondition, Condition, Facts, LoadError, Record, Schema};

/// The schema most tests use: the fields of a small CRM.
pub const CRM_SCHEMA: &str = r#"{
  "owner_field": "负责人",
  "fields": [
    {"name": "客户名称", "type": "text", "required": true},
    {"name": "负责人", "type": "member"},
    {"name": "客户经理", "type": "member"},
    {"name": "客户状态", "type": "single_choice", "options": ["新客户", "意向客户", "成交客户", "流失客户"]},
    {"name": "跟进阶段", "type": "single_choice", "options": ["线索获取", "需求确认", "商务谈判", "赢单"]},
    {"name": "预算", "type": "number"},
    {"name": "跟进次数", "type": "integer"},
    {"name": "评分", "type": "rating"},
    {"name": "VIP", "type": "bool"},
    {"name": "标签", "type": "tags"},
    {"name": "产品兴趣", "type": "multiple_choice", "options": ["CRM", "ERP", "BI"]},
    {"name": "手机号", "type": "phone", "sensitive": true},
    {"name": "邮箱", "type": "email", "sensitive": true},
    {"name": "备注", "type": "long_text"},
    {"name": "区域", "type": "text"},
    {"name": "创建时间", "type": "date_time"},
    {"name": "最近跟进时间", "type": "date_time"},
    {"name": "合同到期日", "type": "date"}
  ]
}"#;

/// The CRM schema.
pub fn crm() -> Schema {
    Schema::from_json(CRM_SCHEMA).expect("the CRM schema is valid")
}

/// The CRM schema with declared events.
pub fn crm_with_events() -> Schema {
    let mut json: serde_json::Value = serde_json::from_str(CRM_SCHEMA).expect("valid JSON");
    json["events"] = serde_json::json!([
        {"kind": "lead_created", "attributes": [
            {"name": "source", "type": "single_choice", "options": ["展会活动", "官网表单"]},
            {"name": "amount", "type": "number"}
        ]},
        {"kind": "order_placed", "attributes": [{"name": "amount", "type": "number"}]},
        {"kind": "email_opened"}
    ]);
    Schema::from_json(&json.to_string()).expect("the CRM schema with events is valid")
}

/// Monday 2024-05-20 09:00 UTC, the `now` of every test.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap()
}

/// An instant in UTC.
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// A calendar date.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Every problem of a build error, as its text.
pub fn build_problems(err: &BuildError) -> Vec<String> {
    err.problems().iter().map(ToString::to_string).collect()
}

/// Every problem of a load error, as its text.
pub fn load_problems(err: &LoadError) -> Vec<String> {
    err.problems().iter().map(ToString::to_string).collect()
}

/// A record from a JSON object, which must be readable.
pub fn record(schema: &Schema, json: serde_json::Value) -> Record {
    schema
        .record_from_json(&json)
        .unwrap_or_else(|e| panic!("record {json}: {e}"))
}

/// Compiles a condition, which must compile.
pub fn compile(schema: &Schema, c: &Condition) -> CompiledCondition {
    c.compile(schema)
        .unwrap_or_else(|e| panic!("condition {c:?}: {e}"))
}

/// Compiles a condition written as JSON, which must load and compile.
pub fn compile_json(schema: &Schema, json: serde_json::Value) -> CompiledCondition {
    let c: Condition =
        serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("condition {json}: {e}"));
    compile(schema, &c)
}

/// Whether a condition holds for a customer at `now()`, with no event.
pub fn holds(c: &CompiledCondition, customer: &Record) -> bool {
    c.evaluate(&Facts::new(customer, now()))
}

/// The problems of a condition that must fail to compile.
pub fn condition_problems(schema: &Schema, json: serde_json::Value) -> Vec<String> {
    let c: Condition =
        serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("condition {json}: {e}"));
    match c.compile(schema) {
        Ok(_) => panic!("condition {json} compiled, but should not"),
        Err(e) => build_problems(&e),
    }
}

// The hashes `ActionKey` documents, written here independently of the crate.

/// 64-bit FNV-1a over parts, each followed by a zero byte (as `ActionKey` documents it).
pub fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The SplitMix64 finalizer.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The word hash of two strings `ActionKey` documents: lengths, then each string's
/// 8-byte little-endian words and its zero-padded rest, then `mix`.
pub fn word_pair(a: &[u8], b: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (((a.len() as u64) << 32) | b.len() as u64).wrapping_mul(K);
    for part in [a, b] {
        let mut padded = part.to_vec();
        padded.extend(std::iter::repeat_n(0, 8 - part.len() % 8));
        for word in padded.chunks(8) {
            let w = u64::from_le_bytes(word.try_into().unwrap());
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
    }
    mix(h)
}
