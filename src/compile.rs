//! The compiler's working state: the schema, the limits, the rule being compiled, and
//! every problem found so far. Each part of a rule compiles through it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Problem, RuleRef};
use crate::limits::Limits;
use crate::payload::Payload;
use crate::schema::{describe_json, truncate, Field, FieldId, Schema};

/// Compiles rules and conditions against a schema, collecting problems instead of
/// stopping at the first.
pub(crate) struct Compiler<'a> {
    pub schema: &'a Schema,
    pub limits: &'a Limits,
    /// The rule being compiled, named in every problem.
    pub rule: Option<RuleRef>,
    pub problems: Vec<Problem>,
    /// Texts and payloads rules repeat, made once and shared.
    pub shared: Shared,
}

/// What many rules repeat (custom action kinds, payloads, names), made once and shared
/// by every rule that has it: a plan's actions then point to a few shared values rather
/// than one per rule, which keeps the memory an evaluation touches small.
#[derive(Default)]
pub(crate) struct Shared {
    texts: HashMap<Box<str>, Arc<str>>,
    /// By their JSON text: equal texts are interchangeable values.
    payloads: HashMap<String, Arc<serde_json::Value>>,
}

impl Shared {
    /// The shared copy of a text.
    pub fn text(&mut self, text: &str) -> Arc<str> {
        if let Some(t) = self.texts.get(text) {
            return Arc::clone(t);
        }
        let t: Arc<str> = Arc::from(text);
        self.texts.insert(text.into(), Arc::clone(&t));
        t
    }

    /// The shared copy of a payload (none for `null`).
    pub fn payload(&mut self, payload: &serde_json::Value) -> Payload {
        if payload.is_null() {
            return Payload::default();
        }
        Payload::from(Arc::clone(
            self.payloads
                .entry(payload.to_string())
                .or_insert_with(|| Arc::new(payload.clone())),
        ))
    }
}

impl<'a> Compiler<'a> {
    pub fn new(schema: &'a Schema, limits: &'a Limits) -> Compiler<'a> {
        Compiler {
            schema,
            limits,
            rule: None,
            problems: Vec::new(),
            shared: Shared::default(),
        }
    }

    pub fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems
            .push(Problem::new(self.rule.clone(), path, message));
    }

    /// A field by name, or a problem naming the nearest field when one is close.
    pub fn field(&mut self, name: &str, path: &str) -> Option<(FieldId, &'a Field)> {
        let schema = self.schema;
        match schema.field_id(name) {
            Some(id) => schema.field(id).map(|f| (id, f)),
            None => {
                let names: Vec<String> = schema.fields().iter().map(|f| f.name.clone()).collect();
                let hint = crate::schema::nearest_option(&names, name)
                    .map(|n| format!("; did you mean {n:?}?"))
                    .unwrap_or_default();
                self.problem(
                    path,
                    format!("unknown field {:?}{hint}", truncate(name, 60)),
                );
                None
            }
        }
    }

    /// Checks a name-like text (an id, an event kind, a user): not empty, not too long.
    pub fn name(&mut self, text: &str, path: &str, what: &str) {
        if text.trim().is_empty() {
            self.problem(path, format!("the {what} is empty"));
        } else if text.chars().count() > self.limits.max_name_chars {
            self.problem(
                path,
                format!(
                    "the {what} is longer than {} characters",
                    self.limits.max_name_chars
                ),
            );
        }
    }

    /// Checks the length of a free text (a template, a description, a literal).
    pub fn text(&mut self, text: &str, path: &str) {
        if text.chars().count() > self.limits.max_text_chars {
            self.problem(
                path,
                format!(
                    "the text is longer than {} characters",
                    self.limits.max_text_chars
                ),
            );
        }
    }

    /// Reports every item of a list that repeats an earlier one, shown as the rule file
    /// writes it (`{"user":"li.wei"}`, `"Mon"`), not as Rust debug output.
    pub fn no_duplicates<T: PartialEq + serde::Serialize>(&mut self, items: &[T], path: &str) {
        for (i, item) in items.iter().enumerate() {
            if items[..i].contains(item) {
                let shown = serde_json::to_string(item).unwrap_or_default();
                self.problem(&format!("{path}[{i}]"), format!("{shown} is listed twice"));
            }
        }
    }

    /// A JSON array of texts, each checked by `check`; problems for anything else.
    pub fn texts(&mut self, json: Option<&serde_json::Value>, path: &str) -> Option<Vec<String>> {
        let Some(json) = json else {
            self.problem(path, "expected a list of texts, found nothing");
            return None;
        };
        let Some(items) = json.as_array() else {
            self.problem(
                path,
                format!("expected a list of texts, found {}", describe_json(json)),
            );
            return None;
        };
        if items.is_empty() {
            self.problem(path, "the list is empty");
            return None;
        }
        if items.len() > self.limits.max_list_items {
            self.problem(
                path,
                format!("more than {} items", self.limits.max_list_items),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) if !s.is_empty() => {
                    self.text(s, &format!("{path}[{i}]"));
                    out.push(s.to_owned());
                }
                Some(_) => self.problem(&format!("{path}[{i}]"), "the text is empty"),
                None => self.problem(
                    &format!("{path}[{i}]"),
                    format!("expected a text, found {}", describe_json(item)),
                ),
            }
        }
        (out.len() == items.len()).then_some(out)
    }
}

/// Joins a path and a key: `when` + `all[1]` → `when.all[1]`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}
