//! Ticks: the host asks what is due for a customer at a time, and when to ask next.

use chrono::{DateTime, Utc};

use super::explain::Outcome;
use super::run::Run;
use super::timed::{self, Clock, Customer, Seen, TickTime, When};
use super::{Context, CustomerState, Engine, Input, NO_CONTEXT};
use crate::condition::{eval, Event, Facts};
use crate::duration::Duration;
use crate::plan::{Occurrence, OccurrenceStatus, Plan};
use crate::ruleset::CompiledRule;
use crate::schedule::Ts;
use crate::schema::Record;

/// One tick's input: the customer, its engine state and the time.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::{Context, CustomerState, Schema, TickInput};
/// let schema = Schema::from_json(r#"{"fields": [{"name": "客户名称", "type": "text"}]}"#)?;
/// let customer = schema.record([("客户名称", "华为")])?;
/// let state = CustomerState::new();
/// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
/// let context = Context::default();
/// let input = TickInput::new("C001", &customer, &state, now).context(&context).explain(true);
/// assert!(input.explain);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TickInput<'a> {
    /// The customer's id (for idempotency keys, hash assignment and A/B variants).
    pub customer_id: &'a str,
    /// The customer as stored now.
    pub record: &'a Record,
    /// The customer's engine state from the last plan (or [`CustomerState::new`]).
    pub state: &'a CustomerState,
    /// The current time: everything due at or before it is handled.
    pub now: DateTime<Utc>,
    /// Assignment counters and loads.
    pub context: &'a Context,
    /// Whether to trace every rule considered in [`Plan::trace`].
    pub explain: bool,
}

impl<'a> TickInput<'a> {
    /// An input with an empty context and no trace.
    pub fn new(
        customer_id: &'a str,
        record: &'a Record,
        state: &'a CustomerState,
        now: DateTime<Utc>,
    ) -> TickInput<'a> {
        TickInput {
            customer_id,
            record,
            state,
            now,
            context: &NO_CONTEXT,
            explain: false,
        }
    }

    /// Sets the assignment context.
    pub fn context(mut self, context: &'a Context) -> TickInput<'a> {
        self.context = context;
        self
    }

    /// Turns the trace on or off.
    pub fn explain(mut self, on: bool) -> TickInput<'a> {
        self.explain = on;
        self
    }
}

/// The time-based rules due in a tick (their places in [`Timing::rules`](timed::Timing)
/// and first due times), in line for the first few (no allocation).
#[derive(Default)]
struct Due {
    small: [(u32, Ts); 8],
    len: usize,
    more: Vec<(u32, Ts)>,
}

impl Due {
    fn push(&mut self, i: usize, first: Ts) {
        let entry = (u32::try_from(i).unwrap_or(u32::MAX), first);
        match self.small.get_mut(self.len) {
            Some(slot) => *slot = entry,
            None => self.more.push(entry),
        }
        self.len += 1;
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn iter(&self) -> impl Iterator<Item = (usize, Ts)> + '_ {
        let small = &self.small[..self.len.min(self.small.len())];
        small
            .iter()
            .chain(&self.more)
            .map(|&(i, first)| (i as usize, first))
    }
}

/// The time-based rules due at `at` for a customer, in priority order, into `due`.
fn find_due(
    timing: &timed::Timing,
    record: &Record,
    state: &CustomerState,
    seen: &Seen,
    at: Ts,
    due: &mut Due,
) {
    let clock = Clock::new(timing, seen);
    let customer = Customer {
        record,
        state,
        seen,
        clock: &clock,
    };
    for (i, t) in timing.rules.iter().enumerate() {
        if !t.active(state) {
            continue;
        }
        if let Some(first) = timed::due_by(timing, t, customer, at) {
            due.push(i, first);
        }
    }
}

impl Run<'_, '_> {
    /// Evaluates what follows as of a due time: conditions, cooldowns, validity and the
    /// times actions compute read it as "now", and action keys derive from it (their
    /// start hashed when the first key is needed: most due items plan no action).
    pub(crate) fn at_due(&mut self, due: DateTime<Utc>) {
        self.now = due;
        self.time = due;
        self.due = true;
        self.key_due = Some(due);
        self.event_hash.set(None);
    }

    /// Back to the input's time, for cascades.
    pub(crate) fn at_now(&mut self) {
        self.now = self.input.now;
        self.time = self.input.event.time;
        self.due = false;
    }

    /// Handles the due occurrences of time-based rules, in priority order: those in `due`
    /// when given (found for the customer as the run has it), else those found now.
    fn due_rules(&mut self, seen: &Seen, due: Option<&Due>) {
        match due {
            Some(due) => self.handle_due(due, seen),
            None => {
                let mut due = Due::default();
                find_due(
                    &self.e.timing,
                    &self.record,
                    self.state(),
                    seen,
                    Ts::of(self.input.now),
                    &mut due,
                );
                if !due.is_empty() {
                    self.handle_due(&due, seen);
                }
            }
        }
        self.at_now();
    }

    /// Handles the due rules found, in order: each one's missed report, then its
    /// occurrence considered as of its due time.
    #[inline(never)]
    fn handle_due(&mut self, due: &Due, seen: &Seen) {
        let e = self.e;
        let now = self.input.now;
        let tick_time = TickTime::new(now, e.max_lateness);
        let mut noted = false;
        for (i, first) in due.iter() {
            let Some(t) = e.timing.rules.get(i) else {
                continue;
            };
            let Some(span) = timed::span(t, seen, first, &tick_time) else {
                continue;
            };
            if !noted {
                self.state_mut().note_ticked(now);
                noted = true;
            }
            let (r, rule) = (t.rule, &e.rules.rules[t.rule as usize]);
            if let Some((count, at)) = span.missed {
                let missed = occurrence(rule, (count, at), OccurrenceStatus::Missed);
                self.plan.occurrences.push(missed);
                self.outcome(rule, Outcome::Missed { due: at, count }, None);
            }
            if let Some((count, at)) = span.fresh {
                self.at_due(at);
                let before = self.fired.len();
                self.consider(r);
                let status = if self.fired.len() > before {
                    OccurrenceStatus::Fired
                } else {
                    OccurrenceStatus::NotFired
                };
                self.plan
                    .occurrences
                    .push(occurrence(rule, (count, at), status));
            }
        }
    }
}

/// A due time-based rule's occurrence report: `count` occurrences, the latest `at`.
fn occurrence(
    rule: &CompiledRule,
    (count, at): (u32, DateTime<Utc>),
    status: OccurrenceStatus,
) -> Occurrence {
    Occurrence {
        rule_id: rule.id.clone(),
        sequence: None,
        step: None,
        due: at,
        count,
        status,
    }
}

/// The event a tick is evaluated as: no kind, no id, at the tick's time.
fn tick_event(now: DateTime<Utc>) -> Event {
    Event::new(String::new(), String::new(), now)
}

/// Whether considering a due occurrence, as of its due time `at`, of a rule whose gates
/// keep no state ([`Timed::stateless`](timed)) fires it: the gates [`Run::consider`]
/// opens for such a rule, scope then condition. (Its validity period holds at `at`: only
/// occurrences within it are due.)
fn fires_at(rule: &CompiledRule, record: &Record, event: &Event, at: DateTime<Utc>) -> bool {
    let facts = Facts::new(record, at)
        .with_event(event)
        .with_previous(record);
    [&rule.scope, &rule.when]
        .into_iter()
        .flatten()
        .all(|node| eval::holds(node, &facts))
}

impl Engine {
    /// Fires everything due for a customer at `now`: occurrences of time-based rules and
    /// steps of running sequences. Never fails; nothing due gives an empty plan.
    ///
    /// # Exactly once
    ///
    /// A due item is an occurrence of a time-based rule (a schedule's occurrence; a
    /// relative, inactivity or time-in-stage rule's due time for the customer as it is) or
    /// a sequence step. A tick handles every due item after the latest tick
    /// ([`CustomerState::ticked`]) and at or before `now`, and records that in the
    /// returned state (the new latest tick; the sequence's next step): ticking again at the
    /// same or a later time never fires it again, and nothing fires before its due time. A
    /// due time that falls at or before the latest tick only later (a field moved into the
    /// past) is not due. Each item is reported in [`Plan::occurrences`]:
    /// - within the [maximum lateness](crate::EngineBuilder::max_lateness) of its due time
    ///   (default 24 hours) it is considered as of its due time — the rule's gates and
    ///   condition ([`Engine`]'s evaluation order) read the customer as it is now and the
    ///   clock as the due time; due times of tasks count from it; action keys derive from
    ///   it ([`ActionKey`](crate::ActionKey)), so a repeated tick gives the same keys — and
    ///   fires (`fired`) or is refused by a gate (`not_fired`, with the reason in the trace;
    ///   it does not fire later);
    /// - later than that it is not fired but reported `missed` (and in the trace as
    ///   [`Outcome::Missed`]);
    /// - several occurrences of a schedule that passed since the last tick coalesce: one
    ///   fire, at the latest, with their `count`; those past the maximum lateness, one
    ///   missed report with theirs.
    ///
    /// A rule's occurrences outside its validity period are not due items; a disabled or
    /// stopped rule has none (and when enabled again, none up to the latest tick).
    ///
    /// # Due times
    ///
    /// - `schedule`: each local date of the schedule at `at`, in the rule's time zone. A
    ///   local time skipped by a daylight-saving change moves forward to the first instant
    ///   after the gap (02:30 on the day New York goes from 02:00 to 03:00 fires at 03:00
    ///   EDT); a local time that happens twice fires once, at the earlier instant. A
    ///   monthly `day_of_month` past a month's end falls on its last day (31 → 30 April,
    ///   28 or 29 February). Occurrences count from when the engine first saw the customer
    ///   ([`CustomerState::since`]): a customer's first evaluation or tick starts its clock.
    /// - `relative`: the field's time (a date: 00:00 local) plus `after` or minus `before`,
    ///   counted on the local calendar and clock (3 days after 10:00 is 10:00 three days
    ///   later, also across a daylight-saving change), moved to `at` on the day reached,
    ///   resolved as schedules are. A new value of the field gives a new due time, which
    ///   fires if it is after the latest tick; an absent field has none.
    /// - `inactivity`: `for` after the latest of: the last event of the `events` kinds,
    ///   the last change of the `field`, and when the engine first saw the customer. Once
    ///   per quiet spell: it fires again only after new activity.
    /// - `stage_time`: the current stage's limit after the field took its value. Once per
    ///   stay in a stage.
    ///
    /// Event times and field changes are recorded in the state by [`Engine::evaluate`]
    /// (an event's time for the kinds inactivity triggers and sequence steps watch; `now`
    /// for a watched field whose value changed). A watched field the host changed without
    /// an evaluation is noticed at the next tick and counts as changed at its `now`.
    ///
    /// # Sequences
    ///
    /// A running sequence's due steps run in order, each as of its due time: first the
    /// sequence's `stop_when` and its rule's stop condition (either stops the sequence:
    /// `stopped`, its timer cancelled), then the step: `missed` when too late, `skipped`
    /// when its `skip_when` holds or an event of an `unless_event` kind happened since the
    /// previous step's due time (or the start), otherwise its actions are planned
    /// (`fired`). The next step is due its `after` (and `at`) from this step's due time —
    /// not from when the tick ran — and the plan sets the `seq:ID` timer for it; after the
    /// last step, or when stopped, the timer is cancelled and the sequence removed.
    /// Running sequences whose `stop_when` holds are also stopped by evaluations and at
    /// the end of a tick, due or not.
    ///
    /// # Order
    ///
    /// A tick is one evaluation: first the scoring models whose score moves with time
    /// (bands on times, adjustments that lapse, decay) are computed again at `now`, and
    /// their writes are field changes like an event's; then due rules in priority order (ties by position), each
    /// rule's missed report before its fire; then the field changes they made, as
    /// cascades; then the due sequence steps, in order of due time (ties: the order the
    /// sequences started), each followed by its cascades. The cascade depth limit and the
    /// "fires once per evaluation" guard hold over the whole tick.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use crm_rules::{CustomerState, Engine, OccurrenceStatus, RuleSet, Schema, TickInput};
    /// let schema = Schema::from_json(r#"{"owner_field": "负责人", "fields": [
    ///   {"name": "客户名称", "type": "text"},
    ///   {"name": "负责人", "type": "member"},
    ///   {"name": "客户状态", "type": "single_choice", "options": ["新客户", "成交客户"]},
    ///   {"name": "创建时间", "type": "date_time"}
    /// ]}"#)?;
    /// let rules = RuleSet::from_json(r#"{"time_zone": "Asia/Shanghai", "rules": [{
    ///   "id": "new-3d", "name": "新客户3天未跟进提醒",
    ///   "trigger": {"type": "relative", "field": "创建时间", "after": "3d"},
    ///   "when": {"field": "客户状态", "op": "eq", "value": "新客户"},
    ///   "actions": [{"type": "create_task", "title": "跟进 {{客户名称}}", "due_in": "1d"}]
    /// }]}"#)?;
    /// let engine = Engine::builder(schema).rules(rules).build()?;
    /// let created = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
    /// let customer = engine.schema().record([
    ///     ("客户名称", "华为".into()), ("客户状态", "新客户".into()),
    ///     ("创建时间", crm_rules::Value::DateTime(created)),
    /// ])?;
    /// let state = CustomerState::new();
    /// let due = engine.next_due(&customer, &state);
    /// assert_eq!(due, Some(Utc.with_ymd_and_hms(2024, 5, 23, 9, 0, 0).single().ok_or("no such time")?));
    ///
    /// // An hour late: it fires once, as of its due time.
    /// let now = Utc.with_ymd_and_hms(2024, 5, 23, 10, 0, 0).single().ok_or("no such time")?;
    /// let plan = engine.tick(&TickInput::new("C001", &customer, &state, now));
    /// assert_eq!(plan.actions.len(), 1);
    /// assert_eq!(plan.occurrences[0].status, OccurrenceStatus::Fired);
    /// let state = plan.state.unwrap_or(state);
    ///
    /// // Again: nothing more is due.
    /// let again = engine.tick(&TickInput::new("C001", &customer, &state, now));
    /// assert!(again.actions.is_empty());
    /// assert_eq!(engine.next_due(&customer, &state), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tick(&self, input: &TickInput<'_>) -> Plan {
        let (mut seen, mut due) = (Seen::EMPTY, Due::default());
        let (settled, quiet) = self.prepare(input, &mut seen, &mut due);
        if quiet && due.is_empty() {
            return Plan {
                trace: input.explain.then(Vec::new),
                ..Plan::default()
            };
        }
        let mut plan = Plan::default();
        let mut spare = None;
        if quiet && self.tick_quietly(input, &seen, &due, &mut plan, &mut spare) {
            return plan;
        }
        let due = quiet.then_some(&due);
        self.tick_in_full(input, &mut seen, settled, due, (&mut plan, spare));
        plan
    }

    /// As [`Engine::tick`], writing the plan into `plan` (emptied first) instead of
    /// returning a new one, as [`Engine::evaluate_into`] does: the plan's lists keep their
    /// memory, and a new state is written into the memory of the state the plan still
    /// holds. A host that ticks many customers keeps one plan, runs each before the next
    /// tick, and stores the new state by swapping it with the customer's old one.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use crm_rules::{CustomerState, Engine, Plan, RuleSet, Schema, TickInput};
    /// let schema = Schema::from_json(r#"{"fields": [{"name": "标签", "type": "tags"}]}"#)?;
    /// let rules = RuleSet::from_json(r#"{"time_zone": "Asia/Shanghai", "rules": [{
    ///   "id": "daily", "name": "每日提醒",
    ///   "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
    ///   "actions": [{"type": "add_tag", "tag": "今日跟进"}]}]}"#)?;
    /// let engine = Engine::builder(schema).rules(rules).build()?;
    /// let customer = engine.schema().record::<_, &str>([])?;
    /// let mut state = CustomerState::new();
    /// let mut plan = Plan::default();
    /// let start = Utc.with_ymd_and_hms(2024, 5, 20, 0, 0, 0).single().ok_or("no such time")?; // 08:00 in Shanghai
    /// let mut fired = Vec::new();
    /// for day in 0..3 {
    ///     let now = start + Duration::days(day) + Duration::hours(2);
    ///     engine.tick_into(&TickInput::new("C001", &customer, &state, now), &mut plan);
    ///     fired.push(plan.actions.len());
    ///     if let Some(new) = &mut plan.state {
    ///         std::mem::swap(&mut state, new);
    ///     }
    /// }
    /// // The first tick starts the customer's clock at 10:00; 09:00 is due from the next day.
    /// assert_eq!(fired, [0, 1, 1]);
    /// assert_eq!(state.ticked(), Some(start + Duration::days(2) + Duration::hours(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tick_into(&self, input: &TickInput<'_>, plan: &mut Plan) {
        let mut spare = plan.state.take();
        plan.clear();
        let (mut seen, mut due) = (Seen::EMPTY, Due::default());
        let (settled, quiet) = self.prepare(input, &mut seen, &mut due);
        if quiet && due.is_empty() {
            plan.trace = input.explain.then(Vec::new);
            return;
        }
        if quiet && self.tick_quietly(input, &seen, &due, plan, &mut spare) {
            return;
        }
        let due = quiet.then_some(&due);
        self.tick_in_full(input, &mut seen, settled, due, (plan, spare));
    }

    /// Reads what the customer's state says into `seen` and, when the customer is quiet,
    /// its due rules into `due`; returns whether it is settled and whether it is quiet.
    ///
    /// A tick has no event: when the customer is settled (nothing to record), no score
    /// moves with time and no sequence runs, it is its due rules alone, and with none
    /// due, an empty plan, found without an evaluation.
    #[inline(always)]
    fn prepare(&self, input: &TickInput<'_>, seen: &mut Seen, due: &mut Due) -> (bool, bool) {
        seen.read(&self.timing, input.record, input.state);
        let settled = seen.settled(&self.timing);
        let quiet = settled && self.scorers.is_empty() && input.state.sequences.is_empty();
        if quiet {
            let at = Ts::of(input.now);
            find_due(&self.timing, input.record, input.state, seen, at, due);
        }
        (settled, quiet)
    }

    /// Plans the tick of a quiet customer (see [`Engine::prepare`]) without setting up an
    /// evaluation, when its due rules all keep no state ([`Timed::stateless`](timed)) and
    /// none of them fires as of its due time: what the evaluation plans then — each
    /// rule's missed report and its occurrence, not fired, and the state with the new
    /// latest tick. Most due ticks are such (a daily schedule whose condition is false
    /// for most customers). Returns `false`, the plan left empty and `spare` untouched,
    /// when it cannot: the trace is on, a due rule keeps state, or one fires.
    fn tick_quietly(
        &self,
        input: &TickInput<'_>,
        seen: &Seen,
        due: &Due,
        plan: &mut Plan,
        spare: &mut Option<CustomerState>,
    ) -> bool {
        if input.explain {
            return false;
        }
        let now = input.now;
        let event = tick_event(now);
        let tick_time = TickTime::new(now, self.max_lateness);
        let mut noted = false;
        // The loop of `handle_due`, planning what its evaluation would.
        for (i, first) in due.iter() {
            let Some(t) = self.timing.rules.get(i) else {
                continue;
            };
            let Some(span) = timed::span(t, seen, first, &tick_time) else {
                continue;
            };
            let rule = &self.rules.rules[t.rule as usize];
            let fires = |(_, at): (u32, DateTime<Utc>)| fires_at(rule, input.record, &event, at);
            if !t.stateless || span.fresh.is_some_and(fires) {
                plan.occurrences.clear();
                return false;
            }
            noted = true;
            if let Some(missed) = span.missed {
                let missed = occurrence(rule, missed, OccurrenceStatus::Missed);
                plan.occurrences.push(missed);
            }
            if let Some(fresh) = span.fresh {
                let not_fired = occurrence(rule, fresh, OccurrenceStatus::NotFired);
                plan.occurrences.push(not_fired);
            }
        }
        if noted {
            let mut state = input.state.copy_into(spare.take());
            state.note_ticked(now);
            self.write_state(state, input.state, plan);
        }
        true
    }

    /// A tick as an evaluation, with the customer's `seen` times (and whether it is
    /// settled) and, when already found, its due rules, into an empty plan (a new state
    /// reusing the spare's memory, when given).
    fn tick_in_full(
        &self,
        input: &TickInput<'_>,
        seen: &mut Seen,
        settled: bool,
        due: Option<&Due>,
        (plan, spare): (&mut Plan, Option<CustomerState>),
    ) {
        let event = tick_event(input.now);
        let inner = Input {
            customer_id: input.customer_id,
            record: input.record,
            state: input.state,
            event: &event,
            now: input.now,
            context: input.context,
            explain: input.explain,
        };
        let mut run = Run::new(self, &inner, plan);
        run.spare = spare;
        if !settled {
            run.record_times(Some(seen));
        }
        if !self.scorers.is_empty() {
            run.score_tick();
        }
        run.due_rules(seen, due);
        run.cascade();
        if !run.state().sequences.is_empty() {
            run.run_sequences();
        }
        if run.touched_any() {
            run.record_times(None);
        }
        if !run.state().sequences.is_empty() {
            run.stop_sequences(true);
        }
        run.settle();
    }

    /// [`Engine::tick`] always as an evaluation (no shortcut for a quiet customer), to
    /// test that the shortcut gives the same plans.
    #[cfg(test)]
    pub(crate) fn tick_as_evaluation(&self, input: &TickInput<'_>) -> Plan {
        let mut seen = Seen::EMPTY;
        seen.read(&self.timing, input.record, input.state);
        let settled = seen.settled(&self.timing);
        let mut plan = Plan::default();
        self.tick_in_full(input, &mut seen, settled, None, (&mut plan, None));
        plan
    }

    /// The earliest time at which a time-based rule could fire or a sequence step is due
    /// for the customer as it is, so that the host keeps one timer per customer and ticks
    /// it then; `None` when nothing is ever due (until the customer or its state changes:
    /// ask again after applying a plan or changing the record).
    ///
    /// Conditions are not evaluated (they may hold by then): a rule whose condition is
    /// false at its due time is still due then, and the tick records that it did not fire.
    /// It also includes the instant just after a scoring model's applying adjustments
    /// stop applying ("viewed the pricing page 3 times in 7 days" lapses), when the grade
    /// the engine wrote changes by itself.
    ///
    /// A time in the past means "tick now": a due item not yet handled, a customer the
    /// engine has not seen yet (the Unix epoch: its first tick starts its clock), or a
    /// watched field that changed without an evaluation.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use crm_rules::{CustomerState, Engine, RuleSet, Schema, TickInput};
    /// let schema = Schema::from_json(r#"{"fields": [{"name": "客户名称", "type": "text"}, {"name": "标签", "type": "tags"}]}"#)?;
    /// let rules = RuleSet::from_json(r#"{"time_zone": "Asia/Shanghai", "rules": [{
    ///   "id": "monday", "name": "每周一提醒",
    ///   "trigger": {"type": "schedule", "every": "week", "days": ["Mon"], "at": "09:00"},
    ///   "actions": [{"type": "add_tag", "tag": "本周跟进"}]
    /// }]}"#)?;
    /// let engine = Engine::builder(schema).rules(rules).build()?;
    /// let customer = engine.schema().record([("客户名称", "华为")])?;
    ///
    /// // Never seen: due at once, and the first tick starts the clock.
    /// let state = CustomerState::new();
    /// assert_eq!(engine.next_due(&customer, &state), Some(chrono::DateTime::UNIX_EPOCH));
    /// let now = Utc.with_ymd_and_hms(2024, 5, 22, 12, 0, 0).single().ok_or("no such time")?; // a Wednesday
    /// let state = engine.tick(&TickInput::new("C001", &customer, &state, now)).state.ok_or("the tick writes a state")?;
    /// // Next Monday 09:00 in Shanghai.
    /// assert_eq!(engine.next_due(&customer, &state), Some(Utc.with_ymd_and_hms(2024, 5, 27, 1, 0, 0).single().ok_or("no such time")?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn next_due(&self, record: &Record, state: &CustomerState) -> Option<DateTime<Utc>> {
        let mut seen = Seen::EMPTY;
        seen.read(&self.timing, record, state);
        let clock = Clock::new(&self.timing, &seen);
        let customer = Customer {
            record,
            state,
            seen: &seen,
            clock: &clock,
        };
        let mut best: Option<Ts> = None;
        let mut earlier = |t: Ts| {
            if best.is_none_or(|b| t < b) {
                best = Some(t);
            }
        };
        for t in &self.timing.rules {
            if !t.active(state) {
                continue;
            }
            if let Some(When::At(at) | When::Look(at)) = timed::next(&self.timing, t, customer) {
                earlier(at);
            }
        }
        for s in state.sequences.values() {
            earlier(Ts::of(s.due));
        }
        if let Some(lapse) = self.next_lapse(state) {
            earlier(Ts::of(lapse));
        }
        best.and_then(Ts::to_date_time)
    }

    /// How late after its due time a tick may still fire a due item; later ones are
    /// reported missed. Set with [`EngineBuilder::max_lateness`](crate::EngineBuilder::max_lateness).
    pub fn max_lateness(&self) -> Duration {
        self.max_lateness
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use proptest::prelude::*;

    use super::*;
    use crate::{RuleSet, Schema};

    /// Time-based rules of every kind (conditions, a stop condition, a validity period),
    /// a sequence started by an event and, with `scored`, a scoring model whose grade
    /// moves with time.
    fn engine(scored: bool) -> Engine {
        let schema = Schema::from_json(
            r#"{"fields": [
              {"name": "客户名称", "type": "text"},
              {"name": "客户状态", "type": "single_choice", "options": ["新客户", "意向客户", "成交客户", "流失客户"]},
              {"name": "标签", "type": "tags"},
              {"name": "创建时间", "type": "date_time"},
              {"name": "合同到期日", "type": "date"},
              {"name": "评分", "type": "number"}
            ]}"#,
        )
        .unwrap();
        let tag = |t: &str| serde_json::json!([{"type": "add_tag", "tag": t}]);
        let mut rules = serde_json::json!([
            {"id": "daily", "name": "每日", "trigger": {"type": "schedule", "every": "day", "at": "09:00"},
             "when": {"field": "客户状态", "op": "ne", "value": "流失客户"}, "actions": tag("d")},
            {"id": "weekly", "name": "每周", "trigger": {"type": "schedule", "every": "week", "days": ["Mon", "Thu"], "at": "10:00"},
             "expiry": {"stop_when": {"field": "标签", "op": "has_tag", "value": "停"}}, "actions": tag("w")},
            {"id": "monthly", "name": "每月", "trigger": {"type": "schedule", "every": "month", "day_of_month": 31, "at": "08:00"},
             "expiry": {"valid_from": "2024-05-10T00:00:00Z"}, "actions": tag("m")},
            {"id": "relative", "name": "创建3天", "trigger": {"type": "relative", "field": "创建时间", "after": "3d"},
             "when": {"field": "客户状态", "op": "eq", "value": "新客户"}, "actions": tag("r")},
            {"id": "renew", "name": "到期前7天", "trigger": {"type": "relative", "field": "合同到期日", "before": "7d", "at": "09:00"},
             "scope": {"field": "标签", "op": "has_tag", "value": "VIP"}, "actions": tag("n")},
            {"id": "idle", "name": "5天未登录", "trigger": {"type": "inactivity", "events": ["login"], "for": "5d"},
             "expiry": {"valid_until": "2024-05-20T00:00:00Z"}, "actions": tag("i")},
            {"id": "stage", "name": "阶段停留", "trigger": {"type": "stage_time", "field": "客户状态",
               "limits": {"新客户": "2d", "意向客户": "4d"}}, "actions": tag("t")},
            {"id": "start", "name": "开始序列", "trigger": {"type": "event", "event": "lead_created"},
             "actions": [{"type": "start_sequence", "sequence": "nurture", "steps": [
                {"after": "1d", "actions": tag("s0")},
                {"after": "2d", "at": "09:00", "actions": tag("s1")}
             ]}]}
        ]);
        let set = serde_json::json!({"time_zone": "Asia/Shanghai", "rules": rules.take()});
        let rules = RuleSet::from_json(&set.to_string()).unwrap();
        let mut builder = Engine::builder(schema).rules(rules);
        if scored {
            // Logins count for 3 days: the score lapses with time.
            let model = crate::scoring::Model::from_json(
                r#"{"id": "activity", "name": "活跃度", "score_field": "评分",
                "dimensions": [{"id": "base", "label": "基础", "weight": 100, "default": 0, "bands": [
                  {"when": {"field": "客户状态", "op": "eq", "value": "意向客户"}, "points": 10}]}],
                "behaviour": [{"id": "login", "label": "登录", "event": "login",
                  "within": "3d", "points": 25}]}"#,
            )
            .unwrap();
            builder = builder.scoring(model);
        }
        builder.build().unwrap()
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_714_521_600, 0).unwrap() + TimeDelta::minutes(minutes)
    }

    /// What happens to a customer before the tick compared: events (`None`: a tick) at
    /// minutes from 1 May 2024.
    fn history() -> impl Strategy<Value = Vec<(i64, Option<usize>)>> {
        proptest::collection::vec((0i64..40 * 24 * 60, proptest::option::of(0usize..3)), 0..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// A tick that takes a shortcut for a quiet customer (nothing due; or due rules
        /// that keep no state and do not fire) gives the plan the full evaluation gives,
        /// due or not, traced or not, into a new plan or a reused one.
        #[test]
        fn the_quiet_shortcut_gives_the_evaluations_plan(
            scored in any::<bool>(),
            status in 0usize..4,
            tags in 0usize..3,
            created in 0i64..20 * 24 * 60,
            history in history(),
            now in 0i64..50 * 24 * 60,
            explain in any::<bool>(),
        ) {
            let e = engine(scored);
            let statuses = ["新客户", "意向客户", "成交客户", "流失客户"];
            let tags: &[&str] = [&[][..], &["停"][..], &["VIP"][..]][tags];
            let record = e.schema().record_from_json(&serde_json::json!({
                "客户名称": "华为", "客户状态": statuses[status], "标签": tags,
                "创建时间": at(created).to_rfc3339(),
                "合同到期日": at(created + 20 * 24 * 60).date_naive().to_string(),
            })).unwrap();
            let mut state = CustomerState::new();
            let mut history = history;
            history.sort_unstable();
            let kinds = ["login", "lead_created", "page_visited"];
            for (i, (t, kind)) in history.into_iter().enumerate() {
                let plan = match kind {
                    Some(k) => {
                        let event = Event::new(kinds[k], format!("e{i}"), at(t));
                        e.evaluate(&Input::new("C1", &record, &state, &event, at(t)))
                    }
                    None => e.tick(&TickInput::new("C1", &record, &state, at(t))),
                };
                if let Some(s) = plan.state {
                    state = s;
                }
            }
            let now = at(now);
            let mut times = vec![now];
            times.extend(e.next_due(&record, &state));
            // A reused plan holding an earlier tick's state, as a host's does.
            let mut reused = e.tick(&TickInput::new("C1", &record, &CustomerState::new(), at(0)));
            for now in times {
                let input = TickInput::new("C1", &record, &state, now).explain(explain);
                let plan = e.tick(&input);
                prop_assert_eq!(&plan, &e.tick_as_evaluation(&input));
                e.tick_into(&input, &mut reused);
                prop_assert_eq!(&reused, &plan);
            }
        }
    }
}
