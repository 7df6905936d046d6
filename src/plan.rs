//! The output of an evaluation: what the host should do, and why.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::engine::CustomerState;
use crate::name::Name;
use crate::payload::Payload;
use crate::rule::{Channel, TaskPriority};
use crate::value::Value;

/// A stable idempotency key: the same customer, event, rule and action always give the
/// same key, on every run and machine. Printed and serialized as 16 hex digits.
///
/// With `mix` the SplitMix64 finalizer, `fnv(parts)` the 64-bit FNV-1a hash of the parts'
/// bytes, each part followed by a zero byte, and `pair(a, b)` the word hash of two byte
/// strings (below), the key is
/// `mix(pair(customer id, event id) ^ mix(fnv(rule id) ^ mix(round << 32 ^ position) ^ nested))`
/// where `round` is the cascade round the rule fired in, `position` the action's place in
/// its list, and `nested` is 0 for a rule's own actions and `fnv(path)` for those inside an
/// A/B variant (`1/variant:B/`). A host that runs a plan twice can skip actions whose key
/// it has already executed.
///
/// `pair(a, b)` starts from `h = (len(a) << 32 | len(b)) * K`, with
/// `K = 0x517cc1b727220a95` and lengths in bytes; folds in `a`, then `b`, one word at a
/// time, as `h = (rotl(h, 5) ^ w) * K` (64-bit, wrapping), where the words of a string are
/// its 8-byte chunks read little-endian, then one word of the 0 to 7 bytes left, padded
/// with zero bytes (a zero word when none are left); and ends with `mix(h)`.
///
/// For a [tick](crate::Engine::tick), the part that stands for the event is
/// `pair(customer id, "due" followed by the due time's Unix seconds as 8 little-endian
/// bytes)`: the same due item gives the same keys however late, and however often, it is
/// ticked. A sequence step's actions have `nested` = `fnv("seq:ID/STEP/")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionKey(pub u64);

impl fmt::Display for ActionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for ActionKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Serializes a value as JSON (dates as `YYYY-MM-DD`, instants as RFC 3339).
fn value_json<S: Serializer>(v: &Value, serializer: S) -> Result<S::Ok, S::Error> {
    v.to_json().serialize(serializer)
}

/// A recipient, resolved as far as the crate can: users by id; roles and customer
/// contacts are left for the host to look up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResolvedRecipient {
    /// A user, by id (the owner and member fields resolve to this).
    User(String),
    /// Everyone with a role.
    Role(String),
    /// The customer, at the address in this phone or e-mail field (not copied into the
    /// plan, so that a sensitive value never appears in it).
    Contact(String),
    /// A member field (the owner, or another) that holds no user: the host decides.
    Unassigned(String),
}

/// One field a sync action sends.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncField {
    /// The customer field.
    pub field: String,
    /// The field name in the target system.
    pub target: String,
    /// The value; masked when the field is sensitive (the host reads the record for it).
    #[serde(serialize_with = "value_json")]
    pub value: Value,
    /// Whether the value is masked.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub masked: bool,
}

/// An action with everything resolved: rendered texts, absolute times, chosen users.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResolvedAction {
    /// Set a field. The net result is also in [`Plan::changes`].
    SetField {
        /// The field.
        field: String,
        /// The new value.
        #[serde(serialize_with = "value_json")]
        value: Value,
    },
    /// A field was added to; the value after the addition.
    Increment {
        /// The field.
        field: String,
        /// The amount added.
        #[serde(serialize_with = "value_json")]
        by: Value,
        /// The value after.
        #[serde(serialize_with = "value_json")]
        value: Value,
    },
    /// Add a tag.
    AddTag {
        /// The field.
        field: String,
        /// The tag.
        tag: String,
    },
    /// Remove a tag.
    RemoveTag {
        /// The field.
        field: String,
        /// The tag.
        tag: String,
    },
    /// Assign an owner.
    AssignOwner {
        /// The member field written.
        field: String,
        /// The chosen user.
        user: String,
        /// How: `fixed`, `table`, `round_robin`, `least_loaded`, `hash`.
        strategy: &'static str,
    },
    /// Create a task.
    CreateTask {
        /// The rendered title.
        title: String,
        /// The rendered description.
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Who does it.
        assignee: ResolvedRecipient,
        /// When it is due.
        #[serde(skip_serializing_if = "Option::is_none")]
        due: Option<DateTime<Utc>>,
        /// Its priority.
        priority: TaskPriority,
    },
    /// Send a notification.
    Notify {
        /// The channel.
        channel: Channel,
        /// The recipients.
        to: Vec<ResolvedRecipient>,
        /// The copied recipients.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        cc: Vec<ResolvedRecipient>,
        /// The rendered subject.
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        /// The rendered message.
        message: String,
    },
    /// Push fields to another system.
    Sync {
        /// The target system.
        target: String,
        /// The fields, in mapping order.
        fields: Vec<SyncField>,
    },
    /// Ask for approval of a change, which is not applied.
    RequestApproval {
        /// The field.
        field: String,
        /// The value it would get.
        #[serde(serialize_with = "value_json")]
        value: Value,
        /// Who approves.
        approver: ResolvedRecipient,
        /// The rendered reason.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A sequence started; its first step is due at the timer in [`Plan::timers`].
    StartSequence {
        /// The sequence id.
        sequence: String,
        /// When the first step is due.
        first_due: DateTime<Utc>,
    },
    /// The customer is in this variant of an experiment; the variant's actions follow.
    AbSplit {
        /// The experiment id.
        experiment: String,
        /// The variant's name.
        variant: String,
    },
    /// A host-defined action.
    Custom {
        /// The host's name for it.
        kind: Name,
        /// The payload, as written in the rule.
        payload: Payload,
    },
}

/// One action to run, with the rule that produced it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedAction {
    /// The rule's id.
    pub rule_id: Name,
    /// The rule's name.
    pub rule_name: Name,
    /// The idempotency key.
    pub key: ActionKey,
    /// The action.
    pub action: ResolvedAction,
    /// For a notification or task with an allowed window (quiet hours) planned outside
    /// it: the next instant the window allows, before which the host should not deliver
    /// it. `None` (omitted in JSON) when it may be delivered at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<DateTime<Utc>>,
}

/// What a [tick](crate::Engine::tick) did with a due item: an occurrence of a time-based
/// rule, or a step of a running sequence.
///
/// ```
/// use crm_rules::{Occurrence, OccurrenceStatus};
/// fn fired(o: &Occurrence) -> bool {
///     o.status == OccurrenceStatus::Fired
/// }
/// # let _ = fired;
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    /// The rule: the time-based rule, or the rule that started the sequence.
    pub rule_id: Name,
    /// For a sequence step: the sequence id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    /// For a sequence step: the step, from 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// The due time (of the latest occurrence, when several are counted).
    pub due: DateTime<Utc>,
    /// How many occurrences this stands for: a schedule's occurrences that passed since
    /// the last tick coalesce into one fire (or one missed report) with their count.
    pub count: u32,
    /// What became of it.
    pub status: OccurrenceStatus,
}

/// What became of a due item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OccurrenceStatus {
    /// The rule fired, or the step ran; its actions are in the plan.
    Fired,
    /// A gate refused it when it came due (condition false, out of scope, cooling down,
    /// fire limit, suppressed by its group…; the trace says which). It does not fire later.
    NotFired,
    /// The tick came later than the engine's maximum lateness after the due time: not
    /// fired, reported instead.
    Missed,
    /// A sequence step that was not needed: its `skip_when` held, or an event of an
    /// `unless_event` kind arrived since the previous step. The sequence goes on.
    Skipped,
    /// The sequence stopped at this step (its `stop_when` or its rule's stop condition
    /// held, or its rule was disabled or removed): its remaining steps are cancelled.
    Stopped,
}

/// The net change of one field over the whole evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// The value before the event (masked if the field is sensitive).
    #[serde(serialize_with = "value_json")]
    pub old: Value,
    /// The value after.
    #[serde(serialize_with = "value_json")]
    pub new: Value,
}

/// A timer the host sets or cancels, by key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Timer {
    /// Wake the engine for this customer at `at` (replacing a timer of the same key).
    Set {
        /// The timer's key (`seq:onboarding`).
        key: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Cancel the timer of this key.
    Cancel {
        /// The timer's key.
        key: String,
    },
}

/// A write that lost to a higher-priority rule's write to the same field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overridden {
    /// The rule whose write was dropped.
    pub rule_id: Name,
    /// The field.
    pub field: String,
    /// The value it would have written.
    #[serde(serialize_with = "value_json")]
    pub value: Value,
    /// The rule whose write stands.
    pub by_rule: Name,
}

/// A rule that matched but did not fire because another rule of its exclusive group did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    /// The suppressed rule.
    pub rule_id: Name,
    /// The group.
    pub group: String,
    /// The rule that fired for the group.
    pub by_rule: Name,
}

/// The cascade of field changes reached its depth limit: the work done so far is in the
/// plan; these changes were not followed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CascadeLimit {
    /// The limit (rounds of field-change events after the first).
    pub depth: usize,
    /// The fields whose changes were left unfollowed.
    pub fields: Vec<String>,
    /// The rules those changes would have triggered.
    pub rules: Vec<Name>,
}

/// A scoring model the engine computed again in an evaluation or tick: after the event's
/// behaviour was recorded or a field the model reads changed (or, in a tick, because the
/// score moves with time). The score and grade fields the model names, if any, were
/// written with these values and appear in [`Plan::changes`] when they changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreUpdate {
    /// The model's id.
    pub model: String,
    /// The round whose field changes its writes join: 0 for the event's own round (or a
    /// tick's), `n` when a field changed in round `n - 1` made it compute again.
    pub round: usize,
    /// The total, 0 to 100, one decimal.
    pub total: f64,
    /// The grade label.
    pub grade: String,
    /// The grade label before, when the grade changed since the model was last computed
    /// for this customer (read from the grade field, when the model names one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_grade: Option<String>,
}

/// What the host should do for one event, in order, with why.
///
/// An event that matches nothing gives an empty plan (no actions, no changes, no new
/// state), never an error.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    /// The actions, in execution order: by cascade round, then priority (higher first),
    /// then position in the rule set; a rule's actions in their written order.
    pub actions: Vec<PlannedAction>,
    /// The net field changes (the event's own and the rules'), in order of first change.
    pub changes: Vec<FieldChange>,
    /// Timers to set or cancel.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<Timer>,
    /// For a tick: every due item it handled and what became of it, in the order handled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub occurrences: Vec<Occurrence>,
    /// Scoring models computed again, in the order computed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scores: Vec<ScoreUpdate>,
    /// Writes that lost to a higher-priority write.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<Overridden>,
    /// Rules suppressed by their exclusive group.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Suppressed>,
    /// Set when the cascade stopped at its depth limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cascade_limit: Option<CascadeLimit>,
    /// Round-robin counters advanced by assignments: pool key → new counter value, for
    /// the host to store.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub counters: Vec<(String, u64)>,
    /// Problems with the input that were skipped (an unknown field in the event's
    /// changes, a value of the wrong type).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The customer's new engine state, when it changed; store it in place of the old.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<CustomerState>,
    /// With `explain`: every candidate rule and its outcome.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<crate::engine::TraceEntry>>,
}

impl Plan {
    /// Whether the plan asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
            && self.changes.is_empty()
            && self.timers.is_empty()
            && self.state.is_none()
    }

    /// Empties the plan, keeping the memory of its lists for the next evaluation
    /// ([`Engine::evaluate_into`](crate::Engine::evaluate_into)).
    #[inline]
    pub fn clear(&mut self) {
        // An empty plan (most evaluations give one) clears at the cost of a few loads,
        // and one that holds only actions (the next most common) clears only them.
        if !self.clear_but_actions() && !self.actions.is_empty() {
            self.clear_actions();
        }
    }

    /// Empties the plan but for its actions when it holds only actions, for a caller that
    /// writes new actions over them (and truncates the rest); empties it whole when it
    /// holds more. Returns whether it emptied it whole.
    #[inline]
    pub(crate) fn clear_but_actions(&mut self) -> bool {
        let rest = self.changes.len()
            | self.timers.len()
            | self.occurrences.len()
            | self.scores.len()
            | self.overridden.len()
            | self.suppressed.len()
            | self.counters.len()
            | self.warnings.len();
        let more = rest != 0
            || self.cascade_limit.is_some()
            || self.state.is_some()
            || self.trace.is_some();
        if more {
            self.clear_parts();
        }
        more
    }

    /// [`Plan::clear`] of a plan that holds only actions.
    #[inline(never)]
    fn clear_actions(&mut self) {
        self.actions.clear();
    }

    /// [`Plan::clear`] of a plan that holds something.
    #[inline(never)]
    fn clear_parts(&mut self) {
        self.actions.clear();
        self.changes.clear();
        self.timers.clear();
        self.occurrences.clear();
        self.scores.clear();
        self.overridden.clear();
        self.suppressed.clear();
        self.counters.clear();
        self.warnings.clear();
        self.cascade_limit = None;
        self.state = None;
        self.trace = None;
    }

    /// The plan as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
