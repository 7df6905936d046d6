//! Customer numbers: a prefix, a date and a sequence (`CUST20240520001`).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// How customer numbers are made: a prefix, the date in a format, and a sequence of a
/// fixed width: `CUST` + `20240520` + `001`.
///
/// Pure: the host passes the last sequence (or the last number) it issued and stores
/// the one it gets back; there is no counter inside. A sequence that no longer fits its
/// width is an error, never a wrap to `000`.
///
/// - `prefix`: up to 16 ASCII letters, digits, `-` or `_` (may be empty);
/// - `date_format`: `%Y` (4-digit year), `%y` (2-digit year), `%m`, `%d`, and the
///   literal characters `-` and `_`; empty for numbers without a date, whose sequence
///   never restarts;
/// - `width`: 1 to 18 digits.
///
/// In JSON: `{"prefix": "CUST", "date_format": "%Y%m%d", "width": 3}` (the default);
/// the settings are checked when read.
///
/// ```
/// use chrono::NaiveDate;
/// use crm_rules::quality::CustomerNumbers;
/// let numbers = CustomerNumbers::default();
/// let today = NaiveDate::from_ymd_opt(2024, 5, 20).ok_or("date")?;
/// let first = numbers.next(today, 0)?;
/// assert_eq!((first.number.as_str(), first.sequence), ("CUST20240520001", 1));
/// assert_eq!(numbers.next_after(today, Some("CUST20240520041"))?.number, "CUST20240520042");
/// assert_eq!(numbers.next_after(today, Some("CUST20240519007"))?.number, "CUST20240520001");
/// assert_eq!(
///     numbers.next(today, 999).unwrap_err().to_string(),
///     "customer number sequence 1000 for CUST20240520 does not fit in 3 digits"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Settings", into = "Settings")]
pub struct CustomerNumbers {
    prefix: String,
    date_format: String,
    width: u8,
}

/// The serde form of [`CustomerNumbers`], checked when converted.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default = "default_prefix")]
    prefix: String,
    #[serde(default = "default_date_format")]
    date_format: String,
    #[serde(default = "default_width")]
    width: u8,
}

fn default_prefix() -> String {
    "CUST".into()
}

fn default_date_format() -> String {
    "%Y%m%d".into()
}

fn default_width() -> u8 {
    3
}

impl TryFrom<Settings> for CustomerNumbers {
    type Error = CustomerNumberError;
    fn try_from(s: Settings) -> Result<CustomerNumbers, CustomerNumberError> {
        CustomerNumbers::new(&s.prefix, &s.date_format, s.width)
    }
}

impl From<CustomerNumbers> for Settings {
    fn from(c: CustomerNumbers) -> Settings {
        Settings {
            prefix: c.prefix,
            date_format: c.date_format,
            width: c.width,
        }
    }
}

impl Default for CustomerNumbers {
    /// `CUST` + `%Y%m%d` + 3 digits: `CUST20240520001`.
    fn default() -> CustomerNumbers {
        CustomerNumbers {
            prefix: default_prefix(),
            date_format: default_date_format(),
            width: default_width(),
        }
    }
}

/// A customer number issued, with its sequence for the host to store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct CustomerNumber {
    /// The number: `CUST20240520001`.
    pub number: String,
    /// Its sequence within its date: `1`.
    pub sequence: u64,
}

impl fmt::Display for CustomerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

/// Customer number settings that are invalid, or a number that cannot be issued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CustomerNumberError {
    /// The prefix is too long or holds a character other than ASCII letters, digits,
    /// `-` and `_`.
    #[error("customer number prefix {0:?} must be at most 16 ASCII letters, digits, - or _")]
    Prefix(String),
    /// The date format holds something other than `%Y`, `%y`, `%m`, `%d`, `-` and `_`.
    #[error("customer number date format {0:?} may hold only %Y, %y, %m, %d, - and _")]
    DateFormat(String),
    /// The width is not between 1 and 18.
    #[error("customer number width {0} is not between 1 and 18")]
    Width(u8),
    /// The sequence does not fit in the width.
    #[error("customer number sequence {sequence} for {stem} does not fit in {width} digits")]
    Overflow {
        /// The prefix and date the sequence belongs to: `CUST20240520`.
        stem: String,
        /// The sequence that does not fit.
        sequence: u64,
        /// The width.
        width: u8,
    },
    /// Sequences start at 1.
    #[error("customer number sequence 0 is not valid; sequences start at 1")]
    ZeroSequence,
    /// The year of the date cannot be written in the format.
    #[error("the year of {0} cannot be written in a customer number")]
    Year(NaiveDate),
    /// The last number given is not of this form.
    #[error("{number:?} is not a customer number of the form {form}")]
    NotANumber {
        /// The text given.
        number: String,
        /// The form expected: `CUST + %Y%m%d + 3 digits`.
        form: String,
    },
}

impl CustomerNumbers {
    /// Customer number settings, checked.
    ///
    /// ```
    /// use crm_rules::quality::CustomerNumbers;
    /// let numbers = CustomerNumbers::new("KH-", "%y%m", 5)?;
    /// let date = chrono::NaiveDate::from_ymd_opt(2024, 5, 20).ok_or("date")?;
    /// assert_eq!(numbers.format(date, 42)?, "KH-240500042");
    /// assert!(CustomerNumbers::new("CUST", "%Y年", 3).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A prefix, date format or width outside what the type documents.
    pub fn new(
        prefix: &str,
        date_format: &str,
        width: u8,
    ) -> Result<CustomerNumbers, CustomerNumberError> {
        let prefix_ok = prefix.len() <= 16
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !prefix_ok {
            return Err(CustomerNumberError::Prefix(prefix.to_owned()));
        }
        if date_items(date_format).is_none() {
            return Err(CustomerNumberError::DateFormat(date_format.to_owned()));
        }
        if !(1..=18).contains(&width) {
            return Err(CustomerNumberError::Width(width));
        }
        Ok(CustomerNumbers {
            prefix: prefix.to_owned(),
            date_format: date_format.to_owned(),
            width,
        })
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The date format.
    pub fn date_format(&self) -> &str {
        &self.date_format
    }

    /// The width of the sequence, in digits.
    pub fn width(&self) -> u8 {
        self.width
    }

    /// The prefix and the date: `CUST20240520`.
    fn stem(&self, date: NaiveDate) -> Result<String, CustomerNumberError> {
        let mut stem = self.prefix.clone();
        for item in date_items(&self.date_format).unwrap_or_default() {
            match item {
                Item::Year4 => {
                    let year = date.year();
                    if !(0..=9999).contains(&year) {
                        return Err(CustomerNumberError::Year(date));
                    }
                    stem.push_str(&format!("{year:04}"));
                }
                Item::Year2 => stem.push_str(&format!("{:02}", date.year().rem_euclid(100))),
                Item::Month => stem.push_str(&format!("{:02}", date.month())),
                Item::Day => stem.push_str(&format!("{:02}", date.day())),
                Item::Literal(c) => stem.push(c),
            }
        }
        Ok(stem)
    }

    /// The number of a given sequence on a date.
    ///
    /// # Errors
    /// [`CustomerNumberError::ZeroSequence`] for 0, [`CustomerNumberError::Overflow`] for
    /// a sequence wider than the width, [`CustomerNumberError::Year`] for a year the
    /// format cannot write.
    pub fn format(&self, date: NaiveDate, sequence: u64) -> Result<String, CustomerNumberError> {
        let stem = self.stem(date)?;
        if sequence == 0 {
            return Err(CustomerNumberError::ZeroSequence);
        }
        if sequence > max_sequence(self.width) {
            return Err(CustomerNumberError::Overflow {
                stem,
                sequence,
                width: self.width,
            });
        }
        let width = usize::from(self.width);
        Ok(format!("{stem}{sequence:0width$}"))
    }

    /// The next number on a date after the last sequence issued on it (0 when none was).
    ///
    /// # Errors
    /// [`CustomerNumberError::Overflow`] when the next sequence does not fit the width.
    pub fn next(
        &self,
        date: NaiveDate,
        last_sequence: u64,
    ) -> Result<CustomerNumber, CustomerNumberError> {
        let sequence = last_sequence.saturating_add(1);
        Ok(CustomerNumber {
            number: self.format(date, sequence)?,
            sequence,
        })
    }

    /// The next number on a date after the last number issued (`None` when none was):
    /// the sequence continues when the last number has the same date, and starts at 1
    /// when its date differs.
    ///
    /// # Errors
    /// [`CustomerNumberError::NotANumber`] when the last number is not of this form, and
    /// the errors of [`CustomerNumbers::next`].
    pub fn next_after(
        &self,
        date: NaiveDate,
        last: Option<&str>,
    ) -> Result<CustomerNumber, CustomerNumberError> {
        let stem = self.stem(date)?;
        let last_sequence = match last {
            None => 0,
            Some(number) => {
                let (last_stem, sequence) =
                    self.parse(number)
                        .ok_or_else(|| CustomerNumberError::NotANumber {
                            number: number.to_owned(),
                            form: self.form(),
                        })?;
                if last_stem == stem {
                    sequence
                } else {
                    0
                }
            }
        };
        self.next(date, last_sequence)
    }

    /// Splits a number of this form into its stem (prefix and date) and its sequence;
    /// `None` when it is not of this form.
    ///
    /// ```
    /// use crm_rules::quality::CustomerNumbers;
    /// let numbers = CustomerNumbers::default();
    /// assert_eq!(numbers.parse("CUST20240520042"), Some(("CUST20240520", 42)));
    /// assert_eq!(numbers.parse("CUST2024052042"), None);
    /// ```
    pub fn parse<'a>(&self, number: &'a str) -> Option<(&'a str, u64)> {
        let items = date_items(&self.date_format)?;
        let date_len: usize = items.iter().map(Item::len).sum();
        let stem_len = self.prefix.len() + date_len;
        if number.len() != stem_len + usize::from(self.width) || !number.is_ascii() {
            return None;
        }
        let (stem, digits) = number.split_at(stem_len);
        if !stem.starts_with(&self.prefix) {
            return None;
        }
        let mut date = &stem[self.prefix.len()..];
        for item in &items {
            let (part, rest) = date.split_at(item.len());
            let ok = match item {
                Item::Literal(c) => part.starts_with(*c),
                _ => part.bytes().all(|b| b.is_ascii_digit()),
            };
            if !ok {
                return None;
            }
            date = rest;
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sequence = digits.parse().ok()?;
        Some((stem, sequence))
    }

    /// The form of a number, for messages: `CUST + %Y%m%d + 3 digits`.
    fn form(&self) -> String {
        let mut parts = Vec::new();
        if !self.prefix.is_empty() {
            parts.push(self.prefix.clone());
        }
        if !self.date_format.is_empty() {
            parts.push(self.date_format.clone());
        }
        parts.push(format!("{} digits", self.width));
        parts.join(" + ")
    }
}

/// The largest sequence of a width: 999 for 3.
fn max_sequence(width: u8) -> u64 {
    10u64.saturating_pow(u32::from(width)) - 1
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Year4,
    Year2,
    Month,
    Day,
    Literal(char),
}

impl Item {
    fn len(&self) -> usize {
        match self {
            Item::Year4 => 4,
            Item::Year2 | Item::Month | Item::Day => 2,
            Item::Literal(_) => 1,
        }
    }
}

/// The items of a date format, or `None` when it holds anything not allowed.
fn date_items(format: &str) -> Option<Vec<Item>> {
    let mut items = Vec::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        items.push(match c {
            '%' => match chars.next()? {
                'Y' => Item::Year4,
                'y' => Item::Year2,
                'm' => Item::Month,
                'd' => Item::Day,
                _ => return None,
            },
            '-' | '_' => Item::Literal(c),
            _ => return None,
        });
    }
    (items.len() <= 16).then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_overflow() {
        assert_eq!(max_sequence(1), 9);
        assert_eq!(max_sequence(18), 999_999_999_999_999_999);
        let n = CustomerNumbers::new("", "", 18).unwrap();
        let d = NaiveDate::from_ymd_opt(2024, 5, 20).unwrap();
        assert_eq!(n.format(d, 7).unwrap(), "000000000000000007");
        assert!(n.next(d, u64::MAX).is_err());
    }
}
