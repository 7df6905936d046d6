//! Compiling a rule set against a schema: every rule checked, every problem reported,
//! rules indexed by what triggers them.

mod action;
mod trigger;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use indexmap::IndexMap;

#[allow(unused_imports)]
pub(crate) use action::{
    CompiledAction, CompiledAssignment, CompiledRecipient, CompiledStep, CompiledVariant,
    CompiledWindow, SetValue,
};
pub(crate) use trigger::CompiledTrigger;

use crate::compile::Compiler;
use crate::condition::{CountSpec, EventScope, Node};
use crate::duration::Duration;
use crate::error::{BuildError, Problem, RuleRef};
use crate::limits::Limits;
use crate::name::Name;
use crate::rule::{FireMode, Rule, RuleSet};
use crate::schema::Schema;

/// One rule, compiled. What planning a fired rule's actions reads comes first: its id,
/// name and key hash in the first cache line, its actions' pointer at the start of the
/// second (firing many rules then touches few lines of each).
#[derive(Clone, Debug, PartialEq)]
#[allow(dead_code)] // read by the engine
#[repr(C, align(64))]
pub(crate) struct CompiledRule {
    /// The id and name as plans carry them.
    pub id: Name,
    pub name: Name,
    /// `fnv(id)`, the rule's part of its actions' idempotency keys.
    pub hash: u64,
    pub actions: Box<[CompiledAction]>,
    pub index: usize,
    pub enabled: bool,
    pub trigger: CompiledTrigger,
    pub scope: Option<Node>,
    pub when: Option<Node>,
    pub priority: i32,
    /// The exclusive group, as an index into the rule set's group names.
    pub group: Option<u32>,
    pub fire: FireMode,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub stop_when: Option<Node>,
    pub max_fires: Option<u32>,
    pub cooldown: Option<Duration>,
    pub repeat_in_cascade: bool,
    /// The behaviour counts the rule's conditions read, by slot.
    pub counts: Vec<CountSpec>,
    /// The id as the engine reads it (the key of the rule's entries in a customer's
    /// state): free to read, where reading a [`Name`]'s text checks its bytes again.
    pub state_id: Arc<str>,
}

/// A rule set compiled against a schema: checked, typed, and indexed by trigger.
///
/// ```
/// use crm_rules::{RuleSet, Schema};
/// let schema = Schema::from_json(r#"{"fields": [
///   {"name": "客户状态", "type": "single_choice", "options": ["新客户", "成交客户"]},
///   {"name": "标签", "type": "tags"}
/// ]}"#)?;
/// let rules = RuleSet::from_json(r#"{"rules": [{
///   "id": "won", "name": "成交打标签",
///   "trigger": {"type": "field_changed", "field": "客户状态", "to": "成交客户"},
///   "actions": [{"type": "add_tag", "tag": "已成交"}]
/// }]}"#)?;
/// let compiled = rules.compile(&schema)?;
/// assert_eq!(compiled.summary().to_string(), "1 rule (1 enabled): 1 field_changed; 1 action");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[allow(dead_code)] // the indexes are read by the engine
pub struct CompiledRules {
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) groups: Vec<String>,
    pub(crate) time_zone: Tz,
    /// Event kind → rules it triggers, in rule-set order.
    pub(crate) by_event: HashMap<String, Vec<u32>>,
    /// Field position → rules its change triggers, in rule-set order.
    pub(crate) by_field: Vec<Vec<u32>>,
    /// Rules that run on time, in rule-set order.
    pub(crate) timed: Vec<u32>,
    summary: Summary,
}

/// Counts of a compiled rule set, for a quick look.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Rules in the set.
    pub rules: usize,
    /// Rules enabled.
    pub enabled: usize,
    /// Rules per trigger kind, in order of first appearance.
    pub by_trigger: IndexMap<&'static str, usize>,
    /// Actions, counting those nested in sequences and A/B variants.
    pub actions: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        write!(
            f,
            "{} rule{} ({} enabled): ",
            self.rules,
            s(self.rules),
            self.enabled
        )?;
        let kinds: Vec<String> = self
            .by_trigger
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        write!(
            f,
            "{}; {} action{}",
            kinds.join(", "),
            self.actions,
            s(self.actions)
        )
    }
}

impl CompiledRules {
    /// How many rules the set has.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the set has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Counts by trigger kind.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The rule ids, in order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| &*r.id)
    }
}

fn count_actions(actions: &[CompiledAction]) -> usize {
    actions
        .iter()
        .map(|a| {
            1 + match a {
                CompiledAction::StartSequence { steps, .. } => {
                    steps.iter().map(|s| count_actions(&s.actions)).sum()
                }
                CompiledAction::AbSplit { variants, .. } => {
                    variants.iter().map(|v| count_actions(&v.actions)).sum()
                }
                _ => 0,
            }
        })
        .sum()
}

impl RuleSet {
    /// Checks every rule against the schema and compiles the set, with the default
    /// [`Limits`].
    ///
    /// # Errors
    /// A [`BuildError`] listing every problem in every rule, each with the rule's position,
    /// id and name and the path inside the rule: duplicate ids; unknown fields, event kinds
    /// and attributes; literals of the wrong type or outside a choice's options; operators
    /// that do not apply to a field; empty `all`/`any`, pools, tables and templates; bad
    /// durations, time zones, windows and weights; unknown template fields; and limits
    /// exceeded (rule count, nesting depth, text sizes).
    pub fn compile(&self, schema: &Schema) -> Result<CompiledRules, BuildError> {
        self.compile_with(schema, &Limits::default())
    }

    /// As [`RuleSet::compile`], with the given limits.
    ///
    /// # Errors
    /// As [`RuleSet::compile`].
    pub fn compile_with(
        &self,
        schema: &Schema,
        limits: &Limits,
    ) -> Result<CompiledRules, BuildError> {
        let mut c = Compiler::new(schema, limits);
        if self.rules.len() > limits.max_rules {
            c.problem("rules", format!("more than {} rules", limits.max_rules));
            return Err(BuildError::new(c.problems));
        }
        let tz = c.time_zone(self.time_zone.as_ref(), Tz::UTC, "time_zone");
        let mut ids: HashMap<&str, usize> = HashMap::with_capacity(self.rules.len());
        let mut set_ids = action::SetIds::default();
        let mut groups: IndexMap<String, ()> = IndexMap::new();
        let mut rules = Vec::with_capacity(self.rules.len());
        for (index, rule) in self.rules.iter().enumerate() {
            c.rule = Some(RuleRef {
                index,
                id: rule.id.clone(),
                name: rule.name.clone(),
            });
            if let Some(first) = ids.insert(&rule.id, index) {
                c.problem(
                    "id",
                    format!("duplicate id {:?}: rules[{first}] has it too", rule.id),
                );
                ids.insert(&self.rules[first].id, first);
            }
            let group = rule.group.as_ref().map(|g| {
                c.name(g, "group", "group name");
                groups.insert_full(g.clone(), ()).0 as u32
            });
            if let Some(compiled) = compile_rule(&mut c, rule, index, tz, &mut set_ids, group) {
                rules.push(compiled);
            }
        }
        if !c.problems.is_empty() {
            return Err(BuildError::new(c.problems));
        }
        Ok(index(rules, groups.into_keys().collect(), tz, schema))
    }
}

fn optional_condition<'a>(
    c: &mut Compiler<'a>,
    cond: Option<&crate::rule::Condition>,
    path: &str,
    scope: EventScope<'a>,
    counts: &mut Vec<CountSpec>,
) -> Option<Option<Node>> {
    match cond {
        None => Some(None),
        Some(cond) => c.condition(cond, path, scope, counts, 0).map(Some),
    }
}

fn compile_rule<'a>(
    c: &mut Compiler<'a>,
    rule: &Rule,
    index: usize,
    tz: Tz,
    ids: &mut action::SetIds,
    group: Option<u32>,
) -> Option<CompiledRule> {
    c.name(&rule.id, "id", "rule id");
    c.name(&rule.name, "name", "rule name");
    c.text(&rule.description, "description");
    let mut counts = Vec::new();
    let trigger = c.trigger(&rule.trigger, "trigger", tz, &mut counts);
    let events = c.event_scope(&rule.trigger);
    let scope = optional_condition(c, rule.scope.as_ref(), "scope", events, &mut counts);
    let when = optional_condition(c, rule.when.as_ref(), "when", events, &mut counts);
    let stop_when = optional_condition(
        c,
        rule.expiry.stop_when.as_ref(),
        "expiry.stop_when",
        EventScope::NoEvent("the stop condition is about the customer, not an event"),
        &mut counts,
    );
    if rule.fire == FireMode::WhenBecomesTrue && rule.when.is_none() {
        c.problem(
            "fire",
            "when_becomes_true needs a `when` condition to become true",
        );
    }
    if let (Some(from), Some(until)) = (rule.expiry.valid_from, rule.expiry.valid_until) {
        if from >= until {
            c.problem(
                "expiry.valid_until",
                format!("the rule expires ({until}) before it becomes valid ({from})"),
            );
        }
    }
    if rule.expiry.max_fires == Some(0) {
        c.problem(
            "expiry.max_fires",
            "must be at least 1 (disable the rule instead)",
        );
    }
    let mut cx = action::ActionCtx {
        tz,
        events,
        ids,
        counts: &mut counts,
        total: 0,
    };
    let actions = c.actions(&rule.actions, "actions", &mut cx, 0);
    let state_id = c.shared.text(&rule.id);
    Some(CompiledRule {
        id: Name::from(Arc::clone(&state_id)),
        name: c.shared.text(&rule.name).into(),
        actions: actions?.into_boxed_slice(),
        hash: crate::engine::hash::fnv1a(&[rule.id.as_bytes()]),
        index,
        enabled: rule.enabled,
        trigger: trigger?,
        scope: scope?,
        when: when?,
        priority: rule.priority,
        group,
        fire: rule.fire,
        valid_from: rule.expiry.valid_from,
        valid_until: rule.expiry.valid_until,
        stop_when: stop_when?,
        max_fires: rule.expiry.max_fires,
        cooldown: rule.expiry.cooldown,
        repeat_in_cascade: rule.repeat_in_cascade,
        counts,
        state_id,
    })
}

/// Builds the trigger indexes and the summary.
fn index(
    rules: Vec<CompiledRule>,
    groups: Vec<String>,
    time_zone: Tz,
    schema: &Schema,
) -> CompiledRules {
    let mut by_event: HashMap<String, Vec<u32>> = HashMap::new();
    let mut by_field = vec![Vec::new(); schema.fields().len()];
    let mut timed = Vec::new();
    let mut by_trigger: IndexMap<&'static str, usize> = IndexMap::new();
    let mut actions = 0;
    for (i, rule) in rules.iter().enumerate() {
        let i = i as u32;
        let kind = match &rule.trigger {
            CompiledTrigger::Event { kind, .. } => {
                by_event.entry(kind.clone()).or_default().push(i);
                "event"
            }
            CompiledTrigger::FieldChanged { field, .. } => {
                by_field[field.index()].push(i);
                "field_changed"
            }
            CompiledTrigger::Schedule { .. } => "schedule",
            CompiledTrigger::Relative { .. } => "relative",
            CompiledTrigger::Inactivity { .. } => "inactivity",
            CompiledTrigger::StageTime { .. } => "stage_time",
        };
        if !matches!(
            rule.trigger,
            CompiledTrigger::Event { .. } | CompiledTrigger::FieldChanged { .. }
        ) {
            timed.push(i);
        }
        *by_trigger.entry(kind).or_default() += 1;
        actions += count_actions(&rule.actions);
    }
    // Candidates are considered by priority, higher first, then position: sort once here.
    let order = |list: &mut Vec<u32>| {
        list.sort_by_key(|r| (std::cmp::Reverse(rules[*r as usize].priority), *r))
    };
    by_event.values_mut().for_each(order);
    by_field.iter_mut().for_each(order);
    let summary = Summary {
        rules: rules.len(),
        enabled: rules.iter().filter(|r| r.enabled).count(),
        by_trigger,
        actions,
    };
    CompiledRules {
        rules,
        groups,
        time_zone,
        by_event,
        by_field,
        timed,
        summary,
    }
}

impl From<Vec<Problem>> for BuildError {
    fn from(problems: Vec<Problem>) -> BuildError {
        BuildError::new(problems)
    }
}
