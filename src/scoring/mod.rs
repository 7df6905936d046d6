//! Lead scoring and grading: weighted dimensions, a grade ladder, behaviour adjustments,
//! decay, explained score cards, and reports against history.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use crm_rules::scoring::{BehaviourState, Model};
//! use crm_rules::{Event, Schema, Value};
//!
//! let schema = Schema::from_json(r#"{"fields": [
//!   {"name": "预算", "type": "number"},
//!   {"name": "预计成交周期", "type": "single_choice", "options": ["1个月内", "3个月内", "半年以上"]},
//!   {"name": "决策角色", "type": "single_choice", "options": ["部门经理", "业务骨干", "普通员工"]}
//! ]}"#)?;
//! let model = Model::from_json(r#"{
//!   "id": "fit", "name": "客户画像评分",
//!   "dimensions": [
//!     {"id": "budget", "label": "预算匹配度", "weight": 40, "bands": [
//!       {"label": "明确预算50万以上", "when": {"field": "预算", "op": "gte", "value": 500000}, "points": 100},
//!       {"when": {"field": "预算", "op": "gte", "value": 100000}, "points": 60}]},
//!     {"id": "urgency", "label": "需求紧急度", "weight": 30, "bands": [
//!       {"label": "需1个月内成交", "when": {"field": "预计成交周期", "op": "eq", "value": "1个月内"}, "points": 100},
//!       {"when": {"field": "预计成交周期", "op": "eq", "value": "3个月内"}, "points": 50}]},
//!     {"id": "influence", "label": "决策影响力", "weight": 30, "bands": [
//!       {"label": "决策人为部门经理", "when": {"field": "决策角色", "op": "eq", "value": "部门经理"}, "points": 100}]}
//!   ],
//!   "behaviour": [
//!     {"id": "product-page", "label": "浏览产品详情页3次", "event": "page_view",
//!      "where": {"event": "page", "op": "eq", "value": "产品详情"},
//!      "at_least": 3, "within": "7d", "grade": "up"}
//!   ]
//! }"#)?;
//! let scorer = model.compile(&schema)?;
//!
//! let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
//! let lead = schema.record([("预算", Value::from(200_000)), ("预计成交周期", Value::from("1个月内"))])?;
//! let mut behaviour = BehaviourState::new();
//! let card = scorer.card(&lead, &behaviour, now);
//! assert_eq!((card.total, card.grade.as_str()), (54.0, "B"));
//! let next = card.next_grade.as_ref().ok_or("not at the top")?;
//! let hints: Vec<String> = next.improvements.iter().map(|i| i.to_string()).collect();
//! assert_eq!(hints, [
//!     "决策影响力: 决策人为部门经理 would add 30 points and reach A (84)",
//!     "预算匹配度: 明确预算50万以上 would add 16 points (70, still B)",
//! ]);
//!
//! // Three product page views within a week move the lead up one grade.
//! for (i, hours) in [50, 26, 2].into_iter().enumerate() {
//!     let view = Event::new("page_view", format!("v{i}"), now - chrono::TimeDelta::hours(hours))
//!         .attribute("page", "产品详情");
//!     behaviour.record(&scorer, &lead, &view);
//! }
//! let card = scorer.card(&lead, &behaviour, now);
//! assert_eq!((card.total, card.grade.as_str(), card.grade_by_score.as_str()), (54.0, "A", "B"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Model
//!
//! A [`Model`] has an id, a name, weighted [`Dimension`]s, a grade ladder ([`Grade`]s),
//! behaviour [`Adjustment`]s, optional [`Decay`], `normalize`, and optionally the schema
//! fields the total and the grade are written to (`score_field`, `grade_field`). It is
//! written as JSON (unknown keys are errors; see [`Model`] for the full form) or with the
//! builders, and compiled once against a [`Schema`](crate::Schema) with
//! [`Model::compile`] into a [`Scorer`]. Compiling reports every problem at once, each
//! naming the model and the path: `models[0] fit "客户画像评分": dimensions[1].weight: …`.
//!
//! A dimension's bands are tried in order and the first whose condition holds gives the
//! dimension its points, from 0 to 100; when none holds the dimension gets its `default`
//! (0 unless given). Band conditions are the crate's [`Condition`](crate::Condition)s on
//! customer fields, typed and checked against the schema like rule conditions.
//!
//! # Total and rounding
//!
//! With weights `wᵢ`, band points `pᵢ` and `W = Σ wᵢ`, and `b` the behaviour points after
//! decay:
//!
//! ```text
//! total = clamp(round₁(Σ wᵢ·pᵢ / W + b), 0, 100)
//! ```
//!
//! computed in `f64` as `round(Σ wᵢ·pᵢ × 10 / W + b × 10) / 10`, where `round` rounds half
//! away from zero, then clamped to 0..=100. The total thus has one decimal. When weights
//! and points are integers (and `b` has at most one decimal) every step before the
//! rounding is exact, so the rounding is exact too: `40 × 55 + 30 × 100 + 30 × 0` → 52,
//! and `30 × 55 / 100 = 16.5` stays 16.5. Without `normalize` the weights must add up to
//! 100 (within 1e-9), so `W = 100` and weights are percentages; with `normalize: true` they
//! are shares of their sum, and scaling every weight by the same factor changes nothing.
//!
//! # Grades
//!
//! The ladder lists grades best first, each with the lowest total that earns it (`min`,
//! at most one decimal); the mins must decrease strictly and the last must be 0, so every
//! total has exactly one grade: the first whose `min` it reaches. The default ladder is
//! A ≥ 80 (重点跟进), B ≥ 50 (常规跟进), C ≥ 0 (长期培育); any other can be written, such as
//! 高价值 / 中价值 / 普通价值 / 流失.
//!
//! # Behaviour
//!
//! An [`Adjustment`] counts events of a kind, optionally filtered by a condition on their
//! attributes. When at least `at_least` of them fall in the last `within` (both ends of the
//! window included), it applies: it adds its points (negative points subtract), moves the
//! grade one step up or down, and gives its tag. It applies once however many events
//! there are, and lapses by itself when the window passes. Grade steps of all applying
//! adjustments add up and the result stays on the ladder. Negative signals ("feedback
//! containing 价格高, 功能不足 or 考虑竞品") are adjustments with a `contains_any` filter,
//! negative points and a tag ([`Adjustment::keywords`]).
//!
//! The events are remembered in a [`BehaviourState`] that the host stores per customer and
//! model and passes back in: [`BehaviourState::record`] adds an event, and the card and
//! score read the state at any `now`. Its memory is bounded (see [`BehaviourState`]).
//!
//! # Decay
//!
//! [`Decay`] fades earned behaviour points (those of adjustments with positive points)
//! while the customer is inactive: by half-life, or by a fixed amount per whole period,
//! counted from the latest event of any kind the model listens to. Penalties keep their
//! full weight until their window passes: going silent after a complaint wins nothing
//! back. Decay is computed from `now` at every read, so a score read later is right
//! without anyone saving it again.
//!
//! # Score cards
//!
//! [`Scorer::card`] explains a score: total and grade, each dimension's band and points,
//! every adjustment and the decay applied, the tags, and the gap to the next grade with,
//! per dimension, the band that would close it ("预算匹配度: 明确预算50万以上 would add 16
//! points and reach A"). It serializes to JSON. [`Scorer::score`] gives only the total and
//! grade, without allocating; [`Scorer::score_batch`] scores many customers into a
//! buffer the caller reuses.
//!
//! # History
//!
//! [`Scorer::report`] scores customers with known outcomes ([`Outcome`]) and reports the
//! win rate per grade, the AUC of the total, and the count and win rate per band.
//!
//! # In the engine
//!
//! An [`Engine`](crate::Engine) runs any number of models side by side
//! ([`EngineBuilder::scoring`](crate::EngineBuilder::scoring)): it records the events they
//! listen to in the customer's state, computes a model again when its behaviour or a
//! field it reads changes (and, in a tick, when its score moves with time), and writes the
//! score and grade into the model's `score_field` and `grade_field`, where rules see them
//! change: `{"type": "field_changed", "field": "线索等级", "to": "A"}` fires in the same
//! evaluation. [`Engine`](crate::Engine) states the order. [`Plan::scores`](crate::Plan::scores)
//! lists what was computed; [`Engine::card`](crate::Engine::card) explains a stored score.
//!
//! # Engine hooks
//!
//! What an engine (this crate's, or a host's own) needs to keep stored scores up to date: [`Scorer::fields`] (the fields
//! the bands read: rescore when one changes), [`Scorer::event_kinds`] and
//! [`Scorer::listens_to`] (events to record into the customer's [`BehaviourState`]),
//! [`Scorer::score`] / [`Scorer::card`] (from the record, the state and `now`),
//! [`Scorer::score_field`], [`Scorer::grade_field`] and [`Scorer::field_values`] (what to
//! write where), [`Scorer::active_tags`], [`Scorer::next_lapse`] (when to look again) and
//! [`Scorer::reads_time`].

mod behaviour;
mod card;
mod compile;
mod decay;
mod describe;
mod grade;
mod history;
mod model;
mod scorer;

pub use behaviour::{Adjustment, BehaviourState};
pub use card::{AppliedAdjustment, AppliedDecay, Card, DimensionScore, Improvement, NextGrade};
pub use decay::Decay;
pub use grade::{Grade, GradeStep};
pub use history::{BandReport, DimensionReport, GradeReport, Outcome, Report};
pub use model::{Band, Dimension, Model};
pub use scorer::{Score, Scorer};

pub(crate) use compile::model_ref;
