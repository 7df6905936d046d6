//! One evaluation: the event's changes, the candidate rules round by round, and the plan.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use crate::condition::flat::Shape;
use crate::condition::{eval, Facts, Node};
use crate::engine::explain::{explain, ConditionTrace, Outcome, TraceEntry};
use crate::engine::inline::InlineList;
use crate::engine::{CustomerState, Engine, Input, KindRules};
use crate::plan::{CascadeLimit, FieldChange, Plan, Suppressed, Timer};
use crate::rule::FireMode;
use crate::ruleset::{CompiledRule, CompiledTrigger};
use crate::schema::{is_of_kind, FieldId, Record};
use crate::value::Value;

/// The working memory of one evaluation.
pub(crate) struct Run<'e, 'i> {
    pub e: &'e Engine,
    pub input: &'i Input<'i>,
    /// The customer as the evaluation has changed it so far.
    pub record: Cow<'i, Record>,
    /// The new state, once anything in it changed.
    pub state: Option<CustomerState>,
    /// A state whose memory the new state reuses (the one a reused plan carried).
    pub spare: Option<CustomerState>,
    /// The plan being written (empty when the evaluation began).
    pub plan: &'i mut Plan,
    /// Rules fired in this evaluation.
    pub fired: InlineList<u32, 16>,
    /// Exclusive groups that fired, with the rule that fired for each.
    group_winners: Vec<(u32, u32)>,
    /// The rule whose `set_field`/`assign_owner` first wrote each field.
    pub writers: Vec<(FieldId, u32)>,
    /// Fields changed in this evaluation, in order of first change.
    touched: Vec<FieldId>,
    /// Fields changed in the current round, with their value when the round began.
    round_changes: Vec<(FieldId, Value)>,
    /// Users assigned by least-loaded assignment in this evaluation.
    pub assigned: Vec<(String, u32)>,
    pub trace: Option<Vec<TraceEntry>>,
    pub round: usize,
    /// How many rules the event's kind has as candidates: a guess of how many fire, to
    /// size the plan's lists once rather than grow them step by step.
    pub hint: usize,
    /// The hash of the customer id and the event id, the start of every action key:
    /// computed when the first key is needed (most events fire nothing).
    pub event_hash: std::cell::Cell<Option<u64>>,
    /// For a tick, once a due item was handled: the latest due time, which the event hash
    /// derives from (its Unix seconds) instead of the event's id.
    pub key_due: Option<DateTime<Utc>>,
    /// The time rules are evaluated at: the input's `now`, or for a tick, the due time of
    /// the item being handled.
    pub now: DateTime<Utc>,
    /// The time validity periods are checked at: the event's time, or the due time.
    pub time: DateTime<Utc>,
    /// Whether the candidate being considered is a due time-based rule (a tick), not one
    /// triggered by an event or a field change.
    pub due: bool,
}

impl<'e, 'i> Run<'e, 'i> {
    #[inline]
    pub fn new(e: &'e Engine, input: &'i Input<'i>, plan: &'i mut Plan) -> Run<'e, 'i> {
        Run {
            e,
            input,
            record: Cow::Borrowed(input.record),
            state: None,
            spare: None,
            plan,
            fired: InlineList::default(),
            group_winners: Vec::new(),
            writers: Vec::new(),
            touched: Vec::new(),
            round_changes: Vec::new(),
            assigned: Vec::new(),
            trace: input.explain.then(Vec::new),
            round: 0,
            hint: 0,
            event_hash: std::cell::Cell::new(None),
            key_due: None,
            now: input.now,
            time: input.event.time,
            due: false,
        }
    }

    /// The hash that starts every action key of the event being evaluated.
    pub fn event_hash(&self) -> u64 {
        if let Some(h) = self.event_hash.get() {
            return h;
        }
        let input = self.input;
        let h = match self.key_due {
            Some(due) => super::act::due_hash(input.customer_id, due),
            None => super::act::event_hash(input.customer_id, &input.event.id),
        };
        self.event_hash.set(Some(h));
        h
    }

    pub fn state(&self) -> &CustomerState {
        self.state.as_ref().unwrap_or(self.input.state)
    }

    pub fn state_mut(&mut self) -> &mut CustomerState {
        let (input, spare) = (self.input.state, &mut self.spare);
        self.state
            .get_or_insert_with(|| input.copy_into(spare.take()))
    }

    /// Whether the evaluation changed a field so far.
    pub(crate) fn touched_any(&self) -> bool {
        !self.touched.is_empty()
    }

    /// Fields changed in the current round, with their value when the round began.
    pub(crate) fn round_changes(&self) -> &[(FieldId, Value)] {
        &self.round_changes
    }

    /// Sets a field of the working record, noting the change.
    pub fn set(&mut self, field: FieldId, value: Value) {
        if self.record.get(field) == &value {
            return;
        }
        let old = self.record.to_mut().set(field, value);
        if !self.touched.contains(&field) {
            self.touched.push(field);
        }
        if !self.round_changes.iter().any(|(f, _)| *f == field) {
            self.round_changes.push((field, old));
        }
    }

    /// Evaluates the event, of the given kind's rules, into the plan.
    pub fn event(mut self, kind: Option<&'e KindRules>) {
        let e = self.e;
        self.apply_event_changes();
        if let Some(kind) = kind {
            self.record_counts(&kind.counted);
        }
        if !e.scorers.is_empty() {
            self.score_event();
        }
        let hot = kind.map_or(&[][..], |k| k.hot.as_slice());
        self.hint = hot.len();
        if self.round_changes.is_empty() {
            // The common case: no field changes, candidates already in priority order, and
            // most rules have nothing to check but their condition.
            match kind {
                Some(kind) if self.trace.is_none() => {
                    let first = kind.program.next(0, &self.record);
                    self.scan(kind, first);
                }
                _ => {
                    for h in hot {
                        self.consider(h.rule);
                    }
                }
            }
        } else {
            let mut candidates: Vec<u32> = hot.iter().map(|h| h.rule).collect();
            candidates.extend(self.field_candidates(0));
            self.sort(&mut candidates);
            self.round_changes.clear();
            for r in candidates {
                self.consider(r);
            }
        }
        self.cascade();
        self.observe();
        self.settle();
    }

    /// Evaluates a quiet event (no field changes, nothing counted, scored or timed, no
    /// trace) whose kind's scan first stops at candidate `first`: what [`Run::event`]
    /// does for it, without the steps that have nothing to do.
    pub fn event_from(mut self, kind: &'e KindRules, first: u32) {
        self.hint = kind.hot.len();
        self.scan(kind, Some(first));
        self.cascade();
        self.observe();
        self.settle();
    }

    /// Round 0 of an event without field changes and without a trace, from the first
    /// candidate the scan of the kind's checks stops at: the candidates in order, those
    /// with nothing to check but flat checks decided in one tight scan of the kind's
    /// checks, the others considered one by one. A rule that fires sees the writes of the
    /// rules fired before it.
    fn scan(&mut self, kind: &KindRules, first: Option<u32>) {
        let program = &kind.program;
        let mut stop = first;
        while let Some(at) = stop {
            let Some(h) = kind.hot.get(at as usize) else {
                return;
            };
            if !h.plain {
                self.consider(h.rule);
            } else if h.shape == Shape::Flat || self.condition_holds(h.rule) {
                self.fire_plain(h.rule);
            }
            stop = program.next(program.after(at), &self.record);
        }
    }

    /// Whether a plain rule's condition holds, by its tree.
    fn condition_holds(&self, r: u32) -> bool {
        let input = self.input;
        let facts = Facts::new(&self.record, input.now)
            .with_event(input.event)
            .with_previous(input.record);
        let rule = &self.e.rules.rules[r as usize];
        rule.when.as_ref().is_none_or(|n| eval::holds(n, &facts))
    }

    /// Applies the event's field changes to the working record.
    fn apply_event_changes(&mut self) {
        let input = self.input;
        for (name, value) in &input.event.changes {
            let Some(id) = self.e.schema.field_id(name) else {
                self.plan.warnings.push(format!(
                    "unknown field {name:?} in the event's changes: skipped"
                ));
                continue;
            };
            let kind = self.e.schema.field(id).map(|f| f.field_type.kind());
            if kind.is_some_and(|k| !is_of_kind(k, value)) {
                self.plan.warnings.push(format!(
                    "{name}: {} is the wrong type for the field: skipped",
                    value.kind_name()
                ));
                continue;
            }
            self.set(id, value.clone());
        }
    }

    /// Records the event in the behaviour counters that count its kind (`counted`).
    fn record_counts(&mut self, counted: &[(u32, u32)]) {
        let e = self.e;
        let input = self.input;
        for &(r, slot) in counted {
            let rule = &e.rules.rules[r as usize];
            let Some(spec) = rule.counts.get(slot as usize) else {
                continue;
            };
            let facts = Facts::new(&self.record, input.now)
                .with_event(input.event)
                .with_previous(input.record);
            if spec
                .filter
                .as_ref()
                .is_some_and(|f| !eval::holds(f, &facts))
            {
                continue;
            }
            let key = &e.count_keys[r as usize][slot as usize];
            let keep = spec.at_least.max(1) as usize;
            let since = spec.within.before(input.now);
            let zone = e.rules.time_zone;
            let state = self.state_mut();
            let times = state.counters.entry(key.clone()).or_default();
            times.push(input.event.time);
            times.sort();
            if spec.days {
                // One time per local day (the latest), the days of the run and no older.
                times.dedup_by(|later, earlier| {
                    let same = local_day(zone, *later) == local_day(zone, *earlier);
                    if same {
                        *earlier = *later;
                    }
                    same
                });
            } else {
                times.retain(|t| *t >= since);
            }
            if times.len() > keep {
                times.drain(..times.len() - keep);
            }
        }
    }

    /// The behaviour counts a rule's conditions read, at now.
    pub(crate) fn counts(&self, r: u32) -> Counts {
        let rule = &self.e.rules.rules[r as usize];
        let now = self.now;
        let count = |(spec, key): (&crate::condition::CountSpec, &String)| {
            let Some(ts) = self.state().counters.get(key) else {
                return 0;
            };
            if spec.days {
                return days_in_a_row(self.e.rules.time_zone, ts, now);
            }
            let since = spec.within.before(now);
            ts.iter().filter(|t| **t >= since && **t <= now).count() as u32
        };
        rule.counts
            .iter()
            .zip(&self.e.count_keys[r as usize])
            .map(count)
            .collect()
    }

    /// Rules triggered by the current round's field changes; with a trace on, the rules
    /// on a changed field whose `from`/`to` did not match are traced in `round` (unless
    /// that round is past the cascade depth limit).
    fn field_candidates(&mut self, round: usize) -> Vec<u32> {
        let e = self.e;
        let mut out = Vec::new();
        let mut mismatched = Vec::new();
        for (field, old) in &self.round_changes {
            let new = self.record.get(*field);
            if old == new {
                continue;
            }
            for &r in &e.rules.by_field[field.index()] {
                if let CompiledTrigger::FieldChanged { from, to, .. } =
                    &e.rules.rules[r as usize].trigger
                {
                    let from_ok = from.as_ref().is_none_or(|v| old.same(v));
                    let to_ok = to.as_ref().is_none_or(|v| new.same(v));
                    if from_ok && to_ok {
                        out.push(r);
                    } else if self.trace.is_some() && round <= e.cascade_depth {
                        mismatched.push((r, *field, old.clone(), new.clone()));
                    }
                }
            }
        }
        for (r, field, old, new) in mismatched {
            let schema = &e.schema;
            let outcome = Outcome::TriggerMismatch {
                field: schema
                    .field(field)
                    .map(|f| f.name.clone())
                    .unwrap_or_default(),
                old: schema.show(field, &old),
                new: schema.show(field, &new),
            };
            if let Some(trace) = &mut self.trace {
                trace.push(entry(&e.rules.rules[r as usize], round, outcome, None));
            }
        }
        out
    }

    /// Orders candidates by priority (higher first), then position; removes repeats.
    fn sort(&self, candidates: &mut Vec<u32>) {
        let rules = &self.e.rules.rules;
        candidates.sort_by_key(|r| (std::cmp::Reverse(rules[*r as usize].priority), *r));
        candidates.dedup();
    }

    /// Follows field changes made by rules, breadth-first, up to the depth limit.
    pub(crate) fn cascade(&mut self) {
        loop {
            if self.round_changes.is_empty() {
                return;
            }
            if !self.e.scorers.is_empty() {
                self.score_round();
            }
            let mut candidates = self.field_candidates(self.round + 1);
            self.sort(&mut candidates);
            if candidates.is_empty() {
                return;
            }
            if self.round >= self.e.cascade_depth {
                let rules = &self.e.rules.rules;
                let fields = self
                    .round_changes
                    .iter()
                    .filter_map(|(f, _)| self.e.schema.field(*f).map(|d| d.name.clone()))
                    .collect();
                let names = candidates
                    .iter()
                    .map(|r| rules[*r as usize].id.clone())
                    .collect();
                if let Some(trace) = &mut self.trace {
                    for r in &candidates {
                        let rule = &rules[*r as usize];
                        trace.push(entry(rule, self.round + 1, Outcome::CascadeLimit, None));
                    }
                }
                self.plan.cascade_limit = Some(CascadeLimit {
                    depth: self.e.cascade_depth,
                    fields,
                    rules: names,
                });
                return;
            }
            self.round += 1;
            self.round_changes.clear();
            for r in candidates {
                self.consider(r);
            }
        }
    }

    pub(crate) fn outcome(
        &mut self,
        rule: &CompiledRule,
        outcome: Outcome,
        condition: Option<ConditionTrace>,
    ) {
        if let Some(trace) = &mut self.trace {
            trace.push(entry(rule, self.round, outcome, condition));
        }
    }

    /// Evaluates a condition; with a trace on, also explains it.
    fn check(
        &self,
        node: &Node,
        facts: &Facts<'_>,
        rule: &CompiledRule,
    ) -> (bool, Option<ConditionTrace>) {
        if self.trace.is_some() {
            let (r, t) = explain(node, facts, &self.e.schema, &rule.counts, false);
            (r, Some(t))
        } else {
            (eval::holds(node, facts), None)
        }
    }

    /// Considers one candidate rule: every gate in order, then fires it.
    pub(crate) fn consider(&mut self, r: u32) {
        let e = self.e;
        let input = self.input;
        let rule = &e.rules.rules[r as usize];
        if !rule.enabled {
            return self.outcome(rule, Outcome::Disabled, None);
        }
        let time = self.time;
        if let Some(valid_from) = rule.valid_from.filter(|f| time < *f) {
            return self.outcome(rule, Outcome::NotYetValid { valid_from }, None);
        }
        if let Some(valid_until) = rule.valid_until.filter(|u| time >= *u) {
            return self.outcome(rule, Outcome::Expired { valid_until }, None);
        }
        if !rule.repeat_in_cascade && self.fired.contains(&r) {
            return self.outcome(rule, Outcome::AlreadyFired, None);
        }
        let counts = if rule.counts.is_empty() {
            Counts::default()
        } else {
            self.counts(r)
        };
        let mut facts = Facts::new(&self.record, self.now)
            .with_event(input.event)
            .with_previous(input.record);
        facts.counts = counts.as_slice();
        if let CompiledTrigger::Event {
            filter: Some(filter),
            ..
        } = &rule.trigger
        {
            let (ok, t) = self.check(filter, &facts, rule);
            if !ok {
                return self.outcome(rule, Outcome::FilterFalse, t);
            }
        }
        let stateful = rule.stop_when.is_some()
            || rule.max_fires.is_some()
            || rule.cooldown.is_some()
            || rule.fire == FireMode::WhenBecomesTrue;
        let rule_state = if stateful {
            self.state().rules.get(&*rule.state_id)
        } else {
            None
        };
        if rule_state.is_some_and(|s| s.stopped) {
            return self.outcome(rule, Outcome::Stopped, None);
        }
        if let Some(stop) = &rule.stop_when {
            let (stop_now, t) = self.check(stop, &facts, rule);
            if stop_now {
                self.stop(r);
                return self.outcome(rule, Outcome::Stopped, t);
            }
        }
        if let Some(max_fires) = rule
            .max_fires
            .filter(|m| rule_state.is_some_and(|s| s.fires >= *m))
        {
            return self.outcome(rule, Outcome::MaxFires { max_fires }, None);
        }
        if let (Some(cooldown), Some(last)) = (rule.cooldown, rule_state.and_then(|s| s.last_fired))
        {
            let until = cooldown.after(last);
            if self.now < until {
                return self.outcome(rule, Outcome::CoolingDown { until }, None);
            }
        }
        if let Some(scope) = &rule.scope {
            let (ok, t) = self.check(scope, &facts, rule);
            if !ok {
                return self.outcome(rule, Outcome::OutOfScope, t);
            }
        }
        let mut condition_trace = None;
        if let Some(when) = &rule.when {
            let (holds, t) = self.check(when, &facts, rule);
            condition_trace = t;
            if rule.fire == FireMode::WhenBecomesTrue {
                // The first time: false for a due time-based rule (nothing was evaluated
                // before), else the condition on the customer before the event.
                let held_before = rule_state.and_then(|s| s.held).unwrap_or_else(|| {
                    let mut before = Facts::new(input.record, self.now).with_event(input.event);
                    before.counts = counts.as_slice();
                    !self.due && eval::holds(when, &before)
                });
                if rule_state.and_then(|s| s.held) != Some(holds) {
                    self.state_mut().rule_mut(&rule.state_id).held = Some(holds);
                }
                if holds && held_before {
                    return self.outcome(rule, Outcome::AlreadyTrue, condition_trace);
                }
            }
            if !holds {
                return self.outcome(rule, Outcome::ConditionFalse, condition_trace);
            }
        }
        if let Some(group) = rule.group {
            if let Some(&(_, winner)) = self.group_winners.iter().find(|(g, _)| *g == group) {
                let by_rule = e.rules.rules[winner as usize].id.clone();
                let group = e
                    .rules
                    .groups
                    .get(group as usize)
                    .cloned()
                    .unwrap_or_default();
                self.plan.suppressed.push(Suppressed {
                    rule_id: rule.id.clone(),
                    group: group.clone(),
                    by_rule: by_rule.clone(),
                });
                return self.outcome(
                    rule,
                    Outcome::Suppressed { group, by_rule },
                    condition_trace,
                );
            }
            self.group_winners.push((group, r));
        }
        self.fire(r, condition_trace);
    }

    /// Fires a rule: records it, plans its actions, and traces it with its condition.
    fn fire(&mut self, r: u32, condition: Option<ConditionTrace>) {
        let overridden_before = self.plan.overridden.len();
        self.fire_quietly(r);
        if let Some(trace) = &mut self.trace {
            let rule = &self.e.rules.rules[r as usize];
            let mut t = entry(rule, self.round, Outcome::Fired, condition);
            t.overridden = self.plan.overridden[overridden_before..].to_vec();
            trace.push(t);
        }
    }

    /// Fires a rule without tracing it: records it, then plans its actions.
    fn fire_quietly(&mut self, r: u32) {
        let rule = &self.e.rules.rules[r as usize];
        if rule.max_fires.is_some() || rule.cooldown.is_some() {
            let now = self.now;
            let s = self.state_mut().rule_mut(&rule.state_id);
            s.fires = s.fires.saturating_add(1);
            if rule.cooldown.is_some() {
                s.last_fired = Some(now);
            }
        }
        self.fire_plain(r);
    }

    /// Fires a plain rule (one with no fire limit or cooldown to record): records it,
    /// then plans its actions.
    fn fire_plain(&mut self, r: u32) {
        self.fired.push(r);
        let rule = &self.e.rules.rules[r as usize];
        self.actions(r, &rule.actions, "");
    }

    /// A guess, from the candidate count, of how many rules fire once one does: room for
    /// the lists that grow with them, reserved once (a list grown step by step is copied
    /// at each step).
    pub(crate) fn expected_fires(&self) -> usize {
        expected_fires(self.hint)
    }

    /// Marks a rule stopped for the customer and cancels its timers and sequences.
    pub(crate) fn stop(&mut self, r: u32) {
        let rule = &self.e.rules.rules[r as usize];
        let id = rule.state_id.to_string();
        let state = self.state_mut();
        state.rule_mut(&id).stopped = true;
        let sequences: Vec<String> = state
            .sequences
            .iter()
            .filter(|(_, s)| s.rule == id)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &sequences {
            state.sequences.shift_remove(key);
        }
        self.plan.timers.push(Timer::Cancel {
            key: format!("rule:{id}"),
        });
        for key in sequences {
            self.plan.timers.push(Timer::Cancel {
                key: format!("seq:{key}"),
            });
        }
    }

    /// Writes into the plan the net changes, the new state (pruned of rules no longer in
    /// the set) and the trace.
    pub(crate) fn settle(&mut self) {
        let schema = &self.e.schema;
        for field in &self.touched {
            let old = self.input.record.get(*field);
            let new = self.record.get(*field);
            if old != new {
                if let Some(def) = schema.field(*field) {
                    let old = if def.sensitive {
                        Value::Text(crate::schema::mask(old))
                    } else {
                        old.clone()
                    };
                    self.plan.changes.push(FieldChange {
                        field: def.name.clone(),
                        old,
                        new: new.clone(),
                    });
                }
            }
        }
        if let Some(state) = self.state.take() {
            self.e.write_state(state, self.input.state, self.plan);
        }
        self.plan.trace = self.trace.take();
    }
}

impl Engine {
    /// Puts a new state into the plan when it differs from the input's, first dropping
    /// the entries of rules and models no longer in the engine.
    pub(crate) fn write_state(
        &self,
        mut state: CustomerState,
        old: &CustomerState,
        plan: &mut Plan,
    ) {
        // Most of a state's maps are empty (a tick's new state most often differs in its
        // latest tick alone): only the others are pruned.
        let by_id = &self.by_id;
        if !state.rules.is_empty() {
            state.rules.retain(|id, _| by_id.contains_key(id));
        }
        if !state.counters.is_empty() {
            state.counters.retain(|key, _| {
                key.rsplit_once('#')
                    .is_some_and(|(id, _)| by_id.contains_key(id))
            });
        }
        if !state.sequences.is_empty() {
            state.sequences.retain(|_, s| by_id.contains_key(&s.rule));
        }
        if !state.scores.is_empty() {
            let scorers = &self.scorers;
            state
                .scores
                .retain(|id, _| scorers.iter().any(|s| s.id() == id));
        }
        if &state != old {
            plan.state = Some(state);
        }
    }
}

/// A guess, from the candidate count, of how many rules fire once one does.
pub(crate) fn expected_fires(candidates: usize) -> usize {
    (candidates / 4).clamp(4, 256)
}

/// A rule's behaviour counts at a time, in line for up to eight (no allocation).
pub(crate) type Counts = InlineList<u32, 8>;

/// The local calendar day of an instant.
fn local_day(zone: chrono_tz::Tz, t: DateTime<Utc>) -> chrono::NaiveDate {
    crate::schedule::local::local(zone, t).map_or_else(|| t.date_naive(), |l| l.date())
}

/// How many consecutive local days, ending on the day of `now`, have one of the times
/// (oldest first, at most one a day): 0 when today has none.
fn days_in_a_row(zone: chrono_tz::Tz, times: &[DateTime<Utc>], now: DateTime<Utc>) -> u32 {
    let mut expected = Some(local_day(zone, now));
    let mut run = 0;
    for t in times.iter().rev().filter(|t| **t <= now) {
        let day = local_day(zone, *t);
        match expected {
            Some(d) if day == d => {
                run += 1;
                expected = d.pred_opt();
            }
            // Two times on one day (an older state): the day is counted once.
            Some(d) if Some(day) == d.succ_opt() => {}
            _ => break,
        }
    }
    run
}

fn entry(
    rule: &CompiledRule,
    round: usize,
    outcome: Outcome,
    condition: Option<ConditionTrace>,
) -> TraceEntry {
    TraceEntry {
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        round,
        outcome,
        condition,
        overridden: Vec::new(),
    }
}
