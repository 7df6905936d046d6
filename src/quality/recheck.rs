//! What a normalized value can still break of its field's rules, decided once per field.
//!
//! Normalization already guarantees the kind, the choice options and the absence of
//! blanks. What is left (lengths, ranges, phone and e-mail formats) is tested here on the
//! value directly; only a value that fails goes through
//! [`check_value`](crate::schema::check_value), which words the messages. So a valid row
//! costs a few comparisons per field, and the messages stay those of the schema.

use crate::schema::{Field, FieldType, DEFAULT_PHONE_DIGITS};
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

/// The byte classes [`is_email`] tests: a byte of a local part, of a domain label, a
/// letter.
const LOCAL: u8 = 1;
const LABEL: u8 = 2;
const ALPHA: u8 = 4;

static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphabetic() {
            table[b] = LOCAL | LABEL | ALPHA;
        } else if c.is_ascii_digit() {
            table[b] = LOCAL | LABEL;
        }
        b += 1;
    }
    let specials = b"!#$%&'*+-/=?^_`{|}~.";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] |= LOCAL;
        i += 1;
    }
    table[b'-' as usize] |= LABEL;
    table
};

/// Whether a text is a well-formed e-mail address, exactly as
/// [`check_value`](crate::schema::check_value) decides (a test holds them together): a
/// local part of at most 64 bytes of letters, digits and `!#$%&'*+-/=?^_`{|}~.`, no dot at
/// its ends nor two in a row; a domain of at most 253 bytes, of labels of letters, digits
/// and inner dashes split at dots, the last (the top-level domain) of two letters or more.
///
/// One pass over the bytes, each tested against a table of byte classes.
fn is_email(text: &str) -> bool {
    let b = text.as_bytes();
    let class = |c: u8| CLASSES[usize::from(c)];
    let mut i = 0;
    // The local part, to the first `@`.
    let mut previous = b'.'; // a dot first is refused as a dot after a dot
    loop {
        match b.get(i) {
            None => return false,
            Some(b'@') => break,
            Some(&c) => {
                if class(c) & LOCAL == 0 || (c == b'.' && previous == b'.') {
                    return false;
                }
                previous = c;
            }
        }
        i += 1;
    }
    if i == 0 || i > 64 || previous == b'.' {
        return false;
    }
    let domain = &b[i + 1..];
    if domain.len() > 253 {
        return false;
    }
    // Labels split at dots: not empty, no dash at their ends; the last (the top-level
    // domain) of two letters or more, after at least one dot.
    let (mut dots, mut label, mut letters) = (0usize, 0usize, true);
    let mut previous = b'.';
    for &c in domain {
        if c == b'.' {
            if previous == b'.' || previous == b'-' {
                return false;
            }
            dots += 1;
            label = 0;
            letters = true;
        } else {
            let k = class(c);
            if k & LABEL == 0 || (c == b'-' && previous == b'.') {
                return false;
            }
            letters &= k & ALPHA != 0;
            label += 1;
        }
        previous = c;
    }
    dots > 0 && label >= 2 && letters
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::check_value;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    /// Every text of up to `n` pieces of `parts`.
    fn texts(parts: &[&str], n: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = all.clone();
        for _ in 0..n {
            last = last
                .iter()
                .flat_map(|t| parts.iter().map(move |p| format!("{t}{p}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn the_one_pass_e_mail_test_agrees_with_the_schema_s() {
        let parts = ["a", "Z", "7", ".", "-", "@", "_", "+", " ", "é"];
        for t in texts(&parts, 5) {
            assert_eq!(is_email(&t), schema_is_email(&t), "{t:?}");
        }
        let words = [
            "li", "a.b", "qq", "com", "x-y", "-", ".", "@", "..", "c0m", "1",
        ];
        for t in texts(&words, 5) {
            assert_eq!(is_email(&t), schema_is_email(&t), "{t:?}");
        }
        for n in [63, 64, 65] {
            let t = format!("{}@qq.com", "a".repeat(n));
            assert_eq!(is_email(&t), schema_is_email(&t), "{n}");
        }
        for n in [240, 241, 242, 250] {
            let t = format!("li@{}.com", "a".repeat(n));
            assert_eq!(is_email(&t), schema_is_email(&t), "{n}");
        }
    }

    /// What the schema decides of a text in an e-mail field.
    fn schema_is_email(t: &str) -> bool {
        let field = Field::new("邮箱", FieldType::Email);
        let today = NaiveDate::from_ymd_opt(2024, 5, 20).unwrap();
        check_value(&field, &Value::Text(t.to_owned()), today).is_empty()
    }

    proptest! {
        #[test]
        fn the_one_pass_e_mail_test_agrees_on_any_text(
            t in "[a-zA-Z0-9.@_+\\-!#$%&'*/=?^`{|}~ (),:;<>\\[\\]\\\\\"\u{80}-\u{10FFFF}]{0,40}"
        ) {
            prop_assert_eq!(is_email(&t), schema_is_email(&t));
        }

        #[test]
        fn the_one_pass_e_mail_test_agrees_on_address_like_texts(
            t in "[a-z0-9._-]{0,70}@[a-zA-Z0-9.-]{0,20}\\.[a-zA-Z0-9-]{0,4}"
        ) {
            prop_assert_eq!(is_email(&t), schema_is_email(&t));
        }
    }

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
