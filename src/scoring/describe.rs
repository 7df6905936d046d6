//! Conditions written out for people, for bands that have no label of their own:
//! `预算 ≥ 500,000`, `决策角色 = 部门经理 and 预算 ≥ 100,000`.

use crate::rule::{Condition, Op, Operand};

/// A condition as a short text.
pub(crate) fn describe(c: &Condition) -> String {
    let mut out = String::new();
    write(c, &mut out, false, 0);
    out
}

fn write(c: &Condition, out: &mut String, nested: bool, depth: usize) {
    if depth > 8 {
        out.push('…');
        return;
    }
    match c {
        Condition::All(items) | Condition::Any(items) => {
            let joint = if matches!(c, Condition::All(_)) {
                " and "
            } else {
                " or "
            };
            let wrap = nested && items.len() > 1;
            if wrap {
                out.push('(');
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(joint);
                }
                write(item, out, true, depth + 1);
            }
            if wrap {
                out.push(')');
            }
        }
        Condition::Not(inner) => {
            out.push_str("not ");
            write(inner, out, true, depth + 1);
        }
        Condition::Count(count) => {
            out.push_str(&format!(
                "{} × {} within {}",
                count.at_least, count.event, count.within
            ));
        }
        Condition::Compare { operand, op, value } => {
            let name = match operand {
                Operand::Event(n) => format!("event.{n}"),
                Operand::Old(n) => format!("old {n}"),
                other => other.name().to_owned(),
            };
            let v = value.as_ref().map(show).unwrap_or_default();
            let text = match op {
                Op::Eq => format!("{name} = {v}"),
                Op::Ne => format!("{name} ≠ {v}"),
                Op::Lt => format!("{name} < {v}"),
                Op::Lte => format!("{name} ≤ {v}"),
                Op::Gt => format!("{name} > {v}"),
                Op::Gte => format!("{name} ≥ {v}"),
                Op::In => format!("{name} in {v}"),
                Op::NotIn => format!("{name} not in {v}"),
                Op::Between => match value.as_ref().and_then(|j| j.as_array()) {
                    Some(pair) if pair.len() == 2 => {
                        format!("{name} {} to {}", show(&pair[0]), show(&pair[1]))
                    }
                    _ => format!("{name} between {v}"),
                },
                Op::HasTag => format!("{name} has {v}"),
                Op::HasAny => format!("{name} has any of {v}"),
                Op::HasAll => format!("{name} has all of {v}"),
                Op::Contains => format!("{name} contains {v}"),
                Op::StartsWith => format!("{name} starts with {v}"),
                Op::ContainsAny => format!("{name} contains any of {v}"),
                Op::Exists => format!("{name} is set"),
                Op::IsEmpty => format!("{name} is empty"),
                Op::OlderThan => format!("{name} more than {v} ago"),
                Op::WithinLast => format!("{name} within the last {v}"),
                Op::DueWithin => format!("{name} due within {v}"),
            };
            out.push_str(&text);
        }
    }
}

/// A literal as people read it: texts bare, integers grouped by thousands, lists joined.
fn show(json: &serde_json::Value) -> String {
    match json {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => group(i),
            None => n.to_string(),
        },
        serde_json::Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// An integer with thousands separators: `500,000`.
fn group(i: i64) -> String {
    let digits = i.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if i < 0 {
        out.push('-');
    }
    for (k, ch) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_as_text() {
        let c = Condition::all([
            Condition::field("预算").gte(500_000),
            Condition::any([
                Condition::field("决策角色").eq("部门经理"),
                Condition::field("决策角色").is_in(["总监", "总经理"]),
            ]),
            Condition::field("预算").between(-1_000, 20),
        ]);
        assert_eq!(
            describe(&c),
            "预算 ≥ 500,000 and (决策角色 = 部门经理 or 决策角色 in 总监, 总经理) and 预算 -1,000 to 20"
        );
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(i64::MIN), "-9,223,372,036,854,775,808");
    }
}
