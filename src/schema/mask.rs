//! Masking of sensitive values: `138****5678`, `l***@example.com`.

use crate::value::Value;

/// Masks a value for display.
///
/// - An e-mail address keeps its first character and its domain: `l***@example.com`.
/// - A text of 8 or more characters (a phone or ID number) keeps its first 3 and last 4
///   characters, with one `*` per hidden character: `138****5678`.
/// - Anything else shorter, and every non-text value, becomes `***`; absent stays empty.
/// - A list masks each item.
pub fn mask(value: &Value) -> String {
    match value {
        Value::Absent => String::new(),
        Value::Text(text) => mask_text(text),
        Value::List(items) => items
            .iter()
            .map(|i| mask_text(i))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "***".to_owned(),
    }
}

fn mask_text(text: &str) -> String {
    if let Some((local, domain)) = text.split_once('@') {
        if let Some(first) = local.chars().next() {
            return format!("{first}***@{domain}");
        }
    }
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 8 {
        return "***".to_owned();
    }
    let hidden = chars.len() - 7;
    let mut out: String = chars[..3].iter().collect();
    out.extend(std::iter::repeat_n('*', hidden));
    out.extend(&chars[chars.len() - 4..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_as_the_seeds_show() {
        assert_eq!(mask(&Value::from("13812345678")), "138****5678");
        assert_eq!(mask(&Value::from("li@example.com")), "l***@example.com");
        assert_eq!(
            mask(&Value::from("110101199003071234")),
            "110***********1234"
        );
        assert_eq!(mask(&Value::from("张三")), "***");
        assert_eq!(mask(&Value::from(42)), "***");
        assert_eq!(mask(&Value::Absent), "");
    }
}
