//! Normalizing one cell of an import into a typed value, by the field's type: decided
//! once per schema ([`Plan`]), applied per value.

use std::borrow::Cow;

use chrono_tz::Tz;
use serde_json::Value as Json;

use super::dates;
use super::text;
use super::Checker;
use crate::error::{FieldError, ValidationError};
use crate::keys::same_text;
use crate::schema::{
    describe_json, describe_json_kind, mask, not_an_option, parse_kind, parse_kind_masked,
    truncate, Field, FieldType, DEFAULT_PHONE_DIGITS,
};
use crate::value::{Number, Value};

/// The normalized options of a choice field, sorted by length then bytes, each with its
/// position in the field's options: a value is matched by a scan of a small dictionary
/// (lengths compared first, then a word or two of bytes, without a call to `memcmp`) or
/// a binary search of a large one, comparing bytes only among options of its length.
#[derive(Clone, Debug)]
pub(crate) struct Dictionary {
    sorted: Vec<(String, usize)>,
}

impl Dictionary {
    fn new(options: &[String]) -> Dictionary {
        let mut sorted: Vec<(String, usize)> = options
            .iter()
            .enumerate()
            .map(|(i, o)| (text::text(o).into_owned(), i))
            .collect();
        // Stable: of two options that normalize alike, the first one wins.
        sorted.sort_by(|a, b| Dictionary::order(&a.0, &b.0));
        Dictionary { sorted }
    }

    fn order(a: &str, b: &str) -> std::cmp::Ordering {
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }

    /// The position of the option a normalized value names exactly.
    fn find(&self, value: &str) -> Option<usize> {
        if self.sorted.len() <= 16 {
            return self
                .sorted
                .iter()
                .find(|(o, _)| same_text(o, value))
                .map(|(_, i)| *i);
        }
        let at = self
            .sorted
            .partition_point(|(o, _)| Dictionary::order(o, value).is_lt());
        match self.sorted.get(at) {
            Some((o, i)) if o == value => Some(*i),
            _ => None,
        }
    }
}

/// How one field's values are normalized, decided once per schema.
#[derive(Clone, Debug)]
pub(crate) enum Plan {
    Text,
    LongText,
    Phone(u8),
    Email,
    Choice(Dictionary),
    MultiChoice(Dictionary),
    Tags,
    Number,
    Integer,
    Bool,
    Date,
    DateTime,
}

impl Plan {
    pub(crate) fn new(field: &Field) -> Plan {
        match field.field_type {
            FieldType::Text | FieldType::Member => Plan::Text,
            FieldType::LongText => Plan::LongText,
            FieldType::Phone => Plan::Phone(field.phone_digits.unwrap_or(DEFAULT_PHONE_DIGITS)),
            FieldType::Email => Plan::Email,
            FieldType::SingleChoice => Plan::Choice(Dictionary::new(&field.options)),
            FieldType::MultipleChoice => Plan::MultiChoice(Dictionary::new(&field.options)),
            FieldType::Tags => Plan::Tags,
            FieldType::Number => Plan::Number,
            FieldType::Integer | FieldType::Rating => Plan::Integer,
            FieldType::Bool => Plan::Bool,
            FieldType::Date => Plan::Date,
            FieldType::DateTime => Plan::DateTime,
        }
    }
}

/// A value that could not be normalized: what to show of it and what is wrong (one
/// message per problem: a multiple choice may hold several values that are no option).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) value: String,
    pub(crate) messages: Vec<String>,
}

impl Failure {
    fn new(value: String, message: impl Into<String>) -> Failure {
        Failure {
            value,
            messages: vec![message.into()],
        }
    }
}

/// Shows a text of a field in a problem: masked if sensitive, cut to 60 characters.
fn shown(field: &Field, text: &str) -> String {
    if field.sensitive {
        mask(&Value::Text(text.to_owned()))
    } else {
        truncate(text, 60)
    }
}

/// A JSON value of the wrong kind for the field: the foundation's message, which names
/// the value found unless the field is sensitive.
fn wrong_kind(field: &Field, json: &Json) -> Failure {
    let kind = field.field_type.kind();
    let message = if field.sensitive {
        parse_kind_masked(kind, json)
    } else {
        parse_kind(kind, json)
    }
    .err()
    .unwrap_or_else(|| format!("expected a value of type {}", field.field_type.name()));
    Failure::new(String::new(), message)
}

/// A cell read as text: strings as they are, numbers as written (a spreadsheet gives
/// `13812345678` as a number), anything else `None`.
#[inline]
fn cell_text(json: &Json) -> Option<Cow<'_, str>> {
    match json {
        Json::String(s) => Some(Cow::Borrowed(s)),
        Json::Number(n) => Some(Cow::Owned(Number::from_json(n)?.to_string())),
        _ => None,
    }
}

/// Writes a text into a value slot, reusing the slot's buffer when it holds a text
/// already (a report refilled by [`Checker::report_into`] allocates nothing for it); an
/// empty text makes the slot absent.
fn set_text(slot: &mut Value, text: &str) {
    if text.is_empty() {
        *slot = Value::Absent;
    } else if let Value::Text(t) = slot {
        t.clear();
        t.push_str(text);
    } else {
        *slot = Value::Text(text.to_owned());
    }
}

/// As [`set_text`], moving a text normalization made into the slot.
fn set_cow(slot: &mut Value, text: Cow<'_, str>) {
    match text {
        Cow::Borrowed(s) => set_text(slot, s),
        Cow::Owned(s) if s.is_empty() => *slot = Value::Absent,
        Cow::Owned(s) => *slot = Value::Text(s),
    }
}

/// The items of a list being built, written over the texts of the list a slot held, so
/// that their buffers are reused.
struct Items {
    items: Vec<String>,
    len: usize,
}

impl Items {
    fn from_slot(slot: &mut Value) -> Items {
        let items = match std::mem::take(slot) {
            Value::List(items) => items,
            _ => Vec::new(),
        };
        Items { items, len: 0 }
    }

    fn push(&mut self, item: &str) {
        match self.items.get_mut(self.len) {
            Some(t) => {
                t.clear();
                t.push_str(item);
            }
            None => self.items.push(item.to_owned()),
        }
        self.len += 1;
    }

    /// The items, each kept once.
    fn finish(mut self) -> Vec<String> {
        self.items.truncate(self.len);
        dedup(&mut self.items);
        self.items
    }
}

/// Normalizes one cell for a field. `null`, empty and blank texts, and empty lists are
/// absent.
pub(crate) fn normalize(
    plan: &Plan,
    field: &Field,
    zone: Tz,
    json: &Json,
) -> Result<Value, Failure> {
    let mut value = Value::Absent;
    normalize_into(plan, field, zone, json, &mut value).map(|()| value)
}

/// As [`normalize`], writing the value into `slot` and reusing what buffers it holds.
/// On failure the slot's content is unspecified: the caller makes it absent.
#[inline]
pub(crate) fn normalize_into(
    plan: &Plan,
    field: &Field,
    zone: Tz,
    json: &Json,
    slot: &mut Value,
) -> Result<(), Failure> {
    if json.is_null() {
        *slot = Value::Absent;
        return Ok(());
    }
    match plan {
        Plan::Choice(dictionary) => {
            let Some(raw) = cell_text(json) else {
                return Err(wrong_kind(field, json));
            };
            // The dictionary holds normal texts: a cell that is one needs no normalizing.
            let found = match dictionary.find(&raw) {
                Some(i) if !raw.is_empty() => i,
                _ => {
                    let value = text::text(&raw);
                    if value.is_empty() {
                        *slot = Value::Absent;
                        return Ok(());
                    }
                    match dictionary.find(&value) {
                        Some(i) => i,
                        None => {
                            return Err(Failure::new(
                                shown(field, &value),
                                not_an_option(field, &value),
                            ))
                        }
                    }
                }
            };
            set_text(slot, &field.options[found]);
            Ok(())
        }
        Plan::Text | Plan::LongText | Plan::Phone(_) | Plan::Email => {
            let Some(raw) = cell_text(json) else {
                return Err(wrong_kind(field, json));
            };
            let value = match plan {
                Plan::LongText => text::long_text(&raw),
                Plan::Phone(digits) => text::phone(&raw, *digits),
                Plan::Email => text::email(&raw),
                _ => text::text(&raw),
            };
            set_cow(slot, value);
            Ok(())
        }
        Plan::MultiChoice(_) | Plan::Tags => {
            let mut items = Items::from_slot(slot);
            let mut messages = Vec::new();
            let mut add = |item: &str| {
                let item = text::text(item);
                if item.is_empty() {
                    return;
                }
                match plan {
                    Plan::MultiChoice(dictionary) => match dictionary.find(&item) {
                        Some(i) => items.push(&field.options[i]),
                        None => {
                            messages.push(not_an_option(field, &item));
                            items.push(&item);
                        }
                    },
                    _ => items.push(&item),
                }
            };
            match json {
                Json::Array(cells) => {
                    for (at, cell) in cells.iter().enumerate() {
                        match cell_text(cell) {
                            Some(t) => add(&t),
                            None if cell.is_null() => {}
                            None => {
                                let found = if field.sensitive {
                                    describe_json_kind(cell).to_owned()
                                } else {
                                    describe_json(cell)
                                };
                                return Err(Failure::new(
                                    String::new(),
                                    format!("expected a list of texts, found {found} at [{at}]"),
                                ));
                            }
                        }
                    }
                }
                _ => match cell_text(json) {
                    Some(t) => text::split_items(&t).for_each(add),
                    None => return Err(wrong_kind(field, json)),
                },
            }
            // Repeated items, and two spellings of one option, are kept once.
            let items = items.finish();
            if !messages.is_empty() {
                return Err(Failure {
                    value: shown(field, &items.join(", ")),
                    messages,
                });
            }
            if !items.is_empty() {
                *slot = Value::List(items);
            }
            Ok(())
        }
        Plan::Number | Plan::Integer => {
            let number = match json {
                Json::Number(n) => Number::from_json(n).ok_or_else(|| wrong_kind(field, json))?,
                Json::String(s) => {
                    let trimmed = text::trim(s);
                    if trimmed.is_empty() {
                        *slot = Value::Absent;
                        return Ok(());
                    }
                    parse_number(trimmed).ok_or_else(|| {
                        let message = if matches!(plan, Plan::Integer) {
                            "is not an integer"
                        } else {
                            "is not a number"
                        };
                        Failure::new(shown(field, &text::text(s)), message)
                    })?
                }
                _ => return Err(wrong_kind(field, json)),
            };
            *slot = Value::Number(if matches!(plan, Plan::Integer) {
                match number.as_i64() {
                    Some(i) => Number::from(i),
                    None => {
                        return Err(Failure::new(
                            shown(field, &number.to_string()),
                            "is not an integer",
                        ))
                    }
                }
            } else {
                number
            });
            Ok(())
        }
        Plan::Bool => {
            *slot = match json {
                Json::Bool(b) => Value::Bool(*b),
                Json::Number(_) | Json::String(_) => {
                    let raw = cell_text(json).unwrap_or_default();
                    let folded: String = raw.chars().map(text::fold_ascii).collect();
                    let word = folded.trim().to_ascii_lowercase();
                    match word.as_str() {
                        "" => Value::Absent,
                        "true" | "yes" | "y" | "1" | "是" => Value::Bool(true),
                        "false" | "no" | "n" | "0" | "否" => Value::Bool(false),
                        _ => return Err(Failure::new(
                            shown(field, &text::text(&raw)),
                            "is not true or false (accepted: true, false, yes, no, 是, 否, 1, 0)",
                        )),
                    }
                }
                _ => return Err(wrong_kind(field, json)),
            };
            Ok(())
        }
        Plan::Date | Plan::DateTime => {
            let Json::String(s) = json else {
                return Err(wrong_kind(field, json));
            };
            // The date readers trim and fold full-width digits themselves.
            if text::trim(s).is_empty() {
                *slot = Value::Absent;
                return Ok(());
            }
            let result = if matches!(plan, Plan::Date) {
                dates::date(s)
                    .map(Value::Date)
                    .ok_or_else(|| dates::NOT_A_DATE.to_owned())
            } else {
                dates::date_time(s, zone).map(Value::DateTime)
            };
            *slot =
                result.map_err(|message| Failure::new(shown(field, &text::text(s)), message))?;
            Ok(())
        }
    }
}

/// Keeps each item at its first occurrence, in order, in place: a scan for short lists,
/// a sort of positions (no hashing) for long ones, so a cell of many items costs
/// O(n log n), not O(n²).
pub(crate) fn dedup(items: &mut Vec<String>) {
    if items.len() <= 16 {
        let mut kept = 0;
        for i in 0..items.len() {
            if !items[..kept].contains(&items[i]) {
                items.swap(kept, i);
                kept += 1;
            }
        }
        items.truncate(kept);
        return;
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[a].cmp(&items[b]).then(a.cmp(&b)));
    let mut first = vec![false; items.len()];
    for (k, &i) in order.iter().enumerate() {
        first[i] = k == 0 || items[order[k - 1]] != items[i];
    }
    let mut at = 0;
    items.retain(|_| {
        at += 1;
        first[at - 1]
    });
}

/// A number written as text: an optional sign, digits (optionally grouped by commas in
/// threes: `500,000`), an optional fraction; full-width digits and spaces allowed.
fn parse_number(s: &str) -> Option<Number> {
    let simple = s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b','));
    let compact: Cow<'_, str> = if simple {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .map(text::fold_ascii)
                .filter(|c| !c.is_whitespace())
                .collect(),
        )
    };
    let unsigned = compact.strip_prefix(['+', '-']).unwrap_or(&compact);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let grouped = whole.contains(',');
    let mut groups = whole.split(',');
    let first = groups.next()?;
    let digits_ok = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(first) || (grouped && first.len() > 3) {
        return None;
    }
    if !groups.all(|g| g.len() == 3 && digits_ok(g)) {
        return None;
    }
    if fraction.is_some_and(|f| !digits_ok(f)) {
        return None;
    }
    if fraction.is_none() {
        // The digits, commas skipped, as `i64` reads them; on overflow, as `f64` below.
        let negative = compact.starts_with('-');
        let integer = unsigned
            .bytes()
            .filter(u8::is_ascii_digit)
            .try_fold(0i64, |n, b| {
                let d = i64::from(b - b'0');
                n.checked_mul(10).and_then(|n| {
                    if negative {
                        n.checked_sub(d)
                    } else {
                        n.checked_add(d)
                    }
                })
            });
        if let Some(i) = integer {
            return Some(Number::from(i));
        }
    }
    let plain = if grouped {
        Cow::Owned(compact.replace(',', ""))
    } else {
        compact.clone()
    };
    plain.parse::<f64>().ok().and_then(Number::decimal)
}

impl Checker {
    /// Normalizes one value for a field, as an import reads a spreadsheet cell: see the
    /// [module documentation](crate::quality#normalization) for what each field type does.
    ///
    /// ```
    /// use crm_rules::{quality::Checker, Schema, Value};
    /// use serde_json::json;
    /// let schema = Schema::from_json(r#"{"fields": [
    ///     {"name": "手机号", "type": "phone"},
    ///     {"name": "签约日期", "type": "date"},
    ///     {"name": "客户状态", "type": "single_choice", "options": ["新客户", "成交客户"]}
    /// ]}"#)?;
    /// let checker = Checker::new(&schema);
    /// assert_eq!(checker.normalize_value("手机号", &json!("+86 １３８-1234-5678"))?, Value::from("13812345678"));
    /// assert_eq!(checker.normalize_value("签约日期", &json!("2024年3月15日"))?.to_string(), "2024-03-15");
    /// let err = checker.normalize_value("客户状态", &json!("成交客戶")).unwrap_err();
    /// assert_eq!(err.errors()[0].to_string(), "客户状态 (成交客戶): \"成交客戶\" is not an option of 客户状态; did you mean \"成交客户\"?");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A [`ValidationError`] with one [`FieldError`] per problem: an unknown field, a JSON
    /// value of the wrong kind, a text that is not a number, date or date-time in an
    /// accepted form, a choice value that is not an option (with the nearest option when
    /// one is close; one error per such value of a multiple choice). The value is not
    /// validated further (required, formats, ranges): [`Checker::check_row`] does that.
    pub fn normalize_value(&self, field: &str, value: &Json) -> Result<Value, ValidationError> {
        let inner = &self.inner;
        let Some(id) = inner.schema.field_id(field) else {
            return Err(ValidationError::new(vec![FieldError {
                field: field.to_owned(),
                value: String::new(),
                message: "unknown field".into(),
            }]));
        };
        let i = id.index();
        let f = &inner.schema.fields()[i];
        normalize(&inner.plans[i], f, inner.zone, value).map_err(|e| {
            ValidationError::new(
                e.messages
                    .into_iter()
                    .map(|message| FieldError {
                        field: f.name.clone(),
                        value: e.value.clone(),
                        message,
                    })
                    .collect(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keeps_first_occurrences_in_order() {
        let mut short: Vec<String> = ["b", "a", "b", "c", "a"].map(String::from).to_vec();
        dedup(&mut short);
        assert_eq!(short, ["b", "a", "c"]);
        let mut long: Vec<String> = (0..40).map(|i| ((i * 5) % 7).to_string()).collect();
        dedup(&mut long);
        assert_eq!(long, ["0", "5", "3", "1", "6", "4", "2"]);
    }

    #[test]
    fn a_dictionary_finds_exactly_the_options_equal_to_a_value() {
        let small: Vec<String> = [
            "新客户",
            "IT/互联网",
            "老客户推荐",
            "a",
            "",
            "长期合作伙伴关系客户",
        ]
        .map(String::from)
        .to_vec();
        let large: Vec<String> = (0..40).map(|i| format!("选项{i}")).collect();
        for options in [small, large] {
            let dictionary = Dictionary::new(&options);
            let mut values = options.clone();
            values.extend(
                ["新客", "IT/互联", "老客户推荐x", "b", "选项", "选项400"].map(String::from),
            );
            for value in &values {
                let expected = options.iter().position(|o| text::text(o) == value.as_str());
                assert_eq!(dictionary.find(value), expected, "{value:?}");
            }
        }
    }

    /// [`parse_number`] as it read integers before it summed their digits: through the
    /// text without its commas.
    fn parse_number_by_text(s: &str) -> Option<Number> {
        let n = parse_number(s)?;
        let plain: String = s
            .chars()
            .map(text::fold_ascii)
            .filter(|c| !c.is_whitespace() && *c != ',')
            .collect();
        match plain.parse::<i64>() {
            Ok(i) => Some(Number::from(i)),
            Err(_) => Some(n),
        }
    }

    #[test]
    fn integers_are_summed_as_i64_parses_them() {
        for s in [
            "0",
            "-0",
            "+0",
            "7",
            "-7",
            "+7",
            "500,000",
            "-1,000",
            "+1,000,000",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "-9223372036854775809",
            "9,223,372,036,854,775,807",
            "99999999999999999999",
            "１２ ３４５",
            "007",
        ] {
            let summed = parse_number(s);
            assert_eq!(summed, parse_number_by_text(s), "{s}");
            assert!(summed.is_some(), "{s}");
        }
        assert_eq!(
            parse_number("9223372036854775807"),
            Some(Number::from(i64::MAX))
        );
        assert_eq!(
            parse_number("-9223372036854775808"),
            Some(Number::from(i64::MIN))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_integer_is_read_as_i64_reads_it(i: i64, grouped: bool, plus: bool) {
            let mut text = i.unsigned_abs().to_string();
            if grouped {
                let digits: Vec<char> = text.chars().collect();
                let mut out = String::new();
                for (k, c) in digits.iter().enumerate() {
                    if k > 0 && (digits.len() - k) % 3 == 0 {
                        out.push(',');
                    }
                    out.push(*c);
                }
                text = out;
            }
            let sign = if i < 0 { "-" } else if plus { "+" } else { "" };
            let text = format!("{sign}{text}");
            proptest::prop_assert_eq!(parse_number(&text), Some(Number::from(i)));
        }
    }

    #[test]
    fn numbers_written_as_text() {
        assert_eq!(parse_number("500,000"), Some(Number::from(500_000)));
        assert_eq!(parse_number("１２ ３４５"), Some(Number::from(12_345)));
        assert_eq!(parse_number("-3.25").map(Number::as_f64), Some(-3.25));
        assert_eq!(parse_number("50,00"), None);
        assert_eq!(parse_number("1,000.5").map(Number::as_f64), Some(1000.5));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("1."), None);
        assert_eq!(parse_number(""), None);
    }
}
