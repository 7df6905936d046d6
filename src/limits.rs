//! Size limits on what the crate reads, so that no input can exhaust memory or the stack.

/// The limits applied when schemas and rule sets are loaded and compiled.
///
/// Each exceeded limit is a clear error naming where, never a crash. The defaults suit
/// any real tenant; raise them with the setters when compiling rules.
///
/// ```
/// use crm_rules::Limits;
/// let limits = Limits::default().max_rules(50_000);
/// assert_eq!(limits.max_depth, 32);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most rules in one rule set (default 100,000).
    pub max_rules: usize,
    /// The deepest nesting of conditions (`all`/`any`/`not`) and of actions inside
    /// A/B variants and sequence steps (default 32).
    pub max_depth: usize,
    /// The most actions in one rule, counting nested ones (default 200).
    pub max_actions: usize,
    /// The most characters in an id, a name or a field name (default 200).
    pub max_name_chars: usize,
    /// The most characters in a template, a description or a text literal (default 10,000).
    pub max_text_chars: usize,
    /// The most items in a list literal or in a field's options (default 10,000).
    pub max_list_items: usize,
    /// The most fields in a schema (default 10,000).
    pub max_fields: usize,
    /// The most bytes of JSON text read at once (default 64 MiB).
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_rules: 100_000,
            max_depth: 32,
            max_actions: 200,
            max_name_chars: 200,
            max_text_chars: 10_000,
            max_list_items: 10_000,
            max_fields: 10_000,
            max_text_bytes: 64 << 20,
        }
    }
}

impl Limits {
    /// Sets the most rules in a rule set.
    pub fn max_rules(mut self, n: usize) -> Limits {
        self.max_rules = n;
        self
    }

    /// Sets the deepest nesting.
    pub fn max_depth(mut self, n: usize) -> Limits {
        self.max_depth = n;
        self
    }

    /// Sets the most actions in one rule.
    pub fn max_actions(mut self, n: usize) -> Limits {
        self.max_actions = n;
        self
    }

    /// Sets the most characters in a template, description or text literal.
    pub fn max_text_chars(mut self, n: usize) -> Limits {
        self.max_text_chars = n;
        self
    }
}
