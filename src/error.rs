//! Error values: every problem names what and where.

use std::fmt;

/// The rule a problem belongs to: its position in the rule set, its id and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    /// The position in the rule set, from 0.
    pub index: usize,
    /// The rule's id (empty when the rule could not be read far enough to find it).
    pub id: String,
    /// The rule's name (empty when unknown).
    pub name: String,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rules[{}]", self.index)?;
        if !self.id.is_empty() {
            write!(f, " {}", self.id)?;
        }
        if !self.name.is_empty() {
            write!(f, " {:?}", self.name)?;
        }
        Ok(())
    }
}

/// One problem in a schema or a rule set: where it is and what is wrong.
///
/// Its text reads `line 4, column 9: rules[0] new-lead "新线索": when.all[1].value: expected
/// a number, found "abc"`; the line and column appear for problems found while reading
/// JSON, the rule for problems inside a rule, the path always.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The rule the problem is in, if any.
    pub rule: Option<RuleRef>,
    /// The JSON path inside the rule (or inside the schema): `when.all[1].value`.
    pub path: String,
    /// The line and column (from 1) in the JSON text, for problems found while reading it.
    pub position: Option<(usize, usize)>,
    /// What is wrong, lowercase, without a trailing period.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(
        rule: Option<RuleRef>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            rule,
            path: path.into(),
            position: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, column)) = self.position {
            write!(f, "line {line}, column {column}: ")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, "{rule}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

fn write_problems(f: &mut fmt::Formatter<'_>, head: &str, problems: &[Problem]) -> fmt::Result {
    write!(
        f,
        "{head}: {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    )?;
    for p in problems {
        write!(f, "\n  {p}")?;
    }
    Ok(())
}

/// Reading a schema or a rule set from JSON failed: the text is not valid JSON, does not
/// have the expected shape (an unknown key, a missing one, a value of the wrong type), or
/// (for a schema) describes an invalid schema.
///
/// Every problem found is listed; rules are read one by one, so one broken rule does not
/// hide the problems of the others.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    what: &'static str,
    problems: Vec<Problem>,
}

impl LoadError {
    pub(crate) fn new(what: &'static str, problems: Vec<Problem>) -> LoadError {
        LoadError { what, problems }
    }

    /// Every problem found, in the order of the text.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_problems(f, &format!("cannot load {}", self.what), &self.problems)
    }
}

/// Building a schema, or compiling rules or conditions against one, found problems.
///
/// Every problem is listed, each with its rule and path.
///
/// ```
/// use crm_rules::{Condition, Field, FieldType, Schema};
/// let schema = Schema::new([Field::new("预算", FieldType::Number)])?;
/// let err = Condition::field("预算").gte("abc").compile(&schema).unwrap_err();
/// assert_eq!(err.problems()[0].to_string(), "value: expected a number, found \"abc\"");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct BuildError {
    problems: Vec<Problem>,
}

impl BuildError {
    pub(crate) fn new(problems: Vec<Problem>) -> BuildError {
        BuildError { problems }
    }

    /// Every problem found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_problems(f, "build failed", &self.problems)
    }
}

impl From<BuildError> for LoadError {
    fn from(e: BuildError) -> LoadError {
        LoadError::new("schema", e.problems)
    }
}

/// A problem with one field of a customer record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// The offending value as shown to people: masked if the field is sensitive, empty
    /// when the value is missing.
    pub value: String,
    /// What is wrong: `is required`, `must be 11 digits`.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            // An error about the record as a whole (not an object) names no field.
            f.write_str(&self.message)
        } else if self.value.is_empty() {
            write!(f, "{}: {}", self.field, self.message)
        } else {
            write!(f, "{} ({}): {}", self.field, self.value, self.message)
        }
    }
}

/// A record broke the schema: every field error at once, in schema order.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    errors: Vec<FieldError>,
}

impl ValidationError {
    pub(crate) fn new(errors: Vec<FieldError>) -> ValidationError {
        ValidationError { errors }
    }

    /// Every field error.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "invalid record: {n} field error{}",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Turns a serde_json error into a problem with its line and column, the position
/// suffix taken out of the message. `text[base..]` is what serde_json read; the position
/// is given in the whole `text`, the column counted in characters, as editors show it.
pub(crate) fn json_problem(
    err: &serde_json::Error,
    rule: Option<RuleRef>,
    text: &str,
    base: usize,
) -> Problem {
    let full = err.to_string();
    let message = match full.rfind(" at line ") {
        Some(at) => full[..at].to_owned(),
        None => full,
    };
    let read = text.get(base..).unwrap_or("");
    let offset = (err.line() > 0).then(|| {
        let line_start: usize = read
            .split('\n')
            .take(err.line() - 1)
            .map(|l| l.len() + 1)
            .sum();
        line_start + err.column().saturating_sub(1)
    });
    // A value of the wrong form (a bad duration, an unknown key, a wrong type) is named by
    // its path as well; a syntax error only by its position.
    let path = match (err.classify(), offset) {
        (serde_json::error::Category::Data, Some(at)) => json_path_at(read, at),
        _ => String::new(),
    };
    Problem {
        rule,
        path,
        position: offset.map(|at| position(text, base + at)),
        message,
    }
}

/// The path (`expiry.cooldown`, `actions[1].to[0]`) of the value being read at byte
/// `offset` of a JSON text (the last byte read), found by scanning the text up to there:
/// what a reader that stopped at `offset` was inside. Empty at the top level.
pub(crate) fn json_path_at(text: &str, offset: usize) -> String {
    enum Level {
        /// An object, with the key whose value is being read (once its `:` is seen).
        Object(Option<String>, bool),
        /// A list, with the index of the item being read.
        List(usize),
    }
    let bytes = text.as_bytes();
    // serde_json's column is that of the last byte it read: included.
    let end = offset.saturating_add(1).min(bytes.len());
    let mut stack: Vec<Level> = Vec::new();
    let mut i = 0;
    while i < end {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Level::Object(key, false)) = stack.last_mut() {
                    let raw = text.get(start..i.min(text.len())).unwrap_or("");
                    *key = Some(
                        serde_json::from_str(&format!("\"{raw}\""))
                            .unwrap_or_else(|_| raw.to_owned()),
                    );
                }
            }
            b'{' => stack.push(Level::Object(None, false)),
            b'[' => stack.push(Level::List(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b':' => {
                if let Some(Level::Object(_, value)) = stack.last_mut() {
                    *value = true;
                }
            }
            b',' => match stack.last_mut() {
                Some(Level::Object(key, value)) => {
                    *key = None;
                    *value = false;
                }
                Some(Level::List(n)) => *n += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for level in &stack {
        match level {
            Level::Object(Some(key), _) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Level::Object(None, _) => {}
            Level::List(n) => path.push_str(&format!("[{n}]")),
        }
    }
    path
}

/// Checks a JSON text before it is read: not larger than the limit, and an object, so
/// that a list or a string gets a plain message rather than one naming private types.
pub(crate) fn precheck(text: &str, what: &'static str, shape: &str) -> Result<(), LoadError> {
    let max = crate::limits::Limits::default().max_text_bytes;
    if text.len() > max {
        let problem = Problem::new(None, "", format!("the text is larger than {max} bytes"));
        return Err(LoadError::new(what, vec![problem]));
    }
    if text.trim_start().starts_with('{') {
        return Ok(());
    }
    let problem = match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => json_problem(&e, None, text, 0),
        Ok(v) => Problem::new(
            None,
            "",
            format!(
                "expected a JSON object {shape}, found {}",
                crate::schema::describe_json(&v)
            ),
        ),
    };
    Err(LoadError::new(what, vec![problem]))
}

/// The line and column (both from 1; the column in characters) of a byte offset.
pub(crate) fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_value_being_read() {
        let text = r#"{"a": {"b": [1, {"c": "x"}]}, "d": 2}"#;
        assert_eq!(
            json_path_at(text, text.find("\"x\"").unwrap() + 2),
            "a.b[1].c"
        );
        assert_eq!(json_path_at(text, text.find('2').unwrap()), "d");
        // At the end of an object: the object's own path.
        assert_eq!(json_path_at(text, text.find("}]").unwrap()), "a.b[1]");
        assert_eq!(json_path_at(text, 0), "");
        assert_eq!(json_path_at(r#"{"k\"ey": 1"#, 10), "k\"ey");
        assert_eq!(json_path_at("[1, [2, 3", 8), "[1][1]");
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "ab\n客户d\nef";
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, 3), (2, 1));
        assert_eq!(position(text, 9), (2, 3));
        assert_eq!(position(text, 11), (3, 1));
        assert_eq!(position(text, 4), (2, 1)); // inside a character: its start
    }
}
