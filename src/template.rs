//! Message and title templates: `{{field}}` placeholders, checked when compiled,
//! rendered with sensitive fields masked.

use crate::compile::Compiler;
use crate::schema::{mask, FieldId, Record, Schema};

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Field { id: FieldId, sensitive: bool },
}

/// A compiled template: literal text and field placeholders.
///
/// `{{客户名称}}` is replaced by the field's value (white space inside the braces is
/// ignored); a sensitive field is masked (`138****5678`); an absent value renders as
/// nothing. `{{` without a closing `}}`, an empty placeholder and an unknown field are
/// build errors.
///
/// ```
/// use crm_rules::{Field, FieldType, Schema, Template};
/// let schema = Schema::new([
///     Field::new("客户名称", FieldType::Text),
///     Field::new("手机号", FieldType::Phone).sensitive(),
/// ])?;
/// let t = Template::compile("请回访 {{客户名称}}（{{ 手机号 }}）", &schema)?;
/// let customer = schema.record([("客户名称", "华为"), ("手机号", "13812345678")])?;
/// assert_eq!(t.render(&customer), "请回访 华为（138****5678）");
/// assert!(Template::compile("{{客户名}}", &schema).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Compiles a template against a schema.
    ///
    /// # Errors
    /// Unclosed or empty placeholders and unknown fields, every one.
    pub fn compile(text: &str, schema: &Schema) -> Result<Template, crate::BuildError> {
        let limits = crate::Limits::default();
        let mut compiler = Compiler::new(schema, &limits);
        let t = compiler.template(text, "");
        match t {
            Some(t) if compiler.problems.is_empty() => Ok(t),
            _ => Err(crate::BuildError::new(compiler.problems)),
        }
    }

    /// The template with each placeholder replaced by the record's value, masked where
    /// the field is sensitive.
    pub fn render(&self, record: &Record) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field { id, sensitive } => {
                    let v = record.get(*id);
                    if *sensitive {
                        out.push_str(&mask(v));
                    } else if !v.is_absent() {
                        out.push_str(&v.to_string());
                    }
                }
            }
        }
        out
    }

    /// The fields the template reads, in order of appearance.
    pub fn fields(&self) -> impl Iterator<Item = FieldId> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Field { id, .. } => Some(*id),
            Part::Text(_) => None,
        })
    }
}

impl Compiler<'_> {
    /// Compiles a template, reporting problems at `path`.
    pub(crate) fn template(&mut self, text: &str, path: &str) -> Option<Template> {
        self.text(text, path);
        let mut parts = Vec::new();
        let mut rest = text;
        let mut ok = true;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                self.problem(path, "a placeholder `{{` is not closed with `}}`");
                return None;
            };
            let name = after[..close].trim();
            if name.is_empty() {
                self.problem(path, "a placeholder `{{}}` names no field");
                ok = false;
            } else if let Some((id, field)) = self.field(name, path) {
                parts.push(Part::Field {
                    id,
                    sensitive: field.sensitive,
                });
            } else {
                ok = false;
            }
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        ok.then_some(Template { parts })
    }
}
