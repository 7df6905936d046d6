//! Grades: the ladder of labelled thresholds a total falls into.

use serde::{Deserialize, Serialize};

use crate::value::Number;

/// A grade of the ladder: a label, the lowest total that earns it, and what it means.
///
/// A ladder lists grades best first, with strictly decreasing `min`, the last at 0, so that
/// every total from 0 to 100 has exactly one grade: the first whose `min` it reaches.
/// Thresholds have at most one decimal, as totals do.
///
/// JSON: `{"label": "A", "min": 80, "description": "重点跟进"}`.
///
/// ```
/// use crm_rules::scoring::Grade;
/// let ladder = Grade::default_ladder();
/// let labels: Vec<&str> = ladder.iter().map(|g| g.label.as_str()).collect();
/// assert_eq!(labels, ["A", "B", "C"]);
/// assert_eq!(ladder[1].description, "常规跟进");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    /// The label, unique in the ladder (`A`, `高价值`).
    pub label: String,
    /// The lowest total (0-100, at most one decimal) that earns the grade.
    pub min: Number,
    /// What the grade means for the team (`重点跟进`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl Grade {
    /// A grade from its label, lowest total and description.
    pub fn new(
        label: impl Into<String>,
        min: impl Into<Number>,
        description: impl Into<String>,
    ) -> Grade {
        Grade {
            label: label.into(),
            min: min.into(),
            description: description.into(),
        }
    }

    /// The ladder a model gets when it names none:
    ///
    /// | grade | total | description |
    /// |---|---|---|
    /// | A | ≥ 80 | 重点跟进 (focus) |
    /// | B | ≥ 50 | 常规跟进 (regular follow-up) |
    /// | C | ≥ 0 | 长期培育 (nurture) |
    pub fn default_ladder() -> Vec<Grade> {
        vec![
            Grade::new("A", 80, "重点跟进"),
            Grade::new("B", 50, "常规跟进"),
            Grade::new("C", 0, "长期培育"),
        ]
    }
}

/// A move of one step on the grade ladder, made by a behaviour adjustment.
///
/// JSON: `"up"` or `"down"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradeStep {
    /// One grade better (C → B).
    Up,
    /// One grade worse (A → B).
    Down,
}

impl GradeStep {
    /// +1 for up, -1 for down.
    pub(crate) fn delta(self) -> i32 {
        match self {
            GradeStep::Up => 1,
            GradeStep::Down => -1,
        }
    }
}

/// A checked ladder: the grades, and their thresholds in tenths of a point.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ladder {
    pub grades: Vec<Grade>,
    /// `mins[i]` is the lowest total, in tenths, of grade `i`; strictly decreasing, last 0.
    pub mins: Vec<u16>,
}

impl Ladder {
    /// The grade the thresholds give a total in tenths: the first it reaches.
    #[inline]
    pub fn grade_of(&self, tenths: u16) -> usize {
        // The last threshold is 0, so the search always ends inside the ladder.
        self.mins
            .iter()
            .position(|m| tenths >= *m)
            .unwrap_or(self.mins.len().saturating_sub(1))
    }

    /// A grade moved by `steps` (positive: better), kept on the ladder.
    #[inline]
    pub fn moved(&self, grade: usize, steps: i32) -> usize {
        let last = self.mins.len().saturating_sub(1) as i64;
        (grade as i64 - i64::from(steps)).clamp(0, last) as usize
    }
}
