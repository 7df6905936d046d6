//! Behaviour adjustments and negative signals, and the per-customer memory of the events
//! they count.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::grade::GradeStep;
use super::scorer::Scorer;
use crate::condition::{eval, Event, Facts, Node};
use crate::duration::Duration;
use crate::rule::Condition;
use crate::schema::Record;
use crate::value::Number;

/// A behaviour adjustment: when the customer has had at least `at_least` events of a kind
/// (optionally only those matching `where`) within the last `within`, the total moves by
/// `points` and/or the grade moves one step, and the score card carries `tag`.
///
/// It applies once however many more events there are, and lapses by itself when the
/// window passes: it holds at `now` when at least `at_least` counted events have times
/// `t` with `now - within ≤ t ≤ now` (both ends included, as for rule behaviour counts).
///
/// Negative signals are adjustments with negative points, a keyword filter and a tag:
/// feedback containing 价格高 subtracts points and tags the customer 价格敏感.
///
/// JSON: `{"id": "product-page", "label": "浏览产品详情页3次", "event": "page_view",
/// "where": {"event": "page", "op": "eq", "value": "产品详情"}, "at_least": 3,
/// "within": "7d", "points": 10, "grade": "up", "tag": "高意向"}`; `at_least` is 1 when
/// left out; at least one of `points`, `grade` and `tag` is needed.
///
/// ```
/// use crm_rules::scoring::{Adjustment, GradeStep};
/// use crm_rules::{Condition, Duration};
/// let week = Duration::days(7).ok_or("range")?;
/// let views = Adjustment::new("product-page", "浏览产品详情页3次", "page_view", week)
///     .filter(Condition::event("page").eq("产品详情"))
///     .at_least(3)
///     .grade(GradeStep::Up);
/// let price = Adjustment::new("price", "反馈价格高", "feedback", Duration::days(90).ok_or("range")?)
///     .keywords("content", ["价格高", "太贵"])
///     .points(-10)
///     .tag("价格敏感");
/// assert_eq!(serde_json::to_string(&price)?,
///     r#"{"id":"price","label":"反馈价格高","event":"feedback","where":{"event":"content","op":"contains_any","value":["价格高","太贵"]},"within":"90d","points":-10,"tag":"价格敏感"}"#);
/// # let _ = views;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// The adjustment's id, unique in the model; the behaviour state keys its events by it.
    pub id: String,
    /// What the score card calls it (`浏览产品详情页3次`).
    pub label: String,
    /// The event kind counted.
    pub event: String,
    /// Which events of the kind count: a condition on the event's attributes (and the
    /// customer's fields).
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Condition>,
    /// How many counted events the window must hold (1 to 1,000; 1 when left out).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub at_least: u32,
    /// The window, ending now; the adjustment lapses when it passes.
    pub within: Duration,
    /// Points added to the total (negative to subtract), from -100 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Number>,
    /// A step up or down the grade ladder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<GradeStep>,
    /// A tag the customer gets while the adjustment applies (`价格敏感`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl Adjustment {
    /// An adjustment counting single events of `event` within `within`, with no effect yet.
    pub fn new(
        id: impl Into<String>,
        label: impl Into<String>,
        event: impl Into<String>,
        within: Duration,
    ) -> Adjustment {
        Adjustment {
            id: id.into(),
            label: label.into(),
            event: event.into(),
            filter: None,
            at_least: 1,
            within,
            points: None,
            grade: None,
            tag: None,
        }
    }

    /// Counts only events for which the condition holds.
    pub fn filter(mut self, condition: Condition) -> Adjustment {
        self.filter = Some(condition);
        self
    }

    /// Counts only events whose text attribute contains one of the keywords; combined with
    /// `all` when a filter is already set.
    pub fn keywords<I, S>(mut self, attribute: impl Into<String>, keywords: I) -> Adjustment
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let words: Vec<String> = keywords.into_iter().map(Into::into).collect();
        let test = Condition::event(attribute).contains_any(words);
        self.filter = Some(match self.filter.take() {
            None => test,
            Some(existing) => Condition::all([existing, test]),
        });
        self
    }

    /// Needs `n` counted events within the window.
    pub fn at_least(mut self, n: u32) -> Adjustment {
        self.at_least = n;
        self
    }

    /// Adds (or, negative, subtracts) points.
    pub fn points(mut self, points: impl Into<Number>) -> Adjustment {
        self.points = Some(points.into());
        self
    }

    /// Moves the grade one step.
    pub fn grade(mut self, step: GradeStep) -> Adjustment {
        self.grade = Some(step);
        self
    }

    /// Tags the customer while the adjustment applies.
    pub fn tag(mut self, tag: impl Into<String>) -> Adjustment {
        self.tag = Some(tag.into());
        self
    }
}

/// An adjustment, compiled.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CompiledAdjustment {
    pub id: String,
    pub label: String,
    pub event: String,
    pub filter: Option<Node>,
    pub at_least: u32,
    pub within: Duration,
    pub points: f64,
    pub step: Option<GradeStep>,
    pub tag: Option<String>,
}

impl CompiledAdjustment {
    /// How many of `times` fall in the window ending at `now`.
    #[inline]
    pub fn count(&self, times: &[DateTime<Utc>], now: DateTime<Utc>) -> usize {
        let since = self.within.before(now);
        times.iter().filter(|t| **t >= since && **t <= now).count()
    }

    /// Whether the adjustment applies at `now`.
    #[inline]
    pub fn holds(&self, times: &[DateTime<Utc>], now: DateTime<Utc>) -> bool {
        self.count(times, now) >= self.at_least as usize
    }

    /// The last instant the adjustment still applies without further events, when it
    /// applies at `now`: the window must still hold `at_least` of the counted events.
    pub fn until(&self, times: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let since = self.within.before(now);
        let mut inside: Vec<DateTime<Utc>> = times
            .iter()
            .copied()
            .filter(|t| *t >= since && *t <= now)
            .collect();
        let need = self.at_least as usize;
        if need == 0 || inside.len() < need {
            return None;
        }
        inside.sort_unstable();
        // The count falls below `at_least` once the (len - at_least)-th oldest drops out.
        Some(self.within.after(inside[inside.len() - need]))
    }
}

/// What a scoring model remembers about one customer: the times of the events each
/// behaviour adjustment counted, and the customer's last activity (for decay).
///
/// The host keeps one state per customer and model, stores it next to the customer, and
/// passes it back in; nothing is remembered anywhere else. [`BehaviourState::record`]
/// adds an event; [`Scorer::card`] and [`Scorer::score`] read the state at any `now`.
///
/// Memory is bounded: per adjustment at most `at_least` timestamps (`at_least` is at most
/// 1,000), dropping those that fell out of the window before the latest event, plus one
/// timestamp of last activity. Entries of adjustments no longer in the model are dropped
/// when the next event is recorded. The state answers exactly for any `now` at or after
/// the latest event it recorded.
///
/// JSON: `{"last_activity": "2024-05-18T10:00:00Z", "events": {"product-page":
/// ["2024-05-16T09:00:00Z", "2024-05-18T10:00:00Z"]}}`; an empty state is `{}`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::scoring::{Adjustment, BehaviourState, Dimension, Band, Model};
/// use crm_rules::{Condition, Duration, Event, Field, FieldType, Schema};
/// let schema = Schema::new([Field::new("预算", FieldType::Number)])?;
/// let scorer = Model::new("fit", "画像")
///     .dimension(Dimension::new("budget", "预算", 100)
///         .band(Band::new(Condition::field("预算").gte(500_000), 100)))
///     .adjustment(Adjustment::new("support", "主动联系客服", "support_contact",
///         Duration::days(14).ok_or("range")?).points(15))
///     .compile(&schema)?;
/// let customer = schema.record([("预算", 100_000)])?;
/// let at = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
/// let mut state = BehaviourState::new();
/// assert!(state.record(&scorer, &customer, &Event::new("support_contact", "e1", at)));
/// assert_eq!(scorer.score(&customer, &state, at).total, 15.0);
/// // Fifteen days later the window has passed and the points have lapsed.
/// let later = at + chrono::TimeDelta::days(15);
/// assert_eq!(scorer.score(&customer, &state, later).total, 0.0);
/// assert_eq!(serde_json::to_string(&state)?,
///     r#"{"last_activity":"2024-05-20T09:00:00Z","events":{"support":["2024-05-20T09:00:00Z"]}}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviourState {
    /// The time of the latest event of a kind the model listens to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_activity: Option<DateTime<Utc>>,
    /// Adjustment id → times of its counted events, oldest first, in model order.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    events: IndexMap<String, Vec<DateTime<Utc>>>,
}

impl BehaviourState {
    /// An empty state, for a customer with no recorded behaviour.
    pub fn new() -> BehaviourState {
        BehaviourState::default()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.last_activity.is_none() && self.events.is_empty()
    }

    /// The time of the latest event of a kind the model listens to.
    pub fn last_activity(&self) -> Option<DateTime<Utc>> {
        self.last_activity
    }

    /// The remembered times of the events an adjustment counted, oldest first.
    pub fn times(&self, adjustment: &str) -> &[DateTime<Utc>] {
        self.events.get(adjustment).map_or(&[], Vec::as_slice)
    }

    /// Records an event for a customer: each of the scorer's adjustments whose kind and
    /// filter match counts it, and any event of a kind the model listens to
    /// ([`Scorer::event_kinds`]) is activity. `customer` is the record the filters read.
    ///
    /// Returns whether the model listens to the event's kind (and so whether the state may
    /// have changed). Record each event once: the state keeps times, not event ids.
    pub fn record(&mut self, scorer: &Scorer, customer: &Record, event: &Event) -> bool {
        if !scorer.listens_to(&event.kind) {
            return false;
        }
        self.last_activity = Some(self.last_activity.map_or(event.time, |t| t.max(event.time)));
        let facts = Facts::new(customer, event.time).with_event(event);
        let adjustments = scorer.adjustments();
        for adjustment in adjustments.iter().filter(|a| a.event == event.kind) {
            if adjustment
                .filter
                .as_ref()
                .is_some_and(|f| !eval::holds(f, &facts))
            {
                continue;
            }
            let times = self.events.entry(adjustment.id.clone()).or_default();
            let at = times.partition_point(|t| *t <= event.time);
            times.insert(at, event.time);
            // Times before the window of the latest event can never count again.
            if let Some(latest) = times.last().copied() {
                let since = adjustment.within.before(latest);
                times.retain(|t| *t >= since);
            }
            let keep = adjustment.at_least.max(1) as usize;
            if times.len() > keep {
                times.drain(..times.len() - keep);
            }
        }
        // Keep only the model's adjustments, in model order, for a deterministic form.
        self.events
            .retain(|id, times| !times.is_empty() && adjustments.iter().any(|a| a.id == *id));
        self.events.sort_by_cached_key(|id, _| {
            adjustments
                .iter()
                .position(|a| a.id == *id)
                .unwrap_or(usize::MAX)
        });
        true
    }
}
