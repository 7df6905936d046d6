//! Invalid-data flags: values that are well-formed but implausible (`13800000000`,
//! `li@example.com`, a customer called `测试`). They are flagged, never rejected.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::text;
use crate::keys::same_text;
use crate::schema::{Field, FieldId, FieldType};
use crate::value::Value;

/// The invalid-data flags of a schema: the `flags` key of its `quality` section.
///
/// Every key is optional and has the default shown; give an empty list (or `null` for a
/// digit count) to turn a check off.
///
/// | key | default | flags |
/// |---|---|---|
/// | `phones` | `["13800000000", "13800138000", "12345678901"]` | a phone field holding one of these numbers |
/// | `phone_repeated_digits` | `8` | a phone number with this many identical digits in a row (`13888888888`) |
/// | `phone_sequential_digits` | `8` | a phone number with this many digits counting up or down in a row, 9 → 0 and 0 → 9 included (`12345678901`) |
/// | `email_domains` | `["example.com", "example.net", "example.org", "test.com", "test.cn", "test.net"]` | an e-mail field whose domain is one of these or a subdomain of one |
/// | `names` | `["测试", "测试客户", "测试公司", "测试用户", "test", "demo", "asdf", "xxx"]` | a name field equal to one of these, ignoring ASCII case and trailing digits (`Test01`, `测试2`) |
/// | `name_fields` | every `text` field | the fields `names` applies to (`text`, `long_text` or `member` fields) |
///
/// ```
/// use crm_rules::quality::Flags;
/// let flags = Flags::default().email_domains(["example.com", "test.com", "mailinator.com"]);
/// assert_eq!(flags.phone_repeated_digits, Some(8));
/// assert_eq!(flags.email_domains.len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Flags {
    /// Placeholder phone numbers, digits only.
    #[serde(default = "default_phones")]
    pub phones: Vec<String>,
    /// Flag a phone number with at least this many identical digits in a row.
    #[serde(default = "default_run")]
    pub phone_repeated_digits: Option<u8>,
    /// Flag a phone number with at least this many digits counting up or down in a row.
    #[serde(default = "default_run")]
    pub phone_sequential_digits: Option<u8>,
    /// Test e-mail domains; subdomains are flagged too.
    #[serde(default = "default_domains")]
    pub email_domains: Vec<String>,
    /// Test names.
    #[serde(default = "default_names")]
    pub names: Vec<String>,
    /// The fields `names` applies to; every `text` field when `None`.
    #[serde(default)]
    pub name_fields: Option<Vec<String>>,
}

fn default_phones() -> Vec<String> {
    ["13800000000", "13800138000", "12345678901"]
        .map(String::from)
        .to_vec()
}

fn default_run() -> Option<u8> {
    Some(8)
}

fn default_domains() -> Vec<String> {
    [
        "example.com",
        "example.net",
        "example.org",
        "test.com",
        "test.cn",
        "test.net",
    ]
    .map(String::from)
    .to_vec()
}

fn default_names() -> Vec<String> {
    [
        "测试",
        "测试客户",
        "测试公司",
        "测试用户",
        "test",
        "demo",
        "asdf",
        "xxx",
    ]
    .map(String::from)
    .to_vec()
}

impl Default for Flags {
    fn default() -> Flags {
        Flags {
            phones: default_phones(),
            phone_repeated_digits: default_run(),
            phone_sequential_digits: default_run(),
            email_domains: default_domains(),
            names: default_names(),
            name_fields: None,
        }
    }
}

impl Flags {
    /// No flags at all: every list empty, every digit count off.
    ///
    /// ```
    /// use crm_rules::quality::Flags;
    /// let only_domains = Flags::none().email_domains(["example.com"]);
    /// assert!(only_domains.phones.is_empty());
    /// ```
    pub fn none() -> Flags {
        Flags {
            phones: Vec::new(),
            phone_repeated_digits: None,
            phone_sequential_digits: None,
            email_domains: Vec::new(),
            names: Vec::new(),
            name_fields: None,
        }
    }

    /// Sets the placeholder phone numbers.
    pub fn phones<I: IntoIterator<Item = S>, S: Into<String>>(mut self, phones: I) -> Flags {
        self.phones = phones.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the run of identical digits that flags a phone number (`None`: off).
    pub fn phone_repeated_digits(mut self, run: Option<u8>) -> Flags {
        self.phone_repeated_digits = run;
        self
    }

    /// Sets the run of sequential digits that flags a phone number (`None`: off).
    pub fn phone_sequential_digits(mut self, run: Option<u8>) -> Flags {
        self.phone_sequential_digits = run;
        self
    }

    /// Sets the test e-mail domains.
    pub fn email_domains<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        domains: I,
    ) -> Flags {
        self.email_domains = domains.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the test names.
    pub fn names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Flags {
        self.names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the fields the test names apply to.
    pub fn name_fields<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Flags {
        self.name_fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    pub(crate) fn is_default(&self) -> bool {
        *self == Flags::default()
    }

    pub(crate) fn check(
        &self,
        fields: &[Field],
        by_name: &HashMap<String, FieldId>,
        problem: &mut impl FnMut(String, String),
    ) {
        for (i, phone) in self.phones.iter().enumerate() {
            if phone.is_empty() || !phone.bytes().all(|b| b.is_ascii_digit()) {
                problem(
                    format!("flags.phones[{i}]"),
                    format!("a placeholder phone number holds digits only, found {phone:?}"),
                );
            }
        }
        for (key, run) in [
            ("phone_repeated_digits", self.phone_repeated_digits),
            ("phone_sequential_digits", self.phone_sequential_digits),
        ] {
            if let Some(n) = run.filter(|n| !(3..=20).contains(n)) {
                problem(
                    format!("flags.{key}"),
                    format!("{n} is not between 3 and 20"),
                );
            }
        }
        for (i, domain) in self.email_domains.iter().enumerate() {
            if domain.is_empty()
                || domain.contains('@')
                || domain.chars().any(char::is_whitespace)
                || domain.starts_with('.')
            {
                problem(
                    format!("flags.email_domains[{i}]"),
                    format!("{domain:?} is not a domain (write it as test.com)"),
                );
            }
        }
        for (i, name) in self.names.iter().enumerate() {
            if text::text(name).is_empty() {
                problem(format!("flags.names[{i}]"), "the name is empty".into());
            }
        }
        for (i, name) in self.name_fields.iter().flatten().enumerate() {
            let path = format!("flags.name_fields[{i}]");
            match by_name.get(name) {
                None => problem(path, format!("unknown field {name}")),
                Some(id) => {
                    let t = fields[id.index()].field_type;
                    if !is_name_type(t) {
                        problem(
                            path,
                            format!(
                                "{name} is a {} field; test names apply to text, long_text \
                                 and member fields",
                                t.name()
                            ),
                        );
                    }
                }
            }
        }
    }
}

fn is_name_type(t: FieldType) -> bool {
    matches!(t, FieldType::Text | FieldType::LongText | FieldType::Member)
}

/// Why a value is flagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FlagKind {
    /// A phone number listed in `flags.phones`.
    PlaceholderPhone,
    /// A phone number with a long run of identical digits.
    RepeatedDigits,
    /// A phone number with a long run of digits counting up or down.
    SequentialDigits,
    /// An e-mail address at a domain listed in `flags.email_domains`.
    TestEmailDomain,
    /// A name listed in `flags.names`.
    TestName,
}

/// A well-formed but implausible value: flagged for a person to look at, not rejected.
///
/// Its text reads `手机号 (138****0000): is a placeholder phone number`; the value is
/// masked when the field is sensitive. At most one flag is given per field, the first of:
/// placeholder phone, repeated digits, sequential digits.
///
/// | kind | message |
/// |---|---|
/// | `placeholder_phone` | `is a placeholder phone number` |
/// | `repeated_digits` | `has 8 identical digits in a row` (the longest run) |
/// | `sequential_digits` | `has 11 sequential digits in a row` (the longest run) |
/// | `test_email_domain` | `uses the test domain example.com` (the listed domain) |
/// | `test_name` | `looks like test data` |
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// The field's name.
    pub field: String,
    /// The value as shown to people: masked if the field is sensitive.
    pub value: String,
    /// Why it is flagged.
    pub kind: FlagKind,
    /// What is implausible, lowercase.
    pub message: String,
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.field, self.value, self.message)
    }
}

/// What a field is checked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    None,
    Phone,
    Email,
    Name,
}

/// The flags compiled against a schema: one check per field, lists normalized.
#[derive(Clone, Debug)]
pub(crate) struct FlagChecks {
    per_field: Vec<Check>,
    phones: Vec<String>,
    repeated: Option<usize>,
    sequential: Option<usize>,
    domains: Vec<String>,
    names: Vec<String>,
    /// The longest name, in bytes: a longer text (digits aside) is no test name.
    longest_name: usize,
}

impl FlagChecks {
    pub(crate) fn new(
        flags: &Flags,
        fields: &[Field],
        by_name: impl Fn(&str) -> Option<FieldId>,
    ) -> FlagChecks {
        let mut per_field: Vec<Check> = fields
            .iter()
            .map(|f| match f.field_type {
                FieldType::Phone => Check::Phone,
                FieldType::Email => Check::Email,
                FieldType::Text if flags.name_fields.is_none() => Check::Name,
                _ => Check::None,
            })
            .collect();
        for name in flags.name_fields.iter().flatten() {
            if let Some(slot) = by_name(name).and_then(|id| per_field.get_mut(id.index())) {
                *slot = Check::Name;
            }
        }
        let mut phones = flags.phones.clone();
        phones.sort();
        let names: Vec<String> = flags.names.iter().map(|n| name_form(n)).collect();
        FlagChecks {
            longest_name: names.iter().map(String::len).max().unwrap_or(0),
            per_field,
            phones,
            repeated: flags.phone_repeated_digits.map(usize::from),
            sequential: flags.phone_sequential_digits.map(usize::from),
            domains: flags
                .email_domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            names,
        }
    }

    /// Whether the field is checked at all.
    pub(crate) fn applies(&self, id: FieldId) -> bool {
        self.per_field
            .get(id.index())
            .is_some_and(|c| *c != Check::None)
    }

    /// Why a field's value is implausible, with the message; `None` when it is not.
    /// `normal`: the value is known to be normalized text already (it came out of this
    /// module), so names need not be normalized again before they are compared.
    pub(crate) fn check(
        &self,
        id: FieldId,
        value: &Value,
        normal: bool,
    ) -> Option<(FlagKind, String)> {
        self.check_text(id, value.as_text()?, normal)
    }

    /// As [`FlagChecks::check`], for a text.
    pub(crate) fn check_text(
        &self,
        id: FieldId,
        text: &str,
        normal: bool,
    ) -> Option<(FlagKind, String)> {
        let check = *self.per_field.get(id.index())?;
        match check {
            Check::None => None,
            Check::Phone => self.check_phone(text),
            Check::Email => self.check_email(text),
            Check::Name => self.check_name(text, normal),
        }
    }

    fn check_phone(&self, phone: &str) -> Option<(FlagKind, String)> {
        let listed = if self.phones.len() <= 16 {
            self.phones.iter().any(|p| same_text(p, phone))
        } else {
            self.phones
                .binary_search_by(|p| p.as_str().cmp(phone))
                .is_ok()
        };
        if listed {
            return Some((
                FlagKind::PlaceholderPhone,
                "is a placeholder phone number".into(),
            ));
        }
        let shortest = self.repeated.into_iter().chain(self.sequential).min()?;
        if !Runs::may_reach(phone.as_bytes(), shortest) {
            return None;
        }
        let runs = Runs::of(phone.as_bytes());
        if self.repeated.is_some_and(|l| runs.repeated >= l) {
            return Some((
                FlagKind::RepeatedDigits,
                format!("has {} identical digits in a row", runs.repeated),
            ));
        }
        if self.sequential.is_some_and(|l| runs.sequential >= l) {
            return Some((
                FlagKind::SequentialDigits,
                format!("has {} sequential digits in a row", runs.sequential),
            ));
        }
        None
    }

    fn check_email(&self, email: &str) -> Option<(FlagKind, String)> {
        let at = email.bytes().rposition(|b| b == b'@')?;
        let domain = text::trim(email.get(at + 1..)?).as_bytes();
        let hit = self.domains.iter().find(|d| {
            let d = d.as_bytes();
            match domain.len().checked_sub(d.len()) {
                Some(0) => domain.eq_ignore_ascii_case(d),
                Some(at) => domain[at - 1] == b'.' && domain[at..].eq_ignore_ascii_case(d),
                None => false,
            }
        })?;
        Some((
            FlagKind::TestEmailDomain,
            format!("uses the test domain {hit}"),
        ))
    }

    fn check_name(&self, value: &str, normal: bool) -> Option<(FlagKind, String)> {
        if self.names.is_empty() {
            return None;
        }
        if normal && stem(value).len() > self.longest_name {
            return None;
        }
        let form = if normal {
            std::borrow::Cow::Borrowed(value)
        } else {
            text::text(value)
        };
        let stem = stem(&form);
        self.names
            .iter()
            .any(|n| {
                n.eq_ignore_ascii_case(&form) || (!stem.is_empty() && n.eq_ignore_ascii_case(stem))
            })
            .then(|| (FlagKind::TestName, "looks like test data".into()))
    }
}

/// A text without its trailing ASCII digits (`测试2` → `测试`), by bytes: no other
/// character ends in a digit's byte.
fn stem(text: &str) -> &str {
    let end = text
        .bytes()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |at| at + 1);
    text.get(..end).unwrap_or(text)
}

/// A name as the name list compares it: normalized text, ASCII letters lower-cased.
fn name_form(text: &str) -> String {
    text::text(text).to_ascii_lowercase()
}

/// The longest runs of digits of a phone number, found in one pass.
struct Runs {
    /// Identical digits in a row.
    repeated: usize,
    /// Digits counting up or down in a row (9 → 0 and 0 → 9 included).
    sequential: usize,
}

impl Runs {
    fn of(digits: &[u8]) -> Runs {
        let mut best = Runs {
            repeated: 0,
            sequential: 0,
        };
        // The step between neighbouring digits (mod 10: 0 the same, 1 up, 9 down), and
        // how many digits the current run of one step holds.
        let (mut previous, mut step, mut run) = (None, u8::MAX, 0usize);
        for &d in digits {
            if !d.is_ascii_digit() {
                previous = None;
                continue;
            }
            let Some(p) = previous.replace(d) else {
                // A digit alone is a run of one of each kind.
                best.repeated = best.repeated.max(1);
                best.sequential = best.sequential.max(1);
                step = u8::MAX;
                continue;
            };
            let s = step_between(p, d);
            run = if s == step { run + 1 } else { 2 };
            step = s;
            match s {
                0 => best.repeated = best.repeated.max(run),
                1 | 9 => best.sequential = best.sequential.max(run),
                _ => {}
            }
        }
        best
    }

    /// Whether the digits may hold a run (of either kind) of `length` digits or more;
    /// `false` only when they certainly do not, so that [`Runs::of`] can be skipped.
    ///
    /// A run of `length` digits among `n` bytes starts at `n - length` or before and ends
    /// at `length - 1` or after: when `length` is more than half of `n`, bytes `n -
    /// length` and the next are in every such run, so they must be digits one step apart
    /// (0, 1 or 9, mod 10).
    fn may_reach(digits: &[u8], length: usize) -> bool {
        let n = digits.len();
        if n < length {
            return false;
        }
        if 2 * length <= n + 1 {
            return true;
        }
        match (digits.get(n - length), digits.get(n - length + 1)) {
            (Some(&a), Some(&b)) if a.is_ascii_digit() && b.is_ascii_digit() => {
                matches!(step_between(a, b), 0 | 1 | 9)
            }
            _ => false,
        }
    }
}

/// The step from digit `p` to digit `d`, mod 10: 0 the same, 1 up, 9 down.
#[inline]
fn step_between(p: u8, d: u8) -> u8 {
    let difference = d.wrapping_sub(p);
    if difference > 9 {
        difference.wrapping_add(10)
    } else {
        difference
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digit that follows `d` counting up (9 → 0); any other byte follows nothing.
    fn next_digit(d: u8) -> u8 {
        match d {
            b'0'..=b'8' => d + 1,
            b'9' => b'0',
            _ => 0,
        }
    }

    /// The longest run of ASCII digits in which each neighbouring pair satisfies `linked`.
    fn longest_run(digits: &[u8], linked: impl Fn(u8, u8) -> bool) -> usize {
        let mut best = 0;
        let mut run = 0;
        let mut previous: Option<u8> = None;
        for &d in digits {
            if !d.is_ascii_digit() {
                run = 0;
                previous = None;
                continue;
            }
            run = match previous {
                Some(p) if linked(p, d) => run + 1,
                _ => 1,
            };
            best = best.max(run);
            previous = Some(d);
        }
        best
    }

    #[test]
    fn runs_of_digits() {
        assert_eq!(longest_run(b"13800000000", |a, b| a == b), 8);
        assert_eq!(longest_run(b"12345678901", |a, b| b == next_digit(a)), 11);
        assert_eq!(longest_run(b"98765432109", |a, b| a == next_digit(b)), 11);
        assert_eq!(longest_run(b"13812345678", |a, b| a == b), 1);
        assert_eq!(longest_run(b"", |a, b| a == b), 0);
    }

    #[test]
    fn the_quick_rejection_of_runs_never_rejects_a_run() {
        // Every text of up to 5 bytes of digits and a dash, and 11-digit numbers.
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        let mut last = texts.clone();
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|t| {
                    b"0123456789-"
                        .iter()
                        .map(move |&c| [t.as_slice(), &[c]].concat())
                })
                .collect();
            texts.extend(last.iter().cloned());
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits: Vec<u8> = (0..11)
                .map(|i| b"0123456789"[((x >> (i * 5)) % 10) as usize])
                .collect();
            texts.push(digits);
        }
        for t in &texts {
            let runs = Runs::of(t);
            for length in 0..=12 {
                if runs.repeated >= length || runs.sequential >= length {
                    assert!(
                        Runs::may_reach(t, length),
                        "{:?} {length}",
                        String::from_utf8_lossy(t)
                    );
                }
            }
        }
        for p in b'0'..=b'9' {
            for d in b'0'..=b'9' {
                assert_eq!(step_between(p, d), (d + 10 - p) % 10);
            }
        }
    }

    #[test]
    fn one_pass_runs_agree_with_the_definition() {
        for s in [
            "13800000000",
            "12345678901",
            "98765432109",
            "13812345678",
            "1-2-3",
            "",
            "0909",
            "5",
            "1112345",
            "98789",
            "55555432",
            "12a34b5555",
        ] {
            let d = s.as_bytes();
            let runs = Runs::of(d);
            assert_eq!(runs.repeated, longest_run(d, |a, b| a == b), "{s}");
            let up = longest_run(d, |a, b| b == next_digit(a));
            let down = longest_run(d, |a, b| a == next_digit(b));
            assert_eq!(runs.sequential, up.max(down), "{s}");
        }
    }
}
