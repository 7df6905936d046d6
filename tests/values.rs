//! Values: numbers across integers and decimals, no NaN or infinity, dates against
//! date-times, durations and times of day.

use std::cmp::Ordering;

use crm_rules::{Duration, Number, TimeOfDay, Value};
use serde_json::json;

use crate::common::{at, crm, date, record};

fn dec(x: f64) -> Number {
    Number::decimal(x).expect("finite")
}

#[test]
fn integers_and_decimals_compare_as_numbers() {
    assert_eq!(Number::from(3), dec(3.0));
    assert_eq!(Number::from(500_000), dec(500_000.0));
    assert!(Number::from(3) < dec(3.5));
    assert!(dec(2.5) < Number::from(3));
    assert!(Number::from(-3) > dec(-3.5));
    assert_eq!(Number::from(0), dec(-0.0));
    assert_eq!(dec(0.0), dec(-0.0));
    assert_eq!(Number::from(7).cmp(&dec(6.999)), Ordering::Greater);
    // Exact beyond 2^53, where a cast to f64 would make the two equal.
    assert!(Number::from(9_007_199_254_740_993_i64) > dec(9_007_199_254_740_992.0));
    assert!(Number::from(i64::MAX) < dec(1e19));
    assert!(Number::from(i64::MIN) > dec(-1e19));
    assert!(Number::from(i64::MIN) == dec(-9_223_372_036_854_775_808.0));
}

#[test]
fn number_values_are_the_same_across_forms() {
    assert!(Value::from(3).same(&Value::from(dec(3.0))));
    assert!(!Value::from(3).same(&Value::from(dec(3.25))));
    assert_eq!(
        Value::from(10).compare(&Value::from(dec(9.5))),
        Some(Ordering::Greater)
    );
    // A number is never the same as the text of it.
    assert!(!Value::from(3).same(&Value::from("3")));
    assert_eq!(Value::from(3).compare(&Value::from("3")), None);
}

#[test]
fn number_accessors() {
    assert_eq!(dec(3.0).as_i64(), Some(3));
    assert_eq!(dec(3.5).as_i64(), None);
    assert_eq!(dec(1e19).as_i64(), None);
    assert!(Number::from(3).is_integer());
    assert!(!dec(3.0).is_integer());
    assert_eq!(dec(2.5).as_f64(), 2.5);
    assert_eq!(Number::from(3).to_string(), "3");
    assert_eq!(dec(2.5).to_string(), "2.5");
}

#[test]
fn sums_stay_exact_then_fall_back_to_decimals() {
    assert_eq!(
        Number::from(2).checked_add(Number::from(3)),
        Some(Number::from(5))
    );
    assert!(Number::from(2)
        .checked_add(Number::from(3))
        .is_some_and(Number::is_integer));
    let over = Number::from(i64::MAX)
        .checked_add(Number::from(1))
        .expect("falls back to a decimal");
    assert!(!over.is_integer());
    assert_eq!(over.as_f64(), 9_223_372_036_854_775_808.0);
    assert_eq!(dec(1e308).checked_add(dec(1e308)), None);
}

#[test]
fn nan_and_infinities_are_refused() {
    assert_eq!(Number::decimal(f64::NAN), None);
    assert_eq!(Number::decimal(f64::INFINITY), None);
    assert_eq!(Number::decimal(f64::NEG_INFINITY), None);
    assert_eq!(Number::decimal(f64::MAX), Some(dec(f64::MAX)));
}

#[test]
fn json_cannot_bring_in_nan_or_infinity() {
    // JSON text has no NaN and cannot hold a number that overflows to infinity.
    assert!(serde_json::from_str::<Number>("1e400").is_err());
    assert!(serde_json::from_str::<Number>("NaN").is_err());
    assert!(serde_json::from_str::<Number>("-1e400").is_err());
    assert_eq!(serde_json::from_str::<Number>("2.5").unwrap(), dec(2.5));
    assert_eq!(
        serde_json::from_str::<Number>("-7").unwrap(),
        Number::from(-7)
    );
    // A non-finite f64 becomes null on the way into JSON, which a record reads as absent.
    let schema = crm();
    let budget = schema.field_id("预算").unwrap();
    let customer = record(&schema, json!({"预算": f64::NAN}));
    assert_eq!(customer.get(budget), &Value::Absent);
    let customer = record(&schema, json!({"预算": f64::INFINITY}));
    assert_eq!(customer.get(budget), &Value::Absent);
    // The largest JSON integers are read as finite numbers.
    let customer = record(&schema, json!({"预算": u64::MAX}));
    assert_eq!(
        customer.get(budget),
        &Value::from(dec(18_446_744_073_709_551_615.0))
    );
}

#[test]
fn numbers_serialize_in_their_own_form() {
    assert_eq!(serde_json::to_string(&Number::from(3)).unwrap(), "3");
    assert_eq!(serde_json::to_string(&dec(3.0)).unwrap(), "3.0");
    assert_eq!(serde_json::to_string(&dec(-0.5)).unwrap(), "-0.5");
    assert_eq!(Value::from(dec(2.5)).to_json(), json!(2.5));
}

#[test]
fn a_date_equals_the_start_of_its_day_in_utc() {
    let d = Value::from(date(2024, 5, 20));
    assert!(d.same(&Value::from(at(2024, 5, 20, 0, 0, 0))));
    assert!(!d.same(&Value::from(at(2024, 5, 20, 0, 0, 1))));
    assert_eq!(
        d.compare(&Value::from(at(2024, 5, 20, 0, 0, 1))),
        Some(Ordering::Less)
    );
    assert_eq!(
        d.compare(&Value::from(at(2024, 5, 19, 23, 59, 59))),
        Some(Ordering::Greater)
    );
    assert_eq!(
        Value::from(at(2024, 5, 19, 23, 59, 59)).compare(&d),
        Some(Ordering::Less)
    );
    assert_eq!(
        Value::from(date(2024, 5, 20)).compare(&Value::from(date(2024, 5, 21))),
        Some(Ordering::Less)
    );
}

#[test]
fn date_times_are_read_as_instants_in_utc() {
    let schema = crm();
    let created = schema.field_id("创建时间").unwrap();
    let due = schema.field_id("合同到期日").unwrap();
    let customer = record(
        &schema,
        json!({"创建时间": "2024-05-20T09:00:00+08:00", "合同到期日": "2024-06-30"}),
    );
    assert_eq!(
        customer.get(created),
        &Value::from(at(2024, 5, 20, 1, 0, 0))
    );
    assert_eq!(customer.get(due), &Value::from(date(2024, 6, 30)));
    assert_eq!(
        schema.record_to_json(&customer),
        json!({"创建时间": "2024-05-20T01:00:00Z", "合同到期日": "2024-06-30"})
    );
    assert_eq!(customer.get(created).to_string(), "2024-05-20T01:00:00Z");
    assert_eq!(customer.get(due).to_string(), "2024-06-30");
}

#[test]
fn dates_and_date_times_are_not_interchangeable_in_records() {
    let schema = crm();
    let err = schema
        .record_from_json(&json!({"创建时间": "2024-05-20", "合同到期日": "2024-06-30T00:00:00Z"}))
        .unwrap_err();
    let messages: Vec<String> = err.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "创建时间: expected a date-time (RFC 3339, e.g. 2024-05-20T09:00:00+08:00), found \"2024-05-20\"",
            "合同到期日: expected a date (YYYY-MM-DD), found \"2024-06-30T00:00:00Z\"",
        ]
    );
    let err = schema
        .record([("合同到期日", Value::from(at(2024, 6, 30, 0, 0, 0)))])
        .unwrap_err();
    assert_eq!(
        err.errors()[0].to_string(),
        "合同到期日 (2024-06-30T00:00:00Z): expected a value of type date, found a date-time"
    );
}

#[test]
fn emptiness_and_kinds() {
    assert!(Value::Absent.is_empty());
    assert!(Value::from("").is_empty());
    assert!(Value::from("  \t").is_empty());
    assert!(Value::from(Vec::<String>::new()).is_empty());
    assert!(!Value::from("x").is_empty());
    assert!(!Value::from(0).is_empty());
    assert!(!Value::from(false).is_empty());
    assert!(Value::Absent.is_absent());
    assert!(!Value::from("").is_absent());
    assert_eq!(Value::default(), Value::Absent);
    let kinds: Vec<&str> = [
        Value::Absent,
        Value::from("a"),
        Value::from(1),
        Value::from(true),
        Value::from(date(2024, 1, 1)),
        Value::from(at(2024, 1, 1, 0, 0, 0)),
        Value::from(vec!["a"]),
    ]
    .iter()
    .map(Value::kind_name)
    .collect();
    assert_eq!(
        kinds,
        [
            "nothing",
            "a text",
            "a number",
            "a boolean",
            "a date",
            "a date-time",
            "a list"
        ]
    );
}

#[test]
fn booleans_and_lists_compare_only_for_equality() {
    assert!(Value::from(true).same(&Value::from(true)));
    assert!(!Value::from(true).same(&Value::from(false)));
    assert_eq!(Value::from(true).compare(&Value::from(false)), None);
    assert!(Value::from(vec!["a", "b"]).same(&Value::from(vec!["a", "b"])));
    assert!(!Value::from(vec!["a", "b"]).same(&Value::from(vec!["b", "a"])));
    assert_eq!(
        Value::from(vec!["a"]).compare(&Value::from(vec!["a"])),
        None
    );
    assert!(Value::Absent.same(&Value::Absent));
    assert!(!Value::Absent.same(&Value::from("")));
}

#[test]
fn values_from_untyped_json() {
    assert_eq!(Value::from_json_untyped(&json!(null)), Some(Value::Absent));
    assert_eq!(
        Value::from_json_untyped(&json!("展会")),
        Some(Value::from("展会"))
    );
    assert_eq!(Value::from_json_untyped(&json!(12)), Some(Value::from(12)));
    assert_eq!(
        Value::from_json_untyped(&json!(true)),
        Some(Value::from(true))
    );
    assert_eq!(
        Value::from_json_untyped(&json!(["VIP", "展会"])),
        Some(Value::from(vec!["VIP", "展会"]))
    );
    assert_eq!(Value::from_json_untyped(&json!(["VIP", 1])), None);
    assert_eq!(Value::from_json_untyped(&json!({"a": 1})), None);
}

#[test]
fn values_display_as_people_read_them() {
    assert_eq!(Value::Absent.to_string(), "(empty)");
    assert_eq!(Value::from(vec!["VIP", "展会"]).to_string(), "VIP, 展会");
    assert_eq!(Value::from(true).to_string(), "true");
    assert_eq!(Value::from(dec(0.25)).to_string(), "0.25");
}

#[test]
fn durations_parse_and_print_canonically() {
    for (text, seconds, canonical) in [
        ("30m", 1_800, "30m"),
        ("24h", 86_400, "1d"),
        ("3d", 259_200, "3d"),
        ("1w", 604_800, "1w"),
        ("14d", 1_209_600, "2w"),
        ("1d12h", 129_600, "1d12h"),
        ("1w1d", 691_200, "8d"),
        ("90s", 90, "1m30s"),
        ("0s", 0, "0s"),
        ("36500d", 3_153_600_000, "36500d"),
    ] {
        let d: Duration = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(d.as_seconds(), seconds, "{text}");
        assert_eq!(d.to_string(), canonical, "{text}");
        assert_eq!(serde_json::to_value(d).unwrap(), json!(canonical));
    }
    assert_eq!(Duration::days(3), Some("3d".parse().unwrap()));
    assert_eq!(Duration::hours(36), Some("1d12h".parse().unwrap()));
    assert_eq!(Duration::minutes(90), Some("1h30m".parse().unwrap()));
    assert_eq!(Duration::seconds(-1), None);
    assert_eq!(Duration::days(36_501), None);
    assert_eq!(Duration::days(i64::MAX), None);
    assert_eq!(
        Duration::days(2).unwrap().to_chrono(),
        chrono::TimeDelta::days(2)
    );
}

#[test]
fn bad_durations_say_why() {
    for (text, message) in [
        (
            "",
            "invalid duration \"\": expected a number followed by w, d, h, m or s, as in 3d",
        ),
        (
            "3x",
            "invalid duration \"3x\": expected a number followed by w, d, h, m or s, as in 3d",
        ),
        (
            "3",
            "invalid duration \"3\": a number needs a unit (w, d, h, m or s), as in 3d",
        ),
        (
            "d",
            "invalid duration \"d\": a unit must follow a number, as in 3d",
        ),
        (
            "12h1d",
            "invalid duration \"12h1d\": units must appear once each, largest first, as in 1d12h",
        ),
        (
            "1d1d",
            "invalid duration \"1d1d\": units must appear once each, largest first, as in 1d12h",
        ),
        (
            "36501d",
            "invalid duration \"36501d\": longer than 100 years",
        ),
        (
            "99999999999999999999d",
            "invalid duration \"99999999999999999999d\": longer than 100 years",
        ),
        (
            "-3d",
            "invalid duration \"-3d\": expected a number followed by w, d, h, m or s, as in 3d",
        ),
        (
            "3 d",
            "invalid duration \"3 d\": expected a number followed by w, d, h, m or s, as in 3d",
        ),
    ] {
        let err = text.parse::<Duration>().unwrap_err();
        assert_eq!(err.to_string(), message, "{text:?}");
    }
    assert!(serde_json::from_value::<Duration>(json!(3)).is_err());
}

#[test]
fn times_of_day() {
    let t: TimeOfDay = "09:30".parse().unwrap();
    assert_eq!((t.hour(), t.minute()), (9, 30));
    assert_eq!(t.to_string(), "09:30");
    assert_eq!(TimeOfDay::new(23, 59).unwrap().to_string(), "23:59");
    assert_eq!(TimeOfDay::new(24, 0), None);
    assert_eq!(TimeOfDay::new(12, 60), None);
    assert!(TimeOfDay::new(8, 0) < TimeOfDay::new(9, 0));
    assert_eq!(serde_json::to_value(t).unwrap(), json!("09:30"));
    assert_eq!(
        serde_json::from_value::<TimeOfDay>(json!("18:00")).unwrap(),
        TimeOfDay::new(18, 0).unwrap()
    );
    for bad in [
        "9:00",
        "24:00",
        "12:60",
        "12-00",
        "",
        "09:00:00",
        "１２:００",
    ] {
        assert_eq!(
            bad.parse::<TimeOfDay>().unwrap_err().to_string(),
            format!("invalid time of day {bad:?}: expected HH:MM from 00:00 to 23:59"),
        );
    }
}
