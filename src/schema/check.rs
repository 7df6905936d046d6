//! Reading JSON into typed values by field type, and checking values against a field.

use chrono::{DateTime, NaiveDate, Utc};

use super::field::{Field, FieldType, ValueKind, DEFAULT_PHONE_DIGITS};
use crate::value::{Number, Value};

/// Describes a JSON value for a message: `"abc"`, `12`, `an object`.
pub(crate) fn describe_json(json: &serde_json::Value) -> String {
    match json {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => format!("{:?}", truncate(s, 60)),
        serde_json::Value::Array(_) => "a list".into(),
        serde_json::Value::Object(_) => "an object".into(),
    }
}

/// The first `max` characters of a text, with `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn expected(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Text => "a text",
        ValueKind::Number => "a number",
        ValueKind::Integer => "an integer",
        ValueKind::Bool => "true or false",
        ValueKind::Date => "a date (YYYY-MM-DD)",
        ValueKind::DateTime => "a date-time (RFC 3339, e.g. 2024-05-20T09:00:00+08:00)",
        ValueKind::List => "a list of texts",
    }
}

/// Describes a JSON value by its kind only, for values that must not be shown.
pub(crate) fn describe_json_kind(json: &serde_json::Value) -> &'static str {
    match json {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a text",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// As [`parse_kind`], the error naming only the kind of what was found, for sensitive
/// fields whose values must not appear in messages.
pub(crate) fn parse_kind_masked(
    kind: ValueKind,
    json: &serde_json::Value,
) -> Result<Value, String> {
    parse_kind(kind, json).map_err(|_| {
        format!(
            "expected {}, found {}",
            expected(kind),
            describe_json_kind(json)
        )
    })
}

/// Reads a JSON value as a value of the given kind; `null` is absent.
///
/// The error says what was expected and what was found (the found value is masked by
/// the caller where the field is sensitive, so it is passed separately).
pub(crate) fn parse_kind(kind: ValueKind, json: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    let fail = || format!("expected {}, found {}", expected(kind), describe_json(json));
    Ok(match (kind, json) {
        (_, J::Null) => Value::Absent,
        (ValueKind::Text, J::String(s)) => Value::Text(s.clone()),
        (ValueKind::Number, J::Number(n)) => Value::Number(Number::from_json(n).ok_or_else(fail)?),
        (ValueKind::Integer, J::Number(n)) => match Number::from_json(n).and_then(Number::as_i64) {
            Some(i) => Value::Number(Number::from(i)),
            None => return Err(fail()),
        },
        (ValueKind::Bool, J::Bool(b)) => Value::Bool(*b),
        (ValueKind::Date, J::String(s)) => Value::Date(parse_date(s).ok_or_else(fail)?),
        (ValueKind::DateTime, J::String(s)) => {
            Value::DateTime(parse_date_time(s).ok_or_else(fail)?)
        }
        (ValueKind::List, J::Array(items)) => {
            if let Some((at, item)) = items.iter().enumerate().find(|(_, i)| !i.is_string()) {
                return Err(format!(
                    "expected a list of texts, found {} at [{at}]",
                    describe_json(item)
                ));
            }
            Value::List(
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect(),
            )
        }
        _ => return Err(fail()),
    })
}

/// `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// RFC 3339, converted to UTC.
pub(crate) fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether a value is of the kind a field stores (absent is of every kind).
pub(crate) fn is_of_kind(kind: ValueKind, value: &Value) -> bool {
    match (kind, value) {
        (_, Value::Absent) => true,
        (ValueKind::Text, Value::Text(_))
        | (ValueKind::Number, Value::Number(_))
        | (ValueKind::Bool, Value::Bool(_))
        | (ValueKind::Date, Value::Date(_))
        | (ValueKind::DateTime, Value::DateTime(_))
        | (ValueKind::List, Value::List(_)) => true,
        (ValueKind::Integer, Value::Number(n)) => n.as_i64().is_some(),
        _ => false,
    }
}

/// A well-formed e-mail address: one `@`, a local part without spaces, and a domain of
/// dot-separated labels of letters, digits and hyphens ending in a label of 2+ letters.
///
/// Works on bytes (every allowed character is ASCII, so any other byte fails): it runs
/// for every e-mail address of an import.
pub(crate) fn is_email(text: &str) -> bool {
    let b = text.as_bytes();
    let Some(at) = b.iter().position(|&c| c == b'@') else {
        return false;
    };
    let (local, domain) = (&b[..at], &b[at + 1..]);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.first() != Some(&b'.')
        && local.last() != Some(&b'.')
        && !local.windows(2).any(|w| w == b"..")
        && local
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(c));
    let domain_ok = domain.contains(&b'.')
        && domain.len() <= 253
        && domain.split(|&c| c == b'.').all(|l| {
            !l.is_empty()
                && l.first() != Some(&b'-')
                && l.last() != Some(&b'-')
                && l.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
        && domain
            .rsplit(|&c| c == b'.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic));
    local_ok && domain_ok
}

/// Checks one value against everything its field says, except `required`. Returns the
/// messages of every rule the value breaks.
pub(crate) fn check_value(field: &Field, value: &Value, today: NaiveDate) -> Vec<String> {
    let mut problems = Vec::new();
    let kind = field.field_type.kind();
    if !is_of_kind(kind, value) {
        problems.push(format!(
            "expected {}, found {}",
            expected(kind),
            value.kind_name()
        ));
        return problems;
    }
    match value {
        Value::Text(text) => check_text(field, text, &mut problems),
        Value::Number(n) => {
            if let Some(min) = field.min.filter(|min| n < min) {
                problems.push(format!("must be at least {min}"));
            }
            if let Some(max) = field.max.filter(|max| n > max) {
                problems.push(format!("must be at most {max}"));
            }
            if field.field_type == FieldType::Rating && !(1..=5).contains(&n.as_i64().unwrap_or(0))
            {
                problems.push("must be a rating from 1 to 5".into());
            }
        }
        Value::List(items) => {
            if field.field_type.has_options() {
                for item in items {
                    if !field.options.iter().any(|o| o == item) {
                        problems.push(not_an_option(field, item));
                    }
                }
            }
            if let Some(min) = field.min_length.filter(|m| items.len() < *m as usize) {
                problems.push(format!("must have at least {min} items"));
            }
            if let Some(max) = field.max_length.filter(|m| items.len() > *m as usize) {
                problems.push(format!("must have at most {max} items"));
            }
        }
        Value::Date(d) => {
            if field.not_before_today && *d < today {
                problems.push(format!("must not be before today ({today})"));
            }
        }
        Value::DateTime(t) => {
            if field.not_before_today && t.date_naive() < today {
                problems.push(format!("must not be before today ({today})"));
            }
        }
        Value::Absent | Value::Bool(_) => {}
    }
    problems
}

fn check_text(field: &Field, text: &str, problems: &mut Vec<String>) {
    let chars = text.chars().count();
    if let Some(min) = field.min_length.filter(|m| chars < *m as usize) {
        problems.push(format!("must have at least {min} characters"));
    }
    if let Some(max) = field.max_length.filter(|m| chars > *m as usize) {
        problems.push(format!("must have at most {max} characters"));
    }
    match field.field_type {
        FieldType::Phone => {
            let digits = field.phone_digits.unwrap_or(DEFAULT_PHONE_DIGITS);
            if chars != usize::from(digits) || !text.bytes().all(|b| b.is_ascii_digit()) {
                problems.push(format!("must be {digits} digits"));
            }
        }
        FieldType::Email if !is_email(text) => {
            problems.push("is not a valid e-mail address".into());
        }
        FieldType::SingleChoice if !field.options.iter().any(|o| o == text) => {
            problems.push(not_an_option(field, text));
        }
        _ => {}
    }
}

/// The message for a choice value not among a field's options, with the nearest option
/// when one is close (`成交客戶` → `成交客户`).
pub(crate) fn not_an_option(field: &Field, value: &str) -> String {
    let shown = if field.sensitive {
        "(masked)".to_owned()
    } else {
        format!("{:?}", truncate(value, 60))
    };
    match nearest_option(&field.options, value) {
        Some(near) => format!(
            "{shown} is not an option of {}; did you mean {near:?}?",
            field.name
        ),
        None => format!(
            "{shown} is not an option of {} (options: {})",
            field.name,
            list_options(&field.options)
        ),
    }
}

fn list_options(options: &[String]) -> String {
    let shown: Vec<&str> = options.iter().take(10).map(String::as_str).collect();
    let mut text = shown.join(", ");
    if options.len() > shown.len() {
        text.push_str(&format!(", … {} more", options.len() - shown.len()));
    }
    text
}

/// The option closest to `value` by edit distance over characters, when within a third
/// of the value's length (at least 1); ties go to the first option.
pub(crate) fn nearest_option<'a>(options: &'a [String], value: &str) -> Option<&'a str> {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() > 64 {
        return None;
    }
    let limit = (chars.len() / 3).max(1);
    options
        .iter()
        .filter(|o| o.chars().count() <= 64)
        .map(|o| (edit_distance(&chars, o), o))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o.as_str())
}

fn edit_distance(a: &[char], b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_format() {
        for good in [
            "li@example.com",
            "a.b+c@mail.corp.cn",
            "x_1@qq.com",
            "o'brien@a-b.co",
            "{x}~@q.io",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "li",
            "li@",
            "@a.com",
            "li@a",
            "li@@a.com",
            "l i@a.com",
            "li@a..com",
            "li@a.c0m",
            ".li@a.com",
            "li.@a.com",
            "l..i@a.com",
            "李@qq.com",
            "li@qq.中国",
            "li@-a.com",
            "li@a-.com",
            "li@a.com.",
            "li@a@b.com",
            "",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn suggests_the_nearest_option() {
        let options = vec![
            "新客户".to_owned(),
            "意向客户".to_owned(),
            "成交客户".to_owned(),
        ];
        assert_eq!(nearest_option(&options, "成交客戶"), Some("成交客户"));
        assert_eq!(nearest_option(&options, "完全不同的值"), None);
    }
}
