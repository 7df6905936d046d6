//! Quiet events whose candidates need no working memory: every candidate of the kind is
//! plain, decided by the kind's program of flat checks, and plans only host-defined
//! actions (which write no field and keep no state). Each stop of the scan is a rule that
//! fires, and its actions go straight into the plan, with the keys, order and contents a
//! full evaluation gives them.

use super::act::{action_key, custom, event_hash, planned};
use super::run::expected_fires;
use super::{Engine, Input, KindRules};
use crate::condition::flat::Shape;
use crate::plan::Plan;
use crate::ruleset::{CompiledAction, CompiledRule};

/// Whether a kind's candidates are all direct: plain rules decided by the kind's program
/// that plan only host-defined actions.
pub(crate) fn is_direct(kind: &KindRules, rules: &[CompiledRule]) -> bool {
    kind.hot.iter().all(|h| {
        h.plain
            && h.shape == Shape::Flat
            && rules.get(h.rule as usize).is_some_and(|rule| {
                rule.actions
                    .iter()
                    .all(|a| matches!(a, CompiledAction::Custom { .. }))
            })
    })
}

impl Engine {
    /// Plans a quiet event of a direct kind (see [`is_direct`]) from the candidate its
    /// scan first stops at.
    pub(crate) fn direct(&self, input: &Input<'_>, kind: &KindRules, first: u32, plan: &mut Plan) {
        let program = &kind.program;
        let event = event_hash(input.customer_id, &input.event.id);
        if plan.actions.capacity() == 0 {
            plan.actions = Vec::with_capacity(expected_fires(kind.hot.len()));
        }
        let mut stop = Some(first);
        while let Some(at) = stop {
            if let Some(rule) = kind
                .hot
                .get(at as usize)
                .and_then(|h| self.rules.rules.get(h.rule as usize))
            {
                for (i, action) in rule.actions.iter().enumerate() {
                    if let CompiledAction::Custom { kind, payload } = action {
                        let key = action_key(event, rule, 0, ("", i));
                        plan.actions
                            .push(planned(rule, key, custom(kind, payload), None));
                    }
                }
            }
            stop = program.next(program.after(at), input.record);
        }
    }
}
