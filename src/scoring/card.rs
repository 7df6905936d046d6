//! Score cards: a customer's score with every part explained.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::behaviour::BehaviourState;
use super::decay::Decay;
use super::grade::GradeStep;
use super::scorer::{round1, total_tenths, Scorer};
use crate::condition::Facts;
use crate::duration::Duration;
use crate::schema::Record;
use crate::value::format_instant;

/// A customer's score explained: the total and grade, what each dimension gave and why,
/// every behaviour adjustment and the decay applied, and what would reach the next grade.
///
/// Every number on the card is rounded half away from zero to one decimal, like the total;
/// the total itself is computed from the unrounded parts, so the rounded dimension scores
/// may differ from it by a few tenths in the last digit. The card serializes to JSON;
/// `Display` writes it for people.
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
///     .dimension(Dimension::new("budget", "预算匹配度", 40)
///         .band(Band::new(Condition::field("预算").gte(500_000), 100))
///         .band(Band::new(Condition::field("预算").gte(100_000), 60)))
///     .dimension(Dimension::new("influence", "决策影响力", 60)
///         .band(Band::new(Condition::field("决策角色").eq("部门经理"), 100).label("决策人为部门经理")))
///     .compile(&schema)?;
/// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
/// let lead = schema.record([("预算", Value::from(200_000)), ("决策角色", Value::from("部门经理"))])?;
/// let card = scorer.card(&lead, &BehaviourState::new(), now);
/// assert_eq!((card.total, card.grade.as_str()), (84.0, "A"));
/// assert_eq!(card.dimensions[0].matched, "预算 ≥ 100,000");
/// assert_eq!(card.to_string(), "\
/// 客户画像评分 (fit) at 2024-05-20T09:00:00Z: 84 A 重点跟进
///   预算匹配度 40% × 60 = 24 (预算 ≥ 100,000)
///   决策影响力 60% × 100 = 60 (决策人为部门经理)
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Card {
    /// The model's id.
    pub model: String,
    /// The model's name.
    pub name: String,
    /// When the card was computed (the `now` it was computed for).
    pub at: DateTime<Utc>,
    /// The total, from 0 to 100.
    pub total: f64,
    /// The grade's label, after behaviour grade steps.
    pub grade: String,
    /// The grade's description (`重点跟进`).
    pub description: String,
    /// The label of the grade the thresholds give the total, before grade steps.
    pub grade_by_score: String,
    /// The weighted dimension points: the total before behaviour.
    pub profile: f64,
    /// Behaviour points after decay.
    pub behaviour: f64,
    /// What each dimension gave, in model order.
    pub dimensions: Vec<DimensionScore>,
    /// The adjustments that apply at `at`, in model order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<AppliedAdjustment>,
    /// The decay of the earned behaviour points, when there are any and the model decays
    /// them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decay: Option<AppliedDecay>,
    /// The tags of the adjustments that apply, in model order, without repeats.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The next grade up from [`grade_by_score`](Card::grade_by_score) and how to reach
    /// it; `None` at the top grade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_grade: Option<NextGrade>,
}

/// What one dimension gave.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DimensionScore {
    /// The dimension's id.
    pub id: String,
    /// The dimension's label.
    pub label: String,
    /// The dimension's share of the total, in percent (its weight, normalized).
    pub weight: f64,
    /// The points of the band that matched (or the default), from 0 to 100.
    pub points: f64,
    /// What the dimension adds to the total: `weight` % of `points`.
    pub score: f64,
    /// The position of the band that matched; `None` when the default applied.
    pub band: Option<usize>,
    /// The band's label (or its condition written out), or `default`.
    pub matched: String,
}

/// A behaviour adjustment that applies.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AppliedAdjustment {
    /// The adjustment's id.
    pub id: String,
    /// The adjustment's label.
    pub label: String,
    /// How many counted events fall in the window.
    pub count: usize,
    /// How many it needs.
    pub at_least: u32,
    /// The window.
    pub within: Duration,
    /// The points it adds (negative: subtracts), before decay.
    pub points: f64,
    /// The grade step it makes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<GradeStep>,
    /// The tag it gives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The last instant it applies without further events.
    pub until: DateTime<Utc>,
}

/// The decay applied to the earned (positive) behaviour points.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AppliedDecay {
    /// The model's decay.
    #[serde(flatten)]
    pub method: Decay,
    /// The customer's last activity, from which idleness counts.
    pub since: DateTime<Utc>,
    /// Earned behaviour points (those of adjustments with positive points) before decay.
    pub before: f64,
    /// Earned behaviour points after decay.
    pub after: f64,
}

/// The next grade and the single-dimension changes that would get there.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NextGrade {
    /// Its label.
    pub grade: String,
    /// Its threshold.
    pub min: f64,
    /// The points missing: `min - total`.
    pub gap: f64,
    /// For each dimension that can add points, the band that would do it: the band that
    /// closes the gap with the fewest points, or if none can, the band that adds the most.
    /// Those that close the gap come first; otherwise in model order.
    pub improvements: Vec<Improvement>,
}

/// A change in one dimension and what it would do to the total.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Improvement {
    /// The dimension's id.
    pub dimension: String,
    /// The dimension's label.
    pub label: String,
    /// The position of the band in the dimension.
    pub band: usize,
    /// The band's label (or its condition written out).
    pub band_label: String,
    /// The points it would add to the total.
    pub adds: f64,
    /// The total it would give.
    pub total: f64,
    /// The grade the thresholds would give that total.
    pub reaches: String,
    /// Whether it reaches the next grade.
    pub closes_gap: bool,
}

impl Scorer {
    /// The score card of a customer at `now`, with the behaviour the state recorded.
    ///
    /// Its total and grade are those of [`Scorer::score`]; it allocates to explain them.
    pub fn card(&self, customer: &Record, behaviour: &BehaviourState, now: DateTime<Utc>) -> Card {
        let facts = Facts::new(customer, now);
        let parts = self.parts(customer, Some(behaviour), now);
        let score = self.finish(parts);
        let tenths = (score.total * 10.0).round() as u16;
        let ladder = &self.ladder;

        let mut matched = Vec::with_capacity(self.dimensions.len());
        let dimensions: Vec<DimensionScore> = self
            .dimensions
            .iter()
            .map(|d| {
                let (band, points) = d.points(&facts);
                matched.push(points);
                let share = d.weight / self.weight_sum * 100.0;
                DimensionScore {
                    id: d.id.clone(),
                    label: d.label.clone(),
                    weight: round1(share),
                    points: round1(points),
                    score: round1(share * points / 100.0),
                    band,
                    matched: band
                        .map_or_else(|| "default".to_owned(), |b| d.bands[b].label.clone()),
                }
            })
            .collect();

        let mut adjustments = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        for a in &self.adjustments {
            let times = behaviour.times(&a.id);
            let Some(until) = a.until(times, now) else {
                continue;
            };
            if let Some(tag) = &a.tag {
                if !tags.contains(tag) {
                    tags.push(tag.clone());
                }
            }
            adjustments.push(AppliedAdjustment {
                id: a.id.clone(),
                label: a.label.clone(),
                count: a.count(times, now),
                at_least: a.at_least,
                within: a.within,
                points: round1(a.points),
                grade: a.step,
                tag: a.tag.clone(),
                until,
            });
        }

        let decay = match (&self.decay, behaviour.last_activity()) {
            (Some((_, method)), Some(since)) if parts.earned != 0.0 => Some(AppliedDecay {
                method: method.clone(),
                since,
                before: round1(parts.earned),
                after: round1(parts.kept),
            }),
            _ => None,
        };

        let next_grade = score.grade_by_score.checked_sub(1).map(|next| {
            let min = ladder.mins[next];
            let mut improvements: Vec<Improvement> = Vec::new();
            for (i, d) in self.dimensions.iter().enumerate() {
                let rest = parts.numerator - d.weight * matched[i];
                let mut closing: Option<(usize, u16)> = None;
                let mut best: Option<(usize, u16)> = None;
                for (j, band) in d.bands.iter().enumerate() {
                    if band.points <= matched[i] {
                        continue;
                    }
                    let t = total_tenths(
                        rest + d.weight * band.points,
                        self.weight_sum,
                        parts.behaviour,
                    );
                    if t <= tenths {
                        continue;
                    }
                    if t >= min && closing.is_none_or(|(_, c)| t < c) {
                        closing = Some((j, t));
                    }
                    if best.is_none_or(|(_, b)| t > b) {
                        best = Some((j, t));
                    }
                }
                if let Some((j, t)) = closing.or(best) {
                    improvements.push(Improvement {
                        dimension: d.id.clone(),
                        label: d.label.clone(),
                        band: j,
                        band_label: d.bands[j].label.clone(),
                        adds: f64::from(t - tenths) / 10.0,
                        total: f64::from(t) / 10.0,
                        reaches: ladder.grades[ladder.grade_of(t)].label.clone(),
                        closes_gap: t >= min,
                    });
                }
            }
            improvements.sort_by_key(|m| !m.closes_gap);
            NextGrade {
                grade: ladder.grades[next].label.clone(),
                min: f64::from(min) / 10.0,
                gap: f64::from(min.saturating_sub(tenths)) / 10.0,
                improvements,
            }
        });

        let grade = &ladder.grades[score.grade];
        Card {
            model: self.id.clone(),
            name: self.name.clone(),
            at: now,
            total: score.total,
            grade: grade.label.clone(),
            description: grade.description.clone(),
            grade_by_score: ladder.grades[score.grade_by_score].label.clone(),
            profile: round1(parts.numerator / self.weight_sum),
            behaviour: round1(parts.behaviour),
            dimensions,
            adjustments,
            decay,
            tags,
            next_grade,
        }
    }
}

impl Card {
    /// The card as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn signed(x: f64) -> String {
    if x >= 0.0 {
        format!("+{x}")
    } else {
        format!("{x}")
    }
}

impl fmt::Display for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) at {}: {} {}",
            self.name,
            self.model,
            format_instant(self.at),
            self.total,
            self.grade
        )?;
        if !self.description.is_empty() {
            write!(f, " {}", self.description)?;
        }
        if self.grade != self.grade_by_score {
            write!(f, " (by score {})", self.grade_by_score)?;
        }
        writeln!(f)?;
        for d in &self.dimensions {
            writeln!(
                f,
                "  {} {}% × {} = {} ({})",
                d.label, d.weight, d.points, d.score, d.matched
            )?;
        }
        for a in &self.adjustments {
            write!(f, "  {}: ", a.label)?;
            let mut effects = Vec::new();
            if a.points != 0.0 || (a.grade.is_none() && a.tag.is_none()) {
                effects.push(format!("{} points", signed(a.points)));
            }
            match a.grade {
                Some(GradeStep::Up) => effects.push("grade up".to_owned()),
                Some(GradeStep::Down) => effects.push("grade down".to_owned()),
                None => {}
            }
            if let Some(tag) = &a.tag {
                effects.push(format!("tag {tag}"));
            }
            writeln!(
                f,
                "{} ({} of {} within {}, until {})",
                effects.join(", "),
                a.count,
                a.at_least,
                a.within,
                format_instant(a.until)
            )?;
        }
        if let Some(d) = &self.decay {
            let how = match &d.method {
                Decay::HalfLife { half_life } => format!("half-life {half_life}"),
                Decay::Linear { points, every } => format!("-{points} every {every}"),
            };
            writeln!(
                f,
                "  decay ({how}, idle since {}): {} → {}",
                format_instant(d.since),
                d.before,
                d.after
            )?;
        }
        if !self.tags.is_empty() {
            writeln!(f, "  tags: {}", self.tags.join(", "))?;
        }
        if let Some(next) = &self.next_grade {
            writeln!(f, "  {} from {}: {} to go", next.grade, next.min, next.gap)?;
            for m in &next.improvements {
                writeln!(f, "    {m}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Improvement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} would add {} points",
            self.label, self.band_label, self.adds
        )?;
        if self.closes_gap {
            write!(f, " and reach {} ({})", self.reaches, self.total)
        } else {
            write!(f, " ({}, still {})", self.total, self.reaches)
        }
    }
}
