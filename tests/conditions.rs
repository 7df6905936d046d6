//! Conditions: every operator on concrete customers, absent values, event attributes,
//! old and new values, behaviour counts, and all/any/not nesting.

use crm_rules::{Condition, Duration, Event, Facts, Number, Op, Operand, Record, Schema, Value};
use serde_json::{json, Value as Json};

use crate::common::{at, compile, compile_json, crm, holds, now, record};

/// A customer with most fields set. `now()` is 2024-05-20 09:00 UTC.
fn huawei(schema: &Schema) -> Record {
    record(
        schema,
        json!({
            "客户名称": "华为技术有限公司",
            "负责人": "li.wei",
            "客户状态": "新客户",
            "跟进阶段": "商务谈判",
            "预算": 500000,
            "跟进次数": 3,
            "评分": 4,
            "VIP": true,
            "标签": ["VIP", "展会"],
            "产品兴趣": ["CRM", "BI"],
            "备注": "客户觉得价格高，考虑竞品",
            "区域": "华东",
            "创建时间": "2024-05-17T09:00:00Z",
            "最近跟进时间": "2024-05-13T09:00:00Z",
            "合同到期日": "2024-05-23"
        }),
    )
}

/// A customer with only a name: every other field is absent.
fn bare(schema: &Schema) -> Record {
    record(schema, json!({"客户名称": "空白客户"}))
}

/// Checks a JSON condition against `huawei` and `bare`: the expected results in order.
fn check(condition: Json, on_huawei: bool, on_bare: bool) {
    let schema = crm();
    let c = compile_json(&schema, condition.clone());
    assert_eq!(
        holds(&c, &huawei(&schema)),
        on_huawei,
        "{condition} on huawei"
    );
    assert_eq!(holds(&c, &bare(&schema)), on_bare, "{condition} on bare");
}

/// Checks a JSON condition against a customer given as JSON.
fn check_on(condition: Json, customer: Json, expected: bool) {
    let schema = crm();
    let c = compile_json(&schema, condition.clone());
    let r = record(&schema, customer.clone());
    assert_eq!(holds(&c, &r), expected, "{condition} on {customer}");
}

#[test]
fn eq_on_texts_choices_numbers_bools_dates_and_lists() {
    check(
        json!({"field": "客户状态", "op": "eq", "value": "新客户"}),
        true,
        false,
    );
    check(
        json!({"field": "客户状态", "op": "eq", "value": "意向客户"}),
        false,
        false,
    );
    check(
        json!({"field": "区域", "op": "eq", "value": "华东"}),
        true,
        false,
    );
    check(
        json!({"field": "区域", "op": "eq", "value": "华东 "}),
        false,
        false,
    );
    check(
        json!({"field": "预算", "op": "eq", "value": 500000}),
        true,
        false,
    );
    check(
        json!({"field": "预算", "op": "eq", "value": 500000.0}),
        true,
        false,
    );
    check(
        json!({"field": "跟进次数", "op": "eq", "value": 3.0}),
        true,
        false,
    );
    check(
        json!({"field": "VIP", "op": "eq", "value": true}),
        true,
        false,
    );
    check(
        json!({"field": "VIP", "op": "eq", "value": false}),
        false,
        false,
    );
    check(
        json!({"field": "合同到期日", "op": "eq", "value": "2024-05-23"}),
        true,
        false,
    );
    check(
        json!({"field": "创建时间", "op": "eq", "value": "2024-05-17T17:00:00+08:00"}),
        true,
        false,
    );
    check(
        json!({"field": "标签", "op": "eq", "value": ["VIP", "展会"]}),
        true,
        false,
    );
    check(
        json!({"field": "标签", "op": "eq", "value": ["展会", "VIP"]}),
        false,
        false,
    );
}

#[test]
fn a_decimal_customer_value_equals_an_integer_literal() {
    check_on(
        json!({"field": "预算", "op": "eq", "value": 500000}),
        json!({"预算": 500000.0}),
        true,
    );
    check_on(
        json!({"field": "预算", "op": "eq", "value": 500000}),
        json!({"预算": 500000.5}),
        false,
    );
    check_on(
        json!({"field": "预算", "op": "in", "value": [1, 2.5]}),
        json!({"预算": 2.5}),
        true,
    );
}

#[test]
fn ne_holds_for_absent_values() {
    check(
        json!({"field": "客户状态", "op": "ne", "value": "成交客户"}),
        true,
        true,
    );
    check(
        json!({"field": "客户状态", "op": "ne", "value": "新客户"}),
        false,
        true,
    );
    check(
        json!({"field": "预算", "op": "ne", "value": 500000.0}),
        false,
        true,
    );
    check(
        json!({"field": "VIP", "op": "ne", "value": false}),
        true,
        true,
    );
}

#[test]
fn ordering_numbers() {
    check(
        json!({"field": "预算", "op": "gt", "value": 500000}),
        false,
        false,
    );
    check(
        json!({"field": "预算", "op": "gt", "value": 499999.5}),
        true,
        false,
    );
    check(
        json!({"field": "预算", "op": "gte", "value": 500000}),
        true,
        false,
    );
    check(
        json!({"field": "预算", "op": "gte", "value": 500000.5}),
        false,
        false,
    );
    check(
        json!({"field": "预算", "op": "lt", "value": 500000.5}),
        true,
        false,
    );
    check(
        json!({"field": "预算", "op": "lt", "value": 500000}),
        false,
        false,
    );
    check(
        json!({"field": "预算", "op": "lte", "value": 500000}),
        true,
        false,
    );
    check(
        json!({"field": "预算", "op": "lte", "value": 499999}),
        false,
        false,
    );
    // Decimal literals order integer fields.
    check(
        json!({"field": "跟进次数", "op": "gt", "value": 2.5}),
        true,
        false,
    );
    check(
        json!({"field": "评分", "op": "lt", "value": 4.5}),
        true,
        false,
    );
    check(
        json!({"field": "评分", "op": "gte", "value": 4.5}),
        false,
        false,
    );
    // Absent is neither below nor above anything.
    check(
        json!({"field": "预算", "op": "lt", "value": -1000000}),
        false,
        false,
    );
    check(
        json!({"field": "预算", "op": "gte", "value": -1000000}),
        true,
        false,
    );
}

#[test]
fn ordering_dates_and_date_times() {
    check(
        json!({"field": "创建时间", "op": "gt", "value": "2024-05-17T16:59:59+08:00"}),
        true,
        false,
    );
    check(
        json!({"field": "创建时间", "op": "gt", "value": "2024-05-17T17:00:00+08:00"}),
        false,
        false,
    );
    check(
        json!({"field": "创建时间", "op": "gte", "value": "2024-05-17T09:00:00Z"}),
        true,
        false,
    );
    check(
        json!({"field": "创建时间", "op": "lt", "value": "2024-05-17T09:00:01Z"}),
        true,
        false,
    );
    check(
        json!({"field": "创建时间", "op": "lte", "value": "2024-05-17T08:59:59Z"}),
        false,
        false,
    );
    check(
        json!({"field": "合同到期日", "op": "lt", "value": "2024-05-24"}),
        true,
        false,
    );
    check(
        json!({"field": "合同到期日", "op": "lt", "value": "2024-05-23"}),
        false,
        false,
    );
    check(
        json!({"field": "合同到期日", "op": "lte", "value": "2024-05-23"}),
        true,
        false,
    );
    check(
        json!({"field": "合同到期日", "op": "gt", "value": "2024-05-22"}),
        true,
        false,
    );
}

#[test]
fn in_and_not_in() {
    check(
        json!({"field": "客户状态", "op": "in", "value": ["新客户", "意向客户"]}),
        true,
        false,
    );
    check(
        json!({"field": "客户状态", "op": "in", "value": ["成交客户"]}),
        false,
        false,
    );
    check(
        json!({"field": "客户状态", "op": "not_in", "value": ["成交客户", "流失客户"]}),
        true,
        true,
    );
    check(
        json!({"field": "客户状态", "op": "not_in", "value": ["新客户"]}),
        false,
        true,
    );
    check(
        json!({"field": "预算", "op": "in", "value": [100, 500000]}),
        true,
        false,
    );
    check(
        json!({"field": "区域", "op": "in", "value": ["华南", "华东"]}),
        true,
        false,
    );
    check(
        json!({"field": "合同到期日", "op": "in", "value": ["2024-05-23"]}),
        true,
        false,
    );
}

#[test]
fn between_includes_both_ends() {
    check(
        json!({"field": "预算", "op": "between", "value": [100000, 500000]}),
        true,
        false,
    );
    check(
        json!({"field": "预算", "op": "between", "value": [500000, 600000]}),
        true,
        false,
    );
    check(
        json!({"field": "预算", "op": "between", "value": [500000, 500000]}),
        true,
        false,
    );
    check(
        json!({"field": "预算", "op": "between", "value": [500000.5, 600000]}),
        false,
        false,
    );
    check(
        json!({"field": "预算", "op": "between", "value": [1, 499999.5]}),
        false,
        false,
    );
    check(
        json!({"field": "合同到期日", "op": "between", "value": ["2024-05-01", "2024-05-31"]}),
        true,
        false,
    );
    check(
        json!({"field": "创建时间", "op": "between", "value": ["2024-05-17T09:00:00Z", "2024-05-18T00:00:00Z"]}),
        true,
        false,
    );
}

#[test]
fn tags_and_multiple_choices() {
    check(
        json!({"field": "标签", "op": "has_tag", "value": "VIP"}),
        true,
        false,
    );
    check(
        json!({"field": "标签", "op": "has_tag", "value": "老客户"}),
        false,
        false,
    );
    check(
        json!({"field": "标签", "op": "has_any", "value": ["老客户", "展会"]}),
        true,
        false,
    );
    check(
        json!({"field": "标签", "op": "has_any", "value": ["老客户"]}),
        false,
        false,
    );
    check(
        json!({"field": "标签", "op": "has_all", "value": ["展会", "VIP"]}),
        true,
        false,
    );
    check(
        json!({"field": "标签", "op": "has_all", "value": ["VIP", "老客户"]}),
        false,
        false,
    );
    check(
        json!({"field": "产品兴趣", "op": "has_tag", "value": "CRM"}),
        true,
        false,
    );
    check(
        json!({"field": "产品兴趣", "op": "has_any", "value": ["ERP", "BI"]}),
        true,
        false,
    );
    check(
        json!({"field": "产品兴趣", "op": "has_all", "value": ["CRM", "ERP"]}),
        false,
        false,
    );
    // Tags match whole: no substring or case folding.
    check(
        json!({"field": "标签", "op": "has_tag", "value": "vip"}),
        false,
        false,
    );
    check(
        json!({"field": "标签", "op": "has_tag", "value": "VI"}),
        false,
        false,
    );
}

#[test]
fn texts() {
    check(
        json!({"field": "客户名称", "op": "contains", "value": "技术"}),
        true,
        false,
    );
    check(
        json!({"field": "客户名称", "op": "contains", "value": "腾讯"}),
        false,
        false,
    );
    check(
        json!({"field": "客户名称", "op": "starts_with", "value": "华为"}),
        true,
        false,
    );
    check(
        json!({"field": "客户名称", "op": "starts_with", "value": "技术"}),
        false,
        false,
    );
    check(
        json!({"field": "备注", "op": "contains_any", "value": ["价格高", "考虑竞品"]}),
        true,
        false,
    );
    check(
        json!({"field": "备注", "op": "contains_any", "value": ["没预算", "竞品"]}),
        true,
        false,
    );
    check(
        json!({"field": "备注", "op": "contains_any", "value": ["没预算"]}),
        false,
        false,
    );
    check(
        json!({"field": "客户状态", "op": "starts_with", "value": "新"}),
        true,
        false,
    );
    check(
        json!({"field": "负责人", "op": "contains", "value": "li."}),
        true,
        false,
    );
}

#[test]
fn exists_and_is_empty() {
    check(json!({"field": "备注", "op": "exists"}), true, false);
    check(json!({"field": "备注", "op": "is_empty"}), false, true);
    check(json!({"field": "客户名称", "op": "exists"}), true, true);
    check(json!({"field": "VIP", "op": "exists"}), true, false);
    check(json!({"field": "标签", "op": "is_empty"}), false, true);
    check_on(
        json!({"field": "区域", "op": "is_empty"}),
        json!({"区域": "  "}),
        true,
    );
    check_on(
        json!({"field": "区域", "op": "exists"}),
        json!({"区域": "  "}),
        false,
    );
    check_on(
        json!({"field": "标签", "op": "is_empty"}),
        json!({"标签": []}),
        true,
    );
    check_on(
        json!({"field": "预算", "op": "exists"}),
        json!({"预算": 0}),
        true,
    );
    check_on(
        json!({"field": "VIP", "op": "exists"}),
        json!({"VIP": false}),
        true,
    );
}

#[test]
fn older_than_includes_its_boundary() {
    // 最近跟进时间 is exactly 7 days before now.
    check(
        json!({"field": "最近跟进时间", "op": "older_than", "value": "7d"}),
        true,
        false,
    );
    check(
        json!({"field": "最近跟进时间", "op": "older_than", "value": "7d1s"}),
        false,
        false,
    );
    check(
        json!({"field": "最近跟进时间", "op": "older_than", "value": "3d"}),
        true,
        false,
    );
    check(
        json!({"field": "创建时间", "op": "older_than", "value": "1w"}),
        false,
        false,
    );
    // A date counts from its start in UTC: 2024-05-20 is 9 hours before now.
    check_on(
        json!({"field": "合同到期日", "op": "older_than", "value": "9h"}),
        json!({"合同到期日": "2024-05-20"}),
        true,
    );
    check_on(
        json!({"field": "合同到期日", "op": "older_than", "value": "9h1m"}),
        json!({"合同到期日": "2024-05-20"}),
        false,
    );
    // A time in the future is older than nothing.
    check(
        json!({"field": "合同到期日", "op": "older_than", "value": "0s"}),
        false,
        false,
    );
}

#[test]
fn within_last_runs_up_to_now() {
    // 创建时间 is exactly 3 days before now.
    check(
        json!({"field": "创建时间", "op": "within_last", "value": "3d"}),
        true,
        false,
    );
    check(
        json!({"field": "创建时间", "op": "within_last", "value": "2d23h59m"}),
        false,
        false,
    );
    check(
        json!({"field": "最近跟进时间", "op": "within_last", "value": "1w"}),
        true,
        false,
    );
    check(
        json!({"field": "最近跟进时间", "op": "within_last", "value": "6d"}),
        false,
        false,
    );
    // The future is not within the last anything.
    check(
        json!({"field": "合同到期日", "op": "within_last", "value": "100d"}),
        false,
        false,
    );
    check_on(
        json!({"field": "创建时间", "op": "within_last", "value": "0s"}),
        json!({"创建时间": "2024-05-20T09:00:00Z"}),
        true,
    );
    check_on(
        json!({"field": "合同到期日", "op": "within_last", "value": "9h"}),
        json!({"合同到期日": "2024-05-20"}),
        true,
    );
    check_on(
        json!({"field": "合同到期日", "op": "within_last", "value": "8h59m"}),
        json!({"合同到期日": "2024-05-20"}),
        false,
    );
}

#[test]
fn due_within_runs_from_now() {
    // 合同到期日 2024-05-23 starts 2 days 15 hours after now.
    check(
        json!({"field": "合同到期日", "op": "due_within", "value": "3d"}),
        true,
        false,
    );
    check(
        json!({"field": "合同到期日", "op": "due_within", "value": "2d15h"}),
        true,
        false,
    );
    check(
        json!({"field": "合同到期日", "op": "due_within", "value": "2d14h59m"}),
        false,
        false,
    );
    // The past is not due.
    check(
        json!({"field": "创建时间", "op": "due_within", "value": "100d"}),
        false,
        false,
    );
    check_on(
        json!({"field": "合同到期日", "op": "due_within", "value": "1d"}),
        json!({"合同到期日": "2024-05-20"}),
        false,
    );
    check_on(
        json!({"field": "创建时间", "op": "due_within", "value": "0s"}),
        json!({"创建时间": "2024-05-20T09:00:00Z"}),
        true,
    );
}

#[test]
fn time_windows_saturate_at_the_ends_of_the_calendar() {
    let schema = crm();
    let c = compile_json(
        &schema,
        json!({"field": "创建时间", "op": "within_last", "value": "36500d"}),
    );
    let r = record(&schema, json!({"创建时间": "1970-01-01T00:00:00Z"}));
    assert!(holds(&c, &r));
    let early = Facts::new(&r, chrono::DateTime::<chrono::Utc>::MIN_UTC);
    assert!(!c.evaluate(&early));
    let late = compile_json(
        &schema,
        json!({"field": "创建时间", "op": "due_within", "value": "36500d"}),
    );
    assert!(!late.evaluate(&Facts::new(&r, chrono::DateTime::<chrono::Utc>::MAX_UTC)));
}

#[test]
fn builders_write_the_same_conditions_as_json() {
    let d = |s: &str| s.parse::<Duration>().unwrap();
    let pairs: Vec<(Condition, Json)> = vec![
        (
            Condition::field("客户状态").eq("新客户"),
            json!({"field": "客户状态", "op": "eq", "value": "新客户"}),
        ),
        (
            Condition::field("客户状态").ne("新客户"),
            json!({"field": "客户状态", "op": "ne", "value": "新客户"}),
        ),
        (
            Condition::field("预算").lt(1),
            json!({"field": "预算", "op": "lt", "value": 1}),
        ),
        (
            Condition::field("预算").lte(1),
            json!({"field": "预算", "op": "lte", "value": 1}),
        ),
        (
            Condition::field("预算").gt(1),
            json!({"field": "预算", "op": "gt", "value": 1}),
        ),
        (
            Condition::field("预算").gte(1.5),
            json!({"field": "预算", "op": "gte", "value": 1.5}),
        ),
        (
            Condition::field("区域").is_in(["华东", "华南"]),
            json!({"field": "区域", "op": "in", "value": ["华东", "华南"]}),
        ),
        (
            Condition::field("区域").not_in(["华东"]),
            json!({"field": "区域", "op": "not_in", "value": ["华东"]}),
        ),
        (
            Condition::field("预算").between(1, 2),
            json!({"field": "预算", "op": "between", "value": [1, 2]}),
        ),
        (
            Condition::field("标签").has_tag("VIP"),
            json!({"field": "标签", "op": "has_tag", "value": "VIP"}),
        ),
        (
            Condition::field("标签").has_any(["VIP"]),
            json!({"field": "标签", "op": "has_any", "value": ["VIP"]}),
        ),
        (
            Condition::field("标签").has_all(["VIP"]),
            json!({"field": "标签", "op": "has_all", "value": ["VIP"]}),
        ),
        (
            Condition::field("备注").contains("价格"),
            json!({"field": "备注", "op": "contains", "value": "价格"}),
        ),
        (
            Condition::field("备注").starts_with("价格"),
            json!({"field": "备注", "op": "starts_with", "value": "价格"}),
        ),
        (
            Condition::field("备注").contains_any(["价格"]),
            json!({"field": "备注", "op": "contains_any", "value": ["价格"]}),
        ),
        (
            Condition::field("备注").exists(),
            json!({"field": "备注", "op": "exists"}),
        ),
        (
            Condition::field("备注").is_empty(),
            json!({"field": "备注", "op": "is_empty"}),
        ),
        (
            Condition::field("创建时间").older_than(d("3d")),
            json!({"field": "创建时间", "op": "older_than", "value": "3d"}),
        ),
        (
            Condition::field("创建时间").within_last(d("36h")),
            json!({"field": "创建时间", "op": "within_last", "value": "1d12h"}),
        ),
        (
            Condition::field("创建时间").due_within(d("1w")),
            json!({"field": "创建时间", "op": "due_within", "value": "1w"}),
        ),
        (
            Condition::event("source").eq("展会"),
            json!({"event": "source", "op": "eq", "value": "展会"}),
        ),
        (
            Condition::old_value("跟进阶段").eq("需求确认"),
            json!({"old": "跟进阶段", "op": "eq", "value": "需求确认"}),
        ),
        (
            Condition::new_value("跟进阶段").eq("商务谈判"),
            json!({"new": "跟进阶段", "op": "eq", "value": "商务谈判"}),
        ),
        (
            Condition::count("page_view", 3, d("7d")),
            json!({"count": "page_view", "at_least": 3, "within": "1w"}),
        ),
        (
            Condition::negate(Condition::field("VIP").eq(true)),
            json!({"not": {"field": "VIP", "op": "eq", "value": true}}),
        ),
        (
            Condition::any([Condition::all([Condition::field("VIP").eq(true)])]),
            json!({"any": [{"all": [{"field": "VIP", "op": "eq", "value": true}]}]}),
        ),
    ];
    for (built, written) in pairs {
        assert_eq!(serde_json::to_value(&built).unwrap(), written);
        assert_eq!(serde_json::from_value::<Condition>(written).unwrap(), built);
    }
    let ops: Vec<&str> = [
        Op::Eq,
        Op::NotIn,
        Op::HasAll,
        Op::ContainsAny,
        Op::IsEmpty,
        Op::DueWithin,
    ]
    .into_iter()
    .map(Op::name)
    .collect();
    assert_eq!(
        ops,
        [
            "eq",
            "not_in",
            "has_all",
            "contains_any",
            "is_empty",
            "due_within"
        ]
    );
    let operand = Operand::Old("跟进阶段".into());
    assert_eq!((operand.key(), operand.name()), ("old", "跟进阶段"));
}

#[test]
fn all_any_and_not_nest() {
    let vip = json!({"field": "VIP", "op": "eq", "value": true});
    let rich = json!({"field": "预算", "op": "gte", "value": 1000000});
    let new = json!({"field": "客户状态", "op": "eq", "value": "新客户"});
    check(json!({"all": [vip, new]}), true, false);
    check(json!({"all": [vip, rich]}), false, false);
    check(json!({"any": [rich, new]}), true, false);
    check(json!({"any": [rich]}), false, false);
    check(json!({"not": rich}), true, true);
    check(json!({"not": {"not": vip}}), true, false);
    check(
        json!({"all": [{"any": [rich, {"not": {"field": "标签", "op": "has_tag", "value": "VIP"}}]}, new]}),
        false,
        false,
    );
    check(
        json!({"any": [{"all": [vip, {"not": rich}]}, {"field": "备注", "op": "is_empty"}]}),
        true,
        true,
    );
    check(json!({"all": [{"all": [{"all": [vip]}]}]}), true, false);
}

#[test]
fn event_attributes_read_from_the_triggering_event() {
    let schema = crm();
    let customer = huawei(&schema);
    let fair = Event::new("lead_created", "evt-1", now())
        .attribute("source", "展会")
        .attribute("amount", 1500);
    let web = Event::new("lead_created", "evt-2", now())
        .attribute("source", "官网表单")
        .attribute("amount", Number::decimal(999.5).unwrap())
        .attribute("keywords", vec!["报价", "试用"]);
    let on_fair = Facts::new(&customer, now()).with_event(&fair);
    let on_web = Facts::new(&customer, now()).with_event(&web);
    let none = Facts::new(&customer, now());
    let cases: Vec<(Json, bool, bool, bool)> = vec![
        (
            json!({"event": "source", "op": "eq", "value": "展会"}),
            true,
            false,
            false,
        ),
        (
            json!({"event": "source", "op": "ne", "value": "展会"}),
            false,
            true,
            true,
        ),
        (
            json!({"event": "source", "op": "in", "value": ["展会", "官网表单"]}),
            true,
            true,
            false,
        ),
        (
            json!({"event": "amount", "op": "gte", "value": 1000}),
            true,
            false,
            false,
        ),
        (
            json!({"event": "amount", "op": "lt", "value": 1000}),
            false,
            true,
            false,
        ),
        (
            json!({"event": "amount", "op": "eq", "value": 1500.0}),
            true,
            false,
            false,
        ),
        (
            json!({"event": "amount", "op": "between", "value": [999.5, 1000]}),
            false,
            true,
            false,
        ),
        (
            json!({"event": "keywords", "op": "has_tag", "value": "试用"}),
            false,
            true,
            false,
        ),
        (
            json!({"event": "source", "op": "contains", "value": "官网"}),
            false,
            true,
            false,
        ),
        (
            json!({"event": "campaign", "op": "exists"}),
            false,
            false,
            false,
        ),
        (
            json!({"event": "campaign", "op": "is_empty"}),
            true,
            true,
            true,
        ),
        (
            json!({"all": [{"event": "source", "op": "eq", "value": "展会"}, {"field": "VIP", "op": "eq", "value": true}]}),
            true,
            false,
            false,
        ),
    ];
    for (json, fair_expected, web_expected, without) in cases {
        let c = compile_json(&schema, json.clone());
        assert_eq!(c.evaluate(&on_fair), fair_expected, "{json} on fair");
        assert_eq!(c.evaluate(&on_web), web_expected, "{json} on web");
        assert_eq!(c.evaluate(&none), without, "{json} without an event");
    }
    assert_eq!(fair.get("source"), &Value::from("展会"));
    assert!(fair.get("keywords").is_absent());
}

#[test]
fn old_values_read_the_customer_before_the_event() {
    let schema = crm();
    let before = record(&schema, json!({"跟进阶段": "需求确认", "预算": 100000}));
    let after = record(
        &schema,
        json!({"跟进阶段": "商务谈判", "预算": 100000, "备注": "新备注"}),
    );
    let moved = compile_json(
        &schema,
        json!({"all": [
            {"old": "跟进阶段", "op": "eq", "value": "需求确认"},
            {"new": "跟进阶段", "op": "eq", "value": "商务谈判"}
        ]}),
    );
    let with_previous = Facts::new(&after, now()).with_previous(&before);
    assert!(moved.evaluate(&with_previous));
    assert!(!moved.evaluate(&Facts::new(&before, now()).with_previous(&after)));
    // Without the previous record, `old` reads the current one.
    assert!(!moved.evaluate(&Facts::new(&after, now())));
    let old_is_new = compile(&schema, &Condition::old_value("跟进阶段").eq("商务谈判"));
    assert!(old_is_new.evaluate(&Facts::new(&after, now())));
    assert!(!old_is_new.evaluate(&with_previous));
    // A field the event filled in was empty before.
    let was_empty = compile(
        &schema,
        &Condition::all([
            Condition::old_value("备注").is_empty(),
            Condition::new_value("备注").exists(),
            Condition::field("备注").eq("新备注"),
        ]),
    );
    assert!(was_empty.evaluate(&with_previous));
    let unchanged = compile(&schema, &Condition::old_value("预算").eq(100000));
    assert!(unchanged.evaluate(&with_previous));
}

#[test]
fn behaviour_counts_are_false_until_the_engine_supplies_counts() {
    let schema = crm();
    let c = compile_json(
        &schema,
        json!({"count": "page_view", "at_least": 3, "within": "7d",
               "where": {"event": "url", "op": "contains", "value": "pricing"}}),
    );
    assert_eq!(c.count_slots(), 1);
    assert!(!holds(&c, &huawei(&schema)));
    let not = compile_json(
        &schema,
        json!({"not": {"count": "page_view", "at_least": 1, "within": "1d"}}),
    );
    assert!(holds(&not, &huawei(&schema)));
    let two = compile_json(
        &schema,
        json!({"any": [
            {"count": "page_view", "at_least": 3, "within": "7d"},
            {"count": "email_opened", "at_least": 1, "within": "30d"},
            {"field": "VIP", "op": "eq", "value": true}
        ]}),
    );
    assert_eq!(two.count_slots(), 2);
    assert!(holds(&two, &huawei(&schema)));
    assert_eq!(
        compile_json(&schema, json!({"field": "VIP", "op": "exists"})).count_slots(),
        0
    );
}

#[test]
fn facts_carry_the_record_event_previous_and_now() {
    let schema = crm();
    let customer = huawei(&schema);
    let before = bare(&schema);
    let e = Event::new("order_placed", "o-1", at(2024, 5, 20, 8, 0, 0));
    let facts = Facts::new(&customer, now())
        .with_event(&e)
        .with_previous(&before);
    assert_eq!(facts.now, now());
    assert_eq!(facts.event.map(|e| e.id.as_str()), Some("o-1"));
    assert!(facts.previous.is_some_and(|p| p == &before));
    assert!(std::ptr::eq(facts.record, &customer));
}
