//! Evaluating a model against history: does the score predict which customers were won?

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::scorer::{round1, total_tenths, Scorer};
use crate::condition::Facts;
use crate::schema::Record;

/// How a past customer ended.
///
/// JSON: `"won"` or `"lost"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The deal was won.
    Won,
    /// The deal was lost.
    Lost,
}

/// How well a model's score separated won from lost customers in a history: the win rate
/// per grade, the area under the ROC curve of the total, and the count and win rate of
/// every band of every dimension, so that an administrator can see whether the weights
/// predict anything.
///
/// Customers are scored on their fields alone (behaviour is left out: the report judges
/// the weights and bands), at one `now`. Everything is listed in model order.
///
/// `auc` is the probability that a won customer scores above a lost one, ties counting
/// one half (the Mann-Whitney statistic): computed exactly in integers over the totals
/// as the card shows them (tenths of a point) and divided once at the end. 0.5 means the
/// score predicts nothing, 1.0 that it separates perfectly. `None` without both won and
/// lost customers; win rates are `None` where there are no customers.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use crm_rules::scoring::{Band, Dimension, Model, Outcome};
/// use crm_rules::{Condition, Field, FieldType, Schema};
/// let schema = Schema::new([Field::new("预算", FieldType::Number)])?;
/// let scorer = Model::new("fit", "画像")
///     .dimension(Dimension::new("budget", "预算", 100)
///         .band(Band::new(Condition::field("预算").gte(500_000), 100))
///         .band(Band::new(Condition::field("预算").gte(100_000), 60)))
///     .compile(&schema)?;
/// let history = [
///     (schema.record([("预算", 900_000)])?, Outcome::Won),
///     (schema.record([("预算", 200_000)])?, Outcome::Won),
///     (schema.record([("预算", 300_000)])?, Outcome::Lost),
///     (schema.record([("预算", 10_000)])?, Outcome::Lost),
/// ];
/// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
/// let report = scorer.report(history.iter().map(|(r, o)| (r, *o)), now);
/// // Won 100 and 60 against lost 60 and 0: pairs (100>60, 100>0, 60=60, 60>0) → 3.5 / 4.
/// assert_eq!(report.auc, Some(0.875));
/// assert_eq!(report.grades[0].win_rate, Some(1.0)); // A: the one customer at 100, won
/// assert_eq!(report.dimensions[0].bands[1].customers, 2); // 预算 ≥ 100,000
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The model's id.
    pub model: String,
    /// The model's name.
    pub name: String,
    /// Customers in the history.
    pub customers: u64,
    /// Of which won.
    pub won: u64,
    /// Of which lost.
    pub lost: u64,
    /// `won / customers`.
    pub win_rate: Option<f64>,
    /// The area under the ROC curve of the total.
    pub auc: Option<f64>,
    /// Per grade of the ladder, best first (grades by score).
    pub grades: Vec<GradeReport>,
    /// Per dimension, per band (then the default).
    pub dimensions: Vec<DimensionReport>,
}

/// The customers of one grade.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GradeReport {
    /// The grade's label.
    pub grade: String,
    /// Its threshold.
    pub min: f64,
    /// Customers with the grade.
    pub customers: u64,
    /// Of which won.
    pub won: u64,
    /// `won / customers`.
    pub win_rate: Option<f64>,
}

/// The bands of one dimension.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DimensionReport {
    /// The dimension's id.
    pub id: String,
    /// The dimension's label.
    pub label: String,
    /// Its share of the total, in percent.
    pub weight: f64,
    /// Each band in order, then the default (`band: None`).
    pub bands: Vec<BandReport>,
}

/// The customers whose dimension was decided by one band (or the default).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BandReport {
    /// The band's position; `None` for the default.
    pub band: Option<usize>,
    /// The band's label (or its condition written out), or `default`.
    pub label: String,
    /// The band's points.
    pub points: f64,
    /// Customers it matched (first).
    pub customers: u64,
    /// Of which won.
    pub won: u64,
    /// `won / customers`.
    pub win_rate: Option<f64>,
}

fn rate(won: u64, all: u64) -> Option<f64> {
    (all > 0).then(|| won as f64 / all as f64)
}

impl Scorer {
    /// Scores a history of customers with known outcomes at `now` and reports how well the
    /// score predicted them; see [`Report`].
    pub fn report<'a, I>(&self, history: I, now: DateTime<Utc>) -> Report
    where
        I: IntoIterator<Item = (&'a Record, Outcome)>,
    {
        // Won and lost customers per total, in tenths of a point.
        let mut won_at = vec![0u64; 1001];
        let mut lost_at = vec![0u64; 1001];
        let mut grades = vec![(0u64, 0u64); self.ladder.grades.len()];
        let mut bands: Vec<Vec<(u64, u64)>> = self
            .dimensions
            .iter()
            .map(|d| vec![(0, 0); d.bands.len() + 1])
            .collect();
        for (record, outcome) in history {
            let facts = Facts::new(record, now);
            let won = u64::from(outcome == Outcome::Won);
            let mut numerator = 0.0;
            for (d, tally) in self.dimensions.iter().zip(&mut bands) {
                let (band, points) = d.points(&facts);
                numerator += d.weight * points;
                let slot = &mut tally[band.unwrap_or(d.bands.len())];
                slot.0 += 1;
                slot.1 += won;
            }
            let tenths = total_tenths(numerator, self.weight_sum, 0.0);
            let grade = &mut grades[self.ladder.grade_of(tenths)];
            grade.0 += 1;
            grade.1 += won;
            if won == 1 {
                won_at[usize::from(tenths)] += 1;
            } else {
                lost_at[usize::from(tenths)] += 1;
            }
        }
        let won: u64 = won_at.iter().sum();
        let lost: u64 = lost_at.iter().sum();
        let auc = (won > 0 && lost > 0).then(|| {
            // Twice the Mann-Whitney U: a won customer above a lost one counts 2, a tie 1.
            let mut twice: u128 = 0;
            let mut lost_below: u128 = 0;
            for (w, l) in won_at.iter().zip(&lost_at) {
                twice += u128::from(*w) * (2 * lost_below + u128::from(*l));
                lost_below += u128::from(*l);
            }
            twice as f64 / (2 * u128::from(won) * u128::from(lost)) as f64
        });
        Report {
            model: self.id.clone(),
            name: self.name.clone(),
            customers: won + lost,
            won,
            lost,
            win_rate: rate(won, won + lost),
            auc,
            grades: self
                .ladder
                .grades
                .iter()
                .zip(&self.ladder.mins)
                .zip(&grades)
                .map(|((g, min), (n, w))| GradeReport {
                    grade: g.label.clone(),
                    min: f64::from(*min) / 10.0,
                    customers: *n,
                    won: *w,
                    win_rate: rate(*w, *n),
                })
                .collect(),
            dimensions: self
                .dimensions
                .iter()
                .zip(&bands)
                .map(|(d, tally)| DimensionReport {
                    id: d.id.clone(),
                    label: d.label.clone(),
                    weight: round1(d.weight / self.weight_sum * 100.0),
                    bands: tally
                        .iter()
                        .enumerate()
                        .map(|(j, (n, w))| {
                            let band = d.bands.get(j);
                            BandReport {
                                band: band.map(|_| j),
                                label: band
                                    .map_or_else(|| "default".to_owned(), |b| b.label.clone()),
                                points: round1(band.map_or(d.default, |b| b.points)),
                                customers: *n,
                                won: *w,
                                win_rate: rate(*w, *n),
                            }
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {} customers, {} won ({}), AUC ",
            self.name,
            self.model,
            self.customers,
            self.won,
            percent(self.win_rate)
        )?;
        match self.auc {
            Some(auc) => writeln!(f, "{auc:.3}")?,
            None => writeln!(f, "-")?,
        }
        for g in &self.grades {
            writeln!(
                f,
                "  grade {} (≥ {}): {} customers, {} won ({})",
                g.grade,
                g.min,
                g.customers,
                g.won,
                percent(g.win_rate)
            )?;
        }
        for d in &self.dimensions {
            writeln!(f, "  {} ({}%):", d.label, d.weight)?;
            for b in &d.bands {
                writeln!(
                    f,
                    "    {} ({} points): {} customers, {} won ({})",
                    b.label,
                    b.points,
                    b.customers,
                    b.won,
                    percent(b.win_rate)
                )?;
            }
        }
        Ok(())
    }
}
