//! Schemas: loading from JSON and from builders, build errors with their paths, record
//! validation (every field error at once) and masking of sensitive values.

use crm_rules::{
    mask, EventDef, Field, FieldType, Number, Schema, Template, Value, ValueKind,
    DEFAULT_PHONE_DIGITS,
};
use serde_json::json;

use crate::common::{build_problems, crm, date, load_problems, now, record};

fn dec(x: f64) -> Number {
    Number::decimal(x).expect("finite")
}

/// The problems of a schema built from fields, which must fail.
fn schema_problems(fields: Vec<Field>) -> Vec<String> {
    build_problems(&Schema::new(fields).expect_err("the schema should be refused"))
}

/// The text of every field error of a validation.
fn errors(result: Result<impl std::fmt::Debug, crm_rules::ValidationError>) -> Vec<String> {
    result
        .expect_err("validation should fail")
        .errors()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn json_and_builders_make_the_same_schema() {
    let from_json = crm();
    let built = Schema::with_events(
        [
            Field::new("客户名称", FieldType::Text).required(),
            Field::new("负责人", FieldType::Member),
            Field::new("客户经理", FieldType::Member),
            Field::new("客户状态", FieldType::SingleChoice).options([
                "新客户",
                "意向客户",
                "成交客户",
                "流失客户",
            ]),
            Field::new("跟进阶段", FieldType::SingleChoice).options([
                "线索获取",
                "需求确认",
                "商务谈判",
                "赢单",
            ]),
            Field::new("预算", FieldType::Number),
            Field::new("跟进次数", FieldType::Integer),
            Field::new("评分", FieldType::Rating),
            Field::new("VIP", FieldType::Bool),
            Field::new("标签", FieldType::Tags),
            Field::new("产品兴趣", FieldType::MultipleChoice).options(["CRM", "ERP", "BI"]),
            Field::new("手机号", FieldType::Phone).sensitive(),
            Field::new("邮箱", FieldType::Email).sensitive(),
            Field::new("备注", FieldType::LongText),
            Field::new("区域", FieldType::Text),
            Field::new("创建时间", FieldType::DateTime),
            Field::new("最近跟进时间", FieldType::DateTime),
            Field::new("合同到期日", FieldType::Date),
        ],
        Some("负责人"),
        [],
    )
    .unwrap();
    assert_eq!(from_json, built);
    assert_eq!(Schema::from_json(&built.to_json()).unwrap(), built);
    assert_eq!(built.fields().len(), 18);
    assert_eq!(built.field_id("预算").map(|id| id.index()), Some(5));
    assert_eq!(built.field_id("预 算"), None);
    assert_eq!(built.owner_field(), built.field_id("负责人"));
    assert_eq!(built.default_tags_field(), built.field_id("标签"));
    let status = built.field(built.field_id("客户状态").unwrap()).unwrap();
    assert_eq!(
        status.options,
        ["新客户", "意向客户", "成交客户", "流失客户"]
    );
    assert!(built.events().is_empty());
    assert_eq!(built.event("lead_created"), None);
}

#[test]
fn field_settings_load_from_json() {
    let schema = Schema::from_json(
        r#"{"fields": [
          {"name": "预算", "type": "number", "label": "预算（元）", "min": 0, "max": 1e7, "required": true},
          {"name": "座机", "type": "phone", "phone_digits": 8},
          {"name": "简称", "type": "text", "min_length": 2, "max_length": 10},
          {"name": "回访日期", "type": "date", "not_before_today": true}
        ],
        "events": [{"kind": "lead_created", "label": "新线索",
                    "attributes": [{"name": "source", "type": "text"}]}]}"#,
    )
    .unwrap();
    let budget = &schema.fields()[0];
    assert_eq!(budget.label.as_deref(), Some("预算（元）"));
    assert_eq!(
        (budget.min, budget.max),
        (Some(Number::from(0)), Some(dec(1e7)))
    );
    assert!(budget.required && !budget.sensitive);
    assert_eq!(schema.fields()[1].phone_digits, Some(8));
    assert_eq!(
        (schema.fields()[2].min_length, schema.fields()[2].max_length),
        (Some(2), Some(10))
    );
    assert!(schema.fields()[3].not_before_today);
    let lead = schema.event("lead_created").unwrap();
    assert_eq!(lead.label.as_deref(), Some("新线索"));
    assert_eq!(lead.attributes[0].name, "source");
    assert_eq!(schema.owner_field(), None);
}

#[test]
fn field_types_store_their_kinds() {
    let kinds: Vec<(&str, ValueKind, bool)> = [
        FieldType::Text,
        FieldType::LongText,
        FieldType::Number,
        FieldType::Integer,
        FieldType::Bool,
        FieldType::Date,
        FieldType::DateTime,
        FieldType::SingleChoice,
        FieldType::MultipleChoice,
        FieldType::Tags,
        FieldType::Phone,
        FieldType::Email,
        FieldType::Member,
        FieldType::Rating,
    ]
    .into_iter()
    .map(|t| (t.name(), t.kind(), t.has_options()))
    .collect();
    assert_eq!(
        kinds,
        [
            ("text", ValueKind::Text, false),
            ("long_text", ValueKind::Text, false),
            ("number", ValueKind::Number, false),
            ("integer", ValueKind::Integer, false),
            ("bool", ValueKind::Bool, false),
            ("date", ValueKind::Date, false),
            ("date_time", ValueKind::DateTime, false),
            ("single_choice", ValueKind::Text, true),
            ("multiple_choice", ValueKind::List, true),
            ("tags", ValueKind::List, false),
            ("phone", ValueKind::Text, false),
            ("email", ValueKind::Text, false),
            ("member", ValueKind::Text, false),
            ("rating", ValueKind::Integer, false),
        ]
    );
    for (name, ..) in &kinds {
        let t: FieldType = serde_json::from_value(json!(name)).unwrap();
        assert_eq!(t.name(), *name);
    }
    assert_eq!(DEFAULT_PHONE_DIGITS, 11);
}

#[test]
fn duplicate_field_names_are_refused() {
    assert_eq!(
        schema_problems(vec![
            Field::new("客户名称", FieldType::Text),
            Field::new("客户名称", FieldType::LongText),
        ]),
        ["fields[1].name: duplicate field name 客户名称"]
    );
}

#[test]
fn empty_and_overlong_field_names_are_refused() {
    assert_eq!(
        schema_problems(vec![
            Field::new("", FieldType::Text),
            Field::new("  ", FieldType::Text),
            Field::new("名".repeat(201), FieldType::Text),
            Field::new("名".repeat(200), FieldType::Text),
        ]),
        [
            "fields[0].name: the field name is empty",
            "fields[1].name: the field name is empty",
            "fields[2].name: longer than 200 characters",
        ]
    );
}

#[test]
fn choice_fields_need_options_and_only_they_take_them() {
    assert_eq!(
        schema_problems(vec![
            Field::new("客户状态", FieldType::SingleChoice),
            Field::new("产品兴趣", FieldType::MultipleChoice),
            Field::new("区域", FieldType::Text).options(["华东", "华南"]),
            Field::new("标签", FieldType::Tags).options(["VIP"]),
        ]),
        [
            "fields[0].options: a single_choice field needs options",
            "fields[1].options: a multiple_choice field needs options",
            "fields[2].options: options apply only to choice fields, not to text",
            "fields[3].options: options apply only to choice fields, not to tags",
        ]
    );
}

#[test]
fn options_must_be_distinct_and_not_empty() {
    assert_eq!(
        schema_problems(vec![Field::new("客户状态", FieldType::SingleChoice)
            .options(["新客户", "", "成交客户", "新客户"])]),
        [
            "fields[0].options[1]: the option is empty",
            "fields[0].options[3]: duplicate option 新客户",
        ]
    );
}

#[test]
fn ranges_must_be_ordered_and_fit_the_type() {
    assert_eq!(
        schema_problems(vec![
            Field::new("预算", FieldType::Number).range(Some(Number::from(10)), Some(dec(5.5))),
            Field::new("区域", FieldType::Text).range(Some(Number::from(1)), None),
            Field::new("简称", FieldType::Text).length(Some(5), Some(2)),
            Field::new("跟进次数", FieldType::Integer).length(None, Some(3)),
            Field::new("备注", FieldType::LongText).not_before_today(),
            Field::new("区域2", FieldType::Text).phone_digits(8),
            Field::new("手机号", FieldType::Phone).phone_digits(2),
            Field::new("座机", FieldType::Phone).phone_digits(21),
        ]),
        [
            "fields[0].min: min 10 is above max 5.5",
            "fields[1].min: min and max apply only to numbers, not to text",
            "fields[2].min_length: min_length 5 is above max_length 2",
            "fields[3].max_length: lengths apply only to texts and lists, not to integer",
            "fields[4].not_before_today: applies only to dates, not to long_text",
            "fields[5].phone_digits: applies only to phone fields, not to text",
            "fields[6].phone_digits: 2 is not between 3 and 20",
            "fields[7].phone_digits: 21 is not between 3 and 20",
        ]
    );
    // Equal bounds are fine, and so are the settings on the types they fit.
    Schema::new([
        Field::new("评分", FieldType::Rating).range(Some(Number::from(3)), Some(dec(3.0))),
        Field::new("标签", FieldType::Tags).length(Some(1), Some(3)),
        Field::new("回访", FieldType::DateTime).not_before_today(),
        Field::new("座机", FieldType::Phone).phone_digits(3),
    ])
    .unwrap();
}

#[test]
fn the_owner_field_must_be_a_known_member_field() {
    let fields = || {
        [
            Field::new("客户名称", FieldType::Text),
            Field::new("负责人", FieldType::Member),
        ]
    };
    let err = Schema::with_events(fields(), Some("老板"), []).unwrap_err();
    assert_eq!(build_problems(&err), ["owner_field: unknown field 老板"]);
    let err = Schema::with_events(fields(), Some("客户名称"), []).unwrap_err();
    assert_eq!(
        build_problems(&err),
        ["owner_field: 客户名称 is not a member field"]
    );
    let ok = Schema::with_events(fields(), Some("负责人"), []).unwrap();
    assert_eq!(ok.owner_field().map(|id| id.index()), Some(1));
}

#[test]
fn event_kinds_and_attributes_are_checked() {
    let err = Schema::with_events(
        [Field::new("客户名称", FieldType::Text)],
        None,
        [
            EventDef::new("lead_created")
                .attribute(Field::new("source", FieldType::SingleChoice))
                .attribute(Field::new("amount", FieldType::Number))
                .attribute(Field::new("amount", FieldType::Number)),
            EventDef::new(""),
            EventDef::new("lead_created"),
        ],
    )
    .unwrap_err();
    assert_eq!(
        build_problems(&err),
        [
            "events[0].attributes[0].options: a single_choice field needs options",
            "events[0].attributes[2].name: duplicate field name amount",
            "events[1].kind: the event kind is empty",
            "events[2].kind: duplicate event kind lead_created",
        ]
    );
}

#[test]
fn every_schema_problem_is_reported_at_once_when_loading() {
    let err = Schema::from_json(
        r#"{"owner_field": "负责人", "fields": [
          {"name": "客户状态", "type": "single_choice"},
          {"name": "客户状态", "type": "text"},
          {"name": "预算", "type": "number", "min": 5, "max": 1}
        ]}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot load schema: 4 problems\n  \
         fields[0].options: a single_choice field needs options\n  \
         fields[1].name: duplicate field name 客户状态\n  \
         fields[2].min: min 5 is above max 1\n  \
         owner_field: unknown field 负责人"
    );
    assert!(err
        .problems()
        .iter()
        .all(|p| p.rule.is_none() && p.position.is_none()));
}

#[test]
fn schema_json_errors_have_line_and_column() {
    let err = Schema::from_json(
        "{\"fields\": [\n  {\"name\": \"a\", \"type\": \"text\", \"requird\": true}\n]}",
    )
    .unwrap_err();
    assert_eq!(
        load_problems(&err),
        [
            "line 2, column 41: fields[0].requird: unknown field `requird`, expected one of `name`, `type`, `label`, \
          `required`, `sensitive`, `options`, `min`, `max`, `min_length`, `max_length`, \
          `not_before_today`, `phone_digits`"
        ]
    );
    assert_eq!(err.problems()[0].position, Some((2, 41)));
    let err = Schema::from_json("{\"fields\": [\n  {\"name\": \"a\", \"type\": \"strng\"}\n]}")
        .unwrap_err();
    assert_eq!(
        load_problems(&err),
        [
            "line 2, column 31: fields[0].type: unknown variant `strng`, expected one of `text`, `long_text`, \
          `number`, `integer`, `bool`, `date`, `date_time`, `single_choice`, `multiple_choice`, \
          `tags`, `phone`, `email`, `member`, `rating`"
        ]
    );
    let err = Schema::from_json("{\"fields\": [}").unwrap_err();
    assert_eq!(load_problems(&err), ["line 1, column 13: expected value"]);
    let err = Schema::from_json("{\"feilds\": []}").unwrap_err();
    assert_eq!(
        load_problems(&err),
        ["line 1, column 9: feilds: unknown field `feilds`, expected one of `fields`, `owner_field`, `events`, `quality`"]
    );
    let err = Schema::from_json("").unwrap_err();
    assert_eq!(
        load_problems(&err),
        ["line 1, column 1: EOF while parsing a value"]
    );
}

#[test]
fn records_from_pairs_check_names_and_kinds() {
    let schema = crm();
    let customer = schema
        .record([
            ("客户名称", Value::from("华为")),
            ("预算", Value::from(dec(500_000.5))),
            ("跟进次数", Value::from(dec(3.0))),
            ("标签", Value::from(vec!["VIP"])),
        ])
        .unwrap();
    assert_eq!(
        customer.get(schema.field_id("客户名称").unwrap()),
        &Value::from("华为")
    );
    assert_eq!(
        customer.get(schema.field_id("VIP").unwrap()),
        &Value::Absent
    );
    assert_eq!(customer.values().len(), 18);
    let err = schema
        .record([
            ("客户名字", Value::from("华为")),
            ("预算", Value::from("很多")),
            ("跟进次数", Value::from(dec(2.5))),
            ("手机号", Value::from(13_812_345_678_i64)),
            ("标签", Value::from("VIP")),
        ])
        .unwrap_err();
    assert_eq!(
        errors(Err::<(), _>(err)),
        [
            "客户名字: unknown field",
            "预算 (很多): expected a value of type number, found a text",
            "跟进次数 (2.5): expected a value of type integer, found a number",
            "手机号 (***): expected a value of type phone, found a number",
            "标签 (VIP): expected a value of type tags, found a text",
        ]
    );
}

#[test]
fn records_from_json_read_by_field_type() {
    let schema = crm();
    let customer = record(
        &schema,
        json!({
            "客户名称": "华为", "预算": 500000.5, "跟进次数": 3.0, "VIP": true,
            "标签": ["VIP", "展会"], "合同到期日": "2024-12-31", "区域": null
        }),
    );
    assert_eq!(
        schema.record_to_json(&customer),
        json!({
            "客户名称": "华为", "预算": 500000.5, "跟进次数": 3, "VIP": true,
            "标签": ["VIP", "展会"], "合同到期日": "2024-12-31"
        })
    );
    let err = schema
        .record_from_json(&json!({
            "VIP": "yes", "预算": "100", "跟进次数": 1.5, "标签": ["VIP", 1],
            "客户名字": "华为", "合同到期日": "2024-13-01", "客户名称": 1
        }))
        .unwrap_err();
    assert_eq!(
        errors(Err::<(), _>(err)),
        [
            "客户名称: expected a text, found 1",
            "预算: expected a number, found \"100\"",
            "跟进次数: expected an integer, found 1.5",
            "VIP: expected true or false, found \"yes\"",
            "标签: expected a list of texts, found 1 at [1]",
            "合同到期日: expected a date (YYYY-MM-DD), found \"2024-13-01\"",
            "客户名字: unknown field",
        ]
    );
    let err = schema.record_from_json(&json!(["华为"])).unwrap_err();
    assert_eq!(
        errors(Err::<(), _>(err)),
        ["expected an object of field values, found a list"]
    );
}

#[test]
fn validation_reports_every_field_error_at_once() {
    let schema = Schema::from_json(
        r#"{"fields": [
          {"name": "客户名称", "type": "text", "required": true},
          {"name": "负责人", "type": "member", "required": true},
          {"name": "手机号", "type": "phone", "sensitive": true},
          {"name": "座机", "type": "phone", "phone_digits": 8},
          {"name": "邮箱", "type": "email", "sensitive": true},
          {"name": "备用邮箱", "type": "email"},
          {"name": "客户状态", "type": "single_choice", "options": ["新客户", "意向客户", "成交客户"]},
          {"name": "来源", "type": "single_choice", "options": ["展会", "官网表单", "老客户转介绍"]},
          {"name": "产品兴趣", "type": "multiple_choice", "options": ["CRM", "ERP"]},
          {"name": "预算", "type": "number", "min": 0, "max": 10000000},
          {"name": "折扣", "type": "number", "min": 0.5, "max": 1},
          {"name": "简称", "type": "text", "min_length": 2, "max_length": 4},
          {"name": "标签", "type": "tags", "max_length": 2},
          {"name": "下次回访", "type": "date", "not_before_today": true},
          {"name": "预约时间", "type": "date_time", "not_before_today": true},
          {"name": "评分", "type": "rating"},
          {"name": "满意度", "type": "rating"},
          {"name": "VIP", "type": "bool"}
        ]}"#,
    )
    .unwrap();
    let form = json!({
        "负责人": "  ",
        "手机号": "138-1234-5678",
        "座机": "1234567",
        "邮箱": "li@example",
        "备用邮箱": "wang@mail.corp.cn",
        "客户状态": "成交客戶",
        "来源": "电话",
        "产品兴趣": ["CRM", "BI"],
        "预算": -1,
        "折扣": 1.25,
        "简称": "华",
        "标签": ["VIP", "展会", "重点"],
        "下次回访": "2024-05-19",
        "预约时间": "2024-05-19T23:59:59Z",
        "评分": 0,
        "满意度": 6,
        "VIP": "yes",
        "行业": "通信"
    });
    assert_eq!(
        errors(schema.validate_json(&form, now())),
        [
            "客户名称: is required",
            "负责人: is required",
            "手机号 (138******5678): must be 11 digits",
            "座机 (1234567): must be 8 digits",
            "邮箱 (l***@example): is not a valid e-mail address",
            "客户状态 (成交客戶): \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?",
            "来源 (电话): \"电话\" is not an option of 来源 (options: 展会, 官网表单, 老客户转介绍)",
            "产品兴趣 (CRM, BI): \"BI\" is not an option of 产品兴趣 (options: CRM, ERP)",
            "预算 (-1): must be at least 0",
            "折扣 (1.25): must be at most 1",
            "简称 (华): must have at least 2 characters",
            "标签 (VIP, 展会, 重点): must have at most 2 items",
            "下次回访 (2024-05-19): must not be before today (2024-05-20)",
            "预约时间 (2024-05-19T23:59:59Z): must not be before today (2024-05-20)",
            "评分 (0): must be a rating from 1 to 5",
            "满意度 (6): must be a rating from 1 to 5",
            "VIP: expected true or false, found \"yes\"",
            "行业: unknown field",
        ]
    );
    let err = schema.validate_json(&form, now()).unwrap_err();
    assert_eq!(err.errors().len(), 18);
    assert!(err.to_string().starts_with(
        "invalid record: 18 field errors\n  客户名称: is required\n  负责人: is required\n"
    ));
    let phone = &err.errors()[2];
    assert_eq!(
        (
            phone.field.as_str(),
            phone.value.as_str(),
            phone.message.as_str()
        ),
        ("手机号", "138******5678", "must be 11 digits")
    );
}

#[test]
fn a_valid_form_passes_and_gives_its_record() {
    let schema = crm();
    let form = json!({
        "客户名称": "华为", "手机号": "13812345678", "邮箱": "li@example.com",
        "客户状态": "成交客户", "产品兴趣": ["CRM", "BI"], "评分": 5,
        "合同到期日": "2020-01-01"
    });
    let customer = schema.validate_json(&form, now()).unwrap();
    assert_eq!(
        customer.get(schema.field_id("手机号").unwrap()),
        &Value::from("13812345678")
    );
    schema.validate(&customer, now()).unwrap();
}

#[test]
fn phone_digits_are_configurable() {
    let schema = Schema::new([
        Field::new("手机号", FieldType::Phone),
        Field::new("座机", FieldType::Phone).phone_digits(8),
    ])
    .unwrap();
    schema
        .validate_json(&json!({"手机号": "13812345678", "座机": "62345678"}), now())
        .unwrap();
    assert_eq!(
        errors(schema.validate_json(&json!({"手机号": "62345678", "座机": "13812345678"}), now())),
        [
            "手机号 (62345678): must be 11 digits",
            "座机 (13812345678): must be 8 digits",
        ]
    );
    assert_eq!(
        errors(schema.validate_json(&json!({"手机号": "1381234567８"}), now())),
        ["手机号 (1381234567８): must be 11 digits"]
    );
}

#[test]
fn e_mail_addresses_are_checked_for_format() {
    let schema = Schema::new([Field::new("邮箱", FieldType::Email)]).unwrap();
    for good in ["li@example.com", "a.b+c@mail.corp.cn", "x_1@qq.com"] {
        schema.validate_json(&json!({"邮箱": good}), now()).unwrap();
    }
    for bad in [
        "li",
        "li@",
        "@a.com",
        "li@a",
        "li@@a.com",
        "l i@a.com",
        "li@a..com",
        ".li@a.com",
        "li@a.c0m",
    ] {
        assert_eq!(
            errors(schema.validate_json(&json!({"邮箱": bad}), now())),
            [format!("邮箱 ({bad}): is not a valid e-mail address")],
        );
    }
}

#[test]
fn today_is_the_utc_date_of_now() {
    let schema = Schema::new([
        Field::new("下次回访", FieldType::Date).not_before_today(),
        Field::new("预约时间", FieldType::DateTime).not_before_today(),
    ])
    .unwrap();
    schema
        .validate_json(
            &json!({"下次回访": "2024-05-20", "预约时间": "2024-05-20T00:00:00Z"}),
            now(),
        )
        .unwrap();
    // 07:59 on the 20th in Shanghai is still the 19th in UTC.
    assert_eq!(
        errors(schema.validate_json(&json!({"预约时间": "2024-05-20T07:59:00+08:00"}), now())),
        ["预约时间 (2024-05-19T23:59:00Z): must not be before today (2024-05-20)"]
    );
}

#[test]
fn validation_checks_the_kind_of_values_set_directly() {
    let schema = crm();
    let mut customer = schema.record([("客户名称", "华为")]).unwrap();
    customer.set(schema.field_id("预算").unwrap(), Value::from("很多"));
    customer.set(schema.field_id("评分").unwrap(), Value::from(dec(4.5)));
    customer.set(schema.field_id("手机号").unwrap(), Value::from(true));
    customer.set(schema.field_id("标签").unwrap(), Value::from("VIP"));
    assert_eq!(
        errors(schema.validate(&customer, now())),
        [
            "预算 (很多): expected a number, found a text",
            "评分 (4.5): expected an integer, found a number",
            "标签 (VIP): expected a list of texts, found a text",
            "手机号 (***): expected a text, found a boolean",
        ]
    );
}

#[test]
fn blank_values_count_as_missing_for_required_fields() {
    let schema = Schema::new([
        Field::new("客户名称", FieldType::Text).required(),
        Field::new("标签", FieldType::Tags).required(),
        Field::new("VIP", FieldType::Bool).required(),
    ])
    .unwrap();
    assert_eq!(
        errors(schema.validate_json(&json!({"客户名称": " ", "标签": [], "VIP": null}), now())),
        [
            "客户名称: is required",
            "标签: is required",
            "VIP: is required"
        ]
    );
    schema
        .validate_json(
            &json!({"客户名称": "华为", "标签": ["VIP"], "VIP": false}),
            now(),
        )
        .unwrap();
}

#[test]
fn a_field_that_cannot_be_read_is_reported_once() {
    let schema = Schema::new([Field::new("预算", FieldType::Number).required()]).unwrap();
    assert_eq!(
        errors(schema.validate_json(&json!({"预算": "很多"}), now())),
        ["预算: expected a number, found \"很多\""]
    );
}

#[test]
fn masking_hides_the_middle_of_numbers_and_the_local_part_of_addresses() {
    assert_eq!(mask(&Value::from("13812345678")), "138****5678");
    assert_eq!(mask(&Value::from("li@example.com")), "l***@example.com");
    assert_eq!(mask(&Value::from("wang.wei@corp.cn")), "w***@corp.cn");
    assert_eq!(
        mask(&Value::from("110101199003071234")),
        "110***********1234"
    );
    assert_eq!(mask(&Value::from("12345678")), "123*5678");
    assert_eq!(mask(&Value::from("1234567")), "***");
    assert_eq!(mask(&Value::from("张三")), "***");
    assert_eq!(mask(&Value::from("@example.com")), "@ex*****.com");
    assert_eq!(mask(&Value::from(42)), "***");
    assert_eq!(mask(&Value::from(date(2024, 5, 20))), "***");
    assert_eq!(mask(&Value::Absent), "");
    assert_eq!(
        mask(&Value::from(vec!["13812345678", "li@example.com"])),
        "138****5678, l***@example.com"
    );
}

#[test]
fn sensitive_values_are_masked_in_field_errors() {
    let schema = Schema::new([
        Field::new("手机号", FieldType::Phone).sensitive(),
        Field::new("邮箱", FieldType::Email).sensitive(),
        Field::new("身份证号", FieldType::Text)
            .sensitive()
            .length(None, Some(18)),
        Field::new("等级", FieldType::SingleChoice)
            .sensitive()
            .options(["A", "B"]),
    ])
    .unwrap();
    let id = schema.field_id("手机号").unwrap();
    assert_eq!(schema.show(id, &Value::from("13812345678")), "138****5678");
    assert_eq!(
        errors(schema.validate_json(
            &json!({"手机号": "138123456789", "邮箱": "li@example", "身份证号": "1101011990030712345", "等级": "C"}),
            now()
        )),
        [
            "手机号 (138*****6789): must be 11 digits",
            "邮箱 (l***@example): is not a valid e-mail address",
            "身份证号 (110************2345): must have at most 18 characters",
            "等级 (***): (masked) is not an option of 等级; did you mean \"A\"?",
        ]
    );
    // The two shapes a user sees most: an 11-digit number and a whole address.
    let short = Schema::new([
        Field::new("座机", FieldType::Phone)
            .sensitive()
            .phone_digits(8),
        Field::new("邮箱", FieldType::Email)
            .sensitive()
            .length(None, Some(10)),
    ])
    .unwrap();
    let err = short
        .validate_json(
            &json!({"座机": "13812345678", "邮箱": "li@example.com"}),
            now(),
        )
        .unwrap_err();
    let shown: Vec<&str> = err.errors().iter().map(|e| e.value.as_str()).collect();
    assert_eq!(shown, ["138****5678", "l***@example.com"]);
    assert_eq!(
        errors(Err::<(), _>(err)),
        [
            "座机 (138****5678): must be 8 digits",
            "邮箱 (l***@example.com): must have at most 10 characters",
        ]
    );
}

#[test]
fn sensitive_values_do_not_leak_through_read_errors() {
    let schema = crm();
    let err = schema
        .record_from_json(&json!({"手机号": 13812345678_i64, "邮箱": ["li@example.com"]}))
        .unwrap_err();
    for e in err.errors() {
        assert!(!e.to_string().contains("12345678"), "{e}");
        assert!(!e.to_string().contains("li@example.com"), "{e}");
    }
    assert_eq!(
        errors(Err::<(), _>(err)),
        [
            "手机号 ((masked)): expected a text, found a number",
            "邮箱 ((masked)): expected a text, found a list",
        ]
    );
}

#[test]
fn templates_render_values_and_mask_sensitive_ones() {
    let schema = crm();
    let t = Template::compile(
        "请回访 {{客户名称}}（{{ 手机号 }}，{{邮箱}}）标签：{{标签}} 预算：{{预算}}{{区域}}",
        &schema,
    )
    .unwrap();
    let customer = record(
        &schema,
        json!({"客户名称": "华为", "手机号": "13812345678", "邮箱": "li@example.com",
               "标签": ["VIP", "展会"], "预算": 500000.5}),
    );
    assert_eq!(
        t.render(&customer),
        "请回访 华为（138****5678，l***@example.com）标签：VIP, 展会 预算：500000.5"
    );
    let names: Vec<&str> = t
        .fields()
        .map(|id| schema.field(id).unwrap().name.as_str())
        .collect();
    assert_eq!(
        names,
        ["客户名称", "手机号", "邮箱", "标签", "预算", "区域"]
    );
    let empty = record(&schema, json!({}));
    assert_eq!(t.render(&empty), "请回访 （，）标签： 预算：");
    assert_eq!(
        Template::compile("没有占位符", &schema)
            .unwrap()
            .render(&empty),
        "没有占位符"
    );
}

#[test]
fn template_errors_name_every_problem() {
    let schema = crm();
    let problems = |text: &str| build_problems(&Template::compile(text, &schema).unwrap_err());
    assert_eq!(
        problems("{{客户名}} {{负责}} {{xyz}}"),
        [
            "unknown field \"客户名\"; did you mean \"客户名称\"?",
            "unknown field \"负责\"; did you mean \"负责人\"?",
            "unknown field \"xyz\"",
        ]
    );
    assert_eq!(
        problems("你好 {{客户名称"),
        ["a placeholder `{{` is not closed with `}}`"]
    );
    assert_eq!(
        problems("你好 {{ }}"),
        ["a placeholder `{{}}` names no field"]
    );
}

#[test]
fn regression_list_min_length_is_checked() {
    // `min_length` is accepted on list fields; it used to be ignored when validating.
    let schema =
        Schema::new([Field::new("标签", FieldType::Tags).length(Some(2), Some(3))]).unwrap();
    assert_eq!(
        errors(schema.validate_json(&json!({"标签": ["VIP"]}), now())),
        ["标签 (VIP): must have at least 2 items"]
    );
    schema
        .validate_json(&json!({"标签": ["VIP", "展会"]}), now())
        .unwrap();
}

#[test]
fn regression_blank_required_field_is_reported_when_another_field_cannot_be_read() {
    // A blank required field used to go unreported whenever some other field of the
    // form failed to read.
    let schema = Schema::new([
        Field::new("客户名称", FieldType::Text).required(),
        Field::new("预算", FieldType::Number),
    ])
    .unwrap();
    assert_eq!(
        errors(schema.validate_json(&json!({"客户名称": " "}), now())),
        ["客户名称: is required"]
    );
    assert_eq!(
        errors(schema.validate_json(&json!({"客户名称": " ", "预算": "很多"}), now())),
        [
            "客户名称: is required",
            "预算: expected a number, found \"很多\""
        ]
    );
}

#[test]
fn regression_a_form_that_is_not_an_object_names_no_field() {
    let err = crm().validate_json(&json!("华为"), now()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid record: 2 field errors\n  客户名称: is required\n  expected an object of field values, found \"华为\""
    );
    assert_eq!(err.errors()[1].field, "");
}
