//! The evaluation engine: customer events in, deterministic action plans out.

mod act;
mod assign;
mod cycles;
mod direct;
mod explain;
pub(crate) mod hash;
mod inline;
mod kinds;
mod named;
mod observe;
mod run;
mod score;
mod sequence;
mod sparse;
mod state;
mod tick;
mod timed;

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use explain::{ConditionTrace, Outcome, TraceEntry};
pub use state::CustomerState;
pub use tick::TickInput;

use crate::condition::flat::{Program, Shape};
use crate::condition::Event;
use crate::duration::Duration;
use crate::error::{BuildError, Problem};
use crate::limits::Limits;
use crate::name::Name;
use crate::plan::Plan;
use crate::rule::RuleSet;
use crate::ruleset::CompiledRules;
use crate::schema::{Record, Schema};
use crate::scoring::{Model, Scorer};
use kinds::KindIndex;

/// The default limit on cascade rounds (field changes made by rules, followed breadth-first).
pub const DEFAULT_CASCADE_DEPTH: usize = 8;

/// Starts the loads of what the scan of an event's candidates and their fires read
/// before any is needed: every cache line of the record's keys, and the customer's and
/// the event's ids (the idempotency keys hash them). The customer of one event among many
/// is rarely in cache, and misses started together overlap rather than each wait on the
/// check or fire before.
#[inline(always)]
fn warm(input: &Input<'_>) {
    let first = |s: &str| s.as_bytes().first().map_or(0, |b| u64::from(*b));
    let seen = input.record.warm_keys() ^ first(input.customer_id) ^ first(&input.event.id);
    std::hint::black_box(seen);
}

/// What the evaluation loop reads of a candidate rule, kept contiguous per event kind
/// (with its condition's checks next to its neighbours' in [`KindRules::checks`]) so
/// that scanning the candidates of an event walks memory in order.
#[derive(Clone, Debug)]
pub(crate) struct Hot {
    pub rule: u32,
    /// The rule has nothing to check but its condition: enabled, no validity period, no
    /// event filter, no state (stop condition, fire limit, cooldown, `when_becomes_true`),
    /// no scope, no group, no behaviour counts.
    pub plain: bool,
    /// How its condition is evaluated when it is plain: by the kind's program, or by the
    /// rule's tree.
    pub shape: Shape,
}

/// What evaluating an event takes.
enum Need<'e> {
    /// Nothing: its plan is empty.
    Nothing,
    /// Round 0 of a quiet event from the candidate its kind's scan first stops at.
    From(&'e KindRules, u32),
    /// The same, for a kind whose candidates need no working memory
    /// ([`KindRules::fires`]).
    Direct(&'e KindRules, &'e [direct::Fire], u32),
    /// The whole evaluation, with the event kind's rules if it has any.
    Event(Option<&'e KindRules>),
}

/// What one event kind concerns.
#[derive(Clone, Debug, Default)]
pub(crate) struct KindRules {
    /// Its candidates' hot data, in priority order.
    pub hot: Vec<Hot>,
    /// Its candidates' conditions as one program of flat checks.
    pub program: Program,
    /// (rule, count slot) of the behaviour counts it feeds, in candidate order.
    pub counted: Vec<(u32, u32)>,
    /// When every candidate is plain, decided by the program, and plans only
    /// host-defined actions: what firing each reads, in candidate order. A quiet event of
    /// the kind is then planned without a working memory.
    pub fires: Option<Vec<direct::Fire>>,
}

/// A possible cycle between rules, found when the engine is built: each rule writes a
/// field whose change triggers the next ("A sets x when y changes, B sets y when x
/// changes"). At run time such a cycle stops at the cascade depth limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The rules in the cycle, in rule-set order.
    pub rules: Vec<Name>,
    /// The fields through which they trigger each other.
    pub fields: Vec<String>,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<&str> = self.rules.iter().map(|r| &**r).collect();
        write!(
            f,
            "possible cycle between rules {} through fields {}",
            rules.join(", "),
            self.fields.join(", ")
        )
    }
}

/// What the host tells the engine beside the customer: the round-robin counters of its
/// assignment pools and the open work per user, for `least_loaded`.
///
/// A round-robin pool is keyed by its users joined with commas (`"wang,li,zhao"`); the
/// plan returns advanced counters in [`Plan::counters`] for the host to store.
///
/// ```
/// use crm_rules::Context;
/// let ctx = Context::default().counter("wang,li", 7).load("wang", 12).load("li", 3);
/// assert_eq!(ctx.counters["wang,li"], 7);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Round-robin pool key → how many assignments the pool has made.
    #[serde(default)]
    pub counters: IndexMap<String, u64>,
    /// User → open items (leads, tasks) for least-loaded assignment; missing users have 0.
    #[serde(default)]
    pub loads: IndexMap<String, u32>,
}

impl Context {
    /// Sets a pool's round-robin counter.
    pub fn counter(mut self, pool: impl Into<String>, value: u64) -> Context {
        self.counters.insert(pool.into(), value);
        self
    }

    /// Sets a user's open work.
    pub fn load(mut self, user: impl Into<String>, open: u32) -> Context {
        self.loads.insert(user.into(), open);
        self
    }
}

static NO_CONTEXT: std::sync::LazyLock<Context> = std::sync::LazyLock::new(Context::default);

/// One evaluation's input: the customer, its engine state, the event and the time.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The customer's id (for idempotency keys, hash assignment and A/B variants).
    pub customer_id: &'a str,
    /// The customer as stored before the event.
    pub record: &'a Record,
    /// The customer's engine state from the last plan (or [`CustomerState::new`]).
    pub state: &'a CustomerState,
    /// The event.
    pub event: &'a Event,
    /// The current time (cooldowns, due times, time conditions).
    pub now: DateTime<Utc>,
    /// Assignment counters and loads.
    pub context: &'a Context,
    /// Whether to trace every candidate rule in [`Plan::trace`].
    pub explain: bool,
}

impl<'a> Input<'a> {
    /// An input with an empty context and no trace.
    #[inline]
    pub fn new(
        customer_id: &'a str,
        record: &'a Record,
        state: &'a CustomerState,
        event: &'a Event,
        now: DateTime<Utc>,
    ) -> Input<'a> {
        Input {
            customer_id,
            record,
            state,
            event,
            now,
            context: &NO_CONTEXT,
            explain: false,
        }
    }

    /// Sets the assignment context.
    #[inline]
    pub fn context(mut self, context: &'a Context) -> Input<'a> {
        self.context = context;
        self
    }

    /// Turns the trace on or off.
    #[inline]
    pub fn explain(mut self, on: bool) -> Input<'a> {
        self.explain = on;
        self
    }
}

/// Builds an [`Engine`]; see [`Engine::builder`].
#[derive(Clone, Debug)]
pub struct EngineBuilder {
    schema: Schema,
    rules: RuleSet,
    cascade_depth: usize,
    limits: Limits,
    max_lateness: Duration,
    models: Vec<Model>,
}

impl EngineBuilder {
    /// Sets the rule set.
    pub fn rules(mut self, rules: RuleSet) -> EngineBuilder {
        self.rules = rules;
        self
    }

    /// Sets the cascade depth limit (default [`DEFAULT_CASCADE_DEPTH`]).
    pub fn cascade_depth(mut self, depth: usize) -> EngineBuilder {
        self.cascade_depth = depth;
        self
    }

    /// Sets how late after its due time a [tick](Engine::tick) may still fire a due item
    /// (default 24 hours); a later tick reports it missed instead of firing it.
    ///
    /// ```
    /// use crm_rules::{Duration, Engine, Schema};
    /// let schema = Schema::from_json(r#"{"fields": [{"name": "客户名称", "type": "text"}]}"#)?;
    /// let engine = Engine::builder(schema).max_lateness("2h".parse::<Duration>()?).build()?;
    /// assert_eq!(engine.max_lateness().to_string(), "2h");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_lateness(mut self, lateness: Duration) -> EngineBuilder {
        self.max_lateness = lateness;
        self
    }

    /// Adds a scoring model, to run beside the others given (a profile-fit grade and a
    /// behaviour engagement score, say). The engine records the behaviour it listens to,
    /// computes it again when that or a field it reads changes, and writes its score and
    /// grade into the fields it names ([`Model::score_field`], [`Model::grade_field`]),
    /// where rules see them change; see [`Engine`] for the order.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use crm_rules::{scoring::Model, CustomerState, Engine, Event, Input, RuleSet, Schema};
    /// let schema = Schema::from_json(r#"{"fields": [
    ///   {"name": "预算", "type": "number"},
    ///   {"name": "线索等级", "type": "single_choice", "options": ["A", "B", "C"]},
    ///   {"name": "标签", "type": "tags"}
    /// ]}"#)?;
    /// let model = Model::from_json(r#"{"id": "fit", "name": "线索分级", "grade_field": "线索等级",
    ///   "dimensions": [{"id": "budget", "label": "预算", "weight": 100, "bands": [
    ///     {"when": {"field": "预算", "op": "gte", "value": 500000}, "points": 100}]}]}"#)?;
    /// let rules = RuleSet::from_json(r#"{"rules": [{"id": "hot", "name": "A级线索",
    ///   "trigger": {"type": "field_changed", "field": "线索等级", "to": "A"},
    ///   "actions": [{"type": "add_tag", "tag": "重点跟进"}]}]}"#)?;
    /// let engine = Engine::builder(schema).scoring(model).rules(rules).build()?;
    ///
    /// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
    /// let lead = engine.schema().record([("预算", 100_000)])?;
    /// let update = Event::new("profile_updated", "e1", now).change("预算", 800_000);
    /// let plan = engine.evaluate(&Input::new("C1", &lead, &CustomerState::new(), &update, now));
    /// let changed: Vec<&str> = plan.changes.iter().map(|c| c.field.as_str()).collect();
    /// assert_eq!(changed, ["预算", "线索等级", "标签"]);
    /// assert_eq!(plan.scores[0].grade, "A");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scoring(mut self, model: Model) -> EngineBuilder {
        self.models.push(model);
        self
    }

    /// Sets the limits rules are compiled with.
    pub fn limits(mut self, limits: Limits) -> EngineBuilder {
        self.limits = limits;
        self
    }

    /// Compiles the rules against the schema and builds the engine.
    ///
    /// # Errors
    /// Every problem of the rule set, as [`RuleSet::compile`] reports them.
    /// Every problem of the scoring models, named `models[i]`, as
    /// [`Model::compile`] reports them; two models with the same id; two models writing
    /// the same field.
    pub fn build(self) -> Result<Engine, BuildError> {
        let rules = self.rules.compile_with(&self.schema, &self.limits);
        let scorers = compile_models(&self.models, &self.schema);
        let (rules, scorers) = match (rules, scorers) {
            (Ok(rules), Ok(scorers)) => (rules, scorers),
            (rules, scorers) => {
                let mut problems = Vec::new();
                for result in [rules.err(), scorers.err()].into_iter().flatten() {
                    problems.extend(result.problems().iter().cloned());
                }
                return Err(BuildError::new(problems));
            }
        };
        let warnings = cycles::find(&rules, &self.schema);
        let mut kinds = KindIndex::default();
        let mut by_kind: Vec<KindRules> = Vec::new();
        let mut place = |kind: &str, by_kind: &mut Vec<KindRules>| -> usize {
            let at = kinds.place(kind) as usize;
            if at == by_kind.len() {
                by_kind.push(KindRules::default());
            }
            at
        };
        // In a fixed order (the rules' first mention), so that building is deterministic.
        let mut by_event: Vec<(&String, &Vec<u32>)> = rules.by_event.iter().collect();
        by_event.sort_by_key(|(_, list)| list.first().copied());
        for (kind, list) in by_event {
            let at = place(kind, &mut by_kind);
            let KindRules { hot, program, .. } = &mut by_kind[at];
            *hot = list
                .iter()
                .map(|&r| {
                    let rule = &rules.rules[r as usize];
                    let plain = is_plain(rule);
                    Hot {
                        rule: r,
                        plain,
                        shape: program.add(rule.when.as_ref(), plain),
                    }
                })
                .collect();
            by_kind[at].fires = direct::fires(&by_kind[at], &rules.rules);
        }
        let mut counted: HashMap<String, Vec<(u32, u32)>> = HashMap::new();
        let mut count_keys = Vec::with_capacity(rules.rules.len());
        let mut by_id = HashMap::with_capacity(rules.rules.len());
        for (r, rule) in rules.rules.iter().enumerate() {
            by_id.insert(rule.id.to_string(), r as u32);
            let mut keys = Vec::with_capacity(rule.counts.len());
            for (slot, spec) in rule.counts.iter().enumerate() {
                counted
                    .entry(spec.event.clone())
                    .or_default()
                    .push((r as u32, slot as u32));
                keys.push(format!("{}#{slot}", rule.id));
            }
            count_keys.push(keys);
        }
        // Counters are recorded in candidate order (priority, then position), so that the
        // state a plan returns does not depend on where rules of distinct priorities sit.
        let mut counted: Vec<(String, Vec<(u32, u32)>)> = counted.into_iter().collect();
        counted.sort();
        for (kind, mut list) in counted {
            list.sort_by_key(|&(r, slot)| {
                (std::cmp::Reverse(rules.rules[r as usize].priority), r, slot)
            });
            let at = place(&kind, &mut by_kind);
            by_kind[at].counted = list;
        }
        let timing = timed::Timing::new(&rules, &self.schema);
        kinds.finish();
        Ok(Engine {
            untimed: scorers.is_empty() && timing.is_idle(),
            scorers,
            timing,
            max_lateness: self.max_lateness,
            schema: self.schema,
            cascade_depth: self.cascade_depth,
            warnings,
            kinds,
            by_kind,
            count_keys,
            by_id,
            rules,
        })
    }
}

/// Compiles the scoring models; every problem, named `models[i]`.
fn compile_models(models: &[Model], schema: &Schema) -> Result<Vec<Scorer>, BuildError> {
    let mut problems = Vec::new();
    let mut scorers: Vec<Scorer> = Vec::with_capacity(models.len());
    for (i, model) in models.iter().enumerate() {
        match model.compile_at(schema, i) {
            Ok(scorer) => {
                let at = crate::scoring::model_ref(i, model);
                if let Some(first) = models[..i].iter().position(|m| m.id == model.id) {
                    problems.push(Problem::new(
                        None,
                        format!("{at}: id"),
                        format!("{:?} is also the id of models[{first}]", model.id),
                    ));
                }
                let writes = [
                    ("score_field", scorer.score_field()),
                    ("grade_field", scorer.grade_field()),
                ];
                for (key, field) in writes {
                    let Some(field) = field else { continue };
                    let by = scorers
                        .iter()
                        .find(|o| o.score_field() == Some(field) || o.grade_field() == Some(field));
                    if let Some(other) = by {
                        let name = schema.field(field).map_or("", |d| d.name.as_str());
                        problems.push(Problem::new(
                            None,
                            format!("{at}: {key}"),
                            format!("{name} is also written by model {}", other.id()),
                        ));
                    }
                }
                scorers.push(scorer);
            }
            Err(e) => problems.extend(e.problems().iter().cloned()),
        }
    }
    if problems.is_empty() {
        Ok(scorers)
    } else {
        Err(BuildError::new(problems))
    }
}

fn is_plain(rule: &crate::ruleset::CompiledRule) -> bool {
    rule.enabled
        && rule.valid_from.is_none()
        && rule.valid_until.is_none()
        && matches!(
            rule.trigger,
            crate::ruleset::CompiledTrigger::Event { filter: None, .. }
        )
        && rule.stop_when.is_none()
        && rule.max_fires.is_none()
        && rule.cooldown.is_none()
        && rule.fire == crate::rule::FireMode::EveryTime
        && rule.scope.is_none()
        && rule.group.is_none()
        && rule.counts.is_empty()
}

/// A compiled rule set with its schema, ready to evaluate events. `Send + Sync` and
/// immutable: share it in an `Arc`, and swap rule sets by building a new engine and
/// replacing the `Arc`.
///
/// # Evaluation order
///
/// For one event:
/// 1. The event's field changes ([`Event::changes`]) apply to the customer; the values
///    before stay readable through `old` operands.
/// 2. Behaviour counters record the event.
/// 3. Scoring models ([`EngineBuilder::scoring`], in the order given) record the event
///    when they listen to its kind; each model whose behaviour or read fields changed is
///    computed again at `now` and writes its score and grade fields (and adds the tags of
///    its applying adjustments to the schema's tags field). These writes are changes of
///    the event's own round, listed in [`Plan::scores`].
/// 4. Candidate rules are those triggered by the event's kind and by the field changes of
///    steps 1 and 3 (`field_changed`, with `from` matching the value before and `to` the
///    value after): "grade becomes A" fires in the same round as the event's own rules.
/// 5. Candidates are considered in order of priority, higher first, ties broken by the
///    rule's position in the rule set. Each passes, in order: enabled; valid at the event's
///    time (`valid_from` ≤ time < `valid_until`); the trigger's `where`; not already fired
///    in this evaluation (unless `repeat_in_cascade`); not stopped (the stop condition is
///    checked now, and once it holds the rule stays stopped for the customer and its
///    timers and sequences are cancelled); under `max_fires`; out of its cooldown; in
///    scope; its condition (for `when_becomes_true`: false at its last evaluation — or, the
///    first time, on the customer before the event — and true now); and not preceded by a
///    rule of its exclusive group that fired (then it is suppressed).
/// 6. A rule fires: its actions are planned in their order. When two rules `set_field` or
///    `assign_owner` the same field to different values in one evaluation, the write of
///    the rule that ranks first (higher priority, then earlier position) stands, in
///    whichever round each fired, and the other is reported in [`Plan::overridden`]:
///    dropped when it comes later, withdrawn from [`Plan::actions`] when a lower-ranked
///    rule wrote first in an earlier cascade round (what that earlier change triggered
///    stays planned). Increments and tag changes compose.
/// 7. Field changes made by the rules are field-change events for the next round,
///    breadth-first, up to the cascade depth limit; the plan says when the limit cut a
///    cascade short ([`Plan::cascade_limit`]). Before each next round, the models that
///    read a field the round changed are computed again, and their writes join the
///    round's changes.
/// 8. The state records what time-based rules measure from: when the engine first saw the
///    customer, the event's time for kinds that inactivity triggers and sequence steps
///    watch, and `now` for a watched field whose value changed; running sequences whose
///    `stop_when`, or whose rule's stop condition, holds are stopped (removed, their
///    `seq:ID` timers cancelled; the rule's stop also marks the rule stopped).
///
/// An event that no rule listens to or counts, that changes no field, with no scoring
/// models, no time-based rules and no running sequence, gives an empty plan at once.
///
/// Time-based rules and sequence steps fire in [`Engine::tick`], which states their due
/// times, exactly-once bookkeeping and order.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::{CustomerState, Engine, Event, Input, RuleSet, Schema};
/// let schema = Schema::from_json(r#"{"owner_field": "负责人", "fields": [
///   {"name": "客户名称", "type": "text"},
///   {"name": "负责人", "type": "member"},
///   {"name": "区域", "type": "single_choice", "options": ["华东", "华南"]}
/// ]}"#)?;
/// let rules = RuleSet::from_json(r#"{"rules": [{
///   "id": "east", "name": "华东线索分配",
///   "trigger": {"type": "event", "event": "lead_created"},
///   "when": {"field": "区域", "op": "eq", "value": "华东"},
///   "actions": [{"type": "assign_owner", "strategy": {"type": "fixed", "user": "wang"}},
///               {"type": "create_task", "title": "联系 {{客户名称}}", "due_in": "1d"}]
/// }]}"#)?;
/// let engine = Engine::builder(schema).rules(rules).build()?;
/// let customer = engine.schema().record([("客户名称", "华为"), ("区域", "华东")])?;
/// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
/// let event = Event::new("lead_created", "evt-1", now);
/// let plan = engine.evaluate(&Input::new("C001", &customer, &CustomerState::new(), &event, now));
/// assert_eq!(plan.actions.len(), 2);
/// assert_eq!(plan.changes[0].field, "负责人");
/// assert_eq!(plan.changes[0].new.as_text(), Some("wang"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Engine {
    schema: Schema,
    rules: CompiledRules,
    cascade_depth: usize,
    warnings: Vec<Warning>,
    /// Event kind → its place in `by_kind`: one lookup per event.
    kinds: KindIndex,
    /// Per event kind: its candidates and the behaviour counts it feeds.
    by_kind: Vec<KindRules>,
    /// Per rule, the state key of each count slot.
    count_keys: Vec<Vec<String>>,
    by_id: HashMap<String, u32>,
    /// The time-based rules and sequences, indexed.
    timing: timed::Timing,
    /// The scoring models, in the order given.
    scorers: Vec<Scorer>,
    /// Whether no scoring model and no time-based rule or sequence needs an event seen
    /// (then an event whose kind no rule takes may change nothing: [`Engine::quiet`]).
    untimed: bool,
    max_lateness: Duration,
}

impl Engine {
    /// Starts building an engine for a schema; add rules with [`EngineBuilder::rules`].
    pub fn builder(schema: Schema) -> EngineBuilder {
        EngineBuilder {
            schema,
            rules: RuleSet::default(),
            cascade_depth: DEFAULT_CASCADE_DEPTH,
            limits: Limits::default(),
            max_lateness: Duration::hours(24).unwrap_or_default(),
            models: Vec::new(),
        }
    }

    /// What an event kind concerns, if any rule listens to it or counts it.
    #[inline]
    pub(crate) fn kind(&self, kind: &str) -> Option<&KindRules> {
        self.kinds
            .get(kind)
            .and_then(|at| self.by_kind.get(at as usize))
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The compiled rules.
    pub fn rules(&self) -> &CompiledRules {
        &self.rules
    }

    /// Possible cycles between rules, found when building.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Evaluates an event for a customer and returns the plan. Never fails: problems with
    /// the input (an unknown field in the event's changes) are skipped and listed in
    /// [`Plan::warnings`]; an event that matches nothing gives an empty plan.
    pub fn evaluate(&self, input: &Input<'_>) -> Plan {
        match self.need(input) {
            Need::Nothing => Plan::default(),
            need => {
                let mut plan = Plan::default();
                self.run(input, need, &mut plan, None);
                plan
            }
        }
    }

    /// As [`Engine::evaluate`], writing the plan into `plan` (emptied first) instead of
    /// returning a new one. A host that evaluates many events in a loop keeps one plan
    /// and runs each before the next evaluation: the plan's lists keep their memory, and
    /// an event that matches nothing costs no set-up of a plan at all. A new state is
    /// written into the memory of the state the plan still holds, if any: a host that
    /// stores it by swapping ([`std::mem::swap`] with the customer's stored state) leaves
    /// the old one there to be reused.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use crm_rules::{CustomerState, Engine, Event, Input, Plan, RuleSet, Schema};
    ///
    /// let schema = Schema::from_json(r#"{"fields": [{"name": "标签", "type": "tags"}]}"#)?;
    /// let rules = RuleSet::from_json(r#"{"rules": [{"id": "expo", "name": "展会线索",
    ///   "trigger": {"type": "event", "event": "lead_created"},
    ///   "actions": [{"type": "add_tag", "tag": "展会"}]}]}"#)?;
    /// let engine = Engine::builder(schema.clone()).rules(rules).build()?;
    /// let customer = schema.record_from_json(&serde_json::json!({}))?;
    /// let state = CustomerState::new();
    /// let at = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
    /// let mut plan = Plan::default();
    /// for (i, kind) in ["page_viewed", "lead_created"].into_iter().enumerate() {
    ///     let event = Event::new(kind, format!("E{i}"), at);
    ///     engine.evaluate_into(&Input::new("C001", &customer, &state, &event, at), &mut plan);
    ///     // Run the plan here, before the next evaluation empties it.
    ///     assert_eq!(plan.actions.len(), i);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate_into(&self, input: &Input<'_>, plan: &mut Plan) {
        match self.need(input) {
            // The held state is dropped with the rest (no spare is taken out, to be
            // dropped on its own, when no evaluation needs it).
            Need::Nothing => plan.clear(),
            // Writes no state either: no spare to take out.
            // Writes its actions over those the plan holds.
            Need::Direct(k, fires, first) => {
                plan.clear_but_actions();
                self.direct(input, k, fires, first, plan)
            }
            need => {
                let spare = plan.state.take();
                plan.clear();
                self.run(input, need, plan, spare)
            }
        }
    }

    /// What an event needs. When it is quiet (see [`Engine::quiet`]), only its kind's
    /// candidates can change anything: when the scan of their checks stops at none,
    /// nothing fires and the plan stays empty, without setting up an evaluation.
    #[inline(always)]
    fn need(&self, input: &Input<'_>) -> Need<'_> {
        let kind = self.kind(&input.event.kind);
        if self.quiet(input) {
            match kind {
                None => return Need::Nothing,
                Some(k) if k.counted.is_empty() => {
                    warm(input);
                    return match k.program.next(0, input.record) {
                        None => Need::Nothing,
                        Some(first) => match &k.fires {
                            Some(fires) => Need::Direct(k, fires, first),
                            None => Need::From(k, first),
                        },
                    };
                }
                Some(_) => {}
            }
        }
        Need::Event(kind)
    }

    /// Evaluates an event that needs it into an empty plan; a new state reuses the memory
    /// of `spare`, when given.
    fn run(
        &self,
        input: &Input<'_>,
        need: Need<'_>,
        plan: &mut Plan,
        spare: Option<CustomerState>,
    ) {
        let run = |plan| {
            let mut run = run::Run::new(self, input, plan);
            run.spare = spare;
            run
        };
        match need {
            Need::Nothing => {}
            Need::From(k, first) => run(plan).event_from(k, first),
            Need::Direct(k, fires, first) => self.direct(input, k, fires, first, plan),
            Need::Event(kind) => run(plan).event(kind),
        }
    }

    /// Whether an event of a kind no rule listens to or counts can change nothing: it
    /// changes no field, no model scores, nothing is timed and no sequence runs. Then the
    /// plan is empty without evaluating anything.
    fn quiet(&self, input: &Input<'_>) -> bool {
        self.untimed
            && !input.explain
            && input.event.changes.is_empty()
            && input.state.sequences.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_can_be_shared_between_threads() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<Engine>();
        shared::<Plan>();
        shared::<CustomerState>();
    }
}
