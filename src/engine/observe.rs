//! What time-based rules measure from, recorded in the customer state by every evaluation
//! and tick: when the engine first saw the customer, when watched events happened, when
//! watched fields took their values. And sequences stopped as soon as their stop
//! condition holds.

use super::run::Run;
use super::state::FieldMark;
use super::timed::{value_hash, Seen};
use crate::condition::{eval, Facts};
use crate::plan::{Occurrence, OccurrenceStatus, Timer};
use crate::schedule::Ts;

impl Run<'_, '_> {
    /// After an event: records what time-based rules measure from
    /// ([`Run::record_times`]) and stops running sequences whose stop condition holds.
    pub(crate) fn observe(&mut self) {
        self.record_times(None);
        if !self.state().sequences.is_empty() {
            self.stop_sequences(false);
        }
    }

    /// Records, at the input's `now`: the clock start (once), the event's time for a
    /// watched kind, and a new mark for each watched field whose value differs from the
    /// one last seen. With `seen` (a tick), reads the values' hashes and the marks from
    /// it, and keeps it up to date. Allocates nothing when there is nothing to record.
    pub(crate) fn record_times(&mut self, mut seen: Option<&mut Seen>) {
        let e = self.e;
        let timing = &e.timing;
        if timing.is_idle() && self.state.is_none() {
            return;
        }
        let input = self.input;
        let now = input.now;
        if timing.since && self.state().since.is_none() {
            self.state_mut().since = Some(now);
            if let Some(s) = seen.as_deref_mut() {
                s.since = Some(Ts::of(now));
            }
        }
        let event = input.event;
        if let Some(i) = (!event.kind.is_empty())
            .then(|| timing.watched(&event.kind))
            .flatten()
        {
            let known = timing.last_event(self.state(), i);
            if known.is_none_or(|t| t < event.time) {
                let (name, hash) = &timing.kinds[i];
                self.state_mut().last_events.insert(name, *hash, event.time);
            }
        }
        for (i, (field, name, hash)) in timing.fields.iter().enumerate() {
            let changed = match seen.as_deref() {
                Some(s) if s.holds_fields(timing) => s.changed(i),
                _ => {
                    let value = value_hash(self.record.get(*field));
                    let mark = timing.last_change(self.state(), i);
                    mark.is_none_or(|m| m.value != value).then_some(value)
                }
            };
            if let Some(value) = changed {
                self.state_mut()
                    .last_changes
                    .insert(name, *hash, FieldMark { at: now, value });
                if let Some(s) = seen.as_deref_mut() {
                    s.set_mark(i, Ts::of(now));
                }
            }
        }
        if let Some(state) = &mut self.state {
            state
                .last_events
                .retain(|h| timing.kinds.iter().any(|(_, k)| *k == h));
            state
                .last_changes
                .retain(|h| timing.fields.iter().any(|(_, _, k)| *k == h));
        }
    }

    /// Stops the running sequences whose stop condition holds on the customer now:
    /// removed from the state, their timers cancelled; with `report`, listed in the plan's
    /// occurrences as stopped at their next step.
    pub(crate) fn stop_sequences(&mut self, report: bool) {
        let e = self.e;
        let now = self.input.now;
        let running: Vec<String> = self.state().sequences.keys().cloned().collect();
        for key in running {
            let Some(def) = e.timing.sequences.get(&key) else {
                continue;
            };
            let Some(rule) = e.rules.rules.get(def.rule as usize) else {
                continue;
            };
            if (def.stop_when.is_none() && rule.stop_when.is_none())
                || !self.state().sequences.contains_key(&key)
            {
                continue;
            }
            let counts = self.counts(def.rule);
            let mut facts = Facts::new(&self.record, now);
            facts.counts = counts.as_slice();
            let holds = |c: &Option<crate::condition::Node>| {
                c.as_ref().is_some_and(|c| eval::holds(c, &facts))
            };
            if holds(&rule.stop_when) {
                // The rule's stop condition (失效条件): the rule stops for the customer, and
                // every sequence it started with it.
                if report {
                    let stopped: Vec<Occurrence> = self
                        .state()
                        .sequences
                        .iter()
                        .filter(|(_, s)| *s.rule == *rule.state_id)
                        .map(|(k, s)| Occurrence {
                            rule_id: rule.id.clone(),
                            sequence: Some(k.clone()),
                            step: Some(s.step),
                            due: s.due,
                            count: 1,
                            status: OccurrenceStatus::Stopped,
                        })
                        .collect();
                    self.plan.occurrences.extend(stopped);
                }
                self.stop(def.rule);
                continue;
            }
            if !holds(&def.stop_when) {
                continue;
            }
            let Some(seq) = self.state_mut().sequences.shift_remove(&key) else {
                continue;
            };
            if report {
                self.plan.occurrences.push(Occurrence {
                    rule_id: rule.id.clone(),
                    sequence: Some(key.clone()),
                    step: Some(seq.step),
                    due: seq.due,
                    count: 1,
                    status: OccurrenceStatus::Stopped,
                });
            }
            self.plan.timers.push(Timer::Cancel {
                key: format!("seq:{key}"),
            });
        }
    }
}
