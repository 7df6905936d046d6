//! Scoring models inside the engine: behaviour recorded from events, scores and grades
//! computed again when what they read changes, and written into the fields the models
//! name, where rules see them change like any other field.

use chrono::{DateTime, Utc};

use super::run::Run;
use super::Engine;
use crate::plan::ScoreUpdate;
use crate::schema::{FieldId, Record};
use crate::scoring::{BehaviourState, Card, Scorer};
use crate::value::Value;

/// Why a model is computed again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// Its behaviour or a field it reads changed.
    Changed,
    /// A tick: the score may have moved with time alone.
    Time,
}

impl Run<'_, '_> {
    /// Before the event's rules: records the event in every model that listens to its
    /// kind, then computes again the models whose behaviour or read fields changed.
    pub(crate) fn score_event(&mut self) {
        let e = self.e;
        let input = self.input;
        for (m, scorer) in e.scorers.iter().enumerate() {
            let mut dirty = self.changed_any(scorer.fields());
            if scorer.listens_to(&input.event.kind) {
                let mut kept = self
                    .state()
                    .scores
                    .get(scorer.id())
                    .cloned()
                    .unwrap_or_default();
                if kept.behaviour.record(scorer, &self.record, input.event) {
                    self.state_mut().scores.insert(scorer.id().to_owned(), kept);
                    dirty = true;
                }
            }
            if dirty {
                self.rescore(m, Cause::Changed, 0);
            }
        }
    }

    /// After a cascade round: computes again the models that read a field the round
    /// changed.
    pub(crate) fn score_round(&mut self) {
        let round = self.round + 1;
        for (m, scorer) in self.e.scorers.iter().enumerate() {
            if self.changed_any(scorer.fields()) {
                self.rescore(m, Cause::Changed, round);
            }
        }
    }

    /// In a tick, before the due rules: computes again the models whose score moves with
    /// time (bands on times, adjustments that lapse, decay), as of the tick's `now`.
    pub(crate) fn score_tick(&mut self) {
        for (m, scorer) in self.e.scorers.iter().enumerate() {
            if scorer.reads_time() {
                self.rescore(m, Cause::Time, 0);
            }
        }
    }

    fn changed_any(&self, fields: &[FieldId]) -> bool {
        self.round_changes()
            .iter()
            .any(|(f, old)| fields.contains(f) && self.record.get(*f) != old)
    }

    /// Computes a model at `now` and writes its score and grade (and the tags of its
    /// applying adjustments) into the customer; the writes are field changes like any
    /// other, so rules trigger on them in `round`. A tick reports the model only when a
    /// written field changed.
    fn rescore(&mut self, m: usize, cause: Cause, round: usize) {
        let e = self.e;
        let Some(scorer) = e.scorers.get(m) else {
            return;
        };
        let now = self.now;
        let empty = BehaviourState::new();
        let kept = self.state().scores.get(scorer.id());
        let behaviour = kept.map_or(&empty, |k| &k.behaviour);
        let score = scorer.score(&self.record, behaviour, now);
        let lapse = scorer.next_lapse(behaviour, now);
        let tags: Vec<String> = scorer
            .active_tags(behaviour, now)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if kept.map(|k| k.lapse) != Some(lapse) && (lapse.is_some() || kept.is_some()) {
            self.state_mut()
                .scores
                .entry(scorer.id().to_owned())
                .or_default()
                .lapse = lapse;
        }
        let grade = scorer
            .grades()
            .get(score.grade)
            .map(|g| g.label.clone())
            .unwrap_or_default();
        let previous_grade = scorer
            .grade_field()
            .and_then(|f| self.record.get(f).as_text().map(str::to_owned))
            .filter(|old| *old != grade);
        let mut wrote = false;
        for (field, value) in scorer.field_values(score) {
            wrote |= self.record.get(field) != &value;
            self.set(field, value);
        }
        if !tags.is_empty() {
            if let Some(field) = e.schema.default_tags_field() {
                let mut list = self
                    .record
                    .get(field)
                    .as_list()
                    .map(<[String]>::to_vec)
                    .unwrap_or_default();
                let before = list.len();
                for tag in tags {
                    if !list.contains(&tag) {
                        list.push(tag);
                    }
                }
                if list.len() != before {
                    wrote = true;
                    self.set(field, Value::List(list));
                }
            }
        }
        if cause == Cause::Changed || wrote {
            self.plan.scores.push(ScoreUpdate {
                model: scorer.id().to_owned(),
                round,
                total: score.total,
                grade,
                previous_grade,
            });
        }
    }
}

impl Engine {
    /// The scoring models the engine runs, in the order given to the builder.
    pub fn scorers(&self) -> &[Scorer] {
        &self.scorers
    }

    /// The score card of a customer for one of the engine's models at `now`, with the
    /// behaviour its state recorded; `None` for an unknown model id.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use crm_rules::{scoring::Model, CustomerState, Engine, Schema};
    /// let schema = Schema::from_json(r#"{"fields": [{"name": "预算", "type": "number"}]}"#)?;
    /// let model = Model::from_json(r#"{"id": "fit", "name": "画像", "dimensions": [
    ///   {"id": "budget", "label": "预算", "weight": 100, "bands": [
    ///     {"when": {"field": "预算", "op": "gte", "value": 500000}, "points": 100}]}]}"#)?;
    /// let engine = Engine::builder(schema).scoring(model).build()?;
    /// let lead = engine.schema().record([("预算", 600_000)])?;
    /// let now = Utc.with_ymd_and_hms(2024, 5, 20, 9, 0, 0).single().ok_or("no such time")?;
    /// let card = engine.card("fit", &lead, &CustomerState::new(), now).ok_or("no model")?;
    /// assert_eq!((card.total, card.grade.as_str()), (100.0, "A"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn card(
        &self,
        model_id: &str,
        record: &Record,
        state: &crate::CustomerState,
        now: DateTime<Utc>,
    ) -> Option<Card> {
        let scorer = self.scorers.iter().find(|s| s.id() == model_id)?;
        let empty = BehaviourState::new();
        let behaviour = state.behaviour(model_id).unwrap_or(&empty);
        Some(scorer.card(record, behaviour, now))
    }

    /// The earliest time after which a model's stored score changes by itself: just
    /// after the last instant its applying adjustments all still apply.
    pub(crate) fn next_lapse(&self, state: &crate::CustomerState) -> Option<DateTime<Utc>> {
        state
            .scores
            .values()
            .filter_map(|s| s.lapse)
            .min()
            .and_then(|t| t.checked_add_signed(chrono::TimeDelta::seconds(1)))
    }
}
