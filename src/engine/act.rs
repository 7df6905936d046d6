//! Planning a fired rule's actions: writes applied to the working record, texts
//! rendered, recipients and times resolved.

use chrono::{DateTime, Utc};

use super::hash;
use super::run::Run;
use super::state::SequenceState;
use crate::name::Name;
use crate::payload::Payload;
use crate::plan::{
    ActionKey, Overridden, PlannedAction, ResolvedAction, ResolvedRecipient, SyncField, Timer,
};
use crate::ruleset::{CompiledAction, CompiledRecipient, CompiledRule, CompiledWindow, SetValue};
use crate::schedule::{local::local, relative, window};
use crate::schema::{FieldId, ValueKind};
use crate::value::Value;

/// The hash that starts every action key of an event: `pair(customer id, event id)`
/// (see [`ActionKey`]).
#[inline]
pub(crate) fn event_hash(customer_id: &str, event_id: &str) -> u64 {
    hash::pair(customer_id.as_bytes(), event_id.as_bytes())
}

/// The hash that starts every action key of a due item: `pair(customer id, "due" and
/// the due time's Unix seconds as 8 little-endian bytes)` (see [`ActionKey`]).
pub(crate) fn due_hash(customer_id: &str, due: DateTime<Utc>) -> u64 {
    let mut part = [0u8; 11];
    let (name, time) = part.split_at_mut(3);
    name.copy_from_slice(b"due");
    time.copy_from_slice(&due.timestamp().to_le_bytes());
    hash::pair(customer_id.as_bytes(), &part)
}

/// The idempotency key of the action at `(prefix, i)` of the rule with hash `rule`,
/// planned in cascade round `round` of the event with hash `event` (see [`ActionKey`]).
#[inline]
pub(crate) fn action_key(event: u64, rule: u64, round: usize, at: (&str, usize)) -> ActionKey {
    key_of(event, action_part(rule, round, at))
}

/// The part of an [`action_key`] that does not depend on the event: fixed for an action
/// of a rule in a round, so it can be computed once when the engine is built.
#[inline]
pub(crate) fn action_part(rule: u64, round: usize, (prefix, i): (&str, usize)) -> u64 {
    let place = ((round as u64) << 32) ^ i as u64;
    let nested = if prefix.is_empty() {
        0
    } else {
        hash::fnv1a(&[prefix.as_bytes()])
    };
    hash::mix(rule ^ hash::mix(place) ^ nested)
}

/// The key of the action with [`action_part`] `part` planned for the event with hash
/// `event`.
#[inline(always)]
pub(crate) fn key_of(event: u64, part: u64) -> ActionKey {
    ActionKey(hash::mix(event ^ part))
}

/// A host-defined action, resolved: it is planned as written.
#[inline]
pub(crate) fn custom(kind: &Name, payload: &Payload) -> ResolvedAction {
    ResolvedAction::Custom {
        kind: kind.clone(),
        payload: payload.clone(),
    }
}

/// A resolved action of the rule with this id and name, with its key, as the plan lists
/// it.
#[inline(always)]
pub(crate) fn planned(
    (id, name): (&Name, &Name),
    key: ActionKey,
    action: ResolvedAction,
    not_before: Option<DateTime<Utc>>,
) -> PlannedAction {
    PlannedAction {
        rule_id: id.clone(),
        rule_name: name.clone(),
        key,
        action,
        not_before,
    }
}

impl Run<'_, '_> {
    fn field_name(&self, field: FieldId) -> String {
        self.e
            .schema
            .field(field)
            .map_or_else(String::new, |f| f.name.clone())
    }

    /// The idempotency key of action `i` (under `prefix`) of a rule.
    fn key(&self, rule: &CompiledRule, prefix: &str, i: usize) -> ActionKey {
        action_key(self.event_hash(), rule.hash, self.round, (prefix, i))
    }

    fn push(&mut self, rule: &CompiledRule, path: (&str, usize), action: ResolvedAction) {
        self.push_at(rule, path, action, None);
    }

    fn push_at(
        &mut self,
        rule: &CompiledRule,
        (prefix, i): (&str, usize),
        action: ResolvedAction,
        not_before: Option<DateTime<Utc>>,
    ) {
        let key = self.key(rule, prefix, i);
        if self.plan.actions.capacity() == 0 {
            self.plan.actions = Vec::with_capacity(self.expected_fires());
        }
        self.plan
            .actions
            .push(planned((&rule.id, &rule.name), key, action, not_before));
    }

    /// For an action with an allowed window: the next allowed instant when it would be
    /// delivered outside the window. It is delivered at the evaluation's time (a due
    /// time, for a tick) or, when the tick runs later, at the tick's time.
    fn not_before(&self, window: Option<&CompiledWindow>) -> Option<DateTime<Utc>> {
        let deliver = self.now.max(self.input.now);
        window
            .and_then(|w| window::next_allowed(w, deliver))
            .filter(|t| *t != deliver)
    }

    /// Writes a field for a rule unless a rule that ranks before it (higher priority, then
    /// earlier position) already wrote it in this evaluation; returns whether the write
    /// stands. A write by a rule that ranks after it, in an earlier cascade round, is
    /// withdrawn from the plan and reported overridden.
    fn write(&mut self, r: u32, field: FieldId, value: Value) -> bool {
        let e = self.e;
        let rules = &e.rules.rules;
        if let Some(at) = self
            .writers
            .iter()
            .position(|(f, w)| *f == field && *w != r)
        {
            let winner = self.writers[at].1;
            if self.record.get(field) == &value {
                // The same value the standing write gave: no conflict.
                return true;
            }
            let rank = |x: u32| (std::cmp::Reverse(rules[x as usize].priority), x);
            if rank(r) < rank(winner) {
                self.withdraw(winner, field, r);
                self.writers[at].1 = r;
                self.set(field, value);
                return true;
            }
            self.plan.overridden.push(Overridden {
                rule_id: rules[r as usize].id.clone(),
                field: self.field_name(field),
                value,
                by_rule: rules[winner as usize].id.clone(),
            });
            return false;
        }
        if !self.writers.iter().any(|(f, _)| *f == field) {
            self.writers.push((field, r));
        }
        self.set(field, value);
        true
    }

    /// Withdraws the planned writes of rule `loser` to a field, which a rule that ranks
    /// before it, `by`, overrides.
    fn withdraw(&mut self, loser: u32, field: FieldId, by: u32) {
        let rules = &self.e.rules.rules;
        let (loser_id, by_id) = (&rules[loser as usize].id, &rules[by as usize].id);
        let name = self.field_name(field);
        let mut kept = Vec::with_capacity(self.plan.actions.len());
        for a in std::mem::take(&mut self.plan.actions) {
            let written = match &a.action {
                ResolvedAction::SetField { field, value } if *field == name => Some(value.clone()),
                ResolvedAction::AssignOwner { field, user, .. } if *field == name => {
                    Some(Value::Text(user.clone()))
                }
                _ => None,
            };
            match written {
                Some(value) if a.rule_id == *loser_id => self.plan.overridden.push(Overridden {
                    rule_id: loser_id.clone(),
                    field: name.clone(),
                    value,
                    by_rule: by_id.clone(),
                }),
                _ => kept.push(a),
            }
        }
        self.plan.actions = kept;
    }

    pub(crate) fn recipient(&self, r: &CompiledRecipient) -> ResolvedRecipient {
        match r {
            CompiledRecipient::Owner(field) | CompiledRecipient::Field(field) => {
                match self.record.get(*field) {
                    Value::Text(user) if !user.is_empty() => ResolvedRecipient::User(user.clone()),
                    _ => ResolvedRecipient::Unassigned(self.field_name(*field)),
                }
            }
            CompiledRecipient::User(u) => ResolvedRecipient::User(u.clone()),
            CompiledRecipient::Role(role) => ResolvedRecipient::Role(role.clone()),
            CompiledRecipient::Contact(field) => {
                ResolvedRecipient::Contact(self.field_name(*field))
            }
        }
    }

    fn due(&self, d: crate::duration::Duration) -> DateTime<Utc> {
        d.after(self.now)
    }

    /// Plans actions of rule `r`; `prefix` places nested actions (`1/variant:B/`).
    pub(crate) fn actions(&mut self, r: u32, actions: &[CompiledAction], prefix: &str) {
        for (i, action) in actions.iter().enumerate() {
            match action {
                // Nothing to resolve: planned in line, without the set-up the others need.
                CompiledAction::Custom { kind, payload } => {
                    let rule = &self.e.rules.rules[r as usize];
                    self.push(rule, (prefix, i), custom(kind, payload));
                }
                other => self.action(r, other, (prefix, i)),
            }
        }
    }

    /// Plans one action of rule `r` at `path` (its place among the rule's actions).
    #[inline(never)]
    fn action(&mut self, r: u32, action: &CompiledAction, path: (&str, usize)) {
        let e = self.e;
        let rule = &e.rules.rules[r as usize];
        let (prefix, i) = path;
        match action {
            CompiledAction::SetField { field, value } => {
                let v = match value {
                    SetValue::Literal(v) => v.clone(),
                    SetValue::FromNow(d) => {
                        let at = self.due(*d);
                        match e.schema.field(*field).map(|f| f.field_type.kind()) {
                            Some(ValueKind::Date) => Value::Date(
                                local(e.rules.time_zone, at)
                                    .map_or_else(|| at.date_naive(), |l| l.date()),
                            ),
                            _ => Value::DateTime(at),
                        }
                    }
                    SetValue::FromEvent(name) => {
                        let v = self.input.event.get(name);
                        let kind = e.schema.field(*field).map(|f| f.field_type.kind());
                        if kind.is_some_and(|k| !crate::schema::is_of_kind(k, v)) {
                            self.plan.warnings.push(format!(
                                "rule {}: event attribute {name:?} is {}, not a value for {}: skipped",
                                rule.id,
                                v.kind_name(),
                                self.field_name(*field)
                            ));
                            return;
                        }
                        v.clone()
                    }
                };
                if self.write(r, *field, v.clone()) {
                    let field = self.field_name(*field);
                    self.push(rule, path, ResolvedAction::SetField { field, value: v });
                }
            }
            CompiledAction::Increment {
                field,
                by,
                by_event,
            } => {
                let by = match by_event {
                    None => *by,
                    Some(name) => match self.input.event.get(name) {
                        Value::Number(n) => *n,
                        Value::Absent => return,
                        other => {
                            self.plan.warnings.push(format!(
                                "rule {}: event attribute {name:?} is {}, not a number: skipped",
                                rule.id,
                                other.kind_name()
                            ));
                            return;
                        }
                    },
                };
                let current = self
                    .record
                    .get(*field)
                    .as_number()
                    .unwrap_or(crate::value::Number::from(0));
                let Some(sum) = current.checked_add(by) else {
                    self.plan.warnings.push(format!(
                        "rule {}: {} + {by} is out of range: skipped",
                        rule.id,
                        self.field_name(*field)
                    ));
                    return;
                };
                self.set(*field, Value::Number(sum));
                let field = self.field_name(*field);
                self.push(
                    rule,
                    path,
                    ResolvedAction::Increment {
                        field,
                        by: Value::Number(by),
                        value: Value::Number(sum),
                    },
                );
            }
            CompiledAction::AddTag { field, tag } | CompiledAction::RemoveTag { field, tag } => {
                let add = matches!(action, CompiledAction::AddTag { .. });
                let mut list = self
                    .record
                    .get(*field)
                    .as_list()
                    .map(<[String]>::to_vec)
                    .unwrap_or_default();
                let had = list.contains(tag);
                if add && !had {
                    list.push(tag.clone());
                } else if !add && had {
                    list.retain(|t| t != tag);
                }
                if add != had {
                    self.set(*field, Value::List(list));
                }
                let (field, tag) = (self.field_name(*field), tag.clone());
                let resolved = if add {
                    ResolvedAction::AddTag { field, tag }
                } else {
                    ResolvedAction::RemoveTag { field, tag }
                };
                self.push(rule, path, resolved);
            }
            CompiledAction::AssignOwner { field, strategy } => {
                let Some((user, how)) = self.assign(strategy) else {
                    return;
                };
                if self.write(r, *field, Value::Text(user.clone())) {
                    let field = self.field_name(*field);
                    self.push(
                        rule,
                        path,
                        ResolvedAction::AssignOwner {
                            field,
                            user,
                            strategy: how,
                        },
                    );
                }
            }
            CompiledAction::CreateTask {
                title,
                description,
                assignee,
                due_in,
                priority,
                window,
            } => {
                // A due time outside the window moves to the next allowed instant.
                let due = due_in.map(|d| self.due(d)).map(|due| {
                    window
                        .as_ref()
                        .and_then(|w| window::next_allowed(w, due))
                        .unwrap_or(due)
                });
                let resolved = ResolvedAction::CreateTask {
                    title: title.render(&self.record),
                    description: description.as_ref().map(|d| d.render(&self.record)),
                    assignee: self.recipient(assignee),
                    due,
                    priority: *priority,
                };
                let not_before = self.not_before(window.as_ref());
                self.push_at(rule, path, resolved, not_before);
            }
            CompiledAction::Notify {
                channel,
                to,
                cc,
                subject,
                template,
                window,
            } => {
                let resolved = ResolvedAction::Notify {
                    channel: channel.clone(),
                    to: to.iter().map(|r| self.recipient(r)).collect(),
                    cc: cc.iter().map(|r| self.recipient(r)).collect(),
                    subject: subject.as_ref().map(|s| s.render(&self.record)),
                    message: template.render(&self.record),
                };
                let not_before = self.not_before(window.as_ref());
                self.push_at(rule, path, resolved, not_before);
            }
            CompiledAction::Sync { target, mapping } => {
                let fields = mapping
                    .iter()
                    .map(|(field, to)| {
                        let def = e.schema.field(*field);
                        let masked = def.is_some_and(|d| d.sensitive);
                        let v = self.record.get(*field);
                        SyncField {
                            field: self.field_name(*field),
                            target: to.clone(),
                            value: if masked {
                                Value::Text(crate::schema::mask(v))
                            } else {
                                v.clone()
                            },
                            masked,
                        }
                    })
                    .collect();
                self.push(
                    rule,
                    path,
                    ResolvedAction::Sync {
                        target: target.clone(),
                        fields,
                    },
                );
            }
            CompiledAction::RequestApproval {
                field,
                value,
                approver,
                reason,
            } => {
                let resolved = ResolvedAction::RequestApproval {
                    field: self.field_name(*field),
                    value: value.clone(),
                    approver: self.recipient(approver),
                    reason: reason.as_ref().map(|t| t.render(&self.record)),
                };
                self.push(rule, path, resolved);
            }
            CompiledAction::StartSequence {
                sequence,
                steps,
                stop_when: _,
            } => {
                let Some(first) = steps.first() else { return };
                let now = self.now;
                // `after` counted on the local calendar and clock of the rule set's
                // time zone, then `at` on the day reached (see `Engine::tick`).
                let due = relative::after(now, first.after.as_seconds(), first.at, e.timing.zone)
                    .unwrap_or_else(|| self.due(first.after));
                self.state_mut().sequences.insert(
                    sequence.clone(),
                    SequenceState {
                        rule: rule.state_id.to_string(),
                        step: 0,
                        due,
                        since: now,
                    },
                );
                self.plan.timers.push(Timer::Set {
                    key: format!("seq:{sequence}"),
                    at: due,
                });
                self.push(
                    rule,
                    path,
                    ResolvedAction::StartSequence {
                        sequence: sequence.clone(),
                        first_due: due,
                    },
                );
            }
            CompiledAction::AbSplit {
                experiment,
                variants,
            } => {
                let chosen = match self.state().experiments.get(experiment) {
                    Some(name) => variants.iter().position(|v| &v.name == name),
                    None => None,
                };
                let index = chosen.unwrap_or_else(|| {
                    let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
                    let mut b = hash::bucket(
                        &[self.input.customer_id.as_bytes(), experiment.as_bytes()],
                        total,
                    );
                    variants
                        .iter()
                        .position(|v| {
                            let w = u64::from(v.weight);
                            if b < w {
                                true
                            } else {
                                b -= w;
                                false
                            }
                        })
                        .unwrap_or(0)
                });
                let Some(variant) = variants.get(index) else {
                    return;
                };
                if chosen.is_none() {
                    self.state_mut()
                        .experiments
                        .insert(experiment.clone(), variant.name.clone());
                }
                self.push(
                    rule,
                    path,
                    ResolvedAction::AbSplit {
                        experiment: experiment.clone(),
                        variant: variant.name.clone(),
                    },
                );
                let nested = format!("{prefix}{i}/variant:{}/", variant.name);
                self.actions(r, &variant.actions, &nested);
            }
            CompiledAction::Custom { kind, payload } => {
                self.push(rule, path, custom(kind, payload))
            }
        }
    }
}
