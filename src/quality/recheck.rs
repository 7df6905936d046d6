//! What a normalized value can still break of its field's rules, decided once per field.
//!
//! Normalization already guarantees the kind, the choice options and the absence of
//! blanks. What is left (lengths, ranges, phone and e-mail formats) is tested here on the
//! value directly; only a value that fails goes through
//! [`check_value`](crate::schema::check_value), which words the messages. So a valid row
//! costs a few comparisons per field, and the messages stay those of the schema.

use crate::schema::{is_email, Field, FieldType, DEFAULT_PHONE_DIGITS};
use crate::value::{Number, Value};

/// The test a normalized value of a field must pass to need no
/// [`check_value`](crate::schema::check_value).
#[derive(Clone, Debug)]
pub(crate) enum Recheck {
    /// Nothing can be wrong: a plain text, choice, tags or boolean field.
    Nothing,
    /// Texts (in characters) or lists (in items) of a field with lengths.
    Lengths { min: Option<u32>, max: Option<u32> },
    /// Exactly this many ASCII digits.
    Phone(u8),
    /// A well-formed e-mail address.
    Email,
    /// A number within a field's range.
    Range {
        min: Option<Number>,
        max: Option<Number>,
    },
    /// Anything else (ratings, "not before today", phones and e-mail addresses with
    /// lengths): always checked.
    Always,
}

impl Recheck {
    pub(crate) fn new(field: &Field) -> Recheck {
        let lengths = field.min_length.is_some() || field.max_length.is_some();
        match field.field_type {
            FieldType::Phone if !lengths => {
                Recheck::Phone(field.phone_digits.unwrap_or(DEFAULT_PHONE_DIGITS))
            }
            FieldType::Email if !lengths => Recheck::Email,
            FieldType::Phone | FieldType::Email | FieldType::Rating => Recheck::Always,
            FieldType::Number | FieldType::Integer => match (field.min, field.max) {
                (None, None) => Recheck::Nothing,
                (min, max) => Recheck::Range { min, max },
            },
            FieldType::Date | FieldType::DateTime if field.not_before_today => Recheck::Always,
            FieldType::Date | FieldType::DateTime | FieldType::Bool => Recheck::Nothing,
            FieldType::Text
            | FieldType::LongText
            | FieldType::Member
            | FieldType::SingleChoice
            | FieldType::MultipleChoice
            | FieldType::Tags => match (field.min_length, field.max_length) {
                (None, None) => Recheck::Nothing,
                (min, max) => Recheck::Lengths { min, max },
            },
        }
    }

    /// Whether the field's value, as this module normalized it, certainly breaks none of
    /// the field's rules; `false` when it may (then `check_value` decides and words it).
    #[inline]
    pub(crate) fn passes(&self, value: &Value) -> bool {
        let within = |n: usize, min: &Option<u32>, max: &Option<u32>| {
            min.is_none_or(|m| n >= m as usize) && max.is_none_or(|m| n <= m as usize)
        };
        match (self, value) {
            (Recheck::Nothing, _) => true,
            (Recheck::Lengths { min, max }, Value::Text(t)) => {
                // Characters are at most bytes: a short text needs no counting.
                (min.is_none() && within(t.len(), min, max)) || within(t.chars().count(), min, max)
            }
            (Recheck::Lengths { min, max }, Value::List(items)) => within(items.len(), min, max),
            (Recheck::Phone(digits), Value::Text(t)) => {
                t.len() == usize::from(*digits) && t.bytes().all(|b| b.is_ascii_digit())
            }
            (Recheck::Email, Value::Text(t)) => is_email(t),
            (Recheck::Range { min, max }, Value::Number(n)) => {
                min.is_none_or(|m| *n >= m) && max.is_none_or(|m| *n <= m)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::check_value;
    use chrono::NaiveDate;

    #[test]
    fn a_value_passes_exactly_when_check_value_finds_nothing() {
        let today = NaiveDate::from_ymd_opt(2024, 5, 20).unwrap();
        let n = |i: i64| Value::Number(Number::from(i));
        let text = |s: &str| Value::Text(s.to_owned());
        let list = |items: &[&str]| Value::List(items.iter().map(|s| s.to_string()).collect());
        let cases = [
            (
                Field::new("名称", FieldType::Text).length(Some(2), Some(3)),
                vec![
                    text("华为"),
                    text("华为技"),
                    text("华为技术"),
                    text("华"),
                    text("abcd"),
                    text("ab"),
                ],
            ),
            (
                Field::new("名称", FieldType::Text).length(None, Some(3)),
                vec![text("华为技"), text("华为技术"), text("abc"), text("abcd")],
            ),
            (
                Field::new("手机号", FieldType::Phone),
                vec![
                    text("13812345678"),
                    text("1381234567"),
                    text("1381234567x"),
                    text("１３８12345678"),
                ],
            ),
            (
                Field::new("邮箱", FieldType::Email),
                vec![text("li@qq.com"), text("li@qq"), text("li@@qq.com")],
            ),
            (
                Field::new("预算", FieldType::Number)
                    .range(Some(Number::from(0)), Some(Number::from(10))),
                vec![n(0), n(10), n(-1), n(11)],
            ),
            (
                Field::new("标签", FieldType::Tags).length(None, Some(2)),
                vec![list(&["a", "b"]), list(&["a", "b", "c"])],
            ),
            (Field::new("备注", FieldType::LongText), vec![text("任何")]),
        ];
        for (field, values) in cases {
            let recheck = Recheck::new(&field);
            for value in values {
                let problems = check_value(&field, &value, today);
                assert_eq!(
                    recheck.passes(&value),
                    problems.is_empty(),
                    "{} {value:?}: {problems:?}",
                    field.name
                );
            }
        }
    }
}
