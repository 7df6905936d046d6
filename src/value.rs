//! The typed values a customer field, an event attribute or a rule literal can hold.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::keys::Key;

/// A finite number: an exact integer or a decimal.
///
/// Integers stay exact (`i64`); decimals are `f64` and are always finite, because NaN
/// and the infinities are rejected where a number enters the crate. Numbers compare
/// across the two forms: the integer 3 equals the decimal 3.0.
///
/// ```
/// use crm_rules::Number;
/// let budget = Number::from(500_000);
/// let limit = Number::decimal(499_999.5).ok_or("not finite")?;
/// assert!(budget > limit);
/// assert!(Number::decimal(f64::NAN).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Number(Repr);

#[derive(Clone, Copy, Debug)]
enum Repr {
    Int(i64),
    Dec(f64),
}

impl Number {
    /// A decimal number, or `None` for NaN and the infinities.
    pub fn decimal(value: f64) -> Option<Number> {
        value.is_finite().then_some(Number(Repr::Dec(value)))
    }

    /// The value as an `f64` (integers beyond 2^53 lose precision).
    pub fn as_f64(self) -> f64 {
        match self.0 {
            Repr::Int(i) => i as f64,
            Repr::Dec(d) => d,
        }
    }

    /// The exact integer, when the number is one (a decimal with no fraction counts).
    pub fn as_i64(self) -> Option<i64> {
        match self.0 {
            Repr::Int(i) => Some(i),
            Repr::Dec(d) if d.fract() == 0.0 && d >= -(2f64.powi(63)) && d < 2f64.powi(63) => {
                Some(d as i64)
            }
            Repr::Dec(_) => None,
        }
    }

    /// The integer, when the number was given as one (not for a decimal with no fraction).
    #[inline]
    pub(crate) fn int(self) -> Option<i64> {
        match self.0 {
            Repr::Int(i) => Some(i),
            Repr::Dec(_) => None,
        }
    }

    /// Whether the number was given as an integer.
    pub fn is_integer(self) -> bool {
        matches!(self.0, Repr::Int(_))
    }

    /// The sum of two numbers: exact while both are integers and it fits, decimal otherwise.
    /// `None` when a decimal sum is not finite.
    pub fn checked_add(self, other: Number) -> Option<Number> {
        match (self.0, other.0) {
            (Repr::Int(a), Repr::Int(b)) => match a.checked_add(b) {
                Some(s) => Some(Number(Repr::Int(s))),
                None => Number::decimal(a as f64 + b as f64),
            },
            _ => Number::decimal(self.as_f64() + other.as_f64()),
        }
    }

    /// Converts a JSON number, rejecting what an `f64` cannot hold finitely.
    pub(crate) fn from_json(n: &serde_json::Number) -> Option<Number> {
        if let Some(i) = n.as_i64() {
            return Some(Number(Repr::Int(i)));
        }
        n.as_f64().and_then(Number::decimal)
    }

    pub(crate) fn to_json(self) -> serde_json::Value {
        match self.0 {
            Repr::Int(i) => serde_json::Value::from(i),
            Repr::Dec(d) => serde_json::Number::from_f64(d)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

impl serde::Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Int(i) => serializer.serialize_i64(i),
            Repr::Dec(d) => serializer.serialize_f64(d),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Number, D::Error> {
        let n = serde_json::Number::deserialize(deserializer)?;
        Number::from_json(&n).ok_or_else(|| serde::de::Error::custom("number is not finite"))
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Number {
        Number(Repr::Int(value))
    }
}

impl From<i32> for Number {
    fn from(value: i32) -> Number {
        Number(Repr::Int(i64::from(value)))
    }
}

impl From<u32> for Number {
    fn from(value: u32) -> Number {
        Number(Repr::Int(i64::from(value)))
    }
}

/// Compares an integer with a finite decimal exactly.
fn cmp_int_dec(i: i64, d: f64) -> Ordering {
    // Every i64 lies in [-2^63, 2^63); outside that range the decimal decides alone.
    if d >= 2f64.powi(63) {
        return Ordering::Less;
    }
    if d < -(2f64.powi(63)) {
        return Ordering::Greater;
    }
    let whole = d.trunc();
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => 0f64.partial_cmp(&(d - whole)).unwrap_or(Ordering::Equal),
        other => other,
    }
}

impl Ord for Number {
    #[inline]
    fn cmp(&self, other: &Number) -> Ordering {
        match (self.0, other.0) {
            (Repr::Int(a), Repr::Int(b)) => a.cmp(&b),
            (Repr::Int(a), Repr::Dec(b)) => cmp_int_dec(a, b),
            (Repr::Dec(a), Repr::Int(b)) => cmp_int_dec(b, a).reverse(),
            // Both finite: total_cmp agrees with < and >, and orders -0.0 before 0.0,
            // which equality below treats as the same number.
            (Repr::Dec(a), Repr::Dec(b)) => {
                if a == b {
                    Ordering::Equal
                } else {
                    a.total_cmp(&b)
                }
            }
        }
    }
}

impl PartialOrd for Number {
    #[inline]
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Number {
    #[inline]
    fn eq(&self, other: &Number) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Number {}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Int(i) => write!(f, "{i}"),
            Repr::Dec(d) => write!(f, "{d}"),
        }
    }
}

/// The value of a customer field, an event attribute or a rule literal.
///
/// `Absent` is the value of a field that is not set; a condition reads an unknown or
/// missing field as `Absent`, never as an error.
///
/// ```
/// use crm_rules::Value;
/// let tags = Value::from(vec!["VIP", "展会"]);
/// assert!(tags.as_list().is_some_and(|t| t.iter().any(|x| x == "VIP")));
/// assert_eq!(Value::from("新客户").as_text(), Some("新客户"));
/// assert!(Value::Absent.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    /// No value.
    #[default]
    Absent,
    /// Text (also phone numbers, e-mail addresses, single choices and user ids).
    Text(String),
    /// A number, integer or decimal.
    Number(Number),
    /// True or false.
    Bool(bool),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant, in UTC.
    DateTime(DateTime<Utc>),
    /// A list of texts: tags and multiple choices.
    List(Vec<String>),
}

/// An absent value to lend out by reference: what a record or map reads for a name it
/// holds no value for.
pub(crate) static ABSENT: Value = Value::Absent;

impl Value {
    /// The summary of the value conditions compare before reading it ([`Record`] keeps
    /// one per field; see `keys`).
    ///
    /// [`Record`]: crate::Record
    pub(crate) fn key(&self) -> Key {
        match self {
            Value::Text(t) => Key::text(t),
            Value::Number(n) => n.int().map_or(Key::DECIMAL, Key::int),
            Value::List(l) => Key::list(l.iter().fold(0, |k, t| k | crate::keys::tag_bit(t))),
            _ => Key::NONE,
        }
    }

    /// The text, if this is a text value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The number, if this is a number value.
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The date, if this is a date value.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The instant, if this is a date-time value.
    pub fn as_date_time(&self) -> Option<DateTime<Utc>> {
        match self {
            Value::DateTime(t) => Some(*t),
            _ => None,
        }
    }

    /// The list, if this is a list value.
    pub fn as_list(&self) -> Option<&[String]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Whether the value is absent.
    pub fn is_absent(&self) -> bool {
        matches!(self, Value::Absent)
    }

    /// Whether the value is absent, an empty or blank text, or an empty list.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Absent => true,
            Value::Text(t) => t.trim().is_empty(),
            Value::List(l) => l.is_empty(),
            _ => false,
        }
    }

    /// The name of the value's kind, as messages use it (`"a number"`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Absent => "nothing",
            Value::Text(_) => "a text",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Date(_) => "a date",
            Value::DateTime(_) => "a date-time",
            Value::List(_) => "a list",
        }
    }

    /// Orders two values of the same kind; `None` when they are of different kinds or
    /// cannot be ordered (booleans and lists only compare for equality).
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Number(a), Value::Number(b)) => Some(a.cmp(b)),
            (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::DateTime(a), Value::DateTime(b)) => Some(a.cmp(b)),
            // A date compares with an instant through the start of its day in UTC.
            (Value::Date(a), Value::DateTime(b)) => Some(date_start(*a).cmp(b)),
            (Value::DateTime(a), Value::Date(b)) => Some(a.cmp(&date_start(*b))),
            _ => None,
        }
    }

    /// Equality as conditions use it: numbers compare across integer and decimal,
    /// a date equals an instant at the start of that day (UTC).
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Absent, Value::Absent) => true,
            _ => self.compare(other) == Some(Ordering::Equal),
        }
    }

    /// The value as JSON: dates as `YYYY-MM-DD`, date-times as RFC 3339, absent as null.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Absent => serde_json::Value::Null,
            Value::Text(t) => serde_json::Value::String(t.clone()),
            Value::Number(n) => n.to_json(),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Date(d) => serde_json::Value::String(d.format("%Y-%m-%d").to_string()),
            Value::DateTime(t) => serde_json::Value::String(format_instant(*t)),
            Value::List(l) => serde_json::Value::from(l.clone()),
        }
    }

    /// The value as JSON gives it, without a schema: strings stay texts, numbers must be
    /// finite, arrays must hold only strings. `None` for objects and mixed arrays.
    pub fn from_json_untyped(json: &serde_json::Value) -> Option<Value> {
        Some(match json {
            serde_json::Value::Null => Value::Absent,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(Number::from_json(n)?),
            serde_json::Value::String(s) => Value::Text(s.clone()),
            serde_json::Value::Array(items) => Value::List(
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()?,
            ),
            serde_json::Value::Object(_) => return None,
        })
    }
}

/// The start of a date in UTC.
pub(crate) fn date_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// RFC 3339 with a `Z` suffix and seconds, the form the crate writes instants in.
pub(crate) fn format_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Absent => f.write_str("(empty)"),
            Value::Text(t) => f.write_str(t),
            Value::Number(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::DateTime(t) => f.write_str(&format_instant(*t)),
            Value::List(l) => f.write_str(&l.join(", ")),
        }
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Number(Number::from(v))
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Number(Number::from(v))
    }
}

impl From<Number> for Value {
    fn from(v: Number) -> Value {
        Value::Number(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Value {
        Value::Date(v)
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Value {
        Value::DateTime(v)
    }
}

impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Value {
        Value::List(v)
    }
}

impl From<Vec<&str>> for Value {
    fn from(v: Vec<&str>) -> Value {
        Value::List(v.into_iter().map(str::to_owned).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_decimals_compare_exactly() {
        let big = Number::from(9_007_199_254_740_993i64); // 2^53 + 1
        let dec = Number::decimal(9_007_199_254_740_992.0).unwrap();
        assert!(big > dec);
        assert_eq!(Number::from(3), Number::decimal(3.0).unwrap());
        assert!(Number::from(3) < Number::decimal(3.5).unwrap());
        assert!(Number::from(-3) > Number::decimal(-3.5).unwrap());
        assert!(Number::from(i64::MAX) < Number::decimal(1e19).unwrap());
        assert_eq!(
            Number::decimal(-0.0).unwrap(),
            Number::decimal(0.0).unwrap()
        );
    }

    #[test]
    fn non_finite_numbers_are_rejected() {
        assert!(Number::decimal(f64::INFINITY).is_none());
        assert!(Number::decimal(f64::NAN).is_none());
        assert!(Number::decimal(1e308)
            .unwrap()
            .checked_add(Number::decimal(1e308).unwrap())
            .is_none());
    }

    #[test]
    fn dates_compare_with_instants() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        let t = date_start(d);
        assert!(Value::Date(d).same(&Value::DateTime(t)));
    }
}
