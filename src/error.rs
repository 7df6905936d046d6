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
    let position = (err.line() > 0).then(|| {
        let read = text.get(base..).unwrap_or("");
        let line_start: usize = read
            .split('\n')
            .take(err.line() - 1)
            .map(|l| l.len() + 1)
            .sum();
        let offset = base + line_start + err.column().saturating_sub(1);
        position(text, offset)
    });
    Problem {
        rule,
        path: String::new(),
        position,
        message,
    }
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
    fn positions_count_lines_and_characters() {
        let text = "ab\n客户d\nef";
        assert_eq!(position(text, 0), (1, 1));
        assert_eq!(position(text, 3), (2, 1));
        assert_eq!(position(text, 9), (2, 3));
        assert_eq!(position(text, 11), (3, 1));
        assert_eq!(position(text, 4), (2, 1)); // inside a character: its start
    }
}
