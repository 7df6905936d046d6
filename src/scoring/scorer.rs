//! The compiled model: scoring one customer or a batch, and what the engine needs to know.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::behaviour::{BehaviourState, CompiledAdjustment};
use super::decay::{CompiledDecay, Decay};
use super::grade::{Grade, Ladder};
use crate::condition::{eval, Facts, Node};
use crate::schema::{FieldId, Record};
use crate::value::{Number, Value};

/// A scoring model compiled against a schema by [`Model::compile`](super::Model::compile):
/// every band condition typed and resolved to field positions, weights and thresholds
/// checked. Scoring cannot fail.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::scoring::{Band, BehaviourState, Dimension, Model};
/// use crm_rules::{Condition, Field, FieldType, Schema, Value};
/// let schema = Schema::new([
///     Field::new("预算", FieldType::Number),
///     Field::new("决策角色", FieldType::SingleChoice).options(["部门经理", "专员"]),
/// ])?;
/// let scorer = Model::new("fit", "客户画像评分")
///     .dimension(Dimension::new("budget", "预算匹配度", 60)
///         .band(Band::new(Condition::field("预算").gte(500_000), 100))
///         .band(Band::new(Condition::field("预算").gte(100_000), 50)))
///     .dimension(Dimension::new("influence", "决策影响力", 40)
///         .band(Band::new(Condition::field("决策角色").eq("部门经理"), 100)))
///     .compile(&schema)?;
/// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
/// let lead = schema.record([("预算", 200_000)])?;
/// let score = scorer.score(&lead, &BehaviourState::new(), now);
/// assert_eq!(score.total, 30.0);
/// assert_eq!(scorer.grades()[score.grade].label, "C");
///
/// // Many customers at once, into a buffer the caller keeps:
/// let leads = vec![lead, schema.record([("预算", Value::from(600_000)), ("决策角色", Value::from("部门经理"))])?];
/// let mut out = Vec::new();
/// scorer.score_batch(&leads, now, &mut out);
/// assert_eq!(out.iter().map(|s| s.total).collect::<Vec<_>>(), [30.0, 100.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Scorer {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) dimensions: Vec<CompiledDimension>,
    /// The sum of the weights: 100, or with `normalize` whatever they add up to.
    pub(crate) weight_sum: f64,
    pub(crate) ladder: Ladder,
    pub(crate) adjustments: Vec<CompiledAdjustment>,
    pub(crate) decay: Option<(CompiledDecay, Decay)>,
    pub(crate) event_kinds: Vec<String>,
    pub(crate) fields: Vec<FieldId>,
    pub(crate) reads_time: bool,
    pub(crate) score_field: Option<(FieldId, bool)>,
    pub(crate) grade_field: Option<FieldId>,
}

/// A dimension, compiled.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompiledDimension {
    pub id: String,
    pub label: String,
    /// The weight as written.
    pub weight: f64,
    pub default: f64,
    pub bands: Box<[CompiledBand]>,
}

/// A band, compiled.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompiledBand {
    pub when: Node,
    pub points: f64,
    /// The band's label, or its condition written out.
    pub label: String,
}

impl CompiledDimension {
    /// The band that matches (its position) and the dimension's points.
    #[inline]
    pub fn points(&self, facts: &Facts<'_>) -> (Option<usize>, f64) {
        for (i, band) in self.bands.iter().enumerate() {
            if eval::holds(&band.when, facts) {
                return (Some(i), band.points);
            }
        }
        (None, self.default)
    }
}

/// A customer's score: the total and the grade, without the explanation
/// ([`Scorer::card`] gives that).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Score {
    /// The total, from 0 to 100, rounded to one decimal (see the [module docs](super)).
    pub total: f64,
    /// The grade, as a position in [`Scorer::grades`] (0 is the best grade), after
    /// behaviour grade steps.
    pub grade: usize,
    /// The grade the thresholds give the total, before behaviour grade steps.
    pub grade_by_score: usize,
}

/// How many customers [`Scorer::score_batch`] reads ahead before scoring them.
const BLOCK: usize = 32;

/// The weighted profile, the behaviour points and the grade steps of one customer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Parts {
    /// Σ weight × points, before dividing by the sum of the weights.
    pub numerator: f64,
    /// Behaviour points after decay: `kept + penalties`.
    pub behaviour: f64,
    /// Positive behaviour points before decay.
    pub earned: f64,
    /// Positive behaviour points after decay.
    pub kept: f64,
    /// Net grade steps (positive: better).
    pub steps: i32,
}

/// The total in tenths of a point: `numerator × 10 / weight_sum + behaviour × 10`, rounded
/// half away from zero, then clamped to 0..=1000. NaN cannot arise (every input is finite
/// and `weight_sum` is positive), and would read as 0.
#[inline]
pub(crate) fn total_tenths(numerator: f64, weight_sum: f64, behaviour: f64) -> u16 {
    let r = (numerator * 10.0 / weight_sum + behaviour * 10.0).round();
    if r >= 1000.0 {
        1000
    } else if r > 0.0 {
        r as u16
    } else {
        0
    }
}

/// A number rounded half away from zero to one decimal, as the card shows numbers.
#[inline]
pub(crate) fn round1(x: f64) -> f64 {
    let r = (x * 10.0).round() / 10.0;
    if r == 0.0 {
        0.0 // no -0.0 on cards
    } else {
        r
    }
}

impl Scorer {
    /// The model's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The grade ladder, best grade first; [`Score::grade`] is a position in it.
    pub fn grades(&self) -> &[Grade] {
        &self.ladder.grades
    }

    /// The score of a customer at `now`, with the behaviour the state recorded.
    ///
    /// Costs one evaluation per band tried and allocates nothing.
    #[inline]
    pub fn score(
        &self,
        customer: &Record,
        behaviour: &BehaviourState,
        now: DateTime<Utc>,
    ) -> Score {
        let parts = self.parts(customer, Some(behaviour), now);
        self.finish(parts)
    }

    /// Scores customers with no recorded behaviour, writing one [`Score`] per record, in
    /// order, into `out` (cleared first). Reusing `out` across calls, it allocates nothing.
    pub fn score_batch(&self, customers: &[Record], now: DateTime<Utc>, out: &mut Vec<Score>) {
        out.clear();
        out.reserve(customers.len());
        for block in customers.chunks(BLOCK) {
            for c in block {
                self.touch(c);
            }
            out.extend(block.iter().map(|c| self.finish(self.parts(c, None, now))));
        }
    }

    /// Scores customers with their behaviour states, writing one [`Score`] per pair, in
    /// order, into `out` (cleared first). Reusing `out` across calls, it allocates nothing.
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use crm_rules::scoring::{Band, BehaviourState, Dimension, Model};
    /// # use crm_rules::{Condition, Field, FieldType, Schema};
    /// # let schema = Schema::new([Field::new("预算", FieldType::Number)])?;
    /// # let scorer = Model::new("fit", "画像").dimension(Dimension::new("budget", "预算", 100)
    /// #     .band(Band::new(Condition::field("预算").gte(500_000), 100))).compile(&schema)?;
    /// # let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
    /// let customers = vec![schema.record([("预算", 600_000)])?];
    /// let states = vec![BehaviourState::new()];
    /// let mut out = Vec::new();
    /// scorer.score_batch_with(customers.iter().zip(&states), now, &mut out);
    /// assert_eq!(out[0].total, 100.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn score_batch_with<'a, I>(&self, customers: I, now: DateTime<Utc>, out: &mut Vec<Score>)
    where
        I: IntoIterator<Item = (&'a Record, &'a BehaviourState)>,
    {
        out.clear();
        let mut customers = customers.into_iter();
        out.reserve(customers.size_hint().0.min(1 << 20));
        let mut block: [Option<(&Record, &BehaviourState)>; BLOCK] = [None; BLOCK];
        loop {
            let mut n = 0;
            for (slot, item) in block.iter_mut().zip(customers.by_ref()) {
                self.touch(item.0);
                *slot = Some(item);
                n += 1;
            }
            out.extend(
                block[..n]
                    .iter()
                    .flatten()
                    .map(|(c, b)| self.finish(self.parts(c, Some(b), now))),
            );
            if n < BLOCK {
                return;
            }
        }
    }

    /// Reads the first byte of each field the bands read. Batches read a block of
    /// customers this way before scoring it: the reads go out to memory side by side,
    /// where the branches of scoring would make them wait for each other. (Records and
    /// their texts are separate allocations; past the caches this halves the time.)
    #[inline]
    fn touch(&self, customer: &Record) {
        for id in &self.fields {
            let first = match customer.get(*id) {
                Value::Text(t) => t.as_bytes().first().copied(),
                Value::List(l) => l.first().and_then(|t| t.as_bytes().first().copied()),
                _ => None,
            };
            std::hint::black_box(first);
        }
    }

    /// The profile and behaviour parts of a customer's score.
    #[inline]
    pub(crate) fn parts(
        &self,
        customer: &Record,
        behaviour: Option<&BehaviourState>,
        now: DateTime<Utc>,
    ) -> Parts {
        let facts = Facts::new(customer, now);
        let mut numerator = 0.0;
        for d in &self.dimensions {
            numerator += d.weight * d.points(&facts).1;
        }
        let mut parts = Parts {
            numerator,
            behaviour: 0.0,
            earned: 0.0,
            kept: 0.0,
            steps: 0,
        };
        if let Some(state) = behaviour {
            if !self.adjustments.is_empty() && !state.is_empty() {
                self.behaviour(state, now, &mut parts);
            }
        }
        parts
    }

    /// Adds the adjustments that apply at `now` and the decay of earned points.
    #[inline]
    fn behaviour(&self, state: &BehaviourState, now: DateTime<Utc>, parts: &mut Parts) {
        let mut earned = 0.0;
        let mut penalties = 0.0;
        for a in &self.adjustments {
            if a.holds(state.times(&a.id), now) {
                if a.points > 0.0 {
                    earned += a.points;
                } else {
                    penalties += a.points;
                }
                parts.steps += a.step.map_or(0, |s| s.delta());
            }
        }
        let kept = match &self.decay {
            Some((decay, _)) => decay.apply(earned, state.last_activity(), now),
            None => earned,
        };
        parts.earned = earned;
        parts.kept = kept;
        parts.behaviour = kept + penalties;
    }

    #[inline]
    pub(crate) fn finish(&self, parts: Parts) -> Score {
        let tenths = total_tenths(parts.numerator, self.weight_sum, parts.behaviour);
        let grade_by_score = self.ladder.grade_of(tenths);
        Score {
            total: f64::from(tenths) / 10.0,
            grade: self.ladder.moved(grade_by_score, parts.steps),
            grade_by_score,
        }
    }

    /// The adjustments of the model, compiled, in model order.
    pub(crate) fn adjustments(&self) -> &[CompiledAdjustment] {
        &self.adjustments
    }

    // ---- engine hooks ---------------------------------------------------------------

    /// The customer fields the dimension bands read, in schema order: when one of them
    /// changes, the customer's score may change and should be computed again.
    pub fn fields(&self) -> &[FieldId] {
        &self.fields
    }

    /// The event kinds the model listens to, in model order: the adjustments' kinds, then
    /// the extra `activity` kinds. Events of other kinds need not be recorded.
    pub fn event_kinds(&self) -> &[String] {
        &self.event_kinds
    }

    /// Whether the model listens to events of a kind.
    pub fn listens_to(&self, kind: &str) -> bool {
        self.event_kinds.iter().any(|k| k == kind)
    }

    /// Whether a customer's score can change with `now` alone, nothing recorded or edited:
    /// a band reads the time (`older_than`, `within_last`, `due_within`), or the model has
    /// adjustments (they lapse) or decay. Such scores are worth recomputing on a schedule
    /// wherever they are stored.
    pub fn reads_time(&self) -> bool {
        self.reads_time
    }

    /// The field the total is written to, if the model names one.
    pub fn score_field(&self) -> Option<FieldId> {
        self.score_field.map(|(id, _)| id)
    }

    /// The field the grade label is written to, if the model names one.
    pub fn grade_field(&self) -> Option<FieldId> {
        self.grade_field
    }

    /// The values to write for a score into the model's output fields: the total into the
    /// score field (a decimal; for an `integer` field rounded half away from zero to a whole
    /// number), the grade label into the grade field. Empty when the model names neither.
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use crm_rules::scoring::{Band, BehaviourState, Dimension, Model};
    /// # use crm_rules::{Condition, Field, FieldType, Number, Schema, Value};
    /// let schema = Schema::new([
    ///     Field::new("预算", FieldType::Number),
    ///     Field::new("线索评分", FieldType::Integer),
    ///     Field::new("线索等级", FieldType::SingleChoice).options(["A", "B", "C"]),
    /// ])?;
    /// let scorer = Model::new("fit", "画像")
    ///     .dimension(Dimension::new("budget", "预算", 100)
    ///         .band(Band::new(Condition::field("预算").gte(500_000), 100))
    ///         .default_points(Number::decimal(72.5).ok_or("not finite")?))
    ///     .score_field("线索评分").grade_field("线索等级")
    ///     .compile(&schema)?;
    /// # let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
    /// let score = scorer.score(&schema.record([("预算", 1)])?, &BehaviourState::new(), now);
    /// let writes = scorer.field_values(score);
    /// assert_eq!(writes, [
    ///     (schema.field_id("线索评分").ok_or("field")?, Value::from(73)),
    ///     (schema.field_id("线索等级").ok_or("field")?, Value::from("B")),
    /// ]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn field_values(&self, score: Score) -> Vec<(FieldId, Value)> {
        let mut out = Vec::with_capacity(2);
        if let Some((id, integer)) = self.score_field {
            // Clamped so that a score made by hand (NaN, out of range) cannot overflow.
            let tenths = (score.total.clamp(0.0, 100.0) * 10.0).round() as i64;
            let number = if integer {
                Number::from((tenths + 5) / 10)
            } else if tenths % 10 == 0 {
                Number::from(tenths / 10)
            } else {
                Number::decimal(score.total).unwrap_or_else(|| Number::from(0))
            };
            out.push((id, Value::Number(number)));
        }
        if let (Some(id), Some(grade)) = (self.grade_field, self.ladder.grades.get(score.grade)) {
            out.push((id, Value::Text(grade.label.clone())));
        }
        out
    }

    /// The tags of the adjustments that apply at `now`, in model order, without repeats.
    pub fn active_tags(&self, behaviour: &BehaviourState, now: DateTime<Utc>) -> Vec<&str> {
        let mut tags: Vec<&str> = Vec::new();
        for a in &self.adjustments {
            if let Some(tag) = &a.tag {
                if a.holds(behaviour.times(&a.id), now) && !tags.contains(&tag.as_str()) {
                    tags.push(tag);
                }
            }
        }
        tags
    }

    /// The last instant at which every adjustment that applies at `now` still applies;
    /// just after it the first of them lapses and the score changes by itself. `None`
    /// when no adjustment applies. An engine sets a timer just after it to rewrite the
    /// stored score. (Decay changes the score continuously and is not reported here.)
    pub fn next_lapse(
        &self,
        behaviour: &BehaviourState,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.adjustments
            .iter()
            .filter_map(|a| a.until(behaviour.times(&a.id), now))
            .min()
    }
}
