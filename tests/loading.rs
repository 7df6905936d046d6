//! Loading rule sets from JSON: syntax errors with line and column, unknown keys, every
//! broken rule reported with its index, id and name.

use crm_rules::{Action, Condition, FireMode, Rule, RuleSet, Schema, Trigger};

use crate::common::load_problems;

/// The problems of a rule set text that must fail to load.
fn problems(text: &str) -> Vec<String> {
    load_problems(&RuleSet::from_json(text).expect_err("the rules should not load"))
}

/// A one-rule set, the rule's JSON on line 2 after two spaces of indent.
fn one_rule(rule: &str) -> String {
    format!("{{\"rules\": [\n  {rule}\n]}}")
}

#[test]
fn a_good_rule_set_loads_with_defaults() {
    let set = RuleSet::from_json(
        r#"{"time_zone": "Asia/Shanghai", "rules": [
          {"id": "won", "name": "成交打标签",
           "trigger": {"type": "field_changed", "field": "客户状态", "to": "成交客户"},
           "actions": [{"type": "add_tag", "tag": "已成交"}]}
        ]}"#,
    )
    .unwrap();
    assert_eq!(set.time_zone.as_deref(), Some("Asia/Shanghai"));
    let rule = &set.rules[0];
    assert!(rule.enabled);
    assert_eq!(rule.priority, 0);
    assert_eq!(rule.fire, FireMode::EveryTime);
    assert_eq!(rule.when, None);
    assert_eq!(rule.group, None);
    assert!(!rule.repeat_in_cascade);
    assert_eq!(
        rule.trigger,
        Trigger::field_changed("客户状态", None, Some("成交客户".into()))
    );
    assert_eq!(rule.actions, [Action::add_tag("已成交")]);
    assert_eq!(
        RuleSet::from_json(r#"{"rules": []}"#).unwrap(),
        RuleSet::default()
    );
}

#[test]
fn rule_json_leaves_out_defaults() {
    let rule = Rule::new("r1", "新线索", Trigger::event("lead_created"))
        .when(Condition::event("source").eq("展会"))
        .action(Action::add_tag("展会线索"));
    assert_eq!(
        serde_json::to_value(&rule).unwrap(),
        serde_json::json!({
            "id": "r1", "name": "新线索",
            "trigger": {"type": "event", "event": "lead_created"},
            "when": {"event": "source", "op": "eq", "value": "展会"},
            "actions": [{"type": "add_tag", "tag": "展会线索"}]
        })
    );
    let full = rule
        .clone()
        .description("展会来的线索")
        .disabled()
        .priority(-3)
        .group("线索")
        .fire(FireMode::WhenBecomesTrue)
        .scope(Condition::field("区域").eq("华东"))
        .stop_when(Condition::field("客户状态").eq("成交客户"));
    assert_eq!(
        serde_json::to_value(&full).unwrap(),
        serde_json::json!({
            "id": "r1", "name": "新线索", "description": "展会来的线索", "enabled": false,
            "trigger": {"type": "event", "event": "lead_created"},
            "scope": {"field": "区域", "op": "eq", "value": "华东"},
            "when": {"event": "source", "op": "eq", "value": "展会"},
            "actions": [{"type": "add_tag", "tag": "展会线索"}],
            "priority": -3, "group": "线索", "fire": "when_becomes_true",
            "expiry": {"stop_when": {"field": "客户状态", "op": "eq", "value": "成交客户"}}
        })
    );
    let set = RuleSet::new([full.clone()]);
    assert_eq!(RuleSet::from_json(&set.to_json().unwrap()).unwrap(), set);
}

#[test]
fn a_syntax_error_gives_line_and_column() {
    let text = "{\n  \"rules\": [\n    {\"id\": \"a\", \"name\": \"A\" \"trigger\": {}}\n  ]\n}";
    let err = RuleSet::from_json(text).unwrap_err();
    assert_eq!(
        load_problems(&err),
        ["line 3, column 29: expected `,` or `}`"]
    );
    let p = &err.problems()[0];
    assert_eq!(
        (p.position, p.rule.as_ref(), p.path.as_str()),
        (Some((3, 29)), None, "")
    );
    assert_eq!(
        err.to_string(),
        "cannot load rules: 1 problem\n  line 3, column 29: expected `,` or `}`"
    );

    assert_eq!(
        problems("{\"rules\": [\n  {\"id\": \"a\",}\n]}"),
        ["line 2, column 14: key must be a string"]
    );
    assert_eq!(
        problems("{\"rules\": [1, 2"),
        ["line 1, column 15: EOF while parsing a list"]
    );
    assert_eq!(problems("{}"), ["line 1, column 2: missing field `rules`"]);
    assert_eq!(
        problems("{\"rules\": []} x"),
        ["line 1, column 15: trailing characters"]
    );
}

#[test]
fn columns_count_characters_as_editors_do() {
    // 新线索 is three characters (nine bytes of UTF-8); the column counts characters.
    let text = one_rule(
        r#"{"id": "r1", "name": "新线索", "trigger": {"type": "event", "event": "lead_created"}, "actions": [], "prority": 1}"#,
    );
    assert_eq!(
        problems(&text),
        [
            "line 2, column 109: rules[0] r1 \"新线索\": prority: unknown field `prority`, expected one of \
          `id`, `name`, `description`, `enabled`, `trigger`, `scope`, `when`, `actions`, \
          `priority`, `group`, `fire`, `expiry`, `repeat_in_cascade`"
        ]
    );
}

#[test]
fn unknown_keys_are_errors_at_every_level() {
    assert_eq!(
        problems("{\"rules\": [], \"timezone\": \"Asia/Shanghai\"}"),
        ["line 1, column 24: timezone: unknown field `timezone`, expected `time_zone` or `rules`"]
    );
    // A typo inside a condition points at the key.
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "r2", "name": "B", "trigger": {"type": "event", "event": "e"}, "when": {"field": "x", "op": "eq", "valeu": 1}, "actions": []}"#
        )),
        [
            "line 2, column 114: rules[0] r2 \"B\": when.valeu: unknown field `valeu`, expected one of `all`, \
          `any`, `not`, `field`, `event`, `old`, `new`, `op`, `value`, `count`, `at_least`, \
          `within`, `days_in_a_row`, `where`"
        ]
    );
    // A typo inside an action points at the end of the action.
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "r3", "name": "C", "trigger": {"type": "event", "event": "e"}, "actions": [{"type": "create_task", "titel": "回访"}]}"#
        )),
        ["line 2, column 123: rules[0] r3 \"C\": actions: unknown field `titel`, expected one of `title`, \
          `description`, `assignee`, `due_in`, `priority`, `window`"]
    );
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "r4", "name": "D", "trigger": {"type": "event", "event": "e", "filter": {}}, "actions": []}"#
        )),
        ["line 2, column 84: rules[0] r4 \"D\": trigger: unknown field `filter`, expected `event` or `where`"]
    );
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "r5", "name": "E", "trigger": {"type": "event", "event": "e"}, "actions": [], "expiry": {"max_fire": 1}}"#
        )),
        [
            "line 2, column 108: rules[0] r5 \"E\": expiry.max_fire: unknown field `max_fire`, expected one of \
          `valid_from`, `valid_until`, `stop_when`, `max_fires`, `cooldown`"
        ]
    );
}

#[test]
fn unknown_kinds_list_the_known_ones() {
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "a", "name": "A", "trigger": {"type": "evnt", "event": "e"}, "actions": []}"#
        )),
        ["line 2, column 53: rules[0] a \"A\": trigger.type: unknown variant `evnt`, expected one of `event`, \
          `field_changed`, `schedule`, `relative`, `inactivity`, `stage_time`"]
    );
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "a", "name": "A", "trigger": {"type": "event", "event": "e"}, "actions": [{"type": "send_sms"}]}"#
        )),
        [
            "line 2, column 102: rules[0] a \"A\": actions[0].type: unknown variant `send_sms`, expected one of \
          `set_field`, `increment`, `add_tag`, `remove_tag`, `assign_owner`, `create_task`, \
          `notify`, `sync`, `request_approval`, `start_sequence`, `ab_split`, `custom`"
        ]
    );
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "a", "name": "A", "trigger": {"type": "event", "event": "e"}, "when": {"field": "x", "op": "equals", "value": 1}, "actions": []}"#
        )),
        ["line 2, column 108: rules[0] a \"A\": when.op: unknown variant `equals`, expected one of `eq`, \
          `ne`, `lt`, `lte`, `gt`, `gte`, `in`, `not_in`, `between`, `has_tag`, `has_any`, \
          `has_all`, `contains`, `starts_with`, `contains_any`, `exists`, `is_empty`, \
          `older_than`, `within_last`, `due_within`"]
    );
}

#[test]
fn conditions_take_exactly_one_form() {
    let rule = |when: &str| {
        one_rule(&format!(
            r#"{{"id": "a", "name": "A", "trigger": {{"type": "event", "event": "e"}}, "when": {when}, "actions": []}}"#
        ))
    };
    let message = |when: &str| {
        let p = problems(&rule(when));
        assert_eq!(p.len(), 1, "{p:?}");
        let text = &p[0];
        let at = text.find("rules[0] a \"A\": ").expect("names the rule");
        text[at + "rules[0] a \"A\": ".len()..].to_owned()
    };
    assert_eq!(
        message(r#"{"field": "x", "event": "y", "op": "eq", "value": 1}"#),
        "when: a condition takes only one of all, any, not, field, event, old, new or count; found field and event"
    );
    assert_eq!(
        message(r#"{"op": "eq", "value": 1}"#),
        "when: a condition needs one of the keys all, any, not, field, event, old, new or count"
    );
    assert_eq!(
        message("{}"),
        "when: a condition needs one of the keys all, any, not, field, event, old, new or count"
    );
    assert_eq!(
        message(r#"{"field": "x", "value": 1}"#),
        "when: a comparison on `field` needs `op`"
    );
    assert_eq!(
        message(r#"{"old": "x"}"#),
        "when: a comparison on `old` needs `op`"
    );
    assert_eq!(
        message(r#"{"all": [], "op": "eq"}"#),
        "when: `op, value, at_least, within, days_in_a_row and where` do not belong in a condition with `all`"
    );
    assert_eq!(
        message(r#"{"field": "x", "op": "exists", "within": "3d"}"#),
        "when: `at_least, within, days_in_a_row and where` do not belong in a condition with `field`"
    );
    assert_eq!(
        message(r#"{"count": "page_view", "at_least": 1, "within": "1d", "op": "gte"}"#),
        "when: `op and value` do not belong in a condition with `count`"
    );
    assert_eq!(
        message(r#"{"count": "page_view", "within": "7d"}"#),
        "when: a count needs `at_least`"
    );
    assert_eq!(
        message(r#"{"count": "page_view", "at_least": 3}"#),
        "when: a count needs `within`, a duration such as 7d"
    );
    assert_eq!(
        message(r#"{"count": "page_view", "at_least": 3, "within": "7 days"}"#),
        "when: invalid duration \"7 days\": expected a number followed by w, d, h, m or s, as in 3d"
    );
    assert_eq!(
        message(r#"{"count": "page_view", "at_least": -1, "within": "7d"}"#),
        "when.at_least: invalid value: integer `-1`, expected u32"
    );
    assert_eq!(
        message(r#"{"count": "call_failed", "days_in_a_row": 3, "at_least": 3}"#),
        "when: a count takes `days_in_a_row`, or `at_least` and `within`, not both"
    );
    assert_eq!(
        message(r#"{"field": "x", "op": "eq", "value": 1, "days_in_a_row": 3}"#),
        "when: `at_least, within, days_in_a_row and where` do not belong in a condition with `field`"
    );
    // The days form reads back as written.
    let rules = RuleSet::from_json(
        r#"{"rules": [{"id": "a", "name": "A", "trigger": {"type": "event", "event": "call_failed"},
          "when": {"count": "call_failed", "days_in_a_row": 3}, "actions": []}]}"#,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&rules.rules[0].when).unwrap(),
        serde_json::json!({"count": "call_failed", "days_in_a_row": 3})
    );
}

#[test]
fn bad_durations_and_times_are_load_errors() {
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "a", "name": "A", "trigger": {"type": "event", "event": "e"}, "actions": [], "expiry": {"cooldown": "3x"}}"#
        )),
        [
            "line 2, column 114: rules[0] a \"A\": expiry: invalid duration \"3x\": expected a number \
          followed by w, d, h, m or s, as in 3d"
        ]
    );
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "a", "name": "A", "trigger": {"type": "schedule", "every": "day", "at": "9:00"}, "actions": []}"#
        )),
        [
            "line 2, column 88: rules[0] a \"A\": trigger: invalid time of day \"9:00\": expected HH:MM \
          from 00:00 to 23:59"
        ]
    );
    assert_eq!(
        problems(&one_rule(
            r#"{"id": "a", "name": "A", "trigger": {"type": "event", "event": "e"}, "actions": [], "expiry": {"valid_from": "2024-05-20"}}"#
        )),
        ["line 2, column 124: rules[0] a \"A\": expiry: expected an RFC 3339 date-time such as 2024-05-20T09:00:00+08:00, found \"2024-05-20\""]
    );
}

#[test]
fn every_broken_rule_is_reported_with_its_index_id_and_name() {
    let text = r#"{"rules": [
  {"id": "ok-1", "name": "好的", "trigger": {"type": "event", "event": "e"}, "actions": []},
  {"id": "r1", "name": "缺触发", "actions": []},
  {"id": 7, "name": "数字编号", "trigger": {"type": "event", "event": "e"}, "actions": []},
  {"name": "无编号", "trigger": {"type": "event", "event": "e"}, "actions": [], "prority": 1},
  {"id": "ok-2", "name": "好的", "trigger": {"type": "event", "event": "e"}, "actions": []},
  "not a rule",
  {"id": "r6", "trigger": {"type": "event", "event": "e"}, "actions": {}}
]}"#;
    let err = RuleSet::from_json(text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot load rules: 5 problems\n  \
         line 3, column 44: rules[1] r1 \"缺触发\": missing field `trigger`\n  \
         line 4, column 10: rules[2] \"数字编号\": id: invalid type: integer `7`, expected a string\n  \
         line 5, column 86: rules[3] \"无编号\": prority: unknown field `prority`, expected one of `id`, \
         `name`, `description`, `enabled`, `trigger`, `scope`, `when`, `actions`, `priority`, \
         `group`, `fire`, `expiry`, `repeat_in_cascade`\n  \
         line 7, column 14: rules[5]: invalid type: string \"not a rule\", expected struct Rule\n  \
         line 8, column 70: rules[6] r6: actions: invalid type: map, expected a sequence"
    );
    let refs: Vec<(usize, &str, &str)> = err
        .problems()
        .iter()
        .map(|p| {
            let r = p.rule.as_ref().expect("names the rule");
            (r.index, r.id.as_str(), r.name.as_str())
        })
        .collect();
    assert_eq!(
        refs,
        [
            (1, "r1", "缺触发"),
            (2, "", "数字编号"),
            (3, "", "无编号"),
            (5, "", ""),
            (6, "r6", ""),
        ]
    );
}

#[test]
fn deep_nesting_in_json_is_an_error_not_a_crash() {
    let depth = 10_000;
    let when = format!(
        "{}{{\"field\": \"x\", \"op\": \"exists\"}}{}",
        "{\"not\": ".repeat(depth),
        "}".repeat(depth)
    );
    let text = one_rule(&format!(
        r#"{{"id": "deep", "name": "深", "trigger": {{"type": "event", "event": "e"}}, "when": {when}, "actions": []}}"#
    ));
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].ends_with(": rules[0] deep \"深\": recursion limit exceeded"),
        "{}",
        p[0]
    );
    // A nesting serde_json accepts loads; the compiler's depth limit then applies.
    let when = format!(
        "{}{{\"field\": \"x\", \"op\": \"exists\"}}{}",
        "{\"not\": ".repeat(100),
        "}".repeat(100)
    );
    let set = RuleSet::from_json(&one_rule(&format!(
        r#"{{"id": "deep", "name": "深", "trigger": {{"type": "event", "event": "e"}}, "when": {when}, "actions": []}}"#
    )))
    .unwrap();
    assert!(matches!(set.rules[0].when, Some(Condition::Not(_))));
}

#[test]
fn size_limits_apply_when_loading() {
    let many = format!("{{\"rules\": [{}0]}}", "0,".repeat(100_000));
    assert_eq!(problems(&many), ["rules: more than 100000 rules"]);
    let huge = format!(
        "{{\"rules\": [], \"time_zone\": \"{}\"}}",
        "x".repeat(64 << 20)
    );
    assert_eq!(problems(&huge), ["the text is larger than 67108864 bytes"]);
    assert_eq!(
        load_problems(&crm_rules::Schema::from_json(&huge).unwrap_err()),
        ["the text is larger than 67108864 bytes"]
    );
}

#[test]
fn regression_writing_a_too_deep_condition_is_an_error_not_a_stack_overflow() {
    let mut c = Condition::field("VIP").eq(true);
    for _ in 0..10_000 {
        c = Condition::negate(c);
    }
    let err = serde_json::to_string(&c).unwrap_err();
    assert_eq!(
        err.to_string(),
        "conditions are nested deeper than 60 levels"
    );
    let set = RuleSet::new([Rule::new("deep", "深", Trigger::event("lead_created")).when(c)]);
    assert!(set.to_json().is_err());
}

#[test]
fn regression_a_top_level_that_is_not_an_object_is_refused_plainly() {
    let err = RuleSet::from_json("[]").unwrap_err();
    assert_eq!(
        err.problems()[0].to_string(),
        "expected a JSON object {\"rules\": [...]}, found a list"
    );
    let err = RuleSet::from_json("[null, []]").unwrap_err();
    assert_eq!(
        err.problems()[0].to_string(),
        "expected a JSON object {\"rules\": [...]}, found a list"
    );
    let err = Schema::from_json("\"abc\"").unwrap_err();
    assert_eq!(
        err.problems()[0].to_string(),
        "expected a JSON object {\"fields\": [...]}, found \"abc\""
    );
    let err = Schema::from_json("[1,").unwrap_err();
    assert_eq!(err.problems()[0].position, Some((1, 3)));
}
