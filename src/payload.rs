//! [`Payload`]: a custom action's JSON payload, as plans carry it.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// The `null` every absent payload reads as.
static NULL: serde_json::Value = serde_json::Value::Null;

/// A custom action's payload, as written in the rule: a JSON value that is cheap to copy
/// into every plan.
///
/// A `null` (or absent) payload is held as nothing at all, so planning an action without
/// one touches no shared memory. Any other payload is shared with the engine (an
/// `Arc`), and copying it counts one more reference. Either way it derefs to a
/// [`serde_json::Value`], compares with one, and serializes as one.
///
/// ```
/// use crm_rules::Payload;
/// use serde_json::json;
/// let p = Payload::from(json!({"template": "WELCOME"}));
/// assert_eq!(p["template"], "WELCOME");
/// assert_eq!(p, json!({"template": "WELCOME"}));
/// let none = Payload::default();
/// assert!(none.is_null());
/// assert_eq!(serde_json::to_string(&none)?, "null");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Payload(Option<Arc<serde_json::Value>>);

impl Payload {
    /// The payload as a JSON value.
    #[inline]
    pub fn as_value(&self) -> &serde_json::Value {
        match &self.0 {
            Some(v) => v,
            None => &NULL,
        }
    }
}

impl Deref for Payload {
    type Target = serde_json::Value;

    #[inline]
    fn deref(&self) -> &serde_json::Value {
        self.as_value()
    }
}

impl AsRef<serde_json::Value> for Payload {
    fn as_ref(&self) -> &serde_json::Value {
        self.as_value()
    }
}

impl From<serde_json::Value> for Payload {
    fn from(v: serde_json::Value) -> Payload {
        match v {
            serde_json::Value::Null => Payload(None),
            v => Payload(Some(Arc::new(v))),
        }
    }
}

impl From<Arc<serde_json::Value>> for Payload {
    fn from(v: Arc<serde_json::Value>) -> Payload {
        Payload((!v.is_null()).then_some(v))
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        self.as_value() == other.as_value()
    }
}

impl PartialEq<serde_json::Value> for Payload {
    fn eq(&self, other: &serde_json::Value) -> bool {
        self.as_value() == other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_value(), f)
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_value(), f)
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_value().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_payloads_hold_nothing_and_others_share() {
        assert!(Payload::from(json!(null)).0.is_none());
        assert!(Payload::from(Arc::new(json!(null))).0.is_none());
        let shared = Arc::new(json!({"n": 1}));
        let p = Payload::from(Arc::clone(&shared));
        let q = p.clone();
        assert_eq!(Arc::strong_count(&shared), 3);
        assert_eq!(q, json!({"n": 1}));
        assert_eq!(p, q);
        assert_ne!(p, Payload::default());
    }

    #[test]
    fn payloads_print_and_serialize_as_their_values() {
        let p = Payload::from(json!({"a": [1, "x"]}));
        assert_eq!(p.to_string(), r#"{"a":[1,"x"]}"#);
        assert_eq!(format!("{p:?}"), format!("{:?}", json!({"a": [1, "x"]})));
        assert_eq!(serde_json::to_value(&p).ok(), Some(json!({"a": [1, "x"]})));
        assert_eq!(Payload::default().to_string(), "null");
    }
}
