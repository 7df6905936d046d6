//! [`Name`]: the text of a rule's id or name, or a custom action's kind, as plans carry it.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How many bytes a [`Name`] holds in itself.
const INLINE: usize = 22;

/// An immutable text that is cheap to copy into every plan: a rule's id or name, a
/// custom action's kind.
///
/// A text of up to 22 bytes (most ids and kinds; seven Chinese characters) is held in the
/// value itself, and cloning it copies 24 bytes; a longer one is shared (an `Arc<str>`),
/// and cloning it counts one more reference. Either way it reads as a `&str`: it derefs
/// to one, compares with one, and hashes as one (so a `HashMap<Name, _>` is looked up by
/// `&str`). It serializes as a string. Reading a short text checks its bytes as UTF-8
/// each time (some nanoseconds): a host that reads one often can keep the `&str`.
///
/// ```
/// use crm_rules::Name;
/// let id = Name::from("new-3d");
/// assert_eq!(id, "new-3d");
/// assert_eq!(id.len(), 6);
/// assert!(id.starts_with("new"));
/// let long = Name::from("新客户3天未跟进提醒（每天09:00检查）");
/// assert_eq!(long.clone(), long);
/// assert_eq!(serde_json::to_string(&id)?, r#""new-3d""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub struct Name(Repr);

enum Repr {
    Inline(Inline),
    Shared(Arc<str>),
}

/// A short text held in place: its length, its bytes, then zeros.
#[derive(Clone, Copy)]
struct Inline {
    len: u8,
    bytes: [u8; INLINE],
}

impl Clone for Name {
    #[inline]
    fn clone(&self) -> Name {
        Name(match &self.0 {
            Repr::Inline(text) => Repr::Inline(*text),
            Repr::Shared(s) => Repr::Shared(Arc::clone(s)),
        })
    }
}

impl Name {
    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always a whole `str`'s bytes: `from_utf8` cannot fail.
            Repr::Inline(Inline { len, bytes }) => bytes
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            Repr::Shared(s) => s,
        }
    }
}

impl Default for Name {
    /// The empty text.
    fn default() -> Name {
        Name::from("")
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        let mut bytes = [0u8; INLINE];
        match bytes.get_mut(..s.len()) {
            Some(head) => {
                head.copy_from_slice(s.as_bytes());
                Name(Repr::Inline(Inline {
                    len: s.len() as u8,
                    bytes,
                }))
            }
            None => Name(Repr::Shared(Arc::from(s))),
        }
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        match s.len() <= INLINE {
            true => Name::from(s.as_str()),
            false => Name(Repr::Shared(Arc::from(s))),
        }
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::from(s.as_str())
    }
}

impl From<Arc<str>> for Name {
    fn from(s: Arc<str>) -> Name {
        match s.len() <= INLINE {
            true => Name::from(&*s),
            false => Name(Repr::Shared(s)),
        }
    }
}

impl Deref for Name {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Name {
    #[inline]
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
        String::deserialize(deserializer).map(Name::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn names_read_as_the_text_they_were_made_from() {
        let texts = [
            String::new(),
            "a".into(),
            "R00001".into(),
            "x".repeat(INLINE),
            "x".repeat(INLINE + 1),
            "新客户3天未跟进提醒".into(),
            "意向客户".into(),
        ];
        for t in &texts {
            let names = [
                Name::from(t.as_str()),
                Name::from(t.clone()),
                Name::from(Arc::<str>::from(t.as_str())),
            ];
            for n in &names {
                assert_eq!(n.as_str(), t);
                assert_eq!(n, &names[0]);
                assert_eq!(n.to_string(), *t);
                assert_eq!(format!("{n:?}"), format!("{t:?}"));
                let back: Name = serde_json::from_str(&serde_json::to_string(n).unwrap()).unwrap();
                assert_eq!(back, *n);
            }
            assert_eq!(
                matches!(names[0].0, Repr::Inline(_)),
                t.len() <= INLINE,
                "{t}"
            );
        }
        let mut sorted = [Name::from("y"), Name::from("x".repeat(30)), Name::from("x")];
        sorted.sort();
        assert_eq!(
            sorted.map(|n| n.to_string()),
            ["x".into(), "x".repeat(30), "y".into()]
        );
        let mut by_name = HashMap::new();
        by_name.insert(Name::from("login-30d"), 1);
        by_name.insert(Name::from("x".repeat(40)), 2);
        assert_eq!(by_name.get("login-30d"), Some(&1));
        assert_eq!(by_name.get("x".repeat(40).as_str()), Some(&2));
        assert_eq!(Name::default(), "");
    }
}
