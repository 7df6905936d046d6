//! Reading a rule set from JSON, one rule at a time, so that every broken rule is reported.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Rule, RuleSet};
use crate::error::{json_problem, LoadError, Problem, RuleRef};
use crate::limits::Limits;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet<'a> {
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(borrow)]
    rules: Vec<&'a RawValue>,
}

/// What can be read of a broken rule to name it.
#[derive(Deserialize)]
struct Label {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<serde_json::Value>,
}

impl RuleSet {
    /// Reads a rule set from its JSON form.
    ///
    /// Rules are read one by one: every rule that cannot be read is reported, each with
    /// its position in the set, its id and name when they can be read, and the line and
    /// column of the problem. Unknown keys are errors, not ignored.
    ///
    /// This checks the shape only; [`RuleSet::compile`] checks the rules against a schema.
    ///
    /// ```
    /// use crm_rules::RuleSet;
    /// let err = RuleSet::from_json(r#"{"rules": [
    ///   {"id": "r1", "name": "新线索", "trigger": {"type": "event", "event": "lead_created"}, "actions": [], "prority": 1}
    /// ]}"#).unwrap_err();
    /// assert!(err.problems()[0].to_string().starts_with(
    ///     "line 2, column 109: rules[0] r1 \"新线索\": prority: unknown field `prority`"));
    /// ```
    ///
    /// # Errors
    /// A [`LoadError`] listing JSON syntax errors, unknown keys, missing keys and values
    /// of the wrong JSON type, and a text larger than [`Limits::max_text_bytes`].
    pub fn from_json(text: &str) -> Result<RuleSet, LoadError> {
        crate::error::precheck(text, "rules", r#"{"rules": [...]}"#)?;
        let raw: RawSet<'_> = serde_json::from_str(text)
            .map_err(|e| LoadError::new("rules", vec![json_problem(&e, None, text, 0)]))?;
        let limits = Limits::default();
        if raw.rules.len() > limits.max_rules {
            return Err(LoadError::new(
                "rules",
                vec![Problem::new(
                    None,
                    "rules",
                    format!("more than {} rules", limits.max_rules),
                )],
            ));
        }
        let mut rules = Vec::with_capacity(raw.rules.len());
        let mut problems = Vec::new();
        for (index, part) in raw.rules.iter().enumerate() {
            let source = part.get();
            match serde_json::from_str::<Rule>(source) {
                Ok(rule) => rules.push(rule),
                Err(e) => {
                    let label = serde_json::from_str::<Label>(source).ok();
                    let text_of = |v: Option<serde_json::Value>| match v {
                        Some(serde_json::Value::String(s)) => s,
                        _ => String::new(),
                    };
                    let (id, name) = label.map_or((String::new(), String::new()), |l| {
                        (text_of(l.id), text_of(l.name))
                    });
                    let base = source.as_ptr() as usize - text.as_ptr() as usize;
                    let rule = RuleRef { index, id, name };
                    problems.push(json_problem(&e, Some(rule), text, base));
                }
            }
        }
        if problems.is_empty() {
            Ok(RuleSet {
                time_zone: raw.time_zone,
                rules,
            })
        } else {
            Err(LoadError::new("rules", problems))
        }
    }
}
