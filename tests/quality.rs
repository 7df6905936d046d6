//! Customer data quality, through the public API: normalization, row problems, batch
//! reports, invalid-data flags, the schema's `quality` section, duplicates, merge plans
//! and customer numbers; with properties (idempotent normalization, order-independent
//! grouping, totals that add up).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use crm_rules::quality::{
    Checker, Config, CustomerNumberError, CustomerNumbers, FieldPolicy, FlagKind, Flags, KeyIndex,
    MergeError, MergePolicy, Outcome, Report, Survivor,
};
use crm_rules::{Record, Schema, Value};
use proptest::prelude::*;
use serde_json::{json, Value as Json};

/// The schema of these tests: one field of every type an import meets.
const SCHEMA: &str = r#"{
  "fields": [
    {"name": "客户名称", "type": "text", "required": true, "max_length": 50},
    {"name": "联系人", "type": "text"},
    {"name": "手机号", "type": "phone", "sensitive": true},
    {"name": "邮箱", "type": "email", "sensitive": true},
    {"name": "客户状态", "type": "single_choice", "options": ["新客户", "意向客户", "成交客户", "流失客户"]},
    {"name": "客户等级", "type": "single_choice", "options": ["A级", "B级", "C级"]},
    {"name": "关注产品", "type": "multiple_choice", "options": ["CRM", "ERP", "BI"]},
    {"name": "标签", "type": "tags"},
    {"name": "预算", "type": "number", "min": 0},
    {"name": "跟进次数", "type": "integer"},
    {"name": "评分", "type": "rating"},
    {"name": "同意营销", "type": "bool"},
    {"name": "签约日期", "type": "date"},
    {"name": "下次跟进日", "type": "date", "not_before_today": true},
    {"name": "创建时间", "type": "date_time"},
    {"name": "更新时间", "type": "date_time"},
    {"name": "备注", "type": "long_text"},
    {"name": "负责人", "type": "member"}
  ],
  "quality": {
    "time_zone": "Asia/Shanghai",
    "match_keys": [["手机号"], ["邮箱"], ["客户名称", "联系人"]]
  }
}"#;

fn schema() -> Schema {
    Schema::from_json(SCHEMA).expect("the test schema is valid")
}

/// The schema with its `quality` section replaced.
fn schema_with_quality(quality: Json) -> Schema {
    let mut json: Json = serde_json::from_str(SCHEMA).expect("valid JSON");
    json["quality"] = quality;
    Schema::from_json(&json.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn checker() -> Checker {
    Checker::new(&schema())
}

/// Monday 2024-05-20 09:00 UTC.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).unwrap()
}

/// A value normalized for a field, as JSON.
fn norm(field: &str, value: Json) -> Json {
    checker()
        .normalize_value(field, &value)
        .unwrap_or_else(|e| panic!("{field} {value}: {e}"))
        .to_json()
}

/// The problems of a value that must not normalize.
fn norm_err(field: &str, value: Json) -> Vec<String> {
    match checker().normalize_value(field, &value) {
        Ok(v) => panic!("{field} {value} normalized to {v:?}"),
        Err(e) => e.errors().iter().map(ToString::to_string).collect(),
    }
}

/// The problems of a row that must fail.
fn row_problems(row: Json) -> Vec<String> {
    match checker().check_row(&row, now()) {
        Ok(r) => panic!("{row} passed as {r:?}"),
        Err(e) => e.errors().iter().map(ToString::to_string).collect(),
    }
}

/// A record from field names and JSON values, read without normalizing.
fn record(schema: &Schema, json: Json) -> Record {
    schema
        .record_from_json(&json)
        .unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn texts<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

// ---------------------------------------------------------------------------------------
// Normalization, one field type at a time, with exact outputs.

#[test]
fn texts_are_trimmed_collapsed_and_made_half_width() {
    assert_eq!(
        norm("客户名称", json!("  华为　 技术\t有限公司 ")),
        json!("华为 技术 有限公司")
    );
    assert_eq!(
        norm("客户名称", json!("ＡＢＣ科技１２３")),
        json!("ABC科技123")
    );
    assert_eq!(
        norm("客户名称", json!("星辰\u{200B}科技\u{FEFF}")),
        json!("星辰科技")
    );
    // Full-width punctuation is part of Chinese writing and stays.
    assert_eq!(
        norm("客户名称", json!("华为（深圳）")),
        json!("华为（深圳）")
    );
    assert_eq!(norm("客户名称", json!("   ")), Json::Null);
    assert_eq!(norm("客户名称", json!(12345)), json!("12345"));
    assert_eq!(norm("负责人", json!(" u_ｌｉ ")), json!("u_li"));
}

#[test]
fn long_texts_keep_their_lines() {
    assert_eq!(
        norm("备注", json!("\r\n 第一行  a \r\n\r\n第二行\n\n")),
        json!("第一行 a\n\n第二行")
    );
}

#[test]
fn phone_numbers_become_canonical() {
    for written in [
        json!("13812345678"),
        json!("+86 138-1234-5678"),
        json!("１３８ １２３４ ５６７８"),
        json!("＋８６－１３８－１２３４－５６７８"),
        json!("008613812345678"),
        json!("8613812345678"),
        json!("(+86) 138.1234.5678"),
        json!(13812345678u64),
    ] {
        assert_eq!(
            norm("手机号", written.clone()),
            json!("13812345678"),
            "{written}"
        );
    }
    // Another country code stays, and fails validation later.
    assert_eq!(
        norm("手机号", json!("+1 415 555 0100")),
        json!("+14155550100")
    );
}

#[test]
fn e_mail_addresses_are_lower_cased() {
    assert_eq!(
        norm("邮箱", json!(" Li.Wei@Example.COM ")),
        json!("li.wei@example.com")
    );
    assert_eq!(
        norm("邮箱", json!("ｌｉ＠ｑｑ．ｃｏｍ")),
        json!("li@qq.com")
    );
}

#[test]
fn choices_match_the_dictionary_exactly() {
    assert_eq!(norm("客户状态", json!(" 成交客户 ")), json!("成交客户"));
    assert_eq!(norm("客户等级", json!("Ａ级")), json!("A级"));
    assert_eq!(
        norm_err("客户状态", json!("成交客戶")),
        ["客户状态 (成交客戶): \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?"]
    );
    assert_eq!(
        norm_err("客户等级", json!("VIP客户")),
        ["客户等级 (VIP客户): \"VIP客户\" is not an option of 客户等级 (options: A级, B级, C级)"]
    );
}

#[test]
fn multiple_choices_and_tags_are_split_and_deduplicated() {
    assert_eq!(
        norm("关注产品", json!("CRM，ERP、CRM")),
        json!(["CRM", "ERP"])
    );
    assert_eq!(
        norm("关注产品", json!(["BI", " ＣＲＭ "])),
        json!(["BI", "CRM"])
    );
    assert_eq!(
        norm("标签", json!("VIP，展会、VIP; 官网|老客户推荐")),
        json!(["VIP", "展会", "官网", "老客户推荐"])
    );
    assert_eq!(norm("标签", json!([" VIP ", "", null])), json!(["VIP"]));
    assert_eq!(norm("标签", json!([])), Json::Null);
    assert_eq!(norm("标签", json!("")), Json::Null);
    assert_eq!(
        norm_err("关注产品", json!("CRM, OA, CMS")),
        [
            "关注产品 (CRM, OA, CMS): \"OA\" is not an option of 关注产品 (options: CRM, ERP, BI)",
            "关注产品 (CRM, OA, CMS): \"CMS\" is not an option of 关注产品 (options: CRM, ERP, BI)",
        ]
    );
}

#[test]
fn numbers_are_read_from_text() {
    assert_eq!(norm("预算", json!("500,000")), json!(500000));
    assert_eq!(norm("预算", json!("１２３")), json!(123));
    assert_eq!(norm("预算", json!(" 3.5 ")), json!(3.5));
    assert_eq!(norm("预算", json!(1250.75)), json!(1250.75));
    assert_eq!(norm("跟进次数", json!("3")), json!(3));
    assert_eq!(norm("跟进次数", json!(3.0)), json!(3));
    assert_eq!(
        norm_err("预算", json!("abc")),
        ["预算 (abc): is not a number"]
    );
    assert_eq!(
        norm_err("预算", json!("50,00")),
        ["预算 (50,00): is not a number"]
    );
    assert_eq!(
        norm_err("跟进次数", json!("3.5")),
        ["跟进次数 (3.5): is not an integer"]
    );
    assert_eq!(
        norm_err("跟进次数", json!(3.5)),
        ["跟进次数 (3.5): is not an integer"]
    );
}

#[test]
fn booleans_are_read_from_words() {
    for (written, expected) in [
        (json!("是"), true),
        (json!("否"), false),
        (json!("Yes"), true),
        (json!("n"), false),
        (json!(1), true),
        (json!("0"), false),
        (json!(false), false),
    ] {
        assert_eq!(
            norm("同意营销", written.clone()),
            json!(expected),
            "{written}"
        );
    }
    assert_eq!(
        norm_err("同意营销", json!("maybe")),
        ["同意营销 (maybe): is not true or false (accepted: true, false, yes, no, 是, 否, 1, 0)"]
    );
}

#[test]
fn dates_in_every_accepted_form_become_iso() {
    for written in [
        "2024-03-15",
        "2024/3/15",
        "2024.3.15",
        "2024年3月15日",
        "２０２４年３月１５日",
        " 2024-3-15 ",
    ] {
        assert_eq!(
            norm("签约日期", json!(written)),
            json!("2024-03-15"),
            "{written}"
        );
    }
    for bad in ["2024-02-30", "15/03/2024", "2024-3/15", "下周一"] {
        assert_eq!(
            norm_err("签约日期", json!(bad)),
            [format!(
                "签约日期 ({bad}): is not a date (accepted: 2024-03-15, 2024/3/15, 2024年3月15日)"
            )]
        );
    }
}

#[test]
fn date_times_are_read_in_the_schema_time_zone() {
    for written in [
        "2024-03-15 10:30",
        "2024/3/15 10:30:00",
        "2024年3月15日 10:30",
        "2024-03-15T10:30",
        "2024-03-15T10:30:00+08:00",
        "2024-03-15T02:30:00Z",
        "2024-03-15T02:30:00.000Z",
    ] {
        assert_eq!(
            norm("创建时间", json!(written)),
            json!("2024-03-15T02:30:00Z"),
            "{written}"
        );
    }
    assert_eq!(
        norm("创建时间", json!("2024-03-15")),
        json!("2024-03-14T16:00:00Z")
    );
    assert_eq!(
        norm_err("创建时间", json!("2024-03-15 25:00")),
        ["创建时间 (2024-03-15 25:00): is not a date-time (accepted: 2024-03-15 10:30, 2024/3/15 10:30:00, 2024年3月15日 10:30, 2024-03-15T10:30:00+08:00)"]
    );
    // Without a time zone in the schema, UTC.
    let utc = Checker::new(&schema_with_quality(json!({})));
    assert_eq!(
        utc.normalize_value("创建时间", &json!("2024-03-15 10:30"))
            .unwrap()
            .to_json(),
        json!("2024-03-15T10:30:00Z")
    );
    // A local time a clock change skips.
    let new_york = Checker::new(&schema_with_quality(
        json!({"time_zone": "America/New_York"}),
    ));
    assert_eq!(
        new_york
            .normalize_value("创建时间", &json!("2024-03-10 02:30"))
            .unwrap_err()
            .errors()[0]
            .to_string(),
        "创建时间 (2024-03-10 02:30): does not exist in America/New_York (the clocks skip it)"
    );
}

#[test]
fn values_of_the_wrong_kind_are_named_unless_sensitive() {
    assert_eq!(
        norm_err("客户名称", json!({"a": 1})),
        ["客户名称: expected a text, found an object"]
    );
    assert_eq!(
        norm_err("签约日期", json!(45366)),
        ["签约日期: expected a date (YYYY-MM-DD), found 45366"]
    );
    assert_eq!(
        norm_err("手机号", json!(true)),
        ["手机号: expected a text, found a boolean"]
    );
    assert_eq!(
        norm_err("标签", json!([1, {"x": 2}])),
        ["标签: expected a list of texts, found an object at [1]"]
    );
    assert_eq!(norm_err("不存在", json!("x")), ["不存在: unknown field"]);
}

// ---------------------------------------------------------------------------------------
// Row problems: every class, with exact messages, in schema order.

#[test]
fn a_row_reports_every_problem_in_schema_order() {
    let problems = row_problems(json!({
        "手机号": "138 1234 567",
        "邮箱": "li@qq",
        "客户状态": "成交客戶",
        "客户等级": "VIP客户",
        "预算": "-5",
        "跟进次数": "3.5",
        "评分": 7,
        "同意营销": "maybe",
        "签约日期": "2024/2/30",
        "下次跟进日": "2024年5月19日",
        "创建时间": "2024-03-15 25:00",
        "来源": "展会",
        "客户名称": "   "
    }));
    assert_eq!(
        problems,
        [
            "客户名称: is required",
            "手机号 (138***4567): must be 11 digits",
            "邮箱 (l***@qq): is not a valid e-mail address",
            "客户状态 (成交客戶): \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?",
            "客户等级 (VIP客户): \"VIP客户\" is not an option of 客户等级 (options: A级, B级, C级)",
            "预算 (-5): must be at least 0",
            "跟进次数 (3.5): is not an integer",
            "评分 (7): must be a rating from 1 to 5",
            "同意营销 (maybe): is not true or false (accepted: true, false, yes, no, 是, 否, 1, 0)",
            "签约日期 (2024/2/30): is not a date (accepted: 2024-03-15, 2024/3/15, 2024年3月15日)",
            "下次跟进日 (2024-05-19): must not be before today (2024-05-20)",
            "创建时间 (2024-03-15 25:00): is not a date-time (accepted: 2024-03-15 10:30, 2024/3/15 10:30:00, 2024年3月15日 10:30, 2024-03-15T10:30:00+08:00)",
            "来源: unknown field",
        ]
    );
}

#[test]
fn lengths_and_foreign_numbers_are_checked_after_normalizing() {
    assert_eq!(
        row_problems(json!({"客户名称": "星".repeat(51), "手机号": "+1 415 555 0100"})),
        [
            "客户名称 (星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星星): must have at most 50 characters",
            "手机号 (+14*****0100): must be 11 digits",
        ]
    );
}

#[test]
fn a_valid_row_becomes_a_normalized_record() {
    let schema = schema();
    let record = Checker::new(&schema)
        .check_row(
            &json!({
                "客户名称": " 星辰科技 ",
                "手机号": "+86 139-5286-7341",
                "邮箱": "WF@163.com",
                "客户状态": "意向客户",
                "关注产品": "CRM、BI",
                "预算": "500,000",
                "签约日期": "2024年3月15日",
                "创建时间": "2024/3/15 10:30",
                "同意营销": "是",
                "下次跟进日": null
            }),
            now(),
        )
        .unwrap();
    assert_eq!(
        schema.record_to_json(&record),
        json!({
            "客户名称": "星辰科技",
            "手机号": "13952867341",
            "邮箱": "wf@163.com",
            "客户状态": "意向客户",
            "关注产品": ["CRM", "BI"],
            "预算": 500000,
            "同意营销": true,
            "签约日期": "2024-03-15",
            "创建时间": "2024-03-15T02:30:00Z"
        })
    );
}

// ---------------------------------------------------------------------------------------
// Batch reports.

#[test]
fn a_batch_reports_each_row_and_the_totals() {
    let rows = [
        json!({"客户名称": "星辰科技", "手机号": "１３９５２８６７３４１", "客户状态": "新客户"}),
        json!({"客户名称": "", "手机号": "1381234567", "客户状态": "成交客戶"}),
        json!(["not", "a", "row"]),
        json!({"客户名称": "测试", "手机号": "13800000000", "来源": "展会"}),
        json!({"客户名称": "蓝海贸易", "邮箱": "li@example.com"}),
    ];
    let report = checker().report(&rows, now());
    let t = report.totals();
    assert_eq!((t.rows, t.succeeded, t.failed, t.flagged), (5, 2, 3, 2));
    assert_eq!(
        report.to_string(),
        "5 rows: 2 succeeded, 3 failed; 2 flagged
problems per field:
  客户名称: 1
  手机号: 1
  客户状态: 1
  (row): 1
  来源: 1
flags per field:
  客户名称: 1
  手机号: 1
  邮箱: 1"
    );
    let numbered: Vec<String> = report
        .problems()
        .map(|(row, p)| format!("row {row}: {p}"))
        .collect();
    assert_eq!(
        numbered,
        [
            "row 2: 客户名称: is required",
            "row 2: 手机号 (138***4567): must be 11 digits",
            "row 2: 客户状态 (成交客戶): \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?",
            "row 3: expected an object of field values, found a list",
            "row 4: 来源: unknown field",
        ]
    );
    // The failed row 4 still has its well-formed values flagged.
    let flags: Vec<String> = report
        .flags()
        .map(|(row, f)| format!("row {row}: {f}"))
        .collect();
    assert_eq!(
        flags,
        [
            "row 4: 客户名称 (测试): looks like test data",
            "row 4: 手机号 (138****0000): is a placeholder phone number",
            "row 5: 邮箱 (l***@example.com): uses the test domain example.com",
        ]
    );
    assert!(matches!(report.rows()[0].outcome, Outcome::Succeeded(_)));
    assert_eq!(report.records().count(), 2);
}

#[test]
fn the_report_serializes_with_sensitive_values_masked() {
    let rows = [
        json!({"客户名称": "星辰科技", "手机号": "13952867341", "标签": "VIP"}),
        json!({"客户名称": "蓝海", "手机号": "139"}),
    ];
    let report = checker().report(&rows, now());
    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        json!({
            "totals": {
                "rows": 2, "succeeded": 1, "failed": 1, "flagged": 0,
                "problems_per_field": {"手机号": 1},
                "flags_per_field": {}
            },
            "rows": [
                {"row": 1, "status": "succeeded",
                 "record": {"客户名称": "星辰科技", "手机号": "139****7341", "标签": ["VIP"]},
                 "flags": []},
                {"row": 2, "status": "failed",
                 "problems": [{"field": "手机号", "value": "***", "message": "must be 11 digits"}],
                 "flags": []}
            ]
        })
    );
    // The records themselves hold the real values.
    let schema = schema();
    let phone = schema.field_id("手机号").unwrap();
    assert_eq!(
        report.records().next().unwrap().get(phone),
        &Value::from("13952867341")
    );
}

#[test]
fn an_empty_batch_has_empty_totals() {
    let report = checker().report(&[], now());
    assert_eq!(
        report.to_string(),
        "0 rows: 0 succeeded, 0 failed; 0 flagged"
    );
}

/// Whether two reports are the same: rows, totals, text and JSON.
fn assert_same_report(reused: &Report, fresh: &Report) {
    assert_eq!(reused.rows(), fresh.rows());
    assert_eq!(reused.totals(), fresh.totals());
    assert_eq!(reused.to_string(), fresh.to_string());
    assert_eq!(
        serde_json::to_value(reused).unwrap(),
        serde_json::to_value(fresh).unwrap()
    );
}

#[test]
fn a_reused_report_is_the_report_of_its_last_batch() {
    let checker = checker();
    let first = [
        json!({"客户名称": "星辰科技", "联系人": "王芳", "手机号": "13952867341", "标签": ["VIP", "展会", "官网"], "关注产品": "CRM，BI", "备注": "第一行\n第二行"}),
        json!({"客户名称": "蓝海", "手机号": "139"}),
        json!({"客户名称": "测试", "手机号": "13800000000", "预算": 500}),
        json!({"客户名称": "远山", "邮箱": "a@qq.com", "客户状态": "意向客户", "签约日期": "2024/3/5"}),
    ];
    // Fields given before are missing now, texts become lists and numbers, rows that
    // succeeded fail and the other way round, and there are more rows than before.
    let second = [
        json!({"客户名称": "蓝海", "手机号": "139"}),
        json!({"客户名称": "  远山  贸易 ", "标签": "展会"}),
        json!({"客户名称": "星辰", "关注产品": ["ERP", "ＥＲＰ"], "联系人": null, "预算": "1,000"}),
        json!(["not", "a", "row"]),
        json!({"客户名称": "新月", "联系人": "李雷", "手机号": "+86 137-6123-4590", "来源": "展会"}),
        json!({"客户名称": "晨光", "客户状态": "成交客户", "备注": " 备注 "}),
    ];
    let mut report = Report::new(&checker);
    for batch in [&first[..], &second[..], &first[..2], &[]] {
        checker.report_into(&mut report, batch, now());
        assert_same_report(&report, &checker.report(batch, now()));
    }
    assert_eq!(
        report.to_string(),
        "0 rows: 0 succeeded, 0 failed; 0 flagged"
    );

    // A report of another schema's checker becomes this checker's report.
    let other = Checker::new(
        &Schema::from_json(r#"{"fields": [{"name": "公司", "type": "text"}]}"#).unwrap(),
    );
    let mut report = other.report(&[json!({"公司": "星辰"})], now());
    checker.report_into(&mut report, &second, now());
    assert_same_report(&report, &checker.report(&second, now()));
    let names: Vec<&str> = report.rows()[1]
        .record()
        .map(|r| r.values().iter().filter_map(Value::as_text).collect())
        .unwrap_or_default();
    assert_eq!(names, ["远山 贸易"]);
}

// ---------------------------------------------------------------------------------------
// Invalid-data flags.

fn flags_of(checker: &Checker, json: Json) -> Vec<String> {
    let record = record(checker.schema(), json);
    texts(&checker.flags(&record))
}

#[test]
fn implausible_values_are_flagged_with_the_default_lists() {
    let c = checker();
    assert_eq!(
        flags_of(
            &c,
            json!({"客户名称": "测试", "联系人": "Test01", "手机号": "13800000000", "邮箱": "wang@mail.example.com"})
        ),
        [
            "客户名称 (测试): looks like test data",
            "联系人 (Test01): looks like test data",
            "手机号 (138****0000): is a placeholder phone number",
            "邮箱 (w***@mail.example.com): uses the test domain example.com",
        ]
    );
    for (phone, message) in [
        ("13888888888", Some("has 9 identical digits in a row")),
        ("11111111111", Some("has 11 identical digits in a row")),
        ("12345678901", Some("is a placeholder phone number")),
        ("13456789012", Some("has 10 sequential digits in a row")),
        ("19876543210", Some("has 10 sequential digits in a row")),
        ("13800138000", Some("is a placeholder phone number")),
        ("13952867341", None),
        ("13900000012", None),
    ] {
        let flags = c.flags(&record(c.schema(), json!({ "手机号": phone })));
        assert_eq!(
            flags.first().map(|f| f.message.as_str()),
            message,
            "{phone}"
        );
    }
    let kinds: Vec<FlagKind> = c
        .flags(&record(
            c.schema(),
            json!({"手机号": "13888888888", "邮箱": "a@test.com"}),
        ))
        .iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(kinds, [FlagKind::RepeatedDigits, FlagKind::TestEmailDomain]);
    // Names are compared whole; long texts and members are not names by default.
    assert!(flags_of(
        &c,
        json!({"客户名称": "测试仪器有限公司", "备注": "test", "负责人": "test", "邮箱": "li@mytest.com"})
    )
    .is_empty());
}

#[test]
fn the_flag_lists_are_configured_in_the_schema() {
    let c = Checker::new(&schema_with_quality(json!({"flags": {
        "phones": ["13911112222"],
        "phone_repeated_digits": null,
        "phone_sequential_digits": 6,
        "email_domains": ["mailinator.com"],
        "names": ["无名氏"],
        "name_fields": ["联系人", "负责人"]
    }})));
    assert_eq!(
        flags_of(
            &c,
            json!({"客户名称": "无名氏", "联系人": "无名氏2", "负责人": "无名氏", "手机号": "13911112222", "邮箱": "x@mailinator.com"})
        ),
        [
            "联系人 (无名氏2): looks like test data",
            "手机号 (139****2222): is a placeholder phone number",
            "邮箱 (x***@mailinator.com): uses the test domain mailinator.com",
            "负责人 (无名氏): looks like test data",
        ]
    );
    assert!(flags_of(
        &c,
        json!({"手机号": "13888888888", "邮箱": "a@example.com", "联系人": "测试"})
    )
    .is_empty());
    assert_eq!(
        flags_of(&c, json!({"手机号": "13123456000"})),
        ["手机号 (131****6000): has 6 sequential digits in a row"]
    );
    // No flags at all.
    let none = Checker::new(
        &schema()
            .with_quality(Config::default().flags(Flags::none()))
            .unwrap(),
    );
    assert!(flags_of(&none, json!({"客户名称": "测试", "手机号": "13800000000"})).is_empty());
}

// ---------------------------------------------------------------------------------------
// The `quality` section of the schema.

#[test]
fn the_quality_section_round_trips_and_defaults_are_left_out() {
    let plain = Schema::from_json(r#"{"fields": [{"name": "手机号", "type": "phone"}]}"#).unwrap();
    assert_eq!(plain.quality(), &Config::default());
    assert!(!plain.to_json().contains("quality"));

    let full = schema_with_quality(json!({
        "time_zone": "Asia/Shanghai",
        "flags": {"email_domains": ["test.com"], "phone_repeated_digits": null},
        "match_keys": [["手机号"], ["客户名称", "联系人"]],
        "merge": {"survivor": "most_complete", "recency_field": "更新时间", "default": "primary",
                  "fields": {"客户状态": "most_recent", "标签": "primary"}}
    }));
    let again = Schema::from_json(&full.to_json()).unwrap();
    assert_eq!(again, full);
    assert_eq!(again.quality().flags.phone_repeated_digits, None);
    assert_eq!(again.quality().flags.phones, Flags::default().phones);
    assert_eq!(again.quality().merge.survivor, Survivor::MostComplete);
}

#[test]
fn every_problem_of_the_quality_section_is_reported_with_its_path() {
    let mut json: Json = serde_json::from_str(SCHEMA).unwrap();
    json["quality"] = json!({
        "time_zone": "Asia/Beijing",
        "flags": {
            "phones": ["138-0000-0000"],
            "phone_repeated_digits": 2,
            "email_domains": ["@test.com"],
            "names": ["  "],
            "name_fields": ["职位", "手机号"]
        },
        "match_keys": [[], ["职位"], ["标签"], ["客户名称", "客户名称"], ["手机号"], ["手机号"]],
        "merge": {"recency_field": "客户名称", "default": "union",
                  "fields": {"职位": "primary", "客户名称": "union"}}
    });
    let err = Schema::from_json(&json.to_string()).unwrap_err();
    assert_eq!(
        texts(err.problems()),
        [
            "quality.time_zone: unknown time zone \"Asia/Beijing\"",
            "quality.flags.phones[0]: a placeholder phone number holds digits only, found \"138-0000-0000\"",
            "quality.flags.phone_repeated_digits: 2 is not between 3 and 20",
            "quality.flags.email_domains[0]: \"@test.com\" is not a domain (write it as test.com)",
            "quality.flags.names[0]: the name is empty",
            "quality.flags.name_fields[0]: unknown field 职位",
            "quality.flags.name_fields[1]: 手机号 is a phone field; test names apply to text, long_text and member fields",
            "quality.match_keys[0]: a match key needs at least one field",
            "quality.match_keys[1][0]: unknown field 职位",
            "quality.match_keys[2][0]: 标签 is a tags field; match keys take texts, choices, phones, e-mails, members, numbers and dates",
            "quality.match_keys[3][1]: 客户名称 is given twice in the key",
            "quality.match_keys[5]: duplicate match key",
            "quality.merge.recency_field: 客户名称 is a text field, not a date or date_time",
            "quality.merge.default: union applies only to tags and multiple_choice fields, which take it by default",
            "quality.merge.fields.职位: unknown field 职位",
            "quality.merge.fields.客户名称: union applies only to tags and multiple_choice fields, not to text",
        ]
    );
}

#[test]
fn unknown_keys_and_repeated_keys_in_the_quality_section_are_load_errors() {
    let err = Schema::from_json(
        r#"{"fields": [{"name": "手机号", "type": "phone"}],
            "quality": {"match_key": [["手机号"]]}}"#,
    )
    .unwrap_err();
    assert_eq!(
        texts(err.problems()),
        ["line 2, column 35: quality.match_key: unknown field `match_key`, expected one of `time_zone`, `flags`, `match_keys`, `merge`"]
    );
    let err = Schema::from_json(
        r#"{"fields": [{"name": "状态", "type": "text"}],
            "quality": {"merge": {"fields": {"状态": "primary", "状态": "most_recent"}}}}"#,
    )
    .unwrap_err();
    assert_eq!(
        texts(err.problems()),
        ["line 2, column 82: quality.merge.fields: the key \"状态\" is given twice"]
    );
}

#[test]
fn the_quality_section_can_be_built_in_rust() {
    let schema = schema()
        .with_quality(
            Config::default()
                .time_zone("Asia/Shanghai")
                .match_keys([vec!["邮箱"]])
                .merge(
                    MergePolicy::default()
                        .survivor(Survivor::MostRecent)
                        .field("客户状态", FieldPolicy::Primary),
                ),
        )
        .unwrap();
    assert_eq!(
        schema.quality().match_keys,
        Some(vec![vec!["邮箱".to_owned()]])
    );
    let err = schema
        .with_quality(Config::default().match_keys([vec!["职位"]]))
        .unwrap_err();
    assert_eq!(
        texts(err.problems()),
        ["quality.match_keys[0][0]: unknown field 职位"]
    );
}

// ---------------------------------------------------------------------------------------
// Duplicates.

/// Records read without normalizing, as a host's database may hold them.
fn customers(schema: &Schema) -> Vec<Record> {
    [
        json!({"客户名称": "星辰科技", "联系人": "王芳", "手机号": "13952867341"}),
        json!({"客户名称": "星辰科技有限公司", "联系人": "王芳", "手机号": "+86 139-5286-7341", "邮箱": "wf@163.com"}),
        json!({"客户名称": "蓝海贸易", "联系人": "李雷", "手机号": "13761234590"}),
        json!({"客户名称": "王芳工作室", "联系人": "王芳", "邮箱": "WF@163.COM"}),
        json!({"客户名称": "赵氏五金", "手机号": "13800000000"}),
        json!({"客户名称": "钱氏五金", "手机号": "13800000000"}),
        json!({"客户名称": "华为 技术（深圳）", "联系人": "张伟"}),
        json!({"客户名称": "华为技术(深圳)", "联系人": " 张伟"}),
        json!({"客户名称": "华为技术(深圳)"}),
    ]
    .into_iter()
    .map(|j| record(schema, j))
    .collect()
}

#[test]
fn duplicates_group_transitively_by_every_match_key() {
    let schema = schema();
    let records = customers(&schema);
    let groups = Checker::new(&schema).find_duplicates(&records);
    assert_eq!(
        texts(&groups),
        [
            // 0~1 by phone and 1~3 by e-mail: one group.
            "records 0, 1, 3: 手机号 139****7341 (0, 1); 邮箱 w***@163.com (1, 3)",
            // Company + contact, white space and full-width brackets aside. The placeholder
            // phone 13800000000 of records 4 and 5 makes no duplicate; record 8 has no contact.
            "records 6, 7: 客户名称+联系人 华为 技术（深圳） + 张伟 (6, 7)",
        ]
    );
    assert_eq!(
        serde_json::to_value(&groups[1]).unwrap(),
        json!({"records": [6, 7], "matches": [
            {"key": "客户名称+联系人", "value": "华为 技术（深圳） + 张伟", "records": [6, 7]}
        ]})
    );
}

#[test]
fn default_match_keys_are_the_phone_and_e_mail_fields() {
    let schema = schema_with_quality(json!({}));
    let records = customers(&schema);
    let groups = Checker::new(&schema).find_duplicates(&records);
    assert_eq!(
        texts(&groups),
        ["records 0, 1, 3: 手机号 139****7341 (0, 1); 邮箱 w***@163.com (1, 3)"]
    );
    let off = schema_with_quality(json!({"match_keys": []}));
    assert!(Checker::new(&off).find_duplicates(&records).is_empty());
}

#[test]
fn no_records_no_groups() {
    assert!(checker().find_duplicates(&[]).is_empty());
}

#[test]
fn an_incoming_record_is_checked_against_an_index_of_keys() {
    let schema = schema();
    let checker = Checker::new(&schema);
    let existing = customers(&schema);
    let mut index = KeyIndex::new(&checker);
    for (i, r) in existing.iter().enumerate() {
        index.insert(format!("C{i:03}"), r);
    }
    // 2 phone numbers (not the placeholder), 1 e-mail address, 5 company + contact pairs.
    assert_eq!(index.len(), 8);
    let form = checker
        .check_row(
            &json!({"客户名称": "华为技术（深圳）", "联系人": "张伟", "邮箱": "wf@163.com"}),
            now(),
        )
        .unwrap();
    let found: Vec<(String, Vec<String>)> = index
        .matches(&form)
        .into_iter()
        .map(|m| (m.id, m.keys))
        .collect();
    assert_eq!(
        found,
        [
            ("C001".to_owned(), vec!["邮箱".to_owned()]),
            ("C003".to_owned(), vec!["邮箱".to_owned()]),
            ("C006".to_owned(), vec!["客户名称+联系人".to_owned()]),
            ("C007".to_owned(), vec!["客户名称+联系人".to_owned()]),
        ]
    );
    index.remove(&"C001".to_owned(), &existing[1]);
    index.remove(&"C003".to_owned(), &existing[3]);
    assert_eq!(index.matches(&form).len(), 2);
    let keys = checker.match_keys(&existing[1]);
    assert_eq!(
        keys.iter()
            .map(|k| (k.key.as_str(), k.value.as_str()))
            .collect::<Vec<_>>(),
        [
            ("手机号", "13952867341"),
            ("邮箱", "wf@163.com"),
            ("客户名称+联系人", "星辰科技有限公司\u{1f}王芳"),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Merge plans under each policy.

fn merge_group(schema: &Schema) -> Vec<Record> {
    [
        json!({"客户名称": "星辰科技", "客户状态": "新客户", "标签": ["VIP", "展会"], "更新时间": "2024-05-01T00:00:00Z"}),
        json!({"客户名称": "星辰科技有限公司", "手机号": "13952867341", "标签": ["官网"], "更新时间": "2024-05-10T00:00:00Z"}),
        json!({"客户名称": "星辰科技", "客户状态": "意向客户", "关注产品": ["CRM"], "更新时间": "2024-04-01T00:00:00Z"}),
    ]
    .into_iter()
    .map(|j| record(schema, j))
    .collect()
}

#[test]
fn by_default_the_first_record_survives_and_the_latest_value_wins() {
    let schema = schema();
    let group = merge_group(&schema);
    let refs: Vec<&Record> = group.iter().collect();
    let plan = Checker::new(&schema).merge_plan(&refs).unwrap();
    assert_eq!(
        plan.to_string(),
        "merge records 1, 2 into record 0; 4 conflicts resolved
  客户名称 (most recent): kept 星辰科技 from record 2; discarded 星辰科技有限公司 (record 1)
  手机号 (most recent): kept 139****7341 from record 1
  客户状态 (most recent): kept 意向客户 from record 2; discarded 新客户 (record 0)
  关注产品 (union): kept CRM from record 2
  标签 (union): kept VIP, 展会, 官网 from records 0, 1
  更新时间 (most recent): kept 2024-04-01T00:00:00Z from record 2; discarded 2024-05-01T00:00:00Z (record 0), 2024-05-10T00:00:00Z (record 1)"
    );
    assert_eq!(
        plan.conflicts()
            .map(|d| d.field.as_str())
            .collect::<Vec<_>>(),
        ["客户名称", "客户状态", "标签", "更新时间"]
    );
    assert_eq!(
        schema.record_to_json(&plan.record),
        json!({
            "客户名称": "星辰科技", "手机号": "13952867341", "客户状态": "意向客户",
            "关注产品": ["CRM"], "标签": ["VIP", "展会", "官网"], "更新时间": "2024-04-01T00:00:00Z"
        })
    );
}

#[test]
fn a_recency_field_orders_the_records() {
    let schema = schema_with_quality(
        json!({"merge": {"recency_field": "更新时间", "survivor": "most_recent"}}),
    );
    let group = merge_group(&schema);
    let refs: Vec<&Record> = group.iter().collect();
    let plan = Checker::new(&schema).merge_plan(&refs).unwrap();
    // By 更新时间: record 2 (April) < record 0 (1 May) < record 1 (10 May).
    assert_eq!(plan.survivor, 1);
    assert_eq!(plan.absorbed, [0, 2]);
    assert_eq!(
        schema.record_to_json(&plan.record),
        json!({
            "客户名称": "星辰科技有限公司", "手机号": "13952867341", "客户状态": "新客户",
            "关注产品": ["CRM"], "标签": ["官网", "VIP", "展会"], "更新时间": "2024-05-10T00:00:00Z"
        })
    );
}

#[test]
fn the_oldest_record_survives_by_the_recency_field_or_by_group_order() {
    let schema =
        schema_with_quality(json!({"merge": {"recency_field": "更新时间", "survivor": "oldest"}}));
    let group = merge_group(&schema);
    let refs: Vec<&Record> = group.iter().collect();
    let plan = Checker::new(&schema).merge_plan(&refs).unwrap();
    // By 更新时间 record 2 (April) is the oldest.
    assert_eq!((plan.survivor, plan.absorbed.clone()), (2, vec![0, 1]));
    // Without a recency field, order in the group is recency: the first is the oldest.
    let schema = schema_with_quality(json!({"merge": {"survivor": "oldest"}}));
    let group = merge_group(&schema);
    let refs: Vec<&Record> = group.iter().collect();
    let plan = Checker::new(&schema).merge_plan(&refs).unwrap();
    assert_eq!((plan.survivor, plan.absorbed.clone()), (0, vec![1, 2]));
}

#[test]
fn primary_keeps_the_survivor_s_value_and_fills_what_it_lacks() {
    let schema = schema_with_quality(
        json!({"merge": {"default": "primary", "fields": {"标签": "primary"}}}),
    );
    let group = merge_group(&schema);
    let refs: Vec<&Record> = group.iter().collect();
    let plan = Checker::new(&schema).merge_plan(&refs).unwrap();
    assert_eq!(
        plan.to_string(),
        "merge records 1, 2 into record 0; 4 conflicts resolved
  客户名称 (primary): kept 星辰科技 from record 0; discarded 星辰科技有限公司 (record 1)
  手机号 (primary): kept 139****7341 from record 1
  客户状态 (primary): kept 新客户 from record 0; discarded 意向客户 (record 2)
  关注产品 (union): kept CRM from record 2
  标签 (primary): kept VIP, 展会 from record 0; discarded 官网 (record 1)
  更新时间 (primary): kept 2024-05-01T00:00:00Z from record 0; discarded 2024-05-10T00:00:00Z (record 1), 2024-04-01T00:00:00Z (record 2)"
    );
    assert_eq!(
        serde_json::to_value(&plan.fields[1]).unwrap(),
        json!({"field": "手机号", "policy": "primary", "value": "139****7341", "from": [1],
               "changed": true, "conflict": false, "discarded": []})
    );
}

#[test]
fn the_survivor_can_be_the_most_complete_record_or_chosen() {
    let schema = schema_with_quality(json!({"merge": {"survivor": "most_complete"}}));
    let checker = Checker::new(&schema);
    let mut group = merge_group(&schema);
    let refs: Vec<&Record> = group.iter().collect();
    // Records 0 and 1 have four fields each: the earlier wins.
    assert_eq!(checker.merge_plan(&refs).unwrap().survivor, 0);
    group[1].set(schema.field_id("邮箱").unwrap(), Value::from("wf@163.com"));
    let refs: Vec<&Record> = group.iter().collect();
    assert_eq!(checker.merge_plan(&refs).unwrap().survivor, 1);

    let chosen = checker.merge_plan_into(&refs, 2).unwrap();
    assert_eq!((chosen.survivor, chosen.absorbed.clone()), (2, vec![0, 1]));
    assert_eq!(
        checker.merge_plan_into(&refs, 3).unwrap_err().to_string(),
        "survivor 3 is not in the group of 3 records"
    );
    assert_eq!(checker.merge_plan(&[]).unwrap_err(), MergeError::EmptyGroup);
    assert_eq!(
        MergeError::EmptyGroup.to_string(),
        "cannot merge an empty group"
    );
    let one = checker.merge_plan(&refs[..1]).unwrap();
    assert_eq!(
        one.to_string(),
        "nothing to merge into record 0; 0 conflicts resolved"
    );
}

#[test]
fn duplicate_groups_feed_merge_plans() {
    let schema = schema();
    let checker = Checker::new(&schema);
    // Normalized first, as an import stores them: spellings of one value agree.
    let records: Vec<Record> = customers(&schema)
        .iter()
        .map(|r| checker.check_row(&schema.record_to_json(r), now()).unwrap())
        .collect();
    let groups = checker.find_duplicates(&records);
    let plan = checker.merge_plan(&groups[0].pick(&records)).unwrap();
    assert_eq!(
        plan.to_string(),
        "merge records 1, 2 into record 0; 1 conflict resolved
  客户名称 (most recent): kept 王芳工作室 from record 2; discarded 星辰科技 (record 0), 星辰科技有限公司 (record 1)
  邮箱 (most recent): kept w***@163.com from record 2"
    );
}

// ---------------------------------------------------------------------------------------
// Customer numbers.

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn customer_numbers_follow_the_last_sequence() {
    let numbers = CustomerNumbers::default();
    let today = day(2024, 5, 20);
    let mut last = 0;
    let mut issued = Vec::new();
    for _ in 0..3 {
        let next = numbers.next(today, last).unwrap();
        last = next.sequence;
        issued.push(next.to_string());
    }
    assert_eq!(
        issued,
        ["CUST20240520001", "CUST20240520002", "CUST20240520003"]
    );
    assert_eq!(
        numbers.next_after(today, None).unwrap().number,
        "CUST20240520001"
    );
    assert_eq!(
        numbers
            .next_after(today, Some("CUST20240520099"))
            .unwrap()
            .number,
        "CUST20240520100"
    );
    assert_eq!(
        numbers
            .next_after(day(2024, 5, 21), Some("CUST20240520099"))
            .unwrap()
            .number,
        "CUST20240521001"
    );
    assert_eq!(numbers.format(today, 998).unwrap(), "CUST20240520998");
    assert_eq!(numbers.parse("CUST20240520042"), Some(("CUST20240520", 42)));
    assert_eq!(numbers.parse("CUST2024052004"), None);
    assert_eq!(numbers.parse("KH20240520042"), None);
}

#[test]
fn a_sequence_that_overflows_its_width_is_an_error() {
    let numbers = CustomerNumbers::default();
    let today = day(2024, 5, 20);
    assert_eq!(numbers.next(today, 998).unwrap().number, "CUST20240520999");
    let err = numbers.next(today, 999).unwrap_err();
    assert_eq!(
        err,
        CustomerNumberError::Overflow {
            stem: "CUST20240520".into(),
            sequence: 1000,
            width: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "customer number sequence 1000 for CUST20240520 does not fit in 3 digits"
    );
    assert_eq!(
        numbers
            .next_after(today, Some("CUST20240520999"))
            .unwrap_err()
            .to_string(),
        "customer number sequence 1000 for CUST20240520 does not fit in 3 digits"
    );
    assert_eq!(
        numbers.format(today, 0).unwrap_err(),
        CustomerNumberError::ZeroSequence
    );
    assert_eq!(
        numbers
            .next_after(today, Some("C-1"))
            .unwrap_err()
            .to_string(),
        "\"C-1\" is not a customer number of the form CUST + %Y%m%d + 3 digits"
    );
}

#[test]
fn customer_number_settings_are_checked() {
    let monthly = CustomerNumbers::new("KH-", "%y%m_", 5).unwrap();
    assert_eq!(
        monthly.next(day(2024, 5, 20), 41).unwrap().number,
        "KH-2405_00042"
    );
    assert_eq!(
        monthly
            .next_after(day(2024, 5, 31), Some("KH-2405_00042"))
            .unwrap()
            .number,
        "KH-2405_00043"
    );
    assert_eq!(
        monthly
            .next_after(day(2024, 6, 1), Some("KH-2405_00042"))
            .unwrap()
            .number,
        "KH-2406_00001"
    );
    let plain = CustomerNumbers::new("", "", 6).unwrap();
    assert_eq!(plain.next(day(2024, 5, 20), 41).unwrap().number, "000042");

    for (args, message) in [
        (
            ("客户", "%Y", 3),
            "customer number prefix \"客户\" must be at most 16 ASCII letters, digits, - or _",
        ),
        (
            ("C", "%Y年", 3),
            "customer number date format \"%Y年\" may hold only %Y, %y, %m, %d, - and _",
        ),
        (
            ("C", "%H", 3),
            "customer number date format \"%H\" may hold only %Y, %y, %m, %d, - and _",
        ),
        (
            ("C", "%Y", 0),
            "customer number width 0 is not between 1 and 18",
        ),
        (
            ("C", "%Y", 19),
            "customer number width 19 is not between 1 and 18",
        ),
    ] {
        let (prefix, format, width) = args;
        assert_eq!(
            CustomerNumbers::new(prefix, format, width)
                .unwrap_err()
                .to_string(),
            message
        );
    }
    let read: CustomerNumbers =
        serde_json::from_str(r#"{"prefix": "VIP", "date_format": "%Y%m", "width": 4}"#).unwrap();
    assert_eq!(
        read.next(day(2024, 5, 20), 0).unwrap().number,
        "VIP2024050001"
    );
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        json!({"prefix": "VIP", "date_format": "%Y%m", "width": 4})
    );
    let defaulted: CustomerNumbers = serde_json::from_str("{}").unwrap();
    assert_eq!(defaulted, CustomerNumbers::default());
    let bad = serde_json::from_str::<CustomerNumbers>(r#"{"width": 40}"#).unwrap_err();
    assert_eq!(
        bad.to_string(),
        "customer number width 40 is not between 1 and 18"
    );
}

// ---------------------------------------------------------------------------------------
// The example import file.

#[test]
fn the_example_import_file_gives_the_documented_report() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let schema = Schema::from_json(&read("import_schema.json")).unwrap();
    let rows: Vec<Json> = serde_json::from_str(&read("import_sample.json")).unwrap();
    let checker = Checker::new(&schema);
    let report = checker.report(&rows, now());
    assert_eq!(
        report.to_string(),
        "198 rows: 174 succeeded, 24 failed; 7 flagged
problems per field:
  客户名称: 2
  客户类型: 1
  所属行业: 2
  联系人: 1
  手机号: 6
  邮箱: 2
  统一社会信用代码: 1
  客户状态: 3
  年采购预算: 2
  首次接触日期: 2
  创建时间: 2
flags per field:
  客户名称: 1
  联系人: 2
  手机号: 3
  邮箱: 2"
    );
    let records: Vec<Record> = report.records().cloned().collect();
    let groups = checker.find_duplicates(&records);
    let sizes: Vec<usize> = groups.iter().map(|g| g.records.len()).collect();
    assert_eq!(sizes, [2, 2, 2, 3, 2, 2, 2, 2, 2, 2, 2]);
    let mut by_key = std::collections::BTreeMap::new();
    for m in groups.iter().flat_map(|g| &g.matches) {
        *by_key.entry(m.key.as_str()).or_insert(0) += 1;
    }
    assert_eq!(
        by_key.into_iter().collect::<Vec<_>>(),
        [("客户名称+联系人", 7), ("手机号", 6), ("邮箱", 5)]
    );
    for group in &groups {
        checker.merge_plan(&group.pick(&records)).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

/// Messy cell text: full-width and ASCII digits and letters, spaces of every kind,
/// separators, Chinese, invisible characters.
fn messy() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec![
            "1",
            "3",
            "8",
            "０",
            "９",
            "a",
            "Z",
            "ｂ",
            "Ｑ",
            " ",
            "  ",
            "\t",
            "\u{3000}",
            "\u{200B}",
            "-",
            "+86",
            "(",
            ")",
            ".",
            "@",
            "＠",
            "客",
            "户",
            "成交客户",
            "新客户",
            ",",
            "，",
            "、",
            "年",
            "月",
            "日",
            "/",
            ":",
            "\n",
            "\r\n",
        ]),
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn cell() -> impl Strategy<Value = Json> {
    prop_oneof![
        6 => messy().prop_map(Json::from),
        1 => Just(Json::Null),
        1 => (0i64..100_000_000_000).prop_map(Json::from),
        1 => proptest::collection::vec(messy(), 0..4).prop_map(Json::from),
        1 => prop::sample::select(vec![
            "2024-03-15", "2024/3/5", "2024年12月1日", "2024-03-15 10:30", "+86 139 5286 7341",
            "Li@QQ.com", "500,000", "是", "成交客户", "CRM，BI",
        ])
        .prop_map(Json::from),
    ]
}

const FIELDS: [&str; 18] = [
    "客户名称",
    "联系人",
    "手机号",
    "邮箱",
    "客户状态",
    "客户等级",
    "关注产品",
    "标签",
    "预算",
    "跟进次数",
    "评分",
    "同意营销",
    "签约日期",
    "下次跟进日",
    "创建时间",
    "更新时间",
    "备注",
    "负责人",
];

fn row() -> impl Strategy<Value = Json> {
    proptest::collection::vec((prop::sample::select(FIELDS.to_vec()), cell()), 0..10).prop_map(
        |pairs| {
            let mut object = serde_json::Map::new();
            object.insert("客户名称".into(), json!("星辰科技"));
            for (k, v) in pairs {
                object.insert(k.to_owned(), v);
            }
            Json::Object(object)
        },
    )
}

fn customer_records() -> impl Strategy<Value = Vec<Json>> {
    let phone = prop::sample::select(vec![
        None,
        Some("13952867341"),
        Some("+86 139-5286-7341"),
        Some("13761234590"),
        Some("15088889999"),
        Some("13800000000"),
    ]);
    let mail = prop::sample::select(vec![
        None,
        Some("wf@163.com"),
        Some("WF@163.com"),
        Some("li@qq.com"),
    ]);
    let name = prop::sample::select(vec![
        None,
        Some("星辰科技"),
        Some("星辰 科技"),
        Some("蓝海"),
    ]);
    let contact = prop::sample::select(vec![None, Some("王芳"), Some("李雷")]);
    proptest::collection::vec((phone, mail, name, contact), 0..24).prop_map(|rows| {
        rows.into_iter()
            .map(|(p, m, n, c)| json!({"手机号": p, "邮箱": m, "客户名称": n, "联系人": c}))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn normalizing_a_value_twice_changes_nothing(field in prop::sample::select(FIELDS.to_vec()), value in cell()) {
        let checker = checker();
        if let Ok(once) = checker.normalize_value(field, &value) {
            let twice = checker.normalize_value(field, &once.to_json());
            prop_assert_eq!(twice, Ok(once));
        }
    }

    #[test]
    fn normalizing_a_row_twice_changes_nothing(row in row()) {
        let schema = schema();
        let checker = Checker::new(&schema);
        if let Ok(record) = checker.check_row(&row, now()) {
            let again = checker.check_row(&schema.record_to_json(&record), now());
            prop_assert_eq!(again, Ok(record.clone()));
            // And what passes the check passes the schema's own validation.
            prop_assert!(schema.validate(&record, now()).is_ok());
        }
    }

    #[test]
    fn every_row_is_succeeded_or_failed_and_the_totals_add_up(
        rows in proptest::collection::vec(prop_oneof![9 => row(), 1 => Just(json!([1]))], 0..20)
    ) {
        let report = checker().report(&rows, now());
        let t = report.totals();
        prop_assert_eq!(t.rows, rows.len());
        prop_assert_eq!(report.rows().len(), rows.len());
        prop_assert_eq!(t.succeeded + t.failed, t.rows);
        let failed = report.rows().iter().filter(|r| !r.problems().is_empty()).count();
        let succeeded = report.rows().iter().filter(|r| r.record().is_some()).count();
        prop_assert_eq!((succeeded, failed), (t.succeeded, t.failed));
        prop_assert_eq!(report.problems().count(), t.problems_per_field.values().sum::<usize>());
        prop_assert_eq!(report.flags().count(), t.flags_per_field.values().sum::<usize>());
        prop_assert_eq!(report.rows().iter().filter(|r| !r.flags.is_empty()).count(), t.flagged);
        for (i, r) in report.rows().iter().enumerate() {
            prop_assert_eq!(r.row, i + 1);
        }
    }

    #[test]
    fn a_report_refilled_batch_after_batch_equals_a_fresh_one(
        batches in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![9 => row(), 1 => Just(json!([1]))], 0..12),
            1..4,
        )
    ) {
        let checker = checker();
        let mut report = Report::new(&checker);
        for batch in &batches {
            checker.report_into(&mut report, batch, now());
            let fresh = checker.report(batch, now());
            prop_assert_eq!(report.rows(), fresh.rows());
            prop_assert_eq!(report.totals(), fresh.totals());
        }
    }

    #[test]
    fn grouping_does_not_depend_on_the_order_of_records(
        (rows, order) in customer_records().prop_flat_map(|rows| {
            let n = rows.len();
            (Just(rows), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        })
    ) {
        let schema = schema();
        let checker = Checker::new(&schema);
        let records: Vec<Record> = rows.iter().map(|j| record(&schema, j.clone())).collect();
        let shuffled: Vec<Record> = order.iter().map(|&i| records[i].clone()).collect();
        let as_sets = |groups: Vec<crm_rules::quality::DuplicateGroup>, ids: &dyn Fn(usize) -> usize| {
            let mut sets: Vec<Vec<usize>> = groups
                .iter()
                .map(|g| {
                    let mut s: Vec<usize> = g.records.iter().map(|&i| ids(i)).collect();
                    s.sort_unstable();
                    s
                })
                .collect();
            sets.sort();
            sets
        };
        let direct = as_sets(checker.find_duplicates(&records), &|i| i);
        let permuted = as_sets(checker.find_duplicates(&shuffled), &|i| order[i]);
        prop_assert_eq!(direct, permuted);
    }
}
