//! Running sequences in a tick: due steps checked, run, skipped or missed; the next step's
//! timer set; finished and stopped sequences removed.

use chrono::{DateTime, Utc};

use super::explain::Outcome;
use super::run::Run;
use super::state::SequenceState;
use crate::condition::{eval, Facts};
use crate::name::Name;
use crate::plan::{Occurrence, OccurrenceStatus, Timer};
use crate::schedule::relative;

impl Run<'_, '_> {
    /// Runs the due steps of every running sequence, in order of due time (ties in the
    /// order the sequences started), following the field changes they make; sequences
    /// that steps start and that are already due run in the next round, up to the
    /// cascade depth limit (what is left is due at the next tick).
    pub(crate) fn run_sequences(&mut self) {
        let now = self.input.now;
        for _ in 0..=self.e.cascade_depth {
            let mut due: Vec<(DateTime<Utc>, String)> = self
                .state()
                .sequences
                .iter()
                .filter(|(_, s)| s.due <= now)
                .map(|(k, s)| (s.due, k.clone()))
                .collect();
            if due.is_empty() {
                return;
            }
            due.sort_by_key(|(at, _)| *at);
            for (_, key) in due {
                self.run_sequence(&key);
            }
            self.at_now();
            self.cascade();
        }
    }

    fn push_step(
        &mut self,
        rule_id: Name,
        key: &str,
        seq: &SequenceState,
        status: OccurrenceStatus,
    ) {
        self.plan.occurrences.push(Occurrence {
            rule_id,
            sequence: Some(key.to_owned()),
            step: Some(seq.step),
            due: seq.due,
            count: 1,
            status,
        });
    }

    /// Removes a sequence, cancels its timer, and reports its step with `status`.
    fn end_sequence(
        &mut self,
        key: &str,
        rule: u32,
        seq: &SequenceState,
        status: OccurrenceStatus,
    ) {
        self.state_mut().sequences.shift_remove(key);
        self.plan.timers.push(Timer::Cancel {
            key: format!("seq:{key}"),
        });
        let rule_id = self.e.rules.rules[rule as usize].id.clone();
        self.push_step(rule_id, key, seq, status);
    }

    /// Runs the due steps of one sequence, each as of its due time.
    fn run_sequence(&mut self, key: &str) {
        let e = self.e;
        let now = self.input.now;
        let Some(mut seq) = self.state().sequences.get(key).cloned() else {
            return;
        };
        let def = e.timing.sequences.get(key);
        let Some((r, def)) = def.and_then(|d| {
            let rule = e.rules.rules.get(d.rule as usize)?;
            (*rule.state_id == *seq.rule).then_some((d.rule, d))
        }) else {
            // The sequence is no longer in the rule set, or another rule starts it now.
            self.state_mut().sequences.shift_remove(key);
            self.plan.timers.push(Timer::Cancel {
                key: format!("seq:{key}"),
            });
            return;
        };
        let rule = &e.rules.rules[r as usize];
        if !rule.enabled || self.state().is_stopped(&rule.state_id) {
            return self.end_sequence(key, r, &seq, OccurrenceStatus::Stopped);
        }
        let oldest = e.max_lateness.before(now);
        let zone = e.timing.zone;
        while seq.due <= now {
            self.at_due(seq.due);
            let Some(step) = def.steps.get(seq.step) else {
                // Past its last step (the rule set changed under it): finished.
                self.state_mut().sequences.shift_remove(key);
                self.plan.timers.push(Timer::Cancel {
                    key: format!("seq:{key}"),
                });
                return;
            };
            let counts = self.counts(r);
            let mut facts = Facts::new(&self.record, seq.due);
            facts.counts = counts.as_slice();
            let rule_stops = rule
                .stop_when
                .as_ref()
                .is_some_and(|c| eval::holds(c, &facts));
            let stops = def
                .stop_when
                .as_ref()
                .is_some_and(|c| eval::holds(c, &facts));
            let skip = step
                .skip_when
                .as_ref()
                .is_some_and(|c| eval::holds(c, &facts));
            let answered = step.unless_event.iter().any(|kind| {
                self.state()
                    .last_events
                    .get(kind.as_str())
                    .is_some_and(|t| *t >= seq.since)
            });
            if rule_stops {
                // The rule's own stop condition: it stops for the customer, with all its
                // sequences and timers.
                self.stop(r);
                self.push_step(rule.id.clone(), key, &seq, OccurrenceStatus::Stopped);
                return;
            }
            if stops {
                return self.end_sequence(key, r, &seq, OccurrenceStatus::Stopped);
            }
            let status = if seq.due < oldest {
                let missed = Outcome::Missed {
                    due: seq.due,
                    count: 1,
                };
                self.outcome(rule, missed, None);
                OccurrenceStatus::Missed
            } else if skip || answered {
                OccurrenceStatus::Skipped
            } else {
                let prefix = format!("seq:{key}/{}/", seq.step);
                let before = self.state().sequences.get(key).cloned();
                self.actions(r, &step.actions, &prefix);
                if self.state().sequences.get(key) != before.as_ref() {
                    // The step restarted its own sequence: the new start stands.
                    self.push_step(rule.id.clone(), key, &seq, OccurrenceStatus::Fired);
                    return;
                }
                OccurrenceStatus::Fired
            };
            self.push_step(rule.id.clone(), key, &seq, status);
            let next = seq.step + 1;
            let due = def
                .steps
                .get(next)
                .and_then(|s| relative::after(seq.due, s.after.as_seconds(), s.at, zone));
            match due {
                Some(due) => {
                    seq = SequenceState {
                        rule: seq.rule,
                        step: next,
                        due,
                        since: seq.due,
                    };
                }
                None => {
                    self.state_mut().sequences.shift_remove(key);
                    self.plan.timers.push(Timer::Cancel {
                        key: format!("seq:{key}"),
                    });
                    return;
                }
            }
        }
        let at = seq.due;
        if let Some(s) = self.state_mut().sequences.get_mut(key) {
            *s = seq;
        }
        self.plan.timers.push(Timer::Set {
            key: format!("seq:{key}"),
            at,
        });
    }
}
