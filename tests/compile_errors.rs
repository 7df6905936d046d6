//! Compiling rule sets against a schema: every problem with its rule and path, all at once.

use crm_rules::{
    Action, Condition, FireMode, Limits, Problem, Rule, RuleRef, RuleSet, Schema, Trigger, Variant,
};
use serde_json::{json, Value as Json};

use crate::common::{build_problems, condition_problems, crm, crm_with_events};

/// A rule's JSON: an event rule with one action, with `extra` keys replacing the defaults.
fn rule(id: &str, name: &str, extra: Json) -> Json {
    let mut r = json!({
        "id": id, "name": name,
        "trigger": {"type": "event", "event": "lead_created"},
        "actions": [{"type": "add_tag", "tag": "新线索"}]
    });
    for (k, v) in extra.as_object().expect("an object") {
        r[k] = v.clone();
    }
    r
}

/// Loads a rule set from JSON (which must load) and compiles it against `schema`,
/// which must fail: the text of every problem.
fn problems_in(schema: &Schema, set: Json) -> Vec<String> {
    let rules = RuleSet::from_json(&set.to_string()).unwrap_or_else(|e| panic!("{e}"));
    match rules.compile(schema) {
        Ok(_) => panic!("{set} compiled, but should not"),
        Err(e) => build_problems(&e),
    }
}

/// The problems of one rule (given by its extra keys) against the CRM schema.
fn problems(extra: Json) -> Vec<String> {
    problems_in(&crm(), json!({"rules": [rule("r", "规则", extra)]}))
}

/// The same, against the CRM schema with declared events.
fn problems_with_events(extra: Json) -> Vec<String> {
    problems_in(
        &crm_with_events(),
        json!({"rules": [rule("r", "规则", extra)]}),
    )
}

/// Compiles against the CRM schema, which must succeed.
fn compiles(set: Json) -> crm_rules::CompiledRules {
    let rules = RuleSet::from_json(&set.to_string()).unwrap_or_else(|e| panic!("{e}"));
    rules
        .compile(&crm())
        .unwrap_or_else(|e| panic!("{set}: {e}"))
}

fn p(text: &str) -> String {
    format!("rules[0] r \"规则\": {text}")
}

#[test]
fn a_wrong_literal_type_names_the_rule_and_the_path() {
    let set = json!({"rules": [
        rule("lead-1", "新线索", json!({})),
        rule("lead-2", "展会线索", json!({})),
        rule("big", "大客户", json!({"when": {"field": "预算", "op": "gte", "value": 500000}})),
        rule("new-3d", "新客户3天未跟进提醒", json!({
            "trigger": {"type": "relative", "field": "创建时间", "after": "3d", "at": "09:00"},
            "when": {"all": [
                {"field": "客户状态", "op": "eq", "value": "新客户"},
                {"field": "预算", "op": "gte", "value": "abc"}
            ]}
        })),
    ]});
    let rules = RuleSet::from_json(&set.to_string()).unwrap();
    let err = rules.compile(&crm()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "build failed: 1 problem\n  rules[3] new-3d \"新客户3天未跟进提醒\": when.all[1].value: expected a number, found \"abc\""
    );
    assert_eq!(
        err.problems(),
        [Problem {
            rule: Some(RuleRef {
                index: 3,
                id: "new-3d".into(),
                name: "新客户3天未跟进提醒".into()
            }),
            path: "when.all[1].value".into(),
            position: None,
            message: "expected a number, found \"abc\"".into(),
        }]
    );
}

#[test]
fn duplicate_ids_name_the_first_rule_with_the_id() {
    let set = json!({"rules": [
        rule("a", "一", json!({})),
        rule("b", "二", json!({})),
        rule("a", "三", json!({})),
        rule("a", "四", json!({})),
    ]});
    assert_eq!(
        problems_in(&crm(), set),
        [
            "rules[2] a \"三\": id: duplicate id \"a\": rules[0] has it too",
            "rules[3] a \"四\": id: duplicate id \"a\": rules[0] has it too",
        ]
    );
}

#[test]
fn empty_ids_and_names_are_refused() {
    let set = json!({"rules": [rule("", " ", json!({}))]});
    assert_eq!(
        problems_in(&crm(), set),
        [
            "rules[0] \" \": id: the rule id is empty",
            "rules[0] \" \": name: the rule name is empty"
        ]
    );
}

#[test]
fn unknown_fields_suggest_the_nearest_name() {
    assert_eq!(
        problems(json!({"when": {"all": [
            {"field": "客户装态", "op": "eq", "value": "新客户"},
            {"field": "行业", "op": "eq", "value": "通信"},
            {"old": "跟进阶断", "op": "exists"}
        ]}})),
        [
            p("when.all[0].field: unknown field \"客户装态\"; did you mean \"客户状态\"?"),
            p("when.all[1].field: unknown field \"行业\""),
            p("when.all[2].old: unknown field \"跟进阶断\"; did you mean \"跟进阶段\"?"),
        ]
    );
    assert_eq!(
        problems(json!({"actions": [{"type": "set_field", "field": "客户状", "value": "新客户"}]})),
        [p(
            "actions[0].field: unknown field \"客户状\"; did you mean \"客户状态\"?"
        )]
    );
}

#[test]
fn a_choice_value_outside_the_options_suggests_the_nearest() {
    assert_eq!(
        problems(json!({"when": {"field": "客户状态", "op": "eq", "value": "成交客戶"}})),
        [p(
            "when.value: \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?"
        )]
    );
    assert_eq!(
        problems(json!({"when": {"field": "客户状态", "op": "in", "value": ["新客户", "老客户", "完全不同"]}})),
        [
            p("when.value[1]: \"老客户\" is not an option of 客户状态; did you mean \"新客户\"?"),
            p("when.value[2]: \"完全不同\" is not an option of 客户状态 (options: 新客户, 意向客户, 成交客户, 流失客户)"),
        ]
    );
    assert_eq!(
        problems(json!({"when": {"field": "产品兴趣", "op": "has_any", "value": ["CRM", "OA"]}})),
        [p(
            "when.value[1]: \"OA\" is not an option of 产品兴趣 (options: CRM, ERP, BI)"
        )]
    );
    assert_eq!(
        problems(json!({"when": {"field": "产品兴趣", "op": "has_tag", "value": "ERM"}})),
        [p(
            "when.value: \"ERM\" is not an option of 产品兴趣; did you mean \"CRM\"?"
        )]
    );
    assert_eq!(
        problems(
            json!({"trigger": {"type": "field_changed", "field": "跟进阶段", "from": "需求确定", "to": "商务谈判"}})
        ),
        [p(
            "trigger.from: \"需求确定\" is not an option of 跟进阶段; did you mean \"需求确认\"?"
        )]
    );
    assert_eq!(
        problems(json!({"actions": [{"type": "set_field", "field": "客户状态", "value": "成交"}]})),
        [p("actions[0].value: \"成交\" is not an option of 客户状态 (options: 新客户, 意向客户, 成交客户, 流失客户)")]
    );
}

#[test]
fn literals_must_fit_the_field_type() {
    assert_eq!(
        problems(json!({"when": {"any": [
            {"field": "跟进次数", "op": "eq", "value": 2.5},
            {"field": "VIP", "op": "eq", "value": "是"},
            {"field": "创建时间", "op": "gt", "value": "2024-05-20"},
            {"field": "合同到期日", "op": "lt", "value": "2024/06/30"},
            {"field": "标签", "op": "eq", "value": "VIP"},
            {"field": "区域", "op": "eq", "value": 3},
            {"field": "客户状态", "op": "eq", "value": null},
            {"field": "客户状态", "op": "eq"}
        ]}})),
        [
            p("when.any[0].value: expected an integer, found 2.5"),
            p("when.any[1].value: expected true or false, found \"是\""),
            p("when.any[2].value: expected a date-time (RFC 3339, e.g. 2024-05-20T09:00:00+08:00), found \"2024-05-20\""),
            p("when.any[3].value: expected a date (YYYY-MM-DD), found \"2024/06/30\""),
            p("when.any[4].value: expected a list of texts, found \"VIP\" (use has_tag for one tag)"),
            p("when.any[5].value: expected a text, found 3"),
            p("when.any[6].value: null is not a value; use the is_empty or exists operators"),
            p("when.any[7].value: a value is needed"),
        ]
    );
}

#[test]
fn operators_must_apply_to_the_field_type() {
    assert_eq!(
        problems(json!({"when": {"any": [
            {"field": "客户名称", "op": "gt", "value": "华"},
            {"field": "VIP", "op": "between", "value": [false, true]},
            {"field": "客户名称", "op": "has_tag", "value": "VIP"},
            {"field": "标签", "op": "in", "value": ["VIP"]},
            {"field": "预算", "op": "contains", "value": "5"},
            {"field": "标签", "op": "starts_with", "value": "V"},
            {"field": "预算", "op": "older_than", "value": "3d"},
            {"field": "客户状态", "op": "within_last", "value": "3d"}
        ]}})),
        [
            p("when.any[0].op: `gt` orders numbers, dates and date-times; \"客户名称\" is a text field"),
            p("when.any[1].op: `between` orders numbers, dates and date-times; \"VIP\" is a bool field"),
            p("when.any[2].op: `has_tag` applies to tags and multiple choices; \"客户名称\" is not a list (use eq or in)"),
            p("when.any[3].op: \"标签\" is a list; use has_any or has_all"),
            p("when.any[4].op: `contains` applies to texts; \"预算\" is not a text"),
            p("when.any[5].op: `starts_with` applies to texts; \"标签\" is not a text"),
            p("when.any[6].op: `older_than` applies to dates and date-times; \"预算\" is not one"),
            p("when.any[7].op: `within_last` applies to dates and date-times; \"客户状态\" is not one"),
        ]
    );
}

#[test]
fn operator_values_have_the_right_shape() {
    assert_eq!(
        problems(json!({"when": {"any": [
            {"field": "备注", "op": "exists", "value": true},
            {"field": "预算", "op": "between", "value": [500000, 100000]},
            {"field": "预算", "op": "between", "value": 100000},
            {"field": "预算", "op": "between", "value": [1, 2, 3]},
            {"field": "客户状态", "op": "in", "value": []},
            {"field": "客户状态", "op": "in", "value": "新客户"},
            {"field": "标签", "op": "has_tag", "value": ""},
            {"field": "标签", "op": "has_any", "value": ["VIP", 3]},
            {"field": "备注", "op": "contains", "value": ""},
            {"field": "备注", "op": "contains_any", "value": []}
        ]}})),
        [
            p("when.any[0].value: `exists` takes no value"),
            p("when.any[1].value: the low end 500000 is above the high end 100000"),
            p("when.any[2].value: `between` needs a list of two values [low, high], found 100000"),
            p("when.any[3].value: `between` needs a list of two values [low, high], found a list"),
            p("when.any[4].value: the list is empty"),
            p("when.any[5].value: expected a list of values, found \"新客户\""),
            p("when.any[6].value: expected a tag, found \"\""),
            p("when.any[7].value[1]: expected a text, found 3"),
            p("when.any[8].value: expected a non-empty text, found \"\""),
            p("when.any[9].value: the list is empty"),
        ]
    );
}

#[test]
fn empty_all_and_any_are_refused() {
    assert_eq!(
        problems(json!({"when": {"all": []}})),
        [p("when.all: `all` needs at least one condition")]
    );
    assert_eq!(
        problems(json!({"scope": {"any": [{"all": []}, {"not": {"any": []}}]}})),
        [
            p("scope.any[0].all: `all` needs at least one condition"),
            p("scope.any[1].not.any: `any` needs at least one condition"),
        ]
    );
}

#[test]
fn bad_durations_are_refused() {
    assert_eq!(
        problems(json!({
            "when": {"any": [
                {"field": "最近跟进时间", "op": "older_than", "value": "3x"},
                {"field": "最近跟进时间", "op": "within_last", "value": 3},
                {"field": "合同到期日", "op": "due_within", "value": "101y"},
                {"count": "page_view", "at_least": 0, "within": "0s"}
            ]}
        })),
        [
            p("when.any[0].value: invalid duration \"3x\": expected a number followed by w, d, h, m or s, as in 3d"),
            p("when.any[1].value: expected a duration such as \"3d\", found 3"),
            p("when.any[2].value: invalid duration \"101y\": expected a number followed by w, d, h, m or s, as in 3d"),
            p("when.any[3].at_least: must be at least 1 (a count of 0 always holds)"),
            p("when.any[3].within: the window must be longer than 0"),
        ]
    );
    assert_eq!(
        problems(json!({"trigger": {"type": "inactivity", "events": ["login"], "for": "0s"}})),
        [p("trigger.for: the duration must be longer than 0")]
    );
}

#[test]
fn bad_time_zones_are_refused_where_they_are_written() {
    let set = json!({"time_zone": "Asia/Shangai", "rules": [
        rule("r", "规则", json!({
            "trigger": {"type": "schedule", "every": "day", "at": "09:00", "time_zone": "Beijing"},
            "actions": [{"type": "create_task", "title": "回访",
                         "window": {"start": "09:00", "end": "18:00", "time_zone": "CST+8"}}]
        }))
    ]});
    assert_eq!(
        problems_in(&crm(), set),
        [
            "time_zone: unknown time zone \"Asia/Shangai\" (expected an IANA name such as Asia/Shanghai)",
            &p("trigger.time_zone: unknown time zone \"Beijing\" (expected an IANA name such as Asia/Shanghai)"),
            &p("actions[0].window.time_zone: unknown time zone \"CST+8\" (expected an IANA name such as Asia/Shanghai)"),
        ]
    );
}

#[test]
fn a_b_splits_need_positive_weights() {
    let variant = |name: &str, weight: u64| json!({"name": name, "weight": weight, "actions": [{"type": "add_tag", "tag": name}]});
    assert_eq!(
        problems(
            json!({"actions": [{"type": "ab_split", "experiment": "欢迎语", "variants": [variant("A", 1), variant("B", 0)]}]})
        ),
        [p(
            "actions[0].variants[1].weight: the weight must be positive"
        )]
    );
    assert_eq!(
        problems(
            json!({"actions": [{"type": "ab_split", "experiment": "欢迎语", "variants": [variant("A", 1)]}]})
        ),
        [p(
            "actions[0].variants: an A/B split needs at least two variants"
        )]
    );
    assert_eq!(
        problems(
            json!({"actions": [{"type": "ab_split", "experiment": "欢迎语", "variants": [variant("A", 4294967295), variant("A", 1)]}]})
        ),
        [
            p("actions[0].variants[1].name: the variant name \"A\" is used twice"),
            p("actions[0].variants: the weights add up to more than 4294967295"),
        ]
    );
}

#[test]
fn templates_must_name_known_fields() {
    assert_eq!(
        problems(json!({"actions": [
            {"type": "notify", "channel": "in_app", "to": ["owner"], "subject": "{{客户}}", "template": "{{客户名}} 的预算是 {{预 算}}"},
            {"type": "create_task", "title": "  "},
            {"type": "create_task", "title": "回访 {{客户名称", "description": "{{}}"}
        ]})),
        [
            p("actions[0].subject: unknown field \"客户\""),
            p("actions[0].template: unknown field \"客户名\"; did you mean \"客户名称\"?"),
            p("actions[0].template: unknown field \"预 算\"; did you mean \"预算\"?"),
            p("actions[1].title: the template is empty"),
            p("actions[2].title: a placeholder `{{` is not closed with `}}`"),
            p("actions[2].description: a placeholder `{{}}` names no field"),
        ]
    );
}

fn not_nested(depth: usize) -> Condition {
    let mut c = Condition::field("VIP").eq(true);
    for _ in 0..depth {
        c = Condition::negate(c);
    }
    c
}

#[test]
fn deep_nesting_built_in_rust_is_an_error_not_a_stack_overflow() {
    let schema = crm();
    let deep = not_nested(10_000);
    let err = deep.compile(&schema).unwrap_err();
    assert_eq!(err.problems().len(), 1);
    assert_eq!(err.problems()[0].path, vec!["not"; 33].join("."));
    assert_eq!(
        err.problems()[0].message,
        "conditions are nested deeper than 32 levels"
    );

    let rules = RuleSet::new([Rule::new("deep", "深", Trigger::event("lead_created"))
        .when(not_nested(10_000))
        .action(Action::add_tag("x"))]);
    let err = rules.compile(&schema).unwrap_err();
    assert_eq!(
        build_problems(&err),
        [format!(
            "rules[0] deep \"深\": when.{}: conditions are nested deeper than 32 levels",
            vec!["not"; 33].join(".")
        )]
    );
    // 32 levels are fine; the limit can be lowered.
    let rules = RuleSet::new([Rule::new("ok", "浅", Trigger::event("lead_created"))
        .when(not_nested(32))
        .action(Action::add_tag("x"))]);
    rules.compile(&schema).unwrap();
    let err = rules
        .compile_with(&schema, &Limits::default().max_depth(2))
        .unwrap_err();
    assert_eq!(
        build_problems(&err),
        ["rules[0] ok \"浅\": when.not.not.not: conditions are nested deeper than 2 levels"]
    );
}

#[test]
fn deep_nesting_of_actions_is_bounded() {
    // Built in Rust: JSON this deep would hit serde_json's own recursion limit first.
    let mut actions = vec![Action::add_tag("x")];
    for i in 0..40 {
        actions = vec![Action::AbSplit {
            experiment: format!("e{i}"),
            variants: vec![
                Variant {
                    name: "A".into(),
                    weight: 1,
                    actions,
                },
                Variant {
                    name: "B".into(),
                    weight: 1,
                    actions: vec![Action::add_tag("y")],
                },
            ],
        }];
    }
    let mut rule = Rule::new("r", "规则", Trigger::event("lead_created"));
    rule.actions = actions;
    let err = RuleSet::new([rule]).compile(&crm()).unwrap_err();
    // Both variants at the 33rd level are too deep; nothing deeper is looked at.
    let above = format!("actions{}", "[0].variants[0].actions".repeat(32));
    assert_eq!(
        build_problems(&err),
        [
            p(&format!(
                "{above}[0].variants[0].actions: actions are nested deeper than 32 levels"
            )),
            p(&format!(
                "{above}[0].variants[1].actions: actions are nested deeper than 32 levels"
            )),
        ]
    );
}

#[test]
fn limits_on_rule_count_actions_and_text_size() {
    let schema = crm();
    let set = RuleSet::new((0..3).map(|i| {
        Rule::new(format!("r{i}"), "规则", Trigger::event("lead_created"))
            .action(Action::add_tag("x"))
    }));
    set.compile(&schema).unwrap();
    assert_eq!(
        build_problems(
            &set.compile_with(&schema, &Limits::default().max_rules(2))
                .unwrap_err()
        ),
        ["rules: more than 2 rules"]
    );
    assert_eq!(
        build_problems(
            &set.compile_with(&schema, &Limits::default().max_actions(0))
                .unwrap_err()
        ),
        [
            "rules[0] r0 \"规则\": actions: the rule has more than 0 actions",
            "rules[1] r1 \"规则\": actions: the rule has more than 0 actions",
            "rules[2] r2 \"规则\": actions: the rule has more than 0 actions",
        ]
    );
    let wordy = RuleSet::new([Rule::new("w", "长文本", Trigger::event("lead_created"))
        .description("十一个字的描述文字啊啊")
        .when(Condition::field("备注").contains("十一个字的关键词啊啊啊"))
        .action(Action::task("十个字的任务标题啊啊"))
        .action(Action::task("十一个字的任务标题啊啊"))]);
    wordy.compile(&schema).unwrap();
    assert_eq!(
        build_problems(
            &wordy
                .compile_with(&schema, &Limits::default().max_text_chars(10))
                .unwrap_err()
        ),
        [
            "rules[0] w \"长文本\": description: the text is longer than 10 characters",
            "rules[0] w \"长文本\": when.value: the text is longer than 10 characters",
            "rules[0] w \"长文本\": actions[1].title: the text is longer than 10 characters",
        ]
    );
    let long_id = "i".repeat(201);
    let err = problems_in(
        &schema,
        json!({"rules": [rule(&long_id, "规则", json!({}))]}),
    );
    assert_eq!(
        err,
        [format!(
            "rules[0] {long_id} \"规则\": id: the rule id is longer than 200 characters"
        )]
    );
}

#[test]
fn default_limits() {
    let limits = Limits::default();
    assert_eq!(
        (
            limits.max_rules,
            limits.max_depth,
            limits.max_actions,
            limits.max_name_chars,
            limits.max_text_chars
        ),
        (100_000, 32, 200, 200, 10_000)
    );
    assert_eq!(
        (
            limits.max_list_items,
            limits.max_fields,
            limits.max_text_bytes
        ),
        (10_000, 10_000, 64 << 20)
    );
}

#[test]
fn declared_events_check_kinds_and_attributes() {
    assert_eq!(
        problems_with_events(json!({"trigger": {"type": "event", "event": "lead_create"}})),
        [p(
            "trigger.event: unknown event kind \"lead_create\"; did you mean \"lead_created\"?"
        )]
    );
    assert_eq!(
        problems_with_events(json!({"trigger": {"type": "event", "event": "lead_created",
            "where": {"any": [
                {"event": "sorce", "op": "eq", "value": "展会活动"},
                {"event": "source", "op": "eq", "value": "展会"},
                {"event": "amount", "op": "gte", "value": "abc"}
            ]}}})),
        [
            p("trigger.where.any[0].event: event lead_created has no attribute \"sorce\" (it has: source, amount)"),
            p("trigger.where.any[1].value: \"展会\" is not an option of source (options: 展会活动, 官网表单)"),
            p("trigger.where.any[2].value: expected a number, found \"abc\""),
        ]
    );
    assert_eq!(
        problems_with_events(json!({
            "trigger": {"type": "event", "event": "email_opened"},
            "when": {"event": "campaign", "op": "exists"}
        })),
        [p(
            "when.event: event email_opened has no attribute \"campaign\" (it has: )"
        )]
    );
    assert_eq!(
        problems_with_events(json!({
            "when": {"count": "page_view", "at_least": 3, "within": "7d"},
            "trigger": {"type": "inactivity", "events": ["login"], "for": "30d"}
        })),
        [
            p("trigger.events[0]: unknown event kind \"login\""),
            p("when.count: unknown event kind \"page_view\""),
        ]
    );
    // Without declared events, any kind and attribute is accepted.
    compiles(json!({"rules": [rule("r", "规则", json!({
        "trigger": {"type": "event", "event": "page_view", "where": {"event": "url", "op": "contains", "value": "pricing"}}
    }))]}));
}

#[test]
fn rules_that_run_on_time_have_no_event_to_read() {
    assert_eq!(
        problems(json!({
            "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
            "when": {"event": "source", "op": "eq", "value": "展会"},
            "expiry": {"stop_when": {"event": "source", "op": "exists"}}
        })),
        [
            p("when.event: no event to read \"source\" from: the rule is triggered by time, not by an event"),
            p("expiry.stop_when.event: no event to read \"source\" from: the stop condition is about the customer, not an event"),
        ]
    );
}

#[test]
fn when_becomes_true_needs_a_when() {
    assert_eq!(
        problems(json!({"fire": "when_becomes_true"})),
        [p(
            "fire: when_becomes_true needs a `when` condition to become true"
        )]
    );
    let ok = Rule::new("r", "规则", Trigger::event("lead_created"))
        .when(Condition::field("VIP").eq(true))
        .fire(FireMode::WhenBecomesTrue)
        .action(Action::add_tag("x"));
    RuleSet::new([ok]).compile(&crm()).unwrap();
}

#[test]
fn validity_must_start_before_it_ends() {
    assert_eq!(
        problems(json!({"expiry": {"valid_from": "2024-06-01T00:00:00Z", "valid_until": "2024-01-01T00:00:00+08:00"}})),
        [p("expiry.valid_until: the rule expires (2023-12-31 16:00:00 UTC) before it becomes valid (2024-06-01 00:00:00 UTC)")]
    );
    assert_eq!(
        problems(json!({"expiry": {"valid_from": "2024-06-01T00:00:00Z", "valid_until": "2024-06-01T00:00:00Z"}})),
        [p("expiry.valid_until: the rule expires (2024-06-01 00:00:00 UTC) before it becomes valid (2024-06-01 00:00:00 UTC)")]
    );
    assert_eq!(
        problems(json!({"expiry": {"max_fires": 0}})),
        [p(
            "expiry.max_fires: must be at least 1 (disable the rule instead)"
        )]
    );
}

#[test]
fn triggers_are_checked() {
    assert_eq!(
        problems(
            json!({"trigger": {"type": "relative", "field": "区域", "after": "3d", "before": "1d"}})
        ),
        [
            p("trigger.field: \"区域\" is not a date or date-time field"),
            p("trigger: a relative trigger needs exactly one of `after` and `before`"),
        ]
    );
    assert_eq!(
        problems(
            json!({"trigger": {"type": "schedule", "every": "week", "at": "09:00", "day_of_month": 1}})
        ),
        [
            p("trigger.days: a weekly schedule needs days"),
            p("trigger.day_of_month: day_of_month applies only to monthly schedules"),
        ]
    );
    assert_eq!(
        problems(
            json!({"trigger": {"type": "schedule", "every": "month", "day_of_month": 32, "at": "09:00", "days": ["Mon"]}})
        ),
        [
            p("trigger.days: days apply only to weekly schedules"),
            p("trigger.day_of_month: 32 is not a day of the month (1-31)"),
        ]
    );
    assert_eq!(
        problems(
            json!({"trigger": {"type": "stage_time", "field": "区域", "limits": {"华东": "3d"}}})
        ),
        [p(
            "trigger.field: \"区域\" is not a single-choice stage field"
        )]
    );
    assert_eq!(
        problems(json!({"trigger": {"type": "stage_time", "field": "跟进阶段", "limits": {"商务谈盘": "15d", "赢单": "0s"}}})),
        [
            p("trigger.limits.商务谈盘: \"商务谈盘\" is not an option of 跟进阶段; did you mean \"商务谈判\"?"),
            p("trigger.limits.赢单: the limit must be longer than 0"),
        ]
    );
    assert_eq!(
        problems(
            json!({"trigger": {"type": "field_changed", "field": "客户状态", "from": "新客户", "to": "新客户"}})
        ),
        [p(
            "trigger.to: `from` and `to` are the same value, so the trigger can never fire"
        )]
    );
    assert_eq!(
        problems(json!({"trigger": {"type": "inactivity", "for": "30d"}})),
        [p(
            "trigger: an inactivity trigger needs `events`, `field` or both"
        )]
    );
}

#[test]
fn actions_are_checked_against_the_schema() {
    assert_eq!(
        problems(json!({"actions": [
            {"type": "set_field", "field": "客户名称", "value": null},
            {"type": "set_field", "field": "评分", "value": 6},
            {"type": "set_field", "field": "区域", "value": "华东", "from_now": "1d"},
            {"type": "set_field", "field": "区域", "from_now": "1d"},
            {"type": "increment", "field": "区域"},
            {"type": "increment", "field": "跟进次数", "by": 0.5},
            {"type": "add_tag", "field": "产品兴趣", "tag": "OA"},
            {"type": "add_tag", "field": "区域", "tag": "x"},
            {"type": "assign_owner", "field": "区域", "strategy": {"type": "round_robin", "pool": []}},
            {"type": "notify", "channel": "sms", "to": [], "template": "hi"},
            {"type": "notify", "channel": "email", "to": [{"field": "客户名称"}], "template": "hi"},
            {"type": "sync", "target": "ERP", "mapping": {"客户名称": "name", "区域": "name", "行业": "industry"}}
        ]})),
        [
            p("actions[0].value: \"客户名称\" is required and cannot be cleared"),
            p("actions[1].value: 评分 must be a rating from 1 to 5"),
            p("actions[2]: set_field needs exactly one of `value`, `from_now` and `from_event`"),
            p("actions[3].from_now: \"区域\" is not a date or date-time field"),
            p("actions[4].field: \"区域\" is not a number field"),
            p("actions[5].by: \"跟进次数\" holds integers; 0.5 is not one"),
            p("actions[6].tag: \"OA\" is not an option of 产品兴趣 (options: CRM, ERP, BI)"),
            p("actions[7].field: \"区域\" is not a tags or multiple-choice field"),
            p("actions[8].field: \"区域\" is not a member field"),
            p("actions[8].strategy.pool: the pool is empty"),
            p("actions[9].to: a notification needs at least one recipient"),
            p("actions[10].to[0]: \"客户名称\" is not a member field"),
            p("actions[11].mapping.区域: two fields map to \"name\""),
            p("actions[11].mapping.行业: unknown field \"行业\""),
        ]
    );
}

#[test]
fn owner_actions_need_an_owner_field() {
    let schema = Schema::from_json(
        r#"{"fields": [{"name": "客户名称", "type": "text"}, {"name": "标签", "type": "tags"}, {"name": "类别", "type": "tags"}]}"#,
    )
    .unwrap();
    assert_eq!(
        problems_in(&schema, json!({"rules": [rule("r", "规则", json!({"actions": [
            {"type": "assign_owner", "strategy": {"type": "fixed", "user": "li.wei"}},
            {"type": "create_task", "title": "回访"},
            {"type": "add_tag", "tag": "x"}
        ]}))]})),
        [
            p("actions[0].field: name the field: the schema names no owner_field"),
            p("actions[1].assignee: \"owner\" needs the schema to name its owner_field"),
            p("actions[2].field: name the field: the schema has no single tags field to default to"),
        ]
    );
}

#[test]
fn ids_shared_across_the_set_must_be_unique() {
    let seq = |id: &str| {
        json!({"type": "start_sequence", "sequence": id, "steps": [
            {"after": "1d", "actions": [{"type": "add_tag", "tag": "x"}]}
        ]})
    };
    let set = json!({"rules": [
        rule("a", "一", json!({"actions": [seq("培育")]})),
        rule("b", "二", json!({"actions": [seq("培育")]})),
    ]});
    assert_eq!(
        problems_in(&crm(), set),
        ["rules[1] b \"二\": actions[0].sequence: the sequence id \"培育\" is used twice in the rule set"]
    );
}

#[test]
fn delivery_windows_must_end_after_they_start() {
    assert_eq!(
        problems(json!({"actions": [{"type": "create_task", "title": "回访",
            "window": {"start": "18:00", "end": "09:00"}}]})),
        [p(
            "actions[0].window.end: the window ends (09:00) before it starts (18:00)"
        )]
    );
}

#[test]
fn every_problem_of_every_rule_is_reported_at_once() {
    let set = json!({"time_zone": "Mars/Olympus", "rules": [
        rule("ok", "好的", json!({})),
        rule("a", "甲", json!({
            "when": {"all": [
                {"field": "预算", "op": "gte", "value": "abc"},
                {"field": "客户状态", "op": "eq", "value": "成交客戶"}
            ]},
            "actions": [{"type": "notify", "channel": "in_app", "to": ["owner"], "template": "{{客户名}}"}]
        })),
        rule("ok2", "也好", json!({})),
        rule("b", "乙", json!({"fire": "when_becomes_true", "actions": []})),
        rule("a", "丙", json!({"when": {"any": []}})),
    ]});
    assert_eq!(
        problems_in(&crm(), set),
        [
            "time_zone: unknown time zone \"Mars/Olympus\" (expected an IANA name such as Asia/Shanghai)",
            "rules[1] a \"甲\": when.all[0].value: expected a number, found \"abc\"",
            "rules[1] a \"甲\": when.all[1].value: \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?",
            "rules[1] a \"甲\": actions[0].template: unknown field \"客户名\"; did you mean \"客户名称\"?",
            "rules[3] b \"乙\": fire: when_becomes_true needs a `when` condition to become true",
            "rules[3] b \"乙\": actions: at least one action is needed",
            "rules[4] a \"丙\": id: duplicate id \"a\": rules[1] has it too",
            "rules[4] a \"丙\": when.any: `any` needs at least one condition",
        ]
    );
}

#[test]
fn a_good_set_compiles_to_a_summary() {
    let compiled = compiles(json!({"time_zone": "Asia/Shanghai", "rules": [
        rule("lead", "新线索", json!({"actions": [
            {"type": "assign_owner", "strategy": {"type": "round_robin", "pool": ["li.wei", "wang.fang"]}},
            {"type": "create_task", "title": "联系 {{客户名称}}", "due_in": "1d", "priority": "high"}
        ]})),
        rule("won", "成交", json!({
            "trigger": {"type": "field_changed", "field": "客户状态", "to": "成交客户"},
            "actions": [{"type": "ab_split", "experiment": "感谢信", "variants": [
                {"name": "A", "weight": 1, "actions": [{"type": "notify", "channel": "sms", "to": ["owner"], "template": "A"}]},
                {"name": "B", "weight": 3, "actions": [{"type": "notify", "channel": {"custom": "wechat"}, "to": [{"role": "销售经理"}], "template": "B"}]}
            ]}]
        })),
        rule("daily", "每日提醒", json!({
            "enabled": false,
            "trigger": {"type": "schedule", "every": "week", "days": ["Mon", "Thu"], "at": "09:00"},
            "when": {"field": "最近跟进时间", "op": "older_than", "value": "7d"},
            "actions": [{"type": "start_sequence", "sequence": "唤醒", "steps": [
                {"after": "0s", "actions": [{"type": "notify", "channel": "email", "to": [{"field": "客户经理"}], "template": "第一封"}]},
                {"after": "3d", "at": "10:00", "unless_event": ["email_replied"], "actions": [{"type": "increment", "field": "跟进次数"}]}
            ]}]
        })),
        rule("lead2", "展会线索", json!({"trigger": {"type": "event", "event": "lead_created"}})),
    ]}));
    assert_eq!(compiled.len(), 4);
    assert!(!compiled.is_empty());
    assert_eq!(
        compiled.ids().collect::<Vec<_>>(),
        ["lead", "won", "daily", "lead2"]
    );
    let summary = compiled.summary();
    assert_eq!((summary.rules, summary.enabled, summary.actions), (4, 3, 9));
    assert_eq!(
        summary.to_string(),
        "4 rules (3 enabled): 2 event, 1 field_changed, 1 schedule; 9 actions"
    );
}

#[test]
fn conditions_compile_alone_with_paths_from_their_root() {
    let schema = crm();
    assert_eq!(
        condition_problems(
            &schema,
            json!({"all": [
                {"field": "预算", "op": "gte", "value": "abc"},
                {"not": {"field": "客户装态", "op": "eq", "value": "x"}}
            ]})
        ),
        [
            "all[0].value: expected a number, found \"abc\"",
            "all[1].not.field: unknown field \"客户装态\"; did you mean \"客户状态\"?",
        ]
    );
    assert_eq!(
        build_problems(
            &Condition::field("预算")
                .gte("abc")
                .compile(&schema)
                .unwrap_err()
        ),
        ["value: expected a number, found \"abc\""]
    );
}

#[test]
fn null_literals_clear_fields_and_match_empty_values() {
    // `"value": null` in set_field clears an optional field; in a field_changed trigger
    // `null` means "empty". Both survive a round trip through JSON.
    let set = json!({"rules": [
        rule("clear", "清空区域", json!({"actions": [{"type": "set_field", "field": "区域", "value": null}]})),
        rule("first-owner", "首次分配", json!({
            "trigger": {"type": "field_changed", "field": "负责人", "from": null},
            "actions": [{"type": "add_tag", "tag": "已分配"}]
        })),
    ]});
    compiles(set.clone());
    let rules = RuleSet::from_json(&set.to_string()).unwrap();
    assert_eq!(
        rules.rules[0].actions[0],
        Action::SetField {
            field: "区域".into(),
            value: Some(Json::Null),
            from_now: None,
            from_event: None
        }
    );
    assert_eq!(
        rules.rules[1].trigger,
        Trigger::field_changed("负责人", Some(Json::Null), None)
    );
    assert_eq!(
        RuleSet::from_json(&rules.to_json().unwrap()).unwrap(),
        rules
    );
    assert_eq!(
        problems(
            json!({"trigger": {"type": "field_changed", "field": "负责人", "from": null, "to": null}})
        ),
        [p(
            "trigger.to: `from` and `to` are the same value, so the trigger can never fire"
        )]
    );
}

#[test]
fn keys_given_twice_are_load_errors() {
    let text = json!({"rules": [rule("r", "规则", json!({}))]})
        .to_string()
        .replace(
            r#""trigger":{"type":"event","event":"lead_created"}"#,
            r#""trigger":{"type":"stage_time","field":"跟进阶段","limits":{"赢单":"3d","赢单":"5d"}}"#,
        );
    assert!(text.contains("stage_time"), "{text}");
    let err = RuleSet::from_json(&text).unwrap_err();
    let problems: Vec<&str> = err.problems().iter().map(|p| p.message.as_str()).collect();
    assert_eq!(problems, ["the key \"赢单\" is given twice"]);
}

#[test]
fn actions_read_event_attributes_where_there_is_an_event() {
    let good = json!({"rules": [rule("order", "下单", json!({
        "trigger": {"type": "event", "event": "order_placed"},
        "actions": [
            {"type": "set_field", "field": "预算", "from_event": "amount"},
            {"type": "increment", "field": "预算", "by_event": "amount"}
        ]
    }))]});
    RuleSet::from_json(&good.to_string())
        .unwrap()
        .compile(&crm_with_events())
        .unwrap();
    assert_eq!(
        problems_with_events(json!({"actions": [
            {"type": "set_field", "field": "预算", "from_event": "source"},
            {"type": "increment", "field": "预算", "by": 1, "by_event": "amount"},
            {"type": "increment", "field": "跟进次数", "by_event": "amount"},
            {"type": "increment", "field": "预算", "by_event": "source"},
            {"type": "set_field", "field": "预算", "from_event": "amout"}
        ]})),
        [
            p("actions[0].from_event: \"source\" holds a single_choice value; \"预算\" is a number field"),
            p("actions[1]: increment takes `by` or `by_event`, not both"),
            p("actions[2].by_event: \"跟进次数\" holds integers; \"amount\" may not be one"),
            p("actions[3].by_event: \"source\" is a single_choice attribute, not a number"),
            p("actions[4].from_event: event lead_created has no attribute \"amout\" (it has: source, amount)"),
        ]
    );
    assert_eq!(
        problems(json!({
            "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
            "when": {"old": "跟进阶段", "op": "eq", "value": "商务谈判"},
            "actions": [{"type": "set_field", "field": "区域", "from_event": "region"}]
        })),
        [
            p("when.old: there is no earlier value of \"跟进阶段\" to read: the rule is triggered by time, not by an event"),
            p("actions[0].from_event: no event to read \"region\" from: the rule is triggered by time, not by an event"),
        ]
    );
}

#[test]
fn recipients_are_checked() {
    compiles(json!({"rules": [rule("r", "规则", json!({"actions": [
        {"type": "notify", "channel": "sms", "to": [{"contact": "手机号"}], "template": "您好 {{客户名称}}"},
        {"type": "notify", "channel": "email", "to": [{"contact": "邮箱"}, {"field": "客户经理"}],
         "cc": [{"role": "销售经理"}], "template": "您好"}
    ]}))]}));
    assert_eq!(
        problems(json!({"actions": [
            {"type": "notify", "channel": "sms", "to": [{"contact": "区域"}], "template": "hi"},
            {"type": "notify", "channel": "in_app", "to": ["owner", {"user": "li.wei"}, "owner", {"user": "li.wei"}], "template": "hi"},
            {"type": "notify", "channel": {"custom": ""}, "to": [{"user": ""}, {"role": " "}], "template": "hi"}
        ]})),
        [
            p("actions[0].to[0]: \"区域\" is not a phone or e-mail field"),
            p("actions[1].to[2]: \"owner\" is listed twice"),
            p("actions[1].to[3]: {\"user\":\"li.wei\"} is listed twice"),
            p("actions[2].channel.custom: the channel name is empty"),
            p("actions[2].to[0]: the user id is empty"),
            p("actions[2].to[1]: the role is empty"),
        ]
    );
}

#[test]
fn repeated_days_and_events_are_refused() {
    assert_eq!(
        problems(json!({
            "trigger": {"type": "schedule", "every": "week", "days": ["Mon", "Thu", "Mon"], "at": "09:00"},
            "actions": [{"type": "start_sequence", "sequence": "s", "steps": [
                {"after": "1d", "unless_event": ["email_replied", "email_replied"], "actions": [{"type": "add_tag", "tag": "x"}]}
            ]}]
        })),
        [
            p("trigger.days[2]: \"Mon\" is listed twice"),
            p("actions[0].steps[0].unless_event[1]: \"email_replied\" is listed twice"),
        ]
    );
}

#[test]
fn regression_between_on_untyped_values_of_two_kinds_says_so() {
    // Event attributes are untyped when the schema declares no events; `between` used to
    // report "the low end 1 is above the high end x" for values that cannot be ordered.
    assert_eq!(
        problems(json!({"when": {"any": [
            {"event": "amount", "op": "between", "value": [1, "x"]},
            {"event": "vip", "op": "between", "value": [true, false]},
            {"event": "amount", "op": "between", "value": [10, 1]}
        ]}})),
        [
            p("when.any[0].value: `between` needs two numbers, dates or date-times of one kind, found a number and a text"),
            p("when.any[1].value: `between` needs two numbers, dates or date-times of one kind, found a boolean and a boolean"),
            p("when.any[2].value: the low end 10 is above the high end 1"),
        ]
    );
    compiles(
        json!({"rules": [rule("r", "规则", json!({"when": {"event": "amount", "op": "between", "value": [1, 2.5]}}))]}),
    );
}
