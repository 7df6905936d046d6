//! The authoring form of a scoring model: what an administrator writes, as JSON or with
//! the builders.

use serde::{Deserialize, Serialize};

use super::behaviour::Adjustment;
use super::decay::Decay;
use super::grade::Grade;
use crate::error::{json_problem, LoadError, Problem};
use crate::limits::Limits;
use crate::rule::Condition;
use crate::value::Number;

/// A lead scoring model: weighted dimensions, a grade ladder, behaviour adjustments and
/// decay, and the fields the score and grade are written to.
///
/// Nothing is checked until [`Model::compile`] checks it against a schema.
///
/// JSON form (unknown keys are errors):
///
/// ```json
/// {
///   "id": "fit", "name": "客户画像评分",
///   "dimensions": [
///     {"id": "budget", "label": "预算匹配度", "weight": 40, "bands": [
///       {"label": "明确预算50万以上", "when": {"field": "预算", "op": "gte", "value": 500000}, "points": 100},
///       {"when": {"field": "预算", "op": "gte", "value": 100000}, "points": 50}
///     ]},
///     {"id": "urgency", "label": "需求紧急度", "weight": 30, "bands": [
///       {"when": {"field": "预计成交周期", "op": "eq", "value": "1个月内"}, "points": 100}
///     ]},
///     {"id": "influence", "label": "决策影响力", "weight": 30, "bands": [
///       {"when": {"field": "决策角色", "op": "eq", "value": "部门经理"}, "points": 100}
///     ], "default": 20}
///   ],
///   "grades": [
///     {"label": "A", "min": 80, "description": "重点跟进"},
///     {"label": "B", "min": 50, "description": "常规跟进"},
///     {"label": "C", "min": 0, "description": "长期培育"}
///   ],
///   "behaviour": [
///     {"id": "product-page", "label": "浏览产品详情页3次", "event": "page_view",
///      "where": {"event": "page", "op": "eq", "value": "产品详情"},
///      "at_least": 3, "within": "7d", "grade": "up"}
///   ],
///   "decay": {"type": "half_life", "half_life": "14d"},
///   "score_field": "线索评分", "grade_field": "线索等级"
/// }
/// ```
///
/// The same with the builders:
///
/// ```
/// use crm_rules::scoring::{Band, Dimension, Model};
/// use crm_rules::Condition;
/// let model = Model::new("fit", "客户画像评分")
///     .dimension(Dimension::new("budget", "预算匹配度", 40)
///         .band(Band::new(Condition::field("预算").gte(500_000), 100).label("明确预算50万以上"))
///         .band(Band::new(Condition::field("预算").gte(100_000), 50)))
///     .dimension(Dimension::new("urgency", "需求紧急度", 30)
///         .band(Band::new(Condition::field("预计成交周期").eq("1个月内"), 100)))
///     .dimension(Dimension::new("influence", "决策影响力", 30)
///         .band(Band::new(Condition::field("决策角色").eq("部门经理"), 100))
///         .default_points(20));
/// let again = Model::from_json(&model.to_json())?;
/// assert_eq!(again, model);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// The model's id, unique among a tenant's models.
    pub id: String,
    /// The model's name, as people see it (`客户画像评分`).
    pub name: String,
    /// What the model is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The weighted dimensions, in the order the score card lists them.
    pub dimensions: Vec<Dimension>,
    /// The grade ladder, best grade first; [`Grade::default_ladder`] (A ≥ 80, B ≥ 50,
    /// C ≥ 0) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grades: Option<Vec<Grade>>,
    /// Behaviour adjustments and negative signals, in the order the score card lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub behaviour: Vec<Adjustment>,
    /// Event kinds, besides those of the adjustments, that count as activity and so hold
    /// off [`decay`](Model::decay) (`login`, `email_opened`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activity: Vec<String>,
    /// How behaviour points fade while the customer is inactive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay: Option<Decay>,
    /// Weights are shares of their sum rather than percentages that must add up to 100.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub normalize: bool,
    /// The `number` or `integer` field the engine writes the total to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_field: Option<String>,
    /// The `text` or `single_choice` field the engine writes the grade label to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_field: Option<String>,
}

/// One weighted dimension of a model: ordered bands of points, the first that matches
/// wins, and default points when none does.
///
/// JSON: `{"id": "budget", "label": "预算匹配度", "weight": 40, "bands": [...], "default": 0}`.
///
/// ```
/// use crm_rules::scoring::{Band, Dimension};
/// use crm_rules::Condition;
/// let budget = Dimension::new("budget", "预算匹配度", 40)
///     .band(Band::new(Condition::field("预算").gte(500_000), 100))
///     .band(Band::new(Condition::field("预算").gte(200_000), 60))
///     .default_points(10);
/// assert_eq!(budget.bands.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// The dimension's id, unique in the model.
    pub id: String,
    /// The label the score card shows (`预算匹配度`).
    pub label: String,
    /// The weight: a percentage (all weights add up to 100) or, with
    /// [`normalize`](Model::normalize), a share of the sum of the weights. Positive.
    pub weight: Number,
    /// The bands, tried in order; the first whose condition holds gives its points.
    pub bands: Vec<Band>,
    /// The points (0-100) when no band matches; 0 when left out.
    #[serde(default = "zero", skip_serializing_if = "is_zero")]
    pub default: Number,
}

/// A band of a dimension: when its condition holds, the dimension scores its points.
///
/// JSON: `{"label": "明确预算50万以上", "when": {"field": "预算", "op": "gte", "value": 500000},
/// "points": 100}`. The condition reads customer fields (not events: bands describe who
/// the customer is; behaviour belongs in [`Adjustment`]s).
///
/// ```
/// use crm_rules::scoring::Band;
/// use crm_rules::Condition;
/// let band = Band::new(Condition::field("预算").gte(500_000), 100).label("明确预算50万以上");
/// assert_eq!(band.label.as_deref(), Some("明确预算50万以上"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// How the score card names the band; the condition, written out, when left out
    /// (`预算 ≥ 500,000`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// When the band applies.
    pub when: Condition,
    /// The points, from 0 to 100, before the dimension's weight.
    pub points: Number,
}

fn zero() -> Number {
    Number::from(0)
}

fn is_zero(n: &Number) -> bool {
    *n == Number::from(0)
}

impl Model {
    /// A model with an id and a name and nothing else yet.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Model {
        Model {
            id: id.into(),
            name: name.into(),
            description: None,
            dimensions: Vec::new(),
            grades: None,
            behaviour: Vec::new(),
            activity: Vec::new(),
            decay: None,
            normalize: false,
            score_field: None,
            grade_field: None,
        }
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Model {
        self.description = Some(text.into());
        self
    }

    /// Adds a dimension.
    pub fn dimension(mut self, dimension: Dimension) -> Model {
        self.dimensions.push(dimension);
        self
    }

    /// Sets the grade ladder, best grade first.
    pub fn grades(mut self, grades: impl IntoIterator<Item = Grade>) -> Model {
        self.grades = Some(grades.into_iter().collect());
        self
    }

    /// Adds a behaviour adjustment or negative signal.
    pub fn adjustment(mut self, adjustment: Adjustment) -> Model {
        self.behaviour.push(adjustment);
        self
    }

    /// Adds an event kind that counts as activity for decay.
    pub fn activity(mut self, kind: impl Into<String>) -> Model {
        self.activity.push(kind.into());
        self
    }

    /// Sets the decay of behaviour points.
    pub fn decay(mut self, decay: Decay) -> Model {
        self.decay = Some(decay);
        self
    }

    /// Reads weights as shares of their sum (`true`) or as percentages adding up to 100.
    pub fn normalize(mut self, normalize: bool) -> Model {
        self.normalize = normalize;
        self
    }

    /// Sets the field the total is written to.
    pub fn score_field(mut self, field: impl Into<String>) -> Model {
        self.score_field = Some(field.into());
        self
    }

    /// Sets the field the grade label is written to.
    pub fn grade_field(mut self, field: impl Into<String>) -> Model {
        self.grade_field = Some(field.into());
        self
    }

    /// Reads a model from its JSON form.
    ///
    /// This checks the shape only; [`Model::compile`] checks the model against a schema.
    ///
    /// ```
    /// use crm_rules::scoring::Model;
    /// let err = Model::from_json(r#"{"id": "fit", "name": "画像", "dimensions": [],
    ///   "normalise": true}"#).unwrap_err();
    /// assert!(err.problems()[0].to_string().starts_with(
    ///     "line 2, column 13: normalise: unknown field `normalise`, expected one of `id`, `name`"));
    /// ```
    ///
    /// # Errors
    /// A [`LoadError`] with the line and column of a JSON syntax error, an unknown or
    /// missing key, or a value of the wrong JSON type; or a text larger than
    /// [`Limits::max_text_bytes`].
    pub fn from_json(text: &str) -> Result<Model, LoadError> {
        let limits = Limits::default();
        if text.len() > limits.max_text_bytes {
            return Err(LoadError::new(
                "scoring model",
                vec![Problem::new(
                    None,
                    "",
                    format!("the text is larger than {} bytes", limits.max_text_bytes),
                )],
            ));
        }
        serde_json::from_str(text)
            .map_err(|e| LoadError::new("scoring model", vec![json_problem(&e, None, text, 0)]))
    }

    /// The model's JSON form, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl Dimension {
    /// A dimension with an id, a label and a weight, and no bands yet.
    pub fn new(id: impl Into<String>, label: impl Into<String>, weight: impl Into<Number>) -> Self {
        Dimension {
            id: id.into(),
            label: label.into(),
            weight: weight.into(),
            bands: Vec::new(),
            default: zero(),
        }
    }

    /// Adds a band after the existing ones.
    pub fn band(mut self, band: Band) -> Dimension {
        self.bands.push(band);
        self
    }

    /// Sets the points when no band matches.
    pub fn default_points(mut self, points: impl Into<Number>) -> Dimension {
        self.default = points.into();
        self
    }
}

impl Band {
    /// A band giving `points` (0-100) when `when` holds.
    pub fn new(when: Condition, points: impl Into<Number>) -> Band {
        Band {
            label: None,
            when,
            points: points.into(),
        }
    }

    /// Sets the label the score card shows.
    pub fn label(mut self, label: impl Into<String>) -> Band {
        self.label = Some(label.into());
        self
    }
}
