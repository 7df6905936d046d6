//! Quiet events whose candidates need no working memory: every candidate of the kind is
//! plain, decided by the kind's program of flat checks, and plans only host-defined
//! actions (which write no field and keep no state). Each stop of the scan is a rule that
//! fires, and its actions go straight into the plan, with the keys, order and contents a
//! full evaluation gives them. What firing reads is kept per kind, in candidate order,
//! so that the rules fired by one event are read from one array, in order.

use super::act::{action_part, custom, event_hash, key_of, planned};
use super::run::expected_fires;
use super::{Engine, Input, KindRules};
use crate::condition::flat::Shape;
use crate::name::Name;
use crate::payload::Payload;
use crate::plan::{Plan, PlannedAction, ResolvedAction};
use crate::ruleset::{CompiledAction, CompiledRule};

/// What firing one direct candidate reads: its rule's id and name, the part of its first
/// action's key that does not depend on the event, and that action.
#[derive(Clone, Debug)]
pub(crate) struct Fire {
    id: Name,
    name: Name,
    /// The rule's hash.
    hash: u64,
    /// The first action's [`action_part`].
    part: u64,
    /// The rule's place in the rule set, to read its actions after the first.
    rule: u32,
    /// The rule's action count.
    actions: u32,
    /// The first action's kind and payload (none for a rule without actions).
    first: Option<(Name, Payload)>,
}

/// What firing a kind's candidates reads, in candidate order, when they are all direct:
/// plain rules decided by the kind's program that plan only host-defined actions.
/// `None` when one is not.
pub(crate) fn fires(kind: &KindRules, rules: &[CompiledRule]) -> Option<Vec<Fire>> {
    kind.hot
        .iter()
        .map(|h| {
            let rule = rules.get(h.rule as usize)?;
            let custom = |a: &CompiledAction| match a {
                CompiledAction::Custom { kind, payload } => Some((kind.clone(), payload.clone())),
                _ => None,
            };
            if !h.plain
                || h.shape != Shape::Flat
                || !rule.actions.iter().all(|a| custom(a).is_some())
            {
                return None;
            }
            Some(Fire {
                id: rule.id.clone(),
                name: rule.name.clone(),
                hash: rule.hash,
                part: action_part(rule.hash, 0, ("", 0)),
                rule: h.rule,
                actions: rule.actions.len() as u32,
                first: rule.actions.first().and_then(custom),
            })
        })
        .collect()
}

impl Engine {
    /// Plans a quiet event of a direct kind (one with [`KindRules::fires`]) from the
    /// candidate its scan first stops at.
    pub(crate) fn direct(
        &self,
        input: &Input<'_>,
        kind: &KindRules,
        fires: &[Fire],
        first: u32,
        plan: &mut Plan,
    ) {
        let program = &kind.program;
        let event = event_hash(input.customer_id, &input.event.id);
        if plan.actions.capacity() == 0 {
            plan.actions = Vec::with_capacity(expected_fires(fires.len()));
        }
        // The plan may still hold the actions of the evaluation before: they are written
        // over, and what is left of them dropped at the end.
        let mut n = 0;
        let mut stop = Some(first);
        while let Some(at) = stop {
            if let Some(f) = fires.get(at as usize) {
                if let Some((kind, payload)) = &f.first {
                    f.put(&mut plan.actions, n, event, 0, (kind, payload));
                    n += 1;
                }
                if f.actions > 1 {
                    n = self.direct_rest(f, event, plan, n);
                }
            }
            stop = program.next(program.after(at), input.record);
        }
        plan.actions.truncate(n);
    }

    /// Plans the actions after the first of a direct candidate's rule at `n` on; returns
    /// where the next goes.
    #[cold]
    fn direct_rest(&self, f: &Fire, event: u64, plan: &mut Plan, mut n: usize) -> usize {
        let Some(rule) = self.rules.rules.get(f.rule as usize) else {
            return n;
        };
        for (i, action) in rule.actions.iter().enumerate().skip(1) {
            if let CompiledAction::Custom { kind, payload } = action {
                f.put(&mut plan.actions, n, event, i, (kind, payload));
                n += 1;
            }
        }
        n
    }
}

impl Fire {
    /// Writes action `i` of the candidate's rule, a custom action of this kind and
    /// payload, as the plan lists it, at `n` of the actions: over the action there, if
    /// any, else after the last.
    #[inline(always)]
    fn put(
        &self,
        actions: &mut Vec<PlannedAction>,
        n: usize,
        event: u64,
        i: usize,
        (kind, payload): (&Name, &Payload),
    ) {
        let part = match i {
            0 => self.part,
            _ => action_part(self.hash, 0, ("", i)),
        };
        let key = key_of(event, part);
        let Some(old) = actions.get_mut(n) else {
            actions.push(planned(
                (&self.id, &self.name),
                key,
                custom(kind, payload),
                None,
            ));
            return;
        };
        // Every part, named so that a new one is not left as it was.
        let PlannedAction {
            rule_id,
            rule_name,
            key: old_key,
            action,
            not_before,
        } = old;
        rule_id.clone_from(&self.id);
        rule_name.clone_from(&self.name);
        *old_key = key;
        match action {
            ResolvedAction::Custom {
                kind: old_kind,
                payload: old_payload,
            } => {
                old_kind.clone_from(kind);
                old_payload.clone_from(payload);
            }
            other => *other = custom(kind, payload),
        }
        *not_before = None;
    }
}

#[cfg(test)]
mod tests {
    use crate::{CustomerState, Engine, Event, Input, Plan, RuleSet, Schema};

    /// A reused plan that held other actions (more of them, with payloads, or of another
    /// type from a full evaluation) is written over into exactly the plan a new one gets.
    #[test]
    fn a_reused_plan_is_written_over_into_the_new_plan() {
        let schema = Schema::from_json(
            r#"{"owner_field": "负责人", "fields": [{"name": "级别", "type": "text"},
                {"name": "负责人", "type": "member"}]}"#,
        )
        .unwrap();
        let rules = RuleSet::from_json(
            r#"{"rules": [
              {"id": "two", "name": "两个动作", "trigger": {"type": "event", "event": "a"},
               "actions": [{"type": "custom", "kind": "k1", "payload": {"n": 1}},
                           {"type": "custom", "kind": "k2"}]},
              {"id": "one", "name": "一个动作", "trigger": {"type": "event", "event": "b"},
               "when": {"field": "级别", "op": "eq", "value": "A"},
               "actions": [{"type": "custom", "kind": "k3"}]},
              {"id": "task", "name": "建任务", "trigger": {"type": "event", "event": "c"},
               "actions": [{"type": "create_task", "title": "跟进", "due_in": "1d"},
                           {"type": "create_task", "title": "回访", "due_in": "2d"}]}
            ]}"#,
        )
        .unwrap();
        let e = Engine::builder(schema).rules(rules).build().unwrap();
        let record = e.schema().record([("级别", "A")]).unwrap();
        let state = CustomerState::new();
        let t = chrono::DateTime::UNIX_EPOCH;
        let mut reused = Plan::default();
        for (i, kind) in ["a", "b", "c", "b", "c", "a", "a", "b"]
            .into_iter()
            .enumerate()
        {
            let event = Event::new(kind, format!("e{i}"), t);
            let input = Input::new("C1", &record, &state, &event, t);
            let held = reused.actions.len();
            e.evaluate_into(&input, &mut reused);
            // A plan of the tasks holds only actions: the next direct plan writes over them.
            assert!(
                kind != "c"
                    || (held <= 2
                        && reused.actions.len() == 2
                        && reused.state.is_none()
                        && reused.changes.is_empty())
            );
            let fresh = e.evaluate(&input);
            assert_eq!(reused, fresh, "event {i} ({kind})");
            assert_eq!(reused.to_json(), fresh.to_json(), "event {i} ({kind})");
        }
        let event = Event::new("b", "last", t);
        e.evaluate_into(&Input::new("C1", &record, &state, &event, t), &mut reused);
        assert_eq!(reused.actions.len(), 1);
        assert_eq!(reused.actions[0].rule_id, "one");
    }
}
