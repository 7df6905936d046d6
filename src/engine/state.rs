//! What the engine remembers about a customer between calls, stored by the host.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// What the engine remembers of one rule for one customer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleState {
    /// How many times the rule fired (kept for rules with `max_fires`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fires: u32,
    /// When it last fired (kept for rules with a cooldown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_fired: Option<DateTime<Utc>>,
    /// Whether its condition held at its last evaluation (kept for `when_becomes_true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<bool>,
    /// Its stop condition held: it no longer fires for this customer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopped: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A running sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SequenceState {
    /// The rule that started it.
    pub rule: String,
    /// The next step, from 0.
    pub step: usize,
    /// When the next step is due.
    pub due: DateTime<Utc>,
    /// When the sequence started or its last step ran.
    pub since: DateTime<Utc>,
}

/// The engine's memory of one customer: what rules have done, behaviour counters,
/// running sequences and A/B assignments. The host stores it next to the customer, passes
/// it to every evaluation, and replaces it with [`Plan::state`](crate::Plan::state) when a
/// plan carries one. It serializes to JSON; an empty state serializes to `{}`.
///
/// Memory is bounded per customer: one small entry per rule that has a cooldown, a fire
/// limit, a stop condition or `when_becomes_true`; for each behaviour count, at most
/// `at_least` timestamps (`at_least` is limited to 1,000); one entry per running sequence
/// and per experiment. Entries of rules no longer in the rule set are dropped when the
/// state is next written.
///
/// ```
/// use crm_rules::CustomerState;
/// let state: CustomerState = serde_json::from_str("{}")?;
/// assert_eq!(state.fires("any-rule"), 0);
/// assert_eq!(serde_json::to_string(&state)?, "{}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerState {
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub(crate) rules: IndexMap<String, RuleState>,
    /// `rule id#slot` → times of the counted events, oldest first, at most `at_least`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub(crate) counters: IndexMap<String, Vec<DateTime<Utc>>>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub(crate) sequences: IndexMap<String, SequenceState>,
    /// Experiment id → variant name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub(crate) experiments: IndexMap<String, String>,
}

impl CustomerState {
    /// A fresh state, for a customer the engine has not seen.
    pub fn new() -> CustomerState {
        CustomerState::default()
    }

    /// How many times a rule fired for the customer (counted for rules with `max_fires`).
    pub fn fires(&self, rule_id: &str) -> u32 {
        self.rules.get(rule_id).map_or(0, |r| r.fires)
    }

    /// When a rule last fired for the customer (kept for rules with a cooldown).
    pub fn last_fired(&self, rule_id: &str) -> Option<DateTime<Utc>> {
        self.rules.get(rule_id).and_then(|r| r.last_fired)
    }

    /// Whether a rule's stop condition has held for the customer.
    pub fn is_stopped(&self, rule_id: &str) -> bool {
        self.rules.get(rule_id).is_some_and(|r| r.stopped)
    }

    /// The variant of an experiment the customer is in, once assigned.
    pub fn variant(&self, experiment: &str) -> Option<&str> {
        self.experiments.get(experiment).map(String::as_str)
    }

    /// The sequences running for the customer, with their next step (from 0) and due time.
    pub fn sequences(&self) -> impl Iterator<Item = (&str, usize, DateTime<Utc>)> {
        self.sequences
            .iter()
            .map(|(k, s)| (k.as_str(), s.step, s.due))
    }

    pub(crate) fn rule_mut(&mut self, rule_id: &str) -> &mut RuleState {
        self.rules.entry(rule_id.to_owned()).or_default()
    }
}
