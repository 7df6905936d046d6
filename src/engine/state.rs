//! What the engine remembers about a customer between calls, stored by the host.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::named::Named;
use super::sparse::Sparse;
use crate::scoring::BehaviourState;

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

/// When the engine first saw a watched field hold its current value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldMark {
    /// When.
    pub at: DateTime<Utc>,
    /// A stable hash of the value, to notice a change the engine was not shown.
    pub value: u32,
}

/// What the engine keeps of one scoring model for one customer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScoreState {
    /// The behaviour the model recorded.
    #[serde(default, skip_serializing_if = "BehaviourState::is_empty")]
    pub behaviour: BehaviourState,
    /// When the model was last computed with an adjustment applying, the last instant at
    /// which all of those still apply: just after it the score changes by itself, so a
    /// tick is due then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapse: Option<DateTime<Utc>>,
}

impl super::named::Stamp for FieldMark {
    fn stamp(&self) -> crate::schedule::Ts {
        crate::schedule::Ts::of(self.at)
    }
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
/// limit, a stop condition or `when_becomes_true`; for each behaviour count, at most `at_least` timestamps (`at_least` is limited to
/// 1,000); one entry per running sequence and per experiment; one timestamp per event kind
/// and per field that time-based rules watch (inactivity, time in stage, sequence
/// exceptions), when the engine first saw the customer and when it last ticked it.
/// Entries of rules, kinds and
/// fields no longer in the rule set are dropped when the state is next written. Per
/// scoring model: its [`BehaviourState`] (for each adjustment at most `at_least` times)
/// and one timestamp; entries of models no longer in the engine are dropped likewise.
///
/// ```
/// use crm_rules::CustomerState;
/// let state: CustomerState = serde_json::from_str("{}")?;
/// assert_eq!(state.fires("any-rule"), 0);
/// assert_eq!(serde_json::to_string(&state)?, "{}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerState(Box<StateData>);

impl Clone for CustomerState {
    fn clone(&self) -> CustomerState {
        CustomerState(self.0.clone())
    }

    /// A copy written into this state's memory (its box and maps are kept).
    fn clone_from(&mut self, source: &CustomerState) {
        self.0.clone_from(&source.0);
    }
}

// The state is boxed so that plans, which carry one, stay small to move.
impl std::ops::Deref for CustomerState {
    type Target = StateData;
    fn deref(&self) -> &StateData {
        &self.0
    }
}

impl std::ops::DerefMut for CustomerState {
    fn deref_mut(&mut self) -> &mut StateData {
        &mut self.0
    }
}

/// What a [`CustomerState`] holds; its parts are private to the crate (read them through
/// the state's methods).
#[derive(Debug, Default, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateData {
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub(crate) rules: Sparse<String, RuleState>,
    /// `rule id#slot` → times of the counted events, oldest first, at most `at_least`.
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub(crate) counters: Sparse<String, Vec<DateTime<Utc>>>,
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub(crate) sequences: Sparse<String, SequenceState>,
    /// Experiment id → variant name.
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub(crate) experiments: Sparse<String, String>,
    /// When the engine first saw the customer (an evaluation's or a tick's `now`), when
    /// the rule set has schedules, inactivity or time-in-stage rules: they count from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) since: Option<DateTime<Utc>>,
    /// The latest tick that handled a due occurrence of a time-based rule: every
    /// occurrence due at or before it has been handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ticked: Option<DateTime<Utc>>,
    /// Event kind → the time of the latest event of the kind, for kinds that inactivity
    /// triggers and sequence exception steps watch.
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub(crate) last_events: Named<DateTime<Utc>>,
    /// Field → when the engine first saw its current value, for fields that inactivity and
    /// time-in-stage triggers watch.
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub(crate) last_changes: Named<FieldMark>,
    /// Scoring model id → what the engine keeps of it, for models with adjustments, decay
    /// or activity kinds.
    #[serde(default, skip_serializing_if = "Sparse::is_empty")]
    pub(crate) scores: Sparse<String, ScoreState>,
}

/// References to every part of a state, the latest tick and the first sight first.
type Parts<'a> = (
    &'a Option<DateTime<Utc>>,
    &'a Option<DateTime<Utc>>,
    &'a Named<DateTime<Utc>>,
    &'a Named<FieldMark>,
    &'a Sparse<String, RuleState>,
    &'a Sparse<String, Vec<DateTime<Utc>>>,
    &'a Sparse<String, SequenceState>,
    &'a Sparse<String, String>,
    &'a Sparse<String, ScoreState>,
);

impl StateData {
    /// Every part, named so that the comparison does not forget a new one.
    fn parts(&self) -> Parts<'_> {
        let StateData {
            rules,
            counters,
            sequences,
            experiments,
            since,
            ticked,
            last_events,
            last_changes,
            scores,
        } = self;
        (
            ticked,
            since,
            last_events,
            last_changes,
            rules,
            counters,
            sequences,
            experiments,
            scores,
        )
    }
}

impl Clone for StateData {
    fn clone(&self) -> StateData {
        StateData {
            rules: self.rules.clone(),
            counters: self.counters.clone(),
            sequences: self.sequences.clone(),
            experiments: self.experiments.clone(),
            since: self.since,
            ticked: self.ticked,
            last_events: self.last_events.clone(),
            last_changes: self.last_changes.clone(),
            scores: self.scores.clone(),
        }
    }

    /// A copy into this one's memory: its maps keep what they hold, so a reused state
    /// takes another's parts without allocating.
    fn clone_from(&mut self, source: &StateData) {
        // Every part, so that a new one is not forgotten.
        let (
            ticked,
            since,
            last_events,
            last_changes,
            rules,
            counters,
            sequences,
            experiments,
            scores,
        ) = source.parts();
        self.rules.clone_from(rules);
        self.counters.clone_from(counters);
        self.sequences.clone_from(sequences);
        self.experiments.clone_from(experiments);
        self.since = *since;
        self.ticked = *ticked;
        self.last_events.clone_from(last_events);
        self.last_changes.clone_from(last_changes);
        self.scores.clone_from(scores);
    }
}

impl PartialEq for StateData {
    /// Every part equal, part by part; the latest tick and the first sight first (a tick
    /// that handled something changes the latest tick, and nothing else, most often).
    fn eq(&self, other: &StateData) -> bool {
        self.parts() == other.parts()
    }
}

impl CustomerState {
    /// A fresh state, for a customer the engine has not seen.
    pub fn new() -> CustomerState {
        CustomerState::default()
    }

    /// Notes a tick at `now` that handled due occurrences: every one due up to it is
    /// handled from here on (the latest tick only moves forward).
    pub(crate) fn note_ticked(&mut self, now: DateTime<Utc>) {
        self.ticked = Some(self.ticked.map_or(now, |t| t.max(now)));
    }

    /// A copy of this state, written into the memory of `spare` when given.
    pub(crate) fn copy_into(&self, spare: Option<CustomerState>) -> CustomerState {
        match spare {
            Some(mut state) => {
                state.clone_from(self);
                state
            }
            None => self.clone(),
        }
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

    /// The time of the latest tick that handled a due occurrence of a time-based rule:
    /// every occurrence due at or before it has been handled (fired, refused by a gate,
    /// or missed) and never fires again.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use crm_rules::{CustomerState, Engine, RuleSet, Schema, TickInput};
    /// let schema = Schema::from_json(r#"{"fields": [{"name": "标签", "type": "tags"}]}"#)?;
    /// let rules = RuleSet::from_json(r#"{"rules": [{"id": "daily", "name": "每日提醒",
    ///   "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
    ///   "actions": [{"type": "add_tag", "tag": "今日跟进"}]}]}"#)?;
    /// let engine = Engine::builder(schema).rules(rules).build()?;
    /// let customer = engine.schema().record::<_, &str>([])?;
    /// let start = Utc.with_ymd_and_hms(2024, 5, 20, 8, 0, 0).single().ok_or("no such time")?;
    /// let state = engine.tick(&TickInput::new("C1", &customer, &CustomerState::new(), start)).state.ok_or("the tick writes a state")?;
    /// assert_eq!(state.ticked(), None); // nothing was due yet
    /// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 30, 0).single().ok_or("no such time")?;
    /// let state = engine.tick(&TickInput::new("C1", &customer, &state, now)).state.ok_or("the tick writes a state")?;
    /// assert_eq!(state.ticked(), Some(now));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ticked(&self) -> Option<DateTime<Utc>> {
        self.ticked
    }

    /// When the engine first saw the customer (set by the first evaluation or tick when
    /// the rule set has schedules, inactivity or time-in-stage rules).
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.since
    }

    /// When the latest event of a kind happened, for kinds that time-based rules watch.
    pub fn last_event(&self, kind: &str) -> Option<DateTime<Utc>> {
        self.last_events.get(kind).copied()
    }

    /// When the engine first saw a field hold its current value, for fields that
    /// inactivity and time-in-stage triggers watch.
    pub fn last_change(&self, field: &str) -> Option<DateTime<Utc>> {
        self.last_changes.get(field).map(|m| m.at)
    }

    /// The behaviour a scoring model of the engine recorded for the customer (its
    /// adjustments' counted events and the last activity), if any.
    pub fn behaviour(&self, model_id: &str) -> Option<&BehaviourState> {
        self.scores.get(model_id).map(|s| &s.behaviour)
    }

    pub(crate) fn rule_mut(&mut self, rule_id: &str) -> &mut RuleState {
        self.rules.entry(rule_id.to_owned()).or_default()
    }
}
