//! Compiling a scoring model against a schema: every problem found, each with the model
//! and the path to it.

use std::fmt;

use super::behaviour::CompiledAdjustment;
use super::decay::{CompiledDecay, Decay};
use super::describe::describe;
use super::grade::{Grade, Ladder};
use super::model::Model;
use super::scorer::{CompiledBand, CompiledDimension, Scorer};
use crate::compile::{join, Compiler};
use crate::condition::{EventScope, Node, Src, Test};
use crate::error::{BuildError, Problem};
use crate::limits::Limits;
use crate::rule::Condition;
use crate::schema::{check_value, FieldId, FieldType, Schema};
use crate::value::{Number, Value};

/// The most dimensions in a model.
pub(crate) const MAX_DIMENSIONS: usize = 100;
/// The most bands in a dimension.
pub(crate) const MAX_BANDS: usize = 100;
/// The most grades in a ladder.
pub(crate) const MAX_GRADES: usize = 100;
/// The most behaviour adjustments in a model.
pub(crate) const MAX_ADJUSTMENTS: usize = 1_000;
/// The most events an adjustment can need (and so the most times kept for it).
pub(crate) const MAX_AT_LEAST: u32 = 1_000;

/// How a problem names the `index`-th model: `models[0] fit "客户画像评分"`.
pub(crate) fn model_ref(index: usize, model: &Model) -> String {
    ModelRef { index, model }.to_string()
}

/// How a problem names its model: `models[0] fit "客户画像评分"`.
struct ModelRef<'a> {
    index: usize,
    model: &'a Model,
}

impl fmt::Display for ModelRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "models[{}]", self.index)?;
        if !self.model.id.is_empty() {
            write!(f, " {}", self.model.id)?;
        }
        if !self.model.name.is_empty() {
            write!(f, " {:?}", self.model.name)?;
        }
        Ok(())
    }
}

const BANDS_READ_FIELDS: &str =
    "bands read customer fields; count events with behaviour adjustments";

impl Model {
    /// Checks the model against a schema and compiles it into a [`Scorer`].
    ///
    /// Each problem names the model and the path inside it; its text reads
    /// `models[0] fit "客户画像评分": dimensions[1].weight: …` (a model compiled on its own is
    /// `models[0]`). Problems carry no [`RuleRef`](crate::RuleRef): the model is named at the
    /// start of [`Problem::path`].
    ///
    /// ```
    /// use crm_rules::scoring::{Band, Dimension, Model};
    /// use crm_rules::{Condition, Field, FieldType, Schema};
    /// let schema = Schema::new([Field::new("预算", FieldType::Number)])?;
    /// let model = Model::new("fit", "客户画像评分")
    ///     .dimension(Dimension::new("budget", "预算匹配度", 40)
    ///         .band(Band::new(Condition::field("预算").gte(500_000), 100)))
    ///     .dimension(Dimension::new("urgency", "需求紧急度", 30)
    ///         .band(Band::new(Condition::field("预算").gte("abc"), 100)));
    /// let err = model.compile(&schema).unwrap_err();
    /// let problems: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    /// assert_eq!(problems, [
    ///     "models[0] fit \"客户画像评分\": dimensions[1].bands[0].when.value: expected a number, found \"abc\"",
    ///     "models[0] fit \"客户画像评分\": dimensions: the weights add up to 70, not 100 \
    ///      (预算匹配度 40, 需求紧急度 30); make them add up to 100 or set \"normalize\": true",
    /// ]);
    /// assert!(model.normalize(true).compile(&schema).is_err()); // the band is still wrong
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A [`BuildError`] with every problem:
    /// - ids, names and labels empty or too long; dimension, adjustment and grade ids or
    ///   labels given twice; no dimensions; a dimension without bands; too many of anything;
    /// - a weight that is not positive; weights that do not add up to 100 without
    ///   `normalize`;
    /// - band or default points outside 0..=100; band conditions with unknown fields,
    ///   literals of the wrong type or outside a choice's options, or that read events;
    /// - a ladder that is empty, not strictly decreasing, not starting at 0, with a
    ///   threshold outside 0..=100 or with more than one decimal;
    /// - adjustments with an event kind the schema does not declare (when it declares
    ///   any), a bad filter, `at_least` outside 1..=1000, an empty window, points outside
    ///   -100..=100, or no effect (no points, grade step or tag);
    /// - decay with a zero period or amount, or with no positive behaviour points to decay;
    /// - a score field that is not a `number` or `integer` field or cannot hold 0 to 100; a
    ///   grade field that is not a `text`, `long_text` or `single_choice` field or cannot
    ///   hold every grade label.
    pub fn compile(&self, schema: &Schema) -> Result<Scorer, BuildError> {
        self.compile_at(schema, 0)
    }

    /// Compiles the model as the `index`-th of a list of models, so that problems name it
    /// `models[index]`.
    pub(crate) fn compile_at(&self, schema: &Schema, index: usize) -> Result<Scorer, BuildError> {
        let limits = Limits::default();
        let mut c = Compiler::new(schema, &limits);
        let scorer = build(self, &mut c);
        match scorer {
            Some(scorer) if c.problems.is_empty() => Ok(scorer),
            _ => {
                let at = ModelRef { index, model: self }.to_string();
                let problems = c
                    .problems
                    .into_iter()
                    .map(|mut p: Problem| {
                        p.path = if p.path.is_empty() {
                            at.clone()
                        } else {
                            format!("{at}: {}", p.path)
                        };
                        p
                    })
                    .collect();
                Err(BuildError::new(problems))
            }
        }
    }
}

fn build(m: &Model, c: &mut Compiler<'_>) -> Option<Scorer> {
    c.name(&m.id, "id", "model id");
    c.name(&m.name, "name", "model name");
    if let Some(d) = &m.description {
        c.text(d, "description");
    }
    let (dimensions, weight_sum) = dimensions(m, c);
    let ladder = ladder(m, c);
    let adjustments = adjustments(m, c);
    for (i, kind) in m.activity.iter().enumerate() {
        event_kind(c, kind, &format!("activity[{i}]"));
    }
    c.no_duplicates(&m.activity, "activity");
    let decay = decay(m, c);
    let score_field = score_field(m, c);
    let grade_field = ladder.as_ref().and_then(|l| grade_field(m, c, &l.grades));

    let mut event_kinds: Vec<String> = Vec::new();
    for kind in m.behaviour.iter().map(|a| &a.event).chain(&m.activity) {
        if !event_kinds.contains(kind) {
            event_kinds.push(kind.clone());
        }
    }
    let mut fields = Vec::new();
    let mut band_time = false;
    for d in dimensions.iter().flatten() {
        for band in d.bands.iter() {
            walk(&band.when, &mut fields, &mut band_time);
        }
    }
    fields.sort_unstable();
    fields.dedup();
    let reads_time = band_time || !m.behaviour.is_empty() || m.decay.is_some();

    Some(Scorer {
        id: m.id.clone(),
        name: m.name.clone(),
        dimensions: dimensions?,
        weight_sum: weight_sum?,
        ladder: ladder?,
        adjustments: adjustments?,
        decay: decay?,
        event_kinds,
        fields,
        reads_time,
        score_field: score_field?,
        grade_field: grade_field.unwrap_or(None),
    })
}

/// Collects the fields a condition reads, and whether it reads the time.
fn walk(node: &Node, fields: &mut Vec<FieldId>, time: &mut bool) {
    match node {
        Node::All(items) | Node::Any(items) => {
            for n in items.iter() {
                walk(n, fields, time);
            }
        }
        Node::Not(inner) => walk(inner, fields, time),
        Node::Test { src, test } => {
            if let Src::Field(id) | Src::Old(id) = src {
                fields.push(*id);
            }
            if matches!(
                test,
                Test::OlderThan(_) | Test::WithinLast(_) | Test::DueWithin(_)
            ) {
                *time = true;
            }
        }
        Node::Count { .. } => {}
    }
}

/// A number in a closed range, or a problem.
fn in_range(
    c: &mut Compiler<'_>,
    n: Number,
    low: f64,
    high: f64,
    path: &str,
    what: &str,
) -> Option<f64> {
    let x = n.as_f64();
    if (low..=high).contains(&x) {
        Some(x)
    } else {
        c.problem(
            path,
            format!("{what} must be from {low} to {high}, found {n}"),
        );
        None
    }
}

/// Reports ids (or labels) given twice, naming the earlier one.
fn unique<'m>(c: &mut Compiler<'_>, items: impl Iterator<Item = (String, &'m str)>, what: &str) {
    let mut seen: Vec<(&str, String)> = Vec::new();
    for (path, key) in items {
        if key.is_empty() {
            continue;
        }
        match seen.iter().find(|(k, _)| *k == key) {
            Some((_, first)) => c.problem(
                &path,
                format!("{what} {key:?} is used twice (first at {first})"),
            ),
            None => seen.push((key, path)),
        }
    }
}

fn dimensions(m: &Model, c: &mut Compiler<'_>) -> (Option<Vec<CompiledDimension>>, Option<f64>) {
    if m.dimensions.is_empty() {
        c.problem("dimensions", "a model needs at least one dimension");
        return (None, None);
    }
    if m.dimensions.len() > MAX_DIMENSIONS {
        c.problem(
            "dimensions",
            format!("more than {MAX_DIMENSIONS} dimensions"),
        );
        return (None, None);
    }
    let mut out = Vec::with_capacity(m.dimensions.len());
    let mut weights_ok = true;
    for (i, d) in m.dimensions.iter().enumerate() {
        let at = format!("dimensions[{i}]");
        c.name(&d.id, &join(&at, "id"), "dimension id");
        c.name(&d.label, &join(&at, "label"), "dimension label");
        let weight = d.weight.as_f64();
        if weight <= 0.0 {
            c.problem(
                &join(&at, "weight"),
                format!("a weight must be more than 0, found {}", d.weight),
            );
            weights_ok = false;
        }
        let default = in_range(c, d.default, 0.0, 100.0, &join(&at, "default"), "points");
        if d.bands.is_empty() {
            c.problem(&join(&at, "bands"), "a dimension needs at least one band");
        }
        if d.bands.len() > MAX_BANDS {
            c.problem(&join(&at, "bands"), format!("more than {MAX_BANDS} bands"));
            continue;
        }
        let mut bands = Vec::with_capacity(d.bands.len());
        for (j, band) in d.bands.iter().enumerate() {
            let bat = format!("{at}.bands[{j}]");
            if let Some(label) = &band.label {
                c.name(label, &join(&bat, "label"), "band label");
            }
            let points = in_range(c, band.points, 0.0, 100.0, &join(&bat, "points"), "points");
            let when = band_condition(c, &band.when, &join(&bat, "when"));
            if let (Some(points), Some(when)) = (points, when) {
                let label = band.label.clone().unwrap_or_else(|| describe(&band.when));
                bands.push(CompiledBand {
                    when,
                    points,
                    label,
                });
            }
        }
        if let Some(default) = default {
            out.push(CompiledDimension {
                id: d.id.clone(),
                label: d.label.clone(),
                weight,
                default,
                bands: bands.into_boxed_slice(),
            });
        }
    }
    unique(
        c,
        m.dimensions
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("dimensions[{i}].id"), d.id.as_str())),
        "dimension id",
    );
    let sum: f64 = m.dimensions.iter().map(|d| d.weight.as_f64()).sum();
    let weight_sum = if !weights_ok {
        None
    } else if m.normalize {
        Some(sum)
    } else if (sum - 100.0).abs() > 1e-9 {
        let parts: Vec<String> = m
            .dimensions
            .iter()
            .map(|d| format!("{} {}", d.label, d.weight))
            .collect();
        // Rounded to hide float noise: 33.3 + 33.3 + 33.3 shows as 99.9.
        let shown = (sum * 1e6).round() / 1e6;
        c.problem(
            "dimensions",
            format!(
                "the weights add up to {shown}, not 100 ({}); make them add up to 100 or set \"normalize\": true",
                parts.join(", ")
            ),
        );
        None
    } else {
        Some(100.0)
    };
    let ok = out.len() == m.dimensions.len()
        && out
            .iter()
            .zip(&m.dimensions)
            .all(|(o, d)| o.bands.len() == d.bands.len());
    (ok.then_some(out), weight_sum)
}

/// A band's condition: customer fields only, no behaviour counts.
fn band_condition(c: &mut Compiler<'_>, when: &Condition, path: &str) -> Option<Node> {
    let mut counts = Vec::new();
    let node = c.condition(
        when,
        path,
        EventScope::NoEvent(BANDS_READ_FIELDS),
        &mut counts,
        0,
    );
    if !counts.is_empty() {
        c.problem(
            path,
            "`count` conditions are not available in bands; use a behaviour adjustment",
        );
        return None;
    }
    node
}

fn ladder(m: &Model, c: &mut Compiler<'_>) -> Option<Ladder> {
    let grades = match &m.grades {
        None => Grade::default_ladder(),
        Some(g) if g.is_empty() => {
            c.problem(
                "grades",
                "the ladder is empty; leave `grades` out for the default A/B/C ladder",
            );
            return None;
        }
        Some(g) if g.len() > MAX_GRADES => {
            c.problem("grades", format!("more than {MAX_GRADES} grades"));
            return None;
        }
        Some(g) => g.clone(),
    };
    let mut mins: Vec<Option<u16>> = Vec::with_capacity(grades.len());
    for (i, g) in grades.iter().enumerate() {
        let at = format!("grades[{i}]");
        c.name(&g.label, &join(&at, "label"), "grade label");
        c.text(&g.description, &join(&at, "description"));
        let min = in_range(c, g.min, 0.0, 100.0, &join(&at, "min"), "a threshold");
        let tenths = min.and_then(|x| {
            let t = (x * 10.0).round();
            if (x * 10.0 - t).abs() > 1e-6 {
                c.problem(
                    &join(&at, "min"),
                    format!(
                        "a threshold has at most one decimal, as totals do, found {}",
                        g.min
                    ),
                );
                None
            } else {
                Some(t as u16)
            }
        });
        mins.push(tenths);
    }
    unique(
        c,
        grades
            .iter()
            .enumerate()
            .map(|(i, g)| (format!("grades[{i}].label"), g.label.as_str())),
        "grade label",
    );
    let mut ordered = true;
    for i in 1..grades.len() {
        if let (Some(prev), Some(this)) = (mins[i - 1], mins[i]) {
            if this >= prev {
                ordered = false;
                c.problem(
                    &format!("grades[{i}].min"),
                    format!(
                        "{} is not below {}, the min of grade {}; list grades best first with strictly decreasing min",
                        grades[i].min, grades[i - 1].min, grades[i - 1].label
                    ),
                );
            }
        }
    }
    let last = grades.len() - 1;
    if let Some(Some(low)) = mins.last() {
        if *low != 0 {
            c.problem(
                &format!("grades[{last}].min"),
                format!(
                    "the lowest grade {} starts at {}, so totals below it have no grade; it must start at 0",
                    grades[last].label, grades[last].min
                ),
            );
            return None;
        }
    }
    let mins: Vec<u16> = mins.into_iter().collect::<Option<_>>()?;
    ordered.then_some(Ladder { grades, mins })
}

/// An event kind the model listens to: a name, and declared when the schema declares any.
fn event_kind(c: &mut Compiler<'_>, kind: &str, path: &str) {
    c.name(kind, path, "event kind");
    if !kind.trim().is_empty() && !c.schema.events().is_empty() && c.schema.event(kind).is_none() {
        let kinds: Vec<&str> = c.schema.events().iter().map(|e| e.kind.as_str()).collect();
        c.problem(
            path,
            format!(
                "unknown event kind {kind:?} (the schema declares: {})",
                kinds.join(", ")
            ),
        );
    }
}

fn adjustments(m: &Model, c: &mut Compiler<'_>) -> Option<Vec<CompiledAdjustment>> {
    if m.behaviour.len() > MAX_ADJUSTMENTS {
        c.problem(
            "behaviour",
            format!("more than {MAX_ADJUSTMENTS} adjustments"),
        );
        return None;
    }
    let mut out = Vec::with_capacity(m.behaviour.len());
    for (i, a) in m.behaviour.iter().enumerate() {
        let at = format!("behaviour[{i}]");
        let before = c.problems.len();
        c.name(&a.id, &join(&at, "id"), "adjustment id");
        c.name(&a.label, &join(&at, "label"), "adjustment label");
        event_kind(c, &a.event, &join(&at, "event"));
        if a.at_least == 0 || a.at_least > MAX_AT_LEAST {
            c.problem(
                &join(&at, "at_least"),
                format!("must be from 1 to {MAX_AT_LEAST}, found {}", a.at_least),
            );
        }
        if a.within.as_seconds() == 0 {
            c.problem(&join(&at, "within"), "the window must be longer than 0");
        }
        let points = match a.points {
            Some(p) => in_range(c, p, -100.0, 100.0, &join(&at, "points"), "points").unwrap_or(0.0),
            None => 0.0,
        };
        if let Some(tag) = &a.tag {
            c.name(tag, &join(&at, "tag"), "tag");
        }
        if a.points.is_none() && a.grade.is_none() && a.tag.is_none() {
            c.problem(&at, "an adjustment needs points, a grade step or a tag");
        }
        let filter = match &a.filter {
            None => None,
            Some(f) => {
                let path = join(&at, "where");
                let scope = EventScope::for_kind(c, &a.event);
                let mut counts = Vec::new();
                let node = c.condition(f, &path, scope, &mut counts, 0);
                if !counts.is_empty() {
                    c.problem(
                        &path,
                        "`count` conditions are not available here; use `at_least` and `within`",
                    );
                }
                node
            }
        };
        if c.problems.len() == before {
            out.push(CompiledAdjustment {
                id: a.id.clone(),
                label: a.label.clone(),
                event: a.event.clone(),
                filter,
                at_least: a.at_least,
                within: a.within,
                points,
                step: a.grade,
                tag: a.tag.clone(),
            });
        }
    }
    unique(
        c,
        m.behaviour
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("behaviour[{i}].id"), a.id.as_str())),
        "adjustment id",
    );
    (out.len() == m.behaviour.len()).then_some(out)
}

fn decay(m: &Model, c: &mut Compiler<'_>) -> Option<Option<(CompiledDecay, Decay)>> {
    let Some(spec) = &m.decay else {
        return Some(None);
    };
    let before = c.problems.len();
    let compiled = match spec {
        Decay::HalfLife { half_life } => {
            if half_life.as_seconds() == 0 {
                c.problem("decay.half_life", "the half-life must be longer than 0");
            }
            CompiledDecay::HalfLife {
                seconds: half_life.as_seconds() as f64,
            }
        }
        Decay::Linear { points, every } => {
            if every.as_seconds() == 0 {
                c.problem("decay.every", "the period must be longer than 0");
            }
            let x = points.as_f64();
            if !(x > 0.0 && x <= 100.0) {
                c.problem(
                    "decay.points",
                    format!("the points taken off per period must be more than 0 and at most 100, found {points}"),
                );
            }
            CompiledDecay::Linear {
                points: x,
                every: every.as_seconds(),
            }
        }
    };
    if !m
        .behaviour
        .iter()
        .any(|a| a.points.is_some_and(|p| p.as_f64() > 0.0))
    {
        c.problem(
            "decay",
            "no behaviour adjustment gives positive points, so there is nothing to decay",
        );
    }
    (c.problems.len() == before).then_some(Some((compiled, spec.clone())))
}

fn score_field(m: &Model, c: &mut Compiler<'_>) -> Option<Option<(FieldId, bool)>> {
    let Some(name) = &m.score_field else {
        return Some(None);
    };
    let (id, f) = c.field(name, "score_field")?;
    let integer = match f.field_type {
        FieldType::Number => false,
        FieldType::Integer => true,
        other => {
            c.problem(
                "score_field",
                format!(
                    "{name} is a {} field; the total is written to a number or integer field",
                    other.name()
                ),
            );
            return None;
        }
    };
    let low = f.min.is_some_and(|min| min > Number::from(0));
    let high = f.max.is_some_and(|max| max < Number::from(100));
    if low || high {
        let show = |n: Option<Number>| n.map_or_else(|| "…".to_owned(), |n| n.to_string());
        c.problem(
            "score_field",
            format!(
                "{name} allows {} to {}, but totals run from 0 to 100",
                show(f.min),
                show(f.max)
            ),
        );
        return None;
    }
    Some(Some((id, integer)))
}

fn grade_field(m: &Model, c: &mut Compiler<'_>, grades: &[Grade]) -> Option<Option<FieldId>> {
    let Some(name) = &m.grade_field else {
        return Some(None);
    };
    let (id, f) = c.field(name, "grade_field")?;
    if !matches!(
        f.field_type,
        FieldType::Text | FieldType::LongText | FieldType::SingleChoice
    ) {
        c.problem(
            "grade_field",
            format!(
                "{name} is a {} field; the grade is written to a text or single_choice field",
                f.field_type.name()
            ),
        );
        return None;
    }
    let mut ok = true;
    for g in grades {
        for message in check_value(f, &Value::Text(g.label.clone()), chrono::NaiveDate::MIN) {
            c.problem("grade_field", format!("grade {:?}: {message}", g.label));
            ok = false;
        }
    }
    ok.then_some(Some(id))
}
